use crate::cli::{ClusterArgs, UpgradeArgs};
use crate::cluster::rollout::Operation;

pub async fn run(cluster: &ClusterArgs, args: UpgradeArgs) -> anyhow::Result<()> {
    let values = super::resolve_values(&args.values)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let manifests = super::render_release(&client, &release, &values.values).await?;
    let operation = Operation::Upgrade {
        install: args.install,
    };
    super::deploy(
        &client,
        &release,
        operation,
        manifests,
        values.user,
        &args.rollout,
    )
    .await
}
