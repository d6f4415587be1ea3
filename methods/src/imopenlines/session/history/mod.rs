//! `imopenlines.session.history.*`: message history of sessions.

pub mod get;
