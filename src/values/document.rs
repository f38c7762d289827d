//! Reading one values document (YAML) into a tree, with Helm's rules for its top level: an
//! empty document (or one that is just `null`) is an empty map, anything else must be a map.

use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

use super::kind::describe;
use super::path::KeyPath;

/// Why a values document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Not YAML; the message carries the parser's position.
    #[error("invalid YAML: {message}")]
    Syntax {
        /// The YAML parser's message.
        message: String,
        /// The 1-based line the parser stopped at, when it says.
        line: Option<usize>,
    },
    /// Valid YAML, but not a map at the top.
    #[error("expected a map of keys at the top level, got {found}")]
    NotAMap {
        /// The top-level value, described.
        found: String,
    },
    /// A value that a values tree cannot hold.
    #[error("{path}: {what}")]
    Unsupported {
        /// Where it is.
        path: KeyPath,
        /// What it is.
        what: &'static str,
    },
}

/// Parses `text` as one values document.
pub fn parse(text: &str) -> Result<Map<String, Value>, DocumentError> {
    check_flow_depth(text)?;
    let mut yaml: Yaml = serde_yaml_ng::from_str(text).map_err(syntax)?;
    // YAML merge keys (`<<: *base`) are honoured by Helm's YAML reader too.
    yaml.apply_merge().map_err(syntax)?;
    match convert(yaml, &KeyPath::root())? {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        other => Err(DocumentError::NotAMap {
            found: describe(&other),
        }),
    }
}

/// How deep `{…}` and `[…]` may nest. No values file needs more; the YAML parser's time grows
/// with the square of a flow collection's depth, so a deeper one is refused before parsing.
const MAX_FLOW_DEPTH: usize = 128;

/// Refuses flow collections nested deeper than [`MAX_FLOW_DEPTH`], outside quoted strings and
/// comments.
fn check_flow_depth(text: &str) -> Result<(), DocumentError> {
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut previous = ' ';
    for c in text.chars() {
        match (quote, c) {
            // Quoted scalars may span lines: a newline ends a comment, not a quote.
            (_, '\n') => {
                line += 1;
                comment = false;
            }
            _ if comment => {}
            (Some(q), c) if c == q && previous != '\\' => quote = None,
            (Some(_), _) => {}
            (None, '#') if previous.is_whitespace() => comment = true,
            (None, '"' | '\'') if matches!(previous, ' ' | '[' | '{' | ',' | ':' | '\n') => {
                quote = Some(c)
            }
            (None, '[' | '{') => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(DocumentError::Syntax {
                        message: format!(
                            "collections nested more than {MAX_FLOW_DEPTH} levels deep at line {line}"
                        ),
                        line: Some(line),
                    });
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    Ok(())
}

fn syntax(error: serde_yaml_ng::Error) -> DocumentError {
    DocumentError::Syntax {
        line: error.location().map(|at| at.line()),
        message: error.to_string(),
    }
}

fn convert(yaml: Yaml, path: &KeyPath) -> Result<Value, DocumentError> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let finite = n.as_f64().and_then(Number::from_f64);
                Value::Number(finite.ok_or_else(|| DocumentError::Unsupported {
                    path: path.clone(),
                    what: "a number that is not finite (.nan or .inf)",
                })?)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| convert(item, &path.index(index)))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = key_text(key, path)?;
                let value = convert(value, &path.key(&key))?;
                map.insert(key, value);
            }
            Value::Object(map)
        }
        Yaml::Tagged(tagged) => convert(tagged.value, path)?,
    })
}

/// Helm reads values through JSON, so scalar keys become their text (`1:` is key `"1"`).
fn key_text(key: Yaml, path: &KeyPath) -> Result<String, DocumentError> {
    match key {
        Yaml::String(s) => Ok(s),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Null => Ok("null".to_owned()),
        Yaml::Tagged(tagged) => key_text(tagged.value, path),
        Yaml::Sequence(_) | Yaml::Mapping(_) => Err(DocumentError::Unsupported {
            path: path.clone(),
            what: "a map key that is itself a list or a map",
        }),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn collections_nested_too_deep_are_refused_before_parsing() {
        let deep = format!("a: {}1{}", "{a: ".repeat(200), "}".repeat(200));
        let err = parse(&deep).unwrap_err();
        assert!(err.to_string().contains("nested more than 128"), "{err}");
        let fine = format!("a: {}1{}", "[".repeat(100), "]".repeat(100));
        assert!(parse(&fine).is_ok());
        let quoted = format!(
            "a: \"{}\"\nb: '{}' # {}",
            "{".repeat(300),
            "[".repeat(300),
            "{".repeat(300)
        );
        assert!(
            parse(&quoted).is_ok(),
            "brackets in strings and comments do not count"
        );
    }

    use serde_json::json;

    use super::*;

    #[test]
    fn reads_documents_like_helm() {
        let cases = [
            ("", json!({})),
            ("\n\n", json!({})),
            ("# only a comment\n", json!({})),
            ("---\n", json!({})),
            ("null\n", json!({})),
            ("~\n", json!({})),
            ("a: 1\n", json!({"a": 1})),
            ("---\na: 1\n", json!({"a": 1})),
            ("a: {}\nb: []\nc:\n", json!({"a": {}, "b": [], "c": null})),
            (
                "a: 1.5\nb: -2\nc: 18446744073709551615\n",
                json!({"a": 1.5, "b": -2, "c": 18_446_744_073_709_551_615_u64}),
            ),
            (
                "a: 'x'\nb: \"y\"\nc: z\n",
                json!({"a": "x", "b": "y", "c": "z"}),
            ),
            (
                "a: true\nb: false\nc: null\nd: ~\n",
                json!({"a": true, "b": false, "c": null, "d": null}),
            ),
            // YAML 1.2 core schema, unlike Helm's YAML 1.1 reader: `yes`/`on` stay strings.
            ("a: yes\nb: on\n", json!({"a": "yes", "b": "on"})),
            (
                "1: a\ntrue: b\nnull: c\n",
                json!({"1": "a", "true": "b", "null": "c"}),
            ),
            (
                "a: !!str 1\nb: !custom {x: 1}\n",
                json!({"a": "1", "b": {"x": 1}}),
            ),
            (
                "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",
                json!({"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}}),
            ),
            (
                "text: |\n  line1\n  line2\n",
                json!({"text": "line1\nline2\n"}),
            ),
            ("list:\n- a\n- b: 1\n", json!({"list": ["a", {"b": 1}]})),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).map(Value::Object), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn rejects_what_helm_rejects() {
        let cases = [
            (
                "- a\n- b\n",
                "expected a map of keys at the top level, got array",
            ),
            (
                "just text\n",
                "expected a map of keys at the top level, got string \"just text\"",
            ),
            (
                "42\n",
                "expected a map of keys at the top level, got integer 42",
            ),
            ("a: .nan\n", "a: a number that is not finite (.nan or .inf)"),
            (
                "a:\n  - b: -.inf\n",
                "a[0].b: a number that is not finite (.nan or .inf)",
            ),
            (
                "? [a, b]\n: c\n",
                "<top level>: a map key that is itself a list or a map",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse(text).map_err(|e| e.to_string()),
                Err(expected.to_owned()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let cases = [
            ("a: 1\nb: [1, 2\n", Some(3)),
            ("a: 1\n  b: 2\n", Some(2)),
            // For a duplicate key the parser points at the start of the map holding it.
            ("x: 0\na: 1\na: 2\n", Some(1)),
            ("x:\n  y: 0\n  a: 1\n  a: 2\n", Some(2)),
            ("a: 1\n---\nb: 2\n", None),
        ];
        for (text, line) in cases {
            match parse(text) {
                Err(DocumentError::Syntax { line: got, message }) => {
                    assert_eq!(got, line, "{text:?}: {message}");
                }
                other => panic!("{text:?}: expected a syntax error, got {other:?}"),
            }
        }
    }
}
