//! Rendering for tests: skyctl's defaults with test values merged over them by the values
//! engine, rendered in apply order, and lookups into the rendered objects.

use std::path::PathBuf;

use serde_json::Value;
use skyctl::chart::{Chart, SEED_ERA};
use skyctl::manifest::Manifest;
use skyctl::plan::sort_for_install;
use skyctl::release::Release;
use skyctl::render::{AdmissionCertificate, Lookups, render};
use skyctl::values::{self, ExtraLayer, Layers};

pub fn crate_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// skyctl's defaults with `overrides` laid over them by the real values engine, validated
/// against the real schema: exactly what the renderer gets from `install`.
pub fn values_with(overrides: Value) -> Value {
    chart_values_with(SEED_ERA, overrides)
}

/// [`values_with`] over the defaults of chart `version`.
pub fn chart_values_with(version: &str, overrides: Value) -> Value {
    let Value::Object(values) = overrides else {
        panic!("overrides are a map")
    };
    let layers = Layers {
        extra: vec![ExtraLayer {
            label: "the test's values".into(),
            values,
        }],
        ..Layers::default()
    };
    let chart = Chart::find(version).unwrap();
    values::resolve_in(chart.definition(), &layers, &mut std::io::empty())
        .unwrap_or_else(|err| panic!("invalid test values: {err}"))
        .values
}

pub fn release(name: &str, namespace: &str) -> Release {
    Release {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
}

pub struct Rendered {
    pub release: Release,
    pub certificate: AdmissionCertificate,
    pub manifests: Vec<Manifest>,
}

impl Rendered {
    pub fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.manifests
            .iter()
            .find(|manifest| manifest.id.kind == kind && manifest.id.name == name)
            .map(|manifest| &manifest.object)
    }

    /// The object, failing the test with the names that were rendered if it is missing.
    pub fn object(&self, kind: &str, name: &str) -> &Value {
        self.get(kind, name)
            .unwrap_or_else(|| panic!("no {kind} {name} among {:?}", self.identities()))
    }

    pub fn identities(&self) -> Vec<String> {
        self.manifests
            .iter()
            .map(|manifest| format!("{}/{}", manifest.id.kind, manifest.id.name))
            .collect()
    }

    /// The API server Deployment's first container.
    pub fn api_container(&self) -> &Value {
        let name = format!("{}-api-server", self.release.name);
        &self.object("Deployment", &name)["spec"]["template"]["spec"]["containers"][0]
    }

    pub fn api_pod_spec(&self) -> &Value {
        let name = format!("{}-api-server", self.release.name);
        &self.object("Deployment", &name)["spec"]["template"]["spec"]
    }
}

pub fn render_release(name: &str, namespace: &str, overrides: Value) -> Rendered {
    render_chart(SEED_ERA, name, namespace, overrides)
}

/// Renders chart `version` for release `name` in `namespace`, as `skyctl template` does.
pub fn render_chart(version: &str, name: &str, namespace: &str, overrides: Value) -> Rendered {
    render_chart_seeing(version, name, namespace, overrides, Lookups::none())
}

/// [`render_chart`], with `lookups` as what the chart's `lookup` finds in the cluster.
pub fn render_chart_seeing(
    version: &str,
    name: &str,
    namespace: &str,
    overrides: Value,
    lookups: Lookups,
) -> Rendered {
    let release = release(name, namespace);
    let certificate = AdmissionCertificate::generate(&release).unwrap();
    let mut manifests = render(
        Chart::find(version).unwrap(),
        &chart_values_with(version, overrides),
        &release,
        &certificate,
        &std::sync::Arc::new(lookups),
    )
    .unwrap_or_else(|err| panic!("rendering failed: {err}"));
    sort_for_install(&mut manifests);
    Rendered {
        release,
        certificate,
        manifests,
    }
}

pub fn render_skypilot(overrides: Value) -> Rendered {
    render_release("skypilot", "skypilot", overrides)
}

/// The entry of a named list (containers, volumes, env, ...) with that `name`.
pub fn named<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|item| item["name"] == name)
}
