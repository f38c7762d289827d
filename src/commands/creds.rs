use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::deploy::Outcome;
use crate::cli::{
    ClusterArgs, CredsCommand, CredsSource, LockArgs, OutputFormat, RolloutArgs, WaitArgs,
};
use crate::cluster::release_secrets;
use crate::decide::Operation;
use crate::error::invalid_input;
use crate::guide::credential_secrets::{self, Kind, StoreOutcome, Stored};
use crate::guide::host::Host;
use crate::guide::{aws_credentials, cloud_keys, database, gcp_credentials, kube_credentials};
use crate::release::{Release, ReleaseStatus};
use crate::values::{self, ExtraLayer, Layers};

pub async fn run(cluster: &ClusterArgs, command: CredsCommand) -> anyhow::Result<()> {
    match command {
        CredsCommand::Add { source, wait } => add(cluster, source, wait).await,
        CredsCommand::List { release, output } => {
            let client = super::connect(cluster).await?;
            let release = super::release(cluster, &release.name);
            let stored = credential_secrets::list(&client, &release.namespace).await?;
            let users = releases_using(&client, &release.namespace, &stored).await?;
            if output.output != OutputFormat::Text {
                let rows: Vec<Value> = stored
                    .iter()
                    .zip(&users)
                    .map(|(s, users)| {
                        let mut row = serde_json::to_value(s).expect("serializable");
                        row["usedBy"] = users.clone().into();
                        row["usedByRelease"] = users.contains(&release.name).into();
                        row
                    })
                    .collect();
                return crate::ui::print(&rows, output.output.into());
            }
            if stored.is_empty() {
                println!("no credentials stored in namespace {}", release.namespace);
            }
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
                    "{:<5} Secret {}{project}: {state}",
                    kind_name(s.kind),
                    s.secret
                );
            }
            Ok(())
        }
        CredsCommand::Remove {
            kind,
            release,
            wait,
        } => {
            let client = super::connect(cluster).await?;
            let release = super::release(cluster, &release.name);
            let removed = credential_secrets::remove(&client, &release.namespace, kind).await?;
            if removed.is_empty() {
                eprintln!(
                    "no {:?} credentials stored in namespace {}",
                    kind, release.namespace
                );
                return Ok(());
            }
            for stored in &removed {
                eprintln!("Secret {}/{} deleted", release.namespace, stored.secret);
            }
            let off: Vec<ExtraLayer> = removed.iter().map(|s| layer(s, false)).collect();
            apply_to_release(&client, &release, off, wait)
                .await
                .map(|_| ())
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
        deployed.push((record.name.clone(), super::deploy::computed_values(record)?));
    }
    deployed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(stored
        .iter()
        .map(|s| {
            deployed
                .iter()
                .filter(|(_, values)| {
                    credential_secrets::chosen(s, values).is_some_and(|(uses, _)| uses)
                })
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

/// A cloud whose CLI keeps its credentials in a file or two.
fn cloud(
    kind: Kind,
    request: cloud_keys::CloudRequest,
    host: &Host<'_>,
) -> Result<Found, cloud_keys::CloudKeyError> {
    let credentials = cloud_keys::read(kind, &request, host)?;
    Ok(Found {
        stored: Stored {
            kind,
            secret: kind.default_secret(),
            project: None,
            tenant_id: credentials.tenant_id,
        },
        data: credentials.data,
        from: credentials.from,
    })
}

fn layer(stored: &Stored, enabled: bool) -> ExtraLayer {
    let verb = if enabled { "add" } else { "remove" };
    ExtraLayer {
        label: format!("skyctl creds {verb} {}", kind_name(stored.kind)),
        values: credential_secrets::values_for(stored, enabled),
    }
}

/// Local credentials ready to store: the Secret, its data, and where they were found.
struct Found {
    stored: Stored,
    data: BTreeMap<String, String>,
    from: String,
}

fn aws(
    request: aws_credentials::AwsRequest<'_>,
    host: &Host<'_>,
) -> Result<Found, aws_credentials::AwsCredentialsError> {
    let credentials = aws_credentials::resolve(request, host)?;
    Ok(Found {
        stored: Stored {
            kind: Kind::Aws,
            secret: aws_credentials::SECRET_NAME.into(),
            project: None,
            tenant_id: None,
        },
        data: credentials.secret_data(),
        from: format!(
            "AWS access key id from {}, secret access key from {}",
            credentials.access_key_id_origin, credentials.secret_access_key_origin
        ),
    })
}

fn gcp(
    key_file: &Path,
    project: Option<&str>,
    host: &Host<'_>,
) -> Result<Found, gcp_credentials::GcpCredentialsError> {
    let credentials = gcp_credentials::load(key_file, project, host)?;
    let source = match credentials.project_from {
        gcp_credentials::ProjectFrom::Argument => "from --project",
        gcp_credentials::ProjectFrom::KeyFile => "from the key file",
    };
    Ok(Found {
        stored: Stored {
            kind: Kind::Gcp,
            secret: gcp_credentials::SECRET_NAME.into(),
            project: Some(credentials.project_id.clone()),
            tenant_id: None,
        },
        data: credentials.secret_data(),
        from: format!(
            "GCP service account {} in {} for project {} ({source})",
            credentials.client_email,
            key_file.display(),
            credentials.project_id
        ),
    })
}

async fn add(cluster: &ClusterArgs, source: CredsSource, wait: WaitArgs) -> anyhow::Result<()> {
    let host = Host::system();
    let (found, release_name) = match source {
        CredsSource::Aws {
            profile,
            access_key_id,
            secret_access_key_stdin,
            release,
        } => {
            let mut stdin = std::io::stdin();
            let request = aws_credentials::AwsRequest {
                profile,
                access_key_id,
                secret_reader: secret_access_key_stdin.then_some(&mut stdin as &mut dyn Read),
            };
            (aws(request, &host).map_err(invalid_input)?, release.name)
        }
        CredsSource::Gcp {
            key_file,
            project,
            release,
        } => (
            gcp(&key_file, project.as_deref(), &host).map_err(invalid_input)?,
            release.name,
        ),
        CredsSource::Kube {
            from_kubeconfig,
            from_contexts,
            secret_name,
            release,
        } => {
            let path = from_kubeconfig
                .map_or_else(default_kubeconfig, Ok)
                .map_err(invalid_input)?;
            let minimized =
                kube_credentials::minimize(&path, &from_contexts, &host).map_err(invalid_input)?;
            for warning in &minimized.warnings {
                eprintln!("warning: {warning}");
            }
            if let Some(snippet) = kube_credentials::allowed_contexts_config(&minimized.contexts) {
                eprintln!(
                    "SkyPilot uses only the contexts its config allows; add this to apiService.config:\n{snippet}"
                );
            }
            let found = Found {
                stored: Stored {
                    kind: Kind::Kube,
                    secret: secret_name,
                    project: None,
                    tenant_id: None,
                },
                data: minimized.secret_data(),
                from: format!(
                    "contexts {} from {}",
                    minimized.contexts.join(", "),
                    path.display()
                ),
            };
            (found, release.name)
        }
        CredsSource::Runpod { file, release } => (
            cloud(Kind::Runpod, file.into(), &host).map_err(invalid_input)?,
            release.name,
        ),
        CredsSource::Lambda { file, release } => (
            cloud(Kind::Lambda, file.into(), &host).map_err(invalid_input)?,
            release.name,
        ),
        CredsSource::Vast { file, release } => (
            cloud(Kind::Vast, file.into(), &host).map_err(invalid_input)?,
            release.name,
        ),
        CredsSource::Digitalocean { file, release } => (
            cloud(Kind::Digitalocean, file.into(), &host).map_err(invalid_input)?,
            release.name,
        ),
        CredsSource::Nebius {
            file,
            tenant_id,
            release,
        } => {
            let request = cloud_keys::CloudRequest {
                tenant_id,
                ..file.into()
            };
            (
                cloud(Kind::Nebius, request, &host).map_err(invalid_input)?,
                release.name,
            )
        }
        CredsSource::R2 {
            file,
            account_id,
            release,
        } => {
            let request = cloud_keys::CloudRequest {
                account_id,
                ..file.into()
            };
            (
                cloud(Kind::R2, request, &host).map_err(invalid_input)?,
                release.name,
            )
        }
        CredsSource::Db {
            connection_string_stdin,
            secret_name,
            release,
        } => {
            let mut stdin = std::io::stdin();
            let reader = connection_string_stdin.then_some(&mut stdin as &mut dyn Read);
            let connection = database::read(reader, &host).map_err(invalid_input)?;
            let found = Found {
                stored: Stored {
                    kind: Kind::Db,
                    secret: secret_name,
                    project: None,
                    tenant_id: None,
                },
                data: BTreeMap::from([(database::KEY.to_owned(), connection.url)]),
                from: connection.described,
            };
            (found, release.name)
        }
        CredsSource::Coreweave { from_file, release } => {
            let request = cloud_keys::CloudRequest {
                from_file,
                ..Default::default()
            };
            (
                cloud(Kind::Coreweave, request, &host).map_err(invalid_input)?,
                release.name,
            )
        }
    };
    eprintln!("{}", found.from);
    let Found { stored, data, .. } = found;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &release_name);
    let keys = data.keys().cloned().collect::<Vec<_>>().join(", ");
    let outcome = credential_secrets::store(&client, &release.namespace, &stored, data).await?;
    let word = match outcome {
        StoreOutcome::Created => "created",
        StoreOutcome::Updated => "updated",
        StoreOutcome::Unchanged => "unchanged",
    };
    eprintln!(
        "Secret {}/{} {word} (keys: {keys})",
        release.namespace, stored.secret
    );
    let applied = apply_to_release(&client, &release, vec![layer(&stored, true)], wait).await?;
    // The values were on already, so nothing rolled the pod; it reads credentials only at start.
    if matches!(applied, Some(Outcome::Unchanged { .. })) && outcome == StoreOutcome::Updated {
        credential_secrets::restart_api_server(&client, &release).await?;
        eprintln!("the API server is restarting to read the new credentials");
    }
    Ok(())
}

/// The kubeconfig kubectl would read: the first file of $KUBECONFIG, else ~/.kube/config.
fn default_kubeconfig() -> anyhow::Result<PathBuf> {
    if let Some(first) =
        std::env::var_os("KUBECONFIG").and_then(|paths| std::env::split_paths(&paths).next())
    {
        return Ok(first);
    }
    let home = std::env::var_os("HOME").ok_or_else(|| {
        anyhow::anyhow!("no HOME to find ~/.kube/config in; pass --from-kubeconfig")
    })?;
    Ok(PathBuf::from(home).join(".kube/config"))
}

/// Upgrades an installed release with its recorded values and `layers` on top; says what the
/// next install does when the release is not installed.
async fn apply_to_release(
    client: &kube::Client,
    release: &Release,
    layers: Vec<ExtraLayer>,
    wait: WaitArgs,
) -> anyhow::Result<Option<Outcome>> {
    let history = super::history(client, release).await?;
    let Some(deployed) = history.deployed() else {
        eprintln!(
            "release {} is not installed in namespace {}: the next `skyctl install` uses these settings",
            release.name, release.namespace
        );
        return Ok(None);
    };
    let chart = super::deploy::record_chart(deployed)?;
    let unusable: Vec<String> = layers
        .iter()
        .filter_map(|layer| {
            let kind = Kind::ALL
                .into_iter()
                .find(|kind| layer.values.contains_key(kind.section()))?;
            credential_secrets::unsupported_by(kind, chart)
        })
        .collect();
    if !unusable.is_empty() {
        eprintln!(
            "release {} cannot use them yet: {}",
            release.name,
            unusable.join("; ")
        );
        return Ok(None);
    }
    let resolved = values::resolve(
        chart,
        &Layers {
            reused: Some(super::deploy::recorded_layer(deployed)?),
            extra: layers,
            ..Layers::default()
        },
    )?;
    let manifests = super::deploy::render_release(client, release, chart, &resolved.values).await?;
    let args = RolloutArgs {
        dry_run: false,
        diff: false,
        force_conflicts: false,
        delete_data: false,
        history_max: 10,
        take_ownership: false,
        wait,
        lock: LockArgs {
            force_unlock: false,
        },
    };
    let outcome = super::deploy::deploy(
        client,
        release,
        Operation::Upgrade { install: false },
        chart,
        manifests,
        resolved,
        &history,
        &args,
        &super::deploy::DeployOptions::default(),
        None,
    )
    .await?;
    Ok(Some(outcome))
}

/// On a terminal, before an install: offers to store local AWS and GCP credentials that are not
/// in the namespace yet. (A kubeconfig is never offered unasked: it usually holds the admin's
/// own access to every cluster.)
pub async fn offer_local(client: &kube::Client, release: &Release) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Ok(());
    }
    let host = Host::system();
    let stored = credential_secrets::list(client, &release.namespace).await?;
    let mut candidates = Vec::new();
    if let Ok(found) = aws(aws_credentials::AwsRequest::default(), &host) {
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
            credential_secrets::store(client, &release.namespace, &found.stored, found.data)
                .await?;
            eprintln!(
                "Secret {}/{} created",
                release.namespace, found.stored.secret
            );
        }
    }
    Ok(())
}
