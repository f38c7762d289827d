//! The one object manager in front of the API server: it reads objects, previews and applies
//! them with server-side apply (field manager `skyctl`), and deletes only what a release owns.
//! It decides nothing (see `decide`) and prints nothing: it returns what happened.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use futures::future::join_all;
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, Preconditions, WatchEvent,
    WatchParams,
};
use kube::core::NamespaceResourceScope;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::resources;
use crate::decide::FIELD_MANAGER;
use crate::manifest::{Manifest, ObjectRef};
use crate::namespace_deletion::Resident;
use crate::ownership::{self, Keep};
use crate::poll::Pauses;
use crate::release::{History, Release};

/// A field skyctl would set that another field manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    pub field: String,
    pub owner: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{object}: {}\nNothing was changed. Run again with --force-conflicts to take ownership of {}.",
        describe_conflicts(.conflicts),
        if .conflicts.len() == 1 { "this field" } else { "these fields" })]
    Conflict {
        object: ObjectRef,
        conflicts: Vec<FieldConflict>,
    },
    #[error("{object}: {}", api_message(.source))]
    Api {
        object: ObjectRef,
        source: kube::Error,
    },
    #[error(
        "{object} was made by someone else after this run read the cluster (another skyctl run \
         may be installing a release of the same name, or one that renders the same cluster-wide \
         object); it was left as it is, and nothing after it was written. `skyctl list -A` shows \
         the releases; run again and the preflight names its owner"
    )]
    MadeMeanwhile { object: ObjectRef },
    #[error(transparent)]
    Resolve(#[from] anyhow::Error),
}

fn describe_conflicts(conflicts: &[FieldConflict]) -> String {
    conflicts
        .iter()
        .map(|c| format!("field {} is owned by field manager {:?}", c.field, c.owner))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The API server's own message for a rejected request, once; other errors as they are.
pub fn api_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// How to apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Take fields that other field managers own.
    pub force_conflicts: bool,
    /// Let the API server run the apply without persisting it.
    pub dry_run: bool,
}

/// Objects the API server refused in a preview, each with its reason. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[error("the cluster rejected {} object(s):\n  {}", .0.len(), .0.join("\n  "))]
pub struct Rejected(pub Vec<String>);

/// What deleting a set did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Deleted {
    pub deleted: Vec<ObjectRef>,
    /// Of those, the ones the API server has not removed yet (a finalizer holds them), as its
    /// answer to the delete had them: the others are gone already, and nothing need wait for
    /// them.
    pub pending: BTreeMap<ObjectRef, DynamicObject>,
    /// Objects left alone because they are not the release's (any more), and why.
    pub kept: Vec<(ObjectRef, Keep)>,
}

/// Deletes of one kind at once: a release has a few objects of a kind, and a bound keeps a
/// larger one within the API server's fairness limits.
const DELETES_IN_FLIGHT: usize = 16;

/// What became of one object [`ObjectManager::delete_owned`] was to delete.
enum Deletion {
    /// It was gone already.
    Gone,
    /// Deleted; `held` is the API server's answer while a finalizer still holds it.
    Deleted {
        held: Option<Box<DynamicObject>>,
    },
    Kept(Keep),
}

pub struct ObjectManager {
    client: kube::Client,
}

impl ObjectManager {
    pub fn new(client: &kube::Client) -> Self {
        Self {
            client: client.clone(),
        }
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The dynamic API for an object's kind, scoped to its namespace when it has one.
    pub async fn api(&self, id: &ObjectRef) -> anyhow::Result<Api<DynamicObject>> {
        let resource = resources::resolve(&self.client, id).await?;
        Ok(match (&id.namespace, resource.namespaced) {
            (Some(namespace), true) => {
                Api::namespaced_with(self.client.clone(), namespace, &resource.api)
            }
            _ => Api::all_with(self.client.clone(), &resource.api),
        })
    }

    /// The live object, if it exists.
    pub async fn get(&self, id: &ObjectRef) -> anyhow::Result<Option<DynamicObject>> {
        self.api(id)
            .await?
            .get_opt(&id.name)
            .await
            .with_context(|| format!("cannot read {id}"))
    }

    /// Follows one object until `settled` says so of it: `settled` is shown the object as read
    /// (`None`: absent), then as each change arrives from a watch of it alone, from the version
    /// read. A wait thus sees each change when it happens, where polling made a request every
    /// pause and noticed a change only at the next one. A watch the API server ends (its own
    /// timeout, a version too old) starts again from a fresh read; an object absent and not
    /// settled is read again after a pause.
    ///
    /// `seen` is the object as this run last had it from the API server (the answer to its
    /// apply or delete, or its read): then the first read is not made, and the watch starts
    /// from that version, so no change since is missed.
    pub async fn follow(
        &self,
        id: &ObjectRef,
        mut seen: Option<DynamicObject>,
        mut settled: impl AsyncFnMut(Option<&DynamicObject>) -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        let api = self.api(id).await?;
        let only_it = WatchParams::default().fields(&format!("metadata.name={}", id.name));
        let read = async || {
            api.get_opt(&id.name)
                .await
                .with_context(|| format!("cannot read {id}"))
        };
        let mut pauses = Pauses::default();
        loop {
            let found = match seen.take() {
                Some(object) => Some(object),
                None => read().await?,
            };
            if settled(found.as_ref()).await? {
                return Ok(());
            }
            let Some(object) = found else {
                tokio::time::sleep(pauses.next_pause()).await;
                continue;
            };
            let version = object.metadata.resource_version.unwrap_or_default();
            let mut events = match api.watch(&only_it, &version).await {
                Ok(events) => events.boxed(),
                // Whoever may read may not always watch: then it is read again after a pause.
                Err(kube::Error::Api(status)) if status.code == 403 => loop {
                    tokio::time::sleep(pauses.next_pause()).await;
                    if settled(read().await?.as_ref()).await? {
                        return Ok(());
                    }
                },
                Err(err) => return Err(err).with_context(|| format!("cannot watch {id}")),
            };
            while let Some(event) = events
                .try_next()
                .await
                .with_context(|| format!("cannot watch {id}"))?
            {
                let now = match &event {
                    WatchEvent::Added(object) | WatchEvent::Modified(object) => Some(object),
                    WatchEvent::Deleted(_) => None,
                    WatchEvent::Bookmark(_) => continue,
                    WatchEvent::Error(_) => break,
                };
                if settled(now).await? {
                    return Ok(());
                }
                if now.is_none() {
                    break;
                }
            }
        }
    }

    /// The live objects among `ids` (see [`Self::read_each`]); absent ones are left out.
    pub async fn observe<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a ObjectRef>,
    ) -> anyhow::Result<BTreeMap<ObjectRef, DynamicObject>> {
        let ids: Vec<&ObjectRef> = ids.into_iter().collect();
        let found = self.read_each(&ids).await;
        let mut live = BTreeMap::new();
        for (id, object) in ids.into_iter().zip(found) {
            if let Some(object) = object? {
                live.insert(id.clone(), object);
            }
        }
        Ok(live)
    }

    /// Each of `ids` as the cluster has it (`None`: absent), or why it could not be read, in
    /// the order given. Several objects of one kind in one namespace cost one list of what
    /// skyctl manages there (the label `plan::managed_by_selector` names, which skyctl puts on
    /// everything it applies), so the requests grow with the kinds a release renders, not with
    /// its objects nor with the rest of the cluster. What the list does not hold (absent, or
    /// not labelled: Helm's, a person's) is read by name, and so is a kind the admin may not
    /// list.
    pub async fn read_each(
        &self,
        ids: &[&ObjectRef],
    ) -> Vec<anyhow::Result<Option<DynamicObject>>> {
        let mut kinds: BTreeMap<(&str, &str, Option<&str>), usize> = BTreeMap::new();
        for id in ids {
            *kinds
                .entry((&id.api_version, &id.kind, id.namespace.as_deref()))
                .or_default() += 1;
        }
        let shared: Vec<&ObjectRef> = kinds
            .iter()
            .filter(|(_, count)| **count > 1)
            .filter_map(|((api_version, kind, namespace), _)| {
                ids.iter().copied().find(|id| {
                    id.api_version == *api_version
                        && id.kind == *kind
                        && id.namespace.as_deref() == *namespace
                })
            })
            .collect();
        let alone = |id: &ObjectRef| {
            kinds[&(
                id.api_version.as_str(),
                id.kind.as_str(),
                id.namespace.as_deref(),
            )] == 1
        };
        // The only object of its kind in its namespace is read by name at once, beside the
        // lists, rather than after them.
        let (listed, singles) = futures::join!(
            join_all(shared.into_iter().map(|id| self.list_managed_like(id))),
            join_all(ids.iter().filter(|id| alone(id)).map(|id| self.get(id))),
        );
        let listed: BTreeMap<ObjectRef, DynamicObject> =
            listed.into_iter().flatten().flatten().collect();
        let rest = join_all(ids.iter().filter(|id| !alone(id)).map(|id| async {
            match listed.get(*id) {
                Some(object) => Ok(Some(object.clone())),
                None => self.get(id).await,
            }
        }))
        .await;
        let (mut singles, mut rest) = (singles.into_iter(), rest.into_iter());
        ids.iter()
            .map(|id| {
                let next = if alone(id) {
                    singles.next()
                } else {
                    rest.next()
                };
                next.expect("one answer for each id")
            })
            .collect()
    }

    /// What skyctl manages of `id`'s kind in `id`'s namespace, by identity; `None` when the
    /// list cannot be made, for the caller to read by name instead.
    async fn list_managed_like(&self, id: &ObjectRef) -> Option<Vec<(ObjectRef, DynamicObject)>> {
        let api = self.api(id).await.ok()?;
        let list = api
            .list(&ListParams::default().labels(&crate::plan::managed_by_selector()))
            .await
            .ok()?;
        let types = kube::core::TypeMeta {
            api_version: id.api_version.clone(),
            kind: id.kind.clone(),
        };
        Some(
            list.items
                .into_iter()
                .filter_map(|mut object| {
                    let name = object.metadata.name.clone()?;
                    // A list's items carry no kind of their own; a GET's do.
                    object.types = Some(types.clone());
                    let found = ObjectRef { name, ..id.clone() };
                    Some((found, object))
                })
                .collect(),
        )
    }

    /// Everything in `namespace`, of every kind that can be listed there (their metadata): what
    /// deleting the namespace would delete. A kind that may not be listed is an error, since
    /// what it holds cannot be told.
    pub async fn residents(&self, namespace: &str) -> anyhow::Result<Vec<Resident>> {
        let discovery = kube::discovery::Discovery::new(self.client.clone())
            .run()
            .await
            .context("cannot discover the kinds of objects the cluster serves")?;
        let kinds: Vec<kube::discovery::ApiResource> = discovery
            .groups()
            .flat_map(|group| group.recommended_resources())
            .filter(|(_, caps)| {
                caps.scope == kube::discovery::Scope::Namespaced
                    && caps.supports_operation(kube::discovery::verbs::LIST)
            })
            .map(|(resource, _)| resource)
            .collect();
        let lists = join_all(kinds.iter().map(|kind| async move {
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client.clone(), namespace, kind);
            api.list_metadata(&kube::api::ListParams::default())
                .await
                .with_context(|| {
                    format!("cannot list the {} in namespace {namespace}", kind.plural)
                })
        }))
        .await;
        let mut seen = BTreeSet::new();
        let mut residents = Vec::new();
        for (kind, list) in kinds.iter().zip(lists) {
            for item in list?.items {
                // One object served by two groups (Events) is one resident.
                if let Some(uid) = &item.metadata.uid
                    && !seen.insert(uid.clone())
                {
                    continue;
                }
                residents.push(Resident {
                    id: ObjectRef {
                        api_version: kind.api_version.clone(),
                        kind: kind.kind.clone(),
                        namespace: Some(namespace.to_owned()),
                        name: item.metadata.name.clone().unwrap_or_default(),
                    },
                    meta: item.metadata,
                });
            }
        }
        Ok(residents)
    }

    /// Server-side applies one object and returns it as the API server stored (or, in a dry
    /// run, would store) it.
    pub async fn apply(
        &self,
        manifest: &Manifest,
        options: ApplyOptions,
    ) -> Result<DynamicObject, ApplyError> {
        let api = self.api(&manifest.id).await?;
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = options.force_conflicts;
        params.dry_run = options.dry_run;
        api.patch(&manifest.id.name, &params, &Patch::Apply(&manifest.object))
            .await
            .map_err(|source| classify(&manifest.id, source))
    }

    /// Creates an object the rollout found absent, as an apply of skyctl's field manager. The
    /// create is refused once the object exists: another run made it meanwhile (two installs
    /// racing for one cluster-wide name), and this run stops there rather than take it over,
    /// as a plain apply would (both runs apply as `skyctl`).
    ///
    /// An apply that creates ignores the resourceVersion it carries; one that changes an
    /// object checks it, and no object ever has version 1 (etcd's first write is revision 2).
    /// One request, where a create followed by an apply and a patch of the field managers took
    /// three.
    pub async fn create(&self, manifest: &Manifest) -> Result<DynamicObject, ApplyError> {
        const NO_OBJECT_HAS_IT: &str = "1";
        let api = self.api(&manifest.id).await?;
        let mut object = manifest.object.clone();
        object["metadata"]["resourceVersion"] = json!(NO_OBJECT_HAS_IT);
        // Forced: with no other field owner to conflict with, a conflict can only be the
        // version, that is, an object that exists.
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = true;
        match api
            .patch(&manifest.id.name, &params, &Patch::Apply(&object))
            .await
        {
            Err(kube::Error::Api(status)) if status.is_conflict() => {
                Err(ApplyError::MadeMeanwhile {
                    object: manifest.id.clone(),
                })
            }
            other => other.map_err(|source| classify(&manifest.id, source)),
        }
    }

    /// A server-side dry run of every object: the API server validates each and reports every
    /// field conflict, and persists nothing. Returns each object as it would be stored.
    ///
    /// Objects in one of the `missing` namespaces, which do not exist yet, are checked in the
    /// stand-in namespace `default`: the API server refuses anything in a missing namespace,
    /// and a check must not create it (a `--dry-run --create-namespace`, or a chart's own
    /// Namespace object that the rollout has not applied yet).
    pub async fn preview(
        &self,
        manifests: &[&Manifest],
        force_conflicts: bool,
        missing: &BTreeSet<String>,
    ) -> Result<Vec<DynamicObject>, Rejected> {
        const STAND_IN: &str = "default";
        let checks: Vec<(Manifest, ApplyOptions)> = manifests
            .iter()
            .map(|m| match &m.id.namespace {
                // Only validity is checked in a stand-in namespace; an object of the same
                // name there is not ours, so its field owners do not count.
                Some(namespace) if missing.contains(namespace) => (
                    in_namespace(m, STAND_IN),
                    ApplyOptions {
                        force_conflicts: true,
                        dry_run: true,
                    },
                ),
                _ => (
                    (*m).clone(),
                    ApplyOptions {
                        force_conflicts,
                        dry_run: true,
                    },
                ),
            })
            .collect();
        let results = join_all(checks.iter().map(|(m, options)| self.apply(m, *options))).await;
        let mut planned = Vec::new();
        let mut rejected = Vec::new();
        for (manifest, result) in manifests.iter().zip(results) {
            match result {
                Ok(mut object) => {
                    object.metadata.namespace = manifest.id.namespace.clone();
                    planned.push(object);
                }
                Err(ApplyError::Api { source, .. }) => {
                    rejected.push(format!("{}: {}", manifest.id, api_message(&source)));
                }
                Err(err) => rejected.push(err.to_string()),
            }
        }
        if rejected.is_empty() {
            Ok(planned)
        } else {
            Err(Rejected(rejected))
        }
    }

    /// Deletes each of `ids` that is still the release's, in their order kind by kind, the
    /// objects of one kind at once (as Helm does). Each is judged as `read` found it (read now
    /// if it holds none) and deleted only if it is still that very object, unchanged: its UID
    /// and resourceVersion are the delete's preconditions, so no second read is needed before
    /// a delete. An object changed since (a controller's status update, a person's edit) is
    /// read again and judged anew; one replaced by another of its name is kept.
    pub async fn delete_owned(
        &self,
        ids: &[ObjectRef],
        release: &Release,
        history: &History,
        read: &BTreeMap<ObjectRef, DynamicObject>,
    ) -> anyhow::Result<Deleted> {
        let mut report = Deleted::default();
        for kind in ids.chunk_by(|a, b| a.api_version == b.api_version && a.kind == b.kind) {
            let outcomes: Vec<anyhow::Result<Deletion>> = futures::stream::iter(kind)
                .map(|id| self.delete_if_owned(id, release, history, read.get(id)))
                .buffered(DELETES_IN_FLIGHT)
                .collect()
                .await;
            for (id, outcome) in kind.iter().zip(outcomes) {
                match outcome? {
                    Deletion::Gone => {}
                    Deletion::Deleted { held } => {
                        report.deleted.push(id.clone());
                        if let Some(held) = held {
                            report.pending.insert(id.clone(), *held);
                        }
                    }
                    Deletion::Kept(keep) => report.kept.push((id.clone(), keep)),
                }
            }
        }
        Ok(report)
    }

    async fn delete_if_owned(
        &self,
        id: &ObjectRef,
        release: &Release,
        history: &History,
        read: Option<&DynamicObject>,
    ) -> anyhow::Result<Deletion> {
        /// Changes between a read and the delete that are tolerated before giving up.
        const CHANGES: usize = 5;
        let mut live = match read {
            Some(object) => Some(object.clone()),
            None => self.get(id).await?,
        };
        let mut changes = 0;
        while let Some(object) = live.take() {
            if let Err(keep) =
                ownership::may_delete(&object.metadata, release, history.recorded_uid(id))
            {
                return Ok(Deletion::Kept(keep));
            }
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: object.metadata.uid.clone(),
                    resource_version: object.metadata.resource_version.clone(),
                }),
                ..DeleteParams::background()
            };
            match self.api(id).await?.delete(&id.name, &params).await {
                // The API server answers with the object, marked with a deletion time while a
                // finalizer still holds it, or with a Status: only the held ones are there yet.
                Ok(answer) => {
                    let held = answer
                        .left()
                        .filter(|object| object.metadata.deletion_timestamp.is_some())
                        .map(Box::new);
                    return Ok(Deletion::Deleted { held });
                }
                Err(kube::Error::Api(status)) if status.is_not_found() => {}
                Err(kube::Error::Api(status)) if status.is_conflict() && changes < CHANGES => {
                    changes += 1;
                    match self.get(id).await? {
                        Some(now) if now.metadata.uid != object.metadata.uid => {
                            return Ok(Deletion::Kept(Keep::Replaced {
                                recorded: object.metadata.uid.clone().unwrap_or_default(),
                                live: now.metadata.uid.unwrap_or_default(),
                            }));
                        }
                        now => live = now,
                    }
                }
                Err(err) => {
                    return Err(
                        anyhow::anyhow!(api_message(&err)).context(format!("cannot delete {id}"))
                    );
                }
            }
        }
        Ok(Deletion::Gone)
    }

    /// Whether the namespace exists (one GET).
    pub async fn namespace_exists(&self, namespace: &str) -> anyhow::Result<bool> {
        Ok(self.get(&namespace_ref(namespace)).await?.is_some())
    }

    /// Creates the namespace, marked as skyctl's.
    pub async fn create_namespace(&self, namespace: &str) -> anyhow::Result<()> {
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": namespace, "labels": {"app.kubernetes.io/managed-by": "skyctl"}}});
        let manifest = Manifest::from_object(0, object).expect("a namespace is an object");
        self.apply(&manifest, ApplyOptions::default())
            .await
            .with_context(|| format!("cannot create namespace {namespace}"))?;
        Ok(())
    }

    /// Deletes the namespace (and with it everything in it); true if it existed.
    pub async fn delete_namespace(&self, namespace: &str) -> anyhow::Result<bool> {
        self.delete_namespace_with(namespace, DeleteParams::background())
            .await
    }

    /// Deletes the namespace only if it is still the one with `uid`: a namespace deleted and
    /// made anew meanwhile is someone else's.
    pub async fn delete_namespace_if(&self, namespace: &str, uid: &str) -> anyhow::Result<bool> {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(uid.to_owned()),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        self.delete_namespace_with(namespace, params).await
    }

    async fn delete_namespace_with(
        &self,
        namespace: &str,
        params: DeleteParams,
    ) -> anyhow::Result<bool> {
        let api = self.api(&namespace_ref(namespace)).await?;
        delete_if_present(&api, namespace, &params)
            .await
            .with_context(|| format!("cannot delete namespace {namespace}"))
    }
}

/// The one delete that tolerates absence: true if the object existed.
pub async fn delete_if_present<K>(
    api: &Api<K>,
    name: &str,
    params: &DeleteParams,
) -> kube::Result<bool>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, params).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(false),
        Err(err) => Err(err),
    }
}

/// The same delete for a namespaced typed API, as used for release records and leases.
pub async fn delete_in_namespace<K>(api: &Api<K>, name: &str) -> kube::Result<bool>
where
    K: kube::Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + std::fmt::Debug,
{
    delete_if_present(api, name, &DeleteParams::default()).await
}

pub fn namespace_ref(namespace: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        namespace: None,
        name: namespace.to_owned(),
    }
}

/// The object with its namespace replaced, for a check in a stand-in namespace.
fn in_namespace(manifest: &Manifest, namespace: &str) -> Manifest {
    let mut object = manifest.object.clone();
    object["metadata"]["namespace"] = json!(namespace);
    Manifest::from_object(0, object).expect("the object had its identity already")
}

fn classify(id: &ObjectRef, source: kube::Error) -> ApplyError {
    if let kube::Error::Api(status) = &source
        && status.is_conflict()
    {
        let conflicts: Vec<FieldConflict> = status
            .details
            .iter()
            .flat_map(|details| &details.causes)
            .filter(|cause| cause.reason == "FieldManagerConflict")
            .map(|cause| FieldConflict {
                field: cause.field.clone(),
                owner: owner_of(&cause.message),
            })
            .collect();
        if !conflicts.is_empty() {
            return ApplyError::Conflict {
                object: id.clone(),
                conflicts,
            };
        }
    }
    ApplyError::Api {
        object: id.clone(),
        source,
    }
}

/// The manager named in an API server conflict cause: `conflict with "kubectl" using apps/v1`.
fn owner_of(message: &str) -> String {
    message.split('"').nth(1).unwrap_or(message).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_read_from_the_conflict_message() {
        assert_eq!(
            owner_of(r#"conflict with "kubectl-scale" using apps/v1"#),
            "kubectl-scale"
        );
        assert_eq!(owner_of("something else"), "something else");
    }

    #[test]
    fn a_conflict_names_object_field_owner_and_the_way_out() {
        let err = ApplyError::Conflict {
            object: ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: Some("sky".into()),
                name: "api".into(),
            },
            conflicts: vec![FieldConflict {
                field: ".spec.replicas".into(),
                owner: "kubectl".into(),
            }],
        };
        assert_eq!(
            err.to_string(),
            "Deployment sky/api: field .spec.replicas is owned by field manager \"kubectl\"\n\
             Nothing was changed. Run again with --force-conflicts to take ownership of this field."
        );
    }
}
