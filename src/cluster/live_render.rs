//! Rendering a release as the cluster would see it: with the webhook certificate the cluster
//! already holds while it is valid, and the chart's `lookup`s answered from the live objects.
//! Also what a past revision applied, since its record keeps no Secret data.

use std::sync::Arc;

use serde_json::Value;

use super::admission_certificate;
use super::object_manager::ObjectManager;
use super::release_secrets::SecretStorage;
use super::snapshot::Snapshot;
use crate::chart::Chart;
use crate::manifest::Manifest;
use crate::release::recorded_values;
use crate::release::{Release, ReleaseRecord, ReleaseStorage};
use crate::render::{self, Lookups};

/// Every object of the release for these values, with the webhook certificate the cluster
/// already has when it is still good. When the chart looks objects up, they are read and the
/// release is rendered again with what the cluster holds.
pub async fn render_release(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    chart: &'static Chart,
    values: &Value,
) -> anyhow::Result<Vec<Manifest>> {
    let certificate = admission_certificate::current_or_new(client, snapshot, release).await?;
    let first = Arc::new(Lookups::none());
    let manifests = render::render(chart, values, release, &certificate, &first)?;
    let asked = first.asked();
    if asked.is_empty() {
        return Ok(manifests);
    }
    let live = snapshot
        .observe(&ObjectManager::new(client), &asked)
        .await?;
    // Nothing the chart asked for exists: the first render already saw the cluster as it is.
    if live.is_empty() {
        return Ok(manifests);
    }
    let answers = live
        .into_iter()
        .map(|(id, object)| Ok((id, serde_json::to_value(object)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let lookups = Arc::new(Lookups::answer(answers));
    Ok(render::render(
        chart,
        values,
        release,
        &certificate,
        &lookups,
    )?)
}

/// What revision `record` applied. Its stored manifest leaves Secret data out, so Secrets are
/// rendered again from the revision's values.
pub async fn revision_manifests(
    client: &kube::Client,
    release: &Release,
    storage: &SecretStorage,
    record: &ReleaseRecord,
) -> anyhow::Result<Vec<Manifest>> {
    let stored = storage.manifests(record).await?;
    let rendered = render_release(
        client,
        &Snapshot::default(),
        release,
        recorded_values::record_chart(record)?,
        &recorded_values::recorded_values(record)?.values,
    )
    .await?;
    Ok(stored
        .into_iter()
        .filter_map(|manifest| {
            if manifest.id.kind == "Secret" && manifest.id.group().is_empty() {
                rendered.iter().find(|r| r.id == manifest.id).cloned()
            } else {
                Some(manifest)
            }
        })
        .collect())
}
