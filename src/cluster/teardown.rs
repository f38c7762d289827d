//! Uninstall on the cluster: delete what the release still owns, cluster-scoped objects
//! included, keep its data unless asked, leave what is someone else's, and forget the release.
//! Safe to run again after an interruption: the records go last, so a second run still knows
//! what to delete.

use std::time::Duration;

use super::lock;
use super::object_manager::{ObjectManager, namespace_ref};
use super::wait;
use crate::decide;
use crate::manifest::ObjectRef;
use crate::ownership::Keep;
use crate::progress::Progress;
use crate::release::{History, Release, ReleaseRecord, ReleaseStatus, ReleaseStorage};

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
        /// Objects the release listed that are someone else's now: left alone.
        kept: Vec<(ObjectRef, Keep)>,
        retained: Vec<ObjectRef>,
        namespace_deleted: bool,
    },
}

pub async fn run<S: ReleaseStorage>(
    manager: &ObjectManager,
    storage: &S,
    release: &Release,
    history: &History,
    options: &Options,
    progress: &mut dyn Progress,
) -> anyhow::Result<Outcome> {
    let Some(latest) = history.latest() else {
        return Ok(Outcome::NotFound);
    };
    let observation = decide::Observation {
        namespace_exists: true,
        live: manager.observe(&history.every_object()).await?,
    };
    let teardown = decide::teardown(release, history, &observation, options.delete_data);
    let lock = lock::acquire(
        manager.client(),
        &release.namespace,
        &release.name,
        "uninstall",
        options.force_unlock,
    )
    .await?;
    let result = async {
        storage
            .update(&ReleaseRecord {
                status: ReleaseStatus::Uninstalling,
                description: "Uninstall under way".into(),
                ..latest.clone()
            })
            .await?;
        lock.ensure_held()?;
        let done = manager
            .delete_owned(&teardown.delete, release, history)
            .await?;
        if let Some(timeout) = options.wait {
            wait::until_gone(manager, &done.deleted, timeout, progress).await?;
        }
        lock.ensure_held()?;
        for record in &history.records {
            storage.delete(record).await?;
        }
        anyhow::Ok(done)
    }
    .await;
    let released = lock.release().await;
    let done = result.map_err(|err| {
        err.context(format!(
            "uninstall of release {} stopped; run it again to finish",
            release.name
        ))
    })?;
    released?;

    let namespace_deleted = options.delete_namespace
        && history.created_namespace()
        && manager.delete_namespace(&release.namespace).await?;
    if let (true, Some(timeout)) = (namespace_deleted, options.wait) {
        wait::until_gone(
            manager,
            &[namespace_ref(&release.namespace)],
            timeout,
            progress,
        )
        .await?;
    }
    let mut kept = teardown.keep;
    kept.extend(done.kept);
    Ok(Outcome::Uninstalled {
        deleted: done.deleted,
        kept,
        retained: teardown.retain,
        namespace_deleted,
    })
}
