//! Where users reach the API server: a node's address and the NodePort Service's port, or the
//! load balancer in front of the ingress-nginx controller; behind another front door, the
//! address of the Gateway or of the cluster's own ingress controller. This replaces digging
//! them out with `kubectl -o jsonpath`.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::{Node, Service, ServicePort};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::front_door::{FrontDoor, GatewayRef};
use crate::gateway_api::{self, Gateway, HttpRoute};
use crate::manifest::ObjectRef;
use crate::poll::{self, Poll};
use crate::preflight::load_balancers;
use crate::progress::Progress;
use crate::release::Release;
use crate::render::{ChartNames, IngressNginxNames};

/// The URL users log in to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// `http://host:port`, without credentials.
    pub url: String,
    pub kind: EndpointKind,
    /// The Service users reach the controller through, which a failed check sends the admin
    /// to look at, and its namespace (another release's, where that release's controller is
    /// shared).
    pub service: String,
    pub service_namespace: String,
    /// When the Ingress routes by host name: where that name has to resolve (the load
    /// balancer's or a node's address) and the port there. skyctl's own checks connect to it
    /// directly, so that they do not depend on DNS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolves_to: Option<String>,
    /// Things the user should know, such as a fallback to a node's internal address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What the release's Ingress routes by: a host name, and whether it serves TLS for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The first rule's host; `None` when the Ingress routes every host alike.
    pub host: Option<String>,
    pub tls: bool,
    /// The sub-path the server is served below (`ingress.path`), when not `/`.
    pub path: Option<String>,
}

impl Route {
    /// How `ingress` routes to the server; `None` when by any host and at `/`.
    pub fn of(ingress: &Ingress) -> Option<Route> {
        let spec = ingress.spec.as_ref()?;
        let host = spec.rules.iter().flatten().find_map(|r| r.host.clone());
        let tls = host.as_ref().is_some_and(|host| {
            spec.tls
                .iter()
                .flatten()
                .any(|tls| tls.hosts.iter().flatten().any(|h| h == host))
        });
        let path = ingress
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(crate::render::INGRESS_PATH_ANNOTATION))
            .map(|path| path.trim_end_matches('/').to_owned())
            .filter(|path| !path.is_empty());
        (host.is_some() || path.is_some()).then_some(Route { host, tls, path })
    }
}

/// The endpoint as users must address it when the Ingress routes by `route`: by the host name
/// (a request to the address matches no rule), over https on `https_port` when the Ingress
/// serves TLS for it, below its sub-path. The address found is where the name has to resolve.
pub fn through(endpoint: Endpoint, route: &Route, https_port: Option<u16>) -> Endpoint {
    let path = route.path.clone().unwrap_or_default();
    let Some(host) = &route.host else {
        let url = format!("{}{path}", endpoint.url.trim_end_matches('/'));
        return Endpoint { url, ..endpoint };
    };
    let found = reqwest::Url::parse(&endpoint.url).ok();
    let address = found
        .as_ref()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    let http_port = found
        .as_ref()
        .and_then(reqwest::Url::port_or_known_default)
        .unwrap_or(80);
    let (url, port) = match (route.tls, https_port) {
        (true, Some(port)) => (with_port("https", host, port, 443), port),
        _ => (with_port("http", host, http_port, 80), http_port),
    };
    let url = format!("{url}{path}");
    let mut warnings = endpoint.warnings;
    if route.tls && https_port.is_none() {
        warnings.push(format!(
            "the Ingress serves TLS for {} but the controller has no https port; using http",
            host
        ));
    }
    Endpoint {
        url,
        kind: endpoint.kind,
        service: endpoint.service,
        service_namespace: endpoint.service_namespace,
        resolves_to: Some(format!("{address}:{port}")),
        warnings,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    NodePort,
    LoadBalancer,
    /// A Gateway the release's HTTPRoute attaches to (`service` names the Gateway).
    Gateway,
    /// The cluster's own ingress controller, at the address it publishes on the release's
    /// Ingress (`service` names the Ingress).
    Ingress,
}

/// What a release waits for while its load balancer has no address yet.
const AWAITING_LOAD_BALANCER: &str = "the load balancer to get an IP or hostname";

/// What the cluster's objects say about the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Endpoint),
    /// It will exist; this is what it waits for.
    Pending(String),
    /// It cannot exist with this configuration; this is why.
    Unavailable(String),
}

/// Decides the endpoint from the controller Service, the chart's NodePort Service (if any) and
/// the nodes. Pure, so every case is tested.
pub fn lookup(controller: Option<&Service>, nodeport: Option<&Service>, nodes: &[Node]) -> Lookup {
    let Some(controller) = controller else {
        return Lookup::Unavailable(
            "the ingress-nginx controller Service does not exist (is ingress-nginx.enabled false?)"
                .into(),
        );
    };
    let spec = controller.spec.clone().unwrap_or_default();
    if spec.type_.as_deref() == Some("LoadBalancer") {
        let ingress = controller
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .and_then(|ingress| ingress.first());
        // EKS load balancers have a hostname and no IP.
        let address = ingress.and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()));
        let port = http_port(&spec.ports.unwrap_or_default(), |p| Some(p.port)).unwrap_or(80);
        return match address {
            Some(address) => Lookup::Found(Endpoint {
                url: url(&address, port, 80),
                kind: EndpointKind::LoadBalancer,
                service: name_of(controller),
                service_namespace: namespace_of(controller),
                resolves_to: None,
                warnings: vec![],
            }),
            None => Lookup::Pending(AWAITING_LOAD_BALANCER.into()),
        };
    }
    // The seed-era chart adds a NodePort Service of its own; with chart 0.13.0 the controller's
    // Service is the NodePort one when its type says so.
    let own = (spec.type_.as_deref() == Some("NodePort")).then_some(controller);
    let Some(nodeport) = nodeport.or(own) else {
        return Lookup::Unavailable(
            "the controller Service is neither a LoadBalancer nor a NodePort Service, and there is \
             no NodePort Service; set ingress-nginx.controller.service.type=LoadBalancer or \
             NodePort (or, with the seed-era chart, ingress.nodePortEnabled=true)"
                .into(),
        );
    };
    let ports = nodeport
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let Some(port) = http_port(&ports, |p| p.node_port) else {
        return Lookup::Pending("the NodePort Service to get its port".into());
    };
    let address = |kind: &str| {
        nodes.iter().find_map(|node| {
            node.status
                .as_ref()?
                .addresses
                .as_ref()?
                .iter()
                .find(|a| a.type_ == kind)
                .map(|a| a.address.clone())
        })
    };
    match (address("ExternalIP"), address("InternalIP")) {
        (Some(external), _) => Lookup::Found(Endpoint {
            url: url(&external, port, 80),
            kind: EndpointKind::NodePort,
            service: name_of(nodeport),
            service_namespace: namespace_of(nodeport),
            resolves_to: None,
            warnings: vec![],
        }),
        (None, Some(internal)) => Lookup::Found(Endpoint {
            url: url(&internal, port, 80),
            kind: EndpointKind::NodePort,
            service: name_of(nodeport),
            service_namespace: namespace_of(nodeport),
            resolves_to: None,
            warnings: vec![format!(
                "no node has an ExternalIP; using InternalIP {internal}, which is reachable only from inside the cluster's network"
            )],
        }),
        (None, None) => Lookup::Pending("a node to report an address".into()),
    }
}

/// The endpoint of a release behind a Gateway: the Gateway's first address on the listener the
/// route is reached by, addressed by the route's host name and below its path. Pure.
pub fn through_gateway(route: &HttpRoute, gateway: Option<&Gateway>) -> Lookup {
    let Some(parent) = route.spec.parent_refs.first() else {
        return Lookup::Unavailable("the release's HTTPRoute attaches to no Gateway".into());
    };
    let namespace = parent
        .namespace
        .clone()
        .unwrap_or_else(|| route.metadata.namespace.clone());
    let Some(gateway) = gateway else {
        return Lookup::Unavailable(format!(
            "Gateway {namespace}/{} does not exist",
            parent.name
        ));
    };
    let attached = gateway.listeners_for(&GatewayRef {
        namespace: Some(namespace.clone()),
        name: parent.name.clone(),
        listener: parent.section_name.clone(),
    });
    let route_host = route.spec.hostnames.first().map(String::as_str);
    let Some(reach) = gateway_api::reach(gateway, &attached, route_host) else {
        return Lookup::Pending(format!(
            "Gateway {namespace}/{} to get an address",
            parent.name
        ));
    };
    let (scheme, default_port) = if reach.https {
        ("https", 443)
    } else {
        ("http", 80)
    };
    let port = u16::try_from(reach.port).unwrap_or(default_port);
    let path = route
        .path_prefixes()
        .first()
        .map(|p| p.trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let url = with_port(
        scheme,
        reach.host.as_deref().unwrap_or(&reach.address),
        port,
        default_port,
    );
    Lookup::Found(Endpoint {
        url: format!("{url}{path}"),
        kind: EndpointKind::Gateway,
        service: parent.name.clone(),
        service_namespace: namespace,
        resolves_to: reach
            .host
            .as_ref()
            .map(|_| format!("{}:{port}", reach.address)),
        warnings: vec![],
    })
}

/// The endpoint of a release behind the cluster's own ingress controller: the address the
/// controller publishes in the Ingress's status, on port 80. Pure.
pub fn through_ingress_status(ingress: &Ingress) -> Lookup {
    let address = ingress
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .and_then(|entries| entries.first())
        .and_then(|entry| entry.ip.clone().or_else(|| entry.hostname.clone()));
    let name = ingress.metadata.name.clone().unwrap_or_default();
    match address {
        Some(address) => Lookup::Found(Endpoint {
            url: url(&address, 80, 80),
            kind: EndpointKind::Ingress,
            service: name,
            service_namespace: ingress.metadata.namespace.clone().unwrap_or_default(),
            resolves_to: None,
            warnings: vec![],
        }),
        None => Lookup::Pending(format!(
            "the ingress controller to publish an address on Ingress {name}"
        )),
    }
}

fn name_of(service: &Service) -> String {
    service.metadata.name.clone().unwrap_or_default()
}

fn namespace_of(service: &Service) -> String {
    service.metadata.namespace.clone().unwrap_or_default()
}

fn http_port(
    ports: &[k8s_openapi::api::core::v1::ServicePort],
    pick: impl Fn(&k8s_openapi::api::core::v1::ServicePort) -> Option<i32>,
) -> Option<u16> {
    ports
        .iter()
        .find(|p| p.name.as_deref() == Some("http"))
        .or_else(|| ports.first())
        .and_then(pick)
        .and_then(|port| u16::try_from(port).ok())
}

fn url(host: &str, port: u16, default_port: u16) -> String {
    with_port("http", host, port, default_port)
}

fn with_port(scheme: &str, host: &str, port: u16, default_port: u16) -> String {
    // An IPv6 address needs brackets in a URL.
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    if port == default_port {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{port}")
    }
}

/// The controller's https port where users reach it: the load balancer's port, or the node
/// port.
fn https_port(controller: Option<&Service>, nodeport: Option<&Service>) -> Option<u16> {
    let controller = controller?;
    let spec = controller.spec.as_ref()?;
    let https = |service: &Service, pick: &dyn Fn(&ServicePort) -> Option<i32>| {
        service
            .spec
            .as_ref()?
            .ports
            .as_ref()?
            .iter()
            .find(|p| p.name.as_deref() == Some("https"))
            .and_then(pick)
            .and_then(|port| u16::try_from(port).ok())
    };
    if spec.type_.as_deref() == Some("LoadBalancer") {
        return https(controller, &|p| Some(p.port));
    }
    let own = (spec.type_.as_deref() == Some("NodePort")).then_some(controller);
    https(nodeport.or(own)?, &|p| p.node_port)
}

/// Reads the objects and decides, once; what the run has read already (`snapshot`) is not
/// read again. The release's front door decides where: behind a Gateway, its route's Gateway;
/// behind the cluster's own controller, the address published on its Ingress; behind
/// ingress-nginx, its own controller, or that of the release whose IngressClass its Ingress
/// asks for.
pub async fn find(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    names: &ChartNames,
) -> anyhow::Result<Lookup> {
    let manager = ObjectManager::new(client);
    let namespace = Some(release.namespace.as_str());
    // Behind a Gateway, the route is the door, whatever Ingress a move leaves for a while.
    if let FrontDoor::Gateway(_) = &names.front_door {
        let Some(route) = http_route(&manager, snapshot, release, names).await? else {
            return Ok(Lookup::Pending(format!(
                "HTTPRoute {} to exist",
                names.http_route
            )));
        };
        let gateway = gateway_of(client, &route).await?;
        return Ok(through_gateway(&route, gateway.as_ref()));
    }
    let ingress: Option<Ingress> = snapshot
        .read_as(&manager, namespace, &names.ingress)
        .await?;
    // Behind the cluster's own controller, its Ingress's status is the door, whatever of the
    // release's own ingress-nginx a move leaves for a while.
    if let FrontDoor::Ingress { .. } = &names.front_door {
        let Some(ingress) = &ingress else {
            return Ok(Lookup::Pending(format!(
                "Ingress {} to exist",
                names.ingress
            )));
        };
        return Ok(through_cluster_controller(ingress));
    }
    let controller_name = IngressNginxNames::for_release(release).controller;
    let mut controller: Option<Service> = snapshot
        .read_as(&manager, namespace, &controller_name)
        .await?;
    let mut nodeport: Option<Service> = match &names.nodeport_service {
        Some(name) => snapshot.read_as(&manager, namespace, name).await?,
        None => None,
    };
    let route = ingress.as_ref().and_then(Route::of);
    if controller.is_none()
        && let Some(serving) =
            serving_release(&manager, snapshot, release, ingress.as_ref()).await?
    {
        // The shared controller sends a request to this release only by its host or path; an
        // Ingress with neither shares every request with the owner's.
        if route
            .as_ref()
            .is_none_or(|r| r.host.is_none() && r.path.is_none())
        {
            return Ok(Lookup::Unavailable(format!(
                "release {} routes through the ingress-nginx controller of release {} in \
                 namespace {}, but with neither a host nor a path of its own, so the controller \
                 cannot tell its requests from the other release's: set ingress.path (or \
                 ingress.host)",
                release.name, serving.name, serving.namespace
            )));
        }
        let theirs = Some(serving.namespace.as_str());
        let their_controller = IngressNginxNames::for_release(&serving).controller;
        controller = snapshot
            .read_as(&manager, theirs, &their_controller)
            .await?;
        // The other release's values are not read: its NodePort Service, if it has one, is
        // looked for under the seed-era chart's name.
        let seed_era_node_port = serde_json::json!({"ingress": {"nodePortEnabled": true}});
        let their_names = ChartNames::new(&serving, &seed_era_node_port);
        if let Some(name) = &their_names.nodeport_service {
            nodeport = snapshot.read_as(&manager, theirs, name).await?;
        }
    } else if controller.is_none()
        && let Some(ingress) = &ingress
    {
        // Served by a controller of the cluster's own, which publishes its address here.
        return Ok(through_cluster_controller(ingress));
    }
    let nodes = if controller
        .as_ref()
        .and_then(|c| c.spec.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("LoadBalancer")
    {
        Vec::new()
    } else if let Some(nodes) = snapshot.nodes() {
        nodes
    } else {
        let nodes: Api<Node> = Api::all(client.clone());
        nodes
            .list(&ListParams::default())
            .await
            .context("cannot list the nodes")?
            .items
    };
    Ok(
        match (
            lookup(controller.as_ref(), nodeport.as_ref(), &nodes),
            route,
        ) {
            (Lookup::Found(endpoint), Some(route)) => Lookup::Found(through(
                endpoint,
                &route,
                https_port(controller.as_ref(), nodeport.as_ref()),
            )),
            (lookup, _) => lookup,
        },
    )
}

/// The endpoint at the address the cluster's own controller published on `ingress`, by the
/// Ingress's host and path.
fn through_cluster_controller(ingress: &Ingress) -> Lookup {
    match (through_ingress_status(ingress), Route::of(ingress)) {
        (Lookup::Found(endpoint), Some(route)) => {
            Lookup::Found(through(endpoint, &route, Some(443)))
        }
        (lookup, _) => lookup,
    }
}

/// The release's HTTPRoute, where it has one (the `gateway` front door).
async fn http_route(
    manager: &ObjectManager,
    snapshot: &Snapshot,
    release: &Release,
    names: &ChartNames,
) -> anyhow::Result<Option<HttpRoute>> {
    let id = ObjectRef {
        api_version: format!("{}/v1", gateway_api::GROUP),
        kind: "HTTPRoute".into(),
        namespace: Some(release.namespace.clone()),
        name: names.http_route.clone(),
    };
    let Some(found) = snapshot.read(manager, &id).await? else {
        return Ok(None);
    };
    Ok(Some(gateway_api::view(found).with_context(|| {
        format!("{id} does not read as an HTTPRoute")
    })?))
}

/// The Gateway `route` attaches to first.
async fn gateway_of(client: &kube::Client, route: &HttpRoute) -> anyhow::Result<Option<Gateway>> {
    let Some(parent) = route.spec.parent_refs.first() else {
        return Ok(None);
    };
    let namespace = parent
        .namespace
        .as_deref()
        .unwrap_or(&route.metadata.namespace);
    let gateways: Api<kube::api::DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &gateway_api::resource("Gateway", "gateways"),
    );
    let Some(found) = gateways
        .get_opt(&parent.name)
        .await
        .with_context(|| format!("cannot read Gateway {namespace}/{}", parent.name))?
    else {
        return Ok(None);
    };
    Ok(Some(gateway_api::view(found).with_context(|| {
        format!("Gateway {namespace}/{} does not read", parent.name)
    })?))
}

/// The release whose controller serves the IngressClass `ingress` asks for, when another's.
async fn serving_release(
    manager: &ObjectManager,
    snapshot: &Snapshot,
    release: &Release,
    ingress: Option<&Ingress>,
) -> anyhow::Result<Option<Release>> {
    let Some(class) = ingress.and_then(crate::shared_controller::class_of) else {
        return Ok(None);
    };
    let class: Option<k8s_openapi::api::networking::v1::IngressClass> =
        snapshot.read_as(manager, None, class).await?;
    Ok(class.and_then(|class| crate::shared_controller::serving(&class, release)))
}

/// Waits until the endpoint exists, showing what it waits for. A load balancer that has no
/// address after a minute, in a cluster where no LoadBalancer Service has one, will not get one:
/// the wait stops then and says how to use a NodePort instead of hanging until the timeout.
pub async fn wait(
    client: &kube::Client,
    release: &Release,
    names: &ChartNames,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> anyhow::Result<Endpoint> {
    let started = std::time::Instant::now();
    let patience = Duration::from_secs(load_balancers::PATIENCE_SECONDS.unsigned_abs());
    // Each look reads the cluster anew: nothing of an earlier look is kept.
    let found = poll::until(timeout, async || match find(
        client,
        &Snapshot::default(),
        release,
        names,
    )
    .await?
    {
        Lookup::Found(endpoint) => {
            progress.done("the endpoint", "found");
            Ok(Poll::Ready(endpoint))
        }
        Lookup::Unavailable(reason) => {
            anyhow::bail!("release {} has no endpoint: {reason}", release.name)
        }
        Lookup::Pending(reason) => {
            if reason == AWAITING_LOAD_BALANCER
                && started.elapsed() >= patience
                && !load_balancers_served(client).await
            {
                anyhow::bail!(
                    "release {name} has no endpoint: its load balancer has no address after {}s, \
                     and no LoadBalancer Service in the cluster has one. This cluster seems to \
                     have nothing that hands out LoadBalancer addresses (k3s without servicelb, \
                     bare metal without MetalLB). Use a NodePort instead: skyctl upgrade {name} \
                     -n {namespace} --reuse-values {}",
                    started.elapsed().as_secs(),
                    load_balancers::SWITCH_TO_NODE_PORT,
                    name = release.name,
                    namespace = release.namespace,
                );
            }
            progress.pending("the endpoint", &reason);
            Ok(Poll::Pending(reason))
        }
    })
    .await?;
    found.map_err(|reason| {
        anyhow::anyhow!(
            "no endpoint after {}s: still waiting for {reason}",
            timeout.as_secs()
        )
    })
}

/// Whether some LoadBalancer Service of the cluster has an address. One that cannot list
/// Services cluster-wide cannot tell, and keeps waiting as before.
async fn load_balancers_served(client: &kube::Client) -> bool {
    match Api::<Service>::all(client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(services) => load_balancers::served(&services.items).is_some(),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(value: serde_json::Value) -> Service {
        serde_json::from_value(value).unwrap()
    }

    fn node(addresses: serde_json::Value) -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": "n"}, "status": {"addresses": addresses}}),
        )
        .unwrap()
    }

    fn cluster_ip() -> Service {
        service(json!({"metadata": {"name": "c"}, "spec": {"type": "ClusterIP"}}))
    }

    fn nodeport(port: Option<i32>) -> Service {
        service(
            json!({"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [
            {"name": "http", "port": 80, "nodePort": port}, {"name": "https", "port": 443, "nodePort": 30051}]}}),
        )
    }

    fn route(hostnames: serde_json::Value, path: &str, section: Option<&str>) -> HttpRoute {
        serde_json::from_value(json!({
            "metadata": {"name": "sky-api-route", "namespace": "team"},
            "spec": {"parentRefs": [{"name": "public", "namespace": "infra", "sectionName": section}],
                     "hostnames": hostnames,
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": path}}]}]},
        }))
        .unwrap()
    }

    fn gateway(addresses: serde_json::Value) -> Gateway {
        serde_json::from_value(json!({
            "metadata": {"name": "public", "namespace": "infra"},
            "spec": {"gatewayClassName": "traefik", "listeners": [
                {"name": "web", "port": 8000, "protocol": "HTTP"},
                {"name": "websecure", "port": 443, "protocol": "HTTPS"}]},
            "status": {"addresses": addresses},
        }))
        .unwrap()
    }

    #[test]
    fn behind_a_gateway_users_reach_its_address_by_the_routes_host_and_path() {
        let addressed = gateway(json!([{"type": "IPAddress", "value": "127.0.0.1"}]));
        let found = |lookup: Lookup| match lookup {
            Lookup::Found(endpoint) => (endpoint.url, endpoint.resolves_to),
            other => panic!("{other:?}"),
        };
        let cases = [
            (
                route(json!([]), "/", Some("web")),
                "http://127.0.0.1:8000",
                None,
            ),
            // No host to check the HTTPS listener's certificate against: plain HTTP.
            (route(json!([]), "/", None), "http://127.0.0.1:8000", None),
            (
                route(json!(["sky.example.com"]), "/sky", Some("web")),
                "http://sky.example.com:8000/sky",
                Some("127.0.0.1:8000"),
            ),
            (
                route(json!(["sky.example.com"]), "/", None),
                "https://sky.example.com",
                Some("127.0.0.1:443"),
            ),
            // A wildcard is no host to address: the Gateway's address is.
            (
                route(json!(["*.example.com"]), "/", Some("web")),
                "http://127.0.0.1:8000",
                None,
            ),
        ];
        for (route, url, resolves_to) in cases {
            assert_eq!(
                found(through_gateway(&route, Some(&addressed))),
                (url.to_owned(), resolves_to.map(str::to_owned))
            );
        }
        let route = route(json!([]), "/", None);
        assert_eq!(
            through_gateway(&route, Some(&gateway(json!([])))),
            Lookup::Pending("Gateway infra/public to get an address".into())
        );
        assert_eq!(
            through_gateway(&route, None),
            Lookup::Unavailable("Gateway infra/public does not exist".into())
        );
    }

    #[test]
    fn behind_the_clusters_own_controller_users_reach_the_address_it_publishes() {
        let ingress = |status: serde_json::Value| -> Ingress {
            serde_json::from_value(
                json!({"metadata": {"name": "sky-ingress", "namespace": "team"},
                                          "status": status}),
            )
            .unwrap()
        };
        match through_ingress_status(&ingress(
            json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.7"}]}}),
        )) {
            Lookup::Found(endpoint) => {
                assert_eq!(endpoint.url, "http://192.0.2.7");
                assert_eq!(endpoint.kind, EndpointKind::Ingress);
                assert_eq!(endpoint.service, "sky-ingress");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            through_ingress_status(&ingress(json!({}))),
            Lookup::Pending(
                "the ingress controller to publish an address on Ingress sky-ingress".into()
            )
        );
    }

    #[test]
    fn nodeport_uses_a_nodes_external_ip_and_the_http_node_port() {
        let nodes = [node(
            json!([{"type": "InternalIP", "address": "10.0.0.5"}, {"type": "ExternalIP", "address": "203.0.113.9"}]),
        )];
        let Lookup::Found(endpoint) =
            lookup(Some(&cluster_ip()), Some(&nodeport(Some(30050))), &nodes)
        else {
            panic!()
        };
        assert_eq!(endpoint.url, "http://203.0.113.9:30050");
        assert_eq!(endpoint.kind, EndpointKind::NodePort);
        assert!(endpoint.warnings.is_empty());
    }

    #[test]
    fn a_node_port_controller_is_its_own_node_port_service() {
        let nodes = [node(
            json!([{"type": "ExternalIP", "address": "203.0.113.9"}]),
        )];
        let Lookup::Found(endpoint) = lookup(Some(&nodeport(Some(31234))), None, &nodes) else {
            panic!()
        };
        assert_eq!(endpoint.url, "http://203.0.113.9:31234");
        assert_eq!(endpoint.kind, EndpointKind::NodePort);
        assert!(matches!(
            lookup(Some(&cluster_ip()), None, &nodes),
            Lookup::Unavailable(_)
        ));
    }

    #[test]
    fn without_an_external_ip_the_internal_one_is_used_with_a_warning() {
        let nodes = [node(json!([{"type": "InternalIP", "address": "10.0.0.5"}]))];
        let Lookup::Found(endpoint) =
            lookup(Some(&cluster_ip()), Some(&nodeport(Some(31000))), &nodes)
        else {
            panic!()
        };
        assert_eq!(endpoint.url, "http://10.0.0.5:31000");
        assert!(endpoint.warnings[0].contains("InternalIP"));
    }

    #[test]
    fn a_load_balancer_gives_an_ip_or_a_hostname() {
        let lb = |ingress: serde_json::Value| {
            service(
                json!({"metadata": {"name": "c"}, "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]},
                           "status": {"loadBalancer": {"ingress": ingress}}}),
            )
        };
        let found = |s: &Service| match lookup(Some(s), None, &[]) {
            Lookup::Found(e) => e.url,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            found(&lb(
                json!([{"hostname": "a1b2.elb.us-east-1.amazonaws.com"}])
            )),
            "http://a1b2.elb.us-east-1.amazonaws.com"
        );
        assert_eq!(
            found(&lb(json!([{"ip": "198.51.100.4"}]))),
            "http://198.51.100.4"
        );
        assert_eq!(
            lookup(Some(&lb(json!([]))), None, &[]),
            Lookup::Pending("the load balancer to get an IP or hostname".into())
        );
    }

    #[test]
    fn missing_pieces_are_pending_or_unavailable_with_the_reason() {
        let nodes = [node(
            json!([{"type": "ExternalIP", "address": "127.0.0.1"}]),
        )];
        assert!(matches!(
            lookup(Some(&cluster_ip()), Some(&nodeport(None)), &nodes),
            Lookup::Pending(_)
        ));
        assert!(
            matches!(lookup(Some(&cluster_ip()), None, &nodes), Lookup::Unavailable(r) if r.contains("nodePortEnabled"))
        );
        assert!(matches!(lookup(None, None, &nodes), Lookup::Unavailable(_)));
        assert!(matches!(
            lookup(Some(&cluster_ip()), Some(&nodeport(Some(30050))), &[]),
            Lookup::Pending(_)
        ));
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(url("fd00::1", 30050, 80), "http://[fd00::1]:30050");
    }

    #[test]
    fn an_ingress_that_routes_by_host_is_addressed_by_it() {
        let ingress = |spec: serde_json::Value| -> Ingress {
            serde_json::from_value(json!({"metadata": {"name": "i"}, "spec": spec})).unwrap()
        };
        let rule = json!([{"host": "sky.example.com"}]);
        assert_eq!(Route::of(&ingress(json!({"rules": [{}]}))), None);
        assert_eq!(
            Route::of(&ingress(json!({"rules": rule}))),
            Some(Route {
                host: Some("sky.example.com".into()),
                tls: false,
                path: None,
            })
        );
        assert_eq!(
            Route::of(&ingress(
                json!({"rules": rule, "tls": [{"hosts": ["sky.example.com"]}]})
            )),
            Some(Route {
                host: Some("sky.example.com".into()),
                tls: true,
                path: None,
            })
        );
        assert_eq!(
            Route::of(&ingress(
                json!({"rules": rule, "tls": [{"hosts": ["other"]}]})
            )),
            Some(Route {
                host: Some("sky.example.com".into()),
                tls: false,
                path: None,
            })
        );

        let found = |url: &str| Endpoint {
            url: url.into(),
            kind: EndpointKind::NodePort,
            service: "sky-ingress-nginx-controller".into(),
            service_namespace: "team".into(),
            resolves_to: None,
            warnings: vec![],
        };
        let route = |tls| Route {
            host: Some("sky.example.com".into()),
            tls,
            path: None,
        };
        let cases = [
            // (found, tls, https port) -> (url, resolves to)
            (
                "http://10.0.0.1:30080",
                false,
                Some(30443),
                "http://sky.example.com:30080",
                "10.0.0.1:30080",
            ),
            (
                "http://10.0.0.1:30080",
                true,
                Some(30443),
                "https://sky.example.com:30443",
                "10.0.0.1:30443",
            ),
            (
                "http://lb.example.net",
                true,
                Some(443),
                "https://sky.example.com",
                "lb.example.net:443",
            ),
            (
                "http://lb.example.net",
                false,
                Some(443),
                "http://sky.example.com",
                "lb.example.net:80",
            ),
            (
                "http://[fd00::1]:30080",
                true,
                Some(30443),
                "https://sky.example.com:30443",
                "[fd00::1]:30443",
            ),
        ];
        for (url, tls, https, expected, resolves_to) in cases {
            let endpoint = through(found(url), &route(tls), https);
            assert_eq!(endpoint.url, expected, "{url} tls={tls}");
            assert_eq!(endpoint.resolves_to.as_deref(), Some(resolves_to), "{url}");
            assert!(endpoint.warnings.is_empty());
        }
        let no_https = through(found("http://10.0.0.1:30080"), &route(true), None);
        assert_eq!(no_https.url, "http://sky.example.com:30080");
        assert_eq!(no_https.warnings.len(), 1);
    }

    // With `ingress.path` set, the endpoint and the health check used the root, which the
    // Ingress does not route to the server.
    #[test]
    fn a_sub_path_is_part_of_the_url_with_or_without_a_host() {
        let ingress = |annotations: serde_json::Value, rules: serde_json::Value| -> Ingress {
            serde_json::from_value(json!({
                "metadata": {"name": "i", "annotations": annotations},
                "spec": {"rules": rules}
            }))
            .unwrap()
        };
        let path = json!({"skypilot.co/ingress-path": "/sky"});
        let any_host = Route::of(&ingress(path.clone(), json!([{}]))).unwrap();
        assert_eq!(
            any_host,
            Route {
                host: None,
                tls: false,
                path: Some("/sky".into())
            }
        );
        let found = Endpoint {
            url: "http://10.0.0.1:30080".into(),
            kind: EndpointKind::NodePort,
            service: "sky-ingress-nginx-controller".into(),
            service_namespace: "team".into(),
            resolves_to: None,
            warnings: vec![],
        };
        assert_eq!(
            through(found.clone(), &any_host, None).url,
            "http://10.0.0.1:30080/sky"
        );
        let by_host = Route::of(&ingress(path, json!([{"host": "sky.example.com"}]))).unwrap();
        assert_eq!(
            through(found, &by_host, None).url,
            "http://sky.example.com:30080/sky"
        );
        assert_eq!(Route::of(&ingress(json!({}), json!([{}]))), None);
    }

    #[test]
    fn the_https_port_is_the_load_balancers_or_the_node_port() {
        let ports = json!([
            {"name": "http", "port": 80, "nodePort": 30080},
            {"name": "https", "port": 443, "nodePort": 30443}
        ]);
        let lb = service(
            json!({"metadata": {"name": "c"}, "spec": {"type": "LoadBalancer", "ports": ports}}),
        );
        let np = service(
            json!({"metadata": {"name": "c"}, "spec": {"type": "NodePort", "ports": ports}}),
        );
        assert_eq!(https_port(Some(&lb), None), Some(443));
        assert_eq!(https_port(Some(&np), None), Some(30443));
        assert_eq!(https_port(Some(&cluster_ip()), Some(&np)), Some(30443));
        assert_eq!(https_port(Some(&cluster_ip()), None), None);
    }
}
