//! What the emulator prints when it starts: every URL and credential a client needs.

use std::fmt::Write as _;

use b24_emulator::{Emulator, Fault, Registry, Seeded};

use crate::cli::{Args, PlanArg};

/// Webhook URLs listed at most (a seed may add many users).
const WEBHOOKS_SHOWN: usize = 10;

/// What the summary tells besides the emulator's own URLs.
pub struct Served<'a> {
    pub args: &'a Args,
    pub fault: Option<&'a Fault>,
    pub seeded: Option<Seeded>,
    /// An OAuth token pair issued at start: (user, access token, refresh token).
    pub tokens: Option<(u64, String, String)>,
}

/// The summary, one fact a line, in `key: value` form (scripts read the URLs from it).
pub fn render(emu: &Emulator, served: &Served<'_>) -> String {
    let Served {
        args,
        fault,
        seeded,
        tokens,
    } = served;
    let mut out = String::new();
    let mut line = |key: &str, value: &str| {
        let _ = writeln!(out, "{key:<16}{value}");
    };
    line("b24-emulator", "an emulated Bitrix24 portal (plain HTTP)");
    line("portal:", &emu.base_url());
    line("rest:", &emu.rest_url());
    if !args.bind.is_loopback() {
        line(
            "warning:",
            "not loopback: anyone on the network can call it, over plain HTTP",
        );
    }

    let users: Vec<(u64, String, bool)> = emu
        .portal()
        .lock()
        .users()
        .map(|u| (u.id, u.full_name(), u.admin))
        .collect();
    let mut shown = 0;
    for (id, name, admin) in &users {
        if shown == WEBHOOKS_SHOWN {
            line("webhook:", &format!("... ({} users in all)", users.len()));
            break;
        }
        if let Some(url) = emu.webhook_url(*id) {
            let role = if *admin { ", admin" } else { "" };
            line("webhook:", &format!("{url}  (user {id}, {name}{role})"));
            shown += 1;
        }
    }

    line("oauth token:", &emu.token_url());
    line("client_id:", &args.client_id);
    line("client_secret:", &args.client_secret);
    if let Some((user, access, refresh)) = tokens {
        line("access_token:", &format!("{access}  (user {user})"));
        line("refresh_token:", refresh);
    }
    line(
        "token lifetime:",
        &format!("{} s (portal time)", args.token_lifetime),
    );

    let plan = match args.plan {
        None => "none".to_owned(),
        Some(PlanArg::Standard) => "standard  (50 requests, drains 2/s)".to_owned(),
        Some(PlanArg::Enterprise) => "enterprise  (250 requests, drains 5/s)".to_owned(),
    };
    line("rate limit:", &plan);
    if let Some(budget) = args.operating_budget {
        line(
            "operating time:",
            &format!("{budget} s per method per 10 min"),
        );
    }
    line("time scale:", &format!("{}x", args.time_scale));
    if let Some(fault) = fault {
        let target = args.method.as_deref().unwrap_or("every REST request");
        line(
            "fault:",
            &format!("{fault} on 1 in {} of {target}", args.every),
        );
    }
    if let (Some(seeded), Some(path)) = (seeded, &args.seed) {
        line(
            "seed:",
            &format!(
                "{} users, {} open lines, {} chats, {} leads from {}",
                seeded.users,
                seeded.lines,
                seeded.chats,
                seeded.leads,
                path.display()
            ),
        );
    }
    let mut methods = Registry::with_builtins()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    methods.push("batch".to_owned());
    methods.sort();
    line("methods:", &methods.join(", "));
    let (classic, v3) = b24_emulator::methods::documented::count();
    let documented = if args.no_documented {
        "off (--no-documented): other methods answer ERROR_METHOD_NOT_FOUND".to_owned()
    } else {
        format!(
            "the docs' other methods ({classic} at /rest/, {v3} REST 3.0 at /rest/api/) answer their page's success example, after checking the required parameters"
        )
    };
    line("documented:", &documented);
    line("stop:", "Ctrl-C");
    out
}
