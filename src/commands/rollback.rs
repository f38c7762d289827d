use crate::cli::{ClusterArgs, RollbackArgs};
use crate::cluster::release_record::{ReleaseStatus, ReleaseStore};
use crate::cluster::rollout::{History, Operation, RolloutError};

pub async fn run(cluster: &ClusterArgs, args: RollbackArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let (_, history) = History::read(&client, &release).await?;
    let not_found = || RolloutError::NotFound {
        name: release.name.clone(),
        namespace: release.namespace.clone(),
    };
    let deployed = history.deployed().ok_or_else(not_found)?;
    // Helm's default: the revision before the deployed one that was itself deployed.
    let to = match args.revision {
        Some(revision) => revision,
        None => history
            .records
            .iter()
            .rev()
            .find(|r| r.revision < deployed.revision && r.status == ReleaseStatus::Superseded)
            .map(|r| r.revision)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "release {} has no earlier revision to roll back to",
                    release.name
                )
            })?,
    };
    let target = history.revision(to).ok_or(RolloutError::NoSuchRevision {
        name: release.name.clone(),
        revision: to,
    })?;
    let store = ReleaseStore::new(&client, &release.namespace, &release.name);
    let manifests = super::revision_manifests(&client, &release, &store, target).await?;
    let values = target.values.clone();
    super::deploy(
        &client,
        &release,
        Operation::Rollback { to },
        manifests,
        values,
        history,
        &args.rollout,
    )
    .await?;
    Ok(())
}
