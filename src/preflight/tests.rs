//! Each check against cluster facts built by hand, over objects rendered from the real charts.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::chart::{Chart, SEED_ERA};
use crate::credentials::{Kind, Stored};
use crate::manifest::{Manifest, ObjectRef};
use crate::release::Release;
use crate::render::{AdmissionCertificate, Lookups};
use crate::values::{self, Layers, Resolved};

const CURRENT: &str = "0.13.0";

/// One release rendered from a chart version with `--set` flags.
struct Case {
    release: Release,
    chart: &'static Chart,
    values: Resolved,
    manifests: Vec<Manifest>,
    create_namespace: bool,
    take_ownership: bool,
    adopting: bool,
}

impl Case {
    fn new(version: &str, sets: &[&str]) -> Self {
        let chart = Chart::find(version).unwrap();
        let release = Release {
            name: "sky".into(),
            namespace: "team".into(),
        };
        let values = values::resolve(
            chart.definition(),
            &Layers {
                set: sets.iter().map(|s| s.to_string()).collect(),
                ..Layers::default()
            },
        )
        .unwrap();
        let manifests = crate::render::render(
            chart,
            &values.values,
            &release,
            &AdmissionCertificate::generate(&release).unwrap(),
            &Arc::new(Lookups::none()),
        )
        .unwrap();
        Self {
            release,
            chart,
            values,
            manifests,
            create_namespace: false,
            take_ownership: false,
            adopting: false,
        }
    }

    fn intent(&self) -> Intent<'_> {
        Intent {
            release: &self.release,
            chart: self.chart,
            manifests: &self.manifests,
            values: &self.values.values,
            user: &self.values.user,
            namespace_exists: true,
            create_namespace: self.create_namespace,
            take_ownership: self.take_ownership,
            adopting: self.adopting,
        }
    }

    /// A cluster where everything is fine: an admin who may do anything, an empty cluster with
    /// a default StorageClass and one large node.
    fn fine(&self) -> Facts {
        Facts {
            server_version: "v1.37.2".into(),
            namespace: Ok(NamespaceState::Active),
            access: intent::needed_access(&self.intent())
                .into_keys()
                .map(|access| (access, Ok(true)))
                .collect(),
            live: BTreeMap::new(),
            services: Ok(vec![]),
            ingress_classes: Ok(vec![]),
            storage_classes: Ok(vec![storage_class("standard", true)]),
            nodes: Ok(vec![node("big", "64", "256Gi", false)]),
            quotas: Ok(vec![]),
            secrets: Ok(vec![]),
            service_accounts: Ok(vec![]),
            credentials: Ok(vec![]),
            helm: Ok(vec![]),
            node_port_range: None,
            gateway: None,
            now: "2026-12-02T12:00:00Z".parse().unwrap(),
        }
    }

    fn finding(&self, facts: &Facts, check: Check) -> Finding {
        Report::assess(&self.intent(), facts)
            .findings
            .into_iter()
            .find(|f| f.check == check)
            .unwrap()
    }

    fn id(&self, kind: &str, name: &str) -> ObjectRef {
        self.manifests
            .iter()
            .find(|m| m.id.kind == kind && m.id.name == name)
            .unwrap_or_else(|| panic!("{kind} {name} is rendered"))
            .id
            .clone()
    }
}

fn from<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn storage_class(name: &str, default: bool) -> k8s_openapi::api::storage::v1::StorageClass {
    let annotations = if default {
        json!({"storageclass.kubernetes.io/is-default-class": "true"})
    } else {
        json!({})
    };
    from(json!({"metadata": {"name": name, "annotations": annotations}, "provisioner": "x"}))
}

fn node(name: &str, cpu: &str, memory: &str, cordoned: bool) -> k8s_openapi::api::core::v1::Node {
    from(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/os": "linux"}},
        "spec": {"unschedulable": cordoned},
        "status": {"allocatable": {"cpu": cpu, "memory": memory}}
    }))
}

fn service(namespace: &str, name: &str, spec: Value, status: Value, created: &str) -> Service {
    from(json!({
        "metadata": {"namespace": namespace, "name": name, "creationTimestamp": created},
        "spec": spec,
        "status": status
    }))
}

type Service = k8s_openapi::api::core::v1::Service;

fn owned_by(release: &str, namespace: &str) -> Value {
    json!({"skyctl.io/release-name": release, "skyctl.io/release-namespace": namespace})
}

fn helm_owned(release: &str, namespace: &str) -> Value {
    json!({"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace})
}

fn ingress_class(
    name: &str,
    controller: &str,
    annotations: Value,
) -> k8s_openapi::api::networking::v1::IngressClass {
    from(json!({
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"controller": controller}
    }))
}

fn live(id: &ObjectRef, annotations: Value) -> Observed<Option<kube::api::DynamicObject>> {
    Ok(Some(from(json!({
        "apiVersion": id.api_version,
        "kind": id.kind,
        "metadata": {"name": id.name, "namespace": id.namespace, "annotations": annotations}
    }))))
}

fn assert_finding(finding: &Finding, status: Status, texts: &[&str]) {
    assert_eq!(finding.status, status, "{finding:#?}");
    let all = format!(
        "{} {}",
        finding.summary,
        finding.fix.as_deref().unwrap_or_default()
    );
    for text in texts {
        assert!(all.contains(text), "{text:?} missing from {finding:#?}");
    }
}

#[test]
fn a_fine_cluster_passes_every_check_of_both_charts() {
    for version in [CURRENT, SEED_ERA] {
        let case = Case::new(version, &[]);
        let report = Report::assess(&case.intent(), &case.fine());
        assert_eq!(report.count(Status::Pass), 11, "{version}: {report:#?}");
        assert!(!report.blocks());
    }
}

#[test]
fn the_kubernetes_version_is_held_to_the_charts_requirement() {
    let case = Case::new(CURRENT, &[]);
    for (version, status) in [
        ("v1.37.2", Status::Pass),
        ("v1.21.0", Status::Pass),
        ("v1.30.5-gke.1014001", Status::Pass),
        ("v1.29.3-eks-adc7111", Status::Pass),
        ("v1.28.4+k3s1", Status::Pass),
        ("v1.20.15", Status::Block),
        ("v1.20.15-gke.1", Status::Block),
        ("v0.0.0-master+$Format:%H$", Status::Block),
        ("not-a-version", Status::Warn),
    ] {
        let facts = Facts {
            server_version: version.into(),
            ..case.fine()
        };
        assert_eq!(
            case.finding(&facts, Check::Cluster).status,
            status,
            "{version}"
        );
    }
}

#[test]
fn the_namespace_must_exist_or_be_made_and_not_be_going_away() {
    let mut case = Case::new(CURRENT, &[]);
    for (state, create, status, texts) in [
        (
            NamespaceState::Active,
            false,
            Status::Pass,
            vec!["team exists"],
        ),
        (
            NamespaceState::Absent,
            false,
            Status::Block,
            vec![
                "namespace team does not exist",
                "--create-namespace",
                "kubectl create namespace team",
            ],
        ),
        (
            NamespaceState::Absent,
            true,
            Status::Pass,
            vec!["--create-namespace makes it"],
        ),
        (
            NamespaceState::Terminating,
            false,
            Status::Block,
            vec!["namespace team is being deleted", "another namespace"],
        ),
        (
            NamespaceState::Terminating,
            true,
            Status::Block,
            vec!["being deleted"],
        ),
    ] {
        case.create_namespace = create;
        let facts = Facts {
            namespace: Ok(state),
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::Namespace), status, &texts);
    }
}

#[test]
fn a_login_at_an_ingress_no_ingress_nginx_serves_blocks_naming_the_modes_that_work() {
    let elsewhere = |extra: &[&str]| {
        let mut sets = vec![
            "ingress-nginx.enabled=false",
            "ingress.ingressClassName=traefik",
            "ingress-nginx.controller.service.type=NodePort",
        ];
        sets.extend_from_slice(extra);
        Case::new("0.13.0", &sets)
    };
    let traefik = |case: &Case| Facts {
        ingress_classes: Ok(vec![ingress_class(
            "traefik",
            "traefik.io/ingress-controller",
            json!({}),
        )]),
        ..case.fine()
    };
    let basic = elsewhere(&["ingress.authCredentials=skypilot:$2y$05$abcdefghijklmnopqrstuu"]);
    assert_finding(
        &basic.finding(&traefik(&basic), Check::IngressClass),
        Status::Block,
        &[
            "asks for the web login through ingress-nginx's annotations",
            "IngressClass traefik is served by traefik.io/ingress-controller",
            "--auth users",
            "--auth proxy",
        ],
    );
    // The API server's own users need nothing of the ingress.
    let users = elsewhere(&[
        "ingress.authCredentials=",
        "apiService.enableUserManagement=true",
        "apiService.initialBasicAuthCredentials=admin:$2y$05$abcdefghijklmnopqrstuu",
    ]);
    assert_ne!(
        users.finding(&traefik(&users), Check::IngressClass).status,
        Status::Block
    );
    // Another ingress-nginx controller reads the annotations.
    let second_nginx = Facts {
        ingress_classes: Ok(vec![ingress_class(
            "traefik",
            "k8s.io/ingress-nginx-b",
            json!({}),
        )]),
        ..basic.fine()
    };
    assert_ne!(
        basic.finding(&second_nginx, Check::IngressClass).status,
        Status::Block
    );
}

#[test]
fn a_node_port_outside_the_clusters_range_blocks_with_one_inside_it() {
    // Kubernetes' default range, when the cluster does not say another.
    let case = Case::new(SEED_ERA, &["ingress.httpNodePort=40000"]);
    assert_finding(
        &case.finding(&case.fine(), Check::NodePorts),
        Status::Block,
        &[
            "node port 40000 is outside the cluster's node port range 30000-32767 \
             (Kubernetes' default",
            "--set ingress.httpNodePort=30000 (free)",
        ],
    );
    // The range the API server was started with, where the cluster tells it.
    let case = Case::new(SEED_ERA, &[]);
    let facts = Facts {
        node_port_range: Some(20000..=20999),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&facts, Check::NodePorts),
        Status::Block,
        &[
            "node port 30050 is outside the cluster's node port range 20000-20999 (its API \
             server's --service-node-port-range)",
            "--set ingress.httpNodePort=20000 (free)",
        ],
    );
    let inside = Facts {
        node_port_range: Some(30000..=30100),
        ..case.fine()
    };
    assert_eq!(case.finding(&inside, Check::NodePorts).status, Status::Pass);
}

#[test]
fn a_taken_node_port_names_its_holder_and_the_key_to_change() {
    let case = Case::new(SEED_ERA, &[]);
    let holder = service(
        "other",
        "web",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30050}]}),
        json!({}),
        "2026-12-01T00:00:00Z",
    );
    let facts = Facts {
        services: Ok(vec![holder]),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&facts, Check::NodePorts),
        Status::Block,
        &[
            "node port 30050 is held by Service other/web",
            "--set ingress.httpNodePort=30000 (free)",
            "ingress.httpNodePort=null",
        ],
    );
    // The release's own Service holding its own port is an upgrade, not a clash.
    let own = service(
        "team",
        "sky-ingress-controller-np",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30050}]}),
        json!({}),
        "2026-12-01T00:00:00Z",
    );
    let facts = Facts {
        services: Ok(vec![own]),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&facts, Check::NodePorts),
        Status::Pass,
        &["30050, 30051 free"],
    );
    // Both ports taken: each key is told a free port of its own.
    let both = service(
        "other",
        "web",
        json!({"type": "NodePort", "ports": [
            {"port": 80, "nodePort": 30050}, {"port": 443, "nodePort": 30051}]}),
        json!({}),
        "2026-12-01T00:00:00Z",
    );
    let facts = Facts {
        services: Ok(vec![both]),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&facts, Check::NodePorts),
        Status::Block,
        &[
            "--set ingress.httpNodePort=30000 (free)",
            "--set ingress.httpsNodePort=30001 (free)",
        ],
    );
    // One port asked for twice: the API server would refuse the Service.
    let twice = Case::new(
        SEED_ERA,
        &["ingress.httpNodePort=30050,ingress.httpsNodePort=30050"],
    );
    let finding = twice.finding(&twice.fine(), Check::NodePorts);
    assert_finding(
        &finding,
        Status::Block,
        &[
            "node port 30050 is asked for twice, by Service team/sky-ingress-controller-np",
            "--set ingress.httpNodePort=30000 (free)",
            "--set ingress.httpsNodePort=30001 (free)",
        ],
    );
    let unread = Facts {
        services: Err("services is forbidden".into()),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&unread, Check::NodePorts),
        Status::Warn,
        &["cannot tell", "services is forbidden"],
    );
}

#[test]
fn a_taken_ingress_class_says_how_to_share_it_or_run_a_second_controller() {
    let current = Case::new(CURRENT, &[]);
    let seed = Case::new(SEED_ERA, &[]);
    let of_release = ingress_class("nginx", "k8s.io/ingress-nginx", owned_by("first", "a"));
    let of_helm = ingress_class(
        "nginx",
        "k8s.io/ingress-nginx",
        helm_owned("ingress-nginx", "ingress-nginx"),
    );
    let ours = ingress_class("nginx", "k8s.io/ingress-nginx", owned_by("sky", "team"));
    let cases: Vec<(&Case, _, bool, Status, Vec<&str>)> = vec![
        (
            &current,
            of_release.clone(),
            false,
            Status::Block,
            vec![
                "IngressClass nginx belongs to release first in namespace a",
                "--set ingress-nginx.enabled=false,ingress.ingressClassName=nginx",
                "ingress-nginx.controller.ingressClassResource.name=nginx-sky",
                "ingress-nginx.controller.ingressClassResource.controllerValue=k8s.io/ingress-nginx-sky",
                "ingress-nginx.controller.ingressClass=nginx-sky,ingress.ingressClassName=nginx-sky",
            ],
        ),
        (
            &seed,
            of_release.clone(),
            false,
            Status::Block,
            vec!["--set ingress-nginx.enabled=false", "needs chart 0.13.0"],
        ),
        (
            &current,
            of_helm.clone(),
            false,
            Status::Block,
            vec![
                "IngressClass nginx exists and belongs to Helm release ingress-nginx",
                "--take-ownership",
            ],
        ),
        (
            &current,
            of_helm,
            true,
            Status::Warn,
            vec!["--take-ownership takes over"],
        ),
        (
            &current,
            of_release,
            true,
            Status::Block,
            vec!["belongs to release first"],
        ),
        (&current, ours, false, Status::Pass, vec!["nginx"]),
        (
            &current,
            ingress_class("other", "k8s.io/ingress-nginx", json!({})),
            false,
            Status::Warn,
            vec!["IngressClass other already claims controller k8s.io/ingress-nginx"],
        ),
    ];
    for (case, live, take, status, texts) in cases {
        let intent = Intent {
            take_ownership: take,
            ..case.intent()
        };
        let facts = Facts {
            ingress_classes: Ok(vec![live]),
            ..case.fine()
        };
        let finding = Report::assess(&intent, &facts)
            .findings
            .into_iter()
            .find(|f| f.check == Check::IngressClass)
            .unwrap();
        assert_finding(&finding, status, &texts);
    }
}

#[test]
fn a_release_sharing_a_controller_hears_whose_it_is() {
    let case = Case::new(CURRENT, &["ingress-nginx.enabled=false"]);
    let absent = case.fine();
    assert_finding(
        &case.finding(&absent, Check::IngressClass),
        Status::Warn,
        &["uses IngressClass nginx, which does not exist"],
    );
    let shared = Facts {
        ingress_classes: Ok(vec![ingress_class(
            "nginx",
            "k8s.io/ingress-nginx",
            owned_by("first", "a"),
        )]),
        ..case.fine()
    };
    // At `/` on every host, as the owner: the controller cannot tell them apart.
    assert_finding(
        &case.finding(&shared, Check::IngressClass),
        Status::Warn,
        &[
            "shares IngressClass nginx of release first in namespace a with neither a host nor a path",
            "--set ingress.path=/sky",
        ],
    );
    let below = Case::new(
        CURRENT,
        &["ingress-nginx.enabled=false", "ingress.path=/sky"],
    );
    assert_finding(
        &below.finding(&shared, Check::IngressClass),
        Status::Warn,
        &[
            "shares IngressClass nginx of release first in namespace a",
            "uninstalling that release",
        ],
    );
}

#[test]
fn storage_needs_a_default_class_or_the_named_one() {
    let case = Case::new(CURRENT, &[]);
    let named = Case::new(CURRENT, &["storage.storageClassName=fast"]);
    let cases: Vec<(&Case, Vec<_>, Status, Vec<&str>)> = vec![
        (
            &case,
            vec![storage_class("standard", true)],
            Status::Pass,
            vec!["default StorageClass standard"],
        ),
        (
            &case,
            vec![storage_class("slow", false), storage_class("fast", false)],
            Status::Block,
            vec![
                "no default StorageClass",
                "--set storage.storageClassName=slow|fast",
                "kubectl patch storageclass slow",
            ],
        ),
        (
            &case,
            vec![],
            Status::Block,
            vec!["no StorageClass at all", "storage.enabled=false"],
        ),
        (
            &named,
            vec![storage_class("fast", false)],
            Status::Pass,
            vec!["StorageClass fast"],
        ),
        (
            &named,
            vec![storage_class("standard", true)],
            Status::Block,
            vec!["asks for StorageClass fast, which does not exist"],
        ),
    ];
    for (case, classes, status, texts) in cases {
        let facts = Facts {
            storage_classes: Ok(classes),
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::Storage), status, &texts);
    }
    // A claim that exists keeps its volume, default class or not.
    let claim = case
        .manifests
        .iter()
        .find(|m| m.id.kind == "PersistentVolumeClaim")
        .unwrap()
        .id
        .clone();
    let facts = Facts {
        storage_classes: Ok(vec![]),
        live: [(claim.clone(), live(&claim, owned_by("sky", "team")))].into(),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&facts, Check::Storage),
        Status::Pass,
        &["exists"],
    );
    // What the API server refuses to change in a claim that exists.
    let claim_of =
        |class: &str, size: &str, mode: &str| -> Observed<Option<kube::api::DynamicObject>> {
            Ok(Some(from(json!({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim.name, "namespace": claim.namespace,
                             "annotations": owned_by("sky", "team")},
                "spec": {"storageClassName": class, "accessModes": [mode],
                         "resources": {"requests": {"storage": size}}}
            }))))
        };
    let mut expanding = storage_class("grows", false);
    expanding.allow_volume_expansion = Some(true);
    for (sets, live, status, texts) in [
        (
            vec![],
            claim_of("standard", "10Gi", "ReadWriteOnce"),
            Status::Pass,
            vec!["exists"],
        ),
        (
            vec!["storage.size=20Gi"],
            claim_of("standard", "10Gi", "ReadWriteOnce"),
            Status::Block,
            vec![
                "would grow from 10Gi to 20Gi, and its StorageClass standard does not allow expansion",
                "keep storage.size=10Gi",
            ],
        ),
        (
            vec!["storage.size=20Gi"],
            claim_of("grows", "10Gi", "ReadWriteOnce"),
            Status::Pass,
            vec![],
        ),
        (
            vec!["storage.size=5Gi"],
            claim_of("grows", "10Gi", "ReadWriteOnce"),
            Status::Block,
            vec!["holds 10Gi; the values ask for 5Gi", "never shrinks"],
        ),
        (
            vec!["storage.storageClassName=grows"],
            claim_of("standard", "10Gi", "ReadWriteOnce"),
            Status::Block,
            vec![
                "has StorageClass standard; the values ask for grows",
                "storage.storageClassName=standard",
            ],
        ),
        (
            vec!["storage.accessMode=ReadWriteMany"],
            claim_of("standard", "10Gi", "ReadWriteOnce"),
            Status::Block,
            vec!["access modes", "never change"],
        ),
    ] {
        let case = Case::new(CURRENT, &sets);
        let facts = Facts {
            storage_classes: Ok(vec![storage_class("standard", true), expanding.clone()]),
            live: [(claim.clone(), live)].into(),
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::Storage), status, &texts);
    }
    let off = Case::new(CURRENT, &["storage.enabled=false"]);
    let facts = Facts {
        storage_classes: Ok(vec![]),
        ..off.fine()
    };
    assert_finding(
        &off.finding(&facts, Check::Storage),
        Status::Pass,
        &["no volume"],
    );
}

#[test]
fn the_api_server_must_fit_on_a_node_that_takes_pods() {
    let case = Case::new(CURRENT, &[]);
    for (nodes, status, texts) in [
        (
            vec![node("big", "64", "256Gi", false)],
            Status::Pass,
            vec!["4 CPU and 8 GiB"],
        ),
        (vec![node("exact", "4", "8Gi", false)], Status::Pass, vec![]),
        (
            vec![
                node("small", "2", "4Gi", false),
                node("tiny", "1", "1Gi", false),
            ],
            Status::Block,
            vec![
                "Deployment team/sky-api-server asks for 4 CPU and 8 GiB memory",
                "the largest node that takes it, small, has 2 CPU and 4 GiB memory",
                "apiService.resources.requests",
            ],
        ),
        // Enough CPU on one node, enough memory on another: neither fits the pod.
        (
            vec![
                node("cpu", "8", "2Gi", false),
                node("mem", "1", "64Gi", false),
            ],
            Status::Block,
            vec![],
        ),
        (
            vec![node("cordoned", "64", "256Gi", true)],
            Status::Block,
            vec!["no node takes the pods of", "cordoned is cordoned"],
        ),
        (
            vec![node("milli", "4000m", "8192Mi", false)],
            Status::Pass,
            vec![],
        ),
    ] {
        let facts = Facts {
            nodes: Ok(nodes),
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::Capacity), status, &texts);
    }
}

#[test]
fn a_limit_without_a_request_is_requested() {
    let case = Case::new(
        CURRENT,
        &[
            "apiService.skipResourceCheck=true",
            "apiService.resources.requests=null",
            "apiService.resources.limits.cpu=5000",
            "apiService.resources.limits.memory=4Ti",
        ],
    );
    assert_finding(
        &case.finding(&case.fine(), Check::Capacity),
        Status::Block,
        &[
            "Deployment team/sky-api-server asks for 5000 CPU and 4096 GiB memory",
            "a limit set without a request is requested too",
        ],
    );
}

#[test]
fn a_resource_quota_of_the_namespace_must_leave_room_for_the_pods() {
    let case = Case::new(CURRENT, &[]);
    let quota = |hard: Value, used: Value| -> k8s_openapi::api::core::v1::ResourceQuota {
        from(json!({"metadata": {"name": "q", "namespace": "team"},
            "spec": {"hard": hard}, "status": {"hard": hard, "used": used}}))
    };
    let server = case.id("Deployment", "sky-api-server");
    for (quotas, live, status, texts) in [
        (vec![], vec![], Status::Pass, vec![]),
        (
            vec![quota(
                json!({"requests.cpu": "2"}),
                json!({"requests.cpu": "0"}),
            )],
            vec![],
            Status::Block,
            vec![
                "a pod of Deployment team/sky-api-server asks for 4 CPU; ResourceQuota team/q \
                 holds requests.cpu to 2 CPU",
                "ask the namespace's admin for a larger quota",
            ],
        ),
        (
            vec![quota(json!({"memory": "64Gi"}), json!({"memory": "60Gi"}))],
            vec![],
            Status::Block,
            vec![
                "ask for 8.09 GiB memory (memory) in all; ResourceQuota team/q has 4 GiB memory left",
            ],
        ),
        // An upgrade: the API server's pod exists and counts in `used` already.
        (
            vec![quota(
                json!({"requests.cpu": "5"}),
                json!({"requests.cpu": "4.1"}),
            )],
            vec![
                (server.clone(), live(&server, owned_by("sky", "team"))),
                (
                    case.id("Deployment", "sky-ingress-nginx-controller"),
                    live(
                        &case.id("Deployment", "sky-ingress-nginx-controller"),
                        owned_by("sky", "team"),
                    ),
                ),
            ],
            Status::Pass,
            vec![],
        ),
        (
            vec![quota(json!({"pods": "1"}), json!({"pods": "1"}))],
            vec![],
            Status::Block,
            vec!["ask for 2 pod(s) (pods) in all; ResourceQuota team/q has 0 pod(s) left"],
        ),
    ] {
        let facts = Facts {
            quotas: Ok(quotas),
            live: live.into_iter().collect(),
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::Capacity), status, &texts);
    }
    // A namespace admin may read the quota but not the nodes: the quota still blocks.
    let facts = Facts {
        quotas: Ok(vec![quota(json!({"requests.cpu": "2"}), json!({}))]),
        nodes: Err("forbidden".into()),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&facts, Check::Capacity),
        Status::Block,
        &["holds requests.cpu to 2 CPU"],
    );
}

#[test]
fn a_node_takes_only_pods_that_tolerate_its_taints_and_match_its_labels() {
    let tainted = |effect: &str| -> k8s_openapi::api::core::v1::Node {
        let mut node = node("gpu", "64", "256Gi", false);
        node.spec.get_or_insert_default().taints = Some(vec![from(
            json!({"key": "dedicated", "value": "gpu", "effect": effect}),
        )]);
        node
    };
    let plain = Case::new(CURRENT, &[]);
    let tolerant = Case::new(
        CURRENT,
        &[
            "apiService.tolerations[0].key=dedicated",
            "apiService.tolerations[0].operator=Exists",
            "ingress-nginx.controller.tolerations[0].key=dedicated",
            "ingress-nginx.controller.tolerations[0].value=gpu",
            "ingress-nginx.controller.tolerations[0].effect=NoSchedule",
        ],
    );
    let picky = Case::new(CURRENT, &["apiService.nodeSelector.pool=big"]);
    for (case, nodes, status, texts) in [
        (
            &plain,
            vec![tainted("NoSchedule")],
            Status::Block,
            vec![
                "no node takes the pods of",
                "gpu has taint dedicated=gpu:NoSchedule, not tolerated",
                "apiService.tolerations, apiService.nodeSelector",
            ],
        ),
        (&plain, vec![tainted("NoExecute")], Status::Block, vec![]),
        // A soft taint only steers the scheduler.
        (
            &plain,
            vec![tainted("PreferNoSchedule")],
            Status::Pass,
            vec![],
        ),
        (&tolerant, vec![tainted("NoSchedule")], Status::Pass, vec![]),
        // The controller's toleration names the effect: NoExecute is not tolerated.
        (
            &tolerant,
            vec![tainted("NoExecute")],
            Status::Block,
            vec!["ingress-nginx.controller.tolerations"],
        ),
        (
            &plain,
            vec![tainted("NoSchedule"), node("small", "4", "8Gi", false)],
            Status::Pass,
            vec![],
        ),
        (
            &picky,
            vec![node("big", "64", "256Gi", false)],
            Status::Block,
            vec!["big lacks label pool=big (nodeSelector)"],
        ),
    ] {
        let facts = Facts {
            nodes: Ok(nodes),
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::Capacity), status, &texts);
    }
}

#[test]
fn a_load_balancer_that_never_comes_is_seen_in_other_services() {
    let case = Case::new(CURRENT, &[]);
    let lb = |name: &str, address: bool, created: &str| {
        let status = if address {
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}})
        } else {
            json!({"loadBalancer": {}})
        };
        service("x", name, json!({"type": "LoadBalancer"}), status, created)
    };
    let now: Timestamp = "2026-12-02T12:00:00Z".parse().unwrap();
    for (services, status, texts) in [
        (vec![], Status::Pass, vec!["no other LoadBalancer Service"]),
        (
            vec![lb("young", false, "2026-12-02T11:59:30Z")],
            Status::Pass,
            vec!["no other"],
        ),
        (
            vec![lb("stuck", false, "2026-12-02T11:55:00Z")],
            Status::Block,
            vec![
                "Service x/stuck has waited 5m",
                "--set ingress-nginx.controller.service.type=NodePort",
            ],
        ),
        (
            vec![
                lb("stuck", false, "2026-12-02T11:55:00Z"),
                lb("served", true, "2026-12-02T11:55:00Z"),
            ],
            Status::Pass,
            vec!["Service x/served has one"],
        ),
    ] {
        let facts = Facts {
            services: Ok(services),
            now,
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::LoadBalancer), status, &texts);
    }
    // Only Services of the same loadBalancerClass tell, and one waits from when it became a
    // LoadBalancer.
    let other_class = service(
        "x",
        "nlb",
        json!({"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb"}),
        json!({"loadBalancer": {}}),
        "2026-12-02T11:00:00Z",
    );
    let turned = |when: &str| -> Service {
        from(json!({
            "metadata": {"namespace": "x", "name": "turned",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "managedFields": [
                    {"manager": "kubectl-create", "operation": "Update",
                     "time": "2026-01-01T00:00:00Z",
                     "fieldsV1": {"f:spec": {"f:ports": {}}}},
                    {"manager": "kubectl-patch", "operation": "Update", "time": when,
                     "fieldsV1": {"f:spec": {"f:type": {}}}}]},
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {}}
        }))
    };
    for (services, status, texts) in [
        (vec![other_class], Status::Pass, vec!["no other"]),
        (
            vec![turned("2026-12-02T11:59:30Z")],
            Status::Pass,
            vec!["no other"],
        ),
        (
            vec![turned("2026-12-02T11:50:00Z")],
            Status::Block,
            vec!["Service x/turned has waited 10m"],
        ),
    ] {
        let facts = Facts {
            services: Ok(services),
            now,
            ..case.fine()
        };
        assert_finding(&case.finding(&facts, Check::LoadBalancer), status, &texts);
    }
    let nodeport = Case::new(SEED_ERA, &[]);
    let facts = Facts {
        services: Ok(vec![lb("stuck", false, "2026-12-01T00:00:00Z")]),
        ..nodeport.fine()
    };
    assert_finding(
        &nodeport.finding(&facts, Check::LoadBalancer),
        Status::Pass,
        &["not used"],
    );
}

#[test]
fn a_helm_release_of_the_same_name_blocks_unless_taken_over() {
    let mut case = Case::new(CURRENT, &[]);
    let facts = Facts {
        helm: Ok(vec![
            HelmRecord {
                storage: "Secret",
                name: "sh.helm.release.v1.sky.v1".into(),
                revision: 1,
                status: "superseded".into(),
            },
            HelmRecord {
                storage: "Secret",
                name: "sh.helm.release.v1.sky.v2".into(),
                revision: 2,
                status: "deployed".into(),
            },
        ]),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&facts, Check::Helm),
        Status::Block,
        &[
            "Helm release sky is in namespace team (revision 2, deployed",
            "skyctl adopt sky -n team",
        ],
    );
    case.take_ownership = true;
    assert_finding(&case.finding(&facts, Check::Helm), Status::Warn, &[]);
    // `helm uninstall --keep-history` left the records of a release whose objects are gone.
    case.take_ownership = false;
    let uninstalled = Facts {
        helm: Ok(vec![HelmRecord {
            storage: "Secret",
            name: "sh.helm.release.v1.sky.v2".into(),
            revision: 2,
            status: "uninstalled".into(),
        }]),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&uninstalled, Check::Helm),
        Status::Pass,
        &["Helm release sky in namespace team was uninstalled (revision 2"],
    );
}

#[test]
fn a_helm_release_that_never_deployed_is_sent_to_helm_and_one_with_a_failed_upgrade_to_adopt() {
    let case = Case::new(CURRENT, &[]);
    let records = |statuses: &[&str]| Facts {
        helm: Ok(statuses
            .iter()
            .enumerate()
            .map(|(at, status)| HelmRecord {
                storage: "Secret",
                name: format!("sh.helm.release.v1.sky.v{}", at + 1),
                revision: at as u32 + 1,
                status: (*status).into(),
            })
            .collect()),
        ..case.fine()
    };
    for (statuses, wanted, unwanted) in [
        (
            &["failed"][..],
            &[
                "revision 1, failed",
                "helm uninstall sky -n team --keep-history",
            ][..],
            "helm rollback",
        ),
        (
            &["pending-install"],
            &["helm uninstall sky -n team --keep-history"],
            "skyctl adopt",
        ),
        (
            &["deployed", "pending-upgrade"],
            &[
                "skyctl adopt sky -n team",
                "adopts revision 1, the newest deployed",
            ],
            "helm uninstall",
        ),
    ] {
        let finding = case.finding(&records(statuses), Check::Helm);
        assert_finding(&finding, Status::Block, wanted);
        let fix = finding.fix.unwrap_or_default();
        assert!(!fix.contains(unwanted), "{statuses:?}: {fix}");
    }
}

#[test]
fn helm_records_are_read_from_their_labels_only() {
    let meta = |labels: Value| -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        from(json!({"name": "sh.helm.release.v1.sky.v3", "labels": labels}))
    };
    let ours = meta(json!({"owner": "helm", "name": "sky", "version": "3", "status": "deployed"}));
    assert_eq!(
        HelmRecord::from_labels("Secret", &ours, "sky"),
        Some(HelmRecord {
            storage: "Secret",
            name: "sh.helm.release.v1.sky.v3".into(),
            revision: 3,
            status: "deployed".into()
        })
    );
    assert_eq!(HelmRecord::from_labels("Secret", &ours, "other"), None);
    let not_helm = meta(json!({"owner": "someone", "name": "sky", "version": "3"}));
    assert_eq!(HelmRecord::from_labels("Secret", &not_helm, "sky"), None);
    let no_version = meta(json!({"owner": "helm", "name": "sky"}));
    assert_eq!(HelmRecord::from_labels("Secret", &no_version, "sky"), None);
}

#[test]
fn a_secret_the_pods_read_must_exist() {
    let case = Case::new(SEED_ERA, &["awsCredentials.enabled=true"]);
    assert_finding(
        &case.finding(&case.fine(), Check::Credentials),
        Status::Block,
        &[
            "reads Secret aws-credentials",
            "which does not exist in namespace team",
            "skyctl creds add",
        ],
    );
    let stored = Facts {
        secrets: Ok(vec!["aws-credentials".into()]),
        credentials: Ok(vec![Stored::new(Kind::Aws, "aws-credentials")]),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&stored, Check::Credentials),
        Status::Pass,
        &["Secret aws-credentials (used)"],
    );
    let off = Case::new(SEED_ERA, &["awsCredentials.enabled=false"]);
    let stored = Facts {
        secrets: Ok(vec!["aws-credentials".into()]),
        credentials: Ok(vec![Stored::new(Kind::Aws, "aws-credentials")]),
        ..off.fine()
    };
    assert_finding(
        &off.finding(&stored, Check::Credentials),
        Status::Pass,
        &["not used: the values set awsCredentials.enabled=false"],
    );
}

#[test]
fn a_service_account_the_pods_run_as_must_exist_unless_the_install_makes_it() {
    let own = Case::new(CURRENT, &[]);
    assert_finding(
        &own.finding(&own.fine(), Check::Credentials),
        Status::Pass,
        &[],
    );
    let ghost = Case::new(
        CURRENT,
        &["rbac.create=false", "rbac.serviceAccountName=ghost"],
    );
    assert_finding(
        &ghost.finding(&ghost.fine(), Check::Credentials),
        Status::Block,
        &[
            "Deployment team/sky-api-server runs as ServiceAccount ghost, which does not exist",
            "kubectl create serviceaccount ghost -n team",
            "rbac.create=true",
        ],
    );
    // A missing Secret still blocks when the ServiceAccounts cannot be read.
    let aws = Case::new(CURRENT, &["awsCredentials.enabled=true"]);
    let unread = Facts {
        service_accounts: Err("forbidden".into()),
        ..aws.fine()
    };
    assert_finding(
        &aws.finding(&unread, Check::Credentials),
        Status::Block,
        &["reads Secret aws-credentials"],
    );
    let made = Facts {
        service_accounts: Ok(vec!["ghost".into()]),
        ..ghost.fine()
    };
    assert_finding(&ghost.finding(&made, Check::Credentials), Status::Pass, &[]);
}

#[test]
fn rights_are_named_by_object_and_roles_may_grant_only_what_their_author_holds() {
    let case = Case::new(CURRENT, &[]);
    let needed = intent::needed_access(&case.intent());
    let deny = |denied: &dyn Fn(&Access) -> bool| -> Facts {
        Facts {
            access: needed.keys().map(|a| (a.clone(), Ok(!denied(a)))).collect(),
            ..case.fine()
        }
    };
    let cluster_roles = deny(&|a| a.resource == "clusterroles" && a.verb != "get");
    assert_finding(
        &case.finding(&cluster_roles, Check::Rbac),
        Status::Block,
        &[
            "you may not create/patch ClusterRole (",
            "sky-api-role",
            "sky-ingress-nginx",
            "ask a cluster admin",
        ],
    );
    // The chart's ClusterRole grants `nodes` rights; an author without them (and without
    // `escalate`) cannot create it.
    let no_nodes = deny(&|a| a.resource == "nodes" || a.verb == "escalate");
    assert_finding(
        &case.finding(&no_nodes, Check::Rbac),
        Status::Block,
        &[
            "create ClusterRole sky-",
            "which you do not hold yourself",
            "nodes",
        ],
    );
    let escalate = deny(&|a| a.resource == "nodes");
    assert_finding(&case.finding(&escalate, Check::Rbac), Status::Pass, &[]);
    // `escalate` lets the ClusterRole be made, but binding it needs `bind` or its rights.
    let no_bind = deny(&|a| a.resource == "nodes" || a.verb == "bind");
    assert_finding(
        &case.finding(&no_bind, Check::Rbac),
        Status::Block,
        &[
            "create ClusterRoleBinding sky-api-role-binding: it names ClusterRole sky-api-role, \
             which you may not bind",
        ],
    );
    let holds_all = deny(&|a| a.verb == "bind");
    assert_finding(&case.finding(&holds_all, Check::Rbac), Status::Pass, &[]);
    let mut unanswered = case.fine();
    let first = needed.keys().next().unwrap().clone();
    unanswered.access.insert(first, Err("timeout".into()));
    assert_finding(
        &case.finding(&unanswered, Check::Rbac),
        Status::Warn,
        &["timeout"],
    );
    // Rights granted by name only (`resourceNames`) are enough to write the objects named.
    let by_name_only =
        deny(&|a| a.resource == "validatingwebhookconfigurations" && a.name.is_none());
    assert_finding(&case.finding(&by_name_only, Check::Rbac), Status::Pass, &[]);
    // The lock is released by deleting it, after every object was written: without the
    // right, the install would end in an error with everything applied.
    let no_lock_release = deny(&|a| a.resource == "leases" && a.verb == "delete");
    assert_finding(
        &case.finding(&no_lock_release, Check::Rbac),
        Status::Block,
        &["you may not delete leases (skyctl's release records and lock)"],
    );
    // A namespace that is yet to be made needs the right to make it.
    let new_namespace = Intent {
        namespace_exists: false,
        create_namespace: true,
        ..case.intent()
    };
    let creates_only = Facts {
        access: intent::needed_access(&new_namespace)
            .into_keys()
            .map(|a| {
                let allowed = !(a.resource == "namespaces"
                    && a.verb == "patch"
                    && a.name.as_deref() == Some("team"));
                (a, Ok(allowed))
            })
            .collect(),
        ..case.fine()
    };
    assert_finding(
        &Report::assess(&new_namespace, &creates_only)
            .findings
            .into_iter()
            .find(|f| f.check == Check::Rbac)
            .unwrap(),
        Status::Block,
        &["you may not patch namespaces (for --create-namespace)"],
    );
    // Made by a server-side apply, which the API server authorizes as patch and as create.
    let namespace_rights: Vec<(String, Option<String>)> = intent::needed_access(&new_namespace)
        .into_keys()
        .filter(|a| {
            a.resource == "namespaces" && a.namespace.is_none() && a.name.as_deref() == Some("team")
        })
        .map(|a| (a.verb, a.name))
        .collect();
    for verb in ["create", "patch"] {
        assert!(
            namespace_rights.contains(&(verb.to_owned(), Some("team".to_owned()))),
            "{namespace_rights:?}"
        );
    }
}

#[test]
fn objects_of_another_release_or_of_nobody_block_unless_taken_over() {
    let mut case = Case::new(CURRENT, &[]);
    let role = case.id("ClusterRole", "sky-api-role");
    let other = Facts {
        live: [(role.clone(), live(&role, owned_by("sky", "elsewhere")))].into(),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&other, Check::Objects),
        Status::Block,
        &[
            "ClusterRole sky-api-role belongs to release sky in namespace elsewhere",
            "another release name",
        ],
    );
    let nobody = Facts {
        live: [(role.clone(), live(&role, json!({})))].into(),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&nobody, Check::Objects),
        Status::Block,
        &["exists and belongs to no release", "--take-ownership"],
    );
    let ours = Facts {
        live: [(role.clone(), live(&role, owned_by("sky", "team")))].into(),
        ..case.fine()
    };
    assert_finding(
        &case.finding(&ours, Check::Objects),
        Status::Pass,
        &["1 of the"],
    );
    case.take_ownership = true;
    assert_finding(
        &case.finding(&nobody, Check::Objects),
        Status::Warn,
        &["--take-ownership takes over"],
    );
    assert_finding(&case.finding(&other, Check::Objects), Status::Block, &[]);
}

#[test]
fn objects_of_the_helm_release_of_the_name_are_adopts_to_take_over_never_take_ownerships() {
    let mut case = Case::new(CURRENT, &[]);
    let role = case.id("ClusterRole", "sky-api-role");
    let class = ingress_class("nginx", "k8s.io/ingress-nginx", helm_owned("sky", "team"));
    let helms = Facts {
        live: [(role.clone(), live(&role, helm_owned("sky", "team")))].into(),
        ingress_classes: Ok(vec![class]),
        helm: Ok(vec![HelmRecord {
            storage: "Secret",
            name: "sh.helm.release.v1.sky.v1".into(),
            revision: 1,
            status: "deployed".into(),
        }]),
        ..case.fine()
    };
    // install: the Helm line first, and every line sends the admin to adopt.
    let report = Report::assess(&case.intent(), &helms);
    assert_eq!(report.findings[0].check, Check::Helm);
    for check in [Check::Objects, Check::IngressClass] {
        let finding = case.finding(&helms, check);
        assert_finding(&finding, Status::Block, &["skyctl adopt sky -n team"]);
        assert!(
            !report.lines(false).contains("--take-ownership"),
            "{check:?}"
        );
    }
    // doctor, checking as adopt takes the release over.
    case.adopting = true;
    assert_finding(
        &case.finding(&helms, Check::Objects),
        Status::Pass,
        &["adopt takes them over"],
    );
    assert_finding(
        &case.finding(&helms, Check::IngressClass),
        Status::Pass,
        &[],
    );
}

#[test]
fn the_secrets_a_pod_reads_come_from_volumes_env_and_env_from_unless_optional() {
    let pod = |spec: Value| Manifest {
        id: ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("team".into()),
            name: "app".into(),
        },
        object: json!({"spec": {"template": {"spec": spec}}}),
    };
    let made = Manifest {
        id: ObjectRef {
            api_version: "v1".into(),
            kind: "Secret".into(),
            namespace: Some("team".into()),
            name: "made".into(),
        },
        object: json!({}),
    };
    let manifests = vec![
        made,
        pod(json!({
            "volumes": [
                {"name": "a", "secret": {"secretName": "vol"}},
                {"name": "b", "secret": {"secretName": "opt", "optional": true}},
                {"name": "c", "secret": {"secretName": "made"}},
                {"name": "d", "projected": {"sources": [{"secret": {"name": "proj"}}]}}
            ],
            "initContainers": [{"name": "i", "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "env", "key": "k"}}}]}],
            "containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "from"}}, {"secretRef": {"name": "opt2", "optional": true}}]}]
        })),
    ];
    let reads: Vec<(&str, String)> = intent::secrets_read(&manifests)
        .into_iter()
        .map(|r| (r.secret, r.through))
        .collect();
    assert_eq!(
        reads,
        vec![
            ("vol", "volume a".to_owned()),
            ("proj", "volume d".to_owned()),
            ("env", "env E".to_owned()),
            ("from", "envFrom of c".to_owned()),
        ]
    );
}
