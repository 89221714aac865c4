//! `cargo bench --bench hashing`: throughput of the digests computed for every uploaded byte
//! (sha256 + blake2b-256 in one pass), the floor of a publish's CPU cost.
use std::time::Instant;

use pypi_oidc_publish::hashing::Hasher;

fn main() {
    let mib = 256;
    let chunk = vec![0x5au8; 256 * 1024];
    let chunks = mib * 4;
    for round in 0..3 {
        let start = Instant::now();
        let mut h = Hasher::default();
        for _ in 0..chunks {
            h.update(&chunk);
        }
        let d = h.finish();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "round {round}: sha256+blake2b-256 over {mib} MiB in {secs:.3}s = {:.0} MiB/s ({})",
            mib as f64 / secs,
            &d.sha256[..8]
        );
    }
}
