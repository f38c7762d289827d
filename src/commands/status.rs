use serde::Serialize;

use crate::cli::{ClusterArgs, OutputFormat, StatusArgs};
use crate::cluster::lock;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::readiness::Readiness;
use crate::cluster::snapshot::Snapshot;
use crate::cluster::wait;
use crate::guide::endpoint::{self, Lookup};
use crate::guide::health::{self, Credentials, Problem};
use crate::guide::password;
use crate::release::Release;
use crate::render::ChartNames;

/// What `status -o json|yaml` prints; the text form shows the same.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    release: String,
    namespace: String,
    revision: u32,
    status: &'static str,
    description: String,
    last_deployed: String,
    skyctl_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    locked_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    /// `healthy`, or what stands in the way, from one request to /api/health.
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<String>,
    objects: Vec<ObjectStatus>,
    history: Vec<Revision>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectStatus {
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    name: String,
    ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct Revision {
    revision: u32,
    status: &'static str,
    updated: String,
    description: String,
}

/// What status and the notes say of a release uninstalled with its history kept.
pub(super) const UNINSTALLED: &str =
    "the release was uninstalled with its history kept: nothing of it runs";

pub async fn run(cluster: &ClusterArgs, args: StatusArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::existing_history(&client, &release).await?;
    let latest = super::pick_revision(&history, &release, args.revision)?;
    // The cluster holds the newest revision's objects, unless it was uninstalled with its
    // history kept: an older one is shown as recorded.
    let live = history.latest() == Some(latest) && history.uninstalled().is_none();
    let manager = ObjectManager::new(&client);
    let mut objects = Vec::new();
    for id in latest.inventory.iter().filter(|_| live) {
        let readiness = wait::current(&manager, id).await?;
        objects.push(ObjectStatus {
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            ready: readiness == Readiness::Ready,
            reason: match readiness {
                Readiness::Ready => None,
                Readiness::Pending(reason) => Some(reason),
            },
        });
    }
    let names = super::chart_names(&release, latest)?;
    let lookup = if live {
        endpoint::find(&client, &Snapshot::default(), &release, &names).await?
    } else if history.uninstalled().is_some() && history.latest() == Some(latest) {
        Lookup::Unavailable(UNINSTALLED.into())
    } else {
        Lookup::Unavailable(format!(
            "revision {} is not the newest; its objects, endpoint and health are not shown",
            latest.revision
        ))
    };
    let (endpoint, health) = match lookup {
        Lookup::Found(found) => {
            let username = latest
                .values
                .pointer("/ingress/authCredentials")
                .and_then(serde_json::Value::as_str)
                .and_then(|line| line.split_once(':'))
                .map_or("skypilot", |(user, _)| user);
            let health = health_now(&release, &names, &found, username).await;
            (Some(found.url), Some(health))
        }
        Lookup::Pending(reason) => (None, Some(format!("no endpoint yet: waiting for {reason}"))),
        Lookup::Unavailable(reason) => (None, Some(format!("no endpoint: {reason}"))),
    };
    let report = Report {
        release: release.name.clone(),
        namespace: release.namespace.clone(),
        revision: latest.revision,
        status: latest.status.as_str(),
        description: latest.description.clone(),
        last_deployed: latest.last_deployed.clone(),
        skyctl_version: latest.skyctl_version.clone(),
        locked_by: lock::holder(&client, &release.namespace, &release.name).await?,
        endpoint,
        health,
        objects,
        history: history
            .records
            .iter()
            .map(|r| Revision {
                revision: r.revision,
                status: r.status.as_str(),
                updated: r.last_deployed.clone(),
                description: r.description.clone(),
            })
            .collect(),
    };
    match args.output.output {
        OutputFormat::Text => {
            print_text(&report);
            Ok(())
        }
        format => crate::ui::print(&report, format.into()),
    }
}

/// One health request. With the web password in the environment it logs in; without, an
/// answer asking for the login still proves the way to the server works.
async fn health_now(
    release: &Release,
    names: &ChartNames,
    found: &endpoint::Endpoint,
    username: &str,
) -> String {
    let url = found.url.as_str();
    let credentials = password::from_env().map(|password| Credentials {
        username: username.to_owned(),
        password: password.into(),
    });
    match health::check(&health::client_for(found).await, url, credentials.as_ref()).await {
        Ok(health) => format!(
            "healthy (SkyPilot {}, commit {})",
            health.version, health.commit
        ),
        Err(Problem::CredentialsRejected) if credentials.is_none() => {
            format!(
                "reachable; set {} to check health through the web login",
                password::ENV
            )
        }
        // The way to the server works; the password in the environment is not the login's.
        Err(problem @ Problem::CredentialsRejected) => format!(
            "{problem} for user {username:?} with the password in {}. Next: {}",
            password::ENV,
            problem.next_step(release, names, found)
        ),
        Err(problem) => problem.to_string(),
    }
}

fn print_text(report: &Report) {
    println!("RELEASE: {}", report.release);
    println!("NAMESPACE: {}", report.namespace);
    println!("REVISION: {}", report.revision);
    println!("STATUS: {}", report.status);
    println!("LAST DEPLOYED: {}", report.last_deployed);
    println!("DESCRIPTION: {}", report.description);
    if let Some(holder) = &report.locked_by {
        println!("LOCKED BY: {holder}");
    }
    if let Some(endpoint) = &report.endpoint {
        println!("ENDPOINT: {endpoint}");
    }
    if let Some(health) = &report.health {
        println!("HEALTH: {health}");
    }
    println!();
    let width = report
        .objects
        .iter()
        .map(|o| o.kind.len() + o.name.len() + 1)
        .max()
        .unwrap_or(0);
    println!("{:width$}  READY", "OBJECT");
    for object in &report.objects {
        let name = format!("{}/{}", object.kind, object.name);
        match &object.reason {
            None => println!("{name:width$}  yes"),
            Some(reason) => println!("{name:width$}  no: {reason}"),
        }
    }
    println!();
    println!("REVISION  STATUS            UPDATED               DESCRIPTION");
    for revision in &report.history {
        println!(
            "{:<8}  {:<16}  {:<20}  {}",
            revision.revision, revision.status, revision.updated, revision.description
        );
    }
}
