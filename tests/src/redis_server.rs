//! A throwaway `redis-server` for tests and benchmarks: its own process, listening only on a unix
//! socket in a fresh temporary directory, no persistence, killed (and the directory removed) on
//! drop.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    dir: PathBuf,
    /// `unix:///…/redis.sock`, for `redis::Client::open`.
    pub url: String,
}

/// How to get `redis-server` where it is missing.
pub const INSTALL_HINT: &str =
    "install it (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`)";

impl RedisServer {
    /// Starts one, or says loudly on stderr why it cannot and returns `None` when `redis-server`
    /// is not installed. Under CI (`CI` set) a missing `redis-server` is a failure: `.ci/run`
    /// installs it.
    pub fn start(test: &str) -> Option<RedisServer> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            let message = format!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !! {test}: NOT RUN: `redis-server` is not on PATH.\n\
                 !! To run the Redis tests, {INSTALL_HINT}.\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            assert!(std::env::var_os("CI").is_none(), "{message}");
            eprintln!("{message}");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "b24-redis-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let socket = dir.join("redis.sock");
        let log = std::fs::File::create(dir.join("redis.log")).expect("a log file");
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("redis-server starts");
        let server = RedisServer {
            child,
            url: format!("unix://{}", socket.display()),
            dir,
        };
        let started = Instant::now();
        while !server.ping(&socket) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not answer within 10 s; its log: {}",
                std::fs::read_to_string(server.dir.join("redis.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(server)
    }

    fn ping(&self, socket: &std::path::Path) -> bool {
        let Ok(mut stream) = UnixStream::connect(socket) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }
}

impl RedisServer {
    /// Kills the server and removes its directory (what dropping it does).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisServer {
    /// Stops the server's process (SIGSTOP) with its socket open: connections are accepted and
    /// nothing is answered, as from a hung Redis, until [`resume`](Self::resume).
    pub fn pause(&self) {
        signal(self.child.id(), "STOP");
    }

    /// Lets a [`pause`](Self::pause)d server run again (SIGCONT).
    pub fn resume(&self) {
        signal(self.child.id(), "CONT");
    }
}

fn signal(pid: u32, name: &str) {
    let sent = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|status| status.success());
    assert!(sent, "kill -{name} {pid} failed");
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
