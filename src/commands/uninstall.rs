use crate::cli::{ClusterArgs, UninstallArgs};
use crate::cluster::helm_handover::{self, KeptHistory};
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::release_secrets::SecretStorage;
use crate::cluster::shared_classes;
use crate::cluster::snapshot::Snapshot;
use crate::cluster::teardown::{self, NamespacePlan, Outcome};
use crate::credentials::Stored;
use crate::decide::Teardown;
use crate::guide::oauth_client;
use crate::release::Release;
use crate::shared_controller;
use crate::ui::LiveProgress;

pub async fn run(cluster: &ClusterArgs, args: UninstallArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let snapshot = Snapshot::default();
    let surveyed = teardown::survey(&client, &snapshot, &release).await?;
    let history = &surveyed.history;
    let options = teardown::Options {
        delete_data: args.delete_data,
        delete_namespace: args.delete_namespace,
        also_delete: args.also_delete,
        delete_helm_history: args.delete_helm_history,
        wait: args.wait.limit(),
        force_unlock: args.lock.force_unlock,
        dry_run: args.dry_run,
        keep_history: args.keep_history,
    };
    let manager = ObjectManager::new(&client);
    shared_controller_check(
        &manager,
        &snapshot,
        &release,
        history,
        args.remove_shared_controller,
    )
    .await?;
    if history.uninstalled().is_some() && args.keep_history {
        return Err(crate::error::invalid_input(anyhow::anyhow!(
            "release {} is already uninstalled and its history kept; uninstall it without \
             --keep-history to delete the history",
            release.name
        )));
    }
    let storage = SecretStorage::new(&client, &release.namespace, &release.name);
    let mut progress = LiveProgress::new();
    let outcome = teardown::run(
        &manager,
        &snapshot,
        &storage,
        &release,
        history,
        &options,
        &mut progress,
    )
    .await?;
    drop(progress);
    match outcome {
        Outcome::NotFound if args.ignore_not_found => {
            eprintln!(
                "release {} not found in namespace {}: nothing to uninstall",
                release.name, release.namespace
            );
        }
        // As in Helm: a typo in the name or namespace must not look like success.
        Outcome::NotFound => {
            return Err(anyhow::anyhow!(
                "release {} not found in namespace {}: nothing to uninstall.\n\
                 `skyctl list --all-namespaces` lists the releases of every namespace; \
                 --ignore-not-found makes a missing release no error.",
                release.name,
                release.namespace
            ));
        }
        Outcome::WouldUninstall {
            teardown,
            namespace,
        } => {
            report_dry_run(&release, &teardown, &namespace);
            if args.keep_history {
                eprintln!(
                    "  would keep the release's {} revision record(s), the newest marked uninstalled",
                    history.records.len()
                );
            } else if history.uninstalled().is_some() {
                eprintln!(
                    "  would delete the {} revision record(s) uninstall --keep-history kept",
                    history.records.len()
                );
            }
            let kept = surveyed.helm_history.names();
            if !kept.is_empty() {
                let verb = if args.delete_helm_history {
                    "delete"
                } else {
                    "keep"
                };
                eprintln!(
                    "  would {verb} Helm's history of the release, kept by adopt: {}",
                    kept.join(", ")
                );
            }
        }
        Outcome::Uninstalled {
            deleted,
            kept,
            retained,
            namespace_deleted,
            namespace_was_going,
            newcomers,
        } => {
            eprintln!(
                "release {} uninstalled: {} object(s) deleted",
                release.name,
                deleted.len()
            );
            for (id, why) in kept {
                eprintln!("left {id} alone: {why}");
            }
            for id in retained {
                eprintln!(
                    "kept {id}: it holds the API server's state. Delete it with `kubectl delete pvc -n {} {}`, \
                     or uninstall with --delete-data",
                    release.namespace, id.name
                );
            }
            // The OAuth client is the release's own login, not the namespace's credentials: it
            // goes with the release rather than leave its secret behind.
            if !namespace_deleted
                && let Some(secret) = oauth_client::remove_found(
                    &client,
                    &release.namespace,
                    &release.name,
                    surveyed.secret(&oauth_client::secret_name(&release.name)),
                )
                .await?
            {
                eprintln!("deleted Secret {secret}: the release's OAuth client");
            }
            if namespace_was_going {
                eprintln!(
                    "namespace {} was already being deleted: what the release had in it goes \
                     with it",
                    release.namespace
                );
            } else if namespace_deleted {
                eprintln!("namespace {} deleted", release.namespace);
            } else if !newcomers.is_empty() {
                eprintln!(
                    "namespace {} kept: these appeared in it during the uninstall: {}",
                    release.namespace,
                    newcomers
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            } else if args.delete_namespace {
                eprintln!(
                    "namespace {} kept: skyctl did not create it",
                    release.namespace
                );
            }
            if args.delete_data && !namespace_deleted {
                tell_kept_credentials(&release, &surveyed.credentials());
            }
            if !namespace_deleted {
                helm_history(
                    &client,
                    &release,
                    &surveyed.helm_history,
                    args.delete_helm_history,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// What `uninstall --dry-run` found: what would go, what stay and why. Nothing was written.
fn report_dry_run(release: &Release, teardown: &Teardown, namespace: &NamespacePlan) {
    eprintln!(
        "dry run: uninstall of release {} in namespace {} would delete {} object(s); nothing was changed",
        release.name,
        release.namespace,
        teardown.delete.len()
    );
    for id in &teardown.delete {
        eprintln!("  would delete {id}");
    }
    for (id, why) in &teardown.keep {
        eprintln!("  would leave {id} alone: {why}");
    }
    for id in &teardown.retain {
        eprintln!("  would keep {id}: it holds the API server's state (--delete-data deletes it)");
    }
    match namespace {
        NamespacePlan::Stays => {}
        NamespacePlan::NotCreatedBySkyctl => eprintln!(
            "  would keep namespace {}: skyctl did not create it",
            release.namespace
        ),
        NamespacePlan::Deleted { named, .. } => {
            for id in named {
                eprintln!("  would delete {id} with the namespace, as --also-delete names it");
            }
            eprintln!(
                "  would delete namespace {} once the release is gone",
                release.namespace
            );
        }
    }
}

/// The Helm history `adopt --keep-helm-history` kept outlives the release: deleted with
/// `--delete-helm-history`, else named with what it blocks.
async fn helm_history(
    client: &kube::Client,
    release: &Release,
    history: &KeptHistory,
    delete: bool,
) -> anyhow::Result<()> {
    if delete {
        let deleted = helm_handover::delete_kept_history(client, release, history).await?;
        if deleted > 0 {
            eprintln!("deleted Helm's history of the release, kept by adopt: {deleted} record(s)");
        }
        return Ok(());
    }
    let kept = history.names();
    if !kept.is_empty() {
        eprintln!(
            "kept Helm's history of the release, which adopt --keep-helm-history kept: {}. While \
             it exists, `helm install {}` fails; delete it with `kubectl delete secret,configmap \
             -n {} -l {}={}`",
            kept.join(", "),
            release.name,
            release.namespace,
            helm_handover::ADOPTED_LABEL,
            release.name
        );
    }
    Ok(())
}

/// `--delete-data` deletes the release's data; credentials stored with `creds add` belong to
/// the namespace, not the release (another release may use them), so they are kept, and the
/// user who meant to delete everything learns which remain and how they go.
fn tell_kept_credentials(release: &Release, stored: &[Stored]) {
    for s in stored {
        eprintln!(
            "kept credential Secret {}/{}: credentials belong to the namespace, not the release. \
             Remove them with `skyctl creds remove {} -n {}`",
            release.namespace,
            s.secret,
            super::creds::kind_name(s.kind),
            release.namespace
        );
    }
}

async fn shared_controller_check(
    manager: &ObjectManager,
    snapshot: &Snapshot,
    release: &Release,
    history: &crate::release::History,
    remove: bool,
) -> anyhow::Result<()> {
    let Some(sharing) = shared_classes::read(manager, snapshot, release, history).await? else {
        return Ok(());
    };
    let ingresses = match sharing.ingresses {
        Ok(ingresses) => ingresses,
        Err(err) => {
            eprintln!(
                "warning: could not check which releases share this release's ingress-nginx \
                 controller ({}): {err}",
                sharing.classes.join(", ")
            );
            return Ok(());
        }
    };
    let served = shared_controller::served(&sharing.classes, &ingresses, release);
    match shared_controller::on_uninstall(release, &sharing.classes, &served, remove) {
        Ok(Some(warning)) => eprintln!("warning: {warning}"),
        Ok(None) => {}
        Err(refusal) => return Err(crate::error::invalid_input(anyhow::anyhow!(refusal))),
    }
    Ok(())
}
