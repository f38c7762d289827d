use serde::Serialize;

use crate::chart::Chart;
use crate::cli::{ClusterArgs, DoctorArgs, OutputFormat};
use crate::cluster::helm_handover;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::decide::{self, ValuesMode};
use crate::error::invalid_input;
use crate::helm_release::{self, HelmRelease};
use crate::preflight::{Finding, Status};
use crate::release::Release;

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
/// would change it (its recorded values unless values are given), a name a deployed Helm
/// release holds as `adopt` would take it over (its chart and values), a new one as `install`.
pub async fn run(cluster: &ClusterArgs, args: DoctorArgs) -> anyhow::Result<()> {
    let asked = args.chart.version.as_deref();
    let input = super::read_input(&args.values, &args.front_door)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::history(&client, &release).await?;
    // A release that was deployed is checked as `upgrade` would render it: its chart, and its
    // recorded values carried over to the chart `--version` names. One that never was is
    // checked as `install` would render it, which starts afresh, unless Helm runs a release of
    // the name: then as `adopt` renders it.
    let upgrading = history.ever_deployed();
    let adopting = if upgrading {
        None
    } else {
        helm_release_to_adopt(&client, &release, asked).await?
    };
    let chart = match (&adopting, upgrading) {
        (Some((_, chart)), _) => chart,
        (None, true) => super::upgrade::chart(asked, &release, &history)?,
        (None, false) => Chart::choose(asked, None).map_err(invalid_input)?,
    };
    let given = input
        .resolve(chart.definition(), Vec::new())
        .map_err(invalid_input)?;
    // The htpasswd line given is refused by install and upgrade before anything else.
    crate::web_login::check_given(&given, chart)?;
    let values = match &adopting {
        Some((helm, chart)) => {
            super::adopt::adopted_values(&release, helm, chart, input, asked)?.values
        }
        None => {
            let deployed = history.deployed();
            let values_given = given.user.as_object().is_some_and(|map| !map.is_empty());
            let base = decide::values_base(ValuesMode::Default, values_given, deployed.is_some());
            super::upgrade::starting_values(input, base, deployed, chart)?
                .resolve(chart.definition(), Vec::new())
                .map_err(invalid_input)?
        }
    };
    let snapshot = Snapshot::default();
    let namespace_exists = snapshot
        .namespace_exists(&ObjectManager::new(&client), &release.namespace)
        .await?;
    let plans = Plans {
        namespace_exists,
        create_namespace: args.create_namespace,
        take_ownership: args.take_ownership,
        adopting: adopting.is_some(),
    };
    let login = (crate::web_login::unasked_choice(&given, &values), None);
    let report =
        preflight::assess(&client, &snapshot, &release, chart, &values, login, plans).await?;
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
            "ready to {}: {} warning(s)",
            match (upgrading, adopting.is_some()) {
                (true, _) => "upgrade",
                (false, true) => "adopt",
                (false, false) => "install",
            },
            report.count(Status::Warn)
        );
    }
    Ok(())
}

/// The deployed Helm release of the name that `adopt` would take over, and the chart it maps
/// to. Any other state of Helm's records (none, nothing deployed, unreadable, a chart skyctl
/// lacks) is checked as an install, and the checklist's Helm line or adopt itself says more.
async fn helm_release_to_adopt(
    client: &kube::Client,
    release: &Release,
    asked: Option<&str>,
) -> anyhow::Result<Option<(HelmRelease, &'static Chart)>> {
    let revisions = helm_handover::revisions(client, release).await?;
    let Ok(Some(adoptable)) = helm_release::adoptable(release, &revisions) else {
        return Ok(None);
    };
    let Ok(helm) = helm_release::decode(adoptable.revision, release) else {
        return Ok(None);
    };
    Ok(helm_release::chart_for(&helm, asked)
        .ok()
        .map(|chart| (helm, chart)))
}
