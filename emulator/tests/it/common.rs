//! Helpers: start the demo portal, send requests, check envelopes.

use b24_emulator::{Emulator, Portal, DEMO_IDS};
use serde_json::Value;

/// A decoded answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Answer {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            content_type,
            headers,
            text,
            body,
        }
    }

    /// Asserts a success envelope and returns `result`.
    #[track_caller]
    pub fn result(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.text);
        assert!(self.content_type.starts_with("application/json"));
        assert!(self.body.get("error").is_none(), "{}", self.text);
        let time = &self.body["time"];
        for key in ["start", "finish", "duration", "processing", "operating"] {
            assert!(time[key].is_number(), "time.{key} in {}", self.text);
        }
        // Whole seconds, or with a fraction when the portal clock is scaled.
        assert!(time["operating_reset_at"].is_number());
        for key in ["date_start", "date_finish"] {
            let date = time[key].as_str().expect("date string");
            assert!(
                chrono::DateTime::parse_from_rfc3339(date).is_ok(),
                "{key} = {date}"
            );
        }
        &self.body["result"]
    }

    /// Asserts an error envelope with this status and code; returns the description.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> &str {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(self.content_type.starts_with("application/json"));
        assert_eq!(self.body["error"], code, "{}", self.text);
        assert!(self.body.get("time").is_none(), "no time block on errors");
        assert!(self.body.get("result").is_none());
        let keys: Vec<&String> = self.body.as_object().expect("object").keys().collect();
        assert_eq!(
            keys.len(),
            2,
            "only error and error_description: {}",
            self.text
        );
        self.body["error_description"]
            .as_str()
            .expect("description")
    }
}

pub async fn demo() -> Emulator {
    Emulator::start(Portal::demo())
        .await
        .expect("emulator starts")
}

/// The admin's webhook URL of the demo portal.
pub fn admin(emu: &Emulator) -> String {
    emu.webhook_url(DEMO_IDS.admin_user).expect("admin webhook")
}

/// User 2's webhook URL.
pub fn other(emu: &Emulator) -> String {
    emu.webhook_url(DEMO_IDS.other_user)
        .expect("user 2 webhook")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn post_json(url: &str, body: Value) -> Answer {
    let response = client()
        .post(url)
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("request");
    Answer::from(response).await
}

pub async fn post_body(url: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Answer {
    let response = client()
        .post(url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    Answer::from(response).await
}

pub async fn post_form(url: &str, body: &str) -> Answer {
    post_body(url, "application/x-www-form-urlencoded", body.to_owned()).await
}

/// Starts an emulator on a portal.
pub async fn start(portal: Portal) -> Emulator {
    Emulator::start(portal).await.expect("emulator starts")
}

pub async fn get(url: &str) -> Answer {
    let response = client().get(url).send().await.expect("request");
    Answer::from(response).await
}

/// Adds a user with a webhook (and, when `operator`, in the demo line's queue); returns the
/// user's webhook URL and id.
pub fn add_user_with_webhook(emu: &Emulator, operator: bool) -> (String, u64) {
    let (id, code) = emu.portal().with(|portal| {
        let id = portal.add_user(b24_emulator::User::new("Test", "User"));
        if operator {
            portal.add_operator(DEMO_IDS.line_id, id);
        }
        (id, portal.add_webhook(id))
    });
    (emu.webhook_url_with_code(id, &code), id)
}

/// A webhook URL whose user has been deleted from the portal (the code still exists).
pub fn deleted_user_webhook(emu: &Emulator) -> String {
    let (url, id) = add_user_with_webhook(emu, true);
    emu.portal().lock().remove_user(id);
    url
}
