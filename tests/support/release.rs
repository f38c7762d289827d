//! One test's release on the real control plane, driven through the real skyctl binary.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use skyctl::cluster::object_manager::ObjectManager;
use skyctl::manifest::{self, Manifest};

use super::cluster::{self, TestNamespace};
use super::skyctl::{Outcome, skyctl};

/// API server pods of 1 CPU and 2 GiB. The kubelet passes the requests to the server
/// (`SKYPILOT_POD_CPU_CORE_LIMIT`, `SKYPILOT_POD_MEMORY_BYTES_LIMIT`), which sizes its worker
/// processes by them: the chart's minimum (4 CPUs, 8 GiB) would start dozens per server on a
/// 2-core test machine, and take a minute to start.
pub const SMALL_PODS: &str = "apiService.skipResourceCheck=true,\
                              apiService.resources.requests.cpu=1,apiService.resources.limits.cpu=1,\
                              apiService.resources.requests.memory=2Gi,apiService.resources.limits.memory=2Gi";

/// A syntactically valid htpasswd line, so that installs need no password prompt.
pub const AUTH: &str = "ingress.authCredentials=skypilot:$apr1$abcdefgh$0123456789abcdefghijkl";

/// One test's release: its own namespace, and a release named like it, so that even the
/// cluster-scoped objects (ClusterRoles, the webhook configuration) are the test's own.
pub struct Fixture {
    pub ns: TestNamespace,
    /// The chart version a new release of the fixture renders.
    pub chart: Chart,
}

/// A chart version, with the values that let a release of it run on the test cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// `1.0.0-dev.20250319`: node ports left to the cluster, so that releases never compete
    /// for 30050.
    SeedEra,
    /// `0.13.0`: the controller on a NodePort Service instead of a load balancer, which
    /// nothing on the test cluster provides, and its resource check met by the defaults.
    Current,
}

impl Chart {
    pub fn version(self) -> &'static str {
        match self {
            Chart::SeedEra => super::skyctl::SEED_ERA,
            Chart::Current => "0.13.0",
        }
    }

    fn values(self) -> [&'static str; 2] {
        match self {
            Chart::SeedEra => [
                "--set",
                "ingress.httpNodePort=null,ingress.httpsNodePort=null",
            ],
            Chart::Current => ["--set", "ingress-nginx.controller.service.type=NodePort"],
        }
    }
}

impl Fixture {
    /// Puts a finalizer on the ConfigMap `name` in the fixture's namespace, or takes it off
    /// again, as a slow controller would: its deletion waits until then.
    pub fn hold(&self, name: &str, held: bool) {
        let finalizers = if held {
            r#"{"metadata":{"finalizers":["example.com/hold"]}}"#
        } else {
            r#"{"metadata":{"finalizers":null}}"#
        };
        let patched = cluster::kubectl([
            "patch",
            "configmap",
            name,
            "-n",
            &self.ns.name,
            "--type=merge",
            "-p",
            finalizers,
        ]);
        assert!(patched.status.success(), "{patched:?}");
    }

    pub async fn new() -> Self {
        Self::with_chart(Chart::SeedEra).await
    }

    pub async fn with_chart(chart: Chart) -> Self {
        Self {
            ns: TestNamespace::create("lc").await,
            chart,
        }
    }

    pub fn release(&self) -> &str {
        &self.ns.name
    }

    /// `skyctl VERB RELEASE -n NS --kubeconfig ... ARGS`, with the values the fixture's chart
    /// needs on the test cluster, and its version for a new release.
    pub fn run(&self, verb: &str, args: &[&str]) -> Outcome {
        self.command(verb, args).run()
    }

    pub fn command(&self, verb: &str, args: &[&str]) -> super::skyctl::Skyctl {
        self.command_in(&self.ns.name, verb, args)
    }

    /// [`Fixture::command`] for this release's name in another namespace.
    pub fn command_in(&self, namespace: &str, verb: &str, args: &[&str]) -> super::skyctl::Skyctl {
        let mut all = vec![verb, self.release(), "-n", namespace];
        if matches!(verb, "install" | "upgrade" | "template" | "doctor") {
            all.extend(["--set", AUTH]);
            all.extend(self.chart.values());
        }
        if matches!(verb, "install" | "template" | "doctor") && !args.contains(&"--version") {
            all.extend(["--version", self.chart.version()]);
        }
        // Nothing serves the endpoint here; tests/guided_install.rs checks health for real.
        if matches!(verb, "install" | "upgrade") {
            all.push("--no-health-check");
        }
        all.extend_from_slice(args);
        skyctl().kubeconfig(cluster::kubeconfig()).args(all)
    }

    /// `skyctl creds add aws` for the fixture's release without waiting, the secret key on
    /// standard input.
    pub fn creds_add_aws(&self, key_id: &str, secret: &str) -> super::skyctl::Skyctl {
        skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args(["-n", &self.ns.name, "creds", "add", "aws"])
            .args(["--release", self.release(), "--access-key-id", key_id])
            .args(["--secret-access-key-stdin", "--no-wait"])
            .stdin(format!("{secret}\n"))
    }

    /// What `skyctl template` renders for these arguments: what install must have applied.
    pub fn rendered(&self, args: &[&str]) -> Vec<Manifest> {
        let outcome = self.run("template", args).success();
        manifest::from_yaml_stream(&outcome.stdout).expect("template prints YAML objects")
    }

    pub async fn live(&self, manifest: &Manifest) -> Option<DynamicObject> {
        ObjectManager::new(&self.ns.client)
            .get(&manifest.id)
            .await
            .expect("the apiserver answers")
    }

    pub fn deployments(&self) -> Api<Deployment> {
        Api::namespaced(self.ns.client.clone(), &self.ns.name)
    }

    pub fn status(&self) -> Value {
        let outcome = self.run("status", &["-o", "json"]).success();
        serde_json::from_str(&outcome.stdout).expect("status -o json prints JSON")
    }
}

/// The objects `status -o json` reports as not ready.
pub fn unready(status: &Value) -> Vec<&Value> {
    status["objects"]
        .as_array()
        .expect("status lists the release's objects")
        .iter()
        .filter(|object| object["ready"] != true)
        .collect()
}

/// The pod spec of a Deployment's template.
pub fn pod_spec(deployment: &Deployment) -> &PodSpec {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .expect("a Deployment has a pod template")
}

/// A test that fails part-way leaves its release behind, and with it the cluster-wide
/// IngressClass `nginx` that every later install would then be refused. Whatever the test did,
/// the release is uninstalled when the fixture goes, also while a failed test unwinds.
impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self
            .command("uninstall", &["--ignore-not-found", "--delete-data"])
            .run();
    }
}

/// Starts an upgrade that cannot finish: it waits for a LoadBalancer address that no
/// controller on the test cluster assigns.
pub fn hanging_upgrade(f: &Fixture) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyctl"));
    command
        .args(["upgrade", f.release(), "-n", &f.ns.name, "--kubeconfig"])
        .arg(cluster::kubeconfig())
        .args([
            "--set",
            AUTH,
            "--set",
            "ingress.httpNodePort=null,ingress.httpsNodePort=null",
        ])
        .args([
            "--set",
            "ingress-nginx.controller.service.type=LoadBalancer",
            "--timeout",
            "120s",
            "--no-health-check",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.spawn().expect("skyctl starts")
}

pub async fn lease_holder(f: &Fixture) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let lease = leases
        .get_opt(&format!("skyctl-lock-{}", f.release()))
        .await
        .unwrap()?;
    lease.spec?.holder_identity
}

/// An upgrade that holds the release's lock (and keeps renewing it) until it is killed.
pub async fn upgrade_holding_the_lock(f: &Fixture) -> Child {
    let holder = hanging_upgrade(f);
    cluster::eventually(
        "the upgrade to take the lock",
        std::time::Duration::from_secs(30),
        || async { lease_holder(f).await },
    )
    .await;
    holder
}

/// The label selector of a namespace's release records.
pub const RECORDS: &str = "app.kubernetes.io/managed-by=skyctl,skyctl.io/release";

/// A release record's data as text: the record's JSON and the gzipped manifest, unpacked, so
/// that a secret inside would be found by a search.
pub fn record_text(secret: &k8s_openapi::api::core::v1::Secret) -> String {
    use std::io::Read;
    let mut text = String::new();
    for bytes in secret.data.iter().flat_map(|data| data.values()) {
        if bytes.0.starts_with(&[0x1f, 0x8b]) {
            flate2::read::GzDecoder::new(bytes.0.as_slice())
                .read_to_string(&mut text)
                .expect("a gzip stream");
        } else {
            text.push_str(&String::from_utf8_lossy(&bytes.0));
        }
    }
    text
}

/// The first pod whose `app` label is `app`, once the cluster has made it. An install that
/// ends first fails the test with what it said.
pub async fn pod_of(ns: &TestNamespace, app: &str, install: &mut Child) -> String {
    pod_selected(ns, &format!("app={app}"), install).await
}

/// The first pod of `selector` (a label selector), once the cluster has made it, while `run`
/// goes on: a run that ends first fails the test with what it said.
pub async fn pod_selected(ns: &TestNamespace, selector: &str, run: &mut Child) -> String {
    let pods: Api<Pod> = Api::namespaced(ns.client.clone(), &ns.name);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = run.try_wait().unwrap() {
            let mut said = String::new();
            run.stderr
                .take()
                .unwrap()
                .read_to_string(&mut said)
                .unwrap();
            panic!("skyctl ended ({status}) before a pod of {selector} started:\n{said}");
        }
        let found = pods
            .list(&ListParams::default().labels(selector))
            .await
            .map(|list| list.items)
            .unwrap_or_default()
            .into_iter()
            .find(cluster::has_started);
        if let Some(name) = found.and_then(|pod| pod.metadata.name) {
            return name;
        }
        assert!(Instant::now() < deadline, "no pod of {selector} after 120s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
