//! `cargo xtask codegen [--check]`: the committed files that must never drift from the
//! model types.
//!
//! * `docs/schema/*.schema.json`: JSON Schemas of a session and of each response body;
//! * `docs/openapi.yaml`: the OpenAPI 3.1 description of the endpoints;
//! * the field table of `docs/api.md`, between `<!-- fields:start -->` and
//!   `<!-- fields:end -->` (the prose around it is written by hand);
//! * the SIEM mapping table of `docs/siem.md`, between `<!-- siem:start -->` and
//!   `<!-- siem:end -->`.
//!
//! `--check` writes nothing and fails when a file differs from what would be generated;
//! the test `generated_files_are_fresh` runs the same check, so `cargo test` fails on a
//! stale file.

mod doc;
mod openapi;
mod schema;
mod siem;
mod table;
#[cfg(test)]
mod validate;

use std::path::{Path, PathBuf};

use crate::args::Args;
use crate::util::{self, display_path, Error};

const SCHEMA_DIR: &str = "docs/schema";
const OPENAPI: &str = "docs/openapi.yaml";
const API_MD: &str = "docs/api.md";
const SIEM_MD: &str = "docs/siem.md";

/// One generated file: where it goes and what it must hold.
#[derive(Debug)]
pub struct Generated {
    pub path: PathBuf,
    pub contents: String,
}

pub fn run(mut args: Args) -> Result<(), Error> {
    let check = args.flag("--check");
    args.finish()?;
    let root = util::project_root();
    let files = generate(&root)?;
    if check {
        return ensure_fresh(&root, &files);
    }
    for f in &files {
        let current = std::fs::read_to_string(&f.path).ok();
        if current.as_deref() != Some(f.contents.as_str()) {
            util::write(&f.path, &f.contents)?;
            eprintln!("updated {}", display_path(&root, &f.path));
        }
    }
    for extra in extra_schema_files(&root, &files)? {
        std::fs::remove_file(&extra)
            .map_err(|e| Error::new(format!("cannot remove {}: {e}", extra.display())))?;
        eprintln!("removed {}", display_path(&root, &extra));
    }
    Ok(())
}

/// Everything codegen writes, generated in memory.
pub fn generate(root: &Path) -> Result<Vec<Generated>, Error> {
    schema::check_envelope_tables()?;
    let mut out: Vec<Generated> = schema::files()
        .into_iter()
        .map(|(name, node)| Generated {
            path: root.join(SCHEMA_DIR).join(name),
            contents: doc::to_json(&node),
        })
        .collect();
    out.push(Generated {
        path: root.join(OPENAPI),
        contents: doc::to_yaml(&openapi::document(), openapi::HEADER),
    });
    let api_md = root.join(API_MD);
    let current = if api_md.exists() {
        util::read(&api_md)?
    } else {
        table::NEW_FILE.to_owned()
    };
    out.push(Generated {
        contents: table::splice(&current, API_MD)?,
        path: api_md,
    });
    let siem_md = root.join(SIEM_MD);
    let current = if siem_md.exists() {
        util::read(&siem_md)?
    } else {
        siem::NEW_FILE.to_owned()
    };
    out.push(Generated {
        contents: table::splice_between(
            &current,
            SIEM_MD,
            (siem::START, siem::END),
            &siem::table(),
        )?,
        path: siem_md,
    });
    Ok(out)
}

/// `*.schema.json` files in `docs/schema/` that codegen no longer produces.
fn extra_schema_files(root: &Path, files: &[Generated]) -> Result<Vec<PathBuf>, Error> {
    let dir = root.join(SCHEMA_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut extra = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?
            .path();
        let is_schema = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".schema.json"));
        if is_schema && !files.iter().any(|f| f.path == path) {
            extra.push(path);
        }
    }
    extra.sort();
    Ok(extra)
}

/// Fails, naming each stale file and the command that fixes it, unless every file on
/// disk is exactly what codegen would write.
pub fn ensure_fresh(root: &Path, files: &[Generated]) -> Result<(), Error> {
    let mut problems = Vec::new();
    for f in files {
        let rel = display_path(root, &f.path);
        match std::fs::read_to_string(&f.path) {
            Ok(current) if current == f.contents => {}
            Ok(_) => problems.push(format!("{rel} is stale")),
            Err(_) => problems.push(format!("{rel} is missing")),
        }
    }
    for extra in extra_schema_files(root, files)? {
        problems.push(format!(
            "{} is no longer generated",
            display_path(root, &extra)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "{}\nrun `cargo xtask codegen` and commit the result",
            problems.join("\n")
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::doc::Node;
    use super::validate::{validate, validate_at};
    use super::*;

    fn schema_file(name: &str) -> Value {
        let files = schema::files();
        let (_, node) = files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no schema {name}"));
        node.to_value()
    }

    fn vendor_example() -> Value {
        let path = util::project_root().join("docs/examples/list-response.json");
        serde_json::from_str(&util::read(&path).unwrap()).unwrap()
    }

    #[test]
    fn generated_files_are_fresh() {
        let root = util::project_root();
        let files = generate(&root).unwrap();
        if let Err(e) = ensure_fresh(&root, &files) {
            panic!("{e}");
        }
    }

    #[test]
    fn check_names_the_stale_file_and_the_fix() {
        let dir = util::TempDir::new("codegen");
        let files = generate(dir.path()).unwrap();
        for f in &files {
            util::write(&f.path, &f.contents).unwrap();
        }
        ensure_fresh(dir.path(), &files).unwrap();

        util::write(&dir.path().join(OPENAPI), "openapi: 3.0.0\n").unwrap();
        std::fs::remove_file(dir.path().join("docs/schema/get-response.schema.json")).unwrap();
        util::write(&dir.path().join("docs/schema/old.schema.json"), "{}").unwrap();
        let e = ensure_fresh(dir.path(), &files).unwrap_err().to_string();
        assert_eq!(
            e,
            "docs/schema/get-response.schema.json is missing\n\
             docs/openapi.yaml is stale\n\
             docs/schema/old.schema.json is no longer generated\n\
             run `cargo xtask codegen` and commit the result"
        );
    }

    #[test]
    fn vendor_example_validates_against_the_list_schema() {
        let schema = schema_file("list-response.schema.json");
        let example = vendor_example();
        validate(&schema, &example).unwrap();

        // What segura writes after reading it validates too, and keeps the sessions.
        let decoded: segura_model::ListResponse = serde_json::from_value(example.clone()).unwrap();
        let written = serde_json::to_value(&decoded).unwrap();
        validate(&schema, &written).unwrap();
        assert_eq!(written["remote_sessions"], example["remote_sessions"]);

        let session = &example["remote_sessions"][0];
        validate(&schema_file("remote-session.schema.json"), session).unwrap();
    }

    #[test]
    fn schemas_reject_what_the_canonical_form_excludes() {
        let schema = schema_file("list-response.schema.json");
        type Mutation = fn(&mut Value);
        let cases: [(&str, Mutation, &str); 8] = [
            (
                "non-digit id",
                |v| v["id"] = json!("3a"),
                "/remote_sessions/0/id",
            ),
            (
                "numeric id",
                |v| v["id"] = json!(3),
                "/remote_sessions/0/id",
            ),
            (
                "missing start",
                |v| {
                    v.as_object_mut().unwrap().remove("start");
                },
                "/remote_sessions/0",
            ),
            (
                "null user",
                |v| v["user"] = Value::Null,
                "/remote_sessions/0/user",
            ),
            (
                "ISO date",
                |v| v["start"] = json!("2024-05-06T16:05:07Z"),
                "/remote_sessions/0/start",
            ),
            (
                "Portuguese flag",
                |v| v["prevent_purge"] = json!("Sim"),
                "/remote_sessions/0/prevent_purge",
            ),
            (
                "bad duration",
                |v| v["time"] = json!("00:61:00"),
                "/remote_sessions/0/time",
            ),
            (
                "unknown key",
                |v| v["extra"] = json!(1),
                "/remote_sessions/0",
            ),
        ];
        for (what, mutate, path) in cases {
            let mut body = vendor_example();
            mutate(&mut body["remote_sessions"][0]);
            let e = validate(&schema, &body).expect_err(what);
            assert!(e.starts_with(&format!("{path}:")), "{what}: {e}");
        }

        // Bodies accept keys the API may add; the envelope keys keep their types.
        let mut body = vendor_example();
        body["new_key"] = json!({"anything": true});
        validate(&schema, &body).unwrap();
        body["response"]["error"] = json!("false");
        let e = validate(&schema, &body).unwrap_err();
        assert!(e.starts_with("/response/error:"), "{e}");
        let mut body = vendor_example();
        body.as_object_mut().unwrap().remove("remote_sessions");
        assert!(validate(&schema, &body).is_err());
    }

    #[test]
    fn get_drop_and_error_schemas() {
        let one = vendor_example()["remote_sessions"][0].clone();
        let get = schema_file("get-response.schema.json");
        let mut body = json!({"code": 200, "response": {"status": 200}, "remote_session": [one]});
        validate(&get, &body).unwrap();
        body["remote_session"] = json!([]);
        assert!(validate(&get, &body).is_err());

        let error = schema_file("error-response.schema.json");
        let observed = json!({"code":400,"response":{"status":400,"message":"1002: Session not found","error":true,
            "error_code":1,"detail":"","mensagem":"1002: Session not found","erro":true,"cod_erro":1},
            "exception":{"code":1002,"message":"1002: Session not found","detail":null}});
        validate(&error, &observed).unwrap();

        let drop = schema_file("drop-response.schema.json");
        let dropped = json!({"code":200,"response":{"message":"Session dropped successfully",
            "mensagem":"Sessão encerrada com sucesso"},"tenant":"Segura"});
        validate(&drop, &dropped).unwrap();
    }

    #[test]
    fn field_examples_match_their_own_schema() {
        let session: serde_json::Map<String, Value> = segura_model::Field::ALL
            .iter()
            .map(|f| (f.wire_name().to_owned(), json!(f.info().example)))
            .collect();
        validate(
            &schema_file("remote-session.schema.json"),
            &Value::Object(session),
        )
        .unwrap();
    }

    /// Every example in the OpenAPI description validates against the schema next to it.
    #[test]
    fn openapi_examples_validate() {
        let doc = openapi::document().to_value();
        let mut checked = 0;
        let mut stack = vec![(String::new(), &doc)];
        while let Some((pointer, v)) = stack.pop() {
            let Value::Object(map) = v else { continue };
            if let (Some(schema), Some(Value::Object(examples))) =
                (map.get("schema"), map.get("examples"))
            {
                for (name, ex) in examples {
                    validate_at(&doc, schema, &ex["value"])
                        .unwrap_or_else(|e| panic!("{pointer}/examples/{name}: {e}"));
                    checked += 1;
                }
            }
            for (k, child) in map {
                stack.push((format!("{pointer}/{k}"), child));
            }
        }
        assert_eq!(checked, 14);
    }

    #[test]
    fn openapi_yaml_means_the_document() {
        let doc = openapi::document();
        let text = doc::to_yaml(&doc, openapi::HEADER);
        assert_eq!(doc::yaml_reader::parse(&text), Ok(doc.clone()));
        let paths: Vec<&str> = match doc.get("paths") {
            Some(Node::Map(entries)) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            paths,
            [
                "/iso/oauth2/token",
                "/api/session/remotesessions",
                "/api/session/remotesessions/{id}",
                "/api/pam/session/drop/{session_id}"
            ]
        );
        let v = doc.to_value();
        assert_eq!(
            v["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"],
            "/iso/oauth2/token"
        );
        for (path, method) in [
            ("/api/session/remotesessions", "get"),
            ("/api/session/remotesessions/{id}", "get"),
            ("/api/pam/session/drop/{session_id}", "delete"),
        ] {
            let responses = &v["paths"][path][method]["responses"];
            for status in ["200", "401", "403", "404", "408", "500", "502", "504"] {
                assert!(responses.get(status).is_some(), "{method} {path} {status}");
            }
        }
    }
}
