//! The real control plane (started once per test run and reused by every test binary), a client
//! for it, and a namespace of its own for each test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The name of the node that kwok simulates.
pub const NODE_NAME: &str = "skyctl-test-node";

/// Starts the control plane unless it already runs, and returns its kubeconfig. A control plane
/// that cannot be built or started fails the calling test with the reason; it is never skipped.
pub fn kubeconfig() -> &'static Path {
    static KUBECONFIG: OnceLock<PathBuf> = OnceLock::new();
    KUBECONFIG.get_or_init(|| {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/controlplane/controlplane.py");
        let mut up = Command::new("python3");
        up.arg(&script).arg("up");
        path_printed_by(up, "the test control plane did not start")
    })
}

/// Runs a harness script that prints a path (a kubeconfig, a directory of binaries) and returns
/// it. Its stderr goes straight to the terminal: a cold build takes long and should be seen. A
/// script that fails fails the calling test with `failure`; it is never skipped.
pub fn path_printed_by(mut command: Command, failure: &str) -> PathBuf {
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{failure} ({}); the lines above say why",
        output.status
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// A client for the test control plane, as its admin.
pub async fn client() -> kube::Client {
    let kubeconfig =
        Kubeconfig::read_from(kubeconfig()).expect("the harness wrote a valid kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("the kubeconfig resolves");
    kube::Client::try_from(config).expect("a client can be built")
}

/// A namespace that belongs to one test. Names are unique across test binaries and runs, so
/// tests never see each other's objects on the shared control plane.
pub struct TestNamespace {
    pub name: String,
    pub client: kube::Client,
}

impl TestNamespace {
    pub async fn create(prefix: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .subsec_nanos();
        let name = format!(
            "{prefix}-{}-{:x}{:x}",
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::process::id(),
            nanos
        );
        let client = client().await;
        let namespace: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))
                .expect("valid Namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|err| panic!("cannot create namespace {name}: {err}"));
        Self { name, client }
    }
}

/// Polls `check` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Serialises tests that install the chart: its IngressClass `nginx` is cluster-wide and shared
/// by every release, and tests that count requests must be the only ones sending them.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// kubectl, built with the control plane from the same Kubernetes release, pointed at it: tests
/// edit objects by hand as an admin would.
pub fn kubectl<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    let bin = BIN.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/controlplane/build.sh");
        path_printed_by(
            Command::new(script),
            "the control plane's binaries did not build",
        )
        .join("kubectl")
    });
    Command::new(bin)
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", bin.display()))
}

/// A kubeconfig (context `nowhere`) whose API server does not listen: a run that exits 2 with
/// it was stopped by its input before any request, and one that got further fails to connect.
/// The directory holding it goes when the returned guard drops.
pub fn unreachable_kubeconfig() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n\
         clusters:\n- name: nowhere\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: nobody\n  user: {token: not-a-token}\n\
         contexts:\n- name: nowhere\n  context: {cluster: nowhere, user: nobody}\n",
    )
    .unwrap();
    (dir, path)
}

/// A kubeconfig for the control plane that authenticates with a token of the ServiceAccount
/// `account` in `namespace` (`kubectl create token`), with `namespace` as its default.
pub fn token_kubeconfig(account: &str, namespace: &str) -> (tempfile::TempDir, PathBuf) {
    let token = kubectl(["create", "token", account, "-n", namespace]);
    assert!(token.status.success(), "{token:?}");
    let token = String::from_utf8(token.stdout).unwrap();
    let admin: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(kubeconfig()).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join(format!("{account}.kubeconfig"));
    let config = serde_json::json!({
        "apiVersion": "v1", "kind": "Config", "current-context": account,
        "clusters": [{"name": "test", "cluster": admin["clusters"][0]["cluster"]}],
        "users": [{"name": account, "user": {"token": token.trim()}}],
        "contexts": [{"name": account, "context": {"cluster": "test", "user": account, "namespace": namespace}}]
    });
    std::fs::write(&kubeconfig, config.to_string()).unwrap();
    (dir, kubeconfig)
}

/// `kubectl ARGS` as an admin, which must succeed, its output read as JSON.
pub fn kubectl_json(args: &[&str]) -> serde_json::Value {
    let output = kubectl(args);
    assert!(output.status.success(), "kubectl {args:?}: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Restores a cluster-wide setting a test changed, also when the test fails: the kubectl
/// arguments that undo it.
pub struct Restore(pub Vec<&'static str>);

impl Drop for Restore {
    fn drop(&mut self) {
        let output = kubectl(&self.0);
        assert!(
            output.status.success(),
            "restoring with {:?}: {output:?}",
            self.0
        );
    }
}

/// A node port that nothing on this machine listens on, from the cluster's NodePort range: the
/// data plane serves it on loopback, as the node would.
pub fn free_node_port() -> u16 {
    let start = 30100 + (std::process::id() % 2000) as u16;
    (start..32700)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port in the NodePort range")
}

/// A pod the cluster has placed and given an IP, and that is not going away: one the data plane
/// can start a process for.
pub fn has_started(pod: &k8s_openapi::api::core::v1::Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.as_ref())
            .is_some()
}
