use crate::cli::{ClusterArgs, InstallArgs};
use crate::cluster::rollout::{self, History, Operation};

pub async fn run(cluster: &ClusterArgs, args: InstallArgs) -> anyhow::Result<()> {
    let deploy = &args.deploy;
    let mut values = super::resolve_values(&deploy.values)?;
    let credentials = super::web_auth(&deploy.auth, &deploy.values, &mut values, None)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    if !deploy.auth.yes && rollout::namespace_exists(&client, &release.namespace).await? {
        super::creds::offer_local(&client, &release).await?;
    }
    let (_, history) = History::read(&client, &release).await?;
    super::deploy_and_finish(
        &client,
        &release,
        Operation::Install,
        values,
        credentials,
        history,
        deploy,
    )
    .await
}
