//! `kaopei notice --db FILE --institution ID [--run N] [--pdf]`: the
//! 整改通知书 for one institution from its confirmed findings (decisions
//! recorded with `kaopei decide`), as an editable DOCX and an HTML page
//! (printed to PDF with `--pdf`), under OUT/notices/. Recorded in the
//! ledger with the audit run as input; the notice prints the ledger head.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cmd::{default_out, open_store};
use crate::model::Models;
use crate::report::{document, notice, pdf};
use crate::store::{decisions, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store holding the audit run and the decisions.
    #[arg(long)]
    pub db: PathBuf,
    /// The institution the notice is addressed to.
    #[arg(long)]
    pub institution: String,
    /// The audit run (default: the run the institution's latest decision is about).
    #[arg(long)]
    pub run: Option<i64>,
    /// Output folder (default: the store's folder); files go to OUT/notices/.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also print the notice to PDF with headless Chromium.
    #[arg(long)]
    pub pdf: bool,
    /// Show full ID numbers (the notice goes to the institution itself).
    #[arg(long)]
    pub unmasked: bool,
    /// Folder with scorecard.toml and legal_basis.toml (default: built-in models).
    #[arg(long)]
    pub models: Option<PathBuf>,
}

/// The ledger's head: the hash of the latest closed run.
pub(crate) fn ledger_head(store: &Store) -> Result<String> {
    Ok(store.ledger()?.into_iter().rev().find_map(|e| e.hash).unwrap_or_else(|| crate::store::runs::GENESIS.into()))
}

pub fn run(a: Args) -> Result<i32> {
    let mut store = open_store(&a.db)?;
    let all = decisions::list(&store.conn, Some(&a.institution))?;
    let run_id = match a.run.or_else(|| all.iter().map(|d| d.audit_run).max()) {
        Some(r) => r,
        None => crate::store::runs::latest(&store.conn)?,
    };
    let run = store.load_run(run_id)?;
    let Some(inst) = run.scores.iter().find(|s| s.institution_id == a.institution) else {
        bail!("institution `{}` is not in run {run_id}", a.institution);
    };
    let decided: Vec<crate::case::Decision> = all.into_iter().filter(|d| d.audit_run == run_id).collect();
    let models = Models::load(a.models.as_deref())?;
    let legal = notice::LegalBasis::load(a.models.as_deref())?;
    let findings: Vec<&crate::checks::Finding> =
        run.findings.iter().filter(|f| f.institution_id == a.institution).collect();
    let confirmed = notice::confirmed_checks(&findings, &decided, &a.institution);
    if confirmed.is_empty() {
        bail!(
            "institution `{}` has no confirmed finding in run {run_id}: confirm with `kaopei decide --action confirm` first",
            a.institution
        );
    }
    let head = ledger_head(&store)?;
    let input = notice::NoticeInput {
        inst,
        run: &run.info,
        findings,
        decisions: &decided,
        legal: &legal,
        card: &models.scorecard,
        ledger_head: head,
        unmasked: a.unmasked,
    };
    let doc = notice::rectification_notice(&input);
    let out = a.out.clone().unwrap_or_else(|| default_out(&a.db));
    let stem = format!(
        "{}_run{run_id}_notice",
        crate::report::html::report_file_name(&a.institution).trim_end_matches(".html")
    );
    let info = super::run_info("notice", run.info.dataset.clone(), Some(&models));
    let inputs = vec![super::run_input(&store, run_id)?];
    let written = super::recorded(&mut store, info, inputs, |_| {
        let written = write_document(&out.join("notices"), &stem, &doc, a.pdf)?;
        Ok((written.clone(), written))
    })?;
    eprintln!("kaopei: {}: notice with {} confirmed finding(s)", a.institution, confirmed.len());
    for p in written {
        println!("notice: {}", p.display());
    }
    Ok(0)
}

/// Writes DIR/STEM.docx and DIR/STEM.html (and .pdf); returns the paths.
pub(crate) fn write_document(
    dir: &std::path::Path,
    stem: &str,
    doc: &document::Document,
    with_pdf: bool,
) -> Result<Vec<PathBuf>> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let docx = dir.join(format!("{stem}.docx"));
    crate::output::write_atomic(&docx, &document::to_docx(doc)?)
        .with_context(|| format!("cannot write `{}`", docx.display()))?;
    let html = dir.join(format!("{stem}.html"));
    crate::output::write_atomic(&html, document::to_html(doc).as_bytes())
        .with_context(|| format!("cannot write `{}`", html.display()))?;
    let mut written = vec![docx, html.clone()];
    if with_pdf {
        let p = dir.join(format!("{stem}.pdf"));
        pdf::print_to_pdf(&html, &p)?;
        written.push(p);
    }
    Ok(written)
}
