//! Uninstall: delete everything a release ever owned, cluster-scoped objects included, keep its
//! data unless asked, and forget the release. Safe to run again after an interruption: the
//! records go last, so a second run still knows what to delete.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams};

use super::apply;
use super::lock;
use super::release_record::ReleaseStatus;
use super::rollout::History;
use super::wait;
use crate::manifest::ObjectRef;
use crate::plan;
use crate::release::Release;
use crate::ui::Progress;

#[derive(Debug, Clone)]
pub struct Options {
    pub delete_data: bool,
    pub delete_namespace: bool,
    pub wait: Option<Duration>,
    pub force_unlock: bool,
}

#[derive(Debug)]
pub enum Outcome {
    /// There was no such release: nothing was done.
    NotFound,
    Uninstalled {
        deleted: Vec<ObjectRef>,
        retained: Vec<ObjectRef>,
        namespace_deleted: bool,
    },
}

pub async fn run(
    client: &kube::Client,
    release: &Release,
    options: &Options,
    progress: &mut Progress,
) -> anyhow::Result<Outcome> {
    let (store, history) = History::read(client, release).await?;
    let Some(latest) = history.latest() else {
        return Ok(Outcome::NotFound);
    };
    let lock = lock::acquire(
        client,
        &release.namespace,
        &release.name,
        "uninstall",
        options.force_unlock,
    )
    .await?;
    let result = async {
        let mut record = latest.clone();
        record.status = ReleaseStatus::Uninstalling;
        record.description = "Uninstall under way".into();
        store.update(&record).await?;

        // Every revision's objects: an interrupted upgrade may have created objects that the
        // deployed revision does not list.
        let mut owned: Vec<ObjectRef> = history
            .records
            .iter()
            .flat_map(|r| r.inventory.iter().cloned())
            .collect();
        owned.sort();
        owned.dedup();
        let (mut delete, retained): (Vec<ObjectRef>, Vec<ObjectRef>) = owned
            .into_iter()
            .partition(|id| !plan::holds_data(id) || options.delete_data);
        plan::sort_for_deletion(&mut delete);
        let mut deleted = Vec::new();
        for id in &delete {
            let api = apply::api(client, id).await?;
            match api.delete(&id.name, &DeleteParams::background()).await {
                Ok(_) => deleted.push(id.clone()),
                Err(kube::Error::Api(status)) if status.is_not_found() => {}
                Err(err) => {
                    return Err(anyhow::Error::new(err).context(format!("cannot delete {id}")));
                }
            }
        }
        if let Some(timeout) = options.wait {
            wait::until_gone(client, &deleted, timeout, progress).await?;
        }
        for record in &history.records {
            store.delete(record).await?;
        }
        Ok((deleted, retained))
    }
    .await;
    let (deleted, retained) = match result {
        Ok(done) => done,
        Err(err) => {
            let _ = lock.release().await;
            return Err(err.context(format!(
                "uninstall of release {} stopped; run it again to finish",
                release.name
            )));
        }
    };
    lock.release().await?;

    let created_namespace = history.records.iter().any(|r| r.created_namespace);
    let namespace_deleted = options.delete_namespace && created_namespace;
    if namespace_deleted {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        match namespaces
            .delete(&release.namespace, &DeleteParams::background())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("cannot delete namespace {}", release.namespace));
            }
        }
        if let Some(timeout) = options.wait {
            let id = ObjectRef {
                api_version: "v1".into(),
                kind: "Namespace".into(),
                namespace: None,
                name: release.namespace.clone(),
            };
            wait::until_gone(client, &[id], timeout, progress).await?;
        }
    }
    Ok(Outcome::Uninstalled {
        deleted,
        retained,
        namespace_deleted,
    })
}
