//! Deterministic sample points for comparing expressions with free variables. No RNG state:
//! a point is a pure function of (variable name, point index), so every thread agrees.

use crate::numeric::C;

pub(crate) fn hash_str(s: &str) -> u64 {
    // FNV-1a: stable across platforms and runs (std's hasher is randomly seeded).
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Value of variable `name` at point `k`: in [0.35, 2.35), away from 0 and 1 where many
/// distinct expressions coincide.
pub(crate) fn sample(name: &str, k: u32) -> C {
    let h = hash_str(name) ^ (k as u64).wrapping_mul(0x9E3779B97F4A7C15);
    let h = h ^ (h >> 29);
    let h = h.wrapping_mul(0xBF58476D1CE4E5B9);
    let h = h ^ (h >> 32);
    let u = (h >> 11) as f64 / (1u64 << 53) as f64;
    let mut v = 0.35 + 2.0 * u;
    if (v - 1.0).abs() < 0.05 {
        v += 0.1;
    }
    C::r(v)
}

pub(crate) const POINTS: u32 = 5;
