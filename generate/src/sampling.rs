//! Deterministic sampling: integer-weighted choices from the ChaCha8 stream, and 64-bit hashes
//! as keys of the sets that keep generated names and identities unique.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// 64-bit FNV-1a with a final mix; only used as a set key (a false match merely
/// causes a re-draw, never a duplicate).
pub(crate) fn hash_str(s: &str) -> u64 {
    fnv1a_mixed(s.bytes())
}

/// `hash_str(&s.to_ascii_lowercase())` without the copy.
pub(crate) fn hash_ascii_lower(s: &str) -> u64 {
    fnv1a_mixed(s.bytes().map(|b| b.to_ascii_lowercase()))
}

fn fnv1a_mixed(bytes: impl Iterator<Item = u8>) -> u64 {
    let h = bytes.fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    splitmix(h)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hasher for `u64` keys: one splitmix round. Deterministic, fast.
#[derive(Default)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = splitmix(self.0 ^ v);
    }
}

/// A set of 64-bit keys (hashes, identity numbers).
pub(crate) type U64Set = HashSet<u64, BuildHasherDefault<MixHasher>>;

/// Integer-weighted sampler (cumulative weights, binary search).
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    cum: Vec<u64>,
}

impl Weighted {
    pub(crate) fn new(weights: impl IntoIterator<Item = u64>) -> Weighted {
        let mut acc = 0u64;
        let cum: Vec<u64> = weights
            .into_iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        assert!(acc > 0, "weighted sampler needs a positive total weight");
        Weighted { cum }
    }

    /// An index drawn with the odds of its weight.
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = *self.cum.last().expect("non-empty");
        let r = rng.random_range(0..total);
        self.cum.partition_point(|&c| c <= r)
    }
}

/// One of `items`, each alike.
pub(crate) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}
