//! Every decision of a rollout, made before anything is written: whether the operation may
//! run at all, which recorded values an upgrade starts from, whether it is a no-op, what to
//! apply, what to prune and what to leave, how the records move, which revisions the history
//! drops, and what `--atomic` returns to.
//!
//! Pure: the inputs are the release's history, the plan rendered for it and what the cluster
//! holds, read beforehand. `cluster::rollout` and `cluster::teardown` carry the decisions out.

use std::collections::{BTreeMap, BTreeSet};

use kube::api::DynamicObject;

use crate::front_door::FrontDoor;
use crate::manifest::ObjectRef;
use crate::ownership::{self, Change, Keep, Owner};
use crate::plan::{self, Plan};
use crate::release::{History, Release, ReleaseRecord, ReleaseStatus};
use crate::values::Resolved;

/// The field manager of every skyctl write, so that ownership is skyctl's across versions.
pub const FIELD_MANAGER: &str = "skyctl";

/// Which verb asks.
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
    pub fn verb(self) -> &'static str {
        match self {
            Operation::Install => "install",
            Operation::Upgrade { .. } => "upgrade",
            Operation::Rollback { .. } => "rollback",
        }
    }
}

/// The choices of the user that decisions depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub dry_run: bool,
    pub create_namespace: bool,
    /// Revisions to keep; 0 keeps all, as in Helm.
    pub history_max: usize,
    /// Which existing objects that no skyctl release owns are taken over.
    pub take_ownership: TakeOwnership,
}

/// Which existing objects a rollout takes over when no skyctl release owns them. Another
/// release's are never taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TakeOwnership {
    /// None: they stop the rollout.
    #[default]
    No,
    /// Any, made by hand or by any Helm release (`--take-ownership`, as Helm's flag).
    Any,
    /// `adopt`: those of the Helm release of the same name and namespace, and unmarked ones
    /// (its hooks made some, as the admission Secret ingress-nginx's certgen Job writes). An
    /// object another Helm release owns stays that release's.
    HelmRelease,
}

impl TakeOwnership {
    /// Whether an object of `owner`, which is no skyctl release, may become `release`'s.
    pub fn allows(self, owner: &Owner, release: &Release) -> bool {
        match (self, owner) {
            (TakeOwnership::No, _) => false,
            (TakeOwnership::Any, _) => true,
            (TakeOwnership::HelmRelease, Owner::Helm { name, namespace }) => {
                *name == release.name && *namespace == release.namespace
            }
            (TakeOwnership::HelmRelease, _) => true,
        }
    }
}

/// What the cluster holds, read before deciding.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub namespace_exists: bool,
    /// The live objects among those rendered and those the release may have to prune; an
    /// object that does not exist is absent.
    pub live: BTreeMap<ObjectRef, DynamicObject>,
}

/// The description of the pending revision of an adopt: a run stopped before it deployed is
/// known by it.
pub const ADOPTING: &str = "Adopting from Helm";

/// Why an operation does not run. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
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
         `skyctl list --all-namespaces` lists the releases of every namespace; \
         `skyctl install {name} -n {namespace}` installs this one."
    )]
    NotFound { name: String, namespace: String },
    #[error(
        "release {name} in namespace {namespace} was never deployed: an adopt was interrupted: \
         run `skyctl adopt {name} -n {namespace}` again. Nothing was changed"
    )]
    AdoptInterrupted { name: String, namespace: String },
    #[error(
        "release {name} in namespace {namespace} is Helm's, not skyctl's: `skyctl adopt {name} \
         -n {namespace}` takes it over (and finishes an adopt that was stopped before it \
         recorded anything). Nothing was changed"
    )]
    HelmsRelease { name: String, namespace: String },
    #[error(
        "release {name} has no revision {revision}; `skyctl history {name} -n {namespace}` \
         lists the revisions it keeps"
    )]
    NoSuchRevision {
        name: String,
        namespace: String,
        revision: u32,
    },
    #[error("namespace {0} does not exist; create it, or pass --create-namespace")]
    NoNamespace(String),
    #[error(
        "release {name} was uninstalled with --keep-history: it has no deployed revision to \
         upgrade. `skyctl install {name} -n {namespace}` installs it again, `skyctl rollback \
         {name} REVISION -n {namespace}` returns to one of its revisions"
    )]
    Uninstalled { name: String, namespace: String },
    #[error(
        "{object} belongs to {owner}; skyctl never takes over another release's objects. Nothing was changed.\n\
         Uninstall that release first, or share its ingress-nginx by installing this one with \
         --set ingress-nginx.enabled=false."
    )]
    OwnedByOtherRelease {
        object: Box<ObjectRef>,
        owner: Owner,
    },
    #[error(
        "{object} exists and belongs to {owner}; skyctl takes over an object it did not make only when \
         told to. Nothing was changed.\n\
         Pass --take-ownership to make it this release's (uninstall then deletes it), or remove it first."
    )]
    NotOurs {
        object: Box<ObjectRef>,
        owner: Owner,
    },
    #[error(
        "{object} belongs to {owner}, not to the Helm release being adopted; adopt takes over \
         only that release's objects. Nothing was changed.\n\
         Uninstall that Helm release first, or adopt into a chart version that does not render \
         {object}."
    )]
    OtherHelmRelease {
        object: Box<ObjectRef>,
        owner: Owner,
    },
}

impl Refusal {
    /// Refusals the user fixes by changing the command line (exit 2), as opposed to the state
    /// of the cluster (exit 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Refusal::NoNamespace(_) | Refusal::NoSuchRevision { .. } | Refusal::Uninstalled { .. }
        )
    }
}

/// How an upgrade treats the values its release recorded: Helm's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValuesMode {
    /// No flag: the recorded values when the upgrade is given none, else the given ones alone.
    #[default]
    Default,
    /// `--reuse-values`: the given values over the recorded ones, over the values the
    /// recorded revision was computed from.
    Reuse,
    /// `--reset-values`: the given values alone, over today's defaults.
    Reset,
    /// `--reset-then-reuse-values`: the given values over the recorded ones, over today's
    /// defaults.
    ResetThenReuse,
}

/// What an upgrade's values are laid over, besides today's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValuesBase {
    /// Nothing: the recorded values are not used.
    Defaults,
    /// The user values the deployed revision recorded.
    Recorded,
    /// The recorded user values, and under them the values the revision was computed from,
    /// as defaults.
    RecordedAndItsDefaults,
}

/// Which recorded values an upgrade starts from, as Helm's `reuseValues` decides it.
/// `given`: the values flags produced any value (an empty file counts as none, as in Helm);
/// `recorded`: the release has a deployed revision whose values could be reused.
pub fn values_base(mode: ValuesMode, given: bool, recorded: bool) -> ValuesBase {
    match (mode, recorded) {
        (_, false) | (ValuesMode::Reset, _) => ValuesBase::Defaults,
        (ValuesMode::Reuse, true) => ValuesBase::RecordedAndItsDefaults,
        (ValuesMode::ResetThenReuse, true) => ValuesBase::Recorded,
        (ValuesMode::Default, true) if given => ValuesBase::Defaults,
        (ValuesMode::Default, true) => ValuesBase::Recorded,
    }
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing differs from the deployed revision: no lock, no record, no write.
    Unchanged {
        revision: u32,
    },
    Rollout(Box<Rollout>),
}

/// A rollout to carry out, in this order: interrupted revisions marked failed, the new
/// revision recorded as pending, the changes applied, the prune set deleted, the outcome
/// recorded (see [`finish`] and [`fail`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// The API server checks every change and nothing is written.
    pub dry_run: bool,
    /// The namespace is created first.
    pub create_namespace: bool,
    /// Every rendered object, in install order, with what applying it does.
    pub changes: Vec<(ObjectRef, Change)>,
    /// Objects no longer rendered that exist and are this release's: deleted, in order.
    pub prune: Vec<ObjectRef>,
    /// Objects no longer rendered that exist but are not this release's any more: left alone.
    pub keep: Vec<(ObjectRef, Keep)>,
    /// Objects no longer rendered that hold data: kept unless `--delete-data`.
    pub retain: Vec<ObjectRef>,
    /// Revisions a killed skyctl left pending, rewritten as failed.
    pub interrupted: Vec<ReleaseRecord>,
    /// The new revision, recorded as pending before any object is touched.
    pub record: ReleaseRecord,
    /// The release moves to another front door (`skyctl.frontDoor`) and the old door's
    /// objects are pruned: the new door is waited for and checked before they go, so that users
    /// always have one. (A move to another Gateway or class of the same door changes the route
    /// in place: nothing is pruned.)
    pub moves_door: bool,
}

impl Rollout {
    pub fn count(&self, change: Change) -> usize {
        self.changes.iter().filter(|(_, c)| *c == change).count()
    }

    /// The objects to apply, in install order.
    pub fn to_apply(&self) -> impl Iterator<Item = &ObjectRef> {
        self.changes
            .iter()
            .filter(|(_, change)| *change != Change::Unchanged)
            .map(|(id, _)| id)
    }
}

/// Whether the operation may run at all, from what is cheap to know: the history and whether
/// the namespace exists. Verbs ask this before they prompt for anything; [`decide`] asks it
/// again. Returns true when the operation will be an install.
pub fn precheck(
    release: &Release,
    operation: Operation,
    history: &History,
    namespace_exists: bool,
    create_namespace: bool,
) -> Result<bool, Refusal> {
    let installing = check_operation(release, operation, history)?;
    if !namespace_exists && !create_namespace {
        return Err(Refusal::NoNamespace(release.namespace.clone()));
    }
    Ok(installing)
}

/// A refusal of a release skyctl does not know, told in the light of a Helm release of the
/// name with a deployed revision (`helm_deployed`): what to run is adopt, not install.
pub fn beside_helm(refusal: Refusal, helm_deployed: bool) -> Refusal {
    match refusal {
        Refusal::NotFound { name, namespace } if helm_deployed => {
            Refusal::HelmsRelease { name, namespace }
        }
        other => other,
    }
}

/// Decides an install, upgrade or rollback of `release` to `plan`, with `values` to record:
/// the user's, and those the objects were rendered from by `chart_version`.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    release: &Release,
    operation: Operation,
    history: &History,
    plan: &Plan,
    observation: &Observation,
    values: &Resolved,
    chart_version: &str,
    options: Options,
) -> Result<Decision, Refusal> {
    let installing = precheck(
        release,
        operation,
        history,
        observation.namespace_exists,
        options.create_namespace,
    )?;
    let mut changes = Vec::new();
    for manifest in plan.manifests() {
        let live = observation.live.get(&manifest.id);
        if let Some(live) = live {
            match ownership::owner(&live.metadata, release) {
                Owner::This => {}
                owner @ Owner::Other { .. } => {
                    return Err(Refusal::OwnedByOtherRelease {
                        object: Box::new(manifest.id.clone()),
                        owner,
                    });
                }
                owner if options.take_ownership.allows(&owner, release) => {}
                owner if options.take_ownership == TakeOwnership::HelmRelease => {
                    return Err(Refusal::OtherHelmRelease {
                        object: Box::new(manifest.id.clone()),
                        owner,
                    });
                }
                owner => {
                    return Err(Refusal::NotOurs {
                        object: Box::new(manifest.id.clone()),
                        owner,
                    });
                }
            }
        }
        let change = ownership::change(
            &manifest.object,
            live.map(|live| &live.metadata),
            FIELD_MANAGER,
        );
        changes.push((manifest.id.clone(), change));
    }
    let (prune, keep) = prunable(release, history, &plan.prune, observation);
    // A claim no longer rendered stays the release's only while it is there and still its own:
    // one deleted since (an uninstall stopped after deleting it) or taken is no longer listed.
    let retain: Vec<ObjectRef> = plan
        .retain
        .iter()
        .filter(|id| {
            observation
                .live
                .get(id)
                .is_some_and(|live| ownership::owner(&live.metadata, release) == Owner::This)
        })
        .cloned()
        .collect();
    let inventory: Vec<ObjectRef> = plan
        .manifests()
        .map(|m| m.id.clone())
        .chain(retain.iter().cloned())
        .collect();
    // Once marked, always kept: a Namespace the chart renders only while it is missing stays
    // the release's to keep, and its absence from later renders is no change.
    let mut keep_marked: BTreeSet<String> = history
        .records
        .iter()
        .flat_map(|r| r.keep.iter().cloned())
        .collect();
    keep_marked.extend(
        plan.manifests()
            .filter(|m| ownership::marked_keep(&m.object))
            .map(|m| m.id.to_string()),
    );

    if let (false, Some(latest)) = (installing, history.latest()) {
        let nothing_to_do = matches!(operation, Operation::Upgrade { .. })
            && changes.iter().all(|(_, c)| *c == Change::Unchanged)
            && prune.is_empty()
            && latest.status == ReleaseStatus::Deployed
            && latest.values == values.user
            && latest.chart_version == chart_version
            && without(&latest.inventory, &keep_marked) == without(&inventory, &keep_marked);
        if nothing_to_do {
            return Ok(Decision::Unchanged {
                revision: latest.revision,
            });
        }
    }

    let now = crate::release::record::now();
    let status = match (installing, operation) {
        (true, _) => ReleaseStatus::PendingInstall,
        (false, Operation::Rollback { .. }) => ReleaseStatus::PendingRollback,
        (false, _) => ReleaseStatus::PendingUpgrade,
    };
    let adopting = options.take_ownership == TakeOwnership::HelmRelease;
    let record = ReleaseRecord {
        name: release.name.clone(),
        namespace: release.namespace.clone(),
        revision: history.latest().map_or(1, |r| r.revision + 1),
        status,
        description: if adopting {
            ADOPTING.to_owned()
        } else {
            String::new()
        },
        first_deployed: history
            .records
            .first()
            .map_or(now.clone(), |r| r.first_deployed.clone()),
        last_deployed: now,
        skyctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        chart_version: chart_version.to_owned(),
        values: values.user.clone(),
        computed_values: Some(values.values.clone()),
        inventory,
        created_namespace: !observation.namespace_exists || history.created_namespace(),
        uids: BTreeMap::new(),
        keep: keep_marked,
    };
    let interrupted = history
        .records
        .iter()
        .filter(|r| r.status.is_pending())
        .map(|r| {
            fail(
                r,
                &format!("interrupted: skyctl stopped during {}", r.status.as_str()),
            )
        })
        .collect();
    let moves_door = !installing
        && !prune.is_empty()
        && history.deployed().is_some_and(|deployed| {
            let before = deployed
                .computed_values
                .as_ref()
                .unwrap_or(&deployed.values);
            FrontDoor::of(before) != FrontDoor::of(&values.values)
        });
    Ok(Decision::Rollout(Box::new(Rollout {
        dry_run: options.dry_run,
        create_namespace: !observation.namespace_exists,
        changes,
        prune,
        keep,
        retain,
        interrupted,
        record,
        moves_door,
    })))
}

/// Refuses operations the release's state does not allow; true when this will be an install.
fn check_operation(
    release: &Release,
    operation: Operation,
    history: &History,
) -> Result<bool, Refusal> {
    let deployed_once = history.ever_deployed();
    // Kept by `uninstall --keep-history`: its objects are gone. Installing again makes a new
    // revision beside the kept ones (Helm's `install --replace`, and its `upgrade --install`);
    // a rollback returns to a kept revision, as Helm's does.
    let uninstalled = history.uninstalled().is_some();
    match operation {
        Operation::Install | Operation::Upgrade { install: true } if uninstalled => Ok(true),
        Operation::Upgrade { install: false } if uninstalled => Err(Refusal::Uninstalled {
            name: release.name.clone(),
            namespace: release.namespace.clone(),
        }),
        Operation::Install if deployed_once => {
            let latest = history.latest().expect("a deployed release has records");
            Err(Refusal::AlreadyInstalled {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
                revision: latest.revision,
                status: latest.status.as_str(),
            })
        }
        // An install that failed or was interrupted never deployed: installing again retries it.
        Operation::Install | Operation::Upgrade { install: true } if !deployed_once => Ok(true),
        // An adopt stopped before it deployed leaves its pending revision: only adopt finishes
        // it, since Helm's records still hold the values and the leftovers.
        Operation::Upgrade { .. } | Operation::Rollback { .. }
            if history
                .latest()
                .is_some_and(|r| r.status.is_pending() && r.description == ADOPTING) =>
        {
            Err(Refusal::AdoptInterrupted {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
            })
        }
        Operation::Upgrade { .. } | Operation::Rollback { .. }
            if !deployed_once && !uninstalled =>
        {
            Err(Refusal::NotFound {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
            })
        }
        Operation::Rollback { to } if history.revision(to).is_none() => {
            Err(Refusal::NoSuchRevision {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
                revision: to,
            })
        }
        _ => Ok(false),
    }
}

/// The objects of `inventory` but those in `kept`.
fn without<'a>(inventory: &'a [ObjectRef], kept: &BTreeSet<String>) -> Vec<&'a ObjectRef> {
    inventory
        .iter()
        .filter(|id| !kept.contains(&id.to_string()))
        .collect()
}

/// Of `candidates` (objects the release listed and no longer renders), those that exist and
/// are still the release's, in deletion order; and those that exist but are someone else's.
fn prunable(
    release: &Release,
    history: &History,
    candidates: &[ObjectRef],
    observation: &Observation,
) -> (Vec<ObjectRef>, Vec<(ObjectRef, Keep)>) {
    let mut prune = Vec::new();
    let mut keep = Vec::new();
    for id in candidates {
        let Some(live) = observation.live.get(id) else {
            continue;
        };
        // The keep policy counts as the release applied it: a hand-removed annotation does
        // not turn a shared namespace into something an upgrade deletes.
        let verdict = match ownership::may_delete(&live.metadata, release, history.recorded_uid(id))
        {
            Ok(()) if history.marked_keep(id) => Err(Keep::Policy),
            verdict => verdict,
        };
        match verdict {
            Ok(()) => prune.push(id.clone()),
            Err(reason) => keep.push((id.clone(), reason)),
        }
    }
    plan::sort_for_deletion(&mut prune);
    (prune, keep)
}

/// The record of a revision that went live, described by the user's `--description` when
/// there is one, as in Helm.
pub fn deployed(
    record: &ReleaseRecord,
    operation: Operation,
    description: Option<&str>,
) -> ReleaseRecord {
    let description = match (description, record.status, operation) {
        (Some(given), _, _) => given.to_owned(),
        (None, ReleaseStatus::PendingInstall, _) => "Install complete".to_owned(),
        (None, _, Operation::Rollback { to }) => format!("Rollback to {to} complete"),
        _ => "Upgrade complete".to_owned(),
    };
    ReleaseRecord {
        status: ReleaseStatus::Deployed,
        description,
        ..record.clone()
    }
}

/// The record of a revision that failed, and why.
pub fn fail(record: &ReleaseRecord, reason: &str) -> ReleaseRecord {
    ReleaseRecord {
        status: ReleaseStatus::Failed,
        description: reason.to_owned(),
        ..record.clone()
    }
}

/// How the records move once a revision went live.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    /// Records to rewrite: the new one as deployed, every other deployed one as superseded.
    pub update: Vec<ReleaseRecord>,
    /// Records beyond `--history-max`, oldest first; never the deployed one.
    pub delete: Vec<ReleaseRecord>,
}

/// Finishes a rollout: `history` is the release's records as they are now (read again, so
/// that a revision another process deployed meanwhile is superseded too: at most one revision
/// is ever deployed), `done` the new revision.
pub fn finish(history: &History, done: &ReleaseRecord, history_max: usize) -> Finish {
    let mut update = vec![done.clone()];
    update.extend(
        history
            .records
            .iter()
            .filter(|r| r.revision != done.revision && r.status == ReleaseStatus::Deployed)
            .map(|r| ReleaseRecord {
                status: ReleaseStatus::Superseded,
                ..r.clone()
            }),
    );
    let others: Vec<&ReleaseRecord> = history
        .records
        .iter()
        .filter(|r| r.revision != done.revision)
        .collect();
    let delete = if history_max == 0 {
        Vec::new()
    } else {
        let excess = (others.len() + 1).saturating_sub(history_max);
        others.into_iter().take(excess).cloned().collect()
    };
    Finish { update, delete }
}

/// What `--atomic` does after a failed rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The rollout wrote no record: there is nothing to undo.
    Nothing,
    /// Back to the revision that was deployed before.
    RollBackTo(u32),
    /// A first install failed: remove it (keeping its data volume).
    Uninstall,
}

/// `--atomic`'s target, from the history before the rollout and after it failed.
pub fn recovery(before: &History, after: &History) -> Recovery {
    if after.latest().map(|r| r.revision) == before.latest().map(|r| r.revision) {
        return Recovery::Nothing;
    }
    match before.deployed() {
        Some(previous) => Recovery::RollBackTo(previous.revision),
        None => Recovery::Uninstall,
    }
}

/// What uninstall deletes, leaves and keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Teardown {
    /// The release's objects that exist, in deletion order.
    pub delete: Vec<ObjectRef>,
    /// Objects it listed that are someone else's now.
    pub keep: Vec<(ObjectRef, Keep)>,
    /// Objects that hold data, kept unless `--delete-data`.
    pub retain: Vec<ObjectRef>,
}

/// Decides an uninstall: every object any revision listed, as far as it is still the
/// release's. `observation.live` holds those that exist.
pub fn teardown(
    release: &Release,
    history: &History,
    observation: &Observation,
    delete_data: bool,
) -> Teardown {
    let (data, rest): (Vec<ObjectRef>, Vec<ObjectRef>) = history
        .every_object()
        .into_iter()
        .partition(|id| plan::holds_data(id) && !delete_data);
    let (delete, keep) = prunable(release, history, &rest, observation);
    let retain = data
        .into_iter()
        .filter(|id| observation.live.contains_key(id))
        .collect();
    Teardown {
        delete,
        keep,
        retain,
    }
}

#[cfg(test)]
mod tests;
