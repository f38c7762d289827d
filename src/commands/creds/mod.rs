//! `skyctl creds`: store, list and remove the credentials the API server reads, and turn them
//! on or off in the release that uses them.

use std::io::IsTerminal;
use std::path::Path;

use serde_json::Value;

use crate::cli::{ClusterArgs, CredsCommand, OutputFormat};
use crate::cluster::kept_secrets::{self};
use crate::cluster::release_secrets;
use crate::credentials::{self, Kind, Stored};
use crate::guide::aws_credentials;
use crate::guide::credential_secrets;
use crate::guide::host::Host;
use crate::guide::local_credentials::{AwsLayout, aws, gcp};
use crate::release::recorded_values;
use crate::release::{Release, ReleaseStatus};

mod add;
mod release_change;

use add::add;
use release_change::{Applied, carry_out, credentials_change, plan_release_change};

pub async fn run(cluster: &ClusterArgs, command: CredsCommand) -> anyhow::Result<()> {
    match command {
        CredsCommand::Add {
            source,
            wait,
            take_ownership,
        } => add(cluster, source, wait, take_ownership).await,
        CredsCommand::List { release, output } => {
            let client = super::connect(cluster).await?;
            let release = super::release(cluster, release.name());
            let stored = credential_secrets::list(&client, &release.namespace).await?;
            let users = releases_using(&client, &release.namespace, &stored).await?;
            let elsewhere = credential_secrets::made_elsewhere(&client, &release, &stored).await?;
            if output.output != OutputFormat::Text {
                let rows: Vec<Value> = stored
                    .iter()
                    .zip(&users)
                    .map(|(s, users)| {
                        let mut row = serde_json::to_value(s).expect("serializable");
                        row["usedBy"] = users.clone().into();
                        row["usedByRelease"] = users.contains(&release.name).into();
                        row["madeBySkyctl"] = true.into();
                        row["exists"] = true.into();
                        row
                    })
                    .chain(elsewhere.iter().map(|s| {
                        let mut row = serde_json::to_value(s).expect("serializable");
                        row["usedBy"] = vec![release.name.clone()].into();
                        row["usedByRelease"] = true.into();
                        row["madeBySkyctl"] = false.into();
                        row
                    }))
                    .collect();
                return crate::ui::print(&rows, output.output.into());
            }
            if stored.is_empty() && elsewhere.is_empty() {
                println!("no credentials stored in namespace {}", release.namespace);
            }
            // The longest listed kind sets the column, five wide at least as it always was.
            let width = stored
                .iter()
                .map(|s| s.kind)
                .chain(elsewhere.iter().filter_map(|s| s.kind))
                .map(|kind| kind_name(kind).len())
                .fold(5, usize::max);
            for (s, users) in stored.iter().zip(&users) {
                let project = s
                    .project
                    .as_deref()
                    .map(|p| format!(" (project {p})"))
                    .unwrap_or_default();
                let state = match users.as_slice() {
                    [] => format!("not used by any release in namespace {}", release.namespace),
                    [one] => format!("used by release {one}"),
                    many => format!("used by releases {}", many.join(", ")),
                };
                println!(
                    "{:<width$} Secret {}{project}: {state}",
                    kind_name(s.kind),
                    s.secret
                );
            }
            for s in &elsewhere {
                let state = if s.exists {
                    format!("made outside skyctl, used by release {}", release.name)
                } else {
                    format!(
                        "missing: release {} reads it, and its pods cannot start without it",
                        release.name
                    )
                };
                let kind = s.kind.map(kind_name).unwrap_or_else(|| "-".into());
                println!("{kind:<width$} Secret {}: {state}", s.secret);
            }
            Ok(())
        }
        CredsCommand::Remove {
            kind,
            release,
            wait,
        } => {
            let client = super::connect(cluster).await?;
            let release = super::release(cluster, release.name());
            let removed = credential_secrets::remove(&client, &release.namespace, kind).await?;
            if removed.is_empty() {
                eprintln!(
                    "no {} credentials stored in namespace {}",
                    kind_name(kind),
                    release.namespace
                );
                // A Secret the release reads that skyctl did not store is not skyctl's to delete.
                let stored = credential_secrets::list(&client, &release.namespace).await?;
                for s in credential_secrets::made_elsewhere(&client, &release, &stored)
                    .await?
                    .iter()
                    .filter(|s| s.kind == Some(kind) && s.exists)
                {
                    let (section, key) = crate::credentials::enabled_key(kind);
                    // The kinds that name their Secret are turned off by naming none.
                    let off = match kind {
                        Kind::Db | Kind::Ssh | Kind::Slurm => "null",
                        _ => "false",
                    };
                    eprintln!(
                        "release {} reads Secret {}, made outside skyctl, which deletes only what \
                         it stored: delete it with `kubectl delete secret {} -n {}`, and turn it \
                         off with `skyctl upgrade {} -n {} --reuse-values --set {section}.{key}={off}`",
                        release.name,
                        s.secret,
                        s.secret,
                        release.namespace,
                        release.name,
                        release.namespace
                    );
                }
                return Ok(());
            }
            for stored in &removed {
                eprintln!("Secret {}/{} deleted", release.namespace, stored.secret);
            }
            let planned =
                plan_release_change(&client, &release, credentials_change(removed, false)).await?;
            let applied = carry_out(&client, &release, planned, wait).await?;
            if matches!(applied, Applied::NotInstalled) {
                not_installed(&release);
            }
            Ok(())
        }
    }
}

/// For each stored credential, the releases in the namespace whose deployed revision turns it
/// on: whatever release `--release` names, the one that really uses it.
async fn releases_using(
    client: &kube::Client,
    namespace: &str,
    stored: &[Stored],
) -> anyhow::Result<Vec<Vec<String>>> {
    let records = release_secrets::every_release(client, Some(namespace)).await?;
    let mut deployed: Vec<(String, Value)> = Vec::new();
    for record in records
        .iter()
        .filter(|r| r.status == ReleaseStatus::Deployed)
    {
        deployed.push((
            record.name.clone(),
            recorded_values::computed_values(record)?,
        ));
    }
    deployed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(stored
        .iter()
        .map(|s| {
            deployed
                .iter()
                .filter(|(_, values)| credentials::chosen(s, values).is_some_and(|(uses, _)| uses))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .collect())
}

/// The kind as the command line names it: `aws`, `gcp`, `kube`.
pub(super) fn kind_name(kind: Kind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Says what the next install does with credentials stored for a release not installed yet.
fn not_installed(release: &Release) {
    eprintln!(
        "release {} is not installed in namespace {}: the next `skyctl install {} -n {}` uses \
         these settings",
        release.name, release.namespace, release.name, release.namespace
    );
}

/// On a terminal, before an install: offers to store local AWS and GCP credentials that are not
/// in the namespace yet. (A kubeconfig is never offered unasked: it usually holds the admin's
/// own access to every cluster.) Returns whether it looked: a question may have been asked,
/// and a Secret written.
pub async fn offer_local(client: &kube::Client, release: &Release) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    let host = Host::system();
    let stored = credential_secrets::list(client, &release.namespace).await?;
    let mut candidates = Vec::new();
    if let Ok(found) = aws(
        aws_credentials::AwsRequest::default(),
        AwsLayout::default(),
        &host,
    ) {
        candidates.push(found);
    }
    if let Some(key_file) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS")
        && let Ok(found) = gcp(Path::new(&key_file), None, &host)
    {
        candidates.push(found);
    }
    for found in candidates
        .into_iter()
        .filter(|f| stored.iter().all(|s| s.kind != f.stored.kind))
    {
        let question = format!(
            "Found {}. Store them in namespace {} for the API server?",
            found.from, release.namespace
        );
        if crate::ui::confirm(&question)? {
            let stored = credential_secrets::store(
                client,
                &release.namespace,
                &found.stored,
                found.data,
                false,
            )
            .await;
            match stored {
                Ok(_) => eprintln!(
                    "Secret {}/{} created",
                    release.namespace, found.stored.secret
                ),
                // Offered, not asked for: another's Secret of the name stays, and is said.
                Err(err) if err.chain().any(|c| c.is::<kept_secrets::NotMadeBySkyctl>()) => {
                    eprintln!("left as it is: {err:#}");
                }
                Err(err) => return Err(err),
            }
        }
    }
    Ok(true)
}
