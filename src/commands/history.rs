use crate::cli::{ClusterArgs, HistoryArgs};
use crate::release::listing::{self, RevisionRow};
use crate::release::recorded_values;

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
                &recorded_values::computed_values(record)?,
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
