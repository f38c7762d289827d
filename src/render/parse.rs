//! Reading a template's output back as Kubernetes objects.

use serde::Deserialize;
use serde_json::Value;

use super::Error;
use crate::manifest::Manifest;

/// Reads every YAML document a template rendered; empty and comment-only documents are
/// dropped, as Helm drops them.
pub fn parse_rendered(template: &str, text: &str) -> Result<Vec<Manifest>, Error> {
    // A template's last line loses its newline to whitespace control; without it a `|`
    // block closing the output would lose its final line break.
    let text = format!("{text}\n");
    let mut manifests = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let object = Value::deserialize(document).map_err(|err| Error::RenderedYaml {
            template: template.to_owned(),
            line: err.location().map_or(0, |location| location.line()),
            message: err.to_string(),
        })?;
        if !object.is_null() {
            let manifest = Manifest::from_object(manifests.len(), object).map_err(|missing| {
                Error::IncompleteObject {
                    template: template.to_owned(),
                    field: missing.field,
                }
            })?;
            manifests.push(manifest);
        }
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_comment_only_documents_are_dropped() {
        let text = "# only a comment\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: n\n";
        let manifests = parse_rendered("x.yaml.j2", text).unwrap();
        assert_eq!(manifests.len(), 1);
        assert_eq!(manifests[0].id.namespace.as_deref(), Some("n"));
    }

    #[test]
    fn invalid_yaml_names_the_template_and_line() {
        let err = parse_rendered("x.yaml.j2", "a: b\nc: [\n").unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("templates/x.yaml.j2 rendered invalid YAML at line"),
            "{message}"
        );
    }

    #[test]
    fn an_object_without_a_name_is_an_error() {
        let err = parse_rendered("x.yaml.j2", "apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "templates/x.yaml.j2 rendered an object without metadata.name"
        );
    }
}
