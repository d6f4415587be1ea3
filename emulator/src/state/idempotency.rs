//! REST 3.0 idempotency keys (`api-reference/rest-v3.md`, "Repeated calls without duplicates"):
//! the answer of a call that succeeded is stored for 24 hours of portal time under its key, per
//! webhook or application, user and method; a repeat with the same key and the same parameters
//! gets the stored answer instead of running again, a repeat with other parameters is refused.
//! Errors are not stored.

use std::collections::HashMap;
use std::time::SystemTime;

use serde_json::Value;

use super::Portal;
use crate::clock::later;
use crate::error::ApiError;
use crate::limits::operating::Account;

/// How long an answer is kept, in portal seconds.
const RETENTION: f64 = 24.0 * 3600.0;

/// Whose key it is: keys are unique per webhook or application, user and method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct KeyScope {
    pub(crate) account: Account,
    pub(crate) user_id: u64,
    pub(crate) method: String,
    pub(crate) key: String,
}

#[derive(Debug, Clone)]
struct Stored {
    params: Value,
    body: String,
    until: SystemTime,
}

/// The stored answers.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdempotencyStore {
    entries: HashMap<KeyScope, Stored>,
}

/// What to do with a call that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Not seen (or expired): run it.
    New,
    /// Seen with the same parameters: answer this body, do not run.
    Replay(String),
}

/// Checks a key's value: 1 to 255 printable ASCII characters.
pub(crate) fn check_key(key: &[u8]) -> Result<String, ApiError> {
    if (1..=255).contains(&key.len()) && key.iter().all(|b| (0x20..=0x7e).contains(b)) {
        Ok(String::from_utf8_lossy(key).into_owned())
    } else {
        Err(ApiError::new(
            "BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION",
            "The idempotency key must be 1 to 255 printable ASCII characters",
        ))
    }
}

impl Portal {
    /// Looks a key up at `now`: a stored answer for the same parameters, or 422
    /// `…IDEMPOTENCYKEYREUSEDEXCEPTION` for other parameters.
    pub(crate) fn idempotent_lookup(
        &mut self,
        scope: &KeyScope,
        params: &Value,
        now: SystemTime,
    ) -> Result<Seen, ApiError> {
        self.idempotency
            .entries
            .retain(|_, stored| stored.until > now);
        match self.idempotency.entries.get(scope) {
            None => Ok(Seen::New),
            Some(stored) if stored.params == *params => Ok(Seen::Replay(stored.body.clone())),
            Some(_) => Err(ApiError::new(
                "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION",
                "The idempotency key was already used with a different request body",
            )
            .with_status(422)),
        }
    }

    /// Stores the answer of a call that succeeded.
    pub(crate) fn idempotent_store(
        &mut self,
        scope: KeyScope,
        params: Value,
        body: String,
        now: SystemTime,
    ) {
        let until = later(now, self.clock().real(RETENTION));
        self.idempotency.entries.insert(
            scope,
            Stored {
                params,
                body,
                until,
            },
        );
    }

    /// How many answers are stored under idempotency keys.
    pub fn idempotency_keys_stored(&self) -> usize {
        self.idempotency.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_checked() {
        assert!(check_key(b"9f1c1a7e-5f1b-4a1e-9a2c-2f5f2b6c7d80").is_ok());
        assert!(check_key(&[b'k'; 255]).is_ok());
        for bad in [&b""[..], &[b'k'; 256], b"tab\there", "ключ".as_bytes()] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn answers_are_replayed_for_the_same_body_within_a_day() {
        let mut portal = Portal::demo();
        let scope = KeyScope {
            account: Account::Webhook("code".into()),
            user_id: 1,
            method: "tasks.task.add".into(),
            key: "k1".into(),
        };
        let now = SystemTime::now();
        let params = json!({"fields": {"title": "x"}});
        assert_eq!(
            portal.idempotent_lookup(&scope, &params, now),
            Ok(Seen::New)
        );
        portal.idempotent_store(scope.clone(), params.clone(), "{\"result\":1}".into(), now);
        assert_eq!(
            portal.idempotent_lookup(&scope, &params, now),
            Ok(Seen::Replay("{\"result\":1}".into()))
        );
        let other = json!({"fields": {"title": "y"}});
        let reused = portal.idempotent_lookup(&scope, &other, now).unwrap_err();
        assert_eq!(reused.status(), 422);
        // Another method, another user: independent.
        let elsewhere = KeyScope {
            method: "tasks.task.update".into(),
            ..scope.clone()
        };
        assert_eq!(
            portal.idempotent_lookup(&elsewhere, &params, now),
            Ok(Seen::New)
        );
        // A day later it is forgotten.
        let tomorrow = now + std::time::Duration::from_secs(24 * 3600 + 1);
        assert_eq!(
            portal.idempotent_lookup(&scope, &params, tomorrow),
            Ok(Seen::New)
        );
    }
}
