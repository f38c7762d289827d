use std::sync::Arc;

use crate::chart::Chart;
use crate::cli::{ClusterArgs, TemplateArgs};
use crate::error::invalid_input;
use crate::plan;
use crate::render::sources::{self, ShowOnly};
use crate::render::{self, AdmissionCertificate, Lookups};

/// Prints what install would apply, each object under the `# Source:` line Helm prints. Needs
/// no cluster, so the webhook certificate is a fresh one and the chart's lookups find nothing,
/// as with `helm template`.
pub fn run(cluster: &ClusterArgs, args: TemplateArgs) -> anyhow::Result<()> {
    let chart = Chart::choose(args.chart.version.as_deref(), None)?;
    let (_, values) = super::read_values(chart, &args.values, &args.front_door)?;
    let release = super::release(cluster, &args.release.release);
    let certificate = AdmissionCertificate::generate(&release)?;
    let rendered = render::render_sourced(
        chart,
        &values.values,
        &release,
        &certificate,
        &Arc::new(Lookups::none()),
    )?;
    let mut sourced: Vec<_> = rendered
        .into_iter()
        .map(|(template, manifest)| (sources::helm_source(chart, template, &manifest), manifest))
        .collect();
    if !args.show_only.is_empty() {
        sourced = shown(sourced, &args.show_only)?;
    }
    plan::sort_for_install_by(&mut sourced, |(_, manifest)| manifest);
    let package = &chart.metadata().name;
    let mut out = String::new();
    for (source, manifest) in &sourced {
        out.push_str(&format!(
            "---\n# Source: {package}/{source}\n{}\n",
            crate::yaml::object_to_yaml(&manifest.object)
        ));
    }
    print!("{out}");
    Ok(())
}

/// The objects `patterns` select; a pattern that selects none is refused (exit 2) as Helm
/// refuses it, with the files this render has.
fn shown(
    sourced: Vec<(String, crate::manifest::Manifest)>,
    patterns: &[ShowOnly],
) -> anyhow::Result<Vec<(String, crate::manifest::Manifest)>> {
    if let Some(unmatched) = patterns
        .iter()
        .find(|p| !sourced.iter().any(|(source, m)| p.matches(source, m)))
    {
        let files: std::collections::BTreeSet<&str> =
            sourced.iter().map(|(source, _)| source.as_str()).collect();
        let files: Vec<&str> = files.into_iter().collect();
        return Err(invalid_input(anyhow::anyhow!(
            "--show-only {}: could not find template or object in chart (with these values it \
             renders {})",
            unmatched.as_str(),
            files.join(", ")
        )));
    }
    Ok(sourced
        .into_iter()
        .filter(|(source, m)| patterns.iter().any(|p| p.matches(source, m)))
        .collect())
}
