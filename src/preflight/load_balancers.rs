//! Whether a cluster hands out LoadBalancer addresses, as its Services show it: one with an
//! address proves it does; one waiting longer than a cloud takes proves, with none served, that
//! it does not (k3s without servicelb, bare metal without MetalLB). Pure; the preflight and the
//! endpoint's wait both judge by it.

use k8s_openapi::api::core::v1::Service;

/// How long a LoadBalancer Service may wait for its address before its wait counts as evidence:
/// cloud load balancers answer within a minute.
pub const PATIENCE_SECONDS: i64 = 60;

pub fn is_load_balancer(service: &Service) -> bool {
    service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

pub fn has_address(service: &Service) -> bool {
    service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .is_some_and(|ingress| !ingress.is_empty())
}

/// The LoadBalancer Service that proves addresses are handed out here, if any.
pub fn served(services: &[Service]) -> Option<&Service> {
    services
        .iter()
        .find(|s| is_load_balancer(s) && has_address(s))
}

/// The advice when none comes: the NodePort the chart can use instead.
pub const SWITCH_TO_NODE_PORT: &str = "--set ingress-nginx.controller.service.type=NodePort";
