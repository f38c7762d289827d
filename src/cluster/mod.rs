//! Everything that talks to the cluster: the object manager (server-side apply, prune,
//! delete), readiness and waiting, the release records and the lock. Decisions are made in
//! `decide`, `plan` and `ownership`; this module carries them out, and prints nothing.

pub mod admission_certificate;
pub mod lock;
pub mod object_manager;
pub mod readiness;
pub mod release_secrets;
pub mod resources;
pub mod rollout;
pub mod teardown;
pub mod wait;

use std::path::Path;

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// A client configured as kubectl would be: `--kubeconfig`, else `$KUBECONFIG` (several files
/// merged), else `~/.kube/config`, else the in-cluster service account; `--context` overrides
/// the current context. Exec credential plugins work as in kubectl.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> anyhow::Result<kube::Client> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let mut config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &options).await?
        }
        None if context.is_some() => kube::Config::from_kubeconfig(&options).await?,
        None => kube::Config::infer().await.context(
            "no cluster configured: set KUBECONFIG, pass --kubeconfig, or run inside a cluster",
        )?,
    };
    // The apiserver's audit log and metrics then tell skyctl's requests from other clients'.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(concat!("skyctl/", env!("CARGO_PKG_VERSION"))),
    ));
    kube::Client::try_from(config).context("cannot build a Kubernetes client")
}
