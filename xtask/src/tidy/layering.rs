//! The layering invariants of ARCHITECTURE.md, checked on the resolved dependency graph
//! (with every feature of the workspace members enabled, so optional dependencies
//! count). Only normal dependencies are followed: dev and build dependencies never
//! reach a user of the crate.

use crate::metadata::{DepKind, Metadata};

/// Crates whose direct normal dependencies are limited to a list.
const DIRECT_ALLOWED: &[(&str, &[&str])] = &[
    (
        "segura-model",
        &["serde", "serde_json", "chrono", "thiserror"],
    ),
    // Quick to compile: every `cargo xtask` starts by building it.
    ("xtask", &["segura-model", "serde_json"]),
];

/// Packages that must not appear anywhere in the normal dependency tree of a crate.
const FORBIDDEN_IN_TREE: &[(&str, &[&str])] = &[("segura-api", &["reqwest", "hyper", "clap"])];

/// Workspace members that must not depend on any other member: `segura-mock` is an
/// independent implementation of the wire format, to check the client against, and
/// `segura-hostile` scripts its wrong answers byte by byte, shaped by no code under test.
const STANDALONE: &[&str] = &["segura-mock", "segura-hostile"];

/// Packages only some workspace members may pull in, directly or transitively.
const RESERVED: &[(&str, &[&str])] = &[("clap", &["segura-cli"])];

pub fn check(meta: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();

    for (krate, allowed) in DIRECT_ALLOWED {
        match meta.member(krate) {
            Ok(member) => {
                for d in &member.dependencies {
                    if d.kind == DepKind::Normal && !allowed.contains(&d.name.as_str()) {
                        problems.push(format!(
                            "{krate} depends on {}; it may depend on {} only",
                            d.name,
                            allowed.join(", ")
                        ));
                    }
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }

    for (krate, forbidden) in FORBIDDEN_IN_TREE {
        let member = match meta.member(krate) {
            Ok(m) => m,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        for (p, chain) in meta.reachable(&member.id, &[DepKind::Normal]) {
            if forbidden.contains(&p.name.as_str()) {
                problems.push(format!(
                    "{krate} must not depend on {}, but does: {}",
                    p.name,
                    chain.join(" -> ")
                ));
            }
        }
    }

    for krate in STANDALONE {
        let member = match meta.member(krate) {
            Ok(m) => m,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        for (p, chain) in meta.reachable(&member.id, &[DepKind::Normal]) {
            if meta.members.contains(&p.id) {
                problems.push(format!(
                    "{krate} must not depend on another workspace crate, but does: {}",
                    chain.join(" -> ")
                ));
            }
        }
    }

    for member in meta.workspace_packages() {
        for (p, chain) in meta.reachable(&member.id, &[DepKind::Normal]) {
            for (reserved, owners) in RESERVED {
                if p.name == *reserved && !owners.contains(&member.name.as_str()) {
                    problems.push(format!(
                        "only {} may depend on {reserved}, but {} does: {}",
                        owners.join(", "),
                        member.name,
                        chain.join(" -> ")
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn package(name: &str, deps: &[&str]) -> Value {
        json!({
            "id": name, "name": name, "version": "1.0.0", "license": "MIT",
            "manifest_path": format!("/w/{name}/Cargo.toml"), "publish": null,
            "targets": [],
            "dependencies": deps.iter().map(|d| json!({"name": d, "kind": null})).collect::<Vec<_>>(),
        })
    }

    fn node(name: &str, deps: &[(&str, Option<&str>)]) -> Value {
        json!({"id": name, "deps": deps.iter().map(|(d, kind)| json!({
            "pkg": d, "dep_kinds": [{"kind": kind}]
        })).collect::<Vec<_>>()})
    }

    #[test]
    fn reports_each_broken_rule_with_the_path() {
        let meta = Metadata::from_json(&json!({
            "packages": [
                package("segura-model", &["serde", "tokio"]),
                package("segura-api", &["segura-model", "helper"]),
                package("segura-cli", &["clap"]),
                package("segura-mock", &["segura-model"]),
                package("xtask", &["segura-model", "serde_json"]),
                package("serde", &[]), package("tokio", &[]), package("helper", &["hyper"]),
                package("hyper", &[]), package("clap", &[]), package("criterion", &["clap"]),
            ],
            "workspace_members": ["segura-model", "segura-api", "segura-cli", "segura-mock", "xtask"],
            "resolve": {"nodes": [
                node("segura-model", &[("serde", None), ("tokio", None)]),
                node("segura-api", &[("segura-model", None), ("helper", None), ("criterion", Some("dev"))]),
                node("segura-cli", &[("clap", None), ("segura-api", None)]),
                node("helper", &[("hyper", None), ("clap", None)]),
                node("criterion", &[("clap", None)]),
                node("segura-mock", &[("segura-model", None)]),
            ]},
            "target_directory": "/w/target",
        }))
        .unwrap();
        assert_eq!(
            check(&meta),
            [
                "segura-model depends on tokio; it may depend on serde, serde_json, chrono, thiserror only",
                "segura-api must not depend on hyper, but does: segura-api -> helper -> hyper",
                "segura-api must not depend on clap, but does: segura-api -> helper -> clap",
                "segura-mock must not depend on another workspace crate, but does: segura-mock -> segura-model",
                "only segura-cli may depend on clap, but segura-api does: segura-api -> helper -> clap",
            ]
        );
    }
}
