//! A release's life on a real cluster: install, upgrade, no-op upgrade, conflicts, the lock,
//! rollback and uninstall, each driven through the real skyctl binary.

mod support;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use skyctl::interrupt_point::Point;
use skyctl::manifest::Manifest;
use support::audit;
use support::cluster::{self, eventually};
use support::release::{AUTH, Fixture, lease_holder, unready, upgrade_holding_the_lock};
use support::skyctl::skyctl;

fn spec_of(object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap();
    let map = value.as_object_mut().unwrap();
    map.remove("metadata");
    map.remove("status");
    value
}

#[tokio::test]
async fn install_applies_every_rendered_object_managed_by_skyctl_and_waits_until_ready() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--timeout", "90s"]).success();

    let rendered = f.rendered(&[]);
    assert!(
        rendered.len() > 15,
        "the chart renders its objects: {}",
        rendered.len()
    );
    for manifest in &rendered {
        let live = f
            .live(manifest)
            .await
            .unwrap_or_else(|| panic!("{} was not applied", manifest.id));
        let managers: Vec<_> = live.metadata.managed_fields.iter().flatten().collect();
        assert!(
            managers
                .iter()
                .any(|m| m.manager.as_deref() == Some("skyctl")
                    && m.operation.as_deref() == Some("Apply")),
            "{} is not applied by skyctl: {managers:?}",
            manifest.id
        );
    }
    let status = f.status();
    assert_eq!(status["status"], "deployed");
    assert_eq!(status["revision"], 1);
    let unready = unready(&status);
    assert!(unready.is_empty(), "not ready after install: {unready:?}");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn install_of_an_existing_release_points_to_upgrade() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    f.run("install", &["--no-wait"])
        .code(1)
        .stderr_has("already exists")
        .stderr_has("skyctl upgrade");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn upgrade_changes_what_changed_and_records_a_new_revision() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    f.run(
        "upgrade",
        &[
            "--set",
            "apiService.image=example.org/skypilot:2",
            "--set",
            "apiService.replicas=2",
        ],
    )
    .success();
    let api_server = f
        .deployments()
        .get(&format!("{}-api-server", f.release()))
        .await
        .unwrap();
    let spec = api_server.spec.unwrap();
    assert_eq!(spec.replicas, Some(2));
    assert_eq!(
        spec.template.spec.unwrap().containers[0].image.as_deref(),
        Some("example.org/skypilot:2")
    );
    let status = f.status();
    assert_eq!(status["revision"], 2);
    assert_eq!(status["history"][0]["status"], "superseded");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn upgrade_prunes_disabled_objects_but_keeps_the_data_volume_unless_told() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let claim = format!("{}-state", f.release());
    let ingress = Manifest::from_object(
        0,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": format!("{}-ingress", f.release()), "namespace": f.ns.name}}),
    )
    .unwrap();

    f.run(
        "upgrade",
        &["--set", "storage.enabled=false,ingress.enabled=false"],
    )
    .success()
    .stderr_has("kept");
    assert!(f.live(&ingress).await.is_none(), "the Ingress is pruned");
    assert!(
        claims.get_opt(&claim).await.unwrap().is_some(),
        "the PVC is kept"
    );

    f.run(
        "upgrade",
        &[
            "--set",
            "storage.enabled=false,ingress.enabled=false",
            "--delete-data",
        ],
    )
    .success();
    eventually("the PVC to be deleted", Duration::from_secs(30), || async {
        claims
            .get_opt(&claim)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn an_upgrade_with_nothing_to_change_writes_nothing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let mark = audit::mark();
    f.run("upgrade", &[]).success().stderr_has("unchanged");
    let requests = mark.skyctl_requests(&f.ns.name);
    assert!(
        !requests.is_empty(),
        "the audit log saw the upgrade read the cluster"
    );
    let writes: Vec<_> = requests.iter().filter(|r| r.is_write()).collect();
    assert!(writes.is_empty(), "a no-op upgrade wrote: {writes:#?}");
    // Discovery (/api, /apis/...) names no resource; neither does the preflight's /version,
    // which is one request and no discovery.
    let discovery: Vec<_> = requests
        .iter()
        .filter(|r| r.resource.is_empty() && r.uri != "/version")
        .collect();
    assert!(
        discovery.is_empty(),
        "built-in kinds need no discovery: {discovery:#?}"
    );
    assert_eq!(f.status()["revision"], 1, "no new revision");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn a_field_taken_by_another_manager_is_a_conflict_until_forced() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let name = format!("{}-api-server", f.release());
    // What `kubectl scale` does: another field manager writes spec.replicas.
    f.deployments()
        .patch(
            &name,
            &PatchParams {
                field_manager: Some("kubectl-scale".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();

    let mark = audit::mark();
    f.run(
        "upgrade",
        &[
            "--set",
            "apiService.replicas=2",
            "--set",
            "apiService.skypilotDev=true",
        ],
    )
    .code(1)
    .stderr_has(".spec.replicas")
    .stderr_has("kubectl-scale")
    .stderr_has("--force-conflicts");
    let writes: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(|r| r.is_write() && !r.uri.contains("dryRun"))
        .collect();
    assert!(
        writes.is_empty(),
        "a conflicting upgrade changed something: {writes:#?}"
    );
    let spec = f.deployments().get(&name).await.unwrap().spec.unwrap();
    assert_eq!(spec.replicas, Some(3));

    f.run(
        "upgrade",
        &["--set", "apiService.replicas=2", "--force-conflicts"],
    )
    .success();
    let deployment = f.deployments().get(&name).await.unwrap();
    assert_eq!(deployment.spec.unwrap().replicas, Some(2));
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn the_lock_names_its_holder_and_is_free_once_the_holder_is_gone() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    // Killed, or ended as Ctrl-C or a closed terminal ends it: its lock stays behind, naming
    // a process that no longer runs on this machine.
    for signal in [libc::SIGKILL, libc::SIGTERM, libc::SIGINT] {
        let mut holder = upgrade_holding_the_lock(&f).await;
        f.run("upgrade", &["--set", "apiService.skypilotDev=true"])
            .code(1)
            .stderr_has("is locked by")
            .stderr_has(&format!("pid {}", holder.id()))
            .stderr_has("skyctl upgrade");
        // SAFETY: kill(2) of a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(holder.id() as i32, signal) }, 0);
        holder.wait().unwrap();
        assert!(
            lease_holder(&f).await.is_some(),
            "{signal}: the lock is left"
        );
        // At once, and without --force-unlock: not 15 s later when the lease runs out.
        f.run("upgrade", &["--set", "apiService.skypilotDev=true"])
            .success();
        f.run("upgrade", &["--set", "apiService.skypilotDev=false"])
            .success();
    }
    let status = f.status();
    assert_eq!(status["status"], "deployed");
    let history = status["history"].as_array().unwrap();
    assert!(
        history.iter().any(|r| r["status"] == "failed"
            && r["description"].as_str().unwrap().contains("interrupted")),
        "the ended upgrade is recorded as interrupted: {history:?}"
    );
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn rollback_restores_a_revision_field_for_field() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let first = f.rendered(&[]);
    let mut before = Vec::new();
    for manifest in &first {
        before.push(spec_of(&f.live(manifest).await.unwrap()));
    }
    f.run(
        "upgrade",
        &[
            "--set",
            "apiService.image=example.org/skypilot:2,rbac.rules=null",
            "--set",
            "ingress.enabled=false",
        ],
    )
    .success();
    f.run("rollback", &["1"]).success();
    for (manifest, expected) in first.iter().zip(before) {
        let live = f
            .live(manifest)
            .await
            .unwrap_or_else(|| panic!("{} is back", manifest.id));
        assert_eq!(
            spec_of(&live),
            expected,
            "{} is as in revision 1",
            manifest.id
        );
    }
    let status = f.status();
    assert_eq!(status["revision"], 3);
    assert_eq!(status["description"], "Rollback to 1 complete");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn uninstall_removes_everything_but_the_data_volume_and_a_second_one_finds_nothing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    f.run("upgrade", &["--set", "apiService.skypilotDev=true"])
        .success();
    let rendered = f.rendered(&[]);
    let mark = audit::mark();
    f.run("uninstall", &[])
        .success()
        .stderr_has("kept")
        .stderr_has("--delete-data");
    // Both revisions' records go with one request.
    let records: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(|r| r.resource == "secrets" && r.verb.starts_with("delete"))
        .filter(|r| r.uri.contains("skyctl.release.v1") || r.verb == "deletecollection")
        .collect();
    assert!(
        matches!(records.as_slice(), [one] if one.verb == "deletecollection"),
        "{records:#?}"
    );
    for manifest in &rendered {
        let gone = f.live(manifest).await.is_none();
        assert_eq!(
            gone,
            manifest.id.kind != "PersistentVolumeClaim",
            "{} after uninstall",
            manifest.id
        );
    }
    // As in Helm: a release that is not there is an error, unless told to ignore it.
    f.run("uninstall", &[])
        .code(1)
        .stderr_has("not found")
        .stderr_has("nothing to uninstall");
    f.run("uninstall", &["--ignore-not-found"])
        .success()
        .stderr_has("nothing to uninstall");

    // Without a release left to own it, the kept claim goes with a reinstall and --delete-data.
    f.run("install", &[]).success();
    f.run("uninstall", &["--delete-data"]).success();
    for manifest in &rendered {
        assert!(
            f.live(manifest).await.is_none(),
            "{} after uninstall --delete-data",
            manifest.id
        );
    }
}

// Uninstall reads the records before it takes the lock; a run that held the lock first may
// record a revision meanwhile. Deleting the records must take only those read, so that the
// release, and what only the newer revision made, are still found.
#[tokio::test]
async fn deleting_the_records_takes_only_the_revisions_read() {
    use skyctl::cluster::release_secrets::SecretStorage;
    use skyctl::release::ReleaseStorage;
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let client = cluster::client().await;
    let storage = SecretStorage::new(&client, &f.ns.name, f.release());
    let read = storage.list().await.unwrap();
    f.run(
        "upgrade",
        &["--no-wait", "--set", "apiService.skypilotDev=true"],
    )
    .success();
    storage.delete_all(&read).await.unwrap();
    let left: Vec<u32> = storage
        .list()
        .await
        .unwrap()
        .iter()
        .map(|r| r.revision)
        .collect();
    assert_eq!(left, [2], "revision 2 was recorded after the read");
}

// Uninstall waited for what a finalizer holds by reading it again after each of a growing
// series of pauses, and saw it go only at the next read. It now reads it once and watches it,
// and ends as soon as the finalizer lets go.
#[tokio::test]
async fn uninstall_watches_what_a_finalizer_holds_and_ends_when_it_goes() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let held = format!("{}-ingress-nginx-controller", f.release());
    f.hold(&held, true);
    let mark = audit::mark();
    let uninstall = f.command("uninstall", &[]).start();
    let path = format!("/configmaps/{held}");
    let only_it = format!("metadata.name%3D{held}");
    mark.until_skyctl_watches(&f.ns.name, "skyctl to watch the held ConfigMap", |w| {
        w.uri.contains(&only_it)
    })
    .await;
    f.hold(&held, false);
    support::skyctl::Outcome::from(uninstall.wait_with_output().unwrap())
        .success()
        .stderr_has("deleted");
    let requests: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(|r| r.uri.contains(&path))
        .collect();
    let deleted = requests
        .iter()
        .position(|r| r.verb == "delete")
        .expect("the held ConfigMap was deleted");
    let reads = requests[deleted..]
        .iter()
        .filter(|r| r.verb == "get")
        .count();
    assert_eq!(
        reads, 0,
        "after its delete, the watch from the delete's answer and no read: {requests:#?}"
    );
}

// Whoever may delete may not always watch. The wait for a deletion then failed with the
// refused watch, after the deletes and before the records went; it now reads the object again
// after a pause, as it did before it watched.
#[tokio::test]
async fn uninstall_by_one_who_may_not_watch_waits_by_reading_again() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let ns = f.ns.name.as_str();
    f.run("install", &["--no-wait"]).success();
    let _restore = cluster::Restore(vec![
        "delete",
        "clusterrole,clusterrolebinding",
        "skyctl-test-no-watch",
        "--ignore-not-found",
    ]);
    let rights = tempfile::NamedTempFile::new().unwrap();
    let everything_but_watch = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "skyctl-test-no-watch"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"],
                    "verbs": ["get", "list", "create", "update", "patch", "delete"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "skyctl-test-no-watch"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "skyctl-test-no-watch"},
         "subjects": [{"kind": "ServiceAccount", "name": "no-watch", "namespace": ns}]},
    ]});
    std::fs::write(rights.path(), everything_but_watch.to_string()).unwrap();
    for args in [
        vec!["create", "serviceaccount", "no-watch", "-n", ns],
        vec!["apply", "-f", rights.path().to_str().unwrap()],
    ] {
        let output = cluster::kubectl(&args);
        assert!(output.status.success(), "{output:?}");
    }
    let (_dir, kubeconfig) = cluster::token_kubeconfig("no-watch", ns);
    let held = format!("{}-ingress-nginx-controller", f.release());
    f.hold(&held, true);
    let mark = audit::mark();
    let uninstall = f.command("uninstall", &[]).kubeconfig(&kubeconfig).start();
    let only_it = format!("metadata.name%3D{held}");
    eventually(
        "skyctl's watch to be refused",
        Duration::from_secs(120),
        || async {
            let refused = mark
                .skyctl_requests(ns)
                .into_iter()
                .any(|r| r.verb == "watch" && r.code == Some(403) && r.uri.contains(&only_it));
            refused.then_some(())
        },
    )
    .await;
    f.hold(&held, false);
    support::skyctl::Outcome::from(uninstall.wait_with_output().unwrap())
        .success()
        .stderr_has("deleted");
    f.run("status", &[]).code(1).stderr_has("not found");
    // Nor may it delete a collection: the records go one by one.
    let requests = mark.skyctl_requests(ns);
    let refused = requests
        .iter()
        .any(|r| r.verb == "deletecollection" && r.code == Some(403));
    let one_by_one = requests
        .iter()
        .any(|r| r.verb == "delete" && r.uri.contains("skyctl.release.v1"));
    assert!(refused && one_by_one, "{requests:#?}");
}

#[tokio::test]
async fn a_killed_install_or_upgrade_converges_when_run_again() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // Stopped at each step: holding the lock only, recorded, after the first and a middle phase
    // of objects, after the prune and the wait, and deployed but still holding the lock.
    let interruptions = [
        (Point::LockTaken, 1),
        (Point::RecordedPending, 1),
        (Point::PhaseApplied, 1),
        (Point::PhaseApplied, 4),
        (Point::Pruned, 1),
        (Point::Waited, 1),
        (Point::RecordedDeployed, 1),
    ];
    for (point, nth) in interruptions {
        f.command("install", &[])
            .interrupted_at(point, nth)
            .run()
            .interrupted();
        // The killed run's lock names a process gone from this machine: the next run takes it
        // at once, without --force-unlock.
        f.run("upgrade", &["--install"]).success();
        let image = format!("apiService.image=example.org/sky:{}-{nth}", point.name());
        // The upgrade changes the Deployment alone: one phase. An install killed once it was
        // deployed leaves nothing to converge, so the run above changed nothing and left the
        // killed run's lock: this one takes it.
        f.command("upgrade", &["--set", &image])
            .interrupted_at(point, 1)
            .run()
            .interrupted();
        f.run("upgrade", &["--set", &image]).success();
        // The record tells the truth: deployed, and listing exactly what exists.
        let status = f.status();
        assert_eq!(status["status"], "deployed", "{status}");
        let rendered = f.rendered(&["--set", &image]);
        let inventory: Vec<String> = status["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                )
            })
            .collect();
        for manifest in &rendered {
            assert!(
                inventory.contains(&format!("{}/{}", manifest.id.kind, manifest.id.name)),
                "{} recorded",
                manifest.id
            );
            assert!(f.live(manifest).await.is_some(), "{} exists", manifest.id);
        }
        // A run killed after it recorded its revision but before it let go of the lock leaves
        // nothing to converge (the next upgrade is a no-op) and a lock whose holder is gone
        // from this machine: the uninstall takes it at once.
        f.run("uninstall", &["--delete-data"]).success();
    }
}

#[tokio::test]
async fn a_load_balancer_without_an_address_times_out_naming_what_it_waited_for() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let mark = audit::mark();
    f.run(
        "install",
        &[
            "--set",
            "ingress-nginx.controller.service.type=LoadBalancer",
            "--timeout",
            "3s",
        ],
    )
    .code(1)
    .stderr_has("timed out after 3s")
    .stderr_has(&format!(
        "Service {}/{}-ingress-nginx-controller",
        f.ns.name,
        f.release()
    ))
    .stderr_has("no IP or hostname");
    // The wait follows the Service with a watch from its apply's answer: not read again, where
    // polling read it after each of a growing series of pauses (seven reads in 3 s).
    let controller = format!("{}-ingress-nginx-controller", f.release());
    let requests: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(|r| r.resource == "services" && r.name.as_deref() == Some(controller.as_str()))
        .collect();
    let applied = requests
        .iter()
        .rposition(|r| r.verb == "patch" && !r.uri.contains("dryRun"))
        .expect("the controller Service was applied");
    let reads = requests[applied..]
        .iter()
        .filter(|r| r.verb == "get")
        .count();
    assert_eq!(reads, 0, "not read while waiting: {requests:#?}");
    let watched = mark.skyctl_watches(&f.ns.name);
    assert!(
        watched
            .iter()
            .any(|w| w.uri.contains("services") && w.uri.contains("controller")),
        "the wait watches the Service: {watched:#?}"
    );
    let services: Api<Service> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    assert!(
        services
            .get_opt(&format!("{}-api-service", f.release()))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        f.status()["status"],
        "failed",
        "the record says the install failed"
    );
    f.run("uninstall", &["--delete-data"]).success();
}

// A wait follows each object with a watch; an object deleted by hand while it is followed
// must end in the timeout's report as gone, not in an error or a wait that never ends.
#[tokio::test]
async fn an_object_deleted_by_hand_during_the_wait_is_reported_as_gone() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let controller = format!("{}-ingress-nginx-controller", f.release());
    let mark = audit::mark();
    let install = f
        .command(
            "install",
            &[
                "--set",
                "ingress-nginx.controller.service.type=LoadBalancer",
                "--timeout",
                "10s",
            ],
        )
        .start();
    let only_it = format!("metadata.name%3D{controller}");
    mark.until_skyctl_watches(&f.ns.name, "skyctl to watch the Service", |w| {
        w.uri.contains("/services") && w.uri.contains(&only_it)
    })
    .await;
    let deleted = cluster::kubectl(["delete", "service", &controller, "-n", &f.ns.name]);
    assert!(deleted.status.success(), "{deleted:?}");
    support::skyctl::Outcome::from(install.wait_with_output().unwrap())
        .code(1)
        .stderr_has("timed out after 10s")
        .stderr_has(&format!(
            "Service {}/{controller}: does not exist",
            f.ns.name
        ));
    f.run("uninstall", &["--delete-data"]).success();
}

#[tokio::test]
async fn dry_run_with_diff_shows_the_change_and_persists_nothing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let mark = audit::mark();
    let outcome = f
        .run(
            "upgrade",
            &[
                "--dry-run",
                "--diff",
                "--set",
                "apiService.image=example.org/skypilot:9",
            ],
        )
        .success()
        .stderr_has("nothing was changed");
    let name = format!("{}-api-server", f.release());
    assert!(
        outcome
            .stdout
            .contains(&format!("--- live/Deployment {}/{name}", f.ns.name)),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("+        image: example.org/skypilot:9"),
        "{}",
        outcome.stdout
    );
    let writes: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(|r| r.is_write() && !r.uri.contains("dryRun=All"))
        .collect();
    assert!(writes.is_empty(), "a dry run wrote: {writes:#?}");
    let image = f
        .deployments()
        .get(&name)
        .await
        .unwrap()
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers[0]
        .image
        .clone();
    assert_ne!(image.as_deref(), Some("example.org/skypilot:9"));
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn a_missing_namespace_needs_create_namespace_and_leaves_with_delete_namespace() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let namespace = format!("{}-new", f.ns.name);
    let run = |verb: &str, extra: &[&str]| {
        let mut args = vec![verb, f.release(), "-n", &namespace];
        if verb == "install" {
            args.extend([
                "--set",
                AUTH,
                "--set",
                "ingress.httpNodePort=null,ingress.httpsNodePort=null",
                "--no-health-check",
            ]);
        }
        args.extend_from_slice(extra);
        skyctl().kubeconfig(cluster::kubeconfig()).args(args).run()
    };
    run("install", &[])
        .code(2)
        .stderr_has(&namespace)
        .stderr_has("--create-namespace");
    run("install", &["--create-namespace"]).success();
    run("uninstall", &["--delete-namespace", "--delete-data"])
        .success()
        .stderr_has("namespace");
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(f.ns.client.clone());
    assert!(
        namespaces.get_opt(&namespace).await.unwrap().is_none(),
        "the namespace skyctl created is gone"
    );
}

#[tokio::test]
async fn history_max_keeps_only_the_newest_revisions() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    for tag in ["2", "3", "4"] {
        let image = format!("apiService.image=example.org/skypilot:{tag}");
        f.run(
            "upgrade",
            &["--no-wait", "--history-max", "2", "--set", &image],
        )
        .success();
    }
    let status = f.status();
    let revisions: Vec<_> = status["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].clone())
        .collect();
    assert_eq!(revisions, [json!(3), json!(4)]);
    f.run("uninstall", &[]).success();
}

/// A lock as a crashed skyctl would leave it, with a long expiry, held by `pid` on `host`.
async fn stale_lock(f: &Fixture, host: &str, pid: u32) {
    let leases: Api<Lease> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        k8s_openapi::jiff::Timestamp::now(),
    );
    let name = format!("skyctl-lock-{}", f.release());
    let _ = leases.delete(&name, &Default::default()).await;
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": name, "annotations": {
            "skyctl.io/lock-host": host, "skyctl.io/lock-pid": pid.to_string()}},
        "spec": {"holderIdentity": format!("ann@{host} (pid {pid}, skyctl upgrade)"),
                 "leaseDurationSeconds": 3600, "acquireTime": now, "renewTime": now}
    }))
    .unwrap();
    leases.create(&Default::default(), &lease).await.unwrap();
}

/// A process id that no process has any more.
fn gone_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[tokio::test]
async fn force_unlock_takes_a_lock_whose_holder_is_gone_and_no_other() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &[]).success();
    let here = gethostname();
    let change = ["--set", "apiService.skypilotDev=true"];

    // A holder on another machine may be alive: its lock is not forced.
    stale_lock(&f, "laptop", 4242).await;
    f.run("upgrade", &change)
        .code(1)
        .stderr_has("locked by ann@laptop (pid 4242, skyctl upgrade)")
        .stderr_has("--force-unlock");
    f.run("upgrade", &[&change[..], &["--force-unlock"]].concat())
        .code(1)
        .stderr_has("may still be")
        .stderr_has("expire");
    // Nor is one of this host whose process still runs (this test's own).
    stale_lock(&f, &here, std::process::id()).await;
    f.run("upgrade", &[&change[..], &["--force-unlock"]].concat())
        .code(1)
        .stderr_has("may still be");
    // A holder of this host whose process is gone is provably gone.
    stale_lock(&f, &here, gone_pid()).await;
    f.run("upgrade", &[&change[..], &["--force-unlock"]].concat())
        .success();
    assert!(
        lease_holder(&f).await.is_none(),
        "the lock is released after the upgrade"
    );
    f.run("uninstall", &[]).success();
}

fn gethostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the test machine names itself")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn atomic_undoes_a_failed_upgrade_and_a_failed_first_install() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let unreachable = [
        "--atomic",
        "--set",
        "ingress-nginx.controller.service.type=LoadBalancer",
        "--timeout",
        "3s",
    ];
    f.run("install", &unreachable)
        .code(1)
        .stderr_has("timed out")
        .stderr_has("--atomic uninstalled");
    f.run("status", &[]).code(1).stderr_has("not found");

    f.run("install", &[]).success();
    f.run("upgrade", &unreachable)
        .code(1)
        .stderr_has("rolled the release back to revision 1");
    let status = f.status();
    assert_eq!(status["status"], "deployed");
    assert_eq!(status["description"], "Rollback to 1 complete");
    let services: Api<Service> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let controller = services
        .get(&format!("{}-ingress-nginx-controller", f.release()))
        .await
        .unwrap();
    assert_eq!(controller.spec.unwrap().type_.as_deref(), Some("ClusterIP"));
    f.run("uninstall", &["--delete-data"]).success();
}

#[tokio::test]
async fn the_release_record_holds_values_and_inventory_but_no_secret_data() {
    use std::io::Read;
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--set", "apiService.replicas=1"])
        .success();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let record = secrets
        .get(&format!("skyctl.release.v1.{}.v1", f.release()))
        .await
        .unwrap();
    assert_eq!(record.type_.as_deref(), Some("skyctl.io/release.v1"));
    let data = record.data.unwrap();
    let release: Value = serde_json::from_slice(&data["release.json"].0).unwrap();
    assert_eq!(release["revision"], 1);
    assert_eq!(release["status"], "deployed");
    assert_eq!(release["skyctlVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        release["values"]["apiService"]["replicas"], 1,
        "the user's values are recorded"
    );
    assert!(
        release["values"].get("storage").is_none(),
        "defaults are not"
    );
    let inventory = release["inventory"].as_array().unwrap();
    assert!(
        inventory
            .iter()
            .any(|o| o["kind"] == "ClusterRole" && o.get("namespace").is_none())
    );
    assert!(
        inventory
            .iter()
            .any(|o| o["kind"] == "ValidatingWebhookConfiguration")
    );

    let mut manifest = String::new();
    flate2::read::GzDecoder::new(data["manifest.yaml.gz"].0.as_slice())
        .read_to_string(&mut manifest)
        .unwrap();
    assert!(manifest.contains("kind: Deployment"));
    assert!(
        !manifest.contains("PRIVATE KEY"),
        "the webhook key is not in the record"
    );
    assert!(
        !manifest.contains("$apr1$"),
        "the htpasswd Secret's data is not in the record"
    );
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn a_second_release_never_takes_over_the_first_ones_shared_objects() {
    let _serial = cluster::exclusive().await;
    let first = Fixture::new().await;
    let second = Fixture::new().await;
    first.run("install", &["--no-wait"]).success();
    second
        .run("install", &["--no-wait"])
        .code(1)
        .stderr_has("IngressClass nginx belongs to release")
        .stderr_has(first.release())
        .stderr_has("ingress-nginx.enabled=false");
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(second.ns.client.clone(), &second.ns.name);
    assert!(
        secrets
            .get_opt(&format!("{}-basic-auth", second.release()))
            .await
            .unwrap()
            .is_none(),
        "the refused install changed nothing"
    );
    // Sharing the first release's controller works.
    second
        .run(
            "install",
            &["--no-wait", "--set", "ingress-nginx.enabled=false"],
        )
        .success();
    second.run("uninstall", &[]).success();
    let class = Manifest::from_object(0, json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}})).unwrap();
    assert!(
        first.live(&class).await.is_some(),
        "the first release keeps its IngressClass"
    );
    first.run("uninstall", &[]).success();
}
