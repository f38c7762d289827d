use crate::cli::{ClusterArgs, HistoryArgs};
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
    super::print_rows(
        &rows,
        &RevisionRow::HEADERS,
        RevisionRow::cells,
        args.output.output,
    )
}
