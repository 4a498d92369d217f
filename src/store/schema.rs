//! The store's schema and its migrations. `PRAGMA user_version` holds the
//! number of migrations applied; [`migrate`] applies the missing ones in
//! order, each in its own transaction, so an old store opens in a new
//! version and a store from a newer version is refused rather than damaged.

use rusqlite::Connection;

/// The migrations, oldest first. Never edit one that has shipped: append.
const MIGRATIONS: &[&str] = &[
    // 1: inputs, rejects, data tables, run ledger, findings, flags, scores.
    r#"
CREATE TABLE inputs (
    table_name      TEXT PRIMARY KEY,
    path            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    -- sha256 of this file and the signatures of the tables its foreign keys
    -- resolve against: unchanged signature = nothing to re-ingest.
    signature       TEXT NOT NULL,
    encoding        TEXT NOT NULL,
    rows_read       INTEGER NOT NULL,
    rows_loaded     INTEGER NOT NULL,
    rows_rejected   INTEGER NOT NULL,
    unknown_columns TEXT NOT NULL,
    notes           TEXT NOT NULL,
    refused         TEXT,
    ingested_at     TEXT NOT NULL
);
CREATE TABLE rejects (
    id         INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    file       TEXT NOT NULL,
    line       INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    raw        TEXT NOT NULL
);
CREATE INDEX rejects_by_table ON rejects(table_name, line);

CREATE TABLE institutions (line INTEGER NOT NULL, institution_id TEXT NOT NULL, name TEXT NOT NULL,
    kind TEXT NOT NULL, region TEXT NOT NULL, seats INTEGER, extra TEXT);
CREATE TABLE classes (line INTEGER NOT NULL, class_id TEXT NOT NULL, institution_id TEXT NOT NULL,
    operation TEXT NOT NULL, operation_code TEXT, course_kind TEXT NOT NULL, start_date TEXT NOT NULL,
    end_date TEXT NOT NULL, room TEXT, capacity INTEGER, extra TEXT);
CREATE TABLE attendance (line INTEGER NOT NULL, record_id TEXT NOT NULL, class_id TEXT NOT NULL,
    person_id TEXT NOT NULL, name TEXT, instructor_id TEXT, mode TEXT NOT NULL, check_in TEXT NOT NULL,
    check_out TEXT NOT NULL, device_id TEXT, face_score REAL, extra TEXT);
CREATE TABLE exam_sessions (line INTEGER NOT NULL, session_id TEXT NOT NULL, institution_id TEXT NOT NULL,
    room TEXT NOT NULL, operation TEXT NOT NULL, operation_code TEXT, part TEXT NOT NULL, start TEXT NOT NULL,
    "end" TEXT NOT NULL, seats INTEGER, proctor_id TEXT, extra TEXT);
CREATE TABLE exam_records (line INTEGER NOT NULL, record_id TEXT NOT NULL, session_id TEXT NOT NULL,
    person_id TEXT NOT NULL, name TEXT, seat TEXT, training_institution_id TEXT, login_at TEXT,
    submit_at TEXT, score REAL NOT NULL, attempt INTEGER NOT NULL, face_score REAL, extra TEXT);
CREATE TABLE exam_responses (line INTEGER NOT NULL, record_id TEXT NOT NULL, item_id TEXT NOT NULL,
    answer TEXT NOT NULL, "key" TEXT NOT NULL, seconds REAL, changes INTEGER, extra TEXT);
CREATE TABLE certificates (line INTEGER NOT NULL, cert_no TEXT NOT NULL, person_id TEXT NOT NULL,
    name TEXT NOT NULL, operation TEXT NOT NULL, operation_code TEXT, issued_on TEXT NOT NULL,
    expires_on TEXT NOT NULL, training_institution_id TEXT, exam_institution_id TEXT, extra TEXT);
CREATE TABLE cctv (line INTEGER NOT NULL, video_id TEXT NOT NULL, institution_id TEXT NOT NULL,
    room TEXT NOT NULL, camera TEXT, file TEXT NOT NULL, claimed_start TEXT NOT NULL, claimed_end TEXT,
    extra TEXT);
CREATE TABLE callbacks (line INTEGER NOT NULL, person_id TEXT NOT NULL, institution_id TEXT NOT NULL,
    called_at TEXT NOT NULL, reached INTEGER NOT NULL, attended TEXT, hours_reported REAL, note TEXT,
    extra TEXT);

CREATE TABLE runs (
    run_id            INTEGER PRIMARY KEY,
    command           TEXT NOT NULL,
    args              TEXT NOT NULL,
    version           TEXT NOT NULL,
    dataset           TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    ended_at          TEXT,
    -- running (or killed), ok, failed
    status            TEXT NOT NULL,
    operations_sha256 TEXT NOT NULL,
    scorecard_sha256  TEXT NOT NULL,
    info              TEXT NOT NULL,
    inputs            TEXT,
    outputs           TEXT,
    overview          TEXT,
    -- the canonical record the hash covers, and the chain
    record            TEXT,
    prev_hash         TEXT,
    hash              TEXT
);
CREATE TABLE findings (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs(run_id),
    institution_id TEXT NOT NULL,
    check_id       TEXT NOT NULL,
    severity       REAL NOT NULL,
    statistic      REAL,
    p_value        REAL,
    summary_zh     TEXT NOT NULL,
    summary_en     TEXT NOT NULL,
    json           TEXT NOT NULL
);
CREATE INDEX findings_by_run ON findings(run_id, institution_id);
CREATE TABLE flags (
    run_id         INTEGER NOT NULL REFERENCES runs(run_id),
    institution_id TEXT NOT NULL,
    check_id       TEXT NOT NULL,
    subject_kind   TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    strength       REAL NOT NULL
);
CREATE INDEX flags_by_run ON flags(run_id, institution_id);
CREATE TABLE scores (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs(run_id),
    institution_id TEXT NOT NULL,
    name           TEXT NOT NULL,
    score          REAL NOT NULL,
    tier           TEXT NOT NULL,
    findings       INTEGER NOT NULL,
    top_check      TEXT NOT NULL,
    json           TEXT NOT NULL
);
CREATE INDEX scores_by_run ON scores(run_id);
"#,
    // 2: exam responses as one JSON sheet per exam record (ten million
    // one-line rows cost more to write than everything else together); a
    // view keeps `exam_responses` queryable with its old columns.
    r#"
CREATE TABLE exam_response_sheets (
    record_id  TEXT NOT NULL,
    -- the line of the record's first response; sheets are in this order
    first_line INTEGER NOT NULL,
    responses  INTEGER NOT NULL,
    -- [[line, item_id, answer, key, seconds, changes, extra], ...] in line order
    json       TEXT NOT NULL
);
INSERT INTO exam_response_sheets (record_id, first_line, responses, json)
    SELECT record_id, MIN(line), COUNT(*),
           json_group_array(json_array(line, item_id, answer, "key", seconds, changes, json(extra)) ORDER BY line)
    FROM exam_responses GROUP BY record_id ORDER BY MIN(line);
DROP TABLE exam_responses;
CREATE VIEW exam_responses AS
    SELECT r.value ->> 0 AS line, s.record_id AS record_id, r.value ->> 1 AS item_id, r.value ->> 2 AS answer,
           r.value ->> 3 AS "key", r.value ->> 4 AS seconds, r.value ->> 5 AS changes, r.value ->> 6 AS extra
    FROM exam_response_sheets s, json_each(s.json) r;
"#,
    // 3: field defects (a bad value in an optional column, loaded empty) and
    // the institutions a rejected row belongs to, for the reports.
    r#"
CREATE TABLE field_defects (
    id             INTEGER PRIMARY KEY,
    table_name     TEXT NOT NULL,
    file           TEXT NOT NULL,
    line           INTEGER NOT NULL,
    column_name    TEXT NOT NULL,
    value          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    institution_id TEXT
);
CREATE INDEX field_defects_by_table ON field_defects(table_name, line);
ALTER TABLE rejects ADD COLUMN institution_id TEXT;
ALTER TABLE rejects ADD COLUMN training_institution_id TEXT;
"#,
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("store schema version {found} is newer than this kaopei understands ({supported}): upgrade kaopei")]
    TooNew { found: i64, supported: i64 },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Brings the schema up to [`VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(SchemaError::TooNew { found, supported: VERSION });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;

    fn rows(conn: &Connection) -> Vec<Vec<Value>> {
        let mut st = conn.prepare("SELECT * FROM exam_responses ORDER BY line").unwrap();
        let n = st.column_count();
        st.query_map([], |r| (0..n).map(|i| r.get(i)).collect()).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn migration_2_keeps_every_response_behind_the_view() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            r#"INSERT INTO exam_responses VALUES
               (4, 'R2', 'Q1', 'A', 'B', 12.5, 1, NULL),
               (2, 'R1', 'Q1', '', 'A', NULL, NULL, '{"备注":"补考"}'),
               (3, 'R1', 'Q2', 'A"B', 'A', 3.0, 0, NULL),
               (5, 'R2', 'Q2', 'C', 'C', 7.25, 2, NULL);"#,
        )
        .unwrap();
        let before = rows(&conn);
        migrate(&mut conn).unwrap();
        assert_eq!(rows(&conn), before);
        let sheets: i64 = conn.query_row("SELECT COUNT(*) FROM exam_response_sheets", [], |r| r.get(0)).unwrap();
        assert_eq!(sheets, 2);
        let first: String = conn
            .query_row("SELECT record_id FROM exam_response_sheets ORDER BY rowid LIMIT 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(first, "R1", "sheets in the order of their first line");
    }
}
