//! System-level behaviour of the client over HTTP against the emulated portal: authentication
//! failures, unknown and invalid method names, the https rule, secrets kept out of every `Debug`
//! and `Display`, and what happens when an answer does not have the declared shape.
//!
//! It also shows that a user can declare a method `b24` does not know in a few lines
//! (`user.profile.get` below) and test it against the emulator with a registered handler.

use std::time::Duration;

use b24::imopenlines::{self, SessionStart};
use b24::{
    Client, ConfigError, DecodeReason, Error, ErrorCode, ErrorKind, Method, MethodError,
    RetryPolicy,
};
use b24_emulator::{ApiError, Emulator, DEMO_IDS};
use serde_json::json;

mod common;
use common::demo;

fn admin(emu: &Emulator) -> Client {
    let url = emu.webhook_url(DEMO_IDS.admin_user).expect("demo webhook");
    Client::from_webhook(&url).expect("a loopback http webhook URL is accepted")
}

fn admin_oauth(emu: &Emulator) -> Client {
    Client::from_oauth(&emu.base_url(), DEMO_IDS.access_token)
        .expect("a loopback http portal URL is accepted")
}

/// Asserts an API (system or undeclared) error with this code and status, not retried.
#[track_caller]
fn assert_api_error<E: MethodError>(err: &Error<E>, code: ErrorCode, status: u16, text: &str) {
    match err.kind() {
        ErrorKind::Api(api) => {
            assert_eq!(api.code, code, "{err}");
            assert_eq!(api.status, status, "{err}");
            assert_eq!(api.description, text, "{err}");
        }
        other => panic!("expected an API error {code}, got {other:?}"),
    }
    assert!(err.method_error().is_none());
    assert_eq!(err.status(), Some(status));
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(err.attempts(), 1, "{err}");
}

/// Asserts that none of the texts contains `secret`.
#[track_caller]
fn assert_no_secret(secret: &str, texts: &[String]) {
    for text in texts {
        assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
    }
}

fn debug_and_display<E: MethodError>(err: &Error<E>) -> Vec<String> {
    vec![format!("{err:?}"), format!("{err:#?}"), err.to_string()]
}

// ---------------------------------------------------------------------------------------------
// authentication

#[tokio::test]
async fn wrong_webhook_code_is_no_auth_found() {
    let emu = demo().await;
    let wrong = Client::from_webhook(&emu.webhook_url_with_code(1, "wrong0code0xyz"))
        .expect("well-formed URL");

    // A declared method: the system error is not one of its own, so it comes as ErrorKind::Api.
    let err = imopenlines::session_start(&wrong, 101)
        .await
        .expect_err("wrong code");
    assert_api_error(
        &err,
        ErrorCode::NoAuthFound,
        401,
        "Wrong authorization data",
    );
    assert_eq!(
        err.to_string(),
        "imopenlines.session.start failed: NO_AUTH_FOUND (HTTP 401): Wrong authorization data"
    );

    // Raw calls alike; and another user's code under user 1's id, and a deleted webhook.
    let err = wrong
        .call_raw("imopenlines.dialog.get", &json!({"CHAT_ID": 101}))
        .await
        .expect_err("wrong code");
    assert_api_error(
        &err,
        ErrorCode::NoAuthFound,
        401,
        "Wrong authorization data",
    );
    let swapped = Client::from_webhook(&emu.webhook_url_with_code(1, DEMO_IDS.other_webhook))
        .expect("well-formed URL");
    let err = imopenlines::session_open(&swapped, DEMO_IDS.user_code)
        .await
        .expect_err("code of another user");
    assert_api_error(
        &err,
        ErrorCode::NoAuthFound,
        401,
        "Wrong authorization data",
    );
    let client = admin(&emu);
    assert!(emu.portal().lock().remove_webhook(DEMO_IDS.admin_webhook));
    let err = imopenlines::session_open(&client, DEMO_IDS.user_code)
        .await
        .expect_err("deleted webhook");
    assert_api_error(
        &err,
        ErrorCode::NoAuthFound,
        401,
        "Wrong authorization data",
    );

    // One request per call, none of them authenticated, nothing changed.
    let requests = emu.requests();
    assert_eq!(requests.len(), 4);
    for request in &requests {
        assert_eq!((request.status, request.user_id), (401, None));
        assert_eq!(request.error.as_deref(), Some("NO_AUTH_FOUND"));
    }
    assert_eq!(emu.portal().lock().sessions_of_chat(101).count(), 2);
}

#[tokio::test]
async fn unknown_and_expired_oauth_tokens() {
    let emu = demo().await;

    let unknown = Client::from_oauth(&emu.base_url(), "no0such0token").expect("client");
    let err = imopenlines::session_start(&unknown, 101)
        .await
        .expect_err("unknown token");
    assert_api_error(
        &err,
        ErrorCode::NoAuthFound,
        401,
        "Wrong authorization data",
    );

    // A static token cannot be renewed: `expired_token` is returned after one attempt.
    let client = admin_oauth(&emu);
    assert!(emu
        .portal()
        .lock()
        .expire_access_token(DEMO_IDS.access_token));
    let err = client
        .call(SessionStart::new(101))
        .await
        .expect_err("expired token");
    assert_api_error(
        &err,
        ErrorCode::ExpiredToken,
        401,
        "The access token provided has expired",
    );
    assert!(err
        .api_error()
        .is_some_and(|api| api.code.is_expired_token()));
    assert_eq!(emu.requests().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// method names

#[tokio::test]
async fn unknown_method_is_method_not_found() {
    let emu = demo().await;
    let client = admin(&emu);

    let err = client
        .call_raw("imopenlines.session.teleport", &json!({"CHAT_ID": 101}))
        .await
        .expect_err("no such method");
    assert_api_error(
        &err,
        ErrorCode::ErrorMethodNotFound,
        404,
        "Method not found!",
    );
    assert_eq!(err.method(), "imopenlines.session.teleport");

    // A declared method the portal does not have (here: unregistered) fails the same way, as an
    // API error of the typed call.
    assert!(emu.unregister("imopenlines.session.start"));
    let err = imopenlines::session_start(&client, 101)
        .await
        .expect_err("method gone");
    assert_api_error(
        &err,
        ErrorCode::ErrorMethodNotFound,
        404,
        "Method not found!",
    );

    let statuses: Vec<u16> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [404, 404]);
}

#[tokio::test]
async fn invalid_method_names_are_refused_locally() {
    let emu = demo().await;
    let client = admin(&emu);
    for name in [
        "",
        ".",
        "user.",
        ".user.current",
        "imopenlines..session.start",
        "imopenlines/session.start",
        "../1/demo0webhook0code/user.current",
        "user.current?auth=x",
        "user.current#x",
        "user current",
        "imopenlines.session.start\n",
        "юзер.current",
    ] {
        let err = client
            .call_raw(name, &json!({}))
            .await
            .expect_err("an invalid name");
        match err.kind() {
            ErrorKind::Config(ConfigError::InvalidMethodName { name: refused }) => {
                assert_eq!(refused, name);
            }
            other => panic!("{name:?}: expected a Config error, got {other:?}"),
        }
        assert!(!err.is_retryable());
        assert_eq!(err.status(), None);
        assert!(err.to_string().contains("invalid method name"), "{err}");
    }
    assert!(
        emu.requests().is_empty(),
        "nothing was sent: {:?}",
        emu.requests()
    );

    // Valid names of any case and with underscores go out.
    for name in ["IMOPENLINES.Session.Start", "tasks.flow.Flow_get"] {
        let _ = client.call_raw(name, &json!({"CHAT_ID": 102})).await;
    }
    let sent: Vec<String> = emu.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(sent, ["imopenlines.session.start", "tasks.flow.flow_get"]);
}

// ---------------------------------------------------------------------------------------------
// the https rule

#[tokio::test]
async fn plain_http_only_to_loopback() {
    // Remote plain http is refused at build, webhook and OAuth alike.
    for built in [
        Client::from_webhook("http://example.bitrix24.com/rest/1/abc123/"),
        Client::from_oauth("http://example.bitrix24.com", "tok3n"),
        Client::builder()
            .webhook("http://10.1.2.3/rest/1/abc123/")
            .build(),
    ] {
        match built {
            Err(err @ ConfigError::InsecureUrl { .. }) => {
                assert!(err.to_string().contains("allow_insecure_http"), "{err}");
            }
            other => panic!("expected InsecureUrl, got {other:?}"),
        }
    }
    match Client::from_webhook("http://example.bitrix24.com/rest/1/abc123/") {
        Err(ConfigError::InsecureUrl { host }) => assert_eq!(host, "example.bitrix24.com"),
        other => panic!("{other:?}"),
    }
    // Other schemes are not URLs of a portal.
    assert!(matches!(
        Client::from_oauth("ftp://example.bitrix24.com", "tok3n"),
        Err(ConfigError::InvalidUrl { .. })
    ));

    // https, loopback, and the explicit opt-in are accepted.
    for url in [
        "https://example.bitrix24.com/rest/1/abc123/",
        "http://127.0.0.1:8080/rest/1/abc123/",
        "http://localhost/rest/1/abc123/",
        "http://[::1]:8080/rest/1/abc123/",
    ] {
        assert!(Client::from_webhook(url).is_ok(), "{url}");
    }
    assert!(Client::builder()
        .webhook("http://example.bitrix24.com/rest/1/abc123/")
        .allow_insecure_http(true)
        .build()
        .is_ok());

    // The emulator is on loopback: calls over plain http work with the default settings.
    let emu = demo().await;
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    let opened = imopenlines::session_open(&admin(&emu), DEMO_IDS.user_code)
        .await
        .expect("a call over plain http to loopback");
    assert_eq!(opened.chat_id, 101);
    let opened = imopenlines::session_open(&admin_oauth(&emu), DEMO_IDS.user_code)
        .await
        .expect("an OAuth call over plain http to loopback");
    assert_eq!(opened.chat_id, 101);
}

// ---------------------------------------------------------------------------------------------
// secrets

#[tokio::test]
async fn secrets_stay_out_of_clients_credentials_and_errors() {
    let emu = demo().await;
    let code = DEMO_IDS.admin_webhook;
    let token = DEMO_IDS.access_token;
    let webhook = admin(&emu);
    let oauth = admin_oauth(&emu);

    for (client, secret) in [(&webhook, code), (&oauth, token)] {
        let texts = vec![
            format!("{client:?}"),
            format!("{client:#?}"),
            format!("{:?}", client.credentials()),
            client.credentials().rest_root().to_string(),
        ];
        assert_no_secret(secret, &texts);
        assert!(texts[2].contains("***"), "{}", texts[2]);
    }
    assert_eq!(
        webhook.credentials().rest_root().as_str(),
        format!("{}rest/", emu.base_url())
    );

    // Errors of calls that reached the portal: a method error, an API error, a wrong code.
    let err = imopenlines::session_start(&webhook, 102)
        .await
        .expect_err("CHAT_TYPE");
    assert_no_secret(code, &debug_and_display(&err));
    let err = oauth
        .call_raw("no.such.method", &json!({}))
        .await
        .expect_err("not found");
    assert_no_secret(token, &debug_and_display(&err));
    let wrong_code = "wrong0secret0code";
    let wrong = Client::from_webhook(&emu.webhook_url_with_code(1, wrong_code)).expect("client");
    let err = imopenlines::session_start(&wrong, 101)
        .await
        .expect_err("wrong code");
    assert_no_secret(wrong_code, &debug_and_display(&err));
    let wrong = Client::from_oauth(&emu.base_url(), "wrong0secret0token").expect("client");
    let err = imopenlines::session_start(&wrong, 101)
        .await
        .expect_err("wrong token");
    assert_no_secret("wrong0secret0token", &debug_and_display(&err));

    // An answer that echoes a secret and does not decode: its body copy is redacted.
    emu.register("imopenlines.session.start", move |_, _| {
        Ok(json!({"echo": format!("code {code}, token {token}")}))
    });
    for (client, secret) in [(&webhook, code), (&oauth, token)] {
        let err = imopenlines::session_start(client, 101)
            .await
            .expect_err("an object is not a bool");
        let ErrorKind::Decode(decode) = err.kind() else {
            panic!("expected a decode error, got {err:?}");
        };
        assert!(decode.body.contains("***"), "{}", decode.body);
        assert_no_secret(secret, std::slice::from_ref(&decode.body));
        assert_no_secret(secret, &debug_and_display(&err));
    }
}

/// The reason of a decode error quotes what could not be decoded; like the body copy, it must
/// not quote a secret the client holds.
#[tokio::test]
async fn decode_error_reasons_do_not_repeat_secrets() {
    let emu = demo().await;
    let client = admin(&emu);
    let code = DEMO_IDS.admin_webhook;
    // A string where a boolean is declared: serde's message quotes the string.
    emu.register("imopenlines.session.start", move |_, _| Ok(json!(code)));
    // An error envelope with an empty code: the reason quotes the description.
    emu.register("imopenlines.session.join", move |_, _| {
        Err(ApiError::new(
            "",
            format!("webhook {code} is not allowed here"),
        ))
    });

    let errors = [
        imopenlines::session_start(&client, 101)
            .await
            .expect_err("a string is not a bool")
            .erase(),
        imopenlines::session_join(&client, 101)
            .await
            .expect_err("no code")
            .erase(),
    ];
    let mut leaks = Vec::new();
    for err in &errors {
        let ErrorKind::Decode(decode) = err.kind() else {
            panic!("expected a decode error, got {err:?}");
        };
        assert!(!decode.body.contains(code), "the body copy is redacted");
        leaks.extend(
            debug_and_display(err)
                .into_iter()
                .filter(|text| text.contains(code)),
        );
    }
    assert!(
        leaks.is_empty(),
        "the webhook code leaked through the decode reason:\n{}",
        leaks.join("\n")
    );
}

#[tokio::test]
async fn secrets_stay_out_of_config_and_transport_errors() {
    // A webhook URL with a method name appended is refused without repeating its code.
    let err = Client::from_webhook("https://example.bitrix24.com/rest/1/s3cr3t0code/user.current")
        .expect_err("not a webhook URL");
    assert!(matches!(err, ConfigError::InvalidUrl { .. }));
    assert_no_secret("s3cr3t0code", &[format!("{err:?}"), err.to_string()]);

    // The portal is gone: the connection is refused, and the error does not carry the URL.
    let emu = demo().await;
    let url = emu.webhook_url(DEMO_IDS.admin_user).expect("webhook");
    emu.shutdown().await;
    let client = Client::builder()
        .webhook(&url)
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1)),
        )
        .build()
        .expect("client");
    let err = imopenlines::session_start(&client, 101)
        .await
        .expect_err("nothing listens");
    match err.kind() {
        ErrorKind::Transport(transport) => assert!(transport.is_connect(), "{transport:?}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    // Nothing reached the portal, so even a non-idempotent call is retried.
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.status(), None);
    assert_no_secret(DEMO_IDS.admin_webhook, &debug_and_display(&err));
}

// ---------------------------------------------------------------------------------------------
// a method declared here, a handler registered in the emulator

/// Reads a user's profile: a method `b24` does not declare, declared here in a few lines.
#[b24::b24_method(
    "user.profile.get",
    response = Profile,
    idempotent,
    errors(USER_NOT_FOUND(404) = "No user with that `ID`."),
)]
#[derive(Debug, Clone)]
struct ProfileGet {
    /// The user.
    id: u64,
    /// Whether to list the user's departments.
    #[b24(yn)]
    with_departments: Option<bool>,
}

/// The result of `user.profile.get`.
#[b24::b24_object(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone, PartialEq)]
struct Profile {
    id: u64,
    name: String,
    admin: bool,
    #[b24(default)]
    departments: Vec<u64>,
    last_activity: Option<b24::DateTime>,
}

/// The emulator's side of `user.profile.get`, written the way the portal answers (ids as
/// strings, `Y`/`N` flags, `false` for a missing date).
fn register_profile_get(emu: &Emulator) {
    emu.register("user.profile.get", |ctx, params| {
        let id = params.int("ID").unwrap_or(0);
        let portal = ctx.portal();
        let user = u64::try_from(id)
            .ok()
            .and_then(|id| portal.user(id))
            .ok_or_else(|| ApiError::new("USER_NOT_FOUND", "No such user").with_status(404))?;
        let mut profile = json!({
            "ID": user.id.to_string(),
            "NAME": user.full_name(),
            "ADMIN": if user.admin { "Y" } else { "N" },
            "LAST_ACTIVITY": user.last_activity.map_or(json!(false), |d| json!(portal.format_date(d))),
        });
        if params.get("WITH_DEPARTMENTS") == Some(&json!("Y")) {
            let departments: Vec<String> = user.departments.iter().map(u64::to_string).collect();
            profile["DEPARTMENTS"] = json!(departments);
        }
        Ok(profile)
    });
}

#[tokio::test]
async fn a_method_declared_here_runs_against_a_registered_handler() {
    let emu = demo().await;
    register_profile_get(&emu);
    let client = admin(&emu);
    assert_eq!(ProfileGet::NAME, "user.profile.get");
    assert_eq!(ProfileGet::SCOPE, "user");

    let profile = profile_get(&client, 1u64).await.expect("profile of user 1");
    assert_eq!(
        profile,
        Profile {
            id: 1,
            name: "Samantha Johnson".into(),
            admin: true,
            departments: vec![],
            last_activity: Some(
                b24::DateTime::parse_from_rfc3339("2026-03-11T13:14:35+01:00").expect("date")
            ),
        }
    );
    assert_eq!(emu.requests()[0].params, json!({"ID": 1}));

    let profile = client
        .call(ProfileGet::new(2u64).with_departments(true))
        .await
        .expect("profile of user 2");
    assert_eq!(profile.name, "Peter Brown");
    assert!(!profile.admin);
    assert_eq!(profile.departments, [7]);
    assert_eq!(profile.last_activity, None, "`false` on the wire");
    assert_eq!(
        emu.requests()[1].params,
        json!({"ID": 2, "WITH_DEPARTMENTS": "Y"})
    );

    // The declared error, with its declared status.
    let err = profile_get(&client, 99u64).await.expect_err("no user 99");
    match err.kind() {
        ErrorKind::Method {
            error: ProfileGetError::UserNotFound { description },
            status: 404,
        } => assert_eq!(description, "No such user"),
        other => panic!("expected USER_NOT_FOUND, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn a_result_of_the_wrong_shape_is_a_decode_error_with_its_path() {
    let emu = demo().await;
    let client = admin(&emu);

    let cases = [
        // (the handler's result, the path of the mismatch in `result`)
        (
            json!({"ID": "1", "NAME": "Ann", "ADMIN": "N", "DEPARTMENTS": ["1", "seven"]}),
            ".DEPARTMENTS[1]",
        ),
        (
            json!({"ID": "1", "NAME": "Ann", "ADMIN": "maybe"}),
            ".ADMIN",
        ),
        (json!({"ID": "one", "NAME": "Ann", "ADMIN": "N"}), ".ID"),
        (
            json!({"ID": 1, "NAME": "Ann", "ADMIN": "N", "LAST_ACTIVITY": "yesterday"}),
            ".LAST_ACTIVITY",
        ),
        (
            json!({"ID": 1, "NAME": {"first": "Ann"}, "ADMIN": "N"}),
            ".NAME",
        ),
    ];
    for (result, path) in cases {
        let answer = result.clone();
        emu.register("user.profile.get", move |_, _| Ok(answer.clone()));
        let err = client
            .call(ProfileGet::new(1u64))
            .await
            .expect_err("the wrong shape");
        let ErrorKind::Decode(decode) = err.kind() else {
            panic!("{result}: expected a decode error, got {err:?}");
        };
        match &decode.reason {
            DecodeReason::ResultShape { path: at, message } => {
                assert_eq!(at, path, "{result}: {message}");
                assert!(!message.is_empty());
            }
            other => panic!("{result}: expected a shape error, got {other:?}"),
        }
        assert_eq!(decode.status, 200);
        assert!(decode
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json")));
        // The body as it came back, for diagnosis.
        let body: serde_json::Value = serde_json::from_str(&decode.body).expect("the JSON body");
        assert_eq!(body["result"], result);
        assert_eq!(decode.body_len, decode.body.len());
        assert!(
            err.to_string().contains(&format!("`result{path}`")),
            "{err}"
        );
        // A 200 answer of the wrong shape is not retried, idempotent or not.
        assert!(!err.is_retryable());
        assert_eq!(err.attempts(), 1);
        assert_eq!(err.status(), Some(200));
    }
    assert_eq!(emu.requests().len(), 5);

    // A missing field.
    emu.register("user.profile.get", |_, _| {
        Ok(json!({"ID": 1, "ADMIN": "Y"}))
    });
    let err = client
        .call(ProfileGet::new(1u64))
        .await
        .expect_err("no NAME");
    match err.kind() {
        ErrorKind::Decode(decode) => match &decode.reason {
            DecodeReason::ResultShape { message, .. } => {
                assert!(message.contains("NAME"), "{message}");
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }

    // A declared method of the crate, its result replaced by one of the wrong shape.
    emu.register("imopenlines.session.open", |_, _| {
        Ok(json!({"chatId": "chat101"}))
    });
    let err = imopenlines::session_open(&client, DEMO_IDS.user_code)
        .await
        .expect_err("not an id");
    match err.kind() {
        ErrorKind::Decode(decode) => {
            assert!(
                matches!(&decode.reason, DecodeReason::ResultShape { path, .. } if path == ".chatId"),
                "{decode:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// server failures and retries

#[tokio::test]
async fn server_failures_are_retried_only_for_idempotent_methods() {
    let emu = demo().await;
    let fast = RetryPolicy::default()
        .max_attempts(3)
        .base_delay(Duration::from_millis(1));
    let client = Client::builder()
        .webhook(&emu.webhook_url(1).expect("webhook"))
        .retry(fast)
        .build()
        .expect("client");

    // Both methods answer 500 INTERNAL_SERVER_ERROR, every time.
    emu.register("user.profile.get", |_, _| Err(ApiError::internal()));
    emu.register(
        "imopenlines.session.start",
        |_, _| Err(ApiError::internal()),
    );

    // Idempotent: retried up to the policy's attempts.
    let err = client
        .call(ProfileGet::new(1u64))
        .await
        .expect_err("always fails");
    let api = err.api_error().expect("an API error");
    assert_eq!(
        (api.code.clone(), api.status),
        (ErrorCode::InternalServerError, 500)
    );
    assert_eq!(err.attempts(), 3);
    assert!(err.is_retryable());
    assert!(err.to_string().ends_with("(after 3 attempts)"), "{err}");

    // Not idempotent: the call may have run, so it is not repeated.
    let err = imopenlines::session_start(&client, 101)
        .await
        .expect_err("always fails");
    assert_eq!(err.attempts(), 1);
    assert!(!err.is_retryable());
    assert!(matches!(err.api_error(), Some(api) if api.status == 500));

    let methods: Vec<String> = emu.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(
        methods,
        [
            "user.profile.get",
            "user.profile.get",
            "user.profile.get",
            "imopenlines.session.start"
        ]
    );
}
