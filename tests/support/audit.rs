//! The API server's own record of requests: the audit log the test control plane writes. Tests
//! count skyctl's requests here, not from anything skyctl reports about itself.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use serde_json::Value;

use super::cluster;

/// A position in the audit log; requests after it can be read back.
pub struct Mark {
    path: PathBuf,
    offset: u64,
}

/// One request, as the API server recorded it.
#[derive(Debug, Clone)]
pub struct Request {
    pub verb: String,
    pub user_agent: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub uri: String,
    /// The HTTP status the API server answered with.
    pub code: Option<u64>,
}

impl Request {
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        ) && !self.is_review()
    }

    /// A SelfSubjectAccessReview is sent as a create, yet persists nothing: the API server
    /// only answers whether the caller may do something.
    fn is_review(&self) -> bool {
        self.resource.ends_with("accessreviews")
    }

    /// A write that changed what the cluster stores: not a review, not a server-side dry run.
    pub fn persists(&self) -> bool {
        self.is_write() && !self.uri.contains("dryRun=All")
    }

    /// A write the API server carried out (2xx), rather than refused.
    pub fn succeeded(&self) -> bool {
        self.code.is_some_and(|code| (200..300).contains(&code))
    }
}

/// Marks the current end of the audit log.
pub fn mark() -> Mark {
    let path = cluster::kubeconfig().with_file_name("audit.log");
    let offset = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Mark { path, offset }
}

impl Mark {
    /// Requests skyctl sent since the mark, in `namespace` or to cluster-scoped objects. Tests
    /// that count them hold [`super::cluster::exclusive`], so no other skyctl runs meanwhile.
    pub fn skyctl_requests(&self, namespace: &str) -> Vec<Request> {
        self.skyctl_requests_in(&[namespace])
    }

    /// Requests skyctl sent since the mark, in any of `namespaces` or to cluster-scoped objects.
    pub fn skyctl_requests_in(&self, namespaces: &[&str]) -> Vec<Request> {
        self.skyctl_at("ResponseComplete", namespaces)
    }

    /// Watches skyctl has open or had since the mark, in `namespace`: a watch is logged when
    /// its answer starts, long before it completes.
    pub fn skyctl_watches(&self, namespace: &str) -> Vec<Request> {
        self.skyctl_at("ResponseStarted", &[namespace])
            .into_iter()
            .filter(|request| request.verb == "watch")
            .collect()
    }

    /// Returns once skyctl opened a watch in `namespace` that `watched` picks, as `what` says;
    /// fails after two minutes.
    pub async fn until_skyctl_watches(
        &self,
        namespace: &str,
        what: &str,
        watched: impl Fn(&Request) -> bool,
    ) {
        cluster::eventually(what, std::time::Duration::from_secs(120), || async {
            self.skyctl_watches(namespace)
                .iter()
                .any(&watched)
                .then_some(())
        })
        .await
    }

    fn skyctl_at(&self, stage: &str, namespaces: &[&str]) -> Vec<Request> {
        let mut file = std::fs::File::open(&self.path).expect("the audit log exists");
        file.seek(SeekFrom::Start(self.offset))
            .expect("seek in the audit log");
        let mut text = String::new();
        file.read_to_string(&mut text).expect("read the audit log");
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["stage"] == stage)
            .map(|event| {
                let object = &event["objectRef"];
                let text = |v: &Value| v.as_str().map(str::to_owned);
                Request {
                    verb: text(&event["verb"]).unwrap_or_default(),
                    user_agent: text(&event["userAgent"]).unwrap_or_default(),
                    namespace: text(&object["namespace"]),
                    resource: text(&object["resource"]).unwrap_or_default(),
                    name: text(&object["name"]),
                    uri: text(&event["requestURI"]).unwrap_or_default(),
                    code: event["responseStatus"]["code"].as_u64(),
                }
            })
            .filter(|request| request.user_agent.starts_with("skyctl/"))
            .filter(|request| {
                request
                    .namespace
                    .as_deref()
                    .is_none_or(|ns| namespaces.contains(&ns))
            })
            .collect()
    }
}
