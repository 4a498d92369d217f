//! One file per subcommand, each with its clap `Args` and `run`. `run`
//! returns the process exit code: 0 done, 1 done with red-tier institutions,
//! 2 error (mapped in `main`).

pub mod calibrate;
pub mod compare;
pub mod ingest;
pub mod merge;
pub mod report;
pub mod sample_callbacks;
pub mod score;
pub mod synth;
pub mod verify_certs;

use clap::{Parser, Subcommand};

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
    }
}
