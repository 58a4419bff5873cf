//! The type check of a `--filter` expression, before any session is read.
//!
//! The `cel` crate parses and evaluates but has no checker, and trying the expression
//! on a sample session only sees the branches that sample takes (`user == "admin" ||
//! time > 5` would pass). This walks the whole parsed expression once with the types
//! of the variables, the operators and the functions the evaluator offers, so a type
//! error anywhere is found up front. Parts that use no variable are also evaluated
//! here, so a bad literal (`duration("8x")`) or `1 / 0` fails before the first session.
//!
//! `dyn` stands for "known only at run time" (a map member, a comprehension's
//! variable): it is accepted where any type is, as in CEL's own checker.

use std::fmt;

use cel::common::ast::{operators as op, CallExpr, EntryExpr, Expr};
use cel::common::value::CelVal;
use cel::{Context, IdedExpr, Value};

use super::PRESENT;

/// A CEL type, as far as the check needs one.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ty {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Timestamp,
    Duration,
    Null,
    List(Box<Ty>),
    Map,
    Dyn,
}

/// `{}` writes the type's name, `{:#}` the name with its article ("an int").
impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            let vowel = matches!(self, Ty::Int | Ty::Uint);
            f.write_str(if vowel { "an " } else { "a " })?;
        }
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Uint => f.write_str("uint"),
            Ty::Double => f.write_str("double"),
            Ty::String => f.write_str("string"),
            Ty::Bytes => f.write_str("bytes"),
            Ty::Timestamp => f.write_str("timestamp"),
            Ty::Duration => f.write_str("duration"),
            Ty::Null => f.write_str("null"),
            Ty::List(t) => write!(f, "list({t})"),
            Ty::Map => f.write_str("map"),
            Ty::Dyn => f.write_str("dyn"),
        }
    }
}

impl Ty {
    fn numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Uint | Ty::Double)
    }

    /// Whether a value of this type can stand where `want` is asked for.
    fn fits(&self, want: &Ty) -> bool {
        *self == Ty::Dyn || *want == Ty::Dyn || self == want
    }

    /// The type of both branches of a conditional or the elements of a list.
    fn join(&self, other: &Ty) -> Ty {
        if self == other {
            self.clone()
        } else {
            Ty::Dyn
        }
    }
}

/// The type of each variable of [`super::VARIABLES`].
pub(super) fn variable(name: &str) -> Option<Ty> {
    Some(match name {
        "id" | "port" => Ty::Int,
        "start" | "end" | "now" => Ty::Timestamp,
        "time" => Ty::Duration,
        "active" => Ty::Bool,
        "device" | "host" | "protocol" | "proxy" | "user" | "credential" | "origin_ip"
        | "session_id" | "request" | "itsm" => Ty::String,
        PRESENT => Ty::Map,
        _ => return None,
    })
}

/// What is wrong, and the word of the expression to point at.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TypeError {
    /// An identifier, function or operator of the source the error is about, and
    /// how many times that word occurs in the source before it (0 for the first).
    pub token: Option<(String, usize)>,
    /// The message shown to the user.
    pub message: String,
}

/// The first identifier (or function name) of `e` in reading order, to point at.
fn first_word(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(name) if name != PRESENT => Some(name.clone()),
        Expr::Select(s) => first_word(&s.operand).or_else(|| Some(s.field.clone())),
        Expr::Call(c) => {
            let before = c.target.as_deref().and_then(first_word);
            before
                .or_else(|| c.args.iter().find_map(first_word))
                .or_else(|| {
                    (!c.func_name.starts_with(['_', '!', '-', '@'])).then(|| c.func_name.clone())
                })
        }
        Expr::List(l) => l.elements.iter().find_map(first_word),
        _ => None,
    }
}

/// The source text of an operator, to point at when no word is near.
fn symbol(func: &str) -> &str {
    match func {
        op::LOGICAL_AND => "&&",
        op::LOGICAL_OR => "||",
        op::LOGICAL_NOT => "!",
        op::CONDITIONAL => "?",
        op::ADD => "+",
        op::SUBSTRACT | op::NEGATE => "-",
        op::MULTIPLY => "*",
        op::DIVIDE => "/",
        op::MODULO => "%",
        op::EQUALS => "==",
        op::NOT_EQUALS => "!=",
        op::LESS => "<",
        op::LESS_EQUALS => "<=",
        op::GREATER => ">",
        op::GREATER_EQUALS => ">=",
        op::IN => "in",
        op::INDEX => "[",
        other => other,
    }
}

/// Whether `e` reads no variable, so that it can be evaluated now.
fn constant(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Literal(_) => true,
        Expr::List(l) => l.elements.iter().all(constant),
        Expr::Call(c) => c.target.as_deref().is_none_or(constant) && c.args.iter().all(constant),
        Expr::Map(m) => m.entries.iter().all(|entry| match &entry.expr {
            EntryExpr::MapEntry(me) => constant(&me.key) && constant(&me.value),
            EntryExpr::StructField(_) => false,
        }),
        _ => false,
    }
}

/// Checks an expression: its type, or the first type error.
pub(super) struct Checker {
    /// Comprehension variables in scope, innermost last.
    scope: Vec<(String, Ty)>,
    constants: Context<'static>,
    /// The words of the source met so far, in reading order, to tell which
    /// occurrence of a word an error is about.
    seen: Vec<String>,
    /// Whether the part being checked lies inside a constant part that is evaluated
    /// as a whole, so that its own constant parts are not evaluated again.
    in_constant: bool,
}

impl Checker {
    pub(super) fn new() -> Self {
        Self {
            scope: Vec::new(),
            constants: Context::default(),
            seen: Vec::new(),
            in_constant: false,
        }
    }

    fn see(&mut self, word: &str) {
        if !word.starts_with(['@', '_']) {
            self.seen.push(word.to_owned());
        }
    }

    /// An error about `word`, the first word of a part of the expression whose
    /// reading began when `mark` words had been seen.
    fn fail<T>(&self, mark: usize, word: Option<String>, message: String) -> Result<T, TypeError> {
        let token = word.map(|w| {
            let before = self.seen[..mark.min(self.seen.len())]
                .iter()
                .filter(|s| **s == w)
                .count();
            (w, before)
        });
        Err(TypeError { token, message })
    }

    pub(super) fn check(&mut self, e: &IdedExpr) -> Result<Ty, TypeError> {
        let mark = self.seen.len();
        // Only the outermost constant part is evaluated.
        let fold = !self.in_constant && !matches!(e.expr, Expr::Literal(_)) && constant(e);
        let outer = self.in_constant;
        self.in_constant = outer || fold;
        let ty = self.node(e, mark);
        self.in_constant = outer;
        let ty = ty?;
        if fold {
            if let Err(err) = Value::resolve(e, &self.constants) {
                return self.fail(mark, first_word(e), err.to_string());
            }
        }
        Ok(ty)
    }

    /// The type of `e`, its parts checked; `mark` is where its reading began.
    fn node(&mut self, e: &IdedExpr, mark: usize) -> Result<Ty, TypeError> {
        let ty = match &e.expr {
            Expr::Literal(v) => literal(v),
            Expr::Ident(name) => self.ident(name)?,
            Expr::Select(s) => {
                let operand = self.check(&s.operand)?;
                self.see(&s.field);
                if !operand.fits(&Ty::Map) {
                    return self.fail(
                        mark,
                        first_word(&s.operand),
                        format!("{operand:#} has no field {:?}", s.field),
                    );
                }
                if s.test {
                    Ty::Bool
                } else {
                    Ty::Dyn
                }
            }
            Expr::List(l) => {
                let mut elem: Option<Ty> = None;
                for x in &l.elements {
                    let t = self.check(x)?;
                    elem = Some(elem.map_or(t.clone(), |e| e.join(&t)));
                }
                Ty::List(Box::new(elem.unwrap_or(Ty::Dyn)))
            }
            Expr::Map(m) => {
                for entry in &m.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        self.check(&me.key)?;
                        self.check(&me.value)?;
                    }
                }
                Ty::Map
            }
            Expr::Struct(s) => {
                return self.fail(
                    mark,
                    Some(s.type_name.clone()),
                    format!("message types such as {:?} are not available", s.type_name),
                )
            }
            Expr::Comprehension(c) => {
                let range = self.check(&c.iter_range)?;
                self.see(&c.iter_var);
                let item = match &range {
                    Ty::List(t) => (**t).clone(),
                    Ty::Map | Ty::Dyn => Ty::Dyn,
                    other => {
                        return self.fail(
                            mark,
                            first_word(&c.iter_range),
                            format!("{other:#} cannot be iterated over"),
                        )
                    }
                };
                let accu = self.check(&c.accu_init)?;
                let depth = self.scope.len();
                self.scope.push((c.iter_var.clone(), item));
                if let Some(v2) = &c.iter_var2 {
                    self.scope.push((v2.clone(), Ty::Dyn));
                }
                self.scope.push((c.accu_var.clone(), accu));
                let body = self
                    .check(&c.loop_cond)
                    .and_then(|_| self.check(&c.loop_step))
                    .and_then(|_| self.check(&c.result));
                self.scope.truncate(depth);
                body?
            }
            Expr::Call(call) => self.call(call)?,
            Expr::Unspecified => Ty::Dyn,
        };
        Ok(ty)
    }

    fn ident(&mut self, name: &str) -> Result<Ty, TypeError> {
        let mark = self.seen.len();
        self.see(name);
        if let Some((_, t)) = self.scope.iter().rev().find(|(n, _)| n == name) {
            return Ok(t.clone());
        }
        variable(name).map_or_else(
            || {
                self.fail(
                    mark,
                    Some(name.to_owned()),
                    format!(
                        "unknown variable {name:?}; the variables are {}",
                        super::VARIABLES.join(", ")
                    ),
                )
            },
            Ok,
        )
    }

    fn call(&mut self, c: &CallExpr) -> Result<Ty, TypeError> {
        let mark = self.seen.len();
        let target = match c.target.as_deref() {
            Some(t) => Some(self.check(t)?),
            None => None,
        };
        self.see(&c.func_name);
        let mut args = Vec::with_capacity(c.args.len());
        let mut marks = Vec::with_capacity(c.args.len());
        for a in &c.args {
            marks.push(self.seen.len());
            args.push(self.check(a)?);
        }
        let f = c.func_name.as_str();
        let word = c
            .target
            .as_deref()
            .and_then(first_word)
            .or_else(|| (!f.starts_with(['_', '!', '-', '@'])).then(|| f.to_owned()))
            .or_else(|| c.args.iter().find_map(first_word))
            .or_else(|| Some(symbol(f).to_owned()));
        let bad = |what: String| -> Result<Ty, TypeError> { self.fail(mark, word.clone(), what) };
        let two = |args: &[Ty]| -> (Ty, Ty) {
            (
                args.first().cloned().unwrap_or(Ty::Dyn),
                args.get(1).cloned().unwrap_or(Ty::Dyn),
            )
        };
        match (f, target.as_ref()) {
            (op::LOGICAL_AND | op::LOGICAL_OR, None) => {
                for ((a, t), m) in c.args.iter().zip(&args).zip(&marks) {
                    if !t.fits(&Ty::Bool) {
                        return self.fail(
                            *m,
                            first_word(a).or_else(|| Some(symbol(f).to_owned())),
                            format!("{} needs bools on both sides, not {t:#}", symbol(f)),
                        );
                    }
                }
                Ok(Ty::Bool)
            }
            (op::LOGICAL_NOT | op::NOT_STRICTLY_FALSE, None) => {
                let (a, _) = two(&args);
                if a.fits(&Ty::Bool) {
                    Ok(Ty::Bool)
                } else {
                    bad(format!("! needs a bool, not {a:#}"))
                }
            }
            (op::CONDITIONAL, None) => {
                let (cond, yes) = two(&args);
                let no = args.get(2).cloned().unwrap_or(Ty::Dyn);
                if !cond.fits(&Ty::Bool) {
                    return bad(format!("the condition of ?: must be a bool, not {cond:#}"));
                }
                Ok(yes.join(&no))
            }
            (op::EQUALS | op::NOT_EQUALS, None) => {
                let (l, r) = two(&args);
                if l.fits(&r) || l == Ty::Null || r == Ty::Null || (l.numeric() && r.numeric()) {
                    Ok(Ty::Bool)
                } else {
                    bad(format!("cannot compare {l:#} with {r:#}"))
                }
            }
            (op::LESS | op::LESS_EQUALS | op::GREATER | op::GREATER_EQUALS, None) => {
                let (l, r) = two(&args);
                let ordered = matches!(
                    l,
                    Ty::Int
                        | Ty::Uint
                        | Ty::Double
                        | Ty::String
                        | Ty::Bool
                        | Ty::Bytes
                        | Ty::Timestamp
                        | Ty::Duration
                        | Ty::Dyn
                );
                if ordered && (l.fits(&r) || (l.numeric() && r.numeric())) {
                    Ok(Ty::Bool)
                } else {
                    bad(format!("cannot order {l:#} against {r:#}"))
                }
            }
            (op::ADD, None) => {
                let (l, r) = two(&args);
                match (&l, &r) {
                    (Ty::Dyn, t) | (t, Ty::Dyn) => {
                        Ok(if *t == Ty::Dyn { Ty::Dyn } else { t.clone() })
                    }
                    (Ty::Timestamp, Ty::Duration) | (Ty::Duration, Ty::Timestamp) => {
                        Ok(Ty::Timestamp)
                    }
                    (Ty::List(a), Ty::List(b)) => Ok(Ty::List(Box::new(a.join(b)))),
                    (a, b)
                        if a == b
                            && matches!(
                                a,
                                Ty::Int
                                    | Ty::Uint
                                    | Ty::Double
                                    | Ty::String
                                    | Ty::Bytes
                                    | Ty::Duration
                            ) =>
                    {
                        Ok(a.clone())
                    }
                    _ => bad(format!("cannot add {r:#} to {l:#}")),
                }
            }
            (op::SUBSTRACT, None) => {
                let (l, r) = two(&args);
                match (&l, &r) {
                    (Ty::Timestamp, Ty::Timestamp) => Ok(Ty::Duration),
                    (Ty::Timestamp, Ty::Duration) => Ok(Ty::Timestamp),
                    (Ty::Dyn, _) | (_, Ty::Dyn) => Ok(Ty::Dyn),
                    (a, b) if a == b && (a.numeric() || *a == Ty::Duration) => Ok(a.clone()),
                    _ => bad(format!("cannot subtract {r:#} from {l:#}")),
                }
            }
            (op::MULTIPLY | op::DIVIDE | op::MODULO, None) => {
                let (l, r) = two(&args);
                match (&l, &r) {
                    (Ty::Dyn, t) | (t, Ty::Dyn) if t.numeric() || *t == Ty::Dyn => Ok(t.clone()),
                    (a, b) if a == b && a.numeric() && !(f == op::MODULO && *a == Ty::Double) => {
                        Ok(a.clone())
                    }
                    _ => bad(format!("{} is not defined for {l:#} and {r:#}", symbol(f))),
                }
            }
            (op::NEGATE, None) => {
                let (a, _) = two(&args);
                if matches!(a, Ty::Int | Ty::Double | Ty::Duration | Ty::Dyn) {
                    Ok(a)
                } else {
                    bad(format!("cannot negate {a:#}"))
                }
            }
            (op::INDEX, None) => {
                let (container, index) = two(&args);
                match container {
                    Ty::List(t) if index.fits(&Ty::Int) || index == Ty::Uint => Ok(*t),
                    Ty::Map | Ty::Dyn => Ok(Ty::Dyn),
                    other => bad(format!("{other:#} cannot be indexed by {index:#}")),
                }
            }
            (op::IN, None) => {
                let (item, container) = two(&args);
                match &container {
                    Ty::List(t) if item.fits(t) || (item.numeric() && t.numeric()) => Ok(Ty::Bool),
                    Ty::Map | Ty::Dyn => Ok(Ty::Bool),
                    _ => bad(format!("{item:#} cannot be looked for in {container:#}")),
                }
            }
            ("size", t) => {
                let x = t
                    .cloned()
                    .or_else(|| args.first().cloned())
                    .unwrap_or(Ty::Dyn);
                if matches!(x, Ty::String | Ty::Bytes | Ty::List(_) | Ty::Map | Ty::Dyn) {
                    Ok(Ty::Int)
                } else {
                    bad(format!("size() is not defined for {x:#}"))
                }
            }
            ("startsWith" | "endsWith" | "matches", Some(t)) => {
                let (a, _) = two(&args);
                if t.fits(&Ty::String) && a.fits(&Ty::String) && args.len() == 1 {
                    Ok(Ty::Bool)
                } else {
                    bad(format!("{f}() takes a string on a string"))
                }
            }
            ("matches", None) => {
                let (s, re) = two(&args);
                if s.fits(&Ty::String) && re.fits(&Ty::String) && args.len() == 2 {
                    Ok(Ty::Bool)
                } else {
                    bad("matches() takes two strings".to_owned())
                }
            }
            ("contains", Some(t)) => {
                if matches!(t, Ty::String | Ty::Bytes | Ty::List(_) | Ty::Map | Ty::Dyn)
                    && args.len() == 1
                {
                    Ok(Ty::Bool)
                } else {
                    bad(format!("contains() is not defined on {t:#}"))
                }
            }
            ("string" | "int" | "uint" | "double" | "bytes", None) if args.len() == 1 => {
                Ok(match f {
                    "string" => Ty::String,
                    "int" => Ty::Int,
                    "uint" => Ty::Uint,
                    "double" => Ty::Double,
                    _ => Ty::Bytes,
                })
            }
            ("duration" | "timestamp", None) => {
                let (a, _) = two(&args);
                let own = if f == "duration" {
                    Ty::Duration
                } else {
                    Ty::Timestamp
                };
                if args.len() == 1 && (a.fits(&Ty::String) || a == own) {
                    Ok(own)
                } else {
                    bad(format!("{f}() takes a string"))
                }
            }
            (
                "getFullYear" | "getMonth" | "getDayOfYear" | "getDayOfMonth" | "getDate"
                | "getDayOfWeek",
                Some(t),
            ) if args.is_empty() && t.fits(&Ty::Timestamp) => Ok(Ty::Int),
            ("getHours" | "getMinutes" | "getSeconds" | "getMilliseconds", Some(t))
                if args.is_empty() && (t.fits(&Ty::Timestamp) || *t == Ty::Duration) =>
            {
                Ok(Ty::Int)
            }
            ("max" | "min", None) if !args.is_empty() => Ok(Ty::Dyn),
            (name, Some(t)) if is_known(name) => bad(format!(
                "{name}() is not defined on {t:#} with {} argument(s)",
                args.len()
            )),
            (name, None) if is_known(name) => bad(format!(
                "{name}() is not defined for {} argument(s)",
                args.len()
            )),
            (name, _) => self.fail(
                mark,
                Some(name.to_owned()),
                format!("unknown function {name:?}"),
            ),
        }
    }
}

/// The functions the evaluator offers (for a better message than "unknown").
fn is_known(name: &str) -> bool {
    matches!(
        name,
        "size"
            | "startsWith"
            | "endsWith"
            | "matches"
            | "contains"
            | "string"
            | "int"
            | "uint"
            | "double"
            | "bytes"
            | "duration"
            | "timestamp"
            | "getFullYear"
            | "getMonth"
            | "getDayOfYear"
            | "getDayOfMonth"
            | "getDate"
            | "getDayOfWeek"
            | "getHours"
            | "getMinutes"
            | "getSeconds"
            | "getMilliseconds"
            | "max"
            | "min"
    )
}

fn literal(v: &CelVal) -> Ty {
    match v {
        CelVal::Boolean(_) => Ty::Bool,
        CelVal::Bytes(_) => Ty::Bytes,
        CelVal::Double(_) => Ty::Double,
        CelVal::Duration(_) => Ty::Duration,
        CelVal::Int(_) => Ty::Int,
        CelVal::UInt(_) => Ty::Uint,
        CelVal::Null => Ty::Null,
        CelVal::String(_) => Ty::String,
        CelVal::Timestamp(_) => Ty::Timestamp,
        CelVal::List => Ty::List(Box::new(Ty::Dyn)),
        CelVal::Map => Ty::Map,
        _ => Ty::Dyn,
    }
}
