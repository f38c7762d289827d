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

/// What an uninstall of `release`, whose controller serves `classes`, does about the others
/// it serves (`served`): nothing when none, a warning when `remove` (`--remove-shared-controller`)
/// says to go ahead, else a refusal (the user's to decide: exit 2). `Ok` holds the warning.
pub fn on_uninstall(
    release: &Release,
    classes: &[String],
    served: &[Sharer],
    remove: bool,
) -> Result<Option<String>, String> {
    if served.is_empty() {
        return Ok(None);
    }
    let named: Vec<String> = served.iter().map(ToString::to_string).collect();
    if remove {
        return Ok(Some(format!(
            "{} route through this release's ingress-nginx controller and lose their endpoint \
             with it",
            named.join(", ")
        )));
    }
    Err(format!(
        "release {}'s ingress-nginx controller (IngressClass {}) also serves {}: uninstalling it \
         cuts them off. Nothing was changed. Uninstall them first, or pass \
         --remove-shared-controller",
        release.name,
        classes.join(", "),
        named.join(", ")
    ))
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

    #[test]
    fn an_uninstall_that_cuts_others_off_is_refused_unless_told() {
        let a = release("a", "team-a");
        let classes = ["nginx".to_owned()];
        let b = Sharer::Release(release("b", "team-b"));
        assert_eq!(on_uninstall(&a, &classes, &[], false), Ok(None));
        assert_eq!(on_uninstall(&a, &classes, &[], true), Ok(None));
        let refused = on_uninstall(&a, &classes, std::slice::from_ref(&b), false).unwrap_err();
        assert!(refused.contains("IngressClass nginx"), "{refused}");
        assert!(
            refused.contains("release b in namespace team-b"),
            "{refused}"
        );
        assert!(refused.contains("--remove-shared-controller"), "{refused}");
        let warned = on_uninstall(&a, &classes, &[b], true).unwrap().unwrap();
        assert!(
            warned.starts_with("release b in namespace team-b route"),
            "{warned}"
        );
    }
}
