//! skyctl finds its cluster as kubectl does: `$KUBECONFIG`, `--kubeconfig`, `--context`, and
//! exec credential plugins.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::cluster;
use support::skyctl::skyctl;

/// The test control plane's kubeconfig, read as JSON (the harness writes it so).
fn base() -> Value {
    serde_json::from_str(&std::fs::read_to_string(cluster::kubeconfig()).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, config: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// `skyctl status` of a release that does not exist: "not found" proves skyctl reached the
/// API server and was allowed to read; anything else does not.
fn reaches_the_cluster(outcome: support::skyctl::Outcome) {
    outcome
        .code(1)
        .stderr_has("release nothing-here not found in namespace default");
}

#[test]
fn kubeconfig_comes_from_the_environment_like_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "config", &base());
    reaches_the_cluster(
        skyctl()
            .env("KUBECONFIG", path.to_str().unwrap())
            .args(["status", "nothing-here", "-n", "default"])
            .run(),
    );
}

#[test]
fn context_chooses_among_the_kubeconfigs_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = base();
    // The current context points at a server where nothing listens.
    config["clusters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "nowhere", "cluster": {"server": "https://127.0.0.1:1"}}));
    config["contexts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "broken", "context": {"cluster": "nowhere", "user": "admin"}}));
    config["current-context"] = json!("broken");
    let path = write(dir.path(), "config", &config);
    let status = |context: Option<&str>| {
        let mut args = vec!["status", "nothing-here", "-n", "default"];
        if let Some(context) = context {
            args.extend(["--context", context]);
        }
        skyctl().kubeconfig(&path).args(args).run()
    };
    let broken = status(None).code(1);
    assert!(
        !broken.stderr.contains("not found in namespace"),
        "the current context is used: {broken:#?}"
    );
    reaches_the_cluster(status(Some("skyctl-test")));
}

#[test]
fn exec_credential_plugins_authenticate_as_in_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = base();
    let user = &config["users"][0]["user"];
    let read = |key: &str| std::fs::read_to_string(user[key].as_str().unwrap()).unwrap();
    // A plugin as cloud CLIs ship them: it prints an ExecCredential with a client certificate.
    let credential = json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"clientCertificateData": read("client-certificate"), "clientKeyData": read("client-key")}
    });
    let plugin = dir.path().join("credential-plugin");
    std::fs::write(
        &plugin,
        format!("#!/bin/sh\ncat <<'END'\n{credential}\nEND\n"),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    config["users"][0]["user"] = json!({"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": plugin, "interactiveMode": "Never"}});
    let path = write(dir.path(), "config", &config);
    reaches_the_cluster(
        skyctl()
            .kubeconfig(&path)
            .args(["status", "nothing-here", "-n", "default"])
            .run(),
    );
}

// skyctl assembles kube's client stack itself (to connect with TCP_NODELAY), which connects
// directly. A kubeconfig that names a proxy must not be quietly bypassed: it goes to kube's own
// client, which says this build cannot use it, before anything is sent.
#[test]
fn a_kubeconfig_with_a_proxy_is_refused_naming_it_not_bypassed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = base();
    config["clusters"][0]["cluster"]["proxy-url"] = json!("http://127.0.0.1:9");
    let path = write(dir.path(), "config", &config);
    skyctl()
        .kubeconfig(&path)
        .args(["status", "nothing-here", "-n", "default"])
        .run()
        .code(1)
        .stderr_has("proxy http://127.0.0.1:9/")
        .stderr_has("kube/http-proxy");
}
