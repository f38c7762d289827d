//! Server-side apply of one object, skipping objects that are already as skyctl wants them.

use std::fmt;

use kube::api::{Api, DynamicObject, Patch, PatchParams};

use super::ownership;
use super::resources;
use crate::manifest::{Manifest, ObjectRef};
use crate::plan;

/// The field manager every skyctl write uses, so ownership is skyctl's across versions.
pub const FIELD_MANAGER: &str = "skyctl";

/// What applying an object would do, judged from the live object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Unchanged,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Create => "created",
            Change::Update => "configured",
            Change::Unchanged => "unchanged",
        })
    }
}

/// An object as skyctl wants it, next to what the cluster has.
#[derive(Debug, Clone)]
pub struct Observed {
    pub manifest: Manifest,
    pub live: Option<DynamicObject>,
    pub change: Change,
}

/// A field skyctl would set that another field manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    pub field: String,
    pub owner: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{object}: {}\nNothing was changed. Run again with --force-conflicts to take ownership of {}.",
        describe_conflicts(.conflicts),
        if .conflicts.len() == 1 { "this field" } else { "these fields" })]
    Conflict {
        object: ObjectRef,
        conflicts: Vec<FieldConflict>,
    },
    #[error(
        "{object} belongs to release {owner}; skyctl never takes over another release's objects.\n\
         Uninstall that release first, or share its ingress-nginx by installing this one with \
         --set ingress-nginx.enabled=false."
    )]
    OwnedByOtherRelease { object: ObjectRef, owner: String },
    #[error("{object}")]
    Api {
        object: ObjectRef,
        source: kube::Error,
    },
    #[error(transparent)]
    Resolve(#[from] anyhow::Error),
}

fn describe_conflicts(conflicts: &[FieldConflict]) -> String {
    conflicts
        .iter()
        .map(|c| format!("field {} is owned by field manager {:?}", c.field, c.owner))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads the live object and decides whether it needs applying. Unchanged means the hash of
/// what skyctl applied last matches and skyctl still owns every field it set.
pub async fn observe(client: &kube::Client, manifest: Manifest) -> Result<Observed, ApplyError> {
    let api = api(client, &manifest.id).await?;
    let live = api
        .get_opt(&manifest.id.name)
        .await
        .map_err(|source| ApplyError::Api {
            object: manifest.id.clone(),
            source,
        })?;
    if let Some(owner) = live
        .as_ref()
        .and_then(|live| other_owner(&live.metadata, &manifest.object))
    {
        return Err(ApplyError::OwnedByOtherRelease {
            object: manifest.id,
            owner,
        });
    }
    let change = match &live {
        None => Change::Create,
        Some(live) => {
            let same_hash = plan::applied_hash(&manifest.object).is_some_and(|desired| {
                live.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(plan::APPLIED_HASH))
                    .map(String::as_str)
                    == Some(desired)
            });
            let owned = ownership::owns_all(
                live.metadata.managed_fields.as_deref().unwrap_or_default(),
                FIELD_MANAGER,
                &manifest.object,
            );
            if same_hash && owned {
                Change::Unchanged
            } else {
                Change::Update
            }
        }
    };
    Ok(Observed {
        manifest,
        live,
        change,
    })
}

/// The release that owns a live object, when it is not the one `desired` is stamped for.
/// Objects without skyctl's annotations (made by hand, or by Helm before a migration) belong to
/// no release and may be adopted.
fn other_owner(
    live: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    desired: &serde_json::Value,
) -> Option<String> {
    let annotations = live.annotations.as_ref()?;
    let owner = (
        annotations.get(plan::RELEASE_NAME)?,
        annotations.get(plan::RELEASE_NAMESPACE)?,
    );
    let wanted = desired.pointer("/metadata/annotations")?;
    let ours = (
        wanted.get(plan::RELEASE_NAME)?.as_str()?,
        wanted.get(plan::RELEASE_NAMESPACE)?.as_str()?,
    );
    (owner.0 != ours.0 || owner.1 != ours.1)
        .then(|| format!("{} in namespace {}", owner.0, owner.1))
}

/// How to apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Take fields that other field managers own.
    pub force_conflicts: bool,
    /// Let the apiserver run the apply without persisting it.
    pub dry_run: bool,
}

/// Server-side applies one object and returns the object as the apiserver stored (or, in a
/// dry run, would store) it.
pub async fn apply(
    client: &kube::Client,
    manifest: &Manifest,
    options: ApplyOptions,
) -> Result<DynamicObject, ApplyError> {
    let api = api(client, &manifest.id).await?;
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.force = options.force_conflicts;
    params.dry_run = options.dry_run;
    api.patch(&manifest.id.name, &params, &Patch::Apply(&manifest.object))
        .await
        .map_err(|source| match &source {
            kube::Error::Api(status) if status.is_conflict() => {
                let conflicts: Vec<FieldConflict> = status
                    .details
                    .iter()
                    .flat_map(|details| &details.causes)
                    .filter(|cause| cause.reason == "FieldManagerConflict")
                    .map(|cause| FieldConflict {
                        field: cause.field.clone(),
                        owner: owner_of(&cause.message),
                    })
                    .collect();
                if conflicts.is_empty() {
                    ApplyError::Api {
                        object: manifest.id.clone(),
                        source,
                    }
                } else {
                    ApplyError::Conflict {
                        object: manifest.id.clone(),
                        conflicts,
                    }
                }
            }
            _ => ApplyError::Api {
                object: manifest.id.clone(),
                source,
            },
        })
}

/// The manager named in an apiserver conflict cause: `conflict with "kubectl" using apps/v1`.
fn owner_of(message: &str) -> String {
    message.split('"').nth(1).unwrap_or(message).to_owned()
}

/// The dynamic API for an object's kind, scoped to its namespace when it has one.
pub async fn api(client: &kube::Client, id: &ObjectRef) -> anyhow::Result<Api<DynamicObject>> {
    let resource = resources::resolve(client, id).await?;
    Ok(match (&id.namespace, resource.namespaced) {
        (Some(namespace), true) => Api::namespaced_with(client.clone(), namespace, &resource.api),
        _ => Api::all_with(client.clone(), &resource.api),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_releases_object_is_never_ours_but_an_unmarked_one_may_be_adopted() {
        let desired = serde_json::json!({"metadata": {"annotations": {
            plan::RELEASE_NAME: "b", plan::RELEASE_NAMESPACE: "team-b"}}});
        let live = |annotations: serde_json::Value| {
            serde_json::from_value::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>(
                serde_json::json!({"name": "nginx", "annotations": annotations}),
            )
            .unwrap()
        };
        let other =
            live(serde_json::json!({plan::RELEASE_NAME: "a", plan::RELEASE_NAMESPACE: "team-a"}));
        assert_eq!(
            other_owner(&other, &desired).as_deref(),
            Some("a in namespace team-a")
        );
        let ours =
            live(serde_json::json!({plan::RELEASE_NAME: "b", plan::RELEASE_NAMESPACE: "team-b"}));
        assert_eq!(other_owner(&ours, &desired), None);
        let helms = live(serde_json::json!({"meta.helm.sh/release-name": "skypilot"}));
        assert_eq!(other_owner(&helms, &desired), None);
    }

    #[test]
    fn the_owner_is_read_from_the_conflict_message() {
        assert_eq!(
            owner_of(r#"conflict with "kubectl-scale" using apps/v1"#),
            "kubectl-scale"
        );
        assert_eq!(owner_of("something else"), "something else");
    }

    #[test]
    fn a_conflict_names_object_field_owner_and_the_way_out() {
        let err = ApplyError::Conflict {
            object: ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: Some("sky".into()),
                name: "api".into(),
            },
            conflicts: vec![FieldConflict {
                field: ".spec.replicas".into(),
                owner: "kubectl".into(),
            }],
        };
        assert_eq!(
            err.to_string(),
            "Deployment sky/api: field .spec.replicas is owned by field manager \"kubectl\"\n\
             Nothing was changed. Run again with --force-conflicts to take ownership of this field."
        );
    }
}
