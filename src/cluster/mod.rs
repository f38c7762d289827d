//! Everything that talks to the cluster: the object manager (server-side apply, prune,
//! delete), readiness and waiting, the release records and the lock. Decisions are made in
//! `decide`, `plan` and `ownership`; this module carries them out, and prints nothing.

pub mod admission_certificate;
pub mod api_errors;
pub mod helm_handover;
#[cfg(test)]
pub mod in_memory_api;
pub mod kept_secrets;
pub mod live_render;
pub mod lock;
pub mod object_manager;
pub mod readiness;
pub mod recovery;
pub mod release_secrets;
pub mod resources;
pub mod rollout;
pub mod shared_classes;
pub mod snapshot;
pub mod survey;
pub mod teardown;
pub mod wait;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

use crate::error::invalid_input;

/// The error as text without the source excerpts a YAML parser quotes around a mistake: in a
/// kubeconfig, the lines next to it are often a token or a client key.
fn without_excerpts(err: &dyn std::error::Error) -> anyhow::Error {
    let text = err.to_string();
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("--> ") || line.starts_with('|') || is_excerpt_line(line))
        })
        .collect();
    anyhow::anyhow!(kept.join(" "))
}

/// `12 | text`: a numbered line of an excerpt.
fn is_excerpt_line(line: &str) -> bool {
    line.split_once(" |")
        .is_some_and(|(number, _)| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
}

/// A client configured as kubectl would be: `--kubeconfig`, else `$KUBECONFIG` (several files
/// merged), else `~/.kube/config`, else the in-cluster service account; `--context` overrides
/// the current context. Exec credential plugins work as in kubectl. A `--kubeconfig` that
/// cannot be read and a `--context` the kubeconfig lacks are the user's to fix (exit 2).
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> anyhow::Result<kube::Client> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let mut config = match (kubeconfig, context) {
        (Some(path), _) => {
            let file =
                Kubeconfig::read_from(path).map_err(|err| invalid_input(unreadable(path, err)))?;
            check_context(&file, context, &path.display().to_string())?;
            kube::Config::from_custom_kubeconfig(file, &options).await?
        }
        (None, Some(_)) => {
            let source = Source::find();
            let file = Kubeconfig::read()
                .map_err(|err| without_excerpts(&err).context(format!("cannot read {source}")))?;
            check_context(&file, context, &source.to_string())?;
            kube::Config::from_custom_kubeconfig(file, &options).await?
        }
        (None, None) => kube::Config::infer().await.map_err(|err| {
            without_excerpts(&err).context(
                "no cluster configured: set KUBECONFIG, pass --kubeconfig, or run inside a cluster",
            )
        })?,
    };
    // The apiserver's audit log and metrics then tell skyctl's requests from other clients'.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(concat!("skyctl/", env!("CARGO_PKG_VERSION"))),
    ));
    client(config).context("cannot build a Kubernetes client")
}

/// kube's client stack (connect, read and write timeouts, retries of what the API server asks
/// to retry, auth, headers) over a connector of skyctl's own, for two reasons:
/// - TCP_NODELAY: hyper turns it off, and then the first request on each new connection waited
///   for the API server's delayed ACK, about 40 ms; a no-op upgrade took 150 ms instead of 45.
/// - HTTP/2, as kubectl speaks it: the concurrent reads and writes of a run share one TLS
///   connection instead of each opening its own, with a handshake each. An API server that
///   offers only HTTP/1.1 in ALPN is spoken to as before.
fn client(config: kube::Config) -> anyhow::Result<kube::Client> {
    use kube::client::ConfigExt;
    // A proxy is kube's to handle (or to refuse, naming the feature it lacks), as before.
    if config.proxy_url.is_some() {
        return Ok(kube::Client::try_from(config)?);
    }
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.enforce_http(false);
    connector.set_nodelay(true);
    let mut tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config.rustls_client_config()?)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone())
            .with_context(|| format!("tls-server-name {name:?} is not a valid server name"))?;
        tls = tls.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let https = tls.enable_http1().enable_http2().wrap_connector(connector);
    let mut timeouts = hyper_timeout::TimeoutConnector::new(https);
    timeouts.set_connect_timeout(config.connect_timeout);
    timeouts.set_read_timeout(config.read_timeout);
    timeouts.set_write_timeout(config.write_timeout);
    timeouts.set_reset_reader_on_write(config.reset_reader_on_write);
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(timeouts);
    let retry = config
        .default_retry
        .then(|| tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry()));
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(retry)
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace))
}

fn unreadable(path: &Path, err: KubeconfigError) -> anyhow::Error {
    match err {
        KubeconfigError::ReadConfig(io, _) => {
            anyhow::anyhow!("cannot read --kubeconfig {}: {io}", path.display())
        }
        other => without_excerpts(&other).context(format!(
            "--kubeconfig {} is not a valid kubeconfig",
            path.display()
        )),
    }
}

/// A `--context` the kubeconfig does not have is refused naming the ones it has.
fn check_context(file: &Kubeconfig, context: Option<&str>, source: &str) -> anyhow::Result<()> {
    let Some(wanted) = context else {
        return Ok(());
    };
    if file.contexts.iter().any(|c| c.name == wanted) {
        return Ok(());
    }
    let known: Vec<&str> = file.contexts.iter().map(|c| c.name.as_str()).collect();
    let has = if known.is_empty() {
        "it has none".to_owned()
    } else {
        format!("it has {}", known.join(", "))
    };
    Err(invalid_input(anyhow::anyhow!(
        "--context {wanted}: no such context in {source}; {has}"
    )))
}

/// Where the kubeconfig comes from when `--kubeconfig` does not say.
enum Source {
    Given(PathBuf),
    Environment(String),
    Home(PathBuf),
    InCluster,
}

impl Source {
    fn find() -> Self {
        if let Some(paths) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
            return Source::Environment(paths.to_string_lossy().into_owned());
        }
        match std::env::home_dir().map(|home| home.join(".kube/config")) {
            Some(path) if path.exists() => Source::Home(path),
            _ => Source::InCluster,
        }
    }

    fn read(&self) -> Option<Kubeconfig> {
        match self {
            Source::Given(path) | Source::Home(path) => Kubeconfig::read_from(path).ok(),
            Source::Environment(_) => Kubeconfig::from_env().ok().flatten(),
            Source::InCluster => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Given(path) | Source::Home(path) => write!(f, "kubeconfig {}", path.display()),
            Source::Environment(paths) => write!(f, "kubeconfig {paths} (from $KUBECONFIG)"),
            Source::InCluster => f.write_str("the in-cluster service account"),
        }
    }
}

/// The API server skyctl talks to, as messages name it: its URL, and the kubeconfig and
/// context it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub server: Option<String>,
    pub context: Option<String>,
    pub source: String,
}

/// Which API server `connect` with these arguments talks to, read from the kubeconfig again
/// without any request. Only for messages: anything it cannot read is left out.
pub fn target(kubeconfig: Option<&Path>, context: Option<&str>) -> Target {
    let source = match kubeconfig {
        Some(path) => Source::Given(path.to_owned()),
        None => Source::find(),
    };
    let file = source.read();
    let context = context
        .map(str::to_owned)
        .or_else(|| file.as_ref()?.current_context.clone());
    let server = file.as_ref().and_then(|file| {
        let cluster = &file
            .contexts
            .iter()
            .find(|c| Some(&c.name) == context.as_ref())?
            .context
            .as_ref()?
            .cluster;
        file.clusters
            .iter()
            .find(|c| &c.name == cluster)?
            .cluster
            .as_ref()?
            .server
            .clone()
    });
    Target {
        server,
        context: context.filter(|_| file.is_some()),
        source: source.to_string(),
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Kubernetes API server")?;
        if let Some(server) = &self.server {
            write!(f, " at {server}")?;
        }
        match &self.context {
            Some(context) => write!(f, " (context {context} of {})", self.source),
            None => write!(f, " (from {})", self.source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_keeps_its_place_but_not_the_lines_around_it() {
        let err = std::io::Error::other(
            "failed to parse kubeconfig YAML: error: line 8 column 4: did not find expected key\n \
             --> <input>:8:4\n  |\n6 |     token: SECRET\n7 |     client-key-data: KEY\n8 |    bad\n  \
             |    ^ did not find expected key",
        );
        let text = without_excerpts(&err).to_string();
        assert_eq!(
            text,
            "failed to parse kubeconfig YAML: error: line 8 column 4: did not find expected key"
        );
    }
}
