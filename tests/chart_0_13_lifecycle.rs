//! Releases of chart 0.13.0 on the real control plane: install, upgrade, rollback and
//! uninstall; RollingUpdate with an external database and shared storage; and a seed-era
//! release moved to 0.13.0 with its data volume.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolume, PersistentVolumeClaim, Secret};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use support::cluster;
use support::release::{Chart, Fixture, pod_spec, unready};

const SYSTEM_NAMESPACE: &str = "skypilot-system";

async fn api_server(f: &Fixture) -> Deployment {
    f.deployments()
        .get(&format!("{}-api-server", f.release()))
        .await
        .expect("the API server Deployment exists")
}

fn grace_period(deployment: &Deployment) -> Option<i64> {
    pod_spec(deployment).termination_grace_period_seconds
}

async fn claim(f: &Fixture) -> Option<PersistentVolumeClaim> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    claims
        .get_opt(&format!("{}-state", f.release()))
        .await
        .unwrap()
}

fn revisions(f: &Fixture) -> Vec<Value> {
    let outcome = f.run("history", &["-o", "json"]).success();
    serde_json::from_str(&outcome.stdout).unwrap()
}

#[tokio::test]
async fn a_0_13_release_installs_upgrades_rolls_back_and_uninstalls() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    f.run("install", &["--timeout", "120s"]).success();

    let status = f.status();
    assert_eq!(status["status"], "deployed");
    let unready = unready(&status);
    assert!(unready.is_empty(), "not ready after install: {unready:?}");
    // Every object `template` renders was applied, but the shared Namespace, which only the
    // first release in a cluster creates (template assumes none exists, as Helm's does).
    for manifest in f.rendered(&[]) {
        if manifest.id.kind == "Namespace" {
            continue;
        }
        assert!(
            f.live(&manifest).await.is_some(),
            "{} was not applied",
            manifest.id
        );
    }
    let namespaces: Api<Namespace> = Api::all(f.ns.client.clone());
    let system = namespaces.get(SYSTEM_NAMESPACE).await.unwrap();
    assert_eq!(
        system.metadata.annotations.unwrap()["helm.sh/resource-policy"],
        "keep"
    );
    assert_eq!(revisions(&f)[0]["chart"], "skypilot-0.13.0");
    assert_eq!(grace_period(&api_server(&f).await), Some(60));
    // A first revision has nothing earlier: the user's mistake, so exit 2 (it was 1).
    f.run("rollback", &["--no-wait"])
        .code(2)
        .stderr_has("has no earlier revision to roll back to");

    // An upgrade keeps the release's chart version without being told.
    f.run(
        "upgrade",
        &[
            "--set",
            "apiService.terminationGracePeriodSeconds=30",
            "--no-wait",
        ],
    )
    .success();
    assert_eq!(grace_period(&api_server(&f).await), Some(30));
    assert_eq!(revisions(&f)[1]["chart"], "skypilot-0.13.0");

    f.run("rollback", &["1", "--no-wait"]).success();
    assert_eq!(grace_period(&api_server(&f).await), Some(60));
    assert_eq!(f.status()["revision"], 3);

    f.run("uninstall", &["--delete-data"]).success();
    assert!(
        f.deployments()
            .get_opt(&format!("{}-api-server", f.release()))
            .await
            .unwrap()
            .is_none()
    );
    // The shared Namespace outlives every release, as its keep policy asks.
    assert!(
        namespaces
            .get_opt(SYSTEM_NAMESPACE)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn rolling_update_runs_with_an_external_database_secret_and_shared_storage() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "db"},
                "stringData": {"connection_string": "postgresql://sky:pw@db.example:5432/sky"}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    // The host-path provisioner makes ReadWriteOnce volumes only; a volume made by hand
    // stands in for the shared storage (NFS, EFS) a real cluster would provision.
    let volumes: Api<PersistentVolume> = Api::all(f.ns.client.clone());
    let volume = format!("{}-shared", f.release());
    volumes
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": volume},
                "spec": {
                    "capacity": {"storage": "10Gi"},
                    "accessModes": ["ReadWriteMany"],
                    "storageClassName": "standard",
                    "claimRef": {"namespace": f.ns.name, "name": format!("{}-state", f.release())},
                    "hostPath": {"path": format!("/tmp/{volume}")}
                }
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    let rolling = [
        "--set",
        "apiService.upgradeStrategy=RollingUpdate,apiService.dbConnectionSecretName=db",
        "--set",
        "storage.accessMode=ReadWriteMany,apiService.replicas=2",
        "--timeout",
        "120s",
    ];
    f.run("install", &rolling).success();
    let deployment = api_server(&f).await;
    let spec = deployment.spec.unwrap();
    assert_eq!(
        spec.strategy.unwrap().type_.as_deref(),
        Some("RollingUpdate")
    );
    assert_eq!(spec.replicas, Some(2));
    let claim = claim(&f).await.expect("the shared claim exists");
    assert_eq!(claim.status.unwrap().phase.as_deref(), Some("Bound"));
    assert_eq!(claim.spec.unwrap().access_modes.unwrap(), ["ReadWriteMany"]);
    // The pods read the connection string from the Secret, never from the values.
    let text = serde_json::to_string(&spec.template).unwrap();
    assert!(text.contains("\"name\":\"db\""), "{text}");
    assert!(!text.contains("postgresql://"), "{text}");

    // A second rollout replaces pods one at a time and stays Ready. Without --reuse-values
    // the new value would start from the defaults, whose ReadWriteOnce the bound claim
    // refuses (as it does under Helm).
    f.run(
        "upgrade",
        &[
            "--reuse-values",
            "--set",
            "apiService.terminationGracePeriodSeconds=30",
            "--timeout",
            "120s",
        ],
    )
    .success();
    assert_eq!(f.status()["revision"], 2);

    f.run("uninstall", &["--delete-data"]).success();
    volumes
        .delete(&volume, &DeleteParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_seed_era_release_moves_to_0_13_with_its_data_volume_and_back() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::SeedEra).await;
    f.run("install", &["--timeout", "120s"]).success();
    let before = claim(&f)
        .await
        .expect("the seed-era release has a data volume");
    let uid = before.metadata.uid.clone();

    let moved = f
        .run(
            "upgrade",
            &[
                "--version",
                "0.13.0",
                "--set",
                "ingress-nginx.controller.service.type=NodePort",
                "--timeout",
                "120s",
            ],
        )
        .success();
    // The NodePort Service of the seed era is gone: the endpoint changes, and skyctl says so.
    assert!(
        moved.stderr.contains("the endpoint changes"),
        "{}",
        moved.stderr
    );
    assert_eq!(claim(&f).await.unwrap().metadata.uid, uid);
    let history = revisions(&f);
    assert_eq!(history[0]["chart"], "skypilot-nightly-1.0.0-dev.20250319");
    assert_eq!(history[1]["chart"], "skypilot-0.13.0");
    let status = f.status();
    assert_eq!(status["status"], "deployed");
    assert_eq!(status["revision"], 2);

    // Back to the seed era: the revision's own chart renders it, the volume still the same.
    f.run("rollback", &["1", "--timeout", "120s"]).success();
    assert_eq!(claim(&f).await.unwrap().metadata.uid, uid);
    assert_eq!(
        revisions(&f)[2]["chart"],
        "skypilot-nightly-1.0.0-dev.20250319"
    );

    f.run("uninstall", &["--delete-data"]).success();
}

#[tokio::test]
async fn a_namespace_the_chart_creates_is_checked_before_it_exists_and_outlives_the_release() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let work = format!("{}-work", f.release());
    let in_cluster = format!("kubernetesCredentials.inclusterNamespace={work}");
    let namespaces: Api<Namespace> = Api::all(f.ns.client.clone());
    let roles: Api<k8s_openapi::api::rbac::v1::Role> = Api::namespaced(f.ns.client.clone(), &work);

    // The Role that goes into the new namespace is checked in a stand-in, and nothing is made.
    f.run(
        "install",
        &["--set", &in_cluster, "--dry-run", "--create-namespace"],
    )
    .success();
    assert!(namespaces.get_opt(&work).await.unwrap().is_none());

    f.run("install", &["--set", &in_cluster, "--no-wait"])
        .success();
    let created = namespaces.get(&work).await.unwrap();
    assert_eq!(
        created.metadata.annotations.unwrap()["helm.sh/resource-policy"],
        "keep"
    );
    assert!(
        !roles
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let removed = f.run("uninstall", &["--delete-data"]).success();
    assert!(
        removed.stderr.contains(&format!("Namespace {work}")),
        "{}",
        removed.stderr
    );
    assert!(namespaces.get_opt(&work).await.unwrap().is_some());
    assert!(
        roles
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    namespaces
        .delete(&work, &DeleteParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_oauth_login_gets_no_basic_auth_and_needs_no_password() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let outcome = support::skyctl::skyctl()
        .kubeconfig(cluster::kubeconfig())
        .env_remove("SKYCTL_WEB_PASSWORD")
        .args([
            "install",
            f.release(),
            "-n",
            &f.ns.name,
            "--version",
            "0.13.0",
            "--set",
            "auth.oauth.enabled=true,auth.oauth.oidc-issuer-url=https://login.example.com",
            "--set",
            "auth.oauth.client-id=abc,auth.oauth.client-secret=oauth-client-secret-value",
            "--dry-run",
            "--diff",
            "--yes",
        ])
        .run()
        .success();
    assert!(
        outcome
            .stderr
            .contains("web login: single sign-on through oauth2-proxy with https://login.example.com (auth.oauth.enabled)"),
        "{}",
        outcome.stderr
    );
    // The Ingress has no basic auth, and the diff of the proxy shows no secret.
    assert!(
        outcome.stdout.contains("OAUTH2_PROXY_CLIENT_SECRET"),
        "{}",
        outcome.stdout
    );
    assert!(!outcome.stdout.contains("auth-type"), "{}", outcome.stdout);
    assert!(
        !outcome.stdout.contains("oauth-client-secret-value"),
        "{}",
        outcome.stdout
    );
}

fn cookie_secret(deployment: &Deployment) -> String {
    pod_spec(deployment).containers[0]
        .env
        .iter()
        .flatten()
        .find(|env| env.name == "OAUTH2_PROXY_COOKIE_SECRET")
        .and_then(|env| env.value.clone())
        .expect("oauth2-proxy has a cookie secret")
}

#[tokio::test]
async fn the_oauth2_proxy_cookie_secret_stays_the_same_across_upgrades() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let oauth = [
        "--set",
        "ingress.oauth2-proxy.enabled=true,ingress.oauth2-proxy.oidc-issuer-url=https://login.example.com",
        "--set",
        "ingress.oauth2-proxy.client-id=abc,ingress.oauth2-proxy.client-secret=def",
        "--no-wait",
    ];
    f.run("install", &oauth).success();
    let proxy = format!("{}-oauth2-proxy", f.release());
    let first = cookie_secret(&f.deployments().get(&proxy).await.unwrap());

    // Nothing changed: the upgrade renders the live secret again and writes nothing.
    let unchanged = f.run("upgrade", &["--reuse-values", "--no-wait"]).success();
    assert!(
        unchanged.stderr.contains("unchanged"),
        "{}",
        unchanged.stderr
    );
    // Another value changed: the proxy keeps its secret, so nobody is logged out.
    f.run(
        "upgrade",
        &[
            "--reuse-values",
            "--set",
            "apiService.terminationGracePeriodSeconds=30",
            "--no-wait",
        ],
    )
    .success();
    assert_eq!(
        cookie_secret(&f.deployments().get(&proxy).await.unwrap()),
        first
    );
    // `template` sees no cluster, as `helm template`: a fresh secret each time.
    let rendered = f.rendered(&oauth[..4]);
    let ours = rendered
        .iter()
        .find(|m| m.id.kind == "Deployment" && m.id.name == proxy)
        .unwrap();
    assert!(
        !serde_json::to_string(&ours.object)
            .unwrap()
            .contains(&first)
    );

    f.run("uninstall", &["--delete-data"]).success();
}

#[tokio::test]
async fn a_load_balancer_that_never_gets_an_address_ends_the_wait_with_the_way_to_a_node_port() {
    // Nothing on the test cluster hands out LoadBalancer addresses, as on bare metal.
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let lb = [
        "--set",
        "ingress-nginx.controller.service.type=LoadBalancer",
        "--no-wait",
    ];
    f.run("install", &lb).success();
    let started = std::time::Instant::now();
    f.run("endpoint", &["--timeout", "10m"])
        .code(1)
        .stderr_has("its load balancer has no address after")
        .stderr_has("no LoadBalancer Service in the cluster has one")
        .stderr_has(&format!(
            "skyctl upgrade {} -n {} --reuse-values --set ingress-nginx.controller.service.type=NodePort",
            f.release(),
            f.ns.name
        ));
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(180),
        "noticed after a bounded wait, not the 10m timeout: {waited:?}"
    );
    // The advice works: the endpoint is then a node's port.
    f.run(
        "upgrade",
        &[
            "--reuse-values",
            "--set",
            "ingress-nginx.controller.service.type=NodePort",
            "--no-wait",
        ],
    )
    .success();
    f.run("endpoint", &["--timeout", "30s"])
        .success()
        .stdout_has("http://127.0.0.1:");
    // The Service it came from is chart 0.13.0's controller Service, which a failed health
    // check sends the admin to (the seed-era chart's `-ingress-controller-np` does not exist).
    let found = f.run("endpoint", &["-o", "json"]).success();
    let found: serde_json::Value = serde_json::from_str(&found.stdout).unwrap();
    assert_eq!(
        found["service"],
        format!("{}-ingress-nginx-controller", f.release()),
        "{found}"
    );
}

// Changing fullnameOverride on an upgrade moved the API server to a new, empty claim and left
// its state behind without a word; only the diff showed it.
#[tokio::test]
async fn a_renamed_claim_is_said_before_the_state_stays_behind() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    f.run("install", &["--no-wait"]).success();
    let renamed = format!("fullnameOverride={}-renamed", f.release());
    let said = format!(
        "the API server's state stays behind: it moves from PersistentVolumeClaim {r}-state to a \
         new, empty PersistentVolumeClaim {r}-renamed-state",
        r = f.release()
    );
    f.run("upgrade", &["--set", &renamed, "--dry-run"])
        .success()
        .stderr_has(&said);
    f.run("upgrade", &["--set", &renamed, "--no-wait"])
        .success()
        .stderr_has(&said);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    assert!(
        claims
            .get_opt(&format!("{}-state", f.release()))
            .await
            .unwrap()
            .is_some(),
        "the old claim, with the state, is kept"
    );
    f.run("uninstall", &["--delete-data"]).success();
}
