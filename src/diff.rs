//! `--diff`: what applying would change in an object, as a unified diff of YAML. Fields that
//! only the apiserver writes are left out, so the diff shows the user's changes alone, and a
//! Secret's values are masked as `kubectl diff` masks them. So are container environment
//! values whose names say they are secrets: chart 0.13.0 writes the OAuth client secret and
//! the cookie secret of oauth2-proxy as plain `env` values.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use similar::TextDiff;

use crate::redacted::{MASK, mask_url_passwords};

/// Server-written metadata that differs on every write and means nothing to a reader.
const VOLATILE_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
];

/// kubectl stores the whole object here on `kubectl apply`, Secret data included.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The object without the fields a reader should not compare.
fn comparable(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in VOLATILE_METADATA {
                metadata.remove(*key);
            }
        }
    }
    object
}

fn yaml(object: Option<&Value>) -> String {
    object.map_or_else(String::new, |object| {
        serde_yaml_ng::to_string(object).expect("JSON values serialize as YAML")
    })
}

/// A unified diff between the live object (`None`: it does not exist) and the object as the
/// apiserver would store it after the apply. `None` when nothing would change.
pub fn unified(title: &str, live: Option<&Value>, planned: &Value) -> Option<String> {
    let mut live = live.map(comparable);
    let mut planned = comparable(planned);
    if is_secret(&planned) || live.as_ref().is_some_and(is_secret) {
        mask_secret(live.as_mut(), &mut planned);
    }
    mask_secret_env(live.as_mut(), &mut planned);
    // A password inside a URL (a Redis or database address in an argument) is masked too.
    let before = mask_url_passwords(&yaml(live.as_ref()));
    let after = mask_url_passwords(&yaml(Some(&planned)));
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

/// A core/v1 Secret; other kinds named Secret (in other API groups) are left alone, as kubectl
/// leaves them.
fn is_secret(object: &Value) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && object.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Replaces every value under `data` and `stringData`, and the last-applied annotation, by
/// `***`. As in `kubectl diff`, a value present on both sides that changed becomes
/// `*** (before)` and `*** (after)`, so the diff still says which keys change.
fn mask_secret(mut live: Option<&mut Value>, planned: &mut Value) {
    for field in ["data", "stringData"] {
        let before = live.as_deref_mut().and_then(|o| o.get_mut(field));
        mask_field(before, planned.get_mut(field));
    }
    mask_value(live.and_then(last_applied), last_applied(planned));
}

/// Every `value` of an `env` entry whose name says it is a secret, at any depth, by the
/// entry's JSON path, so that a value on one side meets its counterpart on the other.
fn secret_env_values<'a>(
    value: &'a mut Value,
    path: String,
    found: &mut Vec<(String, &'a mut Value)>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "env"
                    && let Value::Array(entries) = child
                {
                    for entry in entries.iter_mut() {
                        let Some(entry) = entry.as_object_mut() else {
                            continue;
                        };
                        let name = entry.get("name").and_then(Value::as_str).map(str::to_owned);
                        if let (Some(name), Some(value)) = (name, entry.get_mut("value"))
                            && crate::redacted::names_a_secret(&name)
                        {
                            found.push((format!("{path}/env/{name}"), value));
                        }
                    }
                    continue;
                }
                secret_env_values(child, format!("{path}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                // Containers are matched by name, so a reordered list still pairs them up.
                let label = item
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| index.to_string(), str::to_owned);
                secret_env_values(item, format!("{path}/{label}"), found);
            }
        }
        _ => {}
    }
}

/// Masks secret-looking environment values on both sides, saying which changed.
fn mask_secret_env(live: Option<&mut Value>, planned: &mut Value) {
    let mut before = Vec::new();
    if let Some(live) = live {
        secret_env_values(live, String::new(), &mut before);
    }
    let mut after = Vec::new();
    secret_env_values(planned, String::new(), &mut after);
    let mut before: std::collections::BTreeMap<String, &mut Value> = before.into_iter().collect();
    for (path, value) in after {
        mask_value(before.remove(&path), Some(value));
    }
    for value in before.into_values() {
        mask_value(Some(value), None);
    }
}

fn last_applied(object: &mut Value) -> Option<&mut Value> {
    object
        .get_mut("metadata")?
        .get_mut("annotations")?
        .get_mut(LAST_APPLIED)
}

/// `data` or `stringData` on each side: key by key when both are maps (or absent), whole
/// otherwise, so that no shape of input gets through unmasked.
fn mask_field(before: Option<&mut Value>, after: Option<&mut Value>) {
    let map_or_absent = |v: &Option<&mut Value>| v.as_deref().is_none_or(Value::is_object);
    if !(map_or_absent(&before) && map_or_absent(&after)) {
        mask_value(before, after);
        return;
    }
    let mut empty = (Map::new(), Map::new());
    let before = before
        .and_then(Value::as_object_mut)
        .unwrap_or(&mut empty.0);
    let after = after.and_then(Value::as_object_mut).unwrap_or(&mut empty.1);
    let keys: BTreeSet<String> = before.keys().chain(after.keys()).cloned().collect();
    for key in keys {
        mask_value(before.get_mut(&key), after.get_mut(&key));
    }
}

/// One value on each side (`None`: absent there).
fn mask_value(before: Option<&mut Value>, after: Option<&mut Value>) {
    match (before, after) {
        (Some(before), Some(after)) if before != after => {
            *before = Value::from(format!("{MASK} (before)"));
            *after = Value::from(format!("{MASK} (after)"));
        }
        (before, after) => {
            for value in [before, after].into_iter().flatten() {
                *value = Value::from(MASK);
            }
        }
    }
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
    fn secret_looking_environment_values_are_masked_in_any_pod_template() {
        let deployment = |cookie: &str, client: &str, image: &str| {
            json!({"kind": "Deployment", "metadata": {"name": "proxy"}, "spec": {"template": {
            "spec": {"containers": [{"name": "oauth2-proxy", "image": image, "env": [
                {"name": "OAUTH2_PROXY_COOKIE_SECRET", "value": cookie},
                {"name": "OAUTH2_PROXY_CLIENT_SECRET", "value": client},
                {"name": "OAUTH2_PROXY_EMAIL_DOMAINS", "value": "client-id-shown"},
            ]}]}}}})
        };
        let live = deployment("old-cookie", "same-client", "proxy:1");
        let planned = deployment("new-cookie", "same-client", "proxy:2");
        let diff = unified("Deployment sky/proxy", Some(&live), &planned).unwrap();
        for secret in ["old-cookie", "new-cookie", "same-client"] {
            assert!(
                !diff.contains(secret),
                "{secret} shown:
{diff}"
            );
        }
        assert!(
            diff.contains("'*** (before)'") && diff.contains("'*** (after)'"),
            "{diff}"
        );
        assert!(diff.contains("client-id-shown"), "{diff}");
        // A new object has no counterpart: its secrets are masked all the same.
        let created = unified("Deployment sky/proxy", None, &planned).unwrap();
        assert!(!created.contains("new-cookie") && !created.contains("same-client"));
    }

    #[test]
    fn server_written_fields_alone_are_no_change() {
        let live = json!({"metadata": {"name": "c", "generation": 1}, "status": {"x": 1}});
        let planned = json!({"metadata": {"name": "c", "generation": 2}});
        assert_eq!(unified("c", Some(&live), &planned), None);
    }

    /// Secret values in the cases below, raw; their base64 forms are checked too.
    const SECRETS: &[&str] = &[
        "same-secret",
        "old-secret",
        "new-secret",
        "gone-secret",
        "added-secret",
    ];

    fn b64(text: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn secret(data: Value, string_data: Value, last_applied: Option<&str>) -> Value {
        let mut secret = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "sky", "labels": {"rev": "1"}},
            "type": "Opaque",
        });
        if !data.is_null() {
            secret["data"] = data;
        }
        if !string_data.is_null() {
            secret["stringData"] = string_data;
        }
        if let Some(text) = last_applied {
            secret["metadata"]["annotations"] = json!({ LAST_APPLIED: text });
        }
        secret
    }

    #[test]
    fn secret_values_are_masked_as_kubectl_diff_masks_them() {
        let applied = |value: &str| format!(r#"{{"data":{{"k":"{}"}}}}"#, b64(value));
        let (old_applied, new_applied) = (applied("old-secret"), applied("new-secret"));
        // (case, live, planned, lines the diff must hold)
        let cases: Vec<(&str, Option<Value>, Value, Vec<&str>)> = vec![
            (
                "changed key",
                Some(secret(json!({"k": b64("old-secret")}), Value::Null, None)),
                secret(json!({"k": b64("new-secret")}), Value::Null, None),
                vec!["-  k: '*** (before)'\n+  k: '*** (after)'\n"],
            ),
            (
                "added key",
                Some(secret(json!({"a": b64("same-secret")}), Value::Null, None)),
                secret(
                    json!({"a": b64("same-secret"), "k": b64("added-secret")}),
                    Value::Null,
                    None,
                ),
                vec!["   a: '***'\n+  k: '***'\n"],
            ),
            (
                "removed key",
                Some(secret(
                    json!({"a": b64("same-secret"), "k": b64("gone-secret")}),
                    Value::Null,
                    None,
                )),
                secret(json!({"a": b64("same-secret")}), Value::Null, None),
                vec!["   a: '***'\n-  k: '***'\n"],
            ),
            (
                "unchanged key beside another change",
                Some(secret(json!({"k": b64("same-secret")}), Value::Null, None)),
                {
                    let mut planned = secret(json!({"k": b64("same-secret")}), Value::Null, None);
                    planned["immutable"] = json!(true);
                    planned
                },
                vec!["   k: '***'\n+immutable: true\n"],
            ),
            (
                "stringData",
                Some(secret(
                    Value::Null,
                    json!({"k": "old-secret", "same": "same-secret"}),
                    None,
                )),
                secret(
                    Value::Null,
                    json!({"k": "new-secret", "same": "same-secret"}),
                    None,
                ),
                vec!["-  k: '*** (before)'\n+  k: '*** (after)'\n   same: '***'\n"],
            ),
            (
                "the last-applied annotation",
                Some(secret(
                    json!({"k": b64("old-secret")}),
                    Value::Null,
                    Some(&old_applied),
                )),
                secret(
                    json!({"k": b64("new-secret")}),
                    Value::Null,
                    Some(&new_applied),
                ),
                vec![
                    "-    kubectl.kubernetes.io/last-applied-configuration: '*** (before)'\n",
                    "+    kubectl.kubernetes.io/last-applied-configuration: '*** (after)'\n",
                ],
            ),
            (
                "a new Secret",
                None,
                secret(
                    json!({"k": b64("added-secret")}),
                    json!({"s": "added-secret"}),
                    Some(&new_applied),
                ),
                vec![
                    "+  k: '***'\n",
                    "+  s: '***'\n",
                    "last-applied-configuration: '***'\n",
                ],
            ),
            (
                "data that is not a map",
                Some(secret(json!(b64("old-secret")), Value::Null, None)),
                secret(json!({"k": b64("new-secret")}), Value::Null, None),
                vec!["-data: '*** (before)'\n+data: '*** (after)'\n"],
            ),
        ];
        for (case, live, planned, lines) in cases {
            let diff = unified("Secret sky/s", live.as_ref(), &planned)
                .unwrap_or_else(|| panic!("{case}: no diff"));
            for line in lines {
                assert!(diff.contains(line), "{case}: {line:?} missing from\n{diff}");
            }
            for secret in SECRETS {
                assert!(!diff.contains(secret), "{case}: {secret} shows in\n{diff}");
                assert!(
                    !diff.contains(&b64(secret)),
                    "{case}: base64 of {secret} shows in\n{diff}"
                );
            }
        }
    }

    #[test]
    fn a_secret_whose_values_are_unchanged_is_no_change() {
        let live = secret(json!({"k": b64("same-secret")}), Value::Null, None);
        assert_eq!(unified("Secret sky/s", Some(&live), &live.clone()), None);
    }

    #[test]
    fn only_core_secrets_are_masked() {
        let object = |value: &str| json!({"apiVersion": "example.com/v1", "kind": "Secret", "data": {"k": value}});
        let diff = unified("Secret.example.com sky/s", Some(&object("a")), &object("b")).unwrap();
        assert!(diff.contains("-  k: a\n+  k: b\n"), "{diff}");
    }

    #[test]
    fn a_new_object_is_all_added_lines() {
        let diff = unified("c", None, &json!({"kind": "ConfigMap"})).unwrap();
        assert!(diff.contains("+kind: ConfigMap"), "{diff}");
    }
}
