//! What can go wrong receiving an event or reaching a portal: [`Rejection`] (the request was
//! refused before any handler ran), [`PortalError`] and [`ReceiveError`].
//!
//! Every wire string they carry (a `member_id`, an event name, a parser's reason) is redacted of
//! the secrets the request carried and cut short: they are safe to log and show.

use crate::error::ConfigError;
use crate::oauth::StoreError;

/// The error type of event handlers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request refused before dispatch: no handler ran, nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The body is larger than the receiver accepts.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge {
        /// The bound.
        limit: usize,
    },
    /// Not a Bitrix24 event or installation: not a form, too deep, a required field missing.
    #[error("the request is not a Bitrix24 event or installation: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// An event for a portal the application has not stored (not installed, or uninstalled).
    #[error("event {event} for portal {member_id}, which is not installed")]
    UnknownPortal {
        /// The event's name.
        event: String,
        /// The `member_id` the request claimed.
        member_id: String,
    },
    /// The `application_token` is not the stored one: the request did not come from the portal.
    #[error("event {event} for portal {member_id} carries a wrong application token")]
    Forged {
        /// The event's name.
        event: String,
        /// The `member_id` the request claimed.
        member_id: String,
    },
    /// An installation whose tokens the OAuth server did not confirm for that portal.
    #[error("the installation on portal {member_id} could not be verified: {reason}")]
    Unverified {
        /// The `member_id` the request claimed.
        member_id: String,
        /// What the OAuth server said.
        reason: String,
    },
    /// A verified event whose `data` does not decode into the handler's type.
    #[error("the data of event {event} does not decode: {reason}")]
    Payload {
        /// The event's name.
        event: String,
        /// The decoder's message.
        reason: String,
    },
}

impl Rejection {
    /// The HTTP status to answer: 413, 400, 403 or 422.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::TooLarge { .. } => 413,
            Rejection::Malformed { .. } => 400,
            Rejection::UnknownPortal { .. }
            | Rejection::Forged { .. }
            | Rejection::Unverified { .. } => 403,
            Rejection::Payload { .. } => 422,
        }
    }
}

/// A portal's installation or client could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortalError {
    /// No installation with that `member_id` is stored.
    #[error("portal {member_id} is not installed")]
    NotInstalled {
        /// The `member_id` asked for.
        member_id: String,
    },
    /// The [`PortalStore`](super::PortalStore) failed.
    #[error("the portal store failed: {0}")]
    Store(#[source] StoreError),
    /// The stored installation does not make a client (a bad `client_endpoint`).
    #[error("the portal's client could not be built: {0}")]
    Client(#[from] ConfigError),
}

/// Why an incoming request was not handled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// Refused before dispatch (see [`Rejection`]).
    #[error("rejected: {0}")]
    Rejected(#[from] Rejection),
    /// The portal's installation or client could not be had.
    #[error(transparent)]
    Portal(#[from] PortalError),
    /// The OAuth server could not be asked to confirm an installation (unreachable, an answer
    /// that is not one); the installation was not stored.
    #[error("the OAuth server could not confirm the installation: {0}")]
    OAuthServer(#[source] crate::oauth::RenewalError),
    /// As many installation checks as [`Portals`](super::Portals) runs at once are running
    /// (anyone can POST an installation, and each is checked at the OAuth server): this one
    /// was not tried. Answered 503.
    #[error("too many installation checks at once")]
    Busy,
    /// The handler returned an error.
    #[error("the handler of {event} failed: {source}")]
    Handler {
        /// The event's name.
        event: String,
        /// The handler's error.
        #[source]
        source: BoxError,
    },
}

impl ReceiveError {
    /// The HTTP status to answer: the rejection's, 503 for a store or OAuth server failure, 500
    /// otherwise.
    pub fn status(&self) -> u16 {
        match self {
            ReceiveError::Rejected(rejection) => rejection.status(),
            ReceiveError::Portal(PortalError::Store(_))
            | ReceiveError::OAuthServer(_)
            | ReceiveError::Busy => 503,
            ReceiveError::Portal(_) | ReceiveError::Handler { .. } => 500,
        }
    }

    /// The rejection, if the request was refused before dispatch.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            ReceiveError::Rejected(rejection) => Some(rejection),
            _ => None,
        }
    }
}
