//! `uninstall --delete-namespace` deletes the namespace only when nothing in it is anyone
//! else's: another skyctl release, a Helm release, a person's Secret and the release's own data
//! each block it before anything is written, named with the way out. `uninstall --dry-run`
//! tells what would go and what stay.

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret};
use kube::api::{Api, PostParams};
use serde_json::json;
use skyctl::interrupt_point::Point;
use support::audit;
use support::cluster;
use support::helm;
use support::release::Fixture;
use support::skyctl::Outcome;

/// A namespace skyctl creates for the fixture's release (`install --create-namespace`), so
/// that `--delete-namespace` may delete it.
async fn release_in_a_namespace_skyctl_creates(f: &Fixture) -> String {
    let namespace = format!("{}-own", f.ns.name);
    f.command_in(&namespace, "install", &["--create-namespace", "--no-wait"])
        .run()
        .success();
    namespace
}

fn uninstall(f: &Fixture, namespace: &str, args: &[&str]) -> Outcome {
    f.command_in(namespace, "uninstall", args).run()
}

async fn namespace_exists(f: &Fixture, namespace: &str) -> bool {
    let namespaces: Api<Namespace> = Api::all(f.ns.client.clone());
    namespaces
        .get_opt(namespace)
        .await
        .unwrap()
        .is_some_and(|n| n.metadata.deletion_timestamp.is_none())
}

async fn create_secret(f: &Fixture, namespace: &str, name: &str) {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": name}, "stringData": {"note": "a person's"}
    }))
    .unwrap();
    Api::<Secret>::namespaced(f.ns.client.clone(), namespace)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
}

fn persisted(mark: &audit::Mark, namespace: &str) -> Vec<audit::Request> {
    mark.skyctl_requests(namespace)
        .into_iter()
        .filter(audit::Request::persists)
        .collect()
}

// `uninstall R --delete-namespace` deleted everything in the namespace: another skyctl release
// (its volume, records and the cluster-wide objects no record then named), a Helm release and a
// person's Secret; and, without --delete-data, the release's own volume after saying it kept it.
#[tokio::test]
async fn a_namespace_that_holds_what_is_not_the_releases_is_never_deleted() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let namespace = release_in_a_namespace_skyctl_creates(&f).await;
    // Another release beside it, sharing its ingress controller; a Helm release; a person's
    // Secret.
    let other = Fixture::new().await;
    other
        .command_in(
            &namespace,
            "install",
            &["--no-wait", "--set", "ingress-nginx.enabled=false"],
        )
        .run()
        .success();
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::small_chart(dir.path(), "notes", "0.1.0");
    let _helm = helm::install("secret", "notes", &chart, &namespace, &[]);
    create_secret(&f, &namespace, "kept-by-hand").await;

    let mark = audit::mark();
    for dry_run in [&["--dry-run"][..], &[]] {
        // The other release shares this one's controller, which is not what is checked here.
        let shared = ["--delete-namespace", "--remove-shared-controller"];
        let refused = uninstall(&f, &namespace, &[&shared[..], dry_run].concat())
            .code(2)
            .stderr_has(&format!("namespace {namespace} holds what is not release"))
            .stderr_has(&format!(
                "PersistentVolumeClaim {namespace}/{}-state: the release's data",
                f.release()
            ))
            .stderr_has(&format!(
                "Deployment {namespace}/{b}-api-server: of release {b} in namespace {namespace}",
                b = other.release()
            ))
            .stderr_has(&format!(
                "PersistentVolumeClaim {namespace}/{b}-state: of release {b}",
                b = other.release()
            ))
            .stderr_has(&format!(
                "ConfigMap {namespace}/notes-note: of Helm release notes"
            ))
            .stderr_has(&format!(
                "Secret {namespace}/kept-by-hand: made by hand or by another tool"
            ))
            .stderr_has("add --delete-data")
            .stderr_has(&format!(
                "skyctl uninstall {} -n {namespace}",
                other.release()
            ))
            .stderr_has(&format!("helm uninstall notes -n {namespace}"))
            .stderr_has("--also-delete Secret/kept-by-hand")
            .stderr_has("Nothing was changed");
        // What another resident owns goes or stays with it, and is not listed on its own; the
        // data and other releases' objects cannot be named away.
        for absent in [
            "Pod ",
            "ReplicaSet ",
            "EndpointSlice ",
            "--also-delete PersistentVolumeClaim",
            "--also-delete Deployment",
        ] {
            assert!(!refused.stderr.contains(absent), "{absent}: {refused:#?}");
        }
    }
    let writes = persisted(&mark, &namespace);
    assert!(writes.is_empty(), "a refused uninstall wrote: {writes:#?}");
    // Even with the data let go, the others still block.
    uninstall(
        &f,
        &namespace,
        &[
            "--delete-namespace",
            "--delete-data",
            "--remove-shared-controller",
        ],
    )
    .code(2)
    .stderr_lacks("the release's data");
    assert!(namespace_exists(&f, &namespace).await);

    // Without --delete-namespace the release goes and everything else stays.
    uninstall(
        &f,
        &namespace,
        &["--delete-data", "--remove-shared-controller"],
    )
    .success();
    assert!(namespace_exists(&f, &namespace).await);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(f.ns.client.clone(), &namespace);
    assert!(
        claims
            .get_opt(&format!("{}-state", other.release()))
            .await
            .unwrap()
            .is_some(),
        "the other release's volume stays"
    );
    other.command_in(&namespace, "status", &[]).run().success();
    let maps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &namespace);
    assert!(maps.get_opt("notes-note").await.unwrap().is_some());
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &namespace);
    assert!(secrets.get_opt("kept-by-hand").await.unwrap().is_some());
    other
        .command_in(&namespace, "uninstall", &["--delete-data"])
        .run()
        .success();
}

#[tokio::test]
async fn the_namespace_goes_with_the_release_once_its_data_may_go_too() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let namespace = release_in_a_namespace_skyctl_creates(&f).await;
    let mark = audit::mark();
    uninstall(&f, &namespace, &["--delete-namespace"])
        .code(2)
        .stderr_has(&format!(
            "PersistentVolumeClaim {namespace}/{}-state: the release's data",
            f.release()
        ))
        .stderr_has("add --delete-data")
        .stderr_lacks("--also-delete");
    assert!(persisted(&mark, &namespace).is_empty());

    let dry = uninstall(
        &f,
        &namespace,
        &["--delete-namespace", "--delete-data", "--dry-run"],
    )
    .success()
    .stderr_has("dry run: uninstall of release")
    .stderr_has(&format!(
        "would delete PersistentVolumeClaim {namespace}/{}-state",
        f.release()
    ))
    .stderr_has(&format!("would delete namespace {namespace}"));
    assert!(persisted(&mark, &namespace).is_empty(), "{dry:#?}");
    // A plain dry run keeps the data and says so.
    uninstall(&f, &namespace, &["--dry-run"])
        .success()
        .stderr_has(&format!(
            "would keep PersistentVolumeClaim {namespace}/{}-state",
            f.release()
        ))
        .stderr_lacks("would delete namespace");
    assert!(persisted(&mark, &namespace).is_empty());

    uninstall(&f, &namespace, &["--delete-namespace", "--delete-data"])
        .success()
        .stderr_has(&format!("namespace {namespace} deleted"));
    assert!(!namespace_exists(&f, &namespace).await);
}

/// Both of a person's Secrets, named to go with the namespace.
const BOTH_NAMED: [&str; 4] = [
    "--also-delete",
    "Secret/notes",
    "--also-delete",
    "Secret/more-notes",
];

#[tokio::test]
async fn objects_named_with_also_delete_go_with_the_namespace_and_no_others() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let namespace = release_in_a_namespace_skyctl_creates(&f).await;
    create_secret(&f, &namespace, "notes").await;
    create_secret(&f, &namespace, "more-notes").await;
    let both = ["--delete-namespace", "--delete-data"];
    uninstall(
        &f,
        &namespace,
        &[&both[..], &["--also-delete", "Secret/notes"]].concat(),
    )
    .code(2)
    .stderr_has(&format!("Secret {namespace}/more-notes"))
    .stderr_lacks(&format!("Secret {namespace}/notes:"));
    uninstall(
        &f,
        &namespace,
        &[
            &both[..],
            &[
                "--also-delete",
                "Secret/notes",
                "--also-delete",
                "secret/more-notes",
            ],
            &["--dry-run"],
        ]
        .concat(),
    )
    .success()
    .stderr_has(&format!(
        "would delete Secret {namespace}/more-notes with the namespace"
    ));
    // Bad input on the new flag: exit 2 before the cluster is asked anything.
    for bad in [
        &["--also-delete", "Secret/notes"][..],
        &["--delete-namespace", "--also-delete", "Secret"],
        &["--delete-namespace", "--also-delete", "Secret/a/b"],
    ] {
        uninstall(&f, &namespace, bad).code(2);
    }
    assert!(namespace_exists(&f, &namespace).await);
    uninstall(&f, &namespace, &[&both[..], &BOTH_NAMED].concat()).success();
    assert!(!namespace_exists(&f, &namespace).await);
}

// Killed anywhere, `uninstall --delete-namespace --delete-data` finishes when run again: the
// namespace went after the records, so a run stopped between the two left a namespace no record
// named any more, which no later uninstall would delete.
#[tokio::test]
async fn uninstall_killed_at_any_point_finishes_when_run_again() {
    let _serial = cluster::exclusive().await;
    for point in [
        Point::LockTaken,
        Point::RecordedUninstalling,
        Point::ObjectsDeleted,
        Point::RecordsDeleted,
    ] {
        let f = Fixture::new().await;
        let namespace = release_in_a_namespace_skyctl_creates(&f).await;
        let args = ["--delete-namespace", "--delete-data"];
        f.command_in(&namespace, "uninstall", &args)
            .interrupted_at(point, 1)
            .run()
            .interrupted();
        // Run again. Stopped after the namespace was asked to go, the records may be gone
        // with it already, or not yet (the next test holds that case).
        let again = uninstall(
            &f,
            &namespace,
            &[&args[..], &["--ignore-not-found"]].concat(),
        );
        if point != Point::RecordsDeleted {
            again
                .success()
                .stderr_has(&format!("namespace {namespace} deleted"));
        } else {
            again.success();
        }
        cluster::eventually(
            "the namespace to go",
            std::time::Duration::from_secs(60),
            || async {
                let namespaces: Api<Namespace> = Api::all(f.ns.client.clone());
                namespaces
                    .get_opt(&namespace)
                    .await
                    .unwrap()
                    .is_none()
                    .then_some(())
            },
        )
        .await;
        let left = cluster::kubectl(["get", "clusterroles", "-o", "name"]);
        assert!(
            !String::from_utf8_lossy(&left.stdout).contains(f.release()),
            "{point:?}: the release's ClusterRoles are left"
        );
    }
}

// A namespace being deleted (kubectl, or an uninstall stopped after asking) refuses new
// objects, the lock too: uninstall failed "cannot take the release lock", and the release's
// cluster-wide objects, whose records went with the namespace, were left for good.
//
// A run stopped there leaves its Lease, held until it expires. The API server refuses the
// Lease's create in a namespace being deleted before it looks for one that exists, so the
// held Lease does not stop the next run (which learns of the deletion from that refusal).
#[tokio::test]
async fn uninstall_in_a_namespace_being_deleted_removes_what_the_release_has_outside_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        k8s_openapi::jiff::Timestamp::now(),
    );
    let stopped_run: k8s_openapi::api::coordination::v1::Lease = serde_json::from_value(json!({
        "metadata": {"name": format!("skyctl-lock-{}", f.release())},
        "spec": {"holderIdentity": "someone@elsewhere (pid 1, skyctl uninstall)",
                 "leaseDurationSeconds": 60, "acquireTime": now, "renewTime": now}
    }))
    .unwrap();
    Api::namespaced(f.ns.client.clone(), &f.ns.name)
        .create(&PostParams::default(), &stopped_run)
        .await
        .unwrap();
    // A finalizer holds the namespace in its deletion, as a slow controller would.
    let maps: Api<ConfigMap> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let held: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}
    }))
    .unwrap();
    maps.create(&PostParams::default(), &held).await.unwrap();
    let deleted = cluster::kubectl(["delete", "namespace", &f.ns.name, "--wait=false"]);
    assert!(deleted.status.success(), "{deleted:?}");
    f.run("uninstall", &[]).success().stderr_has(&format!(
        "namespace {} was already being deleted",
        f.ns.name
    ));
    let left = cluster::kubectl(["get", "clusterroles,clusterrolebindings", "-o", "name"]);
    assert!(
        !String::from_utf8_lossy(&left.stdout).contains(f.release()),
        "the release's cluster-wide objects are left"
    );
    f.hold("held", false);
}

// In a namespace skyctl did not create, `--delete-namespace --also-delete KIND/NAME` kept the
// namespace and said nothing of the objects named to go with it: they stayed, unsaid.
#[tokio::test]
async fn objects_named_to_go_with_a_namespace_that_stays_are_refused() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    create_secret(&f, &f.ns.name, "named").await;
    let mark = audit::mark();
    for dry_run in [true, false] {
        let mut args = vec!["--delete-namespace", "--also-delete", "Secret/named"];
        if dry_run {
            args.push("--dry-run");
        }
        uninstall(&f, &f.ns.name, &args)
            .code(2)
            .stderr_has("was not created by skyctl")
            .stderr_has("nothing --also-delete names goes with it");
    }
    assert!(persisted(&mark, &f.ns.name).is_empty());
    f.run("uninstall", &[]).success();
}
