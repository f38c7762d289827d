use crate::cli::{ClusterArgs, RollbackArgs};
use crate::cluster::live_render;
use crate::cluster::release_secrets::SecretStorage;
use crate::cluster::snapshot::Snapshot;
use crate::decide::{Operation, Refusal};
use crate::error::invalid_input;
use crate::release::recorded_values;

pub async fn run(cluster: &ClusterArgs, args: RollbackArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::history(&client, &release).await?;
    if history.deployed().is_none() && history.uninstalled().is_none() {
        return Err(super::not_found(&release));
    }
    let to = match args.revision {
        Some(revision) => revision,
        None => {
            history
                .previous()
                // Asking for a rollback of a first revision is the user's to fix: exit 2.
                .ok_or_else(|| {
                    invalid_input(match history.uninstalled() {
                        Some(kept) => anyhow::anyhow!(
                            "release {} was uninstalled with its history kept and has no \
                             earlier revision; name the one to return to: `skyctl rollback {} \
                             {} -n {}`",
                            release.name,
                            release.name,
                            kept.revision,
                            release.namespace
                        ),
                        None => anyhow::anyhow!(
                            "release {} has no earlier revision to roll back to",
                            release.name
                        ),
                    })
                })?
                .revision
        }
    };
    let target = history.revision(to).ok_or_else(|| {
        invalid_input(Refusal::NoSuchRevision {
            name: release.name.clone(),
            namespace: release.namespace.clone(),
            revision: to,
        })
    })?;
    let storage = SecretStorage::new(&client, &release.namespace, &release.name);
    let manifests = live_render::revision_manifests(&client, &release, &storage, target).await?;
    super::deploy::deploy(
        &client,
        &release,
        Operation::Rollback { to },
        recorded_values::record_chart(target)?,
        manifests,
        recorded_values::recorded_values(target)?,
        &history,
        &args.rollout,
        &super::deploy::DeployOptions::default(),
        &Snapshot::default(),
        Default::default(),
    )
    .await?;
    Ok(())
}
