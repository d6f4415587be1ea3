//! Installation: a claimed installation (an `ONAPPINSTALL` event or an installation page's POST)
//! checked at the application's OAuth server and stored; and the full OAuth protocol's
//! `authorization_code` grant.
//!
//! Anyone can POST a form that says "I am portal X and these are my tokens", so a claim is
//! believed only once the OAuth server (the application's [`OAuthApp::token_endpoint`](crate::OAuthApp::token_endpoint), never an
//! address from the request) renews its refresh token for this application and says the tokens
//! are portal X's. The renewed pair is what is stored, with the portal's REST address as the
//! OAuth server gave it.

use super::incoming::{InstallRequest, Secrets, SHOWN};
use super::{Installation, PortalError, Portals, ReceiveError, Rejection};
use crate::client::Client;
use crate::oauth::RenewalError;

impl Portals {
    /// Checks a claimed installation at the OAuth server and stores it.
    pub(crate) async fn install_claim(
        &self,
        claim: InstallRequest,
        secrets: &Secrets,
    ) -> Result<(Installation, Client), ReceiveError> {
        let unverified = |reason: String| Rejection::Unverified {
            member_id: claim.member_id.clone(),
            reason,
        };
        // An installation page may carry no application token: keep the one an earlier
        // `ONAPPINSTALL` stored. Read before the claim's refresh token is spent, so that a
        // store that fails here loses nothing.
        let application_token = match &claim.application_token {
            Some(token) => Some(token.clone()),
            None => self
                .installation(&claim.member_id)
                .await?
                .and_then(|old| old.expose_application_token().map(str::to_owned)),
        };
        let Some(_place) = self.check_place() else {
            return Err(ReceiveError::Busy);
        };
        let tokens = match self
            .oauth_app()
            .refresh(self.http(), &claim.refresh_token)
            .await
        {
            Ok(tokens) => tokens,
            // The OAuth server said no: the claim is false (or the tokens are spent).
            Err(e @ RenewalError::Refused { .. }) => {
                return Err(unverified(secrets.show(&e.to_string(), 512)).into())
            }
            // It could not say: the installation is not refused, it failed.
            Err(e) => return Err(ReceiveError::OAuthServer(e)),
        };
        match tokens.member_id.as_deref() {
            Some(member_id) if member_id == claim.member_id => {}
            Some(other) => {
                return Err(unverified(format!(
                    "the OAuth server says the tokens are portal {}'s",
                    secrets.show(other, 64)
                ))
                .into())
            }
            None => {
                return Err(unverified(
                    "the OAuth server did not say which portal the tokens are for".into(),
                )
                .into())
            }
        }
        let client_endpoint = tokens
            .client_endpoint
            .clone()
            .or(claim.client_endpoint)
            .or_else(|| claim.domain.as_ref().map(|d| format!("https://{d}/rest/")))
            .ok_or_else(|| unverified("no REST address for the portal".into()))?;
        let domain = claim
            .domain
            .clone()
            .or_else(|| host_of(&client_endpoint))
            .unwrap_or_default();
        let mut portal = Installation::new(&claim.member_id, domain, client_endpoint, tokens);
        if let Some(token) = application_token {
            portal = portal.with_application_token(token);
        }
        portal.scope = portal.tokens.scope.clone();
        portal.status = claim.status;
        let client = self.install(&portal).await?;
        Ok((portal, client))
    }

    /// The full OAuth protocol's last step: exchanges the one-time `code` Bitrix24 sent to the
    /// application's `redirect_uri` for tokens (see [`OAuthApp::exchange_code`](crate::OAuthApp::exchange_code)) and stores the
    /// portal they are for. Such an installation has no `application_token` until the portal's
    /// `ONAPPINSTALL` arrives (events are refused until then), unless one is stored already.
    pub async fn authorize(&self, code: &str) -> Result<Installation, AuthorizeError> {
        let Some(place) = self.check_place() else {
            return Err(AuthorizeError::Busy);
        };
        let tokens = self.oauth_app().exchange_code(self.http(), code).await?;
        drop(place);
        let (Some(member_id), Some(endpoint)) =
            (tokens.member_id.clone(), tokens.client_endpoint.clone())
        else {
            return Err(AuthorizeError::Incomplete);
        };
        let old = self.installation(&member_id).await;
        let domain = host_of(&endpoint).unwrap_or_default();
        let mut portal = Installation::new(member_id, domain, endpoint, tokens);
        portal.scope = portal.tokens.scope.clone();
        match old {
            Ok(old) => {
                if let Some(token) = old.as_ref().and_then(|o| o.expose_application_token()) {
                    portal = portal.with_application_token(token);
                }
                self.install(&portal).await?;
            }
            // The pair is issued and the store cannot be read: it is not lost (the portal is
            // installed in memory and saved, with the stored application token, once the store
            // answers), but the authorization is reported as failed.
            Err(e) => {
                self.install_unsaved(&portal).await?;
                return Err(AuthorizeError::Portal(e));
            }
        }
        Ok(portal)
    }
}

/// The host (and port) of a URL.
fn host_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => crate::scrub::cut(host.to_owned(), SHOWN),
    })
}

/// Why [`Portals::authorize`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// The OAuth server refused the code (expired after 30 s, used, another application's) or
    /// could not be reached.
    #[error(transparent)]
    Grant(#[from] RenewalError),
    /// The OAuth server's answer did not say which portal the tokens are for.
    #[error("the OAuth server's answer has no member_id or client_endpoint")]
    Incomplete,
    /// As many installation checks as [`Portals`] runs at once are running (see
    /// [`MAX_CHECKS`](super::MAX_CHECKS)): the code was not tried.
    #[error("too many installation checks at once")]
    Busy,
    /// The portal could not be stored.
    #[error(transparent)]
    Portal(#[from] PortalError),
}
