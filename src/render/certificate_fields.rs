//! The few fields of an X.509 certificate that decide whether skyctl can keep using it.
//!
//! Reading them with yasna, which rcgen already builds, spares a full X.509 parser. Only the
//! signature algorithm skyctl issues with (ECDSA P-256 with SHA-256) is verified; anything
//! else counts as not issued by the CA, and skyctl then simply issues a new pair.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use time::OffsetDateTime;
use yasna::models::ObjectIdentifier;
use yasna::tags::{TAG_BITSTRING, TAG_GENERALIZEDTIME, TAG_UTCTIME};
use yasna::{ASN1Error, ASN1ErrorKind, ASN1Result, BERReader, BERReaderSeq, Tag};

const SUBJECT_ALT_NAME: [u64; 4] = [2, 5, 29, 17];

#[derive(Debug)]
pub struct CertificateFields {
    /// DER of the issuer name, compared byte for byte with the CA's subject.
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// DER of the SubjectPublicKeyInfo, compared with the private key's.
    pub subject_public_key_info: Vec<u8>,
    pub dns_names: Vec<String>,
    /// The signed part and its signature, to check who issued the certificate.
    to_be_signed: Vec<u8>,
    signature: Vec<u8>,
}

impl CertificateFields {
    /// Reads the first `CERTIFICATE` block of `pem_text`; `None` if it is not a certificate.
    pub fn from_pem(pem_text: &str) -> Option<Self> {
        let block = pem::parse(pem_text).ok()?;
        if block.tag() != "CERTIFICATE" {
            return None;
        }
        Self::from_der(block.contents()).ok()
    }

    /// Whether `issuer`'s key signed this certificate.
    pub fn is_signed_by(&self, issuer: &CertificateFields) -> bool {
        let Ok(issuer_key) = public_key_bits(&issuer.subject_public_key_info) else {
            return false;
        };
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, issuer_key)
            .verify(&self.to_be_signed, &self.signature)
            .is_ok()
    }

    fn from_der(der: &[u8]) -> ASN1Result<Self> {
        let (to_be_signed, signature) = yasna::parse_der(der, |reader| {
            reader.read_sequence(|certificate| {
                let to_be_signed = certificate.next().read_der()?;
                certificate.next().read_der()?; // signatureAlgorithm
                let signature = read_bit_string(certificate.next())?;
                Ok((to_be_signed, signature))
            })
        })?;
        let fields = yasna::parse_der(&to_be_signed, |reader| {
            reader.read_sequence(read_tbs_certificate)
        })?;
        Ok(CertificateFields {
            to_be_signed,
            signature,
            ..fields
        })
    }
}

/// The key bits inside a DER SubjectPublicKeyInfo.
fn public_key_bits(subject_public_key_info: &[u8]) -> ASN1Result<Vec<u8>> {
    yasna::parse_der(subject_public_key_info, |reader| {
        reader.read_sequence(|info| {
            info.next().read_der()?; // algorithm
            read_bit_string(info.next())
        })
    })
}

/// The bytes of a BIT STRING whose length is a whole number of bytes, as keys and signatures are.
fn read_bit_string(reader: BERReader<'_, '_>) -> ASN1Result<Vec<u8>> {
    let value = reader.read_tagged_der()?;
    match value.value().split_first() {
        Some((0, bytes)) if value.tag() == TAG_BITSTRING => Ok(bytes.to_vec()),
        _ => Err(ASN1Error::new(ASN1ErrorKind::Invalid)),
    }
}

fn read_tbs_certificate(tbs: &mut BERReaderSeq<'_, '_>) -> ASN1Result<CertificateFields> {
    tbs.read_optional(|version| version.read_tagged(Tag::context(0), |v| v.read_i64()))?;
    tbs.next().read_der()?; // serialNumber
    tbs.next().read_der()?; // signature algorithm
    let issuer = tbs.next().read_der()?;
    let (not_before, not_after) = tbs
        .next()
        .read_sequence(|validity| Ok((read_time(validity.next())?, read_time(validity.next())?)))?;
    let subject = tbs.next().read_der()?;
    let subject_public_key_info = tbs.next().read_der()?;
    let mut dns_names = Vec::new();
    // issuerUniqueID [1], subjectUniqueID [2] and extensions [3] may follow.
    while let Some(tagged) = tbs.read_optional(|field| field.read_tagged_der())? {
        if tagged.tag() == Tag::context(3) {
            dns_names = read_dns_names(tagged.value())?;
        }
    }
    Ok(CertificateFields {
        issuer,
        subject,
        not_before,
        not_after,
        subject_public_key_info,
        dns_names,
        to_be_signed: Vec::new(),
        signature: Vec::new(),
    })
}

fn read_time(reader: BERReader<'_, '_>) -> ASN1Result<OffsetDateTime> {
    match reader.lookahead_tag()? {
        TAG_UTCTIME => Ok(*reader.read_utctime()?.datetime()),
        TAG_GENERALIZEDTIME => Ok(*reader.read_generalized_time()?.datetime()),
        _ => Err(ASN1Error::new(ASN1ErrorKind::Invalid)),
    }
}

/// The dNSName entries of the subjectAltName extension, given the DER of all extensions.
fn read_dns_names(extensions: &[u8]) -> ASN1Result<Vec<String>> {
    let san_oid = ObjectIdentifier::from_slice(&SUBJECT_ALT_NAME);
    let mut names = Vec::new();
    yasna::parse_der(extensions, |reader| {
        reader.read_sequence_of(|extension| {
            extension.read_sequence(|fields| {
                let oid = fields.next().read_oid()?;
                fields.read_optional(|critical| critical.read_bool())?;
                let value = fields.next().read_bytes()?;
                if oid == san_oid {
                    names.extend(read_general_dns_names(&value)?);
                }
                Ok(())
            })
        })
    })?;
    Ok(names)
}

fn read_general_dns_names(general_names: &[u8]) -> ASN1Result<Vec<String>> {
    let mut names = Vec::new();
    yasna::parse_der(general_names, |reader| {
        reader.read_sequence_of(|name| {
            let tagged = name.read_tagged_der()?;
            if tagged.tag() == Tag::context(2) {
                let text = String::from_utf8(tagged.value().to_vec())
                    .map_err(|_| ASN1Error::new(ASN1ErrorKind::Invalid))?;
                names.push(text);
            }
            Ok(())
        })
    })?;
    Ok(names)
}
