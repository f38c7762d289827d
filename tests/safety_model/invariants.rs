//! The safety promise, checked after every step against the live cluster and the API
//! server's audit log. Each check returns what it found broken, in words.

use std::collections::BTreeMap;

use skyctl::release::ReleaseStatus;

use super::plan::{Op, Run, Slot};
use super::snapshot::{Key, Owner, Snapshot, resource_of};
use super::support::audit::Request;
use super::support::skyctl::Outcome;
use super::world::SECRET;

/// What one step did and what the cluster held around it.
pub struct Step<'a> {
    pub tag: &'a str,
    pub runs: &'a [Run],
    pub outcomes: &'a [Outcome],
    pub before: &'a Snapshot,
    pub after: &'a Snapshot,
    /// skyctl's requests during the step, in the world's namespaces or cluster-wide.
    pub requests: &'a [Request],
}

impl Step<'_> {
    fn is_operated(&self, namespace: &str, name: &str, run: &Run) -> bool {
        let slot = run.op.slot();
        slot.namespace(self.tag) == namespace && slot.release(self.tag) == name
    }

    /// Whether a run of this step may change an object of `owner`.
    fn may_change(&self, key: &Key, owner: &Owner) -> bool {
        self.runs.iter().any(|run| match owner {
            Owner::Release { namespace, name } => {
                self.is_operated(namespace, name, run)
                    // Helm, installing a release of the name, is Helm's business.
                    || (run.op == Op::HelmInstall && *name == Slot::HelmA.release(self.tag))
            }
            Owner::Helm { namespace, name } => {
                matches!(run.op, Op::Adopt | Op::HelmInstall)
                    && self.is_operated(namespace, name, run)
            }
            Owner::Credentials { namespace } => {
                matches!(run.op, Op::CredsAdd { .. })
                    && run.op.slot().namespace(self.tag) == *namespace
            }
            Owner::Person => false,
            // A namespace: made by an install, deleted by `--delete-namespace`; what it held
            // is checked object by object.
            Owner::Unmarked => {
                key.resource == "namespaces"
                    && run.op.slot().namespace(self.tag) == key.name
                    && matches!(
                        run.op,
                        Op::Install { .. }
                            | Op::Uninstall {
                                delete_namespace: true,
                                ..
                            }
                    )
            }
        })
    }

    fn solo_skyctl(&self) -> bool {
        self.runs.len() == 1 && self.runs[0].op != Op::HelmInstall
    }
}

/// Every check, in the order.
pub fn check(step: &Step<'_>) -> Vec<String> {
    let mut broken = writes_only_own(step);
    broken.extend(others_unchanged(step));
    broken.extend(claims_kept(step));
    broken.extend(exits(step));
    broken
}

/// 1. A skyctl write or delete the API server carried out targets only the operated release's
///    objects, or objects made in this step (absent before it).
fn writes_only_own(step: &Step<'_>) -> Vec<String> {
    step.requests
        .iter()
        .filter(|r| r.persists() && r.succeeded())
        .filter_map(|request| {
            let key = Key {
                resource: request.resource.clone(),
                namespace: request.namespace.clone(),
                name: request.name.clone()?,
            };
            let before = step.before.get(&key)?;
            (!step.may_change(&key, &before.owner)).then(|| {
                format!(
                    "skyctl sent {} {key}, which is {:?}'s",
                    request.verb, before.owner
                )
            })
        })
        .collect()
}

/// 2. What another release, Helm or a person made is neither changed nor deleted.
fn others_unchanged(step: &Step<'_>) -> Vec<String> {
    let mut broken = Vec::new();
    for (key, before) in step.before {
        if before.deleting || step.may_change(key, &before.owner) {
            continue;
        }
        match step.after.get(key) {
            None => broken.push(format!("{key} of {:?} was deleted", before.owner)),
            Some(after) if after.deleting => {
                broken.push(format!("{key} of {:?} is being deleted", before.owner))
            }
            Some(after) if after.uid != before.uid => {
                broken.push(format!("{key} of {:?} was made anew", before.owner))
            }
            Some(after) if after.content != before.content => broken.push(format!(
                "{key} of {:?} changed: {}",
                before.owner,
                difference(&before.content, &after.content)
            )),
            Some(_) => {}
        }
    }
    broken
}

/// 3. A claim goes only with `--delete-data` of its own release.
fn claims_kept(step: &Step<'_>) -> Vec<String> {
    let mut broken = Vec::new();
    for (key, before) in step.before {
        if key.resource != "persistentvolumeclaims" || before.deleting {
            continue;
        }
        let gone = step
            .after
            .get(key)
            .is_none_or(|after| after.deleting || after.uid != before.uid);
        let asked = step.runs.iter().any(|run| match (&before.owner, run.op) {
            (
                Owner::Release { namespace, name },
                Op::Uninstall {
                    delete_data: true, ..
                },
            ) => step.is_operated(namespace, name, run),
            _ => false,
        });
        if gone && !asked {
            broken.push(format!(
                "claim {key} of {:?} was deleted without --delete-data of its release",
                before.owner
            ));
        }
    }
    broken
}

/// 5. Every exit is 0, 1 or 2 (or the kill the step asked for), a refusal (exit 2, or a
///    failure that says "Nothing was changed") wrote nothing, and no output holds the secret.
fn exits(step: &Step<'_>) -> Vec<String> {
    let mut broken = Vec::new();
    for (run, outcome) in step.runs.iter().zip(step.outcomes) {
        if run.op == Op::HelmInstall {
            continue;
        }
        let killed = outcome.signal == Some(libc::SIGKILL) && run.kill.is_some();
        if !killed && !matches!(outcome.code, Some(0..=2)) {
            broken.push(format!(
                "`{run}` ended with {:?} (signal {:?}): {}",
                outcome.code, outcome.signal, outcome.stderr
            ));
        }
        if outcome.stdout.contains(SECRET) || outcome.stderr.contains(SECRET) {
            broken.push(format!("`{run}` printed the secret key"));
        }
    }
    let refused = |outcome: &Outcome| {
        outcome.code == Some(2)
            || (outcome.code == Some(1) && outcome.stderr.contains("Nothing was changed"))
    };
    if step.solo_skyctl() && refused(&step.outcomes[0]) {
        let writes: Vec<String> = step
            .requests
            .iter()
            .filter(|r| r.persists())
            .map(|r| format!("{} {} {:?}", r.verb, r.resource, r.name))
            .collect();
        if !writes.is_empty() {
            broken.push(format!(
                "`{}` refused yet wrote: {}",
                step.runs[0],
                writes.join(", ")
            ));
        }
    }
    broken
}

/// 4. Each release whose newest revision is deployed has every object its record lists, marked
///    as its own, and the very object it applied where it recorded the UID: `status` tells the
///    truth.
pub fn records_agree(
    records: &[skyctl::release::ReleaseRecord],
    after: &Snapshot,
    tag: &str,
) -> Vec<String> {
    let mut newest: BTreeMap<(String, String), &skyctl::release::ReleaseRecord> = BTreeMap::new();
    for record in records {
        let key = (record.namespace.clone(), record.name.clone());
        if newest
            .get(&key)
            .is_none_or(|r| r.revision < record.revision)
        {
            newest.insert(key, record);
        }
    }
    let mut broken = Vec::new();
    for ((namespace, name), record) in newest {
        if record.status != ReleaseStatus::Deployed {
            continue;
        }
        for object in &record.inventory {
            let id = object.to_string();
            let Some(resource) = resource_of(&object.kind) else {
                continue;
            };
            if record.keep.contains(&id) || !object.name.contains(tag) {
                continue;
            }
            let key = Key {
                resource: resource.to_owned(),
                namespace: object.namespace.clone(),
                name: object.name.clone(),
            };
            let own = Owner::Release {
                namespace: namespace.clone(),
                name: name.clone(),
            };
            match after.get(&key) {
                None => broken.push(format!(
                    "release {namespace}/{name} (deployed) lists {id}, which is gone"
                )),
                Some(live) if live.owner != own => broken.push(format!(
                    "release {namespace}/{name} (deployed) lists {id}, which is {:?}'s",
                    live.owner
                )),
                Some(live) if record.uid_of(object).is_some_and(|uid| uid != live.uid) => broken
                    .push(format!(
                        "release {namespace}/{name} (deployed) lists {id}, made anew since"
                    )),
                Some(_) => {}
            }
        }
    }
    broken
}

/// The first place two versions of an object differ, for the report.
fn difference(before: &serde_json::Value, after: &serde_json::Value) -> String {
    let before = serde_json::to_string_pretty(before).unwrap();
    let after = serde_json::to_string_pretty(after).unwrap();
    let at = before
        .lines()
        .zip(after.lines())
        .position(|(b, a)| b != a)
        .unwrap_or(0);
    format!(
        "{:?} became {:?}",
        before.lines().nth(at).unwrap_or(""),
        after.lines().nth(at).unwrap_or("")
    )
}
