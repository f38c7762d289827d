//! Breaks found by red-teaming skyctl, each kept as the promise that now holds: what another
//! tool made is never taken or deleted, a failed or killed run leaves nothing behind, and no
//! error message prints a secret.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use support::cluster::{self, eventually, kubectl};
use support::release::{Fixture, hanging_upgrade};
use support::skyctl::skyctl;

const INGRESS_OFF: &str = "ingress-nginx.enabled=false";

fn controller_name(f: &Fixture) -> String {
    format!("{}-ingress-nginx-controller", f.release())
}

/// Whether the release's ingress-nginx is on the cluster: its controller Deployment, its
/// ClusterRole and the shared IngressClass, as far as this release's annotations name it.
async fn ingress_nginx_left(f: &Fixture) -> Vec<String> {
    let mut left = Vec::new();
    if f.deployments()
        .get_opt(&controller_name(f))
        .await
        .unwrap()
        .is_some()
    {
        left.push(format!("Deployment {}", controller_name(f)));
    }
    let roles: Api<ClusterRole> = Api::all(f.ns.client.clone());
    let role = format!("{}-ingress-nginx", f.release());
    if roles.get_opt(&role).await.unwrap().is_some() {
        left.push(format!("ClusterRole {role}"));
    }
    let classes: Api<IngressClass> = Api::all(f.ns.client.clone());
    if let Some(class) = classes.get_opt("nginx").await.unwrap() {
        let named = class
            .metadata
            .annotations
            .unwrap_or_default()
            .get("skyctl.io/release-name")
            .cloned();
        if named.as_deref() == Some(f.release()) {
            left.push("IngressClass nginx".into());
        }
    }
    left
}

/// Removes by hand what a broken run left of the release's cluster-scoped ingress-nginx, so
/// that a failing test does not block every later install with a stray IngressClass.
async fn clean_up_cluster_scoped(f: &Fixture) {
    let name = format!("{}-ingress-nginx", f.release());
    let admission = format!("{}-ingress-nginx-admission", f.release());
    for args in [
        vec!["delete", "clusterrole", &name, "--ignore-not-found"],
        vec!["delete", "clusterrolebinding", &name, "--ignore-not-found"],
        vec![
            "delete",
            "validatingwebhookconfiguration",
            &admission,
            "--ignore-not-found",
        ],
    ] {
        kubectl(args);
    }
    let classes: Api<IngressClass> = Api::all(f.ns.client.clone());
    if let Some(class) = classes.get_opt("nginx").await.unwrap() {
        let named = class
            .metadata
            .annotations
            .unwrap_or_default()
            .get("skyctl.io/release-name")
            .cloned();
        if named.as_deref() == Some(f.release()) {
            classes.delete("nginx", &DeleteParams::default()).await.ok();
        }
    }
}

/// Install (ingress-nginx on, UIDs recorded), then an upgrade that prunes ingress-nginx: the
/// records now hold UIDs of objects that are gone.
fn install_then_prune_ingress_nginx(f: &Fixture) {
    f.run("install", &["--no-wait"]).success();
    f.run("upgrade", &["--no-wait", "--set", INGRESS_OFF])
        .success()
        .stderr_has("pruned");
}

// 1. A hand-made (or Helm-made) IngressClass `nginx` with no skyctl annotations and the same
//    spec is taken over without a word by install, and deleted by uninstall. ownership.rs
//    promises such an object "may be adopted by an apply, but is never deleted as a release's".
#[tokio::test]
async fn uninstall_never_deletes_an_ingress_class_that_existed_before_the_install() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let classes: Api<IngressClass> = Api::all(f.ns.client.clone());
    kubectl(["delete", "ingressclass", "nginx", "--ignore-not-found"]);
    let theirs: IngressClass = serde_json::from_value(json!({
        "metadata": {"name": "nginx", "annotations": {
            "meta.helm.sh/release-name": "ingress-nginx",
            "meta.helm.sh/release-namespace": "ingress-nginx"}},
        "spec": {"controller": "k8s.io/ingress-nginx"}
    }))
    .unwrap();
    let uid = classes
        .create(&PostParams::default(), &theirs)
        .await
        .unwrap()
        .metadata
        .uid;

    // Install refuses to take it over unasked, naming its owner and the way to proceed.
    f.run("install", &["--no-wait"])
        .code(1)
        .stderr_has("IngressClass nginx exists and belongs to Helm release ingress-nginx")
        .stderr_has("--take-ownership")
        .stderr_has("Nothing was changed");
    f.run("uninstall", &["--ignore-not-found"]).success();
    let after = classes.get_opt("nginx").await.unwrap();
    classes.delete("nginx", &DeleteParams::default()).await.ok();
    let after = after.unwrap_or_else(|| {
        panic!("the IngressClass nginx that another tool made was deleted by skyctl uninstall")
    });
    assert_eq!(after.metadata.uid, uid, "the same object survives");
    let annotations = after.metadata.annotations.unwrap_or_default();
    assert!(
        !annotations.contains_key("skyctl.io/release-name"),
        "the other tool's IngressClass was not marked as a skyctl release's: {annotations:?}"
    );
}

// 2. A failed upgrade that made pruned objects again records no UIDs for them; the UIDs an
//    older revision recorded no longer match, so uninstall calls them "deleted and made again
//    since" and leaves the release's own objects behind, cluster-wide ones included.
#[tokio::test]
async fn uninstall_removes_objects_that_a_failed_upgrade_made_again() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    install_then_prune_ingress_nginx(&f);
    f.run(
        "upgrade",
        &[
            "--set",
            "ingress-nginx.controller.service.type=LoadBalancer",
            "--timeout",
            "2s",
        ],
    )
    .code(1)
    .stderr_has("recorded as failed");
    assert!(
        !ingress_nginx_left(&f).await.is_empty(),
        "the failed upgrade made ingress-nginx again"
    );

    let uninstall = f.run("uninstall", &["--delete-data"]).success();
    let left = ingress_nginx_left(&f).await;
    clean_up_cluster_scoped(&f).await;
    assert!(
        left.is_empty(),
        "uninstall left the release's own objects behind: {left:?}\n{uninstall:#?}"
    );
}

// 3. The same with --atomic: "rolled the release back" to the revision without ingress-nginx,
//    yet the failed revision's ingress-nginx (a LoadBalancer Service among it) keeps running.
#[tokio::test]
async fn atomic_rollback_removes_objects_that_the_failed_upgrade_made_again() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    install_then_prune_ingress_nginx(&f);
    f.run(
        "upgrade",
        &[
            "--set",
            "ingress-nginx.controller.service.type=LoadBalancer",
            "--timeout",
            "2s",
            "--atomic",
        ],
    )
    .code(1)
    .stderr_has("--atomic rolled the release back to revision 2");

    let left = ingress_nginx_left(&f).await;
    f.run("uninstall", &["--delete-data"]).success();
    clean_up_cluster_scoped(&f).await;
    assert!(
        left.is_empty(),
        "revision 2 has no ingress-nginx, yet after the rollback these exist: {left:?}"
    );
}

// 4. The same after kill -9: the next run does not converge; it leaves what the killed run
//    made, although the killed revision's inventory lists it.
#[tokio::test]
async fn the_run_after_a_killed_upgrade_prunes_what_the_killed_run_made_again() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    install_then_prune_ingress_nginx(&f);
    let mut upgrade = hanging_upgrade(&f);
    eventually(
        "the hanging upgrade to make the ingress-nginx controller again",
        Duration::from_secs(60),
        || async {
            let deployments: Api<Deployment> = f.deployments();
            deployments
                .get_opt(&controller_name(&f))
                .await
                .unwrap()
                .map(|_| ())
        },
    )
    .await;
    upgrade.kill().unwrap();
    upgrade.wait().unwrap();

    let again = f
        .run(
            "upgrade",
            &["--no-wait", "--force-unlock", "--set", INGRESS_OFF],
        )
        .success();
    let left = ingress_nginx_left(&f).await;
    f.run("uninstall", &["--delete-data"]).success();
    clean_up_cluster_scoped(&f).await;
    assert!(
        left.is_empty(),
        "the run after the kill left these behind: {left:?}\n{again:#?}"
    );
}

// 7. An error about a --set flag quotes the whole flag, value included: a typo in the key of
//    the htpasswd line prints the hash.
#[test]
fn an_error_about_a_set_flag_never_prints_the_htpasswd_hash() {
    let hash = "$apr1$abcdefgh$SECRETHASHSECRETHASH12";
    let outcome = skyctl()
        .args([
            "template",
            "--set",
            &format!("ingress.authCredential=skypilot:{hash}"),
        ])
        .run()
        .code(2)
        .stderr_has("ingress.authCredential");
    assert!(
        !outcome.stderr.contains("SECRETHASH"),
        "the error prints the htpasswd hash: {}",
        outcome.stderr
    );
}

// 8. A kubeconfig with a syntax error is quoted around the error: the user's token and
//    client key are printed.
#[test]
fn a_malformed_kubeconfig_is_reported_without_its_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: SECRETTOKEN123456\n    client-key-data: SECRETKEYDATA\n   bad: indent\n",
    )
    .unwrap();
    let outcome = skyctl()
        .kubeconfig(&path)
        .args(["status", "nothing-here", "-n", "default"])
        .run();
    assert_ne!(outcome.code, Some(0));
    assert!(
        !outcome.stderr.contains("SECRETTOKEN") && !outcome.stderr.contains("SECRETKEYDATA"),
        "the error prints the kubeconfig's credentials: {}",
        outcome.stderr
    );
}

// 9. A deeply nested values file (flow style, 600 kB) keeps skyctl busy for minutes before it
//    is refused: the parser's time grows with the square of the depth.
#[test]
fn a_deeply_nested_values_file_is_refused_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.yaml");
    let depth = 100_000;
    std::fs::write(
        &path,
        format!("a:{}1{}\n", " {a:".repeat(depth), "}".repeat(depth)),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_skyctl"))
        .args(["template", "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let status = status.expect("skyctl still parsed the values file after 15 s");
    assert_eq!(status.code(), Some(2));
}
