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
            let file = Kubeconfig::read_from(path).map_err(|err| {
                without_excerpts(&err).context(format!("cannot read kubeconfig {}", path.display()))
            })?;
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|err| without_excerpts(&err))?
        }
        None if context.is_some() => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|err| without_excerpts(&err))?,
        None => kube::Config::infer().await.map_err(|err| {
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
    kube::Client::try_from(config).context("cannot build a Kubernetes client")
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
