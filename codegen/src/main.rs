//! `cargo run -p b24-codegen -- [--docs <docs>] [--out <workspace root>]`:
//! regenerates `methods/schema/` from the docs and `methods/src/**` from the schema.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut docs = PathBuf::from("../shared/bitrix24-docs");
    let mut root = PathBuf::from(".");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--docs" => docs = args.next().map(PathBuf::from).unwrap_or(docs),
            "--out" => root = args.next().map(PathBuf::from).unwrap_or(root),
            other => {
                eprintln!("unknown argument `{other}`; usage: b24-codegen [--docs <path>] [--out <workspace root>]");
                return ExitCode::FAILURE;
            }
        }
    }
    match b24_codegen::run(&docs, &root) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("b24-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
