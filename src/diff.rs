//! `--diff`: what applying would change in an object, as a unified diff of YAML. Fields that
//! only the apiserver writes are left out, so the diff shows the user's changes alone.

use serde_json::Value;
use similar::TextDiff;

/// Server-written metadata that differs on every write and means nothing to a reader.
const VOLATILE_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
];

fn comparable(object: Option<&Value>) -> String {
    let Some(object) = object else {
        return String::new();
    };
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in VOLATILE_METADATA {
                metadata.remove(*key);
            }
        }
    }
    serde_yaml_ng::to_string(&object).expect("JSON values serialize as YAML")
}

/// A unified diff between the live object (`None`: it does not exist) and the object as the
/// apiserver would store it after the apply. `None` when nothing would change.
pub fn unified(title: &str, live: Option<&Value>, planned: &Value) -> Option<String> {
    let before = comparable(live);
    let after = comparable(Some(planned));
    if before == after {
        return None;
    }
    let (old, new) = (format!("live/{title}"), format!("planned/{title}"));
    Some(
        TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&old, &new)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_changed_field_shows_as_a_removed_and_an_added_line() {
        let live = json!({"kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "7"}, "data": {"k": "old"}});
        let planned = json!({"kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "8"}, "data": {"k": "new"}});
        let diff = unified("ConfigMap sky/c", Some(&live), &planned).unwrap();
        assert!(
            diff.starts_with("--- live/ConfigMap sky/c\n+++ planned/ConfigMap sky/c\n"),
            "{diff}"
        );
        assert!(diff.contains("-  k: old\n+  k: new\n"), "{diff}");
        assert!(!diff.contains("resourceVersion"), "{diff}");
    }

    #[test]
    fn server_written_fields_alone_are_no_change() {
        let live = json!({"metadata": {"name": "c", "generation": 1}, "status": {"x": 1}});
        let planned = json!({"metadata": {"name": "c", "generation": 2}});
        assert_eq!(unified("c", Some(&live), &planned), None);
    }

    #[test]
    fn a_new_object_is_all_added_lines() {
        let diff = unified("c", None, &json!({"kind": "ConfigMap"})).unwrap();
        assert!(diff.contains("+kind: ConfigMap"), "{diff}");
    }
}
