//! From rendered objects and the previous release to what to apply, in which order, and what
//! to prune. Pure: no cluster, so every rule here is unit-tested.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::manifest::{Manifest, ObjectRef};
use crate::release::Release;

/// Annotation holding a hash of the object as skyctl last applied it: equal hash, nothing to send.
pub const APPLIED_HASH: &str = "skyctl.io/applied-hash";
/// Annotations naming the release an object belongs to (Helm's `meta.helm.sh/release-*`).
pub const RELEASE_NAME: &str = "skyctl.io/release-name";
pub const RELEASE_NAMESPACE: &str = "skyctl.io/release-namespace";
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The label selector of everything skyctl applies, of any release.
pub fn managed_by_selector() -> String {
    format!("{MANAGED_BY}=skyctl")
}

/// Helm's install order by kind. Kinds that others depend on come first (RBAC and config before
/// workloads), and the Ingress comes before the ingress-nginx webhook that would validate it.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Where a kind goes in the install order. Kinds Helm does not list go last, in
/// alphabetical order, as in Helm.
fn install_rank(kind: &str) -> (usize, &str) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(rank) => (rank, ""),
        None => (INSTALL_ORDER.len(), kind),
    }
}

/// Sorts into install order by kind. The sort is stable: objects of one kind keep the order
/// they were rendered in, which is how Helm breaks those ties (by template path).
pub fn sort_for_install(manifests: &mut [Manifest]) {
    sort_for_install_by(manifests, |manifest| manifest);
}

/// [`sort_for_install`] for items that each carry an object.
pub fn sort_for_install_by<T>(items: &mut [T], manifest: impl Fn(&T) -> &Manifest) {
    items.sort_by(|a, b| {
        install_rank(&manifest(a).id.kind).cmp(&install_rank(&manifest(b).id.kind))
    });
}

/// Marks an object as the release's and records the hash of what will be applied.
pub fn stamp(mut manifest: Manifest, release: &Release) -> Manifest {
    let metadata = manifest
        .object
        .as_object_mut()
        .expect("rendered objects are maps")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    let metadata = metadata.as_object_mut().expect("metadata is a map");
    // A template's bare `annotations:` (0.13.0's oauth2-proxy Ingress) reads as null: the
    // marks go into a map all the same, or the object would not be the release's.
    let map = |value: &mut Value| {
        if value.is_null() {
            *value = json!({});
        }
    };
    let labels = metadata.entry("labels").or_insert_with(|| json!({}));
    map(labels);
    if let Some(labels) = labels.as_object_mut() {
        labels.insert(MANAGED_BY.into(), json!("skyctl"));
    }
    let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
    map(annotations);
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(RELEASE_NAME.into(), json!(release.name));
        annotations.insert(RELEASE_NAMESPACE.into(), json!(release.namespace));
        annotations.remove(APPLIED_HASH);
    }
    let hash = content_hash(&manifest.object);
    manifest.object["metadata"]["annotations"][APPLIED_HASH] = json!(hash);
    manifest
}

/// A stable hash of an object: serde_json maps are sorted, so equal objects hash equal.
fn content_hash(object: &Value) -> String {
    let digest = Sha256::digest(serde_json::to_vec(object).expect("JSON values serialize"));
    digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The hash skyctl recorded on a live object, if any.
pub fn applied_hash(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(APPLIED_HASH))
        .and_then(Value::as_str)
}

/// What an install, upgrade or rollback does.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Objects to apply, grouped by kind in install order. Objects of one phase go in parallel.
    pub phases: Vec<Vec<Manifest>>,
    /// Objects of the previous release that are no longer rendered, in deletion order.
    pub prune: Vec<ObjectRef>,
    /// Objects no longer rendered that stay, because deleting them deletes data.
    pub retain: Vec<ObjectRef>,
}

impl Plan {
    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.phases.iter().flatten()
    }
}

/// Whether deleting an object deletes user data. Such objects are only pruned with
/// `--delete-data`.
pub fn holds_data(id: &ObjectRef) -> bool {
    id.kind == "PersistentVolumeClaim" && id.group().is_empty()
}

/// Plans applying `desired` over a release whose objects were `previous`.
pub fn plan(
    mut desired: Vec<Manifest>,
    previous: &[ObjectRef],
    delete_data: bool,
    release: &Release,
) -> Plan {
    sort_for_install(&mut desired);
    let rendered: BTreeSet<&ObjectRef> = desired.iter().map(|m| &m.id).collect();
    let (retain, mut prune): (Vec<ObjectRef>, Vec<ObjectRef>) = previous
        .iter()
        .filter(|id| !rendered.contains(id))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .partition(|id| holds_data(id) && !delete_data);
    sort_for_deletion(&mut prune);

    let mut phases: Vec<Vec<Manifest>> = Vec::new();
    for manifest in desired.into_iter().map(|m| stamp(m, release)) {
        match phases.last_mut() {
            Some(phase) if phase[0].id.kind == manifest.id.kind => phase.push(manifest),
            _ => phases.push(vec![manifest]),
        }
    }
    Plan {
        phases,
        prune,
        retain,
    }
}

/// Reverse install order: webhooks and workloads go before the RBAC and config they use.
pub fn sort_for_deletion(ids: &mut [ObjectRef]) {
    ids.sort_by(|a, b| {
        install_rank(&b.kind)
            .cmp(&install_rank(&a.kind))
            .then_with(|| a.name.cmp(&b.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(api_version: &str, kind: &str, name: &str) -> Manifest {
        Manifest::from_object(
            0,
            json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "sky"}}),
        )
        .unwrap()
    }

    fn release() -> Release {
        Release {
            name: "sky".into(),
            namespace: "sky".into(),
        }
    }

    fn kinds(plan: &Plan) -> Vec<Vec<String>> {
        plan.phases
            .iter()
            .map(|phase| {
                phase
                    .iter()
                    .map(|m| format!("{}/{}", m.id.kind, m.id.name))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn objects_apply_in_helm_install_order_by_kind_keeping_render_order_within() {
        let desired = vec![
            manifest(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "hook",
            ),
            manifest("apps/v1", "Deployment", "b"),
            manifest("networking.k8s.io/v1", "Ingress", "ing"),
            manifest("apps/v1", "Deployment", "a"),
            manifest("v1", "ServiceAccount", "sa"),
            manifest("rbac.authorization.k8s.io/v1", "ClusterRole", "role"),
            manifest("example.com/v1", "Widget", "w"),
        ];
        let plan = plan(desired, &[], false, &release());
        assert_eq!(
            kinds(&plan),
            vec![
                vec!["ServiceAccount/sa"],
                vec!["ClusterRole/role"],
                vec!["Deployment/b", "Deployment/a"],
                vec!["Ingress/ing"],
                vec!["ValidatingWebhookConfiguration/hook"],
                vec!["Widget/w"],
            ]
        );
    }

    #[test]
    fn objects_no_longer_rendered_are_pruned_webhooks_first() {
        let previous = vec![
            manifest("v1", "ServiceAccount", "old-sa").id,
            manifest(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "hook",
            )
            .id,
            manifest("apps/v1", "Deployment", "kept").id,
        ];
        let plan = plan(
            vec![manifest("apps/v1", "Deployment", "kept")],
            &previous,
            false,
            &release(),
        );
        let pruned: Vec<_> = plan.prune.iter().map(|id| id.kind.as_str()).collect();
        assert_eq!(pruned, ["ValidatingWebhookConfiguration", "ServiceAccount"]);
        assert!(plan.retain.is_empty());
    }

    #[test]
    fn a_claim_is_retained_unless_data_may_be_deleted() {
        let previous = vec![manifest("v1", "PersistentVolumeClaim", "state").id];
        let kept = plan(vec![], &previous, false, &release());
        assert!(kept.prune.is_empty());
        assert_eq!(
            kept.retain, previous,
            "a retained claim stays in the release"
        );
        let deleted = plan(vec![], &previous, true, &release());
        assert_eq!(deleted.prune, previous);
        assert!(deleted.retain.is_empty());
    }

    #[test]
    fn stamping_marks_an_object_whose_template_left_labels_and_annotations_empty() {
        let bare = Manifest::from_object(
            0,
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                   "metadata": {"name": "i", "namespace": "sky", "labels": null, "annotations": null}}),
        )
        .unwrap();
        let stamped = stamp(bare, &release());
        let metadata = &stamped.object["metadata"];
        assert_eq!(metadata["annotations"][RELEASE_NAME], "sky");
        assert_eq!(metadata["annotations"][RELEASE_NAMESPACE], "sky");
        assert_eq!(metadata["labels"][MANAGED_BY], "skyctl");
        assert!(metadata["annotations"][APPLIED_HASH].is_string());
    }

    #[test]
    fn stamping_marks_the_release_and_hashes_the_content() {
        let a = stamp(manifest("v1", "ConfigMap", "c"), &release());
        assert_eq!(a.object["metadata"]["labels"][MANAGED_BY], "skyctl");
        assert_eq!(a.object["metadata"]["annotations"][RELEASE_NAME], "sky");
        let hash = applied_hash(&a.object).unwrap().to_owned();
        assert_eq!(hash.len(), 32);

        let again = stamp(a.clone(), &release());
        assert_eq!(
            applied_hash(&again.object),
            Some(hash.as_str()),
            "stamping is idempotent"
        );

        let mut changed = manifest("v1", "ConfigMap", "c");
        changed.object["data"] = json!({"k": "v"});
        let changed = stamp(changed, &release());
        assert_ne!(applied_hash(&changed.object), Some(hash.as_str()));
    }

    #[test]
    fn deletion_order_is_the_reverse_of_install_order() {
        let mut ids = vec![
            manifest("v1", "Namespace", "ns").id,
            manifest("apps/v1", "Deployment", "d").id,
            manifest("v1", "Secret", "s").id,
        ];
        sort_for_deletion(&mut ids);
        let order: Vec<_> = ids.iter().map(|id| id.kind.as_str()).collect();
        assert_eq!(order, ["Deployment", "Secret", "Namespace"]);
    }
}
