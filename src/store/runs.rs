//! The run ledger: every command run is a row in `runs`, opened by
//! [`begin`] (status `running`) and closed by [`finish`] with its findings,
//! flags and scores in one transaction. Closing a run hashes its canonical
//! record together with the previous closed run's hash, so the ledger is an
//! append-only hash chain: altering, removing or reordering a closed run
//! breaks every later hash ([`verify_chain`]).

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checks::{Chart, Finding};
use crate::run::{InputFile, RunInfo, RunResult, Unreadable};
use crate::score::InstScore;

/// An output file of a run: its path (relative to the store's folder when
/// under it, see [`crate::output`]), size and SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    #[serde(default)]
    pub size: u64,
    pub sha256: String,
}

/// What a run's hash covers. Field order is the serialisation order, so the
/// JSON text is canonical for a given record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub run_id: i64,
    pub command: String,
    pub args: Vec<String>,
    pub version: String,
    pub dataset: String,
    pub started_at: String,
    pub ended_at: String,
    pub status: String,
    pub operations_sha256: String,
    pub scorecard_sha256: String,
    pub inputs: Vec<InputFile>,
    pub outputs: Vec<OutputFile>,
    /// SHA-256 of the findings and scores JSON as stored.
    pub findings_sha256: String,
    pub scores_sha256: String,
    /// SHA-256 of the run's `findings`, `flags` and `scores` rows, every
    /// column ([`rows_sha256`]), and of its `info` and `overview` columns as
    /// stored (what `kaopei report` re-renders from). Empty in records
    /// written before they were added; not checked then.
    #[serde(default)]
    pub rows_sha256: String,
    #[serde(default)]
    pub info_sha256: String,
    #[serde(default)]
    pub overview_sha256: String,
}

/// The chain hash: `sha256(prev_hash || record_json)`, hex.
pub fn chain_hash(prev_hash: &str, record_json: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(record_json.as_bytes());
    hex::encode(h.finalize())
}

/// The hash the first run chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn begin(conn: &Connection, mut info: RunInfo) -> rusqlite::Result<RunInfo> {
    let args = serde_json::to_string(&info.args).unwrap_or_default();
    conn.execute(
        "INSERT INTO runs (command, args, version, dataset, started_at, status, operations_sha256, scorecard_sha256, info) \
         VALUES (?1,?2,?3,?4,?5,'running',?6,?7,'{}')",
        rusqlite::params![
            info.command,
            args,
            info.version,
            info.dataset,
            info.started_at,
            info.operations_sha256,
            info.scorecard_sha256
        ],
    )?;
    info.run_id = conn.last_insert_rowid();
    conn.execute(
        "UPDATE runs SET info = ?1 WHERE run_id = ?2",
        rusqlite::params![serde_json::to_string(&info).unwrap_or_default(), info.run_id],
    )?;
    Ok(info)
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Closes run `result.info.run_id` with status `status` (`ok` or `failed`).
pub fn finish(
    conn: &mut Connection,
    result: &RunResult,
    outputs: &[OutputFile],
    status: &str,
    ended_at: &str,
) -> rusqlite::Result<String> {
    let run_id = result.info.run_id;
    let tx = conn.transaction()?;
    let (mut findings_json, mut scores_json) = (String::from("["), String::from("["));
    {
        let mut f = tx.prepare(
            "INSERT INTO findings (run_id, institution_id, check_id, severity, statistic, p_value, summary_zh, \
             summary_en, json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
        )?;
        let mut fl = tx.prepare(
            "INSERT INTO flags (run_id, institution_id, check_id, subject_kind, subject_id, strength) \
             VALUES (?1,?2,?3,?4,?5,?6)",
        )?;
        for (i, x) in result.findings.iter().enumerate() {
            let j = json(x);
            f.execute(rusqlite::params![
                run_id,
                x.institution_id,
                x.check,
                x.severity,
                x.statistic,
                x.p_value,
                x.summary_zh,
                x.summary_en,
                j
            ])?;
            for g in &x.flags {
                fl.execute(rusqlite::params![
                    run_id,
                    x.institution_id,
                    x.check,
                    g.kind.as_str(),
                    g.subject_id,
                    g.strength
                ])?;
            }
            if i > 0 {
                findings_json.push(',');
            }
            findings_json.push_str(&j);
        }
        let mut s = tx.prepare(
            "INSERT INTO scores (run_id, institution_id, name, score, tier, findings, top_check, json) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
        )?;
        for (i, x) in result.scores.iter().enumerate() {
            let j = json(x);
            s.execute(rusqlite::params![
                run_id,
                x.institution_id,
                x.name,
                x.score,
                x.tier,
                x.findings as i64,
                x.top_check,
                j
            ])?;
            if i > 0 {
                scores_json.push(',');
            }
            scores_json.push_str(&j);
        }
    }
    findings_json.push(']');
    scores_json.push(']');
    let rows_digest = rows_sha256(&tx, run_id)?;
    let (info_json, overview_json) = (json(&result.info), json(&result.overview));
    let i = &result.info;
    let record = RunRecord {
        run_id,
        command: i.command.clone(),
        args: i.args.clone(),
        version: i.version.clone(),
        dataset: i.dataset.clone(),
        started_at: i.started_at.clone(),
        ended_at: ended_at.to_string(),
        status: status.to_string(),
        operations_sha256: i.operations_sha256.clone(),
        scorecard_sha256: i.scorecard_sha256.clone(),
        inputs: result.inputs.clone(),
        outputs: outputs.to_vec(),
        findings_sha256: sha(&findings_json),
        scores_sha256: sha(&scores_json),
        rows_sha256: rows_digest,
        info_sha256: sha(&info_json),
        overview_sha256: sha(&overview_json),
    };
    let record_json = json(&record);
    let prev: String = tx
        .query_row(
            "SELECT hash FROM runs WHERE hash IS NOT NULL AND run_id < ?1 ORDER BY run_id DESC LIMIT 1",
            [run_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string());
    let hash = chain_hash(&prev, &record_json);
    tx.execute(
        "UPDATE runs SET ended_at = ?1, status = ?2, info = ?3, inputs = ?4, outputs = ?5, overview = ?6, \
         record = ?7, prev_hash = ?8, hash = ?9 WHERE run_id = ?10",
        rusqlite::params![
            ended_at,
            status,
            info_json,
            json(&result.inputs),
            json(&outputs),
            overview_json,
            record_json,
            prev,
            hash,
            run_id
        ],
    )?;
    tx.commit()?;
    Ok(hash)
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("run {0} is not in the store")]
    NoRun(i64),
    #[error("the store has no finished run")]
    NoFinishedRun,
    #[error("run {run_id}: stored {what} is not valid JSON: {message}")]
    BadJson { run_id: i64, what: &'static str, message: String },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

fn parse<T: for<'de> Deserialize<'de>>(run_id: i64, what: &'static str, text: &str) -> Result<T, LoadError> {
    serde_json::from_str(text).map_err(|e| LoadError::BadJson { run_id, what, message: e.to_string() })
}

/// Re-reads a closed run for re-rendering its reports.
pub fn load(conn: &Connection, run_id: i64) -> Result<RunResult, LoadError> {
    let row: Option<(String, Option<String>, Option<String>)> = conn
        .query_row("SELECT info, inputs, overview FROM runs WHERE run_id = ?1", [run_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (info, inputs, overview) = row.ok_or(LoadError::NoRun(run_id))?;
    let info: RunInfo = parse(run_id, "info", &info)?;
    let inputs: Vec<InputFile> = parse(run_id, "inputs", inputs.as_deref().unwrap_or("[]"))?;
    let overview: Vec<Chart> = parse(run_id, "overview", overview.as_deref().unwrap_or("[]"))?;
    let mut findings = Vec::new();
    let mut st = conn.prepare("SELECT json FROM findings WHERE run_id = ?1 ORDER BY id")?;
    for j in st.query_map([run_id], |r| r.get::<_, String>(0))? {
        findings.push(parse::<Finding>(run_id, "finding", &j?)?);
    }
    let mut scores = Vec::new();
    let mut st = conn.prepare("SELECT json FROM scores WHERE run_id = ?1 ORDER BY id")?;
    for j in st.query_map([run_id], |r| r.get::<_, String>(0))? {
        scores.push(parse::<InstScore>(run_id, "score", &j?)?);
    }
    let scored: std::collections::HashSet<&str> = scores.iter().map(|s| s.institution_id.as_str()).collect();
    let unreadable = unreadable(conn)?.into_iter().filter(|u| scored.contains(u.institution_id.as_str())).collect();
    Ok(RunResult { info, inputs, scores, findings, overview, unreadable })
}

/// The stored rejects and field defects that belong to an institution
/// (the mirror of the last ingest), as [`Unreadable`] rows, sorted.
pub fn unreadable(conn: &Connection) -> rusqlite::Result<Vec<Unreadable>> {
    let mut out = Vec::new();
    let mut st = conn.prepare(
        "SELECT table_name, file, line, reason, institution_id, training_institution_id FROM rejects \
         WHERE institution_id IS NOT NULL OR training_institution_id IS NOT NULL",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    for row in rows {
        let (table, file, line, reason, inst, training) = row?;
        let mut ids: Vec<String> = inst.into_iter().chain(training).collect();
        ids.dedup();
        for id in ids {
            out.push(Unreadable {
                institution_id: id,
                file: file.clone(),
                line: line as u64,
                column: String::new(),
                table: table.clone(),
                kind: Unreadable::REJECTED.into(),
                reason: reason.clone(),
            });
        }
    }
    let mut st = conn.prepare(
        "SELECT table_name, file, line, column_name, reason, institution_id FROM field_defects \
         WHERE institution_id IS NOT NULL",
    )?;
    let rows = st.query_map([], |r| {
        let column: String = r.get(3)?;
        let reason: String = r.get(4)?;
        Ok(Unreadable {
            institution_id: r.get(5)?,
            file: r.get(1)?,
            line: r.get::<_, i64>(2)? as u64,
            reason: format!("{reason} (loaded empty)"),
            column,
            table: r.get(0)?,
            kind: Unreadable::FIELD_DEFECT.into(),
        })
    })?;
    for row in rows {
        out.push(row?);
    }
    out.sort();
    Ok(out)
}

/// The id of the latest run that finished `ok` with command `score` or
/// `audit` (the runs that have reports), if any.
pub fn latest(conn: &Connection) -> Result<i64, LoadError> {
    conn.query_row(
        "SELECT run_id FROM runs WHERE status = 'ok' AND command IN ('score', 'audit') ORDER BY run_id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(LoadError::NoFinishedRun)
}

/// What is wrong with a run in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Still `running`: killed, or in progress. It has no hash and recorded
    /// no outputs; not tampering by itself.
    Unfinished,
    /// Its `prev_hash` is not the hash of the closed run before it.
    BrokenLink,
    /// Its record does not hash to its stored hash.
    RecordAltered,
    /// Its row, findings, flags or scores differ from what its record says.
    RowAltered,
}

/// One problem found in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    pub run_id: i64,
    pub kind: ProblemKind,
    pub message: String,
}

/// A SQLite value as JSON (non-finite reals become `null`, as SQLite
/// stores NaN as NULL).
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

/// SHA-256 over run `run_id`'s rows in `findings`, `flags` and `scores`,
/// every column but the row id, in insertion order (one JSON array a row).
/// Computed from the stored rows both when the run closes and when it is
/// verified, so the encoding is the same by construction.
pub fn rows_sha256(conn: &Connection, run_id: i64) -> rusqlite::Result<String> {
    const TABLES: [(&str, &str); 3] = [
        ("findings", "institution_id, check_id, severity, statistic, p_value, summary_zh, summary_en, json"),
        ("flags", "institution_id, check_id, subject_kind, subject_id, strength"),
        ("scores", "institution_id, name, score, tier, findings, top_check, json"),
    ];
    let mut h = Sha256::new();
    for (table, cols) in TABLES {
        h.update(table.as_bytes());
        h.update(b"\n");
        let n = cols.split(',').count();
        let mut st = conn.prepare(&format!("SELECT {cols} FROM {table} WHERE run_id = ?1 ORDER BY rowid"))?;
        let mut rows = st.query([run_id])?;
        while let Some(r) = rows.next()? {
            let vals = (0..n).map(|i| r.get_ref(i).map(value_json)).collect::<rusqlite::Result<Vec<_>>>()?;
            h.update(json(&vals).as_bytes());
            h.update(b"\n");
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// The JSON texts of a run's findings or scores as [`finish`] hashed them.
fn stored_json_array(conn: &Connection, table: &str, run_id: i64) -> rusqlite::Result<String> {
    let mut st = conn.prepare(&format!("SELECT json FROM {table} WHERE run_id = ?1 ORDER BY id"))?;
    let parts = st.query_map([run_id], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(format!("[{}]", parts.join(",")))
}

/// One closed run's columns besides the chain.
struct Row {
    command: String,
    args: String,
    version: String,
    dataset: String,
    started_at: String,
    ended_at: Option<String>,
    status: String,
    operations_sha256: String,
    scorecard_sha256: String,
    info: String,
    inputs: Option<String>,
    outputs: Option<String>,
    overview: Option<String>,
}

/// The fields in which run `run_id`'s row and stored rows differ from its
/// record.
fn row_differences(conn: &Connection, run_id: i64, row: &Row, rec: &RunRecord) -> rusqlite::Result<Vec<&'static str>> {
    let mut diff = Vec::new();
    let mut check = |same: bool, what: &'static str| {
        if !same {
            diff.push(what);
        }
    };
    check(row.command == rec.command, "command");
    check(serde_json::from_str::<Vec<String>>(&row.args).ok().as_ref() == Some(&rec.args), "args");
    check(row.version == rec.version, "version");
    check(row.dataset == rec.dataset, "dataset");
    check(row.started_at == rec.started_at, "started_at");
    check(row.ended_at.as_deref() == Some(rec.ended_at.as_str()), "ended_at");
    check(row.status == rec.status, "status");
    check(row.operations_sha256 == rec.operations_sha256, "operations_sha256");
    check(row.scorecard_sha256 == rec.scorecard_sha256, "scorecard_sha256");
    let inputs = row.inputs.as_deref().and_then(|t| serde_json::from_str::<Vec<InputFile>>(t).ok());
    check(inputs.as_ref() == Some(&rec.inputs), "inputs");
    let outputs = row.outputs.as_deref().and_then(|t| serde_json::from_str::<Vec<OutputFile>>(t).ok());
    check(outputs.as_ref() == Some(&rec.outputs), "outputs");
    check(sha(&stored_json_array(conn, "findings", run_id)?) == rec.findings_sha256, "findings");
    check(sha(&stored_json_array(conn, "scores", run_id)?) == rec.scores_sha256, "scores");
    if !rec.rows_sha256.is_empty() {
        check(rows_sha256(conn, run_id)? == rec.rows_sha256, "findings/flags/scores rows");
    }
    if !rec.info_sha256.is_empty() {
        check(sha(&row.info) == rec.info_sha256, "info");
    }
    if !rec.overview_sha256.is_empty() {
        check(sha(row.overview.as_deref().unwrap_or("")) == rec.overview_sha256, "overview");
    }
    Ok(diff)
}

/// Re-computes the hash chain over all closed runs and checks each run's
/// row, findings, flags and scores against its hashed record. Runs still
/// `running` (killed or in progress) are listed too, since they have no
/// hash. (Like any hash chain kept in one place, it cannot show the latest
/// runs removed from the end: compare the head hash with one noted
/// elsewhere for that.)
pub fn verify_chain(conn: &Connection) -> rusqlite::Result<Vec<ChainProblem>> {
    let mut st = conn.prepare(
        "SELECT run_id, status, record, prev_hash, hash, command, args, version, dataset, started_at, ended_at, \
         operations_sha256, scorecard_sha256, info, inputs, outputs, overview FROM runs ORDER BY run_id",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                Row {
                    status: r.get(1)?,
                    command: r.get(5)?,
                    args: r.get(6)?,
                    version: r.get(7)?,
                    dataset: r.get(8)?,
                    started_at: r.get(9)?,
                    ended_at: r.get(10)?,
                    operations_sha256: r.get(11)?,
                    scorecard_sha256: r.get(12)?,
                    info: r.get(13)?,
                    inputs: r.get(14)?,
                    outputs: r.get(15)?,
                    overview: r.get(16)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut problems = Vec::new();
    let mut push = |run_id, kind, message: String| problems.push(ChainProblem { run_id, kind, message });
    let mut prev = GENESIS.to_string();
    for (run_id, record, prev_hash, hash, row) in rows {
        let (Some(record), Some(prev_hash), Some(hash)) = (record, prev_hash, hash) else {
            push(run_id, ProblemKind::Unfinished, format!("run never finished (status `{}`)", row.status));
            continue;
        };
        if prev_hash != prev {
            push(
                run_id,
                ProblemKind::BrokenLink,
                "previous-hash link broken: a run before it was altered or removed".into(),
            );
        }
        if chain_hash(&prev_hash, &record) != hash {
            push(run_id, ProblemKind::RecordAltered, "hash does not match the run record: record altered".into());
        }
        match serde_json::from_str::<RunRecord>(&record) {
            Ok(r) if r.run_id == run_id => {
                let diff = row_differences(conn, run_id, &row, &r)?;
                if !diff.is_empty() {
                    push(
                        run_id,
                        ProblemKind::RowAltered,
                        format!("stored {} differ from the hashed run record: run altered", diff.join(", ")),
                    );
                }
            }
            _ => push(run_id, ProblemKind::RowAltered, "run record does not match its row: run altered".into()),
        }
        prev = hash;
    }
    Ok(problems)
}

/// The chain hash of run `run_id` (`None` while unfinished or absent).
pub fn hash_of(conn: &Connection, run_id: i64) -> rusqlite::Result<Option<String>> {
    Ok(conn.query_row("SELECT hash FROM runs WHERE run_id = ?1", [run_id], |r| r.get(0)).optional()?.flatten())
}

/// A closed run as its hashed record states it, for re-checking its files.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub run_id: i64,
    pub status: String,
    /// `None` while the run is unfinished or its record cannot be read.
    pub record: Option<RunRecord>,
    pub hash: Option<String>,
}

/// Every run, oldest first.
pub fn ledger(conn: &Connection) -> rusqlite::Result<Vec<LedgerEntry>> {
    let mut st = conn.prepare("SELECT run_id, status, record, hash FROM runs ORDER BY run_id")?;
    let rows = st.query_map([], |r| {
        let record: Option<String> = r.get(2)?;
        Ok(LedgerEntry {
            run_id: r.get(0)?,
            status: r.get(1)?,
            record: record.and_then(|t| serde_json::from_str(&t).ok()),
            hash: r.get(3)?,
        })
    })?;
    rows.collect()
}
