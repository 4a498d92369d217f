//! `kaopei report --db FILE [--run ID] [--institution ID] [--out DIR] [--pdf]
//! [--lang en]`: re-renders the HTML reports of a stored run without
//! re-running any check, and optionally prints them to PDF.

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
    let store = open_store(&a.db)?;
    let result = match a.run {
        Some(id) => store.load_run(id)?,
        None => store.latest_run()?,
    };
    let models = models_for(a.models.as_deref(), &[&result])?;
    let out = a.out.clone().unwrap_or_else(|| default_out(&a.db));
    let opts = HtmlOptions { lang, unmasked: a.unmasked, mask_names: a.mask_names };
    let pages = match &a.institution {
        Some(id) => html::write_reports(&out, &result, &models.scorecard, &opts, Some(id))?,
        None => {
            let reports = html::write_reports(&out, &result, &models.scorecard, &opts, None)?;
            let mut pages = vec![html::write_index(&out, &result, &models.scorecard, &opts)?];
            if a.pdf {
                pages.extend(reports);
            }
            pages
        }
    };
    for p in &pages {
        println!("report: {}", p.display());
    }
    if a.pdf {
        print_pdfs(&pages)?;
    }
    Ok(0)
}

/// Prints each page beside itself as `.pdf`.
pub(crate) fn print_pdfs(pages: &[PathBuf]) -> Result<()> {
    for p in pages {
        let out = p.with_extension("pdf");
        pdf::print_to_pdf(p, &out)?;
        println!("pdf: {}", out.display());
    }
    Ok(())
}
