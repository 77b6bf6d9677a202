//! Distributions: the input description ([`Dist`]) and the fast samplers built from it.
//!
//! Every sampler maps one uniform number to one variate by its inverse CDF. That keeps the number
//! of random draws per simulated year fixed (so control scenarios can reuse the baseline's random
//! numbers) and makes PERT cheap: its inverse CDF is tabulated once per distribution.

// Numerical code keeps the names of the formulas (a, b, x, u, ...).
#![allow(clippy::many_single_char_names)]

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// z such that Phi(z) = 0.95: a lognormal's 90% interval is exp(mu +- Z95 sigma).
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// A distribution as written in the input (`{pert: {low, mode, high}}`, `{constant: 5}`, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Modified PERT: Beta(alpha, beta) on [low, high] with
    /// alpha = 1 + gamma (mode - low)/(high - low), beta = 1 + gamma (high - mode)/(high - low).
    Pert {
        low: f64,
        mode: f64,
        high: f64,
        /// Weight of the mode, 4 when absent (the classic PERT).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gamma: Option<f64>,
    },
    /// Lognormal given by its 90% interval: `low` is the 5th and `high` the 95th percentile.
    Lognormal {
        low: f64,
        high: f64,
    },
    Triangular {
        low: f64,
        mode: f64,
        high: f64,
    },
    Uniform {
        low: f64,
        high: f64,
    },
    Constant(f64),
}

/// Default PERT gamma.
pub const DEFAULT_GAMMA: f64 = 4.0;

impl Dist {
    /// Exact mean of the distribution.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Pert {
                low,
                mode,
                high,
                gamma,
            } => {
                let g = gamma.unwrap_or(DEFAULT_GAMMA);
                (low + g * mode + high) / (g + 2.0)
            }
            Dist::Lognormal { low, high } => {
                let (mu, sigma) = lognormal_params(low, high);
                (mu + 0.5 * sigma * sigma).exp()
            }
            Dist::Triangular { low, mode, high } => (low + mode + high) / 3.0,
            Dist::Uniform { low, high } => 0.5 * (low + high),
            Dist::Constant(c) => c,
        }
    }

    /// The name used in the input (`pert`, `lognormal`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Dist::Pert { .. } => "pert",
            Dist::Lognormal { .. } => "lognormal",
            Dist::Triangular { .. } => "triangular",
            Dist::Uniform { .. } => "uniform",
            Dist::Constant(_) => "constant",
        }
    }
}

/// (mu, sigma) of the underlying normal from a 90% interval.
pub fn lognormal_params(low: f64, high: f64) -> (f64, f64) {
    let (a, b) = (libm::log(low), libm::log(high));
    (0.5 * (a + b), (b - a) / (2.0 * Z95))
}

/// Modified-PERT Beta shape parameters.
pub fn pert_shape(low: f64, mode: f64, high: f64, gamma: f64) -> (f64, f64) {
    let r = high - low;
    (
        1.0 + gamma * (mode - low) / r,
        1.0 + gamma * (high - mode) / r,
    )
}

/// Entries of an inverse-CDF table minus one (a power of two, so the index is a cheap multiply).
pub(crate) const TABLE_CELLS: usize = 2048;

/// A ready-to-use sampler: `sample(u)` maps u in [0, 1) to a variate.
#[derive(Clone, Debug)]
pub(crate) enum Sampler {
    /// Inverse CDF tabulated at u = k / TABLE_CELLS, already scaled to [low, high], linearly
    /// interpolated between entries.
    Table(Box<BetaTable>),
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Triangular {
        low: f64,
        high: f64,
        fc: f64,
        a: f64,
        b: f64,
    },
    Uniform {
        low: f64,
        width: f64,
    },
    Constant(f64),
}

impl Sampler {
    pub(crate) fn new(d: &Dist) -> Self {
        match *d {
            Dist::Pert {
                low,
                mode,
                high,
                gamma,
            } => {
                if high <= low {
                    return Sampler::Constant(low);
                }
                let (a, b) = pert_shape(low, mode, high, gamma.unwrap_or(DEFAULT_GAMMA));
                let q = beta_quantile_table(a, b);
                Sampler::Table(Box::new(BetaTable::new(&q, low, high, a, b)))
            }
            Dist::Lognormal { low, high } => {
                let (mu, sigma) = lognormal_params(low, high);
                Sampler::Lognormal { mu, sigma }
            }
            Dist::Triangular { low, mode, high } => {
                if high <= low {
                    return Sampler::Constant(low);
                }
                let w = high - low;
                Sampler::Triangular {
                    low,
                    high,
                    fc: (mode - low) / w,
                    a: w * (mode - low),
                    b: w * (high - mode),
                }
            }
            Dist::Uniform { low, high } => Sampler::Uniform {
                low,
                width: high - low,
            },
            Dist::Constant(c) => Sampler::Constant(c),
        }
    }

    #[inline]
    pub(crate) fn sample(&self, u: f64) -> f64 {
        match self {
            Sampler::Table(t) => table_lookup(t, u),
            Sampler::Lognormal { mu, sigma } => libm::exp(mu + sigma * inverse_normal(u)),
            Sampler::Triangular {
                low,
                high,
                fc,
                a,
                b,
            } => {
                if u < *fc {
                    low + (u * a).sqrt()
                } else {
                    high - ((1.0 - u) * b).sqrt()
                }
            }
            Sampler::Uniform { low, width } => low + u * width,
            Sampler::Constant(c) => *c,
        }
    }

    /// Replaces each uniform in `us` by its variate. One loop per kind keeps the hot path free
    /// of per-value dispatch.
    pub(crate) fn transform(&self, us: &mut [f64]) {
        match self {
            Sampler::Table(t) => {
                for u in us {
                    *u = table_lookup(t, *u);
                }
            }
            Sampler::Constant(c) => us.fill(*c),
            _ => {
                for u in us {
                    *u = self.sample(*u);
                }
            }
        }
    }

    pub(crate) fn is_constant(&self) -> bool {
        matches!(self, Sampler::Constant(_))
    }
}

/// Table cells at each end interpolated along a power law rather than a straight line.
const TAIL_CELLS: usize = 8;

/// A tabulated Beta inverse CDF on [low, high].
#[derive(Clone, Debug)]
pub(crate) struct BetaTable {
    q: Box<[f64]>,
    low: f64,
    high: f64,
    /// Per tail cell, the exponent of the local power law: Q - low ~ u^e in the lower tail,
    /// high - Q ~ (1 - u)^e in the upper one (NaN: interpolate linearly).
    e_lo: [f64; TAIL_CELLS],
    e_hi: [f64; TAIL_CELLS],
}

impl BetaTable {
    /// `q`: standardised quantiles on [0, 1].
    fn new(q: &[f64], low: f64, high: f64, a: f64, b: f64) -> Self {
        let w = high - low;
        let n = TABLE_CELLS as f64;
        let exponent = |d0: f64, d1: f64, u0: f64, u1: f64| {
            let e = (d1 / d0).ln() / (u1 / u0).ln();
            if d0 > 0.0 && d1 > 0.0 && e.is_finite() {
                e
            } else {
                f64::NAN
            }
        };
        let mut e_lo = [f64::NAN; TAIL_CELLS];
        let mut e_hi = [f64::NAN; TAIL_CELLS];
        // Outermost cells: the power law through the cell's inner edge and its midpoint; where
        // that is degenerate, the limiting exponent (CDF ~ x^a at low, ~ 1 - (1-x)^b at high).
        let (qh_lo, qh_hi) = (q[TABLE_CELLS + 1], q[TABLE_CELLS + 2]);
        e_lo[0] = exponent(qh_lo, q[1], 0.5 / n, 1.0 / n);
        if e_lo[0].is_nan() {
            e_lo[0] = 1.0 / a;
        }
        e_hi[0] = exponent(1.0 - qh_hi, 1.0 - q[TABLE_CELLS - 1], 0.5 / n, 1.0 / n);
        if e_hi[0].is_nan() {
            e_hi[0] = 1.0 / b;
        }
        let q = &q[..=TABLE_CELLS];
        for k in 1..TAIL_CELLS {
            e_lo[k] = exponent(q[k], q[k + 1], k as f64 / n, (k + 1) as f64 / n);
            let j = TABLE_CELLS - k;
            e_hi[k] = exponent(1.0 - q[j], 1.0 - q[j - 1], k as f64 / n, (k + 1) as f64 / n);
        }
        Self {
            q: q.iter().map(|x| low + w * x).collect(),
            low,
            high,
            e_lo,
            e_hi,
        }
    }
}

#[inline]
fn table_lookup(t: &BetaTable, u: f64) -> f64 {
    let x = u * TABLE_CELLS as f64;
    let i = (x as usize).min(TABLE_CELLS - 1);
    let f = x - i as f64;
    if !(TAIL_CELLS..TABLE_CELLS - TAIL_CELLS).contains(&i) {
        return table_tail(t, i, x);
    }
    let lo = t.q[i];
    lo + f * (t.q[i + 1] - lo)
}

/// x^e for x > 0 as exp(e ln x): plenty accurate here and much cheaper than a full `pow`.
#[inline]
fn powf_fast(x: f64, e: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        libm::exp(e * libm::log(x))
    }
}

/// Near the ends the quantile function behaves like a power of u (the CDF like x^alpha near
/// low, 1 - (1 - x)^beta near high): a straight line there would be off in the far tails, so
/// follow the local power law through the cell's end points. 2 * TAIL_CELLS / TABLE_CELLS (1/128)
/// of draws take this path.
#[cold]
fn table_tail(t: &BetaTable, i: usize, x: f64) -> f64 {
    let n = TABLE_CELLS as f64;
    if i < TAIL_CELLS {
        let e = t.e_lo[i];
        if i == 0 {
            return t.low + (t.q[1] - t.low) * powf_fast(x, e);
        }
        if e.is_nan() {
            return t.q[i] + (x - i as f64) * (t.q[i + 1] - t.q[i]);
        }
        t.low + (t.q[i] - t.low) * powf_fast(x / i as f64, e)
    } else {
        // Distance from the top, in cells.
        let k = TABLE_CELLS - 1 - i;
        let y = n - x;
        let e = t.e_hi[k];
        if k == 0 {
            return t.high - (t.high - t.q[TABLE_CELLS - 1]) * powf_fast(y, e);
        }
        if e.is_nan() {
            return t.q[i] + (x - i as f64) * (t.q[i + 1] - t.q[i]);
        }
        t.high - (t.high - t.q[i + 1]) * powf_fast(y / k as f64, e)
    }
}

/// Cells of the integration grid on [0, 1] for the Beta CDF.
const GRID_CELLS: usize = 512;
/// Three-point Gauss-Legendre nodes on [0, 1] and their weights.
const GL_T: [f64; 3] = [
    0.5 - 0.387_298_334_620_741_7,
    0.5,
    0.5 + 0.387_298_334_620_741_7,
];
const GL_W: [f64; 3] = [5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0];

/// ln x and ln(1 - x) at every grid point and quadrature node, shared by all tables: building a
/// table then costs one `exp` per node.
struct LogGrid {
    /// Cell edges j / GRID_CELLS for j = 1 .. GRID_CELLS - 1 (index j).
    edge: Vec<(f64, f64)>,
    /// Quadrature nodes, three per cell.
    node: Vec<(f64, f64)>,
}

fn log_grid() -> &'static LogGrid {
    static GRID: OnceLock<LogGrid> = OnceLock::new();
    GRID.get_or_init(|| {
        let h = 1.0 / GRID_CELLS as f64;
        let lg = |x: f64| (libm::log(x), libm::log1p(-x));
        let edge = (0..=GRID_CELLS)
            .map(|j| {
                if j == 0 || j == GRID_CELLS {
                    (0.0, 0.0)
                } else {
                    lg(j as f64 * h)
                }
            })
            .collect();
        let node = (0..GRID_CELLS)
            .flat_map(|i| GL_T.iter().map(move |t| lg((i as f64 + t) * h)))
            .collect();
        LogGrid { edge, node }
    })
}

/// Inverse CDF of Beta(a, b) (a, b >= 1) at u = k / TABLE_CELLS, k = 0 ..= TABLE_CELLS, followed
/// by its values at u = 1 / (2 TABLE_CELLS) and 1 - 1 / (2 TABLE_CELLS).
///
/// The CDF is integrated on a 1024-cell grid (3-point Gauss-Legendre per cell, normalised by the
/// total so the Beta function is never needed); inside a cell it is the cubic Hermite interpolant
/// of the CDF and the density at the cell edges, inverted by safeguarded Newton steps.
pub(crate) fn beta_quantile_table(a: f64, b: f64) -> Vec<f64> {
    let g = log_grid();
    let (am, bm) = (a - 1.0, b - 1.0);
    let h = 1.0 / GRID_CELLS as f64;
    let dens = |(lx, l1x): (f64, f64)| libm::exp(am * lx + bm * l1x);
    // Cells at an end where the density has an infinite slope (shape below 2) are integrated by
    // the series of the incomplete beta instead, as long as it converges fast there.
    let end_cells = |shape: f64, other: f64| -> usize {
        if shape >= 2.0 {
            0
        } else {
            ((0.05 / (h * (other - 1.0).max(1e-9))) as usize).clamp(1, 8)
        }
    };
    let (e_lo, e_hi) = (end_cells(a, b), end_cells(b, a));
    // Unnormalised density at the edges; the end points need care because ln 0 = -inf.
    let mut fe = vec![0.0; GRID_CELLS + 1];
    for (j, f) in fe.iter_mut().enumerate() {
        *f = if j == 0 {
            if am == 0.0 { 1.0 } else { 0.0 }
        } else if j == GRID_CELLS {
            if bm == 0.0 { 1.0 } else { 0.0 }
        } else {
            dens(g.edge[j])
        };
    }
    let mut cdf = vec![0.0; GRID_CELLS + 1];
    for i in 0..GRID_CELLS {
        let mass = if i < e_lo {
            beta_series(h * (i + 1) as f64, a, b) - beta_series(h * i as f64, a, b)
        } else if i >= GRID_CELLS - e_hi {
            let j = GRID_CELLS - i;
            beta_series(h * j as f64, b, a) - beta_series(h * (j - 1) as f64, b, a)
        } else {
            let nodes = &g.node[3 * i..3 * i + 3];
            GL_W.iter()
                .zip(nodes)
                .map(|(w, &nd)| w * dens(nd))
                .sum::<f64>()
                * h
        };
        cdf[i + 1] = cdf[i] + mass;
    }
    let total = cdf[GRID_CELLS];
    for c in &mut cdf {
        *c /= total;
    }
    for f in &mut fe {
        *f /= total;
    }
    cdf[GRID_CELLS] = 1.0;

    let d = |x: f64| libm::exp(am * libm::log(x) + bm * libm::log1p(-x)) / total;
    let quantile = |u: f64, cell: usize| -> f64 {
        let x0 = cell as f64 * h;
        if cell < e_lo {
            // Solve series(x) / total = u inside the cell.
            solve(x0, x0 + h, |x| (beta_series(x, a, b) / total - u, d(x)))
        } else if cell >= GRID_CELLS - e_hi {
            // 1 - series_b(1 - x) / total = u.
            solve(x0, x0 + h, |x| {
                (1.0 - beta_series(1.0 - x, b, a) / total - u, d(x))
            })
        } else {
            let (p0, p1) = (cdf[cell], cdf[cell + 1]);
            let (m0, m1) = (fe[cell] * h, fe[cell + 1] * h);
            x0 + invert_hermite(u, p0, p1, m0, m1) * h
        }
        .clamp(0.0, 1.0)
    };
    let cell_of = |u: f64| {
        cdf.partition_point(|&c| c < u)
            .saturating_sub(1)
            .min(GRID_CELLS - 1)
    };

    // Entries k / TABLE_CELLS, then two extra points halfway into the outermost cells (they fix
    // the power law the sampler follows there).
    let mut out = vec![0.0; TABLE_CELLS + 3];
    out[TABLE_CELLS] = 1.0;
    let mut cell = 0;
    for (k, o) in out.iter_mut().enumerate().take(TABLE_CELLS).skip(1) {
        let u = k as f64 / TABLE_CELLS as f64;
        while cell + 1 < GRID_CELLS && cdf[cell + 1] < u {
            cell += 1;
        }
        *o = quantile(u, cell);
    }
    let half = 0.5 / TABLE_CELLS as f64;
    out[TABLE_CELLS + 1] = quantile(half, cell_of(half));
    out[TABLE_CELLS + 2] = quantile(1.0 - half, cell_of(1.0 - half));
    out
}

/// Integral of t^(a-1) (1-t)^(b-1) from 0 to x for small x: x^a sum_k (-1)^k C(b-1, k) x^k / (a+k).
fn beta_series(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut coef = 1.0;
    let mut xk = 1.0;
    let mut s = 0.0;
    for k in 0..12 {
        let kf = f64::from(k);
        s += coef * xk / (a + kf);
        coef *= -(b - 1.0 - kf) / (kf + 1.0);
        xk *= x;
        if coef == 0.0 {
            break;
        }
    }
    libm::pow(x, a) * s
}

/// Root of an increasing function on [lo, hi], given (value, derivative): Newton steps, falling
/// back to bisection whenever a step would leave the bracket.
fn solve(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> (f64, f64)) -> f64 {
    let mut x = 0.5 * (lo + hi);
    for _ in 0..100 {
        let (v, d) = f(x);
        if v == 0.0 {
            return x;
        }
        if v < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let mut next = if d > 0.0 { x - v / d } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= 1e-15 * x.abs().max(1e-300) || hi - lo <= 1e-16 {
            return next;
        }
        x = next;
    }
    x
}

/// t in [0, 1] with H(t) = u for the cubic Hermite H through (0, p0), (1, p1) with slopes m0, m1.
fn invert_hermite(u: f64, p0: f64, p1: f64, m0: f64, m1: f64) -> f64 {
    let hval = |t: f64| {
        let t2 = t * t;
        let t3 = t2 * t;
        (2.0 * t3 - 3.0 * t2 + 1.0) * p0
            + (t3 - 2.0 * t2 + t) * m0
            + (-2.0 * t3 + 3.0 * t2) * p1
            + (t3 - t2) * m1
    };
    let hder = |t: f64| {
        let t2 = t * t;
        (6.0 * t2 - 6.0 * t) * p0
            + (3.0 * t2 - 4.0 * t + 1.0) * m0
            + (-6.0 * t2 + 6.0 * t) * p1
            + (3.0 * t2 - 2.0 * t) * m1
    };
    if p1 <= p0 {
        return 0.5;
    }
    // Fast path: where the density is positive at both edges, the inverse is itself smooth, so
    // its cubic Hermite interpolant (slopes dp/m) is already close; one Newton step on H
    // polishes it.
    let dp = p1 - p0;
    if m0 > 0.0 && m1 > 0.0 {
        let (d0, d1) = (dp / m0, dp / m1);
        if d0 <= 3.0 && d1 <= 3.0 {
            let s = (u - p0) / dp;
            let s2 = s * s;
            let s3 = s2 * s;
            let t = (s3 - 2.0 * s2 + s) * d0 + (-2.0 * s3 + 3.0 * s2) + (s3 - s2) * d1;
            let d = hder(t);
            if d > 0.0 {
                let t1 = t - (hval(t) - u) / d;
                if (0.0..=1.0).contains(&t1) {
                    return t1;
                }
            }
        }
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    let mut t = ((u - p0) / (p1 - p0)).clamp(0.0, 1.0);
    for _ in 0..40 {
        let v = hval(t) - u;
        if v.abs() <= 1e-16 {
            break;
        }
        if v > 0.0 {
            hi = t;
        } else {
            lo = t;
        }
        let d = hder(t);
        let mut next = if d > 0.0 { t - v / d } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - t).abs() < 1e-12 {
            t = next;
            break;
        }
        t = next;
    }
    t
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error below
/// 1.2e-9), with u clamped away from 0 and 1.
pub(crate) fn inverse_normal(u: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;
    let p = u.clamp(1e-300, 1.0 - 1.0e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail(libm::sqrt(-2.0 * libm::log(p)))
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail(libm::sqrt(-2.0 * libm::log1p(-p)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// ln Gamma by the Lanczos approximation (g = 7, n = 9), test-only reference.
    pub(crate) fn ln_gamma(x: f64) -> f64 {
        const G: [f64; 9] = [
            0.999_999_999_999_809_9,
            676.520_368_121_885_1,
            -1_259.139_216_722_402_8,
            771.323_428_777_653_1,
            -176.615_029_162_140_6,
            12.507_343_278_686_905,
            -0.138_571_095_265_720_12,
            9.984_369_578_019_572e-6,
            1.505_632_735_149_311_6e-7,
        ];
        let x = x - 1.0;
        let mut a = G[0];
        let t = x + 7.5;
        for (i, g) in G.iter().enumerate().skip(1) {
            a += g / (x + i as f64);
        }
        0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
    }

    /// Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz): an
    /// independent reference for the quadrature-built tables.
    pub(crate) fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if x >= 1.0 {
            return 1.0;
        }
        if x > (a + 1.0) / (a + b + 2.0) {
            return 1.0 - beta_cdf(1.0 - x, b, a);
        }
        let ln_front =
            a * x.ln() + b * (1.0 - x).ln() + ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b);
        let tiny = 1e-300;
        let mut c = 1.0;
        let mut d = 1.0 - (a + b) * x / (a + 1.0);
        if d.abs() < tiny {
            d = tiny;
        }
        d = 1.0 / d;
        let mut f = d;
        for m in 1..500 {
            let m = f64::from(m);
            let num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
            for num in [
                num,
                -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
            ] {
                d = 1.0 + num * d;
                if d.abs() < tiny {
                    d = tiny;
                }
                c = 1.0 + num / c;
                if c.abs() < tiny {
                    c = tiny;
                }
                d = 1.0 / d;
                f *= c * d;
            }
            if (c * d - 1.0).abs() < 1e-15 {
                break;
            }
        }
        ln_front.exp() * f / a
    }

    /// Standard normal CDF by Simpson integration of the density (reference only).
    fn normal_cdf(z: f64) -> f64 {
        let n = 20_000;
        let (a, b) = (-12.0_f64, z);
        let h = (b - a) / f64::from(n);
        let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let mut s = phi(a) + phi(b);
        for i in 1..n {
            s += phi(a + f64::from(i) * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0
    }

    #[test]
    fn reference_beta_cdf_is_sane() {
        // Beta(1,1) is uniform, Beta(2,1) has CDF x^2.
        assert!((beta_cdf(0.3, 1.0, 1.0) - 0.3).abs() < 1e-12);
        assert!((beta_cdf(0.3, 2.0, 1.0) - 0.09).abs() < 1e-12);
        assert!((beta_cdf(0.5, 3.3, 3.3) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn beta_tables_match_the_exact_cdf() {
        // Shapes met in practice: mode at an end, skewed, symmetric, and a large gamma.
        for &(a, b) in &[
            (1.0, 5.0),
            (5.0, 1.0),
            (1.2, 4.8),
            (1.158, 4.842),
            (3.0, 3.0),
            (2.5, 1.7),
            (1.0, 1.0),
            (40.0, 12.0),
        ] {
            let t = beta_quantile_table(a, b);
            for (k, &q) in t.iter().enumerate().take(TABLE_CELLS).skip(1) {
                let u = k as f64 / TABLE_CELLS as f64;
                let err = (beta_cdf(q, a, b) - u).abs();
                assert!(err < 2e-7, "Beta({a},{b}) at u={u}: err {err}");
            }
            // Monotone, so interpolation never goes backwards.
            assert!(
                t[..=TABLE_CELLS].windows(2).all(|w| w[0] <= w[1]),
                "Beta({a},{b}) not monotone"
            );
            let half = 0.5 / TABLE_CELLS as f64;
            assert!((beta_cdf(t[TABLE_CELLS + 1], a, b) - half).abs() < 1e-9);
            assert!((beta_cdf(t[TABLE_CELLS + 2], a, b) - (1.0 - half)).abs() < 1e-9);
        }
    }

    #[test]
    fn interpolation_between_table_entries_is_accurate() {
        // Halfway between entries the linear interpolation is at its worst.
        for &(a, b) in &[(1.0, 5.0), (1.8, 4.2), (3.0, 3.0), (1.2, 4.8), (40.0, 12.0)] {
            let s = Sampler::new(&Dist::Pert {
                low: 0.0,
                mode: (a - 1.0) / (a + b - 2.0),
                high: 1.0,
                gamma: Some(a + b - 2.0),
            });
            for k in 0..TABLE_CELLS {
                let u = (k as f64 + 0.5) / TABLE_CELLS as f64;
                let err = (beta_cdf(s.sample(u), a, b) - u).abs();
                // Absolute, and relative to the tail probability in the far tails (0.3%; 2% in the
                // outermost cells, the most extreme 1/4096 at either end).
                let rel = if k == 0 || k == TABLE_CELLS - 1 {
                    0.02
                } else {
                    3e-3
                };
                let bound = 1e-7 + rel * u.min(1.0 - u);
                assert!(err < bound, "Beta({a},{b}) at u={u}: err {err}");
            }
        }
    }

    #[test]
    fn pert_sampler_mean_is_exact() {
        // The mean of the interpolated inverse CDF is the trapezoid rule on the quantile
        // function: equal to the PERT mean to far better than any Monte Carlo noise.
        for d in [
            Dist::Pert {
                low: 0.5,
                mode: 2.0,
                high: 8.0,
                gamma: None,
            },
            Dist::Pert {
                low: 10_000.0,
                mode: 50_000.0,
                high: 1_000_000.0,
                gamma: None,
            },
            Dist::Pert {
                low: 1.0,
                mode: 1.0,
                high: 9.0,
                gamma: Some(6.0),
            },
        ] {
            let s = Sampler::new(&d);
            let n = 200_000;
            let m: f64 = (0..n)
                .map(|i| s.sample((f64::from(i) + 0.5) / f64::from(n)))
                .sum::<f64>()
                / f64::from(n);
            let rel = (m / d.mean() - 1.0).abs();
            assert!(rel < 1e-5, "{d:?}: {m} vs {}", d.mean());
        }
    }

    #[test]
    fn inverse_normal_is_accurate() {
        for &p in &[
            1e-6, 0.001, 0.02, 0.05, 0.1, 0.3, 0.5, 0.77, 0.95, 0.99, 0.9999,
        ] {
            let z = inverse_normal(p);
            let back = normal_cdf(z);
            assert!(
                (back - p).abs() < 1e-8 * p.max(1e-3),
                "p={p}: z={z}, back {back}"
            );
        }
        assert!((inverse_normal(0.95) - Z95).abs() < 1e-8);
    }

    #[test]
    fn closed_form_samplers_hit_their_quantiles() {
        let tri = Sampler::new(&Dist::Triangular {
            low: 500.0,
            mode: 2000.0,
            high: 30_000.0,
        });
        // CDF at the mode is (mode-low)/(high-low).
        let fc = 1500.0 / 29_500.0;
        assert!((tri.sample(fc) - 2000.0).abs() < 1e-9);
        assert!((tri.sample(0.0) - 500.0).abs() < 1e-9);
        assert!((tri.sample(1.0) - 30_000.0).abs() < 1e-9);
        let ln = Sampler::new(&Dist::Lognormal {
            low: 1.0,
            high: 12.0,
        });
        assert!((ln.sample(0.05) - 1.0).abs() < 1e-7);
        assert!((ln.sample(0.95) - 12.0).abs() < 1e-6);
        let un = Sampler::new(&Dist::Uniform {
            low: 0.01,
            high: 0.1,
        });
        assert!((un.sample(0.5) - 0.055).abs() < 1e-15);
    }
}
