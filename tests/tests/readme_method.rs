//! The README's "Declaring a new method" example, compiled as a user's crate writes it (`b24` is a
//! dependency here, as in any crate), and checked against its docs page and the emulator.
//!
//! The code between the README markers below is the README's first `rust` block of that section,
//! character for character (`readme_block_is_this_code` compares them).

// README: begin
use b24::{b24_method, b24_object};

/// Where the dialogue goes: exactly one of the page's `TRANSFER_ID`, `USER_ID`, `QUEUE_ID`.
#[b24_object(one_of)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// `TRANSFER_ID`: a user id, or `queue<LINE_ID>`.
    #[b24(rename = "TRANSFER_ID")]
    Any(String),
    /// `USER_ID`: the operator who takes the dialogue.
    UserId(i64),
    /// `QUEUE_ID`: the open line whose queue takes it.
    QueueId(i64),
}

/// Transfers a dialog to another operator or to the queue of another open line.
///
/// Docs: `api-reference/imopenlines/openlines/operators/imopenlines-operator-transfer.md`.
#[b24_method(
    "imopenlines.operator.transfer",
    response = bool,
    errors(
        CHAT_ID_EMPTY(400) = "Chat ID can't be empty",
        USER_ID_EMPTY(400) = "User ID can't be empty",
        QUEUE_ID_EMPTY(400) = "QUEUE ID can't be empty",
        TRANSFER_ID_EMPTY(400) = "Queue ID or User ID can't be empty",
        OPERATOR_WRONG(400) = "You cannot redirect to this operator",
    )
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorTransfer {
    /// The open line chat (`imopenlines.session.open`, `imopenlines.dialog.get`).
    pub chat_id: i64,
    /// The operator or line to transfer to.
    #[b24(one_of)]
    pub target: TransferTarget,
}
// README: end

use b24::{Method, MethodError};
use b24_emulator::{Emulator, Portal, DEMO_IDS};
use serde_json::json;

#[test]
fn readme_block_is_this_code() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Declaring a new method\n")
        .nth(1)
        .expect("the README has the section");
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the section starts with a rust block");
    let this = include_str!("readme_method.rs");
    let code = this
        .split("// README: begin\n")
        .nth(1)
        .and_then(|rest| rest.split("\n// README: end").next())
        .unwrap();
    assert_eq!(
        block, code,
        "README.md and tests/tests/readme_method.rs differ"
    );
}

#[test]
fn the_declaration_is_the_page() {
    assert_eq!(OperatorTransfer::NAME, "imopenlines.operator.transfer");
    assert_eq!(OperatorTransfer::SCOPE, "imopenlines");
    const { assert!(!OperatorTransfer::IDEMPOTENT) };
    // The page's request example, `{"CHAT_ID":2043,"USER_ID":15}`, and its other two forms.
    let cases = [
        (
            TransferTarget::UserId(15),
            json!({"CHAT_ID": 2043, "USER_ID": 15}),
        ),
        (
            TransferTarget::QueueId(3),
            json!({"CHAT_ID": 2043, "QUEUE_ID": 3}),
        ),
        (
            TransferTarget::Any("queue3".into()),
            json!({"CHAT_ID": 2043, "TRANSFER_ID": "queue3"}),
        ),
    ];
    for (target, wire) in cases {
        let request = OperatorTransfer::new(2043, target);
        assert_eq!(serde_json::to_value(&request).unwrap(), wire);
    }
    // The page's error table, every row.
    let table = [
        ("CHAT_ID_EMPTY", "Chat ID can't be empty"),
        ("USER_ID_EMPTY", "User ID can't be empty"),
        ("QUEUE_ID_EMPTY", "QUEUE ID can't be empty"),
        ("TRANSFER_ID_EMPTY", "Queue ID or User ID can't be empty"),
        ("OPERATOR_WRONG", "You cannot redirect to this operator"),
    ];
    for (code, description) in table {
        let error = OperatorTransferError::from_code(code, 400, description).expect(code);
        assert_eq!((error.code(), error.description()), (code, description));
    }
    assert!(matches!(
        OperatorTransferError::from_code("OPERATOR_WRONG", 400, ""),
        Some(OperatorTransferError::OperatorWrong { .. })
    ));
}

#[tokio::test]
async fn it_calls_the_emulated_portal() {
    let emu = Emulator::start(Portal::demo()).await.unwrap();
    let client = b24::Client::from_webhook(&emu.webhook_url(DEMO_IDS.admin_user).unwrap()).unwrap();
    let chat = DEMO_IDS.lines_chat_id as i64;
    let to_guest = TransferTarget::UserId(DEMO_IDS.guest_user as i64);
    let err = operator_transfer(&client, chat, to_guest)
        .await
        .unwrap_err();
    assert!(matches!(
        err.method_error(),
        Some(OperatorTransferError::OperatorWrong { .. })
    ));
    let to_user_2 = TransferTarget::UserId(DEMO_IDS.other_user as i64);
    assert!(operator_transfer(&client, chat, to_user_2).await.unwrap());
    let portal = emu.portal().snapshot();
    let session = portal.last_session(DEMO_IDS.lines_chat_id).unwrap();
    assert_eq!(session.operator_id, DEMO_IDS.other_user);
}
