//! `imopenlines.session.mode.*`: how a dialogue is held by an operator.

pub mod pin;
