//! The credential Secrets in a release's namespace, and the values that make the API server use
//! them. They are not part of a release: uninstall keeps them, `creds remove` deletes them.

use std::collections::BTreeMap;

use anyhow::Context;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Marks a Secret as credentials skyctl stored, and which kind.
const LABEL: &str = "skyctl.io/credentials";
/// The GCP project the key is for; the chart wants it in values, so it is kept with the key.
const PROJECT: &str = "skyctl.io/gcp-project";
/// The Nebius tenant the credentials are for, kept with them for the same reason.
const TENANT_ID: &str = "skyctl.io/nebius-tenant-id";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Aws,
    Gcp,
    Kube,
    Runpod,
    Lambda,
    Vast,
    Digitalocean,
    Nebius,
    R2,
    Coreweave,
    /// The API server's database: a PostgreSQL connection string.
    Db,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Aws,
        Kind::Gcp,
        Kind::Kube,
        Kind::Runpod,
        Kind::Lambda,
        Kind::Vast,
        Kind::Digitalocean,
        Kind::Nebius,
        Kind::R2,
        Kind::Coreweave,
        Kind::Db,
    ];

    /// `aws`, `digitalocean`: as the command line and the Secret's label name it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Aws => "aws",
            Kind::Gcp => "gcp",
            Kind::Kube => "kube",
            Kind::Runpod => "runpod",
            Kind::Lambda => "lambda",
            Kind::Vast => "vast",
            Kind::Digitalocean => "digitalocean",
            Kind::Nebius => "nebius",
            Kind::R2 => "r2",
            Kind::Coreweave => "coreweave",
            Kind::Db => "db",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == label)
    }

    /// The values section of the chart that turns this kind on (`runpodCredentials`).
    pub fn section(self) -> &'static str {
        match self {
            Kind::Aws => "awsCredentials",
            Kind::Gcp => "gcpCredentials",
            Kind::Kube => "kubernetesCredentials",
            Kind::Runpod => "runpodCredentials",
            Kind::Lambda => "lambdaCredentials",
            Kind::Vast => "vastCredentials",
            Kind::Digitalocean => "digitaloceanCredentials",
            Kind::Nebius => "nebiusCredentials",
            Kind::R2 => "r2Credentials",
            Kind::Coreweave => "coreweaveCredentials",
            Kind::Db => "apiService",
        }
    }

    /// The Secret the chart reads by default, which `creds add` stores into.
    pub fn default_secret(self) -> String {
        match self {
            Kind::Kube => "kube-credentials".to_owned(),
            kind => format!("{}-credentials", kind.label()),
        }
    }
}

/// Credentials present in the namespace: which, where, never their contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub kind: Kind,
    pub secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The Nebius tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// Whether storing changed anything on the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    Created,
    Updated,
    Unchanged,
}

/// Creates or updates a credential Secret. Its content goes only into the Secret.
pub async fn store(
    client: &kube::Client,
    namespace: &str,
    credential: &Stored,
    data: BTreeMap<String, String>,
) -> anyhow::Result<StoreOutcome> {
    let mut annotations = BTreeMap::new();
    if let Some(project) = &credential.project {
        annotations.insert(PROJECT.to_owned(), project.clone());
    }
    if let Some(tenant) = &credential.tenant_id {
        annotations.insert(TENANT_ID.to_owned(), tenant.clone());
    }
    let labels = BTreeMap::from([(LABEL.to_owned(), credential.kind.label().to_owned())]);
    apply_secret(
        client,
        namespace,
        &credential.secret,
        labels,
        annotations,
        data,
    )
    .await
}

/// Creates or updates a Secret skyctl keeps outside any release, marked with `labels` and
/// `annotations`; unchanged when it already holds exactly this. Its content goes only into the
/// Secret.
pub async fn apply_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    mut labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    data: BTreeMap<String, String>,
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
        if existing.data.as_ref() == Some(&data)
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
    // Forced: the user asked for these credentials, even over a Secret made with kubectl.
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

/// The credentials skyctl stored in the namespace, read from the Secrets' labels: their data
/// never leaves the cluster.
pub async fn list(client: &kube::Client, namespace: &str) -> anyhow::Result<Vec<Stored>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secrets = api
        .list_metadata(&ListParams::default().labels(LABEL))
        .await?;
    Ok(stored_among(secrets.items.iter().map(|s| &s.metadata)))
}

/// The credentials among these Secrets (by their metadata), in a stable order.
pub fn stored_among<'a>(secrets: impl IntoIterator<Item = &'a ObjectMeta>) -> Vec<Stored> {
    let mut stored: Vec<Stored> = secrets
        .into_iter()
        .filter_map(|meta| {
            let kind = Kind::from_label(meta.labels.as_ref()?.get(LABEL)?)?;
            let annotation = |key| meta.annotations.as_ref().and_then(|a| a.get(key)).cloned();
            Some(Stored {
                kind,
                secret: meta.name.clone()?,
                project: annotation(PROJECT),
                tenant_id: annotation(TENANT_ID),
            })
        })
        .collect();
    stored.sort_by_key(|s| s.kind.label());
    stored
}

/// Deletes the stored credentials of one kind; returns what was deleted.
pub async fn remove(
    client: &kube::Client,
    namespace: &str,
    kind: Kind,
) -> anyhow::Result<Vec<Stored>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let found: Vec<Stored> = list(client, namespace)
        .await?
        .into_iter()
        .filter(|s| s.kind == kind)
        .collect();
    for stored in &found {
        api.delete(&stored.secret, &DeleteParams::default())
            .await
            .with_context(|| format!("cannot delete Secret {namespace}/{}", stored.secret))?;
    }
    Ok(found)
}

/// Restarts the API server's pods, as `kubectl rollout restart` does: credentials are read
/// when a pod starts, so new ones do nothing until then.
pub async fn restart_api_server(
    client: &kube::Client,
    release: &crate::release::Release,
) -> anyhow::Result<()> {
    let name = crate::render::ChartNames::for_release(release).api_server;
    restart_deployment(client, &release.namespace, &name)
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

/// The values that make the API server use these credentials (or, with `enabled` false, stop).
pub fn values_for(stored: &Stored, enabled: bool) -> Map<String, Value> {
    let section = stored.kind.section();
    let tree = match stored.kind {
        Kind::Aws => json!({section: {"enabled": enabled}}),
        Kind::Gcp => match (&stored.project, enabled) {
            (Some(project), true) => json!({section: {"enabled": true, "projectId": project}}),
            _ => json!({section: {"enabled": enabled}}),
        },
        Kind::Kube => match enabled {
            true => {
                json!({section: {"useKubeconfig": true, "kubeconfigSecretName": stored.secret}})
            }
            false => json!({section: {"useKubeconfig": false}}),
        },
        Kind::Db => match enabled {
            true => json!({section: {"dbConnectionSecretName": stored.secret}}),
            false => json!({section: {"dbConnectionSecretName": null}}),
        },
        kind => {
            // `runpodSecretName`, `r2SecretName`: each section names its Secret this way.
            let name_key = format!("{}SecretName", section.trim_end_matches("Credentials"));
            let mut values = json!({"enabled": enabled});
            if enabled {
                values[name_key] = json!(stored.secret);
                if let (Kind::Nebius, Some(tenant)) = (kind, &stored.tenant_id) {
                    values["tenantId"] = json!(tenant);
                }
            }
            json!({ section: values })
        }
    };
    let Value::Object(map) = tree else {
        unreachable!("a JSON object literal")
    };
    map
}

/// Why `chart` cannot use credentials of this kind, if it cannot: it lacks their values (the
/// seed-era chart knows AWS, GCP and Kubernetes only), and which versions have them.
pub fn unsupported_by(kind: Kind, chart: &crate::chart::Chart) -> Option<String> {
    let (section, key) = enabled_key(kind);
    let has = |chart: &crate::chart::Chart| {
        chart
            .definition()
            .defaults()
            .get(section)
            .and_then(|values| values.get(key))
            .is_some()
    };
    if has(chart) {
        return None;
    }
    let having: Vec<&str> = crate::chart::Chart::all()
        .iter()
        .filter(|c| has(c))
        .map(crate::chart::Chart::version)
        .collect();
    Some(format!(
        "chart {} has no {section}.{key}; chart {} has (upgrade with --version)",
        chart.version(),
        having.join(" or ")
    ))
}

/// The values key that says whether credentials of this kind are used.
pub fn enabled_key(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Kube => (kind.section(), "useKubeconfig"),
        Kind::Db => (kind.section(), "dbConnectionSecretName"),
        kind => (kind.section(), "enabled"),
    }
}

/// What `values` say about using these stored credentials: nothing (`None`: stored ones are
/// used), or whether they use them and the setting that decides. A database given inline
/// (`apiService.dbConnectionString`) is the values' choice too; its text is never repeated.
pub fn chosen(stored: &Stored, values: &Value) -> Option<(bool, String)> {
    let (section, key) = enabled_key(stored.kind);
    if stored.kind == Kind::Db {
        let api = values.get(section)?;
        let set = |key: &str| api.get(key).filter(|v| !v.is_null());
        return match (set(key), set("dbConnectionString")) {
            (Some(name), _) => Some((
                name == stored.secret.as_str(),
                format!("{section}.{key}={name}"),
            )),
            (None, Some(_)) => Some((false, format!("{section}.dbConnectionString"))),
            (None, None) => None,
        };
    }
    values.pointer(&format!("/{section}/{key}")).map(|chosen| {
        (
            chosen.as_bool() == Some(true),
            format!("{section}.{key}={chosen}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_turns_on_the_values_the_chart_reads() {
        let gcp = Stored {
            kind: Kind::Gcp,
            secret: "gcp-credentials".into(),
            project: Some("proj-1".into()),
            tenant_id: None,
        };
        assert_eq!(
            Value::Object(values_for(&gcp, true)),
            json!({"gcpCredentials": {"enabled": true, "projectId": "proj-1"}})
        );
        let kube = Stored {
            kind: Kind::Kube,
            secret: "my-kube".into(),
            project: None,
            tenant_id: None,
        };
        assert_eq!(
            Value::Object(values_for(&kube, true)),
            json!({"kubernetesCredentials": {"useKubeconfig": true, "kubeconfigSecretName": "my-kube"}})
        );
        let aws = Stored {
            kind: Kind::Aws,
            secret: "aws-credentials".into(),
            project: None,
            tenant_id: None,
        };
        assert_eq!(
            Value::Object(values_for(&aws, false)),
            json!({"awsCredentials": {"enabled": false}})
        );
    }
}
