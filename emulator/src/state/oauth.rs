//! OAuth 2.0 applications, refresh tokens and renewal: the state behind the emulator's token
//! endpoint (`settings/oauth/auto-renewal.md`).
//!
//! Renewal rotates: every successful renewal issues a new access token and a new refresh token and
//! invalidates the refresh token it used. Access tokens issued here expire after the access-token
//! lifetime (default one hour of portal time); refresh tokens after 180 days of portal time.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use super::model::AccessToken;
use super::Portal;
use crate::clock::{later, unix_seconds};
use crate::error::ApiError;

/// How long an issued access token lives, in portal time.
const ACCESS_LIFETIME: Duration = Duration::from_secs(3600);
/// How long an issued refresh token lives, in portal time.
const REFRESH_LIFETIME: Duration = Duration::from_secs(180 * 24 * 3600);

/// An application registered on the portal (a local or marketplace app with its OAuth keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthApp {
    /// `client_id`: the application code (`app.573ad8a0346747.09223434`, `local.…`).
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// The granted scopes, comma-separated, as the token endpoint reports them.
    pub scope: String,
    /// The application's status (`app.info` `STATUS`): `L` local, `F` free, `P` paid, ...
    pub status: String,
}

impl OAuthApp {
    /// A local application with scopes `crm,imopenlines,im`.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: "crm,imopenlines,im".to_owned(),
            status: "L".to_owned(),
        }
    }
}

/// A pair of tokens issued by renewal, with what the token endpoint reports about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    /// The new access token.
    pub access_token: String,
    /// The new refresh token (the one used for the renewal no longer works).
    pub refresh_token: String,
    /// The user the tokens act for.
    pub user_id: u64,
    /// The application they were issued to.
    pub client_id: String,
    /// When the access token expires: real unix seconds (rounded up).
    pub expires: u64,
    /// How long the access token lives: real seconds (the portal lifetime divided by the time
    /// scale, rounded up).
    pub expires_in: u64,
    /// The application's scopes.
    pub scope: String,
    /// The application's status.
    pub status: String,
    /// The portal's `member_id`.
    pub member_id: String,
}

/// A refresh token's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RefreshGrant {
    user_id: u64,
    client_id: String,
    expires_at: SystemTime,
}

/// Applications, refresh tokens and the app of each issued access token.
#[derive(Debug, Clone)]
pub(crate) struct OAuthRegistry {
    apps: BTreeMap<String, OAuthApp>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    /// Access token → the application it was issued to.
    token_apps: HashMap<String, String>,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
    renewals: u64,
    member_id: String,
}

impl Default for OAuthRegistry {
    fn default() -> Self {
        Self {
            apps: BTreeMap::new(),
            refresh_tokens: HashMap::new(),
            token_apps: HashMap::new(),
            access_lifetime: ACCESS_LIFETIME,
            refresh_lifetime: REFRESH_LIFETIME,
            renewals: 0,
            member_id: "a223c6b3710f85df22e9377d6c4f7553".to_owned(),
        }
    }
}

impl OAuthRegistry {
    /// Forgets which application an access token belongs to.
    pub(crate) fn forget_token(&mut self, token: &str) {
        self.token_apps.remove(token);
    }
}

/// 400 `invalid_request`: a parameter of the token request is missing or wrong.
pub(crate) fn invalid_request(description: &str) -> ApiError {
    ApiError::new("invalid_request", description)
}

/// 400 `invalid_grant` "Invalid refresh token".
fn invalid_grant() -> ApiError {
    ApiError::new("invalid_grant", "Invalid refresh token")
}

/// 401 `invalid_client`: unknown `client_id` or wrong `client_secret`.
fn invalid_client() -> ApiError {
    ApiError::new("invalid_client", "Invalid client credentials").with_status(401)
}

impl Portal {
    /// Registers an application (scopes `crm,imopenlines,im`, status `L`), replacing any with the
    /// same `client_id`; change it further with [`Portal::oauth_app_mut`].
    pub fn add_oauth_app(
        &mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) {
        let app = OAuthApp::new(client_id, client_secret);
        self.oauth.apps.insert(app.client_id.clone(), app);
    }

    /// A registered application.
    pub fn oauth_app(&self, client_id: &str) -> Option<&OAuthApp> {
        self.oauth.apps.get(client_id)
    }

    /// A registered application, to change its secret, scopes or status.
    pub fn oauth_app_mut(&mut self, client_id: &str) -> Option<&mut OAuthApp> {
        self.oauth.apps.get_mut(client_id)
    }

    /// Unregisters an application: renewals with its keys then answer `invalid_client`; tokens
    /// already issued keep working until they expire.
    pub fn remove_oauth_app(&mut self, client_id: &str) -> bool {
        self.oauth.apps.remove(client_id).is_some()
    }

    /// How long access tokens issued by [`Portal::issue_tokens`] and renewals live, in portal time
    /// (default one hour).
    pub fn set_access_token_lifetime(&mut self, lifetime: Duration) {
        self.oauth.access_lifetime = lifetime;
    }

    /// How long refresh tokens live, in portal time (default 180 days).
    pub fn set_refresh_token_lifetime(&mut self, lifetime: Duration) {
        self.oauth.refresh_lifetime = lifetime;
    }

    /// The portal's `member_id`, as the token endpoint reports it.
    pub fn member_id(&self) -> &str {
        &self.oauth.member_id
    }

    /// Sets the portal's `member_id`.
    pub fn set_member_id(&mut self, member_id: impl Into<String>) {
        self.oauth.member_id = member_id.into();
    }

    /// How many renewals the token endpoint has granted.
    pub fn token_renewals(&self) -> u64 {
        self.oauth.renewals
    }

    /// Issues a first pair of tokens for `user_id` and the application `client_id`, as the
    /// authorisation step would; returns `(access_token, refresh_token)`.
    ///
    /// The access token works at once and expires after the access-token lifetime. The refresh
    /// token is bound to the user and the application: renewing it needs that application's keys
    /// (an application that is not registered gets `invalid_client`).
    pub fn issue_tokens(&mut self, user_id: u64, client_id: &str) -> (String, String) {
        let issued = self.issue(user_id, client_id, SystemTime::now());
        (issued.access_token, issued.refresh_token)
    }

    /// Makes a refresh token unusable (renewal answers `invalid_grant`); `false` if unknown.
    pub fn revoke_refresh_token(&mut self, refresh_token: &str) -> bool {
        self.oauth.refresh_tokens.remove(refresh_token).is_some()
    }

    /// Whether a refresh token would be accepted now (by its application).
    pub fn refresh_token_valid(&self, refresh_token: &str) -> bool {
        self.oauth
            .refresh_tokens
            .get(refresh_token)
            .is_some_and(|grant| grant.expires_at > SystemTime::now())
    }

    /// What the token endpoint does for `grant_type=refresh_token`: checks the application's keys
    /// (401 `invalid_client`), then the refresh token (400 `invalid_grant`: unknown, revoked,
    /// already used, expired, or issued to another application), and issues a new pair.
    pub fn renew_tokens(
        &mut self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Result<IssuedTokens, ApiError> {
        let app_ok = self
            .oauth
            .apps
            .get(client_id)
            .is_some_and(|app| app.client_secret == client_secret);
        if !app_ok {
            return Err(invalid_client());
        }
        let now = SystemTime::now();
        let grant = match self.oauth.refresh_tokens.get(refresh_token) {
            Some(grant) if grant.client_id == client_id => grant.clone(),
            _ => return Err(invalid_grant()),
        };
        self.oauth.refresh_tokens.remove(refresh_token);
        if grant.expires_at <= now {
            return Err(invalid_grant());
        }
        self.oauth.renewals += 1;
        Ok(self.issue(grant.user_id, client_id, now))
    }

    /// Revokes every access and refresh token issued to the application `client_id` (it was
    /// uninstalled).
    pub fn revoke_app_tokens(&mut self, client_id: &str) {
        let issued: Vec<String> = self
            .oauth
            .token_apps
            .iter()
            .filter(|(_, app)| *app == client_id)
            .map(|(token, _)| token.clone())
            .collect();
        for token in issued {
            self.remove_access_token(&token);
        }
        self.oauth
            .refresh_tokens
            .retain(|_, grant| grant.client_id != client_id);
    }

    /// The application an access token was issued to (`None` for tokens added directly).
    pub(crate) fn token_app(&self, token: &str) -> Option<&str> {
        self.oauth.token_apps.get(token).map(String::as_str)
    }

    /// Issues a first pair now, with what the token endpoint reports about it (the
    /// `authorization_code` grant).
    pub(crate) fn issue_now(&mut self, user_id: u64, client_id: &str) -> IssuedTokens {
        self.issue(user_id, client_id, SystemTime::now())
    }

    /// Creates and stores a new pair.
    fn issue(&mut self, user_id: u64, client_id: &str, now: SystemTime) -> IssuedTokens {
        let clock = self.clock();
        let access_real = clock.real(self.oauth.access_lifetime.as_secs_f64());
        let refresh_real = clock.real(self.oauth.refresh_lifetime.as_secs_f64());
        let access_expiry = later(now, access_real);
        let access_token = self.fresh_token(|portal, token| portal.tokens.contains_key(token));
        let refresh_token =
            self.fresh_token(|portal, token| portal.oauth.refresh_tokens.contains_key(token));
        self.tokens.insert(
            access_token.clone(),
            AccessToken {
                user_id,
                expires_at: Some(access_expiry),
            },
        );
        self.oauth
            .token_apps
            .insert(access_token.clone(), client_id.to_owned());
        self.oauth.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshGrant {
                user_id,
                client_id: client_id.to_owned(),
                expires_at: later(now, refresh_real),
            },
        );
        let (scope, status) = self
            .oauth
            .apps
            .get(client_id)
            .map(|app| (app.scope.clone(), app.status.clone()))
            .unwrap_or_default();
        IssuedTokens {
            access_token,
            refresh_token,
            user_id,
            client_id: client_id.to_owned(),
            expires: unix_seconds(access_expiry).ceil() as u64,
            expires_in: access_real.as_secs_f64().ceil() as u64,
            scope,
            status,
            member_id: self.oauth.member_id.clone(),
        }
    }

    /// 32 lowercase letters and digits, not yet used according to `taken`.
    fn fresh_token(&mut self, taken: impl Fn(&Portal, &str) -> bool) -> String {
        loop {
            let token = format!("{}{}", self.fresh_code(), self.fresh_code());
            if !taken(self, &token) {
                return token;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portal() -> Portal {
        let mut portal = Portal::demo();
        portal.add_oauth_app("app.1", "secret");
        portal
    }

    #[test]
    fn renewal_rotates_the_pair() {
        let mut portal = portal();
        let (access, refresh) = portal.issue_tokens(1, "app.1");
        assert_eq!(access.len(), 32);
        assert_eq!(portal.token_app(&access), Some("app.1"));
        assert!(portal.access_token(&access).is_some());
        let renewed = portal.renew_tokens("app.1", "secret", &refresh);
        let renewed = renewed.unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(renewed.refresh_token, refresh);
        assert_eq!(renewed.user_id, 1);
        assert_eq!(renewed.expires_in, 3600);
        assert_eq!(portal.token_renewals(), 1);
        let reused = portal.renew_tokens("app.1", "secret", &refresh);
        assert_eq!(
            reused.err().map(|e| e.code().to_owned()).as_deref(),
            Some("invalid_grant")
        );
    }

    #[test]
    fn wrong_client_does_not_consume_the_token() {
        let mut portal = portal();
        portal.add_oauth_app("app.2", "other");
        let (_, refresh) = portal.issue_tokens(1, "app.1");
        let wrong_secret = portal.renew_tokens("app.1", "nope", &refresh).err();
        assert_eq!(wrong_secret.map(|e| e.status()), Some(401));
        let other_app = portal.renew_tokens("app.2", "other", &refresh).err();
        assert_eq!(other_app.map(|e| e.status()), Some(400));
        assert!(portal.refresh_token_valid(&refresh));
        assert!(portal.revoke_refresh_token(&refresh));
        assert!(portal.renew_tokens("app.1", "secret", &refresh).is_err());
    }

    #[test]
    fn lifetimes_follow_the_time_scale() {
        let mut portal = portal();
        portal.set_time_scale(100.0);
        portal.set_refresh_token_lifetime(Duration::ZERO);
        let (_, refresh) = portal.issue_tokens(1, "app.1");
        assert!(!portal.refresh_token_valid(&refresh));
        portal.set_refresh_token_lifetime(Duration::from_secs(3600));
        let (_, refresh) = portal.issue_tokens(1, "app.1");
        let renewed = portal.renew_tokens("app.1", "secret", &refresh);
        assert_eq!(renewed.map(|t| t.expires_in), Ok(36));
    }
}
