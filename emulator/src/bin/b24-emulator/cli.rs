//! The command line: what `--help` documents, and how it becomes a portal and its faults.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use b24_emulator::{Fault, Plan, Portal, Reply, Seeded};
use clap::{Parser, ValueEnum};

/// Serves an emulated Bitrix24 portal over HTTP: the REST wire protocol (webhook and OAuth URLs,
/// JSON, form and multipart bodies, the answer and error envelopes), the OAuth token endpoint,
/// the leaky-bucket rate limit and operating time, and injected faults.
///
/// It starts with the demo portal (users 1 and 2 with webhooks, open line 1, open line chat 101,
/// ordinary chat 102), plus whatever `--seed` adds, and prints what it serves: the URLs, the
/// webhook URLs, the OAuth application and a token pair, the methods. Ctrl-C stops it.
#[derive(Debug, Parser)]
#[command(name = "b24-emulator", version)]
pub struct Args {
    /// Address to listen on. Only loopback is safe: the emulator speaks plain HTTP and prints
    /// its credentials.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST), value_name = "ADDR")]
    pub bind: IpAddr,

    /// Port to listen on; 0 picks a free one (printed).
    #[arg(short, long, default_value_t = 0)]
    pub port: u16,

    /// Rate limit of a portal plan: a leaky bucket of 50 requests draining 2/s (standard) or
    /// 250 draining 5/s (enterprise). A request above it gets 503 QUERY_LIMIT_EXCEEDED. No
    /// limit by default.
    #[arg(long, value_enum, value_name = "PLAN")]
    pub plan: Option<PlanArg>,

    /// Operating-time budget of each method, in portal seconds per 10 minutes (a real portal
    /// has 480). Over it, calls of the method get 429 OPERATION_TIME_LIMIT. None by default.
    #[arg(long, value_name = "SECONDS")]
    pub operating_budget: Option<f64>,

    /// Runs the portal clock this many times faster than real time: the bucket drains, the
    /// operating-time windows and token lifetimes pass sooner (0.001 to 1000000).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub time_scale: f64,

    /// Injects a fault instead of the portal's answer (the method does not run).
    #[arg(long, value_enum, value_name = "KIND")]
    pub fault: Option<FaultKind>,

    /// With --fault: hit every Nth matching request (1: each one).
    #[arg(long, default_value_t = 1, value_name = "N", requires = "fault")]
    pub every: u64,

    /// With --fault: hit only calls of this REST method (e.g. crm.lead.list); every REST
    /// request by default, `batch` included.
    #[arg(long, value_name = "METHOD", requires = "fault")]
    pub method: Option<String>,

    /// With --fault slow: how long the answer is held back, in seconds.
    #[arg(
        long,
        default_value_t = 30.0,
        value_name = "SECONDS",
        requires = "fault"
    )]
    pub delay: f64,

    /// Lifetime of the OAuth access tokens the token endpoint issues, in portal seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub token_lifetime: u64,

    /// client_id of the OAuth application the token endpoint accepts.
    #[arg(long, default_value = "local.b24emulator", value_name = "ID")]
    pub client_id: String,

    /// client_secret of that application.
    #[arg(long, default_value = "emulator-secret", value_name = "SECRET")]
    pub client_secret: String,

    /// Adds users (with webhooks and access tokens), open lines, chats and CRM leads from a
    /// JSON file: {"users": [{"id", "first_name", "last_name", "admin", "connector",
    /// "work_position", "webhook", "access_token"}], "lines": [{"id", "name", "operators"}],
    /// "chats": [{"id", "type": "lines"|"chat", "line", "user_code", "name", "owner",
    /// "members"}], "leads": [{"id", "title", "opportunity", "assigned_by_id"}] or a count}.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Starts from an empty portal instead of the demo one (then only --seed adds data).
    #[arg(long)]
    pub empty: bool,

    /// Answers ERROR_METHOD_NOT_FOUND for methods without a handler, instead of their docs
    /// page's success example (after checking the page's required parameters).
    #[arg(long)]
    pub no_documented: bool,
}

/// `--plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanArg {
    /// 50 requests of burst, 2 per second.
    Standard,
    /// 250 requests of burst, 5 per second.
    Enterprise,
}

/// `--fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FaultKind {
    /// nginx's HTML 502 Bad Gateway page.
    BadGateway,
    /// nginx's HTML 504 Gateway Time-out page.
    GatewayTimeout,
    /// 500 INTERNAL_SERVER_ERROR in the error envelope.
    InternalError,
    /// 503 QUERY_LIMIT_EXCEEDED, as the leaky bucket answers.
    QueryLimit,
    /// 429 OPERATION_TIME_LIMIT, as an exhausted operating time answers.
    OperationTimeLimit,
    /// A 200 whose JSON is cut in the middle.
    TruncatedJson,
    /// An error envelope with an empty `error` code.
    EmptyError,
    /// A 200 body of 8 MiB.
    Huge,
    /// Headers and part of the body, then the connection is dropped.
    Disconnect,
    /// The connection is closed without an answer.
    HangUp,
    /// The normal answer, after --delay seconds.
    Slow,
}

impl Args {
    /// The fault `--fault`, `--every`, `--method` and `--delay` describe.
    pub fn fault(&self) -> Result<Option<Fault>, String> {
        let Some(kind) = self.fault else {
            return Ok(None);
        };
        let fault = match &self.method {
            Some(method) => Fault::on(method),
            None => Fault::any_method(),
        }
        .every(self.every);
        let reply = match kind {
            FaultKind::BadGateway => Reply::bad_gateway(),
            FaultKind::GatewayTimeout => Reply::gateway_timeout(),
            FaultKind::InternalError => Reply::error(
                500,
                "INTERNAL_SERVER_ERROR",
                "Internal server error (injected by b24-emulator)",
            ),
            FaultKind::QueryLimit => Reply::error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"),
            FaultKind::OperationTimeLimit => Reply::error(
                429,
                "OPERATION_TIME_LIMIT",
                "Method is blocked due to operation time limit.",
            ),
            FaultKind::TruncatedJson => Reply::truncated_json(),
            FaultKind::EmptyError => Reply::empty_error(400, "injected by b24-emulator"),
            FaultKind::Huge => Reply::huge(8),
            FaultKind::Disconnect => Reply::disconnect(),
            FaultKind::HangUp => Reply::hang_up(),
            FaultKind::Slow => {
                let delay = Duration::try_from_secs_f64(self.delay)
                    .map_err(|_| format!("invalid --delay {}", self.delay))?;
                return Ok(Some(fault.delay(delay)));
            }
        };
        Ok(Some(fault.respond(reply)))
    }

    /// The portal: demo or empty, seeded, with the limits and the OAuth application.
    pub fn portal(&self) -> Result<(Portal, Option<Seeded>), String> {
        let mut portal = if self.empty {
            Portal::new()
        } else {
            Portal::demo()
        };
        let seeded = match &self.seed {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let seed = serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
                let seeded = portal
                    .seed_json(&seed)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Some(seeded)
            }
        };
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(format!("invalid --time-scale {}", self.time_scale));
        }
        portal.set_time_scale(self.time_scale);
        portal.set_rate_limit(self.plan.map(|plan| match plan {
            PlanArg::Standard => Plan::Standard,
            PlanArg::Enterprise => Plan::Enterprise,
        }));
        if let Some(budget) = self.operating_budget {
            if !(budget.is_finite() && budget > 0.0) {
                return Err(format!("invalid --operating-budget {budget}"));
            }
            portal.set_operating_budget(Some(budget));
        }
        portal.set_access_token_lifetime(Duration::from_secs(self.token_lifetime));
        portal.add_oauth_app(self.client_id.clone(), self.client_secret.clone());
        Ok((portal, seeded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("b24-emulator").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let args = parse(&[]).expect("no arguments");
        assert_eq!(args.port, 0);
        assert_eq!(args.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(args.plan, None);
        assert_eq!(args.fault().expect("no fault"), None);
        let (portal, seeded) = args.portal().expect("the demo portal");
        assert!(seeded.is_none());
        assert_eq!(portal.rate_limit(), None);
        assert_eq!(portal.time_scale(), 1.0);
        assert!(portal.oauth_app("local.b24emulator").is_some());
        assert!(!args.no_documented);
        assert!(parse(&["--no-documented"]).expect("valid").no_documented);
    }

    #[test]
    fn knobs_reach_the_portal_and_the_fault() {
        let args = parse(&[
            "--port=8080",
            "--plan",
            "enterprise",
            "--time-scale",
            "20",
            "--fault",
            "bad-gateway",
            "--every",
            "3",
            "--method",
            "crm.lead.list",
            "--client-id",
            "app.x",
        ])
        .expect("valid arguments");
        assert_eq!(args.port, 8080);
        let expected = Fault::on("crm.lead.list")
            .every(3)
            .respond(Reply::bad_gateway());
        assert_eq!(args.fault().expect("a fault"), Some(expected));
        let (portal, _) = args.portal().expect("a portal");
        assert_eq!(portal.rate_limit(), Some(Plan::Enterprise));
        assert_eq!(portal.time_scale(), 20.0);
        assert!(portal.oauth_app("app.x").is_some());
    }

    #[test]
    fn mistakes_are_refused() {
        for args in [
            &["--port", "x"][..],
            &["--plan", "free"],
            &["--fault", "explode"],
            &["--every", "2"],
            &["--verbose"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
        for args in [
            &["--time-scale", "0"][..],
            &["--time-scale", "NaN"],
            &["--operating-budget=-1"],
        ] {
            let args = parse(args).expect("parses");
            assert!(args.portal().is_err(), "{args:?}");
        }
        let args = parse(&["--fault", "slow", "--delay=-1"]).expect("parses");
        assert!(args.fault().is_err());
    }
}
