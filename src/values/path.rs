//! A location inside a values tree, written the way `--set` spells it.

use std::fmt;

use serde_json::Value;

/// One step from a node to its child.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A list position.
    Index(usize),
}

/// A path from the top of a values tree, such as `ingress.httpNodePort` or `rbac.rules[0].verbs`.
///
/// It displays in `--set` syntax, so a user can paste it back into a flag: characters that
/// `--set` treats as syntax (`.`, `[`, `=`, `,` and `\`) are backslash-escaped inside keys,
/// e.g. `storage.annotations.example\.com/owner`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The top of the tree.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path extended by a map key.
    pub fn key(&self, key: &str) -> Self {
        self.with(Segment::Key(key.to_owned()))
    }

    /// This path extended by a list position.
    pub fn index(&self, index: usize) -> Self {
        self.with(Segment::Index(index))
    }

    fn with(&self, segment: Segment) -> Self {
        let mut segments = self.0.clone();
        segments.push(segment);
        Self(segments)
    }

    /// The steps of this path, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The value at this path in `tree`, if every step exists.
    pub fn lookup<'v>(&self, tree: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(tree, |node, segment| match segment {
            Segment::Key(key) => node.as_object()?.get(key),
            Segment::Index(index) => node.as_array()?.get(*index),
        })
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<top level>");
        }
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    if position > 0 {
                        f.write_str(".")?;
                    }
                    for c in key.chars() {
                        if matches!(c, '.' | '[' | '=' | ',' | '\\') {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn displays_in_set_syntax() {
        let cases = [
            (KeyPath::root(), "<top level>"),
            (KeyPath::root().key("a"), "a"),
            (KeyPath::root().key("a").key("b"), "a.b"),
            (KeyPath::root().key("a").index(0).key("b"), "a[0].b"),
            (KeyPath::root().key("a").index(1).index(2), "a[1][2]"),
            (
                KeyPath::root().key("ingress-nginx").key("controller"),
                "ingress-nginx.controller",
            ),
            (
                KeyPath::root().key("annotations").key("example.com/x"),
                "annotations.example\\.com/x",
            ),
            (KeyPath::root().key("k=v,w[0]\\"), "k\\=v\\,w\\[0]\\\\"),
            (KeyPath::root().key(""), ""),
        ];
        for (path, expected) in cases {
            assert_eq!(path.to_string(), expected, "{path:?}");
        }
    }

    #[test]
    fn looks_up_values() {
        let tree = json!({"a": {"b": [1, {"c": null}]}, "d": "x"});
        let root = KeyPath::root();
        assert_eq!(root.lookup(&tree), Some(&tree));
        assert_eq!(root.key("d").lookup(&tree), Some(&json!("x")));
        assert_eq!(
            root.key("a").key("b").index(0).lookup(&tree),
            Some(&json!(1))
        );
        let c = root.key("a").key("b").index(1).key("c");
        assert_eq!(c.lookup(&tree), Some(&Value::Null));
        assert_eq!(root.key("a").key("b").index(2).lookup(&tree), None);
        assert_eq!(root.key("d").key("e").lookup(&tree), None);
        assert_eq!(root.key("a").index(0).lookup(&tree), None);
    }
}
