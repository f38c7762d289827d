//! `skyctl get values`: what a revision recorded. The record holds values only, never Secret
//! data; but values may hold secrets themselves (an OAuth client secret, a database URL with
//! its password), and those are masked, where Helm prints them.

use crate::cli::{ClusterArgs, GetValuesArgs, TableFormat};
use crate::decide::Refusal;
use crate::error::invalid_input;

pub async fn run(cluster: &ClusterArgs, args: GetValuesArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::existing_history(&client, &release).await?;
    let record = match args.revision {
        Some(revision) => history.revision(revision).ok_or_else(|| {
            invalid_input(Refusal::NoSuchRevision {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
                revision,
            })
        })?,
        None => history.latest().expect("an existing release has records"),
    };
    let (heading, recorded) = if args.all {
        ("COMPUTED VALUES:", super::deploy::computed_values(record)?)
    } else {
        ("USER-SUPPLIED VALUES:", record.values.clone())
    };
    let values = crate::redacted::mask_values(&recorded);
    match args.output.output {
        TableFormat::Table => {
            println!("{heading}");
            println!("{}", crate::yaml::to_yaml(&values));
            Ok(())
        }
        format => crate::ui::print(&values, format.into()),
    }
}
