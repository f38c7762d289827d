//! skyctl never takes or deletes what is not its own, checks everything before its first write,
//! tells the truth in a dry run, and sees drift: each way these promises were once broken, tried
//! again on the real control plane.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use skyctl::interrupt_point::Point;
use skyctl::manifest::Manifest;
use support::cluster::{self, eventually, kubectl};
use support::release::{Fixture, lease_holder, pod_spec, upgrade_holding_the_lock};
use support::skyctl::skyctl;

fn ingress_class() -> Manifest {
    Manifest::from_object(
        0,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}}),
    )
    .unwrap()
}

fn api_image(deployment: &Deployment) -> String {
    pod_spec(deployment).containers[0].image.clone().unwrap()
}

async fn namespace_gone(client: &kube::Client, name: &str) -> bool {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces.get_opt(name).await.unwrap() {
        None => true,
        Some(ns) => ns.metadata.deletion_timestamp.is_some(),
    }
}

#[tokio::test]
async fn prune_and_uninstall_never_delete_another_releases_or_a_hand_made_object() {
    let _serial = cluster::exclusive().await;
    let a = Fixture::new().await;
    let b = Fixture::new().await;
    a.run("install", &["--no-wait"]).success();
    // A stops rendering ingress-nginx: its IngressClass and controller ConfigMap are pruned.
    a.run(
        "upgrade",
        &["--no-wait", "--set", "ingress-nginx.enabled=false"],
    )
    .success()
    .stderr_has("IngressClass nginx pruned");
    // B makes its own IngressClass nginx; a person makes a ConfigMap under a name A pruned.
    b.run("install", &["--no-wait"]).success();
    let pruned_name = format!("{}-ingress-nginx-controller", a.release());
    let configmaps: Api<ConfigMap> = Api::namespaced(a.ns.client.clone(), &a.ns.name);
    let hand_made: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": pruned_name}, "data": {"made": "by hand"}}))
    .unwrap();
    configmaps
        .create(&PostParams::default(), &hand_made)
        .await
        .unwrap();

    a.run("uninstall", &[])
        .success()
        .stderr_has("left IngressClass nginx alone")
        .stderr_has(&format!(
            "release {} in namespace {}",
            b.release(),
            b.ns.name
        ))
        .stderr_has(&format!("left ConfigMap {}/{pruned_name} alone", a.ns.name));
    assert!(
        b.live(&ingress_class()).await.is_some(),
        "B's IngressClass survives A's uninstall"
    );
    assert!(
        configmaps.get_opt(&pruned_name).await.unwrap().is_some(),
        "the hand-made ConfigMap survives"
    );
    b.run("uninstall", &[]).success();
    assert!(
        b.live(&ingress_class()).await.is_none(),
        "B removes its own"
    );
}

#[tokio::test]
async fn create_namespace_checks_ownership_before_it_creates_anything() {
    let _serial = cluster::exclusive().await;
    let first = Fixture::new().await;
    first.run("install", &["--no-wait"]).success();
    let bindings: Api<ClusterRoleBinding> = Api::all(first.ns.client.clone());
    let before = bindings.list(&Default::default()).await.unwrap();
    let subjects_before: Vec<_> = before
        .items
        .iter()
        .map(|b| (b.metadata.name.clone(), b.subjects.clone()))
        .collect();

    // The same release name in a namespace that does not exist yet: its cluster-scoped
    // objects (IngressClass, ClusterRoleBindings) are the first release's.
    let namespace = format!("{}-new", first.ns.name);
    first
        .command_in(&namespace, "install", &["--create-namespace", "--no-wait"])
        .run()
        .code(1)
        .stderr_has("belongs to release")
        .stderr_has("Nothing was changed");
    assert!(
        namespace_gone(&first.ns.client, &namespace).await,
        "the refused install created no namespace"
    );
    let after = bindings.list(&Default::default()).await.unwrap();
    let subjects_after: Vec<_> = after
        .items
        .iter()
        .map(|b| (b.metadata.name.clone(), b.subjects.clone()))
        .collect();
    assert_eq!(
        subjects_before, subjects_after,
        "no ClusterRoleBinding was rebound"
    );
    first.run("uninstall", &[]).success();
}

#[tokio::test]
async fn in_a_new_namespace_dry_run_reports_what_the_api_server_rejects_and_a_failure_leaves_nothing()
 {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let namespace = format!("{}-new", f.ns.name);
    // A quantity, so the values pass; but the API server refuses a negative request.
    let invalid = "apiService.resources.requests.cpu=-1";
    let install = |extra: &[&str]| {
        let args = [
            &["--create-namespace", "--no-wait", "--set", invalid],
            extra,
        ]
        .concat();
        f.command_in(&namespace, "install", &args).run()
    };
    install(&["--dry-run"])
        .code(1)
        .stderr_has("rejected")
        .stderr_has("Deployment");
    assert!(namespace_gone(&f.ns.client, &namespace).await);

    install(&[])
        .code(1)
        .stderr_has("rejected")
        .stderr_has(&format!(
            "namespace {namespace}, created for this install, was deleted again"
        ));
    assert!(
        namespace_gone(&f.ns.client, &namespace).await,
        "the namespace skyctl created for the failed install is gone"
    );
    // Nothing else was left behind: no cluster-scoped object, no record.
    assert!(f.live(&ingress_class()).await.is_none());
    f.command_in(&namespace, "status", &[])
        .run()
        .code(1)
        .stderr_has("not found");
}

#[tokio::test]
async fn drift_in_a_container_image_is_seen_and_undone_only_when_forced() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let name = format!("{}-api-server", f.release());
    let original = api_image(&f.deployments().get(&name).await.unwrap());
    let edited = kubectl([
        "-n",
        &f.ns.name,
        "set",
        "image",
        &format!("deployment/{name}"),
        "skypilot-api=evil/image:1",
    ]);
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    assert_eq!(
        api_image(&f.deployments().get(&name).await.unwrap()),
        "evil/image:1"
    );

    // The drift is a conflict with kubectl's field manager, named with its field.
    f.run("upgrade", &["--no-wait"])
        .code(1)
        .stderr_has(&format!("Deployment {}/{name}", f.ns.name))
        .stderr_has("image")
        .stderr_has("kubectl")
        .stderr_has("--force-conflicts");
    assert_eq!(
        api_image(&f.deployments().get(&name).await.unwrap()),
        "evil/image:1"
    );

    f.run("upgrade", &["--no-wait", "--force-conflicts"])
        .success()
        .stderr_has(&format!("Deployment {}/{name} configured", f.ns.name));
    assert_eq!(
        api_image(&f.deployments().get(&name).await.unwrap()),
        original
    );
    // And the release is whole again: the next upgrade has nothing to do.
    f.run("upgrade", &["--no-wait"])
        .success()
        .stderr_has("unchanged");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn force_unlock_never_takes_a_lock_whose_holder_is_alive_and_renewing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let mut holder = upgrade_holding_the_lock(&f).await;
    f.run(
        "upgrade",
        &[
            "--set",
            "apiService.skypilotDev=true",
            "--force-unlock",
            "--no-wait",
        ],
    )
    .code(1)
    .stderr_has(&format!("pid {}", holder.id()))
    .stderr_has("may still be working");

    holder.kill().expect("SIGKILL the holder");
    holder.wait().unwrap();
    // Its process is gone on this host: now the lock may be forced, at once.
    f.run(
        "upgrade",
        &[
            "--set",
            "apiService.skypilotDev=true",
            "--force-unlock",
            "--no-wait",
        ],
    )
    .success();
    let status = f.status();
    let deployed = status["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "deployed")
        .count();
    assert_eq!(deployed, 1, "exactly one revision is deployed: {status}");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn a_rollout_that_loses_its_lock_stops_and_records_its_revision_failed() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let mut holder = upgrade_holding_the_lock(&f).await;
    // Someone takes the lease from under it, as a person with kubectl could.
    let taken = kubectl([
        "-n",
        &f.ns.name,
        "patch",
        "lease",
        &format!("skyctl-lock-{}", f.release()),
        "--type=merge",
        "-p",
        r#"{"spec":{"holderIdentity":"someone else"}}"#,
    ]);
    assert!(
        taken.status.success(),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    let code = eventually(
        "the upgrade to notice and stop (it would wait 120s otherwise)",
        Duration::from_secs(30),
        || {
            let exited = holder.try_wait().unwrap().map(|status| status.code());
            async move { exited }
        },
    )
    .await;
    assert_eq!(code, Some(1));
    let status = f.status();
    let history = status["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["status"], "failed", "{status}");
    assert!(
        history.last().unwrap()["description"]
            .as_str()
            .unwrap()
            .contains("lost"),
        "{status}"
    );
    let deployed: Vec<_> = history
        .iter()
        .filter(|r| r["status"] == "deployed")
        .collect();
    assert_eq!(
        deployed.len(),
        1,
        "the first revision stays deployed: {status}"
    );
    assert_eq!(
        lease_holder(&f).await.as_deref(),
        Some("someone else"),
        "a holder that lost the lock does not take it back"
    );
    kubectl([
        "-n",
        &f.ns.name,
        "delete",
        "lease",
        &format!("skyctl-lock-{}", f.release()),
    ]);
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn bad_names_and_durations_exit_2_before_touching_the_cluster() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let namespace = format!("{}-bad", f.ns.name);
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "install",
            "Bad_Rel",
            "-n",
            &namespace,
            "--create-namespace",
            "--yes",
        ])
        .run()
        .code(2)
        .stderr_has("Bad_Rel");
    assert!(
        namespace_gone(&f.ns.client, &namespace).await,
        "no namespace was created"
    );
    f.run(
        "upgrade",
        &["--install", "--timeout", "18446744073709551615s"],
    )
    .code(2)
    .stderr_has("--timeout");
    f.run("upgrade", &["--install", "--set", "=x"])
        .code(2)
        .stderr_has("=x");
    f.run("status", &[]).code(1).stderr_has("not found");
    assert!(lease_holder(&f).await.is_none(), "no lock was taken");
}

#[tokio::test]
async fn dry_run_diff_masks_secret_data() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let new_line = "ingress.authCredentials=skypilot:$apr1$zyxwvuts$abcdefghijklmnopqrstuv";
    let outcome = f
        .run("upgrade", &["--dry-run", "--diff", "--set", new_line])
        .success();
    let secret_name = format!("{}-basic-auth", f.release());
    assert!(
        outcome
            .stdout
            .contains(&format!("Secret {}/{secret_name}", f.ns.name)),
        "the Secret's change is shown: {}",
        outcome.stdout
    );
    assert!(outcome.stdout.contains("***"), "{}", outcome.stdout);
    // Nothing secret, in any form: the htpasswd lines, the webhook's private key.
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let mut secret_values = vec!["zyxwvuts".to_owned(), "abcdefgh$0123".to_owned()];
    for secret in secrets.list(&Default::default()).await.unwrap().items {
        for value in secret.data.unwrap_or_default().into_values() {
            use base64::Engine;
            secret_values.push(base64::engine::general_purpose::STANDARD.encode(&value.0));
            secret_values.push(String::from_utf8_lossy(&value.0).into_owned());
        }
    }
    for value in secret_values.iter().filter(|v| v.len() >= 8) {
        for line in value
            .lines()
            .filter(|l| l.len() >= 8 && !l.starts_with("-----"))
        {
            assert!(
                !outcome.stdout.contains(line) && !outcome.stderr.contains(line),
                "secret material printed: {line}"
            );
        }
    }
    f.run("uninstall", &[]).success();
}

// Uninstall reads each object once: it judges it as the decision read it and deletes it only
// while it is unchanged, its UID and resourceVersion the delete's preconditions. What changed
// after that read is read again and judged as it is then: an edit leaves it the release's,
// another owner's annotations make it theirs.
#[tokio::test]
async fn an_uninstall_held_after_deciding_deletes_what_was_only_edited_and_keeps_what_changed_hands()
 {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("go");
    let uninstall = f
        .command("uninstall", &[])
        .paused_at(Point::RecordedUninstalling, &gate)
        .start();
    let paused = dir.path().join("go.paused");
    eventually(
        "the uninstall to be held after it decided",
        Duration::from_secs(60),
        || async { paused.exists().then_some(()) },
    )
    .await;
    let edited = format!("{}-ingress-nginx-controller", f.release());
    let taken = format!("{}-api-service", f.release());
    let annotate = |kind: &str, name: &str, annotation: &str| {
        let out = kubectl([
            "annotate",
            kind,
            name,
            "-n",
            &f.ns.name,
            "--overwrite",
            annotation,
        ]);
        assert!(out.status.success(), "{out:?}");
    };
    annotate("configmap", &edited, "note=edited-by-a-person");
    annotate("service", &taken, "skyctl.io/release-name=someone-else");
    std::fs::write(&gate, "").unwrap();
    support::skyctl::Outcome::from(uninstall.wait_with_output().unwrap())
        .success()
        .stderr_has(&format!("left Service {}/{taken} alone", f.ns.name));
    let configmaps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    assert!(
        configmaps.get_opt(&edited).await.unwrap().is_none(),
        "an object only edited since the read is still the release's, and goes"
    );
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(f.ns.client.clone(), &f.ns.name);
    assert!(
        services.get_opt(&taken).await.unwrap().is_some(),
        "an object another release's annotations claim since the read stays"
    );
}

// Two installs of one release name in two namespaces at the same time both succeeded: each
// read the cluster before either wrote, and the later took the earlier's cluster-wide objects
// over (its ClusterRoleBinding rebound, its webhook pointed into the other namespace), since
// both apply as skyctl. The lock is per namespace; a cluster-wide object believed absent is
// now created, never applied over, so the run that comes second stops there.
#[tokio::test]
async fn of_two_installs_racing_for_cluster_wide_objects_the_later_stops_and_takes_nothing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let elsewhere = cluster::TestNamespace::create("race").await;
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("go");
    // The first install reads the cluster, decides and previews, then waits before writing.
    let first = f
        .command("install", &["--no-wait"])
        .paused_at(Point::Prepared, &gate)
        .start();
    let paused = dir.path().join("go.paused");
    eventually(
        "the first install to be held before its first write",
        Duration::from_secs(60),
        || async { paused.exists().then_some(()) },
    )
    .await;
    // Meanwhile the same release name is installed in another namespace, to the end.
    f.command_in(&elsewhere.name, "install", &["--no-wait"])
        .run()
        .success();
    std::fs::write(&gate, "").unwrap();
    let outcome = support::skyctl::Outcome::from(first.wait_with_output().unwrap())
        .code(1)
        .stderr_has("was made by someone else after this run read the cluster")
        .stderr_has("nothing after it was written");
    // Every cluster-wide object is still the second release's, pointing into its namespace.
    let binding = cluster::kubectl_json(&[
        "get",
        "clusterrolebinding",
        &format!("{}-api-role-binding", f.release()),
        "-o",
        "json",
    ]);
    assert_eq!(
        binding["metadata"]["annotations"]["skyctl.io/release-namespace"],
        elsewhere.name.as_str(),
        "{outcome:#?}"
    );
    assert_eq!(binding["subjects"][0]["namespace"], elsewhere.name.as_str());
    let webhook = cluster::kubectl_json(&[
        "get",
        "validatingwebhookconfiguration",
        &format!("{}-ingress-nginx-admission", f.release()),
        "-o",
        "json",
    ]);
    assert_eq!(
        webhook["webhooks"][0]["clientConfig"]["service"]["namespace"],
        elsewhere.name.as_str()
    );
    let second = f
        .command_in(&elsewhere.name, "status", &["-o", "json"])
        .run()
        .success();
    let second: Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(second["status"], "deployed");
    // The first is recorded as failed, and its uninstall leaves the second's objects alone.
    let first_status = f.status();
    assert_eq!(first_status["status"], "failed", "{first_status}");
    // Its history says what the API server said, once, not kube's Debug dump of the Status.
    let described = first_status["description"].as_str().unwrap();
    assert!(
        !described.contains("Status {") && !described.contains("ApiError"),
        "{described}"
    );
    assert_eq!(
        described.matches("made by someone else").count(),
        1,
        "{described}"
    );
    f.run("uninstall", &["--delete-data"]).success();
    let binding = kubectl([
        "get",
        "clusterrolebinding",
        &format!("{}-api-role-binding", f.release()),
    ]);
    assert!(binding.status.success(), "the second's binding stays");
    f.command_in(&elsewhere.name, "uninstall", &["--delete-data"])
        .run()
        .success();
}
