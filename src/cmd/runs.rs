//! `kaopei runs --db FILE`: the store's runs, one line each — id, command,
//! status, audit period, the inputs it read (files and rows), when it
//! started — read-only from the ledger, so a store used across months shows
//! which run is which month.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store whose runs to list.
    #[arg(long)]
    pub db: PathBuf,
}

pub fn run(a: Args) -> Result<i32> {
    if !a.db.is_file() {
        bail!("store `{}` does not exist", a.db.display());
    }
    let store = Store::open_read_only(&a.db)?;
    println!("{:>5}  {:<16} {:<8} {:<23} {:<19} inputs", "run", "command", "status", "period", "started");
    for e in store.ledger()? {
        let info = store.run_info(e.run_id)?;
        let (command, started, period) = match &info {
            Some(i) => (
                i.command.clone(),
                i.started_at.clone(),
                i.period.as_ref().map(|(a, b)| format!("{a}..{b}")).unwrap_or_else(|| "-".into()),
            ),
            None => (String::from("?"), String::new(), "-".into()),
        };
        let inputs = match &e.record {
            Some(r) => {
                let rows: u64 = r.inputs.iter().map(|i| i.rows_read).sum();
                format!("{} ({} files, {rows} rows)", r.dataset, r.inputs.len())
            }
            None => info.map(|i| i.dataset).unwrap_or_default(),
        };
        println!("{:>5}  {:<16} {:<8} {:<23} {:<19} {inputs}", e.run_id, command, e.status, period, started);
    }
    Ok(0)
}
