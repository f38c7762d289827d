//! Uninstall on the cluster: delete what the release still owns, cluster-scoped objects
//! included, keep its data unless asked, leave what is someone else's, and forget the release.
//! Safe to run again after an interruption: the records go last (with the namespace, when it
//! goes), so a second run still knows what to delete. With `--delete-namespace`, the namespace
//! goes too, but only when nothing in it is anyone else's (`namespace_deletion`): that is
//! checked before anything is written, and again, for newcomers, right before the namespace is
//! deleted. In a namespace already being deleted, only what the release owns outside it is
//! deleted: nothing can be made there, the lock neither, and the rest goes with it.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::helm_handover::{self, KeptHistory};
use super::object_manager::{Deleted, ObjectManager, namespace_ref};
use super::snapshot::{Listed, Snapshot};
use super::wait;
use super::{lock, release_secrets};
use crate::credentials::{self, Stored};
use crate::decide;
use crate::error::invalid_input;
use crate::interrupt_point::{self, Point};
use crate::manifest::ObjectRef;
use crate::namespace_deletion::{self, Assessment, Blocker, Named, Resident};
use crate::ownership::Keep;
use crate::progress::Progress;
use crate::release::{History, Release, ReleaseRecord, ReleaseStatus, ReleaseStorage};

#[derive(Debug, Clone)]
pub struct Options {
    pub delete_data: bool,
    pub delete_namespace: bool,
    /// Objects in the namespace that are not the release's, named to go with it.
    pub also_delete: Vec<Named>,
    /// Helm's history that adopt kept goes with the namespace.
    pub delete_helm_history: bool,
    pub wait: Option<Duration>,
    pub force_unlock: bool,
    /// Decide and report; write nothing.
    pub dry_run: bool,
    /// Keep the records, the newest marked uninstalled (Helm's `--keep-history`).
    pub keep_history: bool,
}

/// What `--delete-namespace` will do with the namespace.
#[derive(Debug, Clone)]
pub enum NamespacePlan {
    /// Not asked for.
    Stays,
    /// Asked for, but skyctl did not create the namespace.
    NotCreatedBySkyctl,
    /// Deleted once the release is gone, with the objects named to go.
    Deleted { uid: String, named: Vec<ObjectRef> },
}

/// `--delete-namespace` would take objects that are not the release's to take. Nothing was
/// changed.
#[derive(Debug, thiserror::Error)]
pub struct NamespaceRefused {
    pub namespace: String,
    pub release: String,
    pub assessment: Assessment,
}

impl std::fmt::Display for NamespaceRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "namespace {} holds what is not release {}'s to delete; deleting the namespace would \
             delete it too:",
            self.namespace, self.release
        )?;
        let blocking = &self.assessment.blocking;
        for (id, why) in blocking {
            writeln!(f, "  {id}: {why}")?;
        }
        write!(
            f,
            "Nothing was changed. Uninstall without --delete-namespace to keep the namespace. To \
             delete it too:"
        )?;
        if blocking.iter().any(|(_, why)| *why == Blocker::Data) {
            write!(f, "\n  add --delete-data: the release's data goes with it")?;
        }
        let mut releases: Vec<String> = blocking
            .iter()
            .filter_map(|(_, why)| match why {
                Blocker::Release { name, namespace } => Some(format!(
                    "uninstall release {name} first: skyctl uninstall {name} -n {namespace}"
                )),
                Blocker::Helm { name, namespace } => Some(format!(
                    "uninstall Helm release {name} first: helm uninstall {name} -n {namespace}"
                )),
                _ => None,
            })
            .collect();
        releases.dedup();
        for step in releases {
            write!(f, "\n  {step}")?;
        }
        let flags = self.assessment.also_delete_flags();
        if !flags.is_empty() {
            write!(
                f,
                "\n  name each of the others that may go with it: {flags}"
            )?;
        }
        Ok(())
    }
}

#[derive(Debug)]
pub enum Outcome {
    /// There was no such release: nothing was done.
    NotFound,
    /// `--dry-run`: what would be done; nothing was.
    WouldUninstall {
        teardown: decide::Teardown,
        namespace: NamespacePlan,
    },
    Uninstalled {
        deleted: Vec<ObjectRef>,
        /// Objects the release listed that are someone else's now: left alone.
        kept: Vec<(ObjectRef, Keep)>,
        retained: Vec<ObjectRef>,
        namespace_deleted: bool,
        /// The namespace was being deleted before this run (a stopped uninstall asked, or
        /// kubectl): the release's objects outside it were deleted, the rest goes with it.
        namespace_was_going: bool,
        /// Objects that appeared in the namespace during the uninstall, which kept it.
        newcomers: Vec<ObjectRef>,
    },
}

/// What uninstall reads of the release's namespace before anything else: every Secret skyctl
/// manages there, in one list, and the Helm history adopt kept. It holds the release's records, its own Secrets (kept in the
/// snapshot, so that [`run`] does not read them again), the stored credentials and the OAuth
/// client.
pub struct Surveyed {
    pub history: History,
    secrets: Vec<Secret>,
    /// Helm's history of the release that adopt kept, which outlives it.
    pub helm_history: KeptHistory,
}

impl Surveyed {
    /// A Secret skyctl manages in the namespace, by name, as it was before the uninstall.
    pub fn secret(&self, name: &str) -> Option<&ObjectMeta> {
        self.secrets
            .iter()
            .map(|secret| &secret.metadata)
            .find(|meta| meta.name.as_deref() == Some(name))
    }

    /// The credentials stored in the namespace, which outlive the release.
    pub fn credentials(&self) -> Vec<Stored> {
        credentials::stored_among(self.secrets.iter().map(|secret| &secret.metadata))
    }
}

pub async fn survey(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
) -> anyhow::Result<Surveyed> {
    // Helm's history that adopt kept is read now, beside the records, and not after the
    // uninstall's writes, when a list waits for the API server's cache to catch up with them.
    let (secrets, helm_history) = futures::join!(
        release_secrets::managed_in(client, &release.namespace),
        helm_handover::kept_history(client, release)
    );
    let secrets =
        secrets.with_context(|| format!("cannot read the records of release {}", release.name))?;
    let helm_history = helm_history.with_context(|| {
        format!(
            "cannot read the Helm history adopt kept for release {}",
            release.name
        )
    })?;
    let history = History::new(release_secrets::records_among(&secrets, &release.name)?);
    let objects = history.every_object();
    let wanted: Vec<&ObjectRef> = objects.iter().collect();
    snapshot.record_list(
        Listed::Labelled,
        Some(&release.namespace),
        &secrets,
        &wanted,
    )?;
    Ok(Surveyed {
        history,
        secrets,
        helm_history,
    })
}

/// Uninstalls; what the run read before (`snapshot`) is not read again.
pub async fn run<S: ReleaseStorage>(
    manager: &ObjectManager,
    snapshot: &Snapshot,
    storage: &S,
    release: &Release,
    history: &History,
    options: &Options,
    progress: &mut dyn Progress,
) -> anyhow::Result<Outcome> {
    let Some(latest) = history.latest() else {
        return Ok(Outcome::NotFound);
    };
    let observation = decide::Observation {
        namespace_exists: true,
        live: snapshot.observe(manager, &history.every_object()).await?,
    };
    let teardown = decide::teardown(release, history, &observation, options.delete_data);
    // With --delete-namespace the namespace is read anyway: one being deleted already (a
    // stopped uninstall asked for it) is known before its residents are weighed.
    if options.delete_namespace
        && !options.dry_run
        && snapshot
            .read(manager, &namespace_ref(&release.namespace))
            .await?
            .is_some_and(|ns| ns.metadata.deletion_timestamp.is_some())
    {
        return in_terminating_namespace(manager, release, history, teardown, &observation).await;
    }
    let (namespace, residents) =
        namespace_plan(manager, snapshot, release, history, &teardown, options).await?;
    if options.dry_run {
        return Ok(Outcome::WouldUninstall {
            teardown,
            namespace,
        });
    }
    // A namespace being deleted refuses the lock: that refusal is how a run learns of it, with
    // no read of the namespace before.
    let lock = match lock::acquire(
        manager.client(),
        &release.namespace,
        &release.name,
        "uninstall",
        options.force_unlock,
    )
    .await
    {
        Err(lock::LockError::NamespaceTerminating { .. }) => {
            return in_terminating_namespace(manager, release, history, teardown, &observation)
                .await;
        }
        lock => lock?,
    };
    interrupt_point::reached(Point::LockTaken);
    let result = async {
        storage
            .update(&ReleaseRecord {
                status: ReleaseStatus::Uninstalling,
                description: "Uninstall under way".into(),
                ..latest.clone()
            })
            .await?;
        interrupt_point::reached(Point::RecordedUninstalling);
        lock.ensure_held()?;
        let done = manager
            .delete_owned(&teardown.delete, release, history, &observation.live)
            .await?;
        if let Some(timeout) = options.wait {
            let pending: Vec<ObjectRef> = done.pending.keys().cloned().collect();
            wait::until_gone(manager, &pending, &done.pending, timeout, progress).await?;
        }
        interrupt_point::reached(Point::ObjectsDeleted);
        lock.ensure_held()?;
        // The namespace goes before the records, and takes them with it: a run stopped after
        // this still finds the release, and deletes the namespace when run again.
        let mut newcomers = Vec::new();
        let namespace_deleted = match &namespace {
            NamespacePlan::Deleted { uid, .. } => {
                newcomers = namespace_deletion::newcomers(
                    release,
                    &residents,
                    &manager.residents(&release.namespace).await?,
                );
                newcomers.is_empty() && manager.delete_namespace_if(&release.namespace, uid).await?
            }
            NamespacePlan::Stays | NamespacePlan::NotCreatedBySkyctl => false,
        };
        if options.keep_history {
            storage
                .update(&ReleaseRecord {
                    status: ReleaseStatus::Uninstalled,
                    description: "Uninstallation complete".into(),
                    ..latest.clone()
                })
                .await?;
        } else if !namespace_deleted {
            storage.delete_all(&history.records).await?;
        }
        anyhow::Ok((done, namespace_deleted, newcomers))
    }
    .await;
    let released = lock.release().await;
    let (done, namespace_deleted, newcomers) = result.map_err(|err| {
        err.context(format!(
            "uninstall of release {} stopped; run it again to finish",
            release.name
        ))
    })?;
    released?;
    interrupt_point::reached(Point::RecordsDeleted);
    if let (true, Some(timeout)) = (namespace_deleted, options.wait) {
        wait::until_gone(
            manager,
            &[namespace_ref(&release.namespace)],
            &wait::Seen::new(),
            timeout,
            progress,
        )
        .await?;
    }
    Ok(uninstalled(
        teardown,
        done,
        namespace_deleted,
        false,
        newcomers,
    ))
}

fn uninstalled(
    teardown: decide::Teardown,
    done: Deleted,
    namespace_deleted: bool,
    namespace_was_going: bool,
    newcomers: Vec<ObjectRef>,
) -> Outcome {
    let mut kept = teardown.keep;
    kept.extend(done.kept);
    Outcome::Uninstalled {
        deleted: done.deleted,
        kept,
        retained: teardown.retain,
        namespace_deleted,
        namespace_was_going,
        newcomers,
    }
}

/// Uninstall in a namespace being deleted (a stopped uninstall asked for it, or kubectl):
/// nothing can be made there, a lock neither, and what is in it goes with it, records included.
/// What the release owns outside it would then have no record left to find it by: it goes now.
async fn in_terminating_namespace(
    manager: &ObjectManager,
    release: &Release,
    history: &History,
    teardown: decide::Teardown,
    observation: &decide::Observation,
) -> anyhow::Result<Outcome> {
    let done = manager
        .delete_owned(&teardown.delete, release, history, &observation.live)
        .await?;
    Ok(uninstalled(teardown, done, true, true, Vec::new()))
}

/// Whether the namespace goes, read before anything is written; with the residents it was
/// decided on. Refuses when it holds what is not the release's and was not named to go.
async fn namespace_plan(
    manager: &ObjectManager,
    snapshot: &Snapshot,
    release: &Release,
    history: &History,
    teardown: &decide::Teardown,
    options: &Options,
) -> anyhow::Result<(NamespacePlan, Vec<Resident>)> {
    if !options.delete_namespace {
        return Ok((NamespacePlan::Stays, Vec::new()));
    }
    if !history.created_namespace() {
        // The namespace stays: what --also-delete names would stay with it, unsaid.
        if !options.also_delete.is_empty() {
            return Err(invalid_input(anyhow::anyhow!(
                "namespace {} was not created by skyctl for release {}, so it stays, and \
                 nothing --also-delete names goes with it. Nothing was changed. Drop \
                 --delete-namespace and --also-delete (delete those objects with kubectl)",
                release.namespace,
                release.name
            )));
        }
        return Ok((NamespacePlan::NotCreatedBySkyctl, Vec::new()));
    }
    let Some(live) = snapshot
        .read(manager, &namespace_ref(&release.namespace))
        .await?
    else {
        return Ok((NamespacePlan::Stays, Vec::new()));
    };
    let residents = manager.residents(&release.namespace).await?;
    let assessment = namespace_deletion::assess(
        release,
        teardown,
        &residents,
        &options.also_delete,
        options.delete_helm_history,
    );
    if !assessment.allows() {
        return Err(invalid_input(NamespaceRefused {
            namespace: release.namespace.clone(),
            release: release.name.clone(),
            assessment,
        }));
    }
    let uid = live.metadata.uid.unwrap_or_default();
    let named = assessment.named.into_iter().map(|(id, _)| id).collect();
    Ok((NamespacePlan::Deleted { uid, named }, residents))
}
