//! The response envelope: `{"result": …, "time": {…}, "next": 50, "total": 123}` on success and
//! `{"error": "CODE", "error_description": "…"}` on failure, decoded into [`Response`] or a typed
//! [`ErrorKind`].

use std::ops::Range;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::de::{lenient, Lenient, Tolerant};
use crate::error::{code_of, description_of, ApiError, DecodeError, DecodeReason, ErrorKind};
#[cfg(test)]
use crate::method::MethodError;
use crate::scrub::Redact;

mod declared;
mod time;

pub(crate) use declared::{declared_into, declared_of, declares, Declared, Declares};
pub(crate) use time::TimeBlock;
pub use time::Usage;
use time::{LazyTime, RawUsage, TimeField};

/// A successful call: the decoded `result` and the envelope around it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Response<T> {
    /// The method's result.
    pub result: T,
    /// The `time` block, when the portal sent one.
    pub time: Option<Time>,
    /// For list methods: the `start` of the next page, if there is one.
    pub next: Option<u64>,
    /// For list methods: the number of rows in all pages.
    pub total: Option<u64>,
    /// The HTTP status (200 in practice).
    pub status: u16,
}

impl<T> Response<T> {
    /// Maps the result, keeping the envelope.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            result: f(self.result),
            time: self.time,
            next: self.next,
            total: self.total,
            status: self.status,
        }
    }
}

/// The `time` block of a response: when and how long the portal worked on the call.
///
/// Its numbers are finite (a block holding `"NaN"` or `"inf"` is dropped with a warning), but
/// otherwise as the portal sent them: negative or huge values are possible, so convert with
/// `Duration::try_from_secs_f64`, not `from_secs_f64`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Time {
    /// Unix time the portal started the call.
    #[serde(deserialize_with = "lenient")]
    pub start: f64,
    /// Unix time the portal finished it.
    #[serde(deserialize_with = "lenient")]
    pub finish: f64,
    /// `finish - start`, in seconds.
    #[serde(deserialize_with = "lenient")]
    pub duration: f64,
    /// Seconds spent processing.
    #[serde(deserialize_with = "lenient")]
    pub processing: f64,
    /// `start` as a date with the portal's offset.
    #[serde(deserialize_with = "lenient")]
    pub date_start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// `finish` as a date with the portal's offset.
    #[serde(deserialize_with = "lenient")]
    pub date_finish: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Seconds of this method's operating-time budget used in the current window (cloud portals).
    #[serde(deserialize_with = "lenient")]
    pub operating: Option<f64>,
    /// Unix time when the oldest part of the operating-time window expires (cloud portals).
    #[serde(deserialize_with = "lenient")]
    pub operating_reset_at: Option<f64>,
}

impl Lenient for Time {
    fn deserialize_lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Time::deserialize(d)
    }
}

/// The envelope with every field kept as its raw text (borrowed from the body: no allocation),
/// so that a field of the wrong type spoils only itself. `Tm` is how the `time` block is read:
/// as raw text to decode whole ([`TimeBlock::Full`]), or as the accounting's numbers alone in
/// the same pass ([`LazyTime`]).
#[derive(Deserialize)]
#[serde(bound(deserialize = "Tm: Deserialize<'de>"))]
struct RawEnvelope<'a, Tm> {
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default, borrow)]
    error_description: Option<&'a RawValue>,
    #[serde(default)]
    time: Option<Tm>,
    #[serde(default, borrow)]
    next: Option<&'a RawValue>,
    #[serde(default, borrow)]
    total: Option<&'a RawValue>,
}

/// `result: null` is a present result (of value `null`), unlike a missing `result`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// An envelope field beside `result` (`time`, `next`, `total`): decoded leniently, or dropped
/// with a warning when it is of the wrong type or out of range. The call ran and its result is
/// good: bad metadata must not turn it into an error.
pub(crate) fn metadata<T: Lenient>(field: &'static str, raw: Option<&RawValue>) -> Option<T> {
    match serde_json::from_str::<Tolerant<Option<T>>>(raw?.get()) {
        Ok(Tolerant(value)) => value,
        Err(_) => {
            // The value itself is not logged: it came from the server.
            tracing::warn!(field, "dropping an unusable `{field}` beside the result");
            None
        }
    }
}

/// What came back, before decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply<'a> {
    pub status: u16,
    /// The answer's headers, if there are any (the `Content-Type` is looked up only for an
    /// error that shows it).
    pub headers: Option<&'a reqwest::header::HeaderMap>,
    pub body: &'a [u8],
}

impl Reply<'_> {
    /// A [`DecodeError`] of this answer.
    pub(crate) fn fail(&self, reason: DecodeReason, redact: Redact<'_>) -> DecodeError {
        let content_type = self
            .headers
            .and_then(|h| h.get(reqwest::header::CONTENT_TYPE))
            .map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned());
        DecodeError::of_answer(self.status, content_type, self.body, reason, redact)
    }
}

/// An answer with a result, its envelope read, the result itself not decoded yet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Opened {
    /// Where the result's JSON text is in the body.
    result: Range<usize>,
    /// The `time` block, if it was asked for and is good (boxed: it is rare, and this moves
    /// through every call's layers).
    pub time: Option<Box<Time>>,
    /// The accounting's numbers of the `time` block, if they are good.
    pub usage: Option<Usage>,
    pub next: Option<u64>,
    pub total: Option<u64>,
}

/// Reads an answer's envelope: its error (typed), or where its result is and the metadata
/// beside it. Not generic: the same code for every method. Never panics.
pub(crate) fn open(
    reply: Reply<'_>,
    time: TimeBlock,
    declares: Declares,
    redact: Redact<'_>,
) -> Result<Opened, ErrorKind<Declared>> {
    if time == TimeBlock::Full {
        return open_as::<&RawValue>(reply, None, declares, redact);
    }
    // Each reading is tried when the one before found no JSON:
    // - as text, when the body is UTF-8 (the usual case): the block's keys are read unvalidated.
    //   It accepts less than the bytes reading (a control character in a key), never more, and
    //   reads what both accept alike;
    // - as bytes;
    // - with the block as raw text: the one-pass readings fail on a number beyond `f64` in the
    //   block, which only spoils the block.
    if let Ok(text) = std::str::from_utf8(reply.body) {
        let opened = open_as::<LazyTime<'_, true>>(reply, Some(text), declares, redact);
        if !not_json(&opened) {
            return opened;
        }
    }
    let opened = open_as::<LazyTime<'_, false>>(reply, None, declares, redact);
    if !not_json(&opened) {
        return opened;
    }
    open_as::<RawUsage<'_>>(reply, None, declares, redact)
}

/// Whether a reading failed because the body was not JSON to it.
fn not_json(opened: &Result<Opened, ErrorKind<Declared>>) -> bool {
    matches!(opened, Err(ErrorKind::Decode(e)) if matches!(e.reason, DecodeReason::NotJson { .. }))
}

/// `text`: the body, when it is known to be UTF-8 and is to be read as text. Never inlined: each
/// reading is a function of its own, and the usual one stays short.
#[inline(never)]
fn open_as<'a, Tm: TimeField<'a>>(
    reply: Reply<'a>,
    text: Option<&'a str>,
    declares: Declares,
    redact: Redact<'_>,
) -> Result<Opened, ErrorKind<Declared>> {
    let envelope: Result<RawEnvelope<'_, Tm>, _> = match text {
        Some(text) => serde_json::from_str(text),
        None => serde_json::from_slice(reply.body),
    };
    let envelope = match envelope {
        Ok(envelope) => envelope,
        Err(e) => {
            let reason = DecodeReason::not_json(&e.to_string(), redact);
            return Err(ErrorKind::Decode(reply.fail(reason, redact)));
        }
    };
    // PHP's "no error" (`""`, `false`, `[]`) beside a result of a successful answer: the call ran.
    let no_error = |error: &serde_json::Value| match error {
        serde_json::Value::Bool(false) => true,
        serde_json::Value::String(text) => text.trim().is_empty(),
        serde_json::Value::Array(items) => items.is_empty(),
        serde_json::Value::Object(map) => map.is_empty(),
        _ => false,
    };
    let error = envelope.error.filter(|error| {
        !(no_error(error) && envelope.result.is_some() && (200..300).contains(&reply.status))
    });
    if let Some(error) = error {
        // The portal's words can echo what it was sent: every string is redacted and bounded.
        let description = match envelope.error_description {
            None => String::new(),
            Some(raw) => match serde_json::from_str::<Tolerant<Option<String>>>(raw.get()) {
                Ok(Tolerant(text)) => description_of(&text.unwrap_or_default(), redact),
                // An object or a list: its JSON text.
                Err(_) => description_of(raw.get(), redact),
            },
        };
        // REST 3.0 shape: {"error": {"code": "…", "message": "…"}}
        let code = code_of(&error);
        if code.trim().is_empty() {
            let reason = DecodeReason::EmptyErrorCode { description };
            return Err(ErrorKind::Decode(reply.fail(reason, redact)));
        }
        if declares(&code, reply.status, &description) {
            let code = code.into_owned();
            return Err(ErrorKind::Method {
                error: Declared { code, description },
                status: reply.status,
            });
        }
        return Err(ErrorKind::Api(ApiError::from_wire(
            &code,
            description,
            reply.status,
            redact,
        )));
    }
    let Some(raw) = envelope.result else {
        return Err(ErrorKind::Decode(
            reply.fail(DecodeReason::NoResult, redact),
        ));
    };
    if !(200..300).contains(&reply.status) {
        // A result with an error status is not something the portal sends: report it as is.
        return Err(ErrorKind::Decode(
            reply.fail(DecodeReason::NoResult, redact),
        ));
    }
    // The raw value borrows from the body: its place in it, kept for `finish`.
    let start = (raw.get().as_ptr() as usize).wrapping_sub(reply.body.as_ptr() as usize);
    let result = start..start.wrapping_add(raw.get().len());
    if result.start > result.end || result.end > reply.body.len() {
        // Not inside the body (serde_json would have copied it): never seen, but not a panic.
        return Err(ErrorKind::Decode(
            reply.fail(DecodeReason::NoResult, redact),
        ));
    }
    let (time, usage) = Tm::read(envelope.time);
    Ok(Opened {
        result,
        time: time.map(Box::new),
        usage,
        next: metadata("next", envelope.next),
        total: metadata("total", envelope.total),
    })
}

/// Decodes the result of an [`open`]ed answer into the method's result type.
pub(crate) fn finish<T: Lenient, E>(
    reply: Reply<'_>,
    opened: Opened,
    redact: Redact<'_>,
) -> Result<Response<T>, ErrorKind<E>> {
    let text = reply.body.get(opened.result.clone()).unwrap_or_default();
    // Decoded without tracking the path (the usual case: it decodes); only a result that does
    // not is decoded again, with the path, for the error.
    let decoded = Tolerant::<T>::deserialize(&mut serde_json::Deserializer::from_slice(text));
    let result = match decoded {
        Ok(Tolerant(result)) => result,
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(text);
            match serde_path_to_error::deserialize::<_, Tolerant<T>>(&mut de) {
                Ok(Tolerant(result)) => result,
                Err(e) => {
                    let path = e.path().to_string();
                    let message = e.into_inner().to_string();
                    let reason = DecodeReason::shape(&path, &message, redact);
                    return Err(ErrorKind::Decode(reply.fail(reason, redact)));
                }
            }
        }
    };
    Ok(Response {
        result,
        time: opened.time.map(|t| *t),
        next: opened.next,
        total: opened.total,
        status: reply.status,
    })
}

/// Decodes an answer into the method's result or its typed error, the whole `time` block
/// included (what a call does, in one function: the tests' entry point). Never panics.
#[cfg(test)]
pub(crate) fn decode<T: Lenient, E: MethodError>(
    reply: Reply<'_>,
    redact: Redact<'_>,
) -> Result<Response<T>, ErrorKind<E>> {
    match open(reply, TimeBlock::Full, declares::<E>, redact) {
        Ok(opened) => finish(reply, opened, redact),
        Err(kind) => Err(declared_into(kind, redact)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_code::ErrorCode;
    use crate::method::NoMethodErrors;

    fn run<T: Lenient>(status: u16, body: &str) -> Result<Response<T>, ErrorKind<NoMethodErrors>> {
        decode(
            Reply {
                status,
                headers: None,
                body: body.as_bytes(),
            },
            &|s| s.replace("s3cret", "***"),
        )
    }

    fn decode_reason<T: Lenient + std::fmt::Debug>(status: u16, body: &str) -> DecodeError {
        match run::<T>(status, body) {
            Err(ErrorKind::Decode(d)) => d,
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn success_with_time_and_paging() {
        let r = run::<bool>(
            200,
            r#"{"result": true, "next": "50", "total": 123, "time": {"start": 1773660718,
            "finish": 1773660718.828849, "duration": 0.82, "processing": 0,
            "date_start": "2026-03-16T14:31:58+01:00", "date_finish": "2026-03-16T14:31:58+01:00",
            "operating_reset_at": 1773661318, "operating": 0}}"#,
        )
        .unwrap();
        assert!(r.result);
        assert_eq!((r.next, r.total), (Some(50), Some(123)));
        let time = r.time.unwrap();
        assert_eq!(time.operating_reset_at, Some(1773661318.0));
        assert_eq!(time.date_start.unwrap().timestamp(), 1773667918);
    }

    #[test]
    fn api_errors_keep_unknown_codes() {
        match run::<bool>(
            400,
            r#"{"error": "SOMETHING_ODD", "error_description": "odd"}"#,
        ) {
            Err(ErrorKind::Api(api)) => {
                assert_eq!(api.code, ErrorCode::Other("SOMETHING_ODD".into()));
                assert_eq!((api.description.as_str(), api.status), ("odd", 400));
            }
            other => panic!("{other:?}"),
        }
        match run::<bool>(401, r#"{"error": "expired_token"}"#) {
            Err(ErrorKind::Api(api)) => assert_eq!(api.code, ErrorCode::ExpiredToken),
            other => panic!("{other:?}"),
        }
        match run::<bool>(400, r#"{"error": {"code": "INVALID_ARG", "message": "x"}}"#) {
            Err(ErrorKind::Api(api)) => assert_eq!(api.code.as_str(), "INVALID_ARG"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_answers_are_decode_errors_with_the_body() {
        let html = "<html><body>502 Bad Gateway s3cret</body></html>";
        let d = decode_reason::<bool>(502, html);
        assert!(matches!(d.reason, DecodeReason::NotJson { .. }));
        assert_eq!(d.body, "<html><body>502 Bad Gateway ***</body></html>");
        assert_eq!((d.status, d.body_len), (502, html.len()));

        let d = decode_reason::<bool>(200, r#"{"result": tr"#);
        assert!(matches!(d.reason, DecodeReason::NotJson { .. }));

        let d = decode_reason::<bool>(400, r#"{"error": "", "error_description": "?"}"#);
        assert_eq!(
            d.reason,
            DecodeReason::EmptyErrorCode {
                description: "?".into()
            }
        );

        let d = decode_reason::<bool>(200, r#"{"time": {}}"#);
        assert_eq!(d.reason, DecodeReason::NoResult);

        let d = decode_reason::<bool>(200, "");
        assert!(matches!(d.reason, DecodeReason::NotJson { .. }));

        let big = "x".repeat(DecodeError::BODY_LIMIT * 3);
        let d = decode_reason::<bool>(500, &big);
        assert!(d.body.len() <= DecodeError::BODY_LIMIT && d.body.ends_with('…'));
        assert_eq!(d.body_len, big.len());
        // A secret across the cut leaves no prefix behind.
        let across = format!("{}s3cret", "x".repeat(DecodeError::BODY_LIMIT - 3));
        let d = decode_reason::<bool>(500, &across);
        assert!(!d.body.contains("s3c"), "{}", &d.body[d.body.len() - 10..]);
    }

    #[test]
    fn secrets_echoed_by_the_portal_are_redacted_everywhere() {
        let d = decode_reason::<bool>(200, r#"{"result": "s3cret"}"#);
        assert!(!format!("{d} {d:?}").contains("s3cret"), "{d:?}");
        let d = decode_reason::<bool>(400, r#"{"error": "", "error_description": "bad s3cret"}"#);
        assert!(!format!("{d} {d:?}").contains("s3cret"), "{d:?}");
        match run::<bool>(400, r#"{"error": "X", "error_description": "s3cret"}"#) {
            Err(ErrorKind::Api(api)) => assert_eq!(api.description, "***"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shape_errors_say_where() {
        let d = decode_reason::<std::collections::HashMap<String, Vec<u64>>>(
            200,
            r#"{"result": {"a": [1, "x"]}}"#,
        );
        match d.reason {
            DecodeReason::ResultShape { path, .. } => assert_eq!(path, ".a[1]"),
            other => panic!("{other:?}"),
        }
    }

    /// Bad `time`, `next` or `total` beside a good result: the result is kept, the bad field
    /// dropped.
    #[test]
    fn bad_metadata_beside_a_good_result_is_dropped() {
        for (meta, next, total, has_time) in [
            (r#""next": -1, "total": "many""#, None, None, false),
            (r#""next": "NaN", "total": 1e999"#, None, None, false),
            (
                r#""next": 18446744073709551616, "total": 5"#,
                None,
                Some(5),
                false,
            ),
            (r#""next": {"a": 1}, "total": [1]"#, None, None, false),
            (
                r#""time": {"operating": "NaN"}, "next": 50"#,
                Some(50),
                None,
                false,
            ),
            (r#""time": {"start": "inf"}"#, None, None, false),
            (r#""time": "yesterday""#, None, None, false),
            (r#""time": {"operating": 1e308}"#, None, None, true),
        ] {
            let body = format!(r#"{{"result": true, {meta}}}"#);
            let r = run::<bool>(200, &body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
            assert!(r.result);
            assert_eq!(
                (r.next, r.total, r.time.is_some()),
                (next, total, has_time),
                "{body}"
            );
        }
    }

    /// The code, the REST 3.0 code object, a quoted map key: all redacted and bounded.
    #[test]
    fn every_server_string_in_an_error_is_scrubbed() {
        let huge = format!("s3cret{}", "X".repeat(8 << 20));
        let bodies = [
            format!(r#"{{"error": "{huge}", "error_description": "{huge}"}}"#),
            format!(r#"{{"error": {{"code": "{huge}"}}}}"#),
            r#"{"error": {"code": {"s3cret": 1}}, "error_description": {"d": "s3cret"}}"#
                .to_owned(),
            format!(r#"{{"error": "", "error_description": "{huge}"}}"#),
        ];
        for body in &bodies {
            let e = run::<bool>(400, body).unwrap_err();
            let text = format!("{e:?}");
            assert!(!text.contains("s3cret"), "{}", &text[..200.min(text.len())]);
            assert!(text.len() < 3 * DecodeError::BODY_LIMIT, "{}", text.len());
            if let ErrorKind::Api(api) = e {
                assert!(api.code.as_str().len() <= ErrorCode::MAX_LEN);
                assert!(api.code.as_str().starts_with("***") || api.code.as_str().contains("***"));
            }
        }
        let d = decode_reason::<std::collections::HashMap<String, Vec<u64>>>(
            200,
            &format!(r#"{{"result": {{"s3cret{huge}": ["x"]}}}}"#),
        );
        let text = format!("{d} {d:?}");
        assert!(!text.contains("s3cret") && text.len() < 4 * DecodeError::BODY_LIMIT);
    }

    /// The accounting's numbers of `time` (and the result beside it) as a plain call reads
    /// them and as `with_meta` does.
    fn usage_of(time: &str) -> (Option<Usage>, Option<Usage>) {
        let body = format!(r#"{{"result": true, "time": {time}, "next": 5}}"#);
        let reply = Reply {
            status: 200,
            headers: None,
            body: body.as_bytes(),
        };
        let read = |block| {
            let opened = open(reply, block, declares::<NoMethodErrors>, &|s| s)
                .unwrap_or_else(|e| panic!("{time}: {e:?}"));
            let response = finish::<bool, NoMethodErrors>(reply, opened.clone(), &|s| s).unwrap();
            assert!(response.result && response.next == Some(5), "{time}");
            assert_eq!(
                response.time.is_some(),
                block == TimeBlock::Full && opened.time.is_some()
            );
            opened.usage
        };
        (read(TimeBlock::Usage), read(TimeBlock::Full))
    }

    /// A plain call reads only `start`, `finish`, `operating` and `operating_reset_at` of the
    /// `time` block, in the envelope's own pass; whatever the block holds, it keeps the result
    /// and gets the same numbers `with_meta` feeds the accounting with.
    #[test]
    fn both_readings_of_the_time_block_feed_the_accounting_alike() {
        let usage = |start, finish, operating, operating_reset_at| {
            Some(Usage {
                start,
                finish,
                operating,
                operating_reset_at,
            })
        };
        for (time, expected) in [
            (
                r#"{"start": 1773660718.412935, "finish": "1773660718.44", "duration": 0.02,
                "date_start": "2026-03-16T14:31:58+01:00", "operating_reset_at": 1773661318,
                "operating": 0}"#,
                usage(
                    1773660718.412935,
                    1773660718.44,
                    Some(0.0),
                    Some(1773661318.0),
                ),
            ),
            (r#"{}"#, usage(0.0, 0.0, None, None)),
            (
                r#"{"operating": null, "operating_reset_at": ""}"#,
                usage(0.0, 0.0, None, None),
            ),
            (
                r#"{"operating": 1e308, "x": [{"a": [1e999]}]}"#,
                usage(0.0, 0.0, Some(1e308), None),
            ),
            (
                r#"{"duration": 1e999, "operating": 2}"#,
                usage(0.0, 0.0, Some(2.0), None),
            ),
            (
                r#"{"date_start": "yesterday", "finish": 3}"#,
                usage(0.0, 3.0, None, None),
            ),
            (
                "{ \"start\" : -1.5e2 ,\n\t\"finish\":2E1, \"s\": \"a\\\"b\\\\\", \"t\": true,
                \"f\": false, \"n\": null, \"operating\": 0.5, \"operating_reset_at\": 100 }",
                usage(-150.0, 20.0, Some(0.5), Some(100.0)),
            ),
            (r#"{"op\u0065rating": 3}"#, usage(0.0, 0.0, Some(3.0), None)),
            (r#"{"start": 1, "start": 2}"#, None),
            (r#"{"operating": 1e999, "operating_reset_at": 5}"#, None),
            (r#"{"start": "NaN"}"#, None),
            (r#"{"finish": "-inf"}"#, None),
            (r#"{"operating": {"a": 1}}"#, None),
            (r#"{"operating": 1, "operating": 1}"#, None),
            (r#""yesterday""#, None),
            (r#"[1, 2, 3, 4, 5, 6, 7, 8]"#, None),
            (r#"true"#, None),
            (r#"17"#, None),
            (r#"null"#, None),
            (r#""""#, None),
            (r#"false"#, None),
            (r#"[]"#, None),
        ] {
            let (plain, with_meta) = usage_of(time);
            assert_eq!(plain, expected, "{time}");
            assert_eq!(with_meta, expected, "{time}");
        }
    }

    /// A plain call reads an answer that is UTF-8 as text, its `time` keys unvalidated; what the
    /// text reading refuses and the bytes reading takes (a control character in a key, not
    /// UTF-8 in a key) is still read, by the bytes reading, with the result and the numbers.
    #[test]
    fn keys_the_text_reading_refuses_are_read_as_bytes() {
        let bodies: [&[u8]; 3] = [
            b"{\"result\": true, \"time\": {\"a\x01b\": 1, \"operating\": 2}}",
            b"{\"result\": true, \"time\": {\"a\xffb\": 1, \"operating\": 2}}",
            b"{\"result\": true, \"time\": {\"ab\": 1, \"operating\": 2}}",
        ];
        for body in bodies {
            let reply = Reply {
                status: 200,
                headers: None,
                body,
            };
            let opened = open(reply, TimeBlock::Usage, declares::<NoMethodErrors>, &|s| s)
                .unwrap_or_else(|e| panic!("{body:?}: {e:?}"));
            assert_eq!(
                opened.usage.and_then(|u| u.operating),
                Some(2.0),
                "{body:?}"
            );
            let response = finish::<bool, NoMethodErrors>(reply, opened, &|s| s).unwrap();
            assert!(response.result);
        }
    }

    #[test]
    fn an_empty_error_beside_a_result_is_no_error() {
        for error in [r#""""#, "false", "[]", "{}", r#"" ""#] {
            let body = format!(r#"{{"result": true, "error": {error}}}"#);
            assert!(run::<bool>(200, &body).unwrap().result, "{body}");
        }
        // Without a result, or on an error status, it is still an answer without a code.
        assert!(run::<bool>(200, r#"{"error": ""}"#).is_err());
        assert!(run::<bool>(500, r#"{"result": true, "error": ""}"#).is_err());
    }

    #[test]
    fn null_result_is_present() {
        let r = run::<Option<u64>>(200, r#"{"result": null}"#).unwrap();
        assert_eq!(r.result, None);
    }
}

/// Property tests: whatever bytes and status come back, decoding returns a value or a typed
/// error and never panics.
#[cfg(test)]
mod fuzz {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::method::NoMethodErrors;

    fn decode_all(status: u16, body: &[u8]) {
        let reply = Reply {
            status,
            headers: None,
            body,
        };
        let redact = |s: String| s;
        let _ = decode::<bool, NoMethodErrors>(reply, &redact);
        let _ = decode::<serde_json::Value, NoMethodErrors>(reply, &redact);
        let _ = decode::<HashMap<String, Vec<Option<i64>>>, NoMethodErrors>(reply, &redact);
        let _ = decode::<Vec<crate::DateTime>, NoMethodErrors>(reply, &redact);
        let _ = decode::<Time, NoMethodErrors>(reply, &redact);
        let _ = decode::<Option<String>, NoMethodErrors>(reply, &redact);
        let _ = decode::<std::collections::BTreeMap<u64, HashMap<u64, bool>>, NoMethodErrors>(
            reply, &redact,
        );
    }

    /// JSON values of the shapes Bitrix24 sends, and some it should not.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "[YN01]|true|false|-?[0-9]{1,25}|[0-9.e+-]{1,12}|2026-03-16T14:31:58\\+01:00|.{0,12}"
                .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                prop::collection::hash_map("[0-9]{1,4}|[a-z_]{1,8}", inner, 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Envelopes with every field present, missing or of the wrong type.
    fn envelope() -> impl Strategy<Value = serde_json::Value> {
        (
            prop::option::of(json()),
            prop::option::of(json()),
            prop::option::of(json()),
            prop::option::of(json()),
            prop::option::of(json()),
            prop::option::of(json()),
        )
            .prop_map(|(result, error, description, time, next, total)| {
                let mut map = serde_json::Map::new();
                for (key, value) in [
                    ("result", result),
                    ("error", error),
                    ("error_description", description),
                    ("time", time),
                    ("next", next),
                    ("total", total),
                ] {
                    if let Some(value) = value {
                        map.insert(key.into(), value);
                    }
                }
                serde_json::Value::Object(map)
            })
    }

    /// `time` blocks with the keys a portal sends, any values.
    fn time_block() -> impl Strategy<Value = serde_json::Value> {
        let key = prop::sample::select(vec![
            "start",
            "finish",
            "duration",
            "processing",
            "date_start",
            "operating",
            "operating_reset_at",
            "other",
        ]);
        prop_oneof![
            prop::collection::vec((key, json()), 0..10).prop_map(|pairs| {
                serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
            }),
            json(),
        ]
    }

    proptest! {
        // 2,000 cases per run in CI; `PROPTEST_CASES=1000000` for a long run.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
            ..ProptestConfig::default()
        })]

        /// Whatever the `time` block holds, a plain call keeps the result and reads the same
        /// accounting numbers as `with_meta`.
        #[test]
        fn both_readings_of_any_time_block_agree(time in time_block()) {
            let body = serde_json::json!({"result": 1, "time": time}).to_string();
            let reply = Reply { status: 200, headers: None, body: body.as_bytes() };
            let read = |block| open(reply, block, declares::<NoMethodErrors>, &|s| s).map(|o| o.usage);
            let plain = read(TimeBlock::Usage);
            prop_assert!(plain.is_ok(), "{body}");
            prop_assert_eq!(plain.ok(), read(TimeBlock::Full).ok(), "{}", body);
        }

        #[test]
        fn arbitrary_bytes_never_panic(status in 0u16..1000, body in prop::collection::vec(any::<u8>(), 0..512)) {
            decode_all(status, &body);
        }

        #[test]
        fn arbitrary_envelopes_never_panic(status in prop::sample::select(vec![200u16, 400, 401, 429, 500, 502, 503]), env in envelope()) {
            let body = serde_json::to_vec(&env).unwrap();
            decode_all(status, &body);
            // Cut anywhere: truncated JSON is a decode error, never a panic.
            for cut in [body.len() / 3, body.len() / 2, body.len().saturating_sub(1)] {
                decode_all(status, &body[..cut]);
            }
        }
    }
}
