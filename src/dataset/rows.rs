//! Typed, compact in-memory tables of one dataset: the shape every check reads.
//!
//! Ingest parses each input file once into these structs; checks share them
//! read-only. Text that repeats or serves as a key is interned into a [`Sym`]
//! (see [`Interner`]); times are [`Ts`] seconds and dates [`Day`] numbers in
//! China Standard Time, so comparisons are integer operations. Foreign keys are
//! resolved at ingest into row indices (`inst`, `class`, `session`, `record`),
//! so checks never look anything up by string.
//!
//! **Invariant:** every row here passed the contract in `DATA.md`; rows that
//! broke it live only in the rejects list and the store.

use super::intern::{Interner, Sym};

/// Seconds since 1970-01-01 00:00:00 *local* (CST) time. Not UTC: the data
/// contract has no time zone, and all comparisons are within one zone.
pub type Ts = i64;
/// Days since 1970-01-01 (local calendar).
pub type Day = i32;

/// Index of an operation in `models/operations.toml` (see `model::Operations`).
pub type OpIdx = u16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstKind {
    Training,
    Exam,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CourseKind {
    Initial,
    Refresher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Classroom,
    Online,
    Practical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Theory,
    Practical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attended {
    Yes,
    No,
    Unsure,
}

/// An operation as written in the data, resolved against the model when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpRef {
    /// The text as written (after trimming), for reports and "not in model".
    pub raw: Sym,
    /// Index into the operations model, `None` when the model does not know it.
    pub op: Option<OpIdx>,
}

#[derive(Debug, Clone)]
pub struct Institution {
    pub line: u32,
    pub id: Sym,
    pub name: Sym,
    pub kind: InstKind,
    pub region: Sym,
    pub seats: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub line: u32,
    pub id: Sym,
    pub inst: u32,
    pub operation: OpRef,
    pub course_kind: CourseKind,
    pub start_date: Day,
    pub end_date: Day,
    pub room: Option<Sym>,
    pub capacity: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Attendance {
    pub line: u32,
    pub id: Sym,
    pub class: u32,
    pub person: Sym,
    pub name: Option<Sym>,
    pub instructor: Option<Sym>,
    pub mode: Mode,
    pub check_in: Ts,
    pub check_out: Ts,
    pub device: Option<Sym>,
    /// Normalised to 0–1 (inputs on a 0–100 scale are divided by 100).
    pub face_score: Option<f32>,
}

#[derive(Debug, Clone)]
pub struct ExamSession {
    pub line: u32,
    pub id: Sym,
    pub inst: u32,
    pub room: Sym,
    pub operation: OpRef,
    pub part: Part,
    pub start: Ts,
    pub end: Ts,
    pub seats: Option<u32>,
    pub proctor: Option<Sym>,
}

#[derive(Debug, Clone)]
pub struct ExamRecord {
    pub line: u32,
    pub id: Sym,
    pub session: u32,
    pub person: Sym,
    pub name: Option<Sym>,
    pub seat: Option<Sym>,
    /// Index into `institutions` of the training institution named, if any.
    pub training_inst: Option<u32>,
    pub login_at: Option<Ts>,
    pub submit_at: Option<Ts>,
    pub score: f32,
    /// 1 = first sitting, 2 = retake (补考). Missing in the input means 1.
    pub attempt: u8,
    pub face_score: Option<f32>,
}

#[derive(Debug, Clone)]
pub struct ExamResponse {
    pub line: u32,
    /// Index into `exam_records`.
    pub record: u32,
    pub item: Sym,
    /// Empty string interned = unanswered.
    pub answer: Sym,
    pub key: Sym,
    pub seconds: Option<f32>,
    pub changes: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct Certificate {
    pub line: u32,
    pub cert_no: Sym,
    pub person: Sym,
    pub name: Sym,
    pub operation: OpRef,
    pub issued_on: Day,
    pub expires_on: Day,
    /// Institution ids as written; `*_inst` holds the resolved index when the
    /// id names a known institution (certificates may name outside ones).
    pub training_institution: Option<Sym>,
    pub training_inst: Option<u32>,
    pub exam_institution: Option<Sym>,
    pub exam_inst: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Cctv {
    pub line: u32,
    pub id: Sym,
    pub inst: u32,
    pub room: Sym,
    pub camera: Option<Sym>,
    /// Path as written, relative to the dataset folder.
    pub file: Sym,
    pub claimed_start: Ts,
    pub claimed_end: Option<Ts>,
}

#[derive(Debug, Clone)]
pub struct Callback {
    pub line: u32,
    pub person: Sym,
    pub institution: Sym,
    /// Resolved index when `institution` names a known institution.
    pub inst: Option<u32>,
    pub called_at: Ts,
    pub reached: bool,
    pub attended: Option<Attended>,
    pub hours_reported: Option<f32>,
    pub note: Option<Sym>,
}

/// The keys readable from one rejected row (DATA.md: a rejected row is
/// *unknown*, not *absent*). Every field is as far as the row could be read:
/// `None` when the column is not in the table, blank, or the row was too
/// broken to tell. Foreign keys are resolved where they name a loaded row.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub table: super::Table,
    pub line: u32,
    /// The row's first column: its primary key (`record_id`, `class_id`,
    /// `session_id`, `cert_no`, `video_id`, `institution_id`), or for
    /// `exam_responses` the `record_id` it answers, for `callbacks` the
    /// `person_id`.
    pub id: Option<Sym>,
    pub person: Option<Sym>,
    /// `session_id` as written (exam records).
    pub session_id: Option<Sym>,
    /// Resolved `exam_sessions` row: the exam record's session, or a
    /// response's exam record's session.
    pub session: Option<u32>,
    /// `record_id` (attendance, exam records, responses) as written.
    pub record_id: Option<Sym>,
    pub cert_no: Option<Sym>,
    /// The operation as written in the row, or the session's / class's
    /// operation when the row has none of its own.
    pub operation: Option<OpRef>,
    /// The institution the row belongs to: its own `institution_id`, its
    /// class's or session's institution, a certificate's exam institution.
    pub inst: Option<u32>,
    /// `institution_id` (or a certificate's `exam_institution_id`) as written.
    pub institution_id: Option<Sym>,
    /// `training_institution_id` resolved (exam records, certificates).
    pub training_inst: Option<u32>,
}

impl RejectedRow {
    /// Whether the row belongs to institution row `inst` or names it as the
    /// training institution.
    pub fn touches(&self, inst: u32) -> bool {
        self.inst == Some(inst) || self.training_inst == Some(inst)
    }
}

/// All tables of one dataset. `None` = the table was not given (its checks
/// report "not audited"), `Some(empty)` = given with no valid rows.
#[derive(Debug, Default)]
pub struct Tables {
    pub strings: Interner,
    pub institutions: Vec<Institution>,
    pub classes: Option<Vec<Class>>,
    pub attendance: Option<Vec<Attendance>>,
    pub exam_sessions: Option<Vec<ExamSession>>,
    pub exam_records: Option<Vec<ExamRecord>>,
    pub exam_responses: Option<Vec<ExamResponse>>,
    pub certificates: Option<Vec<Certificate>>,
    pub cctv: Option<Vec<Cctv>>,
    pub callbacks: Option<Vec<Callback>>,
    /// The keys of every rejected row, in the order of `Loaded::rejects`
    /// (file, line): what the data would have said had the row been readable.
    pub rejected: Vec<RejectedRow>,
}

impl Tables {
    /// The text behind a symbol.
    pub fn s(&self, sym: Sym) -> &str {
        self.strings.get(sym)
    }

    /// The `institution_id` text of institution row `inst`.
    pub fn inst_id(&self, inst: u32) -> &str {
        self.s(self.institutions[inst as usize].id)
    }

    /// The rejected rows of `table`.
    pub fn rejected_in(&self, table: super::Table) -> impl Iterator<Item = &RejectedRow> {
        self.rejected.iter().filter(move |r| r.table == table)
    }

    /// Rejected `exam_records` rows of `person` (by `person_id` as written):
    /// a certificate of theirs may rest on one of these. `op`, when given,
    /// keeps only rows whose operation is that one or cannot be read.
    pub fn rejected_exam_records_of(&self, person: Sym, op: Option<OpIdx>) -> impl Iterator<Item = &RejectedRow> {
        self.rejected_in(super::Table::ExamRecords).filter(move |r| {
            r.person == Some(person)
                && match (op, r.operation.and_then(|o| o.op)) {
                    (Some(want), Some(got)) => want == got,
                    _ => true,
                }
        })
    }

    /// Rejected rows that touch institution row `inst` (see [`RejectedRow::touches`]).
    pub fn rejected_touching(&self, inst: u32) -> impl Iterator<Item = &RejectedRow> {
        self.rejected.iter().filter(move |r| r.touches(inst))
    }

    /// Row index of an institution by its id, if known.
    pub fn inst_index(&self, id: &str) -> Option<u32> {
        let sym = self.strings.lookup(id)?;
        self.institutions.iter().position(|i| i.id == sym).map(|i| i as u32)
    }
}

/// Converts a civil date to a [`Day`] (proleptic Gregorian; Howard Hinnant's
/// `days_from_civil`). Callers validate month/day ranges first.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// Inverse of [`days_from_civil`]: `(year, month, day)`.
pub fn civil_from_days(z: Day) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day of a timestamp.
pub fn day_of(ts: Ts) -> Day {
    ts.div_euclid(86_400) as Day
}

/// Seconds since local midnight.
pub fn second_of_day(ts: Ts) -> u32 {
    ts.rem_euclid(86_400) as u32
}

/// `2024-07-10`
pub fn fmt_day(d: Day) -> String {
    let (y, m, dd) = civil_from_days(d);
    format!("{y:04}-{m:02}-{dd:02}")
}

/// `2024-07-10 08:30:00`
pub fn fmt_ts(ts: Ts) -> String {
    let s = second_of_day(ts);
    format!("{} {:02}:{:02}:{:02}", fmt_day(day_of(ts)), s / 3600, s / 60 % 60, s % 60)
}

/// Groups row indices by a key in `0..n_keys` (counting sort; stable):
/// rows of key `k` are `order[offsets[k]..offsets[k + 1]]`, in input order.
/// Returns `(offsets, order)`.
pub fn group_by(n_keys: usize, keys: impl Iterator<Item = u32> + Clone) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; n_keys + 1];
    for k in keys.clone() {
        offsets[k as usize + 1] += 1;
    }
    for i in 0..n_keys {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut order = vec![0u32; offsets[n_keys] as usize];
    for (row, k) in keys.enumerate() {
        order[fill[k as usize] as usize] = row as u32;
        fill[k as usize] += 1;
    }
    (offsets, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_is_a_stable_counting_sort() {
        let (off, order) = group_by(3, [2u32, 0, 2, 1, 0].into_iter());
        assert_eq!(off, vec![0, 2, 3, 5]);
        assert_eq!(order, vec![1, 4, 3, 0, 2]);
    }

    #[track_caller]
    fn check(y: i32, m: u32, d: u32, days: Day) {
        assert_eq!(days_from_civil(y, m, d), days);
        assert_eq!(civil_from_days(days), (y, m, d));
    }

    #[test]
    fn civil_round_trip() {
        check(1970, 1, 1, 0);
        check(2000, 3, 1, 11_017);
        check(2024, 7, 10, 19_914);
        check(1949, 12, 31, -7_306);
    }

    #[test]
    fn formats() {
        let ts = days_from_civil(2024, 7, 10) as i64 * 86_400 + 8 * 3600 + 30 * 60 + 5;
        assert_eq!(fmt_ts(ts), "2024-07-10 08:30:05");
    }
}
