//! The out-of-process rig: a fixed-answer HTTP server (the `fixed_server` binary) run as a child
//! process, so that everything the client process spends is the client's.
//!
//! The server answers every POST with [`ANSWER`], a successful `imopenlines.session.start` with
//! its full `time` block, whatever the path and body. It prints the address it listens on as its
//! first line of output, and exits when its standard input closes, so that it does not outlive a
//! bench that dies without dropping its [`FixedServer`].

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The answer to every POST: `imopenlines.session.start` succeeded, with the `time` block a
/// cloud portal sends (the shape of the method's page in the official docs, with the float
/// timings of a real answer; `operating` and `operating_reset_at` present, as on cloud portals).
pub const ANSWER: &str = concat!(
    r#"{"result":true,"time":{"start":1773660718.412935,"finish":1773660718.441807,"#,
    r#""duration":0.028872013092041016,"processing":0.0043570995330810547,"#,
    r#""date_start":"2026-03-16T14:31:58+01:00","date_finish":"2026-03-16T14:31:58+01:00","#,
    r#""operating_reset_at":1773661318,"operating":0}}"#
);

/// The headers a cloud portal sends with an answer, besides `content-length`, `date` and
/// `content-type` (the server adds those).
pub const HEADERS: [(&str, &str); 5] = [
    ("server", "nginx"),
    ("x-powered-cms", "Bitrix Site Manager"),
    ("x-bitrix-rest-time", "0.0288720131"),
    ("x-bitrix-rest-user-time", "0.0171300000"),
    ("x-bitrix-rest-system-time", "0.0024660000"),
];

/// The webhook path the callers use (any path gets the same answer).
pub const WEBHOOK_PATH: &str = "/rest/1/benchfixedanswer0001/";

/// The chat id the callers send (the server does not read it).
pub const CHAT: i64 = 2043;

/// A running `fixed_server` child process. Dropping it kills the process and reaps it.
pub struct FixedServer {
    child: Child,
    addr: SocketAddr,
}

impl FixedServer {
    /// Starts the server binary at `path` and waits (at most 10 s) for the address it listens on.
    pub fn spawn(path: &Path) -> Result<FixedServer, String> {
        let mut child = Command::new(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let mut server = FixedServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(format!("reading the server's address: {e}")),
            Err(_) => return Err("the server did not print its address within 10 s".into()),
        };
        server.addr = line
            .trim()
            .parse()
            .map_err(|_| format!("the server printed {line:?}, not an address"))?;
        Ok(server)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The webhook URL to point callers at.
    pub fn webhook(&self) -> String {
        format!("http://{}{WEBHOOK_PATH}", self.addr)
    }

    /// Callers of every side pointed at this server, each with its own connections.
    pub fn callers(&self) -> crate::Callers {
        crate::Callers::new(&self.webhook(), CHAT)
    }

    /// Callers of every side pointed at this server, sharing one pool of connections.
    pub fn callers_sharing_pool(&self) -> crate::Callers {
        crate::Callers::sharing_pool(&self.webhook(), CHAT)
    }
}

impl Drop for FixedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the `fixed_server` binary is: `$B24_FIXED_SERVER` if set, else next to the running
/// executable (cargo puts all of a package's binaries in one directory).
pub fn server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("B24_FIXED_SERVER") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("the path of the running executable");
    exe.with_file_name(format!("fixed_server{}", std::env::consts::EXE_SUFFIX))
}

/// Raises this process's limit of open files to at least `wanted` (child processes inherit it),
/// raising the hard limit too when allowed. Returns the soft limit now in force.
pub fn raise_open_files(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur >= wanted {
        return limit.rlim_cur;
    }
    let raised = libc::rlimit {
        rlim_cur: wanted,
        rlim_max: limit.rlim_max.max(wanted),
    };
    // SAFETY: `raised` is a valid `rlimit`.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        return wanted;
    }
    // Not allowed above the hard limit: go as far as it.
    let capped = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &capped) } == 0 {
        limit.rlim_max
    } else {
        limit.rlim_cur
    }
}

/// User + system CPU time of this process so far, all threads (`getrusage(RUSAGE_SELF)`).
pub fn cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_SELF) failed");
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
