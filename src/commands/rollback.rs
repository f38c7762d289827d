use crate::cli::{ClusterArgs, RollbackArgs};
use crate::cluster::live_render;
use crate::cluster::release_secrets::SecretStorage;
use crate::cluster::rollout;
use crate::cluster::snapshot::Snapshot;
use crate::decide::{Operation, Refusal};
use crate::error::invalid_input;
use crate::release::recorded_values;
use crate::render::ChartNames;

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
    let values = recorded_values::recorded_values(target)?;
    // A rollback across a front door change (back to ingress-nginx after `upgrade --gateway`)
    // prunes the door it leaves only once the one it returns to answers. The password is not
    // asked for: a login refusing the request shows the door answers.
    let names = ChartNames::new(&release, &values.values);
    let door_answers = || -> futures::future::LocalBoxFuture<'_, anyhow::Result<()>> {
        Box::pin(super::deploy::new_door_answers(
            &client,
            &release,
            &names,
            None,
            args.rollout.wait.limit(),
            super::deploy::DoorMove::Rollback,
        ))
    };
    super::deploy::deploy(
        &client,
        &release,
        Operation::Rollback { to },
        recorded_values::record_chart(target)?,
        manifests,
        values,
        &history,
        &args.rollout,
        &super::deploy::DeployOptions::default(),
        &Snapshot::default(),
        rollout::Hooks {
            before_prune: (!args.no_health_check).then_some(&door_answers),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
