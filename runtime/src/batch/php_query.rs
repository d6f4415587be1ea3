//! PHP's `http_build_query`, the form a `batch` sub-call's parameters take
//! (`crm.lead.add?fields%5BTITLE%5D=John%26Martin`).
//!
//! The rules, as PHP applies them (RFC 1738 mode, the default):
//! - nested objects become `KEY[SUB]=…`, lists `ID[0]=1&ID[1]=2`;
//! - keys and values are percent-encoded with `urlencode`: letters, digits and `-_.` stay, a
//!   space becomes `+`, every other byte becomes `%XX` (upper case), brackets in keys included;
//! - `true` is `1`, `false` is `0`, numbers are written in decimal;
//! - `null` values and empty arrays or objects are left out entirely.

use serde_json::Value;

/// Encodes a JSON object as PHP's `http_build_query` would encode the same array.
///
/// ```
/// use b24_runtime::batch::php_query::http_build_query;
/// use serde_json::json;
///
/// let q = http_build_query(&json!({"fields": {"TITLE": "John&Martin"}, "ID": [1, 2]}));
/// assert_eq!(q, "fields%5BTITLE%5D=John%26Martin&ID%5B0%5D=1&ID%5B1%5D=2");
/// ```
pub fn http_build_query(params: &Value) -> String {
    let mut out = String::new();
    match params {
        Value::Object(map) => {
            for (key, value) in map {
                let mut prefix = String::new();
                urlencode_into(&mut prefix, key);
                write_value(&mut out, &prefix, value);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                write_value(&mut out, &i.to_string(), value);
            }
        }
        _ => {}
    }
    out
}

fn write_value(out: &mut String, prefix: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, v) in map {
                let mut nested = String::with_capacity(prefix.len() + key.len() + 6);
                nested.push_str(prefix);
                nested.push_str("%5B");
                urlencode_into(&mut nested, key);
                nested.push_str("%5D");
                write_value(out, &nested, v);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let nested = format!("{prefix}%5B{i}%5D");
                write_value(out, &nested, v);
            }
        }
        Value::Bool(b) => pair(out, prefix, if *b { "1" } else { "0" }),
        Value::Number(n) => pair(out, prefix, &n.to_string()),
        Value::String(s) => {
            let mut encoded = String::with_capacity(s.len());
            urlencode_into(&mut encoded, s);
            pair(out, prefix, &encoded);
        }
    }
}

fn pair(out: &mut String, key: &str, encoded_value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    out.push_str(key);
    out.push('=');
    out.push_str(encoded_value);
}

/// PHP's `urlencode`.
pub fn urlencode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected strings are what PHP 8 prints for the same arrays:
    //   echo http_build_query([...]);

    #[test]
    fn docs_examples() {
        // settings/how-to-call-rest-api/data-encoding.md
        assert_eq!(
            http_build_query(&json!({"fields": {"TITLE": "John&Martin"}})),
            "fields%5BTITLE%5D=John%26Martin"
        );
        assert_eq!(
            http_build_query(&json!({"fields": {"TITLE": "My company", "PHONE": [
                {"VALUE": "112233", "VALUE_TYPE": "WORK"},
                {"VALUE": "555888112", "VALUE_TYPE": "OTHER"}
            ]}})),
            "fields%5BTITLE%5D=My+company\
             &fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=112233\
             &fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK\
             &fields%5BPHONE%5D%5B1%5D%5BVALUE%5D=555888112\
             &fields%5BPHONE%5D%5B1%5D%5BVALUE_TYPE%5D=OTHER"
        );
        // batch.md: a reference to an earlier result survives encoding (the portal decodes
        // before it substitutes).
        assert_eq!(
            http_build_query(&json!({"ID": "$result[get_user][UF_DEPARTMENT][0]"})),
            "ID=%24result%5Bget_user%5D%5BUF_DEPARTMENT%5D%5B0%5D"
        );
    }

    #[test]
    fn php_rules_for_tricky_values() {
        assert_eq!(
            http_build_query(&json!({"a": "x y", "b": "&=?#%+", "c": "[]"})),
            "a=x+y&b=%26%3D%3F%23%25%2B&c=%5B%5D"
        );
        // urlencode leaves only -_. unencoded; ~ and * are encoded
        assert_eq!(
            http_build_query(&json!({"s": "a-b_c.d~e*f"})),
            "s=a-b_c.d%7Ee%2Af"
        );
        // UTF-8 bytes, upper-case hex
        assert_eq!(
            http_build_query(&json!({"name": "Привет €"})),
            "name=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82+%E2%82%AC"
        );
        // booleans as 1/0, numbers in decimal, null and empty arrays dropped
        assert_eq!(
            http_build_query(
                &json!({"t": true, "f": false, "n": null, "e": [], "o": {}, "i": -7, "x": 1.5})
            ),
            "t=1&f=0&i=-7&x=1.5"
        );
        // keys are encoded too
        assert_eq!(
            http_build_query(&json!({"filter": {">ID": 10, "%TITLE": "a b"}})),
            "filter%5B%3EID%5D=10&filter%5B%25TITLE%5D=a+b"
        );
        assert_eq!(http_build_query(&json!({})), "");
        assert_eq!(http_build_query(&json!({"s": ""})), "s=");
    }
}
