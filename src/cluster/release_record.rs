//! The record of each revision of a release, kept as a Secret of skyctl's own type in the
//! release's namespace, next to what it describes.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use anyhow::Context;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::manifest::{self, Manifest, ObjectRef};

/// The Secret type that marks skyctl's release records.
pub const SECRET_TYPE: &str = "skyctl.io/release.v1";
const LABEL_RELEASE: &str = "skyctl.io/release";
const LABEL_STATUS: &str = "skyctl.io/status";
const KEY_RECORD: &str = "release.json";
const KEY_MANIFEST: &str = "manifest.yaml.gz";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
    Deployed,
    Failed,
    Superseded,
    Uninstalling,
}

impl ReleaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::PendingInstall => "pending-install",
            ReleaseStatus::PendingUpgrade => "pending-upgrade",
            ReleaseStatus::PendingRollback => "pending-rollback",
            ReleaseStatus::Deployed => "deployed",
            ReleaseStatus::Failed => "failed",
            ReleaseStatus::Superseded => "superseded",
            ReleaseStatus::Uninstalling => "uninstalling",
        }
    }

    /// An operation was under way when this record was last written.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            ReleaseStatus::PendingInstall
                | ReleaseStatus::PendingUpgrade
                | ReleaseStatus::PendingRollback
                | ReleaseStatus::Uninstalling
        )
    }
}

/// One revision of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRecord {
    pub name: String,
    pub namespace: String,
    pub revision: u32,
    pub status: ReleaseStatus,
    /// What happened, in a sentence: "Install complete", "Rolled back to 1", the failure.
    pub description: String,
    pub first_deployed: String,
    pub last_deployed: String,
    pub skyctl_version: String,
    /// The values the user gave (defaults excluded). Credentials never travel through values.
    pub values: Value,
    /// Every object the revision owns, cluster-scoped ones included.
    pub inventory: Vec<ObjectRef>,
    /// skyctl created the namespace, so `uninstall --delete-namespace` may remove it.
    #[serde(default)]
    pub created_namespace: bool,
}

impl ReleaseRecord {
    fn secret_name(&self) -> String {
        format!("skyctl.release.v1.{}.v{}", self.name, self.revision)
    }
}

/// The current time, as Kubernetes writes timestamps.
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Reads and writes the records of one release.
pub struct ReleaseStore {
    api: Api<Secret>,
    release: String,
}

impl ReleaseStore {
    pub fn new(client: &kube::Client, namespace: &str, release: &str) -> Self {
        Self {
            api: Api::namespaced(client.clone(), namespace),
            release: release.to_owned(),
        }
    }

    /// Every recorded revision, oldest first. One list request.
    pub async fn history(&self) -> anyhow::Result<Vec<ReleaseRecord>> {
        let selector = format!(
            "{LABEL_RELEASE}={},app.kubernetes.io/managed-by=skyctl",
            self.release
        );
        let secrets = self
            .api
            .list(&ListParams::default().labels(&selector))
            .await
            .with_context(|| format!("cannot read the records of release {}", self.release))?;
        let mut records = secrets
            .items
            .into_iter()
            .filter(|secret| secret.type_.as_deref() == Some(SECRET_TYPE))
            .map(|secret| decode_record(&secret))
            .collect::<anyhow::Result<Vec<_>>>()?;
        records.sort_by_key(|record| record.revision);
        Ok(records)
    }

    /// Stores a new revision with the objects it applies. Secret data is left out of the
    /// stored manifest: the record must never hold credentials.
    pub async fn create(
        &self,
        record: &ReleaseRecord,
        manifests: &[&Manifest],
    ) -> anyhow::Result<()> {
        let redacted: Vec<Manifest> = manifests.iter().map(|m| redact(m)).collect();
        let mut data = record_data(record)?;
        data.insert(
            KEY_MANIFEST.into(),
            ByteString(gzip(manifest::to_yaml_stream(&redacted).as_bytes())?),
        );
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {
                "name": record.secret_name(),
                "labels": labels(record),
            },
            "type": SECRET_TYPE,
        }))?;
        let secret = Secret {
            data: Some(data),
            ..secret
        };
        self.api
            .create(&PostParams::default(), &secret)
            .await
            .with_context(|| {
                format!(
                    "cannot record revision {} of release {}",
                    record.revision, record.name
                )
            })?;
        Ok(())
    }

    /// Rewrites a revision's record (its status, description, inventory), keeping its manifest.
    pub async fn update(&self, record: &ReleaseRecord) -> anyhow::Result<()> {
        let data: BTreeMap<String, ByteString> = record_data(record)?;
        let patch = json!({"metadata": {"labels": labels(record)}, "data": data});
        self.api
            .patch(
                &record.secret_name(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .with_context(|| {
                format!(
                    "cannot update revision {} of release {}",
                    record.revision, record.name
                )
            })?;
        Ok(())
    }

    /// The objects a revision applied, Secret data left out.
    pub async fn manifests(&self, record: &ReleaseRecord) -> anyhow::Result<Vec<Manifest>> {
        let secret = self.api.get(&record.secret_name()).await?;
        let bytes = secret
            .data
            .as_ref()
            .and_then(|data| data.get(KEY_MANIFEST))
            .with_context(|| format!("revision {} has no stored manifest", record.revision))?;
        let mut text = String::new();
        GzDecoder::new(bytes.0.as_slice()).read_to_string(&mut text)?;
        manifest::from_yaml_stream(&text)
            .with_context(|| format!("the manifest of revision {} is corrupt", record.revision))
    }

    /// Deletes one revision's record.
    pub async fn delete(&self, record: &ReleaseRecord) -> anyhow::Result<()> {
        match self
            .api
            .delete(&record.secret_name(), &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
            Err(err) => Err(err).with_context(|| {
                format!("cannot delete the record of revision {}", record.revision)
            }),
        }
    }
}

fn labels(record: &ReleaseRecord) -> Value {
    json!({
        LABEL_RELEASE: record.name,
        LABEL_STATUS: record.status.as_str(),
        "skyctl.io/revision": record.revision.to_string(),
        "app.kubernetes.io/managed-by": "skyctl",
    })
}

fn record_data(record: &ReleaseRecord) -> anyhow::Result<BTreeMap<String, ByteString>> {
    Ok(BTreeMap::from([(
        KEY_RECORD.to_owned(),
        ByteString(serde_json::to_vec(record)?),
    )]))
}

fn decode_record(secret: &Secret) -> anyhow::Result<ReleaseRecord> {
    let name = secret.metadata.name.as_deref().unwrap_or_default();
    let bytes = secret
        .data
        .as_ref()
        .and_then(|data| data.get(KEY_RECORD))
        .with_context(|| format!("release record {name} has no {KEY_RECORD}"))?;
    serde_json::from_slice(&bytes.0).with_context(|| format!("release record {name} is corrupt"))
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// A Secret with its data left out; any other object unchanged.
fn redact(manifest: &Manifest) -> Manifest {
    let mut manifest = manifest.clone();
    if manifest.id.kind == "Secret"
        && manifest.id.group().is_empty()
        && let Some(object) = manifest.object.as_object_mut()
    {
        object.remove("data");
        object.remove("stringData");
    }
    manifest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_data_never_reaches_the_record() {
        let secret = Manifest::from_object(
            0,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                   "stringData": {"auth": "user:hash"}, "data": {"k": "dg=="}}),
        )
        .unwrap();
        let redacted = redact(&secret);
        assert_eq!(redacted.object.get("stringData"), None);
        assert_eq!(redacted.object.get("data"), None);
        assert_eq!(redacted.id, secret.id);
    }

    #[test]
    fn statuses_are_written_as_helm_writes_them() {
        let json = serde_json::to_value(ReleaseStatus::PendingInstall).unwrap();
        assert_eq!(json, "pending-install");
        assert_eq!(ReleaseStatus::PendingInstall.as_str(), "pending-install");
        assert!(ReleaseStatus::Uninstalling.is_pending());
        assert!(!ReleaseStatus::Deployed.is_pending());
    }

    #[test]
    fn gzip_round_trips() {
        let packed = gzip(b"kind: Secret\n").unwrap();
        let mut text = String::new();
        GzDecoder::new(packed.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "kind: Secret\n");
    }
}
