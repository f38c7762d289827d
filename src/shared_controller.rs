//! Releases that route through another release's ingress-nginx controller (installed with
//! `ingress-nginx.enabled=false` and that release's IngressClass, as `doctor` advises for
//! sharing): which release serves one, and which releases one serves. Pure.

use k8s_openapi::api::networking::v1::{Ingress, IngressClass};

use crate::ownership::{self, Owner};
use crate::release::Release;

/// The legacy annotation older Ingresses name their class with.
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// The IngressClass an Ingress asks for.
pub fn class_of(ingress: &Ingress) -> Option<&str> {
    ingress
        .spec
        .as_ref()
        .and_then(|spec| spec.ingress_class_name.as_deref())
        .or_else(|| {
            ingress
                .metadata
                .annotations
                .as_ref()?
                .get(CLASS_ANNOTATION)
                .map(String::as_str)
        })
}

/// The release (skyctl's or Helm's) whose controller serves `class`, when it is not `release`
/// itself: its controller Service is named as that release's ingress-nginx names it.
pub fn serving(class: &IngressClass, release: &Release) -> Option<Release> {
    match ownership::owner(&class.metadata, release) {
        Owner::Other { name, namespace } | Owner::Helm { name, namespace } => {
            Some(Release { name, namespace })
        }
        Owner::This | Owner::Unmarked => None,
    }
}

/// What else a controller serves: another release (skyctl's or Helm's), or an Ingress of
/// no release (a person's, or another tool's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sharer {
    Release(Release),
    Ingress { namespace: String, name: String },
}

impl std::fmt::Display for Sharer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sharer::Release(release) => write!(
                f,
                "release {} in namespace {}",
                release.name, release.namespace
            ),
            Sharer::Ingress { namespace, name } => {
                write!(f, "Ingress {namespace}/{name} (no release's)")
            }
        }
    }
}

/// Whatever else asks for one of `classes` (those `release` made), each once, in a stable
/// order: uninstalling `release` cuts them off.
pub fn served(classes: &[String], ingresses: &[Ingress], release: &Release) -> Vec<Sharer> {
    let mut served: Vec<Sharer> = ingresses
        .iter()
        .filter(|ingress| class_of(ingress).is_some_and(|c| classes.iter().any(|k| k == c)))
        .filter_map(
            |ingress| match ownership::owner(&ingress.metadata, release) {
                Owner::Other { name, namespace } | Owner::Helm { name, namespace } => {
                    Some(Sharer::Release(Release { name, namespace }))
                }
                Owner::Unmarked => Some(Sharer::Ingress {
                    namespace: ingress.metadata.namespace.clone().unwrap_or_default(),
                    name: ingress.metadata.name.clone().unwrap_or_default(),
                }),
                Owner::This => None,
            },
        )
        .collect();
    served.sort_by_key(ToString::to_string);
    served.dedup();
    served
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{RELEASE_NAME, RELEASE_NAMESPACE};

    fn owned_by(name: &str, namespace: &str) -> serde_json::Value {
        json!({RELEASE_NAME: name, RELEASE_NAMESPACE: namespace})
    }

    fn ingress(annotations: serde_json::Value, spec: serde_json::Value) -> Ingress {
        serde_json::from_value(
            json!({"metadata": {"name": "i", "annotations": annotations},
                                      "spec": spec}),
        )
        .unwrap()
    }

    fn release(name: &str, namespace: &str) -> Release {
        Release::new(name, namespace)
    }

    #[test]
    fn the_class_owner_serves_another_release_and_knows_whom_it_serves() {
        let class: IngressClass = serde_json::from_value(
            json!({"metadata": {"name": "nginx", "annotations": owned_by("a", "team-a")}}),
        )
        .unwrap();
        let b = release("b", "team-b");
        assert_eq!(serving(&class, &b), Some(release("a", "team-a")));
        assert_eq!(serving(&class, &release("a", "team-a")), None);

        let a = release("a", "team-a");
        let ingresses = [
            ingress(
                owned_by("b", "team-b"),
                json!({"ingressClassName": "nginx"}),
            ),
            ingress(
                owned_by("a", "team-a"),
                json!({"ingressClassName": "nginx"}),
            ),
            ingress(
                owned_by("c", "team-c"),
                json!({"ingressClassName": "other"}),
            ),
            ingress(
                json!({"kubernetes.io/ingress.class": "nginx",
                       "meta.helm.sh/release-name": "d",
                       "meta.helm.sh/release-namespace": "team-d"}),
                json!({}),
            ),
            ingress(json!({}), json!({"ingressClassName": "nginx"})),
        ];
        assert_eq!(
            served(&["nginx".into()], &ingresses, &a),
            [
                Sharer::Ingress {
                    namespace: String::new(),
                    name: "i".into()
                },
                Sharer::Release(b),
                Sharer::Release(release("d", "team-d")),
            ]
        );
    }
}
