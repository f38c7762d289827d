//! The API server's behaviour the executor relies on, as scenarios over the ConfigMaps of one
//! namespace. Only `kube` and `serde_json`: the integration tests include this file as it is
//! and run it against the real API server.

use futures::StreamExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions, WatchParams};
use kube::core::{DynamicObject, WatchEvent};
use serde_json::{Value, json};

fn config_map(api: &Api<DynamicObject>, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": api.namespace()}, "data": data})
}

fn is_conflict(result: &kube::Result<impl std::fmt::Debug>, naming: &str) -> bool {
    matches!(result, Err(kube::Error::Api(s)) if s.code == 409 && s.message.contains(naming))
}

/// Server-side apply: a create, an apply that changes nothing and writes nothing, a conflict
/// with a person's field unless forced, a field no longer applied removed, and a
/// resourceVersion checked against an existing object and ignored by a create.
pub async fn apply(api: &Api<DynamicObject>) {
    let apply = PatchParams::apply("skyctl");
    let both = config_map(api, "c", json!({"a": "1", "b": "1"}));
    let created = api.patch("c", &apply, &Patch::Apply(&both)).await.unwrap();
    let again = api.patch("c", &apply, &Patch::Apply(&both)).await.unwrap();
    assert_eq!(
        again.metadata.resource_version, created.metadata.resource_version,
        "an apply that changes nothing writes nothing"
    );
    let edit = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    api.patch("c", &edit, &Patch::Merge(json!({"data": {"a": "2"}})))
        .await
        .unwrap();
    let only_a = config_map(api, "c", json!({"a": "1"}));
    let refused = api.patch("c", &apply, &Patch::Apply(&only_a)).await;
    assert!(is_conflict(&refused, "kubectl-edit"), "{refused:?}");
    let forced = PatchParams {
        force: true,
        ..apply.clone()
    };
    let taken = api
        .patch("c", &forced, &Patch::Apply(&only_a))
        .await
        .unwrap();
    assert_eq!(
        taken.data["data"],
        json!({"a": "1"}),
        "b is no longer applied"
    );
    let mut stale = config_map(api, "c", json!({"a": "3"}));
    stale["metadata"]["resourceVersion"] = json!("1");
    let refused = api.patch("c", &forced, &Patch::Apply(&stale)).await;
    assert!(is_conflict(&refused, "modified"), "{refused:?}");
    stale["metadata"]["name"] = json!("d");
    api.patch("d", &forced, &Patch::Apply(&stale))
        .await
        .unwrap();
}

/// Deletes: a precondition that does not hold is a conflict; a finalizer holds the object,
/// marked with a deletion time, until it goes.
pub async fn delete(api: &Api<DynamicObject>) {
    let mut held = config_map(api, "held", json!({}));
    held["metadata"]["finalizers"] = json!(["skyctl.io/test-hold"]);
    let held: DynamicObject = serde_json::from_value(held).unwrap();
    api.create(&PostParams::default(), &held).await.unwrap();
    let another = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("another".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let refused = api.delete("held", &another).await;
    assert!(
        is_conflict(&refused, "does not match the UID"),
        "{refused:?}"
    );
    let marked = api.delete("held", &DeleteParams::default()).await.unwrap();
    let marked = marked.left().expect("the object, still there");
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert!(api.get_opt("held").await.unwrap().is_some());
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("held").await.unwrap().is_none());
}

/// A watch of one object from the version read sees its deletion.
pub async fn watch(api: &Api<DynamicObject>) {
    let made = api
        .patch(
            "watched",
            &PatchParams::apply("skyctl"),
            &Patch::Apply(config_map(api, "watched", json!({"a": "1"}))),
        )
        .await
        .unwrap();
    let version = made.metadata.resource_version.unwrap();
    let only_it = WatchParams::default().fields("metadata.name=watched");
    let mut events = api.watch(&only_it, &version).await.unwrap().boxed();
    api.delete("watched", &DeleteParams::default())
        .await
        .unwrap();
    let event = events.next().await.unwrap().unwrap();
    assert!(matches!(event, WatchEvent::Deleted(_)), "{event:?}");
}
