//! `skyctl doctor` and the preflight of install and upgrade, against conditions built for real
//! on the control plane: a Service holding the node port, an IngressClass that Helm owns, a
//! namespace admin's kubeconfig, no default StorageClass, a node too small, a LoadBalancer
//! that never comes, a credential Secret that is missing. For each, doctor names the problem
//! and its fix, and install stops before its first write, counted in the API server's audit log.

mod support;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::IngressClass;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use support::audit;
use support::cluster::{self, NODE_NAME, Restore, TestNamespace, kubectl};
use support::helm;
use support::preflight::{assert_no_writes, blocks_before_writing, blocks_before_writing_at};
use support::release::{Chart, Fixture};
use support::skyctl::skyctl;

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
    assert_eq!(doctor.stdout.matches('✓').count(), 11, "{doctor:#?}");
    assert!(doctor.stdout.contains("ready to install"), "{doctor:#?}");
    f.run("install", &["--no-wait"])
        .success()
        .stderr_has("preflight")
        .stderr_has("all 11 checks passed");
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
        .stderr_has("all 11 checks passed");
    assert_no_writes(&mark, &f.ns.name);
}

#[tokio::test]
async fn a_namespace_that_is_missing_or_being_deleted_is_named_before_install_refuses_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let absent = format!("{}-absent", f.ns.name);
    // Install refuses a missing namespace (exit 2); doctor must not call it ready.
    f.command_in(&absent, "doctor", &[])
        .run()
        .code(1)
        .stdout_has(&format!(
            "✗ namespace      namespace {absent} does not exist"
        ))
        .stdout_has("pass --create-namespace");
    f.command_in(&absent, "install", &["--no-wait"])
        .run()
        .code(2)
        .stderr_has("--create-namespace");
    f.command_in(&absent, "doctor", &["--create-namespace"])
        .run()
        .success()
        .stdout_has("--create-namespace makes it");

    // A finalizer keeps the namespace in Terminating, where the API server takes nothing new.
    let ns = &f.ns.name;
    let held = kubectl(["create", "configmap", "held", "-n", ns]);
    assert!(held.status.success(), "{held:?}");
    let finalizer = r#"{"metadata":{"finalizers":["example.com/hold"]}}"#;
    let patched = kubectl(["patch", "configmap", "held", "-n", ns, "-p", finalizer]);
    assert!(patched.status.success(), "{patched:?}");
    let deleted = kubectl(["delete", "namespace", ns, "--wait=false"]);
    assert!(deleted.status.success(), "{deleted:?}");
    let _release = Restore(vec![
        "patch",
        "configmap",
        "held",
        "-n",
        Box::leak(ns.clone().into_boxed_str()),
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    blocks_before_writing(&f, &[], &[&format!("namespace {ns} is being deleted")]);
}

/// Uninstalls a fixture's release on drop, also when the test fails: its IngressClass would
/// otherwise stand in the way of every later test.
struct Uninstall<'a>(&'a Fixture);

impl Drop for Uninstall<'_> {
    fn drop(&mut self) {
        self.0.run("uninstall", &["--delete-data"]);
    }
}

#[tokio::test]
async fn an_existing_release_is_checked_with_its_recorded_values_on_the_chart_version_asked_for() {
    let _serial = cluster::exclusive().await;
    // The first release runs the controller and owns IngressClass nginx; the second shares it.
    let first = Fixture::new().await;
    first.run("install", &["--no-wait"]).success();
    let _first = Uninstall(&first);
    let second = Fixture::new().await;
    second
        .run(
            "install",
            &["--no-wait", "--set", "ingress-nginx.enabled=false"],
        )
        .success();
    let (release, ns) = (second.release(), second.ns.name.as_str());
    // Without the fixture's values: values given would start the upgrade from the defaults.
    let run = |verb: &str, args: &[&str]| {
        let mut all = vec![verb, release, "-n", ns];
        all.extend_from_slice(args);
        skyctl().kubeconfig(cluster::kubeconfig()).args(all).run()
    };
    // On its own chart, and on 0.13.0 as `upgrade --version 0.13.0` would render it: the
    // recorded ingress-nginx.enabled=false still shares the controller, so no IngressClass
    // of its own clashes with the first release's.
    for args in [&[][..], &["--version", "0.13.0"][..]] {
        run("doctor", args)
            .success()
            .stdout_has("shares IngressClass nginx of release")
            .stdout_has("ready to upgrade");
    }
    run(
        "upgrade",
        &["--version", "0.13.0", "--dry-run", "--no-health-check"],
    )
    .success()
    .stderr_has("shares IngressClass nginx of release");
}

#[tokio::test]
async fn an_htpasswd_line_that_install_refuses_is_refused_by_doctor_too() {
    let f = Fixture::new().await;
    let line = "ingress.authCredentials=admin:plaintext-password";
    f.run("doctor", &["--set", line])
        .code(2)
        .stderr_has("ingress.authCredentials")
        .stderr_has("clear-text");
    f.run("install", &["--set", line]).code(2);
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

// With another ingress controller the web login was a lie: skyctl reported basic auth as set,
// but only ingress-nginx reads the annotations that ask for it, so the API server was open.
#[tokio::test]
async fn a_login_at_an_ingress_another_controller_serves_blocks_before_any_write() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    apply_as_admin(
        &json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "traefik"}, "spec": {"controller": "traefik.io/ingress-controller"}}),
    );
    let _restore = cluster::Restore(vec![
        "delete",
        "ingressclass",
        "traefik",
        "--ignore-not-found",
    ]);
    let elsewhere = [
        "--set",
        "ingress-nginx.enabled=false,ingress.ingressClassName=traefik",
    ];
    blocks_before_writing(
        &f,
        &elsewhere,
        &[
            "asks for the web login through ingress-nginx's annotations",
            "IngressClass traefik is served by traefik.io/ingress-controller",
            "--auth users",
        ],
    );
    // The API server's own login works behind any controller.
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "install",
            f.release(),
            "-n",
            &f.ns.name,
            "--version",
            "0.13.0",
        ])
        .args(elsewhere)
        .args(["--auth", "users", "--web-password-stdin", "--no-wait"])
        .args(["--no-health-check"])
        .stdin("a good long password\n")
        .run()
        .success();
    f.run("uninstall", &["--delete-data"]).success();
}

// A node port outside the cluster's range was only a warning; a dry run allocates no node
// port, so the install then failed halfway, after the cluster-wide objects were made.
#[tokio::test]
async fn a_node_port_outside_the_clusters_range_blocks_before_any_write() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    for port in ["99999", "29999", "40000"] {
        blocks_before_writing(
            &f,
            &[
                "--set",
                &format!("ingress-nginx.controller.service.nodePorts.http={port}"),
            ],
            &[
                &format!("node port {port} is outside the cluster's node port range 30000-32767"),
                "--set ingress-nginx.controller.service.nodePorts.http=",
            ],
        );
    }
    // Where the cluster tells its range, as kubeadm's kube-apiserver pod does on its command
    // line, that range counts.
    apply_as_admin(&json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kube-apiserver-node", "namespace": "kube-system",
                     "labels": {"component": "kube-apiserver", "tier": "control-plane"}},
        "spec": {"containers": [{"name": "kube-apiserver", "image": "registry.example/kube-apiserver:1",
                 "command": ["kube-apiserver", "--service-node-port-range=31000-31099"]}]}}));
    let _restore = cluster::Restore(vec![
        "delete",
        "pod",
        "-n",
        "kube-system",
        "kube-apiserver-node",
        "--ignore-not-found",
    ]);
    blocks_before_writing(
        &f,
        &[
            "--set",
            "ingress-nginx.controller.service.nodePorts.http=30500",
        ],
        &[
            "node port 30500 is outside the cluster's node port range 31000-31099 (its API \
             server's --service-node-port-range)",
            "--set ingress-nginx.controller.service.nodePorts.http=31000 (free)",
        ],
    );
}

#[tokio::test]
async fn a_node_port_asked_for_twice_blocks_as_the_api_server_would_refuse_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let twice = [
        "--set",
        "ingress.httpNodePort=31960,ingress.httpsNodePort=31960",
    ];
    blocks_before_writing(
        &f,
        &twice,
        &[
            "node port 31960 is asked for twice",
            "--set ingress.httpNodePort=",
            "--set ingress.httpsNodePort=",
        ],
    );
    // The block is the API server's own answer, found first.
    let mut skipped = twice.to_vec();
    skipped.extend(["--skip-preflight", "--no-wait"]);
    f.run("install", &skipped)
        .code(1)
        .stderr_has("31960")
        .stderr_has("Nothing was changed");
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
    let (_dir, kubeconfig) = cluster::token_kubeconfig("ns-admin", ns);
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

/// A ServiceAccount `account` in `namespace` that may do `verbs` on everything, cluster-wide,
/// and a kubeconfig for it. The ClusterRole and its binding are deleted on drop.
struct Account {
    kubeconfig: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _role: Restore,
    _binding: Restore,
}

fn account_that_may(account: &str, namespace: &str, verbs: &[&str]) -> Account {
    let name = format!("{namespace}-{account}");
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": verbs}]});
    apply_as_admin(&role);
    let leaked: &'static str = Box::leak(name.clone().into_boxed_str());
    let _role = Restore(vec!["delete", "clusterrole", leaked]);
    let made = kubectl(["create", "serviceaccount", account, "-n", namespace]);
    assert!(made.status.success(), "{made:?}");
    let binding = kubectl([
        "create",
        "clusterrolebinding",
        &name,
        &format!("--clusterrole={name}"),
        &format!("--serviceaccount={namespace}:{account}"),
    ]);
    assert!(binding.status.success(), "{binding:?}");
    let _binding = Restore(vec!["delete", "clusterrolebinding", leaked]);
    let (_dir, kubeconfig) = cluster::token_kubeconfig(account, namespace);
    Account {
        kubeconfig,
        _dir,
        _role,
        _binding,
    }
}

/// Doctor, run as `account`, blocks naming `text`; install then writes nothing.
fn account_blocked(f: &Fixture, account: &Account, text: &str) {
    f.command("doctor", &[])
        .kubeconfig(&account.kubeconfig)
        .run()
        .code(1)
        .stdout_has(text);
    let mark = audit::mark();
    f.command("install", &["--no-wait"])
        .kubeconfig(&account.kubeconfig)
        .run()
        .code(1)
        .stderr_has(text)
        .stderr_has("Nothing was changed");
    assert_no_writes(&mark, &f.ns.name);
}

#[tokio::test]
async fn an_admin_who_may_not_delete_the_lock_is_stopped_before_writing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // Every verb on everything but delete (escalate and bind included, so the chart's roles
    // may be made and bound): the install would write every object and then fail to release
    // its lock.
    let verbs = [
        "get", "list", "watch", "create", "update", "patch", "escalate", "bind",
    ];
    let account = account_that_may("no-delete", &f.ns.name, &verbs);
    account_blocked(
        &f,
        &account,
        "you may not delete leases (skyctl's release records and lock)",
    );
}

#[tokio::test]
async fn an_admin_who_may_escalate_but_not_bind_is_stopped_before_writing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // Every verb spelled out, so the chart's roles (which grant `*`) are beyond the account's
    // own rights: `escalate` lets it make them, but binding them needs `bind`. The install's
    // dry run would fail with a puzzling "not found".
    let verbs = [
        "get", "list", "watch", "create", "update", "patch", "delete", "escalate",
    ];
    let account = account_that_may("no-bind", &f.ns.name, &verbs);
    let release = f.release();
    account_blocked(
        &f,
        &account,
        &format!(
            "create ClusterRoleBinding {release}-api-role-binding: it names ClusterRole \
             {release}-api-role, which you may not bind"
        ),
    );
}

#[tokio::test]
async fn a_basic_auth_secret_of_someone_else_stops_install_before_the_password_is_read() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let (ns, release) = (f.ns.name.as_str(), f.release());
    let made = kubectl([
        "create",
        "secret",
        "generic",
        &format!("{release}-basic-auth"),
        "-n",
        ns,
        "--from-literal=auth=x",
    ]);
    assert!(made.status.success(), "{made:?}");
    // No login in the values: skyctl makes one from the password, and with it that Secret.
    let run = |verb: &str, args: &[&str]| {
        let mut all = vec![
            verb,
            release,
            "-n",
            ns,
            "--version",
            "0.13.0",
            "--set",
            "ingress-nginx.controller.service.type=NodePort",
        ];
        all.extend_from_slice(args);
        skyctl().kubeconfig(cluster::kubeconfig()).args(all)
    };
    let taken = format!("Secret {ns}/{release}-basic-auth exists and belongs to no release");
    run("doctor", &[]).run().code(1).stdout_has(&taken);
    let mark = audit::mark();
    run("install", &["--web-password-stdin", "--no-wait"])
        .stdin("a-password-never-needed\n")
        .run()
        .code(1)
        .stderr_has("preflight check(s) failed. Nothing was changed.")
        .stderr_has(&taken);
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

#[tokio::test]
async fn an_upgrade_that_would_resize_a_claim_the_class_cannot_grow_stops_before_writing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    f.run("install", &["--no-wait"]).success();
    // The test cluster's StorageClass does not allow expansion: the API server would refuse.
    let grow = ["--reuse-values", "--set", "storage.size=20Gi"];
    f.run("doctor", &["--set", "storage.size=20Gi"])
        .code(1)
        .stdout_has(
            "would grow from 10Gi to 20Gi, and its StorageClass standard does not allow expansion",
        )
        .stdout_has("keep storage.size=10Gi");
    let mark = audit::mark();
    f.run("upgrade", &grow)
        .code(1)
        .stderr_has("does not allow expansion")
        .stderr_has("Nothing was changed");
    assert_no_writes(&mark, &f.ns.name);
    f.run("upgrade", &["--reuse-values", "--set", "storage.size=5Gi"])
        .code(1)
        .stderr_has("a volume never shrinks");
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
            &format!("the largest node that takes it, {NODE_NAME}, has 2 CPU and 4 GiB memory"),
            "apiService.resources.requests",
        ],
    );
}

#[tokio::test]
async fn pods_the_scheduler_would_never_place_block_the_install() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    // A limit without a request is the request: 2000 CPU, where the node has 1000.
    blocks_before_writing(
        &f,
        &[
            "--set",
            "apiService.skipResourceCheck=true,apiService.resources.requests=null",
            "--set",
            "apiService.resources.limits.cpu=2k",
        ],
        &["-api-server asks for 2000 CPU"],
    );
    // A taint the pods do not tolerate leaves them Pending, however large the node.
    let taint = kubectl(["taint", "node", NODE_NAME, "dedicated=gpu:NoSchedule"]);
    assert!(taint.status.success(), "{taint:?}");
    let _restore = Restore(vec![
        "taint",
        "node",
        NODE_NAME,
        "dedicated=gpu:NoSchedule-",
    ]);
    blocks_before_writing(
        &f,
        &[],
        &[
            &format!("{NODE_NAME} has taint dedicated=gpu:NoSchedule, not tolerated"),
            "apiService.tolerations, apiService.nodeSelector",
            "ingress-nginx.controller.tolerations",
        ],
    );
    f.run(
        "doctor",
        &[
            "--set",
            "apiService.tolerations[0].key=dedicated,apiService.tolerations[0].operator=Exists",
            "--set",
            "ingress-nginx.controller.tolerations[0].key=dedicated,\
             ingress-nginx.controller.tolerations[0].operator=Exists",
        ],
    )
    .success()
    .stdout_has("✓ capacity");
}

#[tokio::test]
async fn a_resource_quota_without_room_for_the_pods_blocks_the_install() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let quota = kubectl([
        "create",
        "quota",
        "small",
        "-n",
        &f.ns.name,
        "--hard=requests.cpu=2,requests.memory=4Gi",
    ]);
    assert!(quota.status.success(), "{quota:?}");
    // Without the check, the ReplicaSet is refused every pod and install waits out its time.
    blocks_before_writing(
        &f,
        &[],
        &[
            &format!(
                "asks for 4 CPU; ResourceQuota {}/small holds requests.cpu to 2 CPU",
                f.ns.name
            ),
            "ask the namespace's admin for a larger quota",
        ],
    );
}

#[tokio::test]
async fn a_load_balancer_that_never_comes_suggests_a_node_port() {
    // The pending Service must have waited a minute: skyctl's clock runs that far ahead.
    let elsewhere = TestNamespace::create("lb").await;
    create_service(
        &elsewhere.name,
        "pending",
        json!({"type": "LoadBalancer", "selector": {"app": "none"}, "ports": [{"port": 80}]}),
    );
    // Waiting as long, but no evidence: another loadBalancerClass is another implementation's.
    // A Service turned into a LoadBalancer later waits from then (table-tested in
    // preflight/tests.rs, from the managedFields time): here, just turned, it blocks nothing.
    create_service(
        &elsewhere.name,
        "other-class",
        json!({"type": "LoadBalancer", "loadBalancerClass": "example.com/none",
               "selector": {"app": "none"}, "ports": [{"port": 80}]}),
    );
    create_service(
        &elsewhere.name,
        "turned",
        json!({"type": "ClusterIP", "selector": {"app": "none"}, "ports": [{"port": 80}]}),
    );
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let doctor = blocks_before_writing_at(
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
        65,
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
    let turned = kubectl([
        "patch",
        "service",
        "turned",
        "-n",
        &elsewhere.name,
        "-p",
        r#"{"spec":{"type":"LoadBalancer"}}"#,
    ]);
    assert!(turned.status.success(), "{turned:?}");
    f.run(
        "doctor",
        &[
            "--set",
            "ingress-nginx.controller.service.type=LoadBalancer",
        ],
    )
    .success()
    .stdout_has("✓ load balancer  no other LoadBalancer Service to judge by");
    for name in ["other-class", "turned"] {
        services
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
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
async fn a_service_account_the_pods_run_as_must_exist() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let ghost = ["--set", "rbac.create=false,rbac.serviceAccountName=ghost"];
    blocks_before_writing(
        &f,
        &ghost,
        &[
            "runs as ServiceAccount ghost, which does not exist",
            &format!("kubectl create serviceaccount ghost -n {}", f.ns.name),
        ],
    );
    let made = kubectl(["create", "serviceaccount", "ghost", "-n", &f.ns.name]);
    assert!(made.status.success(), "{made:?}");
    f.run("doctor", &ghost)
        .success()
        .stdout_has("✓ credentials");
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

#[tokio::test]
async fn a_helm_release_uninstalled_with_its_history_kept_does_not_block() {
    let _serial = cluster::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::small_chart(dir.path(), "skypilot", "0.13.0");
    let f = Fixture::new().await;
    let (ns, release) = (&f.ns.name, f.release());
    let installed = helm::helm(
        "secret",
        &["install", release, chart.to_str().unwrap(), "-n", ns],
    );
    assert!(installed.status.success(), "helm install: {installed:?}");
    let removed = helm::helm(
        "secret",
        &["uninstall", release, "-n", ns, "--keep-history"],
    );
    assert!(removed.status.success(), "helm uninstall: {removed:?}");
    f.run("doctor", &[]).success().stdout_has(&format!(
        "✓ helm           Helm release {release} in namespace {ns} was uninstalled"
    ));
    f.run("install", &["--no-wait"]).success();
}
