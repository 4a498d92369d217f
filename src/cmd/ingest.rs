//! `kaopei ingest DATASET [--db FILE]`: read a dataset folder into the store
//! and print, per file, rows read = loaded + rejected. The run is recorded
//! in the store's ledger like every other command.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::opts::ModelsOpt;
use crate::dataset;
use crate::model::Models;
use crate::run::{RunInfo, RunResult};
use crate::store::{Store, TableAction};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset folder (DATA.md): institutions.csv and any other tables.
    pub dataset: PathBuf,
    /// The SQLite store to write (created if missing).
    #[arg(long, default_value = "kaopei.db")]
    pub db: PathBuf,
    #[command(flatten)]
    pub models: ModelsOpt,
}

pub fn run(a: Args) -> Result<i32> {
    let models = Models::load(a.models.dir())?;
    let t0 = std::time::Instant::now();
    let loaded = dataset::read_dataset(&a.dataset, &models.operations)?;
    let read_secs = t0.elapsed().as_secs_f64();
    let mut store = Store::open(&a.db)
        .with_context(|| format!("cannot open store `{}`", a.db.display()))?
        .with_operations(&models.operations);
    let info = store.begin_run(RunInfo {
        run_id: 0,
        command: "ingest".into(),
        args: std::env::args().skip(1).collect(),
        version: crate::VERSION.to_string(),
        dataset: a.dataset.display().to_string(),
        started_at: crate::dataset::time::now_local(),
        operations_sha256: models.operations_sha256.clone(),
        scorecard_sha256: models.scorecard_sha256.clone(),
        period: None,
    })?;
    let t1 = std::time::Instant::now();
    let actions = store.ingest_tables(&loaded)?;
    let store_secs = t1.elapsed().as_secs_f64();
    let inputs = crate::pipeline::input_manifest(&loaded);
    store.finish_run(&RunResult::without_findings(info, inputs))?;
    print_summary(&loaded)?;
    for (t, act) in &actions {
        match act {
            TableAction::Unchanged => outln!("store: {} unchanged (same SHA-256), left as it was", t.name()),
            TableAction::Replaced { rows } => outln!("store: {} written ({rows} rows)", t.name()),
            TableAction::Emptied => outln!("store: {} emptied (no longer in the dataset)", t.name()),
        }
    }
    eprintln!("read {read_secs:.2} s, store {store_secs:.2} s");
    Ok(0)
}

/// Prints the per-file accounting, refusals, notes and the first rejects.
pub fn print_summary(loaded: &dataset::Loaded) -> std::io::Result<()> {
    outln!(
        "{:<16} {:>10} {:>10} {:>10} {:>10}  {:<10} file",
        "table",
        "read",
        "loaded",
        "rejected",
        "defects",
        "encoding"
    );
    for f in &loaded.files {
        outln!(
            "{:<16} {:>10} {:>10} {:>10} {:>10}  {:<10} {}",
            f.table,
            f.rows_read,
            f.rows_loaded,
            f.rows_rejected,
            f.field_defects,
            f.encoding,
            f.file
        );
        if let Some(why) = &f.refused {
            outln!("{:<16} REFUSED: {why}", "");
        }
        if !f.unknown_columns.is_empty() {
            outln!("{:<16} unknown columns kept as extra fields: {}", "", f.unknown_columns.join(", "));
        }
        for n in &f.notes {
            outln!("{:<16} note: {n}", "");
        }
    }
    for n in &loaded.notes {
        outln!("note: {n}");
    }
    for r in loaded.rejects.iter().take(20) {
        outln!("rejected: {} line {}: {}", r.file, r.line, r.reason);
    }
    if loaded.rejects.len() > 20 {
        outln!("... and {} more rejected rows (all kept in the store's `rejects` table)", loaded.rejects.len() - 20);
    }
    for d in loaded.defects.iter().take(20) {
        outln!("field defect: {} line {}: {} (loaded empty)", d.file, d.line, d.reason);
    }
    if loaded.defects.len() > 20 {
        outln!(
            "... and {} more field defects (all kept in the store's `field_defects` table)",
            loaded.defects.len() - 20
        );
    }
    Ok(())
}
