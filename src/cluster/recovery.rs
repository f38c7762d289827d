//! `--atomic`'s recovery: after a rollout failed past recording its revision, carry out what
//! `decide::recovery` chose, through the same rollout and teardown as the verbs, reading the
//! cluster anew since only what it holds after the failure counts.

use std::time::Duration;

use super::live_render;
use super::object_manager::ObjectManager;
use super::release_secrets::SecretStorage;
use super::snapshot::Snapshot;
use super::{rollout, teardown};
use crate::decide::{self, Decision, Operation, Recovery, TakeOwnership};
use crate::plan;
use crate::progress::Silent;
use crate::release::recorded_values;
use crate::release::{History, Release, ReleaseStatus, ReleaseStorage};

/// How the failed rollout was asked to run, as far as undoing it repeats it.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub delete_data: bool,
    pub history_max: usize,
    pub force_conflicts: bool,
    /// The wait's bound, or `None` without a wait.
    pub wait: Option<Duration>,
}

/// `--atomic`'s recovery. Returns the original error, with what the recovery did.
pub async fn undo(
    client: &kube::Client,
    release: &Release,
    before: &History,
    settings: &Settings,
    err: anyhow::Error,
) -> anyhow::Error {
    let storage = SecretStorage::new(client, &release.namespace, &release.name);
    let after = match storage.list().await {
        Ok(records) => History::new(records),
        Err(read) => {
            return err.context(format!(
                "--atomic could not read the release to undo it: {read:#}"
            ));
        }
    };
    let manager = ObjectManager::new(client);
    let recovery = match decide::recovery(before, &after) {
        Recovery::Nothing => return err,
        Recovery::RollBackTo(to) => {
            let rollback = async {
                let previous = before
                    .revision(to)
                    .expect("the deployed revision is in the history");
                let manifests =
                    live_render::revision_manifests(client, release, &storage, previous).await?;
                let plan = plan::plan(
                    manifests,
                    &after.owned_objects(),
                    settings.delete_data,
                    release,
                );
                let request = rollout::Request {
                    release,
                    operation: Operation::Rollback { to },
                    plan,
                    values: recorded_values::recorded_values(previous)?,
                    chart_version: &previous.chart_version,
                    description: None,
                    options: decide::Options {
                        dry_run: false,
                        create_namespace: false,
                        history_max: settings.history_max,
                        take_ownership: TakeOwnership::No,
                    },
                    force_conflicts: settings.force_conflicts,
                    history: &after,
                    // After a failure, only what the cluster holds now counts.
                    snapshot: &Snapshot::default(),
                };
                let prepared = rollout::prepare(&manager, request).await?;
                if let Decision::Rollout(_) = &prepared.decision {
                    let execution = rollout::Execution {
                        wait: settings.wait,
                        force_unlock: false,
                        hooks: rollout::Hooks::default(),
                    };
                    rollout::carry_out(
                        &manager,
                        &storage,
                        release,
                        &prepared,
                        execution,
                        &mut Silent,
                    )
                    .await?;
                }
                anyhow::Ok(())
            };
            rollback
                .await
                .map(|()| format!("--atomic rolled the release back to revision {to}"))
        }
        Recovery::Uninstall => {
            let options = teardown::Options {
                delete_data: false,
                delete_namespace: false,
                also_delete: Vec::new(),
                delete_helm_history: false,
                wait: settings.wait,
                force_unlock: false,
                dry_run: false,
                // A history kept by `uninstall --keep-history` stays kept.
                keep_history: after
                    .records
                    .iter()
                    .any(|r| r.status == ReleaseStatus::Uninstalled),
            };
            teardown::run(
                &manager,
                &Snapshot::default(),
                &storage,
                release,
                &after,
                &options,
                &mut Silent,
            )
            .await
            .map(|_| {
                "--atomic uninstalled the failed release (its data volume, if any, is kept)"
                    .to_owned()
            })
        }
    };
    match recovery {
        Ok(done) => err.context(done),
        Err(failed) => err.context(format!("--atomic could not undo the failure: {failed:#}")),
    }
}
