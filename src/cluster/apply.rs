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
