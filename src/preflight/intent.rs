//! What an install needs from the cluster, read from the objects it would apply: the node ports
//! it asks for, the IngressClass it makes or uses, its volumes, what its pods request, the
//! Secrets they read, and every right the admin must hold to write it all. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::chart::Chart;
use crate::known_kinds;
use crate::manifest::{Manifest, ObjectRef};
use crate::release::Release;
use crate::values::quantity;

/// An install (or upgrade) as the checks see it.
#[derive(Debug, Clone, Copy)]
pub struct Intent<'a> {
    pub release: &'a Release,
    pub chart: &'a Chart,
    /// Every object the rollout would apply.
    pub manifests: &'a [Manifest],
    /// All the values the objects were rendered from: fixes name keys found here.
    pub values: &'a Value,
    /// The user's values, recorded ones included: they decide whether stored credentials are
    /// used, as the install itself decides.
    pub user: &'a Value,
    pub namespace_exists: bool,
    pub create_namespace: bool,
    /// `--take-ownership`: objects of nobody, or of Helm, are taken over rather than refused.
    pub take_ownership: bool,
    /// Checked as `adopt` would take the Helm release of this name over: its objects, and
    /// those nobody marked, become the release's.
    pub adopting: bool,
}

/// One SelfSubjectAccessReview: may the admin do `verb` on this resource (or URL)?
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    pub verb: String,
    pub group: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A non-resource URL (`/metrics`) that a ClusterRole grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Access {
    fn on(verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> Self {
        Self {
            verb: verb.to_owned(),
            group: group.to_owned(),
            resource: resource.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: None,
            path: None,
        }
    }

    /// Everything, everywhere: a cluster admin holds it, and then no other review is needed.
    pub fn everything() -> Self {
        Self::on("*", "*", "*", None)
    }

    /// `create ClusterRoles`, `patch Secrets in skypilot`: kubectl's words.
    pub fn describe(&self) -> String {
        let what = match (&self.path, &self.name) {
            (Some(path), _) => path.clone(),
            (None, Some(name)) => format!("{}/{name}", self.resource_with_group()),
            (None, None) => self.resource_with_group(),
        };
        let verb = match self.verb.as_str() {
            "*" => "every verb on",
            verb => verb,
        };
        match &self.namespace {
            Some(namespace) => format!("{verb} {what} in {namespace}"),
            None => format!("{verb} {what}"),
        }
    }

    fn resource_with_group(&self) -> String {
        if self.resource == "*" && self.group == "*" {
            "all resources".to_owned()
        } else if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

/// Why the admin needs a right.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// To write this object.
    Write(ObjectRef),
    /// Kubernetes lets a Role or ClusterRole grant only what its author holds (or may
    /// `escalate`): this one grants the right.
    Grant(ObjectRef),
    /// `escalate` on Roles or ClusterRoles, which lifts the rule above.
    Escalate,
    /// Kubernetes lets a binding name a role only if its author holds the role's rights, or
    /// may `bind` it (`escalate` does not count here). The binding, and the role it names when
    /// the install makes it (whose rights are then known).
    Bind {
        binding: ObjectRef,
        role: Option<ObjectRef>,
    },
    /// skyctl's own records: the release history and its lock.
    Bookkeeping,
}

/// Every right the install needs, and why. Roles' rules count as rights to hold: the API server
/// refuses a Role that grants more than its author holds.
pub fn needed_access(intent: &Intent) -> BTreeMap<Access, BTreeSet<Need>> {
    let mut needs: BTreeMap<Access, BTreeSet<Need>> = BTreeMap::new();
    let mut need = |access: Access, why: Need| {
        needs.entry(access).or_default().insert(why);
    };
    let namespace = intent.release.namespace.as_str();
    // The namespace is made with a server-side apply too: a patch that creates, authorized
    // as both.
    if intent.create_namespace && !intent.namespace_exists {
        for verb in ["create", "patch"] {
            need(
                Access {
                    name: Some(namespace.to_owned()),
                    ..Access::on(verb, "", "namespaces", None)
                },
                Need::Bookkeeping,
            );
        }
    }
    for verb in ["list", "create", "patch"] {
        need(
            Access::on(verb, "", "secrets", Some(namespace)),
            Need::Bookkeeping,
        );
    }
    // The lock: taken (create), renewed (get, update) and, once the rollout is done, released
    // by deleting it, after every object was written.
    for verb in ["get", "create", "update", "delete"] {
        need(
            Access::on(verb, "coordination.k8s.io", "leases", Some(namespace)),
            Need::Bookkeeping,
        );
    }
    for manifest in intent.manifests {
        let id = &manifest.id;
        let Some(resource) = known_kinds::known(&id.api_version, &id.kind) else {
            continue;
        };
        let scope = resource
            .namespaced
            .then(|| id.namespace.as_deref().unwrap_or(namespace));
        // Asked by name, as the API server authorizes a server-side apply: a right granted
        // for this object's name only (`resourceNames`) is enough.
        for verb in ["get", "create", "patch"] {
            need(
                Access {
                    name: Some(id.name.clone()),
                    ..Access::on(verb, &resource.api.group, &resource.api.plural, scope)
                },
                Need::Write(id.clone()),
            );
        }
        if matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") {
            let role_ref = |key: &str| {
                manifest
                    .object
                    .pointer(&format!("/roleRef/{key}"))
                    .and_then(Value::as_str)
            };
            if let (Some(kind), Some(name)) = (role_ref("kind"), role_ref("name")) {
                let role_scope = (kind == "Role").then_some(scope).flatten();
                let role = intent
                    .manifests
                    .iter()
                    .map(|m| &m.id)
                    .find(|r| {
                        r.kind == kind && r.name == name && r.namespace.as_deref() == role_scope
                    })
                    .cloned();
                let plural = if kind == "ClusterRole" {
                    "clusterroles"
                } else {
                    "roles"
                };
                need(
                    Access {
                        name: Some(name.to_owned()),
                        ..Access::on("bind", "rbac.authorization.k8s.io", plural, scope)
                    },
                    Need::Bind {
                        binding: id.clone(),
                        role,
                    },
                );
            }
        }
        if matches!(id.kind.as_str(), "Role" | "ClusterRole") {
            need(
                Access::on(
                    "escalate",
                    "rbac.authorization.k8s.io",
                    &resource.api.plural,
                    scope,
                ),
                Need::Escalate,
            );
            for access in granted(&manifest.object, scope) {
                need(access, Need::Grant(id.clone()));
            }
        }
    }
    needs
}

/// The rights a Role's or ClusterRole's rules grant, one review each.
fn granted(role: &Value, scope: Option<&str>) -> Vec<Access> {
    let strings = |rule: &Value, key: &str| -> Vec<String> {
        rule.get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut accesses = Vec::new();
    for rule in role
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let verbs = strings(rule, "verbs");
        for path in strings(rule, "nonResourceURLs") {
            for verb in &verbs {
                accesses.push(Access {
                    path: Some(path.clone()),
                    ..Access::on(verb, "", "", None)
                });
            }
        }
        let names = strings(rule, "resourceNames");
        let names: Vec<Option<String>> = if names.is_empty() {
            vec![None]
        } else {
            names.into_iter().map(Some).collect()
        };
        for group in strings(rule, "apiGroups") {
            for resource in strings(rule, "resources") {
                for verb in &verbs {
                    for name in &names {
                        accesses.push(Access {
                            name: name.clone(),
                            ..Access::on(verb, &group, &resource, scope)
                        });
                    }
                }
            }
        }
    }
    accesses
}

/// A node port a Service asks for by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedPort<'a> {
    pub port: i64,
    pub service: &'a ObjectRef,
}

pub fn requested_node_ports(manifests: &[Manifest]) -> Vec<RequestedPort<'_>> {
    services(manifests)
        .flat_map(|manifest| {
            ports(&manifest.object)
                .filter_map(|port| port.get("nodePort").and_then(Value::as_i64))
                .map(move |port| RequestedPort {
                    port,
                    service: &manifest.id,
                })
        })
        .collect()
}

/// A Service that asks for a load balancer, and the `loadBalancerClass` that should answer
/// (`None`: the cluster's default implementation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancerWanted<'a> {
    pub service: &'a ObjectRef,
    pub class: Option<&'a str>,
}

/// The Services that ask the cloud for a load balancer.
pub fn load_balancers(manifests: &[Manifest]) -> Vec<BalancerWanted<'_>> {
    services(manifests)
        .filter(|m| m.object.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer"))
        .map(|m| BalancerWanted {
            service: &m.id,
            class: m
                .object
                .pointer("/spec/loadBalancerClass")
                .and_then(Value::as_str),
        })
        .collect()
}

/// Whether the checks need the Services of every namespace, given the release's own as the
/// cluster holds them (`own`): only to judge a node port asked for by number that its own
/// Service does not hold already (the API server keeps node ports unique, so a port it holds
/// is nobody else's), or a LoadBalancer while none of its own has an address. Otherwise its
/// own Services tell all, and a run that changes neither reads nothing of the rest of the
/// cluster, however many Services it has.
pub fn needs_every_service(manifests: &[Manifest], own: &[(&ObjectRef, &Value)]) -> bool {
    let held_by_own = |port: &RequestedPort| {
        own.iter().any(|(id, live)| {
            *id == port.service
                && ports(live).any(|p| p.get("nodePort").and_then(Value::as_i64) == Some(port.port))
        })
    };
    let new_port = requested_node_ports(manifests)
        .iter()
        .any(|port| !held_by_own(port));
    let own_address = own.iter().any(|(_, live)| {
        live.pointer("/status/loadBalancer/ingress/0")
            .is_some_and(|first| first.get("ip").is_some() || first.get("hostname").is_some())
    });
    new_port || (!load_balancers(manifests).is_empty() && !own_address)
}

fn services(manifests: &[Manifest]) -> impl Iterator<Item = &Manifest> {
    manifests
        .iter()
        .filter(|m| m.id.kind == "Service" && m.id.group().is_empty())
}

fn ports(service: &Value) -> impl Iterator<Item = &Value> {
    service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// An IngressClass the install would create: its name and the controller value it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassMade<'a> {
    pub id: &'a ObjectRef,
    pub controller: &'a str,
}

pub fn ingress_classes_made(manifests: &[Manifest]) -> Vec<ClassMade<'_>> {
    manifests
        .iter()
        .filter(|m| m.id.kind == "IngressClass")
        .map(|m| ClassMade {
            id: &m.id,
            controller: m
                .object
                .pointer("/spec/controller")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        })
        .collect()
}

/// The IngressClass each rendered Ingress names.
pub fn ingress_classes_used(manifests: &[Manifest]) -> Vec<(&ObjectRef, &str)> {
    ingresses_with_class(manifests, |_| true)
}

/// Whether a shared controller can tell this Ingress's requests from another release's: it
/// routes by a host, or below a path of its own (`ingress.path`).
pub fn routes_apart(manifests: &[Manifest], ingress: &ObjectRef) -> bool {
    let Some(object) = manifests
        .iter()
        .find(|m| m.id == *ingress)
        .map(|m| &m.object)
    else {
        return true;
    };
    let host = object
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules
                .iter()
                .any(|rule| rule.get("host").is_some_and(|host| !host.is_null()))
        });
    let below_root = object
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.pointer("/http/paths").and_then(Value::as_array))
        .flatten()
        .any(|path| path.get("path").and_then(Value::as_str) != Some("/"));
    host || below_root
}

/// The Ingresses `wanted` picks that name a class, with it.
fn ingresses_with_class(
    manifests: &[Manifest],
    wanted: impl Fn(&Manifest) -> bool,
) -> Vec<(&ObjectRef, &str)> {
    manifests
        .iter()
        .filter(|m| m.id.kind == "Ingress" && wanted(m))
        .filter_map(|m| {
            let class = m
                .object
                .pointer("/spec/ingressClassName")
                .and_then(Value::as_str)?;
            Some((&m.id, class))
        })
        .collect()
}

/// The Ingresses that ask for a login through ingress-nginx's own annotations (basic auth, or
/// an external auth URL as 0.13.0's OAuth does), with the IngressClass each names: only
/// ingress-nginx reads them, so only it enforces that login.
pub fn nginx_logins(manifests: &[Manifest]) -> Vec<(&ObjectRef, &str)> {
    const AUTH_TYPE: &str = "/metadata/annotations/nginx.ingress.kubernetes.io~1auth-type";
    const AUTH_URL: &str = "/metadata/annotations/nginx.ingress.kubernetes.io~1auth-url";
    ingresses_with_class(manifests, |m| {
        m.object.pointer(AUTH_TYPE).and_then(Value::as_str) == Some("basic")
            || m.object.pointer(AUTH_URL).is_some()
    })
}

/// A volume claim and the StorageClass it names (`None`: the cluster's default).
pub fn claims(manifests: &[Manifest]) -> Vec<(&ObjectRef, Option<&str>)> {
    manifests
        .iter()
        .filter(|m| m.id.kind == "PersistentVolumeClaim")
        .map(|m| {
            let class = m
                .object
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str);
            (&m.id, class)
        })
        .collect()
}

/// Whether the checks need the cluster's StorageClasses: for a volume claim that does not
/// exist yet (it needs a class), or one the values grow (its class must allow expansion). A
/// claim that exists and keeps its size keeps its volume, so a run that changes no claim reads
/// no StorageClass. `live` holds the claims that exist, as the cluster has them.
pub fn needs_storage_classes(manifests: &[Manifest], live: &[(&ObjectRef, &Value)]) -> bool {
    let size = |object: &Value| {
        quantity::kubernetes_reading(object.pointer("/spec/resources/requests/storage")?)
    };
    claims(manifests).into_iter().any(|(claim, _)| {
        let Some((_, held)) = live.iter().find(|(id, _)| *id == claim) else {
            return true;
        };
        let rendered = manifests.iter().find(|m| &m.id == claim).map(|m| &m.object);
        match (rendered.and_then(size), size(held)) {
            (Some(asked), Some(held)) => asked > held,
            _ => false,
        }
    })
}

/// What one pod of a workload asks the scheduler for, and which nodes it may land on.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRequest<'a> {
    pub workload: &'a ObjectRef,
    /// Cores.
    pub cpu: f64,
    /// Bytes.
    pub memory: f64,
    pub tolerations: Vec<&'a Value>,
    /// Labels a node must carry (`nodeSelector`).
    pub node_selector: BTreeMap<&'a str, &'a str>,
    /// How many such pods the workload runs (`spec.replicas`, 1 when unset).
    pub replicas: u32,
}

/// Each workload's pod requests as the scheduler counts them: the sum over its containers, or
/// the largest init container when that is more. A container that sets a limit and no request
/// requests its limit: the API server defaults it so.
pub fn pod_requests(manifests: &[Manifest]) -> Vec<PodRequest<'_>> {
    manifests
        .iter()
        .filter_map(|m| Some((&m.id, pod_spec(m)?)))
        .map(|(workload, spec)| {
            let request = |containers: &str, resource: &str| -> Vec<f64> {
                spec.get(containers)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        c.pointer(&format!("/resources/requests/{resource}"))
                            .or_else(|| c.pointer(&format!("/resources/limits/{resource}")))
                            .and_then(quantity::kubernetes_reading)
                            .unwrap_or(0.0)
                    })
                    .collect()
            };
            let total = |resource| {
                let main: f64 = request("containers", resource).iter().sum();
                request("initContainers", resource)
                    .into_iter()
                    .fold(main, f64::max)
            };
            PodRequest {
                workload,
                cpu: total("cpu"),
                memory: total("memory"),
                tolerations: spec
                    .get("tolerations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .collect(),
                node_selector: spec
                    .get("nodeSelector")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .filter_map(|(key, value)| Some((key.as_str(), value.as_str()?)))
                    .collect(),
                replicas: workload_replicas(manifests, workload),
            }
        })
        .collect()
}

fn workload_replicas(manifests: &[Manifest], workload: &ObjectRef) -> u32 {
    manifests
        .iter()
        .find(|m| &m.id == workload)
        .and_then(|m| match m.id.kind.as_str() {
            "Deployment" | "StatefulSet" => m.object.pointer("/spec/replicas"),
            "Job" => m.object.pointer("/spec/parallelism"),
            _ => None,
        })
        .and_then(Value::as_u64)
        .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn pod_spec(manifest: &Manifest) -> Option<&Value> {
    match manifest.id.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => {
            manifest.object.pointer("/spec/template/spec")
        }
        "Pod" => manifest.object.get("spec"),
        _ => None,
    }
}

/// A Secret a pod cannot start without.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRead<'a> {
    pub workload: &'a ObjectRef,
    pub secret: &'a str,
    /// Where the pod reads it: `volume aws-credentials`, `env AWS_ACCESS_KEY_ID`.
    pub through: String,
}

/// The Secrets the workloads read that the install does not make itself. Optional references
/// are left out: a pod starts without them.
pub fn secrets_read(manifests: &[Manifest]) -> Vec<SecretRead<'_>> {
    let made: BTreeSet<(&str, &str)> = manifests
        .iter()
        .filter(|m| m.id.kind == "Secret" && m.id.group().is_empty())
        .map(|m| {
            (
                m.id.namespace.as_deref().unwrap_or_default(),
                m.id.name.as_str(),
            )
        })
        .collect();
    let mut reads = Vec::new();
    for manifest in manifests {
        let Some(spec) = pod_spec(manifest) else {
            continue;
        };
        let namespace = manifest.id.namespace.as_deref().unwrap_or_default();
        for (reference, name_key, through) in secret_references(spec) {
            let Some(secret) = reference.get(name_key).and_then(Value::as_str) else {
                continue;
            };
            let optional = reference.get("optional").and_then(Value::as_bool) == Some(true);
            if optional || made.contains(&(namespace, secret)) {
                continue;
            }
            reads.push(SecretRead {
                workload: &manifest.id,
                secret,
                through,
            });
        }
    }
    reads
}

/// A ServiceAccount a workload's pods run as, which the install does not make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUsed<'a> {
    pub workload: &'a ObjectRef,
    pub account: &'a str,
}

/// The ServiceAccounts the workloads run as that the install does not make. Without one, the
/// ReplicaSet never creates a pod. `default` is left out: every namespace gets one.
pub fn service_accounts_used(manifests: &[Manifest]) -> Vec<AccountUsed<'_>> {
    let made: BTreeSet<(&str, &str)> = manifests
        .iter()
        .filter(|m| m.id.kind == "ServiceAccount" && m.id.group().is_empty())
        .map(|m| {
            (
                m.id.namespace.as_deref().unwrap_or_default(),
                m.id.name.as_str(),
            )
        })
        .collect();
    manifests
        .iter()
        .filter_map(|m| {
            let account = pod_spec(m)?
                .get("serviceAccountName")
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty() && *name != "default")?;
            let namespace = m.id.namespace.as_deref().unwrap_or_default();
            (!made.contains(&(namespace, account))).then_some(AccountUsed {
                workload: &m.id,
                account,
            })
        })
        .collect()
}

/// Every Secret reference in a pod spec: the reference, the key that names the Secret in it,
/// and where the pod reads it.
fn secret_references(spec: &Value) -> Vec<(&Value, &'static str, String)> {
    fn list(value: Option<&Value>) -> impl Iterator<Item = &Value> {
        value.and_then(Value::as_array).into_iter().flatten()
    }
    let name = |v: &Value| {
        v.get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    let mut found = Vec::new();
    for volume in list(spec.get("volumes")) {
        if let Some(secret) = volume.get("secret") {
            found.push((secret, "secretName", format!("volume {}", name(volume))));
        }
        for source in list(volume.pointer("/projected/sources")) {
            if let Some(secret) = source.get("secret") {
                found.push((secret, "name", format!("volume {}", name(volume))));
            }
        }
    }
    for container in list(spec.get("initContainers")).chain(list(spec.get("containers"))) {
        for env in list(container.get("env")) {
            if let Some(reference) = env.pointer("/valueFrom/secretKeyRef") {
                found.push((reference, "name", format!("env {}", name(env))));
            }
        }
        for source in list(container.get("envFrom")) {
            if let Some(reference) = source.get("secretRef") {
                found.push((reference, "name", format!("envFrom of {}", name(container))));
            }
        }
    }
    found
}

/// Dotted paths of the values leaves that `matches`, so that a fix can name the key to change
/// (`ingress.httpNodePort`), whichever chart version put it where.
pub fn value_paths(values: &Value, matches: &dyn Fn(&str, &Value) -> bool) -> Vec<String> {
    fn walk(
        value: &Value,
        path: &mut Vec<String>,
        matches: &dyn Fn(&str, &Value) -> bool,
        found: &mut Vec<String>,
    ) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    path.push(key.clone());
                    walk(child, path, matches, found);
                    path.pop();
                }
            }
            leaf => {
                let dotted = path.join(".");
                if !dotted.is_empty() && matches(&dotted, leaf) {
                    found.push(dotted);
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(values, &mut Vec::new(), matches, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn service(spec: Value) -> Manifest {
        Manifest::from_object(
            0,
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "sky-np", "namespace": "team"}, "spec": spec}),
        )
        .unwrap()
    }

    #[test]
    fn every_service_is_read_only_for_a_new_node_port_or_a_balancer_without_an_address() {
        let node_port = |port: u16| json!({"type": "NodePort", "ports": [{"nodePort": port}]});
        let balancer = json!({"type": "LoadBalancer", "ports": [{"port": 80}]});
        let with_address = json!({"spec": balancer, "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}});
        let cases = [
            // (rendered, live, needed)
            (json!({"ports": [{"port": 80}]}), None, false),
            (node_port(30050), None, true),
            (
                node_port(30050),
                Some(json!({"spec": node_port(30050)})),
                false,
            ),
            (
                node_port(30051),
                Some(json!({"spec": node_port(30050)})),
                true,
            ),
            (balancer.clone(), None, true),
            (balancer.clone(), Some(json!({"spec": balancer})), true),
            (json!({"type": "LoadBalancer"}), Some(with_address), false),
        ];
        for (rendered, live, needed) in cases {
            let manifests = [service(rendered.clone())];
            let own: Vec<(&ObjectRef, &Value)> =
                live.iter().map(|live| (&manifests[0].id, live)).collect();
            assert_eq!(
                needs_every_service(&manifests, &own),
                needed,
                "{rendered} {live:?}"
            );
        }
    }

    fn claim(size: &str) -> Manifest {
        Manifest::from_object(
            0,
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": "sky-state", "namespace": "team"},
                   "spec": {"resources": {"requests": {"storage": size}}}}),
        )
        .unwrap()
    }

    #[test]
    fn storage_classes_are_read_only_for_a_new_claim_or_one_that_grows() {
        let held = |size: &str| json!({"spec": {"resources": {"requests": {"storage": size}}}});
        let cases = [
            // (rendered size, live claim, needed)
            ("10Gi", None, true),
            ("10Gi", Some(held("10Gi")), false),
            ("10Gi", Some(held("10240Mi")), false),
            ("20Gi", Some(held("10Gi")), true),
            // Shrinking is refused by the storage check without any class.
            ("5Gi", Some(held("10Gi")), false),
        ];
        for (size, live, needed) in cases {
            let manifests = [claim(size)];
            let live: Vec<(&ObjectRef, &Value)> =
                live.iter().map(|live| (&manifests[0].id, live)).collect();
            assert_eq!(
                needs_storage_classes(&manifests, &live),
                needed,
                "{size} {live:?}"
            );
        }
        assert!(!needs_storage_classes(&[], &[]), "no claim, no class");
    }
}
