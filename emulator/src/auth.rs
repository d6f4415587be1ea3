//! Authentication: which user a request acts for, or the 401 the portal answers.
//!
//! - Webhook (`/rest/<user_id>/<code>/…`): the code must exist and belong to that user id, else
//!   `NO_AUTH_FOUND`. A webhook whose user was deleted still authenticates (the methods then answer
//!   `USER_ID`), as on a real portal where the code outlives its owner's account.
//! - OAuth (`/rest/…` with `auth`): a missing or unknown token is `NO_AUTH_FOUND`, an expired one
//!   `expired_token`.

use std::time::SystemTime;

use crate::error::ApiError;
use crate::limits::operating::Account;
use crate::record::AuthKind;
use crate::state::Portal;

/// The credentials a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// From the webhook path: the user id segment as sent, and the code.
    Webhook { user_id: String, code: String },
    /// The `auth` parameter of an OAuth call, if present.
    Token(Option<String>),
}

impl Credentials {
    /// The kind of authentication these credentials attempt.
    pub(crate) fn kind(&self) -> AuthKind {
        match self {
            Credentials::Webhook { .. } => AuthKind::Webhook,
            Credentials::Token(_) => AuthKind::OAuth,
        }
    }
}

/// The user a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) user_id: u64,
    pub(crate) auth: AuthKind,
    /// Whose operating time the calls are charged to.
    pub(crate) account: Account,
}

/// Checks credentials against the portal at time `now`.
pub(crate) fn authenticate(
    portal: &Portal,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<Caller, ApiError> {
    match credentials {
        Credentials::Webhook { user_id, code } => {
            let claimed: u64 = user_id.parse().map_err(|_| ApiError::no_auth_found())?;
            match portal.webhook_user(code) {
                Some(owner) if owner == claimed => Ok(Caller {
                    user_id: owner,
                    auth: AuthKind::Webhook,
                    account: Account::Webhook(code.clone()),
                }),
                _ => Err(ApiError::no_auth_found()),
            }
        }
        Credentials::Token(token) => {
            let token = token.as_deref().filter(|t| !t.is_empty());
            let (token, record) = token
                .and_then(|t| Some((t, portal.access_token(t)?)))
                .ok_or_else(ApiError::no_auth_found)?;
            if record.expires_at.is_some_and(|expiry| expiry <= now) {
                return Err(ApiError::expired_token());
            }
            Ok(Caller {
                user_id: record.user_id,
                auth: AuthKind::OAuth,
                account: Account::OAuth {
                    client_id: portal.token_app(token).map(str::to_owned),
                    user_id: record.user_id,
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn webhook(user_id: &str, code: &str) -> Credentials {
        Credentials::Webhook {
            user_id: user_id.to_owned(),
            code: code.to_owned(),
        }
    }

    #[test]
    fn webhook_needs_matching_user_and_code() {
        let portal = Portal::demo();
        let now = SystemTime::now();
        assert_eq!(
            authenticate(&portal, &webhook("1", "demo0webhook0code"), now).map(|c| c.user_id),
            Ok(1)
        );
        for (user, code) in [
            ("2", "demo0webhook0code"),
            ("1", "nope"),
            ("x", "demo0webhook0code"),
        ] {
            assert_eq!(
                authenticate(&portal, &webhook(user, code), now),
                Err(ApiError::no_auth_found())
            );
        }
    }

    #[test]
    fn webhook_of_deleted_user_still_authenticates() {
        let mut portal = Portal::demo();
        portal.remove_user(2);
        let caller = authenticate(
            &portal,
            &webhook("2", "demo0webhook0user2"),
            SystemTime::now(),
        );
        assert_eq!(caller.map(|c| c.user_id), Ok(2));
    }

    #[test]
    fn tokens_missing_unknown_and_expired() {
        let mut portal = Portal::demo();
        let now = SystemTime::now();
        portal.add_access_token_expiring(1, "old", now - Duration::from_secs(1));
        portal.add_access_token_expiring(1, "fresh", now + Duration::from_secs(3600));
        let token = |t: Option<&str>| Credentials::Token(t.map(str::to_owned));
        assert_eq!(
            authenticate(&portal, &token(None), now),
            Err(ApiError::no_auth_found())
        );
        assert_eq!(
            authenticate(&portal, &token(Some("")), now),
            Err(ApiError::no_auth_found())
        );
        assert_eq!(
            authenticate(&portal, &token(Some("unknown")), now),
            Err(ApiError::no_auth_found())
        );
        assert_eq!(
            authenticate(&portal, &token(Some("old")), now),
            Err(ApiError::expired_token())
        );
        let fresh = authenticate(&portal, &token(Some("fresh")), now);
        assert_eq!(fresh.map(|c| c.auth), Ok(AuthKind::OAuth));
    }
}
