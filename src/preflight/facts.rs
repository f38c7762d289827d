//! What the cluster says, as `cluster::survey` read it. Every list the admin may not be allowed
//! to read is an [`Observed`]: a namespace admin cannot list nodes, and the check that needs
//! them says so instead of failing the whole preflight.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, ResourceQuota, Service};
use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::DynamicObject;

use crate::guide::credential_secrets::Stored;
use crate::manifest::ObjectRef;

use super::intent::Access;

/// A read that worked, or why it did not (`forbidden: …`).
pub type Observed<T> = Result<T, String>;

#[derive(Debug, Clone)]
pub struct Facts {
    /// The API server's `gitVersion`, such as `v1.37.2` or `v1.30.5-gke.1014001`.
    pub server_version: String,
    /// The release's namespace as it is now.
    pub namespace: Observed<NamespaceState>,
    /// The answer to each review: allowed or not, or why there was no answer.
    pub access: BTreeMap<Access, Observed<bool>>,
    /// The rendered objects that exist already (absent ones map to `None`).
    pub live: BTreeMap<ObjectRef, Observed<Option<DynamicObject>>>,
    /// Services of every namespace: node ports in use, LoadBalancers and their addresses.
    pub services: Observed<Vec<Service>>,
    pub ingress_classes: Observed<Vec<IngressClass>>,
    pub storage_classes: Observed<Vec<StorageClass>>,
    pub nodes: Observed<Vec<Node>>,
    /// The ResourceQuotas of the release's namespace.
    pub quotas: Observed<Vec<ResourceQuota>>,
    /// Names of the Secrets in the release's namespace (never their data).
    pub secrets: Observed<Vec<String>>,
    /// Names of the ServiceAccounts in the release's namespace.
    pub service_accounts: Observed<Vec<String>>,
    /// The credentials `skyctl creds add` stored there.
    pub credentials: Observed<Vec<Stored>>,
    /// Helm's records of a release with this name in this namespace.
    pub helm: Observed<Vec<HelmRecord>>,
    pub now: Timestamp,
}

/// Whether the release's namespace can take new objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceState {
    Absent,
    Active,
    /// Deleted but not gone yet (a finalizer waits): the API server refuses anything new in it.
    Terminating,
}

/// One revision Helm recorded (a Secret `sh.helm.release.v1.<name>.v<N>`, or a ConfigMap with
/// Helm's ConfigMap driver), read from its labels only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmRecord {
    /// `Secret` or `ConfigMap`.
    pub storage: &'static str,
    pub name: String,
    pub revision: u32,
    /// `deployed`, `superseded`, `failed`, `pending-install`, …
    pub status: String,
}

impl HelmRecord {
    /// The record these labels describe, if Helm wrote it for `release`.
    pub fn from_labels(storage: &'static str, meta: &ObjectMeta, release: &str) -> Option<Self> {
        let labels = meta.labels.as_ref()?;
        let label = |key: &str| labels.get(key).map(String::as_str);
        if label("owner") != Some("helm") || label("name") != Some(release) {
            return None;
        }
        Some(Self {
            storage,
            name: meta.name.clone()?,
            revision: label("version")?.parse().ok()?,
            status: label("status").unwrap_or("unknown").to_owned(),
        })
    }
}
