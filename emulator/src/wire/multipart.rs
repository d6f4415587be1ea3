//! `multipart/form-data` bodies: the text fields become parameters as PHP puts them in `$_POST`.
//!
//! Each part's `Content-Disposition: form-data; name="…"` names a parameter (with PHP's `[...]`
//! rules, see [`php_query`](super::php_query)); its content is the value. Parts with a `filename`
//! are uploads, which PHP keeps apart in `$_FILES`, so they are not parameters. Malformed parts are
//! skipped, as PHP does.

use serde_json::{Map, Value};

use super::php_query::{FormBuilder, NotUtf8};

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty()).then_some(value)
    })
}

/// Parses a multipart body delimited by `boundary`.
pub fn parse(body: &[u8], boundary: &str) -> Result<Map<String, Value>, NotUtf8> {
    let delimiter = [b"--", boundary.as_bytes()].concat();
    let mut form = FormBuilder::new();
    let Some(first) = find(body, &delimiter, 0) else {
        return Ok(form.finish());
    };
    let mut at = first + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            break;
        }
        // The rest of the delimiter line.
        let Some(line_end) = find(body, b"\n", at) else {
            break;
        };
        let headers_start = line_end + 1;
        let Some((headers_end, content_start)) = header_end(body, headers_start) else {
            break;
        };
        let Some(next) = find(body, &delimiter, content_start) else {
            break;
        };
        let content = trim_line_break(&body[content_start..next]);
        let headers = &body[headers_start..headers_end];
        if let Some(name) = field_name(headers)? {
            let value = String::from_utf8(content.to_vec()).map_err(|_| NotUtf8)?;
            form.insert(&name, value);
        }
        at = next + delimiter.len();
    }
    Ok(form.finish())
}

/// Where the part's headers end and its content starts (after a blank line, CRLF or LF).
fn header_end(body: &[u8], from: usize) -> Option<(usize, usize)> {
    let crlf = find(body, b"\r\n\r\n", from).map(|at| (at, at + 4));
    let lf = find(body, b"\n\n", from).map(|at| (at, at + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The content without the line break that precedes the next delimiter.
fn trim_line_break(content: &[u8]) -> &[u8] {
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    content.strip_suffix(b"\r").unwrap_or(content)
}

/// The `name` of a text field; `None` for uploads and parts without a name.
fn field_name(headers: &[u8]) -> Result<Option<String>, NotUtf8> {
    let headers = std::str::from_utf8(headers).map_err(|_| NotUtf8)?;
    let Some(disposition) = headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    }) else {
        return Ok(None);
    };
    let mut name = None;
    for param in disposition.split(';').skip(1) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value.to_owned()),
            "filename" => return Ok(None),
            _ => {}
        }
    }
    Ok(name)
}

/// The first occurrence of `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn boundary_from_content_type() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc"));
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn text_fields_with_php_names() {
        let body = "--XX\r\n\
            Content-Disposition: form-data; name=\"fields[TITLE]\"\r\n\r\n\
            My company\r\n\
            --XX\r\n\
            Content-Disposition: form-data; name=\"ID[]\"\r\n\r\n\
            1\r\n\
            --XX\r\n\
            content-disposition: form-data; name=\"ID[]\"\r\n\
            Content-Type: text/plain; charset=utf-8\r\n\r\n\
            Зелёный\r\n\
            --XX\r\n\
            Content-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n\r\n\
            file body\r\n\
            --XX--\r\n";
        let parsed = parse(body.as_bytes(), "XX").map(Value::Object);
        assert_eq!(
            parsed,
            Ok(json!({"fields": {"TITLE": "My company"}, "ID": ["1", "Зелёный"]}))
        );
    }

    #[test]
    fn bare_lf_and_garbage_do_not_panic() {
        let body = "--B\nContent-Disposition: form-data; name=\"a\"\n\nx\n--B--";
        assert_eq!(
            parse(body.as_bytes(), "B"),
            Ok(json!({"a": "x"}).as_object().cloned().unwrap_or_default())
        );
        for garbage in [
            "",
            "--B",
            "--B\r\n",
            "--B\r\nno blank line",
            "--B\r\n\r\nunterminated",
        ] {
            assert!(parse(garbage.as_bytes(), "B").is_ok(), "{garbage:?}");
        }
    }

    #[test]
    fn non_utf8_value_is_an_error() {
        let mut body = b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(b"\r\n--B--");
        assert_eq!(parse(&body, "B"), Err(NotUtf8));
    }
}
