//! Every argument of `#[b24_method]`: name, response, scope, idempotent, fn_name, errors (plain,
//! with an HTTP status, string-literal codes), and every field attribute.
#![deny(warnings)]

use b24::__private::serde_json::{json, to_value};
use b24::{b24_method, Method, MethodError};

/// Starts a new session in an open line chat.
#[b24_method(
    "imopenlines.session.start",
    response = bool,
    scope = "imopenlines",
    idempotent,
    fn_name = start_session,
    errors(
        CHAT_ID = "Empty or invalid `CHAT_ID`.",
        CHAT_TYPE(400) = "The specified chat does not belong to open lines.",
        "invalid-code" = "A code that is not an identifier.",
    ),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStart {
    /// The open line chat.
    pub chat_id: i64,
    /// Whether to activate the session.
    #[b24(rename = "ACTIVATE", yn)]
    pub activate: Option<bool>,
    /// Sent as 1/0.
    #[b24(int_bool)]
    pub silent: bool,
    /// A note, left out when not set.
    pub comment: Option<String>,
    #[b24(rename = "USER_CODE")]
    pub user: String,
}

fn main() {
    assert_eq!(SessionStart::NAME, "imopenlines.session.start");
    assert_eq!(SessionStart::SCOPE, "imopenlines");
    assert!(SessionStart::IDEMPOTENT);

    // Required parameters go to `new` (as `impl Into<T>`), optional ones to setters.
    let params = SessionStart::new(2043_i32, true, "u1");
    assert_eq!(
        to_value(&params).unwrap(),
        json!({"CHAT_ID": 2043, "SILENT": 1, "USER_CODE": "u1"})
    );
    let params = params.activate(false).comment("hi");
    assert_eq!(
        to_value(&params).unwrap(),
        json!({"CHAT_ID": 2043, "ACTIVATE": "N", "SILENT": 1, "COMMENT": "hi", "USER_CODE": "u1"})
    );
    assert_eq!(params.activate, Some(false));

    // Error codes: matched ignoring case; a code with a status only with that status.
    type E = SessionStartError;
    let chat_id = E::from_code("chat_id", 200, "bad chat").unwrap();
    assert_eq!(
        chat_id,
        E::ChatId {
            description: "bad chat".into()
        }
    );
    assert_eq!(chat_id.code(), "CHAT_ID");
    assert_eq!(chat_id.description(), "bad chat");
    assert_eq!(chat_id.to_string(), "CHAT_ID: bad chat");
    assert!(matches!(
        E::from_code("CHAT_TYPE", 400, "x"),
        Some(E::ChatType { .. })
    ));
    assert_eq!(E::from_code("CHAT_TYPE", 500, "x"), None);
    assert_eq!(
        E::from_code("INVALID-CODE", 200, "d").unwrap().code(),
        "invalid-code"
    );
    assert_eq!(E::from_code("OTHER", 400, "x"), None);
    let _: &dyn std::error::Error = &chat_id;
    fn method_error<M: Method<Error = SessionStartError>>(_: &M) {}
    method_error(&params);

    // The free function builds the call; `.await` would send it.
    let client = b24::Client::from_webhook("https://example.bitrix24.com/rest/1/abc123/").unwrap();
    let call: b24::Call<'_, SessionStart> = start_session(&client, 1, false, String::from("u2"));
    drop(call);
}
