//! What a world holds, read straight from the API server, and whose each object is, judged by
//! the test alone: from the marks releases, Helm and skyctl put on objects, and the names of
//! what the test made by hand.

use std::collections::BTreeMap;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

/// The kinds the chart renders and people make, by their API resource: what the invariants
/// watch. (Pods, ReplicaSets, Endpoints and Leases are controllers' and locks' business.)
pub const NAMESPACED: [Kind; 11] = [
    ("", "v1", "Secret", "secrets"),
    ("", "v1", "ConfigMap", "configmaps"),
    ("", "v1", "Service", "services"),
    ("", "v1", "ServiceAccount", "serviceaccounts"),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("apps", "v1", "Deployment", "deployments"),
    ("batch", "v1", "Job", "jobs"),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
    ),
    ("networking.k8s.io", "v1", "Ingress", "ingresses"),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
    ),
];
pub const CLUSTER: [Kind; 5] = [
    ("", "v1", "Namespace", "namespaces"),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
    ),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses"),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
];

/// A kind's group, version, kind and API resource (as the audit log names it).
pub type Kind = (&'static str, &'static str, &'static str, &'static str);

/// The API resource of a kind.
pub fn resource_of(kind: &str) -> Option<&'static str> {
    NAMESPACED
        .iter()
        .chain(CLUSTER.iter())
        .find(|(_, _, k, _)| *k == kind)
        .map(|(_, _, _, plural)| *plural)
}

/// The dynamic API of a kind, in `namespace` or cluster-wide.
pub fn api(client: &kube::Client, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    let (group, version, kind, plural) = *kind;
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// An object by its API resource, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.resource, self.name),
            None => write!(f, "{} {}", self.resource, self.name),
        }
    }
}

/// Whose an object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A skyctl release: its objects, records and the backups adopt keeps.
    Release { namespace: String, name: String },
    /// A Helm release: its objects and records.
    Helm { namespace: String, name: String },
    /// Credentials `creds add` stored in a namespace: every release there may use them.
    Credentials { namespace: String },
    /// Made by hand by the test, as a person would.
    Person,
    /// No mark: a namespace, or something nobody claimed.
    Unmarked,
}

#[derive(Debug, Clone)]
pub struct Object {
    pub uid: String,
    pub owner: Owner,
    /// The object as its owner wrote it: what controllers and the API server add is left out.
    pub content: Value,
    pub deleting: bool,
}

pub type Snapshot = BTreeMap<Key, Object>;

/// The namespace chart 0.13.0 shares among its releases (their system Roles live there).
pub const SHARED_NAMESPACE: &str = "skypilot-system";

/// Every object of the watched kinds in the world's namespaces, and those whose name holds the
/// world's tag in the shared namespace and cluster-wide.
pub async fn take(client: &kube::Client, tag: &str, namespaces: &[String]) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for kind in &NAMESPACED {
        for namespace in namespaces
            .iter()
            .map(String::as_str)
            .chain([SHARED_NAMESPACE])
        {
            for object in list(&api(client, kind, Some(namespace))).await {
                let name = object.metadata.name.as_deref().unwrap_or_default();
                // Kubernetes' controllers make these in every namespace, and again.
                if matches!(name, "kube-root-ca.crt" | "default") {
                    continue;
                }
                let ours = namespaces.iter().any(|n| n == namespace) || name.contains(tag);
                if ours {
                    insert(&mut snapshot, kind.3, Some(namespace), object, tag);
                }
            }
        }
    }
    for kind in &CLUSTER {
        for object in list(&api(client, kind, None)).await {
            if object
                .metadata
                .name
                .as_deref()
                .is_some_and(|n| n.contains(tag))
            {
                insert(&mut snapshot, kind.3, None, object, tag);
            }
        }
    }
    snapshot
}

async fn list(api: &Api<DynamicObject>) -> Vec<DynamicObject> {
    api.list(&ListParams::default())
        .await
        .unwrap_or_else(|err| panic!("cannot list {:?}: {err}", api.resource_url()))
        .items
}

fn insert(
    snapshot: &mut Snapshot,
    resource: &str,
    namespace: Option<&str>,
    object: DynamicObject,
    tag: &str,
) {
    let name = object.metadata.name.clone().unwrap_or_default();
    let annotations = object.metadata.annotations.clone().unwrap_or_default();
    let labels = object.metadata.labels.clone().unwrap_or_default();
    let owner = owner(
        resource,
        namespace.unwrap_or_default(),
        &name,
        &labels,
        &annotations,
        tag,
    );
    let key = Key {
        resource: resource.to_owned(),
        namespace: namespace.map(str::to_owned),
        name,
    };
    let object = Object {
        uid: object.metadata.uid.clone().unwrap_or_default(),
        owner,
        deleting: object.metadata.deletion_timestamp.is_some(),
        content: content(object),
    };
    snapshot.insert(key, object);
}

/// The names the test gives what it makes by hand.
pub fn person_name(tag: &str) -> String {
    format!("{tag}-person")
}

fn owner(
    resource: &str,
    namespace: &str,
    name: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    tag: &str,
) -> Owner {
    let pair = |a: &str, b: &str, from: &BTreeMap<String, String>| {
        Some((from.get(a)?.clone(), from.get(b)?.clone()))
    };
    if name.starts_with(&person_name(tag))
        || (resource == "secrets" && name == "aws-credentials" && namespace.ends_with("-a"))
    {
        return Owner::Person;
    }
    if let Some((name, namespace)) = pair(
        "skyctl.io/release-name",
        "skyctl.io/release-namespace",
        annotations,
    ) {
        return Owner::Release { namespace, name };
    }
    if let Some((name, namespace)) = pair(
        "meta.helm.sh/release-name",
        "meta.helm.sh/release-namespace",
        annotations,
    ) {
        return Owner::Helm { namespace, name };
    }
    let namespace = namespace.to_owned();
    if labels.get("owner").is_some_and(|o| o == "helm")
        && let Some(name) = labels.get("name")
    {
        return Owner::Helm {
            namespace,
            name: name.clone(),
        };
    }
    for label in ["skyctl.io/release", "skyctl.io/adopted-from-helm"] {
        if let Some(name) = labels.get(label) {
            return Owner::Release {
                namespace,
                name: name.clone(),
            };
        }
    }
    if labels.contains_key("skyctl.io/credentials") {
        return Owner::Credentials { namespace };
    }
    Owner::Unmarked
}

/// What the object's writer said, without what controllers and the API server add: status,
/// bookkeeping metadata, the Deployment controller's revision, the volume binder's marks.
fn content(object: DynamicObject) -> Value {
    let mut value = serde_json::to_value(&object).unwrap();
    let Value::Object(map) = &mut value else {
        unreachable!("an object")
    };
    map.remove("status");
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        for key in [
            "resourceVersion",
            "managedFields",
            "generation",
            "creationTimestamp",
            "uid",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "finalizers",
        ] {
            meta.remove(key);
        }
        if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
            annotations.retain(|key, _| {
                key != "deployment.kubernetes.io/revision"
                    && !key.starts_with("pv.kubernetes.io/")
                    && !key.starts_with("volume.")
            });
        }
    }
    if let Some(Value::Object(spec)) = map.get_mut("spec") {
        spec.remove("volumeName");
    }
    value
}
