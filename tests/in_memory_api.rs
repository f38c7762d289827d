//! The in-memory API server that unit tests run the executor against is a stand-in: the same
//! scenarios its unit tests pass must pass on the real API server, or the stand-in is wrong.

mod support;

#[path = "../src/cluster/in_memory_api/semantics.rs"]
mod semantics;

use kube::api::{Api, ApiResource};
use kube::core::{DynamicObject, GroupVersionKind};
use support::cluster::TestNamespace;

async fn config_maps(prefix: &str) -> (TestNamespace, Api<DynamicObject>) {
    let ns = TestNamespace::create(prefix).await;
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    let api = Api::namespaced_with(ns.client.clone(), &ns.name, &resource);
    (ns, api)
}

#[tokio::test]
async fn the_api_server_applies_as_the_stand_in_does() {
    let (_ns, api) = config_maps("semantics-apply").await;
    semantics::apply(&api).await;
}

#[tokio::test]
async fn the_api_server_deletes_as_the_stand_in_does() {
    let (_ns, api) = config_maps("semantics-delete").await;
    semantics::delete(&api).await;
}

#[tokio::test]
async fn the_api_server_watches_as_the_stand_in_does() {
    let (_ns, api) = config_maps("semantics-watch").await;
    semantics::watch(&api).await;
}
