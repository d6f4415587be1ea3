//! Hand-written part of `imopenlines.dialog.get`, included by the generated module (see `methods/overrides.toml`): the four `by_*` constructors and the typed `Dialog`.

use std::collections::HashMap;

use super::DialogGet;
use crate::{b24_object, DateTime};

impl DialogGet {
    /// The dialog of chat `chat_id`.
    pub fn by_chat_id(chat_id: i64) -> Self {
        DialogGet::new().chat_id(chat_id)
    }

    /// The dialog `dialog_id` (`chat<ID>`).
    pub fn by_dialog_id(dialog_id: impl Into<String>) -> Self {
        DialogGet::new().dialog_id(dialog_id)
    }

    /// The dialog of session `session_id`.
    pub fn by_session_id(session_id: i64) -> Self {
        DialogGet::new().session_id(session_id)
    }

    /// The dialog of an external user code.
    pub fn by_user_code(user_code: impl Into<String>) -> Self {
        DialogGet::new().user_code(user_code)
    }
}

/// An open line dialog, as `imopenlines.dialog.get` returns it.
#[b24_object]
#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    /// The chat.
    pub id: i64,
    /// The parent chat, or 0.
    pub parent_chat_id: i64,
    /// The parent message, or 0.
    pub parent_message_id: i64,
    /// The chat's name.
    pub name: String,
    /// The chat's description.
    pub description: Option<String>,
    /// The chat's owner.
    pub owner: i64,
    /// Whether it is an extranet chat.
    pub extranet: bool,
    /// The avatar's URL, or empty.
    pub avatar: String,
    /// The chat's colour, `#rrggbb`.
    pub color: String,
    /// The chat's type: `lines` for open lines.
    #[b24(rename = "type")]
    pub chat_type: String,
    /// Unread messages of the calling user.
    pub counter: i64,
    /// Participants with unread messages.
    pub user_counter: i64,
    /// Messages in the chat.
    pub message_count: i64,
    /// The first unread message, or 0.
    pub unread_id: i64,
    /// What may be done with the chat.
    pub restrictions: DialogRestrictions,
    /// The last message.
    pub last_message_id: i64,
    /// The service id of the last message.
    pub last_id: i64,
    /// The marked message, or 0.
    pub marked_id: i64,
    /// The Drive folder of the chat's files.
    pub disk_folder_id: i64,
    /// The channel type: `LINES` for open lines.
    pub entity_type: String,
    /// The external user code, `<connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>`.
    pub entity_id: String,
    /// Session data of the open line (`Y|LEAD|1209|N|N|343|…`; the sixth field is the session).
    pub entity_data_1: String,
    /// CRM bindings.
    pub entity_data_2: String,
    /// A service flag.
    pub entity_data_3: String,
    /// Users who muted the chat.
    #[b24(default)]
    pub mute_list: Vec<i64>,
    /// When the chat was created.
    pub date_create: DateTime,
    /// The message type of the chat.
    pub message_type: String,
    /// The chat's public flag.
    pub public: String,
    /// The calling user's role in the chat.
    pub role: String,
    /// The link to the external channel.
    pub entity_link: DialogEntityLink,
    /// Whether the message input is available.
    pub text_field_enabled: bool,
    /// The chat's background.
    pub background_id: Option<i64>,
    /// The calling user's permissions in the chat.
    pub permissions: DialogPermissions,
    /// Whether the chat is new.
    pub is_new: bool,
    /// Who read up to which message.
    #[b24(default)]
    pub readed_list: Vec<ReadedItem>,
    /// Operators assigned as managers.
    #[b24(default)]
    pub manager_list: Vec<i64>,
    /// Who viewed the last message.
    pub last_message_views: Option<LastMessageViews>,
    /// The dialog as `chat<ID>`.
    pub dialog_id: String,
}

/// What may be done with a chat.
#[b24_object]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogRestrictions {
    /// Change the avatar.
    pub avatar: bool,
    /// Rename the chat.
    pub rename: bool,
    /// Extend the chat's settings.
    pub extend: bool,
    /// Call in the chat.
    pub call: bool,
    /// Mute the chat.
    pub mute: bool,
    /// Leave the chat.
    pub leave: bool,
    /// Leave the chat as its owner.
    pub leave_owner: bool,
    /// Send messages.
    pub send: bool,
    /// See the participants.
    pub user_list: bool,
}

/// The link of a chat to its external channel.
#[b24_object]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogEntityLink {
    /// The channel type: `LINES` for open lines.
    #[b24(rename = "type")]
    pub link_type: String,
    /// The external object's URL, or empty.
    pub url: String,
    /// The dialog's id in the channel.
    pub id: String,
}

/// The calling user's permissions in a chat: who may do what (`member`, `manager`, `owner`).
#[b24_object]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogPermissions {
    /// Add participants.
    pub manage_users_add: String,
    /// Remove participants.
    pub manage_users_delete: String,
    /// Manage the chat's interface.
    pub manage_ui: String,
    /// Manage the chat's settings.
    pub manage_settings: String,
    /// Manage messages.
    pub manage_messages: String,
    /// Post messages.
    pub can_post: String,
    /// Permissions the docs do not list yet.
    #[b24(flatten)]
    pub other: HashMap<String, crate::exports::serde_json::Value>,
}

/// Who read up to which message.
#[b24_object]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadedItem {
    /// The reader.
    pub user_id: i64,
    /// The reader's name.
    pub user_name: String,
    /// The last message read.
    pub message_id: i64,
    /// When, if known.
    pub date: Option<DateTime>,
}

/// Who viewed the last message of a chat.
#[b24_object]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessageViews {
    /// The message.
    pub message_id: i64,
    /// The first viewers.
    #[b24(default)]
    pub first_viewers: Vec<FirstViewer>,
    /// How many others viewed it.
    pub count_of_viewers: i64,
}

/// One of the first viewers of a message.
#[b24_object]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstViewer {
    /// The viewer.
    pub user_id: i64,
    /// The viewer's name.
    pub user_name: String,
    /// When.
    pub date: Option<DateTime>,
}
