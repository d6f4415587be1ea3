//! The records a portal holds: users, open lines, chats, sessions, messages and files.
//!
//! Each record is a plain struct with public fields and a few builder methods. A record added with
//! id `0` (what the constructors set) gets the next free id of its kind from the
//! [`Portal`](crate::Portal); `with_id` fixes the id instead.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A portal user: an employee, or the visitor of an external channel (a "connector" user).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// The user id (`0` until added to a portal).
    pub id: u64,
    /// First name.
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
    /// A portal administrator: may access every open-line chat and rate sessions as head.
    pub admin: bool,
    /// The visitor of an external channel (`connector: true` in answers).
    pub connector: bool,
    /// Position, or `None` (answered as `null`).
    pub work_position: Option<String>,
    /// `"M"`, `"F"` or empty.
    pub gender: String,
    /// The colour shown next to the user, `#rrggbb`.
    pub color: String,
    /// Departments the user belongs to.
    pub departments: Vec<u64>,
    /// `externalAuthId`: `"default"` for employees, `"imconnector"` for channel visitors.
    pub external_auth_id: String,
    /// Avatar URL; empty for none.
    pub avatar: String,
    /// Birthday as `"dd-mm"`, or `None` (answered as `false`).
    pub birthday: Option<String>,
    /// Last activity, or `None` (answered as `false`).
    pub last_activity: Option<DateTime<Utc>>,
}

impl User {
    /// An employee with the given name; not an administrator, in department 1.
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Self {
            id: 0,
            first_name: first_name.into(),
            last_name: last_name.into(),
            admin: false,
            connector: false,
            work_position: None,
            gender: String::new(),
            color: "#4ba984".to_owned(),
            departments: vec![1],
            external_auth_id: "default".to_owned(),
            avatar: String::new(),
            birthday: None,
            last_activity: None,
        }
    }

    /// The visitor of an external channel (livechat, Telegram…): no department, `connector: true`.
    pub fn connector(name: impl Into<String>) -> Self {
        Self {
            connector: true,
            departments: Vec::new(),
            external_auth_id: "imconnector".to_owned(),
            color: "#ba9c7b".to_owned(),
            ..Self::new(name, "")
        }
    }

    /// Fixes the id instead of letting the portal choose it.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    /// Makes the user a portal administrator.
    #[must_use]
    pub fn with_admin(mut self, admin: bool) -> Self {
        self.admin = admin;
        self
    }

    /// Sets the position.
    #[must_use]
    pub fn with_work_position(mut self, position: impl Into<String>) -> Self {
        self.work_position = Some(position.into());
        self
    }

    /// The full name: first and last name separated by a space (just the first when the last is
    /// empty).
    pub fn full_name(&self) -> String {
        if self.last_name.is_empty() {
            self.first_name.clone()
        } else {
            format!("{} {}", self.first_name, self.last_name)
        }
    }
}

/// An open line (a channel configuration, `CONFIG_ID` in the docs) and its operator queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLine {
    /// The line (config) id (`0` until added).
    pub id: u64,
    /// The line's name.
    pub name: String,
    /// Users in the line's queue: the line's operators, who may access its chats.
    pub operators: BTreeSet<u64>,
}

impl OpenLine {
    /// A line without operators.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            id: 0,
            name: name.into(),
            operators: BTreeSet::new(),
        }
    }

    /// Fixes the id.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    /// Adds a user to the line's operator queue.
    #[must_use]
    pub fn with_operator(mut self, user_id: u64) -> Self {
        self.operators.insert(user_id);
        self
    }
}

/// What kind of chat it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatKind {
    /// An open-line chat (`type: "lines"`, `entity_type: "LINES"`).
    Lines {
        /// The open line the chat belongs to.
        line_id: u64,
        /// The user code, `<connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>`.
        entity_id: String,
    },
    /// An ordinary group chat (`type: "chat"`).
    Group,
}

/// When a chat member last read the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMark {
    /// The last message the member read.
    pub message_id: u64,
    /// When, if known (answered as `null` otherwise).
    pub date: Option<DateTime<Utc>>,
}

/// A chat: an open-line dialog or an ordinary group chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Chat {
    /// The chat id (`0` until added).
    pub id: u64,
    /// The chat's title.
    pub name: String,
    /// Open line or ordinary chat.
    pub kind: ChatKind,
    /// Description, or `None` (answered as `null`).
    pub description: Option<String>,
    /// The owner's user id.
    pub owner: u64,
    /// Users in the chat.
    pub members: BTreeSet<u64>,
    /// Operators assigned as managers (`manager_list`).
    pub managers: BTreeSet<u64>,
    /// Users who muted the chat (`mute_list`).
    pub muted: BTreeSet<u64>,
    /// The chat colour, `#rrggbb`.
    pub color: String,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// The CRM lead the dialog is bound to, if any (shows in `entity_data_1`/`entity_data_2`).
    pub crm_lead_id: Option<u64>,
    /// Per member: the last message read.
    pub read_marks: BTreeMap<u64, ReadMark>,
}

impl Chat {
    /// An open-line chat of `line_id` with the given user code (`entity_id`), e.g.
    /// `livechat|1|101|3`.
    pub fn lines(line_id: u64, entity_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self::with_kind(
            ChatKind::Lines {
                line_id,
                entity_id: entity_id.into(),
            },
            name,
        )
    }

    /// An ordinary (non-open-line) group chat.
    pub fn group(name: impl Into<String>) -> Self {
        Self::with_kind(ChatKind::Group, name)
    }

    fn with_kind(kind: ChatKind, name: impl Into<String>) -> Self {
        Self {
            id: 0,
            name: name.into(),
            kind,
            description: None,
            owner: 0,
            members: BTreeSet::new(),
            managers: BTreeSet::new(),
            muted: BTreeSet::new(),
            color: "#58cc47".to_owned(),
            created: Utc::now(),
            crm_lead_id: None,
            read_marks: BTreeMap::new(),
        }
    }

    /// Fixes the id.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    /// Sets the owner (also a member).
    #[must_use]
    pub fn with_owner(mut self, user_id: u64) -> Self {
        self.owner = user_id;
        self.members.insert(user_id);
        self
    }

    /// Adds a member.
    #[must_use]
    pub fn with_member(mut self, user_id: u64) -> Self {
        self.members.insert(user_id);
        self
    }

    /// Adds a manager (also a member).
    #[must_use]
    pub fn with_manager(mut self, user_id: u64) -> Self {
        self.managers.insert(user_id);
        self.members.insert(user_id);
        self
    }

    /// Sets the creation time.
    #[must_use]
    pub fn with_created(mut self, created: DateTime<Utc>) -> Self {
        self.created = created;
        self
    }

    /// Whether this is an open-line chat.
    pub fn is_lines(&self) -> bool {
        matches!(self.kind, ChatKind::Lines { .. })
    }

    /// The open line of an open-line chat.
    pub fn line_id(&self) -> Option<u64> {
        match &self.kind {
            ChatKind::Lines { line_id, .. } => Some(*line_id),
            ChatKind::Group => None,
        }
    }

    /// The user code of an open-line chat.
    pub fn entity_id(&self) -> Option<&str> {
        match &self.kind {
            ChatKind::Lines { entity_id, .. } => Some(entity_id),
            ChatKind::Group => None,
        }
    }

    /// The chat's `type` on the wire: `"lines"` or `"chat"`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ChatKind::Lines { .. } => "lines",
            ChatKind::Group => "chat",
        }
    }

    /// `dialog_id`: `chat<ID>`.
    pub fn dialog_id(&self) -> String {
        format!("chat{}", self.id)
    }
}

/// An open-line session: one conversation of a dialog, handled by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id (`0` until added).
    pub id: u64,
    /// The open-line chat.
    pub chat_id: u64,
    /// The operator handling it (`0` for none).
    pub operator_id: u64,
    /// Whether the session is closed.
    pub closed: bool,
    /// Pinned to its operator (`imopenlines.session.mode.pin`).
    pub pinned: bool,
    /// Rating given by the head (`sessionVoteHead`).
    pub vote_head: i64,
    /// The head's comment on the rating (`sessionCommentHead`).
    pub comment_head: Option<String>,
    /// When the session started.
    pub created: DateTime<Utc>,
}

impl Session {
    /// An open, unpinned session of `chat_id` handled by `operator_id`, started now.
    pub fn new(chat_id: u64, operator_id: u64) -> Self {
        Self {
            id: 0,
            chat_id,
            operator_id,
            closed: false,
            pinned: false,
            vote_head: 0,
            comment_head: None,
            created: Utc::now(),
        }
    }

    /// Fixes the id.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    /// Marks the session closed.
    #[must_use]
    pub fn closed(mut self) -> Self {
        self.closed = true;
        self
    }

    /// Sets the start time.
    #[must_use]
    pub fn with_created(mut self, created: DateTime<Utc>) -> Self {
        self.created = created;
        self
    }
}

/// A chat message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The message id (`0` until added).
    pub id: u64,
    /// The chat it was posted in.
    pub chat_id: u64,
    /// The open-line session it belongs to, if any.
    pub session_id: Option<u64>,
    /// The author; `0` for system messages.
    pub author_id: u64,
    /// When it was posted.
    pub date: DateTime<Utc>,
    /// The text, with BB-code (`[b]…[/b]`).
    pub text: String,
    /// Service parameters (`params` in answers); `fileId` is added from [`Message::file_ids`].
    pub params: Map<String, Value>,
    /// Attached files.
    pub file_ids: Vec<u64>,
}

impl Message {
    /// A message by `author_id` (0 = system) in `chat_id`, posted now.
    pub fn new(chat_id: u64, author_id: u64, text: impl Into<String>) -> Self {
        Self {
            id: 0,
            chat_id,
            session_id: None,
            author_id,
            date: Utc::now(),
            text: text.into(),
            params: Map::new(),
            file_ids: Vec::new(),
        }
    }

    /// Fixes the id.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    /// Puts the message in an open-line session.
    #[must_use]
    pub fn in_session(mut self, session_id: u64) -> Self {
        self.session_id = Some(session_id);
        self
    }

    /// Sets the posting time.
    #[must_use]
    pub fn with_date(mut self, date: DateTime<Utc>) -> Self {
        self.date = date;
        self
    }

    /// Attaches a file.
    #[must_use]
    pub fn with_file(mut self, file_id: u64) -> Self {
        self.file_ids.push(file_id);
        self
    }

    /// Sets one service parameter.
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: Value) -> Self {
        self.params.insert(name.into(), value);
        self
    }
}

/// A file attached to a chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The file id (`0` until added).
    pub id: u64,
    /// The chat it was posted in.
    pub chat_id: u64,
    /// Who uploaded it.
    pub author_id: u64,
    /// The file name, e.g. `screenshot.png`.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Width and height for images; `None` for other files.
    pub image: Option<(u32, u32)>,
    /// Upload time.
    pub date: DateTime<Utc>,
}

impl File {
    /// A file of `size` bytes uploaded by `author_id` to `chat_id` now.
    pub fn new(chat_id: u64, author_id: u64, name: impl Into<String>, size: u64) -> Self {
        Self {
            id: 0,
            chat_id,
            author_id,
            name: name.into(),
            size,
            image: None,
            date: Utc::now(),
        }
    }

    /// Fixes the id.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    /// Marks the file as an image of the given size.
    #[must_use]
    pub fn with_image(mut self, width: u32, height: u32) -> Self {
        self.image = Some((width, height));
        self
    }

    /// Sets the upload time.
    #[must_use]
    pub fn with_date(mut self, date: DateTime<Utc>) -> Self {
        self.date = date;
        self
    }

    /// The extension, lowercased (`""` when the name has none).
    pub fn extension(&self) -> String {
        match self.name.rsplit_once('.') {
            Some((_, ext)) => ext.to_ascii_lowercase(),
            None => String::new(),
        }
    }

    /// `"image"` for images, `"file"` otherwise.
    pub fn type_name(&self) -> &'static str {
        if self.image.is_some() {
            "image"
        } else {
            "file"
        }
    }
}

/// An OAuth access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The user the token acts for.
    pub user_id: u64,
    /// When it stops working (`None`: never).
    pub expires_at: Option<std::time::SystemTime>,
}
