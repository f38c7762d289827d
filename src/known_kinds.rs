//! Which REST resource serves each kind skyctl renders or manages itself, and whether it is
//! namespaced: a table, so that deciding and planning need no cluster. Pure.

use kube::api::ApiResource;

/// A kind's resource and whether its objects live in a namespace.
#[derive(Debug, Clone)]
pub struct Resource {
    pub api: ApiResource,
    pub namespaced: bool,
}

/// (apiVersion, kind, plural, namespaced) for every kind skyctl renders or manages itself.
const KNOWN: &[(&str, &str, &str, bool)] = &[
    ("v1", "ConfigMap", "configmaps", true),
    ("v1", "Namespace", "namespaces", false),
    (
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("v1", "Pod", "pods", true),
    ("v1", "Secret", "secrets", true),
    ("v1", "Service", "services", true),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    ("apps/v1", "DaemonSet", "daemonsets", true),
    ("apps/v1", "Deployment", "deployments", true),
    ("apps/v1", "StatefulSet", "statefulsets", true),
    ("batch/v1", "Job", "jobs", true),
    ("coordination.k8s.io/v1", "Lease", "leases", true),
    (
        "gateway.networking.k8s.io/v1",
        "HTTPRoute",
        "httproutes",
        true,
    ),
    ("networking.k8s.io/v1", "Ingress", "ingresses", true),
    (
        "networking.k8s.io/v1",
        "IngressClass",
        "ingressclasses",
        false,
    ),
    (
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    ("storage.k8s.io/v1", "StorageClass", "storageclasses", false),
];

/// The resource of a built-in kind, without asking the cluster.
pub fn known(api_version: &str, kind: &str) -> Option<Resource> {
    KNOWN
        .iter()
        .find(|(v, k, _, _)| *v == api_version && *k == kind)
        .map(|&(api_version, kind, plural, namespaced)| {
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            Resource {
                api: ApiResource {
                    group: group.to_owned(),
                    version: version.to_owned(),
                    api_version: api_version.to_owned(),
                    kind: kind.to_owned(),
                    plural: plural.to_owned(),
                },
                namespaced,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_need_no_discovery() {
        let deployment = known("apps/v1", "Deployment").unwrap();
        assert_eq!(deployment.api.plural, "deployments");
        assert_eq!(deployment.api.group, "apps");
        assert!(deployment.namespaced);
        let class = known("networking.k8s.io/v1", "IngressClass").unwrap();
        assert!(!class.namespaced);
        let secret = known("v1", "Secret").unwrap();
        assert_eq!(
            (secret.api.group.as_str(), secret.api.version.as_str()),
            ("", "v1")
        );
    }

    #[test]
    fn unknown_kinds_and_versions_are_not_guessed() {
        assert!(known("example.com/v1", "Widget").is_none());
        assert!(known("apps/v1beta1", "Deployment").is_none());
    }
}
