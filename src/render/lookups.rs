//! Helm's `lookup` for templates: `lookup(api_version, kind, namespace, name)` gives the live
//! object as a mapping, or an empty mapping when there is none.
//!
//! Rendering never talks to the cluster. Instead a render records what its templates asked
//! for; the caller reads those objects and renders again with the answers (`Lookups::answer`).
//! `skyctl template` answers nothing, which is what `helm template` does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use minijinja::value::{Object, Serde, Value};
use minijinja::{Error, ErrorKind, State};

use crate::manifest::ObjectRef;

/// The name under which a render's lookups reach the `lookup` function (the renderer puts them
/// in the context as `__lookups`).
pub(super) const CONTEXT_KEY: &str = "__lookups";

/// The objects a render may look up, and what it asked for.
#[derive(Debug, Default)]
pub struct Lookups {
    answers: BTreeMap<ObjectRef, serde_json::Value>,
    asked: Mutex<Vec<ObjectRef>>,
}

impl Lookups {
    /// Lookups that find nothing, as `helm template` sees the cluster.
    pub fn none() -> Self {
        Self::default()
    }

    /// Lookups that find `objects` (the live ones among what an earlier render asked for).
    pub fn answer(objects: impl IntoIterator<Item = (ObjectRef, serde_json::Value)>) -> Self {
        Self {
            answers: objects.into_iter().collect(),
            asked: Mutex::default(),
        }
    }

    /// Every object the templates looked up, each once, in the order first asked.
    pub fn asked(&self) -> Vec<ObjectRef> {
        self.asked.lock().expect("no render panicked").clone()
    }

    fn find(&self, id: ObjectRef) -> Value {
        let found = self.answers.get(&id).cloned();
        let mut asked = self.asked.lock().expect("no render panicked");
        if !asked.contains(&id) {
            asked.push(id);
        }
        Value::from(Serde(found.unwrap_or_else(|| serde_json::json!({}))))
    }
}

/// A render's lookups, as the template context carries them.
#[derive(Debug)]
pub(super) struct Shared(pub Arc<Lookups>);

impl Object for Shared {}

/// The `lookup` template function. Helm's lists (an empty name) are not supported: the
/// charts skyctl embeds look up single objects only.
pub(super) fn lookup(
    state: &State,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<Value, Error> {
    if name.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "lookup of a list (empty name) is not supported",
        ));
    }
    let lookups = state
        .lookup(CONTEXT_KEY)
        .and_then(|value| value.downcast_object::<Shared>())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "lookup outside a render"))?;
    Ok(lookups.0.find(ObjectRef {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
        name: name.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::{Environment, context};
    use serde_json::json;

    fn render(lookups: &Arc<Lookups>, source: &str) -> String {
        let mut env = Environment::new();
        env.add_function("lookup", lookup);
        env.render_str(
            source,
            context! { __lookups => Value::from_object(Shared(lookups.clone())) },
        )
        .unwrap()
    }

    fn namespace(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: None,
            name: name.into(),
        }
    }

    #[test]
    fn a_missing_object_is_an_empty_mapping_and_is_recorded_once() {
        let lookups = Arc::new(Lookups::none());
        let source = r#"{% for _ in [1, 2] %}{% if not lookup("v1", "Namespace", "", "sys") %}none {% endif %}{% endfor %}"#;
        assert_eq!(render(&lookups, source), "none none ");
        assert_eq!(lookups.asked(), [namespace("sys")]);
    }

    #[test]
    fn a_found_object_is_the_live_object() {
        let lookups = Arc::new(Lookups::answer([(
            namespace("sys"),
            json!({"metadata": {"name": "sys"}}),
        )]));
        let source = r#"{{ lookup("v1", "Namespace", "", "sys").metadata.name }}"#;
        assert_eq!(render(&lookups, source), "sys");
    }
}
