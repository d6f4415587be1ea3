//! REST 3.0 (`api-reference/rest-v3.md`): idempotency keys and the unified error format.
//!
//! Methods declared with [`ApiVersion::V3`](crate::method::ApiVersion) are called at
//! `/rest/api/<method>` (webhook: `/rest/api/<user>/<code>/<method>`) with a JSON body. Each
//! logical call gets a fresh `Idempotency-Key`, kept across its retries: the portal answers a
//! repeat of a call that succeeded with the stored answer (`Idempotent-Replayed: true`) instead
//! of running it again, so a write that met an ambiguous failure (a reset after sending, a
//! timeout, a 5xx) is retried safely.

use serde_json::Value;

use crate::error::{description_of, ApiError, ErrorKind};
use crate::method::MethodError;

/// A fresh idempotency key: a random (version 4) UUID, 36 printable ASCII characters.
pub(crate) fn idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The unified error of a REST 3.0 answer, `{"error": {"code", "message", "validation"?}}`, as
/// the method's own error or an [`ApiError`]; `None` when the body is not of that shape (the
/// classic envelope decoder then reports it). The message and the validation details (`field:
/// message; …`) become the description, redacted then bounded.
pub(crate) fn decode_error<E: MethodError>(
    status: u16,
    body: &[u8],
    redact: &dyn Fn(String) -> String,
) -> Option<ErrorKind<E>> {
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let Some(Value::Object(error)) = answer.remove("error") else {
        return None;
    };
    let code = match error.get("code") {
        Some(Value::String(code)) if !code.trim().is_empty() => code.clone(),
        _ => return None,
    };
    let mut description = match error.get("message") {
        Some(Value::String(message)) => message.clone(),
        _ => String::new(),
    };
    if let Some(Value::Array(items)) = error.get("validation") {
        let details: Vec<String> = items
            .iter()
            .take(20)
            .map(|item| {
                let text = |key| item.get(key).and_then(Value::as_str).unwrap_or_default();
                match text("field") {
                    "" => text("message").to_owned(),
                    field => format!("{field}: {}", text("message")),
                }
            })
            .collect();
        if !details.is_empty() {
            description = format!("{description} ({})", details.join("; "));
        }
    }
    let description = description_of(&description, redact);
    if let Some(error) = E::from_code(&code, status, &description) {
        return Some(ErrorKind::Method { error, status });
    }
    Some(ErrorKind::Api(ApiError::from_wire(
        &code,
        description,
        status,
        redact,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::NoMethodErrors;

    #[test]
    fn keys_are_fresh_uuids() {
        let a = idempotency_key();
        let b = idempotency_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-'));
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn unified_errors_keep_code_message_and_validation() {
        let body =
            br#"{"error":{"code":"BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
            "message":"Error validating request object",
            "validation":[{"message":"Required field `id` is not specified","field":"id"}]}}"#;
        let redact = |s: String| s.replace("s3cret", "***");
        match decode_error::<NoMethodErrors>(400, body, &redact) {
            Some(ErrorKind::Api(api)) => {
                assert_eq!(
                    api.code.as_str(),
                    "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION"
                );
                assert_eq!(
                    api.description,
                    "Error validating request object (id: Required field `id` is not specified)"
                );
                assert_eq!(api.status, 400);
            }
            other => panic!("{other:?}"),
        }
        let echoed = br#"{"error":{"code":"X_s3cret","message":"s3cret"}}"#;
        let shown = format!("{:?}", decode_error::<NoMethodErrors>(403, echoed, &redact));
        assert!(!shown.contains("s3cret"), "{shown}");
        for not_v3 in [&b"{\"error\":\"CODE\"}"[..], b"<html>", b"{\"error\":{}}"] {
            assert!(decode_error::<NoMethodErrors>(400, not_v3, &redact).is_none());
        }
    }
}
