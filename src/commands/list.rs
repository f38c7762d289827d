use crate::cli::{ClusterArgs, ListArgs, TableFormat};
use crate::cluster::release_secrets;
use crate::release::ReleaseStatus;
use crate::release::listing::{self, ReleaseRow, Selection};
use crate::release::recorded_values;

pub async fn run(cluster: &ClusterArgs, args: ListArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let namespace = (!args.all_namespaces).then_some(cluster.namespace.as_str());
    let records = release_secrets::every_release(&client, namespace).await?;
    let selected = listing::select(records, &selection(&args));
    if args.short {
        let names: Vec<&str> = selected.iter().map(|r| r.name.as_str()).collect();
        return match args.output.output {
            TableFormat::Table => {
                names.iter().for_each(|name| println!("{name}"));
                Ok(())
            }
            format => crate::ui::print(&names, format.into()),
        };
    }
    let rows = selected
        .iter()
        .map(|record| {
            Ok(ReleaseRow::new(
                record,
                &recorded_values::computed_values(record)?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.no_headers && args.output.output == TableFormat::Table {
        let cells: Vec<Vec<String>> = rows.iter().map(ReleaseRow::cells).collect();
        let table = crate::ui::table(&ReleaseRow::HEADERS, &cells);
        print!("{}", table.split_once('\n').map_or("", |(_, rows)| rows));
        return Ok(());
    }
    super::print_rows(
        &rows,
        &ReleaseRow::HEADERS,
        ReleaseRow::cells,
        args.output.output,
    )
}

/// The states the flags ask for, as `helm list` reads them.
fn selection(args: &ListArgs) -> Selection {
    let asked: Vec<ReleaseStatus> = [
        (args.deployed, &[ReleaseStatus::Deployed][..]),
        (args.failed, &[ReleaseStatus::Failed]),
        (
            args.pending,
            &[
                ReleaseStatus::PendingInstall,
                ReleaseStatus::PendingUpgrade,
                ReleaseStatus::PendingRollback,
            ],
        ),
        (args.superseded, &[ReleaseStatus::Superseded]),
        (args.uninstalled, &[ReleaseStatus::Uninstalled]),
        (args.uninstalling, &[ReleaseStatus::Uninstalling]),
    ]
    .into_iter()
    .filter(|(given, _)| *given)
    .flat_map(|(_, states)| states.iter().copied())
    .collect();
    // Unlike Helm, no state flag lists every state: a release stuck pending is the one an
    // admin looks for. `--all` is Helm's way of saying the same.
    let states = (!args.all && !asked.is_empty()).then_some(asked);
    Selection {
        states,
        name: args.filter.clone(),
    }
}
