//! The `imopenlines` scope: open-line sessions, dialogs and the operator's hand-offs
//! (`api-reference/imopenlines/openlines/sessions/`, `…/operators/`).
//!
//! | method | handler |
//! |---|---|
//! | `imopenlines.session.start` | [`session::start`] |
//! | `imopenlines.session.open` | [`session::open`] |
//! | `imopenlines.session.join` | [`session::join`] |
//! | `imopenlines.session.mode.pin` | [`session::mode_pin`] |
//! | `imopenlines.dialog.get` | [`dialog::get`] |
//! | `imopenlines.session.history.get` | [`history::get`] |
//! | `imopenlines.operator.transfer` | [`operator::transfer`] |
//! | `imopenlines.operator.finish` | [`operator::finish`] |
//! | `imopenlines.operator.another.finish` | [`operator::another_finish`] |

pub mod dialog;
pub mod history;
pub mod operator;
pub mod session;

mod render;

use crate::handlers::Registry;

/// `imopenlines.session.start`
pub const SESSION_START: &str = "imopenlines.session.start";
/// `imopenlines.session.open`
pub const SESSION_OPEN: &str = "imopenlines.session.open";
/// `imopenlines.session.join`
pub const SESSION_JOIN: &str = "imopenlines.session.join";
/// `imopenlines.session.mode.pin`
pub const SESSION_MODE_PIN: &str = "imopenlines.session.mode.pin";
/// `imopenlines.dialog.get`
pub const DIALOG_GET: &str = "imopenlines.dialog.get";
/// `imopenlines.session.history.get`
pub const SESSION_HISTORY_GET: &str = "imopenlines.session.history.get";

/// `imopenlines.operator.transfer`
pub const OPERATOR_TRANSFER: &str = "imopenlines.operator.transfer";
/// `imopenlines.operator.finish`
pub const OPERATOR_FINISH: &str = "imopenlines.operator.finish";
/// `imopenlines.operator.another.finish`
pub const OPERATOR_ANOTHER_FINISH: &str = "imopenlines.operator.another.finish";

/// Registers the nine methods.
pub(crate) fn register(registry: &mut Registry) {
    registry.register(SESSION_START, session::start);
    registry.register(SESSION_OPEN, session::open);
    registry.register(SESSION_JOIN, session::join);
    registry.register(SESSION_MODE_PIN, session::mode_pin);
    registry.register(DIALOG_GET, dialog::get);
    registry.register(SESSION_HISTORY_GET, history::get);
    registry.register(OPERATOR_TRANSFER, operator::transfer);
    registry.register(OPERATOR_FINISH, operator::finish);
    registry.register(OPERATOR_ANOTHER_FINISH, operator::another_finish);
}
