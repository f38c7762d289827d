use crate::cli::{ClusterArgs, UpgradeArgs};
use crate::cluster::rollout::{History, Operation};
use crate::ui;

pub async fn run(cluster: &ClusterArgs, args: UpgradeArgs) -> anyhow::Result<()> {
    let mut values = super::resolve_values(&args.values)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let (_, history) = History::read(&client, &release).await?;
    let recorded = history.deployed().map(|record| &record.values);
    let credentials = super::web_auth(&args.auth, &args.values, &mut values, recorded)?;
    ui::step(
        "credentials",
        &super::use_stored_credentials(&client, &release, &mut values).await?,
    );
    ui::step(
        "web login",
        &super::describe_web_login(&values.values, credentials.as_ref()),
    );
    let manifests = super::render_release(&client, &release, &values.values).await?;
    let operation = Operation::Upgrade {
        install: args.install,
    };
    let outcome = super::deploy(
        &client,
        &release,
        operation,
        manifests,
        values.user,
        &args.rollout,
    )
    .await?;
    super::finish(
        &client,
        &release,
        &outcome,
        credentials.as_ref(),
        &args.rollout,
        args.health,
        args.output,
    )
    .await
}
