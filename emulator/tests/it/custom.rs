//! Methods registered at runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use b24_emulator::{ApiError, AuthKind, CallContext, Handler, Params, User, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn registered_list_method_with_next_and_total() {
    let emu = demo().await;
    emu.register("CRM.Deal.List", |ctx, params| {
        let start = params.int("start").unwrap_or(0).max(0) as u64;
        let total = 120;
        let page: Vec<Value> = (start..(start + 50).min(total))
            .map(|id| json!({"ID": (id + 1).to_string()}))
            .collect();
        if start + 50 < total {
            ctx.set_next(start + 50);
        }
        ctx.set_total(total);
        Ok(Value::Array(page))
    });

    let first = post_json(&format!("{}crm.deal.list", admin(&emu)), json!({})).await;
    let rows = first.result().as_array().map(Vec::len);
    assert_eq!(rows, Some(50));
    assert_eq!(first.body["next"], 50);
    assert_eq!(first.body["total"], 120);
    assert!(
        first.text.starts_with("{\"result\":[")
            && first
                .text
                .contains("],\"next\":50,\"total\":120,\"time\":{"),
        "{}",
        first.text
    );

    let last = post_form(&format!("{}crm.deal.list.json", admin(&emu)), "start=100").await;
    assert_eq!(last.result().as_array().map(Vec::len), Some(20));
    assert!(last.body.get("next").is_none());
    assert_eq!(last.body["total"], 120);
}

#[tokio::test]
async fn handler_sees_the_caller_and_changes_the_portal() {
    let emu = demo().await;
    emu.register("user.add", |ctx: &mut CallContext<'_>, params: &Params| {
        if !ctx.user().is_some_and(|user| user.admin) {
            return Err(ApiError::new("ACCESS_DENIED", "Only admins").with_status(403));
        }
        let name = params
            .get("FIELDS")
            .and_then(|fields| fields.get("NAME"))
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::new("ERROR_CORE", "NAME is required"))?
            .to_owned();
        let id = ctx.portal_mut().add_user(User::new(name, ""));
        Ok(json!(id))
    });

    let added = post_form(&format!("{}user.add", admin(&emu)), "FIELDS[NAME]=Zoe").await;
    let id = added.result().as_u64().expect("new id");
    assert_eq!(
        emu.portal().lock().user(id).map(|u| u.first_name.clone()),
        Some("Zoe".to_owned())
    );

    let denied = post_form(&format!("{}user.add", other(&emu)), "FIELDS[NAME]=Eve").await;
    assert_eq!(denied.error(403, "ACCESS_DENIED"), "Only admins");
    let missing = post_json(&format!("{}user.add", admin(&emu)), json!({"FIELDS": {}})).await;
    assert_eq!(missing.error(400, "ERROR_CORE"), "NAME is required");
}

#[tokio::test]
async fn handler_context_reports_auth_and_method() {
    let emu = demo().await;
    emu.register("app.info", |ctx, params| {
        Ok(json!({
            "user": ctx.user_id(),
            "oauth": ctx.auth() == AuthKind::OAuth,
            "method": ctx.method(),
            "chat": params.int("CHAT_ID"),
        }))
    });
    let answer = get(&format!(
        "{}APP.INFO?auth={}&chat_id=12",
        emu.rest_url(),
        DEMO_IDS.access_token
    ))
    .await;
    assert_eq!(
        answer.result(),
        &json!({"user": 1, "oauth": true, "method": "app.info", "chat": 12})
    );
}

#[tokio::test]
async fn panicking_handler_is_an_internal_error_and_the_server_survives() {
    let emu = demo().await;
    emu.register(
        "broken.method",
        |_ctx, _params| -> Result<Value, ApiError> { panic!("handler bug") },
    );
    let answer = post_json(&format!("{}broken.method", admin(&emu)), json!({})).await;
    answer.error(500, "INTERNAL_SERVER_ERROR");
    let after = post_json(
        &format!("{}imopenlines.session.open", admin(&emu)),
        json!({"USER_CODE": DEMO_IDS.user_code}),
    )
    .await;
    assert_eq!(after.result()["chatId"], "101");
}

#[tokio::test]
async fn builtins_can_be_overridden_and_removed() {
    let emu = demo().await;
    emu.register("IMOPENLINES.SESSION.OPEN", |_ctx, _params| {
        Ok(json!({"chatId": "42"}))
    });
    let url = format!("{}imopenlines.session.open", admin(&emu));
    let answer = post_json(&url, json!({})).await;
    assert_eq!(answer.result(), &json!({"chatId": "42"}));

    assert!(emu.unregister("imopenlines.session.open"));
    post_json(&url, json!({}))
        .await
        .error(404, "ERROR_METHOD_NOT_FOUND");
}

/// A handler with its own state, registered through the trait.
struct Counter(Arc<AtomicUsize>);

impl Handler for Counter {
    fn call(&self, _ctx: &mut CallContext<'_>, _params: &Params) -> Result<Value, ApiError> {
        Ok(json!(self.0.fetch_add(1, Ordering::SeqCst) + 1))
    }
}

#[tokio::test]
async fn struct_handlers_keep_state() {
    let emu = demo().await;
    let count = Arc::new(AtomicUsize::new(0));
    emu.register_handler("test.count", Counter(Arc::clone(&count)));
    let url = format!("{}test.count", admin(&emu));
    assert_eq!(post_json(&url, json!({})).await.result(), &json!(1));
    assert_eq!(post_json(&url, json!({})).await.result(), &json!(2));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn builtin_handlers_can_be_wrapped() {
    let emu = demo().await;
    emu.register("imopenlines.session.start", |ctx, params| {
        let result = b24_emulator::methods::imopenlines::session::start(ctx, params)?;
        let chat = params.int("CHAT_ID").unwrap_or(0) as u64;
        let session = ctx.portal().last_session(chat).map(|s| s.id);
        Ok(json!({"started": result, "session": session}))
    });
    let answer = post_json(
        &format!("{}imopenlines.session.start", admin(&emu)),
        json!({"CHAT_ID": 101}),
    )
    .await;
    assert_eq!(answer.result()["started"], true);
    assert!(answer.result()["session"].as_u64() > Some(DEMO_IDS.session_id));
}
