use crate::cli::{ClusterArgs, InstallArgs};
use crate::cluster::object_manager::ObjectManager;
use crate::decide::Operation;

pub async fn run(cluster: &ClusterArgs, args: InstallArgs) -> anyhow::Result<()> {
    let deploy = &args.deploy;
    let (input, user) = super::read_values(&deploy.values)?;
    let login = super::web_login::decide(&deploy.auth, &deploy.values, &user, &user, None)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    if !deploy.auth.yes
        && ObjectManager::new(&client)
            .namespace_exists(&release.namespace)
            .await?
    {
        super::creds::offer_local(&client, &release).await?;
    }
    let history = super::history(&client, &release).await?;
    super::deploy::deploy_and_finish(
        &client,
        &release,
        Operation::Install,
        super::deploy::DeployValues { input, user, login },
        history,
        deploy,
    )
    .await
}
