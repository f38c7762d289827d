//! `creds add`: each kind's flags turned into the Secret to store, found on this machine or read
//! from the files named.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use super::not_installed;
use super::release_change::{Applied, carry_out, credentials_change, plan_release_change};
use crate::chart::Chart;
use crate::cli::{ClusterArgs, CredsSource, WaitArgs};
use crate::cluster::kept_secrets::{self, StoreOutcome};
use crate::credentials::{Kind, Stored};
use crate::error::invalid_input;
use crate::guide::credential_secrets;
use crate::guide::host::Host;
use crate::guide::local_credentials::{AwsLayout, Found, aws, cloud, gcp};
use crate::guide::{
    aws_credentials, cloud_keys, database, kube_credentials, skypilot_config, slurm_config,
    ssh_node_pools,
};

pub(super) async fn add(
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
    let client = crate::commands::connect(cluster).await?;
    let release = crate::commands::release(cluster, &release_name);
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
pub(super) fn default_kubeconfig() -> anyhow::Result<PathBuf> {
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
