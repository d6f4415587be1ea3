//! The state of the emulated portal: who may call it, and the data methods read and change.
//!
//! [`Portal`] owns every record ([`model`], [`Lead`]), the credentials (webhooks, OAuth tokens,
//! OAuth applications and refresh tokens) and the limit settings and counters (time scale, leaky
//! bucket, operating time). A running emulator keeps it behind a [`PortalHandle`] so tests can
//! change it between calls; method handlers get `&mut Portal` for the duration of one call.

mod demo;
mod handle;
pub(crate) mod idempotency;
mod leads;
mod limits;
pub mod model;
mod oauth;
pub mod seed;

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, Offset, SecondsFormat, Utc};

pub use demo::{DemoIds, DEMO_IDS};
pub use handle::PortalHandle;
pub use leads::{Lead, MAX_SEEDED_LEADS};
use model::{AccessToken, Chat, File, Message, OpenLine, Session, User};
pub(crate) use oauth::invalid_request as oauth_invalid_request;
pub use oauth::{IssuedTokens, OAuthApp};
pub use seed::{SeedError, Seeded};

/// An emulated Bitrix24 portal.
///
/// Build one with [`Portal::new`] (empty) or [`Portal::demo`] (ready-made data, see [`DemoIds`]),
/// then hand it to [`Emulator::start`](crate::Emulator::start).
///
/// Records added with id `0` get the next free id of their kind (one above the largest); a record
/// added with an id already in use replaces the old one.
#[derive(Debug, Clone)]
pub struct Portal {
    users: BTreeMap<u64, User>,
    /// Webhook code → the user who created it.
    webhooks: BTreeMap<String, u64>,
    tokens: HashMap<String, AccessToken>,
    lines: BTreeMap<u64, OpenLine>,
    chats: BTreeMap<u64, Chat>,
    sessions: BTreeMap<u64, Session>,
    messages: BTreeMap<u64, Message>,
    files: BTreeMap<u64, File>,
    im_installed: bool,
    utc_offset: FixedOffset,
    codes_issued: u64,
    /// CRM leads, sorted by id.
    leads: Vec<Lead>,
    /// OAuth applications and refresh tokens.
    oauth: oauth::OAuthRegistry,
    /// The clock, the leaky bucket and the operating-time ledger.
    limits: crate::limits::Limits,
    /// Answers stored under REST 3.0 idempotency keys.
    idempotency: idempotency::IdempotencyStore,
    /// Installed applications, event handlers, the offline queue and deliveries due.
    pub(crate) events: crate::events::EventState,
}

impl Default for Portal {
    fn default() -> Self {
        Self::new()
    }
}

/// The next id for a map keyed by id.
fn next_id<T>(map: &BTreeMap<u64, T>) -> u64 {
    map.keys()
        .next_back()
        .map_or(1, |last| last.saturating_add(1))
}

/// The id a record is stored under: its own, or the next free one for `0`.
fn assign_id<T>(map: &BTreeMap<u64, T>, id: u64) -> u64 {
    if id == 0 {
        next_id(map)
    } else {
        id
    }
}

impl Portal {
    /// An empty portal: no users, the messenger (`im`) installed, dates answered in UTC+01:00.
    pub fn new() -> Self {
        Self {
            users: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            tokens: HashMap::new(),
            lines: BTreeMap::new(),
            chats: BTreeMap::new(),
            sessions: BTreeMap::new(),
            messages: BTreeMap::new(),
            files: BTreeMap::new(),
            im_installed: true,
            utc_offset: FixedOffset::east_opt(3600).unwrap_or_else(|| Utc.fix()),
            codes_issued: 0,
            leads: Vec::new(),
            oauth: oauth::OAuthRegistry::default(),
            limits: crate::limits::Limits::default(),
            idempotency: idempotency::IdempotencyStore::default(),
            events: crate::events::EventState::default(),
        }
    }

    // ----- settings -----

    /// Whether the messenger module is installed (`imopenlines.dialog.get` answers
    /// `IM_NOT_INSTALLED` when it is not).
    pub fn im_installed(&self) -> bool {
        self.im_installed
    }

    /// Installs or removes the messenger module.
    pub fn set_im_installed(&mut self, installed: bool) {
        self.im_installed = installed;
    }

    /// The portal's time zone, used for every date in answers.
    pub fn utc_offset(&self) -> FixedOffset {
        self.utc_offset
    }

    /// Sets the portal's time zone.
    pub fn set_utc_offset(&mut self, offset: FixedOffset) {
        self.utc_offset = offset;
    }

    /// A date as the portal writes it: RFC 3339 in the portal's zone, whole seconds, numeric
    /// offset (`2026-03-16T14:31:58+01:00`).
    pub fn format_date(&self, date: DateTime<Utc>) -> String {
        date.with_timezone(&self.utc_offset)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    }

    // ----- users -----

    /// Adds (or replaces) a user; returns its id.
    pub fn add_user(&mut self, mut user: User) -> u64 {
        user.id = assign_id(&self.users, user.id);
        let id = user.id;
        self.users.insert(id, user);
        id
    }

    /// A user by id.
    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.get(&id)
    }

    /// A user by id, to change it.
    pub fn user_mut(&mut self, id: u64) -> Option<&mut User> {
        self.users.get_mut(&id)
    }

    /// All users, by id.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Deletes a user and returns it. Their webhooks and tokens stay valid, so calls made with them
    /// authenticate but have no user behind them: methods answer `USER_ID` ("the user on behalf of
    /// whom the method is executed is not defined").
    pub fn remove_user(&mut self, id: u64) -> Option<User> {
        self.users.remove(&id)
    }

    // ----- credentials -----

    /// Creates a webhook for `user_id` with a fresh random-looking code and returns the code.
    pub fn add_webhook(&mut self, user_id: u64) -> String {
        loop {
            let code = self.fresh_code();
            if !self.webhooks.contains_key(&code) {
                self.webhooks.insert(code.clone(), user_id);
                return code;
            }
        }
    }

    /// Creates (or re-points) a webhook with a chosen code.
    pub fn add_webhook_with_code(&mut self, user_id: u64, code: impl Into<String>) {
        self.webhooks.insert(code.into(), user_id);
    }

    /// Deletes a webhook; calls with its code then fail with `NO_AUTH_FOUND`.
    pub fn remove_webhook(&mut self, code: &str) -> bool {
        self.webhooks.remove(code).is_some()
    }

    /// The user a webhook code belongs to.
    pub fn webhook_user(&self, code: &str) -> Option<u64> {
        self.webhooks.get(code).copied()
    }

    /// The webhook codes of a user, in code order.
    pub fn webhooks_of(&self, user_id: u64) -> Vec<&str> {
        self.webhooks
            .iter()
            .filter(|(_, owner)| **owner == user_id)
            .map(|(code, _)| code.as_str())
            .collect()
    }

    /// Adds an OAuth access token acting for `user_id` that never expires.
    pub fn add_access_token(&mut self, user_id: u64, token: impl Into<String>) {
        self.tokens.insert(
            token.into(),
            AccessToken {
                user_id,
                expires_at: None,
            },
        );
    }

    /// Adds an OAuth access token that expires at `expires_at`; calls made with it afterwards fail
    /// with 401 `expired_token`.
    pub fn add_access_token_expiring(
        &mut self,
        user_id: u64,
        token: impl Into<String>,
        expires_at: SystemTime,
    ) {
        self.tokens.insert(
            token.into(),
            AccessToken {
                user_id,
                expires_at: Some(expires_at),
            },
        );
    }

    /// Makes a token expire now.
    pub fn expire_access_token(&mut self, token: &str) -> bool {
        match self.tokens.get_mut(token) {
            Some(entry) => {
                entry.expires_at = Some(SystemTime::UNIX_EPOCH);
                true
            }
            None => false,
        }
    }

    /// Deletes a token; calls with it then fail with `NO_AUTH_FOUND`.
    pub fn remove_access_token(&mut self, token: &str) -> bool {
        self.oauth.forget_token(token);
        self.tokens.remove(token).is_some()
    }

    /// A token's record.
    pub fn access_token(&self, token: &str) -> Option<&AccessToken> {
        self.tokens.get(token)
    }

    /// 16 lowercase letters and digits, as webhook codes look.
    fn fresh_code(&mut self) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        self.codes_issued += 1;
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(self.codes_issued);
        let mut bits = u128::from(hasher.finish()) << 64;
        hasher.write_u64(self.codes_issued.rotate_left(17));
        bits |= u128::from(hasher.finish());
        (0..16)
            .map(|_| {
                let digit = (bits % 36) as usize;
                bits /= 36;
                char::from(ALPHABET[digit])
            })
            .collect()
    }

    // ----- open lines -----

    /// Adds (or replaces) an open line; returns its id.
    pub fn add_line(&mut self, mut line: OpenLine) -> u64 {
        line.id = assign_id(&self.lines, line.id);
        let id = line.id;
        self.lines.insert(id, line);
        id
    }

    /// An open line by id.
    pub fn line(&self, id: u64) -> Option<&OpenLine> {
        self.lines.get(&id)
    }

    /// An open line by id, to change it.
    pub fn line_mut(&mut self, id: u64) -> Option<&mut OpenLine> {
        self.lines.get_mut(&id)
    }

    /// All open lines, by id.
    pub fn lines(&self) -> impl Iterator<Item = &OpenLine> {
        self.lines.values()
    }

    /// Puts a user in a line's operator queue; `false` if there is no such line.
    pub fn add_operator(&mut self, line_id: u64, user_id: u64) -> bool {
        let Some(line) = self.lines.get_mut(&line_id) else {
            return false;
        };
        line.operators.insert(user_id);
        true
    }

    // ----- chats -----

    /// Adds (or replaces) a chat; returns its id.
    pub fn add_chat(&mut self, mut chat: Chat) -> u64 {
        chat.id = assign_id(&self.chats, chat.id);
        let id = chat.id;
        self.chats.insert(id, chat);
        id
    }

    /// A chat by id.
    pub fn chat(&self, id: u64) -> Option<&Chat> {
        self.chats.get(&id)
    }

    /// A chat by id, to change it.
    pub fn chat_mut(&mut self, id: u64) -> Option<&mut Chat> {
        self.chats.get_mut(&id)
    }

    /// All chats, by id.
    pub fn chats(&self) -> impl Iterator<Item = &Chat> {
        self.chats.values()
    }

    /// The open-line chat with this user code (`entity_id`).
    pub fn chat_by_user_code(&self, user_code: &str) -> Option<&Chat> {
        self.chats
            .values()
            .find(|chat| chat.entity_id() == Some(user_code))
    }

    /// Grants a user access to a chat by making them a member; `false` if there is no such chat.
    pub fn add_chat_member(&mut self, chat_id: u64, user_id: u64) -> bool {
        let Some(chat) = self.chats.get_mut(&chat_id) else {
            return false;
        };
        chat.members.insert(user_id);
        true
    }

    /// Whether a user may work with a chat.
    ///
    /// A member always may. For an open-line chat so may portal administrators and the operators
    /// in the line's queue. Unknown users and chats: no.
    pub fn can_access_chat(&self, user_id: u64, chat_id: u64) -> bool {
        let (Some(user), Some(chat)) = (self.users.get(&user_id), self.chats.get(&chat_id)) else {
            return false;
        };
        if chat.members.contains(&user_id) {
            return true;
        }
        match chat.line_id() {
            Some(line_id) => {
                user.admin
                    || self
                        .lines
                        .get(&line_id)
                        .is_some_and(|line| line.operators.contains(&user_id))
            }
            None => false,
        }
    }

    // ----- sessions -----

    /// Adds (or replaces) a session; returns its id.
    pub fn add_session(&mut self, mut session: Session) -> u64 {
        session.id = assign_id(&self.sessions, session.id);
        let id = session.id;
        self.sessions.insert(id, session);
        id
    }

    /// A session by id.
    pub fn session(&self, id: u64) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// A session by id, to change it.
    pub fn session_mut(&mut self, id: u64) -> Option<&mut Session> {
        self.sessions.get_mut(&id)
    }

    /// The sessions of a chat, oldest first.
    pub fn sessions_of_chat(&self, chat_id: u64) -> impl Iterator<Item = &Session> {
        self.sessions
            .values()
            .filter(move |session| session.chat_id == chat_id)
    }

    /// The chat's latest session (largest id), open or closed.
    pub fn last_session(&self, chat_id: u64) -> Option<&Session> {
        self.sessions_of_chat(chat_id).last()
    }

    /// Closes the chat's open sessions and starts a new one handled by `operator_id`; returns the
    /// new session's id.
    pub fn start_session(&mut self, chat_id: u64, operator_id: u64) -> u64 {
        for session in self.sessions.values_mut() {
            if session.chat_id == chat_id {
                session.closed = true;
            }
        }
        self.add_session(Session::new(chat_id, operator_id))
    }

    // ----- messages and files -----

    /// Adds (or replaces) a message; returns its id.
    pub fn add_message(&mut self, mut message: Message) -> u64 {
        message.id = assign_id(&self.messages, message.id);
        let id = message.id;
        self.messages.insert(id, message);
        id
    }

    /// A message by id.
    pub fn message(&self, id: u64) -> Option<&Message> {
        self.messages.get(&id)
    }

    /// The messages of a chat, oldest first.
    pub fn messages_of_chat(&self, chat_id: u64) -> impl Iterator<Item = &Message> {
        self.messages
            .values()
            .filter(move |message| message.chat_id == chat_id)
    }

    /// The messages of a session, oldest first.
    pub fn messages_of_session(&self, session_id: u64) -> impl Iterator<Item = &Message> {
        self.messages
            .values()
            .filter(move |message| message.session_id == Some(session_id))
    }

    /// Adds (or replaces) a file; returns its id.
    pub fn add_file(&mut self, mut file: File) -> u64 {
        file.id = assign_id(&self.files, file.id);
        let id = file.id;
        self.files.insert(id, file);
        id
    }

    /// A file by id.
    pub fn file(&self, id: u64) -> Option<&File> {
        self.files.get(&id)
    }
}
