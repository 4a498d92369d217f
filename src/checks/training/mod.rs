//! `training.*` checks: the training hour log (`classes`, `attendance`, and
//! `exam_records` where a check needs the exam date) audited for hours that
//! were never delivered (学时不足、不按大纲施教, 代学, 挂机, 刷学时).
//!
//! | id | tables | what it tests |
//! |---|---|---|
//! | `training.hours_short` | classes, attendance (exam_* to skip dropouts) | credited 学时 per trainee per class vs the operation's required hours (AQ 8011: offline ÷ 45 min, online ÷ 30 min, practical offline only, offline theory ≥ 30 % of syllabus theory); binomial test against an honest shortfall rate |
//! | `training.not_in_model` | classes | classes whose operation the model does not know (hours not checked; informational) |
//! | `training.compressed_schedule` | classes | calendar span × daily maximum < the hours that must be offline |
//! | `training.person_overlap` | attendance | one person in two overlapping records |
//! | `training.instructor_overlap` | classes, attendance | one instructor teaching overlapping sessions in different rooms |
//! | `training.room_over_capacity` | classes, attendance | more trainees signed in present at once in a room than its capacity |
//! | `training.roster_over_capacity` | classes, attendance | a class roster larger than its declared room (planning breach, low weight) |
//! | `training.proxy_signin` | attendance | many persons checked in within seconds on one capture device; identical in/out times captured to the second or with failed faces (manual entries excluded) |
//! | `training.time_heaping` | attendance | class-days typed in by hand (whole-minute times) vs peer institutions of the same kind: beta-binomial fitted to peers, exact tail, BH across institutions |
//! | `training.online_farming` | attendance | online: one device serving many persons, overlapping sessions on a device, night study |
//! | `training.face_mismatch` | attendance | hours credited on records whose face score is below the pass threshold, vs peer institutions' failure rate (beta-binomial, BH) |
//! | `training.backfilled` | attendance, exam_* | attendance after the trainee's exam for that operation, or after the class ended |
//! | `training.no_attendance_record` | exam_*, attendance | candidates naming this institution with no attendance there for that operation |
//!
//! ## Nulls and severities (issue 15)
//!
//! Two kinds of check. A breach of a hard rule needs no peer null: it is a
//! fact with its evidence, and its severity follows its extent (no floor).
//! A pattern honest institutions also produce is evidence only against a
//! null estimated from comparable units — the other institutions of the
//! same kind ([`peer_tests`]: beta-binomial, this institution left out, BH
//! across institutions) — and its severity is the scorecard's `q_effect`
//! form: effect part × significance part, 0 when not significant.
//!
//! | check | kind | null | statistic | severity |
//! |---|---|---|---|---|
//! | `hours_short` | hard rule + honest absences | binomial at `hours_baseline_short_rate` | trainees short / trainees | Clopper–Pearson lower bound of the share ÷ `hours_full_share` |
//! | `compressed_schedule` | hard rule | — (calendar cannot hold the offline hours) | classes compressed / classes | share ÷ `compressed_full_share` |
//! | `person_overlap` | hard rule | — (one person, two places) | trainees with overlaps / trainees | share ÷ `overlap_full_share` |
//! | `instructor_overlap` | hard rule | — | overlapping session pairs | pairs ÷ `instructor_full_pairs` |
//! | `room_over_capacity` | hard rule | — (more present at once than the room holds) | peak present / capacity | (ratio − 1) ÷ `room_full_excess` × share of room-days over ÷ `room_full_share` |
//! | `roster_over_capacity` | planning breach (low weight) | — | classes whose roster exceeds the room / classes | share ÷ `roster_full_share` |
//! | `proxy_signin` | hard rule | — (a capture device cannot verify faces that fast; identical times to the second); manual entries excluded | records in bursts / identical groups ÷ records | share ÷ `proxy_full_share` |
//! | `time_heaping` | pattern | peers' typed class-day rate (beta-binomial, same kind) | typed class-days / class-days | evidence form on the excess over peers |
//! | `online_farming` | hard rule | — (concurrent sessions on one device; night outside allowed hours); persons per device is context | suspect online records / online records | share ÷ `online_full_share` |
//! | `face_mismatch` | pattern | peers' failed-face rate (beta-binomial, same kind, ≥ `face_base_rate`) | failed / face-checked records | evidence form on the excess over the null |
//! | `backfilled` | hard rule | — (dated after the exam / class end) | trainees with such records / trainees | share ÷ `backfill_full_share` |
//! | `no_attendance_record` | hard rule | — (candidate named this trainer, no record there) | candidates without records / candidates | share ÷ `noatt_full_share` |
//!
//! Every threshold is in `[params.training]` of `models/scorecard.toml`.
//! Rows are grouped once by sorting index vectors ([`Index`]); the
//! per-institution work runs in parallel with rayon, and the province-wide
//! parts (a person's records across institutions, heaping p-values that are
//! BH-adjusted across institutions) run once.

mod hours;
mod online;
mod presence;
mod records;
mod signin;

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Deserialize;

use super::severity::SeverityForm;
use super::{Ctx, EvidenceTable, Finding, TrainingCheck};
use crate::dataset::intern::Sym;
use crate::dataset::rows::{Attendance, Class, InstKind, OpRef, Tables, Ts};
use crate::stats::betabinom::{self, BetaBinom};
use crate::stats::fdr::bh_adjust;

/// Parameters of the training checks (`[params.training]`); each field's
/// source or rationale is commented in the scorecard.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub evidence_rows: usize,
    // hours_short
    pub hours_tolerance: f64,
    pub hours_only_examined: bool,
    pub hours_min_share: f64,
    pub hours_min_trainees: usize,
    pub hours_class_short_share: f64,
    pub hours_class_min_trainees: usize,
    pub hours_baseline_short_rate: f64,
    pub hours_alpha: f64,
    pub hours_full_share: f64,
    pub hours_share_confidence: f64,
    pub heatstrip_rows: usize,
    // compressed_schedule
    pub daily_max_hours: f64,
    pub compressed_min_classes: usize,
    pub compressed_full_share: f64,
    // person_overlap
    pub overlap_min_minutes: f64,
    pub overlap_min_persons: usize,
    pub overlap_full_share: f64,
    // instructor_overlap
    pub session_gap_minutes: f64,
    pub instructor_overlap_min_minutes: f64,
    pub instructor_full_pairs: f64,
    // room_over_capacity
    pub room_min_excess_persons: u32,
    pub room_full_excess: f64,
    pub room_full_share: f64,
    pub roster_full_share: f64,
    // proxy_signin
    pub burst_gap_secs: i64,
    pub burst_min_persons: usize,
    pub unverified_min_persons: usize,
    pub same_second_min_persons: usize,
    pub face_verified: f32,
    pub identical_min_persons: usize,
    pub placeholder_min_share: f64,
    pub placeholder_min_rows: usize,
    pub proxy_min_rows: usize,
    pub proxy_min_share: f64,
    pub proxy_full_share: f64,
    // time_heaping
    pub peer_trim_p: f64,
    pub heaping_min_days: u64,
    pub heaping_trim_max_share: f64,
    pub face_trim_max_share: f64,
    pub heaping_min_peers: usize,
    pub heaping_day_share: f64,
    pub heaping_min_excess: f64,
    // online_farming
    pub device_max_persons: usize,
    pub device_overlap_min_minutes: f64,
    pub night_start_hour: u32,
    pub night_end_hour: u32,
    pub night_min_minutes: f64,
    pub night_shift_classes: Vec<String>,
    pub night_shift_institutions: Vec<String>,
    pub online_min_rows: usize,
    pub online_min_share: f64,
    pub online_full_share: f64,
    // face_mismatch
    pub face_min: f32,
    pub face_min_rows: usize,
    pub face_base_rate: f64,
    pub face_min_peers: usize,
    pub face_min_excess: f64,
    // backfilled
    pub backfill_grace_days: i32,
    pub backfill_min_persons: usize,
    pub backfill_full_share: f64,
    // no_attendance_record
    pub noatt_min_persons: usize,
    pub noatt_min_share: f64,
    pub noatt_full_share: f64,
}

/// Check codes of this family (short names for [`TrainingCheck`]).
pub mod ids {
    use crate::checks::TrainingCheck;

    pub const HOURS_SHORT: TrainingCheck = TrainingCheck::HoursShort;
    pub const NOT_IN_MODEL: TrainingCheck = TrainingCheck::NotInModel;
    pub const COMPRESSED: TrainingCheck = TrainingCheck::CompressedSchedule;
    pub const PERSON_OVERLAP: TrainingCheck = TrainingCheck::PersonOverlap;
    pub const INSTRUCTOR_OVERLAP: TrainingCheck = TrainingCheck::InstructorOverlap;
    pub const ROOM_OVER_CAPACITY: TrainingCheck = TrainingCheck::RoomOverCapacity;
    pub const ROSTER_OVER_CAPACITY: TrainingCheck = TrainingCheck::RosterOverCapacity;
    pub const PROXY_SIGNIN: TrainingCheck = TrainingCheck::ProxySignin;
    pub const TIME_HEAPING: TrainingCheck = TrainingCheck::TimeHeaping;
    pub const ONLINE_FARMING: TrainingCheck = TrainingCheck::OnlineFarming;
    pub const FACE_MISMATCH: TrainingCheck = TrainingCheck::FaceMismatch;
    pub const BACKFILLED: TrainingCheck = TrainingCheck::Backfilled;
    pub const NO_ATTENDANCE: TrainingCheck = TrainingCheck::NoAttendanceRecord;
}

/// Row groupings every check shares, built once per run.
pub(crate) struct Index<'a> {
    pub t: &'a Tables,
    pub classes: &'a [Class],
    /// Empty when the attendance table was not given (see `has_attendance`).
    pub att: &'a [Attendance],
    pub has_attendance: bool,
    /// Attendance row indices sorted by (class, person, check_in).
    pub by_class: Vec<u32>,
    /// `by_class[class_start[c]..class_start[c + 1]]` are class `c`'s rows.
    pub class_start: Vec<usize>,
    /// Class row indices per institution.
    pub classes_of: Vec<Vec<u32>>,
    /// Per attendance row: typed in by hand (see [`manual_entries`]).
    pub manual: Vec<bool>,
    /// Device values that are export placeholders, not capture terminals.
    pub placeholders: Vec<Sym>,
    /// Rejected attendance rows as far as they could be read: (person,
    /// institution or `u32::MAX` when unreadable, operation key or
    /// `u32::MAX`), sorted. A rejected row is unknown, not absent.
    pub rejected_att: Vec<(u32, u32, u32)>,
}

impl<'a> Index<'a> {
    pub fn build(t: &'a Tables, classes: &'a [Class], p: &Params) -> Index<'a> {
        let att = t.attendance.as_deref().unwrap_or(&[]);
        let mut by_class: Vec<u32> = (0..att.len() as u32).collect();
        by_class.par_sort_unstable_by_key(|&i| {
            let a = &att[i as usize];
            (a.class, a.person.0, a.check_in, i)
        });
        let mut class_start = vec![0usize; classes.len() + 1];
        for a in att {
            if let Some(c) = class_start.get_mut(a.class as usize + 1) {
                *c += 1;
            }
        }
        for c in 1..class_start.len() {
            class_start[c] += class_start[c - 1];
        }
        let mut classes_of = vec![Vec::new(); t.institutions.len()];
        for (ci, c) in classes.iter().enumerate() {
            if let Some(v) = classes_of.get_mut(c.inst as usize) {
                v.push(ci as u32);
            }
        }
        let mut ix = Index {
            t,
            classes,
            att,
            has_attendance: t.attendance.is_some(),
            by_class,
            class_start,
            classes_of,
            manual: Vec::new(),
            placeholders: Vec::new(),
            rejected_att: Vec::new(),
        };
        ix.rejected_att = t
            .rejected_in(crate::dataset::Table::Attendance)
            .filter_map(|r| {
                let person = r.person?;
                Some((person.0, r.inst.unwrap_or(u32::MAX), r.operation.as_ref().map_or(u32::MAX, op_key)))
            })
            .collect();
        ix.rejected_att.sort_unstable();
        (ix.manual, ix.placeholders) = manual_entries(att, p.placeholder_min_share, p.placeholder_min_rows);
        ix
    }

    /// Whether an attendance row of `person` at `inst` for operation key
    /// `op` may have been rejected (institution or operation unreadable
    /// count as possibly this one): that trainee's hours are unknown.
    pub fn attendance_unreadable(&self, person: Sym, inst: u32, op: u32) -> bool {
        let lo = self.rejected_att.partition_point(|x| x.0 < person.0);
        self.rejected_att[lo..]
            .iter()
            .take_while(|x| x.0 == person.0)
            .any(|&(_, i, o)| (i == inst || i == u32::MAX) && (o == op || o == u32::MAX))
    }

    /// Record `row` was typed in by hand (no capture terminal saw it).
    pub fn is_manual(&self, row: u32) -> bool {
        self.manual.get(row as usize).copied().unwrap_or(false)
    }

    /// Attendance rows of class `c`, sorted by (person, check_in).
    pub fn class_rows(&self, c: u32) -> &[u32] {
        let c = c as usize;
        &self.by_class[self.class_start[c]..self.class_start[c + 1]]
    }

    /// All attendance rows of institution `inst` (grouped by class).
    pub fn inst_rows(&self, inst: u32) -> Vec<u32> {
        let mut v = Vec::new();
        for &c in &self.classes_of[inst as usize] {
            v.extend_from_slice(self.class_rows(c));
        }
        v
    }

    pub fn a(&self, row: u32) -> &Attendance {
        &self.att[row as usize]
    }

    pub fn class_of(&self, row: u32) -> &Class {
        &self.classes[self.att[row as usize].class as usize]
    }

    pub fn inst_of(&self, row: u32) -> u32 {
        self.class_of(row).inst
    }

    pub fn s(&self, sym: Sym) -> &str {
        self.t.s(sym)
    }

    pub fn opt(&self, sym: Option<Sym>) -> String {
        sym.map(|s| self.t.s(s).to_string()).unwrap_or_default()
    }
}

/// Both times of a record on a whole minute (typed, not captured).
pub(crate) fn whole_minutes(a: &Attendance) -> bool {
    a.check_in.rem_euclid(60) == 0 && a.check_out.rem_euclid(60) == 0
}

/// Manual entries, told from the data: a capture terminal records seconds
/// and (where it has a camera) a face score, so a record with both times on
/// a whole minute, no face score and no device — or a device value that is
/// an export's placeholder — was typed in by hand. A device value is a
/// placeholder when at least `min_share` of its (at least `min_rows`)
/// records are typed-looking (whole minutes, no face score): a real
/// terminal puts both times on a whole minute once in 3,600 records. No
/// word list: whatever the export writes (`手工录入`, `-`, `0`, `N/A`) is
/// found by how its records look.
pub(crate) fn manual_entries(att: &[Attendance], min_share: f64, min_rows: usize) -> (Vec<bool>, Vec<Sym>) {
    let typed = |a: &Attendance| a.face_score.is_none() && whole_minutes(a);
    let mut per_dev: HashMap<Sym, (usize, usize)> = HashMap::new();
    for a in att {
        if let Some(d) = a.device {
            let e = per_dev.entry(d).or_default();
            e.0 += 1;
            e.1 += typed(a) as usize;
        }
    }
    let mut placeholders: Vec<Sym> = per_dev
        .into_iter()
        .filter(|&(_, (n, k))| n >= min_rows && k as f64 >= min_share * n as f64)
        .map(|(d, _)| d)
        .collect();
    placeholders.sort_unstable_by_key(|d| d.0);
    let manual = att
        .iter()
        .map(|a| typed(a) && a.device.is_none_or(|d| placeholders.binary_search_by_key(&d.0, |x| x.0).is_ok()))
        .collect();
    (manual, placeholders)
}

/// The parameters of a check's `q_effect` severity form (alpha, full_q,
/// full_effect): the decision level and the scale its method text states.
/// (1, 1, 1) when the check has another form or none (the load validates
/// the forms, so this is only a fallback).
pub(crate) fn q_effect(ctx: &Ctx, check: TrainingCheck) -> (f64, f64, f64) {
    match ctx.card.check(check).and_then(|c| c.severity.as_ref()) {
        Some(SeverityForm::QEffect { alpha, full_q, full_effect, .. }) => (*alpha, *full_q, *full_effect),
        _ => (1.0, 1.0, 1.0),
    }
}

/// One unit's test against its peers (see [`peer_tests`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerTest {
    pub null: BetaBinom,
    pub p_value: f64,
    /// BH-adjusted across all units tested together.
    pub q: f64,
    /// Peers were institutions of the same kind (else all institutions).
    pub by_kind: bool,
}

/// Tests each unit `(kind, events, trials)` against its peers: institutions
/// of the same kind when more than `min_peers` of them have trials, else all
/// institutions; the peers' beta-binomial (method of moments, this unit left
/// out, so its own excess does not widen its null, and without the units
/// already extreme at `trim.0` under the fit of their kind, at most a share
/// `trim.1` of them, see [`betabinom::keep_mask`]), its mean raised to
/// `floor` (an honest rate the data must beat whatever the peers do); the
/// binomial at `floor` with `min_peers` or fewer peers (p = 1 when `floor`
/// is 0: nothing to compare with). Exact upper tails,
/// Benjamini–Hochberg across all units.
pub(crate) fn peer_tests(
    units: &[(InstKind, u64, u64)],
    min_peers: usize,
    floor: f64,
    trim: (f64, f64),
) -> Vec<PeerTest> {
    // Units already extreme under the fit of their kind do not shape the null.
    let mut keep = vec![true; units.len()];
    for kind in [InstKind::Training, InstKind::Exam, InstKind::Both] {
        let idx: Vec<usize> = (0..units.len()).filter(|&j| units[j].0 == kind).collect();
        let mask =
            betabinom::keep_mask(&idx.iter().map(|&j| (units[j].1, units[j].2)).collect::<Vec<_>>(), trim.0, trim.1);
        for (&j, m) in idx.iter().zip(mask) {
            keep[j] = m;
        }
    }
    let mut out: Vec<PeerTest> = Vec::with_capacity(units.len());
    for (i, &(kind, k, n)) in units.iter().enumerate() {
        let pick = |same: bool| -> Vec<usize> {
            (0..units.len()).filter(|&j| j != i && units[j].2 > 0 && (!same || units[j].0 == kind)).collect()
        };
        let same = pick(true);
        let (peers, by_kind) = if same.len() > min_peers { (same, true) } else { (pick(false), false) };
        let fitted = if peers.len() > min_peers {
            let kept: Vec<(u64, u64)> = peers.iter().filter(|&&j| keep[j]).map(|&j| (units[j].1, units[j].2)).collect();
            betabinom::fit(&kept)
        } else {
            None
        };
        let null = match fitted {
            Some(f) if f.p >= floor => f,
            Some(f) => BetaBinom { p: floor, ..f },
            None => BetaBinom { p: floor, rho: 0.0, units: 0 },
        };
        // No peers and no floor: nothing to test against.
        let p_value = if null.units == 0 && floor <= 0.0 { 1.0 } else { null.upper_tail(k, n) };
        out.push(PeerTest { null, p_value, q: 1.0, by_kind });
    }
    let q = bh_adjust(&out.iter().map(|t| t.p_value).collect::<Vec<_>>());
    for (t, q) in out.iter_mut().zip(q) {
        t.q = q;
    }
    out
}

/// A key naming an operation: its model index when known, else its raw text.
pub(crate) fn op_key(op: &OpRef) -> u32 {
    match op.op {
        Some(i) => i as u32,
        None => 0x8000_0000 | op.raw.0,
    }
}

/// Severity from a share of affected records: `share / full_share`, capped at 1.
pub(crate) fn share_severity(share: f64, full_share: f64) -> f64 {
    if full_share <= 0.0 {
        return 1.0;
    }
    (share / full_share).clamp(0.0, 1.0)
}

/// Minutes of `[a, b)` as a float.
pub(crate) fn minutes(a: Ts, b: Ts) -> f64 {
    (b - a).max(0) as f64 / 60.0
}

/// A chart label for a person that does not reveal the ID number (charts
/// are not masked by the report): first 3 and last 4 characters.
pub(crate) fn person_label(id: &str) -> String {
    let c: Vec<char> = id.chars().collect();
    if c.len() <= 7 {
        return "*".repeat(c.len().max(1));
    }
    let head: String = c[..3].iter().collect();
    let tail: String = c[c.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(c.len() - 7))
}

/// `12.5%`
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Runs every training check.
pub fn run(ctx: &Ctx) -> Vec<Finding> {
    let Some(classes) = ctx.t.classes.as_deref() else { return Vec::new() };
    let p = &ctx.params.training;
    let ix = Index::build(ctx.t, classes, p);
    let exams = records::ExamIndex::build(ctx.t);
    let n_inst = ctx.t.institutions.len() as u32;

    // Province-wide parts first: a person's records across institutions.
    let overlaps = presence::person_overlaps(&ix, p);

    type PerInst = (Vec<Finding>, Option<signin::HeapStat>, Option<online::FaceStat>);
    let per_inst: Vec<PerInst> = (0..n_inst)
        .into_par_iter()
        .map(|inst| {
            let mut out = Vec::new();
            out.extend(hours::hours_short(ctx, &ix, &exams, inst));
            out.extend(hours::compressed_schedule(ctx, &ix, inst));
            out.extend(hours::not_in_model(ctx, &ix, inst));
            if !ix.has_attendance || ix.classes_of[inst as usize].is_empty() {
                return (out, None, None);
            }
            let rows = ix.inst_rows(inst);
            out.extend(presence::person_overlap(ctx, &ix, inst, &rows, overlaps.get(&inst)));
            out.extend(presence::instructor_overlap(ctx, &ix, inst, &rows));
            out.extend(presence::room_over_capacity(ctx, &ix, inst, &rows));
            out.extend(presence::roster_over_capacity(ctx, &ix, inst));
            out.extend(signin::proxy_signin(ctx, &ix, inst, &rows));
            out.extend(online::online_farming(ctx, &ix, inst, &rows));
            out.extend(records::backfilled(ctx, &ix, &exams, inst, &rows));
            out.extend(records::no_attendance_record(ctx, &ix, &exams, inst, &rows));
            let heap = signin::heap_stat(&ix, inst, &rows, p);
            let face = online::face_stat(&ix, inst, &rows, p);
            (out, heap, face)
        })
        .collect();

    let mut out = Vec::new();
    let (mut heaps, mut faces) = (Vec::new(), Vec::new());
    for (f, h, fs) in per_inst {
        out.extend(f);
        heaps.extend(h);
        faces.extend(fs);
    }
    out.extend(signin::time_heaping(ctx, &ix, heaps));
    out.extend(online::face_mismatch(ctx, &ix, faces));
    out
}

/// Overlapping record pairs per institution (built by `presence`).
pub(crate) type OverlapMap = HashMap<u32, Vec<(u32, u32)>>;

#[cfg(test)]
pub(crate) mod fixture;

/// Adds an evidence row, formatting it only when it will be kept (a
/// province run counts millions of rows but keeps a few dozen).
pub(crate) fn push_row(table: &mut EvidenceTable, row: impl FnOnce() -> Vec<String>, limit: usize) {
    if table.rows.len() < limit {
        table.push_limited(row(), limit);
    } else {
        table.total_rows += 1;
    }
}
