//! The checks, one function each: intent and facts in, one finding out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::credentials::Kind;
use crate::helm_release::{self, HelmState};
use crate::ownership::{self, Owner};
use crate::values::quantity;

use super::facts::DEFAULT_NODE_PORT_RANGE;
use super::intent::{self, Need};
use super::load_balancers;
use super::{Check, Facts, Finding, Intent, NamespaceState, Status};

/// Rights named per Role that grants more than its author holds; `kubectl auth can-i --list`
/// shows the rest.
const RIGHTS_SHOWN: usize = 5;
const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

pub fn all(intent: &Intent, facts: &Facts) -> Vec<Finding> {
    let mut findings: Vec<Finding> = [
        Some(cluster(intent, facts)),
        Some(namespace(intent, facts)),
        Some(rbac(intent, facts)),
        Some(objects(intent, facts)),
        Some(ingress_class(intent, facts)),
        // Only for a release that goes through a Gateway.
        super::gateway::check(intent, facts.gateway.as_ref()),
        Some(node_ports(intent, facts)),
        Some(storage(intent, facts)),
        Some(capacity(intent, facts)),
        Some(load_balancer(intent, facts)),
        Some(helm(intent, facts)),
        Some(credentials(intent, facts)),
    ]
    .into_iter()
    .flatten()
    .collect();
    // A Helm release of the name decides what comes next (adopt, or Helm's own way out), and
    // the other lines read differently in its light: its line comes first.
    let helm_release = matches!(&facts.helm, Ok(records) if !records.is_empty());
    if let Some(at) = findings
        .iter()
        .position(|f| f.check == Check::Helm && f.status != Status::Pass && helm_release)
    {
        let helm = findings.remove(at);
        findings.insert(0, helm);
    }
    findings
}

/// Whether `owner` is the Helm release of the release's own name, which `skyctl adopt` takes
/// over with its objects.
fn helm_release_of_this_name(owner: &Owner, intent: &Intent) -> bool {
    matches!(owner, Owner::Helm { name, namespace }
        if *name == intent.release.name && *namespace == intent.release.namespace)
}

/// The fix for objects of the Helm release of this name: adopt it, objects and all.
fn adopt_fix(intent: &Intent) -> String {
    format!(
        "skyctl adopt {} -n {} takes them over with the Helm release (--dry-run shows how)",
        intent.release.name, intent.release.namespace
    )
}

/// The Kubernetes version against the chart's `kubeVersion`. Vendors' suffixes
/// (`-gke.1014001`, `+k3s1`) are not pre-releases: only major.minor.patch is compared.
fn cluster(intent: &Intent, facts: &Facts) -> Finding {
    let required = intent.chart.kube_version();
    let shown = &facts.server_version;
    let core = shown
        .trim_start_matches('v')
        .split(['-', '+'])
        .next()
        .unwrap_or_default();
    let (Ok(version), Ok(requirement)) = (
        semver::Version::parse(core),
        semver::VersionReq::parse(required),
    ) else {
        return Finding::warn(
            Check::Cluster,
            format!("Kubernetes {shown:?}: not a version skyctl can compare with {required}"),
            "make sure the cluster runs a Kubernetes release the chart supports",
        );
    };
    let compared = semver::Version::new(version.major, version.minor, version.patch);
    let chart = intent.chart.version();
    if requirement.matches(&compared) {
        Finding::pass(
            Check::Cluster,
            format!("Kubernetes {shown}; chart {chart} needs {required}"),
        )
    } else {
        Finding::block(
            Check::Cluster,
            format!("Kubernetes {shown} is older than chart {chart} supports ({required})"),
            "upgrade the cluster, or install a chart version that supports it (`skyctl version` lists them)",
        )
    }
}

/// The namespace must take new objects: install refuses a missing one without
/// `--create-namespace`, and the API server refuses anything new in one being deleted.
fn namespace(intent: &Intent, facts: &Facts) -> Finding {
    let name = &intent.release.namespace;
    let state = match &facts.namespace {
        Ok(state) => *state,
        Err(why) => return Finding::unknown(Check::Namespace, &format!("namespace {name}"), why),
    };
    match state {
        NamespaceState::Active => Finding::pass(Check::Namespace, format!("{name} exists")),
        NamespaceState::Absent if intent.create_namespace => Finding::pass(
            Check::Namespace,
            format!("{name} does not exist yet; --create-namespace makes it"),
        ),
        NamespaceState::Absent => Finding::block(
            Check::Namespace,
            format!("namespace {name} does not exist"),
            format!("pass --create-namespace, or create it first: kubectl create namespace {name}"),
        ),
        NamespaceState::Terminating => Finding::block(
            Check::Namespace,
            format!("namespace {name} is being deleted: the API server refuses anything new in it"),
            format!(
                "wait until it is gone and install with --create-namespace, or choose another \
                 namespace (-n); `kubectl get namespace {name} -o yaml` shows what holds it"
            ),
        ),
    }
}

/// Every right the install needs, answered by the API server's own reviews.
fn rbac(intent: &Intent, facts: &Facts) -> Finding {
    let needs = intent::needed_access(intent);
    let allowed = |access| facts.access.get(access).cloned();
    let mut unanswered = Vec::new();
    let mut denied_writes: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut denied_grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut denied_binds: BTreeSet<String> = BTreeSet::new();
    for (access, whys) in &needs {
        match allowed(access) {
            Some(Ok(true)) => continue,
            Some(Err(why)) => {
                unanswered.push(format!("{}: {why}", access.describe()));
                continue;
            }
            None => {
                unanswered.push(format!("{}: not asked", access.describe()));
                continue;
            }
            Some(Ok(false)) => {}
        }
        for why in whys {
            match why {
                Need::Write(id) => {
                    let key = match &access.namespace {
                        Some(namespace) => format!("{} in {namespace}", id.kind),
                        None => id.kind.clone(),
                    };
                    let entry = denied_writes.entry(key).or_default();
                    entry.0.insert(access.verb.clone());
                    entry.1.insert(id.name.clone());
                }
                Need::Bookkeeping => {
                    let what = if access.resource == "namespaces" {
                        "for --create-namespace"
                    } else {
                        "skyctl's release records and lock"
                    };
                    denied_writes
                        .entry(format!("{} ({what})", access.resource))
                        .or_default()
                        .0
                        .insert(access.verb.clone());
                }
                Need::Grant(role) => {
                    let escalate = needs
                        .keys()
                        .find(|a| {
                            a.verb == "escalate"
                                && a.namespace == access.namespace
                                && a.resource == plural_of_role(&role.kind)
                        })
                        .and_then(&allowed);
                    if escalate != Some(Ok(true)) {
                        denied_grants
                            .entry(role.to_string())
                            .or_default()
                            .insert(access.describe());
                    }
                }
                Need::Bind { binding, role } => {
                    // The role's own rights, all held, let the binding be made without `bind`.
                    let holds_role = role.as_ref().is_some_and(|role| {
                        needs.iter().all(|(access, whys)| {
                            !whys.contains(&Need::Grant(role.clone()))
                                || allowed(access) == Some(Ok(true))
                        })
                    });
                    if !holds_role {
                        let kind = if access.resource == "clusterroles" {
                            "ClusterRole"
                        } else {
                            "Role"
                        };
                        denied_binds.insert(format!(
                            "create {binding}: it names {kind} {}, which you may not bind \
                             (`escalate` does not cover it) and whose rights you do not all hold",
                            access.name.as_deref().unwrap_or_default()
                        ));
                    }
                }
                Need::Escalate => {}
            }
        }
    }
    if denied_writes.is_empty() && denied_grants.is_empty() && denied_binds.is_empty() {
        if unanswered.is_empty() {
            return Finding::pass(
                Check::Rbac,
                format!("you may write all {} objects", intent.manifests.len()),
            );
        }
        return Finding::warn(
            Check::Rbac,
            format!("the API server did not answer: {}", unanswered.join("; ")),
            "check your rights with `kubectl auth can-i`",
        );
    }
    let mut summary = String::from("you may not");
    let mut first = true;
    for (what, (verbs, names)) in &denied_writes {
        let verbs: Vec<&str> = verbs.iter().map(String::as_str).collect();
        let _ = write!(
            summary,
            "{} {} {what}",
            if first { "" } else { ";" },
            verbs.join("/")
        );
        if !names.is_empty() {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let _ = write!(summary, " ({})", names.join(", "));
        }
        first = false;
    }
    for (role, rights) in &denied_grants {
        let shown: Vec<&str> = rights
            .iter()
            .take(RIGHTS_SHOWN)
            .map(String::as_str)
            .collect();
        let more = match rights.len().saturating_sub(RIGHTS_SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        let _ = write!(
            summary,
            "{} create {role}: it grants {}{more}, which you do not hold yourself",
            if first { "" } else { ";" },
            shown.join(", ")
        );
        first = false;
    }
    for bind in &denied_binds {
        let _ = write!(summary, "{} {bind}", if first { "" } else { ";" });
        first = false;
    }
    Finding::block(
        Check::Rbac,
        summary,
        "ask a cluster admin to install the release, or to grant you these rights \
         (`kubectl auth can-i --list` shows what you have)",
    )
}

fn plural_of_role(kind: &str) -> &'static str {
    if kind == "ClusterRole" {
        "clusterroles"
    } else {
        "roles"
    }
}

/// Rendered objects that exist already and are not this release's. Another release's
/// cluster-wide objects are the second-instance clash: their names come from the release name.
fn objects(intent: &Intent, facts: &Facts) -> Finding {
    let mut foreign: Vec<String> = Vec::new();
    let mut takeable: Vec<String> = Vec::new();
    let mut helms: Vec<String> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let mut ours = 0;
    let mut adopted = 0;
    for manifest in intent.manifests {
        let id = &manifest.id;
        // The IngressClass has a check of its own, with the ways to share it.
        if id.kind == "IngressClass" {
            continue;
        }
        match facts.live.get(id) {
            None | Some(Ok(None)) => {}
            Some(Err(why)) => unreadable.push(format!("{id} ({why})")),
            Some(Ok(Some(live))) => match ownership::owner(&live.metadata, intent.release) {
                Owner::This => ours += 1,
                owner @ Owner::Other { .. } => foreign.push(format!("{id} belongs to {owner}")),
                // adopt takes over what the Helm release holds, and what nobody marked.
                Owner::Helm { .. } | Owner::Unmarked if intent.adopting => adopted += 1,
                owner if helm_release_of_this_name(&owner, intent) => {
                    helms.push(format!("{id} belongs to {owner}"))
                }
                owner @ (Owner::Helm { .. } | Owner::Unmarked) => {
                    takeable.push(format!("{id} exists and belongs to {owner}"))
                }
            },
        }
    }
    let total = intent.manifests.len();
    if !foreign.is_empty() {
        return Finding::block(
            Check::Objects,
            foreign.join("; "),
            "objects outside the namespace are named after the release: install this one under \
             another release name",
        );
    }
    if !helms.is_empty() {
        return Finding::block(Check::Objects, helms.join("; "), adopt_fix(intent));
    }
    if !takeable.is_empty() && !intent.take_ownership {
        return Finding::block(
            Check::Objects,
            takeable.join("; "),
            "--take-ownership takes them over (as Helm's flag does), or delete them first",
        );
    }
    if !unreadable.is_empty() {
        return Finding::unknown(Check::Objects, &unreadable.join(", "), "see above");
    }
    if !takeable.is_empty() {
        return Finding::warn(
            Check::Objects,
            format!("--take-ownership takes over: {}", takeable.join("; ")),
            "make sure nothing else manages them",
        );
    }
    Finding::pass(
        Check::Objects,
        match (ours, adopted) {
            (0, 0) => format!("none of the {total} objects exists yet"),
            (_, 0) => format!("{ours} of the {total} objects exist and are this release's"),
            _ => format!(
                "{adopted} of the {total} objects exist, the Helm release's (or nobody's): adopt \
                 takes them over"
            ),
        },
    )
}

/// The IngressClass the chart makes (ingress-nginx enabled) or uses (sharing a controller).
fn ingress_class(intent: &Intent, facts: &Facts) -> Finding {
    let made = intent::ingress_classes_made(intent.manifests);
    let used = intent::ingress_classes_used(intent.manifests);
    if made.is_empty() && used.is_empty() {
        return Finding::pass(Check::IngressClass, "no Ingress, no IngressClass");
    }
    let classes = match &facts.ingress_classes {
        Ok(classes) => classes,
        Err(why) => return Finding::unknown(Check::IngressClass, "IngressClasses", why),
    };
    let live = |name: &str| {
        classes
            .iter()
            .find(|class| class.metadata.name.as_deref() == Some(name))
    };
    for class in &made {
        if let Some(existing) = live(&class.id.name) {
            let owner = ownership::owner(&existing.metadata, intent.release);
            let helms = helm_release_of_this_name(&owner, intent);
            let takeable = matches!(owner, Owner::Helm { .. } | Owner::Unmarked);
            let summary = match &owner {
                Owner::This => continue,
                _ if helms && intent.adopting => continue,
                Owner::Other { .. } => format!("IngressClass {} belongs to {owner}", class.id.name),
                _ => format!(
                    "IngressClass {} exists and belongs to {owner}",
                    class.id.name
                ),
            };
            let summary = format!("{summary} (controller {})", controller_of(existing));
            if helms {
                return Finding::block(Check::IngressClass, summary, adopt_fix(intent));
            }
            let mut fix = ways_to_coexist(intent, &class.id.name);
            if takeable {
                if intent.take_ownership {
                    return Finding::warn(
                        Check::IngressClass,
                        format!("--take-ownership takes over: {summary}"),
                        "make sure no other controller relies on it",
                    );
                }
                fix.push_str("\nor take it over: --take-ownership (uninstall then deletes it)");
            }
            return Finding::block(Check::IngressClass, summary, fix);
        }
        let rival = classes.iter().find(|other| {
            controller_of(other) == class.controller
                && ownership::owner(&other.metadata, intent.release) != Owner::This
        });
        if let Some(rival) = rival {
            return Finding::warn(
                Check::IngressClass,
                format!(
                    "IngressClass {} already claims controller {}: two controllers with one \
                     value serve each other's Ingresses",
                    rival.metadata.name.as_deref().unwrap_or_default(),
                    class.controller
                ),
                format!(
                    "give this release's controller its own value: --set \
                     ingress-nginx.controller.ingressClassResource.controllerValue=k8s.io/ingress-nginx-{}",
                    intent.release.name
                ),
            );
        }
    }
    // A login the release reports as set must be enforced: nginx's auth annotations are
    // ignored by every other controller, which would serve the API server to anyone.
    for (ingress, class) in intent::nginx_logins(intent.manifests) {
        let controller = made
            .iter()
            .find(|made| made.id.name == class)
            .map(|made| made.controller)
            .or_else(|| live(class).map(controller_of));
        if let Some(controller) = controller
            && !controller.starts_with(INGRESS_NGINX_CONTROLLER)
        {
            return Finding::block(
                Check::IngressClass,
                format!(
                    "{ingress} asks for the web login through ingress-nginx's annotations, but \
                     IngressClass {class} is served by {controller}, which ignores them: anyone \
                     who reaches the API server would use it without a login"
                ),
                "let the API server check logins itself: --auth users; or run an auth proxy \
                 in front of it: --auth proxy; or serve the Ingress with ingress-nginx \
                 (ingress-nginx.enabled=true, or an IngressClass of controller \
                 k8s.io/ingress-nginx)",
            );
        }
    }
    let made_names: BTreeSet<&str> = made.iter().map(|c| c.id.name.as_str()).collect();
    for (ingress, class) in &used {
        if made_names.contains(class) {
            continue;
        }
        let Some(existing) = live(class) else {
            return Finding::warn(
                Check::IngressClass,
                format!("{ingress} uses IngressClass {class}, which does not exist"),
                format!(
                    "nothing serves the Ingress until a controller for {class} runs: install \
                     one, or let this release run its own (ingress-nginx.enabled=true)"
                ),
            );
        };
        if let owner @ Owner::Other { .. } = ownership::owner(&existing.metadata, intent.release) {
            // The owner's Ingress answers every host at `/`: one that does too takes its route.
            if !intent::routes_apart(intent.manifests, ingress) {
                let fix = if intent.values.pointer("/ingress/path").is_some() {
                    format!(
                        "give it a path of its own: --set ingress.path=/{}",
                        intent.release.name
                    )
                } else {
                    "this chart's Ingress answers every host at /: run a controller of its own \
                     with chart 0.13.0 (--version 0.13.0), or uninstall the other release first"
                        .to_owned()
                };
                // A warning, not a stop: the seed-era chart can share no other way, and
                // ingress-nginx's admission webhook refuses the second of two equal routes.
                return Finding::warn(
                    Check::IngressClass,
                    format!(
                        "{ingress} shares IngressClass {class} of {owner} with neither a host nor \
                         a path of its own: the controller cannot tell its requests from the \
                         other release's, and this release gets no endpoint"
                    ),
                    fix,
                );
            }
            return Finding::warn(
                Check::IngressClass,
                format!("{ingress} shares IngressClass {class} of {owner}"),
                "uninstalling that release removes the controller this one relies on",
            );
        }
    }
    let names: Vec<&str> = made_names
        .iter()
        .copied()
        .chain(used.iter().map(|(_, class)| *class))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Finding::pass(
        Check::IngressClass,
        format!(
            "IngressClass {} is free or this release's",
            names.join(", ")
        ),
    )
}

/// The controller value of ingress-nginx; a second controller of it takes this with a suffix
/// (`k8s.io/ingress-nginx-b`).
const INGRESS_NGINX_CONTROLLER: &str = "k8s.io/ingress-nginx";

fn controller_of(class: &k8s_openapi::api::networking::v1::IngressClass) -> &str {
    class
        .spec
        .as_ref()
        .and_then(|spec| spec.controller.as_deref())
        .unwrap_or_default()
}

/// The two ways past a taken IngressClass. A chart whose Ingress names its class
/// (`ingress.ingressClassName`, chart 0.13.0) can run a second controller; the seed-era chart's
/// Ingress always says `nginx`, so it can only share.
fn ways_to_coexist(intent: &Intent, class: &str) -> String {
    // A shared controller tells the releases apart by path (or host): each needs its own.
    let mut fix = format!(
        "share its controller: --set ingress-nginx.enabled=false{}{}",
        if intent.values.pointer("/ingress/ingressClassName").is_some() {
            format!(",ingress.ingressClassName={class}")
        } else {
            String::new()
        },
        if intent.values.pointer("/ingress/path").is_some() {
            format!(",ingress.path=/{}", intent.release.name)
        } else {
            String::new()
        }
    );
    if intent.values.pointer("/ingress/ingressClassName").is_some() {
        let own = format!("nginx-{}", intent.release.name);
        let _ = write!(
            fix,
            "\nor run a second controller beside it: --set \
             ingress-nginx.controller.ingressClassResource.name={own},\
             ingress-nginx.controller.ingressClassResource.controllerValue=k8s.io/ingress-nginx-{},\
             ingress-nginx.controller.ingressClass={own},ingress.ingressClassName={own}",
            intent.release.name
        );
    } else {
        fix.push_str(
            "\n(a second controller needs chart 0.13.0 or later, whose Ingress names its class: --version)",
        );
    }
    fix
}

/// Node ports the Services ask for by number, against every Service in the cluster.
fn node_ports(intent: &Intent, facts: &Facts) -> Finding {
    let requested = intent::requested_node_ports(intent.manifests);
    if requested.is_empty() {
        return Finding::pass(Check::NodePorts, "none asked for by number");
    }
    let services = match &facts.services {
        Ok(services) => services,
        Err(why) => return Finding::unknown(Check::NodePorts, "Services of every namespace", why),
    };
    let held: BTreeMap<i64, String> = services
        .iter()
        .flat_map(|service| {
            let id = service_name(&service.metadata);
            service
                .spec
                .iter()
                .flat_map(|spec| spec.ports.iter().flatten())
                .filter_map(|port| port.node_port)
                .map(move |port| (i64::from(port), id.clone()))
        })
        .collect();
    let range = facts
        .node_port_range
        .clone()
        .unwrap_or(DEFAULT_NODE_PORT_RANGE);
    let mut clashes = Vec::new();
    let mut fixes = Vec::new();
    // Each key gets a port of its own: two keys told the same free port would clash with
    // each other.
    let mut suggested: BTreeSet<i64> = BTreeSet::new();
    let mut moved: BTreeSet<i64> = BTreeSet::new();
    let mut suggest = |port: i64, fixes: &mut Vec<String>| {
        if !moved.insert(port) {
            return;
        }
        let keys = intent::value_paths(intent.values, &|path, value| {
            path.to_ascii_lowercase().contains("nodeport") && value.as_i64() == Some(port)
        });
        for key in keys {
            let free = range.clone().find(|port| {
                !held.contains_key(port)
                    && !requested.iter().any(|r| r.port == *port)
                    && !suggested.contains(port)
            });
            fixes.push(match free {
                Some(free) => {
                    suggested.insert(free);
                    format!("--set {key}={free} (free), or {key}=null to let Kubernetes choose")
                }
                None => format!("--set {key}=null to let Kubernetes choose"),
            });
        }
    };
    for (i, request) in requested.iter().enumerate() {
        let own = format!(
            "{}/{}",
            request.service.namespace.as_deref().unwrap_or_default(),
            request.service.name
        );
        // The API server refuses a port given twice, in one Service or in two.
        let earlier = requested[..i].iter().find(|r| r.port == request.port);
        if let Some(earlier) = earlier {
            if requested[..i]
                .iter()
                .filter(|r| r.port == request.port)
                .count()
                == 1
            {
                clashes.push(format!(
                    "node port {} is asked for twice, by {} and {}",
                    request.port, earlier.service, request.service
                ));
                suggest(request.port, &mut fixes);
            }
            continue;
        }
        match held.get(&request.port) {
            Some(holder) if *holder != own => {
                clashes.push(format!(
                    "node port {} is held by Service {holder}",
                    request.port
                ));
                suggest(request.port, &mut fixes);
            }
            // The API server took it into the range when it gave it to the Service: the
            // survey reads no range for a release that keeps its ports.
            Some(_) => {}
            // A dry run allocates no node port, so only this check stops a port the API
            // server would refuse halfway through the rollout.
            None if !range.contains(&request.port) => {
                clashes.push(format!(
                    "node port {} is outside the cluster's node port range {}-{}{}",
                    request.port,
                    range.start(),
                    range.end(),
                    if facts.node_port_range.is_some() {
                        " (its API server's --service-node-port-range)"
                    } else {
                        " (Kubernetes' default; the cluster does not say another)"
                    }
                ));
                suggest(request.port, &mut fixes);
            }
            _ => {}
        }
    }
    if !clashes.is_empty() {
        if fixes.is_empty() {
            fixes.push("choose other node ports for this release's Services".to_owned());
        }
        return Finding::block(Check::NodePorts, clashes.join("; "), fixes.join("\n"));
    }
    let ports: Vec<String> = requested.iter().map(|r| r.port.to_string()).collect();
    Finding::pass(Check::NodePorts, format!("{} free", ports.join(", ")))
}

fn service_name(meta: &ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default()
    )
}

/// Each volume claim needs a StorageClass that exists: its own, or the cluster's default. A
/// claim that already exists keeps the volume it has.
fn storage(intent: &Intent, facts: &Facts) -> Finding {
    let claims = intent::claims(intent.manifests);
    if claims.is_empty() {
        return Finding::pass(Check::Storage, "no volume asked for");
    }
    let classes = match &facts.storage_classes {
        Ok(classes) => classes,
        Err(why) => return Finding::unknown(Check::Storage, "StorageClasses", why),
    };
    let names: Vec<&str> = classes
        .iter()
        .filter_map(|c| c.metadata.name.as_deref())
        .collect();
    let default = classes
        .iter()
        .find(|c| {
            c.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
                .is_some_and(|v| v == "true")
        })
        .and_then(|c| c.metadata.name.as_deref());
    let mut passed = Vec::new();
    for (claim, class) in claims {
        if let Some(Ok(Some(live))) = facts.live.get(claim) {
            let rendered = intent
                .manifests
                .iter()
                .find(|m| &m.id == claim)
                .map(|m| &m.object);
            if let Some((summary, fix)) =
                rendered.and_then(|rendered| claim_change(claim, rendered, &live.data, classes))
            {
                return Finding::block(Check::Storage, summary, fix);
            }
            passed.push(format!("{claim} exists"));
            continue;
        }
        match class {
            Some("") => {
                return Finding::warn(
                    Check::Storage,
                    format!(
                        "{claim} asks for no StorageClass: it binds only to a PersistentVolume made by hand"
                    ),
                    "make that PersistentVolume, or set storage.storageClassName",
                );
            }
            Some(name) if names.contains(&name) => passed.push(format!("StorageClass {name}")),
            Some(name) => {
                return Finding::block(
                    Check::Storage,
                    format!("{claim} asks for StorageClass {name}, which does not exist"),
                    storage_fix(&names),
                );
            }
            None => match default {
                Some(name) => passed.push(format!("default StorageClass {name}")),
                None => {
                    return Finding::block(
                        Check::Storage,
                        format!(
                            "no default StorageClass: {claim} would stay Pending, and the API \
                             server would never start"
                        ),
                        storage_fix(&names),
                    );
                }
            },
        }
    }
    Finding::pass(Check::Storage, passed.join(", "))
}

/// What the API server refuses to change in a claim that exists: its class and access modes
/// never change, it never shrinks, and it grows only when its StorageClass allows expansion.
/// The refusal would come at the rollout's dry run, after the password was asked for.
fn claim_change(
    claim: &crate::manifest::ObjectRef,
    rendered: &Value,
    live: &Value,
    classes: &[k8s_openapi::api::storage::v1::StorageClass],
) -> Option<(String, String)> {
    let text = |object: &Value, pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let live_class = text(live, "/spec/storageClassName");
    if let Some(asked) = text(rendered, "/spec/storageClassName")
        && Some(&asked) != live_class.as_ref()
    {
        let held = live_class.as_deref().unwrap_or("none");
        return Some((
            format!(
                "{claim} has StorageClass {held}; the values ask for {asked}, and a claim's class never changes"
            ),
            format!(
                "keep storage.storageClassName={}, or move the data to a claim of another release",
                live_class.as_deref().unwrap_or("\"\"")
            ),
        ));
    }
    let modes = |object: &Value| object.pointer("/spec/accessModes").cloned();
    if let (Some(asked), Some(held)) = (modes(rendered), modes(live))
        && asked != held
    {
        return Some((
            format!(
                "{claim} has access modes {held}; the values ask for {asked}, and they never change"
            ),
            "keep storage.accessMode as the claim has it".to_owned(),
        ));
    }
    let size = |object: &Value| {
        let text = object.pointer("/spec/resources/requests/storage")?;
        let shown = text
            .as_str()
            .map_or_else(|| text.to_string(), str::to_owned);
        Some((quantity::kubernetes_reading(text)?, shown))
    };
    let ((asked, asked_text), (held, held_text)) = (size(rendered)?, size(live)?);
    if asked < held {
        return Some((
            format!(
                "{claim} holds {held_text}; the values ask for {asked_text}, and a volume never shrinks"
            ),
            format!("keep storage.size={held_text} or more"),
        ));
    }
    let expands = classes
        .iter()
        .find(|c| c.metadata.name == live_class)
        .and_then(|c| c.allow_volume_expansion)
        .unwrap_or(false);
    if asked > held && !expands {
        let class = live_class.as_deref().unwrap_or("none");
        return Some((
            format!(
                "{claim} would grow from {held_text} to {asked_text}, and its StorageClass \
                 {class} does not allow expansion"
            ),
            format!(
                "keep storage.size={held_text}, or let the class grow volumes \
                 (allowVolumeExpansion: true on StorageClass {class})"
            ),
        ));
    }
    None
}

fn storage_fix(names: &[&str]) -> String {
    match names {
        [] => "the cluster has no StorageClass at all: install a volume provisioner, or \
               --set storage.enabled=false (the API server then loses its state at each restart)"
            .to_owned(),
        names => format!(
            "--set storage.storageClassName={}, or make a class the default: kubectl patch \
             storageclass {} -p '{{\"metadata\":{{\"annotations\":{{\"{DEFAULT_CLASS_ANNOTATION}\":\"true\"}}}}}}'",
            names.join("|"),
            names[0]
        ),
    }
}

/// Each pod must fit on some node that takes it: allocatable, not what is free now, since the
/// scheduler may still make room. A node takes a pod unless it is cordoned, carries a
/// NoSchedule or NoExecute taint the pod does not tolerate, or lacks a label the pod's
/// nodeSelector names: the scheduler's hard filters, which leave a pod Pending for good.
fn capacity(intent: &Intent, facts: &Facts) -> Finding {
    let requests = intent::pod_requests(intent.manifests);
    let Some(largest) = requests
        .iter()
        .max_by(|a, b| a.cpu.total_cmp(&b.cpu).then(a.memory.total_cmp(&b.memory)))
    else {
        return Finding::pass(Check::Capacity, "no pods");
    };
    // Every workload that cannot be placed, so that one fix does not merely reveal the next.
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    match &facts.quotas {
        Ok(quotas) => {
            for problem in quota_problems(intent, facts, quotas, &requests) {
                problems.push(problem);
            }
            if !problems.is_empty() {
                fixes.push(
                    "ask for less (for the API server: --set \
                     apiService.resources.requests.cpu=…,apiService.resources.requests.memory=…), \
                     or ask the namespace's admin for a larger quota"
                        .to_owned(),
                );
            }
        }
        Err(why) => {
            return Finding::unknown(Check::Capacity, "the namespace's ResourceQuotas", why);
        }
    }
    let nodes = match &facts.nodes {
        Ok(nodes) => nodes,
        Err(_) if !problems.is_empty() => {
            return Finding::block(Check::Capacity, problems.join("; "), fixes.join("\n"));
        }
        Err(why) => return Finding::unknown(Check::Capacity, "the nodes", why),
    };
    for request in &requests {
        let mut turned_away = Vec::new();
        let mut takers: Vec<(&str, f64, f64)> = Vec::new();
        for node in nodes {
            let name = node.metadata.name.as_deref().unwrap_or_default();
            match why_not_taken(node, request) {
                Some(why) => turned_away.push(format!("{name} {why}")),
                None => {
                    let (cpu, memory) = allocatable(node);
                    takers.push((name, cpu, memory));
                }
            }
        }
        if takers
            .iter()
            .any(|(_, cpu, memory)| *cpu >= request.cpu && *memory >= request.memory)
        {
            continue;
        }
        let (problem, fix) = match takers
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)))
        {
            None => (
                format!(
                    "no node takes the pods of {}: {}",
                    request.workload,
                    shown(&turned_away, "the cluster has no node")
                ),
                placement_fix(intent, request.workload),
            ),
            Some((name, cpu, memory)) => (
                format!(
                    "a pod of {} asks for {} and {}; the largest node that takes it, {name}, \
                     has {} and {} allocatable",
                    request.workload,
                    cores(request.cpu),
                    bytes(request.memory),
                    cores(*cpu),
                    bytes(*memory)
                ),
                "add a larger node, or ask for less (for the API server: \
                 --set apiService.resources.requests.cpu=…,apiService.resources.requests.memory=…; \
                 a limit set without a request is requested too)"
                    .to_owned(),
            ),
        };
        problems.push(problem);
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    if !problems.is_empty() {
        return Finding::block(Check::Capacity, problems.join("; "), fixes.join("\n"));
    }
    Finding::pass(
        Check::Capacity,
        format!(
            "every pod fits on a node (the largest, of {}, asks for {} and {})",
            largest.workload,
            cores(largest.cpu),
            bytes(largest.memory)
        ),
    )
}

/// A ResourceQuota refuses any pod that would take the namespace past its `hard` limits: the
/// ReplicaSet then never creates it. A pod larger than a limit never fits; and the pods of
/// workloads that do not exist yet must fit in what the namespace has left. (A workload that
/// exists already counts in `used`; how a rolling update fits is left to the rollout.)
fn quota_problems(
    intent: &Intent,
    facts: &Facts,
    quotas: &[k8s_openapi::api::core::v1::ResourceQuota],
    requests: &[intent::PodRequest],
) -> Vec<String> {
    let mut problems = Vec::new();
    for quota in quotas {
        let name = quota.metadata.name.as_deref().unwrap_or_default();
        let status = quota.status.as_ref();
        let hard = status
            .and_then(|s| s.hard.as_ref())
            .or_else(|| quota.spec.as_ref().and_then(|s| s.hard.as_ref()));
        let Some(hard) = hard else { continue };
        let used = status.and_then(|s| s.used.as_ref());
        let amount = |map: Option<&BTreeMap<String, Quantity>>, key: &str| {
            map.and_then(|m| m.get(key))
                .and_then(|q| quantity::kubernetes_reading(&Value::String(q.0.clone())))
        };
        let new: Vec<&intent::PodRequest> = requests
            .iter()
            .filter(|r| !matches!(facts.live.get(r.workload), Some(Ok(Some(_)))))
            .collect();
        type Measure = fn(&intent::PodRequest) -> f64;
        type Shown = fn(f64) -> String;
        let resources: [(&str, Measure, Shown); 5] = [
            ("requests.cpu", |r| r.cpu, cores),
            ("cpu", |r| r.cpu, cores),
            ("requests.memory", |r| r.memory, bytes),
            ("memory", |r| r.memory, bytes),
            ("pods", |_| 1.0, |n| format!("{} pod(s)", trim(n))),
        ];
        let namespace = &intent.release.namespace;
        for (key, of, show) in resources {
            let Some(limit) = amount(Some(hard), key) else {
                continue;
            };
            if let Some(pod) = requests.iter().find(|r| of(r) > limit) {
                problems.push(format!(
                    "a pod of {} asks for {}; ResourceQuota {namespace}/{name} holds {key} \
                     to {}",
                    pod.workload,
                    show(of(pod)),
                    show(limit)
                ));
                continue;
            }
            let left = limit - amount(used, key).unwrap_or(0.0);
            let wanted: f64 = new.iter().map(|r| of(r) * f64::from(r.replicas)).sum();
            if wanted > left {
                problems.push(format!(
                    "the pods to create ask for {} ({key}) in all; ResourceQuota \
                     {namespace}/{name} has {} left",
                    show(wanted),
                    show(left.max(0.0))
                ));
            }
        }
    }
    problems
}

/// Why the scheduler would never put the pod on this node, if it would not.
fn why_not_taken(node: &Node, request: &intent::PodRequest) -> Option<String> {
    let spec = node.spec.as_ref();
    if spec.and_then(|s| s.unschedulable).unwrap_or(false) {
        return Some("is cordoned".to_owned());
    }
    for taint in spec.and_then(|s| s.taints.as_ref()).into_iter().flatten() {
        if !matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute") {
            continue;
        }
        if !request.tolerations.iter().any(|t| tolerates(t, taint)) {
            let value = match taint.value.as_deref() {
                Some(value) if !value.is_empty() => format!("={value}"),
                _ => String::new(),
            };
            return Some(format!(
                "has taint {}{value}:{}, not tolerated",
                taint.key, taint.effect
            ));
        }
    }
    let labels = node.metadata.labels.as_ref();
    for (key, value) in &request.node_selector {
        if labels.and_then(|l| l.get(*key)).map(String::as_str) != Some(*value) {
            return Some(format!("lacks label {key}={value} (nodeSelector)"));
        }
    }
    None
}

/// Kubernetes' rule: the effect and key match when the toleration names them, and the value
/// matches unless the operator is `Exists`.
fn tolerates(toleration: &Value, taint: &k8s_openapi::api::core::v1::Taint) -> bool {
    let field = |key: &str| {
        toleration
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let effect = field("effect");
    let key = field("key");
    if (!effect.is_empty() && effect != taint.effect) || (!key.is_empty() && key != taint.key) {
        return false;
    }
    match field("operator") {
        "Exists" => true,
        "" | "Equal" => field("value") == taint.value.as_deref().unwrap_or_default(),
        _ => false,
    }
}

/// The values that place a workload's pods, for the workloads whose keys skyctl knows.
fn placement_fix(intent: &Intent, workload: &crate::manifest::ObjectRef) -> String {
    let api_server = crate::render::ChartNames::new(intent.release, intent.values).api_server;
    let controller = crate::render::IngressNginxNames::for_release(intent.release).controller;
    let section = if workload.name == api_server {
        Some("apiService")
    } else if workload.name == controller {
        Some("ingress-nginx.controller")
    } else {
        None
    };
    let keys = section
        .filter(|section| {
            let pointer = format!("/{}/tolerations", section.replace('.', "/"));
            intent.values.pointer(&pointer).is_some()
        })
        .map(|section| format!(" ({section}.tolerations, {section}.nodeSelector)"))
        .unwrap_or_default();
    format!(
        "let the pods tolerate the taint or match a node's labels{keys}, or uncordon or \
         untaint a node"
    )
}

/// A few items of a list, and how many more.
fn shown(items: &[String], none: &str) -> String {
    const SHOWN: usize = 3;
    if items.is_empty() {
        return none.to_owned();
    }
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        let _ = write!(text, "; and {} more", items.len() - SHOWN);
    }
    text
}

fn allocatable(node: &Node) -> (f64, f64) {
    let read = |resource: &str| {
        node.status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .and_then(|a| a.get(resource))
            .and_then(|q| quantity::kubernetes_reading(&Value::String(q.0.clone())))
            .unwrap_or(0.0)
    };
    (read("cpu"), read("memory"))
}

fn cores(cpu: f64) -> String {
    format!("{} CPU", trim(cpu))
}

fn bytes(memory: f64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    if memory >= GIB {
        format!("{} GiB memory", trim(memory / GIB))
    } else {
        format!("{} MiB memory", trim(memory / 1024.0 / 1024.0))
    }
}

fn trim(number: f64) -> String {
    // `1e400` is a quantity Kubernetes accepts; it is read as the largest float.
    if number.abs() >= 1e12 {
        return format!("{number:.1e}");
    }
    let text = format!("{number:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A LoadBalancer Service needs something that hands out addresses. Other LoadBalancer
/// Services tell: one with an address proves it; only ones waiting long prove the opposite
/// (k3s without servicelb, bare metal without MetalLB), and then the endpoint would never
/// come, so the install does not start. Only Services of the same `loadBalancerClass` tell:
/// another class is served by another implementation, or by none. And a Service waits from
/// when it became a LoadBalancer, not from when it was made.
fn load_balancer(intent: &Intent, facts: &Facts) -> Finding {
    let wanted = intent::load_balancers(intent.manifests);
    if wanted.is_empty() {
        return Finding::pass(Check::LoadBalancer, "not used");
    }
    let services = match &facts.services {
        Ok(services) => services,
        Err(why) => {
            return Finding::unknown(Check::LoadBalancer, "Services of every namespace", why);
        }
    };
    let classes: BTreeSet<Option<&str>> = wanted.iter().map(|w| w.class).collect();
    let balancers: Vec<&Service> = services
        .iter()
        .filter(|s| {
            load_balancers::is_load_balancer(s)
                && classes.contains(
                    &s.spec
                        .as_ref()
                        .and_then(|s| s.load_balancer_class.as_deref()),
                )
        })
        .collect();
    if let Some(served) = balancers.iter().find(|s| load_balancers::has_address(s)) {
        return Finding::pass(
            Check::LoadBalancer,
            format!(
                "LoadBalancers get addresses here (Service {} has one)",
                service_name(&served.metadata)
            ),
        );
    }
    let waiting = balancers.iter().find_map(|s| {
        let since = balancer_since(&s.metadata)?;
        let waited = facts.now.duration_since(since).as_secs();
        (waited >= load_balancers::PATIENCE_SECONDS).then(|| (service_name(&s.metadata), waited))
    });
    let Some((service, waited)) = waiting else {
        return Finding::pass(
            Check::LoadBalancer,
            "no other LoadBalancer Service to judge by; skyctl waits for the address",
        );
    };
    let keys = intent::value_paths(intent.values, &|path, value| {
        path.ends_with(".type") && value.as_str() == Some("LoadBalancer")
    });
    let fix = match keys.as_slice() {
        [] => "use a NodePort Service instead".to_owned(),
        keys => keys
            .iter()
            .map(|key| format!("--set {key}=NodePort"))
            .collect::<Vec<_>>()
            .join(" "),
    };
    Finding::block(
        Check::LoadBalancer,
        format!(
            "Service {service} has waited {}m for a LoadBalancer address: the cluster seems to \
             have none to give, and {} would wait the same",
            waited / 60,
            wanted
                .iter()
                .map(|w| w.service.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!("{fix} (the endpoint is then a node's address and port)"),
    )
}

/// When a Service became a LoadBalancer: the newest write of a manager that owns
/// `spec.type`, else its creation (a `kubectl patch` that turns an old ClusterIP Service into a
/// LoadBalancer starts its wait then).
fn balancer_since(meta: &ObjectMeta) -> Option<k8s_openapi::jiff::Timestamp> {
    let typed = meta
        .managed_fields
        .iter()
        .flatten()
        .filter(|entry| {
            entry
                .fields_v1
                .as_ref()
                .is_some_and(|fields| fields.0.pointer("/f:spec/f:type").is_some())
        })
        .filter_map(|entry| entry.time.as_ref().map(|time| time.0))
        .max();
    let created = meta.creation_timestamp.as_ref().map(|time| time.0);
    typed.max(created)
}

/// A Helm release of the same name: installing over it would fight Helm for its objects.
fn helm(intent: &Intent, facts: &Facts) -> Finding {
    let records = match &facts.helm {
        Ok(records) => records,
        Err(why) => return Finding::unknown(Check::Helm, "Helm's release records", why),
    };
    let release = intent.release;
    let state = HelmState::of(records.iter().map(|r| (r.revision, r.status.as_str())));
    let Some(newest) = records.iter().max_by_key(|r| r.revision) else {
        return Finding::pass(
            Check::Helm,
            format!(
                "no Helm release {} in namespace {}",
                release.name, release.namespace
            ),
        );
    };
    // `helm uninstall --keep-history` deletes the objects and keeps the records: nothing is
    // left for skyctl to fight Helm over.
    if newest.status == "uninstalled" {
        return Finding::pass(
            Check::Helm,
            format!(
                "Helm release {} in namespace {} was uninstalled (revision {} kept in {}s)",
                release.name, release.namespace, newest.revision, newest.storage
            ),
        );
    }
    let summary = format!(
        "Helm release {} is in namespace {} (revision {}, {}, kept in {}s)",
        release.name, release.namespace, newest.revision, newest.status, newest.storage
    );
    let adopt = format!(
        "skyctl adopt {name} -n {ns}",
        name = release.name,
        ns = release.namespace
    );
    let fix = match state {
        HelmState::Deployed { revision, skipped } if !skipped.is_empty() => format!(
            "move it to skyctl with its values, objects and login: {adopt} (--dry-run shows how); \
             it adopts revision {revision}, the newest deployed, and passes by the newer ones, \
             which never deployed"
        ),
        HelmState::NotDeployed { status, .. } => format!(
            "it has no deployed revision, so there is nothing running to adopt: {}",
            helm_release::way_out(&release.name, &release.namespace, &status)
        ),
        _ => format!(
            "move it to skyctl with its values, objects and login: {adopt} (--dry-run shows how)"
        ),
    };
    if intent.take_ownership {
        Finding::warn(Check::Helm, summary, fix)
    } else {
        Finding::block(Check::Helm, summary, fix)
    }
}

/// The `creds add` kinds that make the missing Secrets: those whose Secret has the name, or
/// every kind when none has.
fn kinds_to_add(reads: &[intent::SecretRead], present: &[String]) -> String {
    let kinds: BTreeSet<&str> = reads
        .iter()
        .filter(|read| !present.iter().any(|s| s == read.secret))
        .filter_map(|read| {
            Kind::ALL
                .into_iter()
                .find(|kind| kind.default_secret() == read.secret)
        })
        .map(Kind::label)
        .collect();
    let kinds: Vec<&str> = if kinds.is_empty() {
        Kind::ALL.into_iter().map(Kind::label).collect()
    } else {
        kinds.into_iter().collect()
    };
    kinds.join("|")
}

/// The Secrets the pods read must exist; stored credentials are named with whether the values
/// use them.
fn credentials(intent: &Intent, facts: &Facts) -> Finding {
    let reads = intent::secrets_read(intent.manifests);
    let secrets = match &facts.secrets {
        Ok(secrets) => secrets,
        Err(why) => return Finding::unknown(Check::Credentials, "the namespace's Secrets", why),
    };
    let namespace = &intent.release.namespace;
    let here = |workload: &crate::manifest::ObjectRef| {
        workload.namespace.as_deref() == Some(namespace.as_str())
    };
    let missing: Vec<String> = reads
        .iter()
        .filter(|read| here(read.workload))
        .filter(|read| !secrets.iter().any(|s| s == read.secret))
        .map(|read| {
            format!(
                "{} reads Secret {} ({})",
                read.workload, read.secret, read.through
            )
        })
        .collect();
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{}, which does not exist in namespace {namespace}: the pod would never start",
            missing.join("; ")
        ));
        fixes.push(format!(
            "store them with `skyctl creds add {}`, or turn off the values that name the Secret",
            kinds_to_add(&reads, secrets)
        ));
    }
    let accounts = match &facts.service_accounts {
        Ok(accounts) => accounts,
        // What was found stands; what could not be read is said only when nothing blocks.
        Err(_) if !problems.is_empty() => {
            return Finding::block(Check::Credentials, problems.join("; "), fixes.join("\n"));
        }
        Err(why) => {
            return Finding::unknown(Check::Credentials, "the namespace's ServiceAccounts", why);
        }
    };
    let unmade = intent::service_accounts_used(intent.manifests)
        .into_iter()
        .filter(|used| here(used.workload) && !accounts.iter().any(|a| a == used.account));
    for used in unmade {
        problems.push(format!(
            "{} runs as ServiceAccount {}, which does not exist in namespace {namespace}: no \
             pod would ever be created",
            used.workload, used.account
        ));
        fixes.push(format!(
            "create it first (kubectl create serviceaccount {} -n {namespace}){}",
            used.account,
            if intent.values.pointer("/rbac/serviceAccountName").is_some() {
                ", or let the chart make one (rbac.create=true, rbac.serviceAccountName unset)"
            } else {
                ""
            }
        ));
    }
    if !problems.is_empty() {
        return Finding::block(Check::Credentials, problems.join("; "), fixes.join("\n"));
    }
    let stored = match &facts.credentials {
        Ok(stored) => stored,
        Err(why) => return Finding::unknown(Check::Credentials, "stored credentials", why),
    };
    // The release's OAuth client is its login, not credentials.
    let client = crate::guide::oauth_client::secret_name(&intent.release.name);
    let elsewhere = crate::credentials::made_elsewhere(
        reads
            .iter()
            .filter(|read| here(read.workload) && read.secret != client)
            .map(|read| read.secret),
        secrets,
        stored,
    );
    if stored.is_empty() && elsewhere.is_empty() {
        return Finding::pass(
            Check::Credentials,
            "none stored in the namespace (add some with `skyctl creds add`)",
        );
    }
    let described: Vec<String> = stored
        .iter()
        .map(|s| match crate::credentials::chosen(s, intent.user) {
            Some((false, setting)) => {
                format!("Secret {} (not used: the values set {setting})", s.secret)
            }
            _ => format!("Secret {} (used)", s.secret),
        })
        .chain(
            elsewhere
                .iter()
                .map(|s| format!("Secret {} (used; made outside skyctl)", s.secret)),
        )
        .collect();
    Finding::pass(Check::Credentials, described.join(", "))
}
