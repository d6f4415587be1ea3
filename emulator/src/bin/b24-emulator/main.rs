//! `b24-emulator`: serves an emulated Bitrix24 portal until Ctrl-C. `--help` documents the
//! options (`cli.rs`); the summary printed at start says what is served (`summary.rs`).

mod cli;
mod summary;

use std::net::SocketAddr;
use std::process::ExitCode;

use b24_emulator::Emulator;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse();
    let (fault, (mut portal, seeded)) = match args.fault().and_then(|f| Ok((f, args.portal()?))) {
        Ok(setup) => setup,
        Err(error) => {
            eprintln!("b24-emulator: {error}");
            return ExitCode::from(2);
        }
    };
    // A token pair for the first administrator (else the first employee), to try OAuth with.
    let holder = portal
        .users()
        .filter(|u| !u.connector)
        .min_by_key(|u| (!u.admin, u.id))
        .map(|u| u.id);
    let tokens = holder.map(|user| {
        let (access, refresh) = portal.issue_tokens(user, &args.client_id);
        (user, access, refresh)
    });
    let addr = SocketAddr::new(args.bind, args.port);
    let emu = match Emulator::start_on(portal, addr).await {
        Ok(emu) => emu,
        Err(error) => {
            eprintln!("b24-emulator: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(fault) = &fault {
        emu.faults().add(fault.clone());
    }
    emu.set_documented_answers(!args.no_documented);
    let served = summary::Served {
        args: &args,
        fault: fault.as_ref(),
        seeded,
        tokens,
    };
    print!("{}", summary::render(&emu, &served));
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("b24-emulator: cannot wait for Ctrl-C: {error}");
    }
    emu.shutdown().await;
    ExitCode::SUCCESS
}
