//! The `b24-emulator` binary against a client that is not Rust: `tests/python/crest_client.py`
//! (Python 3's `urllib`, JSON and PHP-style form bodies as CRest sends them, a `batch` with a
//! `$result` reference, the injected fault, the OAuth token endpoint), with the data of
//! `tests/python/seed.json`. The binary's summary gives the script its URLs and credentials.
//!
//! Without `python3` on the PATH the test prints, loudly, that it did not run.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Kills the emulator when the test ends, whether it passes or panics.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and reads its summary: `key:` → values, in order.
fn start(args: &[&str]) -> (Running, HashMap<String, Vec<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_b24-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the b24-emulator binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.starts_with("stop:");
            let _ = tx.send(line);
            if done {
                break;
            }
        }
    });
    let mut summary: HashMap<String, Vec<String>> = HashMap::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the emulator prints its summary within 30 s");
        println!("emulator> {line}");
        if let Some((key, value)) = line.split_once(':') {
            let value = value.trim().to_owned();
            summary.entry(key.to_owned()).or_default().push(value);
        }
        if line.starts_with("stop:") {
            return (running, summary);
        }
    }
}

fn first(summary: &HashMap<String, Vec<String>>, key: &str) -> String {
    let value = summary
        .get(key)
        .and_then(|values| values.first())
        .unwrap_or_else(|| panic!("the summary has no {key}: line"));
    // `http://…/  (user 10, …)`: the URL or token before the note.
    value.split("  (").next().unwrap_or(value).to_owned()
}

#[test]
fn a_python_crest_style_client_talks_to_the_binary() {
    let python = match Command::new("python3").arg("--version").output() {
        Ok(out) if out.status.success() => "python3",
        _ => {
            eprintln!();
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!! python3 not found: the non-Rust client test of b24-emulator DID NOT RUN");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            return;
        }
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    let seed = dir.join("seed.json");
    let (_emulator, summary) = start(&[
        "--seed",
        seed.to_str().expect("a UTF-8 path"),
        "--plan",
        "standard",
        "--time-scale",
        "10",
        "--fault",
        "bad-gateway",
        "--every",
        "3",
        "--method",
        "imopenlines.dialog.get",
        "--client-id",
        "py.app",
        "--client-secret",
        "py-secret",
        "--token-lifetime",
        "600",
    ]);

    let webhooks = &summary["webhook"];
    assert_eq!(
        webhooks.len(),
        3,
        "users 1 and 2 of the demo, 10 of the seed"
    );
    let anna = webhooks
        .iter()
        .find(|w| w.contains("(user 10, Anna Smith)"))
        .expect("the seeded user's webhook");
    let anna = anna.split("  (").next().expect("a URL");
    assert!(anna.ends_with("/rest/10/anna0webhook/"), "{anna}");
    assert_eq!(first(&summary, "client_id"), "py.app");
    assert_eq!(first(&summary, "rate limit"), "standard");
    assert!(first(&summary, "seed").starts_with("2 users, 1 open lines, 2 chats, 3 leads"));
    assert!(summary["methods"][0].contains("imopenlines.session.start"));
    assert!(first(&summary, "documented").contains("answer their page's success example"));

    let output = Command::new(python)
        .arg(dir.join("crest_client.py"))
        .env("B24_WEBHOOK", anna)
        .env("B24_REST", first(&summary, "rest"))
        .env("B24_TOKEN_URL", first(&summary, "oauth token"))
        .env("B24_CLIENT_ID", first(&summary, "client_id"))
        .env("B24_CLIENT_SECRET", first(&summary, "client_secret"))
        .env("B24_REFRESH_TOKEN", first(&summary, "refresh_token"))
        .output()
        .expect("python3 runs the script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}"
    );
    assert!(stdout.ends_with("all checks passed\n"));
}
