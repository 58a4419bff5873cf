//! State shared by every request of one server: credentials, tokens, the
//! mutable part of the dataset, faults and counters.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::mem::discriminant;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::MockConfig;
use crate::fault::{Fault, FaultPlan, FaultTarget};
use crate::generator::{Ended, Generator, ListSource};
use crate::oauth1::Oauth1Credentials;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write as _;

/// Locks a mutex, carrying on if a panicking thread poisoned it: every
/// structure here stays consistent between statements.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Random-looking values for tokens and generated credentials. Not
/// cryptographic, and it does not need to be: these are test credentials.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// `n` random lowercase hex digits.
pub(crate) fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        out.push_str(&format!("{:016x}", random_u64()));
    }
    out.truncate(n);
    out
}

/// A snapshot of what a server has received and answered, from
/// [`MockServer::stats`](crate::MockServer::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockStats {
    /// Every HTTP request received.
    pub requests: u64,
    /// Requests to the token endpoint, whatever the answer.
    pub token_requests: u64,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Token requests refused (wrong credentials, bad grant type, bad body).
    pub token_rejections: u64,
    /// Requests to a list path, whatever the answer.
    pub list_requests: u64,
    /// Requests to a get path, whatever the answer.
    pub get_requests: u64,
    /// Requests to a drop path, whatever the answer.
    pub drop_requests: u64,
    /// Sessions dropped successfully.
    pub sessions_dropped: u64,
    /// Sessions written into list bodies.
    pub sessions_streamed: u64,
    /// Requests answered with the gateway's 404 (unknown path or no
    /// `Authorization` header).
    pub no_route: u64,
    /// API requests answered 401 (bad, expired or revoked token, bad OAuth
    /// 1.0a signature, unknown scheme).
    pub unauthorized: u64,
    /// API requests whose OAuth 1.0a signature verified.
    pub oauth1_verified: u64,
    /// API requests whose OAuth 1.0a signature did not verify.
    pub oauth1_rejected: u64,
    /// Faults applied (each fault of a request counts once).
    pub faults_served: u64,
    /// List bodies sent gzip-compressed.
    pub gzip_responses: u64,
    /// List requests answered `304 Not Modified` (see
    /// [`MockConfig::etags`](crate::MockConfig::etags)).
    pub not_modified: u64,
    /// Requests to a web proxy session path, whatever the answer.
    pub web_session_requests: u64,
    /// Web proxy sessions created.
    pub web_sessions_created: u64,
    /// Accepted API requests per bearer token.
    pub token_uses: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) token_requests: AtomicU64,
    pub(crate) tokens_issued: AtomicU64,
    pub(crate) token_rejections: AtomicU64,
    pub(crate) list_requests: AtomicU64,
    pub(crate) get_requests: AtomicU64,
    pub(crate) drop_requests: AtomicU64,
    pub(crate) sessions_dropped: AtomicU64,
    pub(crate) sessions_streamed: AtomicU64,
    pub(crate) no_route: AtomicU64,
    pub(crate) unauthorized: AtomicU64,
    pub(crate) oauth1_verified: AtomicU64,
    pub(crate) oauth1_rejected: AtomicU64,
    pub(crate) faults_served: AtomicU64,
    pub(crate) gzip_responses: AtomicU64,
    pub(crate) not_modified: AtomicU64,
    pub(crate) web_session_requests: AtomicU64,
    pub(crate) web_sessions_created: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[derive(Debug)]
struct TokenEntry {
    expires: Instant,
    uses: u64,
}

/// The outcome of checking a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    Invalid,
}

/// Standing faults and queued ones ("the next n matching requests").
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    standing: Vec<(FaultTarget, Fault)>,
    queued: VecDeque<(FaultTarget, Fault, u64)>,
}

impl FaultTable {
    /// Adds a standing fault, replacing one of the same kind for the same
    /// target.
    pub(crate) fn set(&mut self, target: FaultTarget, fault: Fault) {
        self.standing
            .retain(|(t, f)| !(*t == target && discriminant(f) == discriminant(&fault)));
        self.standing.push((target, fault));
    }

    pub(crate) fn push(&mut self, n: u64, target: FaultTarget, fault: Fault) {
        if n > 0 {
            self.queued.push_back((target, fault, n));
        }
    }

    pub(crate) fn clear(&mut self) {
        self.standing.clear();
        self.queued.clear();
    }

    /// The faults for one request on `route`: the first matching queued
    /// fault (consumed) plus every matching standing fault.
    pub(crate) fn plan_for(&mut self, route: FaultTarget) -> FaultPlan {
        let mut plan = FaultPlan::default();
        let hit = self
            .queued
            .iter()
            .position(|(t, f, _)| t.matches(route) && f.applies_to(route));
        if let Some(at) = hit {
            if let Some(entry) = self.queued.get_mut(at) {
                plan.add(&entry.1);
                entry.2 -= 1;
                if entry.2 == 0 {
                    self.queued.remove(at);
                }
            }
        }
        for (target, fault) in &self.standing {
            if target.matches(route) && fault.applies_to(route) {
                plan.add(fault);
            }
        }
        plan
    }
}

/// Everything requests share.
pub(crate) struct Shared {
    pub(crate) generator: Arc<Generator>,
    pub(crate) tenant: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) oauth1: Oauth1Credentials,
    pub(crate) token_lifetime: Duration,
    pub(crate) session_count: AtomicU64,
    pub(crate) ended: Mutex<Ended>,
    tokens: Mutex<HashMap<String, TokenEntry>>,
    nonces: Mutex<HashSet<(u64, String)>>,
    pub(crate) faults: Mutex<FaultTable>,
    pub(crate) counters: Counters,
    pub(crate) variants: crate::config::Variants,
    /// The URL and token of the last web proxy session created.
    pub(crate) last_web_session: Mutex<Option<(String, String)>>,
    /// With [`MockConfig::gzip_ahead`]: the gzip list body made for a list state.
    gzip_ahead: Option<Mutex<Option<GzipAhead>>>,
}

/// A list body compressed ahead of time, and the state of the list it shows.
struct GzipAhead {
    count: u64,
    ended: Ended,
    body: bytes::Bytes,
}

/// Nonces remembered for replay detection before the set is forgotten.
const MAX_NONCES: usize = 100_000;

impl Shared {
    pub(crate) fn new(config: &MockConfig) -> Self {
        let mut faults = FaultTable::default();
        for (target, fault) in &config.faults {
            faults.standing.push((*target, fault.clone()));
        }
        Shared {
            generator: Arc::new(match config.clock {
                None => Generator::new(config.seed),
                Some((offset, ago)) => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    let local_now = now.saturating_add_signed(i64::from(offset));
                    let span = config.sessions.saturating_mul(60);
                    Generator::new(config.seed)
                        .starting_at(local_now.saturating_sub(ago).saturating_sub(span))
                }
            }),
            tenant: config.tenant.clone(),
            variants: config.variants,
            client_id: config
                .client_id
                .clone()
                .unwrap_or_else(|| format!("mock-{}", random_hex(16))),
            client_secret: config
                .client_secret
                .clone()
                .unwrap_or_else(|| random_hex(32)),
            oauth1: config.oauth1.clone().unwrap_or_else(|| {
                Oauth1Credentials::new(
                    format!("ck-{}", random_hex(16)),
                    random_hex(32),
                    format!("tk-{}", random_hex(16)),
                    random_hex(32),
                )
            }),
            token_lifetime: config.token_lifetime,
            session_count: AtomicU64::new(config.sessions),
            ended: Mutex::new(Ended::default()),
            tokens: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashSet::new()),
            faults: Mutex::new(faults),
            counters: Counters::default(),
            last_web_session: Mutex::new(None),
            gzip_ahead: config.gzip_ahead.then(|| Mutex::new(None)),
        }
    }

    /// With [`MockConfig::gzip_ahead`]: the whole list body as it is now, gzip-compressed,
    /// made on the first call and again only when the list changed.
    pub(crate) fn gzip_ahead_body(&self) -> Option<bytes::Bytes> {
        let cache = self.gzip_ahead.as_ref()?;
        let mut cache = lock(cache);
        let (count, ended) = (self.session_count(), self.ended());
        if let Some(ahead) = cache
            .as_ref()
            .filter(|a| a.count == count && a.ended == ended)
        {
            return Some(ahead.body.clone());
        }
        let mut source = ListSource::new(
            self.generator.clone(),
            &self.tenant,
            count,
            ended.clone(),
            None,
        );
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        let mut buf = Vec::with_capacity(crate::body::FRAME_BYTES + 4096);
        while source
            .fill(&mut buf, crate::body::FRAME_BYTES, u64::MAX)
            .is_some()
        {
            // Writing into a Vec cannot fail.
            encoder.write_all(&buf).ok()?;
            buf.clear();
        }
        let body = bytes::Bytes::from(encoder.finish().ok()?);
        *cache = Some(GzipAhead {
            count,
            ended,
            body: body.clone(),
        });
        Some(body)
    }

    pub(crate) fn session_count(&self) -> u64 {
        self.session_count.load(Ordering::Relaxed)
    }

    pub(crate) fn ended(&self) -> Ended {
        lock(&self.ended).clone()
    }

    /// Ends session `index` if it is open; true if it exists.
    pub(crate) fn end_index(&self, index: u64) -> bool {
        if index >= self.session_count() {
            return false;
        }
        if self.generator.is_open(index) {
            let mut ended = lock(&self.ended);
            if !ended.contains(index) {
                Arc::make_mut(&mut ended.indexes).insert(index);
            }
        }
        true
    }

    pub(crate) fn end_all_open(&self) {
        let count = self.session_count();
        let mut ended = lock(&self.ended);
        ended.below = ended.below.max(count);
    }

    /// Issues a new token valid for the configured lifetime.
    pub(crate) fn issue_token(&self) -> String {
        let token = format!("{}{}", random_hex(32), random_hex(16));
        let expires = Instant::now() + self.token_lifetime;
        lock(&self.tokens).insert(token.clone(), TokenEntry { expires, uses: 0 });
        bump(&self.counters.tokens_issued);
        token
    }

    /// Checks a bearer token and counts its use when valid.
    pub(crate) fn use_token(&self, token: &str) -> TokenCheck {
        let mut tokens = lock(&self.tokens);
        match tokens.get_mut(token) {
            Some(entry) if entry.expires > Instant::now() => {
                entry.uses += 1;
                TokenCheck::Valid
            }
            _ => TokenCheck::Invalid,
        }
    }

    /// Makes one token expire now.
    pub(crate) fn revoke_token(&self, token: &str) {
        if let Some(entry) = lock(&self.tokens).get_mut(token) {
            entry.expires = Instant::now();
        }
    }

    /// Makes every issued token expire now.
    pub(crate) fn revoke_all_tokens(&self) {
        let now = Instant::now();
        for entry in lock(&self.tokens).values_mut() {
            entry.expires = now;
        }
    }

    /// Remembers a nonce; false if it was already used with that timestamp.
    pub(crate) fn fresh_nonce(&self, timestamp: u64, nonce: &str) -> bool {
        let mut nonces = lock(&self.nonces);
        if nonces.len() >= MAX_NONCES {
            nonces.clear();
        }
        nonces.insert((timestamp, nonce.to_owned()))
    }

    pub(crate) fn stats(&self) -> MockStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MockStats {
            requests: get(&c.requests),
            token_requests: get(&c.token_requests),
            tokens_issued: get(&c.tokens_issued),
            token_rejections: get(&c.token_rejections),
            list_requests: get(&c.list_requests),
            get_requests: get(&c.get_requests),
            drop_requests: get(&c.drop_requests),
            sessions_dropped: get(&c.sessions_dropped),
            sessions_streamed: get(&c.sessions_streamed),
            no_route: get(&c.no_route),
            unauthorized: get(&c.unauthorized),
            oauth1_verified: get(&c.oauth1_verified),
            oauth1_rejected: get(&c.oauth1_rejected),
            faults_served: get(&c.faults_served),
            gzip_responses: get(&c.gzip_responses),
            not_modified: get(&c.not_modified),
            web_session_requests: get(&c.web_session_requests),
            web_sessions_created: get(&c.web_sessions_created),
            token_uses: lock(&self.tokens)
                .iter()
                .map(|(token, entry)| (token.clone(), entry.uses))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_run_out() {
        let mut table = FaultTable::default();
        table.push(2, FaultTarget::List, Fault::InternalError);
        assert_eq!(table.plan_for(FaultTarget::Get).status, None);
        assert_eq!(
            table.plan_for(FaultTarget::List).status,
            Some(Fault::InternalError)
        );
        assert_eq!(
            table.plan_for(FaultTarget::List).status,
            Some(Fault::InternalError)
        );
        assert_eq!(table.plan_for(FaultTarget::List).status, None);
    }

    #[test]
    fn standing_faults_replace_their_own_kind() {
        let mut table = FaultTable::default();
        table.set(FaultTarget::Any, Fault::TruncateAfter(5));
        table.set(FaultTarget::Any, Fault::Delay(Duration::from_millis(1)));
        table.set(FaultTarget::Any, Fault::TruncateAfter(7));
        let plan = table.plan_for(FaultTarget::List);
        assert_eq!(plan.cut, Some((7, false)));
        assert_eq!(plan.delay, Some(Duration::from_millis(1)));
        assert_eq!(plan.count, 2);
    }

    #[test]
    fn expired_token_never_hits_the_token_endpoint() {
        let mut table = FaultTable::default();
        table.push(1, FaultTarget::Any, Fault::ExpiredToken);
        assert!(!table.plan_for(FaultTarget::Token).expire_token);
        assert!(table.plan_for(FaultTarget::List).expire_token);
    }
}
