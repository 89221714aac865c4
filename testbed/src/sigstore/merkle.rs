//! RFC 6962 Merkle trees: Rekor's log, its inclusion proofs, and their verification.
use sha2::{Digest as _, Sha256};

pub(crate) type Hash = [u8; 32];

/// `SHA-256(0x00 || leaf)`.
pub(crate) fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) of the leaf hashes.
pub(crate) fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the audit path of leaf `index`, lowest level first.
pub(crate) fn inclusion_proof(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 || index >= n {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut path = inclusion_proof(index, &leaves[..k]);
        path.push(root(&leaves[k..]));
        path
    } else {
        let mut path = inclusion_proof(index - k, &leaves[k..]);
        path.push(root(&leaves[..k]));
        path
    }
}

/// Checks that `leaf` sits at `index` of a tree of `size` leaves with root `expected`, the
/// way sigstore clients (and Trillian) recompute the root from the audit path.
pub(crate) fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    expected: &Hash,
) -> Result<(), String> {
    if index >= size {
        return Err(format!(
            "inclusion proof index {index} is outside a tree of size {size}"
        ));
    }
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    if proof.len() != inner + border {
        return Err(format!(
            "inclusion proof has wrong size: expected {}, got {}",
            inner + border,
            proof.len()
        ));
    }
    let mut seed = *leaf;
    for (i, h) in proof[..inner].iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    for h in &proof[inner..] {
        seed = node_hash(h, &seed);
    }
    if &seed != expected {
        return Err(format!(
            "inclusion proof contains invalid root hash: expected {}, calculated {}",
            hex::encode(expected),
            hex::encode(seed)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn single_leaf_root_is_the_leaf_hash() {
        let l = leaves(1);
        assert_eq!(root(&l), leaf_hash(b"entry 0"));
        assert!(inclusion_proof(0, &l).is_empty());
        verify_inclusion(0, 1, &l[0], &[], &root(&l)).unwrap();
    }

    #[test]
    fn every_proof_of_every_size_verifies() {
        for n in 1..=17 {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n {
                let proof = inclusion_proof(i, &l);
                verify_inclusion(i as u64, n as u64, &l[i], &proof, &r)
                    .unwrap_or_else(|e| panic!("n={n} i={i}: {e}"));
                // The same path does not prove a neighbour.
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(verify_inclusion(i as u64, n as u64, &l[other], &proof, &r).is_err());
                }
            }
        }
    }

    #[test]
    fn known_three_leaf_tree() {
        let l = leaves(3);
        let expected = node_hash(&node_hash(&l[0], &l[1]), &l[2]);
        assert_eq!(root(&l), expected);
        assert_eq!(inclusion_proof(2, &l), vec![node_hash(&l[0], &l[1])]);
        assert_eq!(inclusion_proof(0, &l), vec![l[1], l[2]]);
    }
}
