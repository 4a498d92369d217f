//! `exam.*` checks on `exam_sessions` and `exam_records` (answer-level
//! checks on `exam_responses` live in `checks::responses`):
//!
//! | id | module | what it tests |
//! |---|---|---|
//! | `exam.pass_rate`, `exam.training_pass_rate` | [`rates`] | first-sitting pass rates vs peers (indirect standardisation, overdispersed funnel, BH) |
//! | `exam.score_heaping` | [`heaping`] | scores just at/above the pass mark vs just below, against peers |
//! | `exam.early_submit`, `exam.fast_high_score`, `exam.submit_cluster`, `exam.outside_window` | [`timing`] | sitting times and submission patterns |
//! | `exam.seat_conflict`, `exam.person_overlap`, `exam.face_mismatch` | [`seats`] | seats, identity and capacity rules |
//!
//! Every threshold is in `[params.exam]` of `models/scorecard.toml`; the
//! exam rules (pass mark, minimum sitting time, late entry) come from
//! `models/operations.toml`.

mod heaping;
mod rates;
mod seats;
mod timing;

use serde::Deserialize;

use super::{Chart, Ctx, Finding};
use crate::dataset::rows::{ExamRecord, ExamSession, OpRef, Part, Tables, Ts};
use crate::stats::funnel::Method;

/// `[params.exam]`; see the comments in `models/scorecard.toml` for the
/// source or rationale of each default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    // -- shared
    /// Benjamini–Hochberg level for every statistical exam check.
    pub fdr_q: f64,
    /// q-value at which the statistical part of a severity is full
    /// (severity rises with log10(fdr_q / q) up to here).
    pub full_q: f64,
    /// Parts whose timing is checked (`theory` / `practical`).
    pub timing_parts: Vec<PartName>,
    /// Seed of every Monte-Carlo null (recorded so runs are reproducible).
    pub seed: u64,
    // -- pass rates
    pub overdispersion: Method,
    pub winsor_low: f64,
    pub winsor_high: f64,
    /// Institutions needed in a group before φ / τ² is estimated.
    pub min_units_dispersion: usize,
    /// Peers' first sittings needed in an operation × part cell for a baseline.
    pub min_peer_n: u64,
    /// Minimum share of the expected failures that passed instead, (O−E)/(n−E).
    pub pass_min_excess_share: f64,
    /// Excess share at which the effect part of the severity is full.
    pub pass_full_excess_share: f64,
    // -- heaping
    pub heaping_width_theory: f64,
    pub heaping_width_practical: f64,
    /// Scores in the two windows needed before an institution is tested.
    pub heaping_min_n: u64,
    pub heaping_min_odds_ratio: f64,
    pub heaping_full_odds_ratio: f64,
    /// Severity multiplier for theory (computer-marked) exams.
    pub heaping_theory_factor: f64,
    // -- timing
    pub early_min_count: usize,
    pub early_full_count: usize,
    pub fast_z: f64,
    pub fast_min_score: f64,
    /// Floor of the MAD of log-durations (so identical durations do not
    /// make every other duration infinitely extreme).
    pub fast_min_log_scale: f64,
    pub fast_min_count: u64,
    pub fast_full_share: f64,
    pub cluster_window_minutes: f64,
    pub cluster_bin_minutes: f64,
    pub cluster_reps: u32,
    pub cluster_stop_after: u32,
    pub cluster_min_n: usize,
    pub cluster_min_count: usize,
    pub cluster_min_share: f64,
    pub cluster_full_share: f64,
    pub auto_submit_grace_minutes: f64,
    pub login_before_start_minutes: f64,
    pub submit_after_end_minutes: f64,
    pub outside_min_count: usize,
    pub outside_full_count: usize,
    // -- seats and identity
    pub seat_min_count: usize,
    pub seat_full_count: usize,
    pub overlap_min_count: usize,
    pub overlap_full_count: usize,
    pub face_min_score: f64,
    pub face_min_count: usize,
    pub face_full_count: usize,
}

impl Default for Params {
    /// The defaults of `models/scorecard.toml` (used by tests).
    fn default() -> Self {
        Params {
            fdr_q: 0.05,
            full_q: 1e-4,
            timing_parts: vec![PartName::Theory],
            seed: 20_240_710,
            overdispersion: Method::Additive,
            winsor_low: 0.1,
            winsor_high: 0.9,
            min_units_dispersion: 5,
            min_peer_n: 30,
            pass_min_excess_share: 0.3,
            pass_full_excess_share: 0.8,
            heaping_width_theory: 3.0,
            heaping_width_practical: 3.0,
            heaping_min_n: 10,
            heaping_min_odds_ratio: 2.0,
            heaping_full_odds_ratio: 6.0,
            heaping_theory_factor: 0.7,
            early_min_count: 3,
            early_full_count: 20,
            fast_z: 3.0,
            fast_min_score: 90.0,
            fast_min_log_scale: 0.15,
            fast_min_count: 3,
            fast_full_share: 0.3,
            cluster_window_minutes: 2.0,
            cluster_bin_minutes: 10.0,
            cluster_reps: 4999,
            cluster_stop_after: 10,
            cluster_min_n: 8,
            cluster_min_count: 6,
            cluster_min_share: 0.3,
            cluster_full_share: 0.6,
            auto_submit_grace_minutes: 1.0,
            login_before_start_minutes: 30.0,
            submit_after_end_minutes: 5.0,
            outside_min_count: 3,
            outside_full_count: 20,
            seat_min_count: 1,
            seat_full_count: 10,
            overlap_min_count: 1,
            overlap_full_count: 5,
            face_min_score: 0.6,
            face_min_count: 2,
            face_full_count: 10,
        }
    }
}

/// An exam part as written in `[params.exam]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartName {
    Theory,
    Practical,
}

impl Params {
    pub(crate) fn times_part(&self, part: Part) -> bool {
        self.timing_parts
            .iter()
            .any(|p| matches!((p, part), (PartName::Theory, Part::Theory) | (PartName::Practical, Part::Practical)))
    }
}

pub fn run(ctx: &Ctx) -> Vec<Finding> {
    let Some(ex) = Exams::new(ctx.t) else {
        return Vec::new();
    };
    let p = &ctx.params.exam;
    let parts: [&(dyn Fn() -> Vec<Finding> + Sync); 4] =
        [&|| rates::run(ctx, &ex, p), &|| heaping::run(ctx, &ex, p), &|| timing::run(ctx, &ex, p), &|| {
            seats::run(ctx, &ex, p)
        }];
    use rayon::prelude::*;
    parts.par_iter().flat_map(|f| f()).collect()
}

/// Pass-rate funnel charts per operation and exam part for the overview.
pub fn overview_charts(ctx: &Ctx) -> Vec<Chart> {
    match Exams::new(ctx.t) {
        Some(ex) => rates::overview_charts(ctx, &ex, &ctx.params.exam),
        None => Vec::new(),
    }
}

/// The exam tables with records grouped by session (CSR layout: the record
/// indices of session `s` are `by_session[offsets[s]..offsets[s + 1]]`).
pub(crate) struct Exams<'a> {
    pub sessions: &'a [ExamSession],
    pub records: &'a [ExamRecord],
    offsets: Vec<u32>,
    by_session: Vec<u32>,
}

impl<'a> Exams<'a> {
    fn new(t: &'a Tables) -> Option<Exams<'a>> {
        let sessions = t.exam_sessions.as_deref()?;
        let records = t.exam_records.as_deref()?;
        let (offsets, by_session) = crate::dataset::rows::group_by(sessions.len(), records.iter().map(|r| r.session));
        Some(Exams { sessions, records, offsets, by_session })
    }

    /// Record indices of session `s`, in input order.
    pub fn of_session(&self, s: usize) -> &[u32] {
        &self.by_session[self.offsets[s] as usize..self.offsets[s + 1] as usize]
    }

    pub fn session_of(&self, r: &ExamRecord) -> &ExamSession {
        &self.sessions[r.session as usize]
    }
}

/// An operation × exam part cell: peers are compared only within one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Cell {
    /// Model index, or 0x1_0000 + the raw text's symbol for operations the
    /// model does not know (still compared with peers writing the same text).
    pub op: u32,
    pub part: u8,
}

impl Cell {
    pub fn of(op: OpRef, part: Part) -> Cell {
        Cell { op: op.op.map(u32::from).unwrap_or(0x1_0000 + op.raw.0), part: part as u8 }
    }

    pub fn part(&self) -> Part {
        if self.part == Part::Theory as u8 {
            Part::Theory
        } else {
            Part::Practical
        }
    }
}

/// `低压电工作业 理论` / `low_voltage_electrician theory` of a session's cell.
pub(crate) fn cell_label(ctx: &Ctx, s: &ExamSession) -> (String, String) {
    let (zh, en) = match s.operation.op {
        Some(i) => {
            let o = ctx.ops.get(i);
            (o.name.clone(), o.code.clone())
        }
        None => (ctx.t.s(s.operation.raw).to_string(), ctx.t.s(s.operation.raw).to_string()),
    };
    match s.part {
        Part::Theory => (format!("{zh} 理论"), format!("{en} theory")),
        Part::Practical => (format!("{zh} 实操"), format!("{en} practical")),
    }
}

/// Severity of a statistical finding, no floor: the product of the
/// significance strength and the effect size (already scaled to 0–1),
///
/// `severity = clamp(log10(fdr_q / q) / log10(fdr_q / full_q), 0, 1) · clamp(effect, 0, 1)`,
///
/// so a finding that only just passes `fdr_q` weighs almost nothing, and a
/// strong one needs both a large effect and a q-value near `full_q`.
pub(crate) fn stat_severity(q: f64, p: &Params, effect: f64) -> f64 {
    crate::stats::evidence::evidence(q, p.fdr_q, p.full_q, effect)
}

/// Severity of a hard rule broken by `count` records (the check gates the
/// finding on its `*_min_count`): `min(1, count / full)`, no floor.
pub(crate) fn count_severity(count: usize, full: usize) -> f64 {
    crate::stats::evidence::extent(count as f64, full.max(1) as f64)
}

pub(crate) fn fmt_opt_ts(t: Option<Ts>) -> String {
    t.map(crate::dataset::rows::fmt_ts).unwrap_or_default()
}

pub(crate) fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// Maximum evidence rows kept per table.
pub(crate) const ROWS: usize = 50;

#[cfg(test)]
pub(crate) mod fixture;
