//! The REST methods the emulator implements out of the box.
//!
//! Each handler is a plain function with the [`Handler`](crate::Handler) signature, public so that
//! a custom handler can wrap one (add a delay, count calls, change a field) and register itself
//! under the same name.

pub mod batch;
pub mod crm;
pub mod documented;
pub mod imopenlines;
pub mod list;

use crate::handlers::Registry;

/// Registers every built-in method. `batch` is not in the registry: it is run by the dispatcher
/// ([`batch`]) and cannot be replaced.
pub(crate) fn register_all(registry: &mut Registry) {
    imopenlines::register(registry);
    crm::register(registry);
    crate::events::register(registry);
}
