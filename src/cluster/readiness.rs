//! When an object counts as ready, judged from its live state. Pure, so each rule is tested.

use serde_json::Value;

use crate::gateway_api::HttpRoute;

/// Whether an object is ready, and if not, why not in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    Pending(String),
}

/// How a StorageClass binds claims; only `Immediate` claims are waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeBinding {
    Immediate,
    WaitForFirstConsumer,
}

/// The readiness of a live object. `binding` is the claim's StorageClass mode, for claims.
pub fn of(kind: &str, object: &Value, binding: Option<VolumeBinding>) -> Readiness {
    match kind {
        "Deployment" => deployment(object),
        "PersistentVolumeClaim" => claim(object, binding),
        "Service" => service(object),
        "HTTPRoute" => http_route(object),
        _ => Readiness::Ready,
    }
}

/// A route is ready when every Gateway it attaches to accepted it and resolved its backend,
/// for its latest spec: only then does the Gateway send requests to the API server.
fn http_route(object: &Value) -> Readiness {
    let Ok(route) = serde_json::from_value::<HttpRoute>(object.clone()) else {
        return Readiness::Pending("the route does not read as an HTTPRoute".into());
    };
    let generation = int(object, "/metadata/generation");
    for parent in &route.spec.parent_refs {
        let namespace = parent
            .namespace
            .as_deref()
            .unwrap_or(&route.metadata.namespace);
        if let Err(why) = route.taken_by(namespace, &parent.name) {
            return Readiness::Pending(format!("Gateway {namespace}/{}: {why}", parent.name));
        }
        let stale = route.status.parents.iter().any(|status| {
            status.parent_ref.name == parent.name
                && status
                    .conditions
                    .iter()
                    .any(|c| c.observed_generation.is_some_and(|seen| seen < generation))
        });
        if stale {
            return Readiness::Pending(format!(
                "Gateway {namespace}/{} has not seen the latest route yet",
                parent.name
            ));
        }
    }
    Readiness::Ready
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn deployment(object: &Value) -> Readiness {
    let generation = int(object, "/metadata/generation");
    let observed = int(object, "/status/observedGeneration");
    if observed < generation {
        return Readiness::Pending(
            "the deployment controller has not seen the latest spec yet".into(),
        );
    }
    let wanted = object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let updated = int(object, "/status/updatedReplicas");
    let available = int(object, "/status/availableReplicas");
    let total = int(object, "/status/replicas");
    if updated < wanted {
        Readiness::Pending(format!("{updated} of {wanted} replicas updated"))
    } else if total > updated {
        Readiness::Pending(format!(
            "{} old replicas still terminating",
            total - updated
        ))
    } else if available < wanted {
        Readiness::Pending(format!("{available} of {wanted} replicas available"))
    } else {
        Readiness::Ready
    }
}

fn claim(object: &Value, binding: Option<VolumeBinding>) -> Readiness {
    match object.pointer("/status/phase").and_then(Value::as_str) {
        Some("Bound") => Readiness::Ready,
        // Such a claim binds only when its pod is scheduled; waiting for it would deadlock
        // with the pod waiting for the claim.
        _ if binding == Some(VolumeBinding::WaitForFirstConsumer) => Readiness::Ready,
        phase => Readiness::Pending(format!(
            "claim is {}, not Bound",
            phase.unwrap_or("Pending")
        )),
    }
}

fn service(object: &Value) -> Readiness {
    if object.pointer("/spec/type").and_then(Value::as_str) != Some("LoadBalancer") {
        return Readiness::Ready;
    }
    // EKS load balancers have a hostname and no IP: either one is an address.
    let has_address = object
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|ingress| {
            ingress.iter().any(|entry| {
                ["ip", "hostname"].iter().any(|key| {
                    entry
                        .get(key)
                        .and_then(Value::as_str)
                        .is_some_and(|v| !v.is_empty())
                })
            })
        });
    if has_address {
        Readiness::Ready
    } else {
        Readiness::Pending("the load balancer has no IP or hostname yet".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pending(reason: &str) -> Readiness {
        Readiness::Pending(reason.into())
    }

    #[test]
    fn deployments_are_ready_when_the_rollout_caught_up() {
        let cases = [
            (
                json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}}),
                pending("the deployment controller has not seen the latest spec yet"),
            ),
            (
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 2},
                    "status": {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 2}}),
                pending("1 of 2 replicas updated"),
            ),
            (
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
                    "status": {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 2, "availableReplicas": 1}}),
                pending("1 old replicas still terminating"),
            ),
            (
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
                    "status": {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 1}}),
                pending("0 of 1 replicas available"),
            ),
            (
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
                    "status": {"observedGeneration": 1, "updatedReplicas": 1, "replicas": 1, "availableReplicas": 1}}),
                Readiness::Ready,
            ),
            (
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 0}, "status": {"observedGeneration": 1}}),
                Readiness::Ready,
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(of("Deployment", &object, None), expected, "{object}");
        }
    }

    #[test]
    fn routes_are_ready_when_each_gateway_took_their_latest_spec() {
        let condition = |kind: &str, status: &str, seen: i64| {
            json!({"type": kind, "status": status, "reason": "R", "message": "m",
                   "observedGeneration": seen, "lastTransitionTime": "2026-12-07T00:00:00Z"})
        };
        let route = |conditions: Value| {
            json!({"metadata": {"name": "sky-api-route", "namespace": "team", "generation": 2},
                   "spec": {"parentRefs": [{"name": "public", "namespace": "infra"}]},
                   "status": {"parents": [{"parentRef": {"name": "public", "namespace": "infra"},
                                           "controllerName": "c", "conditions": conditions}]}})
        };
        let cases = [
            (
                json!({"metadata": {"name": "r", "namespace": "team", "generation": 1},
                       "spec": {"parentRefs": [{"name": "public", "namespace": "infra"}]}}),
                pending("Gateway infra/public: Gateway infra/public has not reported on it yet"),
            ),
            (
                route(json!([condition("Accepted", "False", 2)])),
                pending("Gateway infra/public: Accepted is False: R: m"),
            ),
            (
                route(json!([
                    condition("Accepted", "True", 1),
                    condition("ResolvedRefs", "True", 1)
                ])),
                pending("Gateway infra/public has not seen the latest route yet"),
            ),
            (
                route(json!([
                    condition("Accepted", "True", 2),
                    condition("ResolvedRefs", "True", 2)
                ])),
                Readiness::Ready,
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(of("HTTPRoute", &object, None), expected, "{object}");
        }
    }

    #[test]
    fn claims_are_ready_when_bound_or_waiting_for_their_consumer() {
        let pending_claim = json!({"status": {"phase": "Pending"}});
        assert_eq!(
            of(
                "PersistentVolumeClaim",
                &pending_claim,
                Some(VolumeBinding::Immediate)
            ),
            pending("claim is Pending, not Bound")
        );
        assert_eq!(
            of(
                "PersistentVolumeClaim",
                &pending_claim,
                Some(VolumeBinding::WaitForFirstConsumer)
            ),
            Readiness::Ready
        );
        assert_eq!(
            of(
                "PersistentVolumeClaim",
                &json!({"status": {"phase": "Bound"}}),
                None
            ),
            Readiness::Ready
        );
    }

    #[test]
    fn load_balancers_are_ready_with_an_ip_or_a_hostname() {
        let lb = |ingress: Value| json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": ingress}}});
        assert_eq!(
            of("Service", &lb(json!([])), None),
            pending("the load balancer has no IP or hostname yet")
        );
        assert_eq!(
            of("Service", &lb(json!([{"ip": "203.0.113.7"}])), None),
            Readiness::Ready
        );
        assert_eq!(
            of(
                "Service",
                &lb(json!([{"hostname": "a.elb.example.com"}])),
                None
            ),
            Readiness::Ready
        );
        assert_eq!(
            of("Service", &json!({"spec": {"type": "NodePort"}}), None),
            Readiness::Ready
        );
    }

    #[test]
    fn other_kinds_are_ready_once_applied() {
        assert_eq!(of("ConfigMap", &json!({}), None), Readiness::Ready);
    }
}
