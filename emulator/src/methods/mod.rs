//! The REST methods the emulator implements out of the box.
//!
//! Each handler is a plain function with the [`Handler`](crate::Handler) signature, public so that
//! a custom handler can wrap one (add a delay, count calls, change a field) and register itself
//! under the same name.

pub mod imopenlines;

use crate::handlers::Registry;

/// Registers every built-in method.
pub(crate) fn register_all(registry: &mut Registry) {
    imopenlines::register(registry);
}
