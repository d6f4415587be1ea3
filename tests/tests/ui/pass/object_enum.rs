//! `#[b24_object]` string enums (`rename`, `rename_all`, `other`), and objects used as method
//! parameters and responses.
#![deny(warnings)]

use b24::__private::serde_json::{json, to_value};
use b24::de::from_str_lenient;
use b24::{b24_method, b24_object, Method};

/// The kind of chat.
#[b24_object]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatType {
    /// An open line.
    #[b24(rename = "lines")]
    Lines,
    /// A group chat.
    #[b24(rename = "chat")]
    Chat,
    /// Anything newer.
    #[b24(other)]
    Unknown,
}

/// A priority.
#[b24_object(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, PartialEq, Eq)]
pub enum Priority {
    /// `VERY_HIGH`.
    VeryHigh,
    /// `LOW`.
    Low,
}

/// A nested parameter object.
#[b24_object(rename_all = "UPPERCASE")]
#[derive(Debug, Clone)]
pub struct Filter {
    /// `TYPE`.
    pub r#type: ChatType,
    /// `LIMIT`, left out when `None`.
    pub limit: Option<u32>,
}

/// A listed chat.
#[b24_object]
#[derive(Debug, PartialEq, Eq)]
pub struct Listed {
    /// `id`.
    pub id: u64,
    /// `kind`.
    pub kind: ChatType,
}

/// Lists chats.
#[b24_method("im.chat.list", response = Vec<Listed>, idempotent)]
#[derive(Debug)]
pub struct ChatList {
    /// The filter.
    pub filter: Filter,
    /// A string enum parameter.
    pub priority: Option<Priority>,
}

fn main() {
    assert_eq!(
        from_str_lenient::<ChatType>(r#""lines""#).unwrap(),
        ChatType::Lines
    );
    assert_eq!(
        from_str_lenient::<ChatType>(r#""chat""#).unwrap(),
        ChatType::Chat
    );
    assert_eq!(
        from_str_lenient::<ChatType>(r#""crm""#).unwrap(),
        ChatType::Unknown
    );
    assert_eq!(to_value(ChatType::Lines).unwrap(), json!("lines"));
    assert_eq!(
        from_str_lenient::<Priority>(r#""VERY_HIGH""#).unwrap(),
        Priority::VeryHigh
    );
    assert!(
        from_str_lenient::<Priority>(r#""HIGH""#).is_err(),
        "no `other`: unknown strings fail"
    );

    let params = ChatList::new(Filter {
        r#type: ChatType::Chat,
        limit: None,
    })
    .priority(Priority::Low);
    assert_eq!(
        to_value(&params).unwrap(),
        json!({"FILTER": {"TYPE": "chat"}, "PRIORITY": "LOW"})
    );

    let result: <ChatList as Method>::Output =
        from_str_lenient(r#"[{"id": "1", "kind": "lines"}, {"id": 2, "kind": "openline"}]"#)
            .unwrap();
    assert_eq!(
        result,
        [
            Listed {
                id: 1,
                kind: ChatType::Lines
            },
            Listed {
                id: 2,
                kind: ChatType::Unknown
            }
        ]
    );
}
