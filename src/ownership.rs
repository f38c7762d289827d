//! Who owns what on the cluster, decided from what the cluster says. Pure.
//!
//! Objects: a release owns an object whose `skyctl.io/release-*` annotations name it (and,
//! where a revision recorded one, whose UID is the one it applied). Releases never take each
//! other's objects, and an object that no skyctl release owns (made by hand, or by Helm) is
//! taken over only when the user says so (`--take-ownership`, as in Helm); until then it is
//! never written and never deleted.
//!
//! Fields: another client that writes a field skyctl applied, as `kubectl scale` or
//! `kubectl set image` do, takes its ownership; the apiserver records that in
//! `metadata.managedFields`. An object whose hash is unchanged but whose fields were taken is
//! drift: it is applied again, so that the change is undone or reported as a conflict.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
use serde_json::Value;

use crate::plan;
use crate::release::Release;

/// Helm's annotations naming the release an object belongs to.
const HELM_RELEASE_NAME: &str = "meta.helm.sh/release-name";
const HELM_RELEASE_NAMESPACE: &str = "meta.helm.sh/release-namespace";
/// Helm's annotation for objects an uninstall or upgrade must leave in place; charts put it
/// on what outlives the release (chart 0.13.0's `skypilot-system` Namespace).
const RESOURCE_POLICY: &str = "helm.sh/resource-policy";

/// Whose an object on the cluster is, by its release annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The release asking.
    This,
    /// Another skyctl release: never taken over, never deleted.
    Other { name: String, namespace: String },
    /// A Helm release (Helm's `meta.helm.sh/release-*` annotations).
    Helm { name: String, namespace: String },
    /// No release annotations: made by hand or by another tool.
    Unmarked,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::This => f.write_str("this release"),
            Owner::Other { name, namespace } => {
                write!(f, "release {name} in namespace {namespace}")
            }
            Owner::Helm { name, namespace } => {
                write!(f, "Helm release {name} in namespace {namespace}")
            }
            Owner::Unmarked => f.write_str("no release (made by hand or by another tool)"),
        }
    }
}

/// Whose a live object is, as far as `release` is concerned.
pub fn owner(live: &ObjectMeta, release: &Release) -> Owner {
    let annotation = |key| live.annotations.as_ref().and_then(|a| a.get(key));
    match (
        annotation(plan::RELEASE_NAME),
        annotation(plan::RELEASE_NAMESPACE),
    ) {
        (Some(name), Some(namespace))
            if *name == release.name && *namespace == release.namespace =>
        {
            Owner::This
        }
        (Some(name), Some(namespace)) => Owner::Other {
            name: name.clone(),
            namespace: namespace.clone(),
        },
        _ => match (
            annotation(HELM_RELEASE_NAME),
            annotation(HELM_RELEASE_NAMESPACE),
        ) {
            (Some(name), Some(namespace)) => Owner::Helm {
                name: name.clone(),
                namespace: namespace.clone(),
            },
            _ => Owner::Unmarked,
        },
    }
}

/// Why an object a release once listed must stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    /// Someone else's now: another release, or nobody's (a hand-made object reusing the name).
    NotOurs(Owner),
    /// Annotated as ours, but not the object the release applied: deleted and made again since.
    Replaced { recorded: String, live: String },
    /// Ours, but the chart says it outlives the release (`helm.sh/resource-policy: keep`).
    Policy,
}

impl std::fmt::Display for Keep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Keep::NotOurs(owner) => write!(f, "it belongs to {owner} now"),
            Keep::Replaced { .. } => {
                f.write_str("it was deleted and made again since this release applied it")
            }
            Keep::Policy => write!(f, "it carries {RESOURCE_POLICY}: keep"),
        }
    }
}

/// Whether a rendered object carries the chart's keep policy.
pub fn marked_keep(object: &Value) -> bool {
    object["metadata"]["annotations"][RESOURCE_POLICY] == "keep"
}

/// Whether `release` may delete the live object: only its own, only the very object it
/// applied when a UID was recorded for it, and never one the chart marked to keep.
pub fn may_delete(
    live: &ObjectMeta,
    release: &Release,
    recorded_uid: Option<&str>,
) -> Result<(), Keep> {
    match owner(live, release) {
        Owner::This => {}
        other => return Err(Keep::NotOurs(other)),
    }
    match (recorded_uid, live.uid.as_deref()) {
        (Some(recorded), Some(uid)) if recorded != uid => Err(Keep::Replaced {
            recorded: recorded.to_owned(),
            live: uid.to_owned(),
        }),
        _ if live
            .annotations
            .as_ref()
            .and_then(|a| a.get(RESOURCE_POLICY))
            .is_some_and(|policy| policy == "keep") =>
        {
            Err(Keep::Policy)
        }
        _ => Ok(()),
    }
}

/// What applying an object would do, judged from the live object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Create,
    Update,
    Unchanged,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Change::Create => "created",
            Change::Update => "configured",
            Change::Unchanged => "unchanged",
        })
    }
}

/// Unchanged means the hash of what skyctl applied last matches and skyctl still owns every
/// field it set, at any depth.
pub fn change(desired: &Value, live: Option<&ObjectMeta>, manager: &str) -> Change {
    let Some(live) = live else {
        return Change::Create;
    };
    let same_hash = plan::applied_hash(desired).is_some_and(|hash| {
        live.annotations
            .as_ref()
            .and_then(|a| a.get(plan::APPLIED_HASH))
            .is_some_and(|live| live == hash)
    });
    let owned = owns_all(
        live.managed_fields.as_deref().unwrap_or_default(),
        manager,
        desired,
    );
    if same_hash && owned {
        Change::Unchanged
    } else {
        Change::Update
    }
}

/// Identity fields the apiserver does not track in managedFields.
const UNTRACKED: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata", "name"],
    &["metadata", "namespace"],
];

/// True when `manager`'s apply entry covers every field of `desired`, list items included.
pub fn owns_all(managed_fields: &[ManagedFieldsEntry], manager: &str, desired: &Value) -> bool {
    let entry = managed_fields.iter().find(|entry| {
        entry.manager.as_deref() == Some(manager)
            && entry.operation.as_deref() == Some("Apply")
            && entry.subresource.as_deref().unwrap_or("").is_empty()
    });
    match entry.and_then(|entry| entry.fields_v1.as_ref()) {
        Some(fields) => covers(&fields.0, desired, &mut Vec::new()),
        None => false,
    }
}

fn covers<'a>(owned: &Value, desired: &'a Value, path: &mut Vec<&'a str>) -> bool {
    // An owned field with nothing listed below it is owned whole: a leaf, or an atomic map or
    // list (a label selector, a command line), which the apiserver tracks as one field.
    let owned_whole = owned.as_object().is_none_or(|fields| fields.is_empty());
    if owned_whole {
        return true;
    }
    if let Some(items) = desired.as_array() {
        return items.iter().all(|item| {
            item_entry(owned, item).is_some_and(|entry| covers(entry, item, &mut Vec::new()))
        });
    }
    let Some(desired) = desired.as_object() else {
        return true;
    };
    desired.iter().all(|(key, value)| {
        path.push(key);
        let covered = UNTRACKED.contains(&path.as_slice())
            || value.is_null()
            || owned
                .get(format!("f:{key}"))
                .is_some_and(|owned| covers(owned, value, path));
        path.pop();
        covered
    })
}

/// The managedFields entry of one list item: `k:{"name":"api"}` for lists keyed by fields
/// (containers, env, ports), `v:"value"` for sets of scalars.
///
/// A key field the apiserver filled in by defaulting (a port's `protocol: TCP`) is absent
/// from what skyctl renders; such a field does not tell items apart, so it matches.
fn item_entry<'o>(owned: &'o Value, item: &Value) -> Option<&'o Value> {
    owned.as_object()?.iter().find_map(|(key, entry)| {
        let matches = if let Some(keys) = key.strip_prefix("k:") {
            let keys: BTreeMap<String, Value> = serde_json::from_str(keys).ok()?;
            item.is_object()
                && keys
                    .iter()
                    .all(|(field, value)| item.get(field).is_none_or(|mine| same_key(mine, value)))
        } else if let Some(value) = key.strip_prefix("v:") {
            serde_json::from_str::<Value>(value).ok().as_ref() == Some(item)
        } else {
            false
        };
        matches.then_some(entry)
    })
}

/// Key values compare as the apiserver wrote them: a port number rendered as a string still
/// names the same item.
fn same_key(mine: &Value, theirs: &Value) -> bool {
    mine == theirs
        || mine
            .as_str()
            .is_some_and(|text| Some(text) == theirs.as_i64().map(|n| n.to_string()).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::FieldsV1;
    use serde_json::json;

    fn entry(manager: &str, operation: &str, fields: Value) -> ManagedFieldsEntry {
        ManagedFieldsEntry {
            manager: Some(manager.into()),
            operation: Some(operation.into()),
            fields_v1: Some(FieldsV1(fields)),
            ..Default::default()
        }
    }

    fn desired() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "sky", "labels": {"app": "api"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "api"}]}}}
        })
    }

    fn skyctl_fields() -> Value {
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"api\"}": {}}}}}
        })
    }

    #[test]
    fn fields_applied_and_still_owned_are_covered() {
        let fields = [entry("skyctl", "Apply", skyctl_fields())];
        assert!(owns_all(&fields, "skyctl", &desired()));
    }

    #[test]
    fn an_atomic_map_is_covered_by_owning_it_whole() {
        let mut desired = desired();
        desired["spec"]["selector"] = json!({"matchLabels": {"app": "api"}});
        let mut fields = skyctl_fields();
        fields["f:spec"]["f:selector"] = json!({});
        assert!(owns_all(
            &[entry("skyctl", "Apply", fields)],
            "skyctl",
            &desired
        ));
    }

    #[test]
    fn a_field_taken_by_another_manager_is_not_covered() {
        let mut mine = skyctl_fields();
        mine["f:spec"].as_object_mut().unwrap().remove("f:replicas");
        let fields = [
            entry("skyctl", "Apply", mine),
            entry("kubectl", "Update", json!({"f:spec": {"f:replicas": {}}})),
        ];
        assert!(!owns_all(&fields, "skyctl", &desired()));
    }

    #[test]
    fn without_an_apply_entry_of_its_own_skyctl_owns_nothing() {
        let fields = [entry("skyctl", "Update", skyctl_fields())];
        assert!(!owns_all(&fields, "skyctl", &desired()));
        assert!(!owns_all(&[], "skyctl", &desired()));
    }

    fn container_fields(image: bool) -> Value {
        let mut container = json!({".": {}, "f:name": {}});
        if image {
            container["f:image"] = json!({});
        }
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"api\"}": container}}}}})
    }

    fn with_image() -> Value {
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "api", "image": "sky:1", "ports": [{"containerPort": 46580}]}]}}}})
    }

    #[test]
    fn fields_inside_list_items_are_covered_item_by_item() {
        // Table: what skyctl's entry lists for the container, and whether it still owns it all.
        let ports = json!({"k:{\"containerPort\":46580,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}});
        let cases = [
            ("image and ports owned", true, Some(ports.clone()), true),
            (
                "image taken by `kubectl set image`",
                false,
                Some(ports.clone()),
                false,
            ),
            ("port item missing", true, Some(json!({})), true),
            (
                "port list owned by another key",
                true,
                Some(json!({"k:{\"containerPort\":80}": {}})),
                false,
            ),
        ];
        for (name, image, ports, expected) in cases {
            let mut fields = container_fields(image);
            if let Some(ports) = ports {
                fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"api\"}"]
                    ["f:ports"] = ports;
            }
            assert_eq!(
                owns_all(&[entry("skyctl", "Apply", fields)], "skyctl", &with_image()),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn an_item_skyctl_renders_but_does_not_own_is_drift() {
        let mut desired = with_image();
        desired["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar"}));
        let mut fields = container_fields(true);
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"api\"}"]["f:ports"] =
            json!({});
        assert!(!owns_all(
            &[entry("skyctl", "Apply", fields)],
            "skyctl",
            &desired
        ));
    }

    #[test]
    fn set_items_are_found_by_value() {
        let desired = json!({"metadata": {"finalizers": ["a", "b"]}});
        let owned = |values: &[&str]| {
            let items: serde_json::Map<String, Value> = values
                .iter()
                .map(|v| (format!("v:{}", json!(v)), json!({})))
                .collect();
            [entry(
                "skyctl",
                "Apply",
                json!({"f:metadata": {"f:finalizers": items}}),
            )]
        };
        assert!(owns_all(&owned(&["a", "b"]), "skyctl", &desired));
        assert!(!owns_all(&owned(&["a"]), "skyctl", &desired));
    }

    fn meta(annotations: Value, uid: &str) -> ObjectMeta {
        serde_json::from_value(json!({"name": "nginx", "uid": uid, "annotations": annotations}))
            .unwrap()
    }

    fn release(name: &str, namespace: &str) -> Release {
        Release::new(name, namespace)
    }

    #[test]
    fn only_the_release_named_on_the_object_may_delete_it() {
        let b = json!({plan::RELEASE_NAME: "b", plan::RELEASE_NAMESPACE: "team-b"});
        let a = release("a", "team-a");
        // Table: annotations and UID on the live object, the UID A recorded, the verdict.
        let cases = [
            (
                "another release's",
                b.clone(),
                "u1",
                None,
                Err(Keep::NotOurs(Owner::Other {
                    name: "b".into(),
                    namespace: "team-b".into(),
                })),
            ),
            (
                "hand-made, same name",
                json!({}),
                "u1",
                None,
                Err(Keep::NotOurs(Owner::Unmarked)),
            ),
            (
                "helm's",
                json!({"meta.helm.sh/release-name": "a"}),
                "u1",
                None,
                Err(Keep::NotOurs(Owner::Unmarked)),
            ),
            (
                "ours, same uid",
                json!({plan::RELEASE_NAME: "a", plan::RELEASE_NAMESPACE: "team-a"}),
                "u1",
                Some("u1"),
                Ok(()),
            ),
            (
                "ours, no uid recorded",
                json!({plan::RELEASE_NAME: "a", plan::RELEASE_NAMESPACE: "team-a"}),
                "u1",
                None,
                Ok(()),
            ),
            (
                "ours in name only: made again",
                json!({plan::RELEASE_NAME: "a", plan::RELEASE_NAMESPACE: "team-a"}),
                "u2",
                Some("u1"),
                Err(Keep::Replaced {
                    recorded: "u1".into(),
                    live: "u2".into(),
                }),
            ),
            (
                "ours, marked to outlive the release",
                json!({plan::RELEASE_NAME: "a", plan::RELEASE_NAMESPACE: "team-a",
                       "helm.sh/resource-policy": "keep"}),
                "u1",
                Some("u1"),
                Err(Keep::Policy),
            ),
            (
                "same name, other namespace",
                json!({plan::RELEASE_NAME: "a", plan::RELEASE_NAMESPACE: "team-b"}),
                "u1",
                None,
                Err(Keep::NotOurs(Owner::Other {
                    name: "a".into(),
                    namespace: "team-b".into(),
                })),
            ),
        ];
        for (name, annotations, uid, recorded, expected) in cases {
            assert_eq!(
                may_delete(&meta(annotations, uid), &a, recorded),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn an_object_is_unchanged_only_with_the_same_hash_and_every_field_owned() {
        let release = release("sky", "sky");
        let desired = crate::plan::stamp(
            crate::manifest::Manifest::from_object(
                0,
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "namespace": "sky"}, "data": {"k": "v"}}),
            )
            .unwrap(),
            &release,
        )
        .object;
        let hash = plan::applied_hash(&desired).unwrap().to_owned();
        let live = |hash: &str, owned: bool| -> ObjectMeta {
            let fields = if owned {
                json!({"f:data": {"f:k": {}}, "f:metadata": {"f:annotations": {}, "f:labels": {}}})
            } else {
                json!({"f:metadata": {"f:annotations": {}, "f:labels": {}}})
            };
            serde_json::from_value(json!({"name": "c", "annotations": {plan::APPLIED_HASH: hash},
                "managedFields": [{"manager": "skyctl", "operation": "Apply", "fieldsV1": fields}]}))
            .unwrap()
        };
        assert_eq!(change(&desired, None, "skyctl"), Change::Create);
        assert_eq!(
            change(&desired, Some(&live(&hash, true)), "skyctl"),
            Change::Unchanged
        );
        assert_eq!(
            change(&desired, Some(&live("old", true)), "skyctl"),
            Change::Update
        );
        assert_eq!(
            change(&desired, Some(&live(&hash, false)), "skyctl"),
            Change::Update
        );
    }
}
