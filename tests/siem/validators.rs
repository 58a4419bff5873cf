//! Independent checks of SIEM records, shared by the tests of `segura-api`
//! (`crates/segura-api/tests/siem.rs`) and of the binary (`tests/cli/siem.rs`):
//!
//! * [`validate_ocsf`]: JSON Schema validation (the `jsonschema` crate) against the
//!   pinned OCSF 1.6.0 class schemas of `tests/siem/ocsf-1.6.0/`;
//! * [`check_ecs`]: every key of an ECS record is an ECS 9.3.0 field of the pinned
//!   `tests/siem/ecs-9.3.0/fields.json` with a value of its type, or is under `segura.`;
//! * [`parse_cef`]: a CEF parser written from the specification (ArcSight "Implementing
//!   ArcSight CEF"), not from our serializer: header fields split on unescaped pipes,
//!   extension keys found at unescaped `=` signs, and only the escapes the specification
//!   defines accepted.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

fn pinned(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("tests/siem/NOTICE.md").is_file())
        .expect("the workspace root, with tests/siem/")
        .join("tests/siem")
        .join(rel)
}

fn load(rel: &str) -> Value {
    let text = std::fs::read_to_string(pinned(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The pinned schema of an OCSF class, compiled once.
fn ocsf_validator(class_uid: u64) -> &'static jsonschema::Validator {
    static CACHE: OnceLock<HashMap<u64, jsonschema::Validator>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        [
            (4007, "ssh_activity"),
            (4005, "rdp_activity"),
            (4001, "network_activity"),
        ]
        .into_iter()
        .map(|(uid, name)| {
            let schema = load(&format!("ocsf-1.6.0/{name}.schema.json"));
            let v = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (uid, v)
        })
        .collect()
    });
    all.get(&class_uid)
        .unwrap_or_else(|| panic!("no pinned OCSF schema for class {class_uid}"))
}

/// Validates one OCSF record (a line) against the schema of the class it declares;
/// returns the record.
#[track_caller]
pub fn validate_ocsf(line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(v["metadata"]["version"], "1.6.0", "{line}");
    let class = v["class_uid"].as_u64().expect("class_uid");
    let errors: Vec<String> = ocsf_validator(class)
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{line}\n{}", errors.join("\n"));
    v
}

/// The ECS fields of the pinned subset: dotted name → Elasticsearch type.
fn ecs_fields() -> &'static BTreeMap<String, String> {
    static FIELDS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        fn walk(prefix: &str, props: &Value, out: &mut BTreeMap<String, String>) {
            for (k, v) in props.as_object().expect("properties") {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match (v.get("properties"), v.get("type")) {
                    (Some(p), _) => walk(&name, p, out),
                    (None, Some(t)) => {
                        out.insert(name, t.as_str().expect("type").to_owned());
                    }
                    _ => panic!("{name}: no type"),
                }
            }
        }
        let doc = load("ecs-9.3.0/fields.json");
        let mut out = BTreeMap::new();
        walk("", &doc["properties"], &mut out);
        out
    })
}

/// The leaves of a JSON object as dotted keys (arrays are leaves).
pub fn leaves(v: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&name, child, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}

fn ecs_type_ok(ty: &str, v: &Value) -> bool {
    let one = |v: &Value| match ty {
        "keyword" | "match_only_text" => v.is_string(),
        "long" => v.is_i64() || v.is_u64(),
        "float" => v.is_number(),
        "date" => v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "ip" => v
            .as_str()
            .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "boolean" => v.is_boolean(),
        _ => false,
    };
    match v {
        // Every ECS field may hold an array of its values.
        Value::Array(items) => !items.is_empty() && items.iter().all(one),
        other => one(other),
    }
}

/// Checks one ECS record (a line): every key an ECS field with a value of its type, or
/// under `segura.`; returns the record.
#[track_caller]
pub fn check_ecs(line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(v["ecs"]["version"], "9.3.0", "{line}");
    for (key, value) in leaves(&v) {
        if key.starts_with("segura.") {
            continue;
        }
        let ty = ecs_fields()
            .get(&key)
            .unwrap_or_else(|| panic!("{key} is not an ECS 9.3.0 field: {line}"));
        assert!(
            ecs_type_ok(ty, &value),
            "{key}: {value} is not a {ty}: {line}"
        );
    }
    v
}

/// A CEF record, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cef {
    /// The seven header fields after `CEF:`: Version, Device Vendor, Device Product,
    /// Device Version, Signature ID, Name, Severity; unescaped.
    pub header: Vec<String>,
    /// The extension, unescaped, in order.
    pub extension: Vec<(String, String)>,
}

impl Cef {
    /// The value of an extension key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extension
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'[' | b']' | b'-')
}

/// Parses one CEF line; an error names what is wrong.
pub fn parse_cef(line: &str) -> Result<Cef, String> {
    if line.contains('\n') || line.contains('\r') {
        return Err("a raw line break inside the record".into());
    }
    let rest = line.strip_prefix("CEF:").ok_or("no CEF: prefix")?;
    // Header: seven fields, each ended by an unescaped pipe; `\|` and `\\` only.
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = rest.char_indices();
    let mut ext_start = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, '\\')) => field.push('\\'),
                Some((_, '|')) => field.push('|'),
                other => return Err(format!("bad header escape {other:?}")),
            },
            '|' => {
                header.push(std::mem::take(&mut field));
                if header.len() == 7 {
                    ext_start = Some(i + 1);
                    break;
                }
            }
            c => field.push(c),
        }
    }
    let ext_start = ext_start.ok_or("fewer than seven header fields")?;
    let ext = &rest.as_bytes()[ext_start..];
    // The unescaped `=` signs: a backslash escapes the next character.
    let mut eqs = Vec::new();
    let mut i = 0;
    while i < ext.len() {
        match ext[i] {
            b'\\' => i += 2,
            b'=' => {
                eqs.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    // Each `=` ends a key that starts the extension or follows a space.
    let mut keys = Vec::new();
    for &eq in &eqs {
        let mut k = eq;
        while k > 0 && is_key_char(ext[k - 1]) {
            k -= 1;
        }
        if k == eq || !(k == 0 || ext[k - 1] == b' ') {
            return Err(format!(
                "an unescaped `=` inside a value, at byte {eq} of the extension"
            ));
        }
        keys.push((k, eq));
    }
    if !ext.is_empty() && keys.first().is_none_or(|(k, _)| *k != 0) {
        return Err("the extension does not start with a key".into());
    }
    let mut extension = Vec::new();
    for (n, &(k, eq)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(ext.len(), |(next, _)| next - 1);
        let key = std::str::from_utf8(&ext[k..eq]).map_err(|e| e.to_string())?;
        let raw = std::str::from_utf8(&ext[eq + 1..end]).map_err(|e| e.to_string())?;
        let mut value = String::new();
        let mut cs = raw.chars();
        while let Some(c) = cs.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match cs.next() {
                Some('\\') => value.push('\\'),
                Some('=') => value.push('='),
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                other => return Err(format!("bad extension escape {other:?} in {key}")),
            }
        }
        extension.push((key.to_owned(), value));
    }
    Ok(Cef { header, extension })
}
