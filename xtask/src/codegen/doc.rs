//! An ordered JSON-like document and its two writers, JSON and YAML.
//!
//! `serde_json::Value` sorts object keys (without its `preserve_order` feature), and a
//! schema or an OpenAPI file reads best in a deliberate order, so the generators build
//! a [`Node`] instead. The YAML writer covers exactly what a [`Node`] can hold: block
//! mappings and sequences, flow sequences of scalars, and scalars that are written plain
//! only when no YAML 1.1 or 1.2 reader can take them for anything but a string.

use serde_json::Value;

/// A JSON value whose objects keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Str(s.to_owned())
    }
}

impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Str(s)
    }
}

impl From<i64> for Node {
    fn from(n: i64) -> Node {
        Node::Int(n)
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Bool(b)
    }
}

impl From<Vec<Node>> for Node {
    fn from(items: Vec<Node>) -> Node {
        Node::List(items)
    }
}

/// An object from `(key, value)` pairs, in order.
pub fn obj<const N: usize>(entries: [(&str, Node); N]) -> Node {
    Node::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// A list of strings.
pub fn strs<'a>(items: impl IntoIterator<Item = &'a str>) -> Node {
    Node::List(items.into_iter().map(Node::from).collect())
}

impl Node {
    /// Appends an entry to an object; panics on anything else (a generator bug).
    pub fn push(&mut self, key: &str, value: impl Into<Node>) {
        match self {
            Node::Map(entries) => entries.push((key.to_owned(), value.into())),
            other => panic!("push({key:?}) on a non-object node {other:?}"),
        }
    }

    /// The value under `key` of an object.
    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The same value as a `serde_json::Value` (keys then sort, as `Value` does).
    #[cfg(test)]
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(n) => Value::from(*n),
            Node::Str(s) => Value::String(s.clone()),
            Node::List(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Node::List(_) | Node::Map(_))
    }

    fn is_empty_collection(&self) -> bool {
        match self {
            Node::List(items) => items.is_empty(),
            Node::Map(entries) => entries.is_empty(),
            _ => false,
        }
    }
}

fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

fn json_scalar(node: &Node) -> String {
    match node {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Int(n) => n.to_string(),
        Node::Str(s) => json_string(s),
        Node::List(items) if items.is_empty() => "[]".to_owned(),
        Node::Map(entries) if entries.is_empty() => "{}".to_owned(),
        _ => unreachable!("json_scalar on a non-empty collection"),
    }
}

/// Pretty JSON with two-space indents; lists of scalars stay on one line.
pub fn to_json(node: &Node) -> String {
    let mut out = String::new();
    write_json(node, 0, &mut out);
    out.push('\n');
    out
}

fn write_json(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent + 2);
    match node {
        Node::List(items) if !items.is_empty() && items.iter().all(Node::is_scalar) => {
            let parts: Vec<String> = items.iter().map(json_scalar).collect();
            out.push_str(&format!("[{}]", parts.join(", ")));
        }
        Node::List(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                write_json(item, indent + 2, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Node::Map(entries) if !entries.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in entries.iter().enumerate() {
                out.push_str(&pad);
                out.push_str(&json_string(k));
                out.push_str(": ");
                write_json(v, indent + 2, out);
                out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        scalar => out.push_str(&json_scalar(scalar)),
    }
}

/// Words that some YAML reader takes for a boolean or null when unquoted.
const YAML_RESERVED: &[&str] = &[
    "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
];

/// Whether `s` reads back as the same string when written plain, in block and in flow
/// context, under YAML 1.1 and 1.2: letters, digits and a few inert punctuation marks,
/// not starting with a digit or an indicator, and not a reserved word.
fn yaml_plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '/' || first == '$' || first == '_')
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _./-$()".contains(c))
        && !YAML_RESERVED.iter().any(|w| w.eq_ignore_ascii_case(s))
}

fn yaml_scalar(node: &Node) -> String {
    match node {
        // A JSON string is a valid YAML double-quoted scalar: YAML's escapes are a
        // superset of JSON's, and serde_json never writes the one exception (`\/`).
        Node::Str(s) if !yaml_plain_ok(s) => json_string(s),
        Node::Str(s) => s.clone(),
        Node::List(items) if items.iter().all(Node::is_scalar) => {
            let parts: Vec<String> = items.iter().map(yaml_scalar).collect();
            format!("[{}]", parts.join(", "))
        }
        other => json_scalar(other),
    }
}

fn yaml_inline(node: &Node) -> bool {
    node.is_scalar()
        || node.is_empty_collection()
        || matches!(node, Node::List(items) if items.iter().all(Node::is_scalar))
}

/// Block-style YAML of an object, after `header` (comment lines, each starting `#`).
pub fn to_yaml(node: &Node, header: &str) -> String {
    let mut out = String::from(header);
    write_yaml_map(node, 0, &mut out);
    out
}

fn write_yaml_map(node: &Node, indent: usize, out: &mut String) {
    let Node::Map(entries) = node else {
        unreachable!("YAML documents and nested blocks are objects or lists");
    };
    for (k, v) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&yaml_scalar(&Node::Str(k.clone())));
        out.push(':');
        write_yaml_value(v, indent, out);
    }
}

/// Writes what follows `key:` or `-`: an inline scalar, or a nested block.
fn write_yaml_value(v: &Node, indent: usize, out: &mut String) {
    if yaml_inline(v) {
        out.push(' ');
        out.push_str(&yaml_scalar(v));
        out.push('\n');
        return;
    }
    out.push('\n');
    match v {
        Node::Map(_) => write_yaml_map(v, indent + 2, out),
        Node::List(items) => {
            for item in items {
                out.push_str(&" ".repeat(indent + 2));
                out.push('-');
                if let Node::Map(_) = item {
                    if !item.is_empty_collection() {
                        // The first entry goes on the dash line, the rest align with it.
                        let mut block = String::new();
                        write_yaml_map(item, indent + 4, &mut block);
                        out.push(' ');
                        out.push_str(&block[indent + 4..]);
                        continue;
                    }
                }
                write_yaml_value(item, indent + 2, out);
            }
        }
        _ => unreachable!("inline values are handled above"),
    }
}

#[cfg(test)]
pub mod yaml_reader {
    //! A reader for the YAML subset [`super::to_yaml`] writes, so tests can check that
    //! the text means the document it was written from.

    use super::Node;

    struct Line {
        indent: usize,
        text: String,
    }

    pub fn parse(text: &str) -> Result<Node, String> {
        let mut lines: Vec<Line> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| Line {
                indent: l.len() - l.trim_start().len(),
                text: l.trim_start().to_owned(),
            })
            .collect();
        let mut i = 0;
        let node = block(&mut lines, &mut i, 0)?;
        if i != lines.len() {
            return Err(format!("unexpected line {:?}", lines[i].text));
        }
        Ok(node)
    }

    fn block(lines: &mut [Line], i: &mut usize, indent: usize) -> Result<Node, String> {
        if lines[*i].text.starts_with("- ") || lines[*i].text == "-" {
            let mut items = Vec::new();
            while *i < lines.len() && lines[*i].indent == indent && lines[*i].text.starts_with('-')
            {
                let rest = lines[*i].text[1..].trim_start().to_owned();
                if rest.is_empty() {
                    *i += 1;
                    let child = lines[*i].indent;
                    items.push(block(lines, i, child)?);
                } else if split_key(&rest)?.is_some() {
                    // A mapping that starts on the dash line: re-read it as a block.
                    lines[*i] = Line {
                        indent: indent + 2,
                        text: rest,
                    };
                    items.push(block(lines, i, indent + 2)?);
                } else {
                    items.push(scalar(&rest)?);
                    *i += 1;
                }
            }
            return Ok(Node::List(items));
        }
        let mut entries = Vec::new();
        while *i < lines.len() && lines[*i].indent == indent && !lines[*i].text.starts_with('-') {
            let text = lines[*i].text.clone();
            let (key, rest) = split_key(&text)?.ok_or_else(|| format!("not a key: {text:?}"))?;
            *i += 1;
            let value = if rest.is_empty() {
                let child = lines.get(*i).map_or(0, |l| l.indent);
                if child <= indent {
                    return Err(format!("no value for {key:?}"));
                }
                block(lines, i, child)?
            } else {
                scalar(&rest)?
            };
            entries.push((key, value));
        }
        if *i < lines.len() && lines[*i].indent > indent {
            return Err(format!("bad indentation at {:?}", lines[*i].text));
        }
        Ok(Node::Map(entries))
    }

    /// Splits `key: value` (or `key:`); `None` when the text is not a mapping entry.
    fn split_key(text: &str) -> Result<Option<(String, String)>, String> {
        let (key, after) = if text.starts_with('"') {
            let end = quoted_end(text)?;
            (scalar(&text[..end])?, &text[end..])
        } else {
            match text
                .find(": ")
                .or_else(|| text.ends_with(':').then(|| text.len() - 1))
            {
                Some(colon) if !text.starts_with('[') => {
                    (Node::Str(text[..colon].to_owned()), &text[colon..])
                }
                _ => return Ok(None),
            }
        };
        let Some(rest) = after.strip_prefix(':') else {
            return Ok(None);
        };
        match key {
            Node::Str(k) => Ok(Some((k, rest.trim().to_owned()))),
            other => Err(format!("key is not a string: {other:?}")),
        }
    }

    fn quoted_end(text: &str) -> Result<usize, String> {
        let mut escaped = false;
        for (i, c) in text.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Ok(i + 1),
                _ => {}
            }
        }
        Err(format!("unterminated string {text:?}"))
    }

    fn scalar(text: &str) -> Result<Node, String> {
        if text.starts_with('"') {
            return serde_json::from_str::<String>(text)
                .map(Node::Str)
                .map_err(|e| format!("{text:?}: {e}"));
        }
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let mut items = Vec::new();
            let mut rest = inner.trim();
            while !rest.is_empty() {
                let end = if rest.starts_with('"') {
                    quoted_end(rest)?
                } else {
                    rest.find(',').unwrap_or(rest.len())
                };
                items.push(scalar(rest[..end].trim())?);
                rest = rest[end..]
                    .trim_start()
                    .trim_start_matches(',')
                    .trim_start();
            }
            return Ok(Node::List(items));
        }
        Ok(match text {
            "{}" => Node::Map(Vec::new()),
            "null" => Node::Null,
            "true" => Node::Bool(true),
            "false" => Node::Bool(false),
            _ => match text.parse::<i64>() {
                Ok(n) => Node::Int(n),
                Err(_) => Node::Str(text.to_owned()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Node {
        obj([
            ("openapi", "3.1.0".into()),
            ("plain", "Terminal Proxy".into()),
            (
                "tricky",
                strs([
                    "Yes", "no", "200", "", " x", "a: b", "#c", "-d", "Sessão", "\"q\"", "a\nb",
                ]),
            ),
            ("$ref", "#/components/schemas/X".into()),
            ("/api/session/remotesessions/{id}", obj([])),
            ("200", obj([("description", "OK".into())])),
            ("n", Node::Int(-3)),
            ("flag", Node::Bool(false)),
            ("nothing", Node::Null),
            ("empty", Node::List(vec![])),
            (
                "listOfMaps",
                Node::List(vec![
                    obj([("oauth2", Node::List(vec![]))]),
                    obj([]),
                    obj([("a", 1.into()), ("b", obj([("c", "d".into())]))]),
                    Node::List(vec![obj([("deep", true.into())])]),
                ]),
            ),
        ])
    }

    #[test]
    fn yaml_reads_back_as_the_document() {
        let doc = sample();
        let text = to_yaml(&doc, "# header\n");
        assert_eq!(yaml_reader::parse(&text), Ok(doc), "{text}");
        // Words YAML 1.1 takes for booleans, and numbers, are quoted.
        assert!(text.contains(r#"["Yes", "no", "200", "#), "{text}");
        assert!(text.contains("\"200\":\n"), "{text}");
        assert!(text.contains("plain: Terminal Proxy\n"), "{text}");
        assert!(text.contains("  - oauth2: []\n"), "{text}");
    }

    #[test]
    fn json_is_pretty_and_valid() {
        let doc = sample();
        let text = to_json(&doc);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, doc.to_value());
        assert!(text.starts_with("{\n  \"openapi\": \"3.1.0\",\n"), "{text}");
        assert!(text.contains("\"empty\": [],\n"), "{text}");
    }
}
