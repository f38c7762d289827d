use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::deploy::Outcome;
use crate::chart::Chart;
use crate::cli::{
    ClusterArgs, CredsCommand, CredsSource, LockArgs, OutputFormat, RolloutArgs, WaitArgs,
};
use crate::cluster::kept_secrets::{self, StoreOutcome};
use crate::cluster::release_secrets;
use crate::cluster::snapshot::Snapshot;
use crate::credentials::{self, Kind, Stored};
use crate::decide::Operation;
use crate::error::invalid_input;
use crate::guide::credential_secrets;
use crate::guide::host::Host;
use crate::guide::{
    aws_credentials, cloud_keys, database, gcp_credentials, kube_credentials, skypilot_config,
    slurm_config, ssh_node_pools,
};
use crate::release::{Release, ReleaseStatus};
use crate::render::ChartNames;
use crate::values::{self, ExtraLayer, Layers};

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
        deployed.push((record.name.clone(), super::deploy::computed_values(record)?));
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

/// A cloud whose CLI keeps its credentials in a file or two.
fn cloud(
    kind: Kind,
    request: cloud_keys::CloudRequest,
    host: &Host<'_>,
) -> Result<Found, cloud_keys::CloudKeyError> {
    let credentials = cloud_keys::read(kind, &request, host)?;
    Ok(Found {
        stored: Stored {
            tenant_id: credentials.tenant_id,
            ..Stored::new(kind, kind.default_secret())
        },
        data: credentials.data,
        from: credentials.from,
    })
}

/// The values that turn these stored credentials on or off in a release of `chart`, or why
/// that chart cannot have them.
fn credentials_change(
    stored: Vec<Stored>,
    enabled: bool,
) -> impl FnOnce(&Chart, &Value) -> anyhow::Result<Vec<ExtraLayer>> {
    move |chart, _| {
        let unusable: Vec<String> = stored
            .iter()
            .filter_map(|s| credentials::unsupported_by(s, chart))
            .collect();
        if !unusable.is_empty() {
            return Err(Unusable(unusable.join("; ")).into());
        }
        let verb = if enabled { "add" } else { "remove" };
        Ok(stored
            .iter()
            .map(|s| ExtraLayer {
                label: format!("skyctl creds {verb} {}", kind_name(s.kind)),
                values: credentials::values_for(s, enabled, chart),
            })
            .collect())
    }
}

/// The release's chart lacks values that the change needs: said, and nothing is applied.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Unusable(String);

/// Local credentials ready to store: the Secret, its data, and where they were found.
struct Found {
    stored: Stored,
    data: BTreeMap<String, String>,
    from: String,
}

/// How `creds add aws` stores the keys: which Secret, under which keys, or the AWS CLI's files
/// whole.
struct AwsLayout {
    secret: String,
    credentials_file: bool,
    names: aws_credentials::KeyNames,
}

impl Default for AwsLayout {
    fn default() -> Self {
        AwsLayout {
            secret: aws_credentials::SECRET_NAME.into(),
            credentials_file: false,
            names: aws_credentials::KeyNames::default(),
        }
    }
}

fn aws(
    request: aws_credentials::AwsRequest<'_>,
    layout: AwsLayout,
    host: &Host<'_>,
) -> Result<Found, aws_credentials::AwsCredentialsError> {
    // Only what differs from the chart's defaults, so that the seed-era chart, which has none
    // of these values, still takes the default layout.
    let mut settings = serde_json::Map::new();
    let (data, from) = if layout.credentials_file {
        let files = aws_credentials::read_files(host)?;
        settings.insert("useCredentialsFile".into(), true.into());
        let paths: Vec<String> = files
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        (
            files.secret_data(),
            format!("AWS files {}, every profile", paths.join(" and ")),
        )
    } else {
        let credentials = aws_credentials::resolve(request, host)?;
        let defaults = aws_credentials::KeyNames::default();
        if layout.names.access_key_id != defaults.access_key_id {
            settings.insert(
                "accessKeyIdKeyName".into(),
                layout.names.access_key_id.clone().into(),
            );
        }
        if layout.names.secret_access_key != defaults.secret_access_key {
            settings.insert(
                "secretAccessKeyKeyName".into(),
                layout.names.secret_access_key.clone().into(),
            );
        }
        (
            credentials.secret_data(&layout.names),
            format!(
                "AWS access key id from {}, secret access key from {}",
                credentials.access_key_id_origin, credentials.secret_access_key_origin
            ),
        )
    };
    Ok(Found {
        stored: Stored {
            settings,
            ..Stored::new(Kind::Aws, layout.secret)
        },
        data,
        from,
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
            project: Some(credentials.project_id.clone()),
            ..Stored::new(Kind::Gcp, gcp_credentials::SECRET_NAME)
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

async fn add(
    cluster: &ClusterArgs,
    source: CredsSource,
    wait: WaitArgs,
    take_ownership: bool,
) -> anyhow::Result<()> {
    let host = Host::system();
    // Kubernetes contexts for `kubernetes.allowed_contexts` in the release's SkyPilot config.
    let mut to_allow: Vec<String> = Vec::new();
    let (found, release_name) = match source {
        CredsSource::Aws {
            profile,
            access_key_id,
            secret_access_key_stdin,
            use_credentials_file,
            secret_name,
            access_key_id_key_name,
            secret_access_key_key_name,
            release,
        } => {
            let mut stdin = std::io::stdin();
            let request = aws_credentials::AwsRequest {
                profile,
                access_key_id,
                secret_reader: secret_access_key_stdin.then_some(&mut stdin as &mut dyn Read),
            };
            let layout = AwsLayout {
                secret: secret_name,
                credentials_file: use_credentials_file,
                names: aws_credentials::KeyNames {
                    access_key_id: access_key_id_key_name,
                    secret_access_key: secret_access_key_key_name,
                },
            };
            (
                aws(request, layout, &host).map_err(invalid_input)?,
                release.name().to_owned(),
            )
        }
        CredsSource::Gcp {
            key_file,
            project,
            release,
        } => (
            gcp(&key_file, project.as_deref(), &host).map_err(invalid_input)?,
            release.name().to_owned(),
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
            to_allow.clone_from(&minimized.contexts);
            let found = Found {
                stored: Stored {
                    contexts: minimized.contexts.clone(),
                    ..Stored::new(Kind::Kube, secret_name)
                },
                data: minimized.secret_data(),
                from: format!(
                    "contexts {} from {}",
                    minimized.contexts.join(", "),
                    path.display()
                ),
            };
            (found, release.name().to_owned())
        }
        CredsSource::Runpod { file, release } => (
            cloud(Kind::Runpod, file.into(), &host).map_err(invalid_input)?,
            release.name().to_owned(),
        ),
        CredsSource::Lambda { file, release } => (
            cloud(Kind::Lambda, file.into(), &host).map_err(invalid_input)?,
            release.name().to_owned(),
        ),
        CredsSource::Vast { file, release } => (
            cloud(Kind::Vast, file.into(), &host).map_err(invalid_input)?,
            release.name().to_owned(),
        ),
        CredsSource::Digitalocean { file, release } => (
            cloud(Kind::Digitalocean, file.into(), &host).map_err(invalid_input)?,
            release.name().to_owned(),
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
                release.name().to_owned(),
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
                release.name().to_owned(),
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
                stored: Stored::new(Kind::Db, secret_name),
                data: BTreeMap::from([(database::KEY.to_owned(), connection.url)]),
                from: connection.described,
            };
            (found, release.name().to_owned())
        }
        CredsSource::Slurm { from_file, release } => {
            let config = slurm_config::read(from_file.as_deref(), &host).map_err(invalid_input)?;
            if !config.identity_files.is_empty() {
                eprintln!(
                    "the config names identity files {}: the API server must find them at \
                     those paths (skyctl does not copy keys from a Slurm config)",
                    config.identity_files.join(", ")
                );
            }
            let mut settings = serde_json::Map::new();
            settings.insert("config".into(), config.text.into());
            let found = Found {
                stored: Stored {
                    settings,
                    ..Stored::new(Kind::Slurm, Kind::Slurm.default_secret())
                },
                data: BTreeMap::new(),
                from: format!(
                    "Slurm login nodes {} from {}",
                    config.hosts.join(", "),
                    config.path.display()
                ),
            };
            (found, release.name().to_owned())
        }
        CredsSource::Ssh {
            from_file,
            secret_name,
            release,
        } => {
            let pools = ssh_node_pools::read(from_file.as_deref(), &host).map_err(invalid_input)?;
            let mut settings = serde_json::Map::new();
            settings.insert("sshNodePools".into(), pools.pools_yaml.into());
            let found = Found {
                stored: Stored {
                    settings,
                    ..Stored::new(Kind::Ssh, secret_name)
                },
                from: format!(
                    "SSH node pools {} from {}, with their keys {}",
                    pools.pool_names.join(", "),
                    pools.path.display(),
                    pools.keys.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                data: pools.keys,
            };
            (found, release.name().to_owned())
        }
        CredsSource::Coreweave { from_file, release } => {
            let request = cloud_keys::CloudRequest {
                from_file,
                ..Default::default()
            };
            (
                cloud(Kind::Coreweave, request, &host).map_err(invalid_input)?,
                release.name().to_owned(),
            )
        }
    };
    eprintln!("{}", found.from);
    let Found { stored, data, .. } = found;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &release_name);
    let keys = data.keys().cloned().collect::<Vec<_>>().join(", ");
    let credentials = credentials_change(vec![stored.clone()], true);
    let contexts = to_allow.clone();
    let change = move |chart: &Chart, recorded: &Value| {
        let mut layers = credentials(chart, recorded)?;
        layers.extend(skypilot_config::allowed_contexts_layer(
            recorded, &contexts,
        )?);
        Ok(layers)
    };
    // The values the release would get are checked before the Secret is written: values that
    // cannot work change nothing.
    let planned = plan_release_change(&client, &release, change).await?;
    let outcome =
        credential_secrets::store(&client, &release.namespace, &stored, data, take_ownership)
            .await?;
    let word = match outcome {
        StoreOutcome::Created => "created",
        StoreOutcome::Updated => "updated",
        StoreOutcome::Unchanged => "unchanged",
    };
    if keys.is_empty() {
        // Slurm's: the chart makes the Secret the pod reads from the value.
        eprintln!(
            "Secret {}/{} {word} (it keeps the value {}.config, from which the chart makes \
             the Secret the API server reads)",
            release.namespace,
            stored.secret,
            stored.kind.section()
        );
    } else {
        eprintln!(
            "Secret {}/{} {word} (keys: {keys})",
            release.namespace, stored.secret
        );
    }
    let applied = carry_out(&client, &release, planned, wait).await?;
    if matches!(applied, Applied::NotInstalled) {
        not_installed(&release);
        if !to_allow.is_empty() {
            eprintln!(
                "it also allows contexts {} in the SkyPilot config (kubernetes.allowed_contexts), \
                 kept with the Secret",
                to_allow.join(", ")
            );
        }
    }
    // The pod reads credentials only when it starts: new ones over old need a restart, unless
    // this run's rollout started the API server anew anyway (the values changed its pods).
    if let Applied::Deployed(deployed, names) = &applied
        && !deployed.rolled_api_server()
        && outcome == StoreOutcome::Updated
    {
        kept_secrets::restart_api_server(&client, &release, names).await?;
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

/// What became of a release that credentials were turned on or off in.
enum Applied {
    NotInstalled,
    /// Its chart cannot use them; the reason was printed.
    Unusable,
    /// With the names of the release's objects, as this revision renders them.
    Deployed(Outcome, Box<ChartNames>),
}

/// What a change of credentials does to the release, decided before anything is written.
enum Planned {
    NotInstalled,
    /// Its chart cannot use them; the reason was printed.
    Unusable,
    Upgrade(Box<Upgrade>),
}

/// The upgrade that turns the credentials on or off.
struct Upgrade {
    history: crate::release::History,
    chart: &'static Chart,
    resolved: values::Resolved,
    /// The change edits the SkyPilot config, which the user did not write: it is shown.
    diff: bool,
}

/// The values an installed release gets from its recorded ones and the layers `change` makes
/// from its chart and recorded user values. Values that cannot work (a rule of the chart, a key
/// another layer set) are the command line's to fix: exit 2, before any write.
async fn plan_release_change(
    client: &kube::Client,
    release: &Release,
    change: impl FnOnce(&Chart, &Value) -> anyhow::Result<Vec<ExtraLayer>>,
) -> anyhow::Result<Planned> {
    let history = super::history(client, release).await?;
    let Some(deployed) = history.deployed() else {
        return Ok(Planned::NotInstalled);
    };
    let chart = super::deploy::record_chart(deployed)?;
    let recorded = super::deploy::recorded_layer(deployed)?;
    let layers = match change(chart, &Value::Object(recorded.values.clone())) {
        Ok(layers) => layers,
        Err(err) => {
            let Some(Unusable(why)) = err.downcast_ref() else {
                return Err(err);
            };
            eprintln!("release {} cannot use them yet: {why}", release.name);
            return Ok(Planned::Unusable);
        }
    };
    let diff = layers.iter().any(|layer| {
        layer
            .values
            .get("apiService")
            .and_then(|a| a.get("config"))
            .is_some()
    });
    let resolved = values::resolve(
        chart.definition(),
        &Layers {
            reused: Some(recorded),
            extra: layers,
            ..Layers::default()
        },
    )
    .map_err(|err| {
        invalid_input(anyhow::Error::new(err).context(format!(
            "release {} cannot take this change of credentials; nothing was changed",
            release.name
        )))
    })?;
    Ok(Planned::Upgrade(Box::new(Upgrade {
        history,
        chart,
        resolved,
        diff,
    })))
}

/// Upgrades the release as planned.
async fn carry_out(
    client: &kube::Client,
    release: &Release,
    planned: Planned,
    wait: WaitArgs,
) -> anyhow::Result<Applied> {
    let upgrade = match planned {
        Planned::NotInstalled => return Ok(Applied::NotInstalled),
        Planned::Unusable => return Ok(Applied::Unusable),
        Planned::Upgrade(upgrade) => *upgrade,
    };
    let Upgrade {
        history,
        chart,
        resolved,
        diff,
    } = upgrade;
    let snapshot = Snapshot::default();
    let manifests =
        super::deploy::render_release(client, &snapshot, release, chart, &resolved.values).await?;
    let names = ChartNames::new(release, &resolved.values);
    let args = RolloutArgs {
        dry_run: false,
        diff,
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
        &snapshot,
        None,
    )
    .await?;
    Ok(Applied::Deployed(outcome, Box::new(names)))
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
