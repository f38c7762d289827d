use serde_json::{Value, json};

use super::*;

fn gateway(listeners: Value, status: Value) -> Gateway {
    serde_json::from_value(json!({
        "metadata": {"name": "public", "namespace": "infra"},
        "spec": {"gatewayClassName": "traefik", "listeners": listeners},
        "status": status,
    }))
    .unwrap()
}

fn listener(fields: Value) -> Listener {
    let mut base = json!({"name": "web", "port": 80, "protocol": "HTTP"});
    base.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A case: its name, the listener's fields, the route's namespace and host, the verdict.
type AdmitCase<'a> = (
    &'a str,
    Value,
    &'a str,
    Option<&'a str>,
    Result<(), Refusal>,
);

#[test]
fn a_listener_admits_by_protocol_kind_namespace_and_host() {
    let team = labels(&[("kubernetes.io/metadata.name", "team"), ("sky", "yes")]);
    let cases: &[AdmitCase] = &[
        (
            "the same namespace by default",
            json!({}),
            "infra",
            None,
            Ok(()),
        ),
        (
            "another namespace by default",
            json!({}),
            "team",
            None,
            Err(Refusal::SameNamespace),
        ),
        (
            "every namespace",
            json!({"allowedRoutes": {"namespaces": {"from": "All"}}}),
            "team",
            None,
            Ok(()),
        ),
        (
            "a selector the namespace matches",
            json!({"allowedRoutes": {"namespaces": {"from": "Selector",
                "selector": {"matchLabels": {"sky": "yes"}}}}}),
            "team",
            None,
            Ok(()),
        ),
        (
            "a selector it does not match",
            json!({"allowedRoutes": {"namespaces": {"from": "Selector",
                "selector": {"matchLabels": {"gateway-access": "public"}}}}}),
            "team",
            None,
            Err(Refusal::Selector("gateway-access=public".into())),
        ),
        (
            "a selector by expression",
            json!({"allowedRoutes": {"namespaces": {"from": "Selector",
                "selector": {"matchExpressions": [{"key": "tier", "operator": "In",
                    "values": ["web", "api"]}]}}}}),
            "team",
            None,
            Err(Refusal::Selector("tier In (web,api)".into())),
        ),
        (
            "TCP",
            json!({"protocol": "TCP"}),
            "infra",
            None,
            Err(Refusal::Protocol("TCP".into())),
        ),
        (
            "HTTPS",
            json!({"protocol": "HTTPS", "port": 443}),
            "infra",
            None,
            Ok(()),
        ),
        (
            "kinds without HTTPRoute",
            json!({"allowedRoutes": {"kinds": [{"kind": "GRPCRoute"}]}}),
            "infra",
            None,
            Err(Refusal::Kinds),
        ),
        (
            "kinds with HTTPRoute",
            json!({"allowedRoutes": {"kinds": [{"group": "gateway.networking.k8s.io",
                "kind": "HTTPRoute"}]}}),
            "infra",
            None,
            Ok(()),
        ),
        (
            "a wildcard host covering the route's",
            json!({"hostname": "*.example.com"}),
            "infra",
            Some("sky.example.com"),
            Ok(()),
        ),
        (
            "a host apart from the route's",
            json!({"hostname": "docs.example.com"}),
            "infra",
            Some("sky.example.com"),
            Err(Refusal::Hostname {
                listener: "docs.example.com".into(),
                route: "sky.example.com".into(),
            }),
        ),
        (
            "a route for every host",
            json!({"hostname": "docs.example.com"}),
            "infra",
            None,
            Ok(()),
        ),
    ];
    for (name, fields, namespace, host, want) in cases {
        let got = listener(fields.clone()).admits("infra", namespace, &team, *host);
        assert_eq!(&got, want, "{name}");
    }
}

#[test]
fn hosts_overlap_as_gateway_api_intersects_them() {
    let cases = [
        ("sky.example.com", "sky.example.com", true),
        ("*.example.com", "sky.example.com", true),
        ("sky.example.com", "*.example.com", true),
        ("*.example.com", "*.example.com", true),
        ("*.example.com", "example.com", false),
        ("*.example.com", "a.b.example.com", true),
        ("sky.example.com", "docs.example.com", false),
        ("*.example.com", "sky.example.org", false),
    ];
    for (a, b, want) in cases {
        assert_eq!(hosts_overlap(a, b), want, "{a} {b}");
    }
}

fn route(spec: Value, status: Value) -> HttpRoute {
    serde_json::from_value(json!({
        "metadata": {"name": "other", "namespace": "team"},
        "spec": spec,
        "status": status,
    }))
    .unwrap()
}

#[test]
fn routes_claim_requests_by_host_and_path_prefix() {
    let at = |hostnames: Value, path: &str| {
        route(
            json!({"parentRefs": [{"name": "public", "namespace": "infra"}],
                   "hostnames": hostnames,
                   "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": path}}]}]}),
            json!({}),
        )
    };
    let cases = [
        (
            at(json!(["sky.example.com"]), "/"),
            Some("sky.example.com"),
            "/",
            true,
        ),
        (
            at(json!(["sky.example.com"]), "/"),
            Some("sky.example.com"),
            "/sky",
            false,
        ),
        (
            at(json!(["sky.example.com"]), "/sky/"),
            Some("sky.example.com"),
            "/sky",
            true,
        ),
        (
            at(json!(["docs.example.com"]), "/"),
            Some("sky.example.com"),
            "/",
            false,
        ),
        // A specific host wins over a catch-all route and over a wildcard, either way round.
        (at(json!([]), "/"), Some("sky.example.com"), "/", false),
        (
            at(json!(["*.example.com"]), "/"),
            Some("sky.example.com"),
            "/",
            false,
        ),
        (at(json!(["sky.example.com"]), "/"), None, "/", false),
        (at(json!([]), "/"), None, "/", true),
        (
            at(json!(["*.example.com"]), "/"),
            Some("*.example.com"),
            "/",
            true,
        ),
    ];
    for (i, (route, host, path, want)) in cases.into_iter().enumerate() {
        assert_eq!(route.claims(host, path), want, "case {i}");
    }
    let everything = route(
        json!({"parentRefs": [{"name": "public", "namespace": "infra"}], "rules": [{}]}),
        json!({}),
    );
    assert!(everything.claims(None, "/"));
    let exact = route(
        json!({"parentRefs": [{"name": "public", "namespace": "infra"}],
               "rules": [{"matches": [{"path": {"type": "Exact", "value": "/"}}]}]}),
        json!({}),
    );
    assert!(!exact.claims(None, "/"), "an exact path is not a prefix");
    assert!(everything.attaches_to("infra", "public"));
    assert!(!everything.attaches_to("team", "public"));
    let same_namespace = route(json!({"parentRefs": [{"name": "public"}]}), json!({}));
    assert!(same_namespace.attaches_to("team", "public"));
}

#[test]
fn a_route_is_taken_when_its_gateway_accepts_it_and_resolves_its_backend() {
    let condition = |kind: &str, status: &str, reason: &str| {
        json!({"type": kind, "status": status, "reason": reason, "message": "m",
               "lastTransitionTime": "2026-12-07T00:00:00Z"})
    };
    let spec = json!({"parentRefs": [{"name": "public", "namespace": "infra"}]});
    let with = |conditions: Value| {
        route(
            spec.clone(),
            json!({"parents": [{"parentRef": {"name": "public", "namespace": "infra"},
                                "controllerName": "traefik.io/gateway-controller",
                                "conditions": conditions}]}),
        )
    };
    let cases = [
        (
            route(spec.clone(), json!({})),
            Err("Gateway infra/public has not reported on it yet".to_owned()),
        ),
        (
            with(json!([
                condition("Accepted", "True", "Accepted"),
                condition("ResolvedRefs", "True", "ResolvedRefs")
            ])),
            Ok(()),
        ),
        (
            with(json!([condition(
                "Accepted",
                "False",
                "NotAllowedByListeners"
            )])),
            Err("Accepted is False: NotAllowedByListeners: m".to_owned()),
        ),
        (
            with(json!([
                condition("Accepted", "True", "Accepted"),
                condition("ResolvedRefs", "False", "BackendNotFound")
            ])),
            Err("ResolvedRefs is False: BackendNotFound: m".to_owned()),
        ),
        (
            with(json!([condition("Accepted", "True", "Accepted")])),
            Err("ResolvedRefs is not set yet".to_owned()),
        ),
    ];
    for (i, (route, want)) in cases.into_iter().enumerate() {
        assert_eq!(route.taken_by("infra", "public"), want, "case {i}");
    }
}

#[test]
fn users_reach_the_first_address_over_https_where_a_host_names_its_certificate() {
    let listeners = json!([
        {"name": "web", "port": 8000, "protocol": "HTTP"},
        {"name": "websecure", "port": 8443, "protocol": "HTTPS"},
        {"name": "docs", "port": 9000, "protocol": "HTTP", "hostname": "docs.example.com"},
        {"name": "ssh", "port": 2222, "protocol": "TCP"},
    ]);
    let addressed = json!({"addresses": [{"type": "IPAddress", "value": "127.0.0.1"},
                                         {"type": "IPAddress", "value": "10.0.0.1"}]});
    let gw = gateway(listeners.clone(), addressed);
    let at = |section: &str, host: Option<&str>| {
        let parent: GatewayRef = format!("infra/public{section}").parse().unwrap();
        reach(&gw, &gw.listeners_for(&parent), host)
    };
    let reached = |https, port, host: Option<&str>| {
        Some(Reach {
            https,
            address: "127.0.0.1".into(),
            port,
            host: host.map(str::to_owned),
        })
    };
    let cases = [
        // No host to check a certificate against: plain HTTP.
        (at("", None), reached(false, 8000, None)),
        (
            at("", Some("sky.example.com")),
            reached(true, 8443, Some("sky.example.com")),
        ),
        (at("", Some("*.example.com")), reached(false, 8000, None)),
        (
            at(":web", Some("sky.example.com")),
            reached(false, 8000, Some("sky.example.com")),
        ),
        // A listener's own host name addresses a route that has none.
        (
            at(":docs", None),
            reached(false, 9000, Some("docs.example.com")),
        ),
        (at(":docs", Some("sky.example.com")), None),
        (at(":ssh", None), None),
        (at(":other", None), None),
    ];
    for (i, (got, want)) in cases.into_iter().enumerate() {
        assert_eq!(got, want, "case {i}");
    }
    let unaddressed = gateway(listeners, json!({}));
    let all = unaddressed.listeners_for(&"infra/public".parse().unwrap());
    assert_eq!(reach(&unaddressed, &all, None), None);
}
