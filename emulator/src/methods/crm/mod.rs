//! The `crm` scope, as far as paging tests need it.
//!
//! | method | handler |
//! |---|---|
//! | `crm.lead.list` | [`lead::list`] |

pub mod lead;

use crate::handlers::Registry;

/// `crm.lead.list`
pub const LEAD_LIST: &str = "crm.lead.list";

/// Registers the methods.
pub(crate) fn register(registry: &mut Registry) {
    registry.register(LEAD_LIST, lead::list);
}
