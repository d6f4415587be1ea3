//! Open-line events (`api-reference/imopenlines/openlines/events/`).

use serde_json::{json, Value};

use crate::state::Portal;

/// `ONSESSIONSTART`
pub const ON_SESSION_START: &str = "ONSESSIONSTART";

/// Fires `ONSESSIONSTART` for the session `session_id` just started (`on-session-start.md`):
///
/// ```json
/// {"DATA": [{"connector": {"connector_id": "livechat", "line_id": 1, "chat_id": 101, "user_id": 5},
///            "session": {"id": 42, "closed": "N", "parent_id": 41, "close_term": 60},
///            "chat": {"id": 101}, "user": {"id": 5}}]}
/// ```
///
/// The connector, line and external user come from the chat's user code
/// (`connector|line|chat|user`).
pub fn session_started(portal: &mut Portal, session_id: u64) -> usize {
    let Some(data) = session_start_data(portal, session_id) else {
        return 0;
    };
    let operator = portal.session(session_id).map_or(0, |s| s.operator_id);
    portal.fire_event(ON_SESSION_START, data, operator)
}

fn session_start_data(portal: &Portal, session_id: u64) -> Option<Value> {
    let session = portal.session(session_id)?;
    let chat = portal.chat(session.chat_id)?;
    let code = chat.entity_id().unwrap_or_default();
    let mut parts = code.split('|');
    let connector = parts.next().filter(|c| !c.is_empty()).unwrap_or("livechat");
    let line_id = chat.line_id().unwrap_or(0);
    let external_user: u64 = parts.nth(2).and_then(|u| u.parse().ok()).unwrap_or(0);
    let parent_id = portal
        .sessions_of_chat(chat.id)
        .filter(|s| s.id < session_id)
        .map(|s| s.id)
        .max()
        .unwrap_or(0);
    Some(json!({
        "DATA": [{
            "connector": {
                "connector_id": connector,
                "line_id": line_id,
                "chat_id": chat.id,
                "user_id": external_user,
            },
            "session": {"id": session_id, "closed": "N", "parent_id": parent_id, "close_term": 60},
            "chat": {"id": chat.id},
            "user": {"id": external_user},
        }]
    }))
}
