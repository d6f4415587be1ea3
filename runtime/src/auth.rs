//! Credentials: an incoming webhook (`https://<portal>/rest/<user_id>/<code>/`) or an OAuth 2.0
//! access token for `https://<portal>/rest/`.
//!
//! The webhook code and tokens are held as [`secrecy::SecretString`]: `Debug` prints `***`, and
//! they only leave this module to go on the wire.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::ConfigError;
use crate::oauth::OAuthSession;

/// How calls are authorized.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// An incoming webhook: the user id and secret code are part of the URL.
    Webhook(Webhook),
    /// An OAuth 2.0 access token, sent as the `auth` parameter.
    OAuth(OAuthToken),
    /// An OAuth 2.0 session that renews its access token when it expires.
    Renewing(Arc<OAuthSession>),
}

impl Credentials {
    /// The REST root calls are made against (`…/rest/` or `…/rest/<id>/<code>/`), as a URL whose
    /// secret parts the caller must not log.
    pub(crate) fn endpoint_secret(&self) -> String {
        match self {
            Credentials::Webhook(w) => {
                format!("{}{}/{}/", w.rest_root, w.user_id, w.code.expose_secret())
            }
            Credentials::OAuth(o) => o.rest_root.to_string(),
            Credentials::Renewing(s) => s.rest_root().to_string(),
        }
    }

    /// The REST 3.0 root (`…/rest/api/` or `…/rest/api/<id>/<code>/`, `api-reference/rest-v3.md`),
    /// as a URL whose secret parts the caller must not log.
    pub(crate) fn endpoint_v3_secret(&self) -> String {
        match self {
            Credentials::Webhook(w) => {
                format!(
                    "{}api/{}/{}/",
                    w.rest_root,
                    w.user_id,
                    w.code.expose_secret()
                )
            }
            Credentials::OAuth(o) => format!("{}api/", o.rest_root),
            Credentials::Renewing(s) => format!("{}api/", s.rest_root()),
        }
    }

    /// The REST root without secrets, for logs and errors.
    pub fn rest_root(&self) -> &Url {
        match self {
            Credentials::Webhook(w) => &w.rest_root,
            Credentials::OAuth(o) => &o.rest_root,
            Credentials::Renewing(s) => s.rest_root(),
        }
    }

    /// The secret strings these credentials hold, so that copies of answers can be redacted.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match self {
            Credentials::Webhook(w) => vec![w.code.expose_secret().to_owned()],
            Credentials::OAuth(o) => vec![o.access_token.expose_secret().to_owned()],
            Credentials::Renewing(s) => s.secrets(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Webhook(w) => w.fmt(f),
            Credentials::OAuth(o) => o.fmt(f),
            Credentials::Renewing(s) => s.fmt(f),
        }
    }
}

/// An incoming webhook.
#[derive(Clone)]
pub struct Webhook {
    rest_root: Url,
    user_id: u64,
    code: SecretString,
}

impl Webhook {
    /// Parses a webhook URL as Bitrix24 shows it: `https://<portal>/rest/<user_id>/<code>/`
    /// (the trailing slash is optional).
    ///
    /// ```
    /// let hook = b24_runtime::auth::Webhook::parse("https://example.bitrix24.com/rest/1/s3cr3t/").unwrap();
    /// assert_eq!(hook.user_id(), 1);
    /// assert!(!format!("{hook:?}").contains("s3cr3t"));
    /// ```
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidUrl {
            url: redact_webhook_url(url),
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("a webhook URL has no query or fragment"));
        }
        let segments: Vec<&str> = parsed
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let n = segments.len();
        if n < 3 || segments[n - 3] != "rest" {
            return Err(invalid(
                "expected https://<portal>/rest/<user_id>/<code>/ (without a method name)",
            ));
        }
        let user_id = segments[n - 2]
            .parse::<u64>()
            .map_err(|_| invalid("the segment after /rest/ must be the numeric user id"))?;
        let code = segments[n - 1];
        if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid("the webhook code must be letters and digits"));
        }
        let mut rest_root = parsed.clone();
        rest_root.set_path(&format!("{}/", segments[..n - 2].join("/")));
        Ok(Webhook {
            rest_root,
            user_id,
            code: SecretString::from(code.to_owned()),
        })
    }

    /// The id of the user the webhook belongs to.
    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    /// The portal's REST root (`https://<portal>/rest/`).
    pub fn rest_root(&self) -> &Url {
        &self.rest_root
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("rest_root", &self.rest_root.as_str())
            .field("user_id", &self.user_id)
            .field("code", &"***")
            .finish()
    }
}

/// An OAuth 2.0 access token for one portal.
#[derive(Clone)]
pub struct OAuthToken {
    rest_root: Url,
    access_token: SecretString,
}

impl OAuthToken {
    /// A token for the portal at `portal` (`https://example.bitrix24.com`, with or without
    /// `/rest/`).
    pub fn new(portal: &str, access_token: impl Into<String>) -> Result<Self, ConfigError> {
        Ok(OAuthToken {
            rest_root: rest_root_of(portal)?,
            access_token: SecretString::from(access_token.into()),
        })
    }

    /// The token, for putting on the wire.
    pub(crate) fn expose(&self) -> &str {
        self.access_token.expose_secret()
    }

    /// The portal's REST root.
    pub fn rest_root(&self) -> &Url {
        &self.rest_root
    }
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("rest_root", &self.rest_root.as_str())
            .field("access_token", &"***")
            .finish()
    }
}

/// `https://portal` or `https://portal/rest/` → `https://portal/rest/`.
pub(crate) fn rest_root_of(portal: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidUrl {
        url: portal.to_owned(),
        reason,
    };
    let mut url = Url::parse(portal.trim()).map_err(|e| invalid(e.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a portal URL has no query or fragment".into()));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    let path = if path.ends_with("/rest") {
        format!("{path}/")
    } else {
        format!("{path}/rest/")
    };
    url.set_path(&path);
    Ok(url)
}

/// Refuses plain http unless the host is loopback or the caller opted in.
pub(crate) fn check_scheme(url: &Url, allow_insecure: bool) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure || is_loopback(url) => Ok(()),
        "http" => Err(ConfigError::InsecureUrl {
            host: url.host_str().unwrap_or_default().to_owned(),
        }),
        other => Err(ConfigError::InvalidUrl {
            url: url.to_string(),
            reason: format!("unsupported scheme {other:?}: use https"),
        }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A webhook URL with its code replaced by `***`, for error messages.
fn redact_webhook_url(url: &str) -> String {
    let parts: Vec<&str> = url.trim().trim_end_matches('/').split('/').collect();
    match parts.iter().rposition(|p| *p == "rest") {
        Some(i) if i + 2 < parts.len() => {
            let mut out: Vec<&str> = parts[..=i + 1].to_vec();
            out.push("***");
            out.join("/") + "/"
        }
        _ => "<unparseable URL, not shown>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_webhook_urls() {
        let w = Webhook::parse("https://ex.bitrix24.com/rest/12/abc123def/").unwrap();
        assert_eq!(w.user_id(), 12);
        assert_eq!(w.rest_root().as_str(), "https://ex.bitrix24.com/rest/");
        let c = Credentials::Webhook(w);
        assert_eq!(
            c.endpoint_secret(),
            "https://ex.bitrix24.com/rest/12/abc123def/"
        );
        assert_eq!(
            c.endpoint_v3_secret(),
            "https://ex.bitrix24.com/rest/api/12/abc123def/"
        );
        let o = Credentials::OAuth(OAuthToken::new("https://ex.com", "t").unwrap());
        assert_eq!(o.endpoint_v3_secret(), "https://ex.com/rest/api/");
        assert!(Webhook::parse("https://ex.bitrix24.com/rest/12/abc").is_ok());
        assert!(Webhook::parse("https://ex.bitrix24.com/sub/rest/12/abc/").is_ok());
    }

    #[test]
    fn rejects_bad_webhook_urls_without_leaking_the_code() {
        for bad in [
            "https://ex.bitrix24.com/rest/x/secretcode/",
            "https://ex.bitrix24.com/rest/1/secretcode/crm.deal.list",
            "https://ex.bitrix24.com/rest/1/secretcode/?a=1",
            "https://ex.bitrix24.com/rest/1/secret-code!/",
        ] {
            let err = Webhook::parse(bad).unwrap_err().to_string();
            assert!(!err.contains("secret"), "{err}");
        }
        assert!(Webhook::parse("not a url").is_err());
    }

    #[test]
    fn secrets_are_not_in_debug() {
        let w = Credentials::Webhook(Webhook::parse("https://ex.com/rest/1/hidden42/").unwrap());
        let o = Credentials::OAuth(OAuthToken::new("https://ex.com", "tok3n").unwrap());
        assert!(!format!("{w:?}").contains("hidden42"));
        assert!(!format!("{o:?}").contains("tok3n"));
    }

    #[test]
    fn rest_roots() {
        assert_eq!(
            rest_root_of("https://ex.com").unwrap().as_str(),
            "https://ex.com/rest/"
        );
        assert_eq!(
            rest_root_of("https://ex.com/rest").unwrap().as_str(),
            "https://ex.com/rest/"
        );
    }

    #[test]
    fn http_only_for_loopback_or_opt_in() {
        let remote = Url::parse("http://ex.com/rest/").unwrap();
        assert!(check_scheme(&remote, false).is_err());
        assert!(check_scheme(&remote, true).is_ok());
        for local in [
            "http://127.0.0.1:8080/rest/",
            "http://localhost/rest/",
            "http://[::1]/rest/",
        ] {
            assert!(check_scheme(&Url::parse(local).unwrap(), false).is_ok());
        }
        assert!(check_scheme(&Url::parse("ftp://ex.com/").unwrap(), true).is_err());
    }
}
