use crate::cli::{ClusterArgs, UpgradeArgs};
use crate::cluster::rollout::{History, Operation};

pub async fn run(cluster: &ClusterArgs, args: UpgradeArgs) -> anyhow::Result<()> {
    let deploy = &args.deploy;
    let mut values = super::resolve_values(&deploy.values)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let (_, history) = History::read(&client, &release).await?;
    let recorded = history.deployed().map(|record| &record.values);
    let credentials = super::web_auth(&deploy.auth, &deploy.values, &mut values, recorded)?;
    let operation = Operation::Upgrade {
        install: args.install,
    };
    super::deploy_and_finish(
        &client,
        &release,
        operation,
        values,
        credentials,
        history,
        deploy,
    )
    .await
}
