//! Scope `imopenlines`: open lines, their sessions and dialogs.
//!
//! Every method is declared in the file its name spells:
//! `imopenlines.session.mode.pin` lives in `imopenlines/session/mode/pin.rs`. The request types,
//! their results and the one-line call functions are re-exported here.
//!
//! ```no_run
//! # async fn demo(client: b24::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use b24::imopenlines;
//!
//! let chat = imopenlines::session_open(&client, "livechat|1|1763|587").await?;
//! imopenlines::session_start(&client, chat.chat_id).await?;
//! client.call(imopenlines::SessionModePin::new(chat.chat_id).activate(false)).await?;
//! # Ok(()) }
//! ```

pub mod dialog;
pub mod session;

pub use dialog::get::{
    dialog_get, Dialog, DialogEntityLink, DialogGet, DialogGetError, DialogPermissions,
    DialogRestrictions, FirstViewer, LastMessageViews, ReadedItem,
};
pub use session::history::get::{
    session_history_get, History, HistoryChat, HistoryDepartment, HistoryFile, HistoryMessage,
    HistoryOpenlines, HistoryUser, SessionHistoryGet, SessionHistoryGetError,
};
pub use session::join::{session_join, SessionJoin, SessionJoinError};
pub use session::mode::pin::{session_mode_pin, SessionModePin, SessionModePinError};
pub use session::open::{session_open, SessionOpen, SessionOpenError, SessionOpened};
pub use session::start::{session_start, SessionStart, SessionStartError};
