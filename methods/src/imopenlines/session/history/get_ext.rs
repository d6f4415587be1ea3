//! Hand-written part of `imopenlines.session.history.get`, included by the generated module (see `methods/overrides.toml`): the typed `History`, keyed maps included.

use std::collections::BTreeMap;

use crate::exports::serde_json::Value;
use crate::{b24_object, DateTime};

/// The history of a session. Maps are keyed by the ids the portal keys them by.
#[b24_object(rename_all = "camelCase")]
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The chat.
    pub chat_id: i64,
    /// Whether the calling user may join the dialogue (`Y`/`N` on the wire).
    pub can_join: bool,
    /// Whether a supervisor may rate the operators (`Y`/`N` on the wire).
    pub can_vote_head: bool,
    /// The session.
    pub session_id: i64,
    /// The supervisor's rating.
    #[b24(default)]
    pub session_vote_head: i64,
    /// The supervisor's comment on the rating.
    pub session_comment_head: Option<String>,
    /// The dialog as `chat<ID>`.
    pub user_id: String,
    /// The messages, by message id.
    #[b24(default)]
    pub message: BTreeMap<u64, HistoryMessage>,
    /// Message ids by dialog (`chat<ID>`).
    #[b24(default)]
    pub users_message: BTreeMap<String, Vec<u64>>,
    /// The participants, by user id.
    #[b24(default)]
    pub users: BTreeMap<u64, HistoryUser>,
    /// Open line data.
    pub openlines: Option<HistoryOpenlines>,
    /// Users grouped by department, by department id.
    #[b24(default)]
    pub user_in_group: BTreeMap<u64, HistoryDepartment>,
    /// Users outside those departments.
    #[b24(default)]
    pub wo_user_in_group: Vec<Value>,
    /// The chats, by chat id.
    #[b24(default)]
    pub chat: BTreeMap<u64, HistoryChat>,
    /// Whether each user blocked the chat, by chat id then user id.
    #[b24(default)]
    pub user_block_chat: BTreeMap<u64, BTreeMap<u64, bool>>,
    /// The participants of each chat, by chat id.
    #[b24(default)]
    pub user_in_chat: BTreeMap<u64, Vec<u64>>,
    /// The files of the messages, by file id.
    #[b24(default)]
    pub files: BTreeMap<u64, HistoryFile>,
}

/// A message of a session.
#[b24_object]
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryMessage {
    /// The message.
    pub id: u64,
    /// The chat.
    pub chatid: u64,
    /// The sender (0 for system messages).
    pub senderid: u64,
    /// The recipient, as `chat<ID>`.
    pub recipientid: String,
    /// When it was sent.
    pub date: DateTime,
    /// The text (BB-code).
    pub text: String,
    /// The text in the legacy (HTML) format.
    #[b24(default)]
    pub textlegacy: String,
    /// Service parameters (attachments, file ids …).
    #[b24(default)]
    pub params: Value,
}

/// A participant of a session.
#[b24_object(rename_all = "camelCase")]
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryUser {
    /// The user.
    pub id: u64,
    /// Full name.
    pub name: String,
    /// First name.
    #[b24(default)]
    pub first_name: String,
    /// Last name.
    #[b24(default)]
    pub last_name: String,
    /// Position.
    pub work_position: Option<String>,
    /// Avatar URL.
    #[b24(default)]
    pub avatar: String,
    /// Avatar file.
    pub avatar_id: Option<u64>,
    /// Gender.
    #[b24(default)]
    pub gender: String,
    /// Whether the user is an extranet user.
    #[b24(default)]
    pub extranet: bool,
    /// Whether the user comes from a connector (an external channel).
    #[b24(default)]
    pub connector: bool,
    /// Profile link.
    #[b24(default)]
    pub profile: String,
    /// External authentication type.
    #[b24(default)]
    pub external_auth_id: String,
    /// Online status.
    pub status: Option<String>,
    /// Last activity.
    pub last_activity_date: Option<DateTime>,
    /// Departments.
    #[b24(default)]
    pub departments: Vec<u64>,
    /// User type.
    #[b24(rename = "type", default)]
    pub user_type: String,
}

/// Open line data of a session.
#[b24_object]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOpenlines {
    /// Whether the supervisor may rate operators, by open line config id.
    #[b24(default)]
    pub canvoteashead: BTreeMap<u64, bool>,
}

/// A department and its users.
#[b24_object]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryDepartment {
    /// The department.
    pub id: u64,
    /// Its users.
    #[b24(default)]
    pub users: Vec<u64>,
}

/// A chat of a session.
#[b24_object(rename_all = "camelCase")]
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryChat {
    /// The chat.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner: u64,
    /// The chat's object type (`LINES`).
    pub entity_type: String,
    /// The external identifier (`livechat|22|1761|587`).
    pub entity_id: String,
    /// Chat metadata.
    #[b24(default)]
    pub entity_data_1: String,
    /// More chat metadata.
    #[b24(default)]
    pub entity_data_2: String,
    /// More chat metadata.
    #[b24(default)]
    pub entity_data_3: String,
    /// Messages in the chat.
    #[b24(default)]
    pub message_count: i64,
    /// Public flag.
    #[b24(default)]
    pub public: String,
    /// Whether each user muted the chat, by user id.
    #[b24(default)]
    pub mute_list: BTreeMap<u64, bool>,
    /// Operator-managers.
    #[b24(default)]
    pub manager_list: Vec<u64>,
    /// When the chat was created.
    pub date_create: DateTime,
    /// The chat's type (`lines`).
    #[b24(rename = "type")]
    pub chat_type: String,
    /// The link to the open line.
    #[b24(default)]
    pub entity_link: Value,
    /// Access rights in the chat.
    #[b24(default)]
    pub permissions: Value,
    /// Whether the message input is available.
    #[b24(default)]
    pub text_field_enabled: bool,
    /// The chat's background.
    pub background_id: Option<i64>,
    /// The chat's message type.
    #[b24(default)]
    pub message_type: String,
    /// Whether the chat is new.
    #[b24(default)]
    pub is_new: bool,
}

/// A file attached to a message of a session.
#[b24_object]
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryFile {
    /// The file.
    pub id: u64,
    /// The chat.
    pub chatid: u64,
    /// When it was uploaded.
    pub date: DateTime,
    /// The file type (`image`, `file` …).
    #[b24(rename = "type")]
    pub file_type: String,
    /// The file name.
    pub name: String,
    /// The extension.
    #[b24(default)]
    pub extension: String,
    /// The size in bytes.
    pub size: u64,
    /// Image dimensions (`width`, `height`), for images.
    #[b24(default)]
    pub image: Value,
    /// Processing status.
    #[b24(default)]
    pub status: String,
    /// Processing progress in percent.
    #[b24(default)]
    pub progress: i64,
    /// The author.
    #[b24(default)]
    pub authorid: u64,
    /// The author's name.
    #[b24(default)]
    pub authorname: String,
    /// Preview URL.
    #[b24(default)]
    pub urlpreview: String,
    /// View URL.
    #[b24(default)]
    pub urlshow: String,
    /// Download URL.
    #[b24(default)]
    pub urldownload: String,
    /// Viewer parameters.
    #[b24(default)]
    pub viewerattrs: Value,
    /// Media URLs.
    #[b24(default)]
    pub mediaurl: Value,
    /// Whether the file can be transcribed.
    #[b24(default)]
    pub istranscribable: bool,
    /// Whether it is a video note.
    #[b24(default)]
    pub isvideonote: bool,
    /// Whether it is a voice note.
    #[b24(default)]
    pub isvoicenote: bool,
}
