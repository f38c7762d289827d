//! A release and what skyctl knows of it: its records, its history, and where the history is
//! kept. Pure types; `cluster::release_secrets` keeps the history on the cluster.

pub mod history;
pub mod listing;
pub mod record;
pub mod recorded_values;
pub mod storage;

pub use history::History;
pub use record::{ReleaseRecord, ReleaseStatus};
pub use storage::ReleaseStorage;

/// A release of the SkyPilot API server: its name and the namespace it lives in (Helm's
/// `.Release.Name` and `.Release.Namespace`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub namespace: String,
}

impl Release {
    pub fn new(name: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            namespace: namespace.into(),
        }
    }
}
