use crate::cli::{ClusterArgs, ListArgs};
use crate::cluster::release_secrets;
use crate::release::listing::{self, ReleaseRow};

pub async fn run(cluster: &ClusterArgs, args: ListArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let namespace = (!args.all_namespaces).then_some(cluster.namespace.as_str());
    let records = release_secrets::every_release(&client, namespace).await?;
    let rows = listing::newest_of_each(records)
        .iter()
        .map(|record| {
            Ok(ReleaseRow::new(
                record,
                &super::deploy::computed_values(record)?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    super::print_rows(
        &rows,
        &ReleaseRow::HEADERS,
        ReleaseRow::cells,
        args.output.output,
    )
}
