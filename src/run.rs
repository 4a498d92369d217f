//! The record of one run, as the store keeps it and the reports render it:
//! what was read (input manifest with hashes and row counts), with which
//! models, and what came out (scores and findings).

use serde::{Deserialize, Serialize};

use crate::checks::{Chart, Finding};
use crate::score::InstScore;

/// An output file of a run: its path (relative to the store's folder when
/// under it, written by [`crate::output`], kept in the store's ledger), size and SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    #[serde(default)]
    pub size: u64,
    pub sha256: String,
}

/// One input file as ingested.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputFile {
    /// Table name (`attendance`), or `cctv-media` for a video file.
    pub table: String,
    /// Path relative to the dataset folder.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
}

/// Who ran what, when, with which models.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    pub run_id: i64,
    pub command: String,
    pub args: Vec<String>,
    pub version: String,
    pub dataset: String,
    pub started_at: String,
    pub operations_sha256: String,
    pub scorecard_sha256: String,
    /// First and last dates seen in the data (the audit period).
    pub period: Option<(String, String)>,
}

/// Everything a report needs, from memory right after a run or re-read from
/// the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub info: RunInfo,
    pub inputs: Vec<InputFile>,
    pub scores: Vec<InstScore>,
    pub findings: Vec<Finding>,
    /// Province-level charts for the batch overview (e.g. pass-rate funnels
    /// per operation and exam part), computed by the checks.
    pub overview: Vec<Chart>,
}
