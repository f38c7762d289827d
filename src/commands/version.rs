//! `skyctl version`: skyctl's own version and the chart versions it can render.

use serde::Serialize;

use crate::chart::Chart;
use crate::cli::{OutputFormat, VersionArgs};

#[derive(Serialize)]
struct Versions {
    skyctl: &'static str,
    /// Every embedded chart version, oldest first.
    charts: Vec<ChartVersion>,
    /// What an install gets without `--version`.
    default_chart: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartVersion {
    name: &'static str,
    version: &'static str,
    app_version: &'static str,
    ingress_nginx: &'static str,
}

pub fn run(args: VersionArgs) -> anyhow::Result<()> {
    let versions = Versions {
        skyctl: env!("CARGO_PKG_VERSION"),
        charts: Chart::all()
            .iter()
            .map(|chart| ChartVersion {
                name: &chart.metadata().name,
                version: chart.version(),
                app_version: &chart.metadata().app_version,
                ingress_nginx: &chart.metadata().ingress_nginx.version,
            })
            .collect(),
        default_chart: Chart::newest().version(),
    };
    if args.output.output != OutputFormat::Text {
        return crate::ui::print(&versions, args.output.output.into());
    }
    println!("skyctl {}", versions.skyctl);
    println!("charts (--version):");
    for chart in &versions.charts {
        let default = if chart.version == versions.default_chart {
            "  (default for new releases)"
        } else {
            ""
        };
        println!(
            "  {} {} (app {}, ingress-nginx {}){default}",
            chart.name, chart.version, chart.app_version, chart.ingress_nginx
        );
    }
    Ok(())
}
