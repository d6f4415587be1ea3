//! A Bitrix24 application end to end over real HTTP: the emulated portal installs it (POSTing
//! `ONAPPINSTALL` or the installation page to its URL), the application checks the tokens at the
//! OAuth server, stores the portal and binds its events; the portal POSTs `ONSESSIONSTART` when a
//! session starts and the typed handler gets it with a working client; forged, unknown-portal and
//! malformed requests are refused and never reach a handler; uninstalling removes the portal.

mod app_support;

use std::sync::{Arc, Mutex};

use app_support::*;
use b24::app::{FilePortalStore, MemoryPortalStore, PortalStore};
use b24::exports::serde_json::json;
use b24_emulator::DEMO_IDS;

const MEMBER: &str = "a223c6b3710f85df22e9377d6c4f7553";

fn memory() -> Arc<dyn PortalStore> {
    Arc::new(MemoryPortalStore::new())
}

#[tokio::test]
async fn installed_app_gets_typed_session_starts_with_a_working_client() {
    let emu = emulator(MEMBER).await;
    let (handlers, mut seen) = session_handlers();
    let app = App::serve(portals(&emu, memory()), handlers).await;

    let installed = emu.install_app(CLIENT_ID, &app.url).await.unwrap();
    assert_eq!(installed.status, Some(200));
    assert_eq!(app.portals().member_ids().await.unwrap(), [MEMBER]);
    let stored = app.portals().installation(MEMBER).await.unwrap().unwrap();
    assert!(stored.application_token_matches(&installed.application_token));
    assert_eq!(stored.client_endpoint, emu.rest_url());
    // The tokens were checked by renewing them: the stored pair is the renewed one.
    assert_eq!(emu.token_renewals(), 1);
    assert_ne!(
        stored.tokens.expose_refresh_token(),
        installed.refresh_token
    );
    let bound: Vec<(String, String)> = emu
        .portal()
        .lock()
        .event_bindings()
        .iter()
        .map(|b| (b.event.clone(), b.handler.clone()))
        .collect();
    assert_eq!(
        bound,
        [
            ("ONSESSIONSTART".to_owned(), app.url.clone()),
            ("ONAPPUNINSTALL".to_owned(), app.url.clone())
        ]
    );

    // An operator starts a session through the portal's client: the portal fires the event.
    let client = app.portals().client(MEMBER).await.unwrap();
    client
        .call_raw(
            "imopenlines.session.start",
            &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
        )
        .await
        .unwrap();
    let delivery = next(&mut seen).await;
    let session = emu
        .portal()
        .lock()
        .last_session(DEMO_IDS.lines_chat_id)
        .unwrap()
        .id;
    let item = &delivery.event.data[0];
    assert_eq!(item.chat.id, DEMO_IDS.lines_chat_id);
    assert_eq!(item.session.id, session);
    assert_eq!(item.session.parent_id, DEMO_IDS.session_id);
    assert_eq!(item.connector.line_id, DEMO_IDS.line_id);
    assert_eq!(delivery.meta.member_id, MEMBER);
    assert!(delivery.meta.handler_id.is_some_and(|id| id > 0));
    // The handler's client calls the portal the event came from.
    let dialog = delivery
        .client
        .call_raw("imopenlines.dialog.get", &json!({"CHAT_ID": item.chat.id}))
        .await
        .unwrap();
    assert_eq!(dialog.result["id"], json!(DEMO_IDS.lines_chat_id));
    let last = emu.event_deliveries().pop().unwrap();
    assert_eq!(
        (last.event.as_str(), last.status),
        ("ONSESSIONSTART", Some(200))
    );
}

/// A log sink for the refusals, to check that they carry no secret.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn forged_unknown_and_malformed_requests_are_refused_and_never_dispatched() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = emulator(MEMBER).await;
    let (handlers, mut seen) = session_handlers();
    let app = App::serve(portals(&emu, memory()), handlers).await;
    let installed = emu.install_app(CLIENT_ID, &app.url).await.unwrap();
    let token = installed.application_token.clone();
    let stored_before = app.portals().installation(MEMBER).await.unwrap().unwrap();
    let event = |member: &str, app_token: &str, data: &str| {
        format!(
            "event=ONSESSIONSTART&{data}&ts=1714649632&auth[member_id]={member}\
             &auth[application_token]={app_token}&auth[access_token]=leaked0access0token"
        )
    };
    let good_data = "data[DATA][0][connector][connector_id]=livechat&data[DATA][0][connector][line_id]=1\
        &data[DATA][0][connector][chat_id]=101&data[DATA][0][connector][user_id]=3\
        &data[DATA][0][session][id]=9&data[DATA][0][session][closed]=N&data[DATA][0][session][parent_id]=0\
        &data[DATA][0][session][close_term]=60&data[DATA][0][chat][id]=101&data[DATA][0][user][id]=3";
    let deep = format!("event=ONSESSIONSTART&data{}=1", "[x]".repeat(40));
    let wide = "a=1&".repeat(5000);
    let huge = format!("event=ONSESSIONSTART&data[x]={}", "x".repeat(2 << 20));
    let cases: Vec<(&str, String, u16)> = vec![
        ("forged token", event(MEMBER, "f0rged0token0f0rged0token0f0rged", good_data), 403),
        ("empty token", event(MEMBER, "", good_data), 400),
        ("unknown portal", event("b0000000000000000000000000000000", &token, good_data), 403),
        ("hostile member_id", event("x%0Ay%3Cscript%3E", &token, good_data), 400),
        ("no auth", format!("event=ONSESSIONSTART&{good_data}"), 400),
        ("no member_id", format!("event=ONSESSIONSTART&{good_data}&auth[application_token]={token}"), 400),
        ("no event, no AUTH_ID", "foo=bar".into(), 400),
        ("empty body", String::new(), 400),
        ("too deep", deep, 400),
        ("too many fields", wide, 400),
        ("not UTF-8", "event=%FF%FE".into(), 400),
        ("too large", huge, 413),
        ("data of another shape", event(MEMBER, &token, "data[DATA]=x"), 422),
        ("a domain that is not a host",
         event(MEMBER, &token, &format!("{good_data}&auth[domain]=evil.example%2Frest%40x")), 400),
        ("install page with a domain that is not a host",
         format!("AUTH_ID=a&REFRESH_ID=bogus0refresh0token&member_id={MEMBER}&DOMAIN=x.example%3Fy"), 400),
        ("install with a REST address that is not one",
         format!("event=ONAPPINSTALL&auth[member_id]={MEMBER}&auth[application_token]=n3w0token\
                  &auth[access_token]=bogus0access&auth[refresh_token]=bogus0refresh0token\
                  &auth[client_endpoint]=ftp://user:pw@evil.example/"), 400),
        ("install with a bogus refresh token",
         format!("event=ONAPPINSTALL&auth[member_id]={MEMBER}&auth[application_token]=n3w0token\
                  &auth[access_token]=bogus0access&auth[refresh_token]=bogus0refresh0token\
                  &auth[client_endpoint]=https://evil.example/rest/"), 403),
        ("install page with a bogus refresh token",
         format!("AUTH_ID=bogus0access&REFRESH_ID=bogus0refresh0token&member_id={MEMBER}&APPLICATION_TOKEN=n3w0token"), 403),
    ];
    for (what, body, status) in &cases {
        let (got, text) = app.post("", body.clone()).await;
        assert_eq!(got, *status, "{what}: {text}");
        for secret in [
            token.as_str(),
            "leaked0access0token",
            "f0rged0token",
            "bogus0refresh0token",
        ] {
            assert!(!text.contains(secret), "{what}: {secret} in {text}");
        }
    }
    // A genuine refresh token of this portal, claiming to be another portal's.
    let (access, refresh) = emu
        .portal()
        .lock()
        .issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    let body = format!(
        "event=ONAPPINSTALL&auth[member_id]=c0ffee&auth[application_token]=n3w0token\
         &auth[access_token]={access}&auth[refresh_token]={refresh}"
    );
    let (status, text) = app.post("", body).await;
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("c0ffee") && !text.contains(&refresh),
        "{text}"
    );

    // Nothing reached the handler, nothing was stored or replaced.
    assert!(seen.try_recv().is_err(), "a refused event was dispatched");
    assert_eq!(app.portals().member_ids().await.unwrap(), [MEMBER]);
    let stored = app.portals().installation(MEMBER).await.unwrap().unwrap();
    assert!(stored.application_token_matches(&token));
    assert_eq!(
        stored.tokens.expose_refresh_token(),
        stored_before.tokens.expose_refresh_token()
    );
    assert_eq!(stored.client_endpoint, emu.rest_url());

    // The genuine event still goes through.
    let (status, text) = app.post("", event(MEMBER, &token, good_data)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(next(&mut seen).await.event.data[0].session.id, 9);
    // A genuine event nobody handles is acknowledged and dropped.
    let unhandled = format!(
        "event=ONCRMLEADADD&data[FIELDS][ID]=1&auth[member_id]={MEMBER}&auth[application_token]={token}"
    );
    assert_eq!(app.post("", unhandled).await.0, 200);
    assert!(seen.try_recv().is_err());

    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logs.contains("b24 request refused"), "{logs}");
    for secret in [
        token.as_str(),
        "leaked0access0token",
        "bogus0refresh0token",
        refresh.as_str(),
        access.as_str(),
        installed.refresh_token.as_str(),
        stored.tokens.expose_access_token(),
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}

#[tokio::test]
async fn uninstalling_removes_the_portal_and_its_events_are_refused() {
    let emu = emulator(MEMBER).await;
    let (handlers, mut seen) = session_handlers();
    let app = App::serve(portals(&emu, memory()), handlers).await;
    let installed = emu.install_app(CLIENT_ID, &app.url).await.unwrap();

    let deliveries = emu.uninstall_app(CLIENT_ID).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status, Some(200));
    assert!(app.portals().member_ids().await.unwrap().is_empty());
    assert!(emu.portal().lock().event_bindings().is_empty());

    // A late event with the old token is refused: the portal is gone.
    let body = format!(
        "event=ONSESSIONSTART&data[DATA][0][chat][id]=1&auth[member_id]={MEMBER}\
         &auth[application_token]={}",
        installed.application_token
    );
    let (status, text) = app.post("", body).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("not installed"), "{text}");
    assert!(seen.try_recv().is_err());

    // An ONAPPUNINSTALL with a wrong token removes nothing.
    emu.install_app(CLIENT_ID, &app.url).await.unwrap();
    let forged = format!(
        "event=ONAPPUNINSTALL&data[CLEAN]=1&auth[member_id]={MEMBER}&auth[application_token]=wr0ng"
    );
    assert_eq!(app.post("", forged).await.0, 403);
    assert_eq!(app.portals().member_ids().await.unwrap(), [MEMBER]);
}

#[tokio::test]
async fn the_installation_page_post_stores_the_portal() {
    let emu = emulator(MEMBER).await;
    let (handlers, mut seen) = session_handlers();
    let app = App::serve(portals(&emu, memory()), handlers).await;
    let installed = emu.install_app_page(CLIENT_ID, &app.url).await.unwrap();
    assert_eq!(installed.status, Some(200));
    let stored = app.portals().installation(MEMBER).await.unwrap().unwrap();
    assert!(stored.application_token_matches(&installed.application_token));
    assert_eq!(stored.domain, emu.addr().to_string());
    let client = app.portals().client(MEMBER).await.unwrap();
    client
        .call_raw(
            "imopenlines.session.start",
            &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
        )
        .await
        .unwrap();
    assert_eq!(next(&mut seen).await.meta.member_id, MEMBER);

    // The same installation coming again (the page, then ONAPPINSTALL, say) binds nothing twice
    // and keeps the application token when it carries none.
    let (access, refresh) = emu
        .portal()
        .lock()
        .issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    let body = format!("AUTH_ID={access}&REFRESH_ID={refresh}&member_id={MEMBER}");
    let (status, text) = app.post(&format!("DOMAIN={}", emu.addr()), body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(emu.portal().lock().event_bindings().len(), 2);
    let stored = app.portals().installation(MEMBER).await.unwrap().unwrap();
    assert!(stored.application_token_matches(&installed.application_token));
}

#[tokio::test]
async fn a_restarted_app_keeps_its_portals_and_their_renewed_tokens() {
    let path = std::env::temp_dir().join(format!("b24-app-restart-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let emu = emulator(MEMBER).await;
    {
        let (handlers, _seen) = session_handlers();
        let store = Arc::new(FilePortalStore::open(&path).unwrap());
        let app = App::serve(portals(&emu, store), handlers).await;
        assert_eq!(
            emu.install_app(CLIENT_ID, &app.url).await.unwrap().status,
            Some(200)
        );
    } // the application stops

    let store = Arc::new(FilePortalStore::open(&path).unwrap());
    let (handlers, mut seen) = session_handlers();
    let app = App::serve(portals(&emu, store.clone()), handlers).await;
    assert_eq!(app.portals().member_ids().await.unwrap(), [MEMBER]);
    let before = store.load(MEMBER).await.unwrap().unwrap();

    // The access token expires: the client renews, and the new pair reaches the file.
    emu.portal()
        .lock()
        .expire_access_token(before.tokens.expose_access_token());
    let client = app.portals().client(MEMBER).await.unwrap();
    client
        .call_raw(
            "imopenlines.session.start",
            &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
        )
        .await
        .unwrap();
    let reread = FilePortalStore::open(&path).unwrap();
    let after = reread.load(MEMBER).await.unwrap().unwrap();
    assert_ne!(
        after.tokens.expose_refresh_token(),
        before.tokens.expose_refresh_token()
    );
    assert!(emu
        .portal()
        .lock()
        .refresh_token_valid(after.tokens.expose_refresh_token()));
    // Events still verify against the application token stored before the restart.
    let token = emu
        .portal()
        .lock()
        .installed_apps()
        .next()
        .unwrap()
        .application_token
        .clone();
    let body = format!(
        "event=ONSESSIONSTART&data[DATA][0][connector][connector_id]=livechat\
         &data[DATA][0][connector][line_id]=1&data[DATA][0][connector][chat_id]=101\
         &data[DATA][0][connector][user_id]=3&data[DATA][0][session][id]=7\
         &data[DATA][0][session][closed]=N&data[DATA][0][session][parent_id]=0\
         &data[DATA][0][session][close_term]=60&data[DATA][0][chat][id]=101\
         &data[DATA][0][user][id]=3&auth[member_id]={MEMBER}&auth[application_token]={token}"
    );
    assert_eq!(app.post("", body).await.0, 200);
    assert_eq!(next(&mut seen).await.event.data[0].session.id, 7);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn many_portals_each_with_its_own_client_tokens_and_bucket() {
    let first = emulator("f1r5t0000000000000000000000000000").await;
    let second = emulator("5ec0nd000000000000000000000000000").await;
    first.share_oauth_server(&second); // one OAuth server, as oauth.bitrix.info
    let (handlers, mut seen) = session_handlers();
    let portals = b24::app::Portals::new(oauth_app(&first), memory());
    let app = App::serve(portals, handlers).await;
    for emu in [&first, &second] {
        assert_eq!(
            emu.install_app(CLIENT_ID, &app.url).await.unwrap().status,
            Some(200)
        );
    }
    let mut ids = app.portals().member_ids().await.unwrap();
    ids.sort();
    assert_eq!(
        ids,
        [
            "5ec0nd000000000000000000000000000",
            "f1r5t0000000000000000000000000000"
        ]
    );

    let one = app
        .portals()
        .client("f1r5t0000000000000000000000000000")
        .await
        .unwrap();
    let two = app
        .portals()
        .client("5ec0nd000000000000000000000000000")
        .await
        .unwrap();
    first.clear_requests();
    second.clear_requests();
    let level = |client: &b24::Client| client.rate_limit().map(|(_, level)| level).unwrap();
    let (one_before, two_before) = (level(&one), level(&two));
    for _ in 0..3 {
        one.call_raw(
            "imopenlines.session.start",
            &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
        )
        .await
        .unwrap();
    }
    assert_eq!(first.requests().len(), 3);
    assert!(
        second.requests().is_empty(),
        "calls went to the wrong portal"
    );
    // Each portal has its own bucket: only the first one's filled.
    assert!(
        level(&one) - one_before > 2.5,
        "{one_before} → {}",
        level(&one)
    );
    assert!(level(&two) <= two_before, "{two_before} → {}", level(&two));

    two.call_raw(
        "imopenlines.session.start",
        &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
    )
    .await
    .unwrap();
    let mut from: Vec<String> = Vec::new();
    for _ in 0..4 {
        from.push(next(&mut seen).await.meta.member_id);
    }
    from.sort();
    from.dedup();
    assert_eq!(from.len(), 2, "events from both portals: {from:?}");
}

#[tokio::test]
async fn the_authorization_code_grant_stores_the_portal_once() {
    let emu = emulator(MEMBER).await;
    let (handlers, _seen) = session_handlers();
    let app = App::serve(portals(&emu, memory()), handlers).await;

    let code = emu.authorization_code(CLIENT_ID, DEMO_IDS.admin_user);
    let portal = app.portals().authorize(&code).await.unwrap();
    assert_eq!(
        (portal.member_id.as_str(), portal.client_endpoint.as_str()),
        (MEMBER, emu.rest_url().as_str())
    );
    assert_eq!(portal.expose_application_token(), None);
    let client = app.portals().client(MEMBER).await.unwrap();
    let dialog = client
        .call_raw(
            "imopenlines.dialog.get",
            &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
        )
        .await
        .unwrap();
    assert_eq!(dialog.result["id"], json!(DEMO_IDS.lines_chat_id));

    // A code works once; another application's keys do not take it.
    let again = app.portals().authorize(&code).await.unwrap_err();
    assert!(again.to_string().contains("invalid_grant"), "{again}");
    assert!(!again.to_string().contains(&code), "{again}");
    let code = emu.authorization_code(CLIENT_ID, DEMO_IDS.admin_user);
    let stranger = b24::OAuthApp::new(CLIENT_ID, "wrong0secret")
        .token_url(&emu.token_url())
        .unwrap();
    let err = stranger
        .exchange_code(&reqwest::Client::new(), &code)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");

    // Events are refused until ONAPPINSTALL brings the application token.
    let body = format!(
        "event=ONSESSIONSTART&data[DATA][0][chat][id]=1&auth[member_id]={MEMBER}&auth[application_token]=anything"
    );
    assert_eq!(app.post("", body).await.0, 403);
    let installed = emu.install_app(CLIENT_ID, &app.url).await.unwrap();
    let stored = app.portals().installation(MEMBER).await.unwrap().unwrap();
    assert!(stored.application_token_matches(&installed.application_token));
}

/// A store that fails every read: the database is down.
struct DownStore;

impl PortalStore for DownStore {
    fn load<'a>(
        &'a self,
        _: &'a str,
    ) -> b24::exports::futures::future::BoxFuture<
        'a,
        Result<Option<b24::app::Installation>, b24::oauth::StoreError>,
    > {
        Box::pin(async { Err("the database is down".into()) })
    }
    fn save<'a>(
        &'a self,
        _: &'a b24::app::Installation,
    ) -> b24::exports::futures::future::BoxFuture<'a, Result<(), b24::oauth::StoreError>> {
        Box::pin(async { Err("the database is down".into()) })
    }
    fn delete<'a>(
        &'a self,
        _: &'a str,
    ) -> b24::exports::futures::future::BoxFuture<'a, Result<bool, b24::oauth::StoreError>> {
        Box::pin(async { Err("the database is down".into()) })
    }
    fn list(
        &self,
    ) -> b24::exports::futures::future::BoxFuture<'_, Result<Vec<String>, b24::oauth::StoreError>>
    {
        Box::pin(async { Err("the database is down".into()) })
    }
}

/// The store is down: an installation is checked, then cannot be stored, and the portal is told
/// so (503); but the pair the OAuth server issued for it is not lost: the portal's client works
/// and its installation is kept in memory until the store takes it. Events of portals the store
/// would have to say something about get 503 and are not dispatched.
#[tokio::test]
async fn a_failing_store_fails_the_installation_but_keeps_its_pair() {
    let emu = emulator(MEMBER).await;
    let (handlers, mut seen) = session_handlers();
    let app = App::serve(portals(&emu, Arc::new(DownStore)), handlers).await;
    assert_eq!(
        emu.install_app(CLIENT_ID, &app.url).await.unwrap().status,
        Some(503)
    );
    assert_eq!(app.portals().unsaved_count(), 1);
    let client = app.portals().client(MEMBER).await.unwrap();
    assert!(client
        .call_raw("user.current", &serde_json::json!({}))
        .await
        .is_ok());
    let other = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6";
    let body = format!(
        "event=ONSESSIONSTART&data[DATA][0][chat][id]=1&auth[member_id]={other}&auth[application_token]=t"
    );
    let (status, text) = app.post("", body).await;
    assert_eq!(status, 503, "{text}");
    // The sender is not told the application's own failure (the store's text).
    assert_eq!(text, "Service Unavailable");
    // The installed portal is known (from memory): a wrong token is refused as forged.
    let body = format!(
        "event=ONSESSIONSTART&data[DATA][0][chat][id]=1&auth[member_id]={MEMBER}&auth[application_token]=t"
    );
    let (status, text) = app.post("", body).await;
    assert_eq!(status, 403, "{text}");
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn an_unreachable_oauth_server_fails_the_installation_without_refusing_it() {
    let emu = emulator(MEMBER).await;
    let (handlers, _seen) = session_handlers();
    let nowhere = b24::OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url("http://127.0.0.1:9/oauth/token/")
        .unwrap()
        .timeout(std::time::Duration::from_secs(2));
    let app = App::serve(b24::app::Portals::new(nowhere, memory()), handlers).await;
    let installed = emu.install_app(CLIENT_ID, &app.url).await.unwrap();
    assert_eq!(installed.status, Some(503));
    assert!(app.portals().member_ids().await.unwrap().is_empty());
}
