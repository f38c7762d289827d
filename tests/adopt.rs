//! `skyctl adopt` against releases the real Helm 4 installed: a chart made from skyctl's own
//! render of each version (the real chart's name and version in `Chart.yaml`, Helm's
//! `managed-by` label), given user values with `-f` and `--set`, plus what Helm makes that
//! skyctl does not render (a hook Job and ServiceAccount, as ingress-nginx's certgen, and an
//! extra object). Helm applies server-side (Helm 4's default) or client-side (Helm 3's way),
//! with its Secret or ConfigMap driver.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret};
use kube::api::{Api, ListParams};
use serde_json::Value;
use support::audit;
use support::cluster;
use support::helm;
use support::release::Fixture;
use support::skyctl::skyctl;

const SEED_ERA: &str = "1.0.0-dev.20250319";
/// `htpasswd -nbm sky 'correct horse'`: a line made the seed guide's way.
const LOGIN: &str = "sky:$apr1$abcdefgh$sIQmFnT1CuEXAsyjuXjUX/";
const PASSWORD: &str = "correct horse";

/// What Helm adds beside the chart's objects: a hook ServiceAccount and Job that stay after
/// the install (as ingress-nginx's certgen's do until Helm deletes them) and a ConfigMap that
/// skyctl's chart does not have.
const HELM_ONLY: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-helm-only
data:
  made: by helm
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}-admission
  annotations:
    helm.sh/hook: pre-install
    helm.sh/hook-delete-policy: before-hook-creation
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-admission-create
  annotations:
    helm.sh/hook: pre-install
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  template:
    spec:
      restartPolicy: Never
      serviceAccountName: {{ .Release.Name }}-admission
      containers:
        - name: create
          image: registry.example/certgen:1
"#;

/// How Helm installed the release.
#[derive(Clone, Copy)]
struct HelmWay {
    version: &'static str,
    /// Helm's storage driver: `secret` or `configmap`.
    driver: &'static str,
    server_side: bool,
}

const SERVER_SIDE_0_13: HelmWay = HelmWay {
    version: "0.13.0",
    driver: "secret",
    server_side: true,
};
const CLIENT_SIDE_SEED: HelmWay = HelmWay {
    version: SEED_ERA,
    driver: "configmap",
    server_side: false,
};

/// The values the user gave Helm: a file, and `--set` flags.
fn user_values(dir: &std::path::Path, version: &str) -> (std::path::PathBuf, String) {
    let file = dir.join("values.yaml");
    std::fs::write(
        &file,
        format!("ingress:\n  authCredentials: \"{LOGIN}\"\napiService:\n  replicas: 1\n"),
    )
    .unwrap();
    let sets = match version {
        "0.13.0" => "ingress-nginx.controller.service.type=NodePort",
        _ => "ingress.httpNodePort=null,ingress.httpsNodePort=null",
    };
    (file, sets.to_owned())
}

/// A chart holding skyctl's render of `version` for these values, named as the real chart.
async fn chart_of(
    f: &Fixture,
    dir: &std::path::Path,
    way: HelmWay,
    chart_version: &str,
) -> std::path::PathBuf {
    let (values, sets) = user_values(dir, way.version);
    let rendered = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "template",
            f.release(),
            "-n",
            &f.ns.name,
            "--version",
            way.version,
            "-f",
        ])
        .arg_path(&values)
        .args(["--set", &sets])
        .run()
        .success()
        .stdout;
    assert!(
        !rendered.contains("{{"),
        "the render holds no template syntax"
    );
    let mut documents: Vec<&str> = rendered.split("\n---\n").collect();
    // Upstream's chart looks its namespace up and renders it only when absent: the same here.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(f.ns.client.clone());
    if namespaces
        .get_opt("skypilot-system")
        .await
        .unwrap()
        .is_some()
    {
        documents.retain(|doc| !doc.contains("kind: Namespace\n"));
    }
    let objects = documents.join("\n---\n").replace(
        "app.kubernetes.io/managed-by: skyctl",
        "app.kubernetes.io/managed-by: Helm",
    );
    let name = if way.version == SEED_ERA {
        "skypilot-nightly"
    } else {
        "skypilot"
    };
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("templates/objects.yaml"), objects).unwrap();
    std::fs::write(chart.join("templates/helm-only.yaml"), HELM_ONLY).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {chart_version}\n"),
    )
    .unwrap();
    chart
}

/// A release Helm installed, uninstalled with Helm when the test ends if it is still Helm's:
/// a test that fails before adopting must not leave Helm's IngressClass to the tests after it.
#[must_use]
struct HelmInstalled {
    release: String,
    namespace: String,
    driver: &'static str,
}

impl Drop for HelmInstalled {
    fn drop(&mut self) {
        helm::helm(
            self.driver,
            &[
                "uninstall",
                &self.release,
                "-n",
                &self.namespace,
                "--ignore-not-found",
            ],
        );
    }
}

/// `helm install` as the admin did, with the same values files and flags.
async fn helm_install(
    f: &Fixture,
    dir: &std::path::Path,
    way: HelmWay,
    chart_version: &str,
) -> HelmInstalled {
    helm_install_with(f, dir, way, chart_version, &[]).await
}

/// [`helm_install`] with more flags for Helm alone.
async fn helm_install_with(
    f: &Fixture,
    dir: &std::path::Path,
    way: HelmWay,
    chart_version: &str,
    extra: &[&str],
) -> HelmInstalled {
    let chart = chart_of(f, dir, way, chart_version).await;
    let (values, sets) = user_values(dir, way.version);
    let server_side = format!("--server-side={}", way.server_side);
    let output = helm::helm(
        way.driver,
        &[
            "install",
            f.release(),
            chart.to_str().unwrap(),
            "-n",
            &f.ns.name,
            "-f",
            values.to_str().unwrap(),
            "--set",
            &sets,
            &server_side,
            "--timeout",
            "120s",
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect::<Vec<_>>(),
    );
    assert!(output.status.success(), "helm install: {output:?}");
    HelmInstalled {
        release: f.release().to_owned(),
        namespace: f.ns.name.clone(),
        driver: way.driver,
    }
}

async fn claim_uid(f: &Fixture) -> Option<String> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    claims
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .first()
        .and_then(|c| c.metadata.uid.clone())
}

/// The admission webhook's certificate, in the Secret kube-webhook-certgen writes for Helm.
async fn admission_certificate(f: &Fixture) -> Vec<u8> {
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let name = format!("{}-ingress-nginx-admission", f.release());
    let secret = secrets.get(&name).await.unwrap();
    secret.data.unwrap()["cert"].0.clone()
}

/// Helm's records left in the namespace, by Helm's own label.
async fn helm_records(f: &Fixture) -> usize {
    let selector = ListParams::default().labels(&format!("owner=helm,name={}", f.release()));
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let maps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    secrets.list(&selector).await.unwrap().items.len()
        + maps.list(&selector).await.unwrap().items.len()
}

fn kubectl_json(args: &[&str]) -> Value {
    let output = cluster::kubectl(args);
    assert!(output.status.success(), "kubectl {args:?}: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every object of the release is skyctl's alone: no Helm annotation, no Helm field manager,
/// skyctl's managed-by label; what Helm alone made is gone.
fn assert_only_skyctls(f: &Fixture) {
    let ns = &f.ns.name;
    let all = kubectl_json(&[
        "get",
        "deployments,services,configmaps,secrets,serviceaccounts,roles,rolebindings,ingresses,jobs",
        "-n",
        ns,
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let items = all["items"].as_array().unwrap();
    let mut ours = 0;
    for item in items {
        let meta = &item["metadata"];
        let name = format!("{} {}", item["kind"], meta["name"]);
        assert!(
            meta["annotations"]
                .get("meta.helm.sh/release-name")
                .is_none(),
            "{name} keeps Helm's annotation"
        );
        let managers: Vec<&str> = meta["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["manager"].as_str())
            .collect();
        assert!(
            !managers.contains(&"helm"),
            "{name} keeps Helm's field manager: {managers:?}"
        );
        if meta["annotations"].get("skyctl.io/release-name").is_some() {
            ours += 1;
            if let Some(label) = meta["labels"].get("app.kubernetes.io/managed-by") {
                assert_eq!(label, "skyctl", "{name}");
            }
        }
    }
    assert!(ours > 10, "the release's objects are skyctl's: {ours}");
    let names: Vec<&str> = items
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    for gone in ["helm-only", "admission-create"] {
        let leftover = format!("{}-{gone}", f.release());
        assert!(!names.contains(&leftover.as_str()), "{leftover} is left");
    }
}

/// After adopt: a deployed skyctl revision with Helm's values, no Helm record, the same volume, and
/// upgrades without flags, or with the same password, write nothing.
async fn assert_adopted(f: &Fixture, claim: Option<String>) {
    let history: Value =
        serde_json::from_str(&f.run("history", &["-o", "json"]).success().stdout).unwrap();
    let revisions = history.as_array().unwrap();
    let (newest, earlier) = revisions.split_last().unwrap();
    assert_eq!(newest["status"], "deployed", "{history}");
    assert!(
        newest["description"]
            .as_str()
            .unwrap()
            .starts_with("Adopted from Helm"),
        "{history}"
    );
    // Only a run killed midway leaves a revision before it, marked as interrupted.
    for revision in earlier {
        assert_eq!(revision["status"], "failed", "{history}");
        assert!(
            revision["description"]
                .as_str()
                .unwrap()
                .starts_with("interrupted"),
            "{history}"
        );
    }
    assert_eq!(helm_records(f).await, 0, "Helm's records are retired");
    assert_eq!(claim_uid(f).await, claim, "the data volume is the same one");
    let values = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["get", "values", f.release(), "-n", &f.ns.name, "-o", "json"])
        .run()
        .success()
        .stdout;
    let values: Value = serde_json::from_str(&values).unwrap();
    assert_eq!(values["apiService"]["replicas"], 1, "{values}");
    assert_only_skyctls(f);
    let mark = audit::mark();
    // Flags only for what the test cluster lacks: nothing serves the endpoint's health here.
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "upgrade",
            f.release(),
            "-n",
            &f.ns.name,
            "--no-health-check",
        ])
        .run()
        .success()
        .stderr_has("unchanged: nothing to apply");
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "upgrade",
            f.release(),
            "-n",
            &f.ns.name,
            "--web-username",
            "sky",
            "--web-password-stdin",
            "--no-health-check",
        ])
        .stdin(format!("{PASSWORD}\n"))
        .run()
        .success()
        .stderr_has("unchanged: nothing to apply");
    let writes: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(audit::Request::persists)
        .collect();
    assert!(writes.is_empty(), "upgrades after adopt wrote: {writes:#?}");
}

#[tokio::test]
async fn a_release_helm_applied_server_side_is_adopted_with_its_values_login_and_volume() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let claim = claim_uid(&f).await;
    assert!(claim.is_some(), "the chart made a data volume");
    let certificate = admission_certificate(&f).await;

    // install says to adopt instead.
    f.run("install", &["--version", "0.13.0"])
        .code(1)
        .stderr_has(&format!("skyctl adopt {} -n {}", f.release(), f.ns.name));

    // --dry-run tells the plan and persists nothing.
    let mark = audit::mark();
    f.run("adopt", &["--dry-run"])
        .success()
        .stderr_has("dry run:")
        .stderr_has("admission-create")
        .stderr_has("helm-only")
        .stderr_has("delete Helm's 1 record(s)");
    let writes: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(audit::Request::persists)
        .collect();
    assert!(writes.is_empty(), "--dry-run wrote: {writes:#?}");
    assert_eq!(helm_records(&f).await, 1);

    f.run("adopt", &[])
        .success()
        .stderr_has("adopted from Helm")
        .stderr_has("(chart skypilot-0.13.0)");
    assert_adopted(&f, claim).await;
    assert_eq!(
        admission_certificate(&f).await,
        certificate,
        "the webhook certificate Helm's release made is still in use"
    );
    let listed = helm::helm("secret", &["list", "-n", &f.ns.name, "-q"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).trim().is_empty(),
        "{listed:?}"
    );
    // Again: nothing of Helm's is left.
    f.run("adopt", &[])
        .success()
        .stderr_has("nothing of Helm's is left");
}

#[tokio::test]
async fn a_release_helm_applied_client_side_with_its_configmap_driver_is_adopted() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), CLIENT_SIDE_SEED, SEED_ERA).await;
    let claim = claim_uid(&f).await;
    f.run("adopt", &["--keep-helm-history"])
        .success()
        .stderr_has("(chart skypilot-nightly-1.0.0-dev.20250319)")
        .stderr_has("kept, relabelled");
    assert_adopted(&f, claim).await;
    // Kept as a backup that Helm no longer lists.
    let maps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let kept = maps
        .list(&ListParams::default().labels("skyctl.io/adopted-from-helm"))
        .await
        .unwrap();
    assert_eq!(kept.items.len(), 1);
    let listed = helm::helm("configmap", &["list", "-n", &f.ns.name, "-q"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).trim().is_empty(),
        "{listed:?}"
    );
}

#[tokio::test]
async fn a_chart_version_skyctl_lacks_is_named_and_adopted_only_into_one_it_has() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.12.0").await;
    let mark = audit::mark();
    f.run("adopt", &[])
        .code(2)
        .stderr_has("runs chart skypilot-0.12.0, which skyctl does not have")
        .stderr_has("skypilot-0.13.0")
        .stderr_has("--version");
    assert!(
        mark.skyctl_requests(&f.ns.name)
            .iter()
            .all(|r| !r.persists()),
        "a refused adopt writes nothing"
    );
    f.run("adopt", &["--version", "0.13.0"])
        .success()
        .stdout_has("---")
        .stderr_has("adopted from Helm");
    assert_eq!(helm_records(&f).await, 0);
}

#[tokio::test]
async fn helms_values_that_skyctl_refuses_are_named_with_their_origin_and_nothing_is_written() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    // Helm takes any key when a chart has no schema; skyctl's strict schema does not.
    let _helm = helm_install_with(
        &f,
        dir.path(),
        SERVER_SIDE_0_13,
        "0.13.0",
        &["--set", "apiServce.replicas=2"],
    )
    .await;
    let mark = audit::mark();
    f.run("adopt", &[])
        .code(2)
        .stderr_has("apiServce")
        .stderr_has(&format!(
            "the values of Helm release {} (revision 1)",
            f.release()
        ))
        .stderr_has("apiService");
    assert!(
        mark.skyctl_requests(&f.ns.name)
            .iter()
            .all(|r| !r.persists()),
        "a refused adopt writes nothing"
    );
    assert_eq!(helm_records(&f).await, 1, "Helm's record stays");
}

#[tokio::test]
async fn adopt_killed_at_any_point_converges_when_run_again() {
    let _serial = cluster::exclusive().await;
    let mut phases = std::collections::BTreeSet::new();
    // Each kill waits for a sign of the step it aims at: a time for the first reads, the
    // revision's status label for the rollout and the clean-up after it.
    for moment in [
        Moment::After(Duration::from_millis(100)),
        Moment::Recorded("pending-install"),
        Moment::After(Duration::from_millis(900)),
        Moment::Recorded("deployed"),
    ] {
        let f = Fixture::new().await;
        let dir = tempfile::tempdir().unwrap();
        let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
        let claim = claim_uid(&f).await;
        let mut adopt = f.command("adopt", &[]).spawn();
        match moment {
            Moment::After(delay) => tokio::time::sleep(delay).await,
            Moment::Recorded(status) => {
                let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
                let selector = ListParams::default().labels(&format!("skyctl.io/status={status}"));
                cluster::eventually(status, Duration::from_secs(60), || async {
                    (!secrets.list(&selector).await.unwrap().items.is_empty()).then_some(())
                })
                .await;
            }
        }
        adopt.kill().unwrap(); // SIGKILL
        adopt.wait().unwrap();
        phases.insert(phase(&f).await);
        f.run("adopt", &["--force-unlock"]).success();
        assert_adopted(&f, claim).await;
    }
    // The kills reach into different steps, or the test would prove less than it says.
    assert!(
        phases.len() >= 3,
        "kills landed in too few steps: {phases:?}"
    );
}

enum Moment {
    After(Duration),
    /// Once a revision with this status is recorded.
    Recorded(&'static str),
}

/// Where a killed adopt stopped, read from what it left.
async fn phase(f: &Fixture) -> &'static str {
    let history = f.run("history", &["-o", "json"]);
    if history.code != Some(0) {
        return "before its revision was recorded";
    }
    let history: Value = serde_json::from_str(&history.stdout).unwrap();
    let newest = history.as_array().unwrap().last().unwrap().clone();
    match (newest["status"].as_str(), helm_records(f).await) {
        (Some("deployed"), 0) => "after it finished",
        (Some("deployed"), _) => "while removing Helm's marks and records",
        _ => "while applying",
    }
}
