//! `--filter` expressions: CEL, the Common Expression Language, compiled once and
//! evaluated per session as the list streams.
//!
//! The variables are the session's fields with real types: `id` (int), `start` and
//! `end` (timestamps with the appliance zone's offset; `end` absent while open),
//! `time` (duration; absent while open), `active` (bool), `device`, `host` and `port`
//! (int, absent without one) split from the device, `protocol`, `proxy`, `user`,
//! `credential`, `origin_ip`, `session_id`, `request` and `itsm` (absent when empty),
//! and `now` (timestamp). `has(itsm)` tells whether a field that may be absent is
//! there. An expression that reads an absent field of a session (`end` of an open one)
//! fails for that session, and a session for which it fails does not match.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use cel::context::VariableResolver;
use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Program, Value};
use segura_model::RemoteSession;

use crate::filter::split_device;
use crate::time::ApplianceZone;

mod check;

/// The variables an expression can use.
pub const VARIABLES: &[&str] = &[
    "id",
    "start",
    "end",
    "time",
    "active",
    "device",
    "host",
    "port",
    "protocol",
    "proxy",
    "user",
    "credential",
    "origin_ip",
    "session_id",
    "request",
    "itsm",
    "now",
];

/// The hidden map `has(field)` is rewritten to look in.
const PRESENT: &str = "__present__";

/// An expression that cannot be used: a syntax error, or a type error found when it
/// was tried on a sample session. `line` and `column` are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// The line of the expression.
    pub line: usize,
    /// The column (in characters) on that line.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ExprError {}

/// A compiled expression.
#[derive(Clone)]
pub struct Expression {
    source: String,
    program: Arc<Program>,
    context: Arc<Context<'static>>,
    zone: ApplianceZone,
    wants_present: bool,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.source)
            .field("zone", &self.zone)
            .finish()
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.zone == other.zone
    }
}

impl Eq for Expression {}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Rewrites `has(FIELD)` (CEL wants a selection) to `has(__present__.FIELD)`; returns
/// the text and the byte offsets (in the original) where the prefix was inserted.
fn rewrite_has(src: &str) -> (String, Vec<usize>) {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + 16);
    let mut inserted = Vec::new();
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                // Skip a string literal (escapes included).
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'h' if src[i..].starts_with("has") && (i == 0 || !is_ident_byte(b[i - 1])) => {
                let mut j = i + 3;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j < b.len() && b[j] == b'(' {
                    let mut k = j + 1;
                    while k < b.len() && b[k].is_ascii_whitespace() {
                        k += 1;
                    }
                    let start = k;
                    while k < b.len() && is_ident_byte(b[k]) {
                        k += 1;
                    }
                    let name = &src[start..k];
                    let mut m = k;
                    while m < b.len() && b[m].is_ascii_whitespace() {
                        m += 1;
                    }
                    if VARIABLES.contains(&name) && m < b.len() && b[m] == b')' {
                        out.push_str(&src[last..start]);
                        out.push_str(PRESENT);
                        out.push('.');
                        inserted.push(start);
                        last = start;
                    }
                }
                i += 3;
            }
            _ => i += 1,
        }
    }
    out.push_str(&src[last.min(src.len())..]);
    (out, inserted)
}

/// Line and 1-based column of byte offset `at` of `src`.
fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// The offset of occurrence `nth` (0 for the first) of `needle` in `src` that stands
/// as a whole token outside string literals.
fn find_token(src: &str, needle: &str, nth: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let word = needle.bytes().all(is_ident_byte);
    let b = src.as_bytes();
    let mut quoted = vec![false; b.len()];
    let mut i = 0;
    while i < b.len() {
        if let q @ (b'"' | b'\'') = b[i] {
            let open = i;
            i += 1;
            while i < b.len() && b[i] != q {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            let close = (i + 1).min(b.len());
            quoted[open..close].iter_mut().for_each(|x| *x = true);
            i = close;
        } else {
            i += 1;
        }
    }
    src.match_indices(needle)
        .map(|(i, _)| i)
        .filter(|&i| {
            !quoted[i]
                && (!word
                    || ((i == 0 || !is_ident_byte(b[i - 1]))
                        && b.get(i + needle.len()).is_none_or(|c| !is_ident_byte(*c))))
        })
        .nth(nth)
}

fn sample(open: bool) -> RemoteSession {
    use segura_model::{SessionDuration, SessionHash, SessionId};
    let start = chrono::NaiveDate::from_ymd_opt(2024, 5, 6)
        .and_then(|d| d.and_hms_opt(16, 5, 7))
        .unwrap_or_default();
    let mut s = RemoteSession::new(
        SessionId::new(1),
        SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
        start,
    );
    s.user = "admin".into();
    s.credential = "root".into();
    s.device = "dc01.corp.local:3389".into();
    s.origin_ip = "10.66.0.5".into();
    s.protocol = "rdp".into();
    s.proxy = "Web Proxy".into();
    s.request = Some("REQ-1".into());
    s.itsm = Some("CHG-1".into());
    if !open {
        s.time = Some(SessionDuration::from_secs(60));
        s.end = Some(start + chrono::Duration::seconds(60));
    }
    s
}

/// Whether an evaluation error comes from the data rather than the expression: a
/// conversion of a field (`int(user)`) fails for some sessions only.
fn data_dependent(e: &ExecutionError) -> bool {
    match e {
        ExecutionError::DivisionByZero(_)
        | ExecutionError::RemainderByZero(_)
        | ExecutionError::Overflow(..)
        | ExecutionError::IndexOutOfBounds(_)
        | ExecutionError::NoSuchKey(_) => true,
        ExecutionError::FunctionError { function, .. } => matches!(
            function.rsplit(' ').next().unwrap_or(function),
            "int" | "uint" | "double" | "string" | "bytes" | "duration" | "timestamp"
        ),
        _ => false,
    }
}

impl Expression {
    /// Compiles `source`; times are read in `zone`. The whole expression is type
    /// checked, every branch (an unknown variable or function, `time > 5`, a result
    /// that is not a bool), then tried on a sample session (an invalid regular
    /// expression), so such errors are found here rather than on every session.
    pub fn compile(source: &str, zone: ApplianceZone) -> Result<Self, ExprError> {
        let (rewritten, inserted) = rewrite_has(source);
        let shift = |pos: usize| -> usize {
            // Map an offset in the rewritten text back to the original.
            let mut p = pos;
            for &at in &inserted {
                if p > at {
                    p = p.saturating_sub(PRESENT.len() + 1).max(at);
                }
            }
            p
        };
        let program = Program::compile(&rewritten).map_err(|errs| {
            let first = errs.errors.first();
            let (line, col) = first.map_or((1, 0), |e| {
                (e.pos.0.max(1) as usize, e.pos.1.max(0) as usize)
            });
            // The parser's column is 1-based, in characters of its line.
            let col = col.saturating_sub(1);
            let line_start: usize = rewritten
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum();
            let line_text = &rewritten[line_start.min(rewritten.len())..];
            let byte = line_start
                + line_text
                    .char_indices()
                    .nth(col)
                    .map_or(line_text.len(), |(i, _)| i);
            let (line, column) = line_col(source, shift(byte));
            ExprError {
                line,
                column,
                message: first.map_or_else(|| "syntax error".to_owned(), |e| e.msg.clone()),
            }
        })?;
        match check::Checker::new().check(program.expression()) {
            Ok(check::Ty::Bool | check::Ty::Dyn) => {}
            Ok(other) => {
                return Err(ExprError {
                    line: 1,
                    column: 1,
                    message: format!("the expression must be a bool, not {other:#}"),
                })
            }
            Err(e) => {
                let at = e
                    .token
                    .as_ref()
                    .and_then(|(t, nth)| find_token(source, t, *nth))
                    .unwrap_or(0);
                let (line, column) = line_col(source, at);
                return Err(ExprError {
                    line,
                    column,
                    message: e.message,
                });
            }
        }
        let wants_present = program.references().has_variable(PRESENT);
        let expr = Self {
            source: source.to_owned(),
            program: Arc::new(program),
            context: Arc::new(Context::default()),
            zone,
            wants_present,
        };
        match expr.eval(&sample(false)) {
            Ok(Value::Bool(_)) => Ok(expr),
            Ok(other) => Err(ExprError {
                line: 1,
                column: 1,
                message: format!("the expression must be a bool, not a {}", other.type_of()),
            }),
            Err(e) if data_dependent(&e) => Ok(expr),
            Err(e) => {
                let token = match &e {
                    ExecutionError::UndeclaredReference(name) => Some(name.to_string()),
                    ExecutionError::FunctionError { function, .. } => {
                        Some(function.rsplit(' ').next().unwrap_or(function).to_owned())
                    }
                    ExecutionError::NotSupportedAsMethod { method, .. } => Some(method.clone()),
                    ExecutionError::UnsupportedBinaryOperator(op, ..) => Some((*op).to_owned()),
                    _ => None,
                };
                let at = token
                    .as_deref()
                    .and_then(|t| find_token(source, t, 0))
                    .unwrap_or(0);
                let (line, column) = line_col(source, at);
                let mut message = e.to_string();
                if let ExecutionError::UndeclaredReference(name) = &e {
                    message = format!(
                        "unknown variable or function {name:?}; the variables are {}",
                        VARIABLES.join(", ")
                    );
                }
                Err(ExprError {
                    line,
                    column,
                    message,
                })
            }
        }
    }

    /// The text the expression was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn eval(&self, s: &RemoteSession) -> Result<Value, ExecutionError> {
        let vars = SessionVars {
            s,
            zone: self.zone,
            wants_present: self.wants_present,
        };
        let mut ctx = self.context.new_inner_scope();
        ctx.set_variable_resolver(&vars);
        self.program.execute(&ctx)
    }

    /// Whether `s` satisfies the expression (a failed evaluation does not).
    pub fn matches(&self, s: &RemoteSession) -> bool {
        matches!(self.eval(s), Ok(Value::Bool(true)))
    }
}

struct SessionVars<'s> {
    s: &'s RemoteSession,
    zone: ApplianceZone,
    wants_present: bool,
}

fn text(s: &str) -> Value {
    Value::String(Arc::new(s.to_owned()))
}

impl VariableResolver for SessionVars<'_> {
    fn resolve(&self, name: &str) -> Option<Value> {
        let s = self.s;
        Some(match name {
            "id" => Value::Int(i64::try_from(s.id.get()).unwrap_or(i64::MAX)),
            "start" => Value::Timestamp(self.zone.instant_of(s.start)),
            "end" => Value::Timestamp(self.zone.instant_of(s.end?)),
            "time" => Value::Duration(chrono::Duration::seconds(
                i64::try_from(s.time?.as_secs()).unwrap_or(i64::MAX),
            )),
            "active" => Value::Bool(s.end.is_none()),
            "device" => text(&s.device),
            "host" => text(split_device(&s.device).0),
            "port" => Value::Int(i64::from(split_device(&s.device).1?)),
            "protocol" => text(s.protocol.as_str()),
            "proxy" => text(s.proxy.as_str()),
            "user" => text(&s.user),
            "credential" => text(&s.credential),
            "origin_ip" => text(&s.origin_ip),
            "session_id" => text(s.session_id.as_str()),
            "request" => text(s.request.as_deref().filter(|r| !r.is_empty())?),
            "itsm" => text(s.itsm.as_deref().filter(|r| !r.is_empty())?),
            "now" => Value::Timestamp(self.zone.now()),
            PRESENT if self.wants_present => {
                let mut map = HashMap::new();
                for v in VARIABLES {
                    if *v != "now" && self.resolve(v).is_some() {
                        map.insert(Key::from(*v), Value::Null);
                    }
                }
                Value::Map(Map { map: Arc::new(map) })
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> ApplianceZone {
        "America/Sao_Paulo".parse().unwrap()
    }

    #[test]
    fn the_examples_of_the_issue() {
        let closed = sample(false);
        let mut long = sample(false);
        long.protocol = "ssh".into();
        long.itsm = None;
        long.time = Some(segura_model::SessionDuration::from_secs(9 * 3600));
        let e = Expression::compile(
            r#"protocol in ["ssh", "rdp"] && time > duration("8h") && !has(itsm)"#,
            zone(),
        )
        .unwrap();
        assert!(e.matches(&long) && !e.matches(&closed));
        let e = Expression::compile(r#"host.startsWith("dc") && start.getHours() < 17"#, zone())
            .unwrap();
        assert!(e.matches(&closed));
        let e = Expression::compile(r#"start.getHours() == 16"#, zone()).unwrap();
        assert!(e.matches(&closed), "hours are the appliance's");
        let e = Expression::compile(r#"active && now - start > duration("12h")"#, zone()).unwrap();
        assert!(e.matches(&sample(true)) && !e.matches(&closed));
        let e = Expression::compile("port == 3389 && id == 1", zone()).unwrap();
        assert!(e.matches(&closed));
        // `end` is absent on an open session: the session does not match.
        let e = Expression::compile("end > start", zone()).unwrap();
        assert!(e.matches(&closed) && !e.matches(&sample(true)));
        assert!(Expression::compile(r#"has(end) || user == "has(x)""#, zone()).is_ok());
    }

    #[test]
    fn errors_carry_a_position() {
        let e = Expression::compile("user == ", zone()).unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let plain = Expression::compile(r#"user ==== "x""#, zone()).unwrap_err();
        assert_eq!((plain.line, plain.column), (1, 8), "{plain}");
        let e = Expression::compile(r#"!has(itsm) && user ==== "x""#, zone()).unwrap_err();
        assert_eq!((e.line, e.column), (1, 22), "{e}");
        let e = Expression::compile("user == \"a\" &&\n  (", zone()).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = Expression::compile(r#"user == "a" || hots == "x""#, zone()).unwrap_err();
        assert_eq!((e.line, e.column), (1, 16), "{e}");
        assert!(e.message.contains("hots"), "{e}");
        let e = Expression::compile("user", zone()).unwrap_err();
        assert!(e.message.contains("bool"), "{e}");
        let e = Expression::compile("time > 5", zone()).unwrap_err();
        assert!(!e.message.is_empty(), "{e}");
    }

    #[test]
    fn type_errors_are_found_in_branches_the_sample_does_not_take() {
        // The sample session's user is "admin": evaluation alone would stop at the
        // first operand of each `||` and never see the error behind it.
        for (source, at, says) in [
            (r#"user == "admin" || time > 5"#, (1, 20), "duration"),
            (r#"user == "admin" || hots == "x""#, (1, 20), "hots"),
            (
                r#"user == "admin" || user.startsWith(5)"#,
                (1, 20),
                "startsWith",
            ),
            (r#"true ? active : port + "x""#, (1, 17), "add"),
            (r#"!active && protocol in [1, 2]"#, (1, 12), "string"),
            (r#"user == "admin" || nosuch(user)"#, (1, 20), "nosuch"),
            (
                r#"user == "admin" || start.getHours() == "6""#,
                (1, 20),
                "compare",
            ),
            (
                r#"user == "admin" || time > duration("8x")"#,
                (1, 27),
                "duration",
            ),
            (r#"[1, 2].all(x, x > "a")"#, (1, 15), "order"),
        ] {
            let e = Expression::compile(source, zone()).unwrap_err();
            assert_eq!((e.line, e.column), at, "{source}: {e}");
            assert!(e.message.contains(says), "{source}: {e}");
        }
    }

    #[test]
    fn well_typed_expressions_pass_the_check() {
        for source in [
            r#"protocol in ["ssh", "rdp"] && time > duration("8h") && !has(itsm)"#,
            r#"host.startsWith("dc") && start.getHours() < 6"#,
            r#"active && now - start > duration("12h")"#,
            r#"size(user) > 3 && user.matches("^svc_") && user.contains("_")"#,
            r#"start + duration("1h") < now && end - start >= duration("0s")"#,
            r#"[1, 2, 3].exists(x, x == port) || port in [22, 3389]"#,
            r#"user.matches("^[0-9]+$") && int(user) > 5"#,
            r#"id % 2 == 0 && id / 2 > 1 && -id < 0 && double(id) > 0.5"#,
            r#"(active ? "open" : "ended") == "open" || time.getHours() >= 8"#,
            r#"start.getDayOfWeek() in [0, 6] || start.getFullYear() == 2024"#,
            r#"{"a": 1}["a"] == 1 && [user, host][0] != """#,
            "id > 0u || port == null",
        ] {
            if let Err(e) = Expression::compile(source, zone()) {
                panic!("{source}: {e}");
            }
        }
    }
}
