//! The SQLite store (`kaopei.db`), the system of record: ingested rows and
//! input file hashes, rejected rows, the hash-chained run ledger, findings
//! with evidence, flags and scores.
//!
//! Layout: [`schema`] (tables and migrations), [`load`] (writing a read
//! dataset, one transaction per file), [`runs`] (the ledger, findings,
//! re-loading a run). The store runs in WAL mode with `synchronous=NORMAL`:
//! a killed process loses at most the transaction in flight, never
//! consistency.
//!
//! **Architecture invariant:** only this module speaks SQL.

pub mod load;
pub mod runs;
pub mod schema;

use std::path::Path;

use anyhow::{Context, Result};

use crate::dataset::{Loaded, Table};
use crate::model::Operations;
use crate::run::{RunInfo, RunResult};

pub use load::TableAction;
pub use runs::{ChainProblem, OutputFile, RunRecord};

pub struct Store {
    pub conn: rusqlite::Connection,
    /// Used to record each operation's model code beside the name as written.
    ops: Option<Operations>,
}

impl Store {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 256 MB page cache and in-memory temp: bulk ingest of millions of rows.
        conn.pragma_update(None, "cache_size", -262_144)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        schema::migrate(&mut conn).with_context(|| format!("cannot prepare store `{}`", path.display()))?;
        Ok(Store { conn, ops: None })
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
        let now = crate::pipeline::now_local();
        load::ingest(&mut self.conn, loaded, self.ops.as_ref(), &now).context("cannot write the dataset to the store")
    }

    /// Saves the run's findings and scores and closes it in the ledger.
    pub fn finish_run(&mut self, result: &RunResult) -> Result<()> {
        self.finish_run_with_outputs(result, &[]).map(|_| ())
    }

    /// Closes the run with the hashes of the files it wrote; returns the
    /// run's chain hash.
    pub fn finish_run_with_outputs(&mut self, result: &RunResult, outputs: &[OutputFile]) -> Result<String> {
        let now = crate::pipeline::now_local();
        Ok(runs::finish(&mut self.conn, result, outputs, "ok", &now)?)
    }

    /// Closes a run that stopped on an error (still chained).
    pub fn fail_run(&mut self, info: &RunInfo) -> Result<String> {
        let now = crate::pipeline::now_local();
        let empty = RunResult {
            info: info.clone(),
            inputs: Vec::new(),
            scores: Vec::new(),
            findings: Vec::new(),
            overview: Vec::new(),
        };
        Ok(runs::finish(&mut self.conn, &empty, &[], "failed", &now)?)
    }

    /// Re-reads run `run_id` (findings, scores, inputs, charts).
    pub fn load_run(&self, run_id: i64) -> Result<RunResult> {
        Ok(runs::load(&self.conn, run_id)?)
    }

    /// The latest finished `score`/`audit` run.
    pub fn latest_run(&self) -> Result<RunResult> {
        let id = runs::latest(&self.conn)?;
        self.load_run(id)
    }

    /// Re-checks the ledger's hash chain; empty = intact.
    pub fn verify_chain(&self) -> Result<Vec<ChainProblem>> {
        Ok(runs::verify_chain(&self.conn)?)
    }

    /// Rows currently stored in a data table.
    pub fn count(&self, table: Table) -> Result<u64> {
        let n: i64 = self.conn.query_row(&format!("SELECT COUNT(*) FROM {}", table.name()), [], |r| r.get(0))?;
        Ok(n as u64)
    }
}
