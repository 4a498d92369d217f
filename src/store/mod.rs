//! The SQLite store (`kaopei.db`), the system of record: ingested rows and
//! input file hashes, rejected rows, the run ledger, findings with evidence,
//! scores, rectification status and the frame-hash cache.
//!
//! **Architecture invariant:** only this module speaks SQL.

pub mod callbacks;

use std::path::Path;

use anyhow::Result;

use crate::dataset::Loaded;
use crate::run::{RunInfo, RunResult};

pub struct Store {
    pub conn: rusqlite::Connection,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let conn = rusqlite::Connection::open(path)?;
        Ok(Store { conn })
    }

    /// Starts a run in the ledger and returns its info (with `run_id`).
    pub fn begin_run(&mut self, info: RunInfo) -> Result<RunInfo> {
        Ok(info)
    }

    /// Writes the dataset's rows, rejects and input manifest; files whose
    /// SHA-256 is unchanged since the last ingest are left as they are.
    pub fn ingest(&mut self, loaded: &Loaded) -> Result<()> {
        let _ = loaded;
        Ok(())
    }

    /// Saves the run's findings and scores and closes it in the ledger.
    pub fn finish_run(&mut self, result: &RunResult) -> Result<()> {
        let _ = result;
        Ok(())
    }
}
