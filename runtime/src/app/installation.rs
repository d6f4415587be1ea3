//! [`Installation`]: what an application keeps of a portal it is installed on.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::oauth::TokenPair;

/// A portal the application is installed on: its identity, where to call it, the tokens, and the
/// `application_token` that proves an incoming event comes from it.
///
/// `member_id` identifies a portal for good; its `domain` may change.
#[derive(Clone)]
#[non_exhaustive]
pub struct Installation {
    /// The portal's unique id.
    pub member_id: String,
    /// The portal's address as it was at installation (`some-domain.bitrix24.com`).
    pub domain: String,
    /// The portal's REST root (`https://some-domain.bitrix24.com/rest/`), from the OAuth server.
    pub client_endpoint: String,
    /// The latest token pair (rotated pairs are saved here by the portal's client).
    pub tokens: TokenPair,
    /// The scopes granted, comma-separated, if known.
    pub scope: Option<String>,
    /// The application's status on the portal (`L`, `F`, `D`, `T`, `P`), if known.
    pub status: Option<String>,
    /// When it was stored (Unix time).
    pub installed_at: i64,
    application_token: Option<SecretString>,
}

impl Installation {
    /// An installation of the portal `member_id` at `client_endpoint` with `tokens`.
    pub fn new(
        member_id: impl Into<String>,
        domain: impl Into<String>,
        client_endpoint: impl Into<String>,
        tokens: TokenPair,
    ) -> Self {
        Installation {
            member_id: member_id.into(),
            domain: domain.into(),
            client_endpoint: client_endpoint.into(),
            tokens,
            scope: None,
            status: None,
            installed_at: crate::app::unix_now(),
            application_token: None,
        }
    }

    /// The same installation with the portal's `application_token`.
    pub fn with_application_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.application_token = (!token.is_empty()).then(|| SecretString::from(token));
        self
    }

    /// The `application_token`, for persisting it. Handle with care.
    pub fn expose_application_token(&self) -> Option<&str> {
        self.application_token
            .as_ref()
            .map(|token| token.expose_secret())
    }

    /// Whether `claimed` is this portal's `application_token`, compared in constant time (an
    /// installation without one matches nothing).
    pub fn application_token_matches(&self, claimed: &str) -> bool {
        match &self.application_token {
            Some(token) => {
                let token = token.expose_secret().as_bytes();
                // The length is not secret (Bitrix24 issues 32 hex digits); the content is.
                token.len() == claimed.len() && bool::from(token.ct_eq(claimed.as_bytes()))
            }
            None => false,
        }
    }
}

impl fmt::Debug for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Installation")
            .field("member_id", &self.member_id)
            .field("domain", &self.domain)
            .field("client_endpoint", &self.client_endpoint)
            .field("tokens", &self.tokens)
            .field("scope", &self.scope)
            .field("status", &self.status)
            .field("installed_at", &self.installed_at)
            .field(
                "application_token",
                &self.application_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly_and_never_show() {
        let portal = Installation::new("m1", "d", "https://d/rest/", TokenPair::new("a0", "r0"))
            .with_application_token("51856fefc120afa4b628cc82d3935cce");
        assert!(portal.application_token_matches("51856fefc120afa4b628cc82d3935cce"));
        for wrong in [
            "",
            "51856fefc120afa4b628cc82d3935ccf",
            "51856fefc120afa4b628cc82d3935cc",
        ] {
            assert!(!portal.application_token_matches(wrong), "{wrong}");
        }
        let shown = format!("{portal:?}");
        for secret in ["51856fefc120", "a0", "r0"] {
            assert!(!shown.contains(&format!("\"{secret}")), "{shown}");
        }
        let bare = Installation::new("m1", "d", "https://d/rest/", TokenPair::new("a", "r"))
            .with_application_token("");
        assert!(!bare.application_token_matches(""));
    }
}
