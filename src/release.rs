//! Which release: Helm's `.Release.Name` and `.Release.Namespace`.

/// A release of the SkyPilot API server: its name and the namespace it lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub namespace: String,
}
