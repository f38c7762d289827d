//! The kubeconfig for the `kube-credentials` Secret: only the chosen contexts, self-contained.
//!
//! The Secret is mounted at `/root/.kube` in the API server pod, where none of this machine's
//! files exist. So referenced certificate files are inlined as `*-data`, exec plugin commands lose
//! their local directory (as upstream SkyPilot's `exec_kubeconfig_converter` does: the pod finds
//! them on `PATH`), and whatever still depends on this machine becomes a warning that names the
//! context it affects.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_yaml_ng::{Mapping, Value};

use super::host::Host;
use crate::redacted::Redacted;

/// The chart's default name for the kubeconfig Secret (`kubernetesCredentials.kubeconfigSecretName`).
pub const SECRET_NAME: &str = "kube-credentials";
/// Secret key holding the kubeconfig; the Secret is mounted at `/root/.kube`, so this is
/// `/root/.kube/config` in the pod.
pub const CONFIG_KEY: &str = "config";

/// Exec plugins that work in the pod without a custom image.
///
/// The SkyPilot API server image installs the Google Cloud SDK with `gke-gcloud-auth-plugin`,
/// and the AWS CLI through `skypilot[aws]`; the chart can give both credentials (the
/// `gcp-credentials` and `aws-credentials` Secrets). The image also has `az` and `nebius`, but the
/// chart mounts no credentials for them, and `kubelogin` and `aws-iam-authenticator` are not
/// installed at all, so those are warned about.
pub const IMAGE_EXEC_PLUGINS: &[&str] = &["gke-gcloud-auth-plugin", "gcloud", "aws"];

// Path keys kubectl reads and the inline key that overrides each, per entry kind.
const CLUSTER_FILES: &[(&str, &str)] = &[("certificate-authority", "certificate-authority-data")];
const USER_FILES: &[(&str, &str)] = &[
    ("client-certificate", "client-certificate-data"),
    ("client-key", "client-key-data"),
];

/// A kubeconfig cut down to the chosen contexts. Its `Debug` never shows the YAML (it holds
/// tokens and private keys).
#[derive(Debug)]
pub struct MinimizedKubeconfig {
    yaml: Redacted<String>,
    /// The kept contexts, in the order chosen; the first is `current-context`.
    pub contexts: Vec<String>,
    /// Auth or network settings that will not work from inside the pod.
    pub warnings: Vec<String>,
    /// Exec plugin commands the kept users run (basenames, sorted, deduplicated), so the caller can
    /// check that the matching cloud credentials are deployed too.
    pub exec_commands: Vec<String>,
}

impl MinimizedKubeconfig {
    /// The kubeconfig Secret's data: `config`, the minimized kubeconfig as YAML.
    pub fn secret_data(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(CONFIG_KEY.to_owned(), self.yaml.expose().clone())])
    }
}

/// Why the kubeconfig cannot be turned into a Secret. Messages name files, contexts, clusters and
/// users, never credential values.
#[derive(Debug, thiserror::Error)]
pub enum KubeCredentialsError {
    /// The kubeconfig itself cannot be read.
    #[error("cannot read kubeconfig {path}: {reason}", path = path.display(), reason = super::host::unreadable_because(*kind))]
    Unreadable {
        /// The kubeconfig.
        path: PathBuf,
        /// What went wrong.
        kind: io::ErrorKind,
    },
    /// The kubeconfig is not YAML.
    #[error(
        "kubeconfig {path} is not valid YAML{at}",
        path = path.display(),
        at = match location {
            Some((line, column)) => format!(" (line {line}, column {column})"),
            None => String::new(),
        }
    )]
    NotYaml {
        /// The kubeconfig.
        path: PathBuf,
        /// 1-based line and column of the first error, when known.
        location: Option<(usize, usize)>,
    },
    /// The YAML does not have a kubeconfig's shape.
    #[error("kubeconfig {path}: {reason}", path = path.display())]
    NotAKubeconfig {
        /// The kubeconfig.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No context was chosen and the file has no `current-context`.
    #[error(
        "kubeconfig {path} has no current-context; choose contexts explicitly (available: {list})",
        path = path.display(),
        list = name_list(available)
    )]
    NoCurrentContext {
        /// The kubeconfig.
        path: PathBuf,
        /// The contexts it has.
        available: Vec<String>,
    },
    /// A chosen context is not in the file.
    #[error(
        "context \"{name}\" is not in kubeconfig {path} (available: {list})",
        path = path.display(),
        list = name_list(available)
    )]
    UnknownContext {
        /// The kubeconfig.
        path: PathBuf,
        /// The context asked for.
        name: String,
        /// The contexts it has.
        available: Vec<String>,
    },
    /// A chosen context names no cluster.
    #[error("context \"{context}\" in kubeconfig {path} names no cluster", path = path.display())]
    ContextWithoutCluster {
        /// The kubeconfig.
        path: PathBuf,
        /// The context.
        context: String,
    },
    /// A chosen context refers to a cluster the file lacks.
    #[error(
        "context \"{context}\" refers to cluster \"{cluster}\", which is not in kubeconfig {path}",
        path = path.display()
    )]
    MissingCluster {
        /// The kubeconfig.
        path: PathBuf,
        /// The context.
        context: String,
        /// The missing cluster.
        cluster: String,
    },
    /// A chosen context refers to a user the file lacks.
    #[error(
        "context \"{context}\" refers to user \"{user}\", which is not in kubeconfig {path}",
        path = path.display()
    )]
    MissingUser {
        /// The kubeconfig.
        path: PathBuf,
        /// The context.
        context: String,
        /// The missing user.
        user: String,
    },
    /// A file the kubeconfig refers to cannot be read, so it cannot be inlined.
    #[error(
        "cannot read {file} ({field} of {entry} in kubeconfig {path}): {reason}",
        file = file.display(),
        path = path.display(),
        reason = super::host::unreadable_because(*kind)
    )]
    UnreadableReference {
        /// The kubeconfig.
        path: PathBuf,
        /// `cluster "name"` or `user "name"`.
        entry: String,
        /// The kubeconfig key holding the path.
        field: &'static str,
        /// The referenced file, resolved against the kubeconfig's directory.
        file: PathBuf,
        /// What went wrong.
        kind: io::ErrorKind,
    },
    /// The kept entries cannot be written back as YAML (complex mapping keys, for example).
    #[error(
        "cannot write the chosen contexts of kubeconfig {path} back as YAML; it has mapping keys \
         that are not plain values",
        path = path.display()
    )]
    Render {
        /// The kubeconfig.
        path: PathBuf,
    },
}

/// Reads the kubeconfig at `path` and keeps `contexts` (its `current-context` when empty), with
/// the clusters and users they use, every referenced file inlined and exec commands made
/// path-less.
pub fn minimize(
    path: &Path,
    contexts: &[String],
    host: &Host<'_>,
) -> Result<MinimizedKubeconfig, KubeCredentialsError> {
    let bytes = (host.read_file)(path).map_err(|err| KubeCredentialsError::Unreadable {
        path: path.to_path_buf(),
        kind: err.kind(),
    })?;
    // Only the position is kept: serde_yaml_ng's message can quote keys from the file.
    let root: Value =
        serde_yaml_ng::from_slice(&bytes).map_err(|err| KubeCredentialsError::NotYaml {
            path: path.to_path_buf(),
            location: err.location().map(|at| (at.line(), at.column())),
        })?;
    let source = Kubeconfig::parse(path, &root)?;
    let chosen = source.choose(contexts)?;

    let mut kept_clusters: Vec<(&str, Value)> = Vec::new();
    let mut kept_users: Vec<(&str, Value)> = Vec::new();
    let mut kept_contexts: Vec<Value> = Vec::new();
    // Which kept contexts use each cluster and user, for warnings that say what breaks.
    let mut cluster_contexts: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut user_contexts: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for context in &chosen {
        let (cluster, user) = source.references(context)?;
        if !kept_clusters.iter().any(|(name, _)| *name == cluster.name) {
            kept_clusters.push((cluster.name, cluster.entry.clone()));
        }
        cluster_contexts
            .entry(cluster.name)
            .or_default()
            .push(context.name);
        if let Some(user) = user {
            if !kept_users.iter().any(|(name, _)| *name == user.name) {
                kept_users.push((user.name, user.entry.clone()));
            }
            user_contexts
                .entry(user.name)
                .or_default()
                .push(context.name);
        }
        kept_contexts.push(context.entry.clone());
    }

    let base = path.parent().unwrap_or(Path::new(""));
    let mut warnings = Vec::new();
    let mut exec_commands = Vec::new();
    for (name, entry) in &mut kept_clusters {
        let subject = Subject::new("cluster", name, &cluster_contexts);
        if let Some(body) = entry.get_mut("cluster").and_then(Value::as_mapping_mut) {
            inline_files(body, CLUSTER_FILES, base, host, path, &subject)?;
            warnings.extend(cluster_warnings(body, &subject));
        }
    }
    for (name, entry) in &mut kept_users {
        let subject = Subject::new("user", name, &user_contexts);
        if let Some(body) = entry.get_mut("user").and_then(Value::as_mapping_mut) {
            inline_files(body, USER_FILES, base, host, path, &subject)?;
            if let Some(command) = strip_exec_path(body) {
                warnings.extend(exec_warnings(body, &command, &subject));
                exec_commands.push(command);
            }
            warnings.extend(user_warnings(body, &subject));
        }
    }
    exec_commands.sort();
    exec_commands.dedup();

    let names: Vec<String> = chosen.iter().map(|c| c.name.to_owned()).collect();
    let mut out = Mapping::new();
    out.insert("apiVersion".into(), "v1".into());
    out.insert(
        "clusters".into(),
        Value::Sequence(kept_clusters.into_iter().map(|(_, e)| e).collect()),
    );
    out.insert("contexts".into(), Value::Sequence(kept_contexts));
    // `choose` never returns an empty list, so there is always a first context.
    let current = names.first().cloned().unwrap_or_default();
    out.insert("current-context".into(), current.into());
    out.insert("kind".into(), "Config".into());
    out.insert(
        "users".into(),
        Value::Sequence(kept_users.into_iter().map(|(_, e)| e).collect()),
    );
    let yaml = serde_yaml_ng::to_string(&Value::Mapping(out)).map_err(|_| {
        KubeCredentialsError::Render {
            path: path.to_path_buf(),
        }
    })?;
    Ok(MinimizedKubeconfig {
        yaml: yaml.into(),
        contexts: names,
        warnings,
        exec_commands,
    })
}

/// One named entry of `clusters`, `contexts` or `users`.
struct Named<'a> {
    name: &'a str,
    entry: &'a Value,
}

impl<'a> Named<'a> {
    fn body(&self, key: &str) -> Option<&'a Value> {
        self.entry.get(key)
    }
}

/// The parts of a kubeconfig this module reads.
struct Kubeconfig<'a> {
    path: &'a Path,
    current: Option<&'a str>,
    clusters: Vec<Named<'a>>,
    contexts: Vec<Named<'a>>,
    users: Vec<Named<'a>>,
}

impl<'a> Kubeconfig<'a> {
    fn parse(path: &'a Path, root: &'a Value) -> Result<Self, KubeCredentialsError> {
        let shape = |reason| KubeCredentialsError::NotAKubeconfig {
            path: path.to_path_buf(),
            reason,
        };
        if !root.is_mapping() {
            return Err(shape("the top level is not a mapping of kubeconfig fields"));
        }
        let list = |key: &str, reason_not_list, reason_unnamed| -> Result<Vec<Named<'a>>, _> {
            match root.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Sequence(items)) => items
                    .iter()
                    .map(|entry| match entry.get("name").and_then(Value::as_str) {
                        Some(name) => Ok(Named { name, entry }),
                        None => Err(shape(reason_unnamed)),
                    })
                    .collect(),
                Some(_) => Err(shape(reason_not_list)),
            }
        };
        Ok(Kubeconfig {
            path,
            current: root
                .get("current-context")
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty()),
            clusters: list(
                "clusters",
                "\"clusters\" is not a list",
                "an entry of \"clusters\" has no name",
            )?,
            contexts: list(
                "contexts",
                "\"contexts\" is not a list",
                "an entry of \"contexts\" has no name",
            )?,
            users: list(
                "users",
                "\"users\" is not a list",
                "an entry of \"users\" has no name",
            )?,
        })
    }

    fn context_names(&self) -> Vec<String> {
        self.contexts.iter().map(|c| c.name.to_owned()).collect()
    }

    /// The contexts to keep, in the order asked for, each once.
    fn choose(&self, wanted: &[String]) -> Result<Vec<&Named<'a>>, KubeCredentialsError> {
        let wanted: Vec<&str> = if wanted.is_empty() {
            let current = self
                .current
                .ok_or_else(|| KubeCredentialsError::NoCurrentContext {
                    path: self.path.to_path_buf(),
                    available: self.context_names(),
                })?;
            vec![current]
        } else {
            wanted.iter().map(String::as_str).collect()
        };
        let mut chosen: Vec<&Named<'a>> = Vec::new();
        for name in wanted {
            let context = self
                .contexts
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| KubeCredentialsError::UnknownContext {
                    path: self.path.to_path_buf(),
                    name: name.to_owned(),
                    available: self.context_names(),
                })?;
            if !chosen.iter().any(|c| c.name == name) {
                chosen.push(context);
            }
        }
        Ok(chosen)
    }

    /// The cluster and (optional: kubectl allows anonymous contexts) user a context uses.
    fn references(
        &self,
        context: &Named<'a>,
    ) -> Result<(&Named<'a>, Option<&Named<'a>>), KubeCredentialsError> {
        let field = |key| {
            context
                .body("context")
                .and_then(|body| body.get(key))
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty())
        };
        let cluster_name =
            field("cluster").ok_or_else(|| KubeCredentialsError::ContextWithoutCluster {
                path: self.path.to_path_buf(),
                context: context.name.to_owned(),
            })?;
        let cluster = self
            .clusters
            .iter()
            .find(|c| c.name == cluster_name)
            .ok_or_else(|| KubeCredentialsError::MissingCluster {
                path: self.path.to_path_buf(),
                context: context.name.to_owned(),
                cluster: cluster_name.to_owned(),
            })?;
        let user = match field("user") {
            None => None,
            Some(user_name) => Some(self.users.iter().find(|u| u.name == user_name).ok_or_else(
                || KubeCredentialsError::MissingUser {
                    path: self.path.to_path_buf(),
                    context: context.name.to_owned(),
                    user: user_name.to_owned(),
                },
            )?),
        };
        Ok((cluster, user))
    }
}

/// A kept cluster or user and the kept contexts that use it, as warnings name them.
struct Subject {
    /// `cluster "name"` or `user "name"`.
    entry: String,
    /// `context "a"` or `contexts "a", "b"`.
    contexts: String,
}

impl Subject {
    fn new(kind: &str, name: &str, contexts: &BTreeMap<&str, Vec<&str>>) -> Self {
        let users: &[&str] = contexts.get(name).map_or(&[], Vec::as_slice);
        let quoted: Vec<String> = users.iter().map(|c| format!("\"{c}\"")).collect();
        let plural = if quoted.len() == 1 { "" } else { "s" };
        Subject {
            entry: format!("{kind} \"{name}\""),
            contexts: format!("context{plural} {}", quoted.join(", ")),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.entry, self.contexts)
    }
}

/// Replaces each file reference with its contents as base64, unless the inline key is already
/// there (kubectl lets `*-data` override the path, so the file is not even read then).
fn inline_files(
    body: &mut Mapping,
    files: &[(&'static str, &str)],
    base: &Path,
    host: &Host<'_>,
    kubeconfig: &Path,
    subject: &Subject,
) -> Result<(), KubeCredentialsError> {
    for &(path_key, data_key) in files {
        let Some(reference) = body.remove(path_key) else {
            continue;
        };
        let Some(reference) = reference.as_str().filter(|r| !r.is_empty()) else {
            continue;
        };
        if body.contains_key(data_key) {
            continue;
        }
        // kubectl resolves relative references against the kubeconfig's own directory.
        let file = base.join(reference);
        let bytes =
            (host.read_file)(&file).map_err(|err| KubeCredentialsError::UnreadableReference {
                path: kubeconfig.to_path_buf(),
                entry: subject.entry.clone(),
                field: path_key,
                file: file.clone(),
                kind: err.kind(),
            })?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        body.insert(data_key.into(), encoded.into());
    }
    Ok(())
}

/// Cuts the exec command to its basename and returns it. Windows kubeconfigs also lose `.exe`:
/// the pod is Linux.
fn strip_exec_path(user: &mut Mapping) -> Option<String> {
    let exec = user.get_mut("exec")?.as_mapping_mut()?;
    let command = exec.get("command")?.as_str()?;
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let base = match base.len().checked_sub(4) {
        Some(stem) if base.is_char_boundary(stem) && base[stem..].eq_ignore_ascii_case(".exe") => {
            &base[..stem]
        }
        _ => base,
    }
    .to_owned();
    exec.insert("command".into(), base.clone().into());
    Some(base)
}

fn exec_warnings(user: &Mapping, command: &str, subject: &Subject) -> Vec<String> {
    let mut warnings = Vec::new();
    if !IMAGE_EXEC_PLUGINS.contains(&command) {
        warnings.push(format!(
            "{subject}: exec plugin \"{command}\" is not usable in the SkyPilot API server image \
             (it can run {}); authentication will fail in the pod unless a custom image provides it",
            IMAGE_EXEC_PLUGINS.join(", ")
        ));
    }
    if command == "aws"
        && let Some(profile) = aws_profile(user)
    {
        warnings.push(format!(
            "{subject}: exec plugin \"aws\" selects AWS profile \"{profile}\", but the pod has \
             only the default profile from the aws-credentials Secret"
        ));
    }
    warnings
}

/// The AWS profile an `aws eks get-token` exec selects, through `--profile` or `AWS_PROFILE`.
fn aws_profile(user: &Mapping) -> Option<String> {
    let exec = user.get("exec")?;
    let args: Vec<&str> = exec
        .get("args")
        .and_then(Value::as_sequence)
        .map(|args| args.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let from_args = args.iter().enumerate().find_map(|(i, arg)| {
        if let Some(value) = arg.strip_prefix("--profile=") {
            Some(value.to_owned())
        } else if *arg == "--profile" {
            args.get(i + 1).map(|value| (*value).to_owned())
        } else {
            None
        }
    });
    let from_env = || {
        exec.get("env")?.as_sequence()?.iter().find_map(|var| {
            (var.get("name")?.as_str()? == "AWS_PROFILE")
                .then(|| var.get("value")?.as_str().map(str::to_owned))?
        })
    };
    from_args
        .or_else(from_env)
        .filter(|profile| profile != "default")
}

fn user_warnings(user: &Mapping, subject: &Subject) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(provider) = user.get("auth-provider") {
        let name = provider
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("unnamed");
        warnings.push(format!(
            "{subject}: uses the legacy auth-provider \"{name}\", whose cached tokens expire in \
             the pod and cannot be refreshed there; switch to an exec plugin (for GKE, \
             gke-gcloud-auth-plugin) or a service-account token"
        ));
    }
    for key in ["tokenFile", "token-file"] {
        if let Some(file) = user.get(key).and_then(Value::as_str) {
            warnings.push(format!(
                "{subject}: {key} points at {file} on this machine, which does not exist in the \
                 pod; put the token in \"token\" instead"
            ));
        }
    }
    warnings
}

fn cluster_warnings(cluster: &Mapping, subject: &Subject) -> Vec<String> {
    ["server", "proxy-url"]
        .into_iter()
        .filter_map(|key| {
            let host = cluster.get(key)?.as_str().and_then(server_host)?;
            is_loopback(host).then(|| {
                format!(
                    "{subject}: {key} host \"{host}\" is this machine's loopback address, which \
                     the pod cannot reach; use an address reachable from inside the cluster"
                )
            })
        })
        .collect()
}

/// The host part of a server URL such as `https://user@[::1]:6443/path`.
fn server_host(server: &str) -> Option<&str> {
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(host, _)| host),
        None => host_port.split(':').next(),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

fn name_list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &[u8] = b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
    const CLIENT_CERT: &[u8] = b"-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
    const CLIENT_KEY: &[u8] =
        b"-----BEGIN PRIVATE KEY-----\nCLIENTKEYSECRET\n-----END PRIVATE KEY-----\n";
    const SECRETS: &[&str] = &[
        "CLIENTKEYSECRET",
        "ya29.SECRETACCESSTOKEN",
        "SECRETUNUSEDTOKEN",
        "SECRETREFRESHTOKEN",
    ];

    fn kubeconfig(dir: &Path) -> String {
        format!(
            r#"apiVersion: v1
kind: Config
current-context: gke
preferences: {{}}
clusters:
- name: gke-cluster
  cluster:
    server: https://34.1.2.3
    certificate-authority: certs/ca.crt
- name: kind-kind
  cluster:
    server: https://127.0.0.1:6443
    proxy-url: socks5://localhost:1080
    certificate-authority-data: Q0FEQVRB
    certificate-authority: does/not/exist.crt
- name: eks-cluster
  cluster: {{server: "https://ABC.gr7.us-east-1.eks.amazonaws.com", certificate-authority-data: Q0E=}}
- name: unused
  cluster: {{server: "https://10.0.0.1"}}
contexts:
- name: gke
  context: {{cluster: gke-cluster, user: gke-user, namespace: team}}
- name: kind-kind
  context: {{cluster: kind-kind, user: kind-user}}
- name: eks
  context: {{cluster: eks-cluster, user: eks-user}}
- name: aks
  context: {{cluster: eks-cluster, user: aks-user}}
- name: legacy
  context: {{cluster: gke-cluster, user: legacy-user}}
- name: broken-cluster
  context: {{cluster: nope, user: gke-user}}
- name: broken-user
  context: {{cluster: gke-cluster, user: nobody}}
- name: no-cluster
  context: {{user: gke-user}}
- name: anon
  context: {{cluster: gke-cluster}}
- name: bad-ref
  context: {{cluster: gke-cluster, user: bad-ref-user}}
users:
- name: gke-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: /opt/gcloud/bin/gke-gcloud-auth-plugin
      provideClusterInfo: true
- name: kind-user
  user:
    client-certificate: certs/client.crt
    client-key: {abs}/keys/client.key
- name: eks-user
  user:
    exec:
      command: 'C:\Program Files\Amazon\AWSCLIV2\aws.exe'
      args: [--region, us-east-1, eks, get-token, --cluster-name, x, --profile, work]
- name: aks-user
  user:
    exec:
      command: /usr/local/bin/kubelogin
      args: [get-token]
      env: [{{name: AWS_PROFILE, value: ignored-for-non-aws}}]
- name: eks-env-user
  user:
    exec:
      command: aws
      env: [{{name: AWS_PROFILE, value: ops}}]
- name: legacy-user
  user:
    auth-provider:
      name: gcp
      config: {{access-token: ya29.SECRETACCESSTOKEN, refresh-token: SECRETREFRESHTOKEN}}
    tokenFile: /home/u/.kube/token
- name: bad-ref-user
  user: {{client-certificate: certs/missing.crt}}
- name: unused-user
  user: {{token: SECRETUNUSEDTOKEN}}
"#,
            abs = dir.display()
        )
    }

    /// A temp dir holding `config` plus the certificate files it refers to.
    fn fixture(config: Option<&str>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("certs")).expect("certs dir");
        std::fs::create_dir_all(dir.path().join("keys")).expect("keys dir");
        std::fs::write(dir.path().join("certs/ca.crt"), CA).expect("ca");
        std::fs::write(dir.path().join("certs/client.crt"), CLIENT_CERT).expect("cert");
        std::fs::write(dir.path().join("keys/client.key"), CLIENT_KEY).expect("key");
        let path = dir.path().join("config");
        let text = config.map_or_else(|| kubeconfig(dir.path()), str::to_owned);
        std::fs::write(&path, text).expect("config");
        (dir, path)
    }

    fn run(
        config: Option<&str>,
        contexts: &[&str],
    ) -> (
        Result<MinimizedKubeconfig, KubeCredentialsError>,
        PathBuf,
        tempfile::TempDir,
    ) {
        let (dir, path) = fixture(config);
        let contexts: Vec<String> = contexts.iter().map(|c| (*c).to_owned()).collect();
        (minimize(&path, &contexts, &Host::system()), path, dir)
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn names(config: &Value, list: &str) -> Vec<String> {
        config[list]
            .as_sequence()
            .expect("list")
            .iter()
            .map(|e| e["name"].as_str().expect("name").to_owned())
            .collect()
    }

    #[test]
    fn kept_entries_and_warnings_table() {
        struct Case {
            chosen: &'static [&'static str],
            contexts: &'static [&'static str],
            clusters: &'static [&'static str],
            users: &'static [&'static str],
            exec: &'static [&'static str],
            warnings: &'static [&'static str],
        }
        let cases = [
            Case {
                chosen: &[],
                contexts: &["gke"],
                clusters: &["gke-cluster"],
                users: &["gke-user"],
                exec: &["gke-gcloud-auth-plugin"],
                warnings: &[],
            },
            Case {
                chosen: &["kind-kind"],
                contexts: &["kind-kind"],
                clusters: &["kind-kind"],
                users: &["kind-user"],
                exec: &[],
                warnings: &[
                    "cluster \"kind-kind\" (context \"kind-kind\"): server host \"127.0.0.1\" is this machine's loopback address, which the pod cannot reach; use an address reachable from inside the cluster",
                    "cluster \"kind-kind\" (context \"kind-kind\"): proxy-url host \"localhost\" is this machine's loopback address, which the pod cannot reach; use an address reachable from inside the cluster",
                ],
            },
            Case {
                chosen: &["eks", "aks"],
                contexts: &["eks", "aks"],
                clusters: &["eks-cluster"],
                users: &["eks-user", "aks-user"],
                exec: &["aws", "kubelogin"],
                warnings: &[
                    "user \"eks-user\" (context \"eks\"): exec plugin \"aws\" selects AWS profile \"work\", but the pod has only the default profile from the aws-credentials Secret",
                    "user \"aks-user\" (context \"aks\"): exec plugin \"kubelogin\" is not usable in the SkyPilot API server image (it can run gke-gcloud-auth-plugin, gcloud, aws); authentication will fail in the pod unless a custom image provides it",
                ],
            },
            Case {
                chosen: &["legacy", "gke", "legacy"],
                contexts: &["legacy", "gke"],
                clusters: &["gke-cluster"],
                users: &["legacy-user", "gke-user"],
                exec: &["gke-gcloud-auth-plugin"],
                warnings: &[
                    "user \"legacy-user\" (context \"legacy\"): uses the legacy auth-provider \"gcp\", whose cached tokens expire in the pod and cannot be refreshed there; switch to an exec plugin (for GKE, gke-gcloud-auth-plugin) or a service-account token",
                    "user \"legacy-user\" (context \"legacy\"): tokenFile points at /home/u/.kube/token on this machine, which does not exist in the pod; put the token in \"token\" instead",
                ],
            },
            Case {
                chosen: &["anon", "gke"],
                contexts: &["anon", "gke"],
                clusters: &["gke-cluster"],
                users: &["gke-user"],
                exec: &["gke-gcloud-auth-plugin"],
                warnings: &[],
            },
        ];
        for case in cases {
            let (result, _, _dir) = run(None, case.chosen);
            let name = format!("{:?}", case.chosen);
            let out = result.unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(out.contexts, case.contexts, "{name}");
            assert_eq!(out.exec_commands, case.exec, "{name}");
            assert_eq!(out.warnings, case.warnings, "{name}");
            let data = out.secret_data();
            assert_eq!(data.keys().collect::<Vec<_>>(), [CONFIG_KEY], "{name}");
            let config: Value = serde_yaml_ng::from_str(&data[CONFIG_KEY]).expect("output parses");
            assert_eq!(
                config["current-context"].as_str(),
                Some(case.contexts[0]),
                "{name}"
            );
            assert_eq!(names(&config, "contexts"), case.contexts, "{name}");
            assert_eq!(names(&config, "clusters"), case.clusters, "{name}");
            assert_eq!(names(&config, "users"), case.users, "{name}");
            let text = &data[CONFIG_KEY];
            for path_key in [
                "certificate-authority:",
                "client-certificate:",
                "client-key:",
                "/opt/gcloud",
                ".exe",
            ] {
                assert!(
                    !text.contains(path_key),
                    "{name}: {path_key} left in\n{text}"
                );
            }
        }
    }

    #[test]
    fn files_are_inlined_and_data_wins_over_paths() {
        let (result, _, _dir) = run(None, &["kind-kind", "gke"]);
        let out = result.expect("minimize");
        let config: Value = serde_yaml_ng::from_str(&out.secret_data()[CONFIG_KEY]).expect("yaml");
        let cluster = |i: usize| &config["clusters"][i]["cluster"];
        assert_eq!(
            cluster(0)["certificate-authority-data"].as_str(),
            Some("Q0FEQVRB")
        );
        assert_eq!(
            cluster(1)["certificate-authority-data"].as_str(),
            Some(b64(CA).as_str())
        );
        let user = &config["users"][0]["user"];
        assert_eq!(
            user["client-certificate-data"].as_str(),
            Some(b64(CLIENT_CERT).as_str())
        );
        assert_eq!(
            user["client-key-data"].as_str(),
            Some(b64(CLIENT_KEY).as_str())
        );
    }

    #[test]
    fn minimized_yaml_is_golden() {
        let (result, _, _dir) = run(None, &[]);
        let want = format!(
            "apiVersion: v1
clusters:
- name: gke-cluster
  cluster:
    server: https://34.1.2.3
    certificate-authority-data: {ca}
contexts:
- name: gke
  context:
    cluster: gke-cluster
    user: gke-user
    namespace: team
current-context: gke
kind: Config
users:
- name: gke-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      provideClusterInfo: true
",
            ca = b64(CA)
        );
        assert_eq!(result.expect("minimize").secret_data()[CONFIG_KEY], want);
    }

    #[test]
    fn aws_profile_from_exec_env_is_warned() {
        let config = "clusters: [{name: c, cluster: {server: 'https://eks.example'}}]\n\
                      contexts: [{name: x, context: {cluster: c, user: u}}]\n\
                      users: [{name: u, user: {exec: {command: aws, env: [{name: AWS_PROFILE, value: ops}]}}}]\n\
                      current-context: x\n";
        let (result, _, _dir) = run(Some(config), &[]);
        assert_eq!(
            result.expect("minimize").warnings,
            [
                "user \"u\" (context \"x\"): exec plugin \"aws\" selects AWS profile \"ops\", but the pod has only the default profile from the aws-credentials Secret"
            ]
        );
    }

    fn error_cases() -> Vec<(KubeCredentialsError, String)> {
        let cases: Vec<(Option<&str>, &[&str], &str)> = vec![
            (
                None,
                &["nope", "gke"],
                "context \"nope\" is not in kubeconfig {path} (available: gke, kind-kind, eks, aks, legacy, broken-cluster, broken-user, no-cluster, anon, bad-ref)",
            ),
            (
                Some(
                    "contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://x'}}]\n",
                ),
                &[],
                "kubeconfig {path} has no current-context; choose contexts explicitly (available: a)",
            ),
            (
                Some("current-context: \"\"\n"),
                &[],
                "kubeconfig {path} has no current-context; choose contexts explicitly (available: none)",
            ),
            (
                None,
                &["broken-cluster"],
                "context \"broken-cluster\" refers to cluster \"nope\", which is not in kubeconfig {path}",
            ),
            (
                None,
                &["gke", "broken-user"],
                "context \"broken-user\" refers to user \"nobody\", which is not in kubeconfig {path}",
            ),
            (
                None,
                &["no-cluster"],
                "context \"no-cluster\" in kubeconfig {path} names no cluster",
            ),
            (
                None,
                &["bad-ref"],
                "cannot read {dir}/certs/missing.crt (client-certificate of user \"bad-ref-user\" in kubeconfig {path}): No such file or directory",
            ),
            (
                Some("users: [{name: u, user: {token: SECRETUNUSEDTOKEN}}\n"),
                &[],
                "kubeconfig {path} is not valid YAML (line 2, column 1)",
            ),
            (
                Some("- SECRETUNUSEDTOKEN\n"),
                &[],
                "kubeconfig {path}: the top level is not a mapping of kubeconfig fields",
            ),
            (
                Some(""),
                &[],
                "kubeconfig {path}: the top level is not a mapping of kubeconfig fields",
            ),
            (
                Some("clusters: {a: b}\n"),
                &[],
                "kubeconfig {path}: \"clusters\" is not a list",
            ),
            (
                Some("contexts: SECRETUNUSEDTOKEN\n"),
                &[],
                "kubeconfig {path}: \"contexts\" is not a list",
            ),
            (
                Some("users: 3\n"),
                &[],
                "kubeconfig {path}: \"users\" is not a list",
            ),
            (
                Some("clusters: [{cluster: {}}]\n"),
                &[],
                "kubeconfig {path}: an entry of \"clusters\" has no name",
            ),
            (
                Some("contexts: [{name: 7}]\n"),
                &[],
                "kubeconfig {path}: an entry of \"contexts\" has no name",
            ),
            (
                Some("users: [{user: {token: SECRETUNUSEDTOKEN}}]\n"),
                &[],
                "kubeconfig {path}: an entry of \"users\" has no name",
            ),
            (
                Some(
                    "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://x', extensions: {? {complex: key} : v}}}]\n",
                ),
                &[],
                "cannot write the chosen contexts of kubeconfig {path} back as YAML; it has mapping keys that are not plain values",
            ),
        ];
        let mut out: Vec<(KubeCredentialsError, String)> = cases
            .into_iter()
            .map(|(config, contexts, want)| {
                let (result, path, dir) = run(config, contexts);
                let err = result.expect_err(want);
                let want = want
                    .replace("{path}", &path.display().to_string())
                    .replace("{dir}", &dir.path().display().to_string());
                (err, want)
            })
            .collect();
        let missing = PathBuf::from("/nonexistent/kubeconfig");
        out.push((
            minimize(&missing, &[], &Host::system()).expect_err("missing kubeconfig"),
            "cannot read kubeconfig /nonexistent/kubeconfig: No such file or directory".to_owned(),
        ));
        out
    }

    #[test]
    fn error_messages_are_golden() {
        for (err, want) in error_cases() {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn no_message_warning_or_debug_output_contains_a_secret() {
        let mut outputs: Vec<String> = error_cases()
            .into_iter()
            .flat_map(|(err, _)| [err.to_string(), format!("{err:?}")])
            .collect();
        let (result, _, _dir) = run(None, &["kind-kind", "legacy", "eks", "aks"]);
        let out = result.expect("minimize");
        outputs.push(format!("{out:?}"));
        outputs.extend(out.warnings.iter().cloned());
        for output in &outputs {
            for secret in SECRETS {
                assert!(!output.contains(secret), "{output:?} leaks {secret}");
            }
        }
        assert!(
            out.secret_data()[CONFIG_KEY].contains("ya29.SECRETACCESSTOKEN"),
            "the Secret itself keeps the user's auth"
        );
    }

    #[test]
    fn loopback_servers_table() {
        let cases = [
            ("https://127.0.0.1:6443", Some("127.0.0.1"), true),
            ("https://127.1.2.3", Some("127.1.2.3"), true),
            ("https://localhost:6443/", Some("localhost"), true),
            ("https://LOCALHOST.", Some("LOCALHOST."), true),
            ("https://api.localhost", Some("api.localhost"), true),
            ("https://[::1]:6443", Some("::1"), true),
            ("https://0.0.0.0:6443", Some("0.0.0.0"), true),
            ("https://admin@127.0.0.1:6443", Some("127.0.0.1"), true),
            ("https://34.1.2.3", Some("34.1.2.3"), false),
            ("https://[2001:db8::1]:443", Some("2001:db8::1"), false),
            (
                "https://localhost-proxy.corp:443",
                Some("localhost-proxy.corp"),
                false,
            ),
            ("192.168.1.10:6443", Some("192.168.1.10"), false),
        ];
        for (server, host, loopback) in cases {
            assert_eq!(server_host(server), host, "{server}");
            assert_eq!(host.is_some_and(is_loopback), loopback, "{server}");
        }
    }

    #[test]
    fn exec_commands_lose_their_directory() {
        let cases = [
            (
                "/opt/gcloud/bin/gke-gcloud-auth-plugin",
                "gke-gcloud-auth-plugin",
            ),
            ("C:\\tools\\kubelogin.EXE", "kubelogin"),
            ("./bin/aws", "aws"),
            ("aws", "aws"),
            ("exe", "exe"),
            ("/x/é.exe", "é"),
        ];
        for (command, want) in cases {
            let mut user = Mapping::new();
            let mut exec = Mapping::new();
            exec.insert("command".into(), command.into());
            user.insert("exec".into(), Value::Mapping(exec));
            assert_eq!(
                strip_exec_path(&mut user).as_deref(),
                Some(want),
                "{command}"
            );
            assert_eq!(user["exec"]["command"].as_str(), Some(want), "{command}");
        }
    }
}
