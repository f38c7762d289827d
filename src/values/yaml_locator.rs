//! Finding the line where a key path is written in a block-style YAML values file, so an
//! error can say `my-values.yaml:12`.
//!
//! The YAML parser keeps no positions once a document is read, so this looks at the text
//! itself, by indentation. It understands block maps and block lists (including a list at
//! the same indentation as its key, and `- key: value` items), quoted keys, comments and
//! block scalars. A path that goes into a one-line flow collection (`a: {b: 1}`) resolves to
//! that line. Anything it cannot follow gives `None`, and the caller names only the file.

use super::path::{KeyPath, Segment};

/// The 1-based line of the last step of `path` in `text`, if it can be found.
pub fn line_of(text: &str, path: &KeyPath) -> Option<usize> {
    let tokens = tokenize(text);
    let mut rest: &[Token] = &tokens;
    let mut parent: Option<Parent> = None;
    let mut line = None;
    let segments = path.segments();
    for (step, segment) in segments.iter().enumerate() {
        let at = match segment {
            Segment::Key(key) => find_key(rest, parent, key)?,
            Segment::Index(index) => find_item(rest, parent, *index)?,
        };
        line = Some(rest[at].line);
        if step + 1 < segments.len() && opens_flow(rest, at) {
            return line;
        }
        parent = Some(Parent {
            column: rest[at].column,
            is_key: matches!(segment, Segment::Key(_)),
        });
        rest = &rest[at + 1..];
    }
    line
}

/// A node of the block structure: a `- ` list marker, or the text after indentation and
/// markers. `- a: 1` is two tokens on one line: the dash, then `a: 1` two columns further.
struct Token<'t> {
    line: usize,
    column: usize,
    entry: Option<&'t str>,
}

#[derive(Clone, Copy)]
struct Parent {
    column: usize,
    is_key: bool,
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    // The indentation of a line that opened a block scalar (`key: |`); the lines indented
    // deeper are its text, however much they look like keys.
    let mut scalar_owner: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim_start_matches(' ');
        let indent = raw.len() - content.len();
        if content.trim().is_empty() || scalar_owner.is_some_and(|owner| indent > owner) {
            continue;
        }
        scalar_owner = None;
        if content.starts_with('#') || raw.starts_with("---") || raw.starts_with("...") {
            continue;
        }
        let mut column = indent;
        let mut rest = content;
        loop {
            if rest == "-" || rest.starts_with("- ") {
                tokens.push(Token {
                    line,
                    column,
                    entry: None,
                });
                let after = &rest[1..];
                let item = after.trim_start_matches(' ');
                column += 1 + after.len() - item.len();
                rest = item;
                if rest.is_empty() || rest.starts_with('#') {
                    break;
                }
            } else {
                let value = split_key(rest).map_or(rest, |(_, value)| value);
                if value.starts_with('|') || value.starts_with('>') {
                    scalar_owner = Some(indent);
                }
                tokens.push(Token {
                    line,
                    column,
                    entry: Some(rest),
                });
                break;
            }
        }
    }
    tokens
}

/// The entry for `key` among the keys of the map that starts at `tokens[0]`.
fn find_key(tokens: &[Token], parent: Option<Parent>, key: &str) -> Option<usize> {
    let first = tokens.first()?;
    if first.column < parent.map_or(0, |p| p.column + 1) || first.entry.is_none() {
        return None;
    }
    let column = first.column;
    for (at, token) in tokens.iter().enumerate() {
        if token.column < column {
            break;
        }
        let named = token.column == column
            && token
                .entry
                .and_then(split_key)
                .is_some_and(|(name, _)| name == key);
        if named {
            return Some(at);
        }
    }
    None
}

/// The dash of item `index` of the list that starts at `tokens[0]`.
fn find_item(tokens: &[Token], parent: Option<Parent>, index: usize) -> Option<usize> {
    let first = tokens.first()?;
    // A list may sit at the same indentation as the key that holds it.
    let min = match parent {
        None => 0,
        Some(p) if p.is_key => p.column,
        Some(p) => p.column + 1,
    };
    if first.column < min || first.entry.is_some() {
        return None;
    }
    let column = first.column;
    let mut seen = 0;
    for (at, token) in tokens.iter().enumerate() {
        if token.column < column {
            break;
        }
        if token.column == column {
            if token.entry.is_some() {
                break;
            }
            if seen == index {
                return Some(at);
            }
            seen += 1;
        }
    }
    None
}

/// Whether the node at `tokens[at]` holds a flow collection written on its own line.
fn opens_flow(tokens: &[Token], at: usize) -> bool {
    let flow = |text: &str| text.starts_with('{') || text.starts_with('[');
    match tokens[at].entry {
        Some(entry) => split_key(entry).is_some_and(|(_, value)| flow(value)),
        None => tokens
            .get(at + 1)
            .filter(|next| next.line == tokens[at].line)
            .and_then(|next| next.entry)
            .is_some_and(flow),
    }
}

/// Splits `key: value` into the key (unquoted) and the value text, if the entry is a key.
fn split_key(entry: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(quoted) = entry.strip_prefix('"') {
        let end = closing_double_quote(quoted)?;
        let key = quoted[..end].replace("\\\"", "\"").replace("\\\\", "\\");
        (key, &quoted[end + 1..])
    } else if let Some(quoted) = entry.strip_prefix('\'') {
        let end = closing_single_quote(quoted)?;
        (quoted[..end].replace("''", "'"), &quoted[end + 1..])
    } else {
        let end = entry
            .find(": ")
            .or_else(|| entry.strip_suffix(':').map(str::len))?;
        (entry[..end].trim_end().to_owned(), &entry[end..])
    };
    let value = rest.trim_start().strip_prefix(':')?;
    Some((key, value.trim_start()))
}

fn closing_double_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(at),
            _ => {}
        }
    }
    None
}

/// In single quotes, `''` is a quote inside the key.
fn closing_single_quote(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().is_some_and(|&(_, next)| next == '\'') {
                chars.next();
            } else {
                return Some(at);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# a values file
apiService:
  image: example/api:1   # line 3
  config: |
    ingress:
      enabled: false
    - not: a list
  replicas: 2

ingress:
  enabled: true
  nodeportEnabled: true
  "quoted.key": 1
  'single''s': 2
  flow: {a: 1, b: [2, 3]}
  http://odd: 3
rbac:
  rules:
  - apiGroups: ["*"]
    verbs:
      - get
      - list
  -   resources:
        - pods
  - {apiGroups: [x]}
nested:
  - - a
    - b
  - - c
empty:
tail: end
"#;

    fn path(text: &str) -> KeyPath {
        // Test paths are simple: dots between keys, `[n]` for items.
        let mut path = KeyPath::root();
        for part in text.split('.') {
            let (key, indexes) = part.split_once('[').map_or((part, ""), |(k, i)| (k, i));
            if !key.is_empty() {
                path = path.key(key);
            }
            for index in indexes.split('[').filter(|i| !i.is_empty()) {
                path = path.index(index.trim_end_matches(']').parse().expect("test index"));
            }
        }
        path
    }

    #[test]
    fn finds_lines() {
        let cases = [
            ("apiService", Some(2)),
            ("apiService.image", Some(3)),
            ("apiService.config", Some(4)),
            ("apiService.replicas", Some(8)),
            ("ingress", Some(10)),
            ("ingress.enabled", Some(11)),
            ("ingress.nodeportEnabled", Some(12)),
            ("ingress.single's", Some(14)),
            ("ingress.flow", Some(15)),
            ("ingress.flow.a", Some(15)),
            ("ingress.flow.b[1]", Some(15)),
            ("ingress.http://odd", Some(16)),
            ("rbac.rules", Some(18)),
            ("rbac.rules[0]", Some(19)),
            ("rbac.rules[0].apiGroups", Some(19)),
            ("rbac.rules[0].apiGroups[0]", Some(19)),
            ("rbac.rules[0].verbs", Some(20)),
            ("rbac.rules[0].verbs[1]", Some(22)),
            ("rbac.rules[1]", Some(23)),
            ("rbac.rules[1].resources", Some(23)),
            ("rbac.rules[1].resources[0]", Some(24)),
            ("rbac.rules[2]", Some(25)),
            ("rbac.rules[2].apiGroups", Some(25)),
            ("nested[0]", Some(27)),
            ("nested[0][1]", Some(28)),
            ("nested[1][0]", Some(29)),
            ("empty", Some(30)),
            ("tail", Some(31)),
            // Not there, or not reachable by indentation.
            ("missing", None),
            ("ingress.missing", None),
            ("apiService.config.ingress", None),
            ("rbac.rules[3]", None),
            ("rbac.rules[0].verbs[2]", None),
            ("tail.x", None),
            ("empty.x", None),
            ("ingress[0]", None),
            ("rbac.rules.x", None),
            ("nested[2]", None),
        ];
        for (text, expected) in cases {
            assert_eq!(line_of(TEXT, &path(text)), expected, "{text}");
        }
        let quoted = KeyPath::root().key("ingress").key("quoted.key");
        assert_eq!(line_of(TEXT, &quoted), Some(13));
    }

    #[test]
    fn handles_odd_documents() {
        let cases = [
            ("", "a", None),
            ("---\na: 1\n", "a", Some(2)),
            ("  a:\n    b: 1\n", "a.b", Some(2)),
            ("a:\r\n  b: 1\r\n", "a.b", Some(2)),
            ("a: 1\n\t\nb: 2\n", "b", Some(3)),
            ("a :\n  b : 1\n", "a.b", Some(2)),
            ("\"a\\\"b\": 1\n", "a\"b", Some(1)),
            ("a:\n-\n  b: 1\n", "a[0].b", Some(3)),
            ("a: - b\n", "a[0]", None),
            ("a:\n  - |\n    b: 1\n  - c: 2\n", "a[1].c", Some(4)),
            ("a:\n  - |\n    b: 1\n", "a[0].b", None),
            ("a: >-\n  b: 1\nb: 2\n", "b", Some(3)),
        ];
        for (text, at, expected) in cases {
            assert_eq!(line_of(text, &path(at)), expected, "{text:?} {at}");
        }
    }
}
