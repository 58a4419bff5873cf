//! The audit rules of `segura-api` on the generator's planted cases: each planted case
//! is found, with exactly its sessions, and nothing else (the near misses stay quiet).

use std::collections::BTreeSet;

use segura_api::audit::{AuditConfig, Auditor, Baseline, Finding};
use segura_api::model::{parse_datetime, RemoteSession};
use segura_api::ReaderSource;
use segura_mock::generator::audit::{AuditScenario, PlantedCase};

type Key = (String, String, Vec<u64>);

fn sessions(s: &AuditScenario) -> Vec<RemoteSession> {
    ReaderSource::new(s.body(), "scenario")
        .collect::<Result<Vec<_>, _>>()
        .expect("the scenario decodes")
}

fn keys_of_findings(f: &[Finding]) -> BTreeSet<Key> {
    f.iter()
        .map(|f| {
            (
                f.rule.as_str().to_owned(),
                f.subject.clone(),
                f.sessions.iter().map(|i| i.get()).collect(),
            )
        })
        .collect()
}

fn keys_of_cases(c: &[PlantedCase]) -> BTreeSet<Key> {
    c.iter()
        .map(|c| (c.rule.to_owned(), c.subject.clone(), c.sessions.clone()))
        .collect()
}

fn now() -> chrono::NaiveDateTime {
    parse_datetime(AuditScenario::NOW).unwrap()
}

#[test]
fn audit_finds_exactly_the_planted_cases() {
    let scenario = AuditScenario::new();
    let all = sessions(&scenario);
    assert_eq!(all.len() as u64, scenario.sessions());
    let findings = Auditor::new(AuditConfig::default(), now()).run(all.iter());
    assert_eq!(
        findings.len(),
        scenario.planted(false).len(),
        "{findings:#?}"
    );
    assert_eq!(
        keys_of_findings(&findings),
        keys_of_cases(&scenario.planted(false))
    );
    // Worst first.
    assert!(findings.windows(2).all(|w| w[0].severity >= w[1].severity));
}

#[test]
fn an_earlier_window_or_a_baseline_file_adds_new_origin() {
    let scenario = AuditScenario::new();
    let all = sessions(&scenario);
    let window = parse_datetime(AuditScenario::WINDOW_FROM).unwrap();
    let expected = keys_of_cases(&scenario.planted(true));

    let mut auditor = Auditor::new(AuditConfig::default(), now()).collect_origins();
    let mut findings = Vec::new();
    for s in &all {
        if s.start < window {
            auditor.learn(s);
        } else {
            auditor.add(s, &mut |f| findings.push(f.clone()));
        }
    }
    let seen = auditor.finish(&mut |f| findings.push(f.clone()));
    assert_eq!(keys_of_findings(&findings), expected, "{findings:#?}");

    // The baseline written from week 1 (plus what week 2 saw) round-trips, and a
    // baseline file of week 1 alone gives the same answer.
    let mut week1 = Auditor::new(AuditConfig::default(), now()).collect_origins();
    for s in all.iter().filter(|s| s.start < window) {
        week1.add(s, &mut |_| {});
    }
    let file = week1.finish(&mut |_| {}).unwrap().to_json();
    let baseline = Baseline::from_json(file.as_bytes()).unwrap();
    let findings = Auditor::new(AuditConfig::default(), now())
        .with_baseline(baseline)
        .run(all.iter().filter(|s| s.start >= window));
    assert_eq!(keys_of_findings(&findings), expected);
    let seen = seen.unwrap();
    assert!(seen.contains("no-1", "10.200.30.2") && !seen.contains("no-1", "10.200.30.1"));
}

#[test]
fn disabled_rules_and_exemptions_silence_findings() {
    use segura_api::audit::{RuleId, Severity};
    let scenario = AuditScenario::new();
    let all = sessions(&scenario);
    let mut config = AuditConfig::default();
    config.rule_mut(RuleId::OffHours).enabled = false;
    config.exempt.users.push("NT-1".into());
    config
        .rule_mut(RuleId::DeviceSweep)
        .exempt
        .devices
        .push("node-00.corp:22".into());
    config.rule_mut(RuleId::LongOpen).severity = Severity::Low;
    config.long_session_secs = 7 * 3600;
    let findings = Auditor::new(config, now()).run(all.iter());
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(!rules.contains(&"off-hours") && !rules.contains(&"no-ticket"));
    // The sweep without node-00 has 19 devices: below the threshold.
    assert!(!rules.contains(&"device-sweep"), "{rules:?}");
    let open: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == RuleId::LongOpen)
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].severity, Severity::Low);
    // 8 h now exceeds the threshold: both sessions of ls-1.
    let long = findings
        .iter()
        .filter(|f| f.rule == RuleId::LongSession)
        .count();
    assert_eq!(long, 2);
}
