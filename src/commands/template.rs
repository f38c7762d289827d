use crate::chart::Chart;
use crate::cli::{ClusterArgs, TemplateArgs};
use crate::manifest;
use crate::plan;
use crate::render::{self, AdmissionCertificate};

/// Prints what install would apply. Needs no cluster, so the webhook certificate is a fresh one.
pub fn run(cluster: &ClusterArgs, args: TemplateArgs) -> anyhow::Result<()> {
    let chart = Chart::choose(args.chart.version.as_deref(), None)?;
    let (_, values) = super::read_values(chart, &args.values)?;
    let release = super::release(cluster, &args.release.release);
    let certificate = AdmissionCertificate::generate(&release)?;
    let mut manifests = render::render(chart, &values.values, &release, &certificate)?;
    plan::sort_for_install(&mut manifests);
    print!("{}", manifest::to_yaml_stream(&manifests));
    Ok(())
}
