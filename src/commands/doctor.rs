use serde::Serialize;

use crate::chart::Chart;
use crate::cli::{ClusterArgs, DoctorArgs, OutputFormat};
use crate::cluster::object_manager::ObjectManager;
use crate::decide::{self, ValuesBase, ValuesMode};
use crate::error::invalid_input;
use crate::preflight::{Finding, Status};

use super::preflight::{self, Plans};

/// What `doctor -o json` gives scripts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Checklist<'a> {
    release: &'a str,
    namespace: &'a str,
    chart: &'a str,
    /// True when a check blocks the install.
    blocked: bool,
    checks: &'a [Finding],
}

/// Doctor: the preflight checks alone. A release that exists is checked as a plain `upgrade`
/// would change it (its recorded values unless values are given), a new one as `install`.
pub async fn run(cluster: &ClusterArgs, args: DoctorArgs) -> anyhow::Result<()> {
    let asked = args.chart.version.as_deref();
    let input = super::read_input(&args.values)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::history(&client, &release).await?;
    let deployed = history.deployed();
    let chart =
        Chart::choose(asked, deployed.map(|r| r.chart_version.as_str())).map_err(invalid_input)?;
    let given = input.resolve(chart, Vec::new()).map_err(invalid_input)?;
    let values_given = given.user.as_object().is_some_and(|map| !map.is_empty());
    let base = decide::values_base(ValuesMode::Default, values_given, deployed.is_some());
    let values = match (base, deployed) {
        (ValuesBase::Recorded, Some(record)) if record.chart_version == chart.version() => input
            .over_recorded(Some(super::deploy::recorded_layer(record)?), None)
            .resolve(chart, Vec::new())
            .map_err(invalid_input)?,
        _ => given,
    };
    let namespace_exists = ObjectManager::new(&client)
        .namespace_exists(&release.namespace)
        .await?;
    let plans = Plans {
        namespace_exists,
        create_namespace: args.create_namespace,
        take_ownership: args.take_ownership,
    };
    let report = preflight::assess(&client, &release, chart, &values, plans).await?;
    match args.output.output {
        OutputFormat::Text => {
            println!(
                "preflight for release {} in namespace {} (chart {}):",
                release.name,
                release.namespace,
                chart.version()
            );
            print!("{}", report.lines(false));
        }
        format => crate::ui::print(
            &Checklist {
                release: &release.name,
                namespace: &release.namespace,
                chart: chart.version(),
                blocked: report.blocks(),
                checks: &report.findings,
            },
            format.into(),
        )?,
    }
    if report.blocks() {
        anyhow::bail!(
            "{} check(s) block the install, {} warning(s)",
            report.count(Status::Block),
            report.count(Status::Warn)
        );
    }
    if args.output.output == OutputFormat::Text {
        println!(
            "ready to install: {} warning(s)",
            report.count(Status::Warn)
        );
    }
    Ok(())
}
