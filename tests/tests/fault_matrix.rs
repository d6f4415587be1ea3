//! The fault matrix: every fault the emulator can inject (any status with any body, HTML error
//! pages, truncated JSON, an empty `error`, a body of megabytes, a result of the wrong shape,
//! delays longer than the client's timeout, connections dropped mid-answer or closed without one,
//! redirects, a portal that is not there), alone and mixed, for an idempotent method
//! (`imopenlines.session.open`) and one that is not (`imopenlines.session.start`).
//!
//! Each row asserts exactly what the caller sees: success (and after how many requests), or the
//! typed error with its status, `attempts()` and `is_retryable()`; and that the requests that
//! reached the portal are the attempts the error reports. The table in `docs/fault-matrix.md` is
//! generated from the outcomes asserted here, and this test fails when the two differ; run with
//! `B24_BLESS=1` to rewrite it.
//!
//! Then: a seeded random mix of faults over many calls (never a panic, and the invariants of the
//! retry rules hold), and cancellation: a call dropped mid-flight, during its backoff, while
//! waiting for the bucket or for its method's reset sends nothing more.

use std::net::TcpListener;
use std::time::Duration;

use b24::imopenlines::{SessionOpen, SessionStart};
use b24::{
    Client, ClientBuilder, DecodeReason, Error, ErrorKind, MethodError, OAuthApp, OperatingLimit,
    RateLimit, RetryPolicy, TokenPair,
};
use b24_emulator::{Emulator, Fault, FaultId, Portal, Reply, DEMO_IDS};
use futures::StreamExt;
use serde_json::json;

const IDEMPOTENT: &str = "imopenlines.session.open";
const NOT_IDEMPOTENT: &str = "imopenlines.session.start";

/// The client's timeout in the matrix, and a delay well beyond it.
const TIMEOUT: Duration = Duration::from_millis(1500);
const LONG: Duration = Duration::from_secs(5);
/// The matrix clients' policy: 4 attempts, short waits.
fn retry() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .base_delay(Duration::from_millis(2))
        .max_delay(Duration::from_millis(20))
}

// ---------------------------------------------------------------------------------------------
// outcomes

/// What the caller saw.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Success, after this many requests reached the portal.
    Ok { requests: u32 },
    /// An error: its kind, its HTTP status, `attempts()` and `is_retryable()`.
    Err {
        kind: String,
        status: Option<u16>,
        attempts: u32,
        retryable: bool,
    },
}

fn ok(requests: u32) -> Outcome {
    Outcome::Ok { requests }
}

fn err(kind: &str, status: Option<u16>, attempts: u32, retryable: bool) -> Outcome {
    Outcome::Err {
        kind: kind.to_owned(),
        status,
        attempts,
        retryable,
    }
}

impl Outcome {
    /// A table cell.
    fn cell(&self) -> String {
        match self {
            Outcome::Ok { requests: 1 } => "**success**".to_owned(),
            Outcome::Ok { requests } => format!("**success** after {requests} attempts"),
            Outcome::Err {
                kind,
                status,
                attempts,
                retryable,
            } => {
                let status = status.map_or(String::new(), |s| format!(" HTTP {s}"));
                let plural = if *attempts == 1 { "" } else { "s" };
                let retryable = if *retryable {
                    "retryable"
                } else {
                    "not retryable"
                };
                format!("`{kind}`{status} · {attempts} attempt{plural} · {retryable}")
            }
        }
    }
}

/// The kind of an error, as the table names it.
fn kind_of(err: &Error) -> String {
    match err.kind() {
        ErrorKind::Api(api) => format!("Api({})", api.code),
        ErrorKind::Method { error, .. } => format!("Method({})", error.code()),
        ErrorKind::Decode(d) => format!(
            "Decode({})",
            match d.reason {
                DecodeReason::NotJson { .. } => "NotJson",
                DecodeReason::EmptyErrorCode { .. } => "EmptyErrorCode",
                DecodeReason::NoResult => "NoResult",
                DecodeReason::ResultShape { .. } => "ResultShape",
                DecodeReason::TooLarge { .. } => "TooLarge",
                _ => "other",
            }
        ),
        ErrorKind::Transport(t) => format!("Transport({:?})", t.kind()),
        ErrorKind::Renewal(_) => "Renewal".to_owned(),
        ErrorKind::Batch(_) => "Batch".to_owned(),
        ErrorKind::Config(_) => "Config".to_owned(),
        _ => "other".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// the cases

/// How the portal and the client are set up for a row.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Setup {
    /// A webhook client with the matrix settings.
    Plain,
    /// The same with `max_body(1 MiB)`.
    SmallBody,
    /// A renewing OAuth client whose access token has expired.
    ExpiredOAuth,
    /// Nothing listens at the portal's address.
    NothingListening,
    /// The faults redirect to a second emulator (which must see nothing).
    Redirect,
}

struct Case {
    fault: &'static str,
    strikes: &'static str,
    setup: Setup,
    /// The faults for a method, added in order.
    faults: fn(&str) -> Vec<Fault>,
    idempotent: Outcome,
    not_idempotent: Outcome,
}

fn once(reply: Reply) -> impl Fn(&str) -> Vec<Fault> {
    move |m| vec![Fault::on(m).once().respond(reply.clone())]
}

fn none(_: &str) -> Vec<Fault> {
    Vec::new()
}

fn html_502_once(m: &str) -> Vec<Fault> {
    once(Reply::bad_gateway())(m)
}
fn html_502_always(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).always().respond(Reply::bad_gateway())]
}
fn html_504_once(m: &str) -> Vec<Fault> {
    once(Reply::gateway_timeout())(m)
}
fn internal_once(m: &str) -> Vec<Fault> {
    once(Reply::error(
        500,
        "INTERNAL_SERVER_ERROR",
        "Internal server error",
    ))(m)
}
fn internal_always(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).always().respond(Reply::error(
        500,
        "INTERNAL_SERVER_ERROR",
        "Internal server error",
    ))]
}
fn query_limit() -> Reply {
    Reply::error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
}
fn operation_limit() -> Reply {
    Reply::error(
        429,
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
    )
}
fn query_limit_once(m: &str) -> Vec<Fault> {
    once(query_limit())(m)
}
fn query_limit_always(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).always().respond(query_limit())]
}
fn operation_limit_once(m: &str) -> Vec<Fault> {
    once(operation_limit())(m)
}
fn operation_limit_always(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).always().respond(operation_limit())]
}
fn overload_once(m: &str) -> Vec<Fault> {
    once(Reply::error(
        503,
        "OVERLOAD_LIMIT",
        "REST API is blocked due to overload.",
    ))(m)
}
fn truncated_once(m: &str) -> Vec<Fault> {
    once(Reply::truncated_json())(m)
}
fn empty_error_400(m: &str) -> Vec<Fault> {
    once(Reply::empty_error(400, "Something went wrong"))(m)
}
fn empty_error_500(m: &str) -> Vec<Fault> {
    once(Reply::empty_error(500, "Something went wrong"))(m)
}
fn wrong_shape_once(m: &str) -> Vec<Fault> {
    once(Reply::wrong_shape(json!({"items": [1, 2, 3]})))(m)
}
fn no_result_once(m: &str) -> Vec<Fault> {
    once(Reply::json(200, &json!({"time": {"start": 1}})))(m)
}
fn huge_once(m: &str) -> Vec<Fault> {
    once(Reply::huge(4))(m)
}
fn teapot_once(m: &str) -> Vec<Fault> {
    once(Reply::text(418, "I'm a teapot"))(m)
}
fn binary_once(m: &str) -> Vec<Fault> {
    once(Reply::new(
        200,
        "application/octet-stream",
        vec![0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96],
    ))(m)
}
fn short_delay(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).once().delay(Duration::from_millis(100))]
}
fn long_delay_once(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).once().delay(LONG)]
}
fn long_delay_always(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).always().delay(LONG)]
}
fn dropped_once(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).once().drop_connection()]
}
fn dropped_after_once(m: &str) -> Vec<Fault> {
    vec![Fault::on(m).once().after().drop_connection()]
}
fn hang_up_once(m: &str) -> Vec<Fault> {
    once(Reply::hang_up())(m)
}
fn mixed_transport(m: &str) -> Vec<Fault> {
    vec![
        Fault::on(m).nth(1).respond(Reply::bad_gateway()),
        Fault::on(m).nth(2).delay(LONG),
        Fault::on(m).nth(3).drop_connection(),
    ]
}
fn mixed_limit_then_502(m: &str) -> Vec<Fault> {
    vec![
        Fault::on(m).nth(1).respond(query_limit()),
        Fault::on(m).nth(2).respond(Reply::bad_gateway()),
    ]
}
fn mixed_operation_then_timeout(m: &str) -> Vec<Fault> {
    vec![
        Fault::on(m).nth(1).respond(operation_limit()),
        Fault::on(m).nth(2).delay(LONG),
    ]
}
fn mixed_limits_only(m: &str) -> Vec<Fault> {
    vec![
        Fault::on(m).nth(1).respond(query_limit()),
        Fault::on(m).nth(2).respond(operation_limit()),
        Fault::on(m).nth(3).respond(query_limit()),
        Fault::on(m).nth(4).respond(operation_limit()),
    ]
}
fn mixed_empty_then_huge(m: &str) -> Vec<Fault> {
    vec![
        Fault::on(m).nth(1).respond(Reply::empty_error(502, "")),
        Fault::on(m).nth(2).respond(Reply::huge(4)),
    ]
}
fn expired_then_502(m: &str) -> Vec<Fault> {
    // The portal answers `expired_token` itself to the 1st request.
    vec![Fault::on(m).nth(2).respond(Reply::bad_gateway())]
}
const DROPPED_AFTER: &str = "connection dropped mid-body after the method ran";

fn cases() -> Vec<Case> {
    use Setup::*;
    let t = true;
    let f = false;
    vec![
        Case {
            fault: "HTML 502 page (nginx)",
            strikes: "once",
            setup: Plain,
            faults: html_502_once,
            idempotent: ok(2),
            not_idempotent: err("Decode(NotJson)", Some(502), 1, f),
        },
        Case {
            fault: "HTML 502 page (nginx)",
            strikes: "every attempt",
            setup: Plain,
            faults: html_502_always,
            idempotent: err("Decode(NotJson)", Some(502), 4, t),
            not_idempotent: err("Decode(NotJson)", Some(502), 1, f),
        },
        Case {
            fault: "HTML 504 page (nginx)",
            strikes: "once",
            setup: Plain,
            faults: html_504_once,
            idempotent: ok(2),
            not_idempotent: err("Decode(NotJson)", Some(504), 1, f),
        },
        Case {
            fault: "500 `INTERNAL_SERVER_ERROR`",
            strikes: "once",
            setup: Plain,
            faults: internal_once,
            idempotent: ok(2),
            not_idempotent: err("Api(INTERNAL_SERVER_ERROR)", Some(500), 1, f),
        },
        Case {
            fault: "500 `INTERNAL_SERVER_ERROR`",
            strikes: "every attempt",
            setup: Plain,
            faults: internal_always,
            idempotent: err("Api(INTERNAL_SERVER_ERROR)", Some(500), 4, t),
            not_idempotent: err("Api(INTERNAL_SERVER_ERROR)", Some(500), 1, f),
        },
        Case {
            fault: "503 `QUERY_LIMIT_EXCEEDED`",
            strikes: "once",
            setup: Plain,
            faults: query_limit_once,
            idempotent: ok(2),
            not_idempotent: ok(2),
        },
        Case {
            fault: "503 `QUERY_LIMIT_EXCEEDED`",
            strikes: "every attempt",
            setup: Plain,
            faults: query_limit_always,
            idempotent: err("Api(QUERY_LIMIT_EXCEEDED)", Some(503), 4, t),
            not_idempotent: err("Api(QUERY_LIMIT_EXCEEDED)", Some(503), 4, t),
        },
        Case {
            fault: "429 `OPERATION_TIME_LIMIT`",
            strikes: "once",
            setup: Plain,
            faults: operation_limit_once,
            idempotent: ok(2),
            not_idempotent: ok(2),
        },
        Case {
            fault: "429 `OPERATION_TIME_LIMIT`",
            strikes: "every attempt",
            setup: Plain,
            faults: operation_limit_always,
            idempotent: err("Api(OPERATION_TIME_LIMIT)", Some(429), 4, t),
            not_idempotent: err("Api(OPERATION_TIME_LIMIT)", Some(429), 4, t),
        },
        Case {
            fault: "503 `OVERLOAD_LIMIT` (REST blocked)",
            strikes: "once",
            setup: Plain,
            faults: overload_once,
            idempotent: err("Api(OVERLOAD_LIMIT)", Some(503), 1, f),
            not_idempotent: err("Api(OVERLOAD_LIMIT)", Some(503), 1, f),
        },
        Case {
            fault: "200 with truncated JSON",
            strikes: "once",
            setup: Plain,
            faults: truncated_once,
            idempotent: err("Decode(NotJson)", Some(200), 1, f),
            not_idempotent: err("Decode(NotJson)", Some(200), 1, f),
        },
        Case {
            fault: "200 with bytes that are not UTF-8",
            strikes: "once",
            setup: Plain,
            faults: binary_once,
            idempotent: err("Decode(NotJson)", Some(200), 1, f),
            not_idempotent: err("Decode(NotJson)", Some(200), 1, f),
        },
        Case {
            fault: "400 with an empty `error`",
            strikes: "once",
            setup: Plain,
            faults: empty_error_400,
            idempotent: err("Decode(EmptyErrorCode)", Some(400), 1, f),
            not_idempotent: err("Decode(EmptyErrorCode)", Some(400), 1, f),
        },
        Case {
            fault: "500 with an empty `error`",
            strikes: "once",
            setup: Plain,
            faults: empty_error_500,
            idempotent: ok(2),
            not_idempotent: err("Decode(EmptyErrorCode)", Some(500), 1, f),
        },
        Case {
            fault: "200 with a result of the wrong shape",
            strikes: "once",
            setup: Plain,
            faults: wrong_shape_once,
            idempotent: err("Decode(ResultShape)", Some(200), 1, f),
            not_idempotent: err("Decode(ResultShape)", Some(200), 1, f),
        },
        Case {
            fault: "200 with neither `result` nor `error`",
            strikes: "once",
            setup: Plain,
            faults: no_result_once,
            idempotent: err("Decode(NoResult)", Some(200), 1, f),
            not_idempotent: err("Decode(NoResult)", Some(200), 1, f),
        },
        Case {
            fault: "200 with a 4 MiB body (a string where an object/bool is declared)",
            strikes: "once",
            setup: Plain,
            faults: huge_once,
            idempotent: err("Decode(ResultShape)", Some(200), 1, f),
            not_idempotent: err("Decode(ResultShape)", Some(200), 1, f),
        },
        Case {
            fault: "200 with a 4 MiB body, `max_body(1 MiB)`",
            strikes: "once",
            setup: SmallBody,
            faults: huge_once,
            idempotent: err("Decode(TooLarge)", Some(200), 1, f),
            not_idempotent: err("Decode(TooLarge)", Some(200), 1, f),
        },
        Case {
            fault: "418 `text/plain`",
            strikes: "once",
            setup: Plain,
            faults: teapot_once,
            idempotent: err("Decode(NotJson)", Some(418), 1, f),
            not_idempotent: err("Decode(NotJson)", Some(418), 1, f),
        },
        Case {
            fault: "307 redirect to another server",
            strikes: "once",
            setup: Redirect,
            faults: none, // the redirect names the second emulator: built by the setup
            idempotent: err("Decode(NotJson)", Some(307), 1, f),
            not_idempotent: err("Decode(NotJson)", Some(307), 1, f),
        },
        Case {
            fault: "delay of 100 ms (timeout 1.5 s)",
            strikes: "once",
            setup: Plain,
            faults: short_delay,
            idempotent: ok(1),
            not_idempotent: ok(1),
        },
        Case {
            fault: "delay of 5 s, longer than the timeout (1.5 s)",
            strikes: "once",
            setup: Plain,
            faults: long_delay_once,
            idempotent: ok(2),
            not_idempotent: err("Transport(Timeout)", None, 1, f),
        },
        Case {
            fault: "delay of 5 s, longer than the timeout (1.5 s)",
            strikes: "every attempt",
            setup: Plain,
            faults: long_delay_always,
            idempotent: err("Transport(Timeout)", None, 4, t),
            not_idempotent: err("Transport(Timeout)", None, 1, f),
        },
        Case {
            fault: "connection dropped mid-body (method not run)",
            strikes: "once",
            setup: Plain,
            faults: dropped_once,
            idempotent: ok(2),
            not_idempotent: err("Transport(Body)", None, 1, f),
        },
        Case {
            fault: DROPPED_AFTER,
            strikes: "once",
            setup: Plain,
            faults: dropped_after_once,
            idempotent: ok(2),
            not_idempotent: err("Transport(Body)", None, 1, f),
        },
        Case {
            fault: "connection closed without an answer",
            strikes: "once",
            setup: Plain,
            faults: hang_up_once,
            idempotent: ok(2),
            not_idempotent: err("Transport(Other)", None, 1, f),
        },
        Case {
            fault: "nothing listening (connection refused)",
            strikes: "every attempt",
            setup: NothingListening,
            faults: none,
            idempotent: err("Transport(Connect)", None, 4, t),
            not_idempotent: err("Transport(Connect)", None, 4, t),
        },
        Case {
            fault: "`expired_token` (OAuth client with a refresh token)",
            strikes: "once",
            setup: ExpiredOAuth,
            faults: none,
            idempotent: ok(2),
            not_idempotent: ok(2),
        },
        Case {
            fault: "mixed: HTML 502, then a 5 s delay (timeout), then a dropped connection",
            strikes: "attempts 1, 2, 3",
            setup: Plain,
            faults: mixed_transport,
            idempotent: ok(4),
            not_idempotent: err("Decode(NotJson)", Some(502), 1, f),
        },
        Case {
            fault: "mixed: `QUERY_LIMIT_EXCEEDED`, then HTML 502",
            strikes: "attempts 1, 2",
            setup: Plain,
            faults: mixed_limit_then_502,
            idempotent: ok(3),
            not_idempotent: err("Decode(NotJson)", Some(502), 2, f),
        },
        Case {
            fault: "mixed: `OPERATION_TIME_LIMIT`, then a 5 s delay (timeout)",
            strikes: "attempts 1, 2",
            setup: Plain,
            faults: mixed_operation_then_timeout,
            idempotent: ok(3),
            not_idempotent: err("Transport(Timeout)", None, 2, f),
        },
        Case {
            fault: "mixed: `QUERY_LIMIT_EXCEEDED`, `OPERATION_TIME_LIMIT`, twice each",
            strikes: "attempts 1–4",
            setup: Plain,
            faults: mixed_limits_only,
            idempotent: err("Api(OPERATION_TIME_LIMIT)", Some(429), 4, t),
            not_idempotent: err("Api(OPERATION_TIME_LIMIT)", Some(429), 4, t),
        },
        Case {
            fault: "mixed: 502 with an empty `error`, then a 4 MiB body, `max_body(1 MiB)`",
            strikes: "attempts 1, 2",
            setup: SmallBody,
            faults: mixed_empty_then_huge,
            idempotent: err("Decode(TooLarge)", Some(200), 2, f),
            not_idempotent: err("Decode(EmptyErrorCode)", Some(502), 1, f),
        },
        Case {
            fault: "mixed: `expired_token` (OAuth, renewed), then HTML 502",
            strikes: "attempts 1, 2",
            setup: ExpiredOAuth,
            faults: expired_then_502,
            idempotent: ok(3),
            not_idempotent: err("Decode(NotJson)", Some(502), 2, f),
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// running a case

const APP: &str = "local.b24test.matrix";
const APP_SECRET: &str = "matrix0app0secret";

fn matrix_client(builder: ClientBuilder) -> Client {
    builder
        .timeout(TIMEOUT)
        .retry(retry())
        .no_rate_limit()
        .operating_limit(OperatingLimit {
            fallback_wait: Duration::from_millis(20),
            ..OperatingLimit::default()
        })
        .build()
        .expect("client")
}

/// Calls the idempotent or the other method; the error with its method type erased.
async fn call(client: &Client, idempotent: bool) -> Result<(), Error> {
    if idempotent {
        let opened = client
            .call(SessionOpen::new(DEMO_IDS.user_code))
            .await
            .map_err(Error::erase)?;
        assert_eq!(opened.chat_id, DEMO_IDS.lines_chat_id as i64);
    } else {
        let started = client
            .call(SessionStart::new(DEMO_IDS.lines_chat_id as i64))
            .await
            .map_err(Error::erase)?;
        assert!(started);
    }
    Ok(())
}

/// The requests that reached the portal: every fault of `ids` fired at most once per request, and
/// the last one (a fault that changes nothing) counts the requests no other fault took.
fn arrived(emu: &Emulator, ids: &[FaultId]) -> u32 {
    ids.iter().map(|id| emu.faults().fired(*id)).sum::<u64>() as u32
}

async fn run(case: &Case, idempotent: bool) -> Outcome {
    let method = if idempotent {
        IDEMPOTENT
    } else {
        NOT_IDEMPOTENT
    };
    let mut portal = Portal::demo();
    portal.add_oauth_app(APP, APP_SECRET);
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, APP);
    let emu = Emulator::start(portal).await.expect("emulator");
    let webhook = emu.webhook_url(DEMO_IDS.admin_user).expect("webhook");
    let sessions_before = emu.portal().lock().sessions_of_chat(101).count();

    let mut elsewhere = None;
    let client = match case.setup {
        Setup::Plain | Setup::Redirect => matrix_client(Client::builder().webhook(&webhook)),
        Setup::SmallBody => matrix_client(Client::builder().webhook(&webhook).max_body(1 << 20)),
        Setup::ExpiredOAuth => {
            assert!(emu.portal().lock().expire_access_token(&access));
            let app = OAuthApp::new(APP, APP_SECRET)
                .token_url(&emu.token_url())
                .expect("url");
            matrix_client(Client::builder().oauth_renewing(
                &emu.base_url(),
                TokenPair::new(&access, &refresh),
                app,
            ))
        }
        Setup::NothingListening => {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let url = format!("http://127.0.0.1:{port}/rest/1/{}/", DEMO_IDS.admin_webhook);
            matrix_client(Client::builder().webhook(&url))
        }
    };
    let mut ids = Vec::new();
    if case.setup == Setup::Redirect {
        let target = Emulator::start(Portal::demo()).await.expect("emulator");
        let location = format!(
            "{}{method}",
            target.webhook_url(DEMO_IDS.admin_user).expect("webhook")
        );
        let reply = Reply::new(307, "text/plain", "").with_header("location", &location);
        ids.push(emu.faults().add(Fault::on(method).once().respond(reply)));
        elsewhere = Some(target);
    } else {
        for fault in (case.faults)(method) {
            ids.push(emu.faults().add(fault));
        }
    }
    ids.push(emu.faults().add(Fault::on(method).always()));

    let outcome = match call(&client, idempotent).await {
        Ok(()) => ok(arrived(&emu, &ids)),
        Err(e) => {
            // Whatever came back, the error stays small enough to log.
            let text = format!("{e} {e:?}");
            assert!(
                text.len() < 20_000,
                "{}: {} bytes of error",
                case.fault,
                text.len()
            );
            if case.setup != Setup::NothingListening {
                assert_eq!(
                    e.attempts(),
                    arrived(&emu, &ids),
                    "{}: the attempts are the requests that reached the portal",
                    case.fault
                );
            }
            assert_eq!(e.method(), method);
            err(&kind_of(&e), e.status(), e.attempts(), e.is_retryable())
        }
    };

    if let Some(target) = elsewhere {
        assert!(target.requests().is_empty(), "the redirect was followed");
    }
    if case.setup == Setup::ExpiredOAuth {
        assert_eq!(emu.token_renewals(), 1, "{}", case.fault);
    }
    if case.fault == DROPPED_AFTER && !idempotent {
        // The portal ran the call although the client saw a failure: why it is not repeated.
        let sessions = emu.portal().lock().sessions_of_chat(101).count();
        assert_eq!(sessions, sessions_before + 1);
    }
    outcome
}

// ---------------------------------------------------------------------------------------------
// the matrix and its table

const BEGIN: &str = "<!-- fault-matrix:begin (generated by tests/tests/fault_matrix.rs) -->";
const END: &str = "<!-- fault-matrix:end -->";

fn table(rows: &[(&Case, Outcome, Outcome)]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "| Fault | Strikes | Idempotent (`{IDEMPOTENT}`) | Not idempotent (`{NOT_IDEMPOTENT}`) |\n"
    ));
    out.push_str("|---|---|---|---|\n");
    for (case, idem, non) in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            case.fault,
            case.strikes,
            idem.cell(),
            non.cell()
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_alone_and_mixed_gives_the_documented_outcome() {
    let cases = cases();
    // Every row on its own portals and clients, a dozen rows at a time.
    let runs = cases.iter().map(|case| async move {
        let (idem, non) = tokio::join!(run(case, true), run(case, false));
        (case, idem, non)
    });
    let rows: Vec<_> = futures::stream::iter(runs).buffered(12).collect().await;

    let mut mismatches = Vec::new();
    for (case, idem, non) in &rows {
        if *idem != case.idempotent {
            mismatches.push(format!(
                "{} ({}), idempotent: expected {:?}, saw {idem:?}",
                case.fault, case.strikes, case.idempotent
            ));
        }
        if *non != case.not_idempotent {
            mismatches.push(format!(
                "{} ({}), not idempotent: expected {:?}, saw {non:?}",
                case.fault, case.strikes, case.not_idempotent
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // The documented table is the one asserted here.
    let generated = table(&rows);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/fault-matrix.md");
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let section = doc
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(table, _)| table.trim().to_owned());
    if std::env::var_os("B24_BLESS").is_some() {
        let (head, tail) = match (doc.split_once(BEGIN), doc.split_once(END)) {
            (Some((head, _)), Some((_, tail))) => (head.to_owned(), tail.to_owned()),
            _ => (doc.clone(), String::from("\n")),
        };
        let updated = format!("{head}{BEGIN}\n{generated}{END}{tail}");
        std::fs::write(path, updated).expect("docs/fault-matrix.md is writable");
    } else {
        assert_eq!(
            section.as_deref(),
            Some(generated.trim()),
            "docs/fault-matrix.md is out of date: run with B24_BLESS=1"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// random mixes

/// One step of a random mix, and what it is for the retry rules.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// The portal did not run the call (`QUERY_LIMIT_EXCEEDED`, `OPERATION_TIME_LIMIT`).
    Limit,
    /// The call may have run (5xx, a timeout, a dropped connection).
    MayHaveRun,
    /// Not retried whatever the method (4xx, a 200 that does not decode).
    Final,
}

fn random_step(rng: &mut fastrand::Rng) -> (Step, Fault) {
    let f = Fault::any_method();
    match rng.usize(0..12) {
        0 => (Step::Limit, f.respond(query_limit())),
        1 => (Step::Limit, f.respond(operation_limit())),
        2 => (Step::MayHaveRun, f.respond(Reply::bad_gateway())),
        3 => (Step::MayHaveRun, f.respond(Reply::gateway_timeout())),
        4 => (Step::MayHaveRun, f.respond(Reply::empty_error(503, "x"))),
        5 => (Step::MayHaveRun, f.drop_connection()),
        6 => (Step::MayHaveRun, f.respond(Reply::hang_up())),
        7 => (Step::MayHaveRun, f.delay(Duration::from_secs(3))),
        8 => (Step::MayHaveRun, f.after().drop_connection()),
        9 => (Step::Final, f.respond(Reply::truncated_json())),
        10 => (Step::Final, f.respond(Reply::empty_error(400, "x"))),
        _ => (Step::Final, f.respond(Reply::huge(2))),
    }
}

/// Sixty calls, each meeting a random sequence of up to four faults. Whatever the mix: no panic,
/// at most the policy's attempts, the attempts an error reports are the requests the portal got, a
/// non-idempotent call is never repeated after a failure that may have run it, and
/// `is_retryable()` follows the rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_mixes_of_faults_never_panic_and_keep_the_retry_rules() {
    let seed = std::env::var("B24_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x05ee_db24);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut plans = Vec::new();
    for i in 0..60 {
        let steps: Vec<_> = (0..rng.usize(1..=4))
            .map(|_| random_step(&mut rng))
            .collect();
        plans.push((i % 2 == 0, steps));
    }
    let runs = plans
        .into_iter()
        .enumerate()
        .map(|(i, (idempotent, steps))| {
            tokio::spawn(async move {
                let emu = Emulator::start(Portal::demo()).await.expect("emulator");
                let client = Client::builder()
                    .webhook(&emu.webhook_url(1).expect("webhook"))
                    .timeout(Duration::from_secs(1))
                    .max_body(1 << 20)
                    .retry(retry())
                    .no_rate_limit()
                    .operating_limit(OperatingLimit {
                        fallback_wait: Duration::from_millis(5),
                        ..OperatingLimit::default()
                    })
                    .build()
                    .expect("client");
                let mut ids = Vec::new();
                for (n, (_, fault)) in steps.iter().enumerate() {
                    ids.push(emu.faults().add(fault.clone().nth(n as u64 + 1)));
                }
                ids.push(emu.faults().add(Fault::any_method().always()));
                let result = call(&client, idempotent).await;
                let requests = arrived(&emu, &ids);
                let classes: Vec<Step> = steps.iter().map(|(s, _)| *s).collect();
                let context =
                    format!("call {i} (seed {seed}), idempotent {idempotent}, {classes:?}");
                assert!(
                    (1..=4).contains(&requests),
                    "{context}: {requests} requests"
                );
                // The first step that ends the call, by the rules.
                let ends = |s: &Step| match s {
                    Step::Limit => false,
                    Step::MayHaveRun => !idempotent,
                    Step::Final => true,
                };
                match &result {
                    Ok(()) => {
                        assert!(requests as usize > classes.len(), "{context}");
                        assert!(!classes.iter().any(ends), "{context}");
                    }
                    Err(e) => {
                        assert_eq!(e.attempts(), requests, "{context}: {e}");
                        // What the failed attempt was: the planned fault, or a timeout of the
                        // client's own on a machine too loaded to answer in a second.
                        let timed_out =
                            matches!(e.kind(), ErrorKind::Transport(t) if t.is_timeout());
                        let class = match classes.get(requests as usize - 1) {
                            _ if timed_out => Step::MayHaveRun,
                            Some(step) => *step,
                            None => panic!("{context}: failed without a fault: {e:?}"),
                        };
                        if requests < 4 {
                            assert!(ends(&class), "{context}: stopped early: {e:?}");
                        }
                        if !idempotent {
                            let first_run = classes.iter().position(|s| *s != Step::Limit);
                            if let Some(at) = first_run {
                                assert!(requests as usize <= at + 1, "{context}: repeated: {e}");
                            }
                        }
                        let retryable = match class {
                            Step::Limit => true,
                            Step::MayHaveRun => idempotent,
                            Step::Final => false,
                        };
                        assert_eq!(e.is_retryable(), retryable, "{context}: {e:?}");
                    }
                }
            })
        });
    for run in futures::future::join_all(runs).await {
        run.expect("no panic");
    }
}

// ---------------------------------------------------------------------------------------------
// the retry policy

/// The default policy backs off exponentially (250 ms, then 500 ms, then 1 s, each jittered down
/// to half); `max_attempts` changes the number of attempts; `RetryPolicy::none()` turns retries
/// off. The error says how far each call got.
#[tokio::test]
async fn the_retry_policy_is_configurable_and_backs_off_exponentially() {
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    let webhook = emu.webhook_url(1).expect("webhook");
    emu.faults()
        .add(Fault::on(IDEMPOTENT).always().respond(Reply::bad_gateway()));
    let with = |policy: RetryPolicy| {
        Client::builder()
            .webhook(&webhook)
            .no_rate_limit()
            .retry(policy)
            .build()
            .expect("client")
    };

    let err = open(&with(RetryPolicy::default())).await.expect_err("502");
    assert_eq!((err.attempts(), err.is_retryable()), (4, true));
    assert!(err.to_string().ends_with("(after 4 attempts)"), "{err}");
    let times: Vec<_> = emu.requests().iter().map(|r| r.time).collect();
    let gaps: Vec<Duration> = times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).expect("in order"))
        .collect();
    assert_eq!(gaps.len(), 3);
    let ms = Duration::from_millis;
    assert!(gaps[0] >= ms(125), "{gaps:?}");
    assert!(gaps[1] >= ms(250), "{gaps:?}");
    assert!(gaps[2] >= ms(500) && gaps[2] > gaps[0], "{gaps:?}");

    emu.clear_requests();
    let err = open(&with(
        RetryPolicy::default().max_attempts(2).base_delay(ms(1)),
    ))
    .await
    .expect_err("502");
    assert_eq!(err.attempts(), 2);
    let err = open(&with(RetryPolicy::none())).await.expect_err("502");
    assert_eq!((err.attempts(), err.is_retryable()), (1, true));
    assert_eq!(err.to_string(), format!("{IDEMPOTENT} failed: unexpected answer (HTTP 502, 150 bytes): the body is not valid JSON: expected value at line 1 column 1"));
    assert_eq!(emu.requests().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// cancellation

/// A webhook client whose retries would come after 150–300 ms.
fn patient_client(emu: &Emulator) -> Client {
    Client::builder()
        .webhook(&emu.webhook_url(1).expect("webhook"))
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(300))
                .max_delay(Duration::from_millis(300)),
        )
        .no_rate_limit()
        .build()
        .expect("client")
}

async fn open(client: &Client) -> Result<(), Error> {
    client
        .call(SessionOpen::new(DEMO_IDS.user_code))
        .await
        .map(|_| ())
        .map_err(Error::erase)
}

/// Polls `call` until `ready()` holds, then drops it (the call must still be running).
async fn drop_when<F: std::future::Future>(call: F, ready: impl Fn() -> bool) {
    let mut call = std::pin::pin!(call);
    loop {
        tokio::select! {
            biased;
            () = tokio::time::sleep(Duration::from_millis(5)) => {
                if ready() {
                    return;
                }
            }
            _ = &mut call => panic!("the call finished before it could be dropped"),
        }
    }
}

/// Waits `wait`, then counts the requests that reached the portal (the faults' hits).
async fn count_after(emu: &Emulator, counter: FaultId, others: &[FaultId], wait: Duration) -> u64 {
    tokio::time::sleep(wait).await;
    emu.faults().fired(counter) + others.iter().map(|id| emu.faults().fired(*id)).sum::<u64>()
}

#[tokio::test]
async fn a_call_dropped_mid_flight_sends_nothing_more() {
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    let client = patient_client(&emu);
    // The first request takes 400 ms, then gets a 502: a live call would retry.
    let slow_502 = emu.faults().add(
        Fault::on(IDEMPOTENT)
            .once()
            .delay(Duration::from_millis(400))
            .respond(Reply::bad_gateway()),
    );
    let counter = emu.faults().add(Fault::on(IDEMPOTENT).always());
    // Dropped once the request has reached the portal, while it waits for its answer.
    drop_when(open(&client), || emu.faults().fired(slow_502) == 1).await;
    let arrived = count_after(&emu, counter, &[slow_502], Duration::from_millis(1200)).await;
    assert_eq!(arrived, 1, "no retry after the drop");

    // The control: not dropped, the same call retries and succeeds.
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    let client = patient_client(&emu);
    let slow_502 = emu.faults().add(
        Fault::on(IDEMPOTENT)
            .once()
            .delay(Duration::from_millis(400))
            .respond(Reply::bad_gateway()),
    );
    let counter = emu.faults().add(Fault::on(IDEMPOTENT).always());
    open(&client).await.expect("retried");
    assert_eq!(
        emu.faults().fired(slow_502) + emu.faults().fired(counter),
        2
    );
}

#[tokio::test]
async fn a_call_dropped_during_its_backoff_sends_nothing_more() {
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    let client = patient_client(&emu);
    let fast_502 = emu
        .faults()
        .add(Fault::on(IDEMPOTENT).once().respond(Reply::bad_gateway()));
    let counter = emu.faults().add(Fault::on(IDEMPOTENT).always());
    // The 502 comes at once; the retry would go 150–300 ms later. Dropped in between.
    drop_when(open(&client), || emu.faults().fired(fast_502) == 1).await;
    let arrived = count_after(&emu, counter, &[fast_502], Duration::from_millis(800)).await;
    assert_eq!(arrived, 1, "no retry after the drop");
}

#[tokio::test]
async fn a_call_dropped_while_waiting_for_the_bucket_or_a_reset_sends_nothing() {
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    let client = Client::builder()
        .webhook(&emu.webhook_url(1).expect("webhook"))
        .rate_limit(RateLimit::new(2, 1.0))
        .operating_limit(OperatingLimit {
            fallback_wait: Duration::from_millis(500),
            ..OperatingLimit::default()
        })
        .build()
        .expect("client");
    let counter = emu.faults().add(Fault::on(IDEMPOTENT).always());
    open(&client).await.expect("the burst");
    // The bucket (2 of burst, 1 headroom) now holds the next call for over a second.
    let dropped = tokio::time::timeout(Duration::from_millis(100), open(&client)).await;
    assert!(dropped.is_err(), "waiting for the bucket");
    let arrived = count_after(&emu, counter, &[], Duration::from_millis(1800)).await;
    assert_eq!(arrived, 1);

    // OPERATION_TIME_LIMIT holds the method back for 500 ms; the call is dropped meanwhile.
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    let client = Client::builder()
        .webhook(&emu.webhook_url(1).expect("webhook"))
        .no_rate_limit()
        .operating_limit(OperatingLimit {
            fallback_wait: Duration::from_millis(500),
            ..OperatingLimit::default()
        })
        .build()
        .expect("client");
    let refused = emu
        .faults()
        .add(Fault::on(IDEMPOTENT).once().respond(operation_limit()));
    let counter = emu.faults().add(Fault::on(IDEMPOTENT).always());
    drop_when(open(&client), || emu.faults().fired(refused) == 1).await;
    let arrived = count_after(&emu, counter, &[refused], Duration::from_millis(1000)).await;
    assert_eq!(arrived, 1);
}
