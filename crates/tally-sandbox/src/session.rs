//! The service's view of sessions: which worker holds a session's state, under which key, when it
//! was last used, and which sessions were lost. The state itself lives in a holder process inside
//! the worker (see `forkserver.py`).
//!
//! Bounds: at most `max_sessions` live sessions; a new one beyond that evicts the least recently
//! used session that has no request in flight. A session whose state is gone (evicted, expired,
//! its worker restarted, its holder died) leaves a *tombstone*, so that its next request is
//! answered `session_lost` instead of silently starting from an empty namespace. Tombstones are
//! forgotten by `DELETE /sessions/<id>`, or oldest first beyond [`LOST_KEPT_MIN`] (or four per
//! possible live session, whichever is more).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Tombstones kept at least (a few MB of ids at most).
pub(crate) const LOST_KEPT_MIN: usize = 16_384;

/// Why a session's state is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LostReason {
    /// Its worker died or hung and was restarted (with every session it held).
    WorkerRestarted,
    /// `max_sessions` sessions existed and this one was the least recently used.
    Evicted,
    /// Idle for longer than `session_idle_timeout`.
    Expired,
    /// Its holder process died (a snippet killed it, or it timed out in a way that took it down).
    HolderDied,
}

impl LostReason {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            LostReason::WorkerRestarted => "its sandbox worker died and was restarted",
            LostReason::Evicted => {
                "it was evicted to make room for newer sessions (raise --max-sessions)"
            }
            LostReason::Expired => "it was idle for longer than the session idle timeout",
            LostReason::HolderDied => "the process holding its state died",
        }
    }
}

/// Where a request for a session goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Run on `slot`, in the worker's session `key`; `create` when the worker has not seen it.
    /// `evicted` is a session pushed out to make room, to be closed on its worker.
    Run {
        slot: usize,
        key: u64,
        create: bool,
        evicted: Option<(usize, u64)>,
    },
    /// The session's state is gone.
    Lost(LostReason),
    /// `max_sessions` sessions exist and every one has a request in flight.
    Full,
}

/// What `DELETE` found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    /// A live session: its holder on `slot`, under `key`, is to be closed.
    Live { slot: usize, key: u64 },
    /// A tombstone, now forgotten.
    Lost(LostReason),
    /// Never heard of (or forgotten long ago).
    Unknown,
}

struct Entry {
    slot: usize,
    key: u64,
    last_used: Instant,
    in_flight: u32,
    /// The worker has run at least one request of this session (so its holder exists or
    /// existed); a request for a session the worker does not know is then `session_lost`.
    started: bool,
}

/// Counters for `/health`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SessionCounters {
    pub(crate) closed: u64,
    pub(crate) evicted: u64,
    pub(crate) expired: u64,
    pub(crate) lost_to_restarts: u64,
    pub(crate) holders_died: u64,
}

pub(crate) struct SessionTable {
    entries: HashMap<String, Entry>,
    /// Live sessions per slot.
    load: Vec<usize>,
    lost: HashMap<String, (LostReason, u64)>,
    /// Tombstones oldest first, with the sequence number that tells a stale entry (the id was
    /// forgotten and lost again since) from the current one.
    lost_order: VecDeque<(String, u64)>,
    lost_kept: usize,
    next_seq: u64,
    next_key: u64,
    pub(crate) counters: SessionCounters,
}

impl SessionTable {
    pub(crate) fn new(slots: usize, max_sessions: usize) -> SessionTable {
        SessionTable {
            entries: HashMap::new(),
            load: vec![0; slots],
            lost: HashMap::new(),
            lost_order: VecDeque::new(),
            lost_kept: LOST_KEPT_MIN.max(max_sessions.saturating_mul(4)),
            next_seq: 0,
            next_key: 0,
            counters: SessionCounters::default(),
        }
    }

    /// Starts a request for session `id`: places a new session on the least-loaded slot
    /// (evicting the least recently used idle session when `max_sessions` exist), or finds the
    /// existing one. Every `Run` must be followed by [`end`](Self::end).
    pub(crate) fn begin(&mut self, id: &str, max_sessions: usize, now: Instant) -> Placement {
        if let Some(e) = self.entries.get_mut(id) {
            e.last_used = now;
            e.in_flight += 1;
            return Placement::Run {
                slot: e.slot,
                key: e.key,
                create: !e.started,
                evicted: None,
            };
        }
        if let Some((reason, _)) = self.lost.get(id) {
            return Placement::Lost(*reason);
        }
        let mut evicted = None;
        if self.entries.len() >= max_sessions.max(1) {
            let victim = self
                .entries
                .iter()
                .filter(|(_, e)| e.in_flight == 0)
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            let Some(victim) = victim else {
                return Placement::Full;
            };
            let e = self.remove_entry(&victim).expect("victim exists");
            self.bury(victim, LostReason::Evicted);
            self.counters.evicted += 1;
            evicted = Some((e.slot, e.key));
        }
        let slot = (0..self.load.len())
            .min_by_key(|&s| self.load[s])
            .unwrap_or(0);
        self.next_key += 1;
        let key = self.next_key;
        self.load[slot] += 1;
        self.entries.insert(
            id.to_string(),
            Entry {
                slot,
                key,
                last_used: now,
                in_flight: 1,
                started: false,
            },
        );
        Placement::Run {
            slot,
            key,
            create: true,
            evicted,
        }
    }

    /// Ends a request begun with [`begin`](Self::begin). Returns false when the session `key`
    /// is no longer the live one for `id` (it was deleted, evicted or lost meanwhile): a holder
    /// the request may have created must then be closed by the caller.
    pub(crate) fn end(&mut self, id: &str, key: u64, now: Instant) -> bool {
        match self.entries.get_mut(id) {
            Some(e) if e.key == key => {
                e.in_flight = e.in_flight.saturating_sub(1);
                e.started = true;
                e.last_used = now;
                true
            }
            _ => false,
        }
    }

    /// The worker said it does not have session `key` of `id` (or that its holder died): the
    /// session becomes a tombstone. Returns the reason to report (an earlier tombstone's, if the
    /// service already knew why).
    pub(crate) fn lost_on_worker(&mut self, id: &str, key: u64) -> LostReason {
        if matches!(self.entries.get(id), Some(e) if e.key == key) {
            self.remove_entry(id);
            self.bury(id.to_string(), LostReason::HolderDied);
            self.counters.holders_died += 1;
            return LostReason::HolderDied;
        }
        self.lost
            .get(id)
            .map(|(r, _)| *r)
            .unwrap_or(LostReason::HolderDied)
    }

    /// `DELETE /sessions/<id>`.
    pub(crate) fn close(&mut self, id: &str) -> Closed {
        if let Some(e) = self.remove_entry(id) {
            self.counters.closed += 1;
            return Closed::Live {
                slot: e.slot,
                key: e.key,
            };
        }
        match self.lost.remove(id) {
            Some((reason, _)) => Closed::Lost(reason),
            None => Closed::Unknown,
        }
    }

    /// Every session of `slot` is gone (its worker was restarted).
    pub(crate) fn forget_slot(&mut self, slot: usize) -> usize {
        let ids: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| e.slot == slot)
            .map(|(k, _)| k.clone())
            .collect();
        for id in &ids {
            self.remove_entry(id);
            self.bury(id.clone(), LostReason::WorkerRestarted);
        }
        self.counters.lost_to_restarts += ids.len() as u64;
        ids.len()
    }

    /// Buries the sessions idle for longer than `idle` (none with a request in flight); returns
    /// their (slot, key) to close.
    pub(crate) fn expire(&mut self, idle: Duration, now: Instant) -> Vec<(usize, u64)> {
        let old: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| e.in_flight == 0 && now.duration_since(e.last_used) > idle)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::with_capacity(old.len());
        for id in old {
            let e = self.remove_entry(&id).expect("listed above");
            self.bury(id, LostReason::Expired);
            out.push((e.slot, e.key));
        }
        self.counters.expired += out.len() as u64;
        out
    }

    /// Live sessions.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Live sessions on `slot`.
    pub(crate) fn load(&self, slot: usize) -> usize {
        self.load[slot]
    }

    /// Tombstones kept.
    pub(crate) fn lost_len(&self) -> usize {
        self.lost.len()
    }

    fn remove_entry(&mut self, id: &str) -> Option<Entry> {
        let e = self.entries.remove(id)?;
        self.load[e.slot] -= 1;
        Some(e)
    }

    fn bury(&mut self, id: String, reason: LostReason) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.lost.insert(id.clone(), (reason, seq));
        self.lost_order.push_back((id, seq));
        while self.lost.len() > self.lost_kept {
            let Some((old, s)) = self.lost_order.pop_front() else {
                break;
            };
            if self.lost.get(&old).is_some_and(|(_, cur)| *cur == s) {
                self.lost.remove(&old);
            }
        }
        // Stale order entries (forgotten by DELETE) are dropped as they reach the front; keep the
        // queue from growing without bound when most tombstones are deleted early.
        if self.lost_order.len() > 2 * self.lost_kept {
            let lost = &self.lost;
            self.lost_order
                .retain(|(id, s)| lost.get(id).is_some_and(|(_, cur)| cur == s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: Placement) -> (usize, u64, bool, Option<(usize, u64)>) {
        match p {
            Placement::Run {
                slot,
                key,
                create,
                evicted,
            } => (slot, key, create, evicted),
            other => panic!("expected Run, got {other:?}"),
        }
    }

    #[test]
    fn places_on_least_loaded_and_creates_once() {
        let mut t = SessionTable::new(2, 10);
        let now = Instant::now();
        let (sa, ka, ca, _) = run(t.begin("a", 10, now));
        assert!(ca);
        assert!(t.end("a", ka, now));
        let (sb, _, _, _) = run(t.begin("b", 10, now));
        assert_ne!(sa, sb);
        let (sa2, ka2, ca2, _) = run(t.begin("a", 10, now));
        assert_eq!((sa2, ka2, ca2), (sa, ka, false));
    }

    #[test]
    fn the_least_recently_used_idle_session_is_evicted_and_then_answers_lost() {
        let mut t = SessionTable::new(1, 2);
        let t0 = Instant::now();
        let (_, ka, _, _) = run(t.begin("a", 2, t0));
        t.end("a", ka, t0);
        let (_, kb, _, _) = run(t.begin("b", 2, t0 + Duration::from_secs(1)));
        t.end("b", kb, t0 + Duration::from_secs(1));
        // "a" is used again, so "b" is now the least recently used.
        let (_, _, _, _) = run(t.begin("a", 2, t0 + Duration::from_secs(2)));
        t.end("a", ka, t0 + Duration::from_secs(2));
        let (_, _, _, evicted) = run(t.begin("c", 2, t0 + Duration::from_secs(3)));
        assert_eq!(evicted, Some((0, kb)));
        assert_eq!(t.len(), 2);
        assert_eq!(t.begin("b", 2, t0), Placement::Lost(LostReason::Evicted));
        // DELETE forgets the tombstone; the id then starts afresh.
        assert_eq!(t.close("b"), Closed::Lost(LostReason::Evicted));
        assert_eq!(t.close("b"), Closed::Unknown);
    }

    #[test]
    fn sessions_with_a_request_in_flight_are_never_evicted_or_expired() {
        let mut t = SessionTable::new(1, 1);
        let t0 = Instant::now();
        let (_, ka, _, _) = run(t.begin("a", 1, t0));
        assert_eq!(t.begin("b", 1, t0), Placement::Full);
        assert!(t
            .expire(Duration::from_secs(1), t0 + Duration::from_secs(10))
            .is_empty());
        t.end("a", ka, t0);
        let gone = t.expire(Duration::from_secs(1), t0 + Duration::from_secs(10));
        assert_eq!(gone, vec![(0, ka)]);
        assert_eq!(t.begin("a", 1, t0), Placement::Lost(LostReason::Expired));
        assert_eq!(t.counters.expired, 1);
    }

    #[test]
    fn a_restarted_slot_loses_its_sessions_only() {
        let mut t = SessionTable::new(2, 10);
        let now = Instant::now();
        let (sa, ka, _, _) = run(t.begin("a", 10, now));
        t.end("a", ka, now);
        let (sb, kb, _, _) = run(t.begin("b", 10, now));
        t.end("b", kb, now);
        assert_eq!(t.forget_slot(sa), 1);
        assert_eq!(
            t.begin("a", 10, now),
            Placement::Lost(LostReason::WorkerRestarted)
        );
        assert_eq!(run(t.begin("b", 10, now)).0, sb);
        // A request that was in flight on the lost session learns the same reason.
        assert_eq!(t.lost_on_worker("a", ka), LostReason::WorkerRestarted);
        // Its end reports that the key is no longer live (its holder must be closed).
        assert!(!t.end("a", ka, now));
    }

    #[test]
    fn a_deleted_session_reports_its_key_and_a_reused_id_gets_a_new_key() {
        let mut t = SessionTable::new(1, 10);
        let now = Instant::now();
        let (_, k1, _, _) = run(t.begin("a", 10, now));
        assert_eq!(t.close("a"), Closed::Live { slot: 0, key: k1 });
        assert!(
            !t.end("a", k1, now),
            "the in-flight request sees the delete"
        );
        let (_, k2, create, _) = run(t.begin("a", 10, now));
        assert!(create);
        assert_ne!(k1, k2);
        assert_eq!(t.load(0), 1);
    }

    #[test]
    fn tombstones_are_bounded() {
        let mut t = SessionTable::new(1, 1);
        let now = Instant::now();
        for i in 0..(LOST_KEPT_MIN + 100) {
            let id = format!("s{i}");
            let (_, k, _, _) = run(t.begin(&id, 1, now));
            t.end(&id, k, now);
            t.lost_on_worker(&id, k);
        }
        assert_eq!(t.lost_len(), LOST_KEPT_MIN);
        // The oldest were forgotten, the newest are still reported.
        assert!(matches!(t.begin("s0", 1, now), Placement::Run { .. }));
        let last = format!("s{}", LOST_KEPT_MIN + 99);
        assert_eq!(
            t.begin(&last, 1, now),
            Placement::Lost(LostReason::HolderDied)
        );
    }
}
