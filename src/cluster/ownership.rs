//! Whether skyctl still owns the fields it applied. Another client that writes one of them,
//! as `kubectl scale` or `kubectl edit` do, takes its ownership; the apiserver records that in
//! `metadata.managedFields`. An object whose hash is unchanged but whose fields were taken must
//! be applied again, so that the drift is either undone or reported as a conflict.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use serde_json::Value;

/// Identity fields the apiserver does not track in managedFields.
const UNTRACKED: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata", "name"],
    &["metadata", "namespace"],
];

/// True when `manager`'s apply entry covers every field of `desired`. Lists count as one field:
/// their items are compared by content hash already.
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
    // An owned field with nothing listed below it is owned whole: a leaf, or an atomic map
    // such as a label selector, which the apiserver tracks as one field.
    let owned_whole = owned.as_object().is_some_and(|fields| fields.is_empty());
    let Some(desired) = desired.as_object().filter(|_| !owned_whole) else {
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
}
