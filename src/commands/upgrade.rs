use crate::cli::{ClusterArgs, UpgradeArgs};
use crate::decide::Operation;

pub async fn run(cluster: &ClusterArgs, args: UpgradeArgs) -> anyhow::Result<()> {
    let deploy = &args.deploy;
    let (input, user) = super::read_values(&deploy.values)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::history(&client, &release).await?;
    let recorded = history.deployed().map(|record| &record.values);
    let login = super::web_login::decide(&deploy.auth, &deploy.values, &user, recorded)?;
    let operation = Operation::Upgrade {
        install: args.install,
    };
    super::deploy::deploy_and_finish(
        &client,
        &release,
        operation,
        super::deploy::DeployValues { input, user, login },
        history,
        deploy,
    )
    .await
}
