//! Whether `uninstall --delete-namespace` may delete the namespace. Deleting a namespace deletes
//! everything in it, so it goes only when everything in it is the release's own and goes with
//! the release, is Kubernetes' own furniture of every namespace, or was named by the user to go
//! (`--also-delete KIND/NAME`). Anything else blocks it, named with whose it is: another skyctl
//! release, a Helm release, credentials stored with `creds add`, a person's, and the release's
//! own data volume unless `--delete-data`.

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::decide::Teardown;
use crate::manifest::ObjectRef;
use crate::ownership::{self, Owner};
use crate::release::Release;

/// One object found in the namespace.
#[derive(Debug, Clone)]
pub struct Resident {
    pub id: ObjectRef,
    pub meta: ObjectMeta,
}

/// An object named on the command line: `KIND/NAME`, the kind as `kubectl get` prints it
/// (`Secret/aws-credentials`, `ConfigMap/notes`), compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Named {
    pub kind: String,
    pub name: String,
}

impl std::str::FromStr for Named {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('/') {
            Some((kind, name)) if !kind.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(Self {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(format!(
                "{text:?} is not KIND/NAME (for example Secret/aws-credentials)"
            )),
        }
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

impl Named {
    fn names(&self, id: &ObjectRef) -> bool {
        self.kind.eq_ignore_ascii_case(&id.kind) && self.name == id.name
    }

    fn of(id: &ObjectRef) -> Self {
        Self {
            kind: id.kind.clone(),
            name: id.name.clone(),
        }
    }
}

/// Why an object keeps the namespace from being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// The release's data volume, kept without `--delete-data`.
    Data,
    /// Another skyctl release's (its objects, records or lock): that release must go first.
    Release { name: String, namespace: String },
    /// A Helm release's (its objects or records): Helm must uninstall it first.
    Helm { name: String, namespace: String },
    /// Credentials stored with `creds add`: the namespace's, not the release's.
    Credentials,
    /// Made by hand or by another tool.
    Unmarked,
    /// Helm's history of the release, kept by `adopt --keep-helm-history`.
    HelmHistory,
}

impl Blocker {
    /// Whether `--also-delete` may let it go. Another release's objects, and any data, go only
    /// by their own release's uninstall.
    pub fn may_be_named(&self) -> bool {
        matches!(self, Blocker::Credentials | Blocker::Unmarked)
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::Data => f.write_str("the release's data, kept without --delete-data"),
            Blocker::Release { name, namespace } => {
                write!(f, "of release {name} in namespace {namespace}")
            }
            Blocker::Helm { name, namespace } => {
                write!(f, "of Helm release {name} in namespace {namespace}")
            }
            Blocker::Credentials => f.write_str("credentials stored with `skyctl creds add`"),
            Blocker::Unmarked => f.write_str("made by hand or by another tool"),
            Blocker::HelmHistory => f.write_str(
                "Helm's history of the release, kept by adopt --keep-helm-history \
                 (--delete-helm-history deletes it)",
            ),
        }
    }
}

/// What deleting the namespace would take that is not the release's to take. Objects that
/// another resident owns (a ReplicaSet's Pods, a Service's EndpointSlices) are not listed: they
/// go or stay with their owner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    /// Objects that block, each with why, in the order found.
    pub blocking: Vec<(ObjectRef, Blocker)>,
    /// Objects that block but were named to go, and so go.
    pub named: Vec<(ObjectRef, Blocker)>,
}

impl Assessment {
    pub fn allows(&self) -> bool {
        self.blocking.is_empty()
    }

    /// The flags that would let every object that may be named go, for the message.
    pub fn also_delete_flags(&self) -> String {
        self.blocking
            .iter()
            .filter(|(_, why)| why.may_be_named())
            .map(|(id, _)| format!("--also-delete {}", Named::of(id)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Marks every skyctl namespace-level object carries, read here without the guide's types.
const RECORD_LABEL: &str = "skyctl.io/release";
const OAUTH_CLIENT_LABEL: &str = "skyctl.io/oauth-client";
const CREDENTIALS_LABEL: &str = "skyctl.io/credentials";
const LOCK_PREFIX: &str = "skyctl-lock-";
const ADOPTED_LABEL: &str = "skyctl.io/adopted-from-helm";

/// Assesses the namespace's residents for an uninstall that decided `teardown`.
pub fn assess(
    release: &Release,
    teardown: &Teardown,
    residents: &[Resident],
    also_delete: &[Named],
    delete_helm_history: bool,
) -> Assessment {
    let key = |id: &ObjectRef| (id.group().to_owned(), id.kind.clone(), id.name.clone());
    let deleted: BTreeSet<_> = teardown.delete.iter().map(key).collect();
    let retained: BTreeSet<_> = teardown.retain.iter().map(key).collect();
    let uids: BTreeSet<&str> = residents
        .iter()
        .filter_map(|r| r.meta.uid.as_deref())
        .collect();
    let services: BTreeSet<&str> = residents
        .iter()
        .filter(|r| r.id.kind == "Service" && r.id.group().is_empty())
        .map(|r| r.id.name.as_str())
        .collect();
    let mut assessment = Assessment::default();
    for resident in residents {
        let id = &resident.id;
        // Owned by another resident (the endpoints controller's Endpoints by name only): it
        // goes or stays with its owner, which is assessed itself.
        let owned = resident
            .meta
            .owner_references
            .as_ref()
            .is_some_and(|owners| owners.iter().any(|o| uids.contains(o.uid.as_str())))
            || (id.kind == "Endpoints" && services.contains(id.name.as_str()));
        if owned || is_furniture(id) {
            continue;
        }
        let Some(blocker) = blocker(release, resident, &deleted, &retained, &key) else {
            continue;
        };
        if blocker == Blocker::HelmHistory && delete_helm_history {
            continue;
        }
        let named = also_delete.iter().any(|named| named.names(id));
        let entry = (id.clone(), blocker);
        if named && entry.1.may_be_named() {
            assessment.named.push(entry);
        } else {
            assessment.blocking.push(entry);
        }
    }
    assessment
}

type Key = (String, String, String);

/// Why one resident that nothing else in the namespace owns keeps the namespace, if it does.
fn blocker(
    release: &Release,
    resident: &Resident,
    deleted: &BTreeSet<Key>,
    retained: &BTreeSet<Key>,
    key: &dyn Fn(&ObjectRef) -> Key,
) -> Option<Blocker> {
    let id = &resident.id;
    let label = |name: &str| {
        resident
            .meta
            .labels
            .as_ref()
            .and_then(|labels| labels.get(name))
    };
    let of_release = |name: &String| Owner::Other {
        name: name.clone(),
        namespace: release.namespace.clone(),
    };
    // Records, the OAuth client and locks carry their release in a label or their name, not in
    // annotations.
    let carried_by = match id.kind.as_str() {
        "Secret" | "ConfigMap" => match (label(RECORD_LABEL), label(OAUTH_CLIENT_LABEL)) {
            (Some(name), _) | (_, Some(name)) => Some(of_release(name)),
            _ if label("owner").is_some_and(|owner| owner == "helm") => {
                label("name").map(|name| Owner::Helm {
                    name: name.clone(),
                    namespace: release.namespace.clone(),
                })
            }
            _ => None,
        },
        "Lease" => id
            .name
            .strip_prefix(LOCK_PREFIX)
            .map(|name| of_release(&name.to_owned())),
        _ => None,
    };
    let carried = carried_by.is_some();
    let owner = match carried_by {
        // The release's own records, OAuth client and lock go with it.
        Some(Owner::Other { name, .. }) if name == release.name => Owner::This,
        Some(owner) => owner,
        None => ownership::owner(&resident.meta, release),
    };
    if label(ADOPTED_LABEL).is_some_and(|name| *name == release.name) {
        return Some(Blocker::HelmHistory);
    }
    match owner {
        _ if retained.contains(&key(id)) => Some(Blocker::Data),
        Owner::This if carried || deleted.contains(&key(id)) => None,
        Owner::Other { name, namespace } => Some(Blocker::Release { name, namespace }),
        Owner::Helm { name, namespace } => Some(Blocker::Helm { name, namespace }),
        _ if id.kind == "Secret" && label(CREDENTIALS_LABEL).is_some() => {
            Some(Blocker::Credentials)
        }
        // Marked as the release's, yet not among what its uninstall deletes (another's now,
        // or never listed): not the uninstall's to take.
        Owner::This | Owner::Unmarked => Some(Blocker::Unmarked),
    }
}

/// Objects in the namespace now that were not there when it was assessed (`before`), and that
/// nothing there then owns: what appeared during the uninstall, which keeps the namespace. The
/// uninstall's own lock, taken since, is none.
pub fn newcomers(release: &Release, before: &[Resident], now: &[Resident]) -> Vec<ObjectRef> {
    let known: BTreeSet<&str> = before
        .iter()
        .filter_map(|r| r.meta.uid.as_deref())
        .collect();
    let lock = format!("{LOCK_PREFIX}{}", release.name);
    now.iter()
        .filter(|r| !is_furniture(&r.id))
        .filter(|r| !(r.id.kind == "Lease" && r.id.name == lock))
        .filter(|r| !r.meta.uid.as_deref().is_some_and(|uid| known.contains(uid)))
        .filter(|r| {
            !r.meta.owner_references.as_ref().is_some_and(|owners| {
                !owners.is_empty() && owners.iter().all(|o| known.contains(o.uid.as_str()))
            })
        })
        .map(|r| r.id.clone())
        .collect()
}

/// What Kubernetes puts in every namespace, or records about it: gone with any namespace,
/// nobody's loss.
fn is_furniture(id: &ObjectRef) -> bool {
    matches!(
        (id.group(), id.kind.as_str(), id.name.as_str()),
        ("" | "events.k8s.io", "Event", _)
            | ("", "ServiceAccount", "default")
            | ("", "ConfigMap", "kube-root-ca.crt")
    )
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    use super::*;

    fn id(api_version: &str, kind: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: Some("team".into()),
            name: name.into(),
        }
    }

    fn release() -> Release {
        Release {
            name: "sky".into(),
            namespace: "team".into(),
        }
    }

    /// A resident with a uid (its name), annotations naming a release, labels and owners.
    fn resident(
        id: ObjectRef,
        release: Option<(&str, &str)>,
        labels: &[(&str, &str)],
        owners: &[&str],
    ) -> Resident {
        let mut meta = ObjectMeta {
            uid: Some(format!("uid-{}", id.name)),
            ..Default::default()
        };
        if let Some((name, namespace)) = release {
            meta.annotations = Some(
                [
                    (crate::plan::RELEASE_NAME.to_owned(), name.to_owned()),
                    (
                        crate::plan::RELEASE_NAMESPACE.to_owned(),
                        namespace.to_owned(),
                    ),
                ]
                .into(),
            );
        }
        if !labels.is_empty() {
            meta.labels = Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            );
        }
        if !owners.is_empty() {
            meta.owner_references = Some(
                owners
                    .iter()
                    .map(|owner| OwnerReference {
                        uid: format!("uid-{owner}"),
                        ..Default::default()
                    })
                    .collect(),
            );
        }
        Resident { id, meta }
    }

    fn teardown() -> Teardown {
        Teardown {
            delete: vec![
                id("apps/v1", "Deployment", "sky-api-server"),
                id("v1", "Service", "sky-api-service"),
                id("v1", "Secret", "sky-basic-auth"),
            ],
            keep: vec![],
            retain: vec![id("v1", "PersistentVolumeClaim", "sky-state")],
        }
    }

    fn mine(id: ObjectRef) -> Resident {
        resident(id, Some(("sky", "team")), &[], &[])
    }

    #[test]
    fn only_what_goes_with_the_release_lets_the_namespace_go() {
        let deployment = mine(id("apps/v1", "Deployment", "sky-api-server"));
        let service = mine(id("v1", "Service", "sky-api-service"));
        let whole_release = vec![
            deployment,
            service,
            mine(id("v1", "Secret", "sky-basic-auth")),
            resident(
                id("apps/v1", "ReplicaSet", "rs"),
                None,
                &[],
                &["sky-api-server"],
            ),
            resident(id("v1", "Pod", "rs-x1"), None, &[], &["rs"]),
            resident(
                id("discovery.k8s.io/v1", "EndpointSlice", "slice"),
                None,
                &[],
                &["sky-api-service"],
            ),
            resident(id("v1", "Endpoints", "sky-api-service"), None, &[], &[]),
            resident(
                id("v1", "Secret", "sky.v1"),
                None,
                &[(RECORD_LABEL, "sky")],
                &[],
            ),
            resident(
                id("v1", "Secret", "sky-oauth-client"),
                None,
                &[(OAUTH_CLIENT_LABEL, "sky")],
                &[],
            ),
            resident(
                id("coordination.k8s.io/v1", "Lease", "skyctl-lock-sky"),
                None,
                &[],
                &[],
            ),
            resident(id("v1", "ServiceAccount", "default"), None, &[], &[]),
            resident(id("v1", "ConfigMap", "kube-root-ca.crt"), None, &[], &[]),
            resident(id("v1", "Event", "sky.1"), None, &[], &[]),
            resident(id("events.k8s.io/v1", "Event", "sky.2"), None, &[], &[]),
        ];
        let mut with_data = teardown();
        with_data
            .delete
            .push(id("v1", "PersistentVolumeClaim", "sky-state"));
        with_data.retain.clear();
        let mut residents = whole_release.clone();
        residents.push(mine(id("v1", "PersistentVolumeClaim", "sky-state")));
        let assessment = assess(&release(), &with_data, &residents, &[], false);
        assert!(assessment.allows(), "{assessment:?}");
    }

    #[test]
    fn everything_else_blocks_named_with_whose_it_is() {
        let b = || Blocker::Release {
            name: "b".into(),
            namespace: "team".into(),
        };
        let h = || Blocker::Helm {
            name: "h".into(),
            namespace: "team".into(),
        };
        let helm_object = {
            let mut r = resident(id("v1", "ConfigMap", "helm-note"), None, &[], &[]);
            r.meta.annotations = Some(
                [
                    ("meta.helm.sh/release-name".to_owned(), "h".to_owned()),
                    (
                        "meta.helm.sh/release-namespace".to_owned(),
                        "team".to_owned(),
                    ),
                ]
                .into(),
            );
            r
        };
        // Table: a resident, what blocks.
        let cases = [
            (
                mine(id("v1", "PersistentVolumeClaim", "sky-state")),
                Some(Blocker::Data),
            ),
            (
                resident(
                    id("v1", "Secret", "b-basic-auth"),
                    Some(("b", "team")),
                    &[],
                    &[],
                ),
                Some(b()),
            ),
            (
                resident(
                    id("v1", "PersistentVolumeClaim", "b-state"),
                    Some(("b", "team")),
                    &[],
                    &[],
                ),
                Some(b()),
            ),
            // Another release's records and lock are that release's.
            (
                resident(
                    id("v1", "Secret", "b.v1"),
                    None,
                    &[(RECORD_LABEL, "b")],
                    &[],
                ),
                Some(b()),
            ),
            (
                resident(
                    id("coordination.k8s.io/v1", "Lease", "skyctl-lock-b"),
                    None,
                    &[],
                    &[],
                ),
                Some(b()),
            ),
            (helm_object, Some(h())),
            (
                resident(
                    id("v1", "Secret", "sh.helm.release.v1.h.v1"),
                    None,
                    &[("owner", "helm"), ("name", "h")],
                    &[],
                ),
                Some(h()),
            ),
            (
                resident(
                    id("v1", "Secret", "aws-credentials"),
                    None,
                    &[(CREDENTIALS_LABEL, "aws")],
                    &[],
                ),
                Some(Blocker::Credentials),
            ),
            (
                resident(id("v1", "Secret", "mine"), None, &[], &[]),
                Some(Blocker::Unmarked),
            ),
            // A name the release renders, but the object is no longer marked as its own.
            (
                resident(id("v1", "Secret", "sky-basic-auth"), None, &[], &[]),
                Some(Blocker::Unmarked),
            ),
            // Marked as the release's, yet not among what its uninstall deletes.
            (
                mine(id("v1", "ConfigMap", "sky-never-listed")),
                Some(Blocker::Unmarked),
            ),
            // Owned by something that is not in the namespace: assessed on its own.
            (
                resident(id("v1", "Pod", "p"), None, &[], &["elsewhere"]),
                Some(Blocker::Unmarked),
            ),
            (
                resident(id("v1", "Endpoints", "somebody-else"), None, &[], &[]),
                Some(Blocker::Unmarked),
            ),
            (
                resident(
                    id("v1", "Secret", "sh.helm.release.v1.sky.v1"),
                    None,
                    &[(ADOPTED_LABEL, "sky"), ("name", "sky")],
                    &[],
                ),
                Some(Blocker::HelmHistory),
            ),
            (mine(id("apps/v1", "Deployment", "sky-api-server")), None),
        ];
        for (resident, blocker) in cases {
            let name = resident.id.to_string();
            let assessment = assess(&release(), &teardown(), &[resident], &[], false);
            let found = assessment
                .blocking
                .iter()
                .find(|(id, _)| id.to_string() == name)
                .map(|(_, blocker)| blocker.clone());
            assert_eq!(found, blocker, "{name}");
        }
    }

    #[test]
    fn helm_history_adopt_kept_goes_only_with_delete_helm_history() {
        let kept = [resident(
            id("v1", "Secret", "sh.helm.release.v1.sky.v1"),
            None,
            &[(ADOPTED_LABEL, "sky"), ("name", "sky")],
            &[],
        )];
        assert!(!assess(&release(), &teardown(), &kept, &[], false).allows());
        assert!(assess(&release(), &teardown(), &kept, &[], true).allows());
        // Another release's kept history is that release's.
        let theirs = [resident(
            id("v1", "Secret", "sh.helm.release.v1.b.v1"),
            None,
            &[(ADOPTED_LABEL, "b"), ("name", "b")],
            &[],
        )];
        assert!(!assess(&release(), &teardown(), &theirs, &[], true).allows());
    }

    #[test]
    fn what_another_resident_owns_is_not_listed_on_its_own() {
        let residents = [
            resident(
                id("apps/v1", "Deployment", "b-api"),
                Some(("b", "team")),
                &[],
                &[],
            ),
            resident(id("apps/v1", "ReplicaSet", "b-rs"), None, &[], &["b-api"]),
            resident(id("v1", "Pod", "b-rs-1"), None, &[], &["b-rs"]),
            resident(id("v1", "Service", "b-svc"), Some(("b", "team")), &[], &[]),
            resident(id("v1", "Endpoints", "b-svc"), None, &[], &[]),
            resident(
                id("discovery.k8s.io/v1", "EndpointSlice", "b-svc-x"),
                None,
                &[],
                &["b-svc"],
            ),
        ];
        let listed: Vec<String> = assess(&release(), &teardown(), &residents, &[], false)
            .blocking
            .iter()
            .map(|(id, _)| id.name.clone())
            .collect();
        assert_eq!(listed, ["b-api", "b-svc"]);
    }

    #[test]
    fn objects_named_to_go_go_and_the_rest_still_block() {
        let residents = [
            resident(id("v1", "Secret", "notes"), None, &[], &[]),
            resident(id("v1", "ConfigMap", "notes"), None, &[], &[]),
            resident(id("v1", "Secret", "b-auth"), Some(("b", "team")), &[], &[]),
            mine(id("v1", "PersistentVolumeClaim", "sky-state")),
        ];
        let named: Vec<Named> = [
            "secret/notes",
            "Secret/b-auth",
            "PersistentVolumeClaim/sky-state",
        ]
        .iter()
        .map(|text| text.parse().unwrap())
        .collect();
        let assessment = assess(&release(), &teardown(), &residents, &named, false);
        assert_eq!(assessment.named.len(), 1);
        assert_eq!(assessment.named[0].0.kind, "Secret");
        // Another release's objects and the data go only by their own uninstall, named or not.
        let blocking: Vec<&str> = assessment
            .blocking
            .iter()
            .map(|(id, _)| id.name.as_str())
            .collect();
        assert_eq!(blocking, ["notes", "b-auth", "sky-state"]);
        assert_eq!(assessment.blocking[0].0.kind, "ConfigMap");
        assert_eq!(
            assessment.also_delete_flags(),
            "--also-delete ConfigMap/notes"
        );
    }

    #[test]
    fn newcomers_are_new_objects_nothing_known_owns() {
        let before = [
            resident(id("apps/v1", "ReplicaSet", "rs"), None, &[], &[]),
            resident(id("v1", "Secret", "old"), None, &[], &[]),
        ];
        let now = [
            resident(id("v1", "Secret", "old"), None, &[], &[]),
            // A Pod the known ReplicaSet made meanwhile, and an Event: not newcomers.
            resident(id("v1", "Pod", "rs-new"), None, &[], &["rs"]),
            resident(id("v1", "Event", "e"), None, &[], &[]),
            resident(id("v1", "ConfigMap", "new"), None, &[], &[]),
            resident(id("v1", "Pod", "orphan"), None, &[], &["unknown"]),
            // The uninstall's lock, and another release's.
            resident(
                id("coordination.k8s.io/v1", "Lease", "skyctl-lock-sky"),
                None,
                &[],
                &[],
            ),
            resident(
                id("coordination.k8s.io/v1", "Lease", "skyctl-lock-b"),
                None,
                &[],
                &[],
            ),
        ];
        let release = Release {
            name: "sky".into(),
            namespace: "team".into(),
        };
        let names: Vec<String> = newcomers(&release, &before, &now)
            .into_iter()
            .map(|id| id.name)
            .collect();
        assert_eq!(names, ["new", "orphan", "skyctl-lock-b"]);
    }

    #[test]
    fn named_objects_are_kind_slash_name() {
        for bad in ["", "Secret", "Secret/", "/x", "Secret/a/b"] {
            assert!(bad.parse::<Named>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "Secret/aws-credentials"
                .parse::<Named>()
                .unwrap()
                .to_string(),
            "Secret/aws-credentials"
        );
    }
}
