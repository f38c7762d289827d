//! A rollout run and told: refused, unchanged, previewed (`--dry-run`) or carried out, with
//! `--atomic`'s recovery after a failure; what it came to, for the summary.

use serde::Serialize;

use super::DeployOptions;
use crate::chart::Chart;
use crate::cli::RolloutArgs;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::recovery;
use crate::cluster::release_secrets::SecretStorage;
use crate::cluster::rollout::{self, Prepared};
use crate::cluster::snapshot::Snapshot;
use crate::decide::{self, Decision, Operation, Refusal, TakeOwnership};
use crate::error::invalid_input;
use crate::guide::login_mode::{self, Mode};
use crate::guide::{self, oauth_client};
use crate::manifest::Manifest;
use crate::ownership::Change;
use crate::plan;
use crate::release::{History, Release, ReleaseStorage};
use crate::render::ChartNames;
use crate::ui::LiveProgress;
use crate::values::Resolved;

/// What a rollout came to, for the report.
#[derive(Debug)]
pub(in crate::commands) enum Outcome {
    Unchanged {
        revision: u32,
        changes: Counts,
    },
    DryRun {
        changes: Counts,
    },
    Deployed {
        revision: u32,
        changes: Counts,
        /// `installed`, `upgraded` or `rolled back`.
        verb: &'static str,
        /// This run created or changed the web login's Secret: the ingress reloads it a
        /// moment later, and may refuse the new password until then.
        login_written: bool,
        /// This run created or changed the API server's Deployment, so its pods start anew
        /// and read the Secrets they mount.
        api_server_rolled: bool,
    },
}

impl Outcome {
    /// Whether the API server's pods started anew in this run.
    pub(in crate::commands) fn rolled_api_server(&self) -> bool {
        matches!(
            self,
            Outcome::Deployed {
                api_server_rolled: true,
                ..
            }
        )
    }
}

/// How many objects a rollout created, configured, left unchanged and pruned.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(in crate::commands) struct Counts {
    created: usize,
    configured: usize,
    unchanged: usize,
    pruned: usize,
}

/// Runs a rollout and reports it: refused, unchanged, previewed (`--dry-run`) or carried out.
/// With `--atomic`, a rollout that failed after recording its revision is undone: rolled back
/// to the deployed revision, or uninstalled if there was none.
#[allow(clippy::too_many_arguments)]
pub(in crate::commands) async fn deploy(
    client: &kube::Client,
    release: &Release,
    operation: Operation,
    chart: &Chart,
    manifests: Vec<Manifest>,
    values: Resolved,
    history: &History,
    args: &RolloutArgs,
    options: &DeployOptions,
    snapshot: &Snapshot,
    hooks: rollout::Hooks<'_>,
) -> anyhow::Result<Outcome> {
    let objects = manifests.len();
    let names = ChartNames::new(release, &values.values);
    let single_sign_on =
        login_mode::chosen_by(&values.values).map(|(mode, _)| mode) == Some(Mode::Oauth);
    let manager = ObjectManager::new(client);
    let storage = SecretStorage::new(client, &release.namespace, &release.name);
    let plan = plan::plan(
        manifests,
        &history.owned_objects(),
        args.delete_data,
        release,
    );
    let request = rollout::Request {
        release,
        operation,
        plan,
        values,
        chart_version: chart.version(),
        description: options.description.clone(),
        options: decide::Options {
            dry_run: args.dry_run,
            create_namespace: options.create_namespace,
            history_max: args.history_max,
            take_ownership: match (options.adopting, args.take_ownership) {
                (true, _) => TakeOwnership::HelmRelease,
                (false, true) => TakeOwnership::Any,
                (false, false) => TakeOwnership::No,
            },
        },
        force_conflicts: args.force_conflicts,
        history,
        snapshot,
    };
    let prepared = match rollout::prepare(&manager, request).await {
        Ok(prepared) => prepared,
        Err(err) => {
            return Err(match err.downcast_ref::<Refusal>() {
                Some(refusal) if refusal.is_bad_input() => invalid_input(err),
                _ => err,
            });
        }
    };
    let rollout = match &prepared.decision {
        Decision::Unchanged { revision } => {
            eprintln!(
                "release {} unchanged: nothing to apply (revision {revision} stays deployed)",
                release.name
            );
            return Ok(Outcome::Unchanged {
                revision: *revision,
                changes: Counts {
                    unchanged: objects,
                    ..Counts::default()
                },
            });
        }
        Decision::Rollout(rollout) => rollout,
    };
    // Only a rollout that changes something can change how users reach the server; a no-op
    // upgrade reads nothing more.
    if let Some(deployed) = history.deployed() {
        let before = storage.manifests(deployed).await?;
        for warning in guide::transition::warnings(&before, prepared.manifests()) {
            eprintln!("warning: {warning}");
        }
        if let Some(warning) =
            guide::config_reach::unapplied_config(release, &names, &before, prepared.manifests())
        {
            eprintln!("warning: {warning}");
        }
    }
    if args.diff {
        print_diff(&prepared, rollout);
    }
    let mut counts = Counts {
        created: rollout.count(Change::Create),
        configured: rollout.count(Change::Update),
        unchanged: rollout.count(Change::Unchanged),
        pruned: rollout.prune.len(),
    };
    if rollout.dry_run {
        eprintln!(
            "dry run: {} object(s) would be created, {} configured, {} unchanged, {} pruned; nothing was changed",
            counts.created, counts.configured, counts.unchanged, counts.pruned
        );
        for (id, why) in &rollout.keep {
            eprintln!("  {id} would be left alone: {why}");
        }
        if rollout.moves_door {
            eprintln!(
                "  the release would move to another front door: {}",
                rollout::door_move(hooks.before_prune.is_some())
            );
        }
        let changes = prepared
            .previews
            .iter()
            .map(|p| (&p.id, p.live.as_ref(), &p.planned));
        for restart in crate::pod_restarts::restarts(changes) {
            eprintln!("  {restart}");
        }
        return Ok(Outcome::DryRun { changes: counts });
    }
    snapshot.forget();
    let mut progress = LiveProgress::new();
    let execution = rollout::Execution {
        wait: args.wait.limit(),
        force_unlock: args.lock.force_unlock,
        hooks,
    };
    let result = rollout::carry_out(
        &manager,
        &storage,
        release,
        &prepared,
        execution,
        &mut progress,
    )
    .await;
    drop(progress);
    let executed = match result {
        Ok(executed) => executed,
        Err(err) if options.atomic => {
            return Err(
                recovery::undo(client, release, history, &recovery_settings(args), err).await,
            );
        }
        Err(err) => return Err(err),
    };
    counts.pruned = executed.pruned.len();
    let verb = match operation {
        Operation::Rollback { .. } => "rolled back",
        _ if rollout.record.status == crate::release::ReleaseStatus::PendingInstall => "installed",
        _ => "upgraded",
    };
    eprintln!(
        "release {} {verb} in namespace {} (revision {}): {} created, {} configured, {} unchanged, {} pruned",
        release.name,
        release.namespace,
        executed.revision,
        counts.created,
        counts.configured,
        counts.unchanged,
        counts.pruned
    );
    let changed = |kind: &str, name: &str| {
        rollout
            .changes
            .iter()
            .any(|(id, change)| id.kind == kind && id.name == name && *change != Change::Unchanged)
    };
    let login_written = changed("Secret", &names.basic_auth);
    let api_server_rolled = changed("Deployment", &names.api_server);
    // The OAuth client Secret is the login's, kept outside the release's objects: a revision
    // with another login (an upgrade, or a rollback to one) no longer reads it, and it must
    // not linger until uninstall.
    if !single_sign_on
        && let Some(secret) =
            oauth_client::remove(client, &release.namespace, &release.name).await?
    {
        eprintln!(
            "deleted Secret {secret}: the OAuth client, which the release's login no longer uses"
        );
    }
    Ok(Outcome::Deployed {
        revision: executed.revision,
        changes: counts,
        verb,
        login_written,
        api_server_rolled,
    })
}

/// What `--atomic`'s recovery repeats of the failed rollout's flags.
fn recovery_settings(args: &RolloutArgs) -> recovery::Settings {
    recovery::Settings {
        delete_data: args.delete_data,
        history_max: args.history_max,
        force_conflicts: args.force_conflicts,
        wait: args.wait.limit(),
    }
}

/// The unified diff of every change, Secret data masked, and every prune.
fn print_diff(prepared: &Prepared, rollout: &decide::Rollout) {
    for preview in &prepared.previews {
        if let Some(text) = crate::diff::unified(
            &preview.id.to_string(),
            preview.live.as_ref(),
            &preview.planned,
        ) {
            print!("{text}");
        }
    }
    for id in &rollout.prune {
        println!("--- live/{id}\n+++ planned/{id} (deleted: no longer rendered)");
    }
}
