//! The local Fulcio's certificate authority: a root, an intermediate that issues the
//! 10-minute code-signing leaves, and the CT log that embeds an SCT in each leaf.
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::der::asn1::{BitString, Ia5String, OctetString, UtcTime};
use x509_cert::der::flagset::FlagSet;
use x509_cert::der::oid::db::rfc5280::{ID_KP_CODE_SIGNING, ID_KP_SERVER_AUTH};
use x509_cert::der::oid::{AssociatedOid, ObjectIdentifier};
use x509_cert::der::{Decode as _, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use super::keys::KeyPair;
use super::oids;
use super::sct;

/// CA certificates are valid for ten years from an hour before start-up.
const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
const CA_BACKDATE: Duration = Duration::from_secs(3600);

struct CaCert {
    key: KeyPair,
    cert: Certificate,
    der: Vec<u8>,
    ski: Vec<u8>,
}

/// Root, intermediate and CT log keys of one running Fulcio.
pub(crate) struct Authority {
    root: CaCert,
    intermediate: CaCert,
    ct_log: KeyPair,
    /// Unix time the CA certificates start being valid.
    pub valid_from: u64,
}

/// What a leaf certificate says about its subject.
pub(crate) struct LeafIdentity {
    /// The SAN URI.
    pub san_uri: String,
    /// Non-critical extensions: OID and the extension value's bytes.
    pub extensions: Vec<(ObjectIdentifier, Vec<u8>)>,
}

fn ecdsa_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oids::ECDSA_WITH_SHA256,
        parameters: None,
    }
}

fn utc(unix: u64) -> anyhow::Result<Time> {
    Ok(Time::UtcTime(
        UtcTime::from_unix_duration(Duration::from_secs(unix))
            .context("a certificate time outside UTCTime's 1950-2049 range")?,
    ))
}

/// A positive 20-byte serial number (RFC 5280's maximum), random as Fulcio's are.
fn serial() -> anyhow::Result<SerialNumber> {
    let mut bytes: [u8; 20] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::new(&bytes).context("encoding a certificate serial number")
}

fn extension<T: Encode + AssociatedOid>(critical: bool, value: &T) -> anyhow::Result<Extension> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().context("encoding a certificate extension")?)
            .context("wrapping a certificate extension")?,
    })
}

fn raw_extension(oid: ObjectIdentifier, value: Vec<u8>) -> anyhow::Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value).context("wrapping a certificate extension")?,
    })
}

/// Subject key identifier: a truncated SHA-256 of the public key.
fn ski(spki_der: &[u8]) -> Vec<u8> {
    Sha256::digest(spki_der)[..20].to_vec()
}

fn sign(tbs: TbsCertificate, issuer: &KeyPair) -> anyhow::Result<(Certificate, Vec<u8>)> {
    let tbs_der = tbs.to_der().context("encoding a TBSCertificate")?;
    let signature = BitString::from_bytes(&issuer.sign(&tbs_der))
        .context("encoding a certificate signature")?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ecdsa_sha256(),
        signature,
    };
    let der = cert.to_der().context("encoding a certificate")?;
    Ok((cert, der))
}

fn spki_of(key: &KeyPair) -> anyhow::Result<SubjectPublicKeyInfoOwned> {
    SubjectPublicKeyInfoOwned::from_der(key.spki_der()).context("re-reading a public key")
}

fn ca_cert(
    subject: &str,
    issuer: Option<&CaCert>,
    path_len: u8,
    valid_from: u64,
) -> anyhow::Result<CaCert> {
    let key = KeyPair::generate()?;
    let subject = Name::from_str(subject).context("parsing a CA subject name")?;
    let own_ski = ski(key.spki_der());
    let mut extensions = vec![
        extension(true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
        extension(
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(path_len),
            },
        )?,
        extension(
            false,
            &SubjectKeyIdentifier(OctetString::new(own_ski.clone())?),
        )?,
    ];
    if let Some(parent) = issuer {
        // Fulcio's intermediate is restricted to code signing, as its leaves are.
        extensions.push(extension(
            false,
            &ExtendedKeyUsage(vec![ID_KP_CODE_SIGNING]),
        )?);
        extensions.push(extension(
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(parent.ski.clone())?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?);
    }
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial()?,
        signature: ecdsa_sha256(),
        issuer: issuer.map_or_else(
            || subject.clone(),
            |p| p.cert.tbs_certificate.subject.clone(),
        ),
        validity: Validity {
            not_before: utc(valid_from)?,
            not_after: utc(valid_from + CA_LIFETIME.as_secs())?,
        },
        subject,
        subject_public_key_info: spki_of(&key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let signer = issuer.map_or(&key, |p| &p.key);
    let (cert, der) = sign(tbs, signer)?;
    Ok(CaCert {
        key,
        cert,
        der,
        ski: own_ski,
    })
}

/// Percent-encodes what may not appear in an IA5String URI (as Go's `url.URL.String` does
/// for the path Fulcio joins).
fn uri_escape(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    for b in uri.bytes() {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Authority {
    pub fn generate(now: u64) -> anyhow::Result<Self> {
        let valid_from = now.saturating_sub(CA_BACKDATE.as_secs());
        let root = ca_cert("CN=sigstore,O=sigstore.testbed", None, 1, valid_from)?;
        let intermediate = ca_cert(
            "CN=sigstore-intermediate,O=sigstore.testbed",
            Some(&root),
            0,
            valid_from,
        )?;
        Ok(Self {
            root,
            intermediate,
            ct_log: KeyPair::generate()?,
            valid_from,
        })
    }

    pub fn ct_log(&self) -> &KeyPair {
        &self.ct_log
    }

    /// DER of the issuing chain, intermediate first, root last.
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        vec![self.intermediate.der.clone(), self.root.der.clone()]
    }

    /// A leaf for `subject_key` valid from `now` for `lifetime`, with one embedded SCT.
    pub fn issue(
        &self,
        subject_key: &[u8],
        identity: &LeafIdentity,
        now_ms: u64,
        lifetime: Duration,
    ) -> anyhow::Result<Vec<u8>> {
        let spki = SubjectPublicKeyInfoOwned::from_der(subject_key)
            .context("reading the requested public key")?;
        let now = now_ms / 1000;
        let uri = Ia5String::new(&uri_escape(&identity.san_uri))
            .context("encoding the certificate's SAN URI")?;
        let mut extensions = vec![
            extension(true, &KeyUsage(KeyUsages::DigitalSignature.into()))?,
            extension(false, &ExtendedKeyUsage(vec![ID_KP_CODE_SIGNING]))?,
            extension(
                false,
                &SubjectKeyIdentifier(OctetString::new(ski(subject_key))?),
            )?,
            extension(
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(self.intermediate.ski.clone())?),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
            )?,
            // The subject is empty, so RFC 5280 wants the SAN critical.
            extension(
                true,
                &SubjectAltName(vec![GeneralName::UniformResourceIdentifier(uri)]),
            )?,
        ];
        for (oid, value) in &identity.extensions {
            extensions.push(raw_extension(*oid, value.clone())?);
        }
        let mut tbs = TbsCertificate {
            version: Version::V3,
            serial_number: serial()?,
            signature: ecdsa_sha256(),
            issuer: self.intermediate.cert.tbs_certificate.subject.clone(),
            validity: Validity {
                not_before: utc(now)?,
                not_after: utc(now + lifetime.as_secs())?,
            },
            subject: Name::default(),
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        // The SCT signs the TBS as it is without the SCT list (RFC 6962 precertificate
        // entry), which is also what verifiers rebuild by dropping that extension.
        let precert_tbs = tbs.to_der().context("encoding the precertificate TBS")?;
        let issuer_key_hash = super::keys::key_id(self.intermediate.key.spki_der());
        let sct = sct::sign(&self.ct_log, now_ms, &issuer_key_hash, &precert_tbs);
        let list = OctetString::new(sct::encode_list(&[sct]))
            .context("wrapping the SCT list")?
            .to_der()
            .context("encoding the SCT list")?;
        if let Some(exts) = tbs.extensions.as_mut() {
            exts.push(raw_extension(oids::CT_PRECERT_SCTS, list)?);
        }
        let (_, der) = sign(tbs, &self.intermediate.key)?;
        Ok(der)
    }
}

/// A TLS server's certificates: a self-signed root and the leaf it issued for `127.0.0.1`
/// and `localhost`, so a client that trusts the root (and nothing else) reaches the server.
pub(crate) struct TlsServerCerts {
    pub ca_der: Vec<u8>,
    pub leaf_der: Vec<u8>,
    /// The leaf's private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
}

/// Certificates for a local TLS server, valid from an hour before `now` for ten years. The
/// extensions are the ones strict verifiers (webpki, OpenSSL's X509_STRICT) ask for: key
/// usages, key identifiers, the serverAuth purpose and the addresses as SANs.
pub(crate) fn tls_server(now: u64) -> anyhow::Result<TlsServerCerts> {
    let valid_from = now.saturating_sub(CA_BACKDATE.as_secs());
    let root = ca_cert("CN=testbed TLS CA,O=testbed", None, 0, valid_from)?;
    let key = KeyPair::generate()?;
    let localhost = Ia5String::new("localhost").context("encoding a DNS SAN")?;
    let loopback = OctetString::new(vec![127, 0, 0, 1]).context("encoding an IP SAN")?;
    let usage: FlagSet<KeyUsages> = KeyUsages::DigitalSignature.into();
    let extensions = vec![
        extension(true, &KeyUsage(usage))?,
        extension(
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        )?,
        extension(false, &ExtendedKeyUsage(vec![ID_KP_SERVER_AUTH]))?,
        extension(
            false,
            &SubjectKeyIdentifier(OctetString::new(ski(key.spki_der()))?),
        )?,
        extension(
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(root.ski.clone())?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?,
        extension(
            false,
            &SubjectAltName(vec![
                GeneralName::DnsName(localhost),
                GeneralName::IpAddress(loopback),
            ]),
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial()?,
        signature: ecdsa_sha256(),
        issuer: root.cert.tbs_certificate.subject.clone(),
        validity: Validity {
            not_before: utc(valid_from)?,
            not_after: utc(valid_from + CA_LIFETIME.as_secs())?,
        },
        subject: Name::from_str("CN=localhost").context("parsing the server's subject name")?,
        subject_public_key_info: spki_of(&key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let (_, leaf_der) = sign(tbs, &root.key)?;
    Ok(TlsServerCerts {
        ca_der: root.der,
        leaf_der,
        key_pkcs8_der: key.pkcs8_der()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_chains_and_carries_one_sct() {
        let ca = Authority::generate(1_700_000_000).unwrap();
        let client = KeyPair::generate().unwrap();
        let identity = LeafIdentity {
            san_uri: "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main".into(),
            extensions: vec![(oids::fulcio::ISSUER_V1, b"https://issuer".to_vec())],
        };
        let der = ca
            .issue(
                client.spki_der(),
                &identity,
                1_700_000_100_000,
                Duration::from_secs(600),
            )
            .unwrap();
        let leaf = Certificate::from_der(&der).unwrap();
        let tbs = &leaf.tbs_certificate;
        assert_eq!(tbs.issuer, ca.intermediate.cert.tbs_certificate.subject);
        let tbs_der = tbs.to_der().unwrap();
        assert!(super::super::keys::verify(
            ca.intermediate.key.verifying_key(),
            &tbs_der,
            leaf.signature.raw_bytes()
        ));
        let exts = tbs.extensions.as_ref().unwrap();
        let sct_ext = exts
            .iter()
            .find(|e| e.extn_id == oids::CT_PRECERT_SCTS)
            .unwrap();
        let inner = OctetString::from_der(sct_ext.extn_value.as_bytes()).unwrap();
        let scts = sct::parse_list(inner.as_bytes()).unwrap();
        assert_eq!(scts.len(), 1);
        let mut precert = tbs.clone();
        if let Some(e) = precert.extensions.as_mut() {
            e.retain(|e| e.extn_id != oids::CT_PRECERT_SCTS);
        }
        let data = sct::signed_data(
            scts[0].timestamp_ms,
            &super::super::keys::key_id(ca.intermediate.key.spki_der()),
            &precert.to_der().unwrap(),
            &[],
        );
        assert!(super::super::keys::verify(
            ca.ct_log.verifying_key(),
            &data,
            &scts[0].signature
        ));
    }
}
