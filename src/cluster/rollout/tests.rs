//! The real executor, `prepare` and `carry_out` and uninstall's `teardown::run`, run against
//! the in-memory API server and records in memory: whole sequences of installs, upgrades,
//! rollbacks and uninstalls, and what each leaves in the cluster.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::cluster::in_memory_api::InMemoryApi;
use crate::cluster::teardown;
use crate::decide::TakeOwnership;
use crate::progress::Silent;
use crate::release::ReleaseStatus;
use crate::release::storage::MemoryStorage;

fn release() -> Release {
    Release::new("sky", "team")
}

fn config_map(name: &str, data: &str) -> Manifest {
    Manifest::from_object(
        0,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "team"}, "data": {"k": data}}),
    )
    .unwrap()
}

fn ingress_class(name: &str) -> Manifest {
    Manifest::from_object(
        0,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": name}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
    )
    .unwrap()
}

fn deployment(name: &str) -> Manifest {
    Manifest::from_object(
        0,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "team"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "server", "image": "server:1"}]}}}}),
    )
    .unwrap()
}

/// A cluster with the release's namespace in it, as a person made it.
fn cluster() -> InMemoryApi {
    let api = InMemoryApi::new();
    api.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}));
    api
}

struct Run<'a> {
    api: &'a InMemoryApi,
    storage: &'a MemoryStorage,
    operation: Operation,
    values: Value,
    wait: Option<Duration>,
    hooks: Hooks<'a>,
}

impl<'a> Run<'a> {
    fn new(api: &'a InMemoryApi, storage: &'a MemoryStorage, operation: Operation) -> Self {
        Self {
            api,
            storage,
            operation,
            values: json!({}),
            wait: None,
            hooks: Hooks::default(),
        }
    }

    fn values(mut self, values: Value) -> Self {
        self.values = values;
        self
    }

    async fn prepare(&self, manifests: Vec<Manifest>) -> anyhow::Result<Prepared> {
        let history = History::new(self.storage.list().await?);
        let plan = crate::plan::plan(manifests, &history.owned_objects(), false, &release());
        let manager = ObjectManager::new(&self.api.client());
        prepare(
            &manager,
            Request {
                release: &release(),
                operation: self.operation,
                plan,
                values: Resolved {
                    values: self.values.clone(),
                    user: self.values.clone(),
                },
                chart_version: "0.13.0",
                description: None,
                options: decide::Options {
                    dry_run: false,
                    create_namespace: false,
                    history_max: 10,
                    take_ownership: TakeOwnership::No,
                },
                force_conflicts: false,
                history: &history,
                snapshot: &Snapshot::default(),
            },
        )
        .await
    }

    async fn carry_out(&self, prepared: &Prepared) -> anyhow::Result<Executed> {
        let manager = ObjectManager::new(&self.api.client());
        let execution = Execution {
            wait: self.wait,
            force_unlock: false,
            hooks: self.hooks,
        };
        carry_out(
            &manager,
            self.storage,
            &release(),
            prepared,
            execution,
            &mut Silent,
        )
        .await
    }

    /// Prepares and carries out.
    async fn roll(&self, manifests: Vec<Manifest>) -> anyhow::Result<Executed> {
        let prepared = self.prepare(manifests).await?;
        self.carry_out(&prepared).await
    }
}

async fn uninstall(api: &InMemoryApi, storage: &MemoryStorage) -> teardown::Outcome {
    let manager = ObjectManager::new(&api.client());
    let history = History::new(storage.list().await.unwrap());
    let options = teardown::Options {
        delete_data: false,
        delete_namespace: false,
        also_delete: Vec::new(),
        delete_helm_history: false,
        wait: Some(Duration::from_secs(5)),
        force_unlock: false,
        dry_run: false,
        keep_history: false,
    };
    teardown::run(
        &manager,
        &Snapshot::default(),
        storage,
        &release(),
        &history,
        &options,
        &mut Silent,
    )
    .await
    .unwrap()
}

async fn statuses(storage: &MemoryStorage) -> Vec<(u32, ReleaseStatus)> {
    let history = History::new(storage.list().await.unwrap());
    history
        .records
        .iter()
        .map(|r| (r.revision, r.status))
        .collect()
}

/// What the cluster holds, the namespace `team` left out.
fn objects(api: &InMemoryApi) -> Vec<String> {
    let mut names: Vec<String> = api
        .objects()
        .iter()
        .filter(|id| !(id.kind == "Namespace" && id.name == "team"))
        .map(ToString::to_string)
        .collect();
    names.sort();
    names
}

/// Edits a ConfigMap of the release's namespace by hand, as `kubectl patch` would.
async fn edit_config_map(api: &InMemoryApi, name: &str, patch: Value) {
    let configs: kube::Api<DynamicObject> = kube::Api::namespaced_with(
        api.client(),
        "team",
        &crate::known_kinds::known("v1", "ConfigMap").unwrap().api,
    );
    configs
        .patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(patch),
        )
        .await
        .unwrap();
}

/// Returns once a request served after the first `since` is a watch.
async fn until_watched(api: &InMemoryApi, since: usize) {
    while !api.served()[since..]
        .iter()
        .any(|s| s.uri.contains("watch=true"))
    {
        tokio::task::yield_now().await;
    }
}

fn writes(api: &InMemoryApi) -> Vec<String> {
    api.served()
        .iter()
        .filter(|s| s.is_write())
        .map(|s| format!("{} {}", s.method, s.uri))
        .collect()
}

#[tokio::test]
async fn install_upgrade_rollback_and_uninstall_in_sequence() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let v1 = || vec![config_map("config", "1"), ingress_class("nginx")];

    // Install: both objects, marked as the release's, and one deployed revision.
    let installed = Run::new(&api, &storage, Operation::Install)
        .roll(v1())
        .await
        .unwrap();
    assert_eq!(installed.revision, 1);
    let config = api.get(&config_map("config", "1").id).unwrap();
    assert_eq!(config["data"], json!({"k": "1"}));
    assert_eq!(
        config["metadata"]["annotations"]["skyctl.io/release-name"],
        json!("sky")
    );
    assert!(api.get(&ingress_class("nginx").id).is_some());
    assert_eq!(statuses(&storage).await, [(1, ReleaseStatus::Deployed)]);
    assert!(
        !objects(&api).iter().any(|o| o.contains("Lease")),
        "the lock is released: {:?}",
        objects(&api)
    );

    // The same upgrade again changes nothing and writes nothing.
    let upgrade = Operation::Upgrade { install: false };
    let before = writes(&api).len();
    let prepared = Run::new(&api, &storage, upgrade)
        .prepare(v1())
        .await
        .unwrap();
    assert_eq!(prepared.decision, Decision::Unchanged { revision: 1 });
    assert_eq!(writes(&api).len(), before);

    // An upgrade that stops rendering the IngressClass prunes it.
    Run::new(&api, &storage, upgrade)
        .values(json!({"a": 2}))
        .roll(vec![config_map("config", "2")])
        .await
        .unwrap();
    assert_eq!(objects(&api), ["ConfigMap team/config"]);
    let config = api.get(&config_map("config", "2").id).unwrap();
    assert_eq!(config["data"], json!({"k": "2"}));
    assert_eq!(
        statuses(&storage).await,
        [(1, ReleaseStatus::Superseded), (2, ReleaseStatus::Deployed)]
    );

    // Rollback to 1 brings the IngressClass back as revision 3.
    let rolled = Run::new(&api, &storage, Operation::Rollback { to: 1 })
        .roll(v1())
        .await
        .unwrap();
    assert_eq!(rolled.revision, 3);
    assert!(api.get(&ingress_class("nginx").id).is_some());
    let history = History::new(storage.list().await.unwrap());
    assert_eq!(
        history.deployed().unwrap().description,
        "Rollback to 1 complete"
    );

    // Uninstall deletes all of it, and forgets the release.
    let teardown::Outcome::Uninstalled { deleted, kept, .. } = uninstall(&api, &storage).await
    else {
        panic!("the release exists")
    };
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    assert!(kept.is_empty(), "{kept:?}");
    assert!(objects(&api).is_empty(), "{:?}", objects(&api));
    assert!(storage.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn prune_and_uninstall_leave_objects_that_are_not_the_releases_any_more() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let upgrade = Operation::Upgrade { install: false };
    Run::new(&api, &storage, Operation::Install)
        .roll(vec![ingress_class("nginx"), config_map("extra", "1")])
        .await
        .unwrap();
    // Another release takes the IngressClass's name once it is pruned; a person makes a
    // ConfigMap of the pruned name.
    Run::new(&api, &storage, upgrade)
        .values(json!({"off": true}))
        .roll(vec![config_map("config", "1")])
        .await
        .unwrap();
    assert_eq!(objects(&api), ["ConfigMap team/config"]);
    let mut theirs = crate::plan::stamp(ingress_class("nginx"), &Release::new("b", "team-b"));
    theirs.object["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "skyctl"});
    api.put(theirs.object.clone());
    api.put(config_map("extra", "a person's").object);

    // The release's own ConfigMap, deleted by hand and made again with the release's marks,
    // is not the object the release applied.
    let mine = api.get(&config_map("config", "1").id).unwrap();
    let manager = ObjectManager::new(&api.client());
    manager
        .delete_owned(
            &[config_map("config", "1").id],
            &release(),
            &History::new(storage.list().await.unwrap()),
            &BTreeMap::new(),
        )
        .await
        .unwrap();
    let mut again = mine.clone();
    for server in [
        "uid",
        "resourceVersion",
        "managedFields",
        "creationTimestamp",
    ] {
        again["metadata"].as_object_mut().unwrap().remove(server);
    }
    api.put(again);

    let teardown::Outcome::Uninstalled { deleted, kept, .. } = uninstall(&api, &storage).await
    else {
        panic!("the release exists")
    };
    assert!(deleted.is_empty(), "{deleted:?}");
    let why: Vec<(String, &Keep)> = kept.iter().map(|(id, why)| (id.to_string(), why)).collect();
    assert!(
        matches!(why.as_slice(), [
            (class, Keep::NotOurs(crate::ownership::Owner::Other { name, .. })),
            (config, Keep::Replaced { .. }),
            (extra, Keep::NotOurs(crate::ownership::Owner::Unmarked)),
        ] if class == "IngressClass nginx" && name == "b"
            && config == "ConfigMap team/config" && extra == "ConfigMap team/extra"),
        "{why:?}"
    );
    assert_eq!(
        objects(&api),
        [
            "ConfigMap team/config",
            "ConfigMap team/extra",
            "IngressClass nginx",
        ]
    );
    assert_eq!(
        api.get(&config_map("extra", "1").id).unwrap()["data"],
        json!({"k": "a person's"})
    );
}

#[tokio::test]
async fn an_object_the_chart_marked_keep_is_never_pruned_even_once_its_mark_is_removed() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let mut shared = config_map("shared", "1");
    shared.object["metadata"]["annotations"] = json!({"helm.sh/resource-policy": "keep"});
    let shared_id = shared.id.clone();
    Run::new(&api, &storage, Operation::Install)
        .roll(vec![config_map("config", "1"), shared])
        .await
        .unwrap();
    assert!(History::new(storage.list().await.unwrap()).marked_keep(&shared_id));

    // Someone takes the mark off the live object by hand.
    edit_config_map(
        &api,
        "shared",
        json!({"metadata": {"annotations": {"helm.sh/resource-policy": null}}}),
    )
    .await;

    // The chart no longer renders it: nothing to do, nothing pruned.
    let prepared = Run::new(&api, &storage, Operation::Upgrade { install: false })
        .prepare(vec![config_map("config", "1")])
        .await
        .unwrap();
    assert_eq!(prepared.decision, Decision::Unchanged { revision: 1 });

    // Nor does uninstall delete it.
    let teardown::Outcome::Uninstalled { kept, .. } = uninstall(&api, &storage).await else {
        panic!("the release exists")
    };
    assert_eq!(kept, [(shared_id.clone(), Keep::Policy)]);
    assert!(api.get(&shared_id).is_some());
}

#[tokio::test]
async fn a_write_refused_half_way_fails_the_revision_and_releases_the_lock() {
    let api = cluster();
    let storage = MemoryStorage::default();
    api.refuse_writes_to("ingressclasses");
    let err = Run::new(&api, &storage, Operation::Install)
        .roll(vec![config_map("config", "1"), ingress_class("nginx")])
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("revision 1 is recorded as failed") && text.contains("forbidden"),
        "{text}"
    );
    assert_eq!(statuses(&storage).await, [(1, ReleaseStatus::Failed)]);
    // The objects before the refused one stay, recorded, for the next run to converge.
    assert_eq!(objects(&api), ["ConfigMap team/config"]);
}

#[tokio::test]
async fn a_lock_another_run_holds_stops_the_rollout_before_anything_is_written() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let now = k8s_openapi::jiff::Timestamp::now();
    api.put(
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "skyctl-lock-sky", "namespace": "team"},
        "spec": {"holderIdentity": "upgrade by someone@elsewhere", "leaseDurationSeconds": 60,
            "acquireTime": now.to_string(), "renewTime": now.to_string()}}),
    );
    let err = Run::new(&api, &storage, Operation::Install)
        .roll(vec![config_map("config", "1")])
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("someone@elsewhere"), "{err:#}");
    assert!(storage.list().await.unwrap().is_empty());
    assert_eq!(
        objects(&api).len(),
        1,
        "only the lease: {:?}",
        objects(&api)
    );
    let written: Vec<String> = writes(&api)
        .into_iter()
        .filter(|w| !w.contains("/leases"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[tokio::test]
async fn a_cluster_wide_object_made_meanwhile_stops_the_rollout_and_stays_its_makers() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let run = Run::new(&api, &storage, Operation::Install);
    let prepared = run
        .prepare(vec![config_map("config", "1"), ingress_class("nginx")])
        .await
        .unwrap();
    // Another run makes the IngressClass after this one found it absent.
    let theirs = api.put(ingress_class("nginx").object);
    let err = run.carry_out(&prepared).await.unwrap_err();
    assert!(format!("{err:#}").contains("IngressClass nginx"), "{err:#}");
    assert_eq!(api.get(&ingress_class("nginx").id).unwrap(), theirs);
    assert_eq!(statuses(&storage).await, [(1, ReleaseStatus::Failed)]);
}

#[tokio::test]
async fn the_wait_follows_each_object_until_its_controller_reports_it_ready() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let server = deployment("server");
    let mut run = Run::new(&api, &storage, Operation::Install);
    run.wait = Some(Duration::from_secs(60));
    let prepared = run.prepare(vec![server.clone()]).await.unwrap();
    let prepared_with = api.served().len();
    let controller = async {
        // The deployment controller reports the rollout once the wait watches it.
        until_watched(&api, prepared_with).await;
        assert_eq!(
            statuses(&storage).await,
            [(1, ReleaseStatus::PendingInstall)]
        );
        api.set_status(
            &server.id,
            json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                "availableReplicas": 1, "readyReplicas": 1}),
        );
    };
    let (executed, ()) = tokio::join!(run.carry_out(&prepared), controller);
    assert_eq!(executed.unwrap().revision, 1);
    assert_eq!(statuses(&storage).await, [(1, ReleaseStatus::Deployed)]);
    // Followed from its apply's answer: watched, neither polled nor read again.
    let after: Vec<String> = api.served()[prepared_with..]
        .iter()
        .filter(|s| s.uri.contains("/deployments"))
        .map(|s| format!("{} {}", s.method, s.uri))
        .collect();
    assert!(
        matches!(after.as_slice(), [apply, watch]
            if apply.starts_with("PATCH") && watch.contains("watch=true")),
        "{after:#?}"
    );
}

#[tokio::test]
async fn uninstall_waits_for_what_a_finalizer_holds_from_its_deletes_answer() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let mut held = config_map("held", "1");
    held.object["metadata"]["finalizers"] = json!(["skyctl.io/test-hold"]);
    Run::new(&api, &storage, Operation::Install)
        .roll(vec![held.clone()])
        .await
        .unwrap();
    let installed_with = api.served().len();
    let finalizer = async {
        // The finalizer's controller lets go once the uninstall watches the object.
        until_watched(&api, installed_with).await;
        edit_config_map(&api, "held", json!({"metadata": {"finalizers": null}})).await;
    };
    let (outcome, ()) = tokio::join!(uninstall(&api, &storage), finalizer);
    assert!(matches!(outcome, teardown::Outcome::Uninstalled { .. }));
    assert!(api.get(&held.id).is_none());
    let after: Vec<String> = api.served()[installed_with..]
        .iter()
        .filter(|s| s.uri.contains("/configmaps"))
        .map(|s| format!("{} {}", s.method, s.uri))
        .collect();
    let deleted = after
        .iter()
        .position(|s| s.starts_with("DELETE"))
        .expect("deleted");
    assert!(
        after[deleted + 1..]
            .iter()
            .all(|s| !s.starts_with("GET") || s.contains("watch=true")),
        "after the delete, only the watch: {after:#?}"
    );
}

/// The values of a release behind Gateway `public`.
fn behind_a_gateway() -> Value {
    json!({"skyctl": {"frontDoor": "gateway", "gateway": {"name": "public"}}})
}

#[tokio::test]
async fn a_move_to_another_front_door_prunes_the_old_one_only_once_the_new_one_answers() {
    let api = cluster();
    let storage = MemoryStorage::default();
    let old_door = || vec![config_map("sky-config", "1"), ingress_class("sky-nginx")];
    Run::new(&api, &storage, Operation::Install)
        .roll(old_door())
        .await
        .unwrap();
    let new_door = || {
        vec![
            config_map("sky-config", "1"),
            config_map("sky-api-route", "r"),
        ]
    };
    let class = ObjectRef {
        api_version: "networking.k8s.io/v1".into(),
        kind: "IngressClass".into(),
        namespace: None,
        name: "sky-nginx".into(),
    };
    let route = ObjectRef {
        namespace: Some("team".into()),
        ..ObjectRef::config_map("sky-api-route")
    };

    // The check finds the new door applied and the old one still there; then the old goes.
    let seen = std::sync::Mutex::new(None);
    let check = || -> futures::future::LocalBoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            *seen.lock().unwrap() = Some((api.get(&route).is_some(), api.get(&class).is_some()));
            Ok(())
        })
    };
    let mut run =
        Run::new(&api, &storage, Operation::Upgrade { install: false }).values(behind_a_gateway());
    run.hooks.before_prune = Some(&check);
    let prepared = run.prepare(new_door()).await.unwrap();
    let Decision::Rollout(rollout) = &prepared.decision else {
        panic!("a rollout")
    };
    assert!(rollout.moves_door);
    let executed = run.carry_out(&prepared).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), Some((true, true)));
    assert_eq!(executed.pruned, vec![class.clone()]);
    assert!(api.get(&class).is_none());

    // Back to ingress-nginx through a new door that does not answer: the door it came from
    // stays, and the revision is recorded as failed.
    let failing = || -> futures::future::LocalBoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { anyhow::bail!("the new front door does not answer") })
    };
    let mut back = Run::new(&api, &storage, Operation::Upgrade { install: false });
    back.hooks.before_prune = Some(&failing);
    let err = back.roll(old_door()).await.unwrap_err();
    assert!(format!("{err:#}").contains("does not answer"), "{err:#}");
    assert!(api.get(&class).is_some(), "the new door was applied");
    assert!(api.get(&route).is_some(), "the door users had is kept");
    assert_eq!(
        statuses(&storage).await.last(),
        Some(&(3, ReleaseStatus::Failed))
    );
}

#[tokio::test]
async fn without_a_move_the_check_before_pruning_is_not_run() {
    let api = cluster();
    let storage = MemoryStorage::default();
    Run::new(&api, &storage, Operation::Install)
        .roll(vec![config_map("a", "1"), config_map("b", "1")])
        .await
        .unwrap();
    let never = || -> futures::future::LocalBoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { anyhow::bail!("run without a move") })
    };
    let mut run = Run::new(&api, &storage, Operation::Upgrade { install: false });
    run.hooks.before_prune = Some(&never);
    let executed = run.roll(vec![config_map("a", "2")]).await.unwrap();
    assert_eq!(executed.pruned.len(), 1);
}
