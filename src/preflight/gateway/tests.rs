use serde_json::{Value, json};

use super::*;
use crate::preflight::Status;

fn gateway(listeners: Value, programmed: bool) -> Gateway {
    serde_json::from_value(json!({
        "metadata": {"name": "public", "namespace": "infra"},
        "spec": {"gatewayClassName": "traefik", "listeners": listeners},
        "status": {
            "addresses": [{"value": "127.0.0.1"}],
            "conditions": [{"type": "Programmed", "status": if programmed { "True" } else { "False" },
                "reason": if programmed { "Programmed" } else { "Pending" }, "message": "m",
                "lastTransitionTime": "2026-12-07T00:00:00Z"}],
        },
    }))
    .unwrap()
}

fn http_route(namespace: &str, name: &str, hostnames: Value, path: &str) -> HttpRoute {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"parentRefs": [{"name": "public", "namespace": "infra"}],
                 "hostnames": hostnames,
                 "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": path}}]}]},
    }))
    .unwrap()
}

/// `route` with what Gateway infra/public said of it.
fn with_status(route: HttpRoute, conditions: Value) -> HttpRoute {
    let mut object = json!({
        "metadata": {"name": route.metadata.name, "namespace": route.metadata.namespace},
        "spec": {"parentRefs": [{"name": "public", "namespace": "infra"}]},
        "status": {"parents": [{"parentRef": {"name": "public", "namespace": "infra"},
                                "conditions": conditions}]},
    });
    object["spec"]["hostnames"] = json!(route.spec.hostnames);
    serde_json::from_value(object).unwrap()
}

fn facts() -> GatewayFacts {
    GatewayFacts {
        api: Ok(Some(Installed {
            bundle_version: Some("v1.6.1".into()),
            channel: Some("standard".into()),
        })),
        gateway: Ok(Some(gateway(
            json!([{"name": "web", "port": 80, "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "All"}}}]),
            true,
        ))),
        namespace_labels: Ok(BTreeMap::from([(
            "kubernetes.io/metadata.name".to_owned(),
            "team".to_owned(),
        )])),
        routes: Ok(vec![]),
    }
}

const ROUTE: Route = Route {
    release: "sky",
    namespace: "team",
    name: "sky-api-route",
    host: Some("sky.example.com"),
    path: "/",
};

/// One case: what differs from [`facts`], the Gateway named, and the finding's status with
/// the start of its summary and a piece of its fix.
struct Case {
    name: &'static str,
    facts: GatewayFacts,
    parent: &'static str,
    status: Status,
    summary: &'static str,
    fix: &'static str,
}

#[test]
fn the_gateway_door_is_checked_from_crd_to_rival_routes() {
    let cases = [
        Case {
            name: "all well",
            facts: facts(),
            parent: "infra/public",
            status: Status::Pass,
            summary: "Gateway infra/public (class traefik): listener web admits the route; \
                      Gateway API v1.6.1 (standard channel)",
            fix: "",
        },
        Case {
            name: "no CRD",
            facts: GatewayFacts {
                api: Ok(None),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "the cluster does not serve Gateway API: CRD \
                      httproutes.gateway.networking.k8s.io does not exist",
            fix: "--ingress-class CLASS",
        },
        Case {
            name: "a standard channel without route timeouts",
            facts: GatewayFacts {
                api: Ok(Some(Installed {
                    bundle_version: Some("v1.1.0".into()),
                    channel: Some("standard".into()),
                })),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "the cluster serves Gateway API v1.1.0 (standard channel), which has no \
                      HTTPRoute timeouts",
            fix: "upgrade Gateway API's CRDs to v1.2 or later",
        },
        Case {
            name: "an experimental channel with route timeouts",
            facts: GatewayFacts {
                api: Ok(Some(Installed {
                    bundle_version: Some("v1.1.0".into()),
                    channel: Some("experimental".into()),
                })),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Pass,
            summary: "Gateway infra/public (class traefik): listener web admits the route; \
                      Gateway API v1.1.0 (experimental channel)",
            fix: "",
        },
        Case {
            name: "a release candidate of the standard channel with route timeouts",
            facts: GatewayFacts {
                api: Ok(Some(Installed {
                    bundle_version: Some("v1.2.0-rc1".into()),
                    channel: Some("standard".into()),
                })),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Pass,
            summary: "Gateway infra/public (class traefik): listener web admits the route; \
                      Gateway API v1.2.0-rc1 (standard channel)",
            fix: "",
        },
        Case {
            name: "an experimental channel before v1.0",
            facts: GatewayFacts {
                api: Ok(Some(Installed {
                    bundle_version: Some("v0.8.1".into()),
                    channel: Some("experimental".into()),
                })),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "the cluster serves Gateway API v0.8.1 (experimental channel), which has \
                      no HTTPRoute timeouts",
            fix: "v1.2 or later",
        },
        Case {
            name: "an unnamed channel without route timeouts, its version short",
            facts: GatewayFacts {
                api: Ok(Some(Installed {
                    bundle_version: Some("v1.1".into()),
                    channel: None,
                })),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "the cluster serves Gateway API v1.1 (unknown channel), which has no \
                      HTTPRoute timeouts",
            fix: "v1.2 or later",
        },
        Case {
            name: "a version that does not read as one",
            facts: GatewayFacts {
                api: Ok(Some(Installed {
                    bundle_version: Some("main".into()),
                    channel: Some("standard".into()),
                })),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Pass,
            summary: "Gateway infra/public (class traefik): listener web admits the route; \
                      Gateway API main (standard channel)",
            fix: "",
        },
        Case {
            name: "the CRD unreadable",
            facts: GatewayFacts {
                api: Err("forbidden".into()),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Warn,
            summary: "cannot tell: reading the HTTPRoute CRD failed (forbidden)",
            fix: "",
        },
        Case {
            name: "the CRD unreadable and no Gateway",
            facts: GatewayFacts {
                api: Err("forbidden".into()),
                gateway: Ok(None),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "Gateway infra/public does not exist",
            fix: "",
        },
        Case {
            name: "no Gateway",
            facts: GatewayFacts {
                gateway: Ok(None),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "Gateway infra/public does not exist",
            fix: "kubectl get gateways -A",
        },
        Case {
            name: "no such listener",
            facts: facts(),
            parent: "infra/public:websecure",
            status: Status::Block,
            summary: "Gateway infra/public has no listener websecure; it has web",
            fix: "--gateway infra/public:LISTENER",
        },
        Case {
            name: "a listener of its own namespace",
            facts: GatewayFacts {
                gateway: Ok(Some(gateway(
                    json!([{"name": "web", "port": 80, "protocol": "HTTP"}]),
                    true,
                ))),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "no listener of Gateway infra/public admits the route from namespace \
                      team: web (it admits routes from the Gateway's own namespace only)",
            fix: "or install the release into namespace infra",
        },
        Case {
            name: "a namespace label missing",
            facts: GatewayFacts {
                gateway: Ok(Some(gateway(
                    json!([{"name": "web", "port": 80, "protocol": "HTTP",
                            "allowedRoutes": {"namespaces": {"from": "Selector",
                                "selector": {"matchLabels": {"gateway": "public"}}}}}]),
                    true,
                ))),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "no listener of Gateway infra/public admits the route from namespace \
                      team: web (it admits namespaces labelled gateway=public only)",
            fix: "kubectl label namespace team gateway=public",
        },
        Case {
            name: "a host the listener does not serve",
            facts: GatewayFacts {
                gateway: Ok(Some(gateway(
                    json!([{"name": "web", "port": 80, "protocol": "HTTP",
                            "hostname": "*.other.org",
                            "allowedRoutes": {"namespaces": {"from": "All"}}}]),
                    true,
                ))),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "no listener of Gateway infra/public admits the route from namespace \
                      team: web (it answers *.other.org, not sky.example.com)",
            fix: "--hostname sky.other.org",
        },
        Case {
            name: "a route already there",
            facts: GatewayFacts {
                routes: Ok(vec![http_route(
                    "docs",
                    "site",
                    json!(["sky.example.com"]),
                    "/",
                )]),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Block,
            summary: "HTTPRoute docs/site already routes sky.example.com/ on Gateway \
                      infra/public",
            fix: "--set ingress.path=/sky",
        },
        Case {
            // Its own route is no rival; one no controller reports on is not served yet.
            name: "the release's own route, unreported",
            facts: GatewayFacts {
                routes: Ok(vec![http_route(
                    "team",
                    "sky-api-route",
                    json!(["sky.example.com"]),
                    "/",
                )]),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Warn,
            summary: "HTTPRoute sky-api-route is not served by Gateway infra/public: Gateway \
                      infra/public has not reported on it yet",
            fix: "kubectl describe httproute",
        },
        Case {
            name: "the release's own route, not accepted",
            facts: GatewayFacts {
                routes: Ok(vec![with_status(
                    http_route("team", "sky-api-route", json!(["sky.example.com"]), "/"),
                    json!([{"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners",
                            "message": "m", "lastTransitionTime": "2026-12-07T00:00:00Z"}]),
                )]),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Warn,
            summary: "HTTPRoute sky-api-route is not served by Gateway infra/public: Accepted is \
                      False: NotAllowedByListeners: m",
            fix: "kubectl describe httproute -n team sky-api-route",
        },
        Case {
            name: "the release's own route, accepted",
            facts: GatewayFacts {
                routes: Ok(vec![with_status(
                    http_route("team", "sky-api-route", json!(["sky.example.com"]), "/"),
                    json!([{"type": "Accepted", "status": "True", "reason": "Accepted",
                            "message": "m", "lastTransitionTime": "2026-12-07T00:00:00Z"},
                           {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs",
                            "message": "m", "lastTransitionTime": "2026-12-07T00:00:00Z"}]),
                )]),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Pass,
            summary: "Gateway infra/public (class traefik): listener web admits the route; \
                      Gateway API v1.6.1 (standard channel); HTTPRoute sky-api-route accepted, \
                      its backend resolved",
            fix: "",
        },
        Case {
            name: "a route on another path",
            facts: GatewayFacts {
                routes: Ok(vec![http_route(
                    "docs",
                    "site",
                    json!(["sky.example.com"]),
                    "/docs",
                )]),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Pass,
            summary: "Gateway infra/public (class traefik)",
            fix: "",
        },
        Case {
            name: "not programmed yet",
            facts: GatewayFacts {
                gateway: Ok(Some(gateway(
                    json!([{"name": "web", "port": 80, "protocol": "HTTP",
                            "allowedRoutes": {"namespaces": {"from": "All"}}}]),
                    false,
                ))),
                ..facts()
            },
            parent: "infra/public",
            status: Status::Warn,
            summary: "Gateway infra/public is not ready (Programmed is False: Pending: m); \
                      listener web would take the route",
            fix: "kubectl describe gateway",
        },
    ];
    for case in cases {
        let parent: GatewayRef = case.parent.parse().unwrap();
        let finding = assess(&parent, &ROUTE, &case.facts);
        assert_eq!(finding.status, case.status, "{}: {finding:?}", case.name);
        assert!(
            finding.summary.starts_with(case.summary),
            "{}: {}",
            case.name,
            finding.summary
        );
        let fix = finding.fix.unwrap_or_default();
        assert!(fix.contains(case.fix), "{}: {fix}", case.name);
    }
}
