//! One world on the test control plane: two namespaces, the person's objects and a Helm
//! release of another chart beside the releases, and a SkyPilot release Helm installed for
//! adopt. Names carry the world's tag, so that worlds never meet; cluster-wide objects too.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use serde_json::json;

use super::plan::{Change, Class, Op, Run, Slot};
use super::snapshot::person_name;
use super::support::release::{AUTH, SMALL_PODS};
use super::support::skyctl::{Outcome, skyctl};
use super::support::{cluster, helm};

/// The AWS secret key `creds add` stores: no output may hold it.
pub const SECRET: &str = "model-secret-key-never-printed";
const CURRENT: &str = "0.13.0";

pub struct World {
    pub tag: String,
    pub client: kube::Client,
    dir: tempfile::TempDir,
    /// The chart Helm installs `hlm<tag>` from: skyctl's render, packaged as the published one.
    helm_chart: PathBuf,
    _other_chart: helm::Installed,
}

impl World {
    /// Makes the world: namespace a with the person's objects, a Helm release of another
    /// chart in it, and `hlm<tag>` installed by Helm; namespace b is left for skyctl to make.
    pub async fn create(client: &kube::Client, tag: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let a = Slot::SkyA.namespace(tag);
        let namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": a}})).unwrap();
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap();
        let person = person_name(tag);
        let objects = [
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": format!("{person}-secret"), "namespace": a},
                   "stringData": {"token": "a person's"}}),
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "aws-credentials", "namespace": a},
                   "stringData": {"aws_access_key_id": "AKIAPERSON", "aws_secret_access_key": "theirs"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": format!("{person}-config"), "namespace": a},
                   "data": {"note": "a person's"}}),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": format!("{person}-data"), "namespace": a},
                   "spec": {"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}}}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": format!("{person}-role")}, "rules": []}),
        ];
        for object in objects {
            create(client, object).await;
        }
        let other_chart = helm::small_chart(dir.path(), &format!("tny{tag}"), "0.1.0");
        let other = helm::install("secret", &format!("tny{tag}"), &other_chart, &a, &[]);
        let rendered = skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args(["template", &Slot::HelmA.release(tag), "-n", &a])
            .args(["--version", CURRENT])
            .args(base_values(tag, Slot::HelmA, Class::Own))
            .run()
            .success()
            .stdout;
        // Upstream's chart renders the skypilot-system Namespace only when it is absent; the
        // package made here does the same, so the world is set up on a fresh cluster too.
        let system_exists = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
            .get_opt("skypilot-system")
            .await
            .unwrap()
            .is_some();
        let helm_chart =
            helm::skypilot_chart(dir.path(), &rendered, CURRENT, CURRENT, system_exists, "");
        let world = World {
            tag: tag.to_owned(),
            client: client.clone(),
            dir,
            helm_chart,
            _other_chart: other,
        };
        let installed = world.run(&Run {
            op: Op::HelmInstall,
            kill: None,
        });
        assert_eq!(installed.code, Some(0), "helm install: {installed:#?}");
        world
    }

    pub fn namespaces(&self) -> Vec<String> {
        vec![
            Slot::SkyA.namespace(&self.tag),
            Slot::SkyB.namespace(&self.tag),
        ]
    }

    /// Runs one skyctl (or Helm) command to its end, or to its kill.
    pub fn run(&self, run: &Run) -> Outcome {
        let tag = &self.tag;
        let slot = run.op.slot();
        let (name, namespace) = (slot.release(tag), slot.namespace(tag));
        if run.op == Op::HelmInstall {
            let chart = self.helm_chart.to_str().unwrap();
            return Outcome::from(helm::helm(
                "secret",
                &["install", &name, chart, "-n", &namespace],
            ));
        }
        let mut args: Vec<String> = Vec::new();
        let mut stdin = String::new();
        match run.op {
            Op::Install { class, .. } => {
                args.extend(words(&["install", &name, "-n", &namespace]));
                args.extend(words(&["--create-namespace", "--version", CURRENT]));
                args.extend(base_values(tag, slot, class));
            }
            Op::Upgrade { change, .. } => {
                args.extend(words(&["upgrade", &name, "-n", &namespace]));
                args.extend(match change {
                    Change::Values { class, mark } => {
                        let mut values = base_values(tag, slot, class);
                        values.extend(annotation(mark));
                        values
                    }
                    Change::Reuse { mark } => {
                        let mut values = words(&["--reuse-values"]);
                        values.extend(annotation(mark));
                        values
                    }
                    Change::Version { seed_era } => {
                        let version = if seed_era {
                            super::support::skyctl::SEED_ERA
                        } else {
                            CURRENT
                        };
                        words(&["--reuse-values", "--version", version])
                    }
                    Change::Fullname { mark } => words(&[
                        "--reuse-values",
                        "--set",
                        &format!("fullnameOverride=fn{mark}{tag}"),
                    ]),
                });
            }
            Op::Rollback { .. } => args.extend(words(&["rollback", &name, "-n", &namespace])),
            Op::Uninstall {
                delete_data,
                delete_namespace,
                ..
            } => {
                args.extend(words(&["uninstall", &name, "-n", &namespace]));
                if delete_data {
                    args.push("--delete-data".into());
                }
                if delete_namespace {
                    args.push("--delete-namespace".into());
                }
            }
            Op::Adopt => args.extend(words(&["adopt", &name, "-n", &namespace])),
            Op::CredsAdd { .. } => {
                args.extend(words(&["-n", &namespace, "creds", "add", "aws"]));
                args.extend(words(&["--release", &name, "--access-key-id", "AKIAMODEL"]));
                args.push("--secret-access-key-stdin".into());
                stdin = format!("{SECRET}\n");
            }
            Op::HelmInstall => unreachable!("run by Helm above"),
        }
        if matches!(run.op, Op::Install { .. } | Op::Upgrade { .. }) {
            args.push("--no-health-check".into());
        }
        args.push("--no-wait".into());
        let mut command = skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args(args)
            .stdin(stdin);
        if let Some((point, nth)) = run.kill {
            command = command.interrupted_at(point, nth);
        }
        command.run()
    }

    /// Waits until the world's namespaces that are being deleted are gone, so that what the
    /// deletion takes with it is seen at the step that asked for it.
    pub async fn settle(&self) {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        for name in self.namespaces() {
            for _ in 0..240 {
                match namespaces.get_opt(&name).await.unwrap() {
                    Some(ns) if ns.metadata.deletion_timestamp.is_some() => {
                        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    }
                    _ => break,
                }
            }
        }
    }

    /// Removes what the world left: its releases, by skyctl and Helm, then its namespaces and
    /// the cluster-wide objects of its names, whatever state a failure left them in.
    pub async fn remove(self) {
        for slot in Slot::ALL {
            let _ = skyctl()
                .kubeconfig(cluster::kubeconfig())
                .args([
                    "uninstall",
                    &slot.release(&self.tag),
                    "-n",
                    &slot.namespace(&self.tag),
                ])
                .args([
                    "--delete-data",
                    "--force-unlock",
                    "--ignore-not-found",
                    "--no-wait",
                ])
                .run();
        }
        let _ = helm::helm(
            "secret",
            &[
                "uninstall",
                &Slot::HelmA.release(&self.tag),
                "-n",
                &Slot::HelmA.namespace(&self.tag),
            ],
        );
        for kind in &super::snapshot::CLUSTER {
            let api = super::snapshot::api(&self.client, kind, None);
            for object in api.list(&Default::default()).await.unwrap().items {
                let name = object.metadata.name.unwrap_or_default();
                if name.contains(&self.tag) {
                    let _ = api.delete(&name, &DeleteParams::default()).await;
                }
            }
        }
        drop(self.dir);
    }
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// The values every install of a slot gives: pods the test machine can hold, a login, the
/// controller on a NodePort, and the IngressClass.
fn base_values(tag: &str, slot: Slot, class: Class) -> Vec<String> {
    let class = match class {
        Class::Shared => format!("{tag}-front"),
        Class::Own => format!("{tag}-{}", slot.release(tag)),
    };
    let classes = [
        format!("ingress-nginx.controller.ingressClassResource.name={class}"),
        format!("ingress-nginx.controller.ingressClassResource.controllerValue=k8s.io/ingress-nginx-{class}"),
        format!("ingress-nginx.controller.ingressClass={class}"),
        format!("ingress.ingressClassName={class}"),
    ]
    .join(",");
    words(&[
        "--set",
        SMALL_PODS,
        "--set",
        AUTH,
        "--set",
        "ingress-nginx.controller.service.type=NodePort",
        "--set",
        &classes,
    ])
}

fn annotation(mark: u8) -> Vec<String> {
    words(&[
        "--set-string",
        &format!("apiService.annotations.model=m{mark}"),
    ])
}

async fn create(client: &kube::Client, object: serde_json::Value) {
    let object: DynamicObject = serde_json::from_value(object).unwrap();
    let kind = object.types.as_ref().unwrap().kind.clone();
    let known = super::snapshot::NAMESPACED
        .iter()
        .chain(super::snapshot::CLUSTER.iter())
        .find(|k| k.2 == kind)
        .unwrap();
    super::snapshot::api(client, known, object.metadata.namespace.as_deref())
        .create(&PostParams::default(), &object)
        .await
        .unwrap_or_else(|err| panic!("cannot create {kind}: {err}"));
}
