//! The parts of Gateway API (`gateway.networking.k8s.io/v1`) skyctl reads, and what they mean
//! for the release's HTTPRoute: which listener admits it, where users reach it, and whether the
//! Gateway took it. Read from the API server's JSON; pure.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use serde::Deserialize;

use crate::front_door::GatewayRef;

/// The API group, and the annotation its CRDs carry their release in.
pub const GROUP: &str = "gateway.networking.k8s.io";
pub const BUNDLE_VERSION: &str = "gateway.networking.k8s.io/bundle-version";
pub const CHANNEL: &str = "gateway.networking.k8s.io/channel";
/// The CRD that must be served for the release's route.
pub const HTTP_ROUTE_CRD: &str = "httproutes.gateway.networking.k8s.io";

/// A Gateway API object as the API server returned it, read as one of the views below.
pub fn view<T: serde::de::DeserializeOwned>(
    object: kube::api::DynamicObject,
) -> Result<T, serde_json::Error> {
    serde_json::to_value(object).and_then(serde_json::from_value)
}

/// The REST resource of a Gateway API kind, version v1.
pub fn resource(kind: &str, plural: &str) -> kube::api::ApiResource {
    kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk(GROUP, "v1", kind),
        plural,
    )
}

#[derive(Debug, Clone, Deserialize)]
pub struct Gateway {
    pub metadata: Metadata,
    pub spec: GatewaySpec,
    #[serde(default)]
    pub status: GatewayStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    #[serde(default)]
    pub gateway_class_name: String,
    #[serde(default)]
    pub listeners: Vec<Listener>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    pub port: i32,
    pub protocol: String,
    pub allowed_routes: Option<AllowedRoutes>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AllowedRoutes {
    pub namespaces: Option<RouteNamespaces>,
    pub kinds: Option<Vec<RouteGroupKind>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RouteNamespaces {
    /// `Same` (the default), `All` or `Selector`.
    pub from: Option<String>,
    pub selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RouteGroupKind {
    pub group: Option<String>,
    pub kind: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GatewayStatus {
    #[serde(default)]
    pub addresses: Vec<GatewayAddress>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GatewayAddress {
    pub value: String,
}

/// An HTTPRoute, for what it claims and what its Gateways said of it.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpRoute {
    pub metadata: Metadata,
    pub spec: HttpRouteSpec,
    #[serde(default)]
    pub status: RouteStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    #[serde(default)]
    pub parent_refs: Vec<ParentRef>,
    #[serde(default)]
    pub hostnames: Vec<String>,
    #[serde(default)]
    pub rules: Vec<HttpRouteRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    pub section_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HttpRouteRule {
    /// None: one match of every request (`PathPrefix /`).
    pub matches: Option<Vec<HttpRouteMatch>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpRouteMatch {
    pub path: Option<PathMatch>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PathMatch {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RouteStatus {
    #[serde(default)]
    pub parents: Vec<RouteParentStatus>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteParentStatus {
    pub parent_ref: ParentRef,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// Why a listener does not take the release's route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It serves no HTTP (TCP, UDP, or TLS passed through).
    Protocol(String),
    /// Its `allowedRoutes.kinds` leave out HTTPRoute.
    Kinds,
    /// It admits routes from the Gateway's own namespace only.
    SameNamespace,
    /// It admits namespaces by label, and the route's lacks them: the labels it needs
    /// (`matchLabels`), or the selector's text where it is more than labels.
    Selector(String),
    /// Its host name and the route's do not overlap.
    Hostname { listener: String, route: String },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Protocol(protocol) => write!(f, "it serves {protocol}, not HTTP or HTTPS"),
            Refusal::Kinds => f.write_str("its allowedRoutes.kinds leave out HTTPRoute"),
            Refusal::SameNamespace => {
                f.write_str("it admits routes from the Gateway's own namespace only")
            }
            Refusal::Selector(needs) => {
                write!(f, "it admits namespaces labelled {needs} only")
            }
            Refusal::Hostname { listener, route } => {
                write!(f, "it answers {listener}, not {route}")
            }
        }
    }
}

impl Listener {
    /// Whether the listener takes an HTTPRoute for `host` from `namespace` (labelled
    /// `labels`), attached to a Gateway in `gateway_namespace`.
    pub fn admits(
        &self,
        gateway_namespace: &str,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        host: Option<&str>,
    ) -> Result<(), Refusal> {
        if !matches!(self.protocol.as_str(), "HTTP" | "HTTPS") {
            return Err(Refusal::Protocol(self.protocol.clone()));
        }
        let allowed = self.allowed_routes.as_ref();
        if let Some(kinds) = allowed.and_then(|a| a.kinds.as_ref())
            && !kinds
                .iter()
                .any(|k| k.kind == "HTTPRoute" && k.group.as_deref().unwrap_or(GROUP) == GROUP)
        {
            return Err(Refusal::Kinds);
        }
        let from = allowed.and_then(|a| a.namespaces.as_ref());
        match from.and_then(|n| n.from.as_deref()).unwrap_or("Same") {
            "All" => {}
            "Selector" => {
                let selector = from.and_then(|n| n.selector.clone()).unwrap_or_default();
                if !selects(&selector, labels) {
                    return Err(Refusal::Selector(describe(&selector)));
                }
            }
            _ if namespace != gateway_namespace => return Err(Refusal::SameNamespace),
            _ => {}
        }
        if let (Some(listener), Some(route)) = (self.hostname.as_deref(), host)
            && !hosts_overlap(listener, route)
        {
            return Err(Refusal::Hostname {
                listener: listener.to_owned(),
                route: route.to_owned(),
            });
        }
        Ok(())
    }

    /// Whether users reach the listener over TLS.
    pub fn https(&self) -> bool {
        self.protocol == "HTTPS"
    }
}

/// Whether `selector` selects a namespace labelled `labels`; a selector that does not read
/// selects nothing.
fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    use kube::core::{Selector, SelectorExt};
    Selector::try_from(selector.clone()).is_ok_and(|s| s.matches(labels))
}

/// The labels a selector asks for, as `kubectl label` takes them.
fn describe(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    for expression in selector.match_expressions.iter().flatten() {
        let values = expression.values.clone().unwrap_or_default().join(",");
        parts.push(format!(
            "{} {} ({values})",
            expression.key, expression.operator
        ));
    }
    parts.join(" ")
}

/// Whether two host names (either may be a `*.` wildcard) have a host in common.
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    let covers = |wild: &str, host: &str| {
        wild.strip_prefix('*').is_some_and(|suffix| {
            host.ends_with(suffix) && host.len() > suffix.len() || host == wild
        })
    };
    a == b || covers(a, b) || covers(b, a)
}

impl Gateway {
    /// Whether the Gateway's controller says it is `Programmed`, and why not.
    pub fn programmed(&self) -> Result<(), String> {
        condition(&self.status.conditions, "Programmed")
    }

    /// The listeners the route's `parent` reference attaches to.
    pub fn listeners_for<'a>(&'a self, parent: &GatewayRef) -> Vec<&'a Listener> {
        self.spec
            .listeners
            .iter()
            .filter(|l| parent.listener.as_deref().is_none_or(|name| l.name == name))
            .collect()
    }
}

/// `Ok` when the condition `kind` is `True`; else its reason and message, or that it is not set.
pub fn condition(conditions: &[Condition], kind: &str) -> Result<(), String> {
    match conditions.iter().find(|c| c.type_ == kind) {
        Some(c) if c.status == "True" => Ok(()),
        Some(c) => Err(format!(
            "{kind} is {}: {}: {}",
            c.status, c.reason, c.message
        )),
        None => Err(format!("{kind} is not set yet")),
    }
}

impl HttpRoute {
    /// Whether this route attaches to Gateway `namespace/name`.
    pub fn attaches_to(&self, namespace: &str, name: &str) -> bool {
        self.spec.parent_refs.iter().any(|parent| {
            parent.kind.as_deref().unwrap_or("Gateway") == "Gateway"
                && parent.name == name
                && parent
                    .namespace
                    .as_deref()
                    .unwrap_or(&self.metadata.namespace)
                    == namespace
        })
    }

    /// The path prefixes the route matches; `/` where a rule matches everything.
    pub fn path_prefixes(&self) -> Vec<String> {
        self.spec
            .rules
            .iter()
            .flat_map(|rule| match &rule.matches {
                None => vec!["/".to_owned()],
                Some(matches) if matches.is_empty() => vec!["/".to_owned()],
                // Exact and regular-expression paths are another route's business.
                Some(matches) => matches
                    .iter()
                    .filter(|m| {
                        m.path.as_ref().is_none_or(|p| {
                            p.kind.as_deref().unwrap_or("PathPrefix") == "PathPrefix"
                        })
                    })
                    .map(|m| {
                        m.path
                            .as_ref()
                            .and_then(|p| p.value.clone())
                            .unwrap_or_else(|| "/".to_owned())
                    })
                    .collect(),
            })
            .collect()
    }

    /// Whether this route and one answering `host` at `path` compete for the same requests:
    /// the same host names (a specific name wins over a wildcard and over none, so only an
    /// equal one competes) and the same path prefix. The Gateway gives such requests to the
    /// older route only.
    pub fn claims(&self, host: Option<&str>, path: &str) -> bool {
        let hosts_equal = match host {
            None => self.spec.hostnames.is_empty(),
            Some(host) => self.spec.hostnames.iter().any(|h| h == host),
        };
        hosts_equal && self.path_prefixes().iter().any(|p| same_prefix(p, path))
    }

    /// What the Gateway `namespace/name` said of the route: `Accepted` and `ResolvedRefs`, or
    /// why not.
    pub fn taken_by(&self, namespace: &str, name: &str) -> Result<(), String> {
        let parent = self.status.parents.iter().find(|parent| {
            parent.parent_ref.name == name
                && parent
                    .parent_ref
                    .namespace
                    .as_deref()
                    .unwrap_or(&self.metadata.namespace)
                    == namespace
        });
        let Some(parent) = parent else {
            return Err(format!(
                "Gateway {namespace}/{name} has not reported on it yet"
            ));
        };
        condition(&parent.conditions, "Accepted")?;
        condition(&parent.conditions, "ResolvedRefs")
    }
}

/// Two path prefixes that match the same requests (`/sky` and `/sky/` alike).
fn same_prefix(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Where users reach a route on a Gateway: the first address the Gateway reports, on a
/// listener's port, by a host name where one is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub https: bool,
    /// The Gateway's address (an IP address or a host name).
    pub address: String,
    pub port: i32,
    /// The name to address the route by: its own, else the listener's; `None` where neither
    /// names one host (the address is used).
    pub host: Option<String>,
}

/// How users reach a route answering `host` through `listeners` (those it attaches to): over
/// HTTPS where a listener serves it and a host name is known for its certificate, else over
/// HTTP. `None` while the Gateway reports no address, or no listener serves HTTP for the host.
pub fn reach(gateway: &Gateway, listeners: &[&Listener], host: Option<&str>) -> Option<Reach> {
    let address = gateway.status.addresses.first()?.value.clone();
    let exact = |name: Option<&str>| name.filter(|n| !n.starts_with('*')).map(str::to_owned);
    let serving: Vec<(&Listener, Option<String>)> = listeners
        .iter()
        .filter(|l| matches!(l.protocol.as_str(), "HTTP" | "HTTPS"))
        .filter(|l| match (l.hostname.as_deref(), host) {
            (Some(listener), Some(route)) => hosts_overlap(listener, route),
            _ => true,
        })
        .map(|l| (*l, exact(host).or_else(|| exact(l.hostname.as_deref()))))
        .collect();
    let (listener, host) = serving
        .iter()
        .find(|(l, host)| l.https() && host.is_some())
        .or_else(|| serving.iter().find(|(l, _)| !l.https()))
        .or_else(|| serving.first())?;
    Some(Reach {
        https: listener.https(),
        address,
        port: listener.port,
        host: host.clone(),
    })
}

#[cfg(test)]
mod tests;
