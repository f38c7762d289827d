//! The check of the `gateway` front door: the cluster serves Gateway API, the Gateway exists,
//! a listener of it admits the release's HTTPRoute from its namespace, and no other route
//! already claims the same host and path. Pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::front_door::{FrontDoor, GatewayRef};
use crate::gateway_api::{self, Gateway, HttpRoute, Refusal};

use super::{Check, Finding, Intent, Observed};

/// What the check reads; `None` in the facts where the release renders no HTTPRoute.
#[derive(Debug, Clone)]
pub struct GatewayFacts {
    /// The HTTPRoute CRD; `None` where the cluster has none.
    pub api: Observed<Option<Installed>>,
    /// The Gateway the route attaches to; `None` where it does not exist.
    pub gateway: Observed<Option<Gateway>>,
    /// The labels of the release's namespace, which listeners select namespaces by.
    pub namespace_labels: Observed<BTreeMap<String, String>>,
    /// Every HTTPRoute in the cluster.
    pub routes: Observed<Vec<HttpRoute>>,
}

/// The Gateway API release the CRD says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub bundle_version: Option<String>,
    pub channel: Option<String>,
}

impl Installed {
    /// Whether the CRD predates `HTTPRoute` timeouts, which server-side apply would refuse
    /// as an unknown field: before v1.2 on the standard channel, or on a channel the CRD does
    /// not name (the narrower one), before v1.0 on the experimental one. A pre-release counts
    /// as its release; a version the CRD does not give, or that does not read as
    /// `vMAJOR.MINOR`, is given the benefit of the doubt.
    fn lacks_route_timeouts(&self) -> bool {
        let Some((major, minor)) = self.bundle_version.as_deref().and_then(major_minor) else {
            return false;
        };
        let since = match self.channel.as_deref() {
            Some("experimental") => (1, 0),
            _ => (1, 2),
        };
        (major, minor) < since
    }
}

/// `v1.2.0-rc1` → (1, 2); `v1.2` → (1, 2).
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let release = version.strip_prefix('v').unwrap_or(version);
    let release = release.split(['-', '+']).next()?;
    let mut parts = release.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

impl std::fmt::Display for Installed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Gateway API {} ({} channel)",
            self.bundle_version
                .as_deref()
                .unwrap_or("of an unknown version"),
            self.channel.as_deref().unwrap_or("unknown")
        )
    }
}

/// The release's HTTPRoute: its release, namespace and name, and the host and path it answers.
struct Route<'a> {
    release: &'a str,
    namespace: &'a str,
    name: &'a str,
    host: Option<&'a str>,
    path: &'a str,
}

/// The gateway door's finding; `None` where the release uses another door.
pub fn check(intent: &Intent, facts: Option<&GatewayFacts>) -> Option<Finding> {
    let FrontDoor::Gateway(parent) = FrontDoor::of(intent.values) else {
        return None;
    };
    let route = intent.manifests.iter().find(|m| m.id.kind == "HTTPRoute")?;
    let text = |pointer: &str| intent.values.pointer(pointer).and_then(|v| v.as_str());
    let route = Route {
        release: &intent.release.name,
        namespace: &intent.release.namespace,
        name: &route.id.name,
        host: text("/ingress/host").filter(|h| !h.is_empty()),
        path: text("/ingress/path").unwrap_or("/"),
    };
    let Some(facts) = facts else {
        return Some(Finding::unknown(Check::Gateway, "the Gateway", "not read"));
    };
    Some(assess(&parent, &route, facts))
}

fn assess(parent: &GatewayRef, route: &Route, facts: &GatewayFacts) -> Finding {
    let namespace = parent.namespace.as_deref().unwrap_or(route.namespace);
    let named = format!("Gateway {namespace}/{}", parent.name);
    // A namespace admin may not read CRDs: the Gateway is checked all the same.
    let installed = match &facts.api {
        Err(why) => Err(why),
        Ok(None) => {
            return Finding::block(
                Check::Gateway,
                format!(
                    "the cluster does not serve Gateway API: CRD {} does not exist",
                    gateway_api::HTTP_ROUTE_CRD
                ),
                "install Gateway API's standard-channel CRDs and an implementation of it that \
                 runs the Gateway; or choose another door: --ingress-class CLASS for the \
                 cluster's own ingress controller",
            );
        }
        Ok(Some(installed)) if installed.lacks_route_timeouts() => {
            return Finding::block(
                Check::Gateway,
                format!(
                    "the cluster serves {installed}, which has no HTTPRoute timeouts: the API \
                     server would refuse the route's, which keeps the Gateway from cutting \
                     SkyPilot's long requests"
                ),
                "upgrade Gateway API's CRDs to v1.2 or later (timeouts are in its standard \
                 channel since v1.2, in its experimental channel since v1.0)",
            );
        }
        Ok(Some(installed)) => Ok(installed),
    };
    let gateway = match &facts.gateway {
        Err(why) => return Finding::unknown(Check::Gateway, &named, why),
        Ok(None) => {
            return Finding::block(
                Check::Gateway,
                format!("{named} does not exist"),
                "name a Gateway the cluster has (`kubectl get gateways -A`): --gateway \
                 NAMESPACE/NAME[:LISTENER]",
            );
        }
        Ok(Some(gateway)) => gateway,
    };
    let listeners = gateway.listeners_for(parent);
    if listeners.is_empty() {
        let names: Vec<&str> = gateway
            .spec
            .listeners
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        return Finding::block(
            Check::Gateway,
            format!(
                "{named} has no listener {}; it has {}",
                parent.listener.as_deref().unwrap_or_default(),
                names.join(", ")
            ),
            format!(
                "attach to one it has: --gateway {namespace}/{}:LISTENER, or to all that admit \
                 the route: --gateway {namespace}/{}",
                parent.name, parent.name
            ),
        );
    }
    let labels = match &facts.namespace_labels {
        Ok(labels) => labels,
        Err(why) => return Finding::unknown(Check::Gateway, "the namespace's labels", why),
    };
    let verdicts: Vec<_> = listeners
        .iter()
        .map(|l| (*l, l.admits(namespace, route.namespace, labels, route.host)))
        .collect();
    if verdicts.iter().all(|(_, verdict)| verdict.is_err()) {
        let mut summary = format!(
            "no listener of {named} admits the route from namespace {}:",
            route.namespace
        );
        let mut fixes = Vec::new();
        for (listener, verdict) in &verdicts {
            let Err(refusal) = verdict else { continue };
            let _ = write!(summary, " {} ({refusal});", listener.name);
            let fix = fix_for(refusal, route.namespace, namespace, &listener.name);
            if !fixes.contains(&fix) {
                fixes.push(fix);
            }
        }
        summary.pop();
        return Finding::block(Check::Gateway, summary, fixes.join("\nor "));
    }
    if let Ok(routes) = &facts.routes {
        let rival = routes.iter().find(|other| {
            !(other.metadata.namespace == route.namespace && other.metadata.name == route.name)
                && other.attaches_to(namespace, &parent.name)
                && other.claims(route.host, route.path)
        });
        if let Some(rival) = rival {
            return Finding::block(
                Check::Gateway,
                format!(
                    "HTTPRoute {}/{} already routes {}{} on {named}; the Gateway gives those \
                     requests to the older route",
                    rival.metadata.namespace,
                    rival.metadata.name,
                    route.host.unwrap_or("every host at "),
                    route.path
                ),
                format!(
                    "give the API server a host of its own: --hostname HOST, or a path: --set \
                     ingress.path=/{}",
                    route.release
                ),
            );
        }
    }
    let admitting: Vec<&str> = verdicts
        .iter()
        .filter(|(_, verdict)| verdict.is_ok())
        .map(|(l, _)| l.name.as_str())
        .collect();
    let (listeners, admits) = match admitting.as_slice() {
        [one] => (format!("listener {one}"), "admits"),
        more => (format!("listeners {}", more.join(", ")), "admit"),
    };
    if let Err(why) = gateway.programmed() {
        return Finding::warn(
            Check::Gateway,
            format!("{named} is not ready ({why}); {listeners} would take the route"),
            "the route is served once the Gateway's controller programs it: `kubectl describe \
             gateway` tells why not",
        );
    }
    let routes = match &facts.routes {
        Ok(routes) => routes,
        Err(why) => return Finding::unknown(Check::Gateway, "the cluster's HTTPRoutes", why),
    };
    let installed = match installed {
        Ok(installed) => installed,
        Err(why) => return Finding::unknown(Check::Gateway, "the HTTPRoute CRD", why),
    };
    // Once installed, the route itself: what the Gateway said of it.
    let own = routes
        .iter()
        .find(|r| r.metadata.namespace == route.namespace && r.metadata.name == route.name);
    let taken = match own.map(|r| r.taken_by(namespace, &parent.name)) {
        None => String::new(),
        Some(Ok(())) => format!("; HTTPRoute {} accepted, its backend resolved", route.name),
        Some(Err(why)) => {
            return Finding::warn(
                Check::Gateway,
                format!("HTTPRoute {} is not served by {named}: {why}", route.name),
                format!(
                    "`kubectl describe httproute -n {} {}` shows what the Gateway's controller \
                     says of it",
                    route.namespace, route.name
                ),
            );
        }
    };
    Finding::pass(
        Check::Gateway,
        format!(
            "{named} (class {}): {listeners} {admits} the route; {installed}{taken}",
            gateway.spec.gateway_class_name
        ),
    )
}

/// What makes a listener admit the route, as the admin would do it.
fn fix_for(refusal: &Refusal, namespace: &str, gateway_namespace: &str, listener: &str) -> String {
    match refusal {
        Refusal::Protocol(_) | Refusal::Kinds => format!(
            "attach to an HTTP or HTTPS listener that admits HTTPRoutes: --gateway \
             {gateway_namespace}/NAME:LISTENER (not {listener})"
        ),
        Refusal::SameNamespace => format!(
            "let listener {listener} admit routes from other namespaces (allowedRoutes.namespaces.from: \
             All, or Selector with a label of namespace {namespace}), or install the release \
             into namespace {gateway_namespace}"
        ),
        Refusal::Selector(needs) => format!(
            "label the namespace as listener {listener} selects: kubectl label namespace \
             {namespace} {needs}"
        ),
        Refusal::Hostname { listener: host, .. } => format!(
            "answer a host listener {listener} serves: --hostname {}",
            host.replacen('*', "sky", 1)
        ),
    }
}

#[cfg(test)]
mod tests;
