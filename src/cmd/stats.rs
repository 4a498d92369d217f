//! `kaopei stats --db FILE --month YYYY-MM [--months 2] --out FILE.xlsx`:
//! the campaign's monthly statistics table (附件1) from the decisions and
//! audit runs on record in the window (see `report::stats`). Region rows
//! are the regions of every institution in the store's runs, plus a total.
//! Recorded in the ledger.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cmd::open_store;
use crate::report::stats::{self, Regions, Window};
use crate::store::decisions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store holding the decisions and runs.
    #[arg(long)]
    pub db: PathBuf,
    /// The month reported, YYYY-MM.
    #[arg(long)]
    pub month: String,
    /// Months counted, ending with --month (2: the note's "近2个月（含本月）").
    #[arg(long, default_value_t = 1)]
    pub months: u32,
    /// The XLSX to write.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<i32> {
    let w = Window::parse(&a.month, a.months)?;
    let regions = Regions::builtin()?;
    let mut store = open_store(&a.db)?;
    let all = decisions::list(&store.conn, None)?;
    // Regions of the institutions of every score/audit run; audit runs in the window.
    let mut region_of: HashMap<String, String> = HashMap::new();
    let mut audited: Vec<(String, String)> = Vec::new();
    for e in store.ledger()? {
        let Some(rec) = e.record else { continue };
        if rec.status != "ok" || !(rec.command == "score" || rec.command == "audit") {
            continue;
        }
        let run = store.load_run(e.run_id)?;
        for s in &run.scores {
            region_of.entry(s.institution_id.clone()).or_insert_with(|| s.region.clone());
        }
        if rec.command == "audit" {
            if let Some(i) = rec.args.iter().position(|x| x == "--institution") {
                if let Some(id) = rec.args.get(i + 1) {
                    audited.push((id.clone(), rec.started_at.clone()));
                }
            }
        }
    }
    let counted = stats::count(&all, &audited, &region_of, &regions, &w);
    let mut rows: std::collections::BTreeMap<String, stats::Counts> =
        region_of.values().map(|r| (regions.row_code(r), stats::Counts::default())).collect();
    rows.extend(counted);
    let rows: Vec<(String, stats::Counts)> = rows.into_iter().collect();
    let bytes = stats::to_xlsx(&rows, &regions, &w)?;
    let info = super::run_info("stats", a.db.display().to_string(), None);
    let out = a.out.clone();
    super::recorded(&mut store, info, Vec::new(), |_| {
        if let Some(d) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)?;
        }
        crate::output::write_atomic(&out, &bytes).with_context(|| format!("cannot write `{}`", out.display()))?;
        Ok(((), vec![out.clone()]))
    })?;
    println!("stats: {} ({} – {}, {} region rows)", a.out.display(), w.first, w.last, rows.len());
    Ok(0)
}
