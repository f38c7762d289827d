//! The test control plane is a real Kubernetes: server-side apply, the scheduler, a simulated
//! node whose pods become Ready, and controllers that finish namespace deletion.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use support::cluster::{self, NODE_NAME, TestNamespace, eventually};

#[tokio::test]
async fn applied_deployment_runs_ready_on_the_simulated_node_until_its_namespace_is_deleted() {
    let ns = TestNamespace::create("controlplane").await;
    let deployments: Api<Deployment> = Api::namespaced(ns.client.clone(), &ns.name);
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
            }
        }
    });
    let applied = deployments
        .patch(
            "web",
            &PatchParams::apply("skyctl-test"),
            &Patch::Apply(&deployment),
        )
        .await
        .expect("server-side apply of a Deployment");
    let managers: Vec<_> = applied.metadata.managed_fields.iter().flatten().collect();
    assert!(
        managers
            .iter()
            .any(|m| m.manager.as_deref() == Some("skyctl-test")
                && m.operation.as_deref() == Some("Apply")),
        "the apiserver records the apply under our field manager: {managers:?}"
    );

    let pods: Api<Pod> = Api::namespaced(ns.client.clone(), &ns.name);
    let pod = eventually(
        "a Ready pod of the Deployment",
        Duration::from_secs(60),
        || async {
            let list = pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .ok()?;
            list.items.into_iter().find(|pod| {
                pod.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
        },
    )
    .await;
    assert_eq!(
        pod.spec.and_then(|s| s.node_name).as_deref(),
        Some(NODE_NAME)
    );
    eventually(
        "the Deployment to report an available replica",
        Duration::from_secs(30),
        || async {
            let status = deployments.get("web").await.ok()?.status?;
            (status.available_replicas == Some(1)).then_some(())
        },
    )
    .await;

    let namespaces: Api<Namespace> = Api::all(ns.client.clone());
    namespaces
        .delete(&ns.name, &DeleteParams::default())
        .await
        .expect("namespace deletion is accepted");
    eventually(
        "the namespace to disappear",
        Duration::from_secs(90),
        || async {
            match namespaces.get_opt(&ns.name).await {
                Ok(None) => Some(()),
                _ => None,
            }
        },
    )
    .await;
}

#[tokio::test]
async fn simulated_node_is_ready_and_reachable_on_loopback() {
    let client = cluster::client().await;
    let node = Api::<Node>::all(client)
        .get(NODE_NAME)
        .await
        .expect("the simulated node exists");
    let status = node.status.expect("node status");
    let addresses: Vec<(String, String)> = status
        .addresses
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.type_, a.address))
        .collect();
    assert!(
        addresses.contains(&("ExternalIP".into(), "127.0.0.1".into())),
        "{addresses:?}"
    );
    let ready = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready");
    assert_eq!(ready.map(|c| c.status).as_deref(), Some("True"));
}

#[test]
fn the_control_plane_reports_its_real_kubernetes_version() {
    // Version-aware clients (Helm's kubeVersion checks) refuse a cluster that says v0.0.0.
    let output = cluster::kubectl(["version", "-o", "json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.37.2");
    assert_eq!(version["serverVersion"]["major"], "1");
    assert_eq!(version["serverVersion"]["minor"], "37");
    assert_eq!(version["clientVersion"]["gitVersion"], "v1.37.2");
}
