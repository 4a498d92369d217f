//! `kaopei ingest DATASET [--db FILE]`: read a dataset folder into the store
//! and print, per file, rows read = loaded + rejected.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::dataset;
use crate::model::Models;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset folder (DATA.md): institutions.csv and any other tables.
    pub dataset: PathBuf,
    /// The SQLite store to write (created if missing).
    #[arg(long, default_value = "kaopei.db")]
    pub db: PathBuf,
    /// Folder with operations.toml and scorecard.toml (default: built-in models).
    #[arg(long)]
    pub models: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<i32> {
    let models = Models::load(a.models.as_deref())?;
    let loaded = dataset::read_dataset(&a.dataset, &models.operations)?;
    let mut store = Store::open(&a.db).with_context(|| format!("cannot open store `{}`", a.db.display()))?;
    store.ingest(&loaded)?;
    print_summary(&loaded);
    Ok(0)
}

/// Prints the per-file accounting and the first rejects.
pub fn print_summary(loaded: &dataset::Loaded) {
    println!("{:<16} {:>10} {:>10} {:>10}  file", "table", "read", "loaded", "rejected");
    for f in &loaded.files {
        println!("{:<16} {:>10} {:>10} {:>10}  {}", f.table, f.rows_read, f.rows_loaded, f.rows_rejected, f.file);
        if !f.unknown_columns.is_empty() {
            println!("{:<16} unknown columns kept as extra fields: {}", "", f.unknown_columns.join(", "));
        }
    }
    for r in loaded.rejects.iter().take(20) {
        println!("rejected: {} line {}: {}", r.file, r.line, r.reason);
    }
    if loaded.rejects.len() > 20 {
        println!("... and {} more rejected rows (all kept in the store's `rejects` table)", loaded.rejects.len() - 20);
    }
}
