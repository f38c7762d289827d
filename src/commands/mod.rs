//! One module per verb. Each turns its flags into typed requests and orchestrates the services
//! (values, render, decide, cluster, guide, ui); what several verbs share is in `deploy` and
//! `web_login`. clap's types stop here.

mod adopt;
mod completion;
pub(crate) mod creds;
mod deploy;
mod doctor;
mod endpoint;
mod get;
mod history;
mod install;
mod list;
mod preflight;
mod rollback;
mod status;
mod template;
mod uninstall;
mod upgrade;
mod version;
mod web_login;

use crate::chart::Chart;
use crate::cli::{Cli, ClusterArgs, Command, FrontDoorArgs, ValuesArgs};
use crate::cluster::release_secrets::SecretStorage;
use crate::decide::Refusal;
use crate::error::invalid_input;
use crate::front_door;
use crate::release::recorded_values;
use crate::release::{History, Release, ReleaseStorage};
use crate::values::{self, Layers, Resolved};

/// Runs the command the user asked for. Errors from the API server are told plainly, and a
/// failed connection names the server and the kubeconfig it came from.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { cluster, command } = cli;
    let result = match command {
        Command::Completion { shell } => completion::run(shell),
        Command::Version(args) => version::run(args),
        Command::Template(args) => template::run(&cluster, args),
        Command::Adopt(args) => block_on(adopt::run(&cluster, args)),
        Command::Doctor(args) => block_on(doctor::run(&cluster, args)),
        Command::Install(args) => block_on(install::run(&cluster, args)),
        Command::Upgrade(args) => block_on(upgrade::run(&cluster, args)),
        Command::Rollback(args) => block_on(rollback::run(&cluster, args)),
        Command::Uninstall(args) => block_on(uninstall::run(&cluster, args)),
        Command::Status(args) => block_on(status::run(&cluster, args)),
        Command::List(args) => block_on(list::run(&cluster, args)),
        Command::History(args) => block_on(history::run(&cluster, args)),
        Command::Get { command } => block_on(get::run(&cluster, command)),
        Command::Endpoint(args) => block_on(endpoint::run(&cluster, args)),
        Command::Creds { command } => block_on(creds::run(&cluster, command)),
    };
    result.map_err(|err| {
        crate::cluster::api_errors::readable(err, || {
            crate::cluster::target(cluster.kubeconfig.as_deref(), cluster.context.as_deref())
        })
    })
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

/// The release's history: one list request per command.
async fn history(client: &kube::Client, release: &Release) -> anyhow::Result<History> {
    let storage = SecretStorage::new(client, &release.namespace, &release.name);
    Ok(History::new(storage.list().await?))
}

/// The names of the release's objects, as its revision `record` rendered them.
pub(super) fn chart_names(
    release: &Release,
    record: &crate::release::ReleaseRecord,
) -> anyhow::Result<crate::render::ChartNames> {
    Ok(crate::render::ChartNames::new(
        release,
        &recorded_values::computed_values(record)?,
    ))
}

/// The release's history, or "not found" when it has none.
async fn existing_history(client: &kube::Client, release: &Release) -> anyhow::Result<History> {
    let history = history(client, release).await?;
    if history.records.is_empty() {
        return Err(not_found(release));
    }
    Ok(history)
}

/// The record of `revision` (the newest without one); a revision the history does not hold
/// is the user's mistake (exit 2), and the message points to where the revisions are listed.
fn pick_revision<'h>(
    history: &'h History,
    release: &Release,
    revision: Option<u32>,
) -> anyhow::Result<&'h crate::release::ReleaseRecord> {
    match revision {
        Some(revision) => history.revision(revision).ok_or_else(|| {
            invalid_input(Refusal::NoSuchRevision {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
                revision,
            })
        }),
        None => history.latest().ok_or_else(|| not_found(release)),
    }
}

fn not_found(release: &Release) -> anyhow::Error {
    Refusal::NotFound {
        name: release.name.clone(),
        namespace: release.namespace.clone(),
    }
    .into()
}

/// A refusal as an error, exiting 2 when the command line can fix it.
fn refused(refusal: Refusal) -> anyhow::Error {
    if refusal.is_bad_input() {
        invalid_input(refusal)
    } else {
        refusal.into()
    }
}

/// The user's values flags, read once, and resolved over `chart`'s defaults. Bad input exits 2.
fn read_values(
    chart: &Chart,
    args: &ValuesArgs,
    door: &FrontDoorArgs,
) -> anyhow::Result<(values::Input, Resolved)> {
    let input = read_input(args, door)?;
    let resolved = input
        .resolve(chart.definition(), Vec::new())
        .map_err(invalid_input)?;
    Ok((input, resolved))
}

/// [`read_values`] for an install. A rule that the database `creds add db` stores satisfies
/// (a rolling update needs a database) cannot be judged before the cluster is read: such values
/// are taken as using that Secret, and the preflight then checks that it exists (its fix is
/// `creds add db`). Any other rule, and values that fail even so, exit 2 here.
fn read_install_values(
    chart: &Chart,
    args: &ValuesArgs,
    door: &FrontDoorArgs,
) -> anyhow::Result<(values::Input, Resolved, Option<values::ExtraLayer>)> {
    use crate::credentials::{self, Kind, Stored};
    let input = read_input(args, door)?;
    match input.resolve(chart.definition(), Vec::new()) {
        Ok(resolved) => Ok((input, resolved, None)),
        Err(refused @ values::Error::Refused(_)) => {
            let stored = Stored::new(Kind::Db, Kind::Db.default_secret());
            let database = values::ExtraLayer {
                label: format!(
                    "the database `skyctl creds add db` stores in Secret {}",
                    stored.secret
                ),
                values: credentials::values_for(&stored, true, chart),
            };
            match input.resolve(chart.definition(), vec![database.clone()]) {
                Ok(resolved) => Ok((input, resolved, Some(database))),
                Err(_) => Err(invalid_input(refused)),
            }
        }
        Err(err) => Err(invalid_input(err)),
    }
}

/// The user's values flags and the front-door flags that stand for values, with standard input
/// read once, not yet resolved over a chart.
fn read_input(args: &ValuesArgs, door: &FrontDoorArgs) -> anyhow::Result<values::Input> {
    let door = front_door::Flags::from(door);
    let layers = Layers {
        files: args.files.clone(),
        set_json: args.set_json.clone(),
        set: args.set.clone(),
        set_string: args.set_string.clone(),
        set_file: args.set_file.clone(),
        shortcuts: door
            .values()
            .map(|values| values::ExtraLayer {
                label: door.label(),
                values,
            })
            .into_iter()
            .collect(),
        ..Layers::default()
    };
    values::Input::read(layers)
        .map_err(|err| invalid_input(anyhow::Error::new(err).context("cannot read standard input")))
}

/// Rows as a table (`-o table`), or as JSON or YAML for scripts.
fn print_rows<R: serde::Serialize>(
    rows: &[R],
    headers: &[&str],
    cells: impl Fn(&R) -> Vec<String>,
    format: crate::cli::TableFormat,
) -> anyhow::Result<()> {
    match format {
        crate::cli::TableFormat::Table => {
            let cells: Vec<Vec<String>> = rows.iter().map(cells).collect();
            print!("{}", crate::ui::table(headers, &cells));
            Ok(())
        }
        format => crate::ui::print(&rows, format.into()),
    }
}
