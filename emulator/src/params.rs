//! The parameters of one call, with the lenient readers Bitrix24 methods use.
//!
//! A value may arrive as a JSON number (`{"CHAT_ID": 2043}`) or as a string (`CHAT_ID=2043` in a
//! form body, where everything is a string). Methods on the portal read parameters the PHP way:
//! `intval()` for numbers, `empty()` and `isset()` for presence. [`Params`] offers exactly those
//! readers, so handlers behave as the real server does for either encoding.
//!
//! Top-level names are looked up case-insensitively, as the portal's methods upper-case parameter
//! names (`array_change_key_case`) before reading them: `chat_id` and `CHAT_ID` are one parameter.

use serde_json::{Map, Value};

/// The parameters of one call: a JSON object built from the query string and the body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    map: Map<String, Value>,
}

impl Params {
    /// Wraps already parsed parameters.
    pub fn new(map: Map<String, Value>) -> Self {
        Self { map }
    }

    /// The value of a top-level parameter: the exact name first, then ignoring ASCII case.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).or_else(|| {
            self.map
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        })
    }

    /// PHP `isset()`: the parameter is present and not `null`.
    pub fn isset(&self, name: &str) -> bool {
        self.get(name).is_some_and(|value| !value.is_null())
    }

    /// PHP `empty()`: absent, `null`, `false`, `0`, `0.0`, `""`, `"0"`, or an empty array/object.
    pub fn is_empty(&self, name: &str) -> bool {
        self.get(name).is_none_or(php_empty)
    }

    /// PHP `intval()` of the parameter, or `None` when it is absent.
    ///
    /// Numbers are truncated, strings read as PHP reads them (`"2043"` → 2043, `" 12abc"` → 12,
    /// `"1e3"` → 1000, `"abc"` → 0), `true` is 1, `null`/`false` are 0, arrays are 0 when empty and
    /// 1 otherwise.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).map(php_intval)
    }

    /// The parameter as text: strings as they are, numbers and booleans as PHP's `strval` writes
    /// them (`true` → `"1"`, `false` → `""`); `None` when absent, `null`, an array or an object.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(true) => Some("1".to_owned()),
            Value::Bool(false) => Some(String::new()),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// All parameters.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// All parameters as one JSON object.
    pub fn to_value(&self) -> Value {
        Value::Object(self.map.clone())
    }
}

impl From<Map<String, Value>> for Params {
    fn from(map: Map<String, Value>) -> Self {
        Self::new(map)
    }
}

/// PHP `empty()` of a present value.
pub fn php_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::Bool(true) => false,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() || s == "0",
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// PHP `intval()` of a JSON value.
pub fn php_intval(value: &Value) -> i64 {
    match value {
        Value::Null | Value::Bool(false) => 0,
        Value::Bool(true) => 1,
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|_| i64::MAX))
            .unwrap_or_else(|| float_to_int(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => string_intval(s),
        Value::Array(a) => i64::from(!a.is_empty()),
        Value::Object(o) => i64::from(!o.is_empty()),
    }
}

/// `(int)` of a float: truncation, saturating; NaN is 0.
fn float_to_int(f: f64) -> i64 {
    // `as` saturates and maps NaN to 0, which is what PHP 8 on 64 bits does for finite values.
    f.trunc() as i64
}

/// `(int)` of a string: leading whitespace, then the longest numeric prefix.
fn string_intval(s: &str) -> i64 {
    let trimmed = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let bytes = trimmed.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    let int_end = end;
    // A fraction or an exponent makes it a float string ("1.9" → 1, "1e3" → 1000).
    let mut float_end = end;
    if bytes.get(float_end) == Some(&b'.') {
        float_end += 1;
        while bytes.get(float_end).is_some_and(u8::is_ascii_digit) {
            float_end += 1;
        }
    }
    if matches!(bytes.get(float_end), Some(b'e' | b'E')) {
        let mut exp = float_end + 1;
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        let exp_digits = exp;
        while bytes.get(exp).is_some_and(u8::is_ascii_digit) {
            exp += 1;
        }
        if exp > exp_digits {
            float_end = exp;
        }
    }
    let has_mantissa = int_end > digits_start || float_end > int_end + 1;
    if !has_mantissa {
        return 0;
    }
    if float_end > int_end {
        return trimmed[..float_end]
            .parse::<f64>()
            .map(float_to_int)
            .unwrap_or(0);
    }
    trimmed[..int_end].parse::<i64>().unwrap_or_else(|_| {
        if trimmed.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(value: Value) -> Params {
        match value {
            Value::Object(map) => Params::new(map),
            _ => Params::default(),
        }
    }

    #[test]
    fn int_reads_numbers_and_strings() {
        let p = params(json!({
            "A": 2043, "B": "2043", "C": " 12abc", "D": "abc", "E": 12.9, "F": "1e3",
            "G": "-5", "H": true, "I": null, "J": [], "K": [1], "L": "1.9", "M": "99999999999999999999",
            "N": "+7", "O": "", "P": ".5", "Q": "-"
        }));
        let expect = [
            ("A", 2043),
            ("B", 2043),
            ("C", 12),
            ("D", 0),
            ("E", 12),
            ("F", 1000),
            ("G", -5),
            ("H", 1),
            ("I", 0),
            ("J", 0),
            ("K", 1),
            ("L", 1),
            ("M", i64::MAX),
            ("N", 7),
            ("O", 0),
            ("P", 0),
            ("Q", 0),
        ];
        for (name, value) in expect {
            assert_eq!(p.int(name), Some(value), "{name}");
        }
        assert_eq!(p.int("missing"), None);
    }

    #[test]
    fn names_are_case_insensitive_exact_first() {
        let p = params(json!({"chat_id": "1", "Chat_Id": "2"}));
        assert_eq!(p.int("chat_id"), Some(1));
        assert_eq!(p.int("CHAT_ID").map(|v| v == 1 || v == 2), Some(true));
        assert_eq!(p.int("Chat_Id"), Some(2));
    }

    #[test]
    fn empty_and_isset_follow_php() {
        let p =
            params(json!({"a": "0", "b": "", "c": 0, "d": null, "e": "N", "f": {}, "g": false}));
        for name in ["a", "b", "c", "d", "f", "g", "missing"] {
            assert!(p.is_empty(name), "{name}");
        }
        assert!(!p.is_empty("e"));
        assert!(p.isset("a"));
        assert!(!p.isset("d"));
        assert!(!p.isset("missing"));
    }

    #[test]
    fn text_converts_scalars() {
        let p = params(json!({"a": "x", "b": 5, "c": true, "d": [1], "e": null}));
        assert_eq!(p.text("a").as_deref(), Some("x"));
        assert_eq!(p.text("b").as_deref(), Some("5"));
        assert_eq!(p.text("c").as_deref(), Some("1"));
        assert_eq!(p.text("d"), None);
        assert_eq!(p.text("e"), None);
    }
}
