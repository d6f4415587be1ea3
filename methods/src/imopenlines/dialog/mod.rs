//! `imopenlines.dialog.*`: open line dialogs.

pub mod get;
