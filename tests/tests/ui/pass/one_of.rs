//! "Exactly one of these parameters": a `#[b24_object(one_of)]` enum, one variant per
//! parameter, in a field marked `#[b24(one_of)]`. Whoever builds the request picks exactly one
//! (or, for an `Option` field, at most one); it is sent as that one parameter.
#![deny(warnings)]

use b24::__private::serde_json::{json, to_value};
use b24::{b24_method, b24_object};

/// Whom to transfer a dialogue to (`imopenlines.operator.transfer`: pass only one of
/// `TRANSFER_ID`, `USER_ID`, `QUEUE_ID`).
#[b24_object(one_of)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// An operator, or `queue<LINE_ID>` (`TRANSFER_ID`).
    #[b24(rename = "TRANSFER_ID")]
    Transfer(String),
    /// An operator (`USER_ID`).
    UserId(i64),
    /// An open line's queue (`QUEUE_ID`).
    QueueId(i64),
}

/// Transfers a dialogue to another operator or open line.
#[b24_method("imopenlines.operator.transfer", response = bool)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorTransfer {
    /// The open line chat.
    pub chat_id: i64,
    /// Where to.
    #[b24(one_of)]
    pub target: TransferTarget,
}

/// Which dialog (`imopenlines.dialog.get`: one of four identifiers).
#[b24_object(one_of)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogKey {
    /// `CHAT_ID`.
    ChatId(i64),
    /// `DIALOG_ID` (`chat<ID>`).
    DialogId(String),
    /// `SESSION_ID`.
    SessionId(i64),
    /// `USER_CODE`.
    UserCode(String),
}

/// The data of a dialog.
#[b24_method("imopenlines.dialog.get", response = bool, idempotent)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogGet {
    /// The dialog.
    #[b24(one_of)]
    pub key: DialogKey,
    /// At most one of two others, or none.
    #[b24(one_of)]
    pub extra: Option<Extra>,
}

/// Optional alternatives.
#[b24_object(one_of)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extra {
    /// `LIMIT`.
    Limit(u32),
    /// `PAGE`.
    Page(u32),
}

fn main() {
    let params = OperatorTransfer::new(101, TransferTarget::UserId(7));
    assert_eq!(to_value(&params).unwrap(), json!({"CHAT_ID": 101, "USER_ID": 7}));
    let params = OperatorTransfer::new(101, TransferTarget::Transfer("queue3".into()));
    assert_eq!(
        to_value(&params).unwrap(),
        json!({"CHAT_ID": 101, "TRANSFER_ID": "queue3"})
    );
    assert_eq!(
        to_value(operator_transfer_params()).unwrap(),
        json!({"CHAT_ID": 5, "QUEUE_ID": 2})
    );

    let params = DialogGet::new(DialogKey::UserCode("livechat|1|1763|587".into()));
    assert_eq!(
        to_value(&params).unwrap(),
        json!({"USER_CODE": "livechat|1|1763|587"})
    );
    let params = DialogGet::new(DialogKey::SessionId(9)).extra(Extra::Page(2));
    assert_eq!(
        to_value(&params).unwrap(),
        json!({"SESSION_ID": 9, "PAGE": 2})
    );
}

fn operator_transfer_params() -> OperatorTransfer {
    OperatorTransfer::new(5, TransferTarget::QueueId(2))
}
