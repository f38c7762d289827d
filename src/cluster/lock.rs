//! One skyctl operation per release at a time. The lock is a Lease with a holder and an expiry
//! that the holder renews while it works, so a crashed process's lock runs out by itself,
//! unlike Helm's `pending-*` state, which stays until someone intervenes.
//!
//! A lock whose holder is provably gone is taken at once: the holder ran in this very process
//! space (host, boot and pid namespace) and its process no longer runs, as after `kill -9`,
//! Ctrl-C or a closed terminal. `--force-unlock` also takes one whose holder had this host's
//! name but recorded no process space (an older skyctl); it never takes a lock from a holder
//! that may be alive. A holder that loses its lock anyway notices before its next step and stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};

use super::object_manager::delete_if_present;
use serde_json::json;
use tokio::task::JoinHandle;

/// How long a lock outlives its last renewal.
pub const LEASE_SECONDS: i32 = 15;
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// Where the holder's host and process id are kept, so that `--force-unlock` can tell a
/// holder that is gone from one that is alive.
const HOST_ANNOTATION: &str = "skyctl.io/lock-host";
const PID_ANNOTATION: &str = "skyctl.io/lock-pid";
/// The holder's boot and pid namespace: a pid means the same process only within them (two
/// containers may share a host name, and never their pids).
const PID_SPACE_ANNOTATION: &str = "skyctl.io/lock-pid-space";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "release {release} is locked by {holder}, who took the lock {age}s ago; it expires {expires_in}s after \
         its holder stops renewing it.\nWait for that operation to finish. If its process is gone, run again \
         in {expires_in}s, or now with --force-unlock."
    )]
    Held {
        release: String,
        holder: String,
        age: i64,
        expires_in: i64,
    },
    #[error(
        "release {release} is locked by {holder}, who renewed the lock {renewed}s ago and may still be \
         working; --force-unlock takes only a lock whose holder is gone (a process of this host that no \
         longer runs) or that has expired. Wait {expires_in}s for it to expire if its holder is gone."
    )]
    HolderAlive {
        release: String,
        holder: String,
        renewed: i64,
        expires_in: i64,
    },
    /// Nothing can be made in a namespace being deleted, the lock neither.
    #[error(
        "namespace {namespace} is being deleted: nothing can be made in it, the release's lock \
         neither"
    )]
    NamespaceTerminating { namespace: String },
    #[error(transparent)]
    Cluster(#[from] anyhow::Error),
}

/// The lock was taken away (forced, or expired while renewals failed): the operation stops.
#[derive(Debug, thiserror::Error)]
#[error("the lock of release {0} was lost to another skyctl; stopped before the next step")]
pub struct LockLost(pub String);

/// A held lock. Release it with [`Lock::release`]; if the process dies instead, it expires.
pub struct Lock {
    api: Api<Lease>,
    name: String,
    release: String,
    holder: String,
    lost: Arc<AtomicBool>,
    /// The lease as this process last wrote it, so that releasing it needs no read.
    version: Arc<Mutex<Version>>,
    renewer: JoinHandle<()>,
}

/// The UID and resourceVersion of the lease as written by its holder.
#[derive(Debug, Clone, Default)]
struct Version {
    uid: Option<String>,
    resource_version: Option<String>,
}

impl Version {
    fn of(lease: &Lease) -> Self {
        Self {
            uid: lease.metadata.uid.clone(),
            resource_version: lease.metadata.resource_version.clone(),
        }
    }
}

fn lease_name(release: &str) -> String {
    format!("skyctl-lock-{release}")
}

/// Who is working: user, host, process and operation, so a blocked user knows whom to ask.
fn holder_identity(operation: &str) -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!(
        "{user}@{host} (pid {}, skyctl {operation})",
        std::process::id()
    )
}

/// Takes the release's lock, or says who holds it. `force` takes it from a holder that is
/// provably gone.
pub async fn acquire(
    client: &kube::Client,
    namespace: &str,
    release: &str,
    operation: &str,
    force: bool,
) -> Result<Lock, LockError> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let name = lease_name(release);
    let holder = holder_identity(operation);
    // Another process may create or take the lease between our read and our write; the
    // apiserver then refuses ours (exists, or stale resourceVersion) and we look again.
    for _ in 0..3 {
        let now = Timestamp::now();
        let spec = json!({
            "holderIdentity": holder,
            "leaseDurationSeconds": LEASE_SECONDS,
            "acquireTime": MicroTime(now),
            "renewTime": MicroTime(now),
        });
        let here = Place::of_this_process();
        let mut annotations = json!({
            HOST_ANNOTATION: here.host,
            PID_ANNOTATION: std::process::id().to_string(),
        });
        if let Some(space) = &here.pid_space {
            annotations[PID_SPACE_ANNOTATION] = json!(space);
        }
        // Created first, read only when it exists: most runs find no lease, and then need no
        // read at all.
        let fresh: Lease = serde_json::from_value(json!({
            "metadata": {"name": name, "annotations": annotations},
            "spec": spec,
        }))
        .expect("a valid Lease");
        let result = match api.create(&PostParams::default(), &fresh).await {
            Err(kube::Error::Api(status)) if status.is_already_exists() => {
                let Some(mut lease) = api
                    .get_opt(&name)
                    .await
                    .context("cannot read the release lock")?
                else {
                    continue;
                };
                if let Some(held) = held_by_other(&lease, now) {
                    match (force, holder_state(&lease, &here, process_alive)) {
                        (_, Holder::Gone { sure: true }) | (true, Holder::Gone { sure: false }) => {
                        }
                        (true, Holder::MaybeAlive) => {
                            return Err(LockError::HolderAlive {
                                release: release.to_owned(),
                                holder: held.holder,
                                renewed: held.renewed,
                                expires_in: held.expires_in,
                            });
                        }
                        (false, _) => {
                            return Err(LockError::Held {
                                release: release.to_owned(),
                                holder: held.holder,
                                age: held.age,
                                expires_in: held.expires_in,
                            });
                        }
                    }
                }
                lease.spec = fresh.spec;
                lease.metadata.annotations = fresh.metadata.annotations;
                api.replace(&name, &PostParams::default(), &lease).await
            }
            other => other,
        };
        match result {
            Ok(lease) => {
                let lost = Arc::new(AtomicBool::new(false));
                let version = Arc::new(Mutex::new(Version::of(&lease)));
                let renewer = tokio::spawn(renew(
                    api.clone(),
                    name.clone(),
                    holder.clone(),
                    lost.clone(),
                    version.clone(),
                ));
                return Ok(Lock {
                    api,
                    name,
                    release: release.to_owned(),
                    holder,
                    lost,
                    version,
                    renewer,
                });
            }
            Err(kube::Error::Api(status)) if status.is_already_exists() || status.is_conflict() => {
                continue;
            }
            Err(kube::Error::Api(status)) if is_namespace_terminating(&status) => {
                return Err(LockError::NamespaceTerminating {
                    namespace: namespace.to_owned(),
                });
            }
            Err(err) => {
                return Err(anyhow::Error::new(err)
                    .context("cannot take the release lock")
                    .into());
            }
        }
    }
    Err(
        anyhow::anyhow!("the lock of release {release} changes hands too fast to take; try again")
            .into(),
    )
}

/// The API server's refusal of anything new in a namespace being deleted.
fn is_namespace_terminating(status: &kube::core::Status) -> bool {
    status.code == 403
        && status
            .details
            .as_ref()
            .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
}

/// Who holds a lease that has not expired, since when (seconds), when it last renewed, and
/// for how long still.
#[derive(Debug)]
struct Held {
    holder: String,
    age: i64,
    renewed: i64,
    expires_in: i64,
}

/// Where a process runs, as far as a pid names it.
struct Place {
    host: String,
    /// The boot and the pid namespace; `None` where the system does not say.
    pid_space: Option<String>,
}

impl Place {
    fn of_this_process() -> Self {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok();
        let namespace = std::fs::read_link("/proc/self/ns/pid").ok();
        Self {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid_space: boot
                .zip(namespace)
                .map(|(boot, ns)| format!("{}/{}", boot.trim(), ns.display())),
        }
    }
}

/// What a lease's annotations say of its holder.
#[derive(Debug, PartialEq, Eq)]
enum Holder {
    /// It may still run: another host, a process that runs, or nothing recorded to tell.
    MaybeAlive,
    /// Its process no longer runs here. `sure`: it recorded this very process space; otherwise
    /// only this host's name, which a container elsewhere may share.
    Gone { sure: bool },
}

/// Whether a process runs on this host. Where the system cannot say (no /proc), every
/// process counts as alive: a lock is never forced on a guess.
fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// Whether the lease's holder is gone: it ran on this host and its process does not run any
/// more. A holder on another host may be alive, whatever its lease says.
fn holder_state(lease: &Lease, here: &Place, alive: impl Fn(u32) -> bool) -> Holder {
    let annotation = |key| lease.metadata.annotations.as_ref().and_then(|a| a.get(key));
    let same_host = annotation(HOST_ANNOTATION).is_some_and(|h| *h == here.host);
    let pid = annotation(PID_ANNOTATION).and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if same_host && pid != std::process::id() && !alive(pid) => Holder::Gone {
            sure: here.pid_space.is_some()
                && annotation(PID_SPACE_ANNOTATION) == here.pid_space.as_ref(),
        },
        _ => Holder::MaybeAlive,
    }
}

/// The holder of a lease that has not expired; `None` when the lease is free.
fn held_by_other(lease: &Lease, now: Timestamp) -> Option<Held> {
    let spec = lease.spec.as_ref()?;
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty())?;
    let renewed = spec.renew_time.as_ref()?.0;
    let expires = renewed
        + SignedDuration::from_secs(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS).into());
    if expires <= now {
        return None;
    }
    let acquired = spec.acquire_time.as_ref().map_or(renewed, |t| t.0);
    Some(Held {
        holder,
        age: now.duration_since(acquired).as_secs(),
        renewed: now.duration_since(renewed).as_secs(),
        expires_in: expires.duration_since(now).as_secs().max(1),
    })
}

async fn renew(
    api: Api<Lease>,
    name: String,
    holder: String,
    lost: Arc<AtomicBool>,
    version: Arc<Mutex<Version>>,
) {
    let mut renewed = std::time::Instant::now();
    let lease_lasts = Duration::from_secs(LEASE_SECONDS as u64);
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let mut lease = match api.get_opt(&name).await {
            Ok(Some(lease)) => lease,
            // Deleted under us: whoever did that may take it next.
            Ok(None) => break,
            Err(_) if renewed.elapsed() < lease_lasts => continue,
            Err(_) => break,
        };
        let Some(spec) = lease.spec.as_mut() else {
            break;
        };
        if spec.holder_identity.as_deref() != Some(holder.as_str()) {
            // Someone took the lock; renewing would take it back behind their back.
            break;
        }
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        // A failed renewal is retried on the next tick; the lease outlives two of them.
        match api.replace(&name, &PostParams::default(), &lease).await {
            Ok(written) => {
                *version.lock().expect("not poisoned") = Version::of(&written);
                renewed = std::time::Instant::now();
            }
            Err(_) if renewed.elapsed() < lease_lasts => {}
            Err(_) => break,
        }
    }
    lost.store(true, Ordering::SeqCst);
}

impl Lock {
    /// Fails once the lock is no longer this process's: checked before every step that writes.
    pub fn ensure_held(&self) -> Result<(), LockLost> {
        if self.lost.load(Ordering::SeqCst) {
            Err(LockLost(self.release.clone()))
        } else {
            Ok(())
        }
    }

    /// Resolves once the lock is no longer this process's.
    pub async fn lost(&self) -> LockLost {
        while self.ensure_held().is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        LockLost(self.release.clone())
    }

    /// Releases the lock, if it is still ours: deleted as this process last wrote it, without
    /// a read. A lease changed since (taken by another, or a renewal whose answer never came)
    /// is read, and deleted only if its holder is still this process.
    pub async fn release(self) -> anyhow::Result<()> {
        self.renewer.abort();
        let written = self.version.lock().expect("not poisoned").clone();
        let unchanged = DeleteParams {
            preconditions: Some(Preconditions {
                uid: written.uid,
                resource_version: written.resource_version,
            }),
            ..DeleteParams::default()
        };
        match delete_if_present(&self.api, &self.name, &unchanged).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.is_conflict() => {}
            Err(err) => return Err(anyhow::Error::new(err).context("cannot release the lock")),
        }
        let current = self.api.get_opt(&self.name).await?;
        let ours = current
            .and_then(|lease| lease.spec)
            .and_then(|spec| spec.holder_identity)
            .is_some_and(|holder| holder == self.holder);
        if ours {
            super::object_manager::delete_in_namespace(&self.api, &self.name)
                .await
                .context("cannot release the lock")?;
        }
        Ok(())
    }
}

/// Who holds the lock of a release right now, for `status`.
pub async fn holder(
    client: &kube::Client,
    namespace: &str,
    release: &str,
) -> anyhow::Result<Option<String>> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let lease = api.get_opt(&lease_name(release)).await?;
    Ok(lease
        .and_then(|lease| held_by_other(&lease, Timestamp::now()))
        .map(|held| held.holder))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, renewed_secs_ago: i64) -> Lease {
        let now = Timestamp::now();
        serde_json::from_value(json!({
            "metadata": {"name": "l"},
            "spec": {
                "holderIdentity": holder,
                "leaseDurationSeconds": 15,
                "acquireTime": MicroTime(now - SignedDuration::from_secs(renewed_secs_ago + 30)),
                "renewTime": MicroTime(now - SignedDuration::from_secs(renewed_secs_ago)),
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_renewed_lease_is_held_and_names_its_holder_and_age() {
        match held_by_other(
            &lease("ann@box (pid 7, skyctl upgrade)", 2),
            Timestamp::now(),
        ) {
            Some(Held {
                holder,
                age,
                expires_in,
                ..
            }) => {
                assert_eq!(holder, "ann@box (pid 7, skyctl upgrade)");
                assert!((31..=33).contains(&age), "{age}");
                assert!((12..=13).contains(&expires_in), "{expires_in}");
            }
            other => panic!("expected a held lock, got {other:?}"),
        }
    }

    #[test]
    fn a_lease_not_renewed_in_time_is_free() {
        assert!(held_by_other(&lease("ann@box", 16), Timestamp::now()).is_none());
    }

    fn annotated(lease: Lease, host: &str, pid: u32, pid_space: Option<&str>) -> Lease {
        let mut lease = lease;
        let mut annotations: std::collections::BTreeMap<String, String> = [
            (HOST_ANNOTATION.to_owned(), host.to_owned()),
            (PID_ANNOTATION.to_owned(), pid.to_string()),
        ]
        .into();
        if let Some(space) = pid_space {
            annotations.insert(PID_SPACE_ANNOTATION.to_owned(), space.to_owned());
        }
        lease.metadata.annotations = Some(annotations);
        lease
    }

    #[test]
    fn only_a_holder_of_this_process_space_whose_process_is_gone_is_surely_gone() {
        let dead = |_| false;
        let alive = |_| true;
        let here = Place {
            host: "here".to_owned(),
            pid_space: Some("boot-1/pid:[4026531836]".to_owned()),
        };
        let gone = |sure| Holder::Gone { sure };
        // Table: the holder's host and process space, whether its process runs, the verdict.
        let cases = [
            (
                "this process space, process gone",
                "here",
                Some("boot-1/pid:[4026531836]"),
                dead as fn(u32) -> bool,
                gone(true),
            ),
            (
                "this process space, process alive",
                "here",
                Some("boot-1/pid:[4026531836]"),
                alive,
                Holder::MaybeAlive,
            ),
            (
                "this host's name, another pid namespace (a container)",
                "here",
                Some("boot-1/pid:[4026532001]"),
                dead,
                gone(false),
            ),
            (
                "this host's name, before a reboot",
                "here",
                Some("boot-0/pid:[4026531836]"),
                dead,
                gone(false),
            ),
            (
                "this host's name, no process space recorded",
                "here",
                None,
                dead,
                gone(false),
            ),
            (
                "another host, whatever its process",
                "there",
                Some("boot-1/pid:[4026531836]"),
                dead,
                Holder::MaybeAlive,
            ),
        ];
        for (name, host, space, running, verdict) in cases {
            let lease = annotated(lease("ann@box", 1), host, 4242, space);
            assert_eq!(holder_state(&lease, &here, running), verdict, "{name}");
        }
        assert_eq!(
            holder_state(&lease("ann@box", 1), &here, dead),
            Holder::MaybeAlive,
            "a lease without host and pid may be alive"
        );
        assert_eq!(
            holder_state(
                &annotated(lease("me", 1), "here", std::process::id(), None),
                &here,
                dead
            ),
            Holder::MaybeAlive,
            "this process is never gone"
        );
        let unknown = Place {
            host: "here".to_owned(),
            pid_space: None,
        };
        assert_eq!(
            holder_state(
                &annotated(lease("ann@box", 1), "here", 4242, None),
                &unknown,
                dead
            ),
            gone(false),
            "where this process's space is unknown, no holder is surely gone"
        );
    }

    #[test]
    fn a_released_lease_is_free() {
        assert!(held_by_other(&lease("", 0), Timestamp::now()).is_none());
    }
}
