//! [`Overview`]: the figures of an audit report, gathered in one pass.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::Name;
use crate::HashMap;
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

fn bump(map: &mut HashMap<Name, Count>, key: &str, secs: u64) {
    let c = match map.get_mut(key) {
        Some(c) => c,
        None => map.entry(Name::from(key)).or_default(),
    };
    c.sessions += 1;
    c.secs += secs;
}

/// The figures of a list of sessions: counts, distinct users, devices and credentials,
/// sessions per day and per hour and weekday (of the start, appliance local time), top
/// lists, the protocol and proxy mix and the longest sessions. Memory is bounded by the
/// number of distinct names and days, not by the number of sessions.
#[derive(Debug, Default)]
pub struct Overview {
    sessions: u64,
    active: u64,
    total_secs: u64,
    users: HashMap<Name, Count>,
    devices: HashMap<Name, Count>,
    credentials: HashMap<Name, Count>,
    protocols: HashMap<Name, Count>,
    proxies: HashMap<Name, Count>,
    per_day: BTreeMap<NaiveDate, u64>,
    heat: [[u64; 24]; 7],
    longest: BinaryHeap<Reverse<Longest>>,
}

/// The first `n` names of `map`, most sessions (`by_time`: most time) first, ties by
/// name: only those `n` are sorted and copied, whatever the number of names.
fn top(map: &HashMap<Name, Count>, n: usize, by_time: bool) -> Vec<Ranked> {
    let key = |c: &Count| if by_time { c.secs } else { c.sessions };
    let order = |a: &(&Name, &Count), b: &(&Name, &Count)| {
        key(b.1).cmp(&key(a.1)).then_with(|| a.0.cmp(b.0))
    };
    if n == 0 {
        return Vec::new();
    }
    let mut v: Vec<(&Name, &Count)> = map.iter().collect();
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
            bump(&mut self.users, &s.user, secs);
        }
        if !s.device.is_empty() {
            bump(&mut self.devices, &s.device, secs);
        }
        if !s.credential.is_empty() {
            bump(&mut self.credentials, &s.credential, secs);
        }
        bump(&mut self.protocols, s.protocol.as_str(), secs);
        bump(&mut self.proxies, s.proxy.as_str(), secs);
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
        self.users.len()
    }

    /// Distinct (non-empty) devices.
    pub fn devices(&self) -> usize {
        self.devices.len()
    }

    /// Distinct (non-empty) credentials.
    pub fn credentials(&self) -> usize {
        self.credentials.len()
    }

    /// The users with the most sessions (`by_time`: the most recorded time).
    pub fn top_users(&self, by_time: bool) -> Vec<Ranked> {
        top(&self.users, TOP_N, by_time)
    }

    /// The devices with the most sessions (`by_time`: the most recorded time).
    pub fn top_devices(&self, by_time: bool) -> Vec<Ranked> {
        top(&self.devices, TOP_N, by_time)
    }

    /// The credentials with the most sessions (`by_time`: the most recorded time).
    pub fn top_credentials(&self, by_time: bool) -> Vec<Ranked> {
        top(&self.credentials, TOP_N, by_time)
    }

    /// Every protocol, most sessions first.
    pub fn protocols(&self) -> Vec<Ranked> {
        top(&self.protocols, usize::MAX, false)
    }

    /// Every proxy, most sessions first.
    pub fn proxies(&self) -> Vec<Ranked> {
        top(&self.proxies, usize::MAX, false)
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

    /// The top of a map is the head of the whole map sorted (most first, ties by
    /// name), for every `n`, by sessions and by time.
    #[test]
    fn the_top_is_the_head_of_the_full_order() {
        let mut map: HashMap<Name, Count> = HashMap::default();
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
                assert_eq!(top(&map, n, by_time), want, "n = {n}, by_time = {by_time}");
            }
        }
    }
}
