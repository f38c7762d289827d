//! Secrets skyctl keeps beside a release rather than in it: stored credentials and the OAuth
//! client, and the restarts that make pods read them anew. They are not among a release's
//! objects, so the object manager does not write them; every write and delete of them is here,
//! with the same rules: a Secret skyctl did not make is written only when taken over, and a
//! delete names the UID that was read.

use std::collections::BTreeMap;

use anyhow::Context;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::json;

/// Whether storing changed anything on the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    Created,
    Updated,
    Unchanged,
}

/// A Secret of the name exists that skyctl did not make (with kubectl, as upstream's guide
/// does, or by Helm): storing over it replaces its keys, so only `--take-ownership` does.
#[derive(Debug, thiserror::Error)]
#[error(
    "Secret {namespace}/{name} exists and skyctl did not make it (kubectl or Helm did); storing \
     these credentials would replace its keys. Nothing was changed. Pass --take-ownership to \
     store them over it (the API server then restarts to read them)"
)]
pub struct NotMadeBySkyctl {
    pub namespace: String,
    pub name: String,
}

/// Creates or updates a Secret skyctl keeps outside any release, marked with `labels` and
/// `annotations`; unchanged when it already holds exactly this. Its content goes only into the
/// Secret. One of the name that skyctl did not make is stored over only with `take_over`.
pub async fn apply_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    mut labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    data: BTreeMap<String, String>,
    take_over: bool,
) -> anyhow::Result<StoreOutcome> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let data: BTreeMap<String, ByteString> = data
        .into_iter()
        .map(|(k, v)| (k, ByteString(v.into_bytes())))
        .collect();
    labels.insert(
        "app.kubernetes.io/managed-by".to_owned(),
        "skyctl".to_owned(),
    );
    let existing = api.get_opt(name).await?;
    let made_by_skyctl = |secret: &Secret| {
        secret
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get("app.kubernetes.io/managed-by"))
            .is_some_and(|by| by == "skyctl")
    };
    if let Some(existing) = &existing
        && !made_by_skyctl(existing)
        && !take_over
    {
        return Err(crate::error::invalid_input(NotMadeBySkyctl {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }));
    }
    if let Some(existing) = &existing {
        let holds = |have: &Option<BTreeMap<String, String>>, want: &BTreeMap<String, String>| {
            want.iter()
                .all(|(k, v)| have.as_ref().and_then(|h| h.get(k)) == Some(v))
        };
        // skyctl's own annotations must match both ways: one dropped (a GCP key without its
        // project now) is a change too.
        let own = |map: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            map.iter()
                .filter(|(k, _)| k.starts_with("skyctl.io/"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let existing_own = own(existing
            .metadata
            .annotations
            .as_ref()
            .unwrap_or(&BTreeMap::new()));
        // A Secret stored without data (Slurm's) reads back with none at all.
        if existing.data.clone().unwrap_or_default() == data
            && holds(&existing.metadata.labels, &labels)
            && existing_own == own(&annotations)
        {
            return Ok(StoreOutcome::Unchanged);
        }
    }
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "type": "Opaque",
        "data": data,
    });
    // Forced: the Secret is skyctl's, or the user took it over for these credentials.
    api.patch(
        name,
        &PatchParams::apply("skyctl").force(),
        &Patch::Apply(&secret),
    )
    .await
    .with_context(|| format!("cannot store Secret {namespace}/{name}"))?;
    Ok(if existing.is_some() {
        StoreOutcome::Updated
    } else {
        StoreOutcome::Created
    })
}

/// Deletes Secret `namespace/name` if it is still the object of `uid` (the one that was
/// read). Whether it was deleted: gone already, or made anew since, it is left.
pub async fn delete_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    uid: Option<String>,
) -> anyhow::Result<bool> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid,
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(false),
        Err(err) => {
            Err(anyhow::Error::new(err).context(format!("cannot delete Secret {namespace}/{name}")))
        }
    }
}

/// Restarts the API server's pods: credentials are read when a pod starts, so new ones do
/// nothing until then.
pub async fn restart_api_server(
    client: &kube::Client,
    release: &crate::release::Release,
    names: &crate::render::ChartNames,
) -> anyhow::Result<()> {
    restart_deployment(client, &release.namespace, &names.api_server)
        .await
        .context("cannot restart the API server")
}

/// Restarts a Deployment's pods, as `kubectl rollout restart` does.
pub async fn restart_deployment(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<()> {
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), namespace);
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        "skyctl.io/restarted-at": k8s_openapi::jiff::Timestamp::now().to_string()}}}}});
    // A field manager of its own, so skyctl's applies never see this annotation as theirs.
    let params = PatchParams {
        field_manager: Some("skyctl-restart".into()),
        ..Default::default()
    };
    deployments
        .patch(name, &params, &Patch::Merge(&patch))
        .await
        .with_context(|| format!("cannot restart Deployment {namespace}/{name}"))?;
    Ok(())
}
