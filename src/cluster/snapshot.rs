//! What a run has read of the cluster before its first write: the release's namespace, its
//! rendered objects, the webhook certificate's Secret, the nodes and the metadata of the
//! namespace's Secrets. A later step of the run that needs one of them takes it from here
//! instead of asking the API server again, so a run reads each of them once (a no-op upgrade
//! reads nothing twice).
//!
//! A run that writes calls [`Snapshot::forget`]: from then on every read goes to the API
//! server, and what the run reads is the cluster as its writes left it. Loops that wait for the
//! cluster to change never read through a snapshot.

use std::collections::BTreeMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use serde::de::DeserializeOwned;

use super::object_manager::{ObjectManager, namespace_ref};
use crate::manifest::ObjectRef;

/// What a list holds of its kind in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// Every object: one it lacks is absent.
    Everything,
    /// Those a label chose: one it lacks may exist without the label, to be read by name.
    Labelled,
}

#[derive(Default)]
pub struct Snapshot {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    forgotten: bool,
    /// Each object read, by identity; `None`: it was absent.
    objects: BTreeMap<ObjectRef, Option<DynamicObject>>,
    nodes: Option<Vec<Node>>,
    /// The metadata of every Secret of one namespace.
    secrets: Option<(String, Vec<ObjectMeta>)>,
}

impl Snapshot {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("a snapshot's lock is never held across a panic")
    }

    /// Keeps what a read found, unless the run has written since it began.
    pub fn record(&self, id: &ObjectRef, found: Option<&DynamicObject>) {
        let mut inner = self.inner();
        if !inner.forgotten {
            inner.objects.insert(id.clone(), found.cloned());
        }
    }

    /// What a read of this run found: `Some(None)` when the object was absent (nothing exists
    /// in a namespace the run found absent), `None` when it was not read (or the run has
    /// written since).
    pub fn recorded(&self, id: &ObjectRef) -> Option<Option<DynamicObject>> {
        let inner = self.inner();
        if let Some(found) = inner.objects.get(id) {
            return Some(found.clone());
        }
        let namespace = namespace_ref(id.namespace.as_deref()?);
        matches!(inner.objects.get(&namespace), Some(None)).then_some(None)
    }

    /// The object as this run found it, read now if it was not read yet.
    pub async fn read(
        &self,
        manager: &ObjectManager,
        id: &ObjectRef,
    ) -> anyhow::Result<Option<DynamicObject>> {
        if let Some(found) = self.recorded(id) {
            return Ok(found);
        }
        let found = manager.get(id).await?;
        self.record(id, found.as_ref());
        Ok(found)
    }

    /// [`Self::read`] as a typed object of kind `K`.
    pub async fn read_as<K>(
        &self,
        manager: &ObjectManager,
        namespace: Option<&str>,
        name: &str,
    ) -> anyhow::Result<Option<K>>
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned,
    {
        let id = ObjectRef {
            api_version: K::api_version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        };
        self.read(manager, &id)
            .await?
            .map(|object| Ok(serde_json::from_value(serde_json::to_value(object)?)?))
            .transpose()
    }

    /// The live objects among `ids`, reading only those this run has not read yet.
    pub async fn observe<'a>(
        &self,
        manager: &ObjectManager,
        ids: impl IntoIterator<Item = &'a ObjectRef>,
    ) -> anyhow::Result<BTreeMap<ObjectRef, DynamicObject>> {
        let mut live = BTreeMap::new();
        let mut unread = Vec::new();
        for id in ids {
            match self.recorded(id) {
                Some(found) => live.extend(found.map(|object| (id.clone(), object))),
                None => unread.push(id),
            }
        }
        let found = manager.read_each(&unread).await;
        for (id, found) in unread.into_iter().zip(found) {
            let found = found?;
            self.record(id, found.as_ref());
            live.extend(found.map(|object| (id.clone(), object)));
        }
        Ok(live)
    }

    /// Keeps what a list of kind `K` in one scope (`namespace`, or the cluster) says of each
    /// of `wanted` of that kind and scope: the object listed, or, for a list of everything
    /// there, its absence.
    pub fn record_list<K>(
        &self,
        listed: Listed,
        namespace: Option<&str>,
        items: &[K],
        wanted: &[&ObjectRef],
    ) -> anyhow::Result<()>
    where
        K: kube::Resource<DynamicType = ()> + serde::Serialize,
    {
        let (api_version, kind) = (K::api_version(&()), K::kind(&()));
        for id in wanted.iter().filter(|id| {
            id.api_version == api_version && id.kind == kind && id.namespace.as_deref() == namespace
        }) {
            let found = items
                .iter()
                .find(|item| item.meta().name.as_deref() == Some(id.name.as_str()))
                .map(|item| {
                    let mut object: DynamicObject =
                        serde_json::from_value(serde_json::to_value(item)?)?;
                    // A list's items carry no kind of their own; a GET's do.
                    object.types = Some(kube::core::TypeMeta {
                        api_version: api_version.to_string(),
                        kind: kind.to_string(),
                    });
                    anyhow::Ok(object)
                })
                .transpose()?;
            if found.is_some() || listed == Listed::Everything {
                self.record(id, found.as_ref());
            }
        }
        Ok(())
    }

    pub async fn namespace_exists(
        &self,
        manager: &ObjectManager,
        namespace: &str,
    ) -> anyhow::Result<bool> {
        Ok(self
            .read(manager, &namespace_ref(namespace))
            .await?
            .is_some())
    }

    pub fn record_nodes(&self, nodes: &[Node]) {
        let mut inner = self.inner();
        if !inner.forgotten {
            inner.nodes = Some(nodes.to_vec());
        }
    }

    /// The cluster's nodes as this run listed them, if it did.
    pub fn nodes(&self) -> Option<Vec<Node>> {
        self.inner().nodes.clone()
    }

    pub fn record_secrets(&self, namespace: &str, secrets: &[ObjectMeta]) {
        let mut inner = self.inner();
        if !inner.forgotten {
            inner.secrets = Some((namespace.to_owned(), secrets.to_vec()));
        }
    }

    /// The metadata of every Secret of `namespace` as this run listed them, if it did.
    pub fn secrets(&self, namespace: &str) -> Option<Vec<ObjectMeta>> {
        match &self.inner().secrets {
            Some((listed, secrets)) if listed == namespace => Some(secrets.clone()),
            _ => None,
        }
    }

    /// The run is about to write, or has waited on a person: nothing read so far is taken as
    /// the cluster's state any more, and nothing read from now on is kept.
    pub fn forget(&self) {
        *self.inner() = Inner {
            forgotten: true,
            ..Inner::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> ObjectRef {
        ObjectRef::config_map(name)
    }

    #[test]
    fn what_a_run_read_is_answered_until_it_forgets() {
        let snapshot = Snapshot::default();
        let object: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}
        }))
        .unwrap();
        snapshot.record(&id("a"), Some(&object));
        snapshot.record(&id("gone"), None);
        snapshot.record(&namespace_ref("absent"), None);
        snapshot.record_nodes(&[Node::default()]);
        snapshot.record_secrets("ns", &[ObjectMeta::default()]);
        assert!(matches!(snapshot.recorded(&id("a")), Some(Some(_))));
        assert!(matches!(snapshot.recorded(&id("gone")), Some(None)));
        assert!(snapshot.recorded(&id("unread")).is_none());
        let in_absent = ObjectRef {
            namespace: Some("absent".into()),
            ..id("a")
        };
        assert!(matches!(snapshot.recorded(&in_absent), Some(None)));
        assert_eq!(snapshot.nodes().map(|n| n.len()), Some(1));
        assert!(snapshot.secrets("ns").is_some());
        assert!(snapshot.secrets("other").is_none());

        snapshot.forget();
        assert!(snapshot.recorded(&id("a")).is_none());
        assert!(snapshot.nodes().is_none());
        // What is read after a write is the cluster as the write left it: not kept either.
        snapshot.record(&id("a"), Some(&object));
        snapshot.record_nodes(&[]);
        assert!(snapshot.recorded(&id("a")).is_none());
        assert!(snapshot.nodes().is_none());
    }

    #[test]
    fn a_complete_list_tells_of_each_wanted_object_of_its_kind_and_scope() {
        let snapshot = Snapshot::default();
        let listed: k8s_openapi::api::core::v1::ConfigMap =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "a"}})).unwrap();
        let other_namespace = ObjectRef {
            namespace: Some("elsewhere".into()),
            ..id("b")
        };
        snapshot
            .record_list(
                Listed::Everything,
                Some("ns"),
                std::slice::from_ref(&listed),
                &[&id("a"), &id("b"), &other_namespace],
            )
            .unwrap();
        let found = snapshot.recorded(&id("a")).unwrap().unwrap();
        assert_eq!(found.types.unwrap().kind, "ConfigMap");
        assert!(matches!(snapshot.recorded(&id("b")), Some(None)));
        assert!(
            snapshot.recorded(&other_namespace).is_none(),
            "not in the list's scope"
        );
        // A list a label chose tells of what it holds, not of what it lacks.
        let labelled = Snapshot::default();
        labelled
            .record_list(
                Listed::Labelled,
                Some("ns"),
                &[listed],
                &[&id("a"), &id("b")],
            )
            .unwrap();
        assert!(labelled.recorded(&id("a")).unwrap().is_some());
        assert!(labelled.recorded(&id("b")).is_none());
    }
}
