//! The method's own error codes, told apart by the part of a call that does not know the
//! method's types ([`Declared`]), and turned into the method's error type by the part that does.

use std::fmt;

use crate::error::{ApiError, ErrorKind};
use crate::method::{MethodError, NoMethodErrors};
use crate::scrub::Redact;

/// One of the method's own error codes, recognised by the part of a call that does not know the
/// method's types ([`open`](super::open)); the part that does turns it into the method's error
/// ([`declared_into`]).
#[derive(Clone, PartialEq)]
pub(crate) struct Declared {
    /// The code as it came, unscrubbed: only matched against the declaration, never shown.
    pub(super) code: String,
    /// The description, redacted and bounded.
    pub(super) description: String,
}

/// The code is not shown: it is unscrubbed (it may echo a secret the portal was sent).
impl fmt::Debug for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Declared")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The code came from the server: shown only once it is the method's own error.
        f.write_str("one of the method's declared error codes")
    }
}

/// Whether a code (with its status and description) is one of a method's own: the
/// [`MethodError::from_code`] of the method's error type, erased.
pub(crate) type Declares = fn(&str, u16, &str) -> bool;

/// [`Declares`] of `E`.
pub(crate) fn declares<E: MethodError>(code: &str, status: u16, description: &str) -> bool {
    E::from_code(code, status, description).is_some()
}

/// The error of a failed call in the method's own error type.
pub(crate) fn declared_into<E: MethodError>(
    kind: ErrorKind<Declared>,
    redact: Redact<'_>,
) -> ErrorKind<E> {
    recast(kind, |error, status| {
        match E::from_code(&error.code, status, &error.description) {
            Some(error) => ErrorKind::Method { error, status },
            // `declares` said yes to this code: only an impure `from_code` gets here.
            None => ErrorKind::Api(ApiError::from_wire(
                &error.code,
                error.description,
                status,
                redact,
            )),
        }
    })
}

/// An error decoded without the method's codes (REST 3.0's unified error), with the method's
/// own codes set apart as [`Declared`].
pub(crate) fn declared_of(
    kind: ErrorKind<NoMethodErrors>,
    declares: Declares,
) -> ErrorKind<Declared> {
    match kind {
        ErrorKind::Api(api) if declares(api.code.as_str(), api.status, &api.description) => {
            ErrorKind::Method {
                error: Declared {
                    code: api.code.as_str().to_owned(),
                    description: api.description,
                },
                status: api.status,
            }
        }
        other => recast(other, |never, _| match never {}),
    }
}

/// The same error with another method error type: `method` maps the method's own error.
fn recast<A, B>(kind: ErrorKind<A>, method: impl FnOnce(A, u16) -> ErrorKind<B>) -> ErrorKind<B> {
    match kind {
        ErrorKind::Method { error, status } => method(error, status),
        ErrorKind::Api(e) => ErrorKind::Api(e),
        ErrorKind::Transport(e) => ErrorKind::Transport(e),
        ErrorKind::Decode(e) => ErrorKind::Decode(e),
        ErrorKind::Renewal(e) => ErrorKind::Renewal(e),
        ErrorKind::Batch(e) => ErrorKind::Batch(e),
        ErrorKind::Paging(e) => ErrorKind::Paging(e),
        ErrorKind::Config(e) => ErrorKind::Config(e),
    }
}
