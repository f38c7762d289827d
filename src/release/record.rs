//! One revision of a release as skyctl records it, and the status words it moves through
//! (Helm's, so that admins who know `helm history` read them the same way).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::manifest::ObjectRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
    Deployed,
    Failed,
    Superseded,
    Uninstalling,
    /// The objects are gone; the records stay (`uninstall --keep-history`), as Helm keeps them.
    Uninstalled,
}

impl ReleaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::PendingInstall => "pending-install",
            ReleaseStatus::PendingUpgrade => "pending-upgrade",
            ReleaseStatus::PendingRollback => "pending-rollback",
            ReleaseStatus::Deployed => "deployed",
            ReleaseStatus::Failed => "failed",
            ReleaseStatus::Superseded => "superseded",
            ReleaseStatus::Uninstalling => "uninstalling",
            ReleaseStatus::Uninstalled => "uninstalled",
        }
    }

    /// An operation was under way when this record was last written.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            ReleaseStatus::PendingInstall
                | ReleaseStatus::PendingUpgrade
                | ReleaseStatus::PendingRollback
                | ReleaseStatus::Uninstalling
        )
    }
}

/// One revision of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRecord {
    pub name: String,
    pub namespace: String,
    pub revision: u32,
    pub status: ReleaseStatus,
    /// What happened, in a sentence: "Install complete", "Rolled back to 1", the failure.
    pub description: String,
    pub first_deployed: String,
    pub last_deployed: String,
    pub skyctl_version: String,
    /// The chart version the revision was rendered from; an upgrade keeps it unless
    /// `--version` says otherwise. Records made before skyctl knew versions are seed-era.
    #[serde(default = "seed_era")]
    pub chart_version: String,
    /// The values the user gave (defaults excluded). Credentials never travel through values.
    pub values: Value,
    /// Every value the objects were rendered from: the defaults of the skyctl that made the
    /// revision with `values` over them (Helm's computed values). `get values --all` prints
    /// them and `upgrade --reuse-values` starts from them. Absent in records of skyctl 0.1.0
    /// before it kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed_values: Option<Value>,
    /// Every object the revision owns, cluster-scoped ones included.
    pub inventory: Vec<ObjectRef>,
    /// skyctl created the namespace, so `uninstall --delete-namespace` may remove it.
    #[serde(default)]
    pub created_namespace: bool,
    /// The UID of each object when this revision applied it, keyed by the object as
    /// `ObjectRef` displays it. A live object with another UID was made by someone else since,
    /// and is never deleted as the release's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub uids: BTreeMap<String, String>,
    /// Objects the chart marked `helm.sh/resource-policy: keep` when the release applied them,
    /// in this revision or an earlier one, as `ObjectRef` displays them. They are never pruned
    /// or uninstalled, whatever the live object's annotations say now.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub keep: BTreeSet<String>,
}

fn seed_era() -> String {
    crate::chart::SEED_ERA.to_owned()
}

impl ReleaseRecord {
    /// The UID the object had when this revision applied it, if it was recorded.
    pub fn uid_of(&self, id: &ObjectRef) -> Option<&str> {
        self.uids.get(&id.to_string()).map(String::as_str)
    }
}

/// The current time, as Kubernetes writes timestamps.
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_written_as_helm_writes_them() {
        let json = serde_json::to_value(ReleaseStatus::PendingInstall).unwrap();
        assert_eq!(json, "pending-install");
        assert_eq!(ReleaseStatus::PendingInstall.as_str(), "pending-install");
        assert!(ReleaseStatus::Uninstalling.is_pending());
        assert!(!ReleaseStatus::Deployed.is_pending());
    }
}
