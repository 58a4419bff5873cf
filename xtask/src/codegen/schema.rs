//! JSON Schemas (draft 2020-12) of a session and of the response bodies.
//!
//! The session schema comes from `segura_model::Field::ALL` and each field's
//! `FieldInfo`. The model has no such table for the envelope, so [`ENVELOPE`],
//! [`RESPONSE_STATUS`] and [`API_EXCEPTION`] describe it here, and
//! [`check_envelope_tables`] holds them to the serde types: the key sets must be the
//! ones the model serializes, and each type must agree with the model's default value.

use std::collections::BTreeSet;

use segura_model::{
    ApiException, DropResponse, Envelope, Field, GetResponse, ListResponse, RemoteSession,
    ResponseStatus,
};
use serde_json::Value;

use super::doc::{obj, strs, Node};
use crate::util::Error;

pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON type of an envelope key, as the API documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Integer,
    String,
    Boolean,
    /// Any JSON value.
    Any,
    /// An object described by the named definition.
    Ref(&'static str),
}

/// One key of the envelope or of one of its objects.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    pub name: &'static str,
    pub ty: Ty,
    pub description: &'static str,
}

const fn prop(name: &'static str, ty: Ty, description: &'static str) -> Prop {
    Prop {
        name,
        ty,
        description,
    }
}

/// The keys every body shares (`segura_model::Envelope`).
pub const ENVELOPE: &[Prop] = &[
    prop("code", Ty::Integer, "HTTP-like status of the answer: 200 on success. An error can arrive inside an HTTP 200, so read this and `response` too."),
    prop("response", Ty::Ref("ResponseStatus"), "Status block, with English and Portuguese keys."),
    prop("exception", Ty::Ref("ApiException"), "Present on some errors: holds the specific application code."),
    prop("tenant", Ty::String, "Tenant name; absent from some error bodies."),
];

/// The status block, `response` (`segura_model::ResponseStatus`).
pub const RESPONSE_STATUS: &[Prop] = &[
    prop("status", Ty::Integer, "HTTP-like status."),
    prop("message", Ty::String, "Message; empty on success."),
    prop("error", Ty::Boolean, "Whether the answer is an error."),
    prop(
        "error_code",
        Ty::Integer,
        "Generic error code; the specific one is `exception.code`.",
    ),
    prop(
        "detail",
        Ty::String,
        "Detail of the error; empty on success.",
    ),
    prop("mensagem", Ty::String, "`message` in Portuguese."),
    prop("erro", Ty::Boolean, "`error` in Portuguese."),
    prop("cod_erro", Ty::Integer, "`error_code` in Portuguese."),
];

/// The `exception` object of an error (`segura_model::ApiException`).
pub const API_EXCEPTION: &[Prop] = &[
    prop(
        "code",
        Ty::Integer,
        "Application code: 1002 \"Session not found\", 1003 \"Unexpected identifier type\".",
    ),
    prop(
        "message",
        Ty::String,
        "Message, for example `1002: Session not found`.",
    ),
    prop(
        "detail",
        Ty::Any,
        "Detail, any JSON value; `null` in the observed bodies.",
    ),
];

/// How a schema names its definitions: `$defs` in a schema file, `components/schemas`
/// in the OpenAPI description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refs {
    Defs,
    Components,
}

impl Refs {
    pub fn to(self, name: &str) -> Node {
        let prefix = match self {
            Refs::Defs => "#/$defs/",
            Refs::Components => "#/components/schemas/",
        };
        obj([("$ref", format!("{prefix}{name}").into())])
    }
}

/// The schema of a session's field, from its `FieldInfo`.
fn field_schema(f: Field) -> Node {
    let info = f.info();
    let mut s = obj([("description", info.description.into())]);
    if info.nullable {
        s.push("type", strs([info.json_type, "null"]));
    } else {
        s.push("type", info.json_type);
    }
    if let Some(p) = info.pattern {
        s.push("pattern", p);
    }
    s.push("examples", strs([info.example]));
    s
}

/// A session in canonical form: the 14 documented keys, all present, nothing else.
pub fn session() -> Node {
    let properties = Field::ALL
        .iter()
        .map(|f| (f.wire_name().to_owned(), field_schema(*f)))
        .collect();
    obj([
        ("title", "Remote session".into()),
        (
            "description",
            "One remote session in canonical form: the 14 documented keys in documentation \
             order, each a string or null. This is what segura writes; when reading, it \
             also accepts the variants listed under \"tolerated on input\" in docs/api.md."
                .into(),
        ),
        ("type", "object".into()),
        ("required", strs(Field::ALL.map(Field::wire_name))),
        ("properties", Node::Map(properties)),
        ("additionalProperties", false.into()),
    ])
}

fn prop_schema(p: &Prop, refs: Refs) -> Node {
    let mut s = match p.ty {
        Ty::Ref(name) => refs.to(name),
        _ => obj([]),
    };
    s.push("description", p.description);
    match p.ty {
        Ty::Integer => s.push("type", "integer"),
        Ty::String => s.push("type", "string"),
        Ty::Boolean => s.push("type", "boolean"),
        Ty::Any | Ty::Ref(_) => {}
    }
    s
}

/// An object of `props`; unknown keys allowed, as the API may add some.
fn object_of(description: &str, props: &[Prop], refs: Refs) -> Node {
    let properties = props
        .iter()
        .map(|p| (p.name.to_owned(), prop_schema(p, refs)))
        .collect();
    obj([
        ("description", description.into()),
        ("type", "object".into()),
        ("properties", Node::Map(properties)),
    ])
}

pub fn response_status(refs: Refs) -> Node {
    object_of(
        "The status block of the envelope. Portuguese keys mirror the English ones.",
        RESPONSE_STATUS,
        refs,
    )
}

pub fn api_exception(refs: Refs) -> Node {
    object_of(
        "Error detail with the specific application code.",
        API_EXCEPTION,
        refs,
    )
}

/// The response bodies: file stem, title, description, required keys and the key that
/// holds sessions, if any.
pub struct Body {
    pub file: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub sessions_key: Option<&'static str>,
}

pub const BODIES: [Body; 4] = [
    Body {
        file: "list-response",
        name: "ListResponse",
        title: "List of remote sessions",
        description: "Body of `GET /api/session/remotesessions`: the envelope and every \
                      session in `remote_sessions`.",
        sessions_key: Some("remote_sessions"),
    },
    Body {
        file: "get-response",
        name: "GetResponse",
        title: "One remote session",
        description: "Body of `GET /api/session/remotesessions/{id}`: the envelope and the \
                      singular key `remote_session`, an array of one session.",
        sessions_key: Some("remote_session"),
    },
    Body {
        file: "drop-response",
        name: "DropResponse",
        title: "Session dropped",
        description: "Body of `DELETE /api/pam/session/drop/{session_id}`: the envelope; on \
                      success `response.message` is \"Session dropped successfully\".",
        sessions_key: None,
    },
    Body {
        file: "error-response",
        name: "ErrorResponse",
        title: "Error",
        description: "An error in the envelope: `code` or `response.status` of 400 or more, \
                      or `response.error` true (which can arrive inside an HTTP 200), and \
                      sometimes `exception` with the application code. Gateway and OAuth \
                      server errors do not use the envelope.",
        sessions_key: None,
    },
];

/// The schema of a body, without the `$schema`/`$defs` wrapping of a file.
pub fn body(b: &Body, refs: Refs) -> Node {
    let mut required = vec!["code", "response"];
    let mut properties: Vec<(String, Node)> = ENVELOPE
        .iter()
        .map(|p| (p.name.to_owned(), prop_schema(p, refs)))
        .collect();
    if let Some(key) = b.sessions_key {
        let mut list = obj([
            ("type", "array".into()),
            ("items", refs.to("RemoteSession")),
        ]);
        if key == "remote_session" {
            list.push("minItems", 1);
            list.push("maxItems", 1);
        }
        required.push(key);
        properties.push((key.to_owned(), list));
    }
    obj([
        ("title", b.title.into()),
        ("description", b.description.into()),
        ("type", "object".into()),
        ("required", strs(required)),
        ("properties", Node::Map(properties)),
    ])
}

/// Wraps a schema as a file: dialect, provenance, the definitions it refers to.
fn file(schema: Node, defs: Vec<(String, Node)>) -> Node {
    let mut out = obj([
        ("$schema", DIALECT.into()),
        (
            "$comment",
            "Generated by `cargo xtask codegen` from segura-model; do not edit by hand.".into(),
        ),
    ]);
    let Node::Map(entries) = schema else {
        unreachable!("schemas are objects")
    };
    for (k, v) in entries {
        out.push(&k, v);
    }
    if !defs.is_empty() {
        out.push("$defs", Node::Map(defs));
    }
    out
}

/// Every schema file: (path under `docs/schema/`, document).
pub fn files() -> Vec<(String, Node)> {
    let mut out = vec![(
        "remote-session.schema.json".to_owned(),
        file(session(), Vec::new()),
    )];
    for b in &BODIES {
        let mut defs = vec![
            ("ResponseStatus".to_owned(), response_status(Refs::Defs)),
            ("ApiException".to_owned(), api_exception(Refs::Defs)),
        ];
        if b.sessions_key.is_some() {
            defs.insert(0, ("RemoteSession".to_owned(), session()));
        }
        out.push((
            format!("{}.schema.json", b.file),
            file(body(b, Refs::Defs), defs),
        ));
    }
    out
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Serializes a model value; `what` names it in the error.
macro_rules! to_value {
    ($what:expr, $v:expr) => {
        serde_json::to_value($v).map_err(|e| Error::new(format!("cannot serialize {}: {e}", $what)))
    };
}

/// Checks a table of this module against what the model serializes for `value`.
fn check_table(type_name: &str, table: &[Prop], value: &Value) -> Result<(), Error> {
    let model = keys(value);
    let ours: BTreeSet<String> = table.iter().map(|p| p.name.to_owned()).collect();
    if model != ours {
        return Err(Error::new(format!(
            "segura_model::{type_name} serializes the keys {model:?} but \
             xtask/src/codegen/schema.rs describes {ours:?}; update the table there"
        )));
    }
    for p in table {
        let default = &value[p.name];
        let agrees = match (p.ty, default) {
            // An `Option` serializes `null` by default: any documented type fits.
            (_, Value::Null) => true,
            (Ty::String, Value::String(_)) => true,
            (Ty::Boolean, Value::Bool(_)) => true,
            (Ty::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Ty::Ref(_), Value::Object(_)) | (Ty::Any, _) => true,
            _ => false,
        };
        if !agrees {
            return Err(Error::new(format!(
                "segura_model::{type_name}::{} serializes as {default} by default, which \
                 does not fit the type {:?} that xtask/src/codegen/schema.rs gives it",
                p.name, p.ty
            )));
        }
    }
    Ok(())
}

/// Holds the envelope tables and body definitions of this module to the model's serde
/// types.
pub fn check_envelope_tables() -> Result<(), Error> {
    let mut envelope = Envelope::default();
    envelope.exception = Some(ApiException::default());
    check_table("Envelope", ENVELOPE, &to_value!("Envelope", &envelope)?)?;
    check_table(
        "ResponseStatus",
        RESPONSE_STATUS,
        &to_value!("ResponseStatus", &ResponseStatus::default())?,
    )?;
    check_table(
        "ApiException",
        API_EXCEPTION,
        &to_value!("ApiException", &ApiException::default())?,
    )?;

    let base = keys(&to_value!("Envelope", &Envelope::default())?);
    let bodies = [
        (
            "ListResponse",
            to_value!("ListResponse", &ListResponse::default())?,
        ),
        (
            "GetResponse",
            to_value!("GetResponse", &GetResponse::default())?,
        ),
        (
            "DropResponse",
            to_value!("DropResponse", &DropResponse::default())?,
        ),
    ];
    for (name, value) in bodies {
        let body = BODIES
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| Error::new(format!("no body named {name}")))?;
        let mut expected = base.clone();
        expected.extend(body.sessions_key.map(str::to_owned));
        if keys(&value) != expected {
            return Err(Error::new(format!(
                "segura_model::{name} serializes the keys {:?} but \
                 xtask/src/codegen/schema.rs expects {expected:?}",
                keys(&value)
            )));
        }
    }

    let session = to_value!("RemoteSession", &RemoteSession::default())?;
    for f in Field::ALL {
        let info = f.info();
        match &session[info.name] {
            Value::Null if !info.nullable => {
                return Err(Error::new(format!(
                    "segura_model writes null for {} but its FieldInfo says not nullable",
                    info.name
                )))
            }
            Value::Null | Value::String(_) => {}
            other => {
                return Err(Error::new(format!(
                    "segura_model writes {other} for {}, not a {}",
                    info.name, info.json_type
                )))
            }
        }
    }
    Ok(())
}
