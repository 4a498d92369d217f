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
//! | `training.room_over_capacity` | classes, attendance | more concurrent classroom trainees in a room than its capacity |
//! | `training.proxy_signin` | attendance | many persons checked in within seconds on one device; identical in/out times across trainees |
//! | `training.time_heaping` | attendance | seconds of the timestamps heaped on round values (chi-square vs uniform, BH across institutions) |
//! | `training.online_farming` | attendance | online: one device serving many persons, overlapping sessions on a device, night study |
//! | `training.face_mismatch` | attendance | hours credited on records whose face score is below the pass threshold |
//! | `training.backfilled` | attendance, exam_* | attendance after the trainee's exam for that operation, or after the class ended |
//! | `training.no_attendance_record` | exam_*, attendance | candidates naming this institution with no attendance there for that operation |
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

use super::{Ctx, EvidenceTable, Finding};
use crate::dataset::intern::Sym;
use crate::dataset::rows::{Attendance, Class, OpRef, Tables, Ts};

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
    // proxy_signin
    pub burst_gap_secs: i64,
    pub burst_min_persons: usize,
    pub unverified_min_persons: usize,
    pub same_second_min_persons: usize,
    pub face_verified: f32,
    pub identical_min_persons: usize,
    pub proxy_min_rows: usize,
    pub proxy_min_share: f64,
    pub proxy_full_share: f64,
    // time_heaping
    pub heaping_min_n: u64,
    pub heaping_q: f64,
    pub heaping_min_excess: f64,
    pub heaping_full_excess: f64,
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
    pub face_min_share: f64,
    pub face_full_share: f64,
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
}

impl<'a> Index<'a> {
    pub fn build(t: &'a Tables, classes: &'a [Class]) -> Index<'a> {
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
        Index { t, classes, att, has_attendance: t.attendance.is_some(), by_class, class_start, classes_of }
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
    let ix = Index::build(ctx.t, classes);
    let exams = records::ExamIndex::build(ctx.t);
    let n_inst = ctx.t.institutions.len() as u32;

    // Province-wide parts first: a person's records across institutions.
    let overlaps = presence::person_overlaps(&ix, p);

    let per_inst: Vec<(Vec<Finding>, Option<signin::HeapStat>)> = (0..n_inst)
        .into_par_iter()
        .map(|inst| {
            let mut out = Vec::new();
            out.extend(hours::hours_short(ctx, &ix, &exams, inst));
            out.extend(hours::compressed_schedule(ctx, &ix, inst));
            out.extend(hours::not_in_model(ctx, &ix, inst));
            if !ix.has_attendance || ix.classes_of[inst as usize].is_empty() {
                return (out, None);
            }
            let rows = ix.inst_rows(inst);
            out.extend(presence::person_overlap(ctx, &ix, inst, &rows, overlaps.get(&inst)));
            out.extend(presence::instructor_overlap(ctx, &ix, inst, &rows));
            out.extend(presence::room_over_capacity(ctx, &ix, inst, &rows));
            out.extend(signin::proxy_signin(ctx, &ix, inst, &rows));
            out.extend(online::online_farming(ctx, &ix, inst, &rows));
            out.extend(online::face_mismatch(ctx, &ix, inst, &rows));
            out.extend(records::backfilled(ctx, &ix, &exams, inst, &rows));
            out.extend(records::no_attendance_record(ctx, &ix, &exams, inst, &rows));
            let heap = signin::heap_stat(&ix, inst, &rows, p);
            (out, heap)
        })
        .collect();

    let mut out = Vec::new();
    let mut heaps = Vec::new();
    for (f, h) in per_inst {
        out.extend(f);
        heaps.extend(h);
    }
    out.extend(signin::time_heaping(ctx, &ix, heaps));
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
