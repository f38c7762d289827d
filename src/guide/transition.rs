//! What an upgrade changes for the people who use the API server: where they reach it, how
//! they log in, and the volume that holds its state. Moving from the seed-era chart to 0.13.0 removes the NodePort Service and the
//! default basic auth, which a diff shows but does not spell out. Pure: it compares the objects
//! a revision applied with those the upgrade would apply.

use serde_json::Value;

use crate::manifest::Manifest;

/// Plain-words warnings for every change of endpoint or login between two sets of objects.
pub fn warnings<'a>(
    before: impl IntoIterator<Item = &'a Manifest>,
    after: impl IntoIterator<Item = &'a Manifest>,
) -> Vec<String> {
    let (before, after): (Vec<&Manifest>, Vec<&Manifest>) =
        (before.into_iter().collect(), after.into_iter().collect());
    let mut found = Vec::new();
    let (was, will) = (endpoints(&before), endpoints(&after));
    if was != will {
        found.push(format!(
            "the endpoint changes: users reach the API server through {} before, through {} after; \
             `skyctl endpoint` prints the new URL once the upgrade is done",
            describe(
                &was,
                "no NodePort or LoadBalancer Service, no Gateway, no ingress controller"
            ),
            describe(
                &will,
                "no NodePort or LoadBalancer Service, no Gateway, no ingress controller"
            ),
        ));
    }
    let (was, will) = (logins(&before), logins(&after));
    if was != will {
        found.push(format!(
            "the login changes: {} before, {} after",
            describe(&was, "no login at the ingress"),
            describe(&will, "no login at the ingress"),
        ));
    }
    // A claim renamed (fullnameOverride, storage settings) is a new, empty volume; the old one
    // is kept, with the state, but the API server no longer mounts it.
    let claims = |objects: &[&Manifest]| -> Vec<String> {
        objects
            .iter()
            .filter(|m| m.id.kind == "PersistentVolumeClaim")
            .map(|m| m.id.name.clone())
            .collect()
    };
    let (was, will) = (claims(&before), claims(&after));
    let left: Vec<&String> = was.iter().filter(|c| !will.contains(c)).collect();
    let new: Vec<&String> = will.iter().filter(|c| !was.contains(c)).collect();
    if !left.is_empty() && !new.is_empty() {
        let names = |claims: &[&String]| {
            claims
                .iter()
                .map(|c| format!("PersistentVolumeClaim {c}"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        found.push(format!(
            "the API server's state stays behind: it moves from {} to a new, empty {}. The old \
             claim is kept, not mounted; to keep the state, keep the values that name it (such \
             as fullnameOverride)",
            names(&left),
            names(&new)
        ));
    }
    found
}

fn describe(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_owned()
    } else {
        items.join(" and ")
    }
}

/// The Services that take traffic from outside the cluster, with their node ports, the
/// Gateways the release's routes attach to, and the controllers of IngressClasses the release
/// uses but does not make (the cluster's own, or another release's).
fn endpoints(objects: &[&Manifest]) -> Vec<String> {
    let made: Vec<&str> = objects
        .iter()
        .filter(|m| m.id.kind == "IngressClass")
        .map(|m| m.id.name.as_str())
        .collect();
    let controllers = objects
        .iter()
        .filter(|m| m.id.kind == "Ingress")
        .filter_map(|m| m.object["spec"]["ingressClassName"].as_str())
        .filter(|class| !made.contains(class))
        .map(|class| format!("the controller of IngressClass {class}"))
        .collect::<Vec<_>>();
    let gateways = objects
        .iter()
        .filter(|m| m.id.kind == "HTTPRoute")
        .flat_map(|m| {
            m.object["spec"]["parentRefs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|parent| {
            let name = parent["name"].as_str().unwrap_or_default();
            match parent["namespace"].as_str() {
                Some(namespace) => format!("Gateway {namespace}/{name}"),
                None => format!("Gateway {name}"),
            }
        });
    let mut found: Vec<String> = objects
        .iter()
        .filter(|m| m.id.kind == "Service")
        .filter_map(|m| {
            let spec = &m.object["spec"];
            let kind = spec["type"].as_str()?;
            if kind != "NodePort" && kind != "LoadBalancer" {
                return None;
            }
            let ports: Vec<String> = spec["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|port| port.get("nodePort").map(text))
                .collect();
            Some(if ports.is_empty() {
                format!("{kind} Service {}", m.id.name)
            } else {
                format!(
                    "{kind} Service {} (node ports {})",
                    m.id.name,
                    ports.join(", ")
                )
            })
        })
        .chain(gateways)
        .chain(controllers)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// How each Ingress makes users log in, as ingress-nginx reads its annotations.
fn logins(objects: &[&Manifest]) -> Vec<String> {
    let mut found: Vec<String> = objects
        .iter()
        .filter(|m| m.id.kind == "Ingress")
        .filter_map(|m| {
            let annotations = &m.object["metadata"]["annotations"];
            let get = |key: &str| annotations.get(key).map(text);
            if get("nginx.ingress.kubernetes.io/auth-type").as_deref() == Some("basic") {
                let secret = get("nginx.ingress.kubernetes.io/auth-secret").unwrap_or_default();
                Some(format!("basic auth (Secret {secret})"))
            } else {
                get("nginx.ingress.kubernetes.io/auth-url")
                    .map(|url| format!("a login through {url}"))
            }
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Manifest {
        Manifest::from_object(0, value).unwrap()
    }

    fn service(name: &str, kind: &str, node_port: Option<u16>) -> Manifest {
        let port = match node_port {
            Some(n) => json!({"port": 80, "nodePort": n}),
            None => json!({"port": 80}),
        };
        object(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "sky"},
            "spec": {"type": kind, "ports": [port]}}))
    }

    fn ingress(annotations: Value) -> Manifest {
        object(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "sky-ingress", "namespace": "sky", "annotations": annotations},
            "spec": {}}),
        )
    }

    fn basic() -> Manifest {
        ingress(json!({"nginx.ingress.kubernetes.io/auth-type": "basic",
            "nginx.ingress.kubernetes.io/auth-secret": "sky-basic-auth"}))
    }

    #[test]
    fn the_seed_era_to_0_13_move_names_both_changes() {
        let seed = [
            service("sky-ingress-nginx-controller", "ClusterIP", None),
            service("sky-ingress-controller-np", "NodePort", Some(30050)),
            basic(),
        ];
        let current = [
            service("sky-ingress-nginx-controller", "LoadBalancer", None),
            ingress(json!({})),
        ];
        assert_eq!(
            warnings(&seed, &current),
            [
                "the endpoint changes: users reach the API server through NodePort Service \
                 sky-ingress-controller-np (node ports 30050) before, through LoadBalancer \
                 Service sky-ingress-nginx-controller after; `skyctl endpoint` prints the new \
                 URL once the upgrade is done",
                "the login changes: basic auth (Secret sky-basic-auth) before, no login at the \
                 ingress after",
            ]
        );
    }

    #[test]
    fn a_move_to_a_gateway_names_the_gateway() {
        let nginx = [service(
            "sky-ingress-nginx-controller",
            "NodePort",
            Some(30050),
        )];
        let route = object(json!({"apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute", "metadata": {"name": "sky-api-route", "namespace": "sky"},
            "spec": {"parentRefs": [{"name": "public", "namespace": "infra"}]}}));
        assert_eq!(
            warnings(&nginx, &[route]),
            [
                "the endpoint changes: users reach the API server through NodePort Service \
              sky-ingress-nginx-controller (node ports 30050) before, through Gateway \
              infra/public after; `skyctl endpoint` prints the new URL once the upgrade is done"
            ]
        );
    }

    #[test]
    fn a_move_to_the_clusters_own_controller_names_its_class() {
        let nginx = [
            service("sky-ingress-nginx-controller", "NodePort", Some(30050)),
            object(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
            ),
            object(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": "sky-ingress", "namespace": "sky"},
                "spec": {"ingressClassName": "nginx"}}),
            ),
        ];
        let own = [object(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "sky-api-ingress", "namespace": "sky"},
            "spec": {"ingressClassName": "traefik"}}),
        )];
        assert_eq!(
            warnings(&nginx, &own),
            [
                "the endpoint changes: users reach the API server through NodePort Service \
              sky-ingress-nginx-controller (node ports 30050) before, through the controller of \
              IngressClass traefik after; `skyctl endpoint` prints the new URL once the upgrade \
              is done"
            ]
        );
    }

    #[test]
    fn nothing_is_said_when_neither_changes() {
        let cases: [(&str, Vec<Manifest>, Vec<Manifest>); 3] = [
            ("same objects", vec![basic()], vec![basic()]),
            (
                "an unrelated ClusterIP Service goes",
                vec![service("api", "ClusterIP", None), basic()],
                vec![basic()],
            ),
            ("nothing at all", vec![], vec![]),
        ];
        for (name, before, after) in cases {
            assert!(warnings(&before, &after).is_empty(), "{name}");
        }
    }

    fn claim(name: &str) -> Manifest {
        object(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "sky"}, "spec": {}}))
    }

    #[test]
    fn a_renamed_claim_says_the_state_stays_behind() {
        let said = warnings(&[claim("sky-state")], &[claim("renamed-state")]);
        assert_eq!(
            said,
            [
                "the API server's state stays behind: it moves from PersistentVolumeClaim \
              sky-state to a new, empty PersistentVolumeClaim renamed-state. The old claim is \
              kept, not mounted; to keep the state, keep the values that name it (such as \
              fullnameOverride)"
            ]
        );
        // Storage turned on or off, or the same claim: nothing moves.
        for (before, after) in [
            (vec![], vec![claim("sky-state")]),
            (vec![claim("sky-state")], vec![]),
            (vec![claim("sky-state")], vec![claim("sky-state")]),
        ] {
            assert!(warnings(&before, &after).is_empty());
        }
    }

    #[test]
    fn a_new_node_port_or_an_oauth_login_is_named() {
        let before = [service("c", "NodePort", Some(30050)), basic()];
        let after = [
            service("c", "NodePort", Some(30060)),
            ingress(json!({"nginx.ingress.kubernetes.io/auth-url": "http://$host/oauth2/auth"})),
        ];
        let said = warnings(&before, &after);
        assert_eq!(said.len(), 2);
        assert!(said[0].contains("node ports 30060"), "{}", said[0]);
        assert!(
            said[1].contains("a login through http://$host/oauth2/auth"),
            "{}",
            said[1]
        );
    }
}
