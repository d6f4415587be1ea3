//! Reading a REST call out of an HTTP request: the route (webhook or OAuth, and the method name)
//! and the parameters (query string merged with the body).

use serde_json::{Map, Value};

use super::{multipart, php_query};
use crate::auth::Credentials;
use crate::error::ApiError;

/// Where a REST request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// Webhook credentials from the path, or an OAuth call (token still to be read from the
    /// parameters).
    pub(crate) credentials: Credentials,
    /// The method name, lowercased, without the `.json` suffix.
    pub(crate) method: String,
}

/// Reads the route from a URL path; `None` for paths outside `/rest/`.
///
/// `/rest/<user_id>/<code>/<method>` is a webhook call, any other `/rest/<method>` an OAuth call.
pub(crate) fn parse_route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/rest/")?;
    let segments: Vec<String> = rest.split('/').map(decode_segment).collect();
    match segments.as_slice() {
        [user_id, code, method] => Some(Route {
            credentials: Credentials::Webhook {
                user_id: user_id.clone(),
                code: code.clone(),
            },
            method: normalize_method(method),
        }),
        _ => Some(Route {
            credentials: Credentials::Token(None),
            method: normalize_method(&segments.join("/")),
        }),
    }
}

fn decode_segment(segment: &str) -> String {
    String::from_utf8_lossy(&php_query::url_decode(segment.as_bytes(), false)).into_owned()
}

/// Lowercases a method name and drops an optional `.json` suffix.
pub(crate) fn normalize_method(method: &str) -> String {
    let lower = method.to_lowercase();
    match lower.strip_suffix(".json") {
        Some(stripped) => stripped.to_owned(),
        None => lower,
    }
}

/// The parameters of a call: the query string, overridden name by name by the body.
///
/// The body is read by its content type: `application/json` (an object; an array gives the keys
/// `"0"`, `"1"`, …; an empty body no parameters), `application/x-www-form-urlencoded` and
/// `multipart/form-data` (PHP rules). Bodies of other types are ignored, as PHP ignores them.
///
/// Errors: text that is not UTF-8 → `WRONG_ENCODING`; a JSON body that does not parse →
/// `INVALID_REQUEST`.
pub(crate) fn parse_params(
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let mut params = match query {
        Some(query) => {
            php_query::parse(query.as_bytes()).map_err(|_| ApiError::wrong_encoding())?
        }
        None => Map::new(),
    };
    let body_params = parse_body(content_type.unwrap_or_default(), body)?;
    params.extend(body_params);
    Ok(params)
}

fn parse_body(content_type: &str, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media_type == "application/json" || media_type.ends_with("+json") {
        parse_json(body)
    } else if media_type == "application/x-www-form-urlencoded" {
        php_query::parse(body).map_err(|_| ApiError::wrong_encoding())
    } else if media_type == "multipart/form-data" {
        match multipart::boundary(content_type) {
            Some(boundary) => {
                multipart::parse(body, boundary).map_err(|_| ApiError::wrong_encoding())
            }
            None => Ok(Map::new()),
        }
    } else {
        Ok(Map::new())
    }
}

fn parse_json(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::wrong_encoding())?;
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_str(text).map_err(|err| {
        ApiError::invalid_request(format!("The request body is not valid JSON: {err}"))
    })?;
    Ok(match value {
        Value::Object(map) => map,
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| (index.to_string(), item))
            .collect(),
        _ => Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webhook_route() {
        let route = parse_route("/rest/1/abc/IMOPENLINES.Session.Start.json");
        assert_eq!(
            route,
            Some(Route {
                credentials: Credentials::Webhook {
                    user_id: "1".into(),
                    code: "abc".into()
                },
                method: "imopenlines.session.start".into()
            })
        );
    }

    #[test]
    fn oauth_route() {
        let route = parse_route("/rest/user.current");
        assert_eq!(
            route.map(|r| (r.credentials, r.method)),
            Some((Credentials::Token(None), "user.current".into()))
        );
    }

    #[test]
    fn other_paths_are_not_rest() {
        assert_eq!(parse_route("/"), None);
        assert_eq!(parse_route("/rest"), None);
        assert_eq!(parse_route("/api/rest/x"), None);
    }

    #[test]
    fn xml_suffix_is_kept() {
        assert_eq!(normalize_method("batch.xml"), "batch.xml");
        assert_eq!(normalize_method("Batch.JSON"), "batch");
    }

    #[test]
    fn body_overrides_query() {
        let params = parse_params(
            Some("A=1&B=2"),
            Some("application/json; charset=utf-8"),
            br#"{"B": 3, "C": [1]}"#,
        );
        assert_eq!(
            params.map(Value::Object),
            Ok(json!({"A": "1", "B": 3, "C": [1]}))
        );
    }

    #[test]
    fn form_body() {
        let params = parse_params(
            None,
            Some("application/x-www-form-urlencoded"),
            b"FIELDS[TITLE]=x&ID[]=1",
        );
        assert_eq!(
            params.map(Value::Object),
            Ok(json!({"FIELDS": {"TITLE": "x"}, "ID": ["1"]}))
        );
    }

    #[test]
    fn unknown_content_type_body_is_ignored() {
        let params = parse_params(Some("a=1"), Some("text/plain"), b"b=2");
        assert_eq!(params.map(Value::Object), Ok(json!({"a": "1"})));
        let params = parse_params(None, None, b"b=2");
        assert_eq!(params.map(Value::Object), Ok(json!({})));
    }

    #[test]
    fn json_shapes() {
        let ct = Some("application/json");
        assert_eq!(
            parse_params(None, ct, b"").map(Value::Object),
            Ok(json!({}))
        );
        assert_eq!(
            parse_params(None, ct, b"[5, {\"a\": 1}]").map(Value::Object),
            Ok(json!({"0": 5, "1": {"a": 1}}))
        );
        assert_eq!(
            parse_params(None, ct, b"42").map(Value::Object),
            Ok(json!({}))
        );
        let err = parse_params(None, ct, b"{broken").err();
        assert_eq!(err.as_ref().map(ApiError::code), Some("INVALID_REQUEST"));
    }

    #[test]
    fn encoding_errors() {
        let wrong = Some("WRONG_ENCODING");
        let err = parse_params(None, Some("application/json"), b"{\"a\": \"\xff\"}").err();
        assert_eq!(err.as_ref().map(ApiError::code), wrong);
        let err = parse_params(None, Some("application/x-www-form-urlencoded"), b"a=%ff").err();
        assert_eq!(err.as_ref().map(ApiError::code), wrong);
        let err = parse_params(Some("a=%C3%28"), None, b"").err();
        assert_eq!(err.as_ref().map(ApiError::code), wrong);
    }
}
