//! The serving certificate of the ingress-nginx admission webhook.
//!
//! The upstream chart creates it with Helm hook Jobs (kube-webhook-certgen) and patches the CA
//! into the webhook afterwards. skyctl has no hooks: it issues a CA and a serving certificate
//! here, stores both in the Secret the controller mounts and puts the CA into the webhook's
//! `caBundle` at render time, so one apply leaves nothing to patch.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PublicKeyData,
};
use time::{Duration, OffsetDateTime};

use super::Error;
use super::certificate_fields::CertificateFields;
use super::ingress_nginx_names::IngressNginxNames;
use crate::release::Release;

/// Ten years: the webhook is internal, and a certificate that lapses silently breaks every
/// Ingress change. Upgrades replace it well before then (see `RENEW_BEFORE`).
const VALIDITY: Duration = Duration::days(3650);
/// A certificate this close to its end is replaced by the next install or upgrade.
const RENEW_BEFORE: Duration = Duration::days(30);
/// Nodes whose clocks run a little behind the signer's still accept a fresh certificate.
const BACKDATE: Duration = Duration::hours(1);

/// PEM texts, stored under the Secret keys `ca`, `cert` and `key` that kube-webhook-certgen
/// writes and the controller reads from `/usr/local/certificates/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionCertificate {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl AdmissionCertificate {
    /// Issues a new CA and a serving certificate for the release's admission Service.
    pub fn generate(release: &Release) -> Result<Self, Error> {
        let not_before = OffsetDateTime::now_utc() - BACKDATE;
        let not_after = not_before + VALIDITY;

        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.distinguished_name = common_name("skyctl ingress-nginx admission CA");
        ca_params.not_before = not_before;
        ca_params.not_after = not_after;
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let mut params = CertificateParams::new(admission_hosts(release))?;
        params.distinguished_name = common_name("skyctl ingress-nginx admission webhook");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca)?;

        Ok(AdmissionCertificate {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Whether a stored certificate can stay: all three parts parse, the CA signed the
    /// certificate, the key matches it, neither expires within 30 days, and it names the
    /// release's admission Service.
    pub fn is_valid_for(&self, release: &Release) -> bool {
        self.is_valid_at(release, OffsetDateTime::now_utc())
    }

    fn is_valid_at(&self, release: &Release, now: OffsetDateTime) -> bool {
        let (Some(ca), Some(cert), Ok(key)) = (
            CertificateFields::from_pem(&self.ca_pem),
            CertificateFields::from_pem(&self.cert_pem),
            KeyPair::from_pem(&self.key_pem),
        ) else {
            return false;
        };
        let in_force = |fields: &CertificateFields| {
            fields.not_before <= now && now + RENEW_BEFORE < fields.not_after
        };
        in_force(&ca)
            && in_force(&cert)
            && cert.issuer == ca.subject
            && cert.is_signed_by(&ca)
            && cert.subject_public_key_info == key.subject_public_key_info()
            && admission_hosts(release)
                .iter()
                .all(|host| cert.dns_names.contains(host))
    }
}

/// The names the webhook Service answers to. The API server calls `<service>.<ns>.svc`;
/// the shorter forms serve clients inside the namespace and match kube-webhook-certgen.
fn admission_hosts(release: &Release) -> Vec<String> {
    let service = IngressNginxNames::for_release(release).admission_service;
    let namespace = &release.namespace;
    vec![
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}"),
        service,
    ]
}

fn common_name(name: &str) -> DistinguishedName {
    let mut distinguished_name = DistinguishedName::new();
    distinguished_name.push(DnType::CommonName, name);
    distinguished_name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, namespace: &str) -> Release {
        Release {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        }
    }

    #[test]
    fn a_new_certificate_is_valid_for_its_release() {
        let release = release("skypilot", "skypilot");
        let certificate = AdmissionCertificate::generate(&release).unwrap();
        assert!(certificate.is_valid_for(&release));
        assert!(
            certificate
                .ca_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert!(
            certificate
                .key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
    }

    #[test]
    fn the_certificate_names_the_admission_service_in_every_form() {
        let release = release("skypilot", "team-a");
        let certificate = AdmissionCertificate::generate(&release).unwrap();
        let fields = CertificateFields::from_pem(&certificate.cert_pem).unwrap();
        let service = "skypilot-ingress-nginx-controller-admission";
        for host in [
            service.to_owned(),
            format!("{service}.team-a"),
            format!("{service}.team-a.svc"),
        ] {
            assert!(
                fields.dns_names.contains(&host),
                "{host} missing from {:?}",
                fields.dns_names
            );
        }
    }

    #[test]
    fn a_certificate_for_another_release_or_namespace_is_not_valid() {
        let certificate = AdmissionCertificate::generate(&release("skypilot", "skypilot")).unwrap();
        assert!(!certificate.is_valid_for(&release("other", "skypilot")));
        assert!(!certificate.is_valid_for(&release("skypilot", "elsewhere")));
    }

    #[test]
    fn a_certificate_close_to_expiry_is_not_valid() {
        let release = release("skypilot", "skypilot");
        let certificate = AdmissionCertificate::generate(&release).unwrap();
        let now = OffsetDateTime::now_utc();
        assert!(certificate.is_valid_at(&release, now + Duration::days(3000)));
        assert!(!certificate.is_valid_at(&release, now + VALIDITY - Duration::days(10)));
        assert!(!certificate.is_valid_at(&release, now - Duration::days(1)));
    }

    #[test]
    fn mismatched_or_garbled_parts_are_not_valid() {
        let release = release("skypilot", "skypilot");
        let first = AdmissionCertificate::generate(&release).unwrap();
        let second = AdmissionCertificate::generate(&release).unwrap();
        let foreign_key = AdmissionCertificate {
            key_pem: second.key_pem.clone(),
            ..first.clone()
        };
        let foreign_ca = AdmissionCertificate {
            ca_pem: second.ca_pem.clone(),
            ..first.clone()
        };
        let garbled = AdmissionCertificate {
            cert_pem: "not a certificate".to_owned(),
            ..first.clone()
        };
        assert!(!foreign_key.is_valid_for(&release));
        assert!(!foreign_ca.is_valid_for(&release));
        assert!(!garbled.is_valid_for(&release));
    }
}
