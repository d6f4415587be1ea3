//! `imopenlines.session.*`: sessions (dialogues) of open line chats.

pub mod history;
pub mod join;
pub mod mode;
pub mod open;
pub mod start;
