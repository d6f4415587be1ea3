//! PHP arrays as `json_encode` writes them: an array whose keys are exactly `0, 1, …, n-1` in
//! order is a JSON list (so an empty array is `[]`), any other a JSON object.

use serde_json::{Map, Value};

/// Encodes an ordered PHP array given as `(key, value)` pairs.
///
/// ```
/// use b24_emulator::wire::php_json::php_array;
/// use serde_json::json;
/// assert_eq!(php_array(vec![]), json!([]));
/// assert_eq!(php_array(vec![("0".into(), json!(1)), ("1".into(), json!(2))]), json!([1, 2]));
/// assert_eq!(php_array(vec![("1".into(), json!(2))]), json!({"1": 2}));
/// ```
pub fn php_array(entries: Vec<(String, Value)>) -> Value {
    let sequential = entries
        .iter()
        .enumerate()
        .all(|(index, (key, _))| *key == index.to_string());
    if sequential {
        Value::Array(entries.into_iter().map(|(_, value)| value).collect())
    } else {
        Value::Object(entries.into_iter().collect::<Map<String, Value>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_only_for_sequential_keys() {
        let pairs = |keys: &[&str]| -> Vec<(String, Value)> {
            keys.iter().map(|k| ((*k).to_owned(), json!(k))).collect()
        };
        assert_eq!(php_array(pairs(&["0", "1", "2"])), json!(["0", "1", "2"]));
        assert_eq!(php_array(pairs(&["1", "0"])), json!({"1": "1", "0": "0"}));
        assert_eq!(php_array(pairs(&["0", "2"])), json!({"0": "0", "2": "2"}));
        assert_eq!(php_array(pairs(&["00"])), json!({"00": "00"}));
        assert_eq!(php_array(pairs(&["a"])), json!({"a": "a"}));
    }
}
