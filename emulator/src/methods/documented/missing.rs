//! The portal's answer to a call without one of the parameters a page marks required.
//!
//! Bitrix24 has no single error for it: each method reports it its own way (`CHAT_ID_EMPTY`,
//! `ERROR_ARGUMENT` "Argument 'CONNECTOR' is null or empty", `100` "Could not find value for
//! parameter {fields}", `ERROR_REQUIRED_PARAMETERS_MISSING` …), and the page's error table and
//! error examples say which. The error is taken from the page (leaving out the codes about who calls, such as
//! `WRONG_AUTH_TYPE` "Application context required"), first match wins:
//!
//! 1. a code naming the parameter: the name itself (`CHAT_ID`), or with `EMPTY`, `REQUIRED`,
//!    `MISSING`, `NOT_SPECIFIED`, `NOT_SET` or `NOT_DEFINED` before or after it (`CHAT_ID_EMPTY`,
//!    `EMPTY_CHAT_ID`);
//! 2. a description that names the parameter as a word and says it is missing ("is null or
//!    empty", "required", "not specified", "could not find value" …);
//! 3. a description that says a required value is missing and names no other parameter of the
//!    method ("Required fields are not provided"; a placeholder `` `X` `` becomes the name);
//! 4. a description that says another parameter, quoted, is missing ("Argument 'LINE' is null or
//!    empty", "Could not find value for parameter {fields}"): the same error, naming this one.
//!
//! The page's JSON error examples are tried before its error table (they are the wire text), and
//! a code found in the table takes the status the table gives it (400 when it gives none, the
//! portal's default). A page with none of these gets the portal core's answer to a null argument:
//! 400 `ERROR_ARGUMENT` "Argument 'NAME' is null or empty".

use serde_json::Value;

use super::schema::DocumentedMethod;
use crate::error::ApiError;

/// Phrases of the docs' descriptions of a missing value (matched on lowercased text).
const MISSING_PHRASES: &[&str] = &[
    "required",
    "missing",
    "empty",
    "not specified",
    "not passed",
    "not provided",
    "not set",
    "not defined",
    "not filled",
    "not transmitted",
    "could not find value",
    "isn't specified",
    "should be set",
    "must be set",
    "must be specified",
];

/// Words that, beside a parameter's name in a code, say the parameter is missing.
const MISSING_CODE_WORDS: &[&str] = &[
    "EMPTY",
    "REQUIRED",
    "MISSING",
    "NOT_SPECIFIED",
    "NOT_SET",
    "NOT_DEFINED",
    "IS_EMPTY",
    "ERROR",
];

/// Codes that are about who calls, never about a parameter ("Application context required").
const NOT_ABOUT_PARAMETERS: &[&str] = &[
    "WRONG_AUTH_TYPE",
    "ACCESS_DENIED",
    "INSUFFICIENT_SCOPE",
    "NO_AUTH_FOUND",
    "INVALID_CREDENTIALS",
    "USER_ACCESS_ERROR",
    "ALLOWED_ONLY_INTRANET_USER",
    "ERROR_METHOD_NOT_FOUND",
];

/// A candidate error: code, description, status (if the page gives one).
struct Candidate {
    code: String,
    description: String,
    status: Option<u16>,
}

/// The error the portal answers when `param` is missing from a call of `method`.
pub(super) fn missing_parameter_error(method: &DocumentedMethod, param: &str) -> ApiError {
    let candidates = candidates(method);
    let others = || method.params.iter().filter(|other| *other != param);
    let chosen = candidates
        .iter()
        .find(|c| code_names(&c.code, param))
        .map(|c| (c, c.description.clone()))
        .or_else(|| {
            candidates
                .iter()
                .find(|c| says_missing(&c.description) && names(&c.description, param))
                .map(|c| (c, c.description.clone()))
        })
        .or_else(|| {
            candidates
                .iter()
                .find(|c| {
                    says_missing(&c.description)
                        && !others().any(|other| names(&c.description, other))
                })
                .map(|c| (c, c.description.replace("`X`", &format!("`{param}`"))))
        })
        .or_else(|| {
            candidates
                .iter()
                .filter(|c| says_missing(&c.description))
                .find_map(|c| {
                    let mut named = others().filter(|other| names(&c.description, other));
                    let (Some(other), None) = (named.next(), named.next()) else {
                        return None;
                    };
                    Some((c, requote(&c.description, other, param)?))
                })
        });
    match chosen {
        Some((c, description)) => {
            let status = c.status.or_else(|| table_status(method, &c.code));
            ApiError::new(c.code.clone(), description).with_status(status.unwrap_or(400))
        }
        None => ApiError::new(
            "ERROR_ARGUMENT",
            format!("Argument '{param}' is null or empty"),
        ),
    }
}

/// `text` with the quoted `other` (`'…'`, `"…"`, `` `…` `` or `{…}`) replaced by `param`.
fn requote(text: &str, other: &str, param: &str) -> Option<String> {
    ["'", "\"", "`", "{"].iter().find_map(|open| {
        let close = if *open == "{" { "}" } else { open };
        let quoted = format!("{open}{other}{close}");
        text.contains(&quoted)
            .then(|| text.replacen(&quoted, &format!("{open}{param}{close}"), 1))
    })
}

/// The page's error examples (wire text), then its error table.
fn candidates(method: &DocumentedMethod) -> Vec<Candidate> {
    let examples = method.error_examples.iter().filter_map(|raw| {
        let value: Value = serde_json::from_str(raw.get()).ok()?;
        let (code, description) = match value.get("error")? {
            // REST 3.0: {"error": {"code", "message"}}
            Value::Object(error) => (
                scalar_text(error.get("code")?)?,
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
            code => (
                scalar_text(code)?,
                value
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
        };
        Some(Candidate {
            code,
            description,
            status: None,
        })
    });
    let table = method.errors.iter().map(|row| Candidate {
        code: row.code.to_string(),
        description: row.description.trim_matches('`').to_owned(),
        status: row.status,
    });
    examples
        .chain(table)
        .filter(|c| {
            !NOT_ABOUT_PARAMETERS
                .iter()
                .any(|code| c.code.eq_ignore_ascii_case(code))
        })
        .collect()
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The status the error table gives a code.
fn table_status(method: &DocumentedMethod, code: &str) -> Option<u16> {
    method
        .errors
        .iter()
        .find(|row| row.code.eq_ignore_ascii_case(code))
        .and_then(|row| row.status)
}

/// Whether `code` is `param`, or `param` with a missing-word before or after it.
fn code_names(code: &str, param: &str) -> bool {
    let (code, param) = (code.to_ascii_uppercase(), param.to_ascii_uppercase());
    if code == param {
        return true;
    }
    MISSING_CODE_WORDS.iter().any(|word| {
        code == format!("{param}_{word}")
            || code == format!("{word}_{param}")
            || code == format!("{param}_IS_{word}")
    })
}

fn says_missing(description: &str) -> bool {
    let lower = description.to_lowercase();
    MISSING_PHRASES.iter().any(|phrase| lower.contains(phrase))
}

/// Whether `text` has `name` as a whole word (ASCII letters, digits and `_` make words), in any
/// case.
fn names(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let (text, name) = (text.to_ascii_lowercase(), name.to_ascii_lowercase());
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    text.match_indices(&name).any(|(at, _)| {
        let before = text.as_bytes()[..at].last().copied();
        let after = text.as_bytes().get(at + name.len()).copied();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::super::schema::TableError;
    use super::*;

    fn method(
        params: &[&str],
        errors: &[(&str, Option<u16>, &str)],
        examples: &[&str],
    ) -> DocumentedMethod {
        DocumentedMethod {
            name: Cow::Borrowed("x.y"),
            docs_path: Cow::Borrowed("x.md"),
            rest_version: 2,
            required: params.iter().map(|p| Cow::Owned((*p).to_owned())).collect(),
            params: params.iter().map(|p| Cow::Owned((*p).to_owned())).collect(),
            errors: errors
                .iter()
                .map(|&(code, status, description)| TableError {
                    code: Cow::Owned(code.to_owned()),
                    status,
                    description: Cow::Owned(description.to_owned()),
                })
                .collect(),
            success: None,
            error_examples: examples
                .iter()
                .map(|text| {
                    let raw: Box<serde_json::value::RawValue> = serde_json::from_str(text).unwrap();
                    &*Box::leak(raw)
                })
                .collect(),
        }
    }

    #[test]
    fn the_page_decides_the_error() {
        // (params, error table, error examples, missing parameter) → (code, status, description)
        type Case<'a> = (
            &'a [&'a str],
            &'a [(&'a str, Option<u16>, &'a str)],
            &'a [&'a str],
            &'a str,
            (&'a str, u16, &'a str),
        );
        let cases: &[Case<'_>] = &[
            // A code with the parameter's name and EMPTY.
            (
                &["CHAT_ID", "USER_ID"],
                &[("USER_ID_EMPTY", Some(400), "User ID can't be empty"), ("CHAT_ID_EMPTY", Some(400), "Chat ID can't be empty")],
                &[],
                "CHAT_ID",
                ("CHAT_ID_EMPTY", 400, "Chat ID can't be empty"),
            ),
            // The parameter's name as the code.
            (&["CHAT_ID"], &[("CHAT_ID", None, "Chat not found")], &[], "CHAT_ID", ("CHAT_ID", 400, "Chat not found")),
            // The wire example beats the table, and takes the table's status for its code.
            (
                &["CONNECTOR", "LINE"],
                &[("ERROR_ARGUMENT", Some(400), "Argument 'LINE' is null or empty")],
                &[r#"{"error": "ERROR_ARGUMENT", "error_description": "Argument 'CONNECTOR' is null or empty"}"#],
                "CONNECTOR",
                ("ERROR_ARGUMENT", 400, "Argument 'CONNECTOR' is null or empty"),
            ),
            // A description naming the parameter.
            (
                &["templateId", "fields"],
                &[("100", Some(400), "Could not find value for parameter {fields}"), ("100", Some(400), "Could not find value for parameter {templateId}")],
                &[],
                "templateId",
                ("100", 400, "Could not find value for parameter {templateId}"),
            ),
            // A generic description naming no other parameter; REST 3.0 example shape.
            (
                &["id", "fields"],
                &[("ACCESS_DENIED", Some(403), "Access denied")],
                &[r#"{"error": {"code": "VALIDATION_REQUIRED", "message": "Required fields are not provided"}}"#],
                "fields",
                ("VALIDATION_REQUIRED", 400, "Required fields are not provided"),
            ),
            // A description about another parameter does not answer for this one: the core's error.
            (
                &["CONNECTOR", "LINE"],
                &[("ERROR_ARGUMENT", None, "Argument 'CONNECTOR' is null or empty")],
                &[],
                "LINE",
                ("ERROR_ARGUMENT", 400, "Argument 'LINE' is null or empty"),
            ),
            // Another parameter's quoted name, in an error with an empty code (calendar.event.add).
            (
                &["type", "name"],
                &[],
                &[r#"{"error": "", "error_description": "The required parameter \"name\" for the method \"calendar.event.add\" is not set"}"#],
                "type",
                ("", 400, "The required parameter \"type\" for the method \"calendar.event.add\" is not set"),
            ),
            // The docs' `X` placeholder (lists.add).
            (
                &["IBLOCK_TYPE_ID", "FIELDS"],
                &[("ERROR_REQUIRED_PARAMETERS_MISSING", None, "Required parameter `X` is missing")],
                &[],
                "FIELDS",
                ("ERROR_REQUIRED_PARAMETERS_MISSING", 400, "Required parameter `FIELDS` is missing"),
            ),
            // NAME_ERROR for NAME (imbot.register's CODE_ERROR).
            (
                &["CODE", "TYPE"],
                &[("TYPE_ERROR", None, "Bot type isn't specified")],
                &[r#"{"error": "CODE_ERROR", "error_description": "Bot code isn't specified"}"#],
                "CODE",
                ("CODE_ERROR", 400, "Bot code isn't specified"),
            ),
            // Nothing on the page.
            (&["ID"], &[], &[], "ID", ("ERROR_ARGUMENT", 400, "Argument 'ID' is null or empty")),
            // A numeric code in an example; "ID" inside "USER_ID" is not the word ID.
            (
                &["ID"],
                &[("USER_ID", None, "USER_ID is empty")],
                &[r#"{"error": 0, "error_description": "ID is not defined or invalid"}"#],
                "ID",
                ("0", 400, "ID is not defined or invalid"),
            ),
        ];
        for (params, table, examples, param, (code, status, description)) in cases {
            let error = missing_parameter_error(&method(params, table, examples), param);
            assert_eq!(
                (error.code(), error.status(), error.description()),
                (*code, *status, *description),
                "{param} of {params:?}"
            );
        }
    }
}
