//! The OAuth client's id and secret for `--auth oauth`, kept in a Secret of the release's
//! namespace that the chart's oauth2-proxy reads (`auth.oauth.client-details-from-secret`).
//! The chart would also take them as values (`auth.oauth.client-secret`), but values end up in
//! the release record and in every `get values`; the Secret keeps the client secret out of both.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;

use crate::error::invalid_input;
use crate::guide::credential_secrets::{self, StoreOutcome};
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

/// Stores the client for `release` in `namespace`.
pub async fn store(
    kube: &kube::Client,
    namespace: &str,
    release: &str,
    client: &Client,
) -> anyhow::Result<StoreOutcome> {
    credential_secrets::apply_secret(
        kube,
        namespace,
        &secret_name(release),
        BTreeMap::from([(LABEL.to_owned(), release.to_owned())]),
        BTreeMap::new(),
        client.data(),
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
}
