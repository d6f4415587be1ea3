//! Scope `imopenlines`: open lines, their sessions and dialogs.
