//! Deterministic randomness: every random choice is drawn from a generator seeded by the
//! simulator's seed mixed with a few labels, so a seed reproduces catalogs and outcomes.

use rand::{Rng, SeedableRng, rngs::StdRng};

/// The SplitMix64 finaliser: spreads every input bit over the whole output.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A generator for the stream named by `labels` under `seed`.
pub(crate) fn rng_for(seed: u64, labels: &[u64]) -> StdRng {
    let state = labels
        .iter()
        .fold(mix(seed), |acc, label| mix(acc ^ mix(*label)));
    StdRng::seed_from_u64(state)
}

/// A stable 64-bit label for a string (FNV-1a), for naming generator streams.
pub(crate) fn label(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// A 24-hex id shaped like the platform's ObjectIds.
pub(crate) fn object_id(rng: &mut impl Rng) -> String {
    format!("{:08x}{:016x}", rng.r#gen::<u32>(), rng.r#gen::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = object_id(&mut rng_for(7, &[1, 2]));
        assert_eq!(a, object_id(&mut rng_for(7, &[1, 2])));
        assert_ne!(a, object_id(&mut rng_for(7, &[2, 1])));
        assert_ne!(a, object_id(&mut rng_for(8, &[1, 2])));
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
