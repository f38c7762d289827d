//! `skyctl adopt` against releases the real Helm 4 installed: a chart made from skyctl's own
//! render of each version (the real chart's name and version in `Chart.yaml`, Helm's
//! `managed-by` label), given user values with `-f` and `--set`, plus what Helm makes that
//! skyctl does not render (a hook Job and ServiceAccount, as ingress-nginx's certgen, and an
//! extra object). Helm applies server-side (Helm 4's default) or client-side (Helm 3's way),
//! with its Secret or ConfigMap driver.

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret};
use kube::api::{Api, ListParams};
use serde_json::Value;
use skyctl::interrupt_point::Point;
use support::audit;
use support::cluster;
use support::helm;
use support::release::{Fixture, lease_holder};
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
    /// `ingress.authCredentials` in the user's values file; without it the chart's default.
    login: Option<&'static str>,
}

const SERVER_SIDE_0_13: HelmWay = HelmWay {
    version: "0.13.0",
    driver: "secret",
    server_side: true,
    login: Some(LOGIN),
};
const CLIENT_SIDE_SEED: HelmWay = HelmWay {
    version: SEED_ERA,
    driver: "configmap",
    server_side: false,
    login: Some(LOGIN),
};

/// The values the user gave Helm: a file, and `--set` flags.
fn user_values(dir: &std::path::Path, way: HelmWay) -> (std::path::PathBuf, String) {
    let file = dir.join("values.yaml");
    let login = match way.login {
        Some(text) => format!("ingress:\n  authCredentials: {}\n", serde_json::json!(text)),
        None => String::new(),
    };
    std::fs::write(&file, format!("{login}apiService:\n  replicas: 1\n")).unwrap();
    let sets = match way.version {
        "0.13.0" => "ingress-nginx.controller.service.type=NodePort",
        _ => "ingress.httpNodePort=null,ingress.httpsNodePort=null",
    };
    (file, sets.to_owned())
}

/// skyctl's render of `way.version` for the user's values.
fn render_of(f: &Fixture, dir: &std::path::Path, way: HelmWay) -> String {
    let (values, sets) = user_values(dir, way);
    skyctl()
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
        .stdout
}

/// A chart holding skyctl's render of `version` for these values, named as the real chart.
async fn chart_of(
    f: &Fixture,
    dir: &std::path::Path,
    way: HelmWay,
    chart_version: &str,
) -> std::path::PathBuf {
    let rendered = render_of(f, dir, way);
    // Upstream's chart looks its namespace up and renders it only when absent: the same here.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(f.ns.client.clone());
    let system_exists = namespaces
        .get_opt("skypilot-system")
        .await
        .unwrap()
        .is_some();
    helm::skypilot_chart(
        dir,
        &rendered,
        way.version,
        chart_version,
        system_exists,
        HELM_ONLY,
    )
}

/// `helm install` as the admin did, with the same values files and flags.
async fn helm_install(
    f: &Fixture,
    dir: &std::path::Path,
    way: HelmWay,
    chart_version: &str,
) -> helm::Installed {
    helm_install_with(f, dir, way, chart_version, &[]).await
}

/// [`helm_install`] with more flags for Helm alone.
async fn helm_install_with(
    f: &Fixture,
    dir: &std::path::Path,
    way: HelmWay,
    chart_version: &str,
    extra: &[&str],
) -> helm::Installed {
    let chart = chart_of(f, dir, way, chart_version).await;
    helm_install_chart(f, dir, way, &chart, extra)
}

/// `chart` installed the way `way` says, with the user's values and `extra` flags.
fn helm_install_chart(
    f: &Fixture,
    dir: &std::path::Path,
    way: HelmWay,
    chart: &std::path::Path,
    extra: &[&str],
) -> helm::Installed {
    let (values, sets) = user_values(dir, way);
    let server_side = format!("--server-side={}", way.server_side);
    let args: Vec<&str> = [
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
    .collect();
    helm::install(way.driver, f.release(), chart, &f.ns.name, &args)
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

/// `skyctl get values -o json`: the values the release recorded.
fn user_values_of(f: &Fixture) -> Value {
    let values = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["get", "values", f.release(), "-n", &f.ns.name, "-o", "json"])
        .run()
        .success()
        .stdout;
    serde_json::from_str(&values).unwrap()
}

/// Every object of the release is skyctl's alone: no Helm annotation, no Helm field manager,
/// skyctl's managed-by label; what Helm alone made is gone.
fn assert_only_skyctls(f: &Fixture) {
    let ns = &f.ns.name;
    let all = cluster::kubectl_json(&[
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
    let values = user_values_of(f);
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

// The built-in seed-era chart ran `skypilot-nightly:latest` where the published package pins
// `:1.0.0.dev20250319`: adopting a Helm install of the published nightly rolled the server onto
// `:latest`, and `list` showed APP VERSION `latest`.
#[tokio::test]
async fn a_helm_install_of_the_published_nightly_keeps_its_pinned_image() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), CLIENT_SIDE_SEED, SEED_ERA).await;
    let published = helm::published_seed_era_image();
    assert_eq!(
        published,
        "berkeleyskypilot/skypilot-nightly:1.0.0.dev20250319"
    );
    let image = || async {
        let deployment = f
            .deployments()
            .get(&format!("{}-api-server", f.release()))
            .await
            .unwrap();
        deployment.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .clone()
            .unwrap()
    };
    assert_eq!(image().await, published, "as Helm installed it");
    f.run("adopt", &[]).success();
    assert_eq!(image().await, published, "adopt keeps the image");
    let list = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["list", "-n", &f.ns.name, "-o", "json"])
        .run()
        .success();
    let listed: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(listed[0]["app_version"], "1.0.0.dev20250319", "{listed}");
    // A new install of the seed-era chart gets the same image.
    let rendered = skyctl()
        .args(["template", "--version", SEED_ERA])
        .run()
        .success()
        .stdout;
    assert!(
        rendered.contains(&format!("image: {published}")),
        "{rendered}"
    );
}

// The Helm history adopt --keep-helm-history kept outlived skyctl uninstall without a word,
// and a later `helm install` of the same name failed: the name was still in use.
#[tokio::test]
async fn helm_history_adopt_kept_is_named_at_uninstall_and_goes_on_request() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), CLIENT_SIDE_SEED, SEED_ERA).await;
    f.run("adopt", &["--keep-helm-history"]).success();
    f.run("uninstall", &["--dry-run"])
        .success()
        .stderr_has("would keep Helm's history of the release, kept by adopt: ConfigMap/");
    f.run("uninstall", &["--dry-run", "--delete-helm-history"])
        .success()
        .stderr_has("would delete Helm's history of the release");
    f.run("uninstall", &["--delete-data", "--delete-helm-history"])
        .success()
        .stderr_has("deleted Helm's history of the release, kept by adopt: 1 record(s)");
    let maps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let kept = maps
        .list(&ListParams::default().labels("skyctl.io/adopted-from-helm"))
        .await
        .unwrap();
    assert!(kept.items.is_empty());
    // The name is free for Helm again.
    let chart = helm::small_chart(dir.path(), "again", "0.1.0");
    let _again = helm::install("configmap", f.release(), &chart, &f.ns.name, &[]);
}

// Without --delete-helm-history the uninstall says what stays and what it blocks.
#[tokio::test]
async fn helm_history_adopt_kept_is_said_to_block_helm_install_when_kept() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), CLIENT_SIDE_SEED, SEED_ERA).await;
    f.run("adopt", &["--keep-helm-history"]).success();
    f.run("uninstall", &["--delete-data"])
        .success()
        .stderr_has("kept Helm's history of the release")
        .stderr_has(&format!("`helm install {}` fails", f.release()))
        .stderr_has("-l skyctl.io/adopted-from-helm=");
    let chart = helm::small_chart(dir.path(), "again", "0.1.0");
    let refused = helm::helm(
        "configmap",
        &[
            "install",
            f.release(),
            chart.to_str().unwrap(),
            "-n",
            &f.ns.name,
        ],
    );
    assert!(!refused.status.success(), "{refused:?}");
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

// `--version` let adopt take over a Helm release of any chart: its dry run planned to delete
// the ConfigMap of chart tiny-0.1.0, and the message for an unknown chart suggested --version.
#[tokio::test]
async fn a_release_of_another_chart_is_never_adopted_whatever_the_version_asked() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::small_chart(dir.path(), "tiny", "0.1.0");
    let _helm = helm::install("secret", f.release(), &chart, &f.ns.name, &[]);
    let mark = audit::mark();
    for args in [
        &[][..],
        &["--dry-run"],
        &["--version", "0.13.0", "--dry-run"],
        &["--version", "0.13.0"],
        &["--version", SEED_ERA],
    ] {
        f.run("adopt", args)
            .code(2)
            .stderr_has("runs chart tiny-0.1.0, which is not SkyPilot's")
            .stderr_lacks("Pass --version");
    }
    assert!(
        mark.skyctl_requests(&f.ns.name)
            .iter()
            .all(|r| !r.persists()),
        "a refused adopt writes nothing"
    );
    let config_maps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    assert!(
        config_maps
            .get_opt(&format!("{}-note", f.release()))
            .await
            .unwrap()
            .is_some(),
        "the other chart's object stays"
    );
    assert_eq!(helm_records(&f).await, 1, "Helm's record stays");
}

#[tokio::test]
async fn adopt_killed_at_any_point_converges_when_run_again() {
    let _serial = cluster::exclusive().await;
    // Stopped at each step: the rollout's lock taken, its revision recorded, a phase of objects
    // taken over, deployed, and in the clean-up after it.
    for (point, nth, stopped) in [
        (Point::LockTaken, 1, BEFORE),
        (Point::RecordedPending, 1, APPLYING),
        (Point::PhaseApplied, 3, APPLYING),
        (Point::RecordedDeployed, 1, CLEANING),
        (Point::HelmMarksRemoved, 1, CLEANING),
        (Point::HelmLeftoversRemoved, 1, CLEANING),
    ] {
        let f = Fixture::new().await;
        let dir = tempfile::tempdir().unwrap();
        let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
        let claim = claim_uid(&f).await;
        f.command("adopt", &[])
            .interrupted_at(point, nth)
            .run()
            .interrupted();
        // What the killed run left shows the step it was stopped at.
        assert_eq!(phase(&f).await, stopped, "{point:?}");
        // The killed run's process is gone from this machine: its lock is taken at once.
        f.run("adopt", &[]).success();
        // A lock the killed run held would stop the next upgrade or uninstall.
        assert_eq!(lease_holder(&f).await, None, "{point:?}: the lock is left");
        assert_adopted(&f, claim).await;
    }
}

// Where a killed adopt stopped, as what it left shows it.
const BEFORE: &str = "before its revision was recorded";
const APPLYING: &str = "while applying";
const CLEANING: &str = "while removing Helm's marks and records";

/// Where a killed adopt stopped, read from what it left.
async fn phase(f: &Fixture) -> &'static str {
    let history = f.run("history", &["-o", "json"]);
    if history.code != Some(0) {
        return BEFORE;
    }
    let history: Value = serde_json::from_str(&history.stdout).unwrap();
    let newest = history.as_array().unwrap().last().unwrap().clone();
    match (newest["status"].as_str(), helm_records(f).await) {
        (Some("deployed"), 0) => "after it finished",
        (Some("deployed"), _) => CLEANING,
        _ => APPLYING,
    }
}

/// skyctl's writes since `mark` in `namespace` and to cluster-scoped objects.
fn writes_since(mark: &audit::Mark, namespace: &str) -> Vec<audit::Request> {
    mark.skyctl_requests(namespace)
        .into_iter()
        .filter(audit::Request::persists)
        .collect()
}

/// Helm's newest record Secret of the fixture's release.
async fn helm_record(f: &Fixture) -> Secret {
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let selector = ListParams::default().labels(&format!("owner=helm,name={}", f.release()));
    let mut records = secrets.list(&selector).await.unwrap().items;
    records.sort_by_key(|s| s.metadata.name.clone());
    records.pop().expect("Helm recorded the release")
}

/// The record as a new object to create: no identity of the one it was read from.
fn fresh(mut record: Secret) -> Secret {
    record.metadata.uid = None;
    record.metadata.resource_version = None;
    record.metadata.creation_timestamp = None;
    record.metadata.managed_fields = None;
    record
}

/// The release JSON inside a Helm record Secret, and back: base64, gzip, JSON.
fn unpack(record: &Secret) -> Value {
    use base64::Engine;
    use std::io::Read;
    let packed = base64::engine::general_purpose::STANDARD
        .decode(&record.data.as_ref().unwrap()["release"].0)
        .unwrap();
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice())
        .read_to_end(&mut json)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

fn pack(record: &mut Secret, release: &Value) {
    use base64::Engine;
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&serde_json::to_vec(release).unwrap())
        .unwrap();
    let text = base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap());
    record
        .data
        .as_mut()
        .unwrap()
        .insert("release".into(), k8s_openapi::ByteString(text.into_bytes()));
}

async fn config_map_exists(f: &Fixture, name: &str) -> bool {
    let maps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    maps.get_opt(name).await.unwrap().is_some()
}

#[tokio::test]
async fn a_record_copied_from_another_release_is_refused_and_that_release_keeps_everything() {
    let _serial = cluster::exclusive().await;
    let helms = Fixture::new().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::small_chart(dir.path(), "skypilot", "0.13.0");
    let _helms = helm::install("secret", helms.release(), &chart, &helms.ns.name, &[]);
    // A backup of the other release restored under this one's name and labels.
    let mut copy = fresh(helm_record(&helms).await);
    copy.metadata.namespace = Some(f.ns.name.clone());
    copy.metadata.name = Some(format!("sh.helm.release.v1.{}.v1", f.release()));
    copy.metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("name".into(), f.release().into());
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    secrets.create(&Default::default(), &copy).await.unwrap();

    let mark = audit::mark();
    for args in [&["--dry-run"][..], &[]] {
        f.run("adopt", args)
            .code(2)
            .stderr_has("copied from another release")
            .stderr_has(&format!(
                "release {} in namespace {}",
                helms.release(),
                helms.ns.name
            ))
            .stderr_has("Nothing was changed");
    }
    for namespace in [&f.ns.name, &helms.ns.name] {
        let writes = writes_since(&mark, namespace);
        assert!(writes.is_empty(), "adopt wrote: {writes:#?}");
    }
    assert!(config_map_exists(&helms, &format!("{}-note", helms.release())).await);
    assert_eq!(helm_records(&helms).await, 1);
    assert_eq!(helm_records(&f).await, 1, "the copy is left for the admin");
}

#[tokio::test]
async fn adopt_never_cleans_up_after_a_release_skyctl_installed_under_the_helm_releases_name() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    // A Helm release of the same name beside it, as Helm lets one be made.
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::small_chart(dir.path(), "skypilot-nightly", SEED_ERA);
    let _helm = helm::install("secret", f.release(), &chart, &f.ns.name, &[]);

    let mark = audit::mark();
    for args in [&["--dry-run"][..], &[]] {
        f.run("adopt", args)
            .code(1)
            .stderr_has(&format!(
                "release {} in namespace {} is skyctl's already (revision 1: Install complete)",
                f.release(),
                f.ns.name
            ))
            .stderr_has("Nothing was changed");
    }
    let writes = writes_since(&mark, &f.ns.name);
    assert!(writes.is_empty(), "adopt wrote: {writes:#?}");
    assert_eq!(helm_records(&f).await, 1, "Helm's release is not retired");
    assert!(config_map_exists(&f, &format!("{}-note", f.release())).await);
}

#[tokio::test]
async fn adopt_takes_nothing_over_from_another_helm_release() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), CLIENT_SIDE_SEED, SEED_ERA).await;
    // Another Helm release holds a ConfigMap that 0.13.0 renders for this release and the
    // seed-era chart does not.
    let keeper = dir.path().join("keeper");
    std::fs::create_dir_all(keeper.join("templates")).unwrap();
    std::fs::write(
        keeper.join("Chart.yaml"),
        "apiVersion: v2\nname: keeper\nversion: 1.0.0\n",
    )
    .unwrap();
    let config = format!("{}-config", f.release());
    std::fs::write(
        keeper.join("templates/config.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {config}\ndata:\n  kept: by keeper\n"),
    )
    .unwrap();
    let _keeper = helm::install("secret", "keeper", &keeper, &f.ns.name, &[]);

    let mark = audit::mark();
    f.run("adopt", &["--version", "0.13.0"])
        .code(1)
        .stderr_has(&format!(
            "ConfigMap {}/{config} belongs to Helm release keeper in namespace {}",
            f.ns.name, f.ns.name
        ))
        .stderr_has("Nothing was changed");
    let writes = writes_since(&mark, &f.ns.name);
    assert!(writes.is_empty(), "adopt wrote: {writes:#?}");
    let kept =
        cluster::kubectl_json(&["get", "configmap", &config, "-n", &f.ns.name, "-o", "json"]);
    assert_eq!(
        kept["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "keeper"
    );
    assert_eq!(kept["data"]["kept"], "by keeper");
}

#[tokio::test]
async fn after_an_interrupted_clean_up_a_dry_run_writes_nothing_and_a_run_finishes_under_the_lock()
{
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let record = fresh(helm_record(&f).await);
    f.run("adopt", &[]).success();
    // As a run killed before it retired Helm's record leaves it, and its lock.
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    secrets.create(&Default::default(), &record).await.unwrap();
    lock_of_a_killed_skyctl(&f).await;

    let mark = audit::mark();
    f.run("adopt", &["--dry-run"])
        .success()
        .stderr_has("finishing what an earlier adopt began")
        .stderr_has("dry run:")
        .stderr_has("delete Helm's 1 record(s)");
    let writes = writes_since(&mark, &f.ns.name);
    assert!(writes.is_empty(), "--dry-run wrote: {writes:#?}");
    // The run that finds the lock held asks for it (a create the API server refuses) and
    // writes nothing else.
    let mark = audit::mark();
    f.run("adopt", &[])
        .code(1)
        .stderr_has("is locked by")
        .stderr_has("--force-unlock");
    let done: Vec<_> = writes_since(&mark, &f.ns.name)
        .into_iter()
        .filter(audit::Request::succeeded)
        .collect();
    assert!(
        done.is_empty(),
        "a run that found the lock held wrote: {done:#?}"
    );
    assert_eq!(helm_records(&f).await, 1);
    f.run("adopt", &["--force-unlock"])
        .success()
        .stderr_has("Helm's 1 record(s) deleted");
    assert_eq!(helm_records(&f).await, 0);
    assert_eq!(lease_holder(&f).await, None, "the lock is released");
}

/// The lock a skyctl of this host's name held when it was killed, with no process space
/// recorded (an older skyctl, or one in another container of the same name): its process is
/// not running here, which proves it gone only to `--force-unlock`.
async fn lock_of_a_killed_skyctl(f: &Fixture) {
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let lease: k8s_openapi::api::coordination::v1::Lease =
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": format!("skyctl-lock-{}", f.release()),
                "annotations": {
                    "skyctl.io/lock-host": gethostname::gethostname().to_string_lossy(),
                    "skyctl.io/lock-pid": pid.to_string(),
                },
            },
            "spec": {
                "holderIdentity": format!("admin@here (pid {pid}, skyctl adopt)"),
                "leaseDurationSeconds": 15,
                "acquireTime": now,
                "renewTime": now,
            },
        }))
        .unwrap();
    Api::namespaced(f.ns.client.clone(), &f.ns.name)
        .create(&Default::default(), &lease)
        .await
        .unwrap();
}

#[tokio::test]
async fn hooks_a_record_names_in_another_namespace_or_of_no_known_release_stay() {
    let _serial = cluster::exclusive().await;
    let other = Fixture::new().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    // Another Helm release with hooks that outlive its install: a ServiceAccount in its own
    // namespace and a ClusterRole, which Helm marks with nothing but `helm.sh/hook`.
    let hooky = dir.path().join("hooky");
    std::fs::create_dir_all(hooky.join("templates")).unwrap();
    std::fs::write(
        hooky.join("Chart.yaml"),
        "apiVersion: v2\nname: hooky\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        hooky.join("templates/hooks.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: pre-install\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: pre-install\nrules: []\n",
    )
    .unwrap();
    let _other = helm::install("secret", other.release(), &hooky, &other.ns.name, &[]);
    // This release's record names them among its own hooks.
    let chart = helm::small_chart(dir.path(), "skypilot", "0.13.0");
    let _helm = helm::install(
        "secret",
        f.release(),
        &chart,
        &f.ns.name,
        &["--set", "ingress-nginx.controller.service.type=NodePort"],
    );
    let mut record = helm_record(&f).await;
    let mut release = unpack(&record);
    let hook = format!("{}-hook", other.release());
    release["hooks"] = serde_json::json!([
        {"manifest": format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {hook}\n  namespace: {}\n", other.ns.name)},
        {"manifest": format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {hook}\n")},
    ]);
    pack(&mut record, &release);
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    secrets
        .replace(
            &record.metadata.name.clone().unwrap(),
            &Default::default(),
            &record,
        )
        .await
        .unwrap();

    let note = format!("{}-note", f.release());
    f.run("adopt", &["--dry-run"])
        .success()
        .stderr_has(&format!(
            "delete 1 object(s) Helm made that skyctl does not render (ConfigMap {}/{note})",
            f.ns.name
        ));
    f.run("adopt", &[])
        .success()
        .stderr_has("1 object(s) Helm made and skyctl does not render deleted");
    assert!(
        !config_map_exists(&f, &note).await,
        "Helm's own leftover goes"
    );
    let accounts: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(other.ns.client.clone(), &other.ns.name);
    assert!(accounts.get_opt(&hook).await.unwrap().is_some());
    let roles: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(f.ns.client.clone());
    assert!(roles.get_opt(&hook).await.unwrap().is_some());
    roles.delete(&hook, &Default::default()).await.unwrap();
}

/// `skyctl upgrade` of the fixture's release with only `args`, the password on stdin when
/// given; nothing serves the endpoint's health here.
fn upgrade(f: &Fixture, args: &[&str], password: Option<&str>) -> support::skyctl::Outcome {
    let mut command = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "upgrade",
            f.release(),
            "-n",
            &f.ns.name,
            "--no-health-check",
        ])
        .args(args);
    if let Some(password) = password {
        command = command
            .args(["--web-password-stdin"])
            .stdin(format!("{password}\n"));
    }
    command.run()
}

/// The htpasswd text the ingress checks: the `auth` key of `<release>-basic-auth`.
async fn basic_auth(f: &Fixture) -> Option<String> {
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let secret = secrets
        .get_opt(&format!("{}-basic-auth", f.release()))
        .await
        .unwrap()?;
    Some(String::from_utf8(secret.data.unwrap()["auth"].0.clone()).unwrap())
}

#[tokio::test]
async fn an_adopted_release_without_a_login_keeps_none_until_a_password_is_given() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    // Chart 0.13.0 asks for no login unless the values set one.
    let way = HelmWay {
        login: None,
        ..SERVER_SIDE_0_13
    };
    let _helm = helm_install(&f, dir.path(), way, "0.13.0").await;
    f.run("adopt", &[]).success();
    assert_eq!(basic_auth(&f).await, None);

    let mark = audit::mark();
    upgrade(&f, &[], None)
        .success()
        .stderr_has("unchanged: nothing to apply");
    let writes = writes_since(&mark, &f.ns.name);
    assert!(writes.is_empty(), "a plain upgrade wrote: {writes:#?}");
    upgrade(&f, &["--web-username", "sky"], Some(PASSWORD)).success();
    let auth = basic_auth(&f).await.expect("the login is set");
    assert!(auth.starts_with("sky:$2y$"), "bcrypt, skyctl's way");
}

#[tokio::test]
async fn a_release_at_the_charts_placeholder_is_adopted_as_it_is_and_upgrade_asks_for_a_login() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    // The seed-era chart's default login is its placeholder, which nobody can pass.
    let way = HelmWay {
        login: None,
        ..CLIENT_SIDE_SEED
    };
    let _helm = helm_install(&f, dir.path(), way, SEED_ERA).await;
    f.run("adopt", &[])
        .success()
        .stderr_has("warning: the login is adopted as it is, though install and upgrade refuse it")
        .stderr_has("placeholder");
    let placeholder = basic_auth(&f).await.unwrap();
    assert_eq!(placeholder, "username:$apr1$encrypted_password");

    let mark = audit::mark();
    upgrade(&f, &[], None)
        .code(2)
        .stderr_has("placeholder")
        .stderr_has("--web-username");
    let writes = writes_since(&mark, &f.ns.name);
    assert!(writes.is_empty(), "a refused upgrade wrote: {writes:#?}");
    upgrade(&f, &["--web-username", "sky"], Some(PASSWORD)).success();
    assert!(basic_auth(&f).await.unwrap().starts_with("sky:$2y$"));
}

#[tokio::test]
async fn every_user_of_an_htpasswd_keeps_the_login_and_a_new_password_changes_only_its_own_line() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    // `openssl passwd -6 -salt saltsaltsalt 'correct horse'`, beside the `htpasswd -nbm` line.
    const ADMIN: &str = "admin:$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1";
    const TEAM: &str = "admin:$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1\nsky:$apr1$abcdefgh$sIQmFnT1CuEXAsyjuXjUX/\n";
    assert_eq!(TEAM, format!("{ADMIN}\n{LOGIN}\n"));
    let way = HelmWay {
        login: Some(TEAM),
        ..SERVER_SIDE_0_13
    };
    let _helm = helm_install(&f, dir.path(), way, "0.13.0").await;
    f.run("adopt", &[]).success();
    assert_eq!(basic_auth(&f).await.as_deref(), Some(TEAM));

    let mark = audit::mark();
    for user in ["sky", "admin"] {
        upgrade(&f, &["--web-username", user], Some(PASSWORD))
            .success()
            .stderr_has("unchanged: nothing to apply");
    }
    let writes = writes_since(&mark, &f.ns.name);
    assert!(writes.is_empty(), "the same passwords wrote: {writes:#?}");

    upgrade(&f, &["--web-username", "sky"], Some("new horse"))
        .success()
        .stderr_has("password changed for user \"sky\"");
    let auth = basic_auth(&f).await.unwrap();
    let lines: Vec<&str> = auth.lines().collect();
    assert_eq!(lines[0], ADMIN, "admin keeps its line: {auth}");
    assert!(lines[1].starts_with("sky:$2y$"), "{auth}");
    assert_eq!(lines.len(), 2, "{auth}");
}

// A new web password without --web-username replaced the release's user with skyctl's default
// `skypilot`: the adopted user, `sky`, was locked out without a word.
#[tokio::test]
async fn a_new_password_keeps_the_releases_user_and_another_user_is_announced() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    f.run("adopt", &[]).success();
    assert_eq!(basic_auth(&f).await.as_deref(), Some(LOGIN));
    // The same password, with no user named: the release's own user, nothing written.
    let mark = audit::mark();
    upgrade(&f, &[], Some(PASSWORD))
        .success()
        .stderr_has("unchanged: nothing to apply");
    assert!(writes_since(&mark, &f.ns.name).is_empty());
    upgrade(&f, &[], Some("new horse"))
        .success()
        .stderr_has("password changed for user \"sky\"");
    let auth = basic_auth(&f).await.unwrap();
    assert!(auth.starts_with("sky:$2y$"), "{auth}");
    assert_eq!(auth.lines().count(), 1, "{auth}");
    // Naming another user replaces the release's, and says so.
    upgrade(&f, &["--web-username", "bob"], Some("bob's horse"))
        .success()
        .stderr_has("user \"bob\" replaces \"sky\", who can no longer log in");
    let auth = basic_auth(&f).await.unwrap();
    assert!(auth.starts_with("bob:$2y$"), "{auth}");
    // From then on bob is the release's user.
    upgrade(&f, &[], Some("bob's new horse"))
        .success()
        .stderr_has("password changed for user \"bob\"");
}

#[tokio::test]
async fn a_claim_grown_by_hand_keeps_its_size_and_the_volume() {
    let _serial = cluster::exclusive().await;
    let output = cluster::kubectl([
        "patch",
        "storageclass",
        "standard",
        "--type=merge",
        "-p",
        r#"{"allowVolumeExpansion":true}"#,
    ]);
    assert!(output.status.success(), "{output:?}");
    let _restore = cluster::Restore(vec![
        "patch",
        "storageclass",
        "standard",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/allowVolumeExpansion"}]"#,
    ]);
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let claim = claim_uid(&f).await;
    // The disk filled up and the admin grew it; Helm 3 never sent the size again.
    let name = format!("{}-state", f.release());
    let output = cluster::kubectl([
        "patch",
        "pvc",
        &name,
        "-n",
        &f.ns.name,
        "--type=merge",
        "-p",
        r#"{"spec":{"resources":{"requests":{"storage":"20Gi"}}}}"#,
    ]);
    assert!(output.status.success(), "{output:?}");

    f.run("adopt", &[])
        .success()
        .stderr_has(&format!(
            "PersistentVolumeClaim {}/{name} has grown to 20Gi",
            f.ns.name
        ))
        .stderr_has("adopted from Helm");
    assert_eq!(claim_uid(&f).await, claim, "the same volume");
    let live = cluster::kubectl_json(&["get", "pvc", &name, "-n", &f.ns.name, "-o", "json"]);
    assert_eq!(live["spec"]["resources"]["requests"]["storage"], "20Gi");
    let values = user_values_of(&f);
    assert_eq!(values["storage"]["size"], "20Gi", "{values}");
    let mark = audit::mark();
    upgrade(&f, &[], None)
        .success()
        .stderr_has("unchanged: nothing to apply");
    let writes = writes_since(&mark, &f.ns.name);
    assert!(writes.is_empty(), "a plain upgrade wrote: {writes:#?}");
}

// Removing Helm's marks patches each object at the version adopt read. Controllers write
// objects meanwhile (a Deployment's status): adopt failed with "the object has been modified"
// and left the release half taken over. The model-based test found it.
#[tokio::test]
async fn an_object_written_between_adopts_read_and_its_patch_is_read_again() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let claim = claim_uid(&f).await;
    let gate = dir.path().join("go");
    let adopt = f
        .command("adopt", &[])
        .paused_at(Point::HelmMarksRead, &gate)
        .start();
    let paused = dir.path().join("go.paused");
    cluster::eventually(
        "adopt to hold before its first patch of Helm's marks",
        std::time::Duration::from_secs(60),
        || async { paused.exists().then_some(()) },
    )
    .await;
    // Every object of the release gets a new version, whichever adopt is about to patch.
    let touched = |args: &[&str]| {
        let output = cluster::kubectl(args);
        assert!(output.status.success(), "{output:?}");
    };
    let kinds = "deployments,services,configmaps,secrets,serviceaccounts,roles,rolebindings,\
                 ingresses,persistentvolumeclaims";
    touched(&["annotate", kinds, "--all", "-n", &f.ns.name, "touched=1"]);
    let cluster_wide = cluster::kubectl([
        "get",
        "clusterroles,clusterrolebindings,ingressclasses,validatingwebhookconfigurations",
        "-o",
        "name",
    ]);
    for name in String::from_utf8_lossy(&cluster_wide.stdout)
        .lines()
        .filter(|name| name.contains(f.release()))
    {
        touched(&["annotate", name, "touched=1"]);
    }
    std::fs::write(&gate, "").unwrap();
    support::skyctl::Outcome::from(adopt.wait_with_output().unwrap()).success();
    assert_adopted(&f, claim).await;
}

/// A Service the API server refuses (a node port outside every cluster's range): a Helm
/// install or upgrade that holds it fails, and Helm records the revision as failed.
const REFUSED_SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-refused
spec:
  type: NodePort
  selector:
    app: none
  ports:
    - port: 80
      nodePort: 1
"#;

/// The statuses of Helm's records of the fixture's release, oldest first, as `helm history`
/// lists them.
fn helm_statuses(f: &Fixture) -> Vec<String> {
    let output = helm::helm(
        "secret",
        &["history", f.release(), "-n", &f.ns.name, "-o", "json"],
    );
    assert!(output.status.success(), "helm history: {output:?}");
    let history: Value = serde_json::from_slice(&output.stdout).unwrap();
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|revision| revision["status"].as_str().unwrap().to_owned())
        .collect()
}

// Helm leaves a failed upgrade beside the revision it did not replace. adopt refused it ("has
// no deployed revision", "fix it with Helm first (`helm rollback`)"), though revision 1 was
// deployed and running.
#[tokio::test]
async fn a_failed_helm_upgrade_is_skipped_and_the_deployed_revision_before_it_adopted() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let claim = claim_uid(&f).await;
    let chart = dir.path().join("skypilot");
    std::fs::write(chart.join("templates/refused.yaml"), REFUSED_SERVICE).unwrap();
    let upgraded = helm::helm(
        "secret",
        &[
            "upgrade",
            f.release(),
            chart.to_str().unwrap(),
            "-n",
            &f.ns.name,
            "--reuse-values",
            "--server-side=true",
        ],
    );
    assert!(!upgraded.status.success(), "{upgraded:?}");
    assert_eq!(helm_statuses(&f), ["deployed", "failed"]);

    let mark = audit::mark();
    f.run("adopt", &["--dry-run"])
        .success()
        .stderr_has("revision 2 (failed)")
        .stderr_has("adopting revision 1, the newest deployed")
        .stderr_has("delete Helm's 2 record(s)");
    assert!(writes_since(&mark, &f.ns.name).is_empty());
    f.run("adopt", &[])
        .success()
        .stderr_has("revision 2 (failed)")
        .stderr_has("revision 1 (chart skypilot-0.13.0)")
        .stderr_lacks("helm rollback");
    assert_adopted(&f, claim).await;
}

/// Adds revision 2 of the fixture's Helm release as Helm leaves it when killed during an
/// upgrade: a copy of revision 1 whose labels and JSON say `status`.
async fn helm_revision_left(f: &Fixture, status: &str) {
    let mut record = fresh(helm_record(f).await);
    let mut release = unpack(&record);
    release["version"] = serde_json::json!(2);
    release["info"]["status"] = serde_json::json!(status);
    pack(&mut record, &release);
    record.metadata.name = Some(format!("sh.helm.release.v1.{}.v2", f.release()));
    let labels = record.metadata.labels.as_mut().unwrap();
    labels.insert("version".into(), "2".into());
    labels.insert("status".into(), status.into());
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    secrets.create(&Default::default(), &record).await.unwrap();
}

// For a Helm upgrade killed midway (revision 2 pending-upgrade over a deployed revision 1),
// adopt said "has no deployed revision", which was false.
#[tokio::test]
async fn a_pending_helm_upgrade_is_skipped_and_the_deployed_revision_adopted() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let claim = claim_uid(&f).await;
    helm_revision_left(&f, "pending-upgrade").await;
    assert_eq!(helm_statuses(&f), ["deployed", "pending-upgrade"]);
    f.run("adopt", &[])
        .success()
        .stderr_has("revision 2 (pending-upgrade)")
        .stderr_has("adopting revision 1, the newest deployed")
        .stderr_lacks("has no deployed revision");
    assert_adopted(&f, claim).await;
}

// A Helm release that never deployed: doctor sent the admin to `skyctl adopt`, adopt to
// `helm rollback`, and Helm answered "release has no 0 version". The command given now is one
// that gets out, and it is run here to prove it.
#[tokio::test]
async fn a_helm_release_that_never_deployed_is_given_the_helm_command_that_gets_out() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::small_chart(dir.path(), "skypilot", "0.13.0");
    std::fs::write(chart.join("templates/refused.yaml"), REFUSED_SERVICE).unwrap();
    let (release, ns) = (f.release(), &f.ns.name);
    let installed = helm::helm(
        "secret",
        &["install", release, chart.to_str().unwrap(), "-n", ns],
    );
    assert!(!installed.status.success(), "{installed:?}");
    assert_eq!(helm_statuses(&f), ["failed"]);
    let way_out = format!("helm uninstall {release} -n {ns} --keep-history");

    let mark = audit::mark();
    f.run("adopt", &[])
        .code(1)
        .stderr_has("revision 1, is failed")
        .stderr_has(&way_out)
        .stderr_lacks("helm rollback");
    assert!(writes_since(&mark, ns).is_empty());
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["doctor", release, "-n", ns])
        .run()
        .code(1)
        .stdout_has(&way_out)
        .stdout_lacks("move it to skyctl");
    let out = helm::helm(
        "secret",
        &["uninstall", release, "-n", ns, "--keep-history"],
    );
    assert!(out.status.success(), "{out:?}");
    f.run("install", &["--no-wait"]).success();
}

// Values Helm took without a schema (a typo `--reuse-values` kept for years, `nameOverride`)
// were a dead end: adopt had no flag to drop them, and its message gave install's fix.
#[tokio::test]
async fn values_helm_kept_that_skyctl_refuses_are_dropped_with_the_command_adopt_names() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install_with(
        &f,
        dir.path(),
        SERVER_SIDE_0_13,
        "0.13.0",
        &["--set", "apiServce.replicas=2,nameOverride=sky"],
    )
    .await;
    let claim = claim_uid(&f).await;
    let (release, ns) = (f.release(), &f.ns.name);
    // Helm takes any key when a chart has no schema; skyctl's strict schema does not.
    let origin = format!("from the values of Helm release {release} (revision 1)");
    let mark = audit::mark();
    f.run("adopt", &[])
        .code(2)
        .stderr_has(&format!(
            "apiServce: unknown key; did you mean apiService? ({origin})"
        ))
        .stderr_has(&format!(
            "nameOverride: unknown key; did you mean fullnameOverride? ({origin})"
        ))
        .stderr_has(&format!(
            "skyctl adopt {release} -n {ns} --set apiServce=null,nameOverride=null"
        ))
        .stderr_lacks("skyctl install");
    assert!(writes_since(&mark, ns).is_empty(), "a refused adopt writes");
    assert_eq!(helm_records(&f).await, 1, "Helm's record stays");

    // `-f` and `--set` as in Helm: null deletes the key.
    let file = dir.path().join("fix.yaml");
    std::fs::write(&file, "apiServce: null\n").unwrap();
    f.run(
        "adopt",
        &["-f", file.to_str().unwrap(), "--set", "nameOverride=null"],
    )
    .success()
    .stderr_has("adopted from Helm");
    assert_adopted(&f, claim).await;
    let values = user_values_of(&f);
    for dropped in ["apiServce", "nameOverride"] {
        assert!(values.get(dropped).is_none_or(Value::is_null), "{values}");
    }
}

/// What the chart's Prometheus and Grafana subcharts make, as Helm renders them when
/// `prometheus.enabled` and `grafana.enabled` are on: `# Source: skypilot/charts/…`.
fn add_monitoring_subcharts(chart: &std::path::Path) {
    let subchart = |name: &str, templates: &str| {
        let dir = chart.join("charts").join(name);
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::write(
            dir.join("Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\n"),
        )
        .unwrap();
        std::fs::write(dir.join("templates/objects.yaml"), templates).unwrap();
    };
    subchart(
        "prometheus",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-prometheus-server\ndata:\n  prometheus.yml: \"\"\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Name }}-prometheus-server\nrules: []\n",
    );
    subchart(
        "grafana",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-grafana\nstringData:\n  admin-password: grafana-secret-4711\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}-grafana\n",
    );
    let mut text = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    text.push_str(
        "dependencies:\n- name: prometheus\n  version: 1.0.0\n  condition: prometheus.enabled\n\
         - name: grafana\n  version: 1.0.0\n  condition: grafana.enabled\n",
    );
    std::fs::write(chart.join("Chart.yaml"), text).unwrap();
}

// With the chart's own monitoring on, adopt refused the release as install refuses
// `prometheus.enabled=true`: there was no way to adopt it at all.
#[tokio::test]
async fn a_release_with_the_charts_monitoring_is_adopted_and_prometheus_and_grafana_left_unowned() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let chart = chart_of(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    add_monitoring_subcharts(&chart);
    let _helm = helm_install_chart(
        &f,
        dir.path(),
        SERVER_SIDE_0_13,
        &chart,
        &["--set", "prometheus.enabled=true,grafana.enabled=true"],
    );
    let claim = claim_uid(&f).await;
    let (release, ns) = (f.release(), &f.ns.name);
    let left = [
        format!("ConfigMap {ns}/{release}-prometheus-server"),
        format!("ClusterRole {release}-prometheus-server"),
        format!("Secret {ns}/{release}-grafana"),
        format!("ServiceAccount {ns}/{release}-grafana"),
    ];
    let adopted = f.run("adopt", &[]).success();
    for object in &left {
        assert!(
            adopted.stderr.contains(object.as_str()),
            "{object}: {adopted:#?}"
        );
    }
    let adopted = adopted
        .stderr_has("left in place, owned by nobody")
        .stderr_has(&format!(
            "kubectl delete -n {ns} configmap/{release}-prometheus-server secret/{release}-grafana serviceaccount/{release}-grafana"
        ))
        .stderr_has(&format!("kubectl delete clusterrole/{release}-prometheus-server"));
    assert!(!adopted.stderr.contains("grafana-secret-4711"));
    assert_adopted(&f, claim).await;
    let values = user_values_of(&f);
    assert_eq!(values["prometheus"]["enabled"], false, "{values}");
    assert_eq!(values["grafana"]["enabled"], false, "{values}");
    // In place, and neither Helm's nor skyctl's.
    for (kind, name, namespaced) in [
        ("configmap", format!("{release}-prometheus-server"), true),
        ("clusterrole", format!("{release}-prometheus-server"), false),
        ("secret", format!("{release}-grafana"), true),
    ] {
        let mut args = vec![
            "get",
            kind,
            name.as_str(),
            "-o",
            "json",
            "--show-managed-fields",
        ];
        if namespaced {
            args.extend(["-n", ns.as_str()]);
        }
        let live = cluster::kubectl_json(&args);
        let annotations = live["metadata"]["annotations"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(
            annotations
                .keys()
                .all(|key| !key.starts_with("meta.helm.sh/") && !key.starts_with("skyctl.io/")),
            "{kind} {name}: {annotations:?}"
        );
        let managers: Vec<&str> = live["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["manager"].as_str())
            .collect();
        assert!(!managers.contains(&"helm"), "{kind} {name}: {managers:?}");
    }
    let roles: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(f.ns.client.clone());
    roles
        .delete(&format!("{release}-prometheus-server"), &Default::default())
        .await
        .unwrap();
}

/// Takes Helm's release annotations off the shared `skypilot-system` Namespace when a test
/// ends, also when it fails, so that no later test meets it marked as a gone release's.
struct UnmarkSystemNamespace;

impl Drop for UnmarkSystemNamespace {
    fn drop(&mut self) {
        let _ = cluster::kubectl([
            "annotate",
            "namespace",
            "skypilot-system",
            "meta.helm.sh/release-name-",
            "meta.helm.sh/release-namespace-",
        ]);
    }
}

// Chart 0.13.0 makes the shared `skypilot-system` Namespace; adopt neither renders it (it
// exists) nor deletes it, and left Helm's marks on it, naming a Helm release that was gone.
#[tokio::test]
async fn helms_marks_leave_the_skypilot_system_namespace_helm_made() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    // The Namespace in Helm's manifest, as when Helm made it: taken over where an earlier test
    // made it already, which marks it as this Helm release's just the same.
    let rendered = render_of(&f, dir.path(), SERVER_SIDE_0_13);
    let chart = helm::skypilot_chart(dir.path(), &rendered, "0.13.0", "0.13.0", false, "");
    let _unmark = UnmarkSystemNamespace;
    let _helm = helm_install_chart(
        &f,
        dir.path(),
        SERVER_SIDE_0_13,
        &chart,
        &["--take-ownership"],
    );
    let marked = |live: &Value| {
        live["metadata"]["annotations"]
            .as_object()
            .is_some_and(|a| a.contains_key("meta.helm.sh/release-name"))
    };
    let system = || {
        cluster::kubectl_json(&[
            "get",
            "namespace",
            "skypilot-system",
            "-o",
            "json",
            "--show-managed-fields",
        ])
    };
    assert!(marked(&system()), "Helm marked it");
    f.run("adopt", &[]).success();
    let live = system();
    assert!(!marked(&live), "{live}");
    let managers: Vec<&str> = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(!managers.contains(&"helm"), "{managers:?}");
    assert_eq!(
        live["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
        "the chart's own annotation stays"
    );
    assert!(live["metadata"]["deletionTimestamp"].is_null(), "it stays");
}
// The ingress-nginx controller's pod template carries `app.kubernetes.io/managed-by`, which
// adopt changes from Helm to skyctl: its pods start anew, and the dry run did not say so.
#[tokio::test]
async fn adopts_dry_run_says_which_pods_start_anew() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let (release, ns) = (f.release(), &f.ns.name);
    f.run("adopt", &["--dry-run"])
        .success()
        .stderr_has(&format!(
            "Deployment {ns}/{release}-ingress-nginx-controller would restart its pods"
        ))
        .stderr_has("app.kubernetes.io/managed-by")
        .stderr_lacks(&format!(
            "Deployment {ns}/{release}-api-server would restart"
        ));
}
// Killed before or after it recorded its revision, adopt left a release that `upgrade` called
// "not found", sending the admin to install.
#[tokio::test]
async fn an_upgrade_after_an_interrupted_adopt_says_to_run_adopt_again() {
    let _serial = cluster::exclusive().await;
    let interrupted = "an adopt was interrupted: run `skyctl adopt";
    // Stopped before it recorded anything, the release is still Helm's.
    let helms = "is Helm's, not skyctl's: `skyctl adopt";
    for (point, nth, said) in [
        (Point::LockTaken, 1, helms),
        (Point::RecordedPending, 1, interrupted),
        (Point::PhaseApplied, 3, interrupted),
    ] {
        let f = Fixture::new().await;
        let dir = tempfile::tempdir().unwrap();
        let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
        let claim = claim_uid(&f).await;
        f.command("adopt", &[])
            .interrupted_at(point, nth)
            .run()
            .interrupted();
        let mark = audit::mark();
        upgrade(&f, &[], None)
            .code(1)
            .stderr_has(&format!("{said} {} -n {}`", f.release(), f.ns.name))
            .stderr_lacks("not found");
        assert!(writes_since(&mark, &f.ns.name).is_empty(), "{point:?}");
        f.run("adopt", &[]).success();
        assert_adopted(&f, claim).await;
    }
}
// doctor checked a Helm release's name with the 0.13.0 defaults whatever chart Helm ran, put
// the Helm line last, and sent the admin to --take-ownership for the objects adopt takes over.
#[tokio::test]
async fn doctor_checks_a_helm_release_with_its_own_chart_and_values_as_adopt_takes_it_over() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), CLIENT_SIDE_SEED, SEED_ERA).await;
    let (release, ns) = (f.release(), &f.ns.name);
    let doctor = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["doctor", release, "-n", ns])
        .run()
        .code(1)
        .stdout_has(&format!("(chart {SEED_ERA})"))
        .stdout_has(&format!("skyctl adopt {release} -n {ns}"))
        .stdout_lacks("--take-ownership");
    let checks: Vec<&str> = doctor
        .stdout
        .lines()
        .filter(|line| {
            line.starts_with("  ✓") || line.starts_with("  !") || line.starts_with("  ✗")
        })
        .collect();
    assert!(checks[0].contains(" helm "), "{checks:#?}");
    let objects = checks
        .iter()
        .find(|line| line.contains(" objects "))
        .unwrap();
    assert!(objects.contains("adopt takes them over"), "{objects}");
    let class = checks
        .iter()
        .find(|line| line.contains(" ingress class "))
        .unwrap();
    assert!(class.starts_with("  ✓"), "{class}");
}

// `adopt --set ingress.authCredentials=null` deleted the basic-auth Secret but left Helm's auth
// annotations on the Ingress, owned by no field manager once Helm's entries were removed, so
// no later upgrade ever removed them: the Ingress asked for a Secret that no longer existed.
// What Helm's manager owns is now skyctl's just before adopt applies.
#[tokio::test]
async fn fields_helm_set_that_adopt_no_longer_renders_go_with_its_apply() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let ingress = || {
        cluster::kubectl_json(&[
            "get",
            "ingress",
            "-n",
            &f.ns.name,
            &format!("{}-ingress", f.release()),
            "-o",
            "json",
            "--show-managed-fields",
        ])
    };
    let auth_type = "nginx.ingress.kubernetes.io/auth-type";
    assert!(
        ingress()["metadata"]["annotations"]
            .get(auth_type)
            .is_some(),
        "Helm's Ingress asks for basic auth"
    );
    f.command("adopt", &["--set", "ingress.authCredentials=null"])
        .run()
        .success();
    let adopted = ingress();
    let annotations = &adopted["metadata"]["annotations"];
    for gone in [auth_type, "nginx.ingress.kubernetes.io/auth-secret"] {
        assert!(annotations.get(gone).is_none(), "{gone}: {adopted}");
    }
    let managers: Vec<&str> = adopted["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["manager"].as_str())
        .collect();
    assert!(!managers.contains(&"helm"), "{managers:?}");
    f.run("uninstall", &["--delete-data"]).success();
}

// Adopt takes Helm's release over behind its ingress-nginx; a door move is an upgrade's, which
// checks the new door before it prunes the old.
#[tokio::test]
async fn adopt_refuses_another_front_door_and_names_the_upgrade_that_moves_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let _helm = helm_install(&f, dir.path(), SERVER_SIDE_0_13, "0.13.0").await;
    let mark = audit::mark();
    f.run(
        "adopt",
        &[
            "--set",
            "skyctl.frontDoor=gateway,skyctl.gateway.name=public,ingress-nginx.enabled=false",
            "--set",
            "ingress.authCredentials=null,apiService.enableUserManagement=true",
        ],
    )
    .code(2)
    .stderr_has("skyctl.frontDoor=gateway: adopt keeps the release's ingress-nginx")
    .stderr_has("--reuse-values --gateway");
    assert!(
        mark.skyctl_requests(&f.ns.name)
            .iter()
            .all(|r| !r.persists()),
        "a refused adopt writes nothing"
    );
}
