//! A JSON Schema validator for the subset of draft 2020-12 that codegen writes, for
//! tests. Keywords outside the subset are an error, never silently ignored, so a new
//! keyword in a generated schema has to be taught here before tests pass.
//!
//! `pattern` is matched by a small regular expression engine covering what the field
//! patterns use: literals, `.`, classes with ranges, groups with `|`, the quantifiers
//! `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`, and the anchors `^` and `$`.

use serde_json::Value;

/// Validates `instance` against `schema`, which is also the root for `$ref`.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    validate_at(schema, schema, instance)
}

/// Validates `instance` against `schema`, resolving `$ref` in `root`. The error starts
/// with the JSON pointer of the failing value.
pub fn validate_at(root: &Value, schema: &Value, instance: &Value) -> Result<(), String> {
    check(root, schema, instance, "")
}

const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$comment",
    "$defs",
    "title",
    "description",
    "examples",
    "default",
];

fn fail(at: &str, message: String) -> Result<(), String> {
    let at = if at.is_empty() { "(root)" } else { at };
    Err(format!("{at}: {message}"))
}

fn type_matches(ty: &str, v: &Value) -> Result<bool, String> {
    Ok(match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        other => return Err(format!("unknown type {other:?} in schema")),
    })
}

fn check(root: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let map = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return fail(at, "no value is allowed here".into()),
        Value::Object(map) => map,
        other => return Err(format!("not a schema: {other}")),
    };
    for (keyword, arg) in map {
        match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => {
                let target = arg
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|p| root.pointer(p))
                    .ok_or_else(|| format!("cannot resolve $ref {arg}"))?;
                check(root, target, v, at)?;
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    other => return Err(format!("bad type {other}")),
                };
                let mut ok = false;
                for t in &types {
                    ok |= type_matches(t, v)?;
                }
                if !ok {
                    return fail(at, format!("{v} is not of type {}", types.join(" or ")));
                }
            }
            "const" if arg != v => return fail(at, format!("{v} is not {arg}")),
            "const" => {}
            "enum" => {
                let options = arg.as_array().ok_or("enum is not an array")?;
                if !options.contains(v) {
                    return fail(at, format!("{v} is not one of {arg}"));
                }
            }
            "required" => {
                if let Value::Object(obj) = v {
                    for key in arg.as_array().ok_or("required is not an array")? {
                        let key = key.as_str().ok_or("required holds a non-string")?;
                        if !obj.contains_key(key) {
                            return fail(at, format!("missing required key {key:?}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Value::Object(obj) = v {
                    let props = arg.as_object().ok_or("properties is not an object")?;
                    for (key, sub) in props {
                        if let Some(value) = obj.get(key) {
                            check(root, sub, value, &format!("{at}/{key}"))?;
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Value::Object(obj) = v {
                    let known = map.get("properties").and_then(Value::as_object);
                    for (key, value) in obj {
                        if !known.is_some_and(|p| p.contains_key(key))
                            && check(root, arg, value, &format!("{at}/{key}")).is_err()
                        {
                            return fail(at, format!("unexpected key {key:?}"));
                        }
                    }
                }
            }
            "items" => {
                if let Value::Array(items) = v {
                    for (i, item) in items.iter().enumerate() {
                        check(root, arg, item, &format!("{at}/{i}"))?;
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let Value::Array(items) = v {
                    let n = arg.as_u64().ok_or("minItems/maxItems is not a count")?;
                    let len = items.len() as u64;
                    if (keyword == "minItems" && len < n) || (keyword == "maxItems" && len > n) {
                        return fail(at, format!("{len} items; {keyword} is {n}"));
                    }
                }
            }
            "pattern" => {
                if let Value::String(s) = v {
                    let re = Regex::parse(arg.as_str().ok_or("pattern is not a string")?)?;
                    if !re.is_match(s) {
                        return fail(at, format!("{v} does not match {arg}"));
                    }
                }
            }
            "oneOf" | "anyOf" => {
                let options = arg.as_array().ok_or("oneOf/anyOf is not an array")?;
                let mut passed = 0;
                let mut errors = Vec::new();
                for o in options {
                    match check(root, o, v, at) {
                        Ok(()) => passed += 1,
                        Err(e) => errors.push(e),
                    }
                }
                let ok = if keyword == "oneOf" {
                    passed == 1
                } else {
                    passed >= 1
                };
                if !ok {
                    return fail(
                        at,
                        format!(
                            "{passed} of the {keyword} options match: {}",
                            errors.join("; ")
                        ),
                    );
                }
            }
            other => return Err(format!("the test validator does not know {other:?}")),
        }
    }
    Ok(())
}

/// A regular expression of the subset described in the module documentation.
#[derive(Debug)]
pub struct Regex {
    alternatives: Vec<Vec<Piece>>,
}

#[derive(Debug)]
struct Piece {
    atom: Atom,
    min: usize,
    max: Option<usize>,
}

#[derive(Debug)]
enum Atom {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Regex),
    Start,
    End,
}

impl Regex {
    pub fn parse(pattern: &str) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let re = Regex::parse_alt(&chars, &mut i)?;
        if i != chars.len() {
            return Err(format!("unbalanced ')' in pattern {pattern:?}"));
        }
        Ok(re)
    }

    fn parse_alt(c: &[char], i: &mut usize) -> Result<Regex, String> {
        let mut alternatives = vec![Vec::new()];
        while *i < c.len() && c[*i] != ')' {
            let atom = match c[*i] {
                '|' => {
                    *i += 1;
                    alternatives.push(Vec::new());
                    continue;
                }
                '(' => {
                    *i += 1;
                    let inner = Regex::parse_alt(c, i)?;
                    if c.get(*i) != Some(&')') {
                        return Err("unclosed group".into());
                    }
                    Atom::Group(inner)
                }
                '[' => {
                    *i += 1;
                    let negated = c.get(*i) == Some(&'^');
                    if negated {
                        *i += 1;
                    }
                    let mut ranges = Vec::new();
                    while *i < c.len() && c[*i] != ']' {
                        let lo = escaped(c, i)?;
                        if c.get(*i + 1) == Some(&'-') && c.get(*i + 2).is_some_and(|&x| x != ']') {
                            *i += 2;
                            ranges.push((lo, escaped(c, i)?));
                        } else {
                            ranges.push((lo, lo));
                        }
                        *i += 1;
                    }
                    if *i == c.len() {
                        return Err("unclosed class".into());
                    }
                    Atom::Class { ranges, negated }
                }
                '.' => Atom::Any,
                '^' => Atom::Start,
                '$' => Atom::End,
                '*' | '+' | '?' | '{' => return Err(format!("nothing to repeat at {}", *i)),
                _ => Atom::Char(escaped(c, i)?),
            };
            *i += 1;
            let (min, max, quantified) = match c.get(*i) {
                Some('?') => (0, Some(1), true),
                Some('*') => (0, None, true),
                Some('+') => (1, None, true),
                Some('{') => {
                    let close = c[*i..].iter().position(|&x| x == '}').ok_or("unclosed {")?;
                    let body: String = c[*i + 1..*i + close].iter().collect();
                    *i += close;
                    let num = |s: &str| s.parse::<usize>().map_err(|_| format!("bad {{{body}}}"));
                    match body.split_once(',') {
                        None => (num(&body)?, Some(num(&body)?), true),
                        Some((lo, "")) => (num(lo)?, None, true),
                        Some((lo, hi)) => (num(lo)?, Some(num(hi)?), true),
                    }
                }
                _ => (1, Some(1), false),
            };
            if quantified {
                *i += 1;
            }
            let last = alternatives.last_mut().ok_or("empty pattern")?;
            last.push(Piece { atom, min, max });
        }
        Ok(Regex { alternatives })
    }

    /// Whether the pattern matches anywhere in `s` (JSON Schema patterns are not
    /// implicitly anchored).
    pub fn is_match(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        (0..=chars.len()).any(|start| !self.ends(&chars, start).is_empty())
    }

    /// Every position where a match starting at `pos` can end.
    fn ends(&self, s: &[char], pos: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for seq in &self.alternatives {
            let mut here = vec![pos];
            for piece in seq {
                here = piece.ends(s, &here);
            }
            out.extend(here);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The character at `c[*i]`, resolving a backslash escape (which advances `i`).
fn escaped(c: &[char], i: &mut usize) -> Result<char, String> {
    if c[*i] != '\\' {
        return Ok(c[*i]);
    }
    *i += 1;
    match c.get(*i) {
        Some(x) if !x.is_ascii_alphanumeric() => Ok(*x),
        Some(x) => Err(format!("escape \\{x} is outside the supported subset")),
        None => Err("trailing backslash".into()),
    }
}

impl Piece {
    fn ends(&self, s: &[char], starts: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut current = starts.to_vec();
        let mut count = 0;
        loop {
            if count >= self.min {
                out.extend(&current);
            }
            if self.max.is_some_and(|m| count >= m) || current.is_empty() {
                break;
            }
            let mut next: Vec<usize> = current.iter().flat_map(|&p| self.atom.ends(s, p)).collect();
            next.sort_unstable();
            next.dedup();
            // Once the minimum is met, stop when a repetition consumes nothing new
            // (`(a*)*`); before it, zero-width atoms (`^`) must still be counted.
            if next == current && count >= self.min {
                break;
            }
            current = next;
            count += 1;
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Atom {
    fn ends(&self, s: &[char], pos: usize) -> Vec<usize> {
        let one = |ok: bool| if ok { vec![pos + 1] } else { Vec::new() };
        match self {
            Atom::Start => (pos == 0).then_some(pos).into_iter().collect(),
            Atom::End => (pos == s.len()).then_some(pos).into_iter().collect(),
            _ if pos >= s.len() => Vec::new(),
            Atom::Char(c) => one(s[pos] == *c),
            Atom::Any => one(s[pos] != '\n'),
            Atom::Class { ranges, negated } => {
                let inside = ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&s[pos]));
                one(inside != *negated)
            }
            Atom::Group(re) => re.ends(s, pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn regex_subset() {
        let m = |p: &str, s: &str| Regex::parse(p).unwrap().is_match(s);
        let dt = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$";
        assert!(m(dt, "2024-05-06 16:05:07"));
        assert!(!m(dt, "2024-05-06T16:05:07"));
        assert!(!m(dt, "2024-05-06 16:05:07Z"));
        assert!(m("^[0-9]+$", "3"));
        assert!(!m("^[0-9]+$", ""));
        assert!(!m("^[0-9]+$", "3a"));
        assert!(m("^[0-9]{2,}:[0-5][0-9]:[0-5][0-9]$", "123:00:59"));
        assert!(!m("^[0-9]{2,}:[0-5][0-9]:[0-5][0-9]$", "1:00:59"));
        assert!(m("^(Yes|No)$", "No"));
        assert!(!m("^(Yes|No)$", "Nope"));
        assert!(m("b+", "abbc"), "unanchored patterns search");
        assert!(m("^a?b*$", ""));
        assert!(m("^[^a-c]\\.x{1,2}$", "z.xx"));
        assert!(!m("^[^a-c]\\.x{1,2}$", "b.x"));
        assert!(m("^(a*)*$", "aaa"));
        assert!(
            Regex::parse("\\d").is_err(),
            "unsupported escapes are refused"
        );
        assert!(Regex::parse("(a").is_err());
    }

    #[test]
    fn validator_subset() {
        let schema = json!({
            "$defs": {"n": {"type": "integer"}},
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"$ref": "#/$defs/n"}, "b": {"enum": ["x", "y"]}},
            "additionalProperties": false
        });
        validate(&schema, &json!({"a": 1, "b": "x"})).unwrap();
        assert_eq!(
            validate(&schema, &json!({})).unwrap_err(),
            "(root): missing required key \"a\""
        );
        assert_eq!(
            validate(&schema, &json!({"a": "1"})).unwrap_err(),
            "/a: \"1\" is not of type integer"
        );
        assert_eq!(
            validate(&schema, &json!({"a": 1, "c": 0})).unwrap_err(),
            "(root): unexpected key \"c\""
        );
        assert!(validate(&schema, &json!({"a": 1, "b": "z"})).is_err());
        let e = validate(&json!({"minimum": 3}), &json!(1)).unwrap_err();
        assert!(e.contains("does not know \"minimum\""), "{e}");
        let one_of = json!({"oneOf": [{"type": "string"}, {"const": "a"}]});
        validate(&one_of, &json!("b")).unwrap();
        assert!(validate(&one_of, &json!("a")).is_err(), "both match");
    }
}
