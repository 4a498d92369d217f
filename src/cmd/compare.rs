//! `kaopei compare --db FILE --institution ID RUN_A RUN_B`: the
//! rectification follow-up. Marks each finding of run A resolved or
//! persisting (with run B's evidence), B's other findings new, and states
//! the verdict (整改合格 / 整改不合格) under `[rectification]` in the
//! scorecard. Exit code 0 when the rectification passes, 1 when it fails.
//! Recorded in the ledger with both runs (by hash) as inputs.

use std::path::PathBuf;

use anyhow::Result;

use super::opts::{ModelsOpt, ViewOpt};
use crate::cmd::{default_out, models_for, open_store, print_pdfs};
use crate::report::{followup, HtmlOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store holding both runs.
    #[arg(long)]
    pub db: PathBuf,
    /// The institution re-audited.
    #[arg(long)]
    pub institution: String,
    /// The earlier run (the audit that ordered rectification).
    pub run_a: i64,
    /// The follow-up run (after the rectification deadline).
    pub run_b: i64,
    /// Output folder (default: the folder holding the store); the page is
    /// written to OUT/followup/.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also print the page to PDF with headless Chromium.
    #[arg(long)]
    pub pdf: bool,
    #[command(flatten)]
    pub view: ViewOpt,
    /// Mask personal names too.
    #[arg(long)]
    pub mask_names: bool,
    #[command(flatten)]
    pub models: ModelsOpt,
}

pub fn run(a: Args) -> Result<i32> {
    let mut store = open_store(&a.db)?;
    let ra = store.load_run(a.run_a)?;
    let rb = store.load_run(a.run_b)?;
    let models = models_for(a.models.dir(), &[&ra, &rb])?;
    let fu = followup::compare(&models.scorecard, &ra, &rb, &a.institution)?;
    let out = a.out.clone().unwrap_or_else(|| default_out(&a.db));
    let opts = HtmlOptions { lang: a.view.lang, unmasked: a.view.unmasked, mask_names: a.mask_names };
    let info = super::run_info("compare", rb.info.dataset.clone(), Some(&models));
    let inputs = vec![super::run_input(&store, a.run_a)?, super::run_input(&store, a.run_b)?];
    super::recorded(&mut store, info, inputs, |_inputs| {
        let path = followup::write(&out, &fu, &ra, &rb, &models.scorecard, &opts)?;
        let t = a.view.lang.text();
        eprintln!(
            "kaopei: {}: {} ({} resolved, {} persisting, {} new)",
            a.institution,
            if fu.pass { t.verdict_pass } else { t.verdict_fail },
            fu.items.iter().filter(|i| i.status == followup::Status::Resolved).count(),
            fu.items.iter().filter(|i| i.status == followup::Status::Persisting).count(),
            fu.items.iter().filter(|i| i.status == followup::Status::New).count()
        );
        outln!("report: {}", path.display());
        let mut written = vec![path.clone()];
        if a.pdf {
            written.extend(print_pdfs(&[path])?);
        }
        Ok(((), written))
    })?;
    Ok(if fu.pass { 0 } else { 1 })
}
