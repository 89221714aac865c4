//! The digests an upload carries, computed while the bytes stream past.
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    pub sha256: String,
    pub blake2_256: String,
}

/// Below this, handing a chunk to another thread costs more than hashing it here.
const PARALLEL_MIN: usize = 64 * 1024;

/// Both digests in one pass over the data: sha256 uses SHA-NI where the CPU has it (sha2
/// detects it at run time), blake2b uses AVX2 (blake2b_simd), the fastest well-kept crates
/// for each (`cargo bench --bench hashing`).
#[derive(Clone)]
pub struct Hasher {
    sha256: Sha256,
    blake2: blake2b_simd::State,
    len: u64,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher {
            sha256: Sha256::new(),
            blake2: blake2b_simd::Params::new().hash_length(32).to_state(),
            len: 0,
        }
    }
}

impl Hasher {
    pub fn update(&mut self, chunk: &[u8]) {
        self.sha256.update(chunk);
        self.blake2.update(chunk);
        self.len += chunk.len() as u64;
    }

    /// Hash a chunk with the two digests on two cores: blake2b on a blocking thread while
    /// sha256 runs here. One large file then hashes at the speed of the slower digest rather
    /// than of both in turn.
    pub async fn update_parallel(&mut self, chunk: bytes::Bytes) {
        if chunk.len() < PARALLEL_MIN {
            self.update(&chunk);
            return;
        }
        let mut blake = self.blake2.clone();
        let theirs = chunk.clone();
        let task = tokio::task::spawn_blocking(move || {
            blake.update(&theirs);
            blake
        });
        self.sha256.update(&chunk);
        self.len += chunk.len() as u64;
        match task.await {
            Ok(blake) => self.blake2 = blake,
            // The pool is shutting down: finish on this thread rather than lose the digest.
            Err(_) => {
                self.blake2.update(&chunk);
            }
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> Digests {
        Digests {
            sha256: hex::encode(self.sha256.finalize()),
            blake2_256: self.blake2.finalize().to_hex().to_string(),
        }
    }
}

/// Hash a whole file from disk, off the async threads.
pub async fn hash_file(path: &std::path::Path) -> anyhow::Result<Digests> {
    use anyhow::Context;
    use std::io::Read;
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(&path)
            .with_context(|| format!("cannot open {} to hash it", path.display()))?;
        let mut h = Hasher::default();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f
                .read(&mut buf)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(h.finish())
    })
    .await
    .context("hashing task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let mut h = Hasher::default();
        h.update(b"ab");
        h.update(b"c");
        let d = h.finish();
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // BLAKE2b-256("abc"), as Python's hashlib.blake2b(b"abc", digest_size=32) gives.
        assert_eq!(
            d.blake2_256,
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn parallel_update_equals_sequential() {
        let data: Vec<u8> = (0..(3 << 20) + 17).map(|i| (i * 31 % 251) as u8).collect();
        let mut seq = Hasher::default();
        seq.update(&data);
        let mut par = Hasher::default();
        for chunk in data.chunks(256 * 1024 + 3) {
            par.update_parallel(bytes::Bytes::copy_from_slice(chunk))
                .await;
        }
        assert_eq!(par.len(), data.len() as u64);
        assert_eq!(par.finish(), seq.finish());
    }
}
