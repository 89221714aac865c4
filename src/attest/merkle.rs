//! RFC 6962/9162 Merkle inclusion proofs, to check a transparency-log answer before it is
//! sent to the index (PyPI refuses the whole upload if the proof does not verify).
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root that `proof` leads to from the leaf at `index` of a tree of `size` leaves, or
/// `None` when the proof has the wrong shape for that position (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree hash of `leaves` computed the slow way (RFC 6962 §2.1's MTH).
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                // The largest power of two below n.
                let k = n.next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The audit path for leaf `m` (RFC 6962 §2.1.1's PATH).
    fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = n.next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn every_leaf_of_trees_up_to_twenty_proves_into_the_root() {
        for size in 1..=20usize {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&[i as u8])).collect();
            let root = mth(&leaves);
            for (i, leaf) in leaves.iter().enumerate() {
                let proof = path(i, &leaves);
                assert_eq!(
                    root_from_inclusion_proof(i as u64, size as u64, leaf, &proof),
                    Some(root),
                    "leaf {i} of {size}"
                );
            }
        }
    }

    #[test]
    fn wrong_leaf_position_or_shape_does_not_prove() {
        let leaves: Vec<Hash> = (0..7u8).map(|i| leaf_hash(&[i])).collect();
        let root = mth(&leaves);
        let proof = path(3, &leaves);
        assert_ne!(
            root_from_inclusion_proof(3, 7, &leaf_hash(b"other"), &proof),
            Some(root)
        );
        assert_ne!(
            root_from_inclusion_proof(2, 7, &leaves[3], &proof),
            Some(root)
        );
        assert_eq!(
            root_from_inclusion_proof(3, 7, &leaves[3], &proof[..1]),
            None
        );
        assert_eq!(root_from_inclusion_proof(7, 7, &leaves[3], &proof), None);
        // A one-entry tree: the root is the leaf hash itself and the proof is empty.
        let one = leaf_hash(b"body");
        assert_eq!(root_from_inclusion_proof(0, 1, &one, &[]), Some(one));
    }
}
