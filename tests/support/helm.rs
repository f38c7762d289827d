//! The real Helm 4 CLI, built by `bench/build-helm.sh` into the per-user cache, pointed at the
//! test control plane: tests meet releases that Helm itself installed and recorded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use super::cluster;

/// Helm, built on first use. A Helm that cannot be built fails the calling test with the
/// reason; it is never skipped.
fn binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/build-helm.sh");
        cluster::path_printed_by(Command::new(script), "Helm did not build")
    })
}

/// `helm ARGS` against the test control plane, with Helm's state in a directory of its own and
/// `driver` as its storage driver (`secret`, Helm's default, or `configmap`).
pub fn helm(driver: &str, args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(binary())
        .env("HELM_DRIVER", driver)
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .arg("--kubeconfig")
        .arg(cluster::kubeconfig())
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run helm: {err}"))
}

/// A chart named `name` at `version` whose one object is a ConfigMap: enough for Helm to
/// install and record a release.
pub fn small_chart(dir: &Path, name: &str, version: &str) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/note.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-note\ndata:\n  by: helm\n",
    )
    .unwrap();
    chart
}

/// A release Helm installed, uninstalled by Helm when the test ends, also when it fails: what
/// it holds cluster-wide (the IngressClass `nginx`) would otherwise stop every later install.
/// Once adopted, Helm no longer knows the release, and this does nothing.
#[must_use = "dropping it uninstalls the release"]
pub struct Installed {
    driver: String,
    name: String,
    namespace: String,
}

/// `helm install NAME CHART -n NAMESPACE ARGS` with `driver`, which must succeed.
pub fn install(
    driver: &str,
    name: &str,
    chart: &Path,
    namespace: &str,
    args: &[&str],
) -> Installed {
    let mut all = vec!["install", name, chart.to_str().unwrap(), "-n", namespace];
    all.extend_from_slice(args);
    let output = helm(driver, &all);
    assert!(output.status.success(), "helm install: {output:?}");
    Installed {
        driver: driver.to_owned(),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = helm(
            &self.driver,
            &[
                "uninstall",
                &self.name,
                "-n",
                &self.namespace,
                "--ignore-not-found",
            ],
        );
    }
}

/// A chart that installs `rendered` (skyctl's render of chart `version`) as the published
/// package would: named as that package (`skypilot`, or `skypilot-nightly` for the seed era),
/// at `chart_version`, with Helm's `managed-by` label and the package's pinned image, and the
/// templates of `extra` beside it. The shared `skypilot-system` Namespace is left out when
/// `drop_system_namespace`, as upstream's chart does when it finds it.
pub fn skypilot_chart(
    dir: &Path,
    rendered: &str,
    version: &str,
    chart_version: &str,
    drop_system_namespace: bool,
    extra: &str,
) -> PathBuf {
    assert!(
        !rendered.contains("{{"),
        "the render holds no template syntax"
    );
    let mut documents: Vec<&str> = rendered.split("\n---\n").collect();
    if drop_system_namespace {
        documents.retain(|doc| !doc.contains("kind: Namespace\n"));
    }
    // Helm installs the published package, whose default image is the nightly's own tag (the
    // chart's git source said `:latest`): Helm's objects carry it whatever skyctl renders.
    let objects = documents
        .join("\n---\n")
        .replace(
            "app.kubernetes.io/managed-by: skyctl",
            "app.kubernetes.io/managed-by: Helm",
        )
        .replace(
            "image: berkeleyskypilot/skypilot-nightly:latest",
            &format!("image: {}", published_seed_era_image()),
        );
    let name = if version == super::skyctl::SEED_ERA {
        "skypilot-nightly"
    } else {
        "skypilot"
    };
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("templates/objects.yaml"), objects).unwrap();
    if !extra.is_empty() {
        std::fs::write(chart.join("templates/extra.yaml"), extra).unwrap();
    }
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {chart_version}\n"),
    )
    .unwrap();
    chart
}

/// The API server image of the published `skypilot-nightly` 1.0.0-dev.20250319 package, as its
/// real Helm render in the fixtures has it.
pub fn published_seed_era_image() -> String {
    let render = include_str!("../fixtures/helm/1.0.0-dev.20250319/default.yaml");
    render
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("image: berkeleyskypilot/skypilot-nightly:")
        })
        .map(|tag| format!("berkeleyskypilot/skypilot-nightly:{tag}"))
        .expect("the render names the API server image")
}
