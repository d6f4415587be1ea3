//! The full OAuth protocol's codes (`settings/oauth/index.md`): the one-time `code` a portal
//! sends to the application's `redirect_uri` after the user authorised it, and its exchange at
//! the token endpoint (`grant_type=authorization_code`).

use std::time::{Duration, SystemTime};

use crate::error::ApiError;
use crate::params::Params;
use crate::server::{Emulator, Shared};
use crate::state::IssuedTokens;

/// How long a code may be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(30);

/// A code's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeGrant {
    user_id: u64,
    client_id: String,
    expires_at: SystemTime,
}

impl Emulator {
    /// What the portal appends to the application's `redirect_uri` when `user_id` authorises
    /// the application `client_id`: a one-time `code`, valid for 30 seconds, that the token
    /// endpoint exchanges for the user's first token pair.
    pub fn authorization_code(&self, client_id: &str, user_id: u64) -> String {
        let mut portal = self.shared().portal.lock();
        portal.events.next_process += 1;
        let code = super::fresh_token(portal.events.next_process);
        portal.events.codes.insert(
            code.clone(),
            CodeGrant {
                user_id,
                client_id: client_id.to_owned(),
                expires_at: SystemTime::now() + CODE_LIFETIME,
            },
        );
        code
    }
}

/// The token endpoint's `authorization_code` grant: the application's keys (401
/// `invalid_client`), then the code (400 `invalid_grant`: unknown, used, expired or another
/// application's).
pub(crate) fn exchange_code(
    shared: &Shared,
    params: &Params,
) -> Result<(IssuedTokens, String), ApiError> {
    let text = |name: &str| params.text(name).filter(|value| !value.is_empty());
    let (Some(client_id), Some(secret), Some(code)) =
        (text("client_id"), text("client_secret"), text("code"))
    else {
        return Err(crate::state::oauth_invalid_request(
            "client_id, client_secret and code are required",
        ));
    };
    let mut portal = shared.portal.lock();
    let keys_ok = portal
        .oauth_app(&client_id)
        .is_some_and(|app| app.client_secret == secret);
    if !keys_ok {
        return Err(ApiError::new("invalid_client", "Invalid client credentials").with_status(401));
    }
    let grant = portal.events.codes.remove(&code);
    match grant {
        Some(grant) if grant.client_id == client_id && grant.expires_at > SystemTime::now() => {
            let issued = portal.issue_now(grant.user_id, &client_id);
            Ok((issued, shared.base_url.clone()))
        }
        _ => Err(ApiError::new("invalid_grant", "Invalid authorization code")),
    }
}
