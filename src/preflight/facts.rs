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

use crate::credentials::Stored;
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
    /// Empty, unread, where no claim needs a class: each exists and keeps its size.
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
    /// The node port range the API server allocates from, where the cluster tells it (the
    /// `--service-node-port-range` of a kube-apiserver pod); `None` for Kubernetes' default.
    pub node_port_range: Option<NodePortRange>,
    /// What the `gateway` front door needs; `None` where the release renders no HTTPRoute.
    pub gateway: Option<super::gateway::GatewayFacts>,
    pub now: Timestamp,
}

/// A node port range, both ends included.
pub type NodePortRange = std::ops::RangeInclusive<i64>;

/// Kubernetes' node port range when its API server is not told another.
pub const DEFAULT_NODE_PORT_RANGE: NodePortRange = 30000..=32767;

/// The range a kube-apiserver command line sets with `--service-node-port-range`, written
/// `A-B` (or `A+N`, N ports from A); `None` when it sets none or one that does not read.
pub fn node_port_range_in(command_line: &[String]) -> Option<NodePortRange> {
    const FLAG: &str = "--service-node-port-range";
    let value = command_line.iter().enumerate().find_map(|(i, word)| {
        match word.strip_prefix(FLAG)?.strip_prefix('=') {
            Some(value) => Some(value.to_owned()),
            None if word == FLAG => command_line.get(i + 1).cloned(),
            None => None,
        }
    })?;
    let (first, rest, plus) = match value.split_once('-') {
        Some((first, last)) => (first, last, false),
        None => {
            let (first, size) = value.split_once('+')?;
            (first, size, true)
        }
    };
    let first: i64 = first.trim().parse().ok()?;
    let rest: i64 = rest.trim().parse().ok()?;
    let last = if plus { first + rest - 1 } else { rest };
    (1 <= first && first <= last && last <= 65535).then_some(first..=last)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_port_range_is_read_from_the_api_servers_command_line() {
        let words = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
        // Table: a command line, the range it sets.
        let cases = [
            (
                "kube-apiserver --service-node-port-range=30000-32767",
                Some(30000..=32767),
            ),
            (
                "kube-apiserver --service-node-port-range 20000-22767 --v=2",
                Some(20000..=22767),
            ),
            (
                "kube-apiserver --service-node-port-range=30000+100",
                Some(30000..=30099),
            ),
            ("kube-apiserver --secure-port=6443", None),
            ("kube-apiserver --service-node-port-range=", None),
            ("kube-apiserver --service-node-port-range=32767-30000", None),
            ("kube-apiserver --service-node-port-range=0-100", None),
            ("kube-apiserver --service-node-port-range=30000-99999", None),
            ("kube-apiserver --service-node-port-ranges=1-2", None),
            ("kube-apiserver --service-node-port-range", None),
        ];
        for (line, range) in cases {
            assert_eq!(node_port_range_in(&words(line)), range, "{line}");
        }
    }
}
