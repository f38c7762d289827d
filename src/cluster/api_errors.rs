//! How a failed request reads. kube's errors are made for programs: an API error prints the
//! Status message, then the whole Status as Rust `Debug`, then the message again through its
//! source; a failed connection repeats "client error (Connect)" and never names the server.
//! [`readable`] rewrites any error whose causes include one: the API server's message once,
//! after what skyctl was doing (the object), or for a connection the server's URL and the
//! kubeconfig and context it came from.

use std::error::Error as StdError;

use super::Target;
use super::object_manager::api_message;
use crate::error::{self, invalid_input};

/// `err` with any kube error among its causes told once and plainly; other errors unchanged.
/// `target` is asked only when a connection failed. The exit code stays the same.
pub fn readable(err: anyhow::Error, target: impl FnOnce() -> Target) -> anyhow::Error {
    let Some(rewritten) = sentence(&err, target) else {
        return err;
    };
    let rewritten = anyhow::anyhow!(rewritten);
    if error::exit_code(&err) == error::EXIT_INVALID_INPUT {
        invalid_input(rewritten)
    } else {
        rewritten
    }
}

/// `err` in one line as [`readable`] tells it, for a revision's recorded description; the
/// server is not named, as the record is read against the same cluster.
pub fn description(err: &anyhow::Error) -> String {
    sentence(err, || "the Kubernetes API server").unwrap_or_else(|| format!("{err:#}"))
}

/// The causes of `err` joined once each, with the kube error among them told plainly; `None`
/// when no cause is a kube error.
fn sentence<T: std::fmt::Display>(
    err: &anyhow::Error,
    target: impl FnOnce() -> T,
) -> Option<String> {
    let layers: Vec<&(dyn StdError + 'static)> = err.chain().collect();
    let at = layers.iter().position(|l| l.is::<kube::Error>())?;
    let kube_error = layers[at]
        .downcast_ref::<kube::Error>()
        .expect("the layer is a kube error");
    let what = describe(kube_error, target);
    let mut parts: Vec<String> = Vec::new();
    for layer in &layers[..at] {
        push_once(&mut parts, layer.to_string());
    }
    // A layer above that already quotes the API server (an object's apply error does) says it
    // once, in its own words.
    if !parts.last().is_some_and(|above| above.contains(&what)) {
        parts.push(what);
    }
    Some(parts.join(": "))
}

/// A kube error in a sentence.
fn describe<T: std::fmt::Display>(err: &kube::Error, target: impl FnOnce() -> T) -> String {
    match err {
        kube::Error::Api(status) if status.message.is_empty() => {
            format!(
                "the API server answered {} ({})",
                status.reason, status.code
            )
        }
        kube::Error::Api(_) => api_message(err),
        kube::Error::Service(_) | kube::Error::HyperError(_) => {
            format!("cannot reach {}: {}", target(), causes(err))
        }
        kube::Error::Auth(_) => format!("cannot authenticate to {}: {}", target(), causes(err)),
        other => {
            let mut parts = vec![other.to_string()];
            for cause in sources(other) {
                push_once(&mut parts, cause);
            }
            parts.join(": ")
        }
    }
}

/// The causes below a kube error, each said once, without hyper's "client error (Connect)".
fn causes(err: &kube::Error) -> String {
    let mut parts = Vec::new();
    for cause in sources(err) {
        if !cause.starts_with("client error (") {
            push_once(&mut parts, cause);
        }
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

fn sources(err: &kube::Error) -> Vec<String> {
    let mut found = Vec::new();
    let mut next = err.source();
    while let Some(cause) = next {
        found.push(cause.to_string());
        next = cause.source();
    }
    found
}

/// Adds `text` unless an earlier part already says it (errors often repeat their source).
fn push_once(parts: &mut Vec<String>, text: String) {
    if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
        parts.push(text);
    }
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn target() -> Target {
        Target {
            server: Some("https://127.0.0.1:1".into()),
            context: Some("nowhere".into()),
            source: "kubeconfig /tmp/config".into(),
        }
    }

    fn forbidden() -> kube::Error {
        let message = r#"secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "team""#;
        let status: Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "message": message, "reason": "Forbidden", "code": 403
        }))
        .unwrap();
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn an_api_error_says_the_servers_message_once_after_what_skyctl_did() {
        let err = anyhow::Error::new(forbidden()).context("cannot read the records of release sky");
        let text = format!(
            "{:#}",
            readable(err, || unreachable!("no connection failed"))
        );
        assert_eq!(
            text,
            r#"cannot read the records of release sky: secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "team""#
        );
    }

    #[test]
    fn a_failed_revisions_description_is_the_servers_message_once() {
        let err = anyhow::Error::new(forbidden()).context("Deployment team/sky-api-server");
        assert!(format!("{err:#}").contains("Status {"), "kube's Debug dump");
        assert_eq!(
            description(&err),
            r#"Deployment team/sky-api-server: secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "team""#
        );
        let plain = anyhow::anyhow!("timed out waiting for Deployment team/sky-api-server");
        assert_eq!(description(&plain), plain.to_string());
    }

    #[test]
    fn a_layer_that_quotes_the_server_already_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("Deployment team/api: {}", api_message(.source))]
        struct Apply {
            source: kube::Error,
        }
        let err = anyhow::Error::new(Apply {
            source: forbidden(),
        });
        let text = format!("{:#}", readable(err, || unreachable!()));
        assert_eq!(text.matches("secrets is forbidden").count(), 1, "{text}");
        assert!(
            text.starts_with("Deployment team/api: secrets is forbidden"),
            "{text}"
        );
        assert!(!text.contains("Status {"), "{text}");
    }

    #[test]
    fn errors_without_a_kube_error_are_left_alone_and_exit_codes_kept() {
        let err = anyhow::anyhow!("plain");
        assert_eq!(format!("{:#}", readable(err, target)), "plain");
        let err = invalid_input(anyhow::Error::new(forbidden()));
        assert_eq!(
            error::exit_code(&readable(err, target)),
            error::EXIT_INVALID_INPUT
        );
    }

    #[test]
    fn targets_name_the_server_the_context_and_the_kubeconfig() {
        assert_eq!(
            target().to_string(),
            "the Kubernetes API server at https://127.0.0.1:1 (context nowhere of kubeconfig /tmp/config)"
        );
        let in_cluster = Target {
            server: None,
            context: None,
            source: "the in-cluster service account".into(),
        };
        assert_eq!(
            in_cluster.to_string(),
            "the Kubernetes API server (from the in-cluster service account)"
        );
    }
}
