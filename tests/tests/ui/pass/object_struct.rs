//! `#[b24_object]` structs: `rename_all`, `rename`, `strict`, `default`, `flatten`, optional
//! fields, decoding the portal's PHP-isms leniently and writing objects back.
#![deny(warnings)]

use std::collections::BTreeMap;

use b24::__private::serde_json::{json, to_value, Value};
use b24::b24_object;
use b24::de::from_str_lenient;

/// A chat from `imopenlines.dialog.get`.
#[b24_object(rename_all = "camelCase")]
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryChat {
    /// Renamed past `rename_all`.
    #[b24(rename = "entityData1")]
    pub entity_data_1: String,
    /// `avatarId`: missing, `null`, `""` or `false` → `None`.
    pub avatar_id: Option<i64>,
    /// `messageCount`, a number sent as a string.
    pub message_count: u32,
    /// `isOpen`, a boolean sent as "Y"/"N".
    pub is_open: bool,
    /// Plain serde: a real JSON boolean only.
    #[b24(strict)]
    pub strict_flag: bool,
    /// Missing → empty.
    #[b24(default)]
    pub tags: Vec<String>,
    /// Everything else.
    #[b24(flatten)]
    pub rest: BTreeMap<String, Value>,
}

fn main() {
    let chat: HistoryChat = from_str_lenient(
        r#"{"entityData1": 17, "avatarId": "", "messageCount": "42", "isOpen": "Y",
            "strictFlag": true, "extra": [1]}"#,
    )
    .unwrap();
    assert_eq!(
        chat,
        HistoryChat {
            entity_data_1: "17".into(),
            avatar_id: None,
            message_count: 42,
            is_open: true,
            strict_flag: true,
            tags: vec![],
            rest: [("extra".to_owned(), json!([1]))].into(),
        }
    );

    let chat: HistoryChat = from_str_lenient(
        r#"{"entityData1": "x", "avatarId": "8", "messageCount": 1, "isOpen": 0,
            "strictFlag": false, "tags": {"0": "a", "3": "b"}}"#,
    )
    .unwrap();
    assert_eq!(chat.avatar_id, Some(8));
    assert_eq!(chat.tags, ["a", "b"]);
    assert!(!chat.is_open);

    // `strict` fields get no leniency.
    let err = from_str_lenient::<HistoryChat>(
        r#"{"entityData1": "x", "messageCount": 1, "isOpen": 0, "strictFlag": "Y"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("expected a boolean"), "{err}");

    // Written back with the names as declared, flattened fields inline, `None` left out.
    assert_eq!(
        to_value(&chat).unwrap(),
        json!({"entityData1": "x", "avatarId": 8, "messageCount": 1, "isOpen": false,
               "strictFlag": false, "tags": ["a", "b"]})
    );
    let first = HistoryChat {
        avatar_id: None,
        rest: [("extra".to_owned(), json!(1))].into(),
        ..chat
    };
    assert_eq!(
        to_value(&first).unwrap(),
        json!({"entityData1": "x", "messageCount": 1, "isOpen": false, "strictFlag": false,
               "tags": ["a", "b"], "extra": 1})
    );
}
