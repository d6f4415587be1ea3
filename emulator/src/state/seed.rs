//! Seed data from JSON ([`Portal::seed_json`]): users (with their webhooks and access tokens),
//! open lines, chats and CRM leads, as the `b24-emulator --seed FILE` binary reads them.
//!
//! ```json
//! {
//!   "users": [{"id": 10, "first_name": "Anna", "last_name": "Smith", "admin": false,
//!              "work_position": "Operator", "webhook": "anna-hook", "access_token": "anna-token"}],
//!   "lines": [{"id": 3, "name": "Support", "operators": [10]}],
//!   "chats": [{"id": 300, "type": "lines", "line": 3, "user_code": "livechat|3|300|11",
//!              "name": "Guest - Support", "owner": 10, "members": [11]},
//!             {"id": 301, "type": "chat", "name": "Team", "owner": 10, "members": [1]}],
//!   "leads": [{"id": 7, "title": "Big order", "opportunity": 2500.0, "assigned_by_id": 10}]
//! }
//! ```
//!
//! Every key is optional; ids left out (or `0`) get the next free id of their kind. `"leads"` may
//! also be a number `n`: `n` generated leads ([`Portal::seed_leads`], at most
//! [`MAX_SEEDED_LEADS`]). A user's `"connector": true` makes a visitor of an
//! external channel. A chat's `"type"` is `"lines"` (then `"line"` and `"user_code"` are required)
//! or `"chat"`. Unknown keys are errors, so that a typo does not pass silently.

use serde_json::{Map, Value};

use super::model::{Chat, OpenLine, User};
use super::{Lead, Portal, MAX_SEEDED_LEADS};

/// A seed file that does not describe portal data; says where (`chats[2].line`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seed {path}: {reason}")]
pub struct SeedError {
    /// Where in the document: `users[0].first_name`.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// How many records a seed added, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Seeded {
    /// Users.
    pub users: usize,
    /// Open lines.
    pub lines: usize,
    /// Chats.
    pub chats: usize,
    /// Leads.
    pub leads: u64,
}

fn error(path: &str, reason: impl Into<String>) -> SeedError {
    SeedError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// One JSON object being read: each key read is ticked off, and keys left over are errors.
struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
    read: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, path: String) -> Result<Self, SeedError> {
        match value {
            Value::Object(map) => Ok(Fields {
                path,
                map,
                read: Vec::new(),
            }),
            _ => Err(error(&path, "expected an object")),
        }
    }

    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.read.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn id(&mut self, key: &'static str) -> Result<Option<u64>, SeedError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| error(&self.at(key), "expected a non-negative integer")),
        }
    }

    fn string(&mut self, key: &'static str) -> Result<Option<String>, SeedError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(error(&self.at(key), "expected a string")),
        }
    }

    fn required(&mut self, key: &'static str) -> Result<String, SeedError> {
        self.string(key)?
            .ok_or_else(|| error(&self.at(key), "required"))
    }

    fn flag(&mut self, key: &'static str) -> Result<bool, SeedError> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(error(&self.at(key), "expected true or false")),
        }
    }

    fn ids(&mut self, key: &'static str) -> Result<Vec<u64>, SeedError> {
        let Some(value) = self.get(key) else {
            return Ok(Vec::new());
        };
        let at = self.at(key);
        let items = value
            .as_array()
            .ok_or_else(|| error(&at, "expected an array of user ids"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_u64()
                    .ok_or_else(|| error(&format!("{at}[{i}]"), "expected a user id"))
            })
            .collect()
    }

    /// Fails on the first key that was not read.
    fn finish(self) -> Result<(), SeedError> {
        match self.map.keys().find(|k| !self.read.contains(&k.as_str())) {
            Some(key) => Err(error(&self.at(key), "unknown key")),
            None => Ok(()),
        }
    }
}

fn items<'a>(value: Option<&'a Value>, key: &str) -> Result<&'a [Value], SeedError> {
    match value {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(error(key, "expected an array")),
    }
}

impl Portal {
    /// Adds the users, open lines, chats and leads described by `seed` (format in the module
    /// docs, [`state::seed`](crate::state::seed)). On an error nothing is added.
    pub fn seed_json(&mut self, seed: &Value) -> Result<Seeded, SeedError> {
        let mut staged = self.clone();
        let seeded = staged.seed_into(seed)?;
        *self = staged;
        Ok(seeded)
    }

    fn seed_into(&mut self, seed: &Value) -> Result<Seeded, SeedError> {
        let mut top = Fields::of(seed, String::new())?;
        let mut seeded = Seeded::default();
        for (i, item) in items(top.get("users"), "users")?.iter().enumerate() {
            self.seed_user(Fields::of(item, format!("users[{i}]"))?)?;
            seeded.users += 1;
        }
        for (i, item) in items(top.get("lines"), "lines")?.iter().enumerate() {
            self.seed_line(Fields::of(item, format!("lines[{i}]"))?)?;
            seeded.lines += 1;
        }
        for (i, item) in items(top.get("chats"), "chats")?.iter().enumerate() {
            self.seed_chat(Fields::of(item, format!("chats[{i}]"))?)?;
            seeded.chats += 1;
        }
        match top.get("leads") {
            None => {}
            Some(Value::Number(n)) => {
                let count = n
                    .as_u64()
                    .filter(|n| *n <= MAX_SEEDED_LEADS)
                    .ok_or_else(|| {
                        error(
                            "leads",
                            format!("expected a count up to {MAX_SEEDED_LEADS}"),
                        )
                    })?;
                self.seed_leads(count);
                seeded.leads = count;
            }
            leads => {
                for (i, item) in items(leads, "leads")?.iter().enumerate() {
                    self.seed_lead(Fields::of(item, format!("leads[{i}]"))?)?;
                    seeded.leads += 1;
                }
            }
        }
        top.finish()?;
        Ok(seeded)
    }

    fn seed_user(&mut self, mut f: Fields<'_>) -> Result<(), SeedError> {
        let first_name = f.required("first_name")?;
        let mut user = if f.flag("connector")? {
            User::connector(first_name)
        } else {
            User::new(first_name, f.string("last_name")?.unwrap_or_default())
        };
        user.id = f.id("id")?.unwrap_or(0);
        user.admin = f.flag("admin")?;
        user.work_position = f.string("work_position")?;
        let webhook = f.string("webhook")?;
        let token = f.string("access_token")?;
        f.finish()?;
        let id = self.add_user(user);
        if let Some(code) = webhook {
            self.add_webhook_with_code(id, code);
        }
        if let Some(token) = token {
            self.add_access_token(id, token);
        }
        Ok(())
    }

    fn seed_line(&mut self, mut f: Fields<'_>) -> Result<(), SeedError> {
        let mut line = OpenLine::new(f.required("name")?);
        line.id = f.id("id")?.unwrap_or(0);
        for (i, user) in f.ids("operators")?.into_iter().enumerate() {
            if self.user(user).is_none() {
                return Err(error(&f.at(&format!("operators[{i}]")), "no such user"));
            }
            line = line.with_operator(user);
        }
        f.finish()?;
        self.add_line(line);
        Ok(())
    }

    fn seed_chat(&mut self, mut f: Fields<'_>) -> Result<(), SeedError> {
        let name = f.required("name")?;
        let mut chat = match f.required("type")?.as_str() {
            "lines" => {
                let line = f
                    .id("line")?
                    .ok_or_else(|| error(&f.at("line"), "required for an open line chat"))?;
                if self.line(line).is_none() {
                    return Err(error(&f.at("line"), "no such open line"));
                }
                Chat::lines(line, f.required("user_code")?, name)
            }
            "chat" => Chat::group(name),
            _ => return Err(error(&f.at("type"), "expected \"lines\" or \"chat\"")),
        };
        chat.id = f.id("id")?.unwrap_or(0);
        let owner = f.id("owner")?;
        let members = f.ids("members")?;
        for user in owner.iter().chain(&members) {
            if self.user(*user).is_none() {
                return Err(error(&f.at("members"), format!("no such user {user}")));
            }
        }
        f.finish()?;
        if let Some(owner) = owner {
            chat = chat.with_owner(owner);
        }
        for user in members {
            chat = chat.with_member(user);
        }
        self.add_chat(chat);
        Ok(())
    }

    fn seed_lead(&mut self, mut f: Fields<'_>) -> Result<(), SeedError> {
        let mut lead = Lead::new(f.required("title")?);
        lead.id = f.id("id")?.unwrap_or(0);
        if let Some(v) = f.get("opportunity") {
            lead.opportunity = v
                .as_f64()
                .filter(|o| o.is_finite() && *o >= 0.0)
                .ok_or_else(|| error(&f.at("opportunity"), "expected a non-negative number"))?;
        }
        if let Some(user) = f.id("assigned_by_id")? {
            lead.assigned_by_id = user;
        }
        f.finish()?;
        self.add_lead(lead);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_seed_adds_every_kind_of_record() {
        let mut portal = Portal::new();
        let seeded = portal
            .seed_json(&json!({
                "users": [
                    {"id": 10, "first_name": "Anna", "last_name": "Smith", "admin": true,
                     "webhook": "anna-hook", "access_token": "anna-token"},
                    {"first_name": "Guest", "connector": true}
                ],
                "lines": [{"id": 3, "name": "Support", "operators": [10]}],
                "chats": [
                    {"id": 300, "type": "lines", "line": 3, "user_code": "livechat|3|300|11",
                     "name": "Guest - Support", "owner": 10, "members": [11]},
                    {"type": "chat", "name": "Team", "members": [10]}
                ],
                "leads": [{"id": 7, "title": "Big order", "opportunity": 2500.0}]
            }))
            .expect("a valid seed");
        assert_eq!(
            seeded,
            Seeded {
                users: 2,
                lines: 1,
                chats: 2,
                leads: 1
            }
        );
        assert!(portal.user(10).is_some_and(|u| u.admin));
        assert!(portal.user(11).is_some_and(|u| u.connector));
        assert_eq!(portal.webhook_user("anna-hook"), Some(10));
        assert!(portal.access_token("anna-token").is_some());
        assert!(portal.can_access_chat(10, 300));
        assert_eq!(
            portal.chat(300).and_then(Chat::entity_id),
            Some("livechat|3|300|11")
        );
        assert_eq!(portal.chat(301).map(Chat::is_lines), Some(false));
        assert_eq!(portal.lead(7).map(|l| l.opportunity), Some(2500.0));

        let mut portal = Portal::new();
        let seeded = portal.seed_json(&json!({"leads": 120})).expect("a count");
        assert_eq!(seeded.leads, 120);
        assert_eq!(portal.leads().len(), 120);
    }

    #[test]
    fn mistakes_are_reported_with_their_place_and_add_nothing() {
        let user = json!({"id": 10, "first_name": "Anna"});
        let cases = [
            (json!([]), "", "expected an object"),
            (json!({"user": []}), "user", "unknown key"),
            (json!({"users": {}}), "users", "expected an array"),
            (
                json!({"users": [{"last_name": "X"}]}),
                "users[0].first_name",
                "required",
            ),
            (
                json!({"users": [{"first_name": 1}]}),
                "users[0].first_name",
                "expected a string",
            ),
            (
                json!({"users": [{"first_name": "A", "id": -1}]}),
                "users[0].id",
                "expected a non-negative integer",
            ),
            (
                json!({"users": [{"first_name": "A", "admin": "Y"}]}),
                "users[0].admin",
                "expected true or false",
            ),
            (
                json!({"users": [{"first_name": "A", "mail": "a@b"}]}),
                "users[0].mail",
                "unknown key",
            ),
            (
                json!({"lines": [{"name": "L", "operators": [5]}]}),
                "lines[0].operators[0]",
                "no such user",
            ),
            (
                json!({"lines": [{"name": "L", "operators": "5"}]}),
                "lines[0].operators",
                "expected an array of user ids",
            ),
            (
                json!({"chats": [{"name": "C", "type": "open"}]}),
                "chats[0].type",
                "expected \"lines\" or \"chat\"",
            ),
            (
                json!({"chats": [{"name": "C", "type": "lines"}]}),
                "chats[0].line",
                "required for an open line chat",
            ),
            (
                json!({"chats": [{"name": "C", "type": "lines", "line": 9, "user_code": "x"}]}),
                "chats[0].line",
                "no such open line",
            ),
            (
                json!({"users": [user], "chats": [{"name": "C", "type": "chat", "members": [10, 12]}]}),
                "chats[0].members",
                "no such user 12",
            ),
            (
                json!({"leads": 10_000_001}),
                "leads",
                "expected a count up to 10000000",
            ),
            (
                json!({"leads": [{"title": "T", "opportunity": -1}]}),
                "leads[0].opportunity",
                "expected a non-negative number",
            ),
        ];
        for (seed, path, reason) in cases {
            let mut portal = Portal::new();
            let err = portal.seed_json(&seed).expect_err(&seed.to_string());
            assert_eq!(
                (err.path.as_str(), err.reason.as_str()),
                (path, reason),
                "{seed}"
            );
            assert_eq!(portal.users().count(), 0, "nothing added for {seed}");
        }
    }
}
