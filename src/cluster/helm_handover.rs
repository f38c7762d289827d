//! Taking a release over from Helm, on the cluster: reading Helm's records, removing Helm's
//! traces from the objects skyctl now applies, removing what Helm made that skyctl does not
//! render, and retiring Helm's records. The decisions are `helm_release`'s; nothing here prints.

use anyhow::Context;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, Preconditions};
use serde_json::json;

use crate::helm_release::{self, Leftovers, StoredRevision};
use crate::interrupt_point::{self, Point};
use crate::manifest::ObjectRef;
use crate::release::Release;

use super::lock;
use super::object_manager::{ObjectManager, api_message, delete_if_present};

/// Marks the records `adopt --keep-helm-history` keeps: Helm lists releases by `owner=helm`,
/// which they no longer carry, so Helm does not act on the release again.
pub const ADOPTED_LABEL: &str = "skyctl.io/adopted-from-helm";

/// How often a patch that met a newer version of its object is made again.
const CONFLICT_ATTEMPTS: u32 = 5;

fn selector(release: &Release) -> String {
    format!("owner=helm,name={}", release.name)
}

/// Every revision Helm recorded for the release, from both of Helm's storage drivers.
pub async fn revisions(
    client: &kube::Client,
    release: &Release,
) -> anyhow::Result<Vec<StoredRevision>> {
    let params = ListParams::default().labels(&selector(release));
    let secrets = Api::<Secret>::namespaced(client.clone(), &release.namespace)
        .list(&params)
        .await
        .context("cannot read Helm's release Secrets")?;
    let maps = Api::<ConfigMap>::namespaced(client.clone(), &release.namespace)
        .list(&params)
        .await
        .context("cannot read Helm's release ConfigMaps")?;
    let label = |meta: &kube::api::ObjectMeta, key: &str| {
        meta.labels
            .as_ref()
            .and_then(|labels| labels.get(key))
            .cloned()
            .unwrap_or_default()
    };
    let mut found = Vec::new();
    for secret in secrets.items {
        let encoded = secret
            .data
            .as_ref()
            .and_then(|data| data.get("release"))
            .map(|bytes| bytes.0.clone())
            .unwrap_or_default();
        found.push(stored("Secret", &secret.metadata, encoded, &label));
    }
    for map in maps.items {
        let encoded = map
            .data
            .as_ref()
            .and_then(|data| data.get("release"))
            .map(|text| text.clone().into_bytes())
            .unwrap_or_default();
        found.push(stored("ConfigMap", &map.metadata, encoded, &label));
    }
    Ok(found.into_iter().flatten().collect())
}

fn stored(
    storage: &'static str,
    meta: &kube::api::ObjectMeta,
    encoded: Vec<u8>,
    label: &dyn Fn(&kube::api::ObjectMeta, &str) -> String,
) -> Option<StoredRevision> {
    Some(StoredRevision {
        storage,
        name: meta.name.clone()?,
        revision: label(meta, "version").parse().ok()?,
        status: label(meta, "status"),
        encoded,
    })
}

/// What adopt removes of Helm once the release's objects are skyctl's.
pub struct CleanUp<'a> {
    pub release: &'a Release,
    /// The release's own objects, rendered and applied: every mark of Helm's comes off.
    pub applied: &'a [ObjectRef],
    /// What Helm made and skyctl does not render.
    pub leftovers: &'a Leftovers,
    /// Helm's records, retired last.
    pub records: &'a [StoredRevision],
    /// `--keep-helm-history`: the records are relabelled instead of deleted.
    pub keep_records: bool,
}

/// What the clean-up did.
pub struct CleanedUp {
    /// The release's objects that lost Helm's marks.
    pub marked: Vec<ObjectRef>,
    /// Helm's leftovers deleted.
    pub removed: Vec<ObjectRef>,
}

/// What the clean-up would do.
pub struct CleanUpPreview {
    /// The release's objects that would lose Helm's marks; not known before they are skyctl's.
    pub marked: Option<Vec<ObjectRef>>,
    /// Helm's leftovers that would be deleted.
    pub removed: Vec<ObjectRef>,
}

/// Removes Helm's marks, deletes Helm's leftovers and retires Helm's records. It changes the
/// release's objects, so it runs under the release's lock, as every change does: it never
/// interleaves with an upgrade, and a run after one killed while it held the lock takes a
/// dead holder's lock with `force_unlock` instead of leaving it to block the next upgrade or
/// uninstall.
pub async fn clean_up(
    client: &kube::Client,
    plan: &CleanUp<'_>,
    force_unlock: bool,
) -> anyhow::Result<CleanedUp> {
    let CleanUp {
        release,
        applied,
        leftovers,
        records,
        keep_records,
    } = *plan;
    let manager = ObjectManager::new(client);
    let lock = lock::acquire(
        client,
        &release.namespace,
        &release.name,
        "adopt",
        force_unlock,
    )
    .await?;
    let cleaned_up = async {
        let marked = remove_marks(
            &manager,
            release,
            applied,
            helm_release::traces_patch,
            false,
        )
        .await?;
        remove_marks(
            &manager,
            release,
            &leftovers.unowned(),
            helm_release::unowned_patch,
            false,
        )
        .await?;
        interrupt_point::reached(Point::HelmMarksRemoved);
        let removed = remove_leftovers(&manager, release, &leftovers.delete, false).await?;
        interrupt_point::reached(Point::HelmLeftoversRemoved);
        retire_records(client, release, records, keep_records).await?;
        anyhow::Ok(CleanedUp { marked, removed })
    }
    .await;
    lock.release().await?;
    cleaned_up
}

/// What [`clean_up`] would do, nothing written. `marks_known`: the release's objects are
/// skyctl's already, so which carry Helm's marks can be read.
pub async fn preview_clean_up(
    client: &kube::Client,
    plan: &CleanUp<'_>,
    marks_known: bool,
) -> anyhow::Result<CleanUpPreview> {
    let manager = ObjectManager::new(client);
    let marked = if marks_known {
        Some(
            remove_marks(
                &manager,
                plan.release,
                plan.applied,
                helm_release::traces_patch,
                true,
            )
            .await?,
        )
    } else {
        None
    };
    let removed = remove_leftovers(&manager, plan.release, &plan.leftovers.delete, true).await?;
    Ok(CleanUpPreview { marked, removed })
}

/// Under the lock, with the revision recorded, just before the apply: what Helm's manager owns
/// of the rendered objects becomes skyctl's, so the apply removes what Helm set and skyctl
/// does not render. A Namespace is never taken over (it stays, owned by nobody): it keeps its
/// fields as they are.
pub async fn hand_over_fields(
    manager: &ObjectManager,
    release: &Release,
    rendered: &[ObjectRef],
) -> anyhow::Result<()> {
    let taken: Vec<ObjectRef> = rendered
        .iter()
        .filter(|id| !(id.kind == "Namespace" && id.group().is_empty()))
        .cloned()
        .collect();
    remove_marks(
        manager,
        release,
        &taken,
        helm_release::fields_handover_patch,
        false,
    )
    .await?;
    Ok(())
}

/// Which of Helm's marks come off an object: all of them from those skyctl now applies
/// ([`helm_release::traces_patch`]), or, from those it leaves in place owned by nobody, every
/// mark naming the Helm release ([`helm_release::unowned_patch`]).
type MarksPatch = fn(&ObjectMeta, &Release) -> Option<serde_json::Value>;

/// Removes Helm's marks, as `patch` makes them, from each of `ids` that has them. Returns the
/// objects changed, or with `dry_run` those that would be.
async fn remove_marks(
    manager: &ObjectManager,
    release: &Release,
    ids: &[ObjectRef],
    patch: MarksPatch,
    dry_run: bool,
) -> anyhow::Result<Vec<ObjectRef>> {
    let mut cleaned = Vec::new();
    for id in ids {
        // The patch names the resourceVersion it was made from (it replaces managedFields), and
        // controllers write the object meanwhile (a Deployment's status): on a conflict the
        // object is read again and the patch made anew.
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let Some(live) = manager.get(id).await? else {
                break;
            };
            let Some(body) = patch(&live.metadata, release) else {
                break;
            };
            if dry_run {
                cleaned.push(id.clone());
                break;
            }
            interrupt_point::reached(Point::HelmMarksRead);
            let patched = manager
                .api(id)
                .await?
                .patch(&id.name, &PatchParams::default(), &Patch::Merge(&body))
                .await;
            match patched {
                Ok(_) => {
                    cleaned.push(id.clone());
                    break;
                }
                Err(kube::Error::Api(status))
                    if status.code == 409 && attempt < CONFLICT_ATTEMPTS => {}
                Err(err) => {
                    return Err(anyhow::anyhow!(api_message(&err)))
                        .with_context(|| format!("cannot remove Helm's marks from {id}"));
                }
            }
        }
    }
    Ok(cleaned)
}

/// Deletes the leftovers that are still Helm's (re-read, checked, UID precondition). Returns
/// the objects deleted, or with `dry_run` those that would be.
async fn remove_leftovers(
    manager: &ObjectManager,
    release: &Release,
    leftovers: &[(ObjectRef, bool)],
    dry_run: bool,
) -> anyhow::Result<Vec<ObjectRef>> {
    let mut removed = Vec::new();
    for (id, hook) in leftovers {
        let Some(live) = manager.get(id).await? else {
            continue;
        };
        if !helm_release::may_remove(&live.metadata, id, *hook, release) {
            continue;
        }
        if dry_run {
            removed.push(id.clone());
            continue;
        }
        let params = DeleteParams {
            preconditions: live.metadata.uid.clone().map(|uid| Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        if delete_if_present(&manager.api(id).await?, &id.name, &params)
            .await
            .map_err(|err| anyhow::anyhow!(api_message(&err)))
            .with_context(|| format!("cannot delete {id}"))?
        {
            removed.push(id.clone());
        }
    }
    Ok(removed)
}

/// Deletes Helm's records, or with `keep` relabels them so that Helm no longer lists them.
async fn retire_records(
    client: &kube::Client,
    release: &Release,
    revisions: &[StoredRevision],
    keep: bool,
) -> anyhow::Result<()> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &release.namespace);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &release.namespace);
    let relabel = Patch::Merge(json!({"metadata": {"labels": {
        "owner": null,
        ADOPTED_LABEL: release.name,
    }}}));
    // Oldest first: the deployed revision, which a run after an interruption reads, goes last.
    let mut ordered: Vec<&StoredRevision> = revisions.iter().collect();
    ordered.sort_by_key(|r| r.revision);
    for revision in ordered {
        let name = &revision.name;
        let done = match (revision.storage, keep) {
            ("Secret", false) => delete_if_present(&secrets, name, &DeleteParams::default())
                .await
                .map(drop),
            ("Secret", true) => secrets
                .patch(name, &PatchParams::default(), &relabel)
                .await
                .map(drop),
            (_, false) => delete_if_present(&maps, name, &DeleteParams::default())
                .await
                .map(drop),
            (_, true) => maps
                .patch(name, &PatchParams::default(), &relabel)
                .await
                .map(drop),
        };
        done.map_err(|err| anyhow::anyhow!(api_message(&err)))
            .with_context(|| format!("cannot retire Helm's record {} {name}", revision.storage))?;
    }
    Ok(())
}

/// The records of Helm's history `adopt --keep-helm-history` kept for a release: they outlive
/// the release, and while they exist `helm install` of its name fails ("cannot re-use a name
/// that is still in use").
#[derive(Debug, Default)]
pub struct KeptHistory {
    secrets: Vec<ObjectMeta>,
    maps: Vec<ObjectMeta>,
}

impl KeptHistory {
    /// Each record as `Kind/name`.
    pub fn names(&self) -> Vec<String> {
        let named = |kind: &str, meta: &ObjectMeta| {
            format!("{kind}/{}", meta.name.as_deref().unwrap_or_default())
        };
        self.secrets
            .iter()
            .map(|m| named("Secret", m))
            .chain(self.maps.iter().map(|m| named("ConfigMap", m)))
            .collect()
    }
}

/// Reads the records [`KeptHistory`] holds (metadata only).
pub async fn kept_history(client: &kube::Client, release: &Release) -> anyhow::Result<KeptHistory> {
    let params = ListParams::default().labels(&format!("{ADOPTED_LABEL}={}", release.name));
    let secrets = Api::<Secret>::namespaced(client.clone(), &release.namespace);
    let maps = Api::<ConfigMap>::namespaced(client.clone(), &release.namespace);
    let (secrets, maps) =
        futures::try_join!(secrets.list_metadata(&params), maps.list_metadata(&params))?;
    Ok(KeptHistory {
        secrets: secrets.items.into_iter().map(|i| i.metadata).collect(),
        maps: maps.items.into_iter().map(|i| i.metadata).collect(),
    })
}

/// Deletes the records `kept` holds, each with its uid as a precondition.
pub async fn delete_kept_history(
    client: &kube::Client,
    release: &Release,
    kept: &KeptHistory,
) -> anyhow::Result<usize> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &release.namespace);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &release.namespace);
    let precondition = |meta: &ObjectMeta| DeleteParams {
        preconditions: Some(Preconditions {
            uid: meta.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let mut deleted = 0;
    for meta in &kept.secrets {
        let name = meta.name.as_deref().unwrap_or_default();
        deleted += usize::from(delete_if_present(&secrets, name, &precondition(meta)).await?);
    }
    for meta in &kept.maps {
        let name = meta.name.as_deref().unwrap_or_default();
        deleted += usize::from(delete_if_present(&maps, name, &precondition(meta)).await?);
    }
    Ok(deleted)
}
