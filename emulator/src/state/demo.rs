//! A ready-made portal for tests and examples: [`Portal::demo`] and its [`DemoIds`].

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use super::model::{Chat, File, Message, OpenLine, ReadMark, Session, User};
use super::Portal;

/// The ids and credentials of [`Portal::demo`].
///
/// | what | value |
/// |---|---|
/// | admin and operator of line 1, webhook `demo0webhook0code`, token `demo0access0token` | user 1 |
/// | employee without access to the open-line chat, webhook `demo0webhook0user2` | user 2 |
/// | livechat visitor (connector user) | user 3 |
/// | open line "Demo line" (operators: user 1) | line 1 |
/// | open-line chat, user code `livechat|1|101|3`, members 1 and 3, CRM lead 1205 | chat 101 |
/// | ordinary group chat "General", members 1 and 2 | chat 102 |
/// | closed session of chat 101 (messages 1001, 1002) | session 201 |
/// | open session of chat 101 (messages 1003–1006; 1005 carries image file 501) | session 202 |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoIds {
    /// User 1: portal administrator and operator of the demo line.
    pub admin_user: u64,
    /// The webhook code of user 1.
    pub admin_webhook: &'static str,
    /// A non-expiring OAuth access token of user 1.
    pub access_token: &'static str,
    /// User 2: an employee who may not access the open-line chat.
    pub other_user: u64,
    /// The webhook code of user 2.
    pub other_webhook: &'static str,
    /// User 3: the livechat visitor of the open-line chat.
    pub guest_user: u64,
    /// The open line.
    pub line_id: u64,
    /// The open-line chat.
    pub lines_chat_id: u64,
    /// The user code (`entity_id`) of the open-line chat.
    pub user_code: &'static str,
    /// The ordinary (non-open-line) chat.
    pub group_chat_id: u64,
    /// The earlier, closed session of the open-line chat.
    pub closed_session_id: u64,
    /// The current, open session of the open-line chat.
    pub session_id: u64,
    /// The messages of the closed session, oldest first.
    pub closed_session_messages: [u64; 2],
    /// The messages of the open session, oldest first.
    pub session_messages: [u64; 4],
    /// The image attached to message 1005.
    pub file_id: u64,
    /// The CRM lead the open-line chat is bound to.
    pub crm_lead_id: u64,
}

/// The ids of [`Portal::demo`].
pub const DEMO_IDS: DemoIds = DemoIds {
    admin_user: 1,
    admin_webhook: "demo0webhook0code",
    access_token: "demo0access0token",
    other_user: 2,
    other_webhook: "demo0webhook0user2",
    guest_user: 3,
    line_id: 1,
    lines_chat_id: 101,
    user_code: "livechat|1|101|3",
    group_chat_id: 102,
    closed_session_id: 201,
    session_id: 202,
    closed_session_messages: [1001, 1002],
    session_messages: [1003, 1004, 1005, 1006],
    file_id: 501,
    crm_lead_id: 1205,
};

/// A fixed UTC time, so that the demo answers the same every run.
fn at(day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, second)
        .single()
        .unwrap_or_default()
}

impl Portal {
    /// The demo portal described in [`DemoIds`].
    pub fn demo() -> Self {
        Self::demo_with_ids().0
    }

    /// The demo portal and its ids ([`DEMO_IDS`]).
    pub fn demo_with_ids() -> (Self, DemoIds) {
        let ids = DEMO_IDS;
        let mut portal = Portal::new();

        let mut admin = User::new("Samantha", "Johnson")
            .with_id(ids.admin_user)
            .with_admin(true)
            .with_work_position("Support lead");
        admin.gender = "F".to_owned();
        admin.last_activity = Some(at(11, 12, 14, 35));
        portal.add_user(admin);
        let mut other = User::new("Peter", "Brown")
            .with_id(ids.other_user)
            .with_work_position("Accountant");
        other.gender = "M".to_owned();
        other.color = "#df532d".to_owned();
        other.departments = vec![7];
        portal.add_user(other);
        portal.add_user(User::connector("Guest").with_id(ids.guest_user));

        portal.add_webhook_with_code(ids.admin_user, ids.admin_webhook);
        portal.add_webhook_with_code(ids.other_user, ids.other_webhook);
        portal.add_access_token(ids.admin_user, ids.access_token);

        portal.add_line(
            OpenLine::new("Demo line")
                .with_id(ids.line_id)
                .with_operator(ids.admin_user),
        );

        let mut lines_chat = Chat::lines(ids.line_id, ids.user_code, "Guest - Demo line")
            .with_id(ids.lines_chat_id)
            .with_owner(ids.admin_user)
            .with_manager(ids.admin_user)
            .with_member(ids.guest_user)
            .with_created(at(10, 9, 0, 0));
        lines_chat.color = "#ba9c7b".to_owned();
        lines_chat.crm_lead_id = Some(ids.crm_lead_id);
        lines_chat.read_marks.insert(
            ids.guest_user,
            ReadMark {
                message_id: ids.session_messages[2],
                date: None,
            },
        );
        lines_chat.read_marks.insert(
            ids.admin_user,
            ReadMark {
                message_id: ids.session_messages[3],
                date: Some(at(11, 12, 14, 0)),
            },
        );
        portal.add_chat(lines_chat);
        portal.add_chat(
            Chat::group("General")
                .with_id(ids.group_chat_id)
                .with_owner(ids.admin_user)
                .with_member(ids.other_user)
                .with_created(at(1, 8, 0, 0)),
        );

        let chat = ids.lines_chat_id;
        portal.add_session(
            Session::new(chat, ids.admin_user)
                .with_id(ids.closed_session_id)
                .with_created(at(10, 9, 0, 0))
                .closed(),
        );
        portal.add_session(
            Session::new(chat, ids.admin_user)
                .with_id(ids.session_id)
                .with_created(at(11, 12, 8, 52)),
        );

        let [first, second] = ids.closed_session_messages;
        portal.add_message(
            Message::new(chat, ids.guest_user, "Hello, where is my order?")
                .with_id(first)
                .in_session(ids.closed_session_id)
                .with_date(at(10, 9, 0, 5)),
        );
        portal.add_message(
            Message::new(chat, ids.admin_user, "It ships tomorrow.")
                .with_id(second)
                .in_session(ids.closed_session_id)
                .with_date(at(10, 9, 2, 40)),
        );

        let [lead, question, answer, thanks] = ids.session_messages;
        portal.add_message(
            Message::new(chat, 0, "[b]A new lead has been created[/b]")
                .with_id(lead)
                .in_session(ids.session_id)
                .with_date(at(11, 12, 9, 25))
                .with_param(
                    "attach",
                    json!([{
                        "id": 1773223765,
                        "blocks": [{"link": [{
                            "name": "Lead #1205",
                            "link": "/crm/lead/details/1205/"
                        }]}],
                        "description": "",
                        "color": "#df532d"
                    }]),
                ),
        );
        portal.add_message(
            Message::new(chat, ids.guest_user, "How do I add an observer to a task?")
                .with_id(question)
                .in_session(ids.session_id)
                .with_date(at(11, 12, 10, 3)),
        );
        portal.add_file(
            File::new(chat, ids.admin_user, "observers.png", 70855)
                .with_id(ids.file_id)
                .with_image(646, 615)
                .with_date(at(11, 12, 12, 46)),
        );
        portal.add_message(
            Message::new(
                chat,
                ids.admin_user,
                "Open the task card and click [b]Observers[/b]",
            )
            .with_id(answer)
            .in_session(ids.session_id)
            .with_date(at(11, 12, 12, 46))
            .with_file(ids.file_id),
        );
        portal.add_message(
            Message::new(chat, ids.guest_user, "Thank you!")
                .with_id(thanks)
                .in_session(ids.session_id)
                .with_date(at(11, 12, 13, 30)),
        );

        (portal, ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_matches_its_ids() {
        let (portal, ids) = Portal::demo_with_ids();
        assert!(portal.user(ids.admin_user).is_some_and(|u| u.admin));
        assert_eq!(portal.webhook_user(ids.admin_webhook), Some(ids.admin_user));
        assert_eq!(portal.webhook_user(ids.other_webhook), Some(ids.other_user));
        assert!(portal.can_access_chat(ids.admin_user, ids.lines_chat_id));
        assert!(!portal.can_access_chat(ids.other_user, ids.lines_chat_id));
        assert_eq!(
            portal.chat_by_user_code(ids.user_code).map(|c| c.id),
            Some(ids.lines_chat_id)
        );
        assert!(!portal.chat(ids.group_chat_id).is_some_and(Chat::is_lines));
        assert_eq!(
            portal.last_session(ids.lines_chat_id).map(|s| s.id),
            Some(ids.session_id)
        );
        let in_session: Vec<u64> = portal
            .messages_of_session(ids.session_id)
            .map(|m| m.id)
            .collect();
        assert_eq!(in_session, ids.session_messages.to_vec());
    }
}
