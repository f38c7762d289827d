use crate::chart::Chart;
use crate::cli::{ClusterArgs, TemplateArgs};
use crate::manifest;
use crate::plan;
use std::sync::Arc;

use crate::render::{self, AdmissionCertificate, Lookups};

/// Prints what install would apply. Needs no cluster, so the webhook certificate is a fresh one
/// and the chart's lookups find nothing, as with `helm template`.
pub fn run(cluster: &ClusterArgs, args: TemplateArgs) -> anyhow::Result<()> {
    let chart = Chart::choose(args.chart.version.as_deref(), None)?;
    let (_, values) = super::read_values(chart, &args.values)?;
    let release = super::release(cluster, &args.release.release);
    let certificate = AdmissionCertificate::generate(&release)?;
    let mut manifests = render::render(
        chart,
        &values.values,
        &release,
        &certificate,
        &Arc::new(Lookups::none()),
    )?;
    plan::sort_for_install(&mut manifests);
    print!("{}", manifest::to_yaml_stream(&manifests));
    Ok(())
}
