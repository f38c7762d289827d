use crate::chart::Chart;
use crate::cli::{ClusterArgs, InstallArgs};
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::decide::{self, Operation};

use crate::web_login;

use super::web_login::Terminal;

/// Install. Everything cheap to check (the values, the release's absence, the namespace) is
/// checked before any question is asked: a password typed for an install that cannot run is
/// typed for nothing.
pub async fn run(cluster: &ClusterArgs, args: InstallArgs) -> anyhow::Result<()> {
    let deploy = &args.deploy;
    let chart = Chart::choose(deploy.chart.version.as_deref(), None)?;
    let (input, user, assumed) =
        super::read_install_values(chart, &deploy.values, &deploy.front_door)?;
    web_login::check_given(&user, chart)?;
    let release = super::release(cluster, &args.release.release);
    let request = super::web_login::request(deploy);
    // Without a terminal to ask on, the login is settled before the cluster is touched, so
    // that bad login input or a missing password is named first, as every other input error.
    // On a terminal, the questions wait for the cheap checks.
    let settled = if request.can_ask() {
        None
    } else {
        let choice = web_login::choose(&request, chart, &user, &user, None)?;
        let login = web_login::decide(
            &request,
            choice,
            &release.name,
            &user,
            &user,
            None,
            &mut Terminal(&request),
        )?;
        Some((choice, login))
    };
    let client = super::connect(cluster).await?;
    let history = super::history(&client, &release).await?;
    let snapshot = Snapshot::default();
    let namespace_exists = snapshot
        .namespace_exists(&ObjectManager::new(&client), &release.namespace)
        .await?;
    decide::precheck(
        &release,
        Operation::Install,
        &history,
        namespace_exists,
        deploy.create_namespace,
    )
    .map_err(super::refused)?;
    let choice = match &settled {
        Some((choice, _)) => *choice,
        None => web_login::choose(&request, chart, &user, &user, None)?,
    };
    let choice = super::preflight::gate_then_ask(
        &client,
        &snapshot,
        &release,
        chart,
        &user,
        (choice, &request),
        deploy,
    )
    .await?;
    let login = match settled {
        Some((_, login)) => login,
        None => web_login::decide(
            &request,
            choice,
            &release.name,
            &user,
            &user,
            None,
            &mut Terminal(&request),
        )?,
    };
    if !deploy.auth.yes && namespace_exists && super::creds::offer_local(&client, &release).await? {
        snapshot.forget();
    }
    super::deploy::deploy_and_finish(
        &client,
        &release,
        Operation::Install,
        super::deploy::DeployValues {
            chart,
            input,
            user,
            login,
            assumed,
        },
        history,
        deploy,
        &snapshot,
    )
    .await
}
