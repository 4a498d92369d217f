//! Writing a read dataset into the store: one transaction per table file,
//! skipped when the file and the tables it depends on are unchanged
//! (same SHA-256), otherwise replacing that table's rows and rejects.
//!
//! The store mirrors the last ingested dataset: a table that is no longer
//! given is emptied, a refused file leaves its table empty with the refusal
//! recorded in `inputs`.

use std::collections::HashMap;

use rusqlite::{Connection, Statement, ToSql};
use sha2::{Digest, Sha256};

use crate::dataset::rows::{self, Attended, CourseKind, InstKind, Mode, OpRef, Part, Tables, Ts};
use crate::dataset::{Extras, FileReport, Loaded, Table};
use crate::model::Operations;

/// What ingest did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableAction {
    Unchanged,
    Replaced { rows: u64 },
    Emptied,
}

/// Per-table signature: the file's SHA-256 chained with the signatures of
/// the tables its foreign keys resolve against (their rows decide which of
/// its rows are rejected).
pub fn signatures(loaded: &Loaded) -> HashMap<Table, String> {
    let mut sig: HashMap<Table, String> = HashMap::new();
    for t in Table::ALL {
        let Some(f) = loaded.files.iter().find(|f| f.table == t.name()) else { continue };
        let mut h = Sha256::new();
        h.update(f.sha256.as_bytes());
        h.update(f.refused.as_deref().unwrap_or("").as_bytes());
        for d in t.depends_on() {
            h.update(b"|");
            h.update(sig.get(d).map(String::as_str).unwrap_or("-").as_bytes());
        }
        sig.insert(t, hex::encode(h.finalize()));
    }
    sig
}

pub fn ingest(
    conn: &mut Connection,
    loaded: &Loaded,
    ops: Option<&Operations>,
    now: &str,
) -> rusqlite::Result<Vec<(Table, TableAction)>> {
    let sigs = signatures(loaded);
    let mut actions = Vec::new();
    for t in Table::ALL {
        let file = loaded.files.iter().find(|f| f.table == t.name());
        let stored: Option<String> =
            conn.query_row("SELECT signature FROM inputs WHERE table_name = ?1", [t.name()], |r| r.get(0)).ok();
        let action = match (file, sigs.get(&t)) {
            (Some(f), Some(sig)) => {
                if stored.as_deref() == Some(sig.as_str()) {
                    TableAction::Unchanged
                } else {
                    let tx = conn.transaction()?;
                    clear(&tx, t)?;
                    let rows = if f.refused.is_none() { write_table(&tx, t, loaded, ops)? } else { 0 };
                    write_rejects(&tx, t, loaded)?;
                    write_input(&tx, f, sig, now)?;
                    tx.commit()?;
                    TableAction::Replaced { rows }
                }
            }
            _ if stored.is_some() => {
                let tx = conn.transaction()?;
                clear(&tx, t)?;
                tx.execute("DELETE FROM inputs WHERE table_name = ?1", [t.name()])?;
                tx.commit()?;
                TableAction::Emptied
            }
            _ => continue,
        };
        actions.push((t, action));
    }
    Ok(actions)
}

fn clear(tx: &Connection, t: Table) -> rusqlite::Result<()> {
    tx.execute(&format!("DELETE FROM {}", stored_name(t)), [])?;
    tx.execute("DELETE FROM rejects WHERE table_name = ?1", [t.name()])?;
    tx.execute("DELETE FROM field_defects WHERE table_name = ?1", [t.name()])?;
    Ok(())
}

fn write_input(tx: &Connection, f: &FileReport, sig: &str, now: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO inputs (table_name, path, size, sha256, signature, encoding, rows_read, rows_loaded, \
         rows_rejected, unknown_columns, notes, refused, ingested_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
        rusqlite::params![
            f.table,
            f.file,
            f.size as i64,
            f.sha256,
            sig,
            f.encoding,
            f.rows_read as i64,
            f.rows_loaded as i64,
            f.rows_rejected as i64,
            serde_json::to_string(&f.unknown_columns).unwrap_or_default(),
            serde_json::to_string(&f.notes).unwrap_or_default(),
            f.refused,
            now,
        ],
    )?;
    Ok(())
}

/// The table's rejects (with the institutions they belong to, where the
/// row's keys resolve) and field defects.
fn write_rejects(tx: &Connection, t: Table, loaded: &Loaded) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO rejects (table_name, file, line, reason, raw, institution_id, training_institution_id) \
         VALUES (?1,?2,?3,?4,?5,?6,?7)",
    )?;
    let tables = &loaded.tables;
    let id = |i: Option<u32>| i.map(|i| tables.inst_id(i));
    for (i, r) in loaded.rejects.iter().enumerate().filter(|(_, r)| r.table == t.name()) {
        let k = tables.rejected.get(i);
        let (inst, training) = (id(k.and_then(|k| k.inst)), id(k.and_then(|k| k.training_inst)));
        st.execute(rusqlite::params![r.table, r.file, r.line as i64, r.reason, r.raw, inst, training])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT INTO field_defects (table_name, file, line, column_name, value, reason, institution_id) \
         VALUES (?1,?2,?3,?4,?5,?6,?7)",
    )?;
    for d in loaded.defects.iter().filter(|d| d.table == t.name()) {
        st.execute(rusqlite::params![d.table, d.file, d.line as i64, d.column, d.value, d.reason, d.institution_id])?;
    }
    Ok(())
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS` without allocating.
struct TsBuf([u8; 19]);

impl TsBuf {
    fn new() -> Self {
        TsBuf(*b"0000-00-00 00:00:00")
    }

    fn day(&mut self, d: rows::Day) -> &str {
        self.fill(i64::from(d) * 86_400);
        std::str::from_utf8(&self.0[..10]).unwrap_or("")
    }

    fn ts(&mut self, ts: Ts) -> &str {
        self.fill(ts);
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn fill(&mut self, ts: Ts) {
        let (y, m, d) = rows::civil_from_days(rows::day_of(ts));
        let s = rows::second_of_day(ts);
        let b = &mut self.0;
        let y = y.clamp(0, 9999) as u32;
        for (i, v) in [(0, y / 1000), (1, y / 100 % 10), (2, y / 10 % 10), (3, y % 10)] {
            b[i] = b'0' + v as u8;
        }
        let two = |b: &mut [u8; 19], at: usize, v: u32| {
            b[at] = b'0' + (v / 10) as u8;
            b[at + 1] = b'0' + (v % 10) as u8;
        };
        two(b, 5, m);
        two(b, 8, d);
        two(b, 11, s / 3600);
        two(b, 14, s / 60 % 60);
        two(b, 17, s % 60);
    }
}

/// Binds one row's values and executes; positions are 1-based.
struct Binder<'s, 'c> {
    st: &'s mut Statement<'c>,
    i: usize,
}

impl Binder<'_, '_> {
    fn v<T: ToSql>(&mut self, v: T) -> rusqlite::Result<&mut Self> {
        self.i += 1;
        self.st.raw_bind_parameter(self.i, v)?;
        Ok(self)
    }

    fn run(&mut self) -> rusqlite::Result<()> {
        self.st.raw_execute()?;
        Ok(())
    }
}

fn insert_sql(t: Table, cols: &[&str]) -> String {
    let names: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO {} ({}) VALUES ({})", t.name(), names.join(","), marks.join(","))
}

fn kind_str(k: InstKind) -> &'static str {
    match k {
        InstKind::Training => "training",
        InstKind::Exam => "exam",
        InstKind::Both => "both",
    }
}

fn course_str(k: CourseKind) -> &'static str {
    match k {
        CourseKind::Initial => "initial",
        CourseKind::Refresher => "refresher",
    }
}

fn mode_str(m: Mode) -> &'static str {
    match m {
        Mode::Classroom => "classroom",
        Mode::Online => "online",
        Mode::Practical => "practical",
    }
}

fn part_str(p: Part) -> &'static str {
    match p {
        Part::Theory => "theory",
        Part::Practical => "practical",
    }
}

fn attended_str(a: Attended) -> &'static str {
    match a {
        Attended::Yes => "yes",
        Attended::No => "no",
        Attended::Unsure => "unsure",
    }
}

/// Walks a table's extras (sorted by line) alongside its rows (also in line
/// order).
struct ExtraCursor<'a> {
    items: &'a [Extras],
    at: usize,
}

impl<'a> ExtraCursor<'a> {
    fn new(loaded: &'a Loaded, t: Table) -> Self {
        let items = &loaded.extras[..];
        let lo = items.partition_point(|e| e.table < t.name());
        let hi = items.partition_point(|e| e.table <= t.name());
        ExtraCursor { items: &items[lo..hi], at: 0 }
    }

    fn get(&mut self, line: u32) -> Option<&'a str> {
        while self.at < self.items.len() && self.items[self.at].line < line {
            self.at += 1;
        }
        self.items.get(self.at).filter(|e| e.line == line).map(|e| e.json.as_str())
    }
}

fn write_table(tx: &Connection, t: Table, loaded: &Loaded, ops: Option<&Operations>) -> rusqlite::Result<u64> {
    let tb: &Tables = &loaded.tables;
    let s = |sym| tb.s(sym);
    let o = |sym: Option<crate::dataset::intern::Sym>| sym.map(|x| tb.s(x));
    let code = |op: OpRef| -> Option<&str> { op.op.and_then(|i| ops.map(|m| m.get(i).code.as_str())) };
    let mut ex = ExtraCursor::new(loaded, t);
    let (mut a, mut b) = (TsBuf::new(), TsBuf::new());
    let mut n = 0u64;
    macro_rules! each {
        ($rows:expr, $cols:expr, |$r:ident, $bd:ident| $body:block) => {{
            let mut st = tx.prepare(&insert_sql(t, &$cols))?;
            for $r in $rows.iter() {
                let mut $bd = Binder { st: &mut st, i: 0 };
                $body
                $bd.v(ex.get($r.line))?.run()?;
                n += 1;
            }
        }};
    }
    match t {
        Table::Institutions => {
            each!(tb.institutions, ["line", "institution_id", "name", "kind", "region", "seats", "extra"], |r, bd| {
                bd.v(r.line)?.v(s(r.id))?.v(s(r.name))?.v(kind_str(r.kind))?.v(s(r.region))?.v(r.seats)?;
            })
        }
        Table::Classes => {
            let cols = [
                "line",
                "class_id",
                "institution_id",
                "operation",
                "operation_code",
                "course_kind",
                "start_date",
                "end_date",
                "room",
                "capacity",
                "extra",
            ];
            each!(tb.classes.as_deref().unwrap_or(&[]), cols, |r, bd| {
                bd.v(r.line)?.v(s(r.id))?.v(tb.inst_id(r.inst))?.v(s(r.operation.raw))?.v(code(r.operation))?;
                bd.v(course_str(r.course_kind))?.v(a.day(r.start_date))?.v(b.day(r.end_date))?;
                bd.v(o(r.room))?.v(r.capacity)?;
            })
        }
        Table::Attendance => {
            let classes = tb.classes.as_deref().unwrap_or(&[]);
            let cols = [
                "line",
                "record_id",
                "class_id",
                "person_id",
                "name",
                "instructor_id",
                "mode",
                "check_in",
                "check_out",
                "device_id",
                "face_score",
                "extra",
            ];
            each!(tb.attendance.as_deref().unwrap_or(&[]), cols, |r, bd| {
                let class = classes.get(r.class as usize).map(|c| s(c.id)).unwrap_or("");
                bd.v(r.line)?.v(s(r.id))?.v(class)?.v(s(r.person))?.v(o(r.name))?.v(o(r.instructor))?;
                bd.v(mode_str(r.mode))?.v(a.ts(r.check_in))?.v(b.ts(r.check_out))?.v(o(r.device))?;
                bd.v(r.face_score.map(f64::from))?;
            })
        }
        Table::ExamSessions => {
            let cols = [
                "line",
                "session_id",
                "institution_id",
                "room",
                "operation",
                "operation_code",
                "part",
                "start",
                "end",
                "seats",
                "proctor_id",
                "extra",
            ];
            each!(tb.exam_sessions.as_deref().unwrap_or(&[]), cols, |r, bd| {
                bd.v(r.line)?.v(s(r.id))?.v(tb.inst_id(r.inst))?.v(s(r.room))?.v(s(r.operation.raw))?;
                bd.v(code(r.operation))?.v(part_str(r.part))?.v(a.ts(r.start))?.v(b.ts(r.end))?.v(r.seats)?;
                bd.v(o(r.proctor))?;
            })
        }
        Table::ExamRecords => {
            let sessions = tb.exam_sessions.as_deref().unwrap_or(&[]);
            let cols = [
                "line",
                "record_id",
                "session_id",
                "person_id",
                "name",
                "seat",
                "training_institution_id",
                "login_at",
                "submit_at",
                "score",
                "attempt",
                "face_score",
                "extra",
            ];
            each!(tb.exam_records.as_deref().unwrap_or(&[]), cols, |r, bd| {
                let session = sessions.get(r.session as usize).map(|c| s(c.id)).unwrap_or("");
                bd.v(r.line)?.v(s(r.id))?.v(session)?.v(s(r.person))?.v(o(r.name))?.v(o(r.seat))?;
                bd.v(r.training_inst.map(|i| tb.inst_id(i)))?;
                bd.v(r.login_at.map(|x| a.ts(x).to_string()))?.v(r.submit_at.map(|x| b.ts(x).to_string()))?;
                bd.v(f64::from(r.score))?.v(r.attempt)?.v(r.face_score.map(f64::from))?;
            })
        }
        Table::ExamResponses => n = write_sheets(tx, loaded)?,
        Table::Certificates => {
            let cols = [
                "line",
                "cert_no",
                "person_id",
                "name",
                "operation",
                "operation_code",
                "issued_on",
                "expires_on",
                "training_institution_id",
                "exam_institution_id",
                "extra",
            ];
            each!(tb.certificates.as_deref().unwrap_or(&[]), cols, |r, bd| {
                bd.v(r.line)?.v(s(r.cert_no))?.v(s(r.person))?.v(s(r.name))?.v(s(r.operation.raw))?;
                bd.v(code(r.operation))?.v(a.day(r.issued_on))?.v(b.day(r.expires_on))?;
                bd.v(o(r.training_institution))?.v(o(r.exam_institution))?;
            })
        }
        Table::Cctv => {
            let cols = [
                "line",
                "video_id",
                "institution_id",
                "room",
                "camera",
                "file",
                "claimed_start",
                "claimed_end",
                "extra",
            ];
            each!(tb.cctv.as_deref().unwrap_or(&[]), cols, |r, bd| {
                bd.v(r.line)?.v(s(r.id))?.v(tb.inst_id(r.inst))?.v(s(r.room))?.v(o(r.camera))?.v(s(r.file))?;
                bd.v(a.ts(r.claimed_start))?.v(r.claimed_end.map(|x| b.ts(x).to_string()))?;
            })
        }
        Table::Callbacks => {
            let cols = [
                "line",
                "person_id",
                "institution_id",
                "called_at",
                "reached",
                "attended",
                "hours_reported",
                "note",
                "extra",
            ];
            each!(tb.callbacks.as_deref().unwrap_or(&[]), cols, |r, bd| {
                bd.v(r.line)?.v(s(r.person))?.v(s(r.institution))?.v(a.ts(r.called_at))?.v(r.reached)?;
                bd.v(r.attended.map(attended_str))?.v(r.hours_reported.map(f64::from))?.v(o(r.note))?;
            })
        }
    }
    Ok(n)
}

/// Where a table's rows are stored: every table in its own name, except
/// `exam_responses`, kept as one JSON sheet per exam record in
/// `exam_response_sheets` behind a view of the same name and columns
/// (schema migration 2). Ten million one-line rows cost SQLite far more per
/// row than the checks need; the sheets hold the same values.
pub fn stored_name(t: Table) -> &'static str {
    match t {
        Table::ExamResponses => "exam_response_sheets",
        _ => t.name(),
    }
}

/// How many rows of table `t` the store holds (without expanding sheets).
pub fn count_sql(t: Table) -> String {
    match t {
        Table::ExamResponses => "SELECT COALESCE(SUM(responses), 0) FROM exam_response_sheets".to_string(),
        _ => format!("SELECT COUNT(*) FROM {}", t.name()),
    }
}

/// Sheets encoded in parallel per batch, then inserted in order.
const SHEET_BATCH: usize = 4096;

/// Writes `exam_responses` as one sheet per exam record: its responses in
/// line order as `[line, item_id, answer, key, seconds, changes, extra]`,
/// sheets in the order of their first line. Returns the responses written.
fn write_sheets(tx: &Connection, loaded: &Loaded) -> rusqlite::Result<u64> {
    use rayon::prelude::*;
    let tb = &loaded.tables;
    let (Some(responses), Some(records)) = (tb.exam_responses.as_deref(), tb.exam_records.as_deref()) else {
        return Ok(0);
    };
    // Each record's responses, in line order.
    let (start, order) = rows::group_by(records.len(), responses.iter().map(|r| r.record));
    let mut sheets: Vec<u32> =
        (0..records.len() as u32).filter(|&k| start[k as usize + 1] > start[k as usize]).collect();
    sheets.sort_unstable_by_key(|&k| responses[order[start[k as usize] as usize] as usize].line);
    let extras: HashMap<u32, &str> =
        ExtraCursor::new(loaded, Table::ExamResponses).items.iter().map(|e| (e.line, e.json.as_str())).collect();
    let encode = |k: u32| -> (u32, u32, String) {
        let ids = &order[start[k as usize] as usize..start[k as usize + 1] as usize];
        let mut out = Vec::with_capacity(ids.len() * 48);
        out.push(b'[');
        for (j, &i) in ids.iter().enumerate() {
            let r = &responses[i as usize];
            if j > 0 {
                out.push(b',');
            }
            // Writing into a Vec cannot fail; the values are plain numbers and strings.
            let _ = sheet_row(&mut out, r, tb, extras.get(&r.line).copied());
        }
        out.push(b']');
        let json = String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        (k, responses[ids[0] as usize].line, json)
    };
    let mut st = tx
        .prepare("INSERT INTO exam_response_sheets (record_id, first_line, responses, json) VALUES (?1, ?2, ?3, ?4)")?;
    for batch in sheets.chunks(SHEET_BATCH) {
        let encoded: Vec<(u32, u32, String)> = batch.par_iter().map(|&k| encode(k)).collect();
        for (k, first, json) in encoded {
            let n = start[k as usize + 1] - start[k as usize];
            st.execute(rusqlite::params![tb.s(records[k as usize].id), first, n, json])?;
        }
    }
    Ok(responses.len() as u64)
}

/// One response as a JSON array, written in place (serde_json escapes the
/// strings and writes a missing or non-finite number as `null`).
fn sheet_row(out: &mut Vec<u8>, r: &rows::ExamResponse, tb: &Tables, extra: Option<&str>) -> serde_json::Result<()> {
    out.push(b'[');
    serde_json::to_writer(&mut *out, &r.line)?;
    for text in [tb.s(r.item), tb.s(r.answer), tb.s(r.key)] {
        out.push(b',');
        serde_json::to_writer(&mut *out, text)?;
    }
    out.push(b',');
    serde_json::to_writer(&mut *out, &r.seconds)?;
    out.push(b',');
    serde_json::to_writer(&mut *out, &r.changes)?;
    out.push(b',');
    out.extend_from_slice(extra.unwrap_or("null").as_bytes());
    out.push(b']');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_without_allocating() {
        let ts = i64::from(rows::days_from_civil(2024, 7, 10)) * 86_400 + 8 * 3600 + 30 * 60 + 5;
        let mut b = TsBuf::new();
        assert_eq!(b.ts(ts), rows::fmt_ts(ts));
        assert_eq!(b.day(rows::days_from_civil(1999, 12, 31)), "1999-12-31");
    }
}
