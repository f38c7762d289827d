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
use crate::known_kinds;
use crate::manifest::{self, Manifest, ObjectRef};
use crate::ownership::{self, Owner};
use crate::release::{History, Release};
use crate::values::{self, origin::Origin};

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
/// The label by which charts following Helm's conventions name the release an object is
/// of (`{{ .Release.Name }}`); ingress-nginx puts it on its certgen hooks.
const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The most a record may unpack to. Helm's records are a few megabytes at most (the API
/// server stores at most about 1.5 MiB of gzip); gzip packs a thousandfold, so a record
/// made to unpack without end would otherwise take all memory.
const MAX_RELEASE_BYTES: u64 = 64 << 20;

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

    /// Whether Helm ran `chart` itself: adopting into another version changes objects.
    pub fn runs(&self, chart: &Chart) -> bool {
        self.chart.metadata.name == chart.metadata().name
            && self.chart.metadata.version == chart.version()
    }

    /// Helm's `config` as a values layer, named so that an error in it says where it came from.
    pub fn values_layer(&self) -> anyhow::Result<values::ExtraLayer> {
        let values = match &self.config {
            Value::Object(map) => map.clone(),
            Value::Null => serde_json::Map::new(),
            _ => anyhow::bail!(
                "Helm release {} recorded values that are not a map",
                self.name
            ),
        };
        Ok(values::ExtraLayer {
            label: format!(
                "the values of Helm release {} (revision {})",
                self.name, self.version
            ),
            values,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error(
        "Helm's record {record} cannot be read: {reason}. Nothing was changed; if the record \
         is damaged, `helm history` shows what Helm itself makes of it"
    )]
    Undecodable { record: String, reason: String },
    #[error(
        "Helm's record {record} holds revision {revision} of release {name} in namespace \
         {namespace}, not of release {wanted}: it was copied from another release, and skyctl \
         adopts nothing from it. Nothing was changed; delete the copy if it is a stray"
    )]
    Foreign {
        record: String,
        name: String,
        namespace: String,
        revision: u32,
        wanted: String,
    },
    #[error(
        "Helm release {name} is recorded by both of Helm's storage drivers (its newest Secret \
         is revision {secret}, its newest ConfigMap revision {config_map}), so two Helm \
         releases of that name exist and skyctl cannot tell which is live. Remove the stale \
         one with Helm (HELM_DRIVER=secret or HELM_DRIVER=configmap), then adopt"
    )]
    TwoDrivers {
        name: String,
        secret: u32,
        config_map: u32,
    },
    #[error(
        "Helm release {name} has no deployed revision (its newest, revision {revision}, is \
         {status}): there is nothing running to adopt. Nothing was changed. {}",
        way_out(name, namespace, status)
    )]
    NotDeployed {
        name: String,
        namespace: String,
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
    #[error(
        "Helm release {name} runs chart {chart}, which is not SkyPilot's: skyctl adopts only \
         releases of the charts {}, and --version moves only between their versions",
        charts.join(" and ")
    )]
    NotSkyPilot {
        name: String,
        chart: String,
        charts: Vec<String>,
    },
    #[error(
        "release {name} in namespace {namespace} is skyctl's already (revision {revision}: \
         {description}), and Helm has a release of the same name there too (revision \
         {helm_revision}), which skyctl did not adopt into it. skyctl adopts a Helm release \
         only into a skyctl release of its own. Nothing was changed; `helm history {name} -n \
         {namespace}` shows what Helm has, and `skyctl history {name} -n {namespace}` what \
         skyctl has"
    )]
    NameTaken {
        name: String,
        namespace: String,
        revision: u32,
        description: String,
        helm_revision: u32,
    },
}

impl HelmError {
    /// Errors in what the user pointed skyctl at (exit 2), as opposed to a state of the
    /// cluster to sort out first (exit 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            HelmError::Undecodable { .. }
                | HelmError::Foreign { .. }
                | HelmError::UnknownChart { .. }
                | HelmError::NotSkyPilot { .. }
        )
    }
}

/// The revision adopt takes over, and the newer ones it passes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoptable<'a> {
    /// The newest deployed revision: what runs.
    pub revision: &'a StoredRevision,
    /// Newer revisions that never deployed (a failed upgrade, or one Helm left pending when
    /// it was stopped), oldest first. Their records are retired with the others.
    pub skipped: Vec<&'a StoredRevision>,
}

/// What Helm's history of a release comes to, from its records' `version` and `status`
/// labels alone (so the preflight, which reads no record's data, decides as adopt does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelmState {
    /// No record.
    Absent,
    /// The newest deployed revision and the revisions after it.
    Deployed { revision: u32, skipped: Vec<u32> },
    /// Nothing was ever deployed, or what was is gone: the newest revision and its status.
    NotDeployed { revision: u32, status: String },
}

impl HelmState {
    pub fn of<'s>(revisions: impl IntoIterator<Item = (u32, &'s str)>) -> Self {
        let mut revisions: Vec<(u32, &str)> = revisions.into_iter().collect();
        revisions.sort_by_key(|(revision, _)| *revision);
        let Some((newest, status)) = revisions.last().copied() else {
            return HelmState::Absent;
        };
        // Helm marks the revision it replaces superseded only once the new one deployed, so the
        // newest `deployed` is what runs; after it, only runs that failed or never finished.
        // An uninstall, even one that kept the history, leaves nothing running.
        match revisions
            .iter()
            .rposition(|(_, status)| *status == "deployed")
        {
            Some(at) if status != "uninstalled" => HelmState::Deployed {
                revision: revisions[at].0,
                skipped: revisions[at + 1..].iter().map(|(r, _)| *r).collect(),
            },
            _ => HelmState::NotDeployed {
                revision: newest,
                status: status.to_owned(),
            },
        }
    }
}

/// The way out of a Helm release with nothing deployed, by the status of its newest revision.
/// `helm rollback` is no way out: with one revision Helm answers "release has no 0 version",
/// and it refuses a pending release.
pub fn way_out(name: &str, namespace: &str, status: &str) -> String {
    let install = format!("`skyctl install {name} -n {namespace}`");
    match status {
        "uninstalled" => format!(
            "Helm uninstalled it and kept its history, which stops nothing: {install} installs \
             it anew"
        ),
        "failed" => format!(
            "`helm uninstall {name} -n {namespace} --keep-history` removes what Helm made and \
             keeps its history, then {install}; or deploy it with Helm (`helm upgrade {name} \
             CHART -n {namespace}`), then `skyctl adopt {name} -n {namespace}`"
        ),
        // pending-install, pending-upgrade, pending-rollback, uninstalling: Helm stopped midway,
        // and refuses any other operation on the release until it is uninstalled.
        _ => format!(
            "Helm stopped midway and refuses any other operation on it: `helm uninstall {name} \
             -n {namespace} --keep-history` removes what Helm made and keeps its history, then \
             {install}"
        ),
    }
}

/// The revision to adopt: the newest deployed one, passing by newer revisions that failed or
/// never finished. Records in both of Helm's drivers are two releases (Helm reads one driver
/// at a time): their revision numbers say nothing about which is live.
pub fn adoptable<'a>(
    release: &Release,
    revisions: &'a [StoredRevision],
) -> Result<Option<Adoptable<'a>>, HelmError> {
    let newest_in = |storage| {
        revisions
            .iter()
            .filter(|r| r.storage == storage)
            .max_by_key(|r| r.revision)
    };
    if let (Some(secret), Some(config_map)) = (newest_in("Secret"), newest_in("ConfigMap")) {
        return Err(HelmError::TwoDrivers {
            name: release.name.clone(),
            secret: secret.revision,
            config_map: config_map.revision,
        });
    }
    let find = |revision: u32| {
        revisions
            .iter()
            .find(|r| r.revision == revision)
            .expect("a revision of the records")
    };
    match HelmState::of(revisions.iter().map(|r| (r.revision, r.status.as_str()))) {
        HelmState::Absent => Ok(None),
        HelmState::Deployed { revision, skipped } => Ok(Some(Adoptable {
            revision: find(revision),
            skipped: skipped.into_iter().map(find).collect(),
        })),
        HelmState::NotDeployed { revision, status } => Err(HelmError::NotDeployed {
            name: release.name.clone(),
            namespace: release.namespace.clone(),
            revision,
            status,
        }),
    }
}

/// Reads a revision of `release`: base64, then gzip (Helm writes it; very old records were
/// not gzipped), then JSON. Helm finds a record by its labels, but what the record holds
/// decides what adopt applies and deletes: a record whose JSON names another release (a copy
/// from elsewhere) is refused, or adopt would delete that release's objects as leftovers.
pub fn decode(stored: &StoredRevision, release: &Release) -> Result<HelmRelease, HelmError> {
    let record = format!("{} {}", stored.storage, stored.name);
    let undecodable = |reason: String| HelmError::Undecodable {
        record: record.clone(),
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
            .take(MAX_RELEASE_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|err| undecodable(format!("not gzip: {err}")))?;
        if json.len() as u64 > MAX_RELEASE_BYTES {
            return Err(undecodable(format!(
                "it unpacks to more than {} MiB, more than any release Helm writes",
                MAX_RELEASE_BYTES >> 20
            )));
        }
        json
    } else {
        bytes
    };
    // serde's messages quote the values they reject, and a record holds passwords: say
    // what kind of error and where, never the value.
    let helm: HelmRelease = serde_json::from_slice(&json).map_err(|err| {
        let what = match err.classify() {
            serde_json::error::Category::Data => "a field is missing or has the wrong type",
            serde_json::error::Category::Eof => "it ends too soon",
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                "it is not JSON"
            }
        };
        undecodable(format!(
            "not a Helm release: {what} (line {}, column {})",
            err.line(),
            err.column()
        ))
    })?;
    if helm.name != release.name
        || helm.namespace != release.namespace
        || helm.version != stored.revision
    {
        return Err(HelmError::Foreign {
            record,
            name: helm.name,
            namespace: helm.namespace,
            revision: helm.version,
            wanted: format!(
                "{} in namespace {} (revision {})",
                release.name, release.namespace, stored.revision
            ),
        });
    }
    Ok(helm)
}

/// What an adopt run does, from what skyctl recorded of the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Take the objects over: no skyctl revision is deployed yet (none was recorded, or a run
    /// was interrupted or failed before it deployed).
    Rollout,
    /// An earlier run deployed this revision from this Helm revision: only the clean-up is
    /// left.
    CleanUp { revision: u32 },
}

/// The description of the skyctl revision that adopts `helm`; a run after an interruption
/// knows its work by it.
pub fn adoption_description(helm: &HelmRelease) -> String {
    format!(
        "Adopted from Helm (revision {}, chart {})",
        helm.version,
        helm.chart_label()
    )
}

/// Whether adopt rolls out or only cleans up. A deployed skyctl release that no run adopted
/// from this Helm revision is a release skyctl installed under the same name: cleaning up
/// after it would retire a Helm release that was never adopted and delete its objects.
pub fn resume(history: &History, helm: &HelmRelease) -> Result<Resume, HelmError> {
    let Some(deployed) = history.deployed() else {
        return Ok(Resume::Rollout);
    };
    let description = adoption_description(helm);
    if history.records.iter().any(|r| r.description == description) {
        return Ok(Resume::CleanUp {
            revision: deployed.revision,
        });
    }
    Err(HelmError::NameTaken {
        name: deployed.name.clone(),
        namespace: deployed.namespace.clone(),
        revision: deployed.revision,
        description: deployed.description.clone(),
        helm_revision: helm.version,
    })
}

/// The embedded chart a Helm release maps to: the one with its chart's name and version, or
/// the version `--version` names. Either way the release must run a chart of a name skyctl
/// embeds: `--version` bridges versions of SkyPilot's charts, never another chart's.
pub fn chart_for(release: &HelmRelease, asked: Option<&str>) -> Result<&'static Chart, HelmError> {
    let mut names: Vec<String> = Chart::all()
        .iter()
        .map(|c| c.metadata().name.clone())
        .collect();
    names.sort();
    names.dedup();
    if !names.contains(&release.chart.metadata.name) {
        return Err(HelmError::NotSkyPilot {
            name: release.name.clone(),
            chart: release.chart_label(),
            charts: names,
        });
    }
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
            .find(|chart| release.runs(chart))
            .ok_or_else(unknown),
    }
}

/// An object Helm made for the release, as its record lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmObject {
    pub id: ObjectRef,
    /// A hook (ingress-nginx's certgen Jobs and their RBAC): Helm marks hooks with nothing but
    /// `helm.sh/hook`, so only the record says they are the release's.
    pub hook: bool,
    /// The subchart whose template made it: `prometheus` for Helm's
    /// `# Source: skypilot/charts/prometheus/templates/…`.
    pub subchart: Option<String>,
}

/// The chart's optional subcharts, each turned on by `<name>.enabled`. skyctl deploys neither
/// (its rules refuse them), so adopt turns them off and leaves what they made in place.
pub const MONITORING_SUBCHARTS: [&str; 2] = ["prometheus", "grafana"];

/// Every object Helm made for the release, hooks included, with the release's namespace where
/// Helm's manifest leaves it out. Documents that are not objects are skipped.
pub fn helm_objects(release: &HelmRelease) -> Vec<HelmObject> {
    let mut objects = Vec::new();
    let streams = std::iter::once((&release.manifest, false))
        .chain(release.hooks.iter().map(|hook| (&hook.manifest, true)));
    for (stream, hook) in streams {
        // Helm starts each document with the template it came from; a document is read alone
        // so that its objects keep the subchart that made them.
        for document in documents(stream) {
            let subchart = document
                .lines()
                .find_map(|line| line.strip_prefix("# Source: "))
                .and_then(subchart_of);
            let Ok(manifests) = manifest::from_yaml_stream(&document) else {
                continue;
            };
            for Manifest { mut id, .. } in manifests {
                let namespaced =
                    known_kinds::known(&id.api_version, &id.kind).is_none_or(|r| r.namespaced);
                if namespaced && id.namespace.is_none() {
                    id.namespace = Some(release.namespace.clone());
                }
                objects.push(HelmObject {
                    id,
                    hook,
                    subchart: subchart.clone(),
                });
            }
        }
    }
    objects
}

/// The documents of a YAML stream, split at its `---` lines.
fn documents(stream: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in stream.lines() {
        if line == "---" || line.starts_with("--- ") {
            documents.push(String::new());
        } else if let Some(document) = documents.last_mut() {
            document.push_str(line);
            document.push('\n');
        }
    }
    documents
}

/// `prometheus` for `skypilot/charts/prometheus/templates/cm.yaml` (and for the subcharts
/// nested in it); `None` for the chart's own templates.
fn subchart_of(source: &str) -> Option<String> {
    let (_, inside) = source.split_once("/charts/")?;
    Some(inside.split('/').next()?.to_owned())
}

/// What becomes of what Helm made that skyctl does not apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// May go (each checked again on the cluster): the certgen Jobs and their RBAC, anything a
    /// later chart dropped. The flag: a hook.
    pub delete: Vec<(ObjectRef, bool)>,
    /// The chart's Prometheus and Grafana: left running, owned by nobody, for the admin to
    /// remove or keep.
    pub monitoring: Vec<ObjectRef>,
    /// Never deleted: a Namespace (0.13.0's shared `skypilot-system`) and data, a volume claim
    /// or a volume a chart made for one (deleting a bound volume leaves it terminating until
    /// its claim goes, then gone with it). Owned by nobody once Helm's marks are off.
    pub kept: Vec<ObjectRef>,
}

impl Leftovers {
    /// The objects that stay and lose Helm's marks.
    pub fn unowned(&self) -> Vec<ObjectRef> {
        self.monitoring.iter().chain(&self.kept).cloned().collect()
    }
}

/// Sorts what Helm made and skyctl does not apply (`applied`). Objects an uninstall must leave
/// (`helm.sh/resource-policy: keep`) are told apart on the cluster, by [`may_remove`].
pub fn leftovers(helm: &[HelmObject], applied: &[ObjectRef]) -> Leftovers {
    let mut sorted = Leftovers::default();
    // A skipped revision lists most of what the adopted one does.
    let mut seen = std::collections::BTreeSet::new();
    for object in helm
        .iter()
        .filter(|o| !applied.contains(&o.id) && seen.insert(&o.id))
    {
        let id = object.id.clone();
        if id.group().is_empty()
            && matches!(
                id.kind.as_str(),
                "Namespace" | "PersistentVolumeClaim" | "PersistentVolume"
            )
        {
            sorted.kept.push(id);
        } else if object
            .subchart
            .as_deref()
            .is_some_and(|s| MONITORING_SUBCHARTS.contains(&s))
        {
            sorted.monitoring.push(id);
        } else {
            sorted.delete.push((id, object.hook));
        }
    }
    sorted
}

/// The values that turn off each monitoring subchart Helm's `config` turned on, where `chart`'s
/// defaults have the switch; `None` when none is on.
pub fn monitoring_off(config: &Value, chart: &Chart) -> Option<serde_json::Map<String, Value>> {
    let defaults = chart.definition().defaults();
    let off: serde_json::Map<String, Value> = MONITORING_SUBCHARTS
        .iter()
        .filter(|name| {
            defaults
                .get(**name)
                .is_some_and(|d| d.get("enabled").is_some())
        })
        .filter(|name| {
            config
                .pointer(&format!("/{name}/enabled"))
                .is_some_and(crate::values::helm_truthy)
        })
        .map(|name| ((*name).to_owned(), json!({"enabled": false})))
        .collect();
    (!off.is_empty()).then_some(off)
}

/// The `--set` arguments that let adopt take the values Helm kept and skyctl refuses (`err`),
/// for each key the layer of Helm's values (`label`) set: a key skyctl does not know is set to
/// null, which deletes it (as Helm's `--set k=null` does); any other to a value for the admin
/// to choose. Empty when no refused value is Helm's.
fn values_fix(err: &values::Error, label: &str) -> Vec<String> {
    let helms = |origin: &Option<Origin>| matches!(origin, Some(Origin::Extra { label: from }) if from == label);
    let mut args: Vec<String> = Vec::new();
    match err {
        values::Error::Invalid(violations) => {
            for traced in violations.0.iter().filter(|t| helms(&t.origin)) {
                let value = match traced.violation.problem {
                    values::schema::Problem::UnknownKey { .. } => "null",
                    _ => "VALUE",
                };
                args.push(format!("{}={value}", traced.violation.path));
            }
        }
        values::Error::Refused(breaches) => {
            for breach in &breaches.0 {
                let mut breach = breach.clone();
                for fact in breach.facts_mut().filter(|fact| helms(&fact.origin)) {
                    args.push(format!("{}=VALUE", fact.path));
                }
            }
        }
        _ => {}
    }
    let mut seen = std::collections::BTreeSet::new();
    args.retain(|arg| seen.insert(arg.clone()));
    args
}

/// Why adopt refuses the values Helm kept (`err`, for the layer of Helm's values `label`),
/// with the command that adopts the release without them; `version` is the `--version` the
/// admin gave. `None` when no refused value is Helm's.
pub fn values_refusal(
    err: &values::Error,
    label: &str,
    release: &Release,
    version: Option<&str>,
) -> Option<String> {
    let fix = values_fix(err, label);
    if fix.is_empty() {
        return None;
    }
    let version = version
        .map(|v| format!(" --version {v}"))
        .unwrap_or_default();
    Some(format!(
        "{err}\nHelm took these values without checking them (its chart has no schema); \
         `helm get values {name} -n {namespace}` shows them. Adopt without them (null \
         deletes a key, as with Helm's --set), or with values skyctl takes: `skyctl \
         adopt {name} -n {namespace}{version} --set {}`",
        fix.join(","),
        name = release.name,
        namespace = release.namespace,
    ))
}

/// `kubectl delete` commands that remove `ids`: one per namespace, and one for what is
/// cluster-scoped.
pub fn delete_commands(ids: &[ObjectRef]) -> Vec<String> {
    let mut by_namespace: std::collections::BTreeMap<Option<&str>, Vec<String>> =
        Default::default();
    for id in ids {
        by_namespace
            .entry(id.namespace.as_deref())
            .or_default()
            .push(format!("{}/{}", id.kind.to_lowercase(), id.name));
    }
    by_namespace
        .into_iter()
        .map(|(namespace, mut objects)| {
            objects.sort();
            (namespace, objects)
        })
        .map(|(namespace, objects)| match namespace {
            Some(namespace) => format!("kubectl delete -n {namespace} {}", objects.join(" ")),
            None => format!("kubectl delete {}", objects.join(" ")),
        })
        .collect()
}

/// The values key both chart versions size the data volume's claim with.
pub const CLAIM_SIZE_KEY: [&str; 2] = ["storage", "size"];

/// The size of a data volume grown since Helm made it, when Helm's values render it smaller:
/// the rendered claim and the size the live one has (the larger of what it asks for and what
/// it got). Kubernetes never shrinks a claim and refuses the request, so adopt, which changes
/// nothing, takes the grown size as the release's value; Helm 3 never sent the size again, so
/// a claim grown by hand when the disk filled up is common.
pub fn grown_claim(
    rendered: &[Manifest],
    live: &std::collections::BTreeMap<ObjectRef, kube::api::DynamicObject>,
) -> Option<(ObjectRef, String)> {
    use crate::values::quantity::kubernetes_reading;
    rendered
        .iter()
        .filter(|m| m.id.kind == "PersistentVolumeClaim" && m.id.group().is_empty())
        .find_map(|claim| {
            let object = &live.get(&claim.id)?.data;
            let wanted =
                kubernetes_reading(claim.object.pointer("/spec/resources/requests/storage")?)?;
            let live_size = [
                object.pointer("/spec/resources/requests/storage"),
                object.pointer("/status/capacity/storage"),
            ]
            .into_iter()
            .flatten()
            .filter_map(|size| Some((kubernetes_reading(size)?, size.as_str()?)))
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
            (live_size.0 > wanted).then(|| (claim.id.clone(), live_size.1.to_owned()))
        })
}

/// The size a grown claim has on the cluster ([`grown_claim`]), as the values layer that keeps
/// it.
pub fn grown_claim_layer(claim: &ObjectRef, size: &str) -> values::ExtraLayer {
    let [section, field] = CLAIM_SIZE_KEY;
    let Value::Object(grown) = json!({ section: { field: size } }) else {
        unreachable!("a literal map")
    };
    values::ExtraLayer {
        label: format!("the size {claim} has on the cluster"),
        values: grown,
    }
}

/// Whether a live leftover `id` is still Helm's to remove for `release` (the skyctl release of
/// the Helm release's name and namespace): annotated as this Helm release's, or a hook of it,
/// and not marked to be kept. An object a skyctl release owns is never Helm's leftover.
///
/// Helm marks hooks with nothing but `helm.sh/hook`, so the record is the only sign that a
/// hook is this release's, and a record is a Secret anyone who may write Secrets can make. A
/// hook goes only where this release's hooks are: in its namespace, or cluster-scoped with
/// the release named in its `app.kubernetes.io/instance` label (as ingress-nginx's certgen
/// RBAC is); and never when that label names another release.
pub fn may_remove(live: &ObjectMeta, id: &ObjectRef, hook: bool, release: &Release) -> bool {
    let annotations = live.annotations.clone().unwrap_or_default();
    if annotations
        .get(RESOURCE_POLICY)
        .is_some_and(|p| p == "keep")
    {
        return false;
    }
    match ownership::owner(live, release) {
        Owner::Helm { name, namespace } => name == release.name && namespace == release.namespace,
        Owner::Unmarked if hook && annotations.contains_key(HOOK_ANNOTATION) => {
            let instance = live.labels.as_ref().and_then(|l| l.get(INSTANCE_LABEL));
            match (&id.namespace, instance) {
                (_, Some(instance)) if *instance != release.name => false,
                (Some(namespace), _) => *namespace == release.namespace,
                (None, instance) => instance.is_some(),
            }
        }
        Owner::This | Owner::Other { .. } | Owner::Unmarked => false,
    }
}

/// The merge patch that removes Helm's traces from an object `release` now owns: Helm's
/// release annotations, and Helm's entries in `managedFields`, so that Helm's manager owns no
/// field. `None` when there is nothing of Helm's left, and for an object that is not the
/// release's or that another Helm release marked as its own: those are theirs to keep. The
/// patch carries the resourceVersion it was made from, so a concurrent change makes it fail
/// rather than be overwritten.
pub fn traces_patch(live: &ObjectMeta, release: &Release) -> Option<Value> {
    if ownership::owner(live, release) != Owner::This {
        return None;
    }
    let annotations = live.annotations.clone().unwrap_or_default();
    let helm_name = annotations.get(HELM_ANNOTATIONS[0]);
    let helm_namespace = annotations.get(HELM_ANNOTATIONS[1]);
    if helm_name.is_some_and(|name| *name != release.name)
        || helm_namespace.is_some_and(|namespace| *namespace != release.namespace)
    {
        return None;
    }
    helm_marks_patch(live, false)
}

/// The merge patch that leaves an object Helm made for `release` and skyctl does not take
/// (a Namespace, the chart's Prometheus) owned by nobody: Helm's annotations, its
/// `managed-by: Helm` label and its `managedFields` entries go, as they would name a Helm
/// release that no longer exists. `None` for an object that is not this Helm release's.
pub fn unowned_patch(live: &ObjectMeta, release: &Release) -> Option<Value> {
    match ownership::owner(live, release) {
        Owner::Helm { name, namespace }
            if name == release.name && namespace == release.namespace =>
        {
            helm_marks_patch(live, true)
        }
        _ => None,
    }
}

/// The merge patch that hands the fields Helm's manager owns on an object of this Helm release
/// to skyctl's: its entries (Helm 4's server-side Apply, Helm 3's Update) become one Apply
/// entry of skyctl's, merged with skyctl's own. Sent just before adopt applies, so that a field
/// Helm set and skyctl no longer renders (a value `adopt --set` dropped) goes with that apply,
/// instead of staying owned by nobody. `None` for an object with no entry of Helm's, or that
/// is not this release's. The patch carries the resourceVersion it was made from.
pub fn fields_handover_patch(live: &ObjectMeta, release: &Release) -> Option<Value> {
    match ownership::owner(live, release) {
        Owner::Helm { name, namespace }
            if name == release.name && namespace == release.namespace => {}
        Owner::This => {}
        _ => return None,
    }
    let fields = live.managed_fields.clone().unwrap_or_default();
    let (helms, others): (Vec<_>, Vec<_>) = fields
        .into_iter()
        .partition(|entry| entry.manager.as_deref() == Some(HELM_MANAGER));
    if helms.is_empty() {
        return None;
    }
    let is_skyctls_apply =
        |entry: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry| {
            entry.manager.as_deref() == Some(crate::decide::FIELD_MANAGER)
                && entry.operation.as_deref() == Some("Apply")
                && entry.subresource.is_none()
        };
    let (skyctls, rest): (Vec<_>, Vec<_>) = others.into_iter().partition(is_skyctls_apply);
    let mut owned = json!({});
    for entry in helms
        .iter()
        .chain(&skyctls)
        .filter(|e| e.subresource.is_none())
    {
        if let Some(fields) = &entry.fields_v1 {
            merge_field_sets(&mut owned, &fields.0);
        }
    }
    let api_version = skyctls
        .first()
        .or(helms.first())
        .and_then(|entry| entry.api_version.clone());
    let mut entries: Vec<Value> = rest.iter().map(|e| json!(e)).collect();
    // Helm's entries for a subresource (status) are the controllers' to keep or drop.
    entries.extend(
        helms
            .iter()
            .filter(|e| e.subresource.is_some())
            .map(|e| json!(e)),
    );
    entries.push(json!({
        "manager": crate::decide::FIELD_MANAGER,
        "operation": "Apply",
        "apiVersion": api_version,
        "fieldsType": "FieldsV1",
        "fieldsV1": owned,
    }));
    Some(json!({"metadata": {
        "managedFields": entries,
        "resourceVersion": live.resource_version.clone().unwrap_or_default(),
    }}))
}

/// The union of two field sets in Kubernetes' `FieldsV1` form: nested maps whose leaves are
/// empty maps.
fn merge_field_sets(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge_field_sets(into.entry(key.clone()).or_insert_with(|| json!({})), value);
            }
        }
        (into, from) => *into = from.clone(),
    }
}

/// The label Helm 4 puts on every object it applies.
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Removes Helm's annotations and `managedFields` entries; with `unowned`, also its
/// `managed-by` label, and every entry when Helm's were the only ones.
fn helm_marks_patch(live: &ObjectMeta, unowned: bool) -> Option<Value> {
    let annotations = live.annotations.clone().unwrap_or_default();
    let mut metadata = serde_json::Map::new();
    let removed: serde_json::Map<String, Value> = HELM_ANNOTATIONS
        .iter()
        .filter(|key| annotations.contains_key(**key))
        .map(|key| ((*key).to_owned(), Value::Null))
        .collect();
    if !removed.is_empty() {
        metadata.insert("annotations".into(), Value::Object(removed));
    }
    let helms_label = live
        .labels
        .as_ref()
        .and_then(|labels| labels.get(MANAGED_BY))
        .is_some_and(|value| value == "Helm");
    if unowned && helms_label {
        metadata.insert("labels".into(), json!({ MANAGED_BY: null }));
    }
    let fields = live.managed_fields.clone().unwrap_or_default();
    let kept: Vec<_> = fields
        .iter()
        .filter(|entry| entry.manager.as_deref() != Some(HELM_MANAGER))
        .collect();
    if kept.len() < fields.len() {
        // An empty list would not clear managedFields (the API server reads it as
        // "unchanged"); one empty entry does. An object skyctl applied keeps skyctl's entry.
        if !kept.is_empty() {
            metadata.insert("managedFields".into(), json!(kept));
        } else if unowned {
            metadata.insert("managedFields".into(), json!([{}]));
        }
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

    use crate::release::{ReleaseRecord, ReleaseStatus};

    use super::*;

    fn encode(release: &Value, gzip: bool) -> Vec<u8> {
        let json = serde_json::to_vec(release).unwrap();
        let bytes = if gzip { gzipped(&json) } else { json };
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .into_bytes()
    }

    fn gzipped(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
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

    fn sky() -> Release {
        Release {
            name: "sky".into(),
            namespace: "team".into(),
        }
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
            let decoded = decode(
                &stored(2, "deployed", encode(&release("skypilot", "0.13.0"), gzip)),
                &sky(),
            )
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
            (Vec::new(), "not a Helm release: it ends too soon"),
        ] {
            let err = decode(&stored(1, "deployed", bytes), &sky()).unwrap_err();
            assert!(err.is_bad_input(), "{err}");
            let err = err.to_string();
            assert!(err.contains("Secret sh.helm.release.v1.sky.v1"), "{err}");
            assert!(err.contains(reason), "{err}");
        }
    }

    #[test]
    fn a_record_that_fails_to_decode_never_quotes_its_values() {
        // serde's own message would quote the string it rejects.
        let mut record = release("skypilot", "0.13.0");
        record["chart"]["metadata"]["version"] = json!(["postgres://sky:hunter2@db/sky"]);
        record["version"] = json!("postgres://sky:hunter2@db/sky");
        let err = decode(&stored(2, "deployed", encode(&record, true)), &sky())
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            err.contains("a field is missing or has the wrong type"),
            "{err}"
        );
    }

    #[test]
    fn a_record_that_unpacks_without_end_is_refused_before_it_takes_the_memory() {
        let mut json = br#"{"name":"sky","namespace":"team","version":2,"config":{"x":""#.to_vec();
        json.resize(json.len() + (MAX_RELEASE_BYTES as usize) + 1, b'a');
        json.extend_from_slice(br#""}}"#);
        let packed = gzipped(&json);
        assert!(
            packed.len() < 1 << 20,
            "it fits in a Secret: {}",
            packed.len()
        );
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(packed)
            .into_bytes();
        let err = decode(&stored(2, "deployed", encoded), &sky()).unwrap_err();
        assert!(err.is_bad_input());
        assert!(err.to_string().contains("more than 64 MiB"), "{err}");
    }

    #[test]
    fn a_record_of_another_release_copied_in_is_refused() {
        for (field, value) in [
            ("name", json!("other")),
            ("namespace", json!("elsewhere")),
            ("version", json!(7)),
        ] {
            let mut record = release("skypilot", "0.13.0");
            record[field] = value;
            let err = decode(&stored(2, "deployed", encode(&record, true)), &sky()).unwrap_err();
            assert!(matches!(err, HelmError::Foreign { .. }), "{field}: {err}");
            assert!(err.is_bad_input());
            let text = err.to_string();
            assert!(text.contains("copied from another release"), "{text}");
            assert!(
                text.contains("not of release sky in namespace team (revision 2)"),
                "{text}"
            );
        }
    }

    #[test]
    fn adopt_takes_the_newest_deployed_revision_and_passes_by_what_never_deployed() {
        use HelmState::*;
        let deployed = |revision, skipped: &[u32]| Deployed {
            revision,
            skipped: skipped.to_vec(),
        };
        let not_deployed = |revision, status: &str| NotDeployed {
            revision,
            status: status.into(),
        };
        for (history, want) in [
            (vec![], Absent),
            (vec![(1, "deployed")], deployed(1, &[])),
            (vec![(2, "deployed"), (1, "superseded")], deployed(2, &[])),
            // A failed upgrade leaves the revision it did not replace deployed.
            (vec![(1, "deployed"), (2, "failed")], deployed(1, &[2])),
            // Helm stopped during an upgrade, or two upgrades failed in a row.
            (
                vec![(1, "deployed"), (2, "pending-upgrade")],
                deployed(1, &[2]),
            ),
            (
                vec![
                    (3, "failed"),
                    (1, "superseded"),
                    (2, "deployed"),
                    (4, "failed"),
                ],
                deployed(2, &[3, 4]),
            ),
            (vec![(1, "failed")], not_deployed(1, "failed")),
            (
                vec![(1, "pending-install")],
                not_deployed(1, "pending-install"),
            ),
            (
                vec![(1, "superseded"), (2, "uninstalled")],
                not_deployed(2, "uninstalled"),
            ),
        ] {
            assert_eq!(HelmState::of(history.iter().copied()), want, "{history:?}");
        }
        let revisions = [stored(1, "deployed", vec![]), stored(2, "failed", vec![])];
        let chosen = adoptable(&sky(), &revisions).unwrap().unwrap();
        assert_eq!(chosen.revision.revision, 1);
        assert_eq!(chosen.skipped, [&revisions[1]]);
        assert_eq!(adoptable(&sky(), &[]).unwrap(), None);
    }

    #[test]
    fn a_release_that_never_deployed_is_given_the_helm_command_that_gets_out() {
        for (status, commands, never) in [
            (
                "failed",
                &[
                    "helm uninstall sky -n team --keep-history",
                    "helm upgrade sky CHART -n team",
                ][..],
                "helm rollback",
            ),
            (
                "pending-install",
                &[
                    "helm uninstall sky -n team --keep-history",
                    "skyctl install sky -n team",
                ],
                "helm upgrade",
            ),
            (
                "uninstalled",
                &["skyctl install sky -n team"],
                "helm uninstall",
            ),
        ] {
            let err = adoptable(&sky(), &[stored(1, status, vec![])]).unwrap_err();
            assert!(!err.is_bad_input());
            let text = err.to_string();
            assert!(text.contains(&format!("revision 1, is {status}")), "{text}");
            for command in commands {
                assert!(text.contains(command), "{status}: {text}");
            }
            assert!(!text.contains(never), "{status}: {text}");
        }
    }

    #[test]
    fn records_in_both_of_helms_drivers_are_two_releases_and_neither_is_picked() {
        let mut config_map = stored(5, "deployed", vec![]);
        config_map.storage = "ConfigMap";
        let revisions = [stored(1, "deployed", vec![]), config_map];
        let err = adoptable(&sky(), &revisions).unwrap_err();
        assert!(matches!(
            err,
            HelmError::TwoDrivers {
                secret: 1,
                config_map: 5,
                ..
            }
        ));
        assert!(err.to_string().contains("HELM_DRIVER"), "{err}");
    }

    #[test]
    fn helms_config_is_a_values_layer_named_after_the_release_and_revision() {
        let cases = [
            (json!({"a": {"b": 1}}), Some(json!({"a": {"b": 1}}))),
            // Helm records no config when the user gave no values.
            (Value::Null, Some(json!({}))),
            (json!([1]), None),
            (json!("text"), None),
        ];
        for (config, expected) in cases {
            let mut helm: HelmRelease =
                serde_json::from_value(release("skypilot", "0.13.0")).unwrap();
            helm.config = config.clone();
            match (helm.values_layer(), expected) {
                (Ok(layer), Some(expected)) => {
                    assert_eq!(layer.label, "the values of Helm release sky (revision 2)");
                    assert_eq!(Value::Object(layer.values), expected, "{config}");
                }
                (Err(err), None) => assert_eq!(
                    err.to_string(),
                    "Helm release sky recorded values that are not a map",
                    "{config}"
                ),
                (got, expected) => panic!("{config}: {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn a_grown_claim_keeps_its_size_under_the_claim_size_key() {
        let claim = object("PersistentVolumeClaim", Some("team"));
        let layer = grown_claim_layer(&claim, "20Gi");
        assert_eq!(layer.label, format!("the size {claim} has on the cluster"));
        assert_eq!(
            Value::Object(layer.values),
            json!({"storage": {"size": "20Gi"}})
        );
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
        // The name must match too: another chart at 0.13.0 is not SkyPilot's, and --version
        // does not make it so.
        for asked in [None, Some("0.13.0"), Some("1.0.0-dev.20250319")] {
            let err = chart_for(&decode_chart("tiny", "0.1.0"), asked)
                .unwrap_err()
                .to_string();
            assert!(err.contains("tiny-0.1.0, which is not SkyPilot's"), "{err}");
            assert!(err.contains("skypilot and skypilot-nightly"), "{err}");
            assert!(!err.contains("Pass --version"), "{err}");
        }
        assert!(chart_for(&decode_chart("other", "0.13.0"), None).is_err());
    }

    fn skyctl_record(revision: u32, status: ReleaseStatus, description: &str) -> ReleaseRecord {
        ReleaseRecord {
            name: "sky".into(),
            namespace: "team".into(),
            revision,
            status,
            description: description.into(),
            first_deployed: String::new(),
            last_deployed: String::new(),
            skyctl_version: String::new(),
            chart_version: "0.13.0".into(),
            values: json!({}),
            computed_values: None,
            inventory: Vec::new(),
            created_namespace: false,
            uids: Default::default(),
            keep: Default::default(),
        }
    }

    #[test]
    fn adopt_cleans_up_only_after_its_own_rollout_and_never_over_a_release_skyctl_installed() {
        use ReleaseStatus::*;
        let helm: HelmRelease = serde_json::from_value(release("skypilot", "0.13.0")).unwrap();
        let adopted = adoption_description(&helm);
        assert_eq!(
            adopted,
            "Adopted from Helm (revision 2, chart skypilot-0.13.0)"
        );
        let interrupted = "interrupted: skyctl stopped during pending-install";
        for (records, want) in [
            (vec![], Some(Resume::Rollout)),
            // Killed, or failed, before anything deployed: the rollout runs again.
            (vec![(1, Failed, interrupted)], Some(Resume::Rollout)),
            (
                vec![(1, Deployed, adopted.as_str())],
                Some(Resume::CleanUp { revision: 1 }),
            ),
            (
                vec![(1, Failed, interrupted), (2, Deployed, adopted.as_str())],
                Some(Resume::CleanUp { revision: 2 }),
            ),
            // An upgrade between the interrupted clean-up and this run.
            (
                vec![
                    (1, Superseded, adopted.as_str()),
                    (2, Deployed, "Upgrade complete"),
                ],
                Some(Resume::CleanUp { revision: 2 }),
            ),
            // skyctl installed a release of the Helm release's name, or adopted another
            // revision of it.
            (vec![(1, Deployed, "Install complete")], None),
            (
                vec![(
                    1,
                    Deployed,
                    "Adopted from Helm (revision 1, chart skypilot-0.13.0)",
                )],
                None,
            ),
        ] {
            let history = History::new(
                records
                    .iter()
                    .map(|(revision, status, description)| {
                        skyctl_record(*revision, *status, description)
                    })
                    .collect(),
            );
            match (resume(&history, &helm), want) {
                (Ok(got), Some(want)) => assert_eq!(got, want, "{records:?}"),
                (Err(err), None) => {
                    assert!(!err.is_bad_input());
                    let text = err.to_string();
                    assert!(text.contains("is skyctl's already (revision 1"), "{text}");
                    assert!(text.contains("Nothing was changed"), "{text}");
                }
                (got, want) => panic!("{records:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn leftovers_are_what_helm_made_and_skyctl_does_not_render_but_never_data_or_namespaces() {
        let mut release: HelmRelease =
            serde_json::from_value(release("skypilot", "0.13.0")).unwrap();
        release.manifest.push_str("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: skypilot-system\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n---\napiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: data-volume\n");
        release.manifest.push_str("---\n# Source: skypilot/charts/prometheus/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sky-prometheus-server\n---\n# Source: skypilot/charts/grafana/charts/sidecar/templates/role.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: sky-grafana\n---\n# Source: skypilot/charts/other/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sky-other\n");
        let objects = helm_objects(&release);
        assert_eq!(objects.len(), 9);
        assert_eq!(
            objects[0].id.namespace.as_deref(),
            Some("team"),
            "namespaced objects get the release's namespace"
        );
        assert_eq!(objects[1].id.namespace, None, "a ClusterRole has none");
        assert_eq!(objects[6].subchart.as_deref(), Some("grafana"));
        assert_eq!(objects[0].subchart, None);
        // Revision 2 listed the ClusterRole too: it is sorted once.
        let mut twice = objects.clone();
        twice.push(objects[1].clone());
        let sorted = leftovers(&twice, &[objects[0].id.clone()]);
        let shown =
            |ids: Vec<ObjectRef>| -> Vec<String> { ids.iter().map(ToString::to_string).collect() };
        let deleted: Vec<String> = sorted
            .delete
            .iter()
            .map(|(id, hook)| format!("{id} {hook}"))
            .collect();
        assert_eq!(
            deleted,
            [
                "ClusterRole b false",
                "ConfigMap team/sky-other false",
                "Job team/sky-admission-create true"
            ]
        );
        assert_eq!(
            shown(sorted.monitoring.clone()),
            [
                "ConfigMap team/sky-prometheus-server",
                "ClusterRole sky-grafana"
            ]
        );
        assert_eq!(
            shown(sorted.kept.clone()),
            [
                "Namespace skypilot-system",
                "PersistentVolumeClaim team/data",
                // Not in the table of known kinds, so taken as namespaced: a request for it
                // finds nothing, and it is left as it is.
                "PersistentVolume team/data-volume"
            ]
        );
        assert_eq!(sorted.unowned().len(), 5);
        assert_eq!(
            delete_commands(&sorted.monitoring),
            [
                "kubectl delete clusterrole/sky-grafana",
                "kubectl delete -n team configmap/sky-prometheus-server"
            ]
        );
    }

    #[test]
    fn monitoring_helm_turned_on_is_turned_off_and_nothing_else() {
        let chart = Chart::find("0.13.0").unwrap();
        let seed_era = Chart::find("1.0.0-dev.20250319").unwrap();
        for (config, chart, want) in [
            (json!({}), chart, None),
            (json!({"prometheus": {"enabled": false}}), chart, None),
            (
                json!({"prometheus": {"enabled": true}, "grafana": {"persistence": true}}),
                chart,
                Some(json!({"prometheus": {"enabled": false}})),
            ),
            (
                json!({"prometheus": {"enabled": true}, "grafana": {"enabled": true}}),
                chart,
                Some(json!({"prometheus": {"enabled": false}, "grafana": {"enabled": false}})),
            ),
            // A chart without the switch: the key is unknown to it, and refused as such.
            (json!({"prometheus": {"enabled": true}}), seed_era, None),
        ] {
            assert_eq!(
                monitoring_off(&config, chart).map(Value::Object),
                want,
                "{config} {}",
                chart.version()
            );
        }
    }

    const HELMS_VALUES: &str = "the values of Helm release sky (revision 1)";

    /// Why chart 0.13.0 refuses Helm's values `helms` beneath the admin's `set` flags.
    fn refused(helms: Value, set: &[&str]) -> values::Error {
        let layers = values::Layers {
            set: set.iter().map(|s| (*s).to_owned()).collect(),
            extra: vec![values::ExtraLayer {
                label: HELMS_VALUES.into(),
                values: helms.as_object().unwrap().clone(),
            }],
            ..values::Layers::default()
        };
        let chart = Chart::find("0.13.0").unwrap();
        values::resolve(chart.definition(), &layers).unwrap_err()
    }

    #[test]
    fn refused_values_of_helms_are_dropped_or_changed_with_set_and_others_named_by_nobody() {
        let label = HELMS_VALUES;
        for (helms, set, want) in [
            (
                json!({"apiServce": {"replicas": 2}, "nameOverride": "x"}),
                &[][..],
                &["apiServce=null", "nameOverride=null"][..],
            ),
            (
                json!({"apiService": {"replicas": "two"}}),
                &[],
                &["apiService.replicas=VALUE"],
            ),
            (
                json!({"prometheus": {"enabled": true}}),
                &[],
                &["prometheus.enabled=VALUE"],
            ),
            // What the admin's own flag set is theirs to fix, as install says.
            (json!({}), &["nameOverride=x"], &[]),
        ] {
            let err = refused(helms.clone(), set);
            assert_eq!(values_fix(&err, label), want, "{helms} {set:?}: {err}");
        }
    }

    #[test]
    fn a_refusal_of_helms_values_names_the_adopt_command_that_drops_them() {
        let label = HELMS_VALUES;
        let release = Release::new("sky", "team");
        for (helms, set, version, command) in [
            (
                json!({"nameOverride": "x"}),
                &[][..],
                None,
                Some("`skyctl adopt sky -n team --set nameOverride=null`"),
            ),
            (
                json!({"apiService": {"replicas": "two"}}),
                &[],
                Some("0.13.0"),
                Some("`skyctl adopt sky -n team --version 0.13.0 --set apiService.replicas=VALUE`"),
            ),
            // The admin's own flag: install's refusal says it all.
            (json!({}), &["nameOverride=x"][..], None, None),
        ] {
            let err = refused(helms.clone(), set);
            let message = values_refusal(&err, label, &release, version);
            match (message, command) {
                (Some(message), Some(command)) => {
                    assert!(message.starts_with(&format!("{err}\n")), "{message}");
                    assert!(
                        message.contains("`helm get values sky -n team` shows them"),
                        "{message}"
                    );
                    assert!(message.ends_with(command), "{message}");
                }
                (None, None) => {}
                (got, want) => panic!("{helms} {set:?}: {got:?}, expected {want:?}"),
            }
        }
    }

    #[test]
    fn objects_left_in_place_lose_every_mark_of_the_helm_release_and_others_keep_theirs() {
        let meta = |annotations: Value, labels: Value, managers: &[&str]| -> ObjectMeta {
            let fields: Vec<Value> = managers
                .iter()
                .map(|m| json!({"manager": m, "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}}))
                .collect();
            serde_json::from_value(json!({
                "resourceVersion": "7", "annotations": annotations, "labels": labels,
                "managedFields": fields,
            }))
            .unwrap()
        };
        let helms = json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team",
                           "helm.sh/resource-policy": "keep"});
        let patch = unowned_patch(
            &meta(
                helms.clone(),
                json!({"app.kubernetes.io/managed-by": "Helm"}),
                &["helm"],
            ),
            &sky(),
        )
        .unwrap();
        assert_eq!(
            patch,
            json!({"metadata": {
                "annotations": {"meta.helm.sh/release-name": null, "meta.helm.sh/release-namespace": null},
                "labels": {"app.kubernetes.io/managed-by": null},
                "managedFields": [{}],
                "resourceVersion": "7",
            }})
        );
        // Another manager's entry and label stay.
        let patch = unowned_patch(
            &meta(
                helms,
                json!({"app.kubernetes.io/managed-by": "Argo"}),
                &["helm", "kubectl"],
            ),
            &sky(),
        )
        .unwrap();
        assert_eq!(patch["metadata"].get("labels"), None);
        assert_eq!(patch["metadata"]["managedFields"][0]["manager"], "kubectl");
        for (why, annotations) in [
            (
                "another Helm release's",
                json!({"meta.helm.sh/release-name": "other", "meta.helm.sh/release-namespace": "team"}),
            ),
            (
                "a skyctl release's",
                json!({"skyctl.io/release-name": "sky", "skyctl.io/release-namespace": "team"}),
            ),
            ("nobody's", json!({})),
        ] {
            assert_eq!(
                unowned_patch(&meta(annotations, json!({}), &["helm"]), &sky()),
                None,
                "{why}"
            );
        }
    }

    #[test]
    fn a_claim_grown_by_hand_keeps_its_size_and_one_as_rendered_needs_nothing() {
        let claim = |size: &str| {
            Manifest::from_object(
                0,
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": "sky-state", "namespace": "team"},
                       "spec": {"resources": {"requests": {"storage": size}}}}),
            )
            .unwrap()
        };
        let live = |request: &str, capacity: Option<&str>| {
            let mut object = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "sky-state", "namespace": "team"},
                "spec": {"resources": {"requests": {"storage": request}}}});
            if let Some(capacity) = capacity {
                object["status"] = json!({"capacity": {"storage": capacity}});
            }
            let object: kube::api::DynamicObject = serde_json::from_value(object).unwrap();
            std::collections::BTreeMap::from([(claim("1").id, object)])
        };
        for (rendered, request, capacity, want) in [
            ("10Gi", "20Gi", Some("10Gi"), Some("20Gi")),
            ("10Gi", "10Gi", Some("20Gi"), Some("20Gi")),
            ("10Gi", "10Gi", Some("10Gi"), None),
            ("10Gi", "10737418240", None, None),
            ("10Gi", "11G", None, Some("11G")),
            ("20Gi", "10Gi", Some("10Gi"), None),
        ] {
            let grown = grown_claim(&[claim(rendered)], &live(request, capacity));
            assert_eq!(
                grown.as_ref().map(|(_, size)| size.as_str()),
                want,
                "{rendered} {request} {capacity:?}"
            );
        }
        assert_eq!(grown_claim(&[claim("10Gi")], &Default::default()), None);
    }

    fn meta(annotations: Value, labels: Value) -> ObjectMeta {
        serde_json::from_value(json!({"annotations": annotations, "labels": labels})).unwrap()
    }

    fn object(kind: &str, namespace: Option<&str>) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: namespace.map(Into::into),
            name: "x".into(),
        }
    }

    #[test]
    fn only_helms_own_leftovers_go_and_kept_ones_stay() {
        let helms =
            json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team"});
        let hook = json!({"helm.sh/hook": "pre-install"});
        let here = object("Job", Some("team"));
        let elsewhere = object("Job", Some("other"));
        let cluster = object("ClusterRole", None);
        let of = |instance: &str| json!({ "app.kubernetes.io/instance": instance });
        for (why, annotations, labels, id, hook_listed, want) in [
            (
                "this Helm release's",
                helms.clone(),
                json!({}),
                &here,
                false,
                true,
            ),
            (
                "this Helm release's, in another namespace",
                helms.clone(),
                json!({}),
                &elsewhere,
                false,
                true,
            ),
            (
                "a same-named Helm release of another namespace",
                json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "other"}),
                json!({}),
                &here,
                false,
                false,
            ),
            ("nobody's", json!({}), json!({}), &here, false, false),
            (
                "a hook in the namespace",
                hook.clone(),
                json!({}),
                &here,
                true,
                true,
            ),
            (
                "a hook the record does not list",
                hook.clone(),
                json!({}),
                &here,
                false,
                false,
            ),
            (
                "a hook in another namespace",
                hook.clone(),
                json!({}),
                &elsewhere,
                true,
                false,
            ),
            (
                "a hook labelled as another release's",
                hook.clone(),
                of("other"),
                &here,
                true,
                false,
            ),
            (
                "a cluster-scoped hook labelled as this release's",
                hook.clone(),
                of("sky"),
                &cluster,
                true,
                true,
            ),
            (
                "a cluster-scoped hook with nothing naming the release",
                hook.clone(),
                json!({}),
                &cluster,
                true,
                false,
            ),
            (
                "a cluster-scoped hook of another release",
                hook.clone(),
                of("other"),
                &cluster,
                true,
                false,
            ),
            (
                "kept by policy",
                json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team", "helm.sh/resource-policy": "keep"}),
                json!({}),
                &here,
                false,
                false,
            ),
            (
                "a skyctl release's, still marked as Helm's",
                json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team",
                       "skyctl.io/release-name": "other", "skyctl.io/release-namespace": "team"}),
                json!({}),
                &here,
                false,
                false,
            ),
            (
                "a skyctl release's hook-marked object",
                json!({"helm.sh/hook": "pre-install",
                       "skyctl.io/release-name": "sky", "skyctl.io/release-namespace": "team"}),
                json!({}),
                &here,
                true,
                false,
            ),
        ] {
            assert_eq!(
                may_remove(&meta(annotations, labels), id, hook_listed, &sky()),
                want,
                "{why}"
            );
        }
    }

    #[test]
    fn helms_traces_are_removed_and_skyctls_own_entry_kept() {
        let meta: ObjectMeta = serde_json::from_value(json!({
            "resourceVersion": "42",
            "annotations": {"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team", "keep": "me",
                            "skyctl.io/release-name": "sky", "skyctl.io/release-namespace": "team"},
            "managedFields": [
                {"manager": "helm", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}},
                {"manager": "skyctl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}},
                {"manager": "helm", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {}}
            ]
        }))
        .unwrap();
        let patch = traces_patch(&meta, &sky()).unwrap();
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
            "annotations": {"skyctl.io/release-name": "sky", "skyctl.io/release-namespace": "team"},
            "managedFields": [{"manager": "skyctl", "operation": "Apply"}]
        }))
        .unwrap();
        assert_eq!(traces_patch(&clean, &sky()), None);
    }

    #[test]
    fn the_fields_helms_manager_owns_become_skyctls_before_adopt_applies() {
        let meta: ObjectMeta = serde_json::from_value(json!({
            "resourceVersion": "7",
            "annotations": {"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team"},
            "managedFields": [
                {"manager": "helm", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:annotations": {"f:auth-type": {}}}}},
                {"manager": "helm", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:rules": {}}}},
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}, "subresource": "status"}
            ]
        }))
        .unwrap();
        let patch = fields_handover_patch(&meta, &sky()).unwrap();
        assert_eq!(patch["metadata"]["resourceVersion"], "7");
        let entries = patch["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{patch}");
        assert_eq!(entries[0]["manager"], "kube-controller-manager");
        assert_eq!(entries[1]["manager"], "skyctl");
        assert_eq!(entries[1]["operation"], "Apply");
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:metadata": {"f:annotations": {"f:auth-type": {}}}, "f:spec": {"f:rules": {}}})
        );
        // Nothing of Helm's: nothing to hand over. Another Helm release's: not this one's.
        let skyctls: ObjectMeta = serde_json::from_value(json!({
            "annotations": {"skyctl.io/release-name": "sky", "skyctl.io/release-namespace": "team"},
            "managedFields": [{"manager": "skyctl", "operation": "Apply"}]
        }))
        .unwrap();
        assert_eq!(fields_handover_patch(&skyctls, &sky()), None);
        let theirs: ObjectMeta = serde_json::from_value(json!({
            "annotations": {"meta.helm.sh/release-name": "other", "meta.helm.sh/release-namespace": "team"},
            "managedFields": [{"manager": "helm", "operation": "Apply"}]
        }))
        .unwrap();
        assert_eq!(fields_handover_patch(&theirs, &sky()), None);
    }

    #[test]
    fn helms_traces_stay_on_objects_of_other_releases() {
        let with = |annotations: Value| -> ObjectMeta {
            serde_json::from_value(json!({
                "resourceVersion": "42",
                "annotations": annotations,
                "managedFields": [
                    {"manager": "helm", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}},
                    {"manager": "skyctl", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}}
                ]
            }))
            .unwrap()
        };
        for (why, annotations) in [
            (
                "another skyctl release's (its IngressClass, say)",
                json!({"skyctl.io/release-name": "other", "skyctl.io/release-namespace": "team",
                       "meta.helm.sh/release-name": "other", "meta.helm.sh/release-namespace": "team"}),
            ),
            (
                "a Helm release's that skyctl never took",
                json!({"meta.helm.sh/release-name": "sky", "meta.helm.sh/release-namespace": "team"}),
            ),
            (
                "this release's, but marked by another Helm release",
                json!({"skyctl.io/release-name": "sky", "skyctl.io/release-namespace": "team",
                       "meta.helm.sh/release-name": "keeper", "meta.helm.sh/release-namespace": "team"}),
            ),
        ] {
            assert_eq!(traces_patch(&with(annotations), &sky()), None, "{why}");
        }
    }
}
