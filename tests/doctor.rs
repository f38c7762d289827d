//! `skyctl doctor` and the preflight of install and upgrade, against conditions built for real
//! on the control plane: a Service holding the node port, an IngressClass that Helm owns, a
//! namespace admin's kubeconfig, no default StorageClass, a node too small, a LoadBalancer
//! that never comes, a credential Secret that is missing. For each, doctor names the problem
//! and its fix, and install stops before its first write, counted in the API server's audit log.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::IngressClass;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use support::audit;
use support::cluster::{self, NODE_NAME, Restore, TestNamespace, kubectl};
use support::helm;
use support::release::{Chart, Fixture};
use support::skyctl::Outcome;

/// Installs with the condition in place must stop before writing: no request skyctl sent
/// since `mark` changed what the cluster stores (reviews and dry runs persist nothing).
fn assert_no_writes(mark: &audit::Mark, namespace: &str) {
    let writes: Vec<_> = mark
        .skyctl_requests(namespace)
        .into_iter()
        .filter(audit::Request::persists)
        .collect();
    assert!(writes.is_empty(), "skyctl wrote: {writes:#?}");
}

/// Doctor blocks naming the problem and its fix, and install then stops before any write and
/// records no release.
fn blocks_before_writing(f: &Fixture, args: &[&str], texts: &[&str]) -> Outcome {
    let doctor = f.run("doctor", args).code(1);
    for text in texts {
        assert!(
            doctor.stdout.contains(text),
            "doctor lacks {text:?}: {doctor:#?}"
        );
    }
    assert!(doctor.stderr.contains("block the install"), "{doctor:#?}");
    let mark = audit::mark();
    let mut install_args = args.to_vec();
    install_args.push("--no-wait");
    let install = f.run("install", &install_args).code(1);
    for text in texts {
        assert!(
            install.stderr.contains(text),
            "install lacks {text:?}: {install:#?}"
        );
    }
    assert!(
        install.stderr.contains("Nothing was changed"),
        "{install:#?}"
    );
    assert_no_writes(&mark, &f.ns.name);
    f.run("status", &[]).code(1).stderr_has("not found");
    doctor
}

fn create_service(namespace: &str, name: &str, spec: Value) {
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace}, "spec": spec});
    apply_as_admin(&service);
}

fn apply_as_admin(object: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("object.json");
    std::fs::write(&file, object.to_string()).unwrap();
    let output = kubectl(["apply", "-f", file.to_str().unwrap()]);
    assert!(output.status.success(), "kubectl apply: {output:?}");
}

#[tokio::test]
async fn a_fine_cluster_passes_and_an_installed_release_checks_as_its_upgrade() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let doctor = f.run("doctor", &[]).success();
    assert_eq!(doctor.stdout.matches('✓').count(), 10, "{doctor:#?}");
    assert!(doctor.stdout.contains("ready to install"), "{doctor:#?}");
    f.run("install", &["--no-wait"])
        .success()
        .stderr_has("preflight")
        .stderr_has("all 10 checks passed");
    let json: Value =
        serde_json::from_str(&f.run("doctor", &["-o", "json"]).success().stdout).unwrap();
    assert_eq!(json["blocked"], false);
    let objects = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "objects")
        .unwrap();
    assert!(
        objects["summary"]
            .as_str()
            .unwrap()
            .contains("exist and are this release's"),
        "{objects}"
    );
    // A no-op upgrade runs the checks and still writes nothing.
    let mark = audit::mark();
    f.run("upgrade", &[])
        .success()
        .stderr_has("all 10 checks passed");
    assert_no_writes(&mark, &f.ns.name);
}

#[tokio::test]
async fn a_taken_node_port_names_the_service_that_holds_it() {
    let _serial = cluster::exclusive().await;
    let holder = TestNamespace::create("holder").await;
    create_service(
        &holder.name,
        "holder",
        json!({"type": "NodePort", "selector": {"app": "none"},
               "ports": [{"port": 80, "nodePort": 31950}]}),
    );
    let f = Fixture::new().await;
    let doctor = blocks_before_writing(
        &f,
        &["--set", "ingress.httpNodePort=31950"],
        &[
            &format!("node port 31950 is held by Service {}/holder", holder.name),
            "--set ingress.httpNodePort=",
            "ingress.httpNodePort=null to let Kubernetes choose",
        ],
    );
    assert!(doctor.stdout.contains("✗ node ports"), "{doctor:#?}");

    // An upgrade that moves to the taken port stops the same way.
    f.run("install", &["--no-wait"]).success();
    let mark = audit::mark();
    f.run(
        "upgrade",
        &["--reuse-values", "--set", "ingress.httpNodePort=31950"],
    )
    .code(1)
    .stderr_has("node port 31950 is held by Service")
    .stderr_has("Nothing was changed");
    assert_no_writes(&mark, &f.ns.name);
    kubectl(["delete", "service", "holder", "-n", &holder.name]);
}

#[tokio::test]
async fn an_ingress_class_that_helm_owns_is_named_with_the_ways_past_it() {
    let _serial = cluster::exclusive().await;
    let classes: Api<IngressClass> = Api::all(cluster::client().await);
    let helms: IngressClass = serde_json::from_value(json!({
        "metadata": {"name": "nginx",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "ingress-nginx",
                            "meta.helm.sh/release-namespace": "ingress-nginx"}},
        "spec": {"controller": "k8s.io/ingress-nginx"}
    }))
    .unwrap();
    classes
        .create(&PostParams::default(), &helms)
        .await
        .unwrap();
    let f = Fixture::with_chart(Chart::Current).await;
    let outcome = std::panic::AssertUnwindSafe(async {
        blocks_before_writing(
            &f,
            &[],
            &[
                "IngressClass nginx exists and belongs to Helm release ingress-nginx in namespace ingress-nginx",
                "share its controller: --set ingress-nginx.enabled=false,ingress.ingressClassName=nginx",
                "ingress-nginx.controller.ingressClassResource.name=nginx-",
                "--take-ownership",
            ],
        );
        // Sharing it, as the fix says, passes the check.
        f.run("doctor", &["--set", "ingress-nginx.enabled=false"])
            .success()
            .stdout_has("✓ ingress class");
    });
    let result = futures::FutureExt::catch_unwind(outcome).await;
    classes
        .delete("nginx", &DeleteParams::default())
        .await
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn a_namespace_admin_learns_which_cluster_objects_they_may_not_create() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let ns = &f.ns.name;
    for args in [
        vec!["create", "serviceaccount", "ns-admin", "-n", ns],
        vec![
            "create",
            "rolebinding",
            "ns-admin",
            "-n",
            ns,
            "--clusterrole=admin",
            &format!("--serviceaccount={ns}:ns-admin"),
        ],
    ] {
        let output = kubectl(&args);
        assert!(output.status.success(), "{output:?}");
    }
    let token = kubectl(["create", "token", "ns-admin", "-n", ns]);
    assert!(token.status.success(), "{token:?}");
    let token = String::from_utf8(token.stdout).unwrap();
    let admin: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(cluster::kubeconfig()).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("ns-admin.kubeconfig");
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "ns-admin",
        "clusters": [{"name": "test", "cluster": admin["clusters"][0]["cluster"]}],
        "users": [{"name": "ns-admin", "user": {"token": token.trim()}}],
        "contexts": [{"name": "ns-admin", "context": {"cluster": "test", "user": "ns-admin", "namespace": ns}}]
    });
    std::fs::write(&kubeconfig, config.to_string()).unwrap();
    let release = f.release();
    let doctor = f
        .command("doctor", &[])
        .kubeconfig(&kubeconfig)
        .run()
        .code(1);
    for text in [
        "✗ rbac",
        "you may not create/get/patch ClusterRole (",
        &format!("{release}-api-role"),
        &format!("{release}-ingress-nginx"),
        "ClusterRoleBinding (",
        "IngressClass (nginx)",
        "it grants every verb on all resources",
        "ValidatingWebhookConfiguration (",
        "ask a cluster admin",
    ] {
        assert!(
            doctor.stdout.contains(text),
            "doctor lacks {text:?}: {doctor:#?}"
        );
    }
    // What a namespace admin may not read is said, not guessed.
    assert!(doctor.stdout.contains("cannot tell"), "{doctor:#?}");
    let mark = audit::mark();
    f.command("install", &["--no-wait"])
        .kubeconfig(&kubeconfig)
        .run()
        .code(1)
        .stderr_has("you may not create/get/patch ClusterRole")
        .stderr_has("Nothing was changed");
    assert_no_writes(&mark, ns);
}

fn default_class(is_default: bool) -> Vec<&'static str> {
    let patch = if is_default {
        r#"{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}"#
    } else {
        r#"{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"false"}}}"#
    };
    vec![
        "patch",
        "storageclass",
        "standard",
        "--type=merge",
        "-p",
        patch,
    ]
}

#[tokio::test]
async fn no_default_storage_class_stops_an_install_that_needs_a_volume() {
    let _serial = cluster::exclusive().await;
    let output = kubectl(default_class(false));
    assert!(output.status.success(), "{output:?}");
    let _restore = Restore(default_class(true));
    let f = Fixture::new().await;
    blocks_before_writing(
        &f,
        &[],
        &[
            "no default StorageClass",
            "would stay Pending",
            "--set storage.storageClassName=standard",
            "kubectl patch storageclass standard",
        ],
    );
    f.run("doctor", &["--set", "storage.storageClassName=standard"])
        .success()
        .stdout_has("✓ storage");
}

fn allocatable(cpu: &str, memory: &str) -> Vec<&'static str> {
    let patch = json!({"status": {"allocatable": {"cpu": cpu, "memory": memory}}}).to_string();
    vec![
        "patch",
        "node",
        NODE_NAME,
        "--subresource=status",
        "--type=merge",
        "-p",
        Box::leak(patch.into_boxed_str()),
    ]
}

#[tokio::test]
async fn a_node_too_small_for_the_api_server_is_named_with_what_it_has() {
    let _serial = cluster::exclusive().await;
    let output = kubectl(allocatable("2", "4Gi"));
    assert!(output.status.success(), "{output:?}");
    let _restore = Restore(allocatable("1k", "1Ti"));
    let f = Fixture::with_chart(Chart::Current).await;
    blocks_before_writing(
        &f,
        &[],
        &[
            "asks for 4 CPU and 8 GiB memory",
            &format!("the largest node, {NODE_NAME}, has 2 CPU and 4 GiB memory"),
            "apiService.resources.requests",
        ],
    );
}

#[tokio::test]
async fn a_load_balancer_that_never_comes_suggests_a_node_port() {
    // The pending Service must have waited a minute; the wait holds no lock.
    let elsewhere = TestNamespace::create("lb").await;
    create_service(
        &elsewhere.name,
        "pending",
        json!({"type": "LoadBalancer", "selector": {"app": "none"}, "ports": [{"port": 80}]}),
    );
    tokio::time::sleep(Duration::from_secs(62)).await;
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let doctor = blocks_before_writing(
        &f,
        &[
            "--set",
            "ingress-nginx.controller.service.type=LoadBalancer",
        ],
        &[
            &format!(
                "Service {}/pending has waited 1m for a LoadBalancer address",
                elsewhere.name
            ),
            "--set ingress-nginx.controller.service.type=NodePort",
        ],
    );
    assert!(doctor.stdout.contains("✗ load balancer"), "{doctor:#?}");
    // The suggested NodePort passes.
    f.run("doctor", &[])
        .success()
        .stdout_has("✓ load balancer  not used");
    let services: Api<Service> = Api::namespaced(elsewhere.client.clone(), &elsewhere.name);
    services
        .delete("pending", &DeleteParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_credential_secret_the_values_need_must_exist() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    blocks_before_writing(
        &f,
        &["--set", "awsCredentials.enabled=true"],
        &[
            "reads Secret aws-credentials",
            "which does not exist in namespace",
            "skyctl creds add",
        ],
    );
}

#[tokio::test]
async fn skip_preflight_goes_ahead_and_says_so() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run(
        "install",
        &[
            "--set",
            "awsCredentials.enabled=true",
            "--no-wait",
            "--skip-preflight",
        ],
    )
    .success()
    .stderr_has("preflight")
    .stderr_has("skipped (--skip-preflight)");
}

#[tokio::test]
async fn a_helm_release_of_the_same_name_is_found_in_helms_own_records() {
    let _serial = cluster::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::small_chart(dir.path(), "skypilot", "0.13.0");
    for (driver, storage) in [("secret", "Secrets"), ("configmap", "ConfigMaps")] {
        let f = Fixture::new().await;
        let (ns, release) = (&f.ns.name, f.release());
        let installed = helm::helm(
            driver,
            &["install", release, chart.to_str().unwrap(), "-n", ns],
        );
        assert!(installed.status.success(), "helm install: {installed:?}");
        blocks_before_writing(
            &f,
            &[],
            &[
                &format!(
                    "Helm release {release} is in namespace {ns} (revision 1, deployed, kept in {storage})"
                ),
                &format!("skyctl adopt {release} -n {ns}"),
            ],
        );
        let removed = helm::helm(driver, &["uninstall", release, "-n", ns]);
        assert!(removed.status.success(), "helm uninstall: {removed:?}");
        f.run("doctor", &[]).success().stdout_has("✓ helm");
    }
}
