//! Every branch of the rollout decisions, each against a simulated observation of the cluster.
//! Whole sequences, carried out by the real executor, are in `cluster::rollout`'s tests.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry, ObjectMeta};
use kube::api::DynamicObject;
use serde_json::{Value, json};

use super::*;
use crate::manifest::Manifest;

fn release() -> Release {
    Release {
        name: "sky".into(),
        namespace: "team".into(),
    }
}

fn manifest(kind: &str, name: &str, data: &str) -> Manifest {
    let (api_version, namespace) = match kind {
        "IngressClass" => ("networking.k8s.io/v1", None),
        "PersistentVolumeClaim" => ("v1", Some("team")),
        _ => ("v1", Some("team")),
    };
    let mut object = json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": name}, "data": {"k": data}});
    if let Some(namespace) = namespace {
        object["metadata"]["namespace"] = json!(namespace);
    }
    Manifest::from_object(0, object).unwrap()
}

fn options() -> Options {
    Options {
        dry_run: false,
        create_namespace: false,
        history_max: 10,
        take_ownership: TakeOwnership::No,
    }
}

/// The managedFields skyctl's apply of `object` leaves: every field it set.
fn fields_of(object: &Value) -> Value {
    match object {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind"))
                .map(|(k, v)| (format!("f:{k}"), fields_of(v)))
                .collect(),
        ),
        _ => json!({}),
    }
}

/// A simulated cluster: what carrying out a decision leaves, with skyctl owning all it set.
#[derive(Default)]
struct Cluster {
    live: BTreeMap<ObjectRef, DynamicObject>,
    namespace_exists: bool,
    next_uid: u32,
}

impl Cluster {
    fn put(&mut self, manifest: &Manifest) {
        self.next_uid += 1;
        let uid = self
            .live
            .get(&manifest.id)
            .and_then(|l| l.metadata.uid.clone())
            .unwrap_or_else(|| format!("uid-{}", self.next_uid));
        let mut metadata: ObjectMeta =
            serde_json::from_value(manifest.object["metadata"].clone()).unwrap();
        metadata.uid = Some(uid);
        metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some(FIELD_MANAGER.into()),
            operation: Some("Apply".into()),
            fields_v1: Some(FieldsV1(fields_of(&manifest.object))),
            ..Default::default()
        }]);
        let object = DynamicObject {
            types: None,
            metadata,
            data: json!({}),
        };
        self.live.insert(manifest.id.clone(), object);
    }

    fn observe(&self) -> Observation {
        Observation {
            namespace_exists: self.namespace_exists,
            live: self.live.clone(),
        }
    }
}

/// `decide` for the test release against the simulated cluster.
fn decide_on(
    cluster: &Cluster,
    history: &History,
    plan: &Plan,
    operation: Operation,
    values: &Value,
    options: Options,
) -> Result<Decision, Refusal> {
    let values = given(values.clone());
    decide(
        &release(),
        operation,
        history,
        plan,
        &cluster.observe(),
        &values,
        CHART,
        options,
    )
}

/// Values the user gave, rendered over no defaults.
fn given(user: Value) -> Resolved {
    Resolved {
        values: user.clone(),
        user,
    }
}

/// The chart version every revision in these tests is rendered from.
const CHART: &str = "0.13.0";

fn plan_of(manifests: Vec<Manifest>, history: &History, delete_data: bool) -> Plan {
    plan::plan(manifests, &history.owned_objects(), delete_data, &release())
}

fn record(revision: u32, status: ReleaseStatus, inventory: Vec<ObjectRef>) -> ReleaseRecord {
    ReleaseRecord {
        name: "sky".into(),
        namespace: "team".into(),
        revision,
        status,
        description: String::new(),
        first_deployed: "t".into(),
        last_deployed: "t".into(),
        skyctl_version: "0".into(),
        chart_version: CHART.into(),
        values: json!({}),
        computed_values: None,
        inventory,
        created_namespace: false,
        uids: BTreeMap::new(),
        keep: Default::default(),
    }
}

#[test]
fn operations_the_history_does_not_allow_are_refused() {
    use ReleaseStatus::*;
    let deployed = History::new(vec![record(1, Deployed, vec![])]);
    let failed_install = History::new(vec![record(1, Failed, vec![])]);
    let kept = History::new(vec![
        record(1, Superseded, vec![]),
        record(2, Uninstalled, vec![]),
    ]);
    let adopting = History::new(vec![ReleaseRecord {
        description: ADOPTING.into(),
        ..record(1, PendingInstall, vec![])
    }]);
    let kept_first = History::new(vec![record(1, Uninstalled, vec![])]);
    let empty = History::default();
    // Table: operation, history, expected outcome (None: allowed).
    let cases: Vec<(&str, Operation, &History, Option<&str>)> = vec![
        ("install anew", Operation::Install, &empty, None),
        (
            "install over a deployed release",
            Operation::Install,
            &deployed,
            Some("already exists"),
        ),
        (
            "install again after a failed install",
            Operation::Install,
            &failed_install,
            None,
        ),
        (
            "upgrade of nothing",
            Operation::Upgrade { install: false },
            &empty,
            Some("not found"),
        ),
        (
            "upgrade --install of nothing",
            Operation::Upgrade { install: true },
            &empty,
            None,
        ),
        (
            "upgrade of a failed install",
            Operation::Upgrade { install: false },
            &failed_install,
            Some("not found"),
        ),
        (
            "upgrade of an adopt that was interrupted",
            Operation::Upgrade { install: false },
            &adopting,
            Some("an adopt was interrupted: run `skyctl adopt sky -n team` again"),
        ),
        (
            "rollback of an adopt that was interrupted",
            Operation::Rollback { to: 1 },
            &adopting,
            Some("an adopt was interrupted"),
        ),
        (
            "rollback of nothing",
            Operation::Rollback { to: 1 },
            &empty,
            Some("not found"),
        ),
        (
            "rollback to a revision that never was",
            Operation::Rollback { to: 7 },
            &deployed,
            Some("has no revision 7"),
        ),
        (
            "rollback to a revision that was",
            Operation::Rollback { to: 1 },
            &deployed,
            None,
        ),
        (
            "install over a history kept by uninstall",
            Operation::Install,
            &kept,
            None,
        ),
        (
            "upgrade --install over a history kept by uninstall",
            Operation::Upgrade { install: true },
            &kept,
            None,
        ),
        (
            "upgrade of a release uninstalled with its history kept",
            Operation::Upgrade { install: false },
            &kept,
            Some("was uninstalled with --keep-history"),
        ),
        (
            "rollback to the only revision, uninstalled with its history kept",
            Operation::Rollback { to: 1 },
            &kept_first,
            None,
        ),
        (
            "rollback of a release uninstalled with its history kept",
            Operation::Rollback { to: 1 },
            &kept,
            None,
        ),
    ];
    let cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    for (name, operation, history, refused) in cases {
        let plan = plan_of(vec![manifest("ConfigMap", "c", "1")], history, false);
        let result = decide_on(&cluster, history, &plan, operation, &json!({}), options());
        match (refused, result) {
            (None, Ok(_)) => {}
            (Some(words), Err(refusal)) => {
                assert!(refusal.to_string().contains(words), "{name}: {refusal}")
            }
            (expected, got) => panic!("{name}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn a_missing_namespace_is_refused_unless_it_may_be_created_and_then_it_is_recorded() {
    let cluster = Cluster::default();
    let plan = plan_of(
        vec![manifest("ConfigMap", "c", "1")],
        &History::default(),
        false,
    );
    let refusal = decide_on(
        &cluster,
        &History::default(),
        &plan,
        Operation::Install,
        &json!({}),
        options(),
    )
    .unwrap_err();
    assert_eq!(refusal, Refusal::NoNamespace("team".into()));
    assert!(refusal.is_bad_input());
    let create = Options {
        create_namespace: true,
        ..options()
    };
    let Ok(Decision::Rollout(rollout)) = decide_on(
        &cluster,
        &History::default(),
        &plan,
        Operation::Install,
        &json!({}),
        create,
    ) else {
        panic!("an install that may create the namespace rolls out");
    };
    assert!(rollout.create_namespace);
    assert!(rollout.record.created_namespace);
    assert_eq!(rollout.record.status, ReleaseStatus::PendingInstall);
}

#[test]
fn another_releases_object_is_refused_before_anything_is_written_even_in_a_new_namespace() {
    let mut cluster = Cluster::default();
    let class = manifest("IngressClass", "nginx", "1");
    let theirs = Release {
        name: "other".into(),
        namespace: "elsewhere".into(),
    };
    cluster.put(&plan::stamp(class.clone(), &theirs));
    let plan = plan_of(vec![class], &History::default(), false);
    let create = Options {
        create_namespace: true,
        ..options()
    };
    let refusal = decide_on(
        &cluster,
        &History::default(),
        &plan,
        Operation::Install,
        &json!({}),
        create,
    )
    .unwrap_err();
    assert!(
        matches!(refusal, Refusal::OwnedByOtherRelease { .. }),
        "{refusal:?}"
    );
    assert!(
        refusal
            .to_string()
            .contains("release other in namespace elsewhere")
    );
}

#[test]
fn an_object_no_release_owns_is_taken_over_only_when_told() {
    let mut cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    let class = manifest("IngressClass", "nginx", "1");
    cluster.put(&class); // made by hand: no release annotations
    let plan = plan_of(vec![class], &History::default(), false);
    let refusal = decide_on(
        &cluster,
        &History::default(),
        &plan,
        Operation::Install,
        &json!({}),
        options(),
    )
    .unwrap_err();
    assert!(
        matches!(
            refusal,
            Refusal::NotOurs {
                owner: Owner::Unmarked,
                ..
            }
        ),
        "{refusal:?}"
    );
    assert!(refusal.to_string().contains("--take-ownership"));
    let take = Options {
        take_ownership: TakeOwnership::Any,
        ..options()
    };
    let Ok(Decision::Rollout(rollout)) = decide_on(
        &cluster,
        &History::default(),
        &plan,
        Operation::Install,
        &json!({}),
        take,
    ) else {
        panic!("with --take-ownership the install goes ahead");
    };
    assert_eq!(rollout.count(Change::Update), 1);
}

#[test]
fn an_upgrade_of_a_name_helm_holds_is_sent_to_adopt() {
    let not_found = || Refusal::NotFound {
        name: "sky".into(),
        namespace: "team".into(),
    };
    let text = beside_helm(not_found(), true).to_string();
    assert!(
        text.contains("is Helm's, not skyctl's: `skyctl adopt sky -n team`"),
        "{text}"
    );
    assert_eq!(beside_helm(not_found(), false), not_found());
    let other = Refusal::NoNamespace("team".into());
    assert_eq!(beside_helm(other.clone(), true), other);
}

#[test]
fn adopt_takes_over_its_helm_releases_objects_and_unmarked_ones_but_never_another_helm_releases() {
    let helm_of = |name: &str, namespace: &str| json!({"meta.helm.sh/release-name": name, "meta.helm.sh/release-namespace": namespace});
    let adopt = Options {
        take_ownership: TakeOwnership::HelmRelease,
        ..options()
    };
    for (annotations, taken) in [
        (helm_of("sky", "team"), true),
        (json!({}), true),
        (helm_of("keeper", "team"), false),
        (helm_of("sky", "elsewhere"), false),
    ] {
        let mut cluster = Cluster {
            namespace_exists: true,
            ..Cluster::default()
        };
        let mut config = manifest("ConfigMap", "sky-config", "1");
        config.object["metadata"]["annotations"] = annotations.clone();
        cluster.put(&config);
        let plan = plan_of(
            vec![manifest("ConfigMap", "sky-config", "1")],
            &History::default(),
            false,
        );
        let decision = decide_on(
            &cluster,
            &History::default(),
            &plan,
            Operation::Upgrade { install: true },
            &json!({}),
            adopt,
        );
        match decision {
            // Its pending revision says it is an adopt's, should the run stop before it deploys.
            Ok(Decision::Rollout(rollout)) if taken => {
                assert_eq!(rollout.record.description, ADOPTING)
            }
            Err(refusal @ Refusal::OtherHelmRelease { .. }) if !taken => {
                let text = refusal.to_string();
                assert!(
                    text.contains("not to the Helm release being adopted"),
                    "{text}"
                );
                assert!(!text.contains("--take-ownership"), "{text}");
                assert!(!refusal.is_bad_input());
            }
            other => panic!("{annotations}: {other:?}"),
        }
    }
}

#[test]
fn a_data_volume_is_retained_unless_data_may_be_deleted() {
    let mut cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    let claim = plan::stamp(manifest("PersistentVolumeClaim", "state", "1"), &release());
    cluster.put(&claim);
    let h = History::new(vec![record(
        1,
        ReleaseStatus::Deployed,
        vec![claim.id.clone()],
    )]);
    let kept = teardown(&release(), &h, &cluster.observe(), false);
    assert_eq!((kept.delete.len(), kept.retain.len()), (0, 1));
    let deleted = teardown(&release(), &h, &cluster.observe(), true);
    assert_eq!((deleted.delete.len(), deleted.retain.len()), (1, 0));
}

// A claim the release no longer renders stays listed while it is there and its own. An
// uninstall stopped after deleting it, then an upgrade, listed the deleted claim as the
// release's, and `status` showed an object that was gone (the model-based test found it).
#[test]
fn an_upgrade_lists_a_retained_claim_only_while_it_is_there_and_the_releases() {
    let claim = plan::stamp(
        manifest("PersistentVolumeClaim", "old-state", "1"),
        &release(),
    );
    let config = manifest("ConfigMap", "config", "1");
    let h = History::new(vec![record(
        1,
        ReleaseStatus::Deployed,
        vec![claim.id.clone(), config.id.clone()],
    )]);
    let plan = plan_of(vec![config.clone()], &h, false);
    assert_eq!(plan.retain, vec![claim.id.clone()]);
    let taken = {
        let mut other = claim.clone();
        other.object["metadata"]["annotations"][plan::RELEASE_NAME] = json!("other");
        other
    };
    for (live, listed) in [(Some(&claim), true), (None, false), (Some(&taken), false)] {
        let mut cluster = Cluster {
            namespace_exists: true,
            ..Cluster::default()
        };
        if let Some(live) = live {
            cluster.put(live);
        }
        let decision = decide_on(
            &cluster,
            &h,
            &plan,
            Operation::Upgrade { install: false },
            &json!({"changed": true}),
            options(),
        )
        .unwrap();
        let Decision::Rollout(rollout) = decision else {
            panic!("an upgrade that changes values rolls out")
        };
        assert_eq!(
            rollout.record.inventory.contains(&claim.id),
            listed,
            "{live:?}"
        );
        assert_eq!(rollout.retain.contains(&claim.id), listed);
    }
}

#[test]
fn interrupted_revisions_are_failed_and_the_next_revision_follows_the_latest() {
    use ReleaseStatus::*;
    let h = History::new(vec![
        record(1, Deployed, vec![]),
        record(2, PendingUpgrade, vec![]),
    ]);
    let cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    let plan = plan_of(vec![manifest("ConfigMap", "c", "1")], &h, false);
    let Decision::Rollout(rollout) = decide_on(
        &cluster,
        &h,
        &plan,
        Operation::Upgrade { install: false },
        &json!({}),
        options(),
    )
    .unwrap() else {
        panic!("a pending revision is never a no-op")
    };
    assert_eq!(rollout.record.revision, 3);
    assert_eq!(rollout.interrupted.len(), 1);
    assert_eq!(rollout.interrupted[0].status, Failed);
    assert!(
        rollout.interrupted[0]
            .description
            .contains("interrupted: skyctl stopped during pending-upgrade")
    );
}

#[test]
fn a_dry_run_is_decided_like_the_real_run() {
    let cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    let plan = plan_of(
        vec![manifest("ConfigMap", "c", "1")],
        &History::default(),
        false,
    );
    let dry = Options {
        dry_run: true,
        ..options()
    };
    let Ok(Decision::Rollout(rollout)) = decide_on(
        &cluster,
        &History::default(),
        &plan,
        Operation::Install,
        &json!({}),
        dry,
    ) else {
        panic!("a dry run decides a rollout")
    };
    assert!(rollout.dry_run);
    assert_eq!(rollout.count(Change::Create), 1);
}

#[test]
fn finishing_supersedes_every_other_deployed_revision_and_trims_the_oldest() {
    use ReleaseStatus::*;
    let h = History::new(vec![
        record(1, Superseded, vec![]),
        record(2, Deployed, vec![]),
        // Another process deployed this one while the lock was forced away from it.
        record(3, Deployed, vec![]),
        record(4, PendingUpgrade, vec![]),
    ]);
    let done = deployed(&h.records[3], Operation::Upgrade { install: false }, None);
    let finished = finish(&h, &done, 3);
    let updated: Vec<(u32, ReleaseStatus)> = finished
        .update
        .iter()
        .map(|r| (r.revision, r.status))
        .collect();
    assert_eq!(updated, [(4, Deployed), (2, Superseded), (3, Superseded)]);
    let deleted: Vec<u32> = finished.delete.iter().map(|r| r.revision).collect();
    assert_eq!(deleted, [1]);
    assert!(
        finish(&h, &done, 0).delete.is_empty(),
        "0 keeps every revision"
    );
    assert_eq!(done.description, "Upgrade complete");
}

#[test]
fn atomic_returns_to_what_was_deployed_or_removes_a_failed_first_install() {
    use ReleaseStatus::*;
    let before_upgrade = History::new(vec![record(1, Deployed, vec![])]);
    let after_upgrade = History::new(vec![record(1, Deployed, vec![]), record(2, Failed, vec![])]);
    let after_install = History::new(vec![record(1, Failed, vec![])]);
    // Table: before, after, what --atomic does.
    let cases = [
        (
            "a failed upgrade",
            &before_upgrade,
            &after_upgrade,
            Recovery::RollBackTo(1),
        ),
        (
            "a failed first install",
            &History::default(),
            &after_install,
            Recovery::Uninstall,
        ),
        (
            "a failure before any record",
            &before_upgrade,
            &before_upgrade,
            Recovery::Nothing,
        ),
    ];
    for (name, before, after, expected) in cases {
        assert_eq!(recovery(before, after), expected, "{name}");
    }
}

#[test]
fn drift_inside_a_list_item_makes_an_unchanged_object_an_update() {
    let mut cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    let deployment = Manifest::from_object(
        0,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "api", "namespace": "team"},
               "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "sky:1"}]}}}}),
    )
    .unwrap();
    let stamped = plan::stamp(deployment.clone(), &release());
    cluster.put(&stamped);
    // What the simulated apply recorded has no keyed list entries; write them as the API server
    // does, then let another manager take the image (`kubectl set image`).
    let live = cluster.live.get_mut(&stamped.id).unwrap();
    let fields = &mut live.metadata.managed_fields.as_mut().unwrap()[0];
    let mut owned = fields.fields_v1.clone().unwrap().0;
    owned["f:spec"]["f:template"]["f:spec"]["f:containers"] =
        json!({"k:{\"name\":\"api\"}": {".": {}, "f:name": {}}});
    fields.fields_v1 = Some(FieldsV1(owned));
    let h = History::new(vec![record(
        1,
        ReleaseStatus::Deployed,
        vec![stamped.id.clone()],
    )]);
    let plan = plan_of(vec![deployment], &h, false);
    let Decision::Rollout(rollout) = decide_on(
        &cluster,
        &h,
        &plan,
        Operation::Upgrade { install: false },
        &json!({}),
        options(),
    )
    .unwrap() else {
        panic!("drift is a change")
    };
    assert_eq!(rollout.count(Change::Update), 1);
}

#[test]
fn a_revision_records_the_user_values_and_the_values_it_was_computed_from() {
    let cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    let history = History::default();
    let plan = plan_of(vec![manifest("ConfigMap", "c", "1")], &history, false);
    let values = Resolved {
        values: json!({"a": 1, "b": "default"}),
        user: json!({"a": 1}),
    };
    let Ok(Decision::Rollout(rollout)) = decide(
        &release(),
        Operation::Install,
        &history,
        &plan,
        &cluster.observe(),
        &values,
        CHART,
        options(),
    ) else {
        panic!("an install rolls out")
    };
    assert_eq!(rollout.record.values, json!({"a": 1}));
    assert_eq!(rollout.record.computed_values, Some(values.values));
}

#[test]
fn an_upgrade_reuses_recorded_values_as_helms_flags_say() {
    use ValuesBase::*;
    use ValuesMode::*;
    // Table: mode, values given, a deployed revision recorded values, what the upgrade starts from.
    let cases = [
        (Default, false, true, Recorded),
        (Default, true, true, Defaults),
        (Default, false, false, Defaults),
        (Reuse, false, true, RecordedAndItsDefaults),
        (Reuse, true, true, RecordedAndItsDefaults),
        (Reuse, true, false, Defaults),
        (Reset, false, true, Defaults),
        (Reset, true, true, Defaults),
        (ResetThenReuse, false, true, Recorded),
        (ResetThenReuse, true, true, Recorded),
        (ResetThenReuse, true, false, Defaults),
    ];
    for (mode, given, recorded, expected) in cases {
        assert_eq!(
            values_base(mode, given, recorded),
            expected,
            "{mode:?}, values given: {given}, recorded: {recorded}"
        );
    }
}

#[test]
fn a_description_given_by_the_user_replaces_the_default_one() {
    let pending = |status| record(2, status, vec![]);
    let upgrade = Operation::Upgrade { install: false };
    let cases = [
        (
            ReleaseStatus::PendingInstall,
            Operation::Install,
            None,
            "Install complete",
        ),
        (
            ReleaseStatus::PendingUpgrade,
            upgrade,
            None,
            "Upgrade complete",
        ),
        (
            ReleaseStatus::PendingInstall,
            upgrade,
            None,
            "Install complete",
        ),
        (
            ReleaseStatus::PendingRollback,
            Operation::Rollback { to: 1 },
            None,
            "Rollback to 1 complete",
        ),
        (
            ReleaseStatus::PendingUpgrade,
            upgrade,
            Some("bump the image"),
            "bump the image",
        ),
    ];
    for (status, operation, given, expected) in cases {
        let done = deployed(&pending(status), operation, given);
        assert_eq!(done.description, expected, "{status:?} {operation:?}");
        assert_eq!(done.status, ReleaseStatus::Deployed);
    }
}

// A claim marked keep (by the chart, or by the user's storage annotations) is still data: kept
// as data without --delete-data, so that --delete-namespace weighs it as data and nothing
// --also-delete names takes it.
#[test]
fn a_claim_marked_keep_is_retained_as_data() {
    let claim = plan::stamp(manifest("PersistentVolumeClaim", "state", "1"), &release());
    let mut cluster = Cluster {
        namespace_exists: true,
        ..Cluster::default()
    };
    cluster.put(&claim);
    let mut marked = record(1, ReleaseStatus::Deployed, vec![claim.id.clone()]);
    marked.keep.insert(claim.id.to_string());
    let h = History::new(vec![marked]);
    let decided = teardown(&release(), &h, &cluster.observe(), false);
    assert_eq!(decided.retain, std::slice::from_ref(&claim.id));
    assert!(
        decided.delete.is_empty() && decided.keep.is_empty(),
        "{decided:?}"
    );
}
