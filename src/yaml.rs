//! A small block-YAML emitter in the layout of Helm's `toYaml`.
//!
//! Helm's layout is kept (keys sorted, two-space indentation, sequences at the indentation
//! of their parent key, no trailing newline) so that a template splicing `toYaml` output with
//! `nindent` reads like the upstream chart. Strings are written plain only when every YAML
//! reader, YAML 1.1 ones such as kubectl's included, reads them back as the same string.

use serde_json::Value;

/// Writes `value` as a YAML block without a trailing newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_mapping(&mut out, map.iter(), 0),
        Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0),
        scalar => out.push_str(&inline(scalar, 2)),
    }
    trim_trailing_newline(out)
}

/// Writes one Kubernetes object with `apiVersion`, `kind` and `metadata` first, the way
/// people expect to read a manifest; the remaining keys follow sorted.
pub fn object_to_yaml(object: &Value) -> String {
    const LEADING: [&str; 3] = ["apiVersion", "kind", "metadata"];
    let Value::Object(map) = object else {
        return to_yaml(object);
    };
    let leading = LEADING.iter().filter_map(|key| map.get_key_value(*key));
    let rest = map
        .iter()
        .filter(|(key, _)| !LEADING.contains(&key.as_str()));
    let mut out = String::new();
    write_mapping(&mut out, leading.chain(rest), 0);
    trim_trailing_newline(out)
}

/// Quotes `text` as a YAML double-quoted scalar, escaping what YAML cannot hold literally.
pub fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints a number the way Helm does: values that came in as whole floats print as integers.
pub fn number_text(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(float) if number.is_f64() && float.fract() == 0.0 && float.abs() < 1e15 => {
            format!("{}", float as i64)
        }
        _ => number.to_string(),
    }
}

fn trim_trailing_newline(mut out: String) -> String {
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

fn write_mapping<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    indent: usize,
) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar_text(key));
        out.push(':');
        match value {
            Value::Object(map) if !map.is_empty() => {
                out.push('\n');
                write_mapping(out, map.iter(), indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_sequence(out, items, indent);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn write_sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        let nested = match item {
            Value::Object(map) if !map.is_empty() => {
                let mut block = String::new();
                write_mapping(&mut block, map.iter(), indent + 2);
                Some(block)
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut block = String::new();
                write_sequence(&mut block, inner, indent + 2);
                Some(block)
            }
            _ => None,
        };
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match nested {
            // The first line of the nested block moves up next to the dash.
            Some(block) => out.push_str(&block[indent + 2..]),
            None => {
                out.push_str(&inline(item, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A value that fits after `key: ` or `- `: scalars, empty collections and block literals,
/// whose content lines go at `content_indent`.
fn inline(value: &Value, content_indent: usize) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number_text(number),
        Value::String(text) => match block_literal(text, content_indent) {
            Some(block) => block,
            None => scalar_text(text),
        },
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

fn scalar_text(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else {
        double_quoted(text)
    }
}

/// Multi-line strings read best as `|` blocks; strings a block would change stay quoted.
fn block_literal(text: &str, content_indent: usize) -> Option<String> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let chomping = if body.len() == text.len() { "|-" } else { "|" };
    let representable = body.contains('\n')
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\t', '\n'])
        && body
            .lines()
            .all(|line| !line.ends_with([' ', '\t']) && !line.chars().any(needs_escape_in_block));
    if !representable {
        return None;
    }
    let pad = " ".repeat(content_indent);
    let mut block = chomping.to_owned();
    for line in body.split('\n') {
        block.push('\n');
        if !line.is_empty() {
            block.push_str(&pad);
            block.push_str(line);
        }
    }
    Some(block)
}

/// Whether `text` reads back as the same string when written plain. Decided by rules rather
/// than by parsing the text with a YAML reader: this runs for every scalar skyctl prints, and
/// the tests check the rules against a real reader.
fn is_plain_safe(text: &str) -> bool {
    // Words YAML 1.1 or 1.2 readers resolve to booleans, nulls, special floats or merge keys.
    const RESERVED_WORDS: [&str; 40] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN", "<<", "=",
    ];
    let Some(first) = text.chars().next() else {
        return false;
    };
    let starts_with_indicator = "?:,[]{}#&*!|>'\"%@`".contains(first)
        || (first == '-' && (text.len() == 1 || text[1..].starts_with(' ')));
    let looks_numeric = (first.is_ascii_digit() || "+-.".contains(first))
        && text
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoO+-._:".contains(c));
    !starts_with_indicator
        && !looks_numeric
        && !RESERVED_WORDS.contains(&text)
        && !text.starts_with("---")
        && !text.starts_with("...")
        && text.trim() == text
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !text.contains([',', '[', ']', '{', '}'])
        && !text
            .chars()
            .any(|c| c == '\n' || c == '\t' || needs_escape(c))
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

fn needs_escape_in_block(c: char) -> bool {
    c != '\t' && needs_escape(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Like Helm's, the output is a fragment that the template continues with a newline.
    fn round_trip(value: &Value) {
        let text = to_yaml(value);
        let back: Value = serde_yaml_ng::from_str(&format!("{text}\n"))
            .unwrap_or_else(|err| panic!("{err} in:\n{text}"));
        assert_eq!(&back, value, "emitted:\n{text}");
    }

    #[test]
    fn nested_maps_and_lists_use_helm_layout() {
        let value = json!({"b": [{"x": 1, "z": ["p", "q"]}, "s"], "a": {"c": {}}, "d": []});
        assert_eq!(
            to_yaml(&value),
            "a:\n  c: {}\nb:\n- x: 1\n  z:\n  - p\n  - q\n- s\nd: []"
        );
    }

    #[test]
    fn strings_that_other_readers_would_retype_are_quoted() {
        for text in [
            "",
            "y",
            "n",
            "yes",
            "off",
            "true",
            "null",
            "~",
            "1",
            "1e3",
            "0x1F",
            "2024-01-01",
            "12:30",
            "*",
            "-",
            "- a",
            "a: b",
            "a #b",
            "trailing ",
            " leading",
            "[x]",
            "{x}",
            "a,b",
            "@at",
            "`tick",
            "%pct",
            "!tag",
            "&anchor",
            "key:",
            "\u{7}bell",
            "tab\there",
            "Null",
            ".inf",
            "-.Inf",
            ".NaN",
            "<<",
            "=",
            "--- a",
            "... a",
            "0b101",
            "1_000",
            "+1",
            "-1.5e3",
        ] {
            let emitted = to_yaml(&json!(text));
            assert!(
                emitted.starts_with('"'),
                "{text:?} was emitted plain: {emitted}"
            );
            round_trip(&json!({ "k": text, text: "v", "l": [text] }));
        }
    }

    proptest::proptest! {
        /// The rules of `is_plain_safe` against a real YAML reader: whatever is written plain
        /// or quoted reads back as the same string, as a value, a key and a list item.
        #[test]
        fn every_string_reads_back_as_itself(text in "[ -~\u{a0}\u{2028}\t\n]{0,12}") {
            round_trip(&json!({ "k": text.clone(), text.clone(): "v", "l": [text] }));
        }
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        for text in [
            "10Gi",
            "100m",
            "ReadWriteOnce",
            "--enable-metrics=false",
            "/healthz",
            "a-b.c/d",
        ] {
            assert_eq!(to_yaml(&json!(text)), text);
        }
    }

    #[test]
    fn multi_line_strings_become_block_literals_that_read_back_equal() {
        for text in [
            "a\nb", "a\nb\n", "a\n\nb\n", "a\n  b\n", "a\n\n\n", " a\nb", "a \nb", "a\n\tb",
        ] {
            round_trip(&json!({ "k": text, "l": [text, { "m": text }] }));
        }
        assert_eq!(to_yaml(&json!({"k": "a\n\nb\n"})), "k: |\n  a\n\n  b");
        assert_eq!(to_yaml(&json!(["a\nb"])), "- |-\n  a\n  b");
    }

    #[test]
    fn whole_floats_print_as_integers_like_helm() {
        assert_eq!(to_yaml(&json!(3.0)), "3");
        assert_eq!(to_yaml(&json!(0.5)), "0.5");
        assert_eq!(to_yaml(&Value::Null), "null");
    }

    #[test]
    fn objects_lead_with_api_version_kind_and_metadata() {
        let object =
            json!({"spec": {"a": 1}, "kind": "K", "metadata": {"name": "m"}, "apiVersion": "v1"});
        assert_eq!(
            object_to_yaml(&object),
            "apiVersion: v1\nkind: K\nmetadata:\n  name: m\nspec:\n  a: 1"
        );
    }
}
