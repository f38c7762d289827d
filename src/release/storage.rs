//! Where a release's records are kept, behind a small trait as in Helm's storage drivers: the
//! cluster keeps them as Secrets (`cluster::release_secrets`), and [`MemoryStorage`] keeps them
//! in memory so that whole install → upgrade → rollback → uninstall sequences of decisions run
//! in unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::record::ReleaseRecord;
use crate::manifest::Manifest;

/// Reads and writes the records of one release.
#[allow(async_fn_in_trait)]
pub trait ReleaseStorage {
    /// Every recorded revision, in any order.
    async fn list(&self) -> anyhow::Result<Vec<ReleaseRecord>>;
    /// Stores a new revision with the objects it applies. Implementations leave Secret data
    /// out: a record never holds credentials.
    async fn create(&self, record: &ReleaseRecord, manifests: &[&Manifest]) -> anyhow::Result<()>;
    /// Rewrites a revision's record (status, description, inventory), keeping its manifest.
    async fn update(&self, record: &ReleaseRecord) -> anyhow::Result<()>;
    /// The objects a revision applied, Secret data left out.
    async fn manifests(&self, record: &ReleaseRecord) -> anyhow::Result<Vec<Manifest>>;
    /// Forgets a revision; forgetting one that is gone already is no error.
    async fn delete(&self, record: &ReleaseRecord) -> anyhow::Result<()>;
    /// Forgets the release: every revision of it, `records` being those the caller read.
    async fn delete_all(&self, records: &[ReleaseRecord]) -> anyhow::Result<()> {
        for record in records {
            self.delete(record).await?;
        }
        Ok(())
    }
}

/// A Secret with its data left out; any other object unchanged. What a stored manifest holds.
pub fn without_secret_data(manifest: &Manifest) -> Manifest {
    let mut manifest = manifest.clone();
    if manifest.id.kind == "Secret"
        && manifest.id.group().is_empty()
        && let Some(object) = manifest.object.as_object_mut()
    {
        object.remove("data");
        object.remove("stringData");
    }
    manifest
}

/// Records in memory, for tests of whole sequences of decisions.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    revisions: Mutex<BTreeMap<u32, (ReleaseRecord, Vec<Manifest>)>>,
}

impl MemoryStorage {
    fn revisions(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<u32, (ReleaseRecord, Vec<Manifest>)>> {
        self.revisions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ReleaseStorage for MemoryStorage {
    async fn list(&self) -> anyhow::Result<Vec<ReleaseRecord>> {
        Ok(self.revisions().values().map(|(r, _)| r.clone()).collect())
    }

    async fn create(&self, record: &ReleaseRecord, manifests: &[&Manifest]) -> anyhow::Result<()> {
        let mut revisions = self.revisions();
        anyhow::ensure!(
            !revisions.contains_key(&record.revision),
            "revision {} exists already",
            record.revision
        );
        let stored = manifests.iter().map(|m| without_secret_data(m)).collect();
        revisions.insert(record.revision, (record.clone(), stored));
        Ok(())
    }

    async fn update(&self, record: &ReleaseRecord) -> anyhow::Result<()> {
        let mut revisions = self.revisions();
        let entry = revisions
            .get_mut(&record.revision)
            .ok_or_else(|| anyhow::anyhow!("no revision {}", record.revision))?;
        entry.0 = record.clone();
        Ok(())
    }

    async fn manifests(&self, record: &ReleaseRecord) -> anyhow::Result<Vec<Manifest>> {
        self.revisions()
            .get(&record.revision)
            .map(|(_, manifests)| manifests.clone())
            .ok_or_else(|| anyhow::anyhow!("no revision {}", record.revision))
    }

    async fn delete(&self, record: &ReleaseRecord) -> anyhow::Result<()> {
        self.revisions().remove(&record.revision);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_data_never_reaches_a_stored_manifest() {
        let secret = Manifest::from_object(
            0,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                   "stringData": {"auth": "user:hash"}, "data": {"k": "dg=="}}),
        )
        .unwrap();
        let redacted = without_secret_data(&secret);
        assert_eq!(redacted.object.get("stringData"), None);
        assert_eq!(redacted.object.get("data"), None);
        assert_eq!(redacted.id, secret.id);
    }
}
