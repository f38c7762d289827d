//! The SkyPilot config that the chart takes as the text `apiService.config`, and the contexts
//! of `kubernetes.allowed_contexts` merged into it, for `creds add kube` with several contexts
//! (SkyPilot uses only the contexts its config allows once there are more than one).
//!
//! The user's text is edited, not written anew, so that its comments and layout stay: new
//! contexts go below the last allowed one, or a new `allowed_contexts:` goes under
//! `kubernetes:`, or a new `kubernetes:` block at the end. The edit is checked by reading it
//! back against the merge done on the parsed config; only where the text's layout defeats it
//! (flow style, say) is the merged config written out whole, without comments.

use serde_yaml_ng::{Mapping, Value};

const KUBERNETES: &str = "kubernetes";
const ALLOWED_CONTEXTS: &str = "allowed_contexts";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("apiService.config is not YAML: {0}")]
    NotYaml(String),
    #[error("apiService.config{0} is not a mapping")]
    NotMapping(&'static str),
    #[error("apiService.config's kubernetes.allowed_contexts is not a list of names")]
    NotAList,
}

/// `config` with `contexts` allowed besides those it allows already; `None` when that changes
/// nothing: all are allowed, or the config allows no list and one context needs none.
pub fn with_allowed_contexts(
    config: Option<&str>,
    contexts: &[String],
) -> Result<Option<String>, ConfigError> {
    let text = config.unwrap_or_default();
    let parsed: Value = match text.trim() {
        "" => Value::Mapping(Mapping::new()),
        _ => serde_yaml_ng::from_str(text).map_err(|e| ConfigError::NotYaml(e.to_string()))?,
    };
    let mut merged = match parsed {
        Value::Null => Mapping::new(),
        Value::Mapping(map) => map,
        _ => return Err(ConfigError::NotMapping("")),
    };
    let kubernetes = match merged.get(KUBERNETES) {
        None | Some(Value::Null) => Mapping::new(),
        Some(Value::Mapping(map)) => map.clone(),
        Some(_) => return Err(ConfigError::NotMapping("'s kubernetes")),
    };
    let allowed: Vec<String> = match kubernetes.get(ALLOWED_CONTEXTS) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or(ConfigError::NotAList)
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ConfigError::NotAList),
    };
    let added: Vec<&String> =
        contexts
            .iter()
            .filter(|c| !allowed.contains(c))
            .fold(Vec::new(), |mut added, c| {
                if !added.contains(&c) {
                    added.push(c);
                }
                added
            });
    if added.is_empty() || (allowed.is_empty() && contexts.len() < 2) {
        return Ok(None);
    }
    let mut kubernetes = kubernetes;
    let all: Vec<Value> = allowed
        .iter()
        .chain(added.iter().copied())
        .map(|c| Value::String(c.clone()))
        .collect();
    kubernetes.insert(ALLOWED_CONTEXTS.into(), Value::Sequence(all));
    merged.insert(KUBERNETES.into(), Value::Mapping(kubernetes));
    let merged = Value::Mapping(merged);
    let edited = edit_text(text, &added);
    if serde_yaml_ng::from_str::<Value>(&edited).ok().as_ref() == Some(&merged) {
        return Ok(Some(edited));
    }
    Ok(Some(
        serde_yaml_ng::to_string(&merged).expect("a mapping of strings is YAML"),
    ))
}

/// `text` with `added` below the last allowed context, under a new `allowed_contexts:`, or in
/// a new `kubernetes:` block: right for block-style YAML, checked by the caller.
fn edit_text(text: &str, added: &[&String]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let items = |indent: usize| -> Vec<String> {
        added
            .iter()
            .map(|c| format!("{}- {}", " ".repeat(indent), yaml_scalar(c)))
            .collect()
    };
    let Some(start) = lines.iter().position(|l| is_key(l, 0, KUBERNETES)) else {
        let mut out = text.trim_end().to_owned();
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&format!("{KUBERNETES}:\n  {ALLOWED_CONTEXTS}:\n"));
        out.push_str(&items(4).join("\n"));
        out.push('\n');
        return out;
    };
    // The block of `kubernetes:` ends at the next line that is indented less than its children.
    let block_end = (start + 1..lines.len())
        .find(|&i| !is_blank(&lines[i]) && indent(&lines[i]) == 0)
        .unwrap_or(lines.len());
    let child_indent = (start + 1..block_end)
        .find(|&i| !is_blank(&lines[i]))
        .map_or(2, |i| indent(&lines[i]));
    match (start + 1..block_end).find(|&i| is_key(&lines[i], child_indent, ALLOWED_CONTEXTS)) {
        Some(key) => {
            let mut last = key;
            let mut item_indent = child_indent + 2;
            for (i, line) in lines.iter().enumerate().take(block_end).skip(key + 1) {
                if is_blank(line) {
                    continue;
                }
                let trimmed = line.trim_start();
                if indent(line) < child_indent || !trimmed.starts_with('-') {
                    break;
                }
                last = i;
                item_indent = indent(line);
            }
            lines.splice(last + 1..last + 1, items(item_indent));
        }
        None => {
            let mut block = vec![format!("{}{ALLOWED_CONTEXTS}:", " ".repeat(child_indent))];
            block.extend(items(child_indent + 2));
            lines.splice(start + 1..start + 1, block);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Whether `line` is the block key `key:` at `indent` (a comment may follow; no inline value).
fn is_key(line: &str, at: usize, key: &str) -> bool {
    indent(line) == at
        && line
            .trim_start()
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| {
                let rest = rest.trim();
                rest.is_empty() || rest.starts_with('#')
            })
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Blank, or only a comment: neither opens nor closes a block.
fn is_blank(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// `text` as a YAML scalar: plain when it is unmistakably a string, else double-quoted.
///
/// SkyPilot reads its config with PyYAML, which follows YAML 1.1: there `yes`, `off` and
/// `1:30` are not strings. So only names that start with a letter, use the characters context
/// names are made of, and are not a 1.1 boolean or null keyword stay plain.
fn yaml_scalar(text: &str) -> String {
    const KEYWORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && !text.ends_with(':')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/@:-".contains(c))
        && !KEYWORDS.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        return text.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The release's SkyPilot config (`apiService.config`, as recorded) with `contexts` allowed,
/// as a layer, when that changes it.
pub fn allowed_contexts_layer(
    recorded: &serde_json::Value,
    contexts: &[String],
) -> anyhow::Result<Option<crate::values::ExtraLayer>> {
    let config = recorded
        .pointer("/apiService/config")
        .and_then(serde_json::Value::as_str);
    let merged = with_allowed_contexts(config, contexts).map_err(|err| {
        crate::error::invalid_input(anyhow::anyhow!(
            "{err}; fix it with `skyctl upgrade --set-file apiService.config=FILE`"
        ))
    })?;
    Ok(merged.map(|config| crate::values::ExtraLayer {
        label: "skyctl creds add kube (kubernetes.allowed_contexts)".into(),
        values: serde_json::json!({"apiService": {"config": config}})
            .as_object()
            .cloned()
            .expect("an object literal"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(config: Option<&str>, contexts: &[&str]) -> Result<Option<String>, ConfigError> {
        let contexts: Vec<String> = contexts.iter().map(|c| (*c).to_owned()).collect();
        with_allowed_contexts(config, &contexts)
    }

    #[test]
    fn contexts_are_merged_into_the_users_text() {
        let cases: &[(Option<&str>, &[&str], Option<&str>)] = &[
            (None, &[], None),
            (None, &["only"], None),
            (
                None,
                &["a", "b"],
                Some("kubernetes:\n  allowed_contexts:\n    - a\n    - b\n"),
            ),
            (
                Some("{}"),
                &["a", "b"],
                Some("kubernetes:\n  allowed_contexts:\n  - a\n  - b\n"),
            ),
            (
                None,
                &[
                    "arn:aws:eks:us-east-1:123456789012:cluster/prod",
                    "yes",
                    "a: b",
                ],
                Some(
                    "kubernetes:\n  allowed_contexts:\n    - arn:aws:eks:us-east-1:123456789012:cluster/prod\n    - \"yes\"\n    - \"a: b\"\n",
                ),
            ),
            // Other keys and comments stay; a new block goes at the end.
            (
                Some("# team config\nallowed_clouds:\n  - aws  # only AWS\n"),
                &["a", "b"],
                Some(
                    "# team config\nallowed_clouds:\n  - aws  # only AWS\n\nkubernetes:\n  allowed_contexts:\n    - a\n    - b\n",
                ),
            ),
            // Under `kubernetes:`, at its children's indentation.
            (
                Some("kubernetes:\n    # pods\n    pod_config: {}\njobs: {}\n"),
                &["a", "b"],
                Some(
                    "kubernetes:\n    allowed_contexts:\n      - a\n      - b\n    # pods\n    pod_config: {}\njobs: {}\n",
                ),
            ),
            // A union: below the last allowed context, once each, even for one context.
            (
                Some(
                    "kubernetes:\n  allowed_contexts:\n  - a  # prod\n\n  - b\n  provision_timeout: 10\n",
                ),
                &["b", "c", "c"],
                Some(
                    "kubernetes:\n  allowed_contexts:\n  - a  # prod\n\n  - b\n  - c\n  provision_timeout: 10\n",
                ),
            ),
            (
                Some("kubernetes:\n  allowed_contexts: [a, b]\n"),
                &["a", "b"],
                None,
            ),
            // Flow style defeats the edit: written out whole.
            (
                Some("kubernetes: {allowed_contexts: [a]}\n"),
                &["b"],
                Some("kubernetes:\n  allowed_contexts:\n  - a\n  - b\n"),
            ),
        ];
        for (config, contexts, want) in cases {
            assert_eq!(
                merge(*config, contexts).unwrap().as_deref(),
                *want,
                "{config:?} + {contexts:?}"
            );
        }
    }

    #[test]
    fn a_config_that_is_no_mapping_is_named() {
        let cases: &[(&str, ConfigError)] = &[
            ("- a\n", ConfigError::NotMapping("")),
            ("kubernetes: 3\n", ConfigError::NotMapping("'s kubernetes")),
            (
                "kubernetes:\n  allowed_contexts: a\n",
                ConfigError::NotAList,
            ),
            (
                "kubernetes:\n  allowed_contexts: [{a: 1}]\n",
                ConfigError::NotAList,
            ),
        ];
        for (config, want) in cases {
            assert_eq!(
                merge(Some(config), &["x", "y"]),
                Err(want.clone()),
                "{config}"
            );
        }
        assert!(matches!(
            merge(Some("a: [\n"), &["x", "y"]),
            Err(ConfigError::NotYaml(_))
        ));
    }

    #[test]
    fn awkward_context_names_read_back_as_themselves() {
        let contexts = [
            "yes",
            "On",
            "123",
            "1:30",
            "#x",
            "- x",
            "[x]",
            "",
            "a \"q\" \\ b",
            "tab\there",
            "~",
            "null",
            "x #y",
            " lead",
            "end:",
            "é",
        ];
        let text = merge(None, &contexts).unwrap().expect("several contexts");
        let read: Value = serde_yaml_ng::from_str(&text).expect("the config parses");
        let read: Vec<&str> = read[KUBERNETES][ALLOWED_CONTEXTS]
            .as_sequence()
            .expect("list")
            .iter()
            .map(|v| v.as_str().expect("string"))
            .collect();
        assert_eq!(read, contexts);
    }
}
