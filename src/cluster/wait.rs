//! Waiting for objects to become ready or to disappear, with live progress, bounded by a
//! timeout. A wait never ends silently: on timeout it says, object by object, what it found.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use tokio::sync::Notify;

use super::object_manager::ObjectManager;
use super::readiness::{self, Readiness, VolumeBinding};
use crate::manifest::ObjectRef;
use crate::progress::Progress;

/// Objects that were not ready (or not gone) in time, each with what was found.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {}s waiting for {} object(s):\n{}", .timeout.as_secs(), .unready.len(), describe(.unready))]
pub struct WaitTimeout {
    pub timeout: Duration,
    pub unready: Vec<Unready>,
}

#[derive(Debug, Clone)]
pub struct Unready {
    pub object: ObjectRef,
    pub reason: String,
    /// Evidence from pods and events: unschedulable, image pull, probe failures.
    pub details: Vec<String>,
}

fn describe(unready: &[Unready]) -> String {
    let mut text = String::new();
    for item in unready {
        let _ = writeln!(text, "  {}: {}", item.object, item.reason);
        for detail in &item.details {
            let _ = writeln!(text, "    - {detail}");
        }
    }
    text.trim_end().to_owned()
}

/// Waits until every object is ready, following each (see [`ObjectManager::follow`]) and
/// showing why each is still pending.
pub async fn until_ready(
    manager: &ObjectManager,
    objects: &[ObjectRef],
    seen: &Seen,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    let left = each_until(
        manager,
        objects,
        seen,
        timeout,
        progress,
        "ready",
        async |id, live| {
            let Some(live) = live else {
                return Ok(Some("does not exist".to_owned()));
            };
            Ok(match judge(manager, id, live).await? {
                Readiness::Ready => None,
                Readiness::Pending(reason) => Some(reason),
            })
        },
    )
    .await?;
    if left.is_empty() {
        progress.println(&format!("  all {} objects ready", objects.len()));
        return Ok(());
    }
    let mut unready = Vec::new();
    for (id, reason) in left {
        let details = diagnose(manager, id)
            .await
            .unwrap_or_else(|err| vec![format!("could not look closer: {err}")]);
        unready.push(Unready {
            object: id.clone(),
            reason,
            details,
        });
    }
    Err(WaitTimeout { timeout, unready }.into())
}

/// Waits until every object is gone from the cluster, following each.
pub async fn until_gone(
    manager: &ObjectManager,
    objects: &[ObjectRef],
    seen: &Seen,
    timeout: Duration,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    let left = each_until(
        manager,
        objects,
        seen,
        timeout,
        progress,
        "deleted",
        async |_, live| Ok(live.map(|_| "still exists (a finalizer may hold it)".to_owned())),
    )
    .await?;
    if left.is_empty() {
        return Ok(());
    }
    let unready = left
        .into_iter()
        .map(|(object, reason)| Unready {
            object: object.clone(),
            reason,
            details: vec![],
        })
        .collect();
    Err(WaitTimeout { timeout, unready }.into())
}

/// Objects as this run last had them from the API server (answers to its applies and deletes,
/// or its reads): a wait starts from them instead of reading them again. One not in it is read.
pub type Seen = BTreeMap<ObjectRef, DynamicObject>;

/// How often the pending objects and their reasons are shown anew while they are followed.
const SHOW_EVERY: Duration = Duration::from_millis(500);

/// Follows every object at once until `pending` finds none pending (it says why an object,
/// as the cluster has it, is pending, or `None` when it is done), showing each pending object
/// and why. Every object is looked at once even when the time is up already (`--timeout 0`
/// checks without waiting). Returns what was still pending at the deadline, with its reason.
async fn each_until<'a>(
    manager: &ObjectManager,
    objects: &'a [ObjectRef],
    seen: &Seen,
    timeout: Duration,
    progress: &mut dyn Progress,
    done_word: &str,
    pending: impl AsyncFn(&'a ObjectRef, Option<&DynamicObject>) -> anyhow::Result<Option<String>>,
) -> anyhow::Result<Vec<(&'a ObjectRef, String)>> {
    // The latest reason of each object looked at and not done.
    let reasons: Mutex<BTreeMap<&ObjectRef, String>> = Mutex::new(BTreeMap::new());
    let looked = Notify::new();
    let mut followed: FuturesUnordered<_> = objects
        .iter()
        .map(|id| {
            let (reasons, looked, pending) = (&reasons, &looked, &pending);
            async move {
                let result = manager
                    .follow(id, seen.get(id).cloned(), async |live| {
                        let why = pending(id, live).await?;
                        let done = why.is_none();
                        if let Some(why) = why {
                            reasons.lock().expect("not poisoned").insert(id, why);
                        }
                        looked.notify_one();
                        Ok(done)
                    })
                    .await;
                (id, result)
            }
        })
        .collect();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut shown = tokio::time::interval(SHOW_EVERY);
    let mut left: Vec<&ObjectRef> = objects.iter().collect();
    while !left.is_empty() {
        let all_looked = {
            let reasons = reasons.lock().expect("not poisoned");
            left.iter().all(|id| reasons.contains_key(id))
        };
        tokio::select! {
            next = followed.next() => {
                let Some((id, result)) = next else { break };
                result?;
                progress.done(&id.to_string(), done_word);
                left.retain(|other| *other != id);
            }
            () = looked.notified() => {}
            _ = shown.tick() => {
                let reasons = reasons.lock().expect("not poisoned");
                for id in &left {
                    if let Some(why) = reasons.get(id) {
                        progress.pending(&id.to_string(), why);
                    }
                }
            }
            () = tokio::time::sleep_until(deadline), if all_looked => {
                let reasons = reasons.lock().expect("not poisoned");
                return Ok(left
                    .into_iter()
                    .map(|id| (id, reasons.get(id).cloned().unwrap_or_default()))
                    .collect());
            }
        }
    }
    Ok(Vec::new())
}

/// The readiness of `live`, the object `id` as the cluster has it.
async fn judge(
    manager: &ObjectManager,
    id: &ObjectRef,
    live: &DynamicObject,
) -> anyhow::Result<Readiness> {
    let live = serde_json::to_value(live)?;
    let binding = if id.kind == "PersistentVolumeClaim" {
        claim_binding(manager.client(), &live).await?
    } else {
        None
    };
    Ok(readiness::of(&id.kind, &live, binding))
}

/// The readiness of an object right now; a missing object is pending.
pub async fn current(manager: &ObjectManager, id: &ObjectRef) -> anyhow::Result<Readiness> {
    match manager.get(id).await? {
        Some(live) => judge(manager, id, &live).await,
        None => Ok(Readiness::Pending("does not exist".into())),
    }
}

/// The binding mode of a claim's StorageClass: its own, or the cluster's default class.
async fn claim_binding(
    client: &kube::Client,
    claim: &Value,
) -> anyhow::Result<Option<VolumeBinding>> {
    if claim.pointer("/status/phase").and_then(Value::as_str) == Some("Bound") {
        return Ok(None);
    }
    let classes: Api<StorageClass> = Api::all(client.clone());
    let class = match claim
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
    {
        Some(name) if !name.is_empty() => classes.get_opt(name).await?,
        _ => classes
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .find(|class| {
                class
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("storageclass.kubernetes.io/is-default-class"))
                    .is_some_and(|v| v == "true")
            }),
    };
    Ok(
        class.map(|class| match class.volume_binding_mode.as_deref() {
            Some("WaitForFirstConsumer") => VolumeBinding::WaitForFirstConsumer,
            _ => VolumeBinding::Immediate,
        }),
    )
}

/// What the cluster says about an unready object: its pods' state and recent warnings.
async fn diagnose(manager: &ObjectManager, id: &ObjectRef) -> anyhow::Result<Vec<String>> {
    let client = manager.client();
    let Some(namespace) = &id.namespace else {
        return Ok(vec![]);
    };
    let mut details = Vec::new();
    let mut subjects = vec![id.name.clone()];
    if id.kind == "Deployment" {
        let live = serde_json::to_value(manager.get(id).await?)?;
        let selector = live
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let pods = pods
            .list(&ListParams::default().labels(&selector))
            .await?
            .items;
        if pods.is_empty() {
            details.push("no pods exist yet (see the ReplicaSet's events)".into());
        }
        for pod in pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            details.extend(pod_state(&name, &pod));
            subjects.push(name);
        }
    }
    if id.kind == "Service" {
        details.push("no load balancer controller has assigned an address; on a cluster without one, set ingress-nginx.controller.service.type=NodePort (the seed-era chart also has a NodePort Service of its own, ingress.nodePortEnabled)".into());
    }
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    for subject in subjects {
        let selector = format!("involvedObject.name={subject},type=Warning");
        let mut warnings = events
            .list(&ListParams::default().fields(&selector))
            .await?
            .items;
        warnings.sort_by_key(|event| event.last_timestamp.as_ref().map(|t| t.0));
        for event in warnings.iter().rev().take(3) {
            details.push(format!(
                "{subject}: {} {}",
                event.reason.as_deref().unwrap_or("Warning"),
                event.message.as_deref().unwrap_or_default().trim()
            ));
        }
    }
    Ok(details)
}

/// A pod's state in one line per problem: scheduling, waiting containers, failing readiness.
fn pod_state(name: &str, pod: &Pod) -> Vec<String> {
    let mut found = Vec::new();
    let Some(status) = &pod.status else {
        return found;
    };
    for condition in status.conditions.iter().flatten() {
        if condition.status == "False"
            && (condition.type_ == "PodScheduled" || condition.type_ == "Ready")
        {
            found.push(format!(
                "pod {name}: {} is False: {} {}",
                condition.type_,
                condition.reason.as_deref().unwrap_or_default(),
                condition.message.as_deref().unwrap_or_default()
            ));
        }
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for container in containers {
        if let Some(waiting) = container.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            found.push(format!(
                "pod {name}: container {} is waiting: {} {}",
                container.name,
                waiting.reason.as_deref().unwrap_or_default(),
                waiting.message.as_deref().unwrap_or_default()
            ));
        }
    }
    found
}
