use crate::cli::{ClusterArgs, HistoryArgs, TableFormat};
use crate::release::listing::{self, RevisionRow};

pub async fn run(cluster: &ClusterArgs, args: HistoryArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::existing_history(&client, &release).await?;
    let max = usize::try_from(args.max).unwrap_or(usize::MAX);
    let rows = listing::newest(&history.records, max)
        .iter()
        .map(|record| {
            Ok(RevisionRow::new(
                record,
                &super::deploy::computed_values(record)?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    match args.output.output {
        TableFormat::Table => {
            let cells: Vec<Vec<String>> = rows.iter().map(RevisionRow::cells).collect();
            print!("{}", crate::ui::table(&RevisionRow::HEADERS, &cells));
            Ok(())
        }
        format => crate::ui::print(&rows, format.into()),
    }
}
