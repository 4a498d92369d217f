//! `kaopei report --db FILE [--run ID] [--institution ID] [--out DIR] [--pdf]
//! [--lang en]`: re-renders the HTML reports of a stored run without
//! re-running any check, and optionally prints them to PDF. The rendering
//! is itself a run in the ledger, with the rendered run (by its hash) as
//! input and the pages as outputs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::model::Models;
use crate::report::{html, pdf, HtmlOptions, Lang};
use crate::run::RunResult;
use crate::store::Store;

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
    /// Report language: zh (default) or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// Show full ID and phone numbers.
    #[arg(long)]
    pub unmasked: bool,
    /// Mask personal names too.
    #[arg(long)]
    pub mask_names: bool,
    /// Folder with scorecard.toml for check titles and actions (default: built-in models).
    #[arg(long)]
    pub models: Option<PathBuf>,
}

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

pub fn run(a: Args) -> Result<i32> {
    let lang = Lang::parse(&a.lang).map_err(anyhow::Error::msg)?;
    let mut store = open_store(&a.db)?;
    let result = match a.run {
        Some(id) => store.load_run(id)?,
        None => store.latest_run()?,
    };
    let models = models_for(a.models.as_deref(), &[&result])?;
    let out = a.out.clone().unwrap_or_else(|| default_out(&a.db));
    let opts = HtmlOptions { lang, unmasked: a.unmasked, mask_names: a.mask_names };
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
            println!("report: {}", p.display());
        }
        if a.pdf {
            written.extend(print_pdfs(&pages)?);
        }
        Ok(((), written))
    })?;
    Ok(0)
}

/// Prints each page beside itself as `.pdf`; returns the PDFs.
pub(crate) fn print_pdfs(pages: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut pdfs = Vec::with_capacity(pages.len());
    for p in pages {
        let out = p.with_extension("pdf");
        pdf::print_to_pdf(p, &out)?;
        println!("pdf: {}", out.display());
        pdfs.push(out);
    }
    Ok(pdfs)
}
