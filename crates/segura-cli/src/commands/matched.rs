//! What a query matched: the note "0 of 200,000 sessions matched" when nothing did,
//! naming the protocol and proxy values that were seen when a `--protocol` or
//! `--proxy` value (accepted as it is: servers send new ones) matched none; and the
//! refusal of criteria that contradict each other.

use std::collections::BTreeSet;

use segura_api::SessionFilter;
use segura_model::RemoteSession;

use crate::cli::FilterArgs;
use crate::exit::CliError;

/// The most distinct values remembered per field for the note.
const MAX_VALUES: usize = 32;

/// Counts of a query, and the values seen of the fields it asked for by value.
#[derive(Debug, Default)]
pub struct Matched {
    total: u64,
    matched: u64,
    protocols: Option<(Vec<String>, BTreeSet<String>)>,
    proxies: Option<(Vec<String>, BTreeSet<String>)>,
}

fn remember(set: &mut Option<(Vec<String>, BTreeSet<String>)>, value: &str) {
    if let Some((_, seen)) = set {
        if seen.len() < MAX_VALUES && !seen.contains(value) {
            seen.insert(value.to_owned());
        }
    }
}

impl Matched {
    /// For a query with `filter`.
    pub fn new(filter: &SessionFilter) -> Self {
        let asked = |v: &[segura_api::Pattern]| {
            (!v.is_empty()).then(|| {
                (
                    v.iter().map(|p| p.as_str().to_owned()).collect(),
                    BTreeSet::new(),
                )
            })
        };
        Self {
            protocols: asked(&filter.protocols),
            proxies: asked(&filter.proxies),
            ..Self::default()
        }
    }

    /// One session was read; `matched` if the filter kept it.
    pub fn saw(&mut self, s: &RemoteSession, matched: bool) {
        self.total += 1;
        if matched {
            self.matched += 1;
        } else {
            remember(&mut self.protocols, s.protocol.as_str());
            remember(&mut self.proxies, s.proxy.as_str());
        }
    }

    /// The note when nothing matched.
    pub fn note(&self) -> Option<String> {
        if self.matched > 0 {
            return None;
        }
        let mut text = format!(
            "note: 0 of {} session{} matched",
            thousands(self.total),
            if self.total == 1 { "" } else { "s" }
        );
        for (what, set) in [("protocol", &self.protocols), ("proxy", &self.proxies)] {
            let Some((asked, seen)) = set else { continue };
            if self.total == 0 {
                continue;
            }
            let unseen: Vec<&str> = asked
                .iter()
                .filter(|a| !seen.iter().any(|s| s.eq_ignore_ascii_case(a)))
                .map(String::as_str)
                .collect();
            if unseen.is_empty() {
                continue;
            }
            let mut values: Vec<String> = seen
                .iter()
                .map(|v| crate::diag::clean(if v.is_empty() { "(empty)" } else { v }))
                .collect();
            if seen.len() >= MAX_VALUES {
                values.push("...".into());
            }
            text.push_str(&format!(
                "; no session has {what} {} (seen: {})",
                crate::diag::clean(&unseen.join(", ")),
                values.join(", ")
            ));
        }
        Some(text)
    }
}

/// `200000` as `200,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Refuses criteria that no session can meet together: a usage error (exit 2).
pub fn check(args: &FilterArgs) -> Result<(), CliError> {
    let resolved = args.to_filter()?;
    if let (Some(since), Some(until)) = (resolved.since, resolved.until) {
        if since > until {
            return Err(CliError::Usage(format!(
                "--since {since} is after --until {until}: no session can match both"
            )));
        }
    }
    if let (Some(min), Some(max)) = (args.min_duration, args.max_duration) {
        if min > max {
            return Err(CliError::Usage(format!(
                "--min-duration {min} is longer than --max-duration {max}: no session can match both"
            )));
        }
    }
    if args.active && (args.min_duration.is_some() || args.max_duration.is_some()) {
        return Err(CliError::Usage(
            "--active with --min-duration or --max-duration: open sessions have no \
             recorded duration, so none can match"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
