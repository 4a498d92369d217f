//! One file per subcommand, each with its clap `Args` and `run`. `run`
//! returns the process exit code: 0 done, 1 done with red-tier institutions,
//! 2 error (mapped in `main`).
//!
//! Every command that writes files records itself in the store's run
//! ledger with the size and SHA-256 of each file it wrote: `score`/`audit`
//! through the pipeline, the others through [`recorded`]. `verify` re-checks
//! the ledger and those files.

pub mod calibrate;
pub mod compare;
pub mod ingest;
pub mod merge;
pub mod report;
pub mod sample_callbacks;
pub mod score;
pub mod synth;
pub mod verify;
pub mod verify_certs;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::model::Models;
use crate::output::Outputs;
use crate::run::{InputFile, RunInfo, RunResult};
use crate::store::Store;

/// kaopei (考培): audits safety-production training institutions and exam
/// centres for falsification (hours never delivered, proxies, relayed
/// answers, certificates without exams, fake CCTV) and writes evidence
/// reports for rectification orders.
#[derive(Debug, Parser)]
#[command(name = "kaopei", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a dataset folder into the store, reporting loaded and rejected rows.
    Ingest(ingest::Args),
    /// Batch job: ingest, run every check, score every institution, write
    /// scores.csv, findings.csv, flags.csv, the store and HTML reports.
    Score(score::Args),
    /// One institution: the same as `score`, reporting only on `--institution`
    /// (peer baselines still come from the whole dataset).
    Audit(score::AuditArgs),
    /// Re-render the HTML (and PDF) reports of a stored run without re-running checks.
    Report(report::Args),
    /// Rectification follow-up: compare an institution's findings in two runs
    /// and state 整改合格 / 整改不合格 (exit code 1 when not accepted).
    Compare(compare::Args),
    /// Combine the outputs of `score --shard K/N` runs into one set,
    /// identical to an unsharded run.
    Merge(merge::Args),
    /// Fit scorecard weights and tiers on labelled synthetic datasets and
    /// report held-out ROC AUC, precision/recall and honest false positives.
    Calibrate(calibrate::Args),
    /// Generate a synthetic dataset with planted falsification and truth.csv.
    Synth(synth::Args),
    /// Check a worker roster (CSV/XLSX) against a dataset's certificate
    /// registry: valid, expired, not_found, mismatch or invalid_id per worker.
    VerifyCerts(verify_certs::Args),
    /// Draw a reproducible stratified sample of an institution's trainees to
    /// phone back; writes the call sheet and records the seed in the store.
    SampleCallbacks(sample_callbacks::Args),
    /// Check the store's hash-chained run ledger and re-hash the files each
    /// run wrote (and, with --dataset, read): exit code 0 intact, 1 changed.
    Verify(verify::Args),
}

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Ingest(a) => ingest::run(a),
        Command::Score(a) => score::run(a),
        Command::Audit(a) => score::run_audit(a),
        Command::Report(a) => report::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Synth(a) => synth::run(a),
        Command::VerifyCerts(a) => verify_certs::run(a),
        Command::SampleCallbacks(a) => sample_callbacks::run(a),
        Command::Verify(a) => verify::run(a),
    }
}

/// The ledger's record of who ran what: this command line, now, with these
/// models (`None`: a command that uses none, such as `merge`).
pub(crate) fn run_info(command: &str, dataset: String, models: Option<&Models>) -> RunInfo {
    RunInfo {
        run_id: 0,
        command: command.to_string(),
        args: std::env::args().skip(1).collect(),
        version: crate::VERSION.to_string(),
        dataset,
        started_at: crate::pipeline::now_local(),
        operations_sha256: models.map(|m| m.operations_sha256.clone()).unwrap_or_default(),
        scorecard_sha256: models.map(|m| m.scorecard_sha256.clone()).unwrap_or_default(),
        period: None,
    }
}

/// Runs `work` as one run of `store`'s ledger: opened before it, closed
/// `ok` with `inputs` (to which `work` may add what it reads) and the size
/// and SHA-256 of every file `work` says it wrote, or closed `failed` when
/// it fails.
pub(crate) fn recorded<T>(
    store: &mut Store,
    info: RunInfo,
    mut inputs: Vec<InputFile>,
    work: impl FnOnce(&mut Vec<InputFile>) -> Result<(T, Vec<PathBuf>)>,
) -> Result<T> {
    let info = store.begin_run(info)?;
    let done = work(&mut inputs).and_then(|(value, written)| Ok((value, Outputs::hashed(&store.dir(), &written)?)));
    match done {
        Ok((value, outputs)) => {
            let result = RunResult {
                info,
                inputs,
                scores: Vec::new(),
                findings: Vec::new(),
                overview: Vec::new(),
                unreadable: Vec::new(),
            };
            store.finish_run_with_outputs(&result, &outputs)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(close) = store.fail_run(&info) {
                tracing::warn!("cannot close failed run {}: {close:#}", info.run_id);
            }
            Err(e)
        }
    }
}

/// An input that is not a dataset table file (a roster, a shard output),
/// recorded by its absolute path so `verify --dataset` finds it anywhere;
/// `bytes` are the contents as read.
pub(crate) fn input_file(table: &str, path: &Path, bytes: &[u8], rows: u64) -> Result<InputFile> {
    let abs = path.canonicalize().with_context(|| format!("cannot find `{}`", path.display()))?;
    Ok(InputFile {
        table: table.to_string(),
        path: abs.display().to_string(),
        size: bytes.len() as u64,
        sha256: crate::output::sha256_hex(bytes),
        rows_read: rows,
        rows_loaded: rows,
        rows_rejected: 0,
    })
}

/// A stored run used as an input (the run `report` renders, the runs
/// `compare` compares), pinned by its chain hash.
pub(crate) fn run_input(store: &Store, run_id: i64) -> Result<InputFile> {
    let hash = store.run_hash(run_id)?.unwrap_or_default();
    Ok(InputFile {
        table: RUN_INPUT.to_string(),
        path: format!("run {run_id}"),
        size: 0,
        sha256: hash,
        rows_read: 0,
        rows_loaded: 0,
        rows_rejected: 0,
    })
}

/// The `table` of an input that is a stored run.
pub const RUN_INPUT: &str = "run";
