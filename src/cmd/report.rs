//! `kaopei report --db FILE [--run ID] [--institution ID] [--out DIR] [--pdf]
//! [--lang en]`: re-renders the HTML reports of a stored run without
//! re-running any check, and optionally prints them to PDF. The rendering
//! is itself a run in the ledger, with the rendered run (by its hash) as
//! input and the pages as outputs.

use std::path::PathBuf;

use anyhow::Result;

use super::opts::{ModelsOpt, ViewOpt};
use super::{default_out, models_for, open_store, print_pdfs};
use crate::report::{html, HtmlOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store a `score` or `audit` run wrote.
    #[arg(long)]
    pub db: PathBuf,
    /// Run to render (default: the latest run in the store).
    #[arg(long)]
    pub run: Option<i64>,
    /// Render only this institution's report (default: every report and the index).
    #[arg(long)]
    pub institution: Option<String>,
    /// Output folder (default: the folder holding the store).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also print each page to PDF with headless Chromium (about a second per
    /// page; for a whole province prefer `--institution`).
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
    let result = match a.run {
        Some(id) => store.load_run(id)?,
        None => store.latest_run()?,
    };
    let models = models_for(a.models.dir(), &[&result])?;
    let out = a.out.clone().unwrap_or_else(|| default_out(&a.db));
    let opts = HtmlOptions { lang: a.view.lang, unmasked: a.view.unmasked, mask_names: a.mask_names };
    let info = super::run_info("report", result.info.dataset.clone(), Some(&models));
    let inputs = vec![super::run_input(&store, result.info.run_id)?];
    let decided = crate::store::decisions::list(&store.conn, None)?;
    super::recorded(&mut store, info, inputs, |_inputs| {
        let (pages, mut written) = match &a.institution {
            Some(id) => {
                let pages = html::write_reports(&out, &result, &models.scorecard, &opts, Some(id))?;
                (pages.clone(), pages)
            }
            None => {
                let reports = html::write_reports(&out, &result, &models.scorecard, &opts, None)?;
                let index = html::write_index(&out, &result, &models.scorecard, &opts)?;
                let mut written = reports.clone();
                written.push(index.clone());
                let mut pages = vec![index];
                if a.pdf {
                    pages.extend(reports);
                }
                (pages, written)
            }
        };
        // The inspector's decisions on the pages (dismissals with their reasons).
        if !decided.is_empty() {
            for p in &written {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let section = if name == "index.html" {
                    crate::report::decisions_html::rates_section(&decided, &models.scorecard)
                } else {
                    match result.scores.iter().find(|s| html::report_file_name(&s.institution_id) == name) {
                        Some(s) => crate::report::decisions_html::institution_section(
                            &decided,
                            &s.institution_id,
                            result.info.run_id,
                            &models.scorecard,
                        ),
                        None => String::new(),
                    }
                };
                crate::report::decisions_html::inject(p, &section)?;
            }
        }
        for p in &pages {
            outln!("report: {}", p.display());
        }
        if a.pdf {
            written.extend(print_pdfs(&pages)?);
        }
        Ok(((), written))
    })?;
    Ok(0)
}
