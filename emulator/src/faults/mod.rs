//! Fault injection: answers a real portal (or the proxies in front of it) sometimes gives —
//! an HTML 502, broken JSON, an empty error code, a huge body, a result of the wrong shape, a
//! timeout, a connection dropped mid-answer.
//!
//! A [`Fault`] says which requests it hits (a method in any case, every REST method, or the OAuth
//! token endpoint), which of the matching requests (the nth, the next k, every nth, all), and what happens:
//! a [`delay`](Fault::delay), a [`Reply`] instead of the portal's answer (including a connection
//! dropped mid-body, [`Reply::disconnect`], or closed with no answer, [`Reply::hang_up`]), or both. By default a
//! fault strikes *before* the method runs, so the call changes nothing; with
//! [`after`](Fault::after) the method runs first and its answer is then replaced (the portal did
//! the work, the client never learns it).
//!
//! ```
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use b24_emulator::faults::{Fault, Reply};
//! use b24_emulator::{Emulator, Portal};
//!
//! let emu = Emulator::start(Portal::demo()).await?;
//! // The 2nd call of session.start gets nginx's 502 page; the method does not run.
//! emu.faults().add(Fault::on("imopenlines.session.start").nth(2).respond(Reply::bad_gateway()));
//! // The next 3 calls of any method wait 5 s before being answered normally.
//! emu.faults().add(Fault::any_method().times(3).delay(Duration::from_secs(5)));
//! // Every call of dialog.get runs, then the connection drops mid-answer.
//! let id = emu.faults().add(Fault::on("imopenlines.dialog.get").after().drop_connection());
//! assert_eq!(emu.faults().fired(id), 0);
//! # Ok(()) }
//! ```
//!
//! A request runs to its end even when the client gives up (a timeout shorter than a delay, a
//! closed connection): a delayed call still runs after its delay and is journaled, as a real
//! portal finishes a request whose client has gone.
//!
//! Counting: every fault counts the requests that match its target from the moment it is added,
//! whether or not it (or another fault) fires for them. When several faults are due for one
//! request, the one added first fires and the others only count it. Faults see HTTP requests: the
//! commands inside a `batch` are not matched (a fault on `batch` is).

mod body;
mod reply;

pub use reply::Reply;

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Which requests a fault looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// One REST method (lowercased, without `.json`).
    Method(String),
    /// Every REST request.
    AnyMethod,
    /// The OAuth token endpoint.
    TokenEndpoint,
}

/// How many matching requests a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    /// Not said: one with [`Fault::nth`], all otherwise.
    Unset,
    Exactly(u64),
    Unlimited,
}

/// One fault to inject; build it with [`Fault::on`], [`Fault::any_method`] or
/// [`Fault::token_endpoint`], then add it with [`Faults::add`].
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    target: Target,
    first: u64,
    nth: bool,
    /// Hit one matching request in this many (1: each).
    every: u64,
    count: Count,
    after: bool,
    delay: Option<Duration>,
    reply: Option<Reply>,
}

impl Fault {
    fn new(target: Target) -> Self {
        Self {
            target,
            first: 1,
            nth: false,
            every: 1,
            count: Count::Unset,
            after: false,
            delay: None,
            reply: None,
        }
    }

    /// Hits calls of one REST method (name in any case, `.json` suffix ignored). Without
    /// [`nth`](Fault::nth), [`times`](Fault::times) or [`once`](Fault::once), every call.
    pub fn on(method: &str) -> Self {
        Self::new(Target::Method(crate::wire::request::normalize_method(
            method,
        )))
    }

    /// Hits every REST request, whatever the method (`batch` included).
    pub fn any_method() -> Self {
        Self::new(Target::AnyMethod)
    }

    /// Hits requests to the OAuth token endpoint ([`Emulator::token_url`](crate::Emulator::token_url)).
    pub fn token_endpoint() -> Self {
        Self::new(Target::TokenEndpoint)
    }

    /// Only the `n`th matching request (1 = the next one), or with [`times`](Fault::times) `k`
    /// requests from the `n`th on. `0` is read as 1.
    #[must_use]
    pub fn nth(mut self, n: u64) -> Self {
        self.first = n.max(1);
        self.nth = true;
        self
    }

    /// Every `n`th matching request: the `n`th, `2n`th, `3n`th… (with [`nth`](Fault::nth) `m`:
    /// the `m`th, `m+n`th…), without end unless [`times`](Fault::times) says how many. `0` is
    /// read as 1.
    #[must_use]
    pub fn every(mut self, n: u64) -> Self {
        self.every = n.max(1);
        if !self.nth {
            self.first = self.every;
        }
        self
    }

    /// `k` matching requests (the next `k`, or `k` from the [`nth`](Fault::nth)).
    #[must_use]
    pub fn times(mut self, k: u64) -> Self {
        self.count = Count::Exactly(k);
        self
    }

    /// The next matching request only: `times(1)`.
    #[must_use]
    pub fn once(self) -> Self {
        self.times(1)
    }

    /// Every matching request (from the [`nth`](Fault::nth) on, if set).
    #[must_use]
    pub fn always(mut self) -> Self {
        self.count = Count::Unlimited;
        self
    }

    /// Lets the method run first, then applies the delay and replaces its answer: the call
    /// changes the portal although the client sees a failure.
    #[must_use]
    pub fn after(mut self) -> Self {
        self.after = true;
        self
    }

    /// Waits this long before answering (before running the method, or after with
    /// [`after`](Fault::after)). Without a [`respond`](Fault::respond) the normal answer follows
    /// the delay. A client whose timeout is shorter sees a timeout, while the call still runs
    /// once the delay is over (unless a reply replaces it).
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Answers `reply` instead of the portal's answer.
    #[must_use]
    pub fn respond(mut self, reply: Reply) -> Self {
        self.reply = Some(reply);
        self
    }

    /// Sends the headers and part of a body, then drops the connection:
    /// `respond(Reply::disconnect())`.
    #[must_use]
    pub fn drop_connection(self) -> Self {
        self.respond(Reply::disconnect())
    }

    fn matches(&self, probe: Probe<'_>) -> bool {
        match (&self.target, probe) {
            (Target::Method(name), Probe::Method(method)) => name == method,
            (Target::AnyMethod, Probe::Method(_)) => true,
            (Target::TokenEndpoint, Probe::TokenEndpoint) => true,
            _ => false,
        }
    }

    /// Whether the `seen`th matching request is hit.
    fn due(&self, seen: u64) -> bool {
        let Some(offset) = seen.checked_sub(self.first) else {
            return false;
        };
        if offset % self.every != 0 {
            return false;
        }
        // The how-manieth hit this request would be, from 0.
        let hit = offset / self.every;
        match self.count {
            Count::Unset if self.nth && self.every == 1 => hit == 0,
            Count::Unset | Count::Unlimited => true,
            Count::Exactly(k) => hit < k,
        }
    }
}

impl fmt::Display for Fault {
    /// A short description, as the journal records it (`after: delay 2s, respond 502`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(delay) = self.delay {
            parts.push(format!("delay {delay:?}"));
        }
        match &self.reply {
            Some(reply) if reply.hangs_up() => parts.push("hang up".to_owned()),
            Some(reply) if reply.drops_connection() => {
                parts.push(format!("respond {} and drop connection", reply.status()));
            }
            Some(reply) => parts.push(format!("respond {}", reply.status())),
            None => {}
        }
        if parts.is_empty() {
            parts.push("none".to_owned());
        }
        let when = if self.after { "after: " } else { "" };
        write!(f, "{when}{}", parts.join(", "))
    }
}

/// The id of an added fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultId(u64);

/// What a request is, for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe<'a> {
    /// A REST request for this method (lowercased).
    Method(&'a str),
    /// A request to the token endpoint.
    TokenEndpoint,
}

#[derive(Debug)]
struct Entry {
    id: FaultId,
    fault: Fault,
    seen: u64,
    fired: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Entry>,
    next_id: u64,
}

/// The faults of a running emulator: [`Emulator::faults`](crate::Emulator::faults).
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a fault; it counts matching requests from now on.
    pub fn add(&self, fault: Fault) -> FaultId {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = FaultId(inner.next_id);
        inner.entries.push(Entry {
            id,
            fault,
            seen: 0,
            fired: 0,
        });
        id
    }

    /// Removes a fault; `false` if it was not there.
    pub fn remove(&self, id: FaultId) -> bool {
        let mut inner = self.lock();
        let before = inner.entries.len();
        inner.entries.retain(|entry| entry.id != id);
        inner.entries.len() != before
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().entries.clear();
    }

    /// How many requests a fault has hit so far (0 for an unknown or removed fault).
    pub fn fired(&self, id: FaultId) -> u64 {
        self.lock()
            .entries
            .iter()
            .find(|entry| entry.id == id)
            .map_or(0, |entry| entry.fired)
    }

    /// How many faults are registered (spent ones included).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no fault is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts a request against every matching fault and returns the one that fires, if any.
    pub(crate) fn strike(&self, probe: Probe<'_>) -> Option<Armed> {
        let mut inner = self.lock();
        let mut armed = None;
        for entry in inner
            .entries
            .iter_mut()
            .filter(|entry| entry.fault.matches(probe))
        {
            entry.seen += 1;
            if armed.is_none() && entry.fault.due(entry.seen) {
                entry.fired += 1;
                armed = Some(Armed {
                    after: entry.fault.after,
                    delay: entry.fault.delay,
                    reply: entry.fault.reply.clone(),
                    label: entry.fault.to_string(),
                });
            }
        }
        armed
    }
}

/// A fault that fires for the current request.
#[derive(Debug, Clone)]
pub(crate) struct Armed {
    /// Applies after the method ran.
    pub(crate) after: bool,
    delay: Option<Duration>,
    /// The answer to send instead, if any.
    pub(crate) reply: Option<Reply>,
    /// The description for the journal.
    pub(crate) label: String,
}

impl Armed {
    /// Waits the fault's delay, if any.
    pub(crate) async fn pause(&self) {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired_pattern(fault: Fault, calls: usize) -> Vec<bool> {
        let faults = Faults::default();
        faults.add(fault);
        (0..calls)
            .map(|_| faults.strike(Probe::Method("a.b")).is_some())
            .collect()
    }

    #[test]
    fn which_calls_are_hit() {
        let (t, f) = (true, false);
        assert_eq!(fired_pattern(Fault::on("A.B"), 3), [t, t, t]);
        assert_eq!(fired_pattern(Fault::on("a.b.json").nth(2), 4), [f, t, f, f]);
        assert_eq!(fired_pattern(Fault::on("a.b").times(2), 4), [t, t, f, f]);
        assert_eq!(
            fired_pattern(Fault::on("a.b").nth(2).times(2), 4),
            [f, t, t, f]
        );
        assert_eq!(
            fired_pattern(Fault::on("a.b").nth(3).always(), 4),
            [f, f, t, t]
        );
        assert_eq!(fired_pattern(Fault::on("a.b").once(), 2), [t, f]);
        assert_eq!(fired_pattern(Fault::on("other"), 2), [f, f]);
        assert_eq!(fired_pattern(Fault::any_method().nth(0), 2), [t, f]);
        assert_eq!(fired_pattern(Fault::token_endpoint(), 1), [f]);
    }

    #[test]
    fn every_nth_call_is_hit() {
        let (t, f) = (true, false);
        let every_3rd = [f, f, t, f, f, t, f, f, t];
        assert_eq!(fired_pattern(Fault::on("a.b").every(3), 9), every_3rd);
        assert_eq!(fired_pattern(Fault::on("a.b").every(1), 3), [t, t, t]);
        assert_eq!(fired_pattern(Fault::on("a.b").every(0), 2), [t, t]);
        assert_eq!(
            fired_pattern(Fault::on("a.b").every(2).times(2), 8),
            [f, t, f, t, f, f, f, f]
        );
        assert_eq!(
            fired_pattern(Fault::on("a.b").nth(1).every(3), 7),
            [t, f, f, t, f, f, t]
        );
        assert_eq!(
            fired_pattern(Fault::on("a.b").every(3).nth(2), 6),
            [f, t, f, f, t, f]
        );
        assert_eq!(
            fired_pattern(Fault::on("a.b").every(u64::MAX), 3),
            [f, f, f]
        );
    }

    #[test]
    fn first_added_wins_and_all_count() {
        let faults = Faults::default();
        let first = faults.add(Fault::on("a.b").once().respond(Reply::bad_gateway()));
        let second = faults.add(Fault::on("a.b").nth(1).after());
        let third = faults.add(Fault::on("a.b").nth(2).delay(Duration::from_millis(1)));
        let hit = faults.strike(Probe::Method("a.b"));
        assert_eq!(hit.map(|a| a.label), Some("respond 502".to_owned()));
        // The second fault counted the first call, so it is spent; the third fires now.
        let hit = faults.strike(Probe::Method("a.b"));
        assert_eq!(hit.map(|a| a.label), Some("delay 1ms".to_owned()));
        assert_eq!(
            (
                faults.fired(first),
                faults.fired(second),
                faults.fired(third)
            ),
            (1, 0, 1)
        );
        assert!(faults.remove(first));
        assert!(!faults.remove(first));
        assert_eq!(faults.len(), 2);
        faults.clear();
        assert!(faults.is_empty());
        assert_eq!(
            Fault::on("x").after().drop_connection().to_string(),
            "after: respond 200 and drop connection"
        );
    }
}
