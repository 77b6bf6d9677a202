//! Random streams. Our own small generators rather than `rand`'s `SmallRng`, whose algorithm may
//! change between releases and platforms: the same seed must give the same numbers everywhere.

/// One step of SplitMix64's output function: a strong 64-bit mixer.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Key of a stream: derived from the seed and a path of indices (risk, chunk, purpose, ...),
/// never from the thread that happens to run it.
pub(crate) fn stream_key(seed: u64, parts: &[u64]) -> u64 {
    let mut k = mix64(seed ^ 0x5EED_0F1A_1C0D_E001);
    for &p in parts {
        k = mix64(k ^ mix64(p.wrapping_add(0x0123_4567_89AB_CDEF)));
    }
    k
}

const TWO_POW_M53: f64 = 1.0 / (1u64 << 53) as f64;
const TWO_POW_M32: f64 = 1.0 / (1u64 << 32) as f64;

/// xoshiro256++ (Blackman and Vigna): fast, 256 bits of state, good statistical quality.
#[derive(Clone, Debug)]
pub(crate) struct Xoshiro {
    s: [u64; 4],
}

impl Xoshiro {
    pub(crate) fn from_key(key: u64) -> Self {
        let mut st = key;
        let mut s = [0u64; 4];
        for w in &mut s {
            st = st.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *w = mix64(st);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Self { s }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub(crate) fn u01(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * TWO_POW_M53
    }

    /// Fills `out` with a stratified (Latin hypercube) sample of U(0,1): exactly one value in
    /// each of the `n` equal strata, in random order. Over a chunk this removes most of the
    /// sampling noise of the main effects at the cost of one random number per value.
    pub(crate) fn fill_stratified(&mut self, perm: &mut [u32], out: &mut [f64]) {
        let n = out.len();
        debug_assert!(perm.len() >= n);
        let perm = &mut perm[..n];
        for (i, p) in perm.iter_mut().enumerate() {
            *p = i as u32;
        }
        let inv = 1.0 / n as f64;
        // Fisher-Yates from the top: position i is final after its swap, so the value for i is
        // written at once. The high 32 bits pick the swap partner (Lemire's multiply; the bias of
        // at most n/2^32 is irrelevant here), the low 32 bits place the value inside its stratum.
        for i in (1..n).rev() {
            let x = self.next_u64();
            let j = (((x >> 32) * (i as u64 + 1)) >> 32) as usize;
            perm.swap(i, j);
            let jitter = (x & 0xFFFF_FFFF) as f64 * TWO_POW_M32;
            out[i] = (f64::from(perm[i]) + jitter) * inv;
        }
        if n > 0 {
            let jitter = (self.next_u64() & 0xFFFF_FFFF) as f64 * TWO_POW_M32;
            out[0] = (f64::from(perm[0]) + jitter) * inv;
        }
    }
}

impl Xoshiro {
    /// Fills `u1` and `u2` (same length n) with a randomly shifted rank-1 lattice in two
    /// dimensions, in random order: point k is (k/n + s1, k g/n + s2) mod 1 with g near n/phi
    /// (a Fibonacci-like lattice). Each coordinate alone is stratified like a Latin hypercube, and
    /// the pairs cover the unit square far more evenly than independent draws, so statistics of
    /// a function of the two (a loss from frequency and magnitude) converge faster. The random
    /// shift keeps every estimate unbiased; the random order keeps years of different risks
    /// independent.
    pub(crate) fn fill_lattice(&mut self, perm: &mut [u32], u1: &mut [f64], u2: &mut [f64]) {
        let n = u1.len();
        debug_assert!(u2.len() == n && perm.len() >= n);
        if n == 0 {
            return;
        }
        let g = lattice_generator(n as u64);
        let (s1, s2) = (self.u01(), self.u01());
        let perm = &mut perm[..n];
        for (i, p) in perm.iter_mut().enumerate() {
            *p = i as u32;
        }
        for i in (1..n).rev() {
            let j = (((self.next_u64() >> 32) * (i as u64 + 1)) >> 32) as usize;
            perm.swap(i, j);
        }
        let inv = 1.0 / n as f64;
        let wrap = |x: f64| if x >= 1.0 { x - 1.0 } else { x };
        let points = perm.iter().zip(u1.iter_mut()).zip(u2.iter_mut());
        if n.is_power_of_two() {
            // Full chunks: the modulo is a mask.
            let mask = n as u64 - 1;
            for ((p, a), b) in points {
                let k = u64::from(*p);
                *a = wrap(k as f64 * inv + s1);
                *b = wrap(((k * g) & mask) as f64 * inv + s2);
            }
        } else {
            for ((p, a), b) in points {
                let k = u64::from(*p);
                *a = wrap(k as f64 * inv + s1);
                *b = wrap(((k * g) % n as u64) as f64 * inv + s2);
            }
        }
    }
}

/// Generator of the two-dimensional lattice of n points: the integer nearest n / phi that is
/// coprime to n (so the second coordinate is also a permutation of the strata).
pub(crate) fn lattice_generator(n: u64) -> u64 {
    fn gcd(mut a: u64, mut b: u64) -> u64 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }
    if n <= 2 {
        return 1;
    }
    let mut g = ((n as f64) / 1.618_033_988_749_895).round() as u64;
    while gcd(g, n) != 1 {
        g += 1;
    }
    g
}

/// SplitMix64 used for the short per-year streams of event losses in the compound model: one
/// addition and a mix per draw, seeding costs nothing.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix {
    state: u64,
}

impl SplitMix {
    pub(crate) fn new(key: u64) -> Self {
        Self { state: key }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[inline]
    pub(crate) fn u01(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * TWO_POW_M53
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference_sequence_is_stable() {
        // xoshiro256++ from state [1, 2, 3, 4]: first output is rotl(1 + 4, 23) + 1.
        let mut r = Xoshiro { s: [1, 2, 3, 4] };
        assert_eq!(r.next_u64(), (5u64 << 23) + 1);
        let a: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        let mut r2 = Xoshiro { s: [1, 2, 3, 4] };
        r2.next_u64();
        let b: Vec<u64> = (0..4).map(|_| r2.next_u64()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn stratified_sample_has_one_value_per_stratum() {
        let mut r = Xoshiro::from_key(stream_key(7, &[1, 2]));
        let n = 1000;
        let mut perm = vec![0u32; n];
        let mut out = vec![0.0; n];
        r.fill_stratified(&mut perm, &mut out);
        let mut seen = vec![false; n];
        for &u in &out {
            assert!((0.0..=1.0).contains(&u));
            let s = ((u * n as f64) as usize).min(n - 1);
            assert!(!seen[s], "stratum {s} twice");
            seen[s] = true;
        }
        // Not sorted: the strata come in random order.
        assert!(out.windows(2).any(|w| w[0] > w[1]));
    }

    #[test]
    fn lattice_is_stratified_in_both_coordinates() {
        for n in [4096usize, 1000, 7] {
            let mut r = Xoshiro::from_key(11);
            let mut perm = vec![0u32; n];
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            r.fill_lattice(&mut perm, &mut a, &mut b);
            for u in [&a, &b] {
                let mut seen = vec![false; n];
                for &x in u {
                    assert!((0.0..1.0).contains(&x));
                    let s = ((x * n as f64) as usize).min(n - 1);
                    assert!(!seen[s], "n={n}: stratum {s} twice");
                    seen[s] = true;
                }
            }
        }
        assert_eq!(lattice_generator(4096), 2531);
    }

    #[test]
    fn stream_keys_differ_by_every_part() {
        let a = stream_key(1, &[0, 0]);
        assert_ne!(a, stream_key(2, &[0, 0]));
        assert_ne!(a, stream_key(1, &[1, 0]));
        assert_ne!(a, stream_key(1, &[0, 1]));
        assert_ne!(stream_key(1, &[0, 1]), stream_key(1, &[1, 0]));
    }
}
