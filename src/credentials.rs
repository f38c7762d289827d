//! Credentials `creds add` stores: their kinds, how a Secret is marked as holding them, and the
//! values that make the API server use them in a given chart. Pure; the Secrets are read and
//! written by `guide::credential_secrets`. They are not part of a release: uninstall keeps
//! them, `creds remove` deletes them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::chart::Chart;

/// Marks a Secret as credentials skyctl stored, and which kind.
pub const LABEL: &str = "skyctl.io/credentials";
/// The GCP project the key is for; the chart wants it in values, so it is kept with the key.
const PROJECT: &str = "skyctl.io/gcp-project";
/// The Nebius tenant the credentials are for, kept with them for the same reason.
const TENANT_ID: &str = "skyctl.io/nebius-tenant-id";
/// The other values of the kind's section that go with this Secret (JSON): its layout (AWS)
/// or the SSH node pools that name its keys. Kept with the Secret so that every later install
/// turns the same values on; never secret.
const SETTINGS: &str = "skyctl.io/values";
/// The Kubernetes contexts a kubeconfig was stored with (JSON list): an install after `creds
/// add kube` allows them in the SkyPilot config, as `creds add` would have in a release.
const CONTEXTS: &str = "skyctl.io/kube-contexts";

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
    /// The private keys of SSH node pools (`apiService.sshKeySecret`).
    Ssh,
    /// The SSH config of Slurm login nodes. The chart takes it only as a value
    /// (`slurmCredentials.config`) and makes its own Secret from it, so skyctl's Secret holds it
    /// in its settings, with no data: every install rebuilds the value from there.
    Slurm,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
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
        Kind::Ssh,
        Kind::Slurm,
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
            Kind::Ssh => "ssh",
            Kind::Slurm => "slurm",
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
            Kind::Slurm => "slurmCredentials",
            Kind::Db | Kind::Ssh => "apiService",
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
    /// Other values of the section that go with the Secret (see [`SETTINGS`]).
    #[serde(skip)]
    pub settings: Map<String, Value>,
    /// A kubeconfig's contexts (see [`CONTEXTS`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<String>,
}

impl Stored {
    /// Credentials of `kind` in Secret `secret`, with nothing else to say about them.
    pub fn new(kind: Kind, secret: impl Into<String>) -> Self {
        Stored {
            kind,
            secret: secret.into(),
            project: None,
            tenant_id: None,
            settings: Map::new(),
            contexts: Vec::new(),
        }
    }
}

/// A Secret the release's pods read that skyctl did not store: made by hand, as upstream's
/// guide makes them (`kubectl create secret`), or kept from a Helm release skyctl adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MadeElsewhere {
    /// The kind whose Secret the chart reads under this name by default, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    pub secret: String,
    pub exists: bool,
}

/// Of the Secrets the release's pods `read` (none the release renders), those skyctl did not
/// store, each once, in name order. `existing`: the names of the namespace's Secrets.
pub fn made_elsewhere<'a>(
    read: impl IntoIterator<Item = &'a str>,
    existing: &[String],
    stored: &[Stored],
) -> Vec<MadeElsewhere> {
    let names: std::collections::BTreeSet<&str> = read
        .into_iter()
        .filter(|secret| !stored.iter().any(|s| s.secret == *secret))
        .collect();
    names
        .into_iter()
        .map(|secret| MadeElsewhere {
            kind: Kind::ALL
                .into_iter()
                .find(|kind| kind.default_secret() == secret),
            secret: secret.to_owned(),
            exists: existing.iter().any(|name| name == secret),
        })
        .collect()
}

/// The labels and annotations that mark a Secret as holding `credential`, read back by
/// [`stored_among`].
pub fn marks(credential: &Stored) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut annotations = BTreeMap::new();
    if let Some(project) = &credential.project {
        annotations.insert(PROJECT.to_owned(), project.clone());
    }
    if let Some(tenant) = &credential.tenant_id {
        annotations.insert(TENANT_ID.to_owned(), tenant.clone());
    }
    if !credential.settings.is_empty() {
        annotations.insert(
            SETTINGS.to_owned(),
            Value::Object(credential.settings.clone()).to_string(),
        );
    }
    if !credential.contexts.is_empty() {
        annotations.insert(CONTEXTS.to_owned(), json!(credential.contexts).to_string());
    }
    let labels = BTreeMap::from([(LABEL.to_owned(), credential.kind.label().to_owned())]);
    (labels, annotations)
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
                settings: annotation(SETTINGS)
                    .map(|s| settings_from(&s))
                    .unwrap_or_default(),
                // One edited into something else counts as none.
                contexts: annotation(CONTEXTS)
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or_default(),
            })
        })
        .collect();
    stored.sort_by_key(|s| s.kind.label());
    stored
}

/// The settings annotation as [`marks`] writes it; one edited into something else counts as
/// none, so the values fall back to the chart's defaults.
fn settings_from(annotation: &str) -> Map<String, Value> {
    serde_json::from_str(annotation).unwrap_or_default()
}

/// The values that make the API server use these credentials (or, with `enabled` false, stop),
/// as `chart` names them.
pub fn values_for(stored: &Stored, enabled: bool, chart: &Chart) -> Map<String, Value> {
    let section = stored.kind.section();
    let tree = match stored.kind {
        Kind::Aws if enabled => {
            // Every layout key the chart has is set, defaults included, so that credentials
            // stored again in another layout never meet the previous one's recorded values.
            let mut values = chart_section(chart, section)
                .into_iter()
                .filter(|(key, _)| AWS_LAYOUT.contains(&key.as_str()))
                .collect::<Map<String, Value>>();
            if values.contains_key(AWS_SECRET_NAME) {
                values.insert(AWS_SECRET_NAME.into(), json!(stored.secret));
            }
            values.extend(stored.settings.clone());
            values.insert("enabled".into(), json!(true));
            json!({ section: values })
        }
        Kind::Aws => json!({section: {"enabled": false}}),
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
        Kind::Ssh if enabled => {
            let mut values = stored.settings.clone();
            values.insert(SSH_KEY_SECRET.into(), json!(stored.secret));
            json!({ section: values })
        }
        Kind::Ssh => json!({section: {SSH_KEY_SECRET: null, "sshNodePools": null}}),
        Kind::Slurm if enabled => json!({ section: stored.settings }),
        Kind::Slurm => json!({section: {SLURM_CONFIG: null}}),
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

/// The keys of `awsCredentials` that say which Secret holds the keys and how it is read.
const AWS_LAYOUT: [&str; 4] = [
    AWS_SECRET_NAME,
    "useCredentialsFile",
    "accessKeyIdKeyName",
    "secretAccessKeyKeyName",
];
const AWS_SECRET_NAME: &str = "awsSecretName";
const SSH_KEY_SECRET: &str = "sshKeySecret";
const SLURM_CONFIG: &str = "config";

/// A section of the chart's defaults (empty when the chart lacks it).
fn chart_section(chart: &Chart, section: &str) -> Map<String, Value> {
    chart
        .definition()
        .defaults()
        .get(section)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Why `chart` cannot use these credentials, if it cannot: it lacks a value they need (the
/// seed-era chart knows AWS, GCP and Kubernetes only, and AWS only in its default layout), and
/// which versions have them.
pub fn unsupported_by(stored: &Stored, chart: &Chart) -> Option<String> {
    let (section, key) = enabled_key(stored.kind);
    let mut needed: Vec<&str> = vec![key];
    needed.extend(stored.settings.keys().map(String::as_str));
    if stored.kind == Kind::Aws && stored.secret != stored.kind.default_secret() {
        needed.push(AWS_SECRET_NAME);
    }
    let lacks = |chart: &Chart| {
        let defaults = chart_section(chart, section);
        needed
            .iter()
            .copied()
            .find(|key| !defaults.contains_key(*key))
    };
    let missing = lacks(chart)?;
    Some(lacks_message(chart, section, missing, |c| {
        lacks(c).is_none()
    }))
}

/// "chart X has no section.key; chart Y has (upgrade with --version)".
pub fn lacks_message(
    chart: &Chart,
    section: &str,
    key: &str,
    has: impl Fn(&Chart) -> bool,
) -> String {
    let having: Vec<&str> = Chart::all()
        .iter()
        .filter(|c| has(c))
        .map(Chart::version)
        .collect();
    format!(
        "chart {} has no {section}.{key}; chart {} has (upgrade with --version)",
        chart.version(),
        having.join(" or ")
    )
}

/// The values key that says whether credentials of this kind are used.
pub fn enabled_key(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Kube => (kind.section(), "useKubeconfig"),
        Kind::Db => (kind.section(), "dbConnectionSecretName"),
        Kind::Ssh => (kind.section(), SSH_KEY_SECRET),
        Kind::Slurm => (kind.section(), SLURM_CONFIG),
        kind => (kind.section(), "enabled"),
    }
}

/// What `values` say about using these stored credentials: nothing (`None`: stored ones are
/// used), or whether they use them and the setting that decides. A database given inline
/// (`apiService.dbConnectionString`) is the values' choice too; its text is never repeated.
pub fn chosen(stored: &Stored, values: &Value) -> Option<(bool, String)> {
    let (section, key) = enabled_key(stored.kind);
    let set = |key: &str| {
        values
            .get(section)
            .and_then(|s| s.get(key))
            .filter(|v| !v.is_null())
    };
    match stored.kind {
        // These name their Secret instead of turning a switch.
        Kind::Db | Kind::Ssh => match (set(key), set("dbConnectionString")) {
            (Some(name), _) => Some((
                name == stored.secret.as_str(),
                format!("{section}.{key}={name}"),
            )),
            (None, Some(_)) if stored.kind == Kind::Db => {
                Some((false, format!("{section}.dbConnectionString")))
            }
            (None, _) => None,
        },
        // The config's text is compared, never repeated.
        Kind::Slurm => set(key).map(|config| {
            (
                stored.settings.get(key) == Some(config),
                format!("{section}.{key}"),
            )
        }),
        _ => values.pointer(&format!("/{section}/{key}")).map(|chosen| {
            (
                chosen.as_bool() == Some(true),
                format!("{section}.{key}={chosen}"),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> &'static Chart {
        Chart::find("0.13.0").unwrap()
    }

    #[test]
    fn secrets_read_but_not_stored_are_made_elsewhere() {
        let stored = [Stored::new(Kind::Gcp, "gcp-credentials")];
        let existing = ["aws-credentials".to_owned(), "gcp-credentials".to_owned()];
        let read = [
            "gcp-credentials",
            "aws-credentials",
            "team-kube",
            "aws-credentials",
        ];
        assert_eq!(
            made_elsewhere(read, &existing, &stored),
            [
                MadeElsewhere {
                    kind: Some(Kind::Aws),
                    secret: "aws-credentials".into(),
                    exists: true
                },
                MadeElsewhere {
                    kind: None,
                    secret: "team-kube".into(),
                    exists: false
                },
            ]
        );
    }

    #[test]
    fn each_kind_turns_on_the_values_the_chart_reads() {
        let gcp = Stored {
            project: Some("proj-1".into()),
            ..Stored::new(Kind::Gcp, "gcp-credentials")
        };
        assert_eq!(
            Value::Object(values_for(&gcp, true, current())),
            json!({"gcpCredentials": {"enabled": true, "projectId": "proj-1"}})
        );
        let kube = Stored::new(Kind::Kube, "my-kube");
        assert_eq!(
            Value::Object(values_for(&kube, true, current())),
            json!({"kubernetesCredentials": {"useKubeconfig": true, "kubeconfigSecretName": "my-kube"}})
        );
        let aws = Stored::new(Kind::Aws, "aws-credentials");
        assert_eq!(
            Value::Object(values_for(&aws, false, current())),
            json!({"awsCredentials": {"enabled": false}})
        );
    }

    fn seed_era() -> &'static Chart {
        Chart::find("1.0.0-dev.20250319").unwrap()
    }

    fn aws(secret: &str, settings: Value) -> Stored {
        Stored {
            settings: settings.as_object().unwrap().clone(),
            ..Stored::new(Kind::Aws, secret)
        }
    }

    #[test]
    fn aws_sets_its_whole_layout_where_the_chart_has_one() {
        let default_layout = json!({"awsCredentials": {
            "enabled": true, "awsSecretName": "aws-credentials", "useCredentialsFile": false,
            "accessKeyIdKeyName": "aws_access_key_id",
            "secretAccessKeyKeyName": "aws_secret_access_key"}});
        let cases = [
            (aws("aws-credentials", json!({})), current(), default_layout),
            (
                aws("aws-credentials", json!({})),
                seed_era(),
                json!({"awsCredentials": {"enabled": true}}),
            ),
            (
                aws("team-aws", json!({"useCredentialsFile": true})),
                current(),
                json!({"awsCredentials": {
                    "enabled": true, "awsSecretName": "team-aws", "useCredentialsFile": true,
                    "accessKeyIdKeyName": "aws_access_key_id",
                    "secretAccessKeyKeyName": "aws_secret_access_key"}}),
            ),
            (
                aws("aws-credentials", json!({"accessKeyIdKeyName": "id"})),
                current(),
                json!({"awsCredentials": {
                    "enabled": true, "awsSecretName": "aws-credentials",
                    "useCredentialsFile": false, "accessKeyIdKeyName": "id",
                    "secretAccessKeyKeyName": "aws_secret_access_key"}}),
            ),
        ];
        for (stored, chart, want) in cases {
            assert_eq!(
                Value::Object(values_for(&stored, true, chart)),
                want,
                "{stored:?} on {}",
                chart.version()
            );
        }
    }

    #[test]
    fn a_chart_without_the_values_credentials_need_is_named() {
        let ssh = Stored {
            settings: json!({"sshNodePools": "a: {}"})
                .as_object()
                .unwrap()
                .clone(),
            ..Stored::new(Kind::Ssh, "ssh-credentials")
        };
        let cases = [
            (aws("aws-credentials", json!({})), seed_era(), None),
            (
                aws("team-aws", json!({})),
                seed_era(),
                Some(
                    "chart 1.0.0-dev.20250319 has no awsCredentials.awsSecretName; chart 0.13.0 has",
                ),
            ),
            (
                aws("aws-credentials", json!({"useCredentialsFile": true})),
                seed_era(),
                Some("has no awsCredentials.useCredentialsFile"),
            ),
            (
                aws("team-aws", json!({"useCredentialsFile": true})),
                current(),
                None,
            ),
            (
                ssh.clone(),
                seed_era(),
                Some("chart 1.0.0-dev.20250319 has no apiService.sshKeySecret; chart 0.13.0 has"),
            ),
            (ssh, current(), None),
        ];
        for (stored, chart, want) in cases {
            let got = unsupported_by(&stored, chart);
            match want {
                None => assert_eq!(got, None, "{stored:?}"),
                Some(want) => assert!(
                    got.as_deref().is_some_and(|got| got.contains(want)),
                    "{stored:?}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn ssh_keys_are_used_when_the_values_name_their_secret() {
        let ssh = Stored::new(Kind::Ssh, "ssh-credentials");
        let cases = [
            (json!({}), None),
            (json!({"apiService": {"sshKeySecret": null}}), None),
            (
                json!({"apiService": {"sshKeySecret": "ssh-credentials"}}),
                Some(true),
            ),
            (json!({"apiService": {"sshKeySecret": "mine"}}), Some(false)),
        ];
        for (values, want) in cases {
            assert_eq!(
                chosen(&ssh, &values).map(|(uses, _)| uses),
                want,
                "{values}"
            );
        }
        assert_eq!(
            Value::Object(values_for(&ssh, false, current())),
            json!({"apiService": {"sshKeySecret": null, "sshNodePools": null}})
        );
    }

    #[test]
    fn a_slurm_config_is_used_unless_the_values_set_one_and_is_never_repeated() {
        let slurm = Stored {
            settings: json!({"config": "Host a\n"}).as_object().unwrap().clone(),
            ..Stored::new(Kind::Slurm, "slurm-credentials")
        };
        let cases = [
            (json!({}), None),
            (json!({"slurmCredentials": {"config": null}}), None),
            (
                json!({"slurmCredentials": {"config": "Host a\n"}}),
                Some((true, "slurmCredentials.config".to_owned())),
            ),
            (
                json!({"slurmCredentials": {"config": "Host b\n"}}),
                Some((false, "slurmCredentials.config".to_owned())),
            ),
        ];
        for (values, want) in cases {
            assert_eq!(chosen(&slurm, &values), want, "{values}");
        }
        assert_eq!(
            Value::Object(values_for(&slurm, true, current())),
            json!({"slurmCredentials": {"config": "Host a\n"}})
        );
        assert_eq!(
            Value::Object(values_for(&slurm, false, current())),
            json!({"slurmCredentials": {"config": null}})
        );
        assert!(
            unsupported_by(&slurm, seed_era())
                .is_some_and(|why| why.contains("has no slurmCredentials.config"))
        );
    }
}
