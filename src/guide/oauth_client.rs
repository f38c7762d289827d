//! The OAuth client's id and secret for `--auth oauth`, kept in a Secret of the release's
//! namespace that the chart's oauth2-proxy reads (`auth.oauth.client-details-from-secret`).
//! The chart would also take them as values (`auth.oauth.client-secret`), but values end up in
//! the release record and in every `get values`; the Secret keeps the client secret out of both.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::Api;

use crate::cluster::kept_secrets::{self, StoreOutcome};
use crate::error::invalid_input;
use crate::redacted::Redacted;

/// Marks the Secret as the OAuth client of a release, named in the label's value.
const LABEL: &str = "skyctl.io/oauth-client";

/// The Secret skyctl stores a release's OAuth client in.
pub fn secret_name(release: &str) -> String {
    format!("{release}-oauth-client")
}

/// What the OIDC provider gave the API server.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: Redacted<String>,
}

impl Client {
    /// The Secret's data, under the keys the chart looks for first (it also takes
    /// `client_id` and `client_secret`).
    pub fn data(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("client-id".to_owned(), self.id.clone()),
            ("client-secret".to_owned(), self.secret.expose().clone()),
        ])
    }
}

/// Whether a Secret with these labels holds `release`'s client as skyctl stored it. One of the
/// same name without the mark is someone else's (made with kubectl, as the chart's docs say to):
/// skyctl must not overwrite it.
fn is_ours(labels: Option<&BTreeMap<String, String>>, release: &str) -> bool {
    labels
        .and_then(|labels| labels.get(LABEL))
        .is_some_and(|owner| owner == release)
}

/// Deletes `release`'s client Secret, when skyctl stored it for that release (by its mark, and
/// only that object: a precondition on its uid). Its name, when it was deleted.
pub async fn remove(
    kube: &kube::Client,
    namespace: &str,
    release: &str,
) -> anyhow::Result<Option<String>> {
    let api: Api<Secret> = Api::namespaced(kube.clone(), namespace);
    let found = api.get_metadata_opt(&secret_name(release)).await?;
    remove_found(
        kube,
        namespace,
        release,
        found.as_ref().map(|f| &f.metadata),
    )
    .await
}

/// [`remove`], given the Secret's metadata as the run read it (`None`: absent).
pub async fn remove_found(
    kube: &kube::Client,
    namespace: &str,
    release: &str,
    found: Option<&ObjectMeta>,
) -> anyhow::Result<Option<String>> {
    let Some(found) = found.filter(|found| is_ours(found.labels.as_ref(), release)) else {
        return Ok(None);
    };
    let name = secret_name(release);
    let deleted = kept_secrets::delete_secret(kube, namespace, &name, found.uid.clone()).await?;
    Ok(deleted.then_some(name))
}

/// Refuses, before anything is written, to store `release`'s client over a Secret skyctl did
/// not make for it, unless `take_over` (`--take-ownership`) says so.
pub async fn check_free(
    kube: &kube::Client,
    namespace: &str,
    release: &str,
    take_over: bool,
) -> anyhow::Result<()> {
    let name = secret_name(release);
    let api: Api<Secret> = Api::namespaced(kube.clone(), namespace);
    match api.get_metadata_opt(&name).await? {
        Some(found) if !take_over && !is_ours(found.metadata.labels.as_ref(), release) => {
            Err(invalid_input(anyhow::anyhow!(
                "Secret {namespace}/{name} exists and skyctl did not store it for release \
                 {release}; skyctl keeps the OAuth client there and will not overwrite it. Name \
                 it in auth.oauth.client-details-from-secret (without --auth oauth's client \
                 flags), delete it, or pass --take-ownership to replace it"
            )))
        }
        _ => Ok(()),
    }
}

/// Marks a Secret whose client oauth2-proxy has not been restarted to read yet. It is written
/// with the new client in one apply, and removed only once the restart is done: a run killed
/// in between leaves it, and the next run restarts oauth2-proxy even though the client it is
/// given is the one already stored.
const RESTART_PENDING: &str = "skyctl.io/oauth2-proxy-restart";

/// Whether oauth2-proxy must be restarted after `client` is stored over `existing`: a client
/// that replaces another, or one whose restart an earlier run never got to. A new Secret needs
/// none: oauth2-proxy cannot have read it yet.
fn needs_restart(existing: Option<&Secret>, client: &Client) -> bool {
    existing.is_some_and(|secret| {
        let pending = secret
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|annotations| annotations.contains_key(RESTART_PENDING));
        let data: BTreeMap<String, Vec<u8>> = secret
            .data
            .iter()
            .flatten()
            .map(|(key, value)| (key.clone(), value.0.clone()))
            .collect();
        let wanted: BTreeMap<String, Vec<u8>> = client
            .data()
            .into_iter()
            .map(|(key, value)| (key, value.into_bytes()))
            .collect();
        pending || data != wanted
    })
}

/// Stores the client for `release` in `namespace`. Returns whether oauth2-proxy must be
/// restarted to read it; once it is, [`restarted`] says so.
pub async fn store(
    kube: &kube::Client,
    namespace: &str,
    release: &str,
    client: &Client,
) -> anyhow::Result<bool> {
    let api: Api<Secret> = Api::namespaced(kube.clone(), namespace);
    let restart = needs_restart(api.get_opt(&secret_name(release)).await?.as_ref(), client);
    let annotations = if restart {
        BTreeMap::from([(RESTART_PENDING.to_owned(), "pending".to_owned())])
    } else {
        BTreeMap::new()
    };
    apply(kube, namespace, release, client, annotations).await?;
    crate::interrupt_point::reached(crate::interrupt_point::Point::OauthClientStored);
    Ok(restart)
}

/// oauth2-proxy was restarted to read the stored client: drops the mark [`store`] left.
pub async fn restarted(
    kube: &kube::Client,
    namespace: &str,
    release: &str,
    client: &Client,
) -> anyhow::Result<()> {
    apply(kube, namespace, release, client, BTreeMap::new()).await?;
    Ok(())
}

async fn apply(
    kube: &kube::Client,
    namespace: &str,
    release: &str,
    client: &Client,
    annotations: BTreeMap<String, String>,
) -> anyhow::Result<StoreOutcome> {
    kept_secrets::apply_secret(
        kube,
        namespace,
        &secret_name(release),
        BTreeMap::from([(LABEL.to_owned(), release.to_owned())]),
        annotations,
        client.data(),
        // check_free refused, before anything was written, a Secret of the name that skyctl
        // did not store for this release, unless told to take it over.
        true,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_secret_marked_for_the_release_is_skyctls_to_overwrite() {
        let marked = |owner: &str| Some(BTreeMap::from([(LABEL.to_owned(), owner.to_owned())]));
        let cases = [
            (None, false),
            (Some(BTreeMap::new()), false),
            (
                Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_owned(),
                    "skyctl".to_owned(),
                )])),
                false,
            ),
            (marked("other"), false),
            (marked("r"), true),
        ];
        for (labels, ours) in cases {
            assert_eq!(is_ours(labels.as_ref(), "r"), ours, "{labels:?}");
        }
    }

    #[test]
    fn oauth2_proxy_is_restarted_for_a_replaced_client_or_an_unfinished_restart() {
        let client = Client {
            id: "id".into(),
            secret: Redacted::new("s".into()),
        };
        let secret = |secret: &str, pending: bool| -> Secret {
            let annotations = if pending {
                serde_json::json!({RESTART_PENDING: "pending"})
            } else {
                serde_json::json!({})
            };
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "r-oauth-client", "annotations": annotations},
                "stringData": {},
                "data": {
                    "client-id": "aWQ=",
                    "client-secret": base64_of(secret),
                },
            }))
            .unwrap()
        };
        let cases = [
            (None, false),
            (Some(secret("s", false)), false),
            (Some(secret("old", false)), true),
            (Some(secret("s", true)), true),
        ];
        for (existing, restart) in cases {
            assert_eq!(
                needs_restart(existing.as_ref(), &client),
                restart,
                "{existing:?}"
            );
        }
    }

    fn base64_of(text: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(text)
    }
}
