//! The OAuth client's id and secret for `--auth oauth`, kept in a Secret of the release's
//! namespace that the chart's oauth2-proxy reads (`auth.oauth.client-details-from-secret`).
//! The chart would also take them as values (`auth.oauth.client-secret`), but values end up in
//! the release record and in every `get values`; the Secret keeps the client secret out of both.

use std::collections::BTreeMap;

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
