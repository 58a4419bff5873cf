//! The root manifest: every entry of `[workspace.dependencies]` is used by a member.
//! An entry nobody uses misleads a reader about what the workspace is built from, and
//! stays behind unnoticed when the last user goes (cargo does not warn).

use crate::metadata::Metadata;

/// The packages `[workspace.dependencies]` of `manifest` declares: each key, or the
/// `package = "..."` it renames.
fn workspace_dependencies(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == "[workspace.dependencies]";
            continue;
        }
        if !inside || t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((key, value)) = t.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            continue;
        }
        out.push(renamed_package(value).unwrap_or(key).to_owned());
    }
    out
}

/// The `package = "..."` of an inline table, if it has one.
fn renamed_package(value: &str) -> Option<&str> {
    let at = value.find("package")?;
    let rest = value[at + "package".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    rest.split('"').next()
}

pub fn check(manifest: &str, meta: &Metadata) -> Vec<String> {
    workspace_dependencies(manifest)
        .into_iter()
        .filter(|name| {
            !meta
                .workspace_packages()
                .any(|p| p.dependencies.iter().any(|d| d.name == *name))
        })
        .map(|name| {
            format!(
                "Cargo.toml: [workspace.dependencies] {name} is used by no workspace member; \
                 remove it"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const MANIFEST: &str = r#"
[workspace]
members = ["a", "b"]

[workspace.dependencies]
# used
serde = { version = "1", features = ["derive"] }
tokio = "1"
# renamed, and used under the package's name
rustls2 = { package = "rustls", version = "0.23" }
axum = { version = "0.8", default-features = false }

[profile.dev]
opt-level = 1
"#;

    #[test]
    fn reads_the_section_and_its_renames() {
        assert_eq!(
            workspace_dependencies(MANIFEST),
            ["serde", "tokio", "rustls", "axum"]
        );
    }

    #[test]
    fn reports_entries_no_member_uses() {
        let package = |name: &str, deps: &[(&str, Option<&str>)]| {
            json!({
                "id": name, "name": name, "version": "1.0.0", "license": "MIT",
                "manifest_path": format!("/w/{name}/Cargo.toml"), "publish": null,
                "targets": [],
                "dependencies": deps.iter()
                    .map(|(d, kind)| json!({"name": d, "kind": kind}))
                    .collect::<Vec<_>>(),
            })
        };
        let meta = Metadata::from_json(&json!({
            "packages": [
                package("a", &[("serde", None), ("rustls", None)]),
                package("b", &[("tokio", Some("dev"))]),
                package("c", &[("axum", None)]),
            ],
            "workspace_members": ["a", "b"],
            "resolve": {"nodes": []},
            "target_directory": "/w/target",
        }))
        .unwrap();
        assert_eq!(
            check(MANIFEST, &meta),
            ["Cargo.toml: [workspace.dependencies] axum is used by no workspace member; remove it"]
        );
    }
}
