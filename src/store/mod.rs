//! The SQLite store (`kaopei.db`), the system of record: ingested rows and
//! input file hashes, rejected rows, the hash-chained run ledger, findings
//! with evidence, flags and scores.
//!
//! Layout: [`schema`] (tables and migrations), [`load`] (writing a read
//! dataset, one transaction per file), [`runs`] (the ledger, findings,
//! re-loading a run). The store uses a rollback journal (`TRUNCATE`) with
//! `synchronous=FULL`: a killed process (or a power cut) loses at most the
//! transaction in flight, never consistency. Ingest appends fresh pages,
//! which a rollback journal writes once; WAL wrote each page twice (to the
//! log, then to the file), which was a third of `score` on a province.
//!
//! **Architecture invariant:** only this module speaks SQL.

pub mod callbacks;
pub mod decisions;
pub mod frame_cache;
pub mod load;
pub mod runs;
pub mod schema;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::dataset::{Loaded, Table};
use crate::model::Operations;
use crate::run::{RunInfo, RunResult};

pub use crate::run::OutputFile;
pub use load::TableAction;
pub use runs::{ChainProblem, LedgerEntry, ProblemKind, RunRecord};

pub struct Store {
    pub conn: rusqlite::Connection,
    /// The store file (its folder is where output paths are relative to).
    path: PathBuf,
    /// Used to record each operation's model code beside the name as written.
    ops: Option<Operations>,
}

/// Whether opening read-only failed on a hot rollback journal.
fn is_hot_journal(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK)
}

/// Rolls back the hot journal of a killed writer: SQLite does it on the
/// first read of a read-write connection. Nothing else is changed.
fn recover(path: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .with_context(|| format!("cannot open store `{}` to roll back its unfinished transaction", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .with_context(|| format!("cannot roll back the unfinished transaction of `{}`", path.display()))?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "TRUNCATE")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // 64 MB page cache (bulk ingest appends; only small indexes need the
        // cache) and in-memory temp.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        schema::migrate(&mut conn).with_context(|| format!("cannot prepare store `{}`", path.display()))?;
        Ok(Store { conn, path: path.to_path_buf(), ops: None })
    }

    /// Opens an existing store without changing it (no migration; refused
    /// when it is not a kaopei store or is newer than this build).
    pub fn open_read_only(path: &Path) -> Result<Store> {
        Store::open_read_only_once(path, true)
    }

    fn open_read_only_once(path: &Path, may_recover: bool) -> Result<Store> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(path, flags)
            .with_context(|| format!("cannot open store `{}`", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let version: i64 = match conn.query_row("PRAGMA user_version", [], |r| r.get(0)) {
            Err(e) if may_recover && is_hot_journal(&e) => {
                // A killed writer left its rollback journal: reading needs
                // the committed state back, which only a writer can restore.
                drop(conn);
                recover(path)?;
                tracing::warn!("`{}`: rolled back a transaction a killed process left unfinished", path.display());
                return Store::open_read_only_once(path, false);
            }
            other => other.with_context(|| format!("`{}` is not a SQLite database", path.display()))?,
        };
        if version == 0 {
            anyhow::bail!("`{}` is not a kaopei store (no schema)", path.display());
        }
        if version > schema::VERSION {
            anyhow::bail!(
                "store `{}` has schema version {version}, newer than this kaopei understands ({}): upgrade kaopei",
                path.display(),
                schema::VERSION
            );
        }
        Ok(Store { conn, path: path.to_path_buf(), ops: None })
    }

    /// The folder holding the store: output paths under it are recorded
    /// relative to it.
    pub fn dir(&self) -> PathBuf {
        self.path.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Lets the store record model codes (`operation_code`) for operations.
    pub fn with_operations(mut self, ops: &Operations) -> Store {
        self.ops = Some(ops.clone());
        self
    }

    /// Starts a run in the ledger (status `running`) and returns its info
    /// with `run_id` set.
    pub fn begin_run(&mut self, info: RunInfo) -> Result<RunInfo> {
        Ok(runs::begin(&self.conn, info)?)
    }

    /// Writes the dataset's rows, rejects and input manifest; files whose
    /// SHA-256 (and whose referenced tables' SHA-256) is unchanged since the
    /// last ingest are left as they are.
    pub fn ingest(&mut self, loaded: &Loaded) -> Result<()> {
        self.ingest_tables(loaded).map(|_| ())
    }

    /// [`Store::ingest`], saying what happened to each table.
    pub fn ingest_tables(&mut self, loaded: &Loaded) -> Result<Vec<(Table, TableAction)>> {
        let now = crate::dataset::time::now_local();
        load::ingest(&mut self.conn, loaded, self.ops.as_ref(), &now).context("cannot write the dataset to the store")
    }

    /// Saves the run's findings and scores and closes it in the ledger.
    pub fn finish_run(&mut self, result: &RunResult) -> Result<()> {
        self.finish_run_with_outputs(result, &[]).map(|_| ())
    }

    /// Closes the run with the hashes of the files it wrote; returns the
    /// run's chain hash.
    pub fn finish_run_with_outputs(&mut self, result: &RunResult, outputs: &[OutputFile]) -> Result<String> {
        let now = crate::dataset::time::now_local();
        Ok(runs::finish(&mut self.conn, result, outputs, "ok", &now)?)
    }

    /// Closes a run that stopped on an error (still chained).
    pub fn fail_run(&mut self, info: &RunInfo) -> Result<String> {
        let now = crate::dataset::time::now_local();
        let empty = RunResult::without_findings(info.clone(), Vec::new());
        Ok(runs::finish(&mut self.conn, &empty, &[], "failed", &now)?)
    }

    /// Re-reads run `run_id` (findings, scores, inputs, charts).
    pub fn load_run(&self, run_id: i64) -> Result<RunResult> {
        Ok(runs::load(&self.conn, run_id)?)
    }

    /// The recorded `info` of run `run_id` (`None` when missing or unreadable).
    pub fn run_info(&self, run_id: i64) -> Result<Option<RunInfo>> {
        Ok(runs::info(&self.conn, run_id)?)
    }

    /// The latest finished `score`/`audit` run.
    pub fn latest_run(&self) -> Result<RunResult> {
        let id = runs::latest(&self.conn)?;
        self.load_run(id)
    }

    /// Re-checks the ledger's hash chain and each closed run's rows against
    /// its record; empty = intact.
    pub fn verify_chain(&self) -> Result<Vec<ChainProblem>> {
        Ok(runs::verify_chain(&self.conn)?)
    }

    /// The chain hash of a run (`None` while unfinished or not in the store).
    pub fn run_hash(&self, run_id: i64) -> Result<Option<String>> {
        Ok(runs::hash_of(&self.conn, run_id)?)
    }

    /// Every run in the ledger, oldest first, as its record states it.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>> {
        Ok(runs::ledger(&self.conn)?)
    }

    /// Rows currently stored in a data table.
    pub fn count(&self, table: Table) -> Result<u64> {
        let n: i64 = self.conn.query_row(&load::count_sql(table), [], |r| r.get(0))?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Finding, SubjectKind};
    use crate::model::Models;

    fn info(command: &str) -> RunInfo {
        RunInfo {
            run_id: 0,
            command: command.into(),
            args: vec!["score".into(), "data".into()],
            version: crate::VERSION.into(),
            dataset: "data".into(),
            started_at: "2026-01-01 08:00:00".into(),
            operations_sha256: "a".repeat(64),
            scorecard_sha256: "b".repeat(64),
            period: Some(("2024-07-01".into(), "2024-07-31".into())),
        }
    }

    fn result(info: RunInfo) -> RunResult {
        let models = Models::load(None).unwrap();
        let f = Finding::new("I1", crate::checks::TrainingCheck::HoursShort, 0.8)
            .stat(3.5, Some(0.001))
            .summary("学时不足", "hours short")
            .flag(SubjectKind::Person, "410102199001011234", 0.9);
        let s = crate::score::score_institution(&models.scorecard, "I1", "中心", "410102", "training", vec![], &[&f]);
        RunResult {
            info,
            inputs: Vec::new(),
            scores: vec![s],
            findings: vec![f],
            overview: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    #[test]
    fn a_finished_run_loads_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let info = store.begin_run(info("score")).unwrap();
        assert_eq!(info.run_id, 1);
        let r = result(info);
        store.finish_run(&r).unwrap();
        assert_eq!(store.load_run(1).unwrap(), r);
        assert_eq!(store.latest_run().unwrap(), r);
        let flags: i64 = store.conn.query_row("SELECT COUNT(*) FROM flags", [], |x| x.get(0)).unwrap();
        assert_eq!(flags, 1);
        assert!(store.load_run(7).is_err());
    }

    #[test]
    fn the_ledger_is_a_hash_chain_that_shows_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let mut store = Store::open(&path).unwrap();
        for cmd in ["ingest", "score", "score"] {
            let i = store.begin_run(info(cmd)).unwrap();
            store
                .finish_run_with_outputs(
                    &result(i),
                    &[OutputFile { path: "scores.csv".into(), size: 10, sha256: "c".repeat(64) }],
                )
                .unwrap();
        }
        let killed = store.begin_run(info("score")).unwrap();
        let problems = store.verify_chain().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].run_id, killed.run_id);

        // Editing a closed run's record breaks its hash; deleting one breaks the next link.
        store
            .conn
            .execute("UPDATE runs SET record = replace(record, 'scores.csv', 'other.csv') WHERE run_id = 2", [])
            .unwrap();
        let p = store.verify_chain().unwrap();
        assert!(p.iter().any(|x| x.run_id == 2 && x.message.contains("altered")), "{p:?}");
        // (Foreign keys protect a run with findings; a forger would switch them off.)
        store.conn.pragma_update(None, "foreign_keys", false).unwrap();
        assert_eq!(store.conn.execute("DELETE FROM runs WHERE run_id = 1", []).unwrap(), 1);
        let p = store.verify_chain().unwrap();
        assert!(p.iter().any(|x| x.run_id == 2 && x.message.contains("link broken")), "{p:?}");
    }

    #[test]
    fn rows_changed_behind_the_record_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let i = store.begin_run(info("score")).unwrap();
        store.finish_run(&result(i)).unwrap();
        assert!(store.verify_chain().unwrap().is_empty());
        let check = |store: &Store, sql: &str, what: &str| {
            let tx = store.conn.unchecked_transaction().unwrap();
            assert_eq!(tx.execute(sql, []).unwrap(), 1, "{sql}");
            let p = store.verify_chain().unwrap();
            assert!(
                p.len() == 1 && p[0].kind == ProblemKind::RowAltered && p[0].message.contains(what),
                "{sql}: {p:?}"
            );
            tx.rollback().unwrap();
            assert!(store.verify_chain().unwrap().is_empty());
        };
        check(&store, "UPDATE runs SET args = '[]'", "args");
        check(&store, "UPDATE runs SET ended_at = '2030-01-01 00:00:00'", "ended_at");
        check(&store, "UPDATE runs SET info = replace(info, '2024-07-31', '2024-08-31')", "info");
        check(&store, "UPDATE flags SET strength = 0.1", "rows");
        check(&store, "UPDATE findings SET p_value = 0.5", "rows");
        check(&store, "UPDATE scores SET tier = 'green'", "rows");
        check(&store, "UPDATE findings SET json = replace(json, 'hours short', 'fine')", "findings");
        check(&store, "UPDATE runs SET overview = '[{}]'", "overview");
    }

    #[test]
    fn the_read_only_store_refuses_what_is_not_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        drop(Store::open(&path).unwrap());
        let ro = Store::open_read_only(&path).unwrap();
        assert!(ro.conn.execute("DELETE FROM runs", []).is_err(), "read-only");
        assert_eq!(ro.dir(), dir.path());
        std::fs::write(dir.path().join("x.db"), "not sqlite at all, just text").unwrap();
        assert!(Store::open_read_only(&dir.path().join("x.db")).is_err());
        rusqlite::Connection::open(dir.path().join("empty.db")).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
        let e = Store::open_read_only(&dir.path().join("empty.db")).err().unwrap();
        assert!(e.to_string().contains("not a kaopei store"), "{e}");
    }

    #[test]
    fn reopening_keeps_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        let v: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, schema::VERSION);
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        assert!(Store::open(&path).is_err());
    }
}
