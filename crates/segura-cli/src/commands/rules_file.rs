//! The audit rules file (TOML) and the baseline file: read, checked, turned into the
//! library's [`AuditConfig`] and [`Baseline`].
//!
//! ```toml
//! disabled = ["new-origin"]
//!
//! [exempt]                 # left alone by every rule
//! users = ["svc-backup"]
//!
//! [rules.long-session]
//! severity = "high"
//! threshold = "10h"
//!
//! [rules.off-hours]
//! days = ["mon", "tue", "wed", "thu", "fri", "sat"]
//! start = "07:00"
//! end = "19:00"
//! exempt = { users = ["night-ops"] }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveTime;
use segura_api::audit::{AuditConfig, Baseline, Exemptions, RuleId, Severity};
use segura_http::local_file::{read_regular_file, Links, SMALL_FILE_LIMIT};
use serde::Deserialize;

use crate::exit::CliError;
use crate::timespec::parse_human_duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemptFile {
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    credentials: Vec<String>,
    #[serde(default)]
    devices: Vec<String>,
}

impl ExemptFile {
    fn into_exemptions(self) -> Exemptions {
        Exemptions {
            users: self.users,
            credentials: self.credentials,
            devices: self.devices,
        }
    }
}

/// A duration as text (`8h`, `90m`, `1h30m`) or a number of seconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Secs(u64),
    Text(String),
}

impl DurationValue {
    fn secs(&self, key: &str) -> Result<u64, String> {
        match self {
            DurationValue::Secs(s) => Ok(*s),
            DurationValue::Text(t) => parse_human_duration(t)
                .map(|d| d.as_secs())
                .map_err(|e| format!("{key}: {e}")),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleFile {
    enabled: Option<bool>,
    severity: Option<String>,
    threshold: Option<DurationValue>,
    min_users: Option<usize>,
    min_devices: Option<usize>,
    window: Option<DurationValue>,
    days: Option<Vec<String>>,
    start: Option<String>,
    end: Option<String>,
    exempt: Option<ExemptFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    disabled: Vec<String>,
    #[serde(default)]
    exempt: ExemptFile,
    #[serde(default)]
    rules: BTreeMap<String, RuleFile>,
}

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A day name, in full or by its first three letters (Monday is 0).
fn parse_day(d: &str) -> Result<usize, String> {
    let l = d.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|n| *n == l || (l.len() == 3 && n.starts_with(l.as_str())))
        .ok_or_else(|| format!("unknown day {d:?}; use mon, tue, wed, thu, fri, sat, sun"))
}

fn parse_clock(s: &str, key: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M:%S"))
        .map_err(|_| format!("{key}: {s:?} is not a time of day like 08:00"))
}

/// Rejects settings that do not belong to `rule`.
fn check_keys(rule: RuleId, r: &RuleFile) -> Result<(), String> {
    let allowed: &[&str] = match rule {
        RuleId::LongSession | RuleId::LongOpen => &["threshold"],
        RuleId::OffHours => &["days", "start", "end"],
        RuleId::SharedCredential => &["min-users"],
        RuleId::DeviceSweep => &["min-devices", "window"],
        _ => &[],
    };
    let present = [
        ("threshold", r.threshold.is_some()),
        ("min-users", r.min_users.is_some()),
        ("min-devices", r.min_devices.is_some()),
        ("window", r.window.is_some()),
        ("days", r.days.is_some()),
        ("start", r.start.is_some()),
        ("end", r.end.is_some()),
    ];
    for (key, set) in present {
        if set && !allowed.contains(&key) {
            return Err(format!(
                "rules.{rule}: `{key}` is not a setting of this rule"
            ));
        }
    }
    Ok(())
}

/// The configuration a rules file describes (TOML text).
pub fn parse_rules(text: &str) -> Result<AuditConfig, String> {
    let file: RulesFile = toml::from_str(text).map_err(|e| e.message().to_owned())?;
    let mut config = AuditConfig::default();
    config.exempt = file.exempt.into_exemptions();
    for id in &file.disabled {
        let rule: RuleId = id.parse().map_err(|e| format!("disabled: {e}"))?;
        config.rule_mut(rule).enabled = false;
    }
    for (id, r) in file.rules {
        let rule: RuleId = id.parse().map_err(|e| format!("rules: {e}"))?;
        check_keys(rule, &r)?;
        let key = |k: &str| format!("rules.{rule}.{k}");
        {
            let settings = config.rule_mut(rule);
            if let Some(e) = r.enabled {
                settings.enabled = e && settings.enabled;
            }
            if let Some(s) = &r.severity {
                settings.severity = s
                    .parse::<Severity>()
                    .map_err(|e| format!("{}: {e}", key("severity")))?;
            }
            if let Some(e) = r.exempt {
                settings.exempt = e.into_exemptions();
            }
        }
        if let Some(t) = &r.threshold {
            let secs = t.secs(&key("threshold"))?;
            match rule {
                RuleId::LongSession => config.long_session_secs = secs,
                _ => config.long_open_secs = secs,
            }
        }
        if let Some(n) = r.min_users {
            if n < 2 {
                return Err(format!("{}: at least 2", key("min-users")));
            }
            config.shared_min_users = n;
        }
        if let Some(n) = r.min_devices {
            if n < 2 {
                return Err(format!("{}: at least 2", key("min-devices")));
            }
            config.sweep_min_devices = n;
        }
        if let Some(w) = &r.window {
            let secs = w.secs(&key("window"))?;
            if secs == 0 {
                return Err(format!("{}: must be longer than 0s", key("window")));
            }
            config.sweep_window_secs = secs;
        }
        if let Some(days) = &r.days {
            let mut set = [false; 7];
            for d in days {
                set[parse_day(d).map_err(|e| format!("{}: {e}", key("days")))?] = true;
            }
            config.business_hours.days = set;
        }
        if let Some(s) = &r.start {
            config.business_hours.start = parse_clock(s, &key("start"))?;
        }
        if let Some(s) = &r.end {
            config.business_hours.end = parse_clock(s, &key("end"))?;
        }
    }
    Ok(config)
}

fn read_small(path: &Path, what: &str, hint: &str) -> Result<Vec<u8>, CliError> {
    read_regular_file(path, SMALL_FILE_LIMIT, Links::Follow)
        .map(|f| f.bytes)
        .map_err(|e| {
            CliError::config(
                format!("cannot read the {what} {}: {e}", path.display()),
                hint,
            )
        })
}

/// Reads the rules file at `path` (exit 3 when it cannot be read or is wrong).
pub fn load_rules(path: &Path) -> Result<AuditConfig, CliError> {
    let bytes = read_small(path, "rules file", "check the path and its permissions")?;
    let text = String::from_utf8(bytes).map_err(|_| {
        CliError::config(
            format!("the rules file {} is not UTF-8", path.display()),
            "save it as UTF-8 text",
        )
    })?;
    parse_rules(&text).map_err(|e| {
        CliError::config(
            format!("the rules file {} is wrong: {e}", path.display()),
            "see docs/audit.md for the rules and their settings",
        )
    })
}

/// Reads a baseline file written by `--write-baseline`.
pub fn load_baseline(path: &Path) -> Result<Baseline, CliError> {
    let bytes = read_small(path, "baseline file", "check the path and its permissions")?;
    Baseline::from_json(&bytes).map_err(|e| {
        CliError::config(
            format!("the baseline file {} is wrong: {e}", path.display()),
            "pass a file that `segura sessions audit --write-baseline` wrote",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_file_sets_rules_thresholds_and_exemptions() {
        let c = parse_rules(
            r#"
            disabled = ["new-origin"]
            [exempt]
            users = ["svc-backup"]
            [rules.long-session]
            severity = "high"
            threshold = "10h"
            [rules.long-open]
            threshold = 3600
            [rules.off-hours]
            days = ["mon", "Tuesday", "sat"]
            start = "07:30"
            end = "19:00"
            exempt = { users = ["night-ops"] }
            [rules.shared-credential]
            min-users = 4
            [rules.device-sweep]
            min-devices = 5
            window = "2h"
            "#,
        )
        .unwrap();
        assert!(!c.rule(RuleId::NewOrigin).enabled);
        assert_eq!(c.exempt.users, ["svc-backup"]);
        assert_eq!(c.rule(RuleId::LongSession).severity, Severity::High);
        assert_eq!(c.long_session_secs, 36_000);
        assert_eq!(c.long_open_secs, 3600);
        assert_eq!(
            c.business_hours.days,
            [true, true, false, false, false, true, false]
        );
        assert_eq!(c.business_hours.start.to_string(), "07:30:00");
        assert_eq!(c.rule(RuleId::OffHours).exempt.users, ["night-ops"]);
        assert_eq!((c.shared_min_users, c.sweep_min_devices), (4, 5));
        assert_eq!(c.sweep_window_secs, 7200);
    }

    #[test]
    fn mistakes_in_a_rules_file_are_named() {
        for (text, needle) in [
            ("disabled = [\"nope\"]", "unknown rule \"nope\""),
            ("[rules.nope]\nseverity = \"low\"", "unknown rule"),
            (
                "[rules.no-ticket]\nseverity = \"urgent\"",
                "rules.no-ticket.severity",
            ),
            (
                "[rules.no-ticket]\nthreshold = \"1h\"",
                "not a setting of this rule",
            ),
            (
                "[rules.long-open]\nthreshold = \"soon\"",
                "rules.long-open.threshold",
            ),
            (
                "[rules.off-hours]\nstart = \"8am\"",
                "rules.off-hours.start",
            ),
            ("[rules.off-hours]\ndays = [\"someday\"]", "unknown day"),
            ("[rules.shared-credential]\nmin-users = 1", "at least 2"),
            ("[rules.long-session]\nthreshhold = \"1h\"", "unknown field"),
        ] {
            let e = parse_rules(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
