//! Install, upgrade and rollback on the cluster: read what is there, let `decide` choose,
//! preview every change with the API server, then carry the decision out.
//!
//! [`prepare`] only reads (history, namespace, every rendered and prunable object, and a
//! server-side dry run of each change), so a refusal, a conflict or an invalid object stops
//! the operation before anything was written, and an upgrade with nothing to do ends there.
//! [`carry_out`] writes: the namespace (deleted again if the objects for it fail their
//! preview), the lock, the pending record, the objects phase by phase, the prune, the wait and
//! the outcome. A process killed half-way leaves a pending record and a lock that expires; the
//! next run marks that revision failed and converges.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use kube::api::DynamicObject;
use serde_json::Value;

use super::lock::{self, Lock};
use super::object_manager::{ApplyError, ApplyOptions, ObjectManager};
use super::snapshot::Snapshot;
use super::wait;
use crate::decide::{self, Decision, Operation, Rollout};
use crate::interrupt_point::{self, Point};
use crate::manifest::{Manifest, ObjectRef};
use crate::ownership::{Change, Keep};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::release::{History, Release, ReleaseStorage};
use crate::values::Resolved;

/// What to roll out.
pub struct Request<'a> {
    pub release: &'a Release,
    pub operation: Operation,
    pub plan: Plan,
    /// The values to record: the user's, and all those the objects were rendered from.
    pub values: Resolved,
    /// The chart version the objects were rendered from.
    pub chart_version: &'a str,
    /// The description of the revision once it is deployed (`--description`).
    pub description: Option<String>,
    pub options: decide::Options,
    pub force_conflicts: bool,
    /// The release's records as the verb read them: one list request per command.
    pub history: &'a History,
    /// What this run has read so far (the preflight's survey): not read again.
    pub snapshot: &'a Snapshot,
}

/// How one object would change, as the API server previewed it.
#[derive(Debug, Clone)]
pub struct Preview {
    pub id: ObjectRef,
    pub live: Option<Value>,
    pub planned: Value,
}

/// A decision, checked by the API server and ready to carry out.
pub struct Prepared {
    pub decision: Decision,
    /// Each object the rollout changes, as it is and as it would be.
    pub previews: Vec<Preview>,
    plan: Plan,
    operation: Operation,
    force_conflicts: bool,
    history_max: usize,
    description: Option<String>,
    history: History,
    /// The UIDs of the rendered objects that exist: recorded, so that a later prune or
    /// uninstall deletes these very objects and no others.
    live_uids: Uids,
    /// Namespaces the rendered objects include that do not exist yet.
    created_namespaces: BTreeSet<String>,
    /// The rendered and prunable objects as the decision found them.
    live: BTreeMap<ObjectRef, DynamicObject>,
}

/// The cluster refused what a rollout would write; nothing was changed.
#[derive(Debug, thiserror::Error)]
#[error("{rejected}\n{cleanup}")]
pub struct PreviewFailed {
    rejected: super::object_manager::Rejected,
    cleanup: String,
}

/// Reads, decides and previews. Writes nothing.
pub async fn prepare(manager: &ObjectManager, request: Request<'_>) -> anyhow::Result<Prepared> {
    let Request {
        release,
        operation,
        plan,
        values,
        chart_version,
        options,
        force_conflicts,
        history,
        description,
        snapshot,
    } = request;
    let namespace_exists = snapshot
        .namespace_exists(manager, &release.namespace)
        .await?;
    // Nothing exists in a namespace that does not exist: only cluster-scoped objects are read.
    let ids = plan
        .manifests()
        .map(|m| &m.id)
        .chain(plan.prune.iter())
        .chain(plan.retain.iter())
        .filter(|id| namespace_exists || id.namespace.is_none());
    let live = snapshot.observe(manager, ids).await?;
    let observation = decide::Observation {
        namespace_exists,
        live,
    };
    let decision = decide::decide(
        release,
        operation,
        history,
        &plan,
        &observation,
        &values,
        chart_version,
        options,
    )?;
    // Namespaces the chart renders that do not exist yet (0.13.0's skypilot-system): what goes
    // into them can only be checked in a stand-in until the rollout applies them.
    let created_namespaces: BTreeSet<String> = plan
        .manifests()
        .filter(|m| m.id.kind == "Namespace" && m.id.group().is_empty())
        .filter(|m| !observation.live.contains_key(&m.id))
        .map(|m| m.id.name.clone())
        .collect();
    let mut previews = Vec::new();
    if let Decision::Rollout(rollout) = &decision {
        let changed = manifests(&plan, rollout.to_apply());
        // Objects in a namespace that does not exist yet are checked after it is created, or
        // in a dry run, in a stand-in namespace: the API server refuses anything in a missing
        // namespace, and a dry run must not create it.
        let now: Vec<&Manifest> = changed
            .into_iter()
            .filter(|m| namespace_exists || m.id.namespace.is_none() || options.dry_run)
            .collect();
        let mut missing = created_namespaces.clone();
        if !namespace_exists && options.dry_run {
            missing.insert(release.namespace.clone());
        }
        let planned = manager
            .preview(&now, force_conflicts, &missing)
            .await
            .map_err(|rejected| PreviewFailed {
                rejected,
                cleanup: "Nothing was changed.".into(),
            })?;
        for (manifest, planned) in now.iter().zip(planned) {
            previews.push(Preview {
                id: manifest.id.clone(),
                live: observation
                    .live
                    .get(&manifest.id)
                    .map(serde_json::to_value)
                    .transpose()?,
                planned: serde_json::to_value(planned)?,
            });
        }
    }
    let live_uids = plan
        .manifests()
        .filter_map(|m| {
            let uid = observation.live.get(&m.id)?.metadata.uid.clone()?;
            Some((m.id.to_string(), uid))
        })
        .collect();
    Ok(Prepared {
        decision,
        previews,
        plan,
        operation,
        force_conflicts,
        history_max: options.history_max,
        description,
        history: history.clone(),
        live_uids,
        created_namespaces,
        live: observation.live,
    })
}

impl Prepared {
    /// Every object the rollout renders.
    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.plan.manifests()
    }
}

fn manifests<'p>(plan: &'p Plan, ids: impl Iterator<Item = &'p ObjectRef>) -> Vec<&'p Manifest> {
    let ids: Vec<&ObjectRef> = ids.collect();
    plan.manifests().filter(|m| ids.contains(&&m.id)).collect()
}

/// What a rollout did.
#[derive(Debug)]
pub struct Executed {
    pub revision: u32,
    pub pruned: Vec<ObjectRef>,
    /// Objects the release no longer renders that are someone else's now: left alone.
    pub kept: Vec<(ObjectRef, Keep)>,
}

/// Work the caller does at a point of the rollout; an error stops it there. Awaited in place,
/// never spawned, so it may show progress on the terminal.
pub type Step<'a> =
    &'a (dyn Fn() -> futures::future::LocalBoxFuture<'a, anyhow::Result<()>> + Send + Sync);

/// The caller's work at two points of a rollout.
#[derive(Clone, Copy, Default)]
pub struct Hooks<'a> {
    /// Once the namespace exists and the lock is held, before any object is applied: writing
    /// a Secret the objects read but the release's record must not hold (the OAuth client's).
    pub before_apply: Option<Step<'a>>,
    /// When the release moves to another front door, once the new objects are ready and before
    /// the old door is pruned: showing that users reach the API server through the new one.
    pub before_prune: Option<Step<'a>>,
}

/// How long a move to another front door waits for the new door: the rollout's wait, or five
/// minutes when it was told not to wait, since the old door goes only once the new one is
/// ready.
pub fn door_move_wait(wait: Option<Duration>) -> Duration {
    wait.unwrap_or(Duration::from_secs(300))
}

/// How to carry a rollout out.
#[derive(Clone, Copy)]
pub struct Execution<'a> {
    /// Wait this long for readiness; `None` skips waiting.
    pub wait: Option<Duration>,
    pub force_unlock: bool,
    pub hooks: Hooks<'a>,
}

/// Carries out a prepared rollout: see the module documentation for its steps.
pub async fn carry_out<S: ReleaseStorage>(
    manager: &ObjectManager,
    storage: &S,
    release: &Release,
    prepared: &Prepared,
    execution: Execution<'_>,
    progress: &mut dyn Progress,
) -> anyhow::Result<Executed> {
    let Decision::Rollout(rollout) = &prepared.decision else {
        anyhow::bail!("nothing to carry out: the release is unchanged");
    };
    // A dry run that wrote would be a lie; the verbs stop at the preview, and this makes sure.
    anyhow::ensure!(!rollout.dry_run, "a dry run is never carried out");
    interrupt_point::reached(Point::Prepared);
    if rollout.create_namespace {
        manager.create_namespace(&release.namespace).await?;
        progress.println(&format!("namespace {} created", release.namespace));
        let waiting: Vec<&Manifest> = manifests(&prepared.plan, rollout.to_apply())
            .into_iter()
            .filter(|m| m.id.namespace.is_some())
            .collect();
        if let Err(rejected) = manager
            .preview(
                &waiting,
                prepared.force_conflicts,
                &prepared.created_namespaces,
            )
            .await
        {
            let cleanup = match manager.delete_namespace(&release.namespace).await {
                Ok(_) => format!(
                    "Nothing else was changed: namespace {}, created for this {}, was deleted again.",
                    release.namespace,
                    prepared.operation.verb()
                ),
                Err(err) => format!(
                    "Namespace {} was created for this {} and could not be deleted again ({err:#}); delete it with `kubectl delete namespace {}`.",
                    release.namespace,
                    prepared.operation.verb(),
                    release.namespace
                ),
            };
            return Err(PreviewFailed { rejected, cleanup }.into());
        }
    }
    let lock = lock::acquire(
        manager.client(),
        &release.namespace,
        &release.name,
        prepared.operation.verb(),
        execution.force_unlock,
    )
    .await?;
    interrupt_point::reached(Point::LockTaken);
    let result = match execution.hooks.before_apply {
        Some(before_apply) => before_apply().await,
        None => Ok(()),
    };
    let result = match result {
        Ok(()) => {
            under_lock(
                manager, storage, release, prepared, execution, &lock, progress,
            )
            .await
        }
        Err(err) => Err(err),
    };
    let released = lock.release().await;
    let executed = result?;
    released?;
    Ok(executed)
}

async fn under_lock<S: ReleaseStorage>(
    manager: &ObjectManager,
    storage: &S,
    release: &Release,
    prepared: &Prepared,
    execution: Execution<'_>,
    lock: &Lock,
    progress: &mut dyn Progress,
) -> anyhow::Result<Executed> {
    let Decision::Rollout(rollout) = &prepared.decision else {
        unreachable!("carry_out checked the decision");
    };
    for interrupted in &rollout.interrupted {
        storage.update(interrupted).await?;
    }
    let manifests: Vec<&Manifest> = prepared.plan.manifests().collect();
    storage.create(&rollout.record, &manifests).await?;
    interrupt_point::reached(Point::RecordedPending);
    let mut record = rollout.record.clone();
    let applied = apply_prune_wait(
        manager, release, prepared, rollout, execution, lock, progress,
    )
    .await;
    let result = match applied {
        Ok((uids, executed)) => {
            record.uids = uids;
            finish(storage, &record, prepared, lock)
                .await
                .map(|()| executed)
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(executed) => Ok(executed),
        Err(err) => {
            let failed = decide::fail(&record, &super::api_errors::description(&err));
            // The failure is what the user must hear about; a record that cannot be written
            // is told as well.
            let recorded = storage.update(&failed).await;
            let err = err.context(format!(
                "{} of release {} failed; revision {} is recorded as failed",
                prepared.operation.verb(),
                release.name,
                record.revision
            ));
            Err(match recorded {
                Ok(()) => err,
                Err(write) => {
                    err.context(format!("and the failure could not be recorded: {write:#}"))
                }
            })
        }
    }
}

/// The revision goes live: the records are read again so that any other deployed revision is
/// superseded, and the history is trimmed.
async fn finish<S: ReleaseStorage>(
    storage: &S,
    record: &crate::release::ReleaseRecord,
    prepared: &Prepared,
    lock: &Lock,
) -> anyhow::Result<()> {
    lock.ensure_held()?;
    let now = History::new(storage.list().await?);
    let done = decide::deployed(record, prepared.operation, prepared.description.as_deref());
    let finish = decide::finish(&now, &done, prepared.history_max);
    for record in &finish.update {
        storage.update(record).await?;
    }
    for record in &finish.delete {
        storage.delete(record).await?;
    }
    interrupt_point::reached(Point::RecordedDeployed);
    Ok(())
}

type Uids = std::collections::BTreeMap<String, String>;

async fn apply_prune_wait(
    manager: &ObjectManager,
    release: &Release,
    prepared: &Prepared,
    rollout: &Rollout,
    execution: Execution<'_>,
    lock: &Lock,
    progress: &mut dyn Progress,
) -> anyhow::Result<(Uids, Executed)> {
    let options = ApplyOptions {
        force_conflicts: prepared.force_conflicts,
        dry_run: false,
    };
    let mut uids = prepared.live_uids.clone();
    // What the wait starts from: each object as its apply answered, or as the decision read it.
    let mut seen: wait::Seen = prepared.live.clone();
    for phase in &prepared.plan.phases {
        lock.ensure_held()?;
        let todo: Vec<(&Manifest, Change)> = phase
            .iter()
            .filter_map(|m| {
                let change = rollout.changes.iter().find(|(id, _)| *id == m.id)?.1;
                (change != Change::Unchanged).then_some((m, change))
            })
            .collect();
        // The release's lock keeps other runs out of its namespace, not out of the cluster: an
        // object elsewhere (cluster-wide, or 0.13.0's skypilot-system) believed absent is
        // created, never applied over, so a run that read the cluster before another made it
        // stops here instead of taking it over.
        let results = join_all(todo.iter().map(|(m, change)| {
            let elsewhere = m.id.namespace.as_deref() != Some(release.namespace.as_str());
            match change {
                Change::Create if elsewhere => futures::future::Either::Left(manager.create(m)),
                _ => futures::future::Either::Right(manager.apply(m, options)),
            }
        }))
        .await;
        for ((manifest, change), result) in todo.iter().zip(results) {
            let applied = result.map_err(|err: ApplyError| anyhow::Error::new(err))?;
            if let Some(uid) = &applied.metadata.uid {
                uids.insert(manifest.id.to_string(), uid.clone());
            }
            seen.insert(manifest.id.clone(), applied);
            progress.println(&format!("  {} {change}", manifest.id));
        }
        if !todo.is_empty() {
            interrupt_point::reached(Point::PhaseApplied);
        }
    }
    // Moving to another door, the new one is ready and answers before the old one goes, so
    // that users always have one; otherwise the old objects go first, as Helm's do.
    let ids: Vec<ObjectRef> = prepared.plan.manifests().map(|m| m.id.clone()).collect();
    if rollout.moves_door {
        progress.println(&format!(
            "the release moves to another front door: {}",
            door_move(execution.hooks.before_prune.is_some())
        ));
        let timeout = door_move_wait(execution.wait);
        until_ready(manager, &ids, &seen, timeout, lock, progress).await?;
        if let Some(check) = execution.hooks.before_prune {
            check().await?;
        }
    }
    lock.ensure_held()?;
    let deleted = manager
        .delete_owned(&rollout.prune, release, &prepared.history, &prepared.live)
        .await?;
    for id in &deleted.deleted {
        progress.println(&format!("  {id} pruned"));
    }
    interrupt_point::reached(Point::Pruned);
    for (id, why) in rollout.keep.iter().chain(&deleted.kept) {
        progress.println(&format!("  {id} left alone: {why}"));
    }
    for id in &rollout.retain {
        progress.println(&format!(
            "  {id} kept: it holds data. Delete it with `kubectl delete -n {} pvc {}`, or run with --delete-data",
            id.namespace.as_deref().unwrap_or_default(),
            id.name
        ));
    }
    if let (Some(timeout), false) = (execution.wait, rollout.moves_door) {
        until_ready(manager, &ids, &seen, timeout, lock, progress).await?;
    }
    interrupt_point::reached(Point::Waited);
    let mut kept = rollout.keep.clone();
    kept.extend(deleted.kept);
    Ok((
        uids,
        Executed {
            revision: rollout.record.revision,
            pruned: deleted.deleted,
            kept,
        },
    ))
}

/// What a move to another front door waits for before the old door goes.
pub fn door_move(checked: bool) -> &'static str {
    if checked {
        "the old one is pruned once the new one is ready and answers"
    } else {
        "the old one is pruned once the new one is ready"
    }
}

/// Waits until every object is ready; a lock lost meanwhile ends the wait, not the timeout.
async fn until_ready(
    manager: &ObjectManager,
    ids: &[ObjectRef],
    seen: &wait::Seen,
    timeout: Duration,
    lock: &Lock,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    tokio::select! {
        ready = wait::until_ready(manager, ids, seen, timeout, progress) => ready,
        lost = lock.lost() => Err(lost.into()),
    }
}

#[cfg(test)]
mod tests;
