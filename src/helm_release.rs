//! Helm's record of a release, as Helm 3 and 4 keep it, and what taking a release over from
//! Helm decides. Pure: `cluster::helm_handover` reads and writes.
//!
//! Each revision is a Secret `sh.helm.release.v1.<name>.v<N>` of type `helm.sh/release.v1`
//! (or, with Helm's ConfigMap driver, a ConfigMap of that name), labelled `owner=helm`,
//! `name`, `version` and `status`. Its `release` key holds the release as JSON, gzipped, then
//! base64-encoded (a Secret's data is base64 once more on the wire, as every Secret's is).

use std::io::Read;

use base64::Engine;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chart::Chart;
use crate::cluster::resources;
use crate::manifest::{self, Manifest, ObjectRef};

/// Helm's field manager, under which Helm 4 applies (server-side) and Helm 3 updates.
pub const HELM_MANAGER: &str = "helm";
/// The annotations by which Helm knows an object as its release's.
pub const HELM_ANNOTATIONS: [&str; 2] = [
    "meta.helm.sh/release-name",
    "meta.helm.sh/release-namespace",
];
/// Helm marks hook objects (the admission certgen Jobs and their RBAC) with this annotation;
/// they are not in the release's manifest, nor annotated as the release's.
const HOOK_ANNOTATION: &str = "helm.sh/hook";
const RESOURCE_POLICY: &str = "helm.sh/resource-policy";

/// One revision as Helm stored it, still encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRevision {
    /// `Secret` or `ConfigMap`.
    pub storage: &'static str,
    /// The Secret's or ConfigMap's name.
    pub name: String,
    pub revision: u32,
    pub status: String,
    /// The `release` key: base64 text.
    pub encoded: Vec<u8>,
}

/// What skyctl reads of a Helm release.
#[derive(Debug, Clone, Deserialize)]
pub struct HelmRelease {
    pub name: String,
    pub namespace: String,
    pub version: u32,
    pub chart: HelmChart,
    /// The values the user gave (`-f`, `--set`), merged: Helm's `config`.
    #[serde(default)]
    pub config: Value,
    /// The objects Helm applied, as one YAML stream.
    #[serde(default)]
    pub manifest: String,
    #[serde(default)]
    pub hooks: Vec<HelmHook>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HelmChart {
    pub metadata: HelmChartMetadata,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HelmChartMetadata {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HelmHook {
    #[serde(default)]
    pub manifest: String,
}

impl HelmRelease {
    /// `skypilot-0.13.0`, as `helm list` shows the chart.
    pub fn chart_label(&self) -> String {
        format!(
            "{}-{}",
            self.chart.metadata.name, self.chart.metadata.version
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error("Helm's record {record} cannot be read: {reason}")]
    Undecodable { record: String, reason: String },
    #[error(
        "Helm release {name} has no deployed revision (its newest, revision {revision}, is {status}); \
         fix it with Helm first (`helm rollback {name}`), then adopt it"
    )]
    NotDeployed {
        name: String,
        revision: u32,
        status: String,
    },
    #[error(
        "Helm release {name} runs chart {chart}, which skyctl does not have; it adopts {}. \
         Pass --version with one of them to adopt into it (the diff is shown first)",
        known.join(" or ")
    )]
    UnknownChart {
        name: String,
        chart: String,
        known: Vec<String>,
    },
}

/// The revision to adopt: the newest deployed one. A newer failed or pending revision means
/// Helm's own state needs fixing first.
pub fn newest_deployed<'a>(
    name: &str,
    revisions: &'a [StoredRevision],
) -> Result<Option<&'a StoredRevision>, HelmError> {
    let Some(newest) = revisions.iter().max_by_key(|r| r.revision) else {
        return Ok(None);
    };
    if newest.status != "deployed" {
        return Err(HelmError::NotDeployed {
            name: name.to_owned(),
            revision: newest.revision,
            status: newest.status.clone(),
        });
    }
    Ok(Some(newest))
}

/// Reads a revision: base64, then gzip (Helm writes it; very old records were not gzipped),
/// then JSON.
pub fn decode(stored: &StoredRevision) -> Result<HelmRelease, HelmError> {
    let undecodable = |reason: String| HelmError::Undecodable {
        record: format!("{} {}", stored.storage, stored.name),
        reason,
    };
    let text: Vec<u8> = stored
        .encoded
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|err| undecodable(format!("not base64: {err}")))?;
    let json = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut json)
            .map_err(|err| undecodable(format!("not gzip: {err}")))?;
        json
    } else {
        bytes
    };
    serde_json::from_slice(&json).map_err(|err| undecodable(format!("not a Helm release: {err}")))
}

/// The embedded chart a Helm release maps to: the one with its chart's name and version, or
/// the version `--version` names.
pub fn chart_for(release: &HelmRelease, asked: Option<&str>) -> Result<&'static Chart, HelmError> {
    let unknown = || HelmError::UnknownChart {
        name: release.name.clone(),
        chart: release.chart_label(),
        known: Chart::all()
            .iter()
            .map(|c| format!("{}-{}", c.metadata().name, c.version()))
            .collect(),
    };
    match asked {
        Some(version) => Chart::find(version).map_err(|_| unknown()),
        None => Chart::all()
            .iter()
            .find(|chart| {
                chart.metadata().name == release.chart.metadata.name
                    && chart.version() == release.chart.metadata.version
            })
            .ok_or_else(unknown),
    }
}

/// Every object Helm made for the release, hooks included, with the release's namespace where
/// Helm's manifest leaves it out. Documents that are not objects are skipped.
pub fn helm_objects(release: &HelmRelease) -> Vec<(ObjectRef, bool)> {
    let mut objects = Vec::new();
    let streams = std::iter::once((&release.manifest, false))
        .chain(release.hooks.iter().map(|hook| (&hook.manifest, true)));
    for (stream, hook) in streams {
        let Ok(manifests) = manifest::from_yaml_stream(stream) else {
            continue;
        };
        for Manifest { mut id, .. } in manifests {
            let namespaced =
                resources::known(&id.api_version, &id.kind).is_none_or(|r| r.namespaced);
            if namespaced && id.namespace.is_none() {
                id.namespace = Some(release.namespace.clone());
            }
            objects.push((id, hook));
        }
    }
    objects
}

/// What Helm made that skyctl does not render, and may go: the certgen Jobs and their RBAC,
/// anything a later chart dropped. Never a Namespace or a volume claim (data), and never an
/// object the chart marked to outlive the release.
pub fn leftovers(helm: &[(ObjectRef, bool)], rendered: &[Manifest]) -> Vec<(ObjectRef, bool)> {
    helm.iter()
        .filter(|(id, _)| !matches!(id.kind.as_str(), "Namespace" | "PersistentVolumeClaim"))
        .filter(|(id, _)| !rendered.iter().any(|m| m.id == *id))
        .cloned()
        .collect()
}

/// Whether a live leftover is still Helm's to remove: annotated as this Helm release's, or a
/// hook object Helm's record lists, and not marked to be kept.
pub fn may_remove(live: &ObjectMeta, release: &HelmRelease, hook: bool) -> bool {
    let annotations = live.annotations.clone().unwrap_or_default();
    if annotations
        .get(RESOURCE_POLICY)
        .is_some_and(|p| p == "keep")
    {
        return false;
    }
    let named = annotations.get(HELM_ANNOTATIONS[0]) == Some(&release.name)
        && annotations.get(HELM_ANNOTATIONS[1]) == Some(&release.namespace);
    named || (hook && annotations.contains_key(HOOK_ANNOTATION))
}

/// The merge patch that removes Helm's traces from an object skyctl now owns: Helm's release
/// annotations, and Helm's entries in `managedFields`, so that Helm's manager owns no field.
/// `None` when there is nothing of Helm's left. The patch carries the resourceVersion it was
/// made from, so a concurrent change makes it fail rather than be overwritten.
pub fn traces_patch(live: &ObjectMeta) -> Option<Value> {
    let mut metadata = serde_json::Map::new();
    let annotations = live.annotations.clone().unwrap_or_default();
    let removed: serde_json::Map<String, Value> = HELM_ANNOTATIONS
        .iter()
        .filter(|key| annotations.contains_key(**key))
        .map(|key| ((*key).to_owned(), Value::Null))
        .collect();
    if !removed.is_empty() {
        metadata.insert("annotations".into(), Value::Object(removed));
    }
    let fields = live.managed_fields.clone().unwrap_or_default();
    let kept: Vec<_> = fields
        .iter()
        .filter(|entry| entry.manager.as_deref() != Some(HELM_MANAGER))
        .collect();
    // An empty list would not clear managedFields (the API server reads it as "unchanged");
    // skyctl has applied the object, so its own entry is always left.
    if kept.len() < fields.len() && !kept.is_empty() {
        metadata.insert("managedFields".into(), json!(kept));
    }
    if metadata.is_empty() {
        return None;
    }
    metadata.insert(
        "resourceVersion".into(),
        json!(live.resource_version.clone().unwrap_or_default()),
    );
    Some(json!({ "metadata": metadata }))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn encode(release: &Value, gzip: bool) -> Vec<u8> {
        let json = serde_json::to_vec(release).unwrap();
        let bytes = if gzip {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&json).unwrap();
            encoder.finish().unwrap()
        } else {
            json
        };
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .into_bytes()
    }

    fn release(chart: &str, version: &str) -> Value {
        json!({
            "name": "sky", "namespace": "team", "version": 2,
            "info": {"status": "deployed"},
            "chart": {"metadata": {"name": chart, "version": version}},
            "config": {"ingress": {"authCredentials": "sky:$apr1$x$y"}},
            "manifest": "---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: b\n",
            "hooks": [{"manifest": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: sky-admission-create\n"}]
        })
    }

    fn stored(revision: u32, status: &str, encoded: Vec<u8>) -> StoredRevision {
        StoredRevision {
            storage: "Secret",
            name: format!("sh.helm.release.v1.sky.v{revision}"),
            revision,
            status: status.into(),
            encoded,
        }
    }

    #[test]
    fn a_record_decodes_gzipped_or_not_and_garbage_is_named() {
        for gzip in [true, false] {
            let decoded = decode(&stored(
                2,
                "deployed",
                encode(&release("skypilot", "0.13.0"), gzip),
            ))
            .unwrap();
            assert_eq!(decoded.chart_label(), "skypilot-0.13.0");
            assert_eq!(
                decoded.config["ingress"]["authCredentials"],
                "sky:$apr1$x$y"
            );
        }
        for (bytes, reason) in [
            (b"%%%".to_vec(), "not base64"),
            (
                base64::engine::general_purpose::STANDARD
                    .encode([0x1f, 0x8b, 1, 2])
                    .into_bytes(),
                "not gzip",
            ),
            (
                base64::engine::general_purpose::STANDARD
                    .encode(b"{}")
                    .into_bytes(),
                "not a Helm release",
            ),
        ] {
            let err = decode(&stored(1, "deployed", bytes))
                .unwrap_err()
                .to_string();
            assert!(err.contains("Secret sh.helm.release.v1.sky.v1"), "{err}");
            assert!(err.contains(reason), "{err}");
        }
    }

    #[test]
    fn the_newest_revision_must_be_deployed() {
        let revisions = [
            stored(1, "superseded", vec![]),
            stored(2, "deployed", vec![]),
        ];
        assert_eq!(
            newest_deployed("sky", &revisions)
                .unwrap()
                .unwrap()
                .revision,
            2
        );
        let failed = [stored(1, "deployed", vec![]), stored(2, "failed", vec![])];
        let err = newest_deployed("sky", &failed).unwrap_err().to_string();
        assert!(err.contains("revision 2, is failed"), "{err}");
        assert!(newest_deployed("sky", &[]).unwrap().is_none());
    }

    #[test]
    fn charts_map_by_name_and_version_and_others_list_what_skyctl_adopts() {
        let decode_chart = |name, version| -> HelmRelease {
            serde_json::from_value(release(name, version)).unwrap()
        };
        assert_eq!(
            chart_for(&decode_chart("skypilot", "0.13.0"), None)
                .unwrap()
                .version(),
            "0.13.0"
        );
        assert_eq!(
            chart_for(
                &decode_chart("skypilot-nightly", "1.0.0-dev.20250319"),
                None
            )
            .unwrap()
            .version(),
            "1.0.0-dev.20250319"
        );
        let err = chart_for(&decode_chart("skypilot", "0.12.0"), None)
            .unwrap_err()
            .to_string();
        for text in [
            "skypilot-0.12.0",
            "skypilot-0.13.0",
            "skypilot-nightly-1.0.0-dev.20250319",
            "--version",
        ] {
            assert!(err.contains(text), "{text}: {err}");
        }
        assert_eq!(
            chart_for(&decode_chart("skypilot", "0.12.0"), Some("0.13.0"))
                .unwrap()
                .version(),
            "0.13.0"
        );
        // The name must match too: another chart at 0.13.0 is not SkyPilot's.
        assert!(chart_for(&decode_chart("other", "0.13.0"), None).is_err());
    }

    #[test]
    fn leftovers_are_what_helm_made_and_skyctl_does_not_render_but_never_data_or_namespaces() {
        let mut release: HelmRelease =
            serde_json::from_value(release("skypilot", "0.13.0")).unwrap();
        release.manifest.push_str("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: skypilot-system\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n");
        let objects = helm_objects(&release);
        assert_eq!(objects.len(), 5);
        assert_eq!(
            objects[0].0.namespace.as_deref(),
            Some("team"),
            "namespaced objects get the release's namespace"
        );
        assert_eq!(objects[1].0.namespace, None, "a ClusterRole has none");
        let rendered = vec![Manifest {
            id: objects[0].0.clone(),
            object: json!({}),
        }];
        let left: Vec<String> = leftovers(&objects, &rendered)
            .iter()
            .map(|(id, hook)| format!("{id} {hook}"))
            .collect();
        assert_eq!(
            left,
            ["ClusterRole b false", "Job team/sky-admission-create true"]
        );
    }

    #[test]
    fn only_helms_own_leftovers_go_and_kept_ones_stay() {
        let release: HelmRelease = serde_json::from_value(release("skypilot", "0.13.0")).unwrap();
        let meta = |annotations: Value| -> ObjectMeta {
            serde_json::from_value(json!({"annotations": annotations})).unwrap()
        };
        let helms =
            json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team"});
        for (annotations, hook, want) in [
            (helms.clone(), false, true),
            (
                json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "other"}),
                false,
                false,
            ),
            (json!({}), false, false),
            (json!({"helm.sh/hook": "pre-install"}), true, true),
            (json!({"helm.sh/hook": "pre-install"}), false, false),
            (
                json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team", "helm.sh/resource-policy": "keep"}),
                false,
                false,
            ),
        ] {
            assert_eq!(
                may_remove(&meta(annotations.clone()), &release, hook),
                want,
                "{annotations} {hook}"
            );
        }
    }

    #[test]
    fn helms_traces_are_removed_and_skyctls_own_entry_kept() {
        let meta: ObjectMeta = serde_json::from_value(json!({
            "resourceVersion": "42",
            "annotations": {"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team", "keep": "me"},
            "managedFields": [
                {"manager": "helm", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}},
                {"manager": "skyctl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}},
                {"manager": "helm", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {}}
            ]
        }))
        .unwrap();
        let patch = traces_patch(&meta).unwrap();
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        assert_eq!(
            patch["metadata"]["annotations"],
            json!({"meta.helm.sh/release-name": null, "meta.helm.sh/release-namespace": null})
        );
        let kept = patch["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["manager"], "skyctl");
        let clean: ObjectMeta = serde_json::from_value(json!({
            "resourceVersion": "43",
            "managedFields": [{"manager": "skyctl", "operation": "Apply"}]
        }))
        .unwrap();
        assert_eq!(traces_patch(&clean), None);
    }
}
