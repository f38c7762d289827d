//! Install, upgrade and rollback: one flow that takes a release from what its records say to
//! what was rendered.
//!
//! It reads before it writes. History, live objects and a server-side dry run of every change
//! come first, so a conflict or an invalid object stops the operation before anything changed,
//! and an upgrade with nothing to do ends there with zero writes (no lock, no new revision).
//! Then it takes the lock, records the revision as pending, applies phase by phase, prunes,
//! waits, and records the outcome. A process killed half-way leaves a pending record and a lock
//! that expires; the next run marks that revision failed and converges.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context;
use futures::future::join_all;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::apply::{self, ApplyOptions, Change, Observed};
use super::lock;
use super::release_record::{self, ReleaseRecord, ReleaseStatus, ReleaseStore};
use super::wait;
use crate::diff;
use crate::manifest::{Manifest, ObjectRef};
use crate::plan::{self, Plan};
use crate::release::Release;
use crate::ui::Progress;

/// Which verb asked for the rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Install,
    /// `install`: also install when the release does not exist (Helm's `upgrade --install`).
    Upgrade {
        install: bool,
    },
    Rollback {
        to: u32,
    },
}

impl Operation {
    fn verb(self) -> &'static str {
        match self {
            Operation::Install => "install",
            Operation::Upgrade { .. } => "upgrade",
            Operation::Rollback { .. } => "rollback",
        }
    }
}

/// How the rollout behaves; the flags of install, upgrade and rollback.
#[derive(Debug, Clone)]
pub struct Options {
    pub apply: ApplyOptions,
    /// Print a unified diff of every object that would change.
    pub diff: bool,
    /// Wait this long for readiness; `None` skips waiting.
    pub wait: Option<Duration>,
    /// Prune objects that hold data (the PVC) when they are no longer rendered.
    pub delete_data: bool,
    pub history_max: usize,
    pub create_namespace: bool,
    pub force_unlock: bool,
}

pub struct Request {
    pub release: Release,
    pub operation: Operation,
    pub manifests: Vec<Manifest>,
    /// The user-supplied values to record.
    pub values: Value,
    pub options: Options,
    /// The release's records as the caller read them to decide what to roll out: one list
    /// request per command, not one per step.
    pub history: History,
}

/// What a rollout did.
#[derive(Debug)]
pub enum Outcome {
    Deployed {
        revision: u32,
        changes: Vec<(ObjectRef, Change)>,
        pruned: Vec<ObjectRef>,
        retained: Vec<ObjectRef>,
    },
    /// Nothing differed from the recorded, deployed revision: nothing was written.
    Unchanged { revision: u32 },
    /// `--dry-run`: what would change; the apiserver checked it and persisted nothing.
    DryRun {
        changes: Vec<(ObjectRef, Change)>,
        pruned: Vec<ObjectRef>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error(
        "release {name} already exists in namespace {namespace} (revision {revision}, {status}).\n\
         Use `skyctl upgrade {name}` to change it."
    )]
    AlreadyInstalled {
        name: String,
        namespace: String,
        revision: u32,
        status: &'static str,
    },
    #[error(
        "release {name} not found in namespace {namespace}.\n\
         Install it with `skyctl install {name}`, or use `skyctl upgrade --install`."
    )]
    NotFound { name: String, namespace: String },
    #[error("release {name} has no revision {revision}; `skyctl status {name}` lists its history")]
    NoSuchRevision { name: String, revision: u32 },
    #[error("namespace {0} does not exist; create it, or pass --create-namespace")]
    NoNamespace(String),
    /// Each rejection with its causes, as the user reads them.
    #[error("the cluster rejected {} object(s); nothing was changed:\n  {}", .0.len(), .0.join("\n  "))]
    Rejected(Vec<String>),
}

/// The records of a release, and what they say about it.
#[derive(Debug, Clone)]
pub struct History {
    pub records: Vec<ReleaseRecord>,
}

impl History {
    pub async fn read(
        client: &kube::Client,
        release: &Release,
    ) -> anyhow::Result<(ReleaseStore, Self)> {
        let store = ReleaseStore::new(client, &release.namespace, &release.name);
        let records = store.history().await?;
        Ok((store, Self { records }))
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

    fn ever_deployed(&self) -> bool {
        self.records.iter().any(|r| {
            matches!(
                r.status,
                ReleaseStatus::Deployed | ReleaseStatus::Superseded
            )
        })
    }

    /// Objects the release may own on the cluster: those of the deployed revision and of every
    /// later one (failed or interrupted revisions may have created objects before they stopped).
    pub fn owned_objects(&self) -> Vec<ObjectRef> {
        let since = self
            .records
            .iter()
            .rposition(|r| r.status == ReleaseStatus::Deployed)
            .unwrap_or(0);
        self.records[since..]
            .iter()
            .flat_map(|r| r.inventory.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// Runs a rollout; see the module documentation for its steps.
pub async fn run(
    client: &kube::Client,
    request: Request,
    progress: &mut Progress,
) -> anyhow::Result<Outcome> {
    let Request {
        release,
        operation,
        manifests,
        values,
        options,
        history,
    } = request;
    let store = ReleaseStore::new(client, &release.namespace, &release.name);
    let installing = check_operation(&release, operation, &history)?;

    let namespace_exists = namespace_exists(client, &release.namespace).await?;
    if !namespace_exists && !options.create_namespace {
        return Err(RolloutError::NoNamespace(release.namespace.clone()).into());
    }

    let plan = plan::plan(
        manifests,
        &history.owned_objects(),
        options.delete_data,
        &release,
    );
    let observed = if namespace_exists {
        observe_all(client, &plan).await?
    } else {
        // Nothing exists in a namespace that does not exist.
        plan.manifests()
            .map(|m| Observed {
                manifest: m.clone(),
                live: None,
                change: Change::Create,
            })
            .collect()
    };
    let prune = existing(client, &plan.prune).await?;
    let changed: Vec<&Observed> = observed
        .iter()
        .filter(|o| o.change != Change::Unchanged)
        .collect();

    if let (false, Some(latest)) = (installing, history.latest()) {
        let nothing_to_do = changed.is_empty()
            && prune.is_empty()
            && latest.status == ReleaseStatus::Deployed
            && latest.values == values
            && latest.inventory == plan.inventory()
            && matches!(operation, Operation::Upgrade { .. });
        if nothing_to_do {
            return Ok(Outcome::Unchanged {
                revision: latest.revision,
            });
        }
    }

    if namespace_exists {
        preview(client, &changed, &options).await?;
    }
    let changes: Vec<(ObjectRef, Change)> = observed
        .iter()
        .map(|o| (o.manifest.id.clone(), o.change))
        .collect();
    if options.diff {
        for id in &prune {
            println!("--- live/{id}\n+++ planned/{id} (deleted: no longer rendered)");
        }
    }
    if options.apply.dry_run {
        return Ok(Outcome::DryRun {
            changes,
            pruned: prune,
        });
    }

    let created_namespace = if namespace_exists {
        false
    } else {
        create_namespace(client, &release.namespace).await?;
        progress.println(&format!("namespace {} created", release.namespace));
        true
    };
    let lock = lock::acquire(
        client,
        &release.namespace,
        &release.name,
        operation.verb(),
        options.force_unlock,
    )
    .await?;
    let result = execute(
        client,
        &store,
        &history,
        Execution {
            release: &release,
            operation,
            installing,
            plan: &plan,
            observed: &observed,
            prune: &prune,
            values,
            created_namespace,
        },
        &options,
        progress,
    )
    .await;
    let released = lock.release().await;
    let revision = result?;
    released?;
    Ok(Outcome::Deployed {
        revision,
        changes,
        pruned: prune,
        retained: plan.retain.clone(),
    })
}

/// Refuses operations the release's state does not allow; true when this will be an install.
fn check_operation(
    release: &Release,
    operation: Operation,
    history: &History,
) -> Result<bool, RolloutError> {
    let latest = history.latest();
    match operation {
        Operation::Install if history.ever_deployed() => {
            let latest = latest.expect("a deployed release has records");
            Err(RolloutError::AlreadyInstalled {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
                revision: latest.revision,
                status: latest.status.as_str(),
            })
        }
        // An install that failed or was interrupted never deployed: installing again retries it.
        Operation::Install | Operation::Upgrade { install: true } if !history.ever_deployed() => {
            Ok(true)
        }
        Operation::Upgrade { .. } | Operation::Rollback { .. } if !history.ever_deployed() => {
            Err(RolloutError::NotFound {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
            })
        }
        Operation::Rollback { to } if history.revision(to).is_none() => {
            Err(RolloutError::NoSuchRevision {
                name: release.name.clone(),
                revision: to,
            })
        }
        _ => Ok(false),
    }
}

/// Whether the namespace exists (one GET).
pub async fn namespace_exists(client: &kube::Client, namespace: &str) -> anyhow::Result<bool> {
    let api: Api<Namespace> = Api::all(client.clone());
    Ok(api
        .get_opt(namespace)
        .await
        .with_context(|| format!("cannot read namespace {namespace}"))?
        .is_some())
}

async fn create_namespace(client: &kube::Client, namespace: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": namespace, "labels": {"app.kubernetes.io/managed-by": "skyctl"}}});
    api.patch(
        namespace,
        &PatchParams::apply(apply::FIELD_MANAGER),
        &Patch::Apply(&object),
    )
    .await
    .with_context(|| format!("cannot create namespace {namespace}"))?;
    Ok(())
}

async fn observe_all(client: &kube::Client, plan: &Plan) -> anyhow::Result<Vec<Observed>> {
    join_all(plan.manifests().map(|m| apply::observe(client, m.clone())))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(Into::into)
}

/// The objects of `ids` that still exist.
async fn existing(client: &kube::Client, ids: &[ObjectRef]) -> anyhow::Result<Vec<ObjectRef>> {
    let mut found = Vec::new();
    for id in ids {
        if apply::api(client, id)
            .await?
            .get_opt(&id.name)
            .await?
            .is_some()
        {
            found.push(id.clone());
        }
    }
    Ok(found)
}

/// Server-side dry run of every change: the apiserver validates each object and reports every
/// field conflict before anything is written. With `--diff`, prints what would change.
async fn preview(
    client: &kube::Client,
    changed: &[&Observed],
    options: &Options,
) -> anyhow::Result<()> {
    let dry_run = ApplyOptions {
        dry_run: true,
        ..options.apply
    };
    let results = join_all(
        changed
            .iter()
            .map(|o| apply::apply(client, &o.manifest, dry_run)),
    )
    .await;
    let mut rejected = Vec::new();
    for (observed, result) in changed.iter().zip(results) {
        match result {
            Ok(planned) if options.diff => {
                let live = observed
                    .live
                    .as_ref()
                    .map(serde_json::to_value)
                    .transpose()?;
                let planned = serde_json::to_value(planned)?;
                if let Some(text) =
                    diff::unified(&observed.manifest.id.to_string(), live.as_ref(), &planned)
                {
                    print!("{text}");
                }
            }
            Ok(_) => {}
            Err(err) => rejected.push(format!("{:#}", anyhow::Error::from(err))),
        }
    }
    if rejected.is_empty() {
        Ok(())
    } else {
        Err(RolloutError::Rejected(rejected).into())
    }
}

struct Execution<'a> {
    release: &'a Release,
    operation: Operation,
    installing: bool,
    plan: &'a Plan,
    observed: &'a [Observed],
    prune: &'a [ObjectRef],
    values: Value,
    created_namespace: bool,
}

/// The writing half, under the lock. Returns the new revision.
async fn execute(
    client: &kube::Client,
    store: &ReleaseStore,
    history: &History,
    run: Execution<'_>,
    options: &Options,
    progress: &mut Progress,
) -> anyhow::Result<u32> {
    for interrupted in history.records.iter().filter(|r| r.status.is_pending()) {
        let mut record = interrupted.clone();
        record.status = ReleaseStatus::Failed;
        record.description = format!(
            "interrupted: skyctl stopped during {}",
            interrupted.status.as_str()
        );
        store.update(&record).await?;
    }
    let now = release_record::now();
    let (status, description) = match (run.installing, run.operation) {
        (true, _) => (ReleaseStatus::PendingInstall, "Install complete".to_owned()),
        (false, Operation::Rollback { to }) => (
            ReleaseStatus::PendingRollback,
            format!("Rollback to {to} complete"),
        ),
        (false, _) => (ReleaseStatus::PendingUpgrade, "Upgrade complete".to_owned()),
    };
    let mut record = ReleaseRecord {
        name: run.release.name.clone(),
        namespace: run.release.namespace.clone(),
        revision: history.latest().map_or(1, |r| r.revision + 1),
        status,
        description: String::new(),
        first_deployed: history
            .records
            .first()
            .map_or(now.clone(), |r| r.first_deployed.clone()),
        last_deployed: now,
        skyctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        values: run.values.clone(),
        inventory: run.plan.inventory(),
        created_namespace: run.created_namespace
            || history.records.iter().any(|r| r.created_namespace),
    };
    store
        .create(&record, &run.plan.manifests().collect::<Vec<_>>())
        .await?;

    match apply_prune_wait(client, &run, options, progress).await {
        Ok(()) => {
            record.status = ReleaseStatus::Deployed;
            record.description = description;
            store.update(&record).await?;
            if let Some(previous) = history.deployed() {
                let mut previous = previous.clone();
                previous.status = ReleaseStatus::Superseded;
                store.update(&previous).await?;
            }
            trim_history(store, history, options.history_max).await?;
            Ok(record.revision)
        }
        Err(err) => {
            record.status = ReleaseStatus::Failed;
            record.description = format!("{err:#}");
            store.update(&record).await?;
            Err(err.context(format!(
                "{} of release {} failed; revision {} is recorded as failed",
                run.operation.verb(),
                run.release.name,
                record.revision
            )))
        }
    }
}

async fn apply_prune_wait(
    client: &kube::Client,
    run: &Execution<'_>,
    options: &Options,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    for phase in &run.plan.phases {
        let todo: Vec<&Observed> = run
            .observed
            .iter()
            .filter(|o| {
                o.change != Change::Unchanged && phase.iter().any(|m| m.id == o.manifest.id)
            })
            .collect();
        let results = join_all(
            todo.iter()
                .map(|o| apply::apply(client, &o.manifest, options.apply)),
        )
        .await;
        for (observed, result) in todo.iter().zip(results) {
            result?;
            progress.println(&format!("  {} {}", observed.manifest.id, observed.change));
        }
    }
    for id in run.prune {
        let api = apply::api(client, id).await?;
        match api.delete(&id.name, &DeleteParams::background()).await {
            Ok(_) => progress.println(&format!("  {id} pruned")),
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(err) => return Err(anyhow::Error::new(err).context(format!("cannot prune {id}"))),
        }
    }
    for id in &run.plan.retain {
        progress.println(&format!(
            "  {id} kept: it holds data. Delete it with `kubectl delete -n {} pvc {}`, or run with --delete-data",
            id.namespace.as_deref().unwrap_or_default(),
            id.name
        ));
    }
    if let Some(timeout) = options.wait {
        let ids: Vec<ObjectRef> = run.plan.manifests().map(|m| m.id.clone()).collect();
        wait::until_ready(client, &ids, timeout, progress).await?;
    }
    Ok(())
}

/// Keeps the newest `max` records (0 keeps all, as in Helm); the deployed one is never deleted.
async fn trim_history(store: &ReleaseStore, history: &History, max: usize) -> anyhow::Result<()> {
    if max == 0 {
        return Ok(());
    }
    // The history read before this rollout, plus the revision just recorded.
    let keep_old = max.saturating_sub(1);
    let excess = history.records.len().saturating_sub(keep_old);
    for record in history.records.iter().take(excess) {
        store.delete(record).await?;
    }
    Ok(())
}
