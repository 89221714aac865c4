//! Rekor's signed checkpoints: a signed note over the tree's origin, size and root hash.
use super::encoding::{b64, b64_decode};
use super::keys::KeyPair;
use super::merkle::Hash;

/// The signed note text Rekor puts in `inclusionProof.checkpoint`.
pub(crate) fn sign(
    origin: &str,
    size: u64,
    root: &Hash,
    timestamp_nanos: u128,
    key_name: &str,
    key: &KeyPair,
) -> String {
    let note = format!(
        "{origin}\n{size}\n{}\nTimestamp: {timestamp_nanos}\n",
        b64(root)
    );
    let mut blob = key.key_id()[..4].to_vec();
    blob.extend(key.sign(note.as_bytes()));
    format!("{note}\n\u{2014} {key_name} {}\n", b64(&blob))
}

/// A parsed checkpoint: the note that was signed, its root, and its
/// signatures as (key hint, signature).
pub(crate) struct Checkpoint {
    pub note: String,
    pub root: Vec<u8>,
    pub signatures: Vec<([u8; 4], Vec<u8>)>,
}

/// Parses a signed note the way sigstore clients do (one blank line between the note and
/// its signature lines, each `— NAME BASE64`).
pub(crate) fn parse(text: &str) -> Result<Checkpoint, String> {
    if text.matches("\n\n").count() != 1 {
        return Err(
            "note must contain one blank line, delineating the text from the signature block"
                .to_owned(),
        );
    }
    let Some((head, sigs)) = text.split_once("\n\n") else {
        return Err("malformed Note: missing signature block".to_owned());
    };
    let note = format!("{head}\n");
    if sigs.is_empty() {
        return Err("malformed Note: must contain at least one signature".to_owned());
    }
    if !sigs.ends_with('\n') {
        return Err("malformed Note: data section must end with newline".to_owned());
    }
    let mut signatures = Vec::new();
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let mut parts = rest.split(' ');
        let (Some(_name), Some(sig), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Some(bytes) = b64_decode(sig) else {
            continue;
        };
        if bytes.len() < 5 {
            return Err("malformed Note: signature contains too few bytes".to_owned());
        }
        let mut hint = [0u8; 4];
        hint.copy_from_slice(&bytes[..4]);
        signatures.push((hint, bytes[4..].to_vec()));
    }
    let lines: Vec<&str> = head.split('\n').collect();
    if lines.len() < 3 {
        return Err("malformed LogCheckpoint: too few items in header".to_owned());
    }
    if lines[0].is_empty() {
        return Err("malformed LogCheckpoint: empty origin".to_owned());
    }
    lines[1]
        .parse::<u64>()
        .map_err(|_| "malformed LogCheckpoint: invalid log size".to_owned())?;
    let root = b64_decode(lines[2])
        .ok_or_else(|| "malformed LogCheckpoint: invalid root hash".to_owned())?;
    Ok(Checkpoint {
        note,
        root,
        signatures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_note_round_trip() {
        let key = KeyPair::generate().unwrap();
        let root = [7u8; 32];
        let text = sign("rekor.local - 42", 5, &root, 123, "rekor.local", &key);
        let cp = parse(&text).unwrap();
        assert_eq!(cp.root, root.to_vec());
        assert!(cp.note.starts_with("rekor.local - 42\n5\n"));
        assert!(cp.note.ends_with("Timestamp: 123\n"));
        let (hint, sig) = &cp.signatures[0];
        assert_eq!(hint[..], key.key_id()[..4]);
        assert!(super::super::keys::verify(
            key.verifying_key(),
            cp.note.as_bytes(),
            sig
        ));
    }
}
