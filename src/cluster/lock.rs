//! One skyctl operation per release at a time. The lock is a Lease with a holder and an expiry
//! that the holder renews while it works, so a crashed process's lock runs out by itself,
//! unlike Helm's `pending-*` state, which stays until someone intervenes.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use tokio::task::JoinHandle;

/// How long a lock outlives its last renewal.
pub const LEASE_SECONDS: i32 = 15;
const RENEW_EVERY: Duration = Duration::from_secs(5);

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
    #[error(transparent)]
    Cluster(#[from] anyhow::Error),
}

/// A held lock. Release it with [`Lock::release`]; if the process dies instead, it expires.
pub struct Lock {
    api: Api<Lease>,
    name: String,
    holder: String,
    renewer: JoinHandle<()>,
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

/// Takes the release's lock, or says who holds it. `force` takes it even from a live holder.
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
        let result = match api
            .get_opt(&name)
            .await
            .context("cannot read the release lock")?
        {
            None => {
                let lease: Lease =
                    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec}))
                        .expect("a valid Lease");
                api.create(&PostParams::default(), &lease).await
            }
            Some(mut lease) => {
                if let Some(held) = held_by_other(&lease, now).filter(|_| !force) {
                    return Err(LockError::Held {
                        release: release.to_owned(),
                        holder: held.holder,
                        age: held.age,
                        expires_in: held.expires_in,
                    });
                }
                lease.spec = Some(serde_json::from_value(spec).expect("a valid LeaseSpec"));
                api.replace(&name, &PostParams::default(), &lease).await
            }
        };
        match result {
            Ok(_) => {
                let renewer = tokio::spawn(renew(api.clone(), name.clone(), holder.clone()));
                return Ok(Lock {
                    api,
                    name,
                    holder,
                    renewer,
                });
            }
            Err(kube::Error::Api(status)) if status.is_already_exists() || status.is_conflict() => {
                continue;
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

/// Who holds a lease that has not expired, since when (seconds) and for how long still.
#[derive(Debug)]
struct Held {
    holder: String,
    age: i64,
    expires_in: i64,
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
        expires_in: expires.duration_since(now).as_secs().max(1),
    })
}

async fn renew(api: Api<Lease>, name: String, holder: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let Ok(mut lease) = api.get(&name).await else {
            continue;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(holder.as_str()) {
            // Someone forced the lock away; renewing would take it back behind their back.
            return;
        }
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        // A failed renewal is retried on the next tick; the lease outlives three of them.
        let _ = api.replace(&name, &PostParams::default(), &lease).await;
    }
}

impl Lock {
    /// Releases the lock, if it is still ours.
    pub async fn release(self) -> anyhow::Result<()> {
        self.renewer.abort();
        let current = self.api.get_opt(&self.name).await?;
        let ours = current
            .and_then(|lease| lease.spec)
            .and_then(|spec| spec.holder_identity)
            .is_some_and(|holder| holder == self.holder);
        if ours {
            self.api
                .delete(&self.name, &DeleteParams::default())
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

    #[test]
    fn a_released_lease_is_free() {
        assert!(held_by_other(&lease("", 0), Timestamp::now()).is_none());
    }
}
