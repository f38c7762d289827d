use crate::cli::{ClusterArgs, InstallArgs};
use crate::cluster::rollout::{self, Operation};
use crate::ui;

pub async fn run(cluster: &ClusterArgs, args: InstallArgs) -> anyhow::Result<()> {
    let mut values = super::resolve_values(&args.values)?;
    let credentials = super::web_auth(&args.auth, &args.values, &mut values, None)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    if !args.auth.yes && rollout::namespace_exists(&client, &release.namespace).await? {
        super::creds::offer_local(&client, &release).await?;
    }
    ui::step(
        "credentials",
        &super::use_stored_credentials(&client, &release, &mut values).await?,
    );
    ui::step(
        "web login",
        &super::describe_web_login(&values.values, credentials.as_ref()),
    );
    let manifests = super::render_release(&client, &release, &values.values).await?;
    let outcome = super::deploy(
        &client,
        &release,
        Operation::Install,
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
