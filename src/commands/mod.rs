//! One module per verb. Each orchestrates the services (values, render, plan, cluster, ui)
//! and holds no logic of its own beyond that; what several verbs share is below.

mod completion;
mod install;
mod rollback;
mod status;
mod template;
mod uninstall;
mod upgrade;

use anyhow::Context;
use serde_json::Value;

use crate::cli::{Cli, ClusterArgs, Command, CredsCommand, RolloutArgs, ValuesArgs};
use crate::cluster::apply::{ApplyOptions, Change};
use crate::cluster::release_record::{ReleaseRecord, ReleaseStore};
use crate::cluster::rollout::{self, History, Operation, Outcome, RolloutError};
use crate::cluster::{admission_certificate, teardown};
use crate::error::{NotImplemented, invalid_input};
use crate::manifest::Manifest;
use crate::release::Release;
use crate::render;
use crate::ui::Progress;
use crate::values::{self, ExtraLayer, Layers, Resolved};

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { cluster, command } = cli;
    match command {
        Command::Completion { shell } => completion::run(shell),
        Command::Template(args) => template::run(&cluster, args),
        Command::Install(args) => block_on(install::run(&cluster, args)),
        Command::Upgrade(args) => block_on(upgrade::run(&cluster, args)),
        Command::Rollback(args) => block_on(rollback::run(&cluster, args)),
        Command::Uninstall(args) => block_on(uninstall::run(&cluster, args)),
        Command::Status(args) => block_on(status::run(&cluster, args)),
        Command::Endpoint(_) => Err(NotImplemented("endpoint").into()),
        Command::Creds {
            command: CredsCommand::Add { .. },
        } => Err(NotImplemented("creds add").into()),
    }
}

/// A single-threaded runtime: starting it costs next to nothing, and the concurrency skyctl
/// needs (objects of one phase applied together) is waiting on the network, not computing.
fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(future: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

async fn connect(cluster: &ClusterArgs) -> anyhow::Result<kube::Client> {
    crate::cluster::connect(cluster.kubeconfig.as_deref(), cluster.context.as_deref()).await
}

fn release(cluster: &ClusterArgs, name: &str) -> Release {
    Release {
        name: name.to_owned(),
        namespace: cluster.namespace.clone(),
    }
}

/// The user's values flags, merged over the defaults and validated. Bad input exits 2.
fn resolve_values(args: &ValuesArgs) -> anyhow::Result<Resolved> {
    let layers = Layers {
        files: args.files.clone(),
        set_json: args.set_json.clone(),
        set: args.set.clone(),
        set_string: args.set_string.clone(),
        set_file: args.set_file.clone(),
        extra: Vec::new(),
    };
    values::resolve(&layers).map_err(invalid_input)
}

/// The values a revision recorded, over today's defaults.
fn recorded_values(record: &ReleaseRecord) -> anyhow::Result<Resolved> {
    let Value::Object(values) = record.values.clone() else {
        anyhow::bail!(
            "revision {} recorded values that are not a map",
            record.revision
        );
    };
    let layers = Layers {
        extra: vec![ExtraLayer {
            label: format!("the values of revision {}", record.revision),
            values,
        }],
        ..Layers::default()
    };
    values::resolve(&layers).with_context(|| {
        format!(
            "the values of revision {} no longer validate",
            record.revision
        )
    })
}

/// Every object of the release for these values, with the webhook certificate the cluster
/// already has when it is still good.
async fn render_release(
    client: &kube::Client,
    release: &Release,
    values: &Value,
) -> anyhow::Result<Vec<Manifest>> {
    let certificate = admission_certificate::current_or_new(client, release).await?;
    Ok(render::render(values, release, &certificate)?)
}

/// What revision `record` applied. Its stored manifest leaves Secret data out, so Secrets are
/// rendered again from the revision's values.
async fn revision_manifests(
    client: &kube::Client,
    release: &Release,
    store: &ReleaseStore,
    record: &ReleaseRecord,
) -> anyhow::Result<Vec<Manifest>> {
    let stored = store.manifests(record).await?;
    let rendered = render_release(client, release, &recorded_values(record)?.values).await?;
    Ok(stored
        .into_iter()
        .filter_map(|manifest| {
            if manifest.id.kind == "Secret" && manifest.id.group().is_empty() {
                rendered.iter().find(|r| r.id == manifest.id).cloned()
            } else {
                Some(manifest)
            }
        })
        .collect())
}

fn rollout_options(args: &RolloutArgs) -> rollout::Options {
    rollout::Options {
        apply: ApplyOptions {
            force_conflicts: args.force_conflicts,
            dry_run: args.dry_run,
        },
        diff: args.diff,
        wait: args.wait.limit(),
        delete_data: args.delete_data,
        history_max: args.history_max,
        create_namespace: args.create_namespace,
        force_unlock: args.lock.force_unlock,
    }
}

/// Runs a rollout and reports it; with `--atomic`, a rollout that failed after recording its
/// revision is undone: rolled back to the deployed revision, or uninstalled if there was none.
async fn deploy(
    client: &kube::Client,
    release: &Release,
    operation: Operation,
    manifests: Vec<Manifest>,
    user_values: Value,
    args: &RolloutArgs,
) -> anyhow::Result<()> {
    let before = if args.atomic {
        Some(History::read(client, release).await?.1)
    } else {
        None
    };
    let mut progress = Progress::new();
    let request = rollout::Request {
        release: release.clone(),
        operation,
        manifests,
        values: user_values,
        options: rollout_options(args),
    };
    let result = rollout::run(client, request, &mut progress).await;
    drop(progress);
    match result {
        Ok(outcome) => {
            report(release, operation, &outcome);
            Ok(())
        }
        Err(err) if matches!(err.downcast_ref(), Some(RolloutError::NoNamespace(_))) => {
            Err(invalid_input(err))
        }
        Err(err) => match before {
            Some(before) => Err(undo(client, release, &before, args, err).await),
            None => Err(err),
        },
    }
}

/// `--atomic`'s recovery. Returns the original error, with what the recovery did.
async fn undo(
    client: &kube::Client,
    release: &Release,
    before: &History,
    args: &RolloutArgs,
    err: anyhow::Error,
) -> anyhow::Error {
    let recorded_failure = match History::read(client, release).await {
        Ok((_, after)) => after.latest().map(|r| r.revision) != before.latest().map(|r| r.revision),
        Err(read) => {
            return err.context(format!(
                "--atomic could not read the release to undo it: {read:#}"
            ));
        }
    };
    if !recorded_failure {
        // Nothing was written: there is nothing to undo.
        return err;
    }
    let recovery = match before.deployed() {
        Some(previous) => {
            let store = ReleaseStore::new(client, &release.namespace, &release.name);
            let to = previous.revision;
            let rollback = async {
                let manifests = revision_manifests(client, release, &store, previous).await?;
                let request = rollout::Request {
                    release: release.clone(),
                    operation: Operation::Rollback { to },
                    manifests,
                    values: previous.values.clone(),
                    options: rollout::Options {
                        force_unlock: true,
                        ..rollout_options(args)
                    },
                };
                rollout::run(client, request, &mut Progress::new()).await
            };
            rollback
                .await
                .map(|_| format!("--atomic rolled the release back to revision {to}"))
        }
        None => {
            let options = teardown::Options {
                delete_data: false,
                delete_namespace: false,
                wait: args.wait.limit(),
                force_unlock: true,
            };
            teardown::run(client, release, &options, &mut Progress::new())
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

fn report(release: &Release, operation: Operation, outcome: &Outcome) {
    let count = |changes: &[(crate::manifest::ObjectRef, Change)], change| {
        changes.iter().filter(|(_, c)| *c == change).count()
    };
    match outcome {
        Outcome::Unchanged { revision } => {
            eprintln!(
                "release {} unchanged: nothing to apply (revision {revision} stays deployed)",
                release.name
            );
        }
        Outcome::DryRun { changes, pruned } => {
            eprintln!(
                "dry run: {} object(s) would be created, {} configured, {} unchanged, {} pruned; nothing was changed",
                count(changes, Change::Create),
                count(changes, Change::Update),
                count(changes, Change::Unchanged),
                pruned.len()
            );
        }
        Outcome::Deployed {
            revision,
            changes,
            pruned,
            ..
        } => {
            let verb = match operation {
                Operation::Install => "installed",
                Operation::Upgrade { .. } if *revision == 1 => "installed",
                Operation::Upgrade { .. } => "upgraded",
                Operation::Rollback { .. } => "rolled back",
            };
            eprintln!(
                "release {} {verb} in namespace {} (revision {revision}): {} created, {} configured, {} unchanged, {} pruned",
                release.name,
                release.namespace,
                count(changes, Change::Create),
                count(changes, Change::Update),
                count(changes, Change::Unchanged),
                pruned.len()
            );
        }
    }
}
