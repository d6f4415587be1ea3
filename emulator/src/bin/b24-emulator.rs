//! Runs the demo portal until Ctrl-C.
//!
//! ```text
//! b24-emulator [--port PORT]
//! ```
//!
//! Port 0 (the default) picks a free port. The chosen address and the demo credentials are printed.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use b24_emulator::{Emulator, Portal};

const USAGE: &str = "usage: b24-emulator [--port PORT]";

/// Reads `--port PORT` / `--port=PORT`; `Ok(None)` for `--help`.
fn parse_port(args: impl IntoIterator<Item = String>) -> Result<Option<u16>, String> {
    let mut port = 0;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" | "-p" => args.next().ok_or("--port needs a value")?,
            other => match other.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unexpected argument {other:?}")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port {value:?}"))?;
    }
    Ok(Some(port))
}

#[tokio::main]
async fn main() -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("b24-emulator: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (portal, ids) = Portal::demo_with_ids();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let emu = match Emulator::start_on(portal, addr).await {
        Ok(emu) => emu,
        Err(error) => {
            eprintln!("b24-emulator: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("b24-emulator listening on {}", emu.base_url());
    if let Some(webhook) = emu.webhook_url(ids.admin_user) {
        println!("webhook (user {}): {webhook}", ids.admin_user);
    }
    if let Some(webhook) = emu.webhook_url(ids.other_user) {
        println!(
            "webhook (user {}, no access to the open-line chat): {webhook}",
            ids.other_user
        );
    }
    println!(
        "OAuth: {}<method>?auth={} (user {})",
        emu.rest_url(),
        ids.access_token,
        ids.admin_user
    );
    println!(
        "open-line chat {} (user code {}), ordinary chat {}, sessions {} (closed) and {} (open)",
        ids.lines_chat_id, ids.user_code, ids.group_chat_id, ids.closed_session_id, ids.session_id
    );
    println!("Ctrl-C to stop");
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("b24-emulator: cannot wait for Ctrl-C: {error}");
    }
    emu.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::parse_port;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn port_arguments() {
        assert_eq!(parse_port(args(&[])), Ok(Some(0)));
        assert_eq!(parse_port(args(&["--port", "8080"])), Ok(Some(8080)));
        assert_eq!(parse_port(args(&["--port=9"])), Ok(Some(9)));
        assert_eq!(parse_port(args(&["--help"])), Ok(None));
        assert!(parse_port(args(&["--port"])).is_err());
        assert!(parse_port(args(&["--port", "x"])).is_err());
        assert!(parse_port(args(&["--verbose"])).is_err());
    }
}
