//! The OAuth token endpoint: issue, rotate, refuse reused and revoked tokens, expire access tokens.

use std::time::Duration;

use b24_emulator::{Emulator, Portal, DEMO_IDS};
use serde_json::json;

use crate::common::*;

const CLIENT: &str = "local.65f0c1d2e3a4b5.12345678";
const SECRET: &str = "s3cr3t";
const OPEN: &str = "imopenlines.session.open";

async fn emulator(portal: Portal) -> Emulator {
    let mut portal = portal;
    portal.add_oauth_app(CLIENT, SECRET);
    start(portal).await
}

fn renew_url(emu: &Emulator, client: &str, secret: &str, refresh: &str) -> String {
    format!(
        "{}?grant_type=refresh_token&client_id={client}&client_secret={secret}&refresh_token={refresh}",
        emu.token_url()
    )
}

/// Calls session.open with an access token.
async fn call_with(emu: &Emulator, token: &str) -> Answer {
    post_json(
        &format!("{}{OPEN}", emu.rest_url()),
        json!({"USER_CODE": DEMO_IDS.user_code, "auth": token}),
    )
    .await
}

#[tokio::test]
async fn renewal_issues_a_new_pair_and_rotates() {
    let emu = emulator(Portal::demo()).await;
    let (access, refresh) = emu.portal().lock().issue_tokens(1, CLIENT);
    call_with(&emu, &access).await.result();
    assert_eq!(emu.token_url(), format!("{}oauth/token/", emu.base_url()));

    let answer = get(&renew_url(&emu, CLIENT, SECRET, &refresh)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer.content_type.starts_with("application/json"));
    let body = &answer.body;
    let keys: Vec<&str> = body
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "access_token",
            "client_endpoint",
            "domain",
            "expires",
            "expires_in",
            "member_id",
            "refresh_token",
            "scope",
            "server_endpoint",
            "status",
            "user_id"
        ]
    );
    assert_eq!(body["client_endpoint"], json!(emu.rest_url()));
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["user_id"], 1);
    assert_eq!(body["scope"], "crm,imopenlines,im");
    let new_access = body["access_token"].as_str().expect("access").to_owned();
    let new_refresh = body["refresh_token"].as_str().expect("refresh").to_owned();
    assert_ne!(new_access, access);
    assert_ne!(new_refresh, refresh);
    let expires = body["expires"].as_u64().expect("expires");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    assert!(expires >= now + 3599 && expires <= now + 3601, "{expires}");
    call_with(&emu, &new_access).await.result();
    assert_eq!(emu.token_renewals(), 1);

    // The used refresh token is spent.
    let reused = get(&renew_url(&emu, CLIENT, SECRET, &refresh)).await;
    assert_eq!(reused.error(400, "invalid_grant"), "Invalid refresh token");

    // The new one renews again, by POST form this time.
    let form = format!(
        "grant_type=refresh_token&client_id={CLIENT}&client_secret={SECRET}&refresh_token={new_refresh}"
    );
    let posted = post_form(&emu.token_url(), &form).await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    assert_eq!(emu.token_renewals(), 2);
    // The endpoint is not a REST call: the journal only has the two method calls.
    assert_eq!(emu.requests().len(), 2);
}

#[tokio::test]
async fn wrong_client_revoked_and_malformed_requests() {
    let emu = emulator(Portal::demo()).await;
    let (_, refresh) = emu.portal().lock().issue_tokens(1, CLIENT);

    let wrong_secret = get(&renew_url(&emu, CLIENT, "nope", &refresh)).await;
    wrong_secret.error(401, "invalid_client");
    let unknown_app = get(&renew_url(&emu, "app.unknown", SECRET, &refresh)).await;
    unknown_app.error(401, "invalid_client");
    // A refused client does not spend the token.
    assert!(emu.portal().lock().refresh_token_valid(&refresh));

    let missing = get(&format!("{}?grant_type=refresh_token", emu.token_url())).await;
    missing.error(400, "invalid_request");
    let wrong_grant = get(&format!(
        "{}?grant_type=password&client_id={CLIENT}&client_secret={SECRET}&refresh_token={refresh}",
        emu.token_url()
    ))
    .await;
    wrong_grant.error(400, "invalid_request");

    assert!(emu.portal().lock().revoke_refresh_token(&refresh));
    let revoked = get(&renew_url(&emu, CLIENT, SECRET, &refresh)).await;
    revoked.error(400, "invalid_grant");
    assert_eq!(emu.token_renewals(), 0);
}

#[tokio::test]
async fn issued_access_tokens_expire_on_the_portal_clock() {
    let mut portal = Portal::demo();
    // One portal hour lasts 0.36 real seconds.
    portal.set_time_scale(10_000.0);
    let emu = emulator(portal).await;
    let (access, refresh) = emu.portal().lock().issue_tokens(1, CLIENT);
    call_with(&emu, &access).await.result();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let expired = call_with(&emu, &access).await;
    assert_eq!(
        expired.error(401, "expired_token"),
        "The access token provided has expired"
    );

    // The client's recovery: renew, then replay with the new token.
    let renewed = get(&renew_url(&emu, CLIENT, SECRET, &refresh)).await;
    assert_eq!(renewed.body["expires_in"], 1, "0.36 s, rounded up");
    let token = renewed.body["access_token"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_default();
    call_with(&emu, &token).await.result();
}

#[tokio::test]
async fn operating_time_is_kept_per_application() {
    let mut portal = Portal::demo();
    portal.set_operating_budget(Some(10.0));
    portal.set_method_cost(OPEN, 20.0);
    portal.add_oauth_app("other.app", "x");
    let emu = emulator(portal).await;
    let (first_app, _) = emu.portal().lock().issue_tokens(1, CLIENT);
    let (second_app, _) = emu.portal().lock().issue_tokens(1, "other.app");
    call_with(&emu, &first_app).await.result();
    call_with(&emu, &first_app)
        .await
        .error(429, "OPERATION_TIME_LIMIT");
    // Same user, another application: its own budget.
    call_with(&emu, &second_app).await.result();
}
