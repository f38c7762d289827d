//! The release history on the cluster: one Secret of skyctl's own type per revision, in the
//! release's namespace, next to what it describes. Labels name the release, so one list request
//! reads one release ([`SecretStorage`]) or every release in a namespace or cluster
//! ([`every_release`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};

use anyhow::Context;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::object_manager::delete_in_namespace;
use crate::manifest::{self, Manifest};
use crate::plan::managed_by_selector;
use crate::release::storage::without_secret_data;
use crate::release::{ReleaseRecord, ReleaseStorage};

/// The Secret type that marks skyctl's release records.
pub const SECRET_TYPE: &str = "skyctl.io/release.v1";
const LABEL_RELEASE: &str = "skyctl.io/release";
const LABEL_STATUS: &str = "skyctl.io/status";
const LABEL_REVISION: &str = "skyctl.io/revision";
const KEY_RECORD: &str = "release.json";
const KEY_MANIFEST: &str = "manifest.yaml.gz";

fn secret_name(record: &ReleaseRecord) -> String {
    format!("skyctl.release.v1.{}.v{}", record.name, record.revision)
}

/// The records of one release, as Secrets.
pub struct SecretStorage {
    api: Api<Secret>,
    release: String,
}

impl SecretStorage {
    pub fn new(client: &kube::Client, namespace: &str, release: &str) -> Self {
        Self {
            api: Api::namespaced(client.clone(), namespace),
            release: release.to_owned(),
        }
    }
}

/// The records of every release in `namespace`, or with `None` in every namespace: one list
/// request, for `skyctl list` and for finding which release uses what.
pub async fn every_release(
    client: &kube::Client,
    namespace: Option<&str>,
) -> anyhow::Result<Vec<ReleaseRecord>> {
    let (api, place) = match namespace {
        Some(namespace) => (
            Api::namespaced(client.clone(), namespace),
            format!("namespace {namespace}"),
        ),
        None => (Api::all(client.clone()), "the cluster".to_owned()),
    };
    records(&api, LABEL_RELEASE)
        .await
        .with_context(|| format!("cannot read the release records in {place}"))
}

/// The records among the Secrets that `selector` (and skyctl's own label) chooses.
async fn records(api: &Api<Secret>, selector: &str) -> anyhow::Result<Vec<ReleaseRecord>> {
    decode_records(api.list(&record_selection(selector)).await?.items.iter())
}

/// skyctl's records among the Secrets that `selector` chooses.
fn record_selection(selector: &str) -> ListParams {
    ListParams::default()
        .labels(&format!("{selector},{}", managed_by_selector()))
        .fields(&format!("type={SECRET_TYPE}"))
}

fn decode_records<'a>(
    secrets: impl Iterator<Item = &'a Secret>,
) -> anyhow::Result<Vec<ReleaseRecord>> {
    secrets
        .filter(|secret| secret.type_.as_deref() == Some(SECRET_TYPE))
        .map(decode_record)
        .collect()
}

/// Every Secret skyctl manages in `namespace`, data included: the releases' records, their
/// own Secrets, the credentials and OAuth clients it stores. One list, where uninstall made
/// one for the records, one for the release's Secrets, one for the credentials and a read of
/// the OAuth client.
pub async fn managed_in(client: &kube::Client, namespace: &str) -> anyhow::Result<Vec<Secret>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let listed = api
        .list(&ListParams::default().labels(&managed_by_selector()))
        .await?;
    Ok(listed.items)
}

/// The records of `release` among the Secrets of its namespace.
pub fn records_among(secrets: &[Secret], release: &str) -> anyhow::Result<Vec<ReleaseRecord>> {
    decode_records(secrets.iter().filter(|secret| {
        secret
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(LABEL_RELEASE))
            .is_some_and(|name| name == release)
    }))
}

impl SecretStorage {
    /// The release's records.
    fn selection(&self) -> ListParams {
        record_selection(&format!("{LABEL_RELEASE}={}", self.release))
    }
}

impl ReleaseStorage for SecretStorage {
    /// One list request.
    async fn list(&self) -> anyhow::Result<Vec<ReleaseRecord>> {
        let listed = self
            .api
            .list(&self.selection())
            .await
            .with_context(|| format!("cannot read the records of release {}", self.release))?;
        decode_records(listed.items.iter())
    }

    async fn create(&self, record: &ReleaseRecord, manifests: &[&Manifest]) -> anyhow::Result<()> {
        let redacted: Vec<Manifest> = manifests.iter().map(|m| without_secret_data(m)).collect();
        let mut data = record_data(record)?;
        data.insert(
            KEY_MANIFEST.into(),
            ByteString(gzip(manifest::to_yaml_stream(&redacted).as_bytes())?),
        );
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {
                "name": secret_name(record),
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

    async fn update(&self, record: &ReleaseRecord) -> anyhow::Result<()> {
        let data: BTreeMap<String, ByteString> = record_data(record)?;
        let patch = json!({"metadata": {"labels": labels(record)}, "data": data});
        self.api
            .patch(
                &secret_name(record),
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

    async fn manifests(&self, record: &ReleaseRecord) -> anyhow::Result<Vec<Manifest>> {
        let secret = self.api.get(&secret_name(record)).await?;
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

    async fn delete(&self, record: &ReleaseRecord) -> anyhow::Result<()> {
        delete_in_namespace(&self.api, &secret_name(record))
            .await
            .with_context(|| format!("cannot delete the record of revision {}", record.revision))?;
        Ok(())
    }

    /// One request for every revision read: the records `list` reads, chosen by the same
    /// selectors and by the revisions of `records`. A revision recorded after the caller read
    /// the records (a run that held the lock before it) stays, and with it the release, so
    /// that the objects only it made are still found. Whoever may delete Secrets but not a
    /// collection of them has each deleted in turn.
    async fn delete_all(&self, records: &[ReleaseRecord]) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let revisions: Vec<String> = records.iter().map(|r| r.revision.to_string()).collect();
        let mut read = self.selection();
        read.label_selector = Some(format!(
            "{},{LABEL_REVISION} in ({})",
            read.label_selector.unwrap_or_default(),
            revisions.join(",")
        ));
        match self
            .api
            .delete_collection(&DeleteParams::default(), &read)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 403 => {
                for record in records {
                    self.delete(record).await?;
                }
                Ok(())
            }
            Err(err) => Err(anyhow::Error::new(err))
                .with_context(|| format!("cannot delete the records of release {}", self.release)),
        }
    }
}

fn labels(record: &ReleaseRecord) -> Value {
    json!({
        LABEL_RELEASE: record.name,
        LABEL_STATUS: record.status.as_str(),
        LABEL_REVISION: record.revision.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
