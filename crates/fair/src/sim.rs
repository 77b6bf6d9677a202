//! The Monte Carlo engine.
//!
//! Determinism: the simulated years of a risk are cut into chunks of [`CHUNK`] years; every
//! chunk draws from its own stream keyed by (seed, risk index, chunk index, purpose), so results
//! do not depend on which thread runs which chunk. Sums are formed in a fixed order (chunk by
//! chunk, risk by risk), so they are bit-identical for any thread count.
//!
//! Memory: scenarios are simulated in batches; each keeps one `f64` per simulated year until its
//! figures are taken and its years added to the portfolio vectors. Distribution tables live only
//! while their risk's batch runs.

// Numerical code keeps the names of the formulas (a, b, x, u, ...).
#![allow(clippy::many_single_char_names)]

use crate::dist::Sampler;
use crate::input::{
    DEFAULT_ITERATIONS, DEFAULT_SEED, Frequency, Input, InputError, Magnitude, Model, Reduction,
    check_iterations,
};
use crate::report::{
    AllControls, Comparison, ControlResult, Report, RiskComparison, RiskResult, Summary,
    ToleranceCheck, ToleranceCheckPoint,
};
use crate::rng::{SplitMix, Xoshiro, mix64, stream_key};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Simulated years per chunk (and per random stream). Part of the reproducibility contract:
/// changing it changes the numbers a seed gives.
pub const CHUNK: usize = 4096;

/// Purposes of the streams of a chunk.
const STREAM_MAIN: u64 = 0;
const STREAM_EVENTS: u64 = 1;
const STREAM_CONTROL: u64 = 2;

/// Scenario elements (one f64 per simulated year each) held at once, at most.
const BATCH_ELEMENTS: usize = 1_000_000;

/// Overrides for what the input file says (a CLI flag or a web form field wins over the file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub iterations: Option<u64>,
    pub seed: Option<u64>,
    pub model: Option<Model>,
}

/// Scenarios simulated per risk: the baseline, each acting control alone, and all of them
/// together when more than one acts.
fn scenarios_per_risk(input: &Input) -> Vec<u64> {
    input
        .risks
        .iter()
        .map(|r| {
            let acting = input
                .controls
                .iter()
                .filter(|c| c.risks.iter().any(|x| x == &r.name))
                .count() as u64;
            1 + acting + u64::from(acting > 1)
        })
        .collect()
}

/// Simulated scenario-years a run will compute (iterations x scenarios, a scenario being a risk
/// alone or with a control): lets a server cap the work it accepts before starting. About 10
/// million take a tenth of a second of one core in the expected model.
pub fn work_units(input: &Input, opts: &Options) -> u64 {
    cost(input, opts).scenario_years
}

/// What a run will take, known before it starts, so that a server can refuse what exceeds its
/// bounds instead of finding out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    pub iterations: u64,
    /// Simulated scenario-years: iterations x scenarios, a scenario being a risk alone, with one
    /// control, or with all its controls.
    pub scenario_years: u64,
    /// Loss events the compound model is expected to draw over all scenarios (frequencies before
    /// controls); 0 in the expected model, which draws no events.
    pub events: f64,
    /// Memory the simulated years take at once, in bytes (one `f64` per simulated year of each
    /// scenario of a batch, and of each portfolio vector: one per control, plus two).
    pub bytes: u64,
}

impl Cost {
    /// Scenario-years and events together: the units a bound on work counts.
    pub fn work(&self) -> f64 {
        self.scenario_years as f64 + self.events
    }
}

/// The cost of simulating `input` with `opts` (see [`Cost`]).
pub fn cost(input: &Input, opts: &Options) -> Cost {
    let iterations = opts
        .iterations
        .or(input.iterations)
        .unwrap_or(DEFAULT_ITERATIONS);
    let model = opts.model.or(input.model).unwrap_or_default();
    let per_risk = scenarios_per_risk(input);
    let scenarios: u64 = per_risk.iter().sum();
    let events = if model == Model::Compound {
        input
            .risks
            .iter()
            .zip(&per_risk)
            .map(|(r, &s)| events_per_year(r) * iterations as f64 * s as f64)
            .sum()
    } else {
        0.0
    };
    // The vectors `simulate` holds at once: the largest batch of scenarios, and the portfolios.
    let n = usize::try_from(iterations).unwrap_or(usize::MAX).max(1);
    let batch_cap = (BATCH_ELEMENTS / n).clamp(2, 64) as u64;
    let (mut largest, mut batch) = (0u64, 0u64);
    for &s in &per_risk {
        if batch > 0 && batch + s > batch_cap {
            batch = 0;
        }
        batch += s;
        largest = largest.max(batch);
    }
    let n_controls = input.controls.len() as u64;
    let portfolios = if input.risks.len() == 1 && n_controls == 0 {
        0
    } else if n_controls == 0 {
        1
    } else {
        n_controls + 2
    };
    Cost {
        iterations,
        scenario_years: iterations.saturating_mul(scenarios),
        events,
        bytes: (largest + portfolios)
            .saturating_mul(iterations)
            .saturating_mul(8),
    }
}

/// Why a run gave no report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The input (or what it makes of the numbers) is refused; names the risk and field.
    Invalid(InputError),
    /// The caller asked the run to stop.
    Cancelled,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Invalid(e) => e.fmt(f),
            RunError::Cancelled => f.write_str("the simulation was cancelled"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<InputError> for RunError {
    fn from(e: InputError) -> Self {
        RunError::Invalid(e)
    }
}

/// Runs the simulation. Pure computation on the rayon pool; call it from
/// `tokio::task::spawn_blocking` in async code.
pub fn simulate(input: &Input, opts: &Options) -> Result<Report, InputError> {
    simulate_with_progress(input, opts, &|_, _| {})
}

/// As [`simulate`], stopping soon (within a chunk of simulated years) after `cancel` is set,
/// e.g. by a server whose client went away.
pub fn simulate_cancellable(
    input: &Input,
    opts: &Options,
    cancel: &AtomicBool,
) -> Result<Report, RunError> {
    run(input, opts, &|_, _| {}, Some(cancel))
}

/// As [`simulate`], calling `progress(done, total)` (in simulated chunks) as work completes,
/// from worker threads.
pub fn simulate_with_progress(
    input: &Input,
    opts: &Options,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Report, InputError> {
    run(input, opts, progress, None).map_err(|e| match e {
        RunError::Invalid(e) => e,
        RunError::Cancelled => InputError {
            risk: None,
            control: None,
            field: String::new(),
            message: "the simulation was cancelled".into(),
        },
    })
}

fn run(
    input: &Input,
    opts: &Options,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: Option<&AtomicBool>,
) -> Result<Report, RunError> {
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    input.validate()?;
    let iterations = opts
        .iterations
        .or(input.iterations)
        .unwrap_or(DEFAULT_ITERATIONS);
    check_iterations(iterations).map_err(|m| InputError {
        risk: None,
        control: None,
        field: "iterations".into(),
        message: m,
    })?;
    let seed = opts.seed.or(input.seed).unwrap_or(DEFAULT_SEED);
    let model = opts.model.or(input.model).unwrap_or_default();
    let n = iterations as usize;
    let n_controls = input.controls.len();
    if model == Model::Compound {
        check_event_count(input, iterations)?;
    }

    // Which controls act on which risk.
    let controls: Vec<ControlModel> = input
        .controls
        .iter()
        .map(|c| ControlModel {
            freq: c.frequency_reduction.as_ref().map(ReductionSampler::new),
            mag: c.magnitude_reduction.as_ref().map(ReductionSampler::new),
        })
        .collect();
    let acting: Vec<Vec<usize>> = input
        .risks
        .iter()
        .map(|r| {
            input
                .controls
                .iter()
                .enumerate()
                .filter(|(_, c)| c.risks.iter().any(|x| x == &r.name))
                .map(|(i, _)| i)
                .collect()
        })
        .collect();

    // Scenarios per risk: the baseline, each acting control alone, and all of them together
    // when more than one acts.
    let jobs_of = |r: usize| -> Vec<Scenario> {
        let mut v = vec![Scenario::Base];
        v.extend(acting[r].iter().map(|&c| Scenario::Control(c)));
        if acting[r].len() > 1 {
            v.push(Scenario::All);
        }
        v
    };
    let total_chunks: u64 = (0..input.risks.len())
        .map(|r| jobs_of(r).len() as u64)
        .sum::<u64>()
        * n.div_ceil(CHUNK) as u64;
    let done = AtomicU64::new(0);

    // Portfolio vectors: baseline, each control alone, all controls.
    let n_port = if n_controls == 0 { 1 } else { n_controls + 2 };
    // One risk and no controls: the portfolio is that risk's own years (kept in the first
    // buffer of the pool), so no separate vector is built.
    let single = input.risks.len() == 1 && n_controls == 0;
    let mut portfolios: Vec<Vec<f64>> = if single {
        Vec::new()
    } else {
        (0..n_port).map(|_| vec![0.0; n]).collect()
    };

    let batch_cap = (BATCH_ELEMENTS / n).clamp(2, 64);
    let mut pool: Vec<Vec<f64>> = Vec::new();
    let mut risk_results = Vec::with_capacity(input.risks.len());
    let mut control_risks: Vec<Vec<RiskComparison>> = vec![Vec::new(); n_controls];

    let mut start = 0;
    while start < input.risks.len() {
        // Take risks while their scenarios fit the batch (always at least one risk).
        let mut end = start;
        let mut jobs: Vec<(usize, Scenario)> = Vec::new();
        while end < input.risks.len() {
            let js = jobs_of(end);
            if !jobs.is_empty() && jobs.len() + js.len() > batch_cap {
                break;
            }
            jobs.extend(js.into_iter().map(|s| (end, s)));
            end += 1;
        }
        while pool.len() < jobs.len() {
            pool.push(vec![0.0; n]);
        }
        let models: Vec<RiskModel> = input.risks[start..end]
            .par_iter()
            .map(RiskModel::new)
            .collect();
        let bufs = &mut pool[..jobs.len()];

        // Simulate every scenario of the batch, chunks in parallel.
        let chunk_stats: Vec<Vec<ChunkStats>> = bufs
            .par_iter_mut()
            .zip(jobs.par_iter())
            .map(|(buf, &(r, scen))| {
                let rm = &models[r - start];
                let active: Vec<(usize, &ControlModel)> = match scen {
                    Scenario::Base => Vec::new(),
                    Scenario::Control(c) => vec![(c, &controls[c])],
                    Scenario::All => acting[r].iter().map(|&c| (c, &controls[c])).collect(),
                };
                buf[..n]
                    .par_chunks_mut(CHUNK)
                    .enumerate()
                    .map_init(Scratch::new, |s, (ci, out)| {
                        if cancelled() {
                            return (0.0, 0.0, 0);
                        }
                        let st = run_chunk(
                            model,
                            rm,
                            &active,
                            (seed, r as u64, ci as u64),
                            out,
                            s,
                            cancel,
                        );
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        progress(d, total_chunks);
                        st
                    })
                    .collect()
            })
            .collect();

        if cancelled() {
            return Err(RunError::Cancelled);
        }
        // Add the batch's years into the portfolio vectors, risk by risk in input order.
        let slot = |r: usize, s: Scenario| jobs.iter().position(|&j| j == (r, s));
        let sources: Vec<Vec<usize>> = (0..n_port)
            .map(|q| {
                (start..end)
                    .map(|r| {
                        let want = if q == 0 {
                            Scenario::Base
                        } else if q <= n_controls {
                            if acting[r].contains(&(q - 1)) {
                                Scenario::Control(q - 1)
                            } else {
                                Scenario::Base
                            }
                        } else {
                            match acting[r].len() {
                                0 => Scenario::Base,
                                1 => Scenario::Control(acting[r][0]),
                                _ => Scenario::All,
                            }
                        };
                        slot(r, want).expect("scenario simulated")
                    })
                    .collect()
            })
            .collect();
        {
            let bufs: &[Vec<f64>] = &pool[..jobs.len()];
            portfolios
                .par_iter_mut()
                .zip(sources.par_iter())
                .for_each(|(p, src)| {
                    p.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, pc)| {
                        let o = ci * CHUNK;
                        let len = pc.len();
                        for &j in src {
                            for (x, y) in pc.iter_mut().zip(&bufs[j][o..o + len]) {
                                *x += *y;
                            }
                        }
                    });
                });
        }

        // Figures per scenario (selection reorders the buffers: the portfolio is done).
        let summaries: Vec<Option<Summary>> = pool[..jobs.len()]
            .par_iter_mut()
            .zip(jobs.par_iter().zip(chunk_stats.par_iter()))
            .map(|(buf, (&(_, scen), st))| {
                if scen == Scenario::All {
                    return None;
                }
                Some(summarize(&buf[..n], fold_stats(st)))
            })
            .collect();
        for r in start..end {
            let base = summaries[slot(r, Scenario::Base).expect("base")]
                .clone()
                .expect("base summary");
            for &c in &acting[r] {
                let after = summaries[slot(r, Scenario::Control(c)).expect("control")]
                    .clone()
                    .expect("control summary");
                control_risks[c].push(RiskComparison {
                    name: input.risks[r].name.clone(),
                    before: base.clone(),
                    after,
                });
            }
            risk_results.push(RiskResult {
                name: input.risks[r].name.clone(),
                summary: base,
            });
        }
        start = end;
    }
    if single {
        pool.truncate(1);
        portfolios = pool;
    } else {
        drop(pool);
    }

    if cancelled() {
        return Err(RunError::Cancelled);
    }
    // Portfolio figures.
    let tol = sorted_tolerance(input);
    let mut port_summaries: Vec<Summary> = Vec::with_capacity(n_port);
    let mut port_checks: Vec<Option<ToleranceCheck>> = Vec::with_capacity(n_port);
    for p in &mut portfolios {
        let s = if single {
            risk_results[0].summary.clone()
        } else {
            summarize(p, sum_and_nonzero(p))
        };
        let check = tol.as_ref().map(|t| tolerance_check(p, t, &s.lec));
        port_summaries.push(s);
        port_checks.push(check);
    }
    let portfolio = port_summaries[0].clone();
    let controls_out: Vec<ControlResult> = input
        .controls
        .iter()
        .enumerate()
        .map(|(c, ctl)| {
            let after = port_summaries[c + 1].clone();
            let reduction = portfolio.mean - after.mean;
            ControlResult {
                name: ctl.name.clone(),
                cost: ctl.cost,
                ale_before: portfolio.mean,
                ale_after: after.mean,
                ale_reduction: reduction,
                rosi: rosi(reduction, ctl.cost),
                risks: std::mem::take(&mut control_risks[c]),
                portfolio: Comparison {
                    before: portfolio.clone(),
                    after,
                },
            }
        })
        .collect();
    let all_controls = (n_controls > 0).then(|| {
        let after = port_summaries[n_controls + 1].clone();
        let cost: f64 = input.controls.iter().map(|c| c.cost).sum();
        let reduction = portfolio.mean - after.mean;
        AllControls {
            cost,
            ale_before: portfolio.mean,
            ale_after: after.mean,
            ale_reduction: reduction,
            rosi: rosi(reduction, cost),
            portfolio: after,
            tolerance: port_checks[n_controls + 1].clone(),
        }
    });
    let report = Report {
        model,
        iterations,
        seed,
        risks: risk_results,
        portfolio,
        tolerance: port_checks[0].clone(),
        controls: controls_out,
        all_controls,
    };
    check_finite(&report)?;
    Ok(report)
}

/// Refuses a report with a figure that overflowed (a lognormal with an extreme spread can draw
/// losses beyond what an `f64` holds), naming where, rather than returning infinities or NaN.
fn check_finite(report: &Report) -> Result<(), InputError> {
    let finite = |s: &Summary| {
        [s.mean, s.sd, s.p10, s.p50, s.p90, s.p95, s.p99, s.prob_loss]
            .iter()
            .chain(s.lec.iter().map(|(l, _)| l))
            .all(|x| x.is_finite())
    };
    let overflow = |risk: Option<String>, control: Option<String>, field: &str| InputError {
        risk,
        control,
        field: field.into(),
        message: "the simulated losses are too large to compute (they overflow); use smaller \
                  amounts or a narrower spread"
            .into(),
    };
    for r in &report.risks {
        if !finite(&r.summary) {
            return Err(overflow(Some(r.name.clone()), None, "lm"));
        }
    }
    for c in &report.controls {
        if !c.rosi.is_none_or(f64::is_finite) || !finite(&c.portfolio.after) {
            return Err(overflow(None, Some(c.name.clone()), "cost"));
        }
    }
    let all_ok = report
        .all_controls
        .as_ref()
        .is_none_or(|a| finite(&a.portfolio) && a.rosi.is_none_or(f64::is_finite));
    if !finite(&report.portfolio) || !all_ok {
        return Err(overflow(None, None, "risks"));
    }
    Ok(())
}

/// Most simulated events the compound model takes on (about a minute of work on one core).
const MAX_EVENTS: f64 = 5e9;

/// Mean loss events a year of a risk (before controls).
fn events_per_year(r: &crate::input::Risk) -> f64 {
    match &r.lef {
        Frequency::Direct(d) => d.mean(),
        Frequency::Decomposed { tef, vulnerability } => tef.mean() * vulnerability.mean(),
    }
}

/// Refuses inputs whose compound simulation would draw an unreasonable number of events.
fn check_event_count(input: &Input, iterations: u64) -> Result<(), InputError> {
    let mut total = 0.0;
    for r in &input.risks {
        let per_year = events_per_year(r);
        total += per_year * iterations as f64;
        if total > MAX_EVENTS {
            return Err(InputError {
                risk: Some(r.name.clone()),
                control: None,
                field: "lef".into(),
                message: format!(
                    "about {per_year:.0} events a year over {iterations} simulated years is too much \
                     work for the compound model; use model expected or fewer iterations"
                ),
            });
        }
    }
    Ok(())
}

fn rosi(reduction: f64, cost: f64) -> Option<f64> {
    (cost > 0.0).then(|| (reduction - cost) / cost)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Base,
    Control(usize),
    All,
}

struct RiskModel {
    freq: Sampler,
    vuln: Option<Sampler>,
    primary: Sampler,
    secondary: Option<(Sampler, Sampler)>,
}

impl RiskModel {
    fn new(r: &crate::input::Risk) -> Self {
        let (freq, vuln) = match &r.lef {
            Frequency::Direct(d) => (Sampler::new(d), None),
            Frequency::Decomposed { tef, vulnerability } => {
                (Sampler::new(tef), Some(Sampler::new(vulnerability)))
            }
        };
        let (primary, secondary) = match &r.lm {
            Magnitude::Direct(d) => (Sampler::new(d), None),
            Magnitude::Split { primary, secondary } => (
                Sampler::new(primary),
                secondary
                    .as_ref()
                    .map(|s| (Sampler::new(&s.probability), Sampler::new(&s.magnitude))),
            ),
        };
        Self {
            freq,
            vuln,
            primary,
            secondary,
        }
    }
}

enum ReductionSampler {
    /// Multiplier 1 - fraction.
    Fixed(f64),
    /// Distribution of the fraction.
    Drawn(Sampler),
}

impl ReductionSampler {
    fn new(r: &Reduction) -> Self {
        match r {
            Reduction::Fraction(f) => ReductionSampler::Fixed(1.0 - f),
            Reduction::Dist(d) => ReductionSampler::Drawn(Sampler::new(d)),
        }
    }

    /// Multiplies `values` by this year's (1 - reduction).
    fn apply(&self, rng: &mut Xoshiro, perm: &mut [u32], tmp: &mut [f64], values: &mut [f64]) {
        match self {
            ReductionSampler::Fixed(m) => values.iter_mut().for_each(|v| *v *= m),
            ReductionSampler::Drawn(s) => {
                let tmp = &mut tmp[..values.len()];
                rng.fill_stratified(perm, tmp);
                s.transform(tmp);
                for (v, r) in values.iter_mut().zip(tmp.iter()) {
                    *v *= 1.0 - r;
                }
            }
        }
    }
}

struct ControlModel {
    freq: Option<ReductionSampler>,
    mag: Option<ReductionSampler>,
}

/// Per-worker buffers, reused from chunk to chunk.
struct Scratch {
    perm: Vec<u32>,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    t: Vec<f64>,
    l: Vec<f64>,
}

impl Scratch {
    fn new() -> Self {
        Self {
            perm: vec![0; CHUNK],
            a: vec![0.0; CHUNK],
            b: vec![0.0; CHUNK],
            c: vec![0.0; CHUNK],
            t: vec![0.0; CHUNK],
            l: vec![0.0; CHUNK],
        }
    }
}

/// Draws a stratified sample through `s` into `out`; constants need no random numbers.
fn draw(s: &Sampler, rng: &mut Xoshiro, perm: &mut [u32], out: &mut [f64]) {
    if !s.is_constant() {
        rng.fill_stratified(perm, out);
    }
    s.transform(out);
}

/// Simulates one chunk of years of one scenario into `out`; returns (sum, years with a loss).
/// `key` is (seed, risk, chunk). Stops early, with meaningless figures, when `cancel` is set.
fn run_chunk(
    model: Model,
    rm: &RiskModel,
    active: &[(usize, &ControlModel)],
    (seed, risk, chunk): (u64, u64, u64),
    out: &mut [f64],
    s: &mut Scratch,
    cancel: Option<&AtomicBool>,
) -> (f64, f64, u64) {
    let n = out.len();
    let Scratch {
        perm,
        a,
        b,
        c,
        t,
        l,
    } = s;
    let (a, b, c, t, l) = (
        &mut a[..n],
        &mut b[..n],
        &mut c[..n],
        &mut t[..n],
        &mut l[..n],
    );
    let mut rng = Xoshiro::from_key(stream_key(seed, &[risk, chunk, STREAM_MAIN]));

    // The two main inputs of a year, frequency and magnitude (expected model) or frequency and
    // event count (compound model), come from a shifted lattice; the others from Latin hypercubes.
    rng.fill_lattice(perm, out, l);
    rm.freq.transform(out);
    if let Some(v) = &rm.vuln {
        draw(v, &mut rng, perm, a);
        out.iter_mut().zip(a.iter()).for_each(|(x, y)| *x *= y);
    }
    // Controls draw from their own streams, so every scenario of a risk sees the same baseline
    // random numbers (common random numbers: the control's effect is not lost in noise).
    let has_mag = active.iter().any(|(_, cm)| cm.mag.is_some());
    if has_mag {
        c.fill(1.0);
    }
    for &(ci, cm) in active {
        let mut crng =
            Xoshiro::from_key(stream_key(seed, &[risk, chunk, STREAM_CONTROL, ci as u64]));
        if let Some(f) = &cm.freq {
            f.apply(&mut crng, perm, t, out);
        }
        if let Some(m) = &cm.mag {
            m.apply(&mut crng, perm, t, c);
        }
    }
    let mag_mult: Option<&[f64]> = has_mag.then_some(&*c);

    match model {
        Model::Expected => {
            // Annual loss = frequency x magnitude.
            a.copy_from_slice(l);
            rm.primary.transform(a);
            if let Some((p, m)) = &rm.secondary {
                draw(p, &mut rng, perm, b);
                draw(m, &mut rng, perm, t);
                for ((x, p), m) in a.iter_mut().zip(b.iter()).zip(t.iter()) {
                    *x += p * m;
                }
            }
            if let Some(mm) = &mag_mult {
                a.iter_mut().zip(mm.iter()).for_each(|(x, y)| *x *= y);
            }
            out.iter_mut().zip(a.iter()).for_each(|(x, y)| *x *= y);
        }
        Model::Compound => {
            // A Poisson number of events at this year's rate, each with its own loss.
            a.copy_from_slice(l);
            if let Some((p, _)) = &rm.secondary {
                draw(p, &mut rng, perm, b);
            }
            let ekey = stream_key(seed, &[risk, chunk, STREAM_EVENTS]);
            for i in 0..n {
                // Years with many events are long: look for a cancellation now and then.
                if i % 64 == 0 && cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return (0.0, 0.0, 0);
                }
                let mut ev = SplitMix::new(mix64(ekey ^ i as u64));
                let k = poisson(out[i], a[i], &mut ev);
                let mut sum = 0.0;
                for _ in 0..k {
                    let mut l = rm.primary.sample(ev.u01());
                    if let Some((_, m)) = &rm.secondary {
                        let hit = ev.u01() < b[i];
                        let x = m.sample(ev.u01());
                        if hit {
                            l += x;
                        }
                    }
                    sum += l;
                }
                out[i] = match &mag_mult {
                    Some(mm) => sum * mm[i],
                    None => sum,
                };
            }
        }
    }
    chunk_stats(out)
}

/// Sum, sum of squares and count of years with a loss: (sum, sum_sq, nonzero).
type ChunkStats = (f64, f64, u64);

fn chunk_stats(v: &[f64]) -> ChunkStats {
    let mut sum = 0.0;
    let mut sq = 0.0;
    let mut nz = 0u64;
    for &x in v {
        sum += x;
        sq += x * x;
        nz += u64::from(x > 0.0);
    }
    (sum, sq, nz)
}

/// Poisson variate with mean `lambda`: by inversion of the uniform `u` for small means (so a
/// smaller rate never gives more events), by Hoermann's PTRS rejection for large ones.
fn poisson(lambda: f64, u: f64, ev: &mut SplitMix) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let mut p = libm::exp(-lambda);
        let mut cdf = p;
        let mut k = 0u64;
        while cdf < u {
            k += 1;
            p *= lambda / k as f64;
            cdf += p;
            if p <= cdf * 1e-17 && k as f64 > lambda {
                break;
            }
        }
        return k;
    }
    let slam = lambda.sqrt();
    let loglam = libm::log(lambda);
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.024_83 * b;
    let inv_alpha = 1.123_9 + 1.132_8 / (b - 3.4);
    let vr = 0.927_7 - 3.622_4 / (b - 2.0);
    loop {
        let uu = ev.u01() - 0.5;
        let v = ev.u01();
        let us = 0.5 - uu.abs();
        let k = ((2.0 * a / us + b) * uu + lambda + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k as u64;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        if libm::log(v) + libm::log(inv_alpha) - libm::log(a / (us * us) + b)
            <= -lambda + k * loglam - ln_factorial(k)
        {
            return k as u64;
        }
    }
}

/// ln(k!) exactly for small k, by Stirling's series beyond.
fn ln_factorial(k: f64) -> f64 {
    if k < 10.0 {
        let mut s = 0.0;
        let mut i = 2.0;
        while i <= k {
            s += libm::log(i);
            i += 1.0;
        }
        return s;
    }
    let x = k + 1.0;
    let x2 = x * x;
    (x - 0.5) * libm::log(x) - x + 0.918_938_533_204_672_8 + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x * x2)
        + 1.0 / (1260.0 * x2 * x2 * x)
}

fn fold_stats(st: &[ChunkStats]) -> ChunkStats {
    st.iter()
        .fold((0.0, 0.0, 0), |(s, q, n), &(a, b, c)| (s + a, q + b, n + c))
}

/// Sum and count of positive years, in a fixed order (chunk sums added in chunk order).
fn sum_and_nonzero(v: &[f64]) -> ChunkStats {
    let parts: Vec<ChunkStats> = v.par_chunks(CHUNK).map(chunk_stats).collect();
    fold_stats(&parts)
}

/// Percentiles reported for every distribution.
const PERCENTILES: [f64; 5] = [0.10, 0.50, 0.90, 0.95, 0.99];
/// LEC points: (quantile, exceedance probability = 1 - quantile), both written out so that
/// e.g. the 0.9-exceedance point is exactly P10.
const LEC_POINTS: [(f64, f64); 20] = [
    (0.01, 0.99),
    (0.05, 0.95),
    (0.10, 0.9),
    (0.2, 0.8),
    (0.3, 0.7),
    (0.4, 0.6),
    (0.50, 0.5),
    (0.6, 0.4),
    (0.7, 0.3),
    (0.8, 0.2),
    (0.90, 0.1),
    (0.95, 0.05),
    (0.98, 0.02),
    (0.99, 0.01),
    (0.995, 0.005),
    (0.998, 0.002),
    (0.999, 0.001),
    (0.999_5, 0.000_5),
    (0.999_8, 0.000_2),
    (0.999_9, 0.000_1),
];

/// Quantile q of `n` sorted values, interpolating between order statistics at (n - 1) q (the
/// usual "type 7" definition): the ranks it needs.
fn ranks_for(q: f64, n: usize) -> (usize, usize, f64) {
    let h = (n - 1) as f64 * q;
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    (lo, hi, h - lo as f64)
}

/// Buckets of the histogram that locates order statistics.
const BUCKETS: usize = 4096;

/// Order statistics of `v` (values >= 0) at the given sorted, distinct ranks, without touching
/// `v`. One pass builds a histogram over the bit patterns of the values (for non-negative floats
/// their order), which tells in which bucket each rank lies; a second pass copies out only those
/// buckets, and selection inside them gives the exact values. About half the work of selecting
/// 20-odd ranks in the whole array.
fn order_stats(v: &[f64], ranks: &[usize]) -> Vec<f64> {
    const MAGNITUDE: u64 = !(1 << 63); // -0.0 sorts as 0.0
    const UNUSED: u32 = u32::MAX;
    let n = v.len();
    if n < 8 * BUCKETS {
        let mut c = v.to_vec();
        select_ranks(&mut c, 0, ranks);
        return ranks.iter().map(|&r| c[r]).collect();
    }
    let (mut kmin, mut kmax) = (u64::MAX, 0u64);
    for &x in v {
        let k = x.to_bits() & MAGNITUDE;
        kmax = kmax.max(k);
        if k != 0 {
            kmin = kmin.min(k);
        }
    }
    if kmin == u64::MAX {
        kmin = 0;
    }
    let span = kmax.saturating_sub(kmin);
    let shift = (64 - span.leading_zeros()).saturating_sub(BUCKETS.trailing_zeros());
    // Zeros share bucket 0 with the smallest positive values; selection sorts them out.
    let bucket = |x: f64| ((x.to_bits() & MAGNITUDE).saturating_sub(kmin) >> shift) as usize;
    let mut counts = vec![0u32; BUCKETS];
    for &x in v {
        counts[bucket(x)] += 1;
    }
    let mut start = vec![0usize; BUCKETS + 1];
    for b in 0..BUCKETS {
        start[b + 1] = start[b] + counts[b] as usize;
    }
    // Where each needed bucket goes in the scratch space.
    let mut pos = vec![UNUSED; BUCKETS];
    let mut needed: Vec<(usize, usize)> = Vec::new(); // (bucket, offset)
    let mut len = 0usize;
    for &r in ranks {
        let b = start.partition_point(|&s| s <= r) - 1;
        if pos[b] == UNUSED {
            pos[b] = len as u32;
            needed.push((b, len));
            len += counts[b] as usize;
        }
    }
    let mut scratch = vec![0.0; len];
    for &x in v {
        let b = bucket(x);
        let p = pos[b];
        if p != UNUSED {
            scratch[p as usize] = x;
            pos[b] = p + 1;
        }
    }
    let mut out = vec![0.0; ranks.len()];
    for &(b, off) in &needed {
        let seg = &mut scratch[off..off + counts[b] as usize];
        let idx: Vec<usize> = (0..ranks.len())
            .filter(|&i| ranks[i] >= start[b] && ranks[i] < start[b + 1])
            .collect();
        let local: Vec<usize> = idx.iter().map(|&i| ranks[i] - start[b]).collect();
        select_ranks(seg, 0, &local);
        for (&i, &l) in idx.iter().zip(&local) {
            out[i] = seg[l];
        }
    }
    out
}

/// Order of simulated losses: never NaN (inputs are finite and non-negative), so plain
/// comparisons suffice and are cheaper than `total_cmp`.
#[inline]
#[allow(clippy::trivially_copy_pass_by_ref)] // the signature `select_nth_unstable_by` wants
fn cmp_loss(a: &f64, b: &f64) -> std::cmp::Ordering {
    if a < b {
        std::cmp::Ordering::Less
    } else if a > b {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    }
}

/// Puts the order statistics of the given (sorted, distinct) ranks in place, by recursive
/// selection: O(n log m) for m ranks instead of a full sort.
fn select_ranks(v: &mut [f64], offset: usize, ranks: &[usize]) {
    if ranks.is_empty() || v.len() <= 1 {
        return;
    }
    if v.len() <= 32 {
        v.sort_unstable_by(cmp_loss);
        return;
    }
    let mid = ranks.len() / 2;
    let k = ranks[mid] - offset;
    let (left, _, right) = v.select_nth_unstable_by(k, cmp_loss);
    select_ranks(left, offset, &ranks[..mid]);
    select_ranks(right, offset + k + 1, &ranks[mid + 1..]);
}

/// Figures of a distribution held in `v`.
pub(crate) fn summarize(v: &[f64], (sum, sum_sq, nonzero): ChunkStats) -> Summary {
    let n = v.len();
    let mean = sum / n as f64;
    let var = if n > 1 {
        ((sum_sq - sum * mean) / (n - 1) as f64).max(0.0)
    } else {
        0.0
    };
    let lec_points: Vec<(f64, f64)> = LEC_POINTS
        .iter()
        .copied()
        .filter(|(_, p)| p * n as f64 >= 10.0)
        .collect();
    // Order statistics at both ranks around every quantile.
    let mut ranks: Vec<usize> = PERCENTILES
        .iter()
        .copied()
        .chain(lec_points.iter().map(|&(q, _)| q))
        .flat_map(|q| {
            let (lo, hi, _) = ranks_for(q, n);
            [lo, hi]
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let values = order_stats(v, &ranks);
    let at = |r: usize| values[ranks.binary_search(&r).expect("rank selected")];
    let quant = |q: f64| {
        let (lo, hi, f) = ranks_for(q, n);
        let a = at(lo);
        if f == 0.0 { a } else { a + f * (at(hi) - a) }
    };
    let lec = lec_points.iter().map(|&(q, p)| (quant(q), p)).collect();
    Summary {
        mean,
        sd: var.sqrt(),
        p10: quant(0.10),
        p50: quant(0.50),
        p90: quant(0.90),
        p95: quant(0.95),
        p99: quant(0.99),
        prob_loss: nonzero as f64 / n as f64,
        lec,
    }
}

fn sorted_tolerance(input: &Input) -> Option<Vec<(f64, f64)>> {
    if input.tolerance.is_empty() {
        return None;
    }
    let mut t: Vec<(f64, f64)> = input
        .tolerance
        .iter()
        .map(|p| (p.loss, p.probability))
        .collect();
    t.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(t)
}

/// Tolerated exceedance probability at `loss`, linear in ln(loss) between tolerance points;
/// `None` outside the curve's range.
fn tolerated_at(t: &[(f64, f64)], loss: f64) -> Option<f64> {
    let first = t.first()?;
    let last = t.last()?;
    if loss < first.0 || loss > last.0 {
        return None;
    }
    for w in t.windows(2) {
        let ((l0, p0), (l1, p1)) = (w[0], w[1]);
        if loss >= l0 && loss <= l1 {
            if l1 <= l0 {
                return Some(p0.min(p1));
            }
            let f = (loss.ln() - l0.ln()) / (l1.ln() - l0.ln());
            return Some(p0 + f * (p1 - p0));
        }
    }
    Some(first.1)
}

fn tolerance_check(v: &[f64], t: &[(f64, f64)], lec: &[(f64, f64)]) -> ToleranceCheck {
    let mut losses: Vec<f64> = t.iter().map(|p| p.0).collect();
    losses.extend(
        lec.iter()
            .map(|p| p.0)
            .filter(|l| *l > 0.0 && tolerated_at(t, *l).is_some()),
    );
    losses.sort_by(f64::total_cmp);
    losses.dedup();
    let n = v.len() as f64;
    let counts: Vec<u64> = losses
        .par_iter()
        .map(|&l| v.iter().filter(|&&x| x > l).count() as u64)
        .collect();
    let points: Vec<ToleranceCheckPoint> = losses
        .iter()
        .zip(counts)
        .map(|(&loss, c)| {
            let tolerated = tolerated_at(t, loss).unwrap_or(1.0);
            let probability = c as f64 / n;
            ToleranceCheckPoint {
                loss,
                tolerated,
                probability,
                exceeded: probability > tolerated,
            }
        })
        .collect();
    ToleranceCheck {
        exceeded: points.iter().any(|p| p.exceeded),
        points,
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // order statistics are compared exactly
mod tests {
    use super::*;

    #[test]
    fn selection_gives_exact_order_statistics() {
        let mut r = Xoshiro::from_key(99);
        let v: Vec<f64> = (0..10_001).map(|_| r.u01() * 1000.0).collect();
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        let s = summarize(&v, chunk_stats(&v));
        assert_eq!(s.p50, sorted[5000]);
        assert_eq!(s.p10, sorted[1000]);
        assert_eq!(s.p99, sorted[9900]);
        // LEC: increasing losses, decreasing probabilities.
        assert!(
            s.lec
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 > w[1].1)
        );
        // Interpolated quantiles (n - 1 not a multiple of 100) equal the sort-based definition.
        let v: Vec<f64> = (0..1234).map(|_| r.u01()).collect();
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        let type7 = |q: f64| {
            let h = 1233.0 * q;
            let lo = h.floor() as usize;
            sorted[lo] + (h - lo as f64) * (sorted[lo + 1] - sorted[lo])
        };
        let s = summarize(&v, chunk_stats(&v));
        for (q, got) in [
            (0.1, s.p10),
            (0.5, s.p50),
            (0.9, s.p90),
            (0.95, s.p95),
            (0.99, s.p99),
        ] {
            assert!((got - type7(q)).abs() < 1e-12, "q={q}");
        }
        for &(loss, p) in &s.lec {
            assert!((loss - type7(1.0 - p)).abs() < 1e-12, "p={p}");
        }
        let at = |p: f64| s.lec.iter().find(|x| x.1 == p).unwrap().0;
        assert_eq!(
            (at(0.9), at(0.5), at(0.1), at(0.01)),
            (s.p10, s.p50, s.p90, s.p99)
        );
    }

    #[test]
    fn histogram_order_statistics_equal_sorting() {
        let mut r = Xoshiro::from_key(3);
        let n = 100_003;
        let spread: Vec<f64> = (0..n).map(|_| (r.u01() * 30.0).exp()).collect();
        let zeros: Vec<f64> = (0..n)
            .map(|i| if i % 3 == 0 { 0.0 } else { 1000.0 + r.u01() })
            .collect();
        let ties: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let same = vec![42.0; n];
        let none = vec![0.0; n];
        let ranks = [0, 1, 17, 5_000, 50_001, 50_002, 99_000, n - 2, n - 1];
        for v in [spread, zeros, ties, same, none] {
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let got = order_stats(&v, &ranks);
            for (&k, g) in ranks.iter().zip(got) {
                assert_eq!(g, sorted[k], "rank {k}");
            }
        }
    }

    #[test]
    fn poisson_has_the_right_mean_and_variance() {
        for &lambda in &[0.3, 4.0, 29.0, 45.0, 500.0] {
            let mut ev = SplitMix::new(5);
            let n = 200_000;
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    let u = ev.u01();
                    poisson(lambda, u, &mut ev) as f64
                })
                .collect();
            let m = xs.iter().sum::<f64>() / f64::from(n);
            let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / f64::from(n);
            let se = (lambda / f64::from(n)).sqrt();
            assert!((m - lambda).abs() < 5.0 * se, "lambda {lambda}: mean {m}");
            assert!(
                (var / lambda - 1.0).abs() < 0.03,
                "lambda {lambda}: var {var}"
            );
        }
    }

    #[test]
    fn ln_factorial_matches_the_product() {
        let mut s = 0.0_f64;
        for k in 1..40 {
            s += f64::from(k).ln();
            assert!((ln_factorial(f64::from(k)) - s).abs() < 1e-10, "k={k}");
        }
    }

    #[test]
    fn tolerance_is_interpolated_in_log_loss() {
        let t = [(1e4, 0.5), (1e6, 0.1)];
        assert!((tolerated_at(&t, 1e5).unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(tolerated_at(&t, 10.0), None);
        assert_eq!(tolerated_at(&t, 1e7), None);
    }
}
