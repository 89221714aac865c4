//! RFC 6962 signed certificate timestamps, embedded in Fulcio's certificates.
use super::keys::KeyPair;

/// `hash_algorithm` sha256 and `signature_algorithm` ecdsa of a TLS `digitally-signed`.
const HASH_SHA256: u8 = 4;
const SIG_ECDSA: u8 = 3;
/// `LogEntryType.precert_entry`.
const PRECERT_ENTRY: u16 = 1;

/// One SCT, as a log returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sct {
    pub log_id: [u8; 32],
    pub timestamp_ms: u64,
    pub extensions: Vec<u8>,
    pub hash_algorithm: u8,
    pub signature_algorithm: u8,
    pub signature: Vec<u8>,
}

fn u24(len: usize) -> [u8; 3] {
    let b = (len as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

/// The `digitally-signed` input of a precertificate SCT: version, signature type
/// (certificate_timestamp), timestamp, entry type, the issuer's key hash, the
/// precertificate's TBSCertificate (without the SCT list extension) and the extensions.
pub(crate) fn signed_data(
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs_der: &[u8],
    extensions: &[u8],
) -> Vec<u8> {
    let mut out = vec![0u8, 0u8];
    out.extend(timestamp_ms.to_be_bytes());
    out.extend(PRECERT_ENTRY.to_be_bytes());
    out.extend(issuer_key_hash);
    out.extend(u24(tbs_der.len()));
    out.extend(tbs_der);
    out.extend((extensions.len() as u16).to_be_bytes());
    out.extend(extensions);
    out
}

/// The log's SCT over a precertificate TBS.
pub(crate) fn sign(
    log: &KeyPair,
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs_der: &[u8],
) -> Sct {
    let signature = log.sign(&signed_data(timestamp_ms, issuer_key_hash, tbs_der, &[]));
    Sct {
        log_id: log.key_id(),
        timestamp_ms,
        extensions: Vec::new(),
        hash_algorithm: HASH_SHA256,
        signature_algorithm: SIG_ECDSA,
        signature,
    }
}

fn encode(sct: &Sct) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend(sct.log_id);
    out.extend(sct.timestamp_ms.to_be_bytes());
    out.extend((sct.extensions.len() as u16).to_be_bytes());
    out.extend(&sct.extensions);
    out.push(sct.hash_algorithm);
    out.push(sct.signature_algorithm);
    out.extend((sct.signature.len() as u16).to_be_bytes());
    out.extend(&sct.signature);
    out
}

/// `SignedCertificateTimestampList`: a 2-byte length, then each SCT with a 2-byte length.
pub(crate) fn encode_list(scts: &[Sct]) -> Vec<u8> {
    let mut body = Vec::new();
    for sct in scts {
        let one = encode(sct);
        body.extend((one.len() as u16).to_be_bytes());
        body.extend(one);
    }
    let mut out = (body.len() as u16).to_be_bytes().to_vec();
    out.extend(body);
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("truncated signed certificate timestamp".to_owned());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, String> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
}

/// Parses a `SignedCertificateTimestampList`.
pub(crate) fn parse_list(bytes: &[u8]) -> Result<Vec<Sct>, String> {
    let mut outer = Reader(bytes);
    let total = outer.u16()?;
    let mut list = Reader(outer.take(total)?);
    if !outer.0.is_empty() {
        return Err("trailing bytes after the SCT list".to_owned());
    }
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let len = list.u16()?;
        let mut r = Reader(list.take(len)?);
        if r.u8()? != 0 {
            return Err("unsupported SCT version".to_owned());
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(r.take(32)?);
        let ts = r.take(8)?;
        let mut ts_bytes = [0u8; 8];
        ts_bytes.copy_from_slice(ts);
        let ext_len = r.u16()?;
        let extensions = r.take(ext_len)?.to_vec();
        let hash_algorithm = r.u8()?;
        let signature_algorithm = r.u8()?;
        let sig_len = r.u16()?;
        let signature = r.take(sig_len)?.to_vec();
        out.push(Sct {
            log_id,
            timestamp_ms: u64::from_be_bytes(ts_bytes),
            extensions,
            hash_algorithm,
            signature_algorithm,
            signature,
        });
    }
    Ok(out)
}

/// Whether the SCT's hash algorithm is SHA-256 (the only one sigstore clients accept).
pub(crate) fn is_sha256(sct: &Sct) -> bool {
    sct.hash_algorithm == HASH_SHA256
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_round_trip_and_signature() {
        let log = KeyPair::generate().unwrap();
        let sct = sign(&log, 1_700_000_000_123, &[9u8; 32], b"tbs bytes");
        let parsed = parse_list(&encode_list(std::slice::from_ref(&sct))).unwrap();
        assert_eq!(parsed, vec![sct.clone()]);
        let data = signed_data(sct.timestamp_ms, &[9u8; 32], b"tbs bytes", &[]);
        assert!(super::super::keys::verify(
            log.verifying_key(),
            &data,
            &sct.signature
        ));
        assert!(parse_list(&[0, 5, 0]).is_err());
    }
}
