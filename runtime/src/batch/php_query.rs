//! PHP's `http_build_query`, the form a `batch` sub-call's parameters take
//! (`crm.lead.add?fields%5BTITLE%5D=John%26Martin`).
//!
//! The rules, as PHP applies them (RFC 1738 mode, the default):
//! - nested objects become `KEY[SUB]=…`, lists `ID[0]=1&ID[1]=2`;
//! - keys and values are percent-encoded with `urlencode`: letters, digits and `-_.` stay, a
//!   space becomes `+`, every other byte becomes `%XX` (upper case), brackets in keys included;
//! - `true` is `1`, `false` is `0`, numbers are written in decimal (a float without a fraction
//!   as an integer: `1.0` is `1`);
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
        Value::Number(n) => pair(out, prefix, &php_number(n)),
        Value::String(s) => {
            let mut encoded = String::with_capacity(s.len());
            urlencode_into(&mut encoded, s);
            pair(out, prefix, &encoded);
        }
    }
}

/// A number as PHP writes it into a query: integers in decimal; a float without a fraction
/// (`1.0`) without `.0`, as PHP does (`%.14G`: `1.0` → `1`, `-0.0` → `-0`).
///
/// Where PHP would lose digits (it keeps 14 significant ones: `0.30000000000000004` → `0.3`,
/// `123456789012345.0` → `1.2345678901234E+14`) the shortest exact form is written instead
/// (`0.30000000000000004`, `123456789012345`, `1e20`), which the portal reads as the same number.
fn php_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
            // Exactly representable as an i64 below 1e15: `-0.0` is written `-0`, as PHP does.
            if f == 0.0 && f.is_sign_negative() {
                "-0".to_owned()
            } else {
                (f as i64).to_string()
            }
        }
        _ => n.to_string(),
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

    // Expected strings are what PHP 8 prints for the same arrays (checked with PHP 8.2):
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

    #[test]
    fn php_rules_for_keys_at_every_level() {
        // http_build_query(['a b' => ['c&d' => ['e=f' => ['g[h]' => 'ё']]]])
        assert_eq!(
            http_build_query(&json!({"a b": {"c&d": {"e=f": {"g[h]": "ё"}}}})),
            "a+b%5Bc%26d%5D%5Be%3Df%5D%5Bg%5Bh%5D%5D=%D1%91"
        );
        // http_build_query(['FIELDS' => ['TITLE' => 'x'], 'ID' => [0 => 1, 1 => 2]])
        assert_eq!(
            http_build_query(&json!({"FIELDS": {"TITLE": "x"}, "ID": [1, 2]})),
            "FIELDS%5BTITLE%5D=x&ID%5B0%5D=1&ID%5B1%5D=2"
        );
        // lists of lists and of maps
        assert_eq!(
            http_build_query(&json!({"m": [[1, 2], [3], [{"k": "v"}]]})),
            "m%5B0%5D%5B0%5D=1&m%5B0%5D%5B1%5D=2&m%5B1%5D%5B0%5D=3&m%5B2%5D%5B0%5D%5Bk%5D=v"
        );
        // a top-level list gets its indexes as names
        assert_eq!(http_build_query(&json!(["a", "b c"])), "0=a&1=b+c");
    }

    #[test]
    fn php_rules_for_empties_at_every_level() {
        // nested nulls and empty arrays vanish; an empty string stays as `key=`
        assert_eq!(
            http_build_query(&json!({"f": {
                "a": [], "b": {}, "c": null, "d": "", "e": [[], [null], {"x": []}]
            }})),
            "f%5Bd%5D="
        );
        assert_eq!(http_build_query(&json!({"f": {"a": []}})), "");
        assert_eq!(http_build_query(&json!({"f": [null, "x"]})), "f%5B1%5D=x");
        assert_eq!(http_build_query(&json!(null)), "");
    }

    #[test]
    fn php_rules_for_reserved_and_control_characters() {
        assert_eq!(
            http_build_query(&json!({"v": "a+b/c:d@e'f\"g<h>i\nj\tk,l;m!n(o)p$q"})),
            "v=a%2Bb%2Fc%3Ad%40e%27f%22g%3Ch%3Ei%0Aj%09k%2Cl%3Bm%21n%28o%29p%24q"
        );
        // emoji (4 UTF-8 bytes) and a lone `%`, `&` and `=` in keys and values
        assert_eq!(
            http_build_query(&json!({"%": "😀", "&=": "=&"})),
            "%25=%F0%9F%98%80&%26%3D=%3D%26"
        );
    }

    #[test]
    fn php_rules_for_numbers() {
        // http_build_query(['i' => 0, 'n' => -12, 'big' => PHP_INT_MAX, 'f' => 1.0, 'g' => -3.0,
        //   'h' => 0.5, 'k' => 100.0, 'z' => -0.0])
        assert_eq!(
            http_build_query(&json!({
                "i": 0, "n": -12, "big": i64::MAX, "f": 1.0, "g": -3.0, "h": 0.5, "k": 100.0,
                "z": -0.0
            })),
            "i=0&n=-12&big=9223372036854775807&f=1&g=-3&h=0.5&k=100&z=-0"
        );
        // http_build_query(['x' => 1.5, 'y' => 0.1, 'w' => 99999999999999.0])
        assert_eq!(
            http_build_query(&json!({"x": 1.5, "y": 0.1, "w": 99_999_999_999_999.0})),
            "x=1.5&y=0.1&w=99999999999999"
        );
    }
}
