//! Traefik's doors in the test cluster: Gateway API's standard-channel CRDs (as
//! `tests/dataplane/gateway-api-crds.sh` fetches them), Traefik's GatewayClass and
//! IngressClass, and Gateways for a test's releases to attach to.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use skyctl::gateway_api::resource;

use super::cluster::{eventually, path_printed_by};

/// The class Traefik serves: Gateways of it are Traefik's.
pub const CLASS: &str = "traefik";
const CONTROLLER: &str = "traefik.io/gateway-controller";
const MANAGER: &str = "skyctl-test";

/// Applies `object`, named `name`, through `api` (server-side, as the tests' own field
/// manager); `what` names it if the API server refuses.
async fn apply<K>(
    api: &Api<K>,
    name: &str,
    object: &(impl serde::Serialize + std::fmt::Debug),
    what: &str,
) where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(object),
    )
    .await
    .unwrap_or_else(|err| panic!("applying {what}: {err}"));
}

/// Installs the CRDs (fetching them on first use) and Traefik's GatewayClass, and waits until
/// the API server serves them. Applying them again changes nothing, so every test may call it.
pub async fn install(client: &kube::Client) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dataplane/gateway-api-crds.sh");
    let dir = path_printed_by(
        Command::new(script),
        "the Gateway API CRDs could not be fetched",
    );
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the CRDs' directory") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let crd: CustomResourceDefinition = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let name = crd.metadata.name.clone().unwrap();
        apply(&crds, &name, &crd, &format!("CRD {name}")).await;
        names.push(name);
    }
    let crds = &crds;
    for name in &names {
        eventually(
            &format!("CRD {name} established"),
            Duration::from_secs(60),
            || async {
                let crd = crds.get(name).await.ok()?;
                let established = crd
                    .status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True");
                established.then_some(())
            },
        )
        .await;
    }
    let classes: Api<DynamicObject> =
        Api::all_with(client.clone(), &resource("GatewayClass", "gatewayclasses"));
    let class = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": CLASS},
        "spec": {"controllerName": CONTROLLER},
    });
    apply(&classes, CLASS, &class, "Traefik's GatewayClass").await;
}

/// The IngressClass `traefik` of Traefik's Ingress provider: the cluster's own ingress
/// controller, for releases with `--ingress-class traefik`.
pub async fn ingress_class(client: &kube::Client) {
    let classes: Api<IngressClass> = Api::all(client.clone());
    let class: IngressClass = serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": CLASS},
        "spec": {"controller": "traefik.io/ingress-controller"},
    }))
    .unwrap();
    apply(&classes, CLASS, &class, "Traefik's IngressClass").await;
}

/// Applies Gateway `namespace/name` of Traefik's class with `listeners`.
pub async fn gateway(client: &kube::Client, namespace: &str, name: &str, listeners: Value) {
    let gateways: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &resource("Gateway", "gateways"));
    let gateway = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"gatewayClassName": CLASS, "listeners": listeners},
    });
    apply(
        &gateways,
        name,
        &gateway,
        &format!("Gateway {namespace}/{name}"),
    )
    .await;
}

/// Waits until Gateway `namespace/name` is Programmed, and returns it.
pub async fn programmed(client: &kube::Client, namespace: &str, name: &str) -> Value {
    let gateways: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &resource("Gateway", "gateways"));
    let gateways = &gateways;
    eventually(
        &format!("Gateway {namespace}/{name} programmed"),
        Duration::from_secs(60),
        || async {
            let found = serde_json::to_value(gateways.get(name).await.ok()?).ok()?;
            let programmed = found["status"]["conditions"]
                .as_array()?
                .iter()
                .any(|c| c["type"] == "Programmed" && c["status"] == "True");
            programmed.then_some(found)
        },
    )
    .await
}

/// Applies HTTPRoute `namespace/name`, attached to Gateway `gateway` (`NAMESPACE/NAME`) for
/// `host` at `/`: another team's route on the same Gateway.
pub async fn http_route(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    gateway: &str,
    host: &str,
) {
    let (gateway_namespace, gateway_name) = gateway.split_once('/').unwrap();
    let routes: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &resource("HTTPRoute", "httproutes"),
    );
    let route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "parentRefs": [{"name": gateway_name, "namespace": gateway_namespace}],
            "hostnames": [host],
            "rules": [{"backendRefs": [{"name": "site", "port": 80}]}],
        },
    });
    apply(
        &routes,
        name,
        &route,
        &format!("HTTPRoute {namespace}/{name}"),
    )
    .await;
}
