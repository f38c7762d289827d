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

    /// Helm's default rollback target: the newest superseded revision before the deployed one.
    pub fn previous(&self) -> Option<&ReleaseRecord> {
        let deployed = self.deployed()?;
        self.records
            .iter()
            .rev()
            .find(|r| r.revision < deployed.revision && r.status == ReleaseStatus::Superseded)
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

    /// The UID the newest record that knew the object recorded for it.
    pub fn recorded_uid(&self, id: &ObjectRef) -> Option<&str> {
        self.records.iter().rev().find_map(|r| r.uid_of(id))
    }

    /// Whether skyctl created the namespace in any revision.
    pub fn created_namespace(&self) -> bool {
        self.records.iter().any(|r| r.created_namespace)
    }
}
