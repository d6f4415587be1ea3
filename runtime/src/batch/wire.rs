//! The `batch` request and answer as they are on the wire:
//! `{"halt": 0, "cmd": {"c0": "method?query", …}}` and
//! `{"result": {"result": {…}, "result_error": {…}, "result_total": {…}, "result_next": {…},
//! "result_time": {…}}}`, where PHP sends every empty map as `[]` and maps with keys `0..n` as
//! lists.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::php_query::http_build_query;
use crate::de::{lenient, Lenient, Tolerant};
use crate::envelope::Time;
use crate::error::{code_of, Error};

/// One call waiting to go into a batch, with its type erased.
#[derive(Debug, Clone)]
pub(crate) struct PendingCall {
    pub key: String,
    pub method: Cow<'static, str>,
    pub idempotent: bool,
    /// The parameters as their JSON object.
    pub params: Value,
}

/// A sub-call's result or error as its JSON text: decoded per call, so that a value one call's
/// type cannot take (a number beyond `f64`, say) spoils that call alone, not the batch.
pub(crate) type Raw = Box<RawValue>;

crate::lenient_by_serde!(Raw);

/// What became of one call in a batch, before typed decoding.
pub(crate) enum SubOutcome {
    Ok {
        result: Raw,
        time: Option<Time>,
        total: Option<u64>,
        next: Option<u64>,
    },
    /// The sub-call's error, as the server sent it (scrubbed when it is turned into an error).
    Err {
        code: String,
        description: String,
    },
    /// Known not to have run (`halt` stopped the batch before it, or its request was not sent).
    NotExecuted,
    /// The answer says nothing about the call: it may or may not have run.
    Missing,
    Failed(Arc<Error>),
}

/// Never the server's text (not yet scrubbed): the variant and sizes.
impl std::fmt::Debug for SubOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubOutcome::Ok { total, next, .. } => f
                .debug_struct("Ok")
                .field("total", total)
                .field("next", next)
                .finish_non_exhaustive(),
            SubOutcome::Err { code, description } => f
                .debug_struct("Err")
                .field("code_bytes", &code.len())
                .field("description_bytes", &description.len())
                .finish(),
            SubOutcome::NotExecuted => f.write_str("NotExecuted"),
            SubOutcome::Missing => f.write_str("Missing"),
            SubOutcome::Failed(error) => f.debug_tuple("Failed").field(error).finish(),
        }
    }
}

/// The JSON body of one `batch` request.
pub(crate) fn request(chunk: &[PendingCall], halt: bool) -> Value {
    let cmd: serde_json::Map<String, Value> = chunk
        .iter()
        .map(|call| {
            let query = http_build_query(&call.params);
            let command = if query.is_empty() {
                call.method.to_string()
            } else {
                format!("{}?{}", call.method, query)
            };
            (call.key.clone(), Value::String(command))
        })
        .collect();
    serde_json::json!({ "halt": u8::from(halt), "cmd": cmd })
}

/// A map that PHP may have sent as an object, as `[]`, or as a list (keys `0..n`).
#[derive(Debug)]
pub(crate) struct Keyed<V>(pub HashMap<String, V>);

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Keyed(HashMap::new())
    }
}

impl<V: Lenient> Lenient for Keyed<V> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyedVisitor<V>(PhantomData<V>);
        impl<'de, V: Lenient> Visitor<'de> for KeyedVisitor<V> {
            type Value = Keyed<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or a list keyed by batch command")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keyed<V>, A::Error> {
                let mut out = HashMap::new();
                while let Some((k, Tolerant(v))) = map.next_entry::<String, Tolerant<V>>()? {
                    out.insert(k, v);
                }
                Ok(Keyed(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Keyed<V>, A::Error> {
                let mut out = HashMap::new();
                let mut i = 0usize;
                while let Some(Tolerant(v)) = seq.next_element::<Tolerant<V>>()? {
                    out.insert(i.to_string(), v);
                    i += 1;
                }
                Ok(Keyed(out))
            }
        }
        d.deserialize_any(KeyedVisitor(PhantomData))
    }
}

/// A value beside the sub-calls' results (`result_total`, `result_next`, `result_time`, or one
/// call's entry in them): decoded leniently, or dropped with a warning, so that one bad value
/// spoils neither the batch nor a result.
#[derive(Debug)]
pub(crate) struct Forgiving<T>(Option<T>);

impl<T> Default for Forgiving<T> {
    fn default() -> Self {
        Forgiving(None)
    }
}

impl<T: Lenient> Lenient for Forgiving<T> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Taken as text (borrowed), then decoded: any well-formed value, even one no Rust number
        // holds, is read past, and only then found unusable.
        let raw = <&RawValue>::deserialize(d)?;
        match serde_json::from_str::<Tolerant<Option<T>>>(raw.get()) {
            Ok(Tolerant(v)) => Ok(Forgiving(v)),
            Err(_) => {
                tracing::warn!("dropping an unusable total, next or time in a batch answer");
                Ok(Forgiving(None))
            }
        }
    }
}

/// A sub-call's error as the server sent it: `{"error": "CODE", "error_description": "…"}`, the
/// REST 3.0 `{"error": {"code": …}}`, or anything else (kept as its JSON text: an error without a
/// code).
fn sub_error(error: &RawValue) -> (String, String) {
    let Ok(error) = serde_json::from_str::<Value>(error.get()) else {
        return (String::new(), error.get().to_owned());
    };
    match error {
        Value::Object(mut obj) => {
            let code = obj
                .get("error")
                .map(code_of)
                .unwrap_or_default()
                .into_owned();
            let description = match obj.swap_remove("error_description") {
                Some(Value::String(text)) => text,
                None | Some(Value::Null) => String::new(),
                Some(other) => other.to_string(),
            };
            (code, description)
        }
        other => (code_of(&other).into_owned(), String::new()),
    }
}

/// The `result` of a `batch` call.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BatchAnswer {
    #[serde(deserialize_with = "lenient")]
    result: Keyed<Raw>,
    #[serde(deserialize_with = "lenient")]
    result_error: Keyed<Raw>,
    #[serde(deserialize_with = "lenient")]
    result_total: Forgiving<Keyed<Forgiving<u64>>>,
    #[serde(deserialize_with = "lenient")]
    result_next: Forgiving<Keyed<Forgiving<u64>>>,
    #[serde(deserialize_with = "lenient")]
    result_time: Forgiving<Keyed<Forgiving<Time>>>,
}

impl Lenient for BatchAnswer {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BatchAnswer::deserialize(d)
    }
}

/// Splits a batch answer into the outcome of every call of the chunk, in order.
///
/// A call the answer says nothing about did not run if `halt` was set and an earlier call of the
/// chunk failed (the portal stops there); otherwise it is [`SubOutcome::Missing`]: it may have
/// run.
pub(crate) fn outcomes(
    chunk: &[PendingCall],
    mut answer: BatchAnswer,
    halt: bool,
) -> Vec<SubOutcome> {
    let mut halted = false;
    let mut total = answer.result_total.0.take().unwrap_or_default();
    let mut next = answer.result_next.0.take().unwrap_or_default();
    let mut time = answer.result_time.0.take().unwrap_or_default();
    chunk
        .iter()
        .map(|call| {
            if let Some(error) = answer.result_error.0.remove(&call.key) {
                halted = halt;
                let (code, description) = sub_error(&error);
                return SubOutcome::Err { code, description };
            }
            let meta = |keyed: &mut Keyed<Forgiving<_>>| keyed.0.remove(&call.key)?.0;
            match answer.result.0.remove(&call.key) {
                Some(result) => SubOutcome::Ok {
                    result,
                    time: time.0.remove(&call.key).and_then(|t| t.0),
                    total: meta(&mut total),
                    next: meta(&mut next),
                },
                None if halted => SubOutcome::NotExecuted,
                None => SubOutcome::Missing,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sub-call's error is the server's text, unscrubbed: its `Debug` shows sizes only.
    #[test]
    fn debug_shows_no_server_text() {
        let outcome = SubOutcome::Err {
            code: "SECRET_CODE".into(),
            description: "hook abc123secret".into(),
        };
        let shown = format!("{outcome:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("abc123"),
            "{shown}"
        );
        assert!(shown.contains("code_bytes: 11"), "{shown}");
    }
    use crate::de::from_str_lenient;
    use serde_json::json;

    fn call(key: &str, method: &'static str, params: Value) -> PendingCall {
        PendingCall {
            key: key.into(),
            method: Cow::Borrowed(method),
            idempotent: false,
            params,
        }
    }

    #[test]
    fn request_encodes_sub_calls_as_php_queries() {
        let body = request(
            &[
                call("get_user", "user.current", json!({})),
                call(
                    "get_department",
                    "department.get",
                    json!({"ID": "$result[get_user][UF_DEPARTMENT][0]"}),
                ),
            ],
            true,
        );
        assert_eq!(
            body,
            json!({"halt": 1, "cmd": {
                "get_user": "user.current",
                "get_department": "department.get?ID=%24result%5Bget_user%5D%5BUF_DEPARTMENT%5D%5B0%5D"
            }})
        );
    }

    #[test]
    fn decodes_the_docs_answer_with_empty_maps_as_lists() {
        // batch.md, "Response Handling", trimmed
        let answer: BatchAnswer = from_str_lenient(
            r#"{
            "result": {"get_user": {"ID": "1"}, "get_department": [{"ID": "1", "NAME": "DEMO"}]},
            "result_error": [],
            "result_total": {"get_department": 1},
            "result_next": [],
            "result_time": {"get_user": {"start": 1724916859.46156, "finish": 1724916859.464775,
                "duration": 0.003, "processing": 0.003,
                "date_start": "2024-08-29T10:34:19+03:00", "date_finish": "2024-08-29T10:34:19+03:00"}}
        }"#,
        )
        .unwrap();
        let chunk = [
            call("get_user", "user.current", json!({})),
            call("get_department", "department.get", json!({})),
            call("missing", "x.y", json!({})),
        ];
        let out = outcomes(&chunk, answer, false);
        assert!(
            matches!(&out[0], SubOutcome::Ok { result, time: Some(_), .. } if result.get() == r#"{"ID": "1"}"#)
        );
        assert!(matches!(
            &out[1],
            SubOutcome::Ok {
                total: Some(1),
                time: None,
                ..
            }
        ));
        assert!(matches!(&out[2], SubOutcome::Missing));
    }

    /// Bad totals, nexts and times (of one call, or whole maps) are dropped; results stay.
    #[test]
    fn bad_metadata_spoils_neither_the_batch_nor_a_result() {
        let answer: BatchAnswer = from_str_lenient(
            r#"{"result": {"a": 1, "b": 2}, "result_total": "x", "result_next": {"a": -1, "b": 5},
            "result_time": {"a": {"start": "NaN"}, "s3cret": 7}}"#,
        )
        .unwrap();
        let chunk = [call("a", "x.y", json!({})), call("b", "x.y", json!({}))];
        let out = outcomes(&chunk, answer, false);
        assert!(matches!(
            &out[0],
            SubOutcome::Ok {
                total: None,
                next: None,
                time: None,
                ..
            }
        ));
        assert!(matches!(&out[1], SubOutcome::Ok { next: Some(5), .. }));
    }

    #[test]
    fn a_missing_call_did_not_run_only_after_an_error_under_halt() {
        let body = r#"{"result": {"a": 1}, "result_error": {"b": {"error": "X"}}}"#;
        let chunk = [
            call("a", "x.y", json!({})),
            call("b", "x.y", json!({})),
            call("c", "x.y", json!({})),
        ];
        let halted = outcomes(&chunk, from_str_lenient(body).unwrap(), true);
        assert!(matches!(&halted[2], SubOutcome::NotExecuted));
        let not_halted = outcomes(&chunk, from_str_lenient(body).unwrap(), false);
        assert!(matches!(&not_halted[2], SubOutcome::Missing));
        let reordered = [call("c", "x.y", json!({})), call("b", "x.y", json!({}))];
        let missing_first = outcomes(&reordered, from_str_lenient(body).unwrap(), true);
        assert!(matches!(&missing_first[0], SubOutcome::Missing));
    }

    #[test]
    fn decodes_errors_and_list_shaped_maps() {
        // batch.md, "Error example (halt = 0)"
        let answer: BatchAnswer = from_str_lenient(
            r#"{"result": [], "result_error": {"get_user": {"error": "insufficient_scope",
            "error_description": ""}}, "result_total": [], "result_next": [], "result_time": []}"#,
        )
        .unwrap();
        let out = outcomes(
            &[call("get_user", "user.current", json!({}))],
            answer,
            false,
        );
        assert!(matches!(&out[0], SubOutcome::Err { code, .. } if code == "insufficient_scope"));

        // numeric keys 0..n come back as a list
        let answer: BatchAnswer =
            from_str_lenient(r#"{"result": [true, false], "result_error": []}"#).unwrap();
        let out = outcomes(
            &[call("0", "a.b", json!({})), call("1", "a.b", json!({}))],
            answer,
            false,
        );
        assert!(matches!(&out[1], SubOutcome::Ok { result, .. } if result.get() == "false"));
    }

    /// A value no Rust number holds (`1e999`) in one call's result, error, total, next or time
    /// is read past: the batch and the other calls are fine; that call's result fails its own
    /// typed decoding, its metadata is dropped.
    #[test]
    fn a_number_beyond_f64_spoils_one_call_not_the_batch() {
        let answer: BatchAnswer = from_str_lenient(
            r#"{"result": {"a": {"n": 1e999}, "b": {"n": 2}},
            "result_error": {"c": {"error": "X", "error_description": 1e999}},
            "result_total": {"a": 1e999, "b": 3}, "result_next": 1e999,
            "result_time": {"a": {"start": 1e999}}}"#,
        )
        .unwrap();
        let chunk = [
            call("a", "x.y", json!({})),
            call("b", "x.y", json!({})),
            call("c", "x.y", json!({})),
        ];
        let mut out = outcomes(&chunk, answer, false).into_iter();
        let redact = |s: String| s;
        let a = super::super::typed::<Value, crate::method::NoMethodErrors>(
            out.next().unwrap(),
            "x.y",
            false,
            &redact,
        );
        assert!(
            matches!(&a, Err(e) if matches!(e.kind(), crate::error::ErrorKind::Decode(_))),
            "{a:?}"
        );
        let b = out.next().unwrap();
        assert!(matches!(
            &b,
            SubOutcome::Ok {
                total: Some(3),
                next: None,
                ..
            }
        ));
        let b =
            super::super::typed::<Value, crate::method::NoMethodErrors>(b, "x.y", false, &redact)
                .unwrap();
        assert_eq!(b.result, json!({"n": 2}));
        // An error whose object does not parse is kept as its text, without a code.
        assert!(
            matches!(out.next().unwrap(), SubOutcome::Err { code, description }
            if code.is_empty() && description.contains("1e999"))
        );
    }
}
