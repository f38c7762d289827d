//! What the shared-controller check of an uninstall reads: the IngressClasses that are the
//! release's own, and every Ingress of the cluster that may route through them. The decision
//! is `shared_controller`'s.

use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::api::{Api, ListParams};

use super::object_manager::ObjectManager;
use super::snapshot::{Listed, Snapshot};
use crate::manifest::ObjectRef;
use crate::ownership::{self, Owner};
use crate::release::{History, Release};

/// The release's own IngressClasses, and what asks for them.
pub struct Sharing {
    pub classes: Vec<String>,
    /// Every Ingress of the cluster; why they could not be listed, else.
    pub ingresses: Result<Vec<Ingress>, kube::Error>,
}

/// `None` when the release has no IngressClass of its own: then nothing else is read. The
/// Ingress list is whole, so the release's own Ingresses among it go into `snapshot`.
pub async fn read(
    manager: &ObjectManager,
    snapshot: &Snapshot,
    release: &Release,
    history: &History,
) -> anyhow::Result<Option<Sharing>> {
    let listed: Vec<String> = history
        .latest()
        .map(|latest| {
            latest
                .inventory
                .iter()
                .filter(|id| id.kind == "IngressClass")
                .map(|id| id.name.clone())
                .collect()
        })
        .unwrap_or_default();
    // Only a class that is the release's own goes with it: a revision that failed may list one
    // another release made.
    let mut classes = Vec::new();
    for name in listed {
        let class: Option<IngressClass> = snapshot.read_as(manager, None, &name).await?;
        if class.is_some_and(|class| ownership::owner(&class.metadata, release) == Owner::This) {
            classes.push(name);
        }
    }
    if classes.is_empty() {
        return Ok(None);
    }
    let api: Api<Ingress> = Api::all(manager.client().clone());
    let ingresses = api
        .list(&ListParams::default())
        .await
        .map(|list| list.items);
    if let Ok(all) = &ingresses {
        let own: Vec<Ingress> = all
            .iter()
            .filter(|ingress| ingress.metadata.namespace.as_deref() == Some(&release.namespace))
            .cloned()
            .collect();
        let every_object = history.every_object();
        let wanted: Vec<&ObjectRef> = every_object.iter().collect();
        snapshot.record_list(Listed::Everything, Some(&release.namespace), &own, &wanted)?;
    }
    Ok(Some(Sharing { classes, ingresses }))
}
