//! Where a value came from: skyctl's defaults, a values file and line, a flag argument, or
//! skyctl itself, so that a rejected value can be traced to what the user typed.

use std::fmt;

use serde_json::Value;

use super::path::KeyPath;
use super::yaml_locator::line_of;

/// The `--set` family of flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `--set-json`.
    SetJson,
    /// `--set`.
    Set,
    /// `--set-string`.
    SetString,
    /// `--set-file`.
    SetFile,
}

/// The source of one value, as a user would name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// skyctl's embedded `values.yaml`.
    Defaults,
    /// A `-f/--values` file (`<stdin>` for `-`), with the line of the key when it was found.
    File {
        /// The file as the user named it.
        name: String,
        /// The 1-based line of the key.
        line: Option<usize>,
    },
    /// One argument of a `--set`-style flag, exactly as given.
    Flag {
        /// Which flag.
        flag: Flag,
        /// The argument.
        arg: String,
    },
    /// Values that skyctl added itself, named by what asked for them.
    Extra {
        /// The name given with the values.
        label: String,
    },
}

/// One layer of values as it was given, kept to answer where a path came from.
pub(crate) struct Layer {
    origin: Origin,
    text: Option<String>,
    tree: Value,
}

impl Layer {
    pub(crate) fn defaults(tree: Value) -> Self {
        Self {
            origin: Origin::Defaults,
            text: None,
            tree,
        }
    }

    /// A values file: `text` is kept to find the line of a key later.
    pub(crate) fn file(name: String, text: String, tree: Value) -> Self {
        Self {
            origin: Origin::File { name, line: None },
            text: Some(text),
            tree,
        }
    }

    pub(crate) fn flag(flag: Flag, arg: &str, tree: Value) -> Self {
        Self {
            origin: Origin::Flag {
                flag,
                arg: arg.to_owned(),
            },
            text: None,
            tree,
        }
    }

    pub(crate) fn extra(label: &str, tree: Value) -> Self {
        Self {
            origin: Origin::Extra {
                label: label.to_owned(),
            },
            text: None,
            tree,
        }
    }

    fn origin_at(&self, path: &KeyPath) -> Origin {
        match (&self.origin, &self.text) {
            (Origin::File { name, .. }, Some(text)) => Origin::File {
                name: name.clone(),
                line: line_of(text, path),
            },
            (origin, _) => origin.clone(),
        }
    }
}

/// The origin of the value at `path` in the merged tree `merged`: the last layer (in
/// precedence order, lowest first) that has a value there.
///
/// When the merged value is not null, layers holding a null there do not count: the
/// padding that `--set list[3]=x` puts before its item must not claim items that came from
/// a file. When the merged value is null, a layer holding that null is its origin.
pub(crate) fn origin_of(layers: &[Layer], path: &KeyPath, merged: &Value) -> Option<Origin> {
    let merged_is_null = path.lookup(merged).is_none_or(Value::is_null);
    layers
        .iter()
        .rev()
        .find(|layer| {
            path.lookup(&layer.tree)
                .is_some_and(|value| merged_is_null || !value.is_null())
        })
        .map(|layer| layer.origin_at(path))
}

pub(crate) use crate::redacted::names_a_secret;

/// A `--set`-style argument as messages show it: each `key=value` pair whose key names a
/// secret has its value replaced by `***`. The key is what the user needs to find the mistake.
pub fn shown_arg(arg: &str) -> String {
    arg.split(',')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if names_a_secret(key) => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SetJson => "--set-json",
            Self::Set => "--set",
            Self::SetString => "--set-string",
            Self::SetFile => "--set-file",
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Defaults => f.write_str("skyctl's defaults"),
            Self::File { name, line: None } => f.write_str(name),
            Self::File {
                name,
                line: Some(line),
            } => write!(f, "{name}:{line}"),
            Self::Flag { flag, arg } => write!(f, "{flag} {}", shown_arg(arg)),
            Self::Extra { label } => f.write_str(label),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_of_secret_keys_are_never_shown() {
        // Table: the argument as typed, as messages show it.
        let cases = [
            (
                "ingress.authCredentials=u:$apr1$x$hash",
                "ingress.authCredentials=***",
            ),
            ("a.password=p,b=2", "a.password=***,b=2"),
            ("apiService.image=sky:1", "apiService.image=sky:1"),
            (
                "ingress.authCredential=u:hash,bad",
                "ingress.authCredential=***,bad",
            ),
            ("noequals", "noequals"),
            (
                "apiService.dbConnectionString=postgresql://u:pw@db/sky",
                "apiService.dbConnectionString=***",
            ),
            (
                "auth.oauth.redis-url=redis://:pw@redis:6379",
                "auth.oauth.redis-url=***",
            ),
        ];
        for (arg, shown) in cases {
            assert_eq!(shown_arg(arg), shown, "{arg}");
        }
    }

    fn layers() -> Vec<Layer> {
        vec![
            Layer::defaults(
                json!({"ingress": {"httpNodePort": 30050, "path": "/"}, "list": ["d0", "d1"]}),
            ),
            Layer::file(
                "a.yaml".to_owned(),
                "ingress:\n  path: /a\nlist:\n  - f0\n  - f1\n  - f2\n".to_owned(),
                json!({"ingress": {"path": "/a"}, "list": ["f0", "f1", "f2"]}),
            ),
            Layer::file(
                "b.yaml".to_owned(),
                "{ingress: {extra: 1}}".to_owned(),
                json!({"ingress": {"extra": 1}}),
            ),
            Layer::flag(Flag::Set, "list[2]=x", json!({"list": [null, null, "x"]})),
            Layer::flag(Flag::SetJson, "pad[1]=1", json!({"pad": [null, 1]})),
            Layer::extra("--auth", json!({"ingress": {"authCredentials": "u:p"}})),
            Layer::flag(
                Flag::SetString,
                "ingress.path=/z",
                json!({"ingress": {"path": "/z"}}),
            ),
        ]
    }

    #[test]
    fn names_the_last_layer_with_the_path() {
        let root = KeyPath::root();
        let cases = [
            (
                root.key("ingress").key("httpNodePort"),
                Some("skyctl's defaults"),
            ),
            (
                root.key("ingress").key("path"),
                Some("--set-string ingress.path=/z"),
            ),
            (root.key("ingress").key("extra"), Some("b.yaml")),
            (root.key("ingress").key("authCredentials"), Some("--auth")),
            (root.key("ingress"), Some("--set-string ingress.path=/z")),
            (root.key("list"), Some("--set list[2]=x")),
            (root.key("list").index(0), Some("a.yaml:4")),
            (root.key("list").index(1), Some("a.yaml:5")),
            (root.key("list").index(2), Some("--set list[2]=x")),
            (root.key("pad").index(0), Some("--set-json pad[1]=1")),
            (root.key("nowhere"), None),
        ];
        let layers = layers();
        let merged = json!({
            "ingress": {"httpNodePort": 30050, "path": "/z", "extra": 1, "authCredentials": "u:p"},
            "list": ["f0", "f1", "x"],
            "pad": [null, 1],
        });
        for (path, expected) in cases {
            let origin = origin_of(&layers, &path, &merged).map(|o| o.to_string());
            assert_eq!(origin.as_deref(), expected, "{path}");
        }
    }

    #[test]
    fn a_merged_null_comes_from_a_layer_holding_null() {
        // `--set rules[1].x=1` replaces the default list, so item 0 of the result is the
        // flag's padding, not the default item.
        let layers = [
            Layer::defaults(json!({"rules": [{"a": 1}]})),
            Layer::flag(
                Flag::Set,
                "rules[1].x=1",
                json!({"rules": [null, {"x": 1}]}),
            ),
        ];
        let merged = json!({"rules": [null, {"x": 1}]});
        let item = KeyPath::root().key("rules").index(0);
        let origin = origin_of(&layers, &item, &merged).map(|o| o.to_string());
        assert_eq!(origin.as_deref(), Some("--set rules[1].x=1"));
    }

    #[test]
    fn file_without_a_found_line_is_named_alone() {
        let layers = [Layer::file(
            "c.yaml".to_owned(),
            "a: {b: 1}\n".to_owned(),
            json!({"a": {"b": 1}}),
        )];
        let b = KeyPath::root().key("a").key("b");
        let merged = json!({"a": {"b": 1}});
        assert_eq!(
            origin_of(&layers, &b, &merged),
            Some(Origin::File {
                name: "c.yaml".to_owned(),
                line: Some(1)
            })
        );
        let odd = [Layer::file(
            "d.yaml".to_owned(),
            "{\"a\":\n  {\"b\": 1}}\n".to_owned(),
            json!({"a": {"b": 1}}),
        )];
        assert_eq!(
            origin_of(&odd, &b, &merged)
                .map(|o| o.to_string())
                .as_deref(),
            Some("d.yaml")
        );
    }
}
