//! Two releases of chart 0.13.0 in one cluster, in namespaces of their own, each with its own
//! ingress-nginx controller. IngressClasses are cluster-wide, so the second release needs a
//! class of its own; with it, neither release owns an object of the other, both become
//! ready, and uninstalling one leaves the other as it was.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::api::Api;
use support::cluster;
use support::release::{Chart, Fixture, pod_spec, unready};

/// `--set` values that give `f`'s release an IngressClass and controller of its own, named
/// after the release so that no other test's class can be in the way.
fn own_class(f: &Fixture) -> (String, String, String) {
    let class = format!("nginx-{}", f.release());
    let controller = format!("k8s.io/ingress-nginx-{}", f.release());
    let values = [
        format!("ingress-nginx.controller.ingressClassResource.name={class}"),
        format!("ingress-nginx.controller.ingressClassResource.controllerValue={controller}"),
        format!("ingress-nginx.controller.ingressClass={class}"),
        format!("ingress.ingressClassName={class}"),
    ]
    .join(",");
    (class, controller, values)
}

fn assert_deployed_and_ready(f: &Fixture) {
    let status = f.status();
    assert_eq!(status["status"], "deployed", "{}", f.release());
    let unready = unready(&status);
    assert!(unready.is_empty(), "{} not ready: {unready:?}", f.release());
}

/// The UID of every object `template` renders for the release with `args`, read from the
/// cluster; each must exist. The shared `skypilot-system` Namespace is left out: only the
/// first release in a cluster creates it.
async fn live_uids(f: &Fixture, args: &[&str]) -> BTreeMap<String, String> {
    let mut uids = BTreeMap::new();
    for manifest in f.rendered(args) {
        if manifest.id.kind == "Namespace" {
            continue;
        }
        let live = f
            .live(&manifest)
            .await
            .unwrap_or_else(|| panic!("{} is not on the cluster", manifest.id));
        let uid = live.metadata.uid.expect("a stored object has a UID");
        uids.insert(manifest.id.to_string(), uid);
    }
    uids
}

async fn controller_args(f: &Fixture) -> Vec<String> {
    let name = format!("{}-ingress-nginx-controller", f.release());
    let deployment = f.deployments().get(&name).await.unwrap();
    pod_spec(&deployment).containers[0]
        .args
        .clone()
        .expect("the controller has arguments")
}

#[tokio::test]
async fn a_second_controller_with_its_own_ingress_class_coexists_and_either_release_outlives_the_other()
 {
    let _serial = cluster::exclusive().await;
    let first = Fixture::with_chart(Chart::Current).await;
    let second = Fixture::with_chart(Chart::Current).await;
    first.run("install", &["--timeout", "120s"]).success();

    // Another release's controller with the default class would take over the first's
    // IngressClass `nginx`; skyctl refuses before it writes anything, and says which keys
    // give the second controller a class of its own.
    second
        .run("install", &["--timeout", "120s"])
        .code(1)
        .stderr_has("IngressClass nginx belongs to release")
        .stderr_has("Nothing was changed")
        .stderr_has("ingress-nginx.controller.ingressClassResource.name=nginx-");

    let (class, controller, values) = own_class(&second);
    let with_own_class = ["--set", values.as_str()];
    second
        .run(
            "install",
            &[&with_own_class[..], &["--timeout", "120s"]].concat(),
        )
        .success();
    assert_deployed_and_ready(&first);
    assert_deployed_and_ready(&second);

    // Each controller serves its own class, and each release's Ingress asks for it.
    let classes: Api<IngressClass> = Api::all(second.ns.client.clone());
    for (f, class, controller) in [
        (&first, "nginx", "k8s.io/ingress-nginx"),
        (&second, class.as_str(), controller.as_str()),
    ] {
        let live = classes.get(class).await.unwrap();
        assert_eq!(live.spec.unwrap().controller.as_deref(), Some(controller));
        let args = controller_args(f).await;
        assert!(
            args.contains(&format!("--controller-class={controller}")),
            "{args:?}"
        );
        assert!(
            args.contains(&format!("--ingress-class={class}")),
            "{args:?}"
        );
        let ingresses: Api<Ingress> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
        let ingress = ingresses
            .get(&format!("{}-ingress", f.release()))
            .await
            .unwrap();
        assert_eq!(
            ingress.spec.unwrap().ingress_class_name.as_deref(),
            Some(class)
        );
    }

    // Each uninstall, in either order, takes its own IngressClass with it and leaves the other
    // release's objects as they were.
    uninstall_leaves_the_other(&first, "nginx", &second, &with_own_class).await;
    first.run("install", &["--timeout", "120s"]).success();
    uninstall_leaves_the_other(&second, &class, &first, &[]).await;
}

async fn uninstall_leaves_the_other(
    gone: &Fixture,
    class: &str,
    kept: &Fixture,
    kept_args: &[&str],
) {
    let before = live_uids(kept, kept_args).await;
    gone.run("uninstall", &["--delete-data"]).success();
    let classes: Api<IngressClass> = Api::all(gone.ns.client.clone());
    cluster::eventually(
        "the uninstalled release's IngressClass to go",
        Duration::from_secs(30),
        || async {
            classes
                .get_opt(class)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        live_uids(kept, kept_args).await,
        before,
        "{}'s objects were replaced or removed by {}'s uninstall",
        kept.release(),
        gone.release()
    );
    assert_deployed_and_ready(kept);
}

// A release sharing another's controller (doctor's own advice for sharing) got no endpoint and
// no login line, and uninstalling the controller's owner cut it off without a word.
#[tokio::test]
async fn a_release_sharing_a_controller_is_reached_through_it_and_its_owner_stays_until_told() {
    let _serial = cluster::exclusive().await;
    let owner = Fixture::with_chart(Chart::Current).await;
    let sharer = Fixture::with_chart(Chart::Current).await;
    let (class, _, own) = own_class(&owner);
    owner
        .run(
            "install",
            &[
                "--no-wait",
                "--set",
                &own,
                "--set",
                "ingress-nginx.controller.service.type=NodePort",
            ],
        )
        .success();
    sharer
        .run(
            "install",
            &[
                "--no-wait",
                "--set",
                &format!("ingress-nginx.enabled=false,ingress.ingressClassName={class}"),
            ],
        )
        .success()
        .stderr_has("with neither a host nor a path of its own")
        .stderr_has(&format!("--set ingress.path=/{}", sharer.release()));
    // Host-less at `/`, as the owner's: the controller cannot tell them apart.
    sharer
        .run("endpoint", &["--timeout", "30s"])
        .code(1)
        .stderr_has("with neither a host nor a path of its own");
    sharer
        .run(
            "upgrade",
            &[
                "--no-wait",
                "--reuse-values",
                "--set",
                "ingress.path=/second",
            ],
        )
        .success();
    let found = sharer
        .run("endpoint", &["--timeout", "30s", "-o", "json"])
        .success();
    let found: serde_json::Value = serde_json::from_str(&found.stdout).unwrap();
    let url = found["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/second"),
        "{found}"
    );
    assert_eq!(found["serviceNamespace"], owner.ns.name.as_str(), "{found}");
    assert_eq!(
        found["service"],
        format!("{}-ingress-nginx-controller", owner.release())
    );

    let controller = format!("{}-ingress-nginx-controller", owner.release());
    let sharing = format!("{} in namespace {}", sharer.release(), sharer.ns.name);
    // A person's Ingress on the class is cut off as well, and named.
    let by_hand = cluster::kubectl([
        "create",
        "ingress",
        "by-hand",
        "-n",
        &sharer.ns.name,
        &format!("--class={class}"),
        "--rule=by-hand.example/*=svc:80",
    ]);
    assert!(by_hand.status.success(), "{by_hand:?}");
    for args in [&["--dry-run"][..], &[]] {
        owner
            .run("uninstall", args)
            .code(2)
            .stderr_has(&format!(
                "also serves Ingress {}/by-hand (no release's), release {sharing}",
                sharer.ns.name
            ))
            .stderr_has("--remove-shared-controller");
    }
    assert!(
        owner
            .deployments()
            .get_opt(&controller)
            .await
            .unwrap()
            .is_some(),
        "refused: nothing was deleted"
    );
    owner
        .run("uninstall", &["--remove-shared-controller"])
        .success()
        .stderr_has(&format!("(no release's), release {sharing} route through"));
    sharer.run("uninstall", &[]).success();
}
