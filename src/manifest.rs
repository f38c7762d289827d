//! A rendered Kubernetes object and its identity: what `render` produces and `plan` and
//! `cluster` consume.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which object: enough to find it on the cluster again, also after skyctl's templates changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// A ConfigMap in namespace `ns`: the plainest object, for tests that need one.
    #[cfg(test)]
    pub fn config_map(name: &str) -> Self {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
            name: name.into(),
        }
    }

    /// The API group: empty for the core group, as Kubernetes writes it.
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }
}

impl fmt::Display for ObjectRef {
    /// `Deployment skypilot/skypilot-api-server`, `ClusterRole skypilot-api-role`: kubectl's way.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {}/{}", self.kind, namespace, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One object as skyctl wants it on the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub id: ObjectRef,
    pub object: Value,
}

/// A rendered document that is not a Kubernetes object skyctl can manage.
#[derive(Debug, thiserror::Error)]
#[error("rendered object {index} has no {field}")]
pub struct MissingField {
    pub index: usize,
    pub field: &'static str,
}

impl Manifest {
    /// Reads the identity out of an object. `index` names the object in errors.
    pub fn from_object(index: usize, object: Value) -> Result<Self, MissingField> {
        let text = |pointer: &str, field| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(MissingField { index, field })
        };
        let id = ObjectRef {
            api_version: text("/apiVersion", "apiVersion")?,
            kind: text("/kind", "kind")?,
            namespace: text("/metadata/namespace", "namespace").ok(),
            name: text("/metadata/name", "metadata.name")?,
        };
        Ok(Self { id, object })
    }
}

/// Multi-document YAML, one object per document, laid out as Helm lays out its output: what
/// `skyctl template` prints.
pub fn to_yaml_stream(manifests: &[Manifest]) -> String {
    manifests
        .iter()
        .map(|m| format!("---\n{}\n", crate::yaml::object_to_yaml(&m.object)))
        .collect()
}

/// A document of a YAML stream that is not an object.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("document {index}")]
    Yaml {
        index: usize,
        source: serde_yaml_ng::Error,
    },
    #[error(transparent)]
    Object(#[from] MissingField),
}

/// Reads a multi-document YAML stream; empty and comment-only documents are skipped.
pub fn from_yaml_stream(text: &str) -> Result<Vec<Manifest>, StreamError> {
    let mut manifests = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let object =
            Value::deserialize(document).map_err(|source| StreamError::Yaml { index, source })?;
        if !object.is_null() {
            manifests.push(Manifest::from_object(index, object)?);
        }
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_comes_from_the_object() {
        let manifest = Manifest::from_object(
            0,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "api", "namespace": "sky"}}),
        )
        .unwrap();
        assert_eq!(manifest.id.to_string(), "Deployment sky/api");
        assert_eq!(manifest.id.group(), "apps");
    }

    #[test]
    fn core_group_is_empty_and_cluster_scoped_objects_have_no_namespace() {
        let manifest = Manifest::from_object(
            3,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sky"}}),
        )
        .unwrap();
        assert_eq!(manifest.id.group(), "");
        assert_eq!(manifest.id.to_string(), "Namespace sky");
    }

    #[test]
    fn yaml_streams_round_trip_and_skip_empty_documents() {
        let text = "---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n---\n";
        let manifests = from_yaml_stream(text).unwrap();
        assert_eq!(manifests.len(), 1);
        assert_eq!(manifests[0].object["data"]["k"], "v");
        assert_eq!(
            from_yaml_stream(&to_yaml_stream(&manifests)).unwrap(),
            manifests
        );
    }

    #[test]
    fn an_object_without_a_name_is_refused() {
        let err =
            Manifest::from_object(2, json!({"apiVersion": "v1", "kind": "Secret"})).unwrap_err();
        assert_eq!(err.to_string(), "rendered object 2 has no metadata.name");
    }
}
