use crate::cli::{ClusterArgs, InstallArgs};
use crate::cluster::rollout::Operation;

pub async fn run(cluster: &ClusterArgs, args: InstallArgs) -> anyhow::Result<()> {
    let values = super::resolve_values(&args.values)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let manifests = super::render_release(&client, &release, &values.values).await?;
    super::deploy(
        &client,
        &release,
        Operation::Install,
        manifests,
        values.user,
        &args.rollout,
    )
    .await
}
