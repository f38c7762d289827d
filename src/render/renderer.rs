//! Values in, the objects `install` applies out.

use std::sync::Arc;

use minijinja::context;
use minijinja::value::{Serde, Value};

use super::chart_names::ChartNames;
use super::environment::{environment, object_templates};
use super::ingress_nginx_names::IngressNginxNames;
use super::lookups::Shared;
use super::parse::parse_rendered;
use super::{AdmissionCertificate, Error, Lookups};
use crate::chart::Chart;
use crate::manifest::Manifest;
use crate::release::Release;

/// Renders every object `install` applies with one chart version, in template order:
/// ingress-nginx's templates, then SkyPilot's, which is how Helm breaks ties between objects of
/// one kind. `plan::sort_for_install` turns that into apply order.
///
/// `values` is the merged and validated tree with null-valued keys already removed, so a
/// template sees a key set to null as absent, as a Helm template does. `lookups` answer the
/// templates' `lookup` calls and record them.
pub fn render(
    chart: &'static Chart,
    values: &serde_json::Value,
    release: &Release,
    cert: &AdmissionCertificate,
    lookups: &Arc<Lookups>,
) -> Result<Vec<Manifest>, Error> {
    Ok(render_sourced(chart, values, release, cert, lookups)?
        .into_iter()
        .map(|(_, manifest)| manifest)
        .collect())
}

/// [`render`], each object with the template that made it (`sources::helm_source` names the
/// published chart's file for it).
pub fn render_sourced(
    chart: &'static Chart,
    values: &serde_json::Value,
    release: &Release,
    cert: &AdmissionCertificate,
    lookups: &Arc<Lookups>,
) -> Result<Vec<(&'static str, Manifest)>, Error> {
    let env = environment(chart);
    let context = context! {
        ..template_context(chart, values, release, cert),
        ..context! { __lookups => Value::from_object(Shared(lookups.clone())) }
    };
    let mut manifests = Vec::new();
    for name in object_templates(chart) {
        let text = env
            .get_template(name)
            .and_then(|template| template.render(&context))
            .map_err(|err| Error::from_template(name, &err))?;
        manifests.extend(
            parse_rendered(name, &text)?
                .into_iter()
                .map(|manifest| (name, manifest)),
        );
    }
    Ok(manifests)
}

/// What every template sees: `values`, `release`, the chart's versions, the chart's and
/// ingress-nginx's object names and the admission certificate.
fn template_context(
    chart: &Chart,
    values: &serde_json::Value,
    release: &Release,
    cert: &AdmissionCertificate,
) -> Value {
    context! {
        values => Value::from(Serde(values)),
        release => context! { name => &release.name, namespace => &release.namespace },
        chart => context! {
            version => chart.version(),
            ingress_nginx => context! {
                version => &chart.metadata().ingress_nginx.version,
                app_version => &chart.metadata().ingress_nginx.app_version,
            },
        },
        chart_names => ChartNames::new(release, values).to_template_value(),
        ingress_nginx_names => IngressNginxNames::for_release(release).to_template_value(),
        admission_certificate => context! {
            ca => &cert.ca_pem,
            cert => &cert.cert_pem,
            key => &cert.key_pem,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render_text(template: &str, values: serde_json::Value) -> String {
        let release = Release {
            name: "skypilot".to_owned(),
            namespace: "skypilot".to_owned(),
        };
        let cert = AdmissionCertificate {
            ca_pem: String::new(),
            cert_pem: String::new(),
            key_pem: String::new(),
        };
        let chart = Chart::find(crate::chart::SEED_ERA).unwrap();
        environment(chart)
            .get_template(template)
            .and_then(|t| t.render(template_context(chart, &values, &release, &cert)))
            .unwrap()
    }

    /// Rollback and `--atomic` render a revision from the values it recorded; one recorded
    /// before skyctl had front doors has no `skyctl` key, and renders the chart's own door.
    #[test]
    fn values_recorded_before_front_doors_render_the_charts_ingress() {
        let chart = Chart::find("0.13.0").unwrap();
        let mut recorded = serde_json::Value::Object(chart.definition().defaults().clone());
        recorded.as_object_mut().unwrap().remove("skyctl");
        let release = Release {
            name: "sky".to_owned(),
            namespace: "team".to_owned(),
        };
        let cert = AdmissionCertificate {
            ca_pem: String::new(),
            cert_pem: String::new(),
            key_pem: String::new(),
        };
        let lookups = Arc::new(Lookups::default());
        let manifests = render(chart, &recorded, &release, &cert, &lookups).unwrap();
        let kinds: Vec<&str> = manifests.iter().map(|m| m.id.kind.as_str()).collect();
        assert!(
            kinds.contains(&"Ingress") && kinds.contains(&"IngressClass"),
            "{kinds:?}"
        );
        assert!(!kinds.contains(&"HTTPRoute"), "{kinds:?}");
    }

    #[test]
    fn config_map_keeps_the_charts_trailing_line_of_four_spaces() {
        let text = render_text(
            "api-configmap.yaml.j2",
            json!({"apiService": {"config": "allowed_clouds:\n  - aws\n"}}),
        );
        assert!(
            text.ends_with("  config.yaml: |\n    allowed_clouds:\n      - aws\n    "),
            "{text:?}"
        );
    }
}
