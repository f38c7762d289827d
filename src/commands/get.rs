//! `skyctl get values|manifest|notes|all`: what a revision recorded, as `helm get` prints it.
//! The record holds values only, never Secret data; but values may hold secrets themselves (an
//! OAuth client secret, a database URL with its password), and those are masked, where Helm
//! prints them. So are the secrets in the objects a revision applied.

use crate::cli::{ClusterArgs, GetCommand, GetRevisionArgs, GetValuesArgs, TableFormat};
use crate::cluster::release_secrets::SecretStorage;
use crate::cluster::snapshot::Snapshot;
use crate::guide::endpoint;
use crate::guide::notes;
use crate::manifest::Manifest;
use crate::release::recorded_values;
use crate::release::storage::ReleaseStorage;
use crate::release::{Release, ReleaseRecord};

pub async fn run(cluster: &ClusterArgs, command: GetCommand) -> anyhow::Result<()> {
    match command {
        GetCommand::Values(args) => values(cluster, args).await,
        GetCommand::Manifest(args) => {
            let (client, release, record) = revision(cluster, &args).await?;
            print!("{}", manifest(&client, &release, &record).await?);
            Ok(())
        }
        GetCommand::Notes(args) => {
            let (client, release, record) = revision(cluster, &args).await?;
            print!("{}", notes(&client, &release, &record).await?);
            Ok(())
        }
        GetCommand::All(args) => {
            let (client, release, record) = revision(cluster, &args).await?;
            let user = crate::redacted::mask_values(&record.values);
            let computed =
                crate::redacted::mask_values(&recorded_values::computed_values(&record)?);
            println!("NAME: {}", record.name);
            println!("LAST DEPLOYED: {}", record.last_deployed);
            println!("NAMESPACE: {}", record.namespace);
            println!("STATUS: {}", record.status.as_str());
            println!("REVISION: {}", record.revision);
            println!("CHART: {}", crate::release::listing::chart(&record));
            println!(
                "APP VERSION: {}",
                crate::release::listing::app_version(&computed)
            );
            println!("DESCRIPTION: {}", record.description);
            println!("USER-SUPPLIED VALUES:\n{}", crate::yaml::to_yaml(&user));
            println!("COMPUTED VALUES:\n{}", crate::yaml::to_yaml(&computed));
            println!("MANIFEST:\n{}", manifest(&client, &release, &record).await?);
            print!("NOTES:\n{}", notes(&client, &release, &record).await?);
            Ok(())
        }
    }
}

async fn values(cluster: &ClusterArgs, args: GetValuesArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::existing_history(&client, &release).await?;
    let record = super::pick_revision(&history, &release, args.revision)?;
    let (heading, recorded) = if args.all {
        (
            "COMPUTED VALUES:",
            recorded_values::computed_values(record)?,
        )
    } else {
        ("USER-SUPPLIED VALUES:", record.values.clone())
    };
    let values = crate::redacted::mask_values(&recorded);
    match args.output.output {
        TableFormat::Table => {
            println!("{heading}");
            println!("{}", crate::yaml::to_yaml(&values));
            Ok(())
        }
        format => crate::ui::print(&values, format.into()),
    }
}

/// The record `args` name, with the client that read it.
async fn revision(
    cluster: &ClusterArgs,
    args: &GetRevisionArgs,
) -> anyhow::Result<(kube::Client, Release, ReleaseRecord)> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::existing_history(&client, &release).await?;
    let record = super::pick_revision(&history, &release, args.revision)?.clone();
    Ok((client, release, record))
}

/// The objects the revision applied, as its record stored them (Secret data left out), masked.
async fn manifest(
    client: &kube::Client,
    release: &Release,
    record: &ReleaseRecord,
) -> anyhow::Result<String> {
    let storage = SecretStorage::new(client, &release.namespace, &release.name);
    let shown: Vec<Manifest> = storage
        .manifests(record)
        .await?
        .into_iter()
        .map(|manifest| Manifest {
            object: crate::redacted::mask_object(&manifest.object),
            ..manifest
        })
        .collect();
    Ok(crate::manifest::to_yaml_stream(&shown))
}

/// The notes, with the endpoint as the cluster has it now.
async fn notes(
    client: &kube::Client,
    release: &Release,
    record: &ReleaseRecord,
) -> anyhow::Result<String> {
    let lookup = if record.status == crate::release::ReleaseStatus::Uninstalled {
        endpoint::Lookup::Unavailable(super::status::UNINSTALLED.into())
    } else {
        endpoint::find(
            client,
            &Snapshot::default(),
            release,
            &super::chart_names(release, record)?,
        )
        .await?
    };
    Ok(notes::of_revision(
        &recorded_values::computed_values(record)?,
        &lookup,
    ))
}
