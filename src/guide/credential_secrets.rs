//! The credential Secrets in a release's namespace: stored, listed and removed (through
//! `cluster::kept_secrets`), never their contents printed. What they hold and the values that
//! use them are `credentials`'.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};

use crate::cluster::kept_secrets::{self, StoreOutcome};
use crate::credentials::{Kind, LABEL, Stored, marks, stored_among};

/// Creates or updates a credential Secret. Its content goes only into the Secret. One that
/// skyctl did not make is stored over only with `take_over`.
pub async fn store(
    client: &kube::Client,
    namespace: &str,
    credential: &Stored,
    data: BTreeMap<String, String>,
    take_over: bool,
) -> anyhow::Result<StoreOutcome> {
    let (labels, annotations) = marks(credential);
    kept_secrets::apply_secret(
        client,
        namespace,
        &credential.secret,
        labels,
        annotations,
        data,
        take_over,
    )
    .await
}

/// The credentials skyctl stored in the namespace, read from the Secrets' labels: their data
/// never leaves the cluster.
pub async fn list(client: &kube::Client, namespace: &str) -> anyhow::Result<Vec<Stored>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secrets = api
        .list_metadata(&ListParams::default().labels(LABEL))
        .await?;
    Ok(stored_among(secrets.items.iter().map(|s| &s.metadata)))
}

/// The Secrets the release's deployed revision has its pods read that skyctl did not store
/// (`stored`): made by hand, or kept from Helm after adopt. None without a deployed revision.
pub async fn made_elsewhere(
    client: &kube::Client,
    release: &crate::release::Release,
    stored: &[Stored],
) -> anyhow::Result<Vec<crate::credentials::MadeElsewhere>> {
    use crate::release::storage::ReleaseStorage;
    let storage = crate::cluster::release_secrets::SecretStorage::new(
        client,
        &release.namespace,
        &release.name,
    );
    let history = crate::release::History::new(storage.list().await?);
    let Some(deployed) = history.deployed() else {
        return Ok(Vec::new());
    };
    let manifests = storage.manifests(deployed).await?;
    let api: Api<Secret> = Api::namespaced(client.clone(), &release.namespace);
    let existing: Vec<String> = api
        .list_metadata(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect();
    // The release's OAuth client is its login, not credentials.
    let login = super::oauth_client::secret_name(&release.name);
    let reads = crate::preflight::intent::secrets_read(&manifests);
    Ok(crate::credentials::made_elsewhere(
        reads
            .iter()
            .filter(|read| read.workload.namespace.as_deref() == Some(&release.namespace))
            .map(|read| read.secret)
            .filter(|secret| *secret != login),
        &existing,
        stored,
    ))
}

/// Deletes the stored credentials of one kind; returns what was deleted.
pub async fn remove(
    client: &kube::Client,
    namespace: &str,
    kind: Kind,
) -> anyhow::Result<Vec<Stored>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secrets = api
        .list_metadata(&ListParams::default().labels(LABEL))
        .await?;
    let mut removed = Vec::new();
    for meta in secrets.items.iter().map(|s| &s.metadata) {
        let Some(stored) = stored_among([meta]).pop().filter(|s| s.kind == kind) else {
            continue;
        };
        let uid = meta.uid.clone();
        if kept_secrets::delete_secret(client, namespace, &stored.secret, uid).await? {
            removed.push(stored);
        }
    }
    Ok(removed)
}
