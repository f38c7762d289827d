//! What a release's records say about it: which revision is live, which came before, what the
//! release may own. Pure queries over the records, oldest first.

use std::collections::BTreeSet;

use super::record::{ReleaseRecord, ReleaseStatus};
use crate::manifest::ObjectRef;

/// The records of a release, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub records: Vec<ReleaseRecord>,
}

impl History {
    pub fn new(mut records: Vec<ReleaseRecord>) -> Self {
        records.sort_by_key(|record| record.revision);
        Self { records }
    }

    /// The revision that is live, if any.
    pub fn deployed(&self) -> Option<&ReleaseRecord> {
        self.records
            .iter()
            .rev()
            .find(|r| r.status == ReleaseStatus::Deployed)
    }

    pub fn latest(&self) -> Option<&ReleaseRecord> {
        self.records.last()
    }

    pub fn revision(&self, revision: u32) -> Option<&ReleaseRecord> {
        self.records.iter().find(|r| r.revision == revision)
    }

    /// Whether any revision ever went live: an install that failed or was interrupted did not.
    pub fn ever_deployed(&self) -> bool {
        self.records.iter().any(|r| {
            matches!(
                r.status,
                ReleaseStatus::Deployed | ReleaseStatus::Superseded
            )
        })
    }

    /// The newest revision, when it was uninstalled with its history kept.
    pub fn uninstalled(&self) -> Option<&ReleaseRecord> {
        self.latest()
            .filter(|latest| latest.status == ReleaseStatus::Uninstalled)
    }

    /// Helm's default rollback target: the newest superseded revision before the deployed one
    /// (or before the uninstalled one whose history was kept).
    pub fn previous(&self) -> Option<&ReleaseRecord> {
        let current = self.deployed().or_else(|| self.uninstalled())?;
        self.records
            .iter()
            .rev()
            .find(|r| r.revision < current.revision && r.status == ReleaseStatus::Superseded)
    }

    /// Objects the release may own on the cluster: those of the deployed revision and of every
    /// later one (failed or interrupted revisions may have created objects before they stopped).
    pub fn owned_objects(&self) -> Vec<ObjectRef> {
        let since = self
            .records
            .iter()
            .rposition(|r| r.status == ReleaseStatus::Deployed)
            .unwrap_or(0);
        self.objects_of(&self.records[since..])
    }

    /// Every object any revision listed: what uninstall looks for.
    pub fn every_object(&self) -> Vec<ObjectRef> {
        self.objects_of(&self.records)
    }

    fn objects_of(&self, records: &[ReleaseRecord]) -> Vec<ObjectRef> {
        records
            .iter()
            .flat_map(|r| r.inventory.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The UID of the object as the release last applied it, when that is known: the UID the
    /// newest revision that lists the object recorded. A revision that failed or was killed
    /// records none, and may have made the object anew, so then nothing is known; an older
    /// revision's UID may be of an object pruned since.
    pub fn recorded_uid(&self, id: &ObjectRef) -> Option<&str> {
        self.records
            .iter()
            .rev()
            .find(|r| r.inventory.contains(id))
            .and_then(|r| r.uid_of(id))
    }

    /// Whether the chart marked the object to outlive the release, as applied in any revision.
    pub fn marked_keep(&self, id: &ObjectRef) -> bool {
        let id = id.to_string();
        self.records.iter().any(|r| r.keep.contains(&id))
    }

    /// Whether skyctl created the namespace in any revision.
    pub fn created_namespace(&self) -> bool {
        self.records.iter().any(|r| r.created_namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> ObjectRef {
        ObjectRef::config_map(name)
    }

    fn record(revision: u32, inventory: &[&str], uids: &[(&str, &str)]) -> ReleaseRecord {
        ReleaseRecord {
            name: "r".into(),
            namespace: "ns".into(),
            revision,
            status: ReleaseStatus::Superseded,
            description: String::new(),
            first_deployed: String::new(),
            last_deployed: String::new(),
            skyctl_version: String::new(),
            chart_version: "0.13.0".into(),
            keep: Default::default(),
            values: serde_json::json!({}),
            computed_values: None,
            inventory: inventory.iter().map(|n| id(n)).collect(),
            created_namespace: false,
            uids: uids
                .iter()
                .map(|(n, uid)| (id(n).to_string(), (*uid).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn the_uid_that_counts_is_the_newest_revision_listing_the_object() {
        // Table: the records, oldest first; the UID known for object "a".
        let cases = [
            (
                "applied once",
                vec![record(1, &["a"], &[("a", "u1")])],
                Some("u1"),
            ),
            (
                "pruned, then made again by a revision that failed",
                vec![
                    record(1, &["a"], &[("a", "u1")]),
                    record(2, &[], &[]),
                    record(3, &["a"], &[]),
                ],
                None,
            ),
            (
                "made again and recorded",
                vec![
                    record(1, &["a"], &[("a", "u1")]),
                    record(2, &[], &[]),
                    record(3, &["a"], &[("a", "u3")]),
                ],
                Some("u3"),
            ),
            (
                "never listed",
                vec![record(1, &["b"], &[("b", "u1")])],
                None,
            ),
        ];
        for (name, records, expected) in cases {
            assert_eq!(
                History::new(records).recorded_uid(&id("a")),
                expected,
                "{name}"
            );
        }
    }
}
