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
    /// Rejected rows and field defects that touch an in-scope institution,
    /// sorted by institution, file, line, column: what its report must show
    /// it could not read. Re-read from the store's `rejects` and
    /// `field_defects` (which mirror the last ingest).
    #[serde(default)]
    pub unreadable: Vec<Unreadable>,
}

impl RunResult {
    /// The result of a run that reads inputs but scores nothing (ingest,
    /// decide and the other recorded commands).
    pub fn without_findings(info: RunInfo, inputs: Vec<InputFile>) -> RunResult {
        RunResult {
            info,
            inputs,
            scores: Vec::new(),
            findings: Vec::new(),
            overview: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

/// A rejected row or a field defect, as it touches one institution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unreadable {
    pub institution_id: String,
    pub file: String,
    pub line: u64,
    /// The column of a field defect; empty for a rejected row.
    pub column: String,
    pub table: String,
    /// `rejected` (the row was not loaded) or `field_defect` (the row was
    /// loaded with this field empty).
    pub kind: String,
    /// The reject's reason, or the defect's value and what was expected.
    pub reason: String,
}

impl Unreadable {
    pub const REJECTED: &'static str = "rejected";
    pub const FIELD_DEFECT: &'static str = "field_defect";

    /// Every reject and field defect of `loaded` that touches an institution
    /// `keep` accepts, once per institution it touches, sorted.
    pub fn collect(loaded: &crate::dataset::Loaded, keep: impl Fn(&str) -> bool) -> Vec<Unreadable> {
        let t = &loaded.tables;
        let mut out = Vec::new();
        for (r, k) in loaded.rejects.iter().zip(&t.rejected) {
            let mut insts: Vec<u32> = k.inst.into_iter().chain(k.training_inst).collect();
            insts.dedup();
            for i in insts {
                let id = t.inst_id(i);
                if keep(id) {
                    out.push(Unreadable {
                        institution_id: id.to_string(),
                        file: r.file.clone(),
                        line: r.line,
                        column: String::new(),
                        table: r.table.clone(),
                        kind: Self::REJECTED.into(),
                        reason: r.reason.clone(),
                    });
                }
            }
        }
        for d in &loaded.defects {
            if let Some(id) = d.institution_id.as_deref().filter(|id| keep(id)) {
                out.push(Unreadable {
                    institution_id: id.to_string(),
                    file: d.file.clone(),
                    line: d.line,
                    column: d.column.clone(),
                    table: d.table.clone(),
                    kind: Self::FIELD_DEFECT.into(),
                    reason: format!("{} (loaded empty)", d.reason),
                });
            }
        }
        out.sort();
        out
    }
}
