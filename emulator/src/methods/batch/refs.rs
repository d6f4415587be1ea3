//! `$result[key][field]…` references in batch commands: replaced, before the command runs, by
//! values from the results of earlier commands.
//!
//! - The first index is a command key, the following ones walk into its result (object fields,
//!   or list positions `[0]`), to any depth: `$result[get_user][UF_DEPARTMENT][0]`.
//! - A parameter whose whole value is one reference gets the referenced value itself (a number, a
//!   string, even a list or object); a reference inside longer text is replaced by the value as PHP
//!   writes it into a string (`true` → `1`, `false`/`null` → empty, lists and objects → `Array`).
//! - A reference to a command that failed, did not run or has no such field is replaced by an
//!   empty string.

use serde_json::{Map, Value};

const MARKER: &str = "$result";

/// Replaces the references in every string value of `params` (at any depth).
pub(crate) fn substitute(params: &mut Map<String, Value>, results: &Map<String, Value>) {
    for value in params.values_mut() {
        substitute_value(value, results);
    }
}

fn substitute_value(value: &mut Value, results: &Map<String, Value>) {
    match value {
        Value::String(text) => {
            if let Some(replaced) = expand(text, results) {
                *value = replaced;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| substitute_value(item, results)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| substitute_value(item, results)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The text with its references replaced; `None` when it has none.
fn expand(text: &str, results: &Map<String, Value>) -> Option<Value> {
    if !text.contains("$result[") {
        return None;
    }
    if let Some((path, end)) = parse_reference(text) {
        if end == text.len() {
            let value = lookup(results, &path).cloned();
            return Some(value.unwrap_or_else(|| Value::String(String::new())));
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("$result[") {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        match parse_reference(candidate) {
            Some((path, end)) => {
                out.push_str(&php_strval(lookup(results, &path)));
                rest = &candidate[end..];
            }
            None => {
                out.push_str(MARKER);
                rest = &candidate[MARKER.len()..];
            }
        }
    }
    out.push_str(rest);
    Some(Value::String(out))
}

/// Reads `$result[a][b]…` at the start of `text`: the indices and the length read.
fn parse_reference(text: &str) -> Option<(Vec<&str>, usize)> {
    let mut at = MARKER.len();
    if !text.starts_with(MARKER) {
        return None;
    }
    let mut path = Vec::new();
    while text[at..].starts_with('[') {
        let close = text[at + 1..].find(']')?;
        path.push(&text[at + 1..at + 1 + close]);
        at += close + 2;
    }
    (!path.is_empty()).then_some((path, at))
}

/// The value at `path`: a command key, then fields or list positions.
fn lookup<'a>(results: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (key, fields) = path.split_first()?;
    let mut value = results.get(*key)?;
    for field in fields {
        value = match value {
            Value::Object(map) => map.get(*field)?,
            Value::Array(items) => items.get(field.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// PHP's string conversion of a value.
fn php_strval(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null | Value::Bool(false)) => String::new(),
        Some(Value::Bool(true)) => "1".to_owned(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(_) | Value::Object(_)) => "Array".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(params: Value) -> Value {
        let results = json!({
            "get_user": {"ID": "1", "UF_DEPARTMENT": [7, 8], "ADMIN": true},
            "0": [{"ID": "42"}],
        });
        let (Value::Object(mut params), Value::Object(results)) = (params, results) else {
            return Value::Null;
        };
        substitute(&mut params, &results);
        Value::Object(params)
    }

    #[test]
    fn whole_values_keep_their_type() {
        assert_eq!(
            run(json!({"ID": "$result[get_user][UF_DEPARTMENT][0]"})),
            json!({"ID": 7})
        );
        assert_eq!(
            run(json!({"IDS": "$result[get_user][UF_DEPARTMENT]"})),
            json!({"IDS": [7, 8]})
        );
        assert_eq!(run(json!({"X": "$result[0][0][ID]"})), json!({"X": "42"}));
    }

    #[test]
    fn references_inside_text_and_nested_params() {
        assert_eq!(
            run(json!({"F": {">ID": "id-$result[get_user][ID]-$result[get_user][ADMIN]"}})),
            json!({"F": {">ID": "id-1-1"}})
        );
        assert_eq!(
            run(json!({"A": ["$result[get_user][UF_DEPARTMENT] x"]})),
            json!({"A": ["Array x"]})
        );
    }

    #[test]
    fn missing_and_malformed() {
        assert_eq!(run(json!({"A": "$result[nope][ID]"})), json!({"A": ""}));
        assert_eq!(
            run(json!({"A": "$result[get_user][ID][x]"})),
            json!({"A": ""})
        );
        assert_eq!(run(json!({"A": "$result[0][x]"})), json!({"A": ""}));
        assert_eq!(
            run(json!({"A": "$result[get_user"})),
            json!({"A": "$result[get_user"})
        );
        assert_eq!(run(json!({"A": "$results"})), json!({"A": "$results"}));
        assert_eq!(
            run(json!({"A": "a $result[ b"})),
            json!({"A": "a $result[ b"})
        );
    }
}
