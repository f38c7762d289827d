//! The ingress-nginx webhook's certificate as it is on the cluster. Re-applying a release must
//! not issue a new certificate each time: that would change the Secret and the webhook's
//! caBundle on every upgrade, so no upgrade could ever be a no-op.

use k8s_openapi::api::core::v1::Secret;

use super::object_manager::ObjectManager;
use super::snapshot::Snapshot;
use crate::release::Release;
use crate::render::{AdmissionCertificate, IngressNginxNames};

/// The certificate in the release's admission Secret, if there is one that is still valid for
/// the release; otherwise a new one. The Secret is read once in a run.
pub async fn current_or_new(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
) -> anyhow::Result<AdmissionCertificate> {
    let name = IngressNginxNames::for_release(release).admission;
    let secret: Option<Secret> = snapshot
        .read_as(&ObjectManager::new(client), Some(&release.namespace), &name)
        .await?;
    let existing = secret.and_then(|secret| {
        let data = secret.data?;
        let text = |key: &str| {
            data.get(key)
                .and_then(|bytes| String::from_utf8(bytes.0.clone()).ok())
        };
        Some(AdmissionCertificate {
            ca_pem: text("ca")?,
            cert_pem: text("cert")?,
            key_pem: text("key")?,
        })
    });
    match existing {
        Some(certificate) if certificate.is_valid_for(release) => Ok(certificate),
        _ => Ok(AdmissionCertificate::generate(release)?),
    }
}
