//! One file per subcommand, each with its clap `Args` and `run`. `run`
//! returns the process exit code: 0 done, 1 done with red-tier institutions,
//! 2 error (mapped in `main`). Commands print to stdout with `outln!`,
//! which returns a write error instead of panicking; [`is_broken_pipe`]
//! tells `main` to end quietly when the reader of the pipe went away.
//!
//! Every command that writes files records itself in the store's run
//! ledger with the size and SHA-256 of each file it wrote: `score`/`audit`
//! through the pipeline, the others through [`recorded`]. `verify` re-checks
//! the ledger and those files.

/// `println!` that returns the write error (a closed pipe: `kaopei … | head`)
/// to the command instead of panicking; `main` ends quietly on a broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

pub mod bundle;
pub mod calibrate;
pub mod compare;
pub mod decide;
pub mod ingest;
pub mod merge;
pub mod notice;
pub mod opts;
pub mod report;
pub mod runs;
pub mod sample_callbacks;
pub mod score;
pub mod stats;
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
    /// List the store's runs: id, command, status, period, inputs, start time.
    Runs(runs::Args),
    /// Record an inspector's decision on a finding or an institution
    /// (confirm, dismiss, rectify, suspend, fine, refer, accept); append-only,
    /// in the ledger. `--summary`: dismissal rates per check.
    Decide(decide::Args),
    /// Write the 整改通知书 (rectification notice) of one institution from
    /// its confirmed findings: DOCX (editable) and HTML/PDF.
    Notice(notice::Args),
    /// Write the police hand-over bundle of one institution: one ZIP with the
    /// report, the records behind every finding, frames, decisions and a
    /// manifest (check it with `verify --bundle`).
    Bundle(bundle::Args),
    /// The campaign's monthly statistics table (附件1) as XLSX, from the
    /// decisions and audits on record in the month.
    Stats(stats::Args),
    /// Check the store's hash-chained run ledger and re-hash the files each
    /// run wrote (and, with --dataset, read), or a bundle (--bundle): exit code 0 intact, 1 changed.
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
        Command::Runs(a) => runs::run(a),
        Command::Decide(a) => decide::run(a),
        Command::Notice(a) => notice::run(a),
        Command::Bundle(a) => bundle::run(a),
        Command::Stats(a) => stats::run(a),
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
        started_at: crate::dataset::time::now_local(),
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
            let result = RunResult::without_findings(info, inputs);
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

// ---- helpers shared by the commands that read a store (report, compare) ----

/// Opens an existing store (a missing file is an error, not a new store).
pub(crate) fn open_store(db: &Path) -> Result<Store> {
    if !db.is_file() {
        anyhow::bail!("store `{}` does not exist (run `kaopei score DATASET --out DIR` first)", db.display());
    }
    Store::open(db).with_context(|| format!("cannot open store `{}`", db.display()))
}

/// Loads the scorecard and warns when it is not the one the run used.
pub(crate) fn models_for(dir: Option<&Path>, runs: &[&RunResult]) -> Result<Models> {
    let models = Models::load(dir)?;
    for r in runs {
        if r.info.scorecard_sha256 != models.scorecard_sha256 {
            eprintln!(
                "kaopei: warning: run {} was scored with scorecard sha256 {}, titles and actions now come from {}",
                r.info.run_id, r.info.scorecard_sha256, models.scorecard_sha256
            );
        }
    }
    Ok(models)
}

pub(crate) fn default_out(db: &Path) -> PathBuf {
    db.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Prints each page beside itself as `.pdf`; returns the PDFs.
pub(crate) fn print_pdfs(pages: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut pdfs = Vec::with_capacity(pages.len());
    for p in pages {
        let out = p.with_extension("pdf");
        crate::report::pdf::print_to_pdf(p, &out)?;
        outln!("pdf: {}", out.display());
        pdfs.push(out);
    }
    Ok(pdfs)
}

/// Whether an error is (caused by) writing to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
