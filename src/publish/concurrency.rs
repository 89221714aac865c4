//! How many uploads are in flight at once: sized to the work, lowered when the index asks.
//!
//! A small upload costs a round trip and the index's own work on the file (Warehouse hashes
//! and stores a file before it answers), which overlap across uploads: many small ones in
//! flight hide that wait. A huge upload is bound by the link and by hashing on the runner's
//! cores; more of them in flight only split the same bandwidth and leave more work at risk
//! when one fails. Memory is bounded apart from the count: only an upload that is sending its
//! file holds buffers (a few 512 KiB chunks; files stream from disk, never whole), and a
//! fixed number of bodies are sent at once ([`BODIES_AT_ONCE`]), while the uploads whose
//! files are sent wait on the index's answers holding nothing.
use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::Http;
use crate::http::FILE_CHUNK;
use crate::index::upload::BodySlots;

/// `--concurrency`: a number, or `auto` (sized to the files to upload). As small as a
/// number (no zero), so the parsed flags stay small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    Auto,
    Fixed(NonZeroUsize),
}

impl FromStr for Concurrency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("auto") || s.is_empty() {
            return Ok(Concurrency::Auto);
        }
        match s.parse::<usize>() {
            Ok(n) => NonZeroUsize::new(n)
                .map(Concurrency::Fixed)
                .ok_or_else(|| "must be at least 1, or `auto`".to_owned()),
            Err(_) => Err("not a number of files nor `auto`".to_owned()),
        }
    }
}

impl Concurrency {
    /// The number given, else `default` (for work that is not sized by file sizes).
    pub fn fixed_or(self, default: usize) -> usize {
        match self {
            Concurrency::Fixed(n) => n.get(),
            Concurrency::Auto => default,
        }
    }
}

impl fmt::Display for Concurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Concurrency::Auto => f.write_str("auto"),
            Concurrency::Fixed(n) => write!(f, "{n}"),
        }
    }
}

/// The most uploads in flight whatever the files: a wide release (20 to 60 platform wheels)
/// goes up in one or two waves, and one client still does not look like a crowd to an index
/// that rate-limits (its 429 halves this for the rest of the publish).
pub const MAX_IN_FLIGHT: usize = 32;
/// Bytes the uploads in flight carry together: enough to keep a far index busy while its
/// answers come back, few enough that huge files go a handful at a time.
pub const BYTES_IN_FLIGHT: u64 = 128 << 20;
/// What the buffers of the bodies being sent may hold together: with what the program needs
/// besides (connections, TLS, the allocator's slack across threads), a publish stays under
/// 30 MiB of memory. 12 MiB peaked at 31 MiB over HTTP/2 in the far-index benchmark; 8 MiB
/// kept it under 28 MiB and cost no time there (a local body is sent in milliseconds, the
/// index's answer takes hundreds).
pub const MEMORY_BUDGET: u64 = 8 << 20;
/// What one body being sent holds at most: the chunk read and hashed, and the one the
/// connection is still sending.
pub const MEMORY_PER_BODY: u64 = 2 * FILE_CHUNK as u64;
/// How many files are read and sent at once, whatever the uploads in flight: the rest of
/// the uploads in flight wait on the index's answers, which costs no buffer.
pub const BODIES_AT_ONCE: usize = (MEMORY_BUDGET / MEMORY_PER_BODY) as usize;
// Checked when built: the bodies fit the budget, and at least two go at once.
const _: () = assert!(BODIES_AT_ONCE as u64 * MEMORY_PER_BODY <= MEMORY_BUDGET);
const _: () = assert!(BODIES_AT_ONCE >= MIN_AUTO);
/// Even huge files go two at a time: one hashes while the other waits on the index.
const MIN_AUTO: usize = 2;

/// How many of the files of these sizes to upload at once. An explicit number wins.
pub fn size(choice: Concurrency, sizes: &[u64]) -> usize {
    match choice {
        Concurrency::Fixed(n) => n.get(),
        Concurrency::Auto => auto(sizes),
    }
}

fn auto(sizes: &[u64]) -> usize {
    let files = sizes.len();
    if files == 0 {
        return 1;
    }
    let total: u64 = sizes.iter().sum();
    let mean = (total / files as u64).max(1);
    // Memory is not counted here: the bodies sent at once are bounded on their own.
    let by_work = usize::try_from(BYTES_IN_FLIGHT / mean)
        .unwrap_or(usize::MAX)
        .clamp(MIN_AUTO, MAX_IN_FLIGHT);
    by_work.min(files).max(1)
}

/// The uploads' shared limit on how many are in flight. An index that answers 429 (or
/// sends `Retry-After`) halves it for the rest of the publish: once per wave, since the
/// uploads already in flight when it was lowered were sent at the old limit and their own
/// 429s say nothing new. It also carries the publish's one bound on the files being sent
/// at a time ([`BODIES_AT_ONCE`]), which no 429 changes.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    permits: Arc<Semaphore>,
    state: Mutex<State>,
    bodies: BodySlots,
}

struct State {
    limit: usize,
    /// Permits still to take out of circulation as uploads in flight finish.
    debt: usize,
    /// Bumped at each lowering.
    generation: u64,
    warned: bool,
}

/// One upload's place in flight; freed when dropped.
pub struct Permit {
    inner: Arc<Inner>,
    permit: Option<OwnedSemaphorePermit>,
    generation: u64,
}

impl Permit {
    /// The limiter's generation this upload started in.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(permit) = self.permit.take() {
            if state.debt > 0 {
                state.debt -= 1;
                permit.forget();
            }
        }
    }
}

impl Limiter {
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Limiter {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(limit)),
                state: Mutex::new(State {
                    limit,
                    debt: 0,
                    generation: 0,
                    warned: false,
                }),
                bodies: BodySlots::new(BODIES_AT_ONCE),
            }),
        }
    }

    /// The slots of the files being sent, shared by every upload of the publish.
    pub fn bodies(&self) -> &BodySlots {
        &self.inner.bodies
    }

    /// The limit `choice` gives for files of these sizes.
    pub fn sized(choice: Concurrency, sizes: &[u64]) -> Self {
        Self::new(size(choice, sizes))
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state().limit
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait for a place in flight.
    pub async fn acquire(&self) -> Permit {
        // The semaphore is never closed, so this cannot fail; if it ever were, going on
        // without a place is better than stopping the publish.
        let permit = self.inner.permits.clone().acquire_owned().await.ok();
        let generation = self.state().generation;
        Permit {
            inner: self.inner.clone(),
            permit,
            generation,
        }
    }

    /// `http`, whose requests lower this limit when the index asks the upload holding
    /// `place` to slow down.
    pub fn watching(&self, http: &Http, place: &Permit) -> Http {
        let limiter = self.clone();
        let generation = place.generation();
        http.on_throttle(Arc::new(move || {
            limiter.throttled(generation);
        }))
    }

    /// The index asked an upload that started in `generation` to slow down: halve the
    /// limit, unless it was lowered since that upload started. Returns the new limit when
    /// it was lowered. The first lowering is told on the log; later ones only at debug.
    pub fn throttled(&self, generation: u64) -> Option<usize> {
        let mut state = self.state();
        if generation != state.generation || state.limit <= 1 {
            return None;
        }
        let lowered = (state.limit / 2).max(1);
        let cut = state.limit - lowered;
        let taken = self.inner.permits.forget_permits(cut);
        state.debt += cut - taken;
        state.limit = lowered;
        state.generation += 1;
        if state.warned {
            tracing::debug!("the index asked again to slow down; {lowered} uploads at once now");
        } else {
            state.warned = true;
            tracing::warn!(
                "the index asked to slow down (HTTP 429 or Retry-After): uploading at most \
                 {lowered} file{} at once for the rest of this publish",
                if lowered == 1 { "" } else { "s" }
            );
        }
        Some(lowered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn fixed(n: usize) -> Concurrency {
        Concurrency::Fixed(NonZeroUsize::new(n).unwrap())
    }

    #[test]
    fn parses_auto_and_numbers_and_refuses_the_rest() {
        assert_eq!("auto".parse(), Ok(Concurrency::Auto));
        assert_eq!("AUTO".parse(), Ok(Concurrency::Auto));
        assert_eq!("".parse(), Ok(Concurrency::Auto));
        assert_eq!("4".parse(), Ok(fixed(4)));
        assert!("0".parse::<Concurrency>().is_err());
        assert!("many".parse::<Concurrency>().is_err());
        assert!("-1".parse::<Concurrency>().is_err());
        assert_eq!(Concurrency::Auto.to_string(), "auto");
        assert_eq!(fixed(3).to_string(), "3");
    }

    #[test]
    fn an_explicit_number_wins() {
        let wide = vec![4 * MIB; 24];
        assert_eq!(size(fixed(4), &wide), 4);
        assert_eq!(size(fixed(40), &[200 * MIB]), 40);
    }

    #[test]
    fn a_wide_release_of_small_files_goes_all_at_once_and_its_bodies_within_the_budget() {
        // 24 wheels of 4 MiB and an sdist: every file in flight at once, however few
        // bodies the memory budget lets be sent at once.
        let mut wide = vec![4 * MIB; 24];
        wide.push(30 * 1024);
        assert_eq!(size(Concurrency::Auto, &wide), 25);
        const { assert!(BODIES_AT_ONCE < 25) };
        // Tiny files: still bounded.
        assert_eq!(size(Concurrency::Auto, &vec![1024; 200]), MAX_IN_FLIGHT);
    }

    #[test]
    fn huge_files_go_few_at_a_time() {
        assert_eq!(size(Concurrency::Auto, &[32 * MIB; 8]), 4);
        assert_eq!(size(Concurrency::Auto, &[90 * MIB; 6]), 2);
        // Larger files never get more in flight than smaller ones.
        let mut last = usize::MAX;
        for mib in [1, 4, 8, 16, 32, 64, 100, 1000] {
            let n = size(Concurrency::Auto, &[mib * MIB; 30]);
            assert!(n <= last, "{mib} MiB: {n} > {last}");
            last = n;
        }
    }

    #[test]
    fn never_more_than_the_files_nor_less_than_one() {
        assert_eq!(size(Concurrency::Auto, &[200 * MIB]), 1);
        assert_eq!(size(Concurrency::Auto, &[MIB; 3]), 3);
        assert_eq!(size(Concurrency::Auto, &[]), 1);
        assert_eq!(size(Concurrency::Auto, &[0, 0]), 2);
    }

    /// Places in flight available right now, without waiting.
    fn free_places(limiter: &Limiter) -> usize {
        limiter.inner.permits.available_permits()
    }

    #[tokio::test]
    async fn a_429_halves_the_places_in_flight_once_per_wave() {
        let limiter = Limiter::new(8);
        let held: Vec<Permit> =
            futures_util::future::join_all((0..8).map(|_| limiter.acquire())).await;
        assert_eq!(free_places(&limiter), 0);
        let wave = held[0].generation();
        assert_eq!(limiter.throttled(wave), Some(4));
        // The other uploads of the same wave hit the same storm: no further halving.
        assert_eq!(limiter.throttled(held[1].generation()), None);
        assert_eq!(limiter.limit(), 4);
        // As the uploads in flight finish, only 4 places come back.
        drop(held);
        assert_eq!(free_places(&limiter), 4);
        let next: Vec<Permit> =
            futures_util::future::join_all((0..4).map(|_| limiter.acquire())).await;
        assert_eq!(free_places(&limiter), 0);
        // A 429 to an upload started after the lowering lowers again, down to one.
        assert_eq!(limiter.throttled(next[0].generation()), Some(2));
        drop(next);
        assert_eq!(free_places(&limiter), 2);
        let p = limiter.acquire().await;
        assert_eq!(limiter.throttled(p.generation()), Some(1));
        // One at a time is the floor.
        let now = limiter.state().generation;
        assert_eq!(limiter.throttled(now), None);
        drop(p);
        assert_eq!(limiter.limit(), 1);
        assert_eq!(free_places(&limiter), 1);
    }

    #[tokio::test]
    async fn lowering_takes_free_places_at_once() {
        let limiter = Limiter::new(6);
        assert_eq!(limiter.throttled(0), Some(3));
        assert_eq!(free_places(&limiter), 3);
    }
}
