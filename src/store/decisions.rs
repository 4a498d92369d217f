//! The inspector's decisions (`kaopei decide`) and the record look-ups the
//! case needs: an institution's rows as the store holds them (what a
//! confirmed finding cited, what a bundle exports whole), the dates of its
//! records and its own audit period.
//!
//! Decisions are append-only (triggers refuse UPDATE and DELETE) and each
//! belongs to the ledger run that recorded it: [`super::runs::rows_sha256`]
//! covers a run's decision rows, so `kaopei verify` names any change.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension};

use crate::case::{Action, CitedRow, Decision};
use crate::checks::{Flag, SubjectKind};

/// The decisions table. Idempotent (IF NOT EXISTS), so the migration stays
/// correct when renumbered at a merge.
pub const MIGRATION: &str = r#"
CREATE TABLE IF NOT EXISTS decisions (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs(run_id),
    audit_run      INTEGER NOT NULL,
    institution_id TEXT NOT NULL,
    check_id       TEXT NOT NULL,
    action         TEXT NOT NULL,
    supersedes     INTEGER,
    decided_by     TEXT NOT NULL,
    decided_at     TEXT NOT NULL,
    -- the whole decision (id 0), cited rows included
    json           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_institution ON decisions(institution_id, check_id);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a correction that supersedes it'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a correction that supersedes it'); END;
"#;

/// Whether the store has the decisions table (a read-only store of an
/// older schema has not).
pub fn has_table(conn: &Connection) -> rusqlite::Result<bool> {
    let n: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'decisions'", [], |r| {
            r.get(0)
        })?;
    Ok(n > 0)
}

/// Appends `d` under ledger run `run_id`; returns its id.
pub fn insert(conn: &Connection, run_id: i64, d: &Decision) -> rusqlite::Result<i64> {
    let mut d = d.clone();
    d.id = 0;
    d.run_id = run_id;
    let json = serde_json::to_string(&d).unwrap_or_default();
    conn.execute(
        "INSERT INTO decisions (run_id, audit_run, institution_id, check_id, action, supersedes, decided_by, \
         decided_at, json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
        rusqlite::params![
            run_id,
            d.audit_run,
            d.institution_id,
            d.check_id,
            d.action.as_str(),
            d.supersedes,
            d.decided_by,
            d.decided_at,
            json
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Whether decision `id` exists.
pub fn exists(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.query_row("SELECT 1 FROM decisions WHERE id = ?1", [id], |_| Ok(())).optional()?.is_some())
}

/// Every decision (optionally of one institution), oldest first. A row
/// whose JSON cannot be read is an error naming it.
pub fn list(conn: &Connection, institution: Option<&str>) -> anyhow::Result<Vec<Decision>> {
    if !has_table(conn)? {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare(
        "SELECT id, run_id, action, json FROM decisions WHERE ?1 IS NULL OR institution_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([institution], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, run_id, action, json) = row?;
        let mut d: Decision =
            serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("decision {id}: stored JSON is not valid: {e}"))?;
        if Action::parse(&action) != Some(d.action) {
            anyhow::bail!("decision {id}: action column `{action}` differs from its record: altered");
        }
        d.id = id;
        d.run_id = run_id;
        out.push(d);
    }
    Ok(out)
}

/// The input tables an institution's records live in, with the SQL that
/// selects its rows (every column, `line` first).
const INSTITUTION_ROWS: [(&str, &str); 8] = [
    ("classes", "SELECT * FROM classes WHERE institution_id = ?1 ORDER BY line"),
    (
        "attendance",
        "SELECT a.* FROM attendance a JOIN classes c ON c.class_id = a.class_id WHERE c.institution_id = ?1 \
         ORDER BY a.line",
    ),
    ("exam_sessions", "SELECT * FROM exam_sessions WHERE institution_id = ?1 ORDER BY line"),
    (
        "exam_records",
        "SELECT r.* FROM exam_records r JOIN exam_sessions s ON s.session_id = r.session_id \
         WHERE s.institution_id = ?1 ORDER BY r.line",
    ),
    (
        "exam_responses",
        "SELECT x.first_line AS line, x.record_id, x.json AS responses FROM exam_response_sheets x \
         JOIN exam_records r ON r.record_id = x.record_id JOIN exam_sessions s ON s.session_id = r.session_id \
         WHERE s.institution_id = ?1 ORDER BY x.first_line",
    ),
    (
        "certificates",
        "SELECT * FROM certificates WHERE training_institution_id = ?1 OR exam_institution_id = ?1 ORDER BY line",
    ),
    ("cctv", "SELECT * FROM cctv WHERE institution_id = ?1 ORDER BY line"),
    ("callbacks", "SELECT * FROM callbacks WHERE institution_id = ?1 ORDER BY line"),
];

/// The key column of each table's records.
pub fn key_column(table: &str) -> &'static str {
    match table {
        "classes" => "class_id",
        "attendance" | "exam_records" | "exam_responses" => "record_id",
        "exam_sessions" => "session_id",
        "certificates" => "cert_no",
        "cctv" => "video_id",
        _ => "person_id",
    }
}

fn value_json(v: rusqlite::types::ValueRef) -> serde_json::Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => hex::encode(b).into(),
    }
}

/// Every row the store holds for `institution`, table by table, in input
/// order. Keys repeat-suffixed (`#2`, …) so each row has its own.
pub fn institution_rows(conn: &Connection, institution: &str) -> rusqlite::Result<Vec<CitedRow>> {
    let mut out = Vec::new();
    for (table, sql) in INSTITUTION_ROWS {
        let mut st = conn.prepare(sql)?;
        let names: Vec<String> = st.column_names().into_iter().map(str::to_string).collect();
        let key_col = key_column(table);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut rows = st.query([institution])?;
        while let Some(r) = rows.next()? {
            let mut fields = BTreeMap::new();
            let mut line = 0;
            for (i, n) in names.iter().enumerate() {
                let v = value_json(r.get_ref(i)?);
                if n == "line" {
                    line = v.as_i64().unwrap_or(0);
                } else {
                    fields.insert(n.clone(), v);
                }
            }
            let id = fields.get(key_col).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let k = seen.entry(id.clone()).or_insert(0);
            *k += 1;
            let key = if *k == 1 { id } else { format!("{id}#{k}") };
            out.push(CitedRow { table: table.to_string(), key, line, fields });
        }
    }
    Ok(out)
}

/// The tables (and key) a flag's subject names.
fn subject_keys(f: &Flag) -> Vec<(&'static str, String)> {
    let id = f.subject_id.clone();
    match f.kind {
        SubjectKind::ExamRecord => vec![("exam_records", id.clone()), ("exam_responses", id)],
        SubjectKind::Attendance => vec![("attendance", id)],
        SubjectKind::Class => vec![("classes", id)],
        SubjectKind::Session => vec![("exam_sessions", id)],
        SubjectKind::Pair => {
            id.split('|').flat_map(|x| [("exam_records", x.to_string()), ("exam_responses", x.to_string())]).collect()
        }
        SubjectKind::Certificate => vec![("certificates", id)],
        SubjectKind::Video => vec![("cctv", id)],
        SubjectKind::Person => vec![("person", id)],
    }
}

/// The rows behind `flags` among `rows` (an institution's rows): each
/// flagged record, and for a flagged person every record of theirs.
pub fn cited_rows(rows: &[CitedRow], flags: &[&Flag]) -> Vec<CitedRow> {
    let mut want: std::collections::HashSet<(&str, String)> = std::collections::HashSet::new();
    let mut persons: std::collections::HashSet<String> = std::collections::HashSet::new();
    for f in flags {
        for (t, k) in subject_keys(f) {
            if t == "person" {
                persons.insert(k);
            } else {
                want.insert((t, k));
            }
        }
    }
    rows.iter()
        .filter(|r| {
            let base = r.key.split('#').next().unwrap_or("");
            want.contains(&(r.table.as_str(), base.to_string()))
                || r.fields.get("person_id").and_then(|v| v.as_str()).is_some_and(|p| persons.contains(p))
        })
        .cloned()
        .collect()
}

/// The day (YYYY-MM-DD) a row belongs to: when the training, session,
/// certificate or recording took place.
pub fn row_day(r: &CitedRow) -> Option<String> {
    let col = match r.table.as_str() {
        "classes" => "start_date",
        "attendance" => "check_in",
        "exam_sessions" => "start",
        "exam_records" => "login_at",
        "certificates" => "issued_on",
        "cctv" => "claimed_start",
        "callbacks" => "called_at",
        _ => return None,
    };
    r.fields.get(col).and_then(|v| v.as_str()).and_then(|s| s.get(..10)).map(str::to_string)
}

/// An institution's own audit period: the first and last day of its
/// classes, sessions, certificates and footage in `rows`.
pub fn period(rows: &[CitedRow]) -> Option<(String, String)> {
    let days: Vec<String> = rows.iter().filter(|r| r.table != "callbacks").filter_map(row_day).collect();
    Some((days.iter().min()?.clone(), days.iter().max()?.clone()))
}

/// The day of each record (table, key) among `rows`; exam records and
/// responses take their session's day.
pub fn record_days(rows: &[CitedRow]) -> HashMap<(String, String), String> {
    let sessions: HashMap<&str, String> = rows
        .iter()
        .filter(|r| r.table == "exam_sessions")
        .filter_map(|r| Some((r.key.as_str(), row_day(r)?)))
        .collect();
    let mut by_record: HashMap<String, String> = HashMap::new();
    let mut out = HashMap::new();
    for r in rows {
        let day = if r.table == "exam_records" {
            let s = r.fields.get("session_id").and_then(|v| v.as_str()).unwrap_or("");
            sessions.get(s).cloned().or_else(|| row_day(r))
        } else {
            row_day(r)
        };
        if let Some(d) = day {
            if r.table == "exam_records" {
                by_record.insert(r.key.clone(), d.clone());
            }
            out.insert((r.table.clone(), r.key.clone()), d);
        }
    }
    for r in rows.iter().filter(|r| r.table == "exam_responses") {
        if let Some(d) = by_record.get(&r.key) {
            out.insert((r.table.clone(), r.key.clone()), d.clone());
        }
    }
    out
}

/// The latest day among the records a flag names (for a person: their
/// latest record at the institution).
pub fn flag_day(rows: &[CitedRow], days: &HashMap<(String, String), String>, f: &Flag) -> Option<String> {
    subject_keys(f)
        .into_iter()
        .flat_map(|(t, k)| {
            if t == "person" {
                rows.iter()
                    .filter(|r| r.fields.get("person_id").and_then(|v| v.as_str()) == Some(k.as_str()))
                    .filter_map(|r| days.get(&(r.table.clone(), r.key.clone())).cloned())
                    .collect::<Vec<_>>()
            } else {
                days.get(&(t.to_string(), k)).cloned().into_iter().collect()
            }
        })
        .max()
}

/// The SHA-256 of each table file the store currently holds (`inputs`).
pub fn current_inputs(conn: &Connection) -> rusqlite::Result<BTreeMap<String, String>> {
    let mut st = conn.prepare("SELECT table_name, sha256 FROM inputs")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: &str, key: &str, fields: &[(&str, &str)]) -> CitedRow {
        CitedRow {
            table: table.into(),
            key: key.into(),
            line: 2,
            fields: fields.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))).collect(),
        }
    }

    #[test]
    fn flags_cite_their_rows_and_days() {
        let rows = vec![
            row("exam_sessions", "S1", &[("session_id", "S1"), ("start", "2024-07-01 09:00:00")]),
            row("exam_records", "R1", &[("record_id", "R1"), ("session_id", "S1"), ("person_id", "P1")]),
            row("exam_records", "R2", &[("record_id", "R2"), ("session_id", "S1"), ("person_id", "P2")]),
            row("attendance", "A1", &[("record_id", "A1"), ("person_id", "P2"), ("check_in", "2024-08-03 08:00:00")]),
        ];
        let f = Flag { kind: SubjectKind::ExamRecord, subject_id: "R1".into(), strength: 1.0 };
        let p = Flag { kind: SubjectKind::Person, subject_id: "P2".into(), strength: 1.0 };
        let c = cited_rows(&rows, &[&f]);
        assert_eq!(c.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["R1"]);
        assert_eq!(cited_rows(&rows, &[&p]).len(), 2);
        let days = record_days(&rows);
        assert_eq!(flag_day(&rows, &days, &f).as_deref(), Some("2024-07-01"));
        assert_eq!(flag_day(&rows, &days, &p).as_deref(), Some("2024-08-03"));
        assert_eq!(period(&rows), Some(("2024-07-01".into(), "2024-08-03".into())));
    }
}
