//! The form a portal POSTs to an application: PHP's `http_build_query` of the request
//! (`event=…&data[DATA][0][chat][id]=10585&auth[member_id]=…`).
//!
//! Nested objects become `KEY[SUB]=…`, lists `KEY[0]=…`; names and values are percent-encoded
//! as `urlencode` does (letters, digits and `-_.` stay, a space is `+`); `true` is `1`, `false`
//! `0` (as PHP writes booleans in a form: `false` is the empty string there, but Bitrix24 sends
//! its flags as `Y`/`N` or numbers anyway), `null` and empty arrays are left out.

use serde_json::Value;

/// Encodes a JSON object as a PHP form.
///
/// ```
/// use b24_emulator::events::form::encode;
/// let body = encode(&serde_json::json!({"event": "ONAPPTEST", "data": {"QUERY": {"any": "x y"}}}));
/// assert_eq!(body, "event=ONAPPTEST&data%5BQUERY%5D%5Bany%5D=x+y");
/// ```
pub fn encode(form: &Value) -> String {
    let mut out = String::new();
    if let Value::Object(map) = form {
        for (key, value) in map {
            write(&mut out, &escape(key), value);
        }
    }
    out
}

fn write(out: &mut String, name: &str, value: &Value) {
    let text = match value {
        Value::Null => return,
        Value::Bool(b) => (if *b { "1" } else { "0" }).to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            for (at, item) in items.iter().enumerate() {
                write(out, &format!("{name}%5B{at}%5D"), item);
            }
            return;
        }
        Value::Object(map) => {
            for (key, item) in map {
                write(out, &format!("{name}%5B{}%5D", escape(key)), item);
            }
            return;
        }
    };
    if !out.is_empty() {
        out.push('&');
    }
    out.push_str(name);
    out.push('=');
    out.push_str(&escape(&text));
}

/// PHP's `urlencode`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_back_through_the_portal_parser() {
        let form = json!({"event": "ONSESSIONSTART", "data": {"DATA": [{"chat": {"id": 7}, "x": "a&b=c"}]},
                          "auth": {"member_id": "m", "flag": true}, "none": null});
        let parsed = crate::wire::php_query::parse(encode(&form).as_bytes()).unwrap();
        assert_eq!(
            serde_json::Value::Object(parsed),
            json!({"event": "ONSESSIONSTART", "data": {"DATA": [{"chat": {"id": "7"}, "x": "a&b=c"}]},
                   "auth": {"member_id": "m", "flag": "1"}})
        );
    }
}
