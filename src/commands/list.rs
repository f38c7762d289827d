use crate::cli::{ClusterArgs, ListArgs, TableFormat};
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
    match args.output.output {
        TableFormat::Table => {
            let cells: Vec<Vec<String>> = rows.iter().map(ReleaseRow::cells).collect();
            print!("{}", crate::ui::table(&ReleaseRow::HEADERS, &cells));
            Ok(())
        }
        format => crate::ui::print(&rows, format.into()),
    }
}
