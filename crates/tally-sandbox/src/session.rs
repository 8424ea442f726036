//! The service's view of sessions: which worker holds a session's state, when it was last used,
//! and the bound on how many exist. The state itself lives in a holder process inside the
//! worker (see `forkserver.py`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub(crate) struct SessionEntry {
    pub(crate) slot: usize,
    pub(crate) last_used: Instant,
}

#[derive(Default)]
pub(crate) struct SessionTable {
    entries: HashMap<String, SessionEntry>,
}

/// Why a session could not be placed.
pub(crate) struct TableFull;

impl SessionTable {
    /// The slot of `id`, creating the session on the least-loaded slot if it is new.
    pub(crate) fn place(
        &mut self,
        id: &str,
        slots: usize,
        max_sessions: usize,
        now: Instant,
    ) -> Result<usize, TableFull> {
        if let Some(e) = self.entries.get_mut(id) {
            e.last_used = now;
            return Ok(e.slot);
        }
        if self.entries.len() >= max_sessions {
            return Err(TableFull);
        }
        let mut load = vec![0usize; slots];
        for e in self.entries.values() {
            load[e.slot] += 1;
        }
        let slot = (0..slots).min_by_key(|&s| load[s]).unwrap_or(0);
        self.entries.insert(
            id.to_string(),
            SessionEntry {
                slot,
                last_used: now,
            },
        );
        Ok(slot)
    }

    /// Marks a session used (at the end of a request, so a long snippet does not age it).
    pub(crate) fn touch(&mut self, id: &str, now: Instant) {
        if let Some(e) = self.entries.get_mut(id) {
            e.last_used = now;
        }
    }

    /// Removes one session; returns its slot.
    pub(crate) fn remove(&mut self, id: &str) -> Option<usize> {
        self.entries.remove(id).map(|e| e.slot)
    }

    /// Removes every session of a slot (its worker restarted, so their state is gone).
    pub(crate) fn forget_slot(&mut self, slot: usize) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.slot != slot);
        before - self.entries.len()
    }

    /// Removes and returns the sessions idle for longer than `idle`.
    pub(crate) fn expire(&mut self, idle: Duration, now: Instant) -> Vec<(String, usize)> {
        let old: Vec<(String, usize)> = self
            .entries
            .iter()
            .filter(|(_, e)| now.duration_since(e.last_used) > idle)
            .map(|(k, e)| (k.clone(), e.slot))
            .collect();
        for (k, _) in &old {
            self.entries.remove(k);
        }
        old
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_on_least_loaded_and_bounds() {
        let mut t = SessionTable::default();
        let now = Instant::now();
        assert_eq!(t.place("a", 2, 3, now).ok(), Some(0));
        assert_eq!(t.place("b", 2, 3, now).ok(), Some(1));
        assert_eq!(t.place("a", 2, 3, now).ok(), Some(0));
        assert!(t.place("c", 2, 3, now).is_ok());
        assert!(t.place("d", 2, 3, now).is_err());
        let later = now + Duration::from_secs(100);
        t.touch("a", later);
        let gone = t.expire(Duration::from_secs(10), later);
        assert_eq!(gone.len(), 2);
        assert_eq!(t.len(), 1);
    }
}
