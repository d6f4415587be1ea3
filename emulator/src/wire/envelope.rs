//! The answer envelope: `{"result": …, "next"?, "total"?, "time": {…}}` on success and
//! `{"error": …, "error_description": …}` on failure.
//!
//! Bodies are written as text so that keys keep the portal's order (`result` before `time`, the
//! `time` fields as the docs list them); `serde_json::Map` would sort them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::Value;

use crate::error::ApiError;

/// How long the operating-time window lasts; `operating_reset_at` is the call's start plus this.
pub const OPERATING_WINDOW: Duration = Duration::from_secs(600);

/// The timing of one call, for the `time` block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// When the request arrived.
    pub start: SystemTime,
    /// When the answer was ready.
    pub finish: SystemTime,
    /// Time spent in the method itself.
    pub processing: Duration,
    /// The method's operating time charged to the caller in the current window.
    pub operating: Duration,
    /// `operating_reset_at` as unix seconds; `None` when the operating-time limit is off (then
    /// `start` + 600 s, whole seconds).
    pub operating_reset_at: Option<f64>,
    /// The portal's zone for `date_start`/`date_finish`.
    pub utc_offset: FixedOffset,
}

impl Timing {
    /// `finish - start` (zero if the clock went backwards).
    pub fn duration(&self) -> Duration {
        self.finish.duration_since(self.start).unwrap_or_default()
    }

    /// The `time` block as JSON text.
    pub fn to_json(&self) -> String {
        let reset_at = match self.operating_reset_at {
            Some(at) => php_float(at),
            None => {
                let at = crate::clock::later(self.start, OPERATING_WINDOW);
                (unix_seconds(at).trunc() as i64).to_string()
            }
        };
        object(&[
            ("start", php_float(unix_seconds(self.start))),
            ("finish", php_float(unix_seconds(self.finish))),
            ("duration", php_float(self.duration().as_secs_f64())),
            ("processing", php_float(self.processing.as_secs_f64())),
            (
                "date_start",
                Value::String(self.date(self.start)).to_string(),
            ),
            (
                "date_finish",
                Value::String(self.date(self.finish)).to_string(),
            ),
            ("operating_reset_at", reset_at),
            ("operating", php_float(self.operating.as_secs_f64())),
        ])
    }

    fn date(&self, at: SystemTime) -> String {
        DateTime::<Utc>::from(at)
            .with_timezone(&self.utc_offset)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

/// Seconds since the Unix epoch, rounded to microseconds as PHP's `microtime(true)`.
fn unix_seconds(at: SystemTime) -> f64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    (since.as_secs_f64() * 1e6).round() / 1e6
}

/// A float as PHP's `json_encode` writes it: whole values without a fraction (`0`, not `0.0`).
pub fn php_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        (value as i64).to_string()
    } else {
        Value::from(value).to_string()
    }
}

/// The success body.
pub fn success(result: &Value, next: Option<u64>, total: Option<u64>, timing: &Timing) -> String {
    let mut fields = vec![("result", result.to_string())];
    if let Some(next) = next {
        fields.push(("next", next.to_string()));
    }
    if let Some(total) = total {
        fields.push(("total", total.to_string()));
    }
    fields.push(("time", timing.to_json()));
    object(&fields)
}

/// The error body.
pub fn error(error: &ApiError) -> String {
    object(&[
        ("error", Value::from(error.code()).to_string()),
        (
            "error_description",
            Value::from(error.description()).to_string(),
        ),
    ])
}

/// A JSON object from keys and already serialised values, in the given order.
fn object(fields: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (at, (key, value)) in fields.iter().enumerate() {
        if at > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(*key).to_string());
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn timing() -> Timing {
        let start = UNIX_EPOCH + Duration::from_secs(1_773_660_718);
        Timing {
            start,
            finish: start + Duration::from_micros(828_849),
            processing: Duration::ZERO,
            operating: Duration::ZERO,
            operating_reset_at: None,
            utc_offset: FixedOffset::east_opt(3600).unwrap_or_else(|| Utc.fix()),
        }
    }

    use chrono::Offset;

    /// The docs' example of `imopenlines.session.start`, except the dates: the example's
    /// `date_start` (14:31:58+01:00) is two hours off its own `start` (11:31:58 UTC).
    #[test]
    fn time_block_has_the_docs_shape() {
        let text = timing().to_json();
        assert_eq!(
            text,
            "{\"start\":1773660718,\"finish\":1773660718.828849,\"duration\":0.828849,\
             \"processing\":0,\"date_start\":\"2026-03-16T12:31:58+01:00\",\
             \"date_finish\":\"2026-03-16T12:31:58+01:00\",\"operating_reset_at\":1773661318,\
             \"operating\":0}"
        );
    }

    #[test]
    fn success_keeps_key_order_and_optional_fields() {
        let body = success(&json!(true), Some(50), Some(123), &timing());
        assert!(body.starts_with("{\"result\":true,\"next\":50,\"total\":123,\"time\":{"));
        let parsed: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(parsed["time"]["operating_reset_at"], 1_773_661_318);
        let plain = success(&json!({"a": 1}), None, None, &timing());
        assert!(plain.starts_with("{\"result\":{\"a\":1},\"time\":{"));
    }

    #[test]
    fn error_body_has_no_time() {
        let body = error(&ApiError::new("CHAT_ID", "Bad \"id\""));
        assert_eq!(
            body,
            "{\"error\":\"CHAT_ID\",\"error_description\":\"Bad \\\"id\\\"\"}"
        );
    }

    #[test]
    fn reset_at_from_the_ledger() {
        let mut timing = timing();
        timing.operating_reset_at = Some(1_773_661_318.25);
        assert!(timing
            .to_json()
            .contains("\"operating_reset_at\":1773661318.25,"));
    }

    #[test]
    fn php_floats() {
        assert_eq!(php_float(0.0), "0");
        assert_eq!(php_float(2.5), "2.5");
        assert_eq!(php_float(f64::NAN), "null");
    }
}
