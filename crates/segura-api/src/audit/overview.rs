//! [`Overview`]: the figures of an audit report, gathered in one pass.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use std::cell::RefCell;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::Name;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use segura_model::{RemoteSession, SessionId};

/// How many entries the top lists and the longest sessions keep.
pub const TOP_N: usize = 10;

/// One name of a top list: its sessions and their recorded time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    /// The user, device, credential, protocol or proxy.
    pub name: String,
    /// Its sessions.
    pub sessions: u64,
    /// Their recorded time, in seconds.
    pub secs: u64,
}

/// One of the longest sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Longest {
    /// Recorded duration, in seconds.
    pub secs: u64,
    /// Its id.
    pub id: SessionId,
    /// Its user.
    pub user: String,
    /// Its device.
    pub device: String,
    /// Its credential.
    pub credential: String,
    /// Its start.
    pub start: NaiveDateTime,
}

impl Ord for Longest {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.secs
            .cmp(&other.secs)
            .then(other.id.get().cmp(&self.id.get()))
    }
}

impl PartialOrd for Longest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Count {
    sessions: u64,
    secs: u64,
}

/// Sessions and recorded time per name, for a field that may name hundreds of thousands
/// of distinct things (the generated million sessions name 409,864 devices).
///
/// Small, the table is updated at once. Past [`NameCounts::DIRECT_BELOW`] names it no
/// longer fits the caches and every session's lookup would wait on memory, so the
/// sessions' names wait in a batch instead, which is sorted by the slot each starts its
/// probe at and then applied: the table is swept in order, which the processor's
/// prefetching follows. Counts are sums, so the order they are added in changes nothing.
#[derive(Debug, Default)]
struct NameCounts {
    table: HashTable<(Name, Count)>,
    hasher: foldhash::fast::RandomState,
    /// (hash, name, recorded seconds) of sessions not yet in `table`.
    pending: Vec<(u64, Name, u64)>,
}

impl NameCounts {
    /// Below this many names, each session is counted at once.
    const DIRECT_BELOW: usize = 1 << 16;
    /// Sessions batched before they are applied.
    const BATCH: usize = 1 << 17;

    fn add(&mut self, name: &str, secs: u64) {
        let hash = self.hasher.hash_one(name);
        if self.table.len() < Self::DIRECT_BELOW {
            self.count(hash, name, secs);
        } else {
            self.pending.push((hash, Name::from(name), secs));
            if self.pending.len() >= Self::BATCH {
                self.settle();
            }
        }
    }

    fn count(&mut self, hash: u64, name: &str, secs: u64) {
        match self.table.find_mut(hash, |(k, _)| k.as_str() == name) {
            Some((_, c)) => {
                c.sessions += 1;
                c.secs += secs;
            }
            None => {
                let hasher = &self.hasher;
                self.table.insert_unique(
                    hash,
                    (Name::from(name), Count { sessions: 1, secs }),
                    |(k, _)| hasher.hash_one(k.as_str()),
                );
            }
        }
    }

    /// Applies the batch, in the order of the slots the probes start at (the hash's low
    /// bits: a table of 2^k slots starts probing `hash` at `hash & (2^k - 1)`).
    fn settle(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        let slots = self.table.capacity().saturating_add(1).max(8);
        let mask = (slots / 7 * 8).next_power_of_two() as u64 - 1;
        pending.sort_unstable_by_key(|p| p.0 & mask);
        for (hash, name, secs) in pending.drain(..) {
            self.count(hash, &name, secs);
        }
        // The batch's buffer is kept for the next one.
        self.pending = pending;
    }

    /// The table with every session counted.
    fn settled(cell: &RefCell<NameCounts>) -> std::cell::Ref<'_, NameCounts> {
        cell.borrow_mut().settle();
        cell.borrow()
    }
}

/// The figures of a list of sessions: counts, distinct users, devices and credentials,
/// sessions per day and per hour and weekday (of the start, appliance local time), top
/// lists, the protocol and proxy mix and the longest sessions. Memory is bounded by the
/// number of distinct names and days (and, for a field past 65,536 names, a batch of
/// 131,072 names waiting to be counted), not by the number of sessions.
#[derive(Debug, Default)]
pub struct Overview {
    sessions: u64,
    active: u64,
    total_secs: u64,
    users: RefCell<NameCounts>,
    devices: RefCell<NameCounts>,
    credentials: RefCell<NameCounts>,
    protocols: RefCell<NameCounts>,
    proxies: RefCell<NameCounts>,
    per_day: BTreeMap<NaiveDate, u64>,
    heat: [[u64; 24]; 7],
    longest: BinaryHeap<Reverse<Longest>>,
}

/// The first `n` names of `map`, most sessions (`by_time`: most time) first, ties by
/// name: only those `n` are sorted and copied, whatever the number of names.
fn top<'a>(
    counts: impl Iterator<Item = (&'a Name, &'a Count)>,
    n: usize,
    by_time: bool,
) -> Vec<Ranked> {
    let key = |c: &Count| if by_time { c.secs } else { c.sessions };
    let order = |a: &(&Name, &Count), b: &(&Name, &Count)| {
        key(b.1).cmp(&key(a.1)).then_with(|| a.0.cmp(b.0))
    };
    if n == 0 {
        return Vec::new();
    }
    let mut v: Vec<(&Name, &Count)> = counts.collect();
    if n < v.len() {
        v.select_nth_unstable_by(n - 1, order);
        v.truncate(n);
    }
    v.sort_unstable_by(order);
    v.into_iter()
        .map(|(k, c)| Ranked {
            name: k.to_string(),
            sessions: c.sessions,
            secs: c.secs,
        })
        .collect()
}

impl Overview {
    /// No sessions yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one session.
    pub fn add(&mut self, s: &RemoteSession) {
        self.sessions += 1;
        let secs = s.time.map_or(0, |t| t.as_secs());
        if s.end.is_none() {
            self.active += 1;
        }
        self.total_secs += secs;
        if !s.user.is_empty() {
            self.users.get_mut().add(&s.user, secs);
        }
        if !s.device.is_empty() {
            self.devices.get_mut().add(&s.device, secs);
        }
        if !s.credential.is_empty() {
            self.credentials.get_mut().add(&s.credential, secs);
        }
        self.protocols.get_mut().add(s.protocol.as_str(), secs);
        self.proxies.get_mut().add(s.proxy.as_str(), secs);
        *self.per_day.entry(s.start.date()).or_insert(0) += 1;
        let day = s.start.weekday().num_days_from_monday() as usize;
        self.heat[day][s.start.hour() as usize] += 1;
        if s.time.is_some() {
            let smallest = self.longest.peek().map(|Reverse(l)| l.secs);
            if self.longest.len() < TOP_N || smallest.is_some_and(|m| secs > m) {
                self.longest.push(Reverse(Longest {
                    secs,
                    id: s.id,
                    user: s.user.clone(),
                    device: s.device.clone(),
                    credential: s.credential.clone(),
                    start: s.start,
                }));
                if self.longest.len() > TOP_N {
                    self.longest.pop();
                }
            }
        }
    }

    fn ranked(counts: &RefCell<NameCounts>, n: usize, by_time: bool) -> Vec<Ranked> {
        let counts = NameCounts::settled(counts);
        top(counts.table.iter().map(|(k, c)| (k, c)), n, by_time)
    }

    /// Sessions.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// Sessions still open (no end).
    pub fn active(&self) -> u64 {
        self.active
    }

    /// Recorded time of every session, in seconds.
    pub fn total_secs(&self) -> u64 {
        self.total_secs
    }

    /// Distinct (non-empty) users.
    pub fn users(&self) -> usize {
        NameCounts::settled(&self.users).table.len()
    }

    /// Distinct (non-empty) devices.
    pub fn devices(&self) -> usize {
        NameCounts::settled(&self.devices).table.len()
    }

    /// Distinct (non-empty) credentials.
    pub fn credentials(&self) -> usize {
        NameCounts::settled(&self.credentials).table.len()
    }

    /// The users with the most sessions (`by_time`: the most recorded time).
    pub fn top_users(&self, by_time: bool) -> Vec<Ranked> {
        Self::ranked(&self.users, TOP_N, by_time)
    }

    /// The devices with the most sessions (`by_time`: the most recorded time).
    pub fn top_devices(&self, by_time: bool) -> Vec<Ranked> {
        Self::ranked(&self.devices, TOP_N, by_time)
    }

    /// The credentials with the most sessions (`by_time`: the most recorded time).
    pub fn top_credentials(&self, by_time: bool) -> Vec<Ranked> {
        Self::ranked(&self.credentials, TOP_N, by_time)
    }

    /// Every protocol, most sessions first.
    pub fn protocols(&self) -> Vec<Ranked> {
        Self::ranked(&self.protocols, usize::MAX, false)
    }

    /// Every proxy, most sessions first.
    pub fn proxies(&self) -> Vec<Ranked> {
        Self::ranked(&self.proxies, usize::MAX, false)
    }

    /// Sessions started per day, in date order (days without sessions left out).
    pub fn per_day(&self) -> Vec<(NaiveDate, u64)> {
        self.per_day.iter().map(|(d, n)| (*d, *n)).collect()
    }

    /// Starts per weekday (Monday first) and hour.
    pub fn heat_map(&self) -> [[u64; 24]; 7] {
        self.heat
    }

    /// The longest recorded sessions, longest first.
    pub fn longest(&self) -> Vec<Longest> {
        let mut v: Vec<Longest> = self.longest.iter().map(|Reverse(l)| l.clone()).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counted at once or in sorted batches, every name has the sessions and time of
    /// a plain map's count, read at any point: across the threshold where batching
    /// starts, mid-batch and at a batch's end, names short (inline) and long.
    #[test]
    fn name_counts_agree_with_a_map_at_every_size() {
        let mut counts = RefCell::new(NameCounts::default());
        let mut want: crate::HashMap<String, (u64, u64)> = crate::HashMap::default();
        let distinct = NameCounts::DIRECT_BELOW as u64 * 2;
        let total = NameCounts::DIRECT_BELOW as u64 + NameCounts::BATCH as u64 * 2 + 1_000;
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let checks = [
            NameCounts::DIRECT_BELOW as u64 - 1,
            NameCounts::DIRECT_BELOW as u64 + 7,
            // Just after the first batch was applied.
            NameCounts::DIRECT_BELOW as u64 + NameCounts::BATCH as u64,
            total,
        ];
        for i in 1..=total {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // New names first, then repeats of any of them.
            let n = if i <= distinct { i } else { x % distinct + 1 };
            let name = if n % 5 == 0 {
                format!("a-device-name-longer-than-twenty-four-bytes-{n}")
            } else {
                format!("dev-{n}")
            };
            let secs = x % 1000;
            counts.get_mut().add(&name, secs);
            let w = want.entry(name).or_default();
            w.0 += 1;
            w.1 += secs;
            if checks.contains(&i) {
                let got = NameCounts::settled(&counts);
                assert_eq!(got.table.len(), want.len(), "after {i} sessions");
                for (k, c) in got.table.iter() {
                    assert_eq!(
                        want.get(k.as_str()),
                        Some(&(c.sessions, c.secs)),
                        "{k} after {i} sessions"
                    );
                }
            }
        }
        assert!(
            counts.get_mut().pending.capacity() > 0,
            "the batches were used"
        );
    }

    /// The top of a map is the head of the whole map sorted (most first, ties by
    /// name), for every `n`, by sessions and by time.
    #[test]
    fn the_top_is_the_head_of_the_full_order() {
        let mut map: crate::HashMap<Name, Count> = crate::HashMap::default();
        for i in 0..200u64 {
            map.insert(
                format!("name-{i:03}").into(),
                Count {
                    sessions: i % 7,
                    secs: (i * 37) % 11,
                },
            );
        }
        for by_time in [false, true] {
            let mut all: Vec<Ranked> = map
                .iter()
                .map(|(k, c)| Ranked {
                    name: k.to_string(),
                    sessions: c.sessions,
                    secs: c.secs,
                })
                .collect();
            all.sort_by(|a, b| {
                let (x, y) = if by_time {
                    (b.secs, a.secs)
                } else {
                    (b.sessions, a.sessions)
                };
                x.cmp(&y).then_with(|| a.name.cmp(&b.name))
            });
            for n in [0, 1, 2, 10, 199, 200, 201, usize::MAX] {
                let want: Vec<Ranked> = all.iter().take(n).cloned().collect();
                assert_eq!(
                    top(map.iter(), n, by_time),
                    want,
                    "n = {n}, by_time = {by_time}"
                );
            }
        }
    }
}
