//! Helm's everyday verbs (`list`, `history`, `get values`), Helm's rules for values on upgrade,
//! and errors a person can read, each driven through the real skyctl binary against the real
//! control plane.

mod support;

use serde_json::{Value, json};
use support::cluster;
use support::release::Fixture;
use support::skyctl::skyctl;

#[tokio::test]
async fn api_errors_say_the_servers_message_once_without_debug_output() {
    let f = Fixture::new().await;
    // A user the API server knows but lets do nothing: a ServiceAccount without any role.
    let account = cluster::kubectl(["create", "serviceaccount", "nobody", "-n", &f.ns.name]);
    assert!(account.status.success(), "{account:?}");
    let token = cluster::kubectl(["create", "token", "nobody", "-n", &f.ns.name]);
    assert!(token.status.success(), "{token:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(cluster::kubeconfig()).unwrap()).unwrap();
    config["users"][0]["user"] = json!({"token": String::from_utf8_lossy(&token.stdout).trim()});
    let path = dir.path().join("config");
    std::fs::write(&path, config.to_string()).unwrap();

    let outcome = skyctl()
        .kubeconfig(&path)
        .args(["status", "sky", "-n", &f.ns.name])
        .run()
        .code(1);
    let forbidden = "cannot list resource \"secrets\"";
    assert_eq!(
        outcome.stderr.matches(forbidden).count(),
        1,
        "the message once: {outcome:#?}"
    );
    assert!(
        outcome
            .stderr
            .contains("cannot read the records of release sky")
    );
    for noise in ["Status {", "ApiError", "Some(", "Failure"] {
        assert!(!outcome.stderr.contains(noise), "{noise}: {outcome:#?}");
    }

    // An object the API server rejects: named, with the field, once.
    let rejected = f
        .run(
            "install",
            &[
                "--no-wait",
                "--set-json",
                r#"apiService.resources={"requests":{"cpu":"-1"}}"#,
            ],
        )
        .code(1);
    let object = format!("Deployment {}/{}-api-server", f.ns.name, f.release());
    let field = "resources.requests[cpu]";
    assert_eq!(rejected.stderr.matches(&object).count(), 1, "{rejected:#?}");
    assert_eq!(rejected.stderr.matches(field).count(), 1, "{rejected:#?}");
    assert!(
        rejected.stderr.contains("Nothing was changed"),
        "{rejected:#?}"
    );
    for noise in ["Status {", "ApiError", "Some("] {
        assert!(!rejected.stderr.contains(noise), "{noise}: {rejected:#?}");
    }
}

/// A kubeconfig whose API server does not listen.
fn unreachable_kubeconfig(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n\
         clusters:\n- name: nowhere\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: nobody\n  user: {token: not-a-token}\n\
         contexts:\n- name: nowhere\n  context: {cluster: nowhere, user: nobody}\n",
    )
    .unwrap();
    path
}

#[test]
fn a_failed_connection_names_the_server_the_kubeconfig_and_the_context() {
    let dir = tempfile::tempdir().unwrap();
    let path = unreachable_kubeconfig(dir.path());
    let outcome = skyctl()
        .kubeconfig(&path)
        .args(["status", "sky", "-n", "team"])
        .run()
        .code(1)
        .stderr_has("cannot reach the Kubernetes API server at https://127.0.0.1:1")
        .stderr_has(&format!("context nowhere of kubeconfig {}", path.display()))
        .stderr_has("Connection refused");
    for noise in ["ServiceError", "client error (Connect)", "HyperError"] {
        assert!(!outcome.stderr.contains(noise), "{noise}: {outcome:#?}");
    }
    // The same through $KUBECONFIG.
    skyctl()
        .env("KUBECONFIG", path.to_str().unwrap())
        .args(["status", "sky"])
        .run()
        .code(1)
        .stderr_has("https://127.0.0.1:1")
        .stderr_has("from $KUBECONFIG");
}
