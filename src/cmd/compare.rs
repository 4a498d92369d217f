//! `kaopei compare --db FILE --institution ID RUN_A RUN_B`: the
//! rectification follow-up. Marks each finding of run A resolved or
//! persisting (with run B's evidence), B's other findings new, and states
//! the verdict (整改合格 / 整改不合格) under `[rectification]` in the
//! scorecard. Exit code 0 when the rectification passes, 1 when it fails.
//! Recorded in the ledger with both runs (by hash) as inputs.
//!
//! With the inspector's decisions on run A (`kaopei decide`), the verdict
//! is judged per record ([`followup::review`]): the store must hold run
//! B's data (the follow-up is run right after scoring it); every earlier
//! record a confirmed finding cited must come back unchanged, or the
//! verdict is 数据被改动，无法认定整改 with the changed records listed first.
//! The 复查意见书 (DOCX + HTML, PDF with `--pdf`) is written beside the page.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::opts::{ModelsOpt, ViewOpt};
use crate::cmd::{default_out, models_for, open_store, print_pdfs};
use crate::report::{followup, notice, HtmlOptions};
use crate::store::decisions;

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
    // Judged per record on run B's data, which the store must hold.
    let current = decisions::current_inputs(&store.conn)?;
    for i in &rb.inputs {
        if let Some(now) = current.get(&i.table) {
            if *now != i.sha256 {
                bail!(
                    "the store now holds another `{}` than run {} read: run `kaopei score` on the follow-up dataset, \
                     then compare with that run",
                    i.table,
                    a.run_b
                );
            }
        }
    }
    let decided = decisions::list(&store.conn, Some(&a.institution))?;
    let now_rows = decisions::institution_rows(&store.conn, &a.institution)?;
    let review = followup::review(&fu, a.run_a, &decided, &now_rows, &models.scorecard);
    let out = a.out.clone().unwrap_or_else(|| default_out(&a.db));
    let opts = HtmlOptions { lang: a.view.lang, unmasked: a.view.unmasked, mask_names: a.mask_names };
    let info = super::run_info("compare", rb.info.dataset.clone(), Some(&models));
    let inputs = vec![super::run_input(&store, a.run_a)?, super::run_input(&store, a.run_b)?];
    let head = super::notice::ledger_head(&store)?;
    let card = &models.scorecard;
    let inst = fu.after;
    let doc = notice::review_opinion(&notice::ReviewInput {
        inst,
        verdict: review.verdict.zh().to_string(),
        period_before: review.period_before.clone(),
        period_after: review.period_after.clone(),
        run_before: a.run_a,
        run_after: a.run_b,
        deadline: review.deadline.clone(),
        changes: review
            .changes
            .iter()
            .map(|c| {
                let show = |s: &str| if a.view.unmasked { s.to_string() } else { crate::report::mask::redact_text(s) };
                [
                    c.file.clone(),
                    format!("{}（原第 {} 行）", show(&c.record), c.line),
                    c.field.clone(),
                    format!("{} → {}", show(&c.old), show(&c.new)),
                ]
            })
            .collect(),
        items: review
            .items
            .iter()
            .map(|i| notice::ReviewItem {
                title: card.check(&i.check).map_or_else(|| i.check.clone(), |c| c.title_zh.clone()),
                check: i.check.clone(),
                status: if i.resolved { "已整改".into() } else { "未整改".into() },
                detail: i.detail.clone(),
            })
            .chain(review.dismissed.iter().map(|(c, why)| notice::ReviewItem {
                title: card.check(c).map_or_else(|| c.clone(), |x| x.title_zh.clone()),
                check: c.clone(),
                status: "不予认定".into(),
                detail: why.clone(),
            }))
            .collect(),
        reasons: review.reasons.clone(),
        ledger_head: head,
    });
    super::recorded(&mut store, info, inputs, |_inputs| {
        // The changed records first: they decide the verdict.
        for c in &review.changes {
            eprintln!(
                "kaopei: changed: {} record {} (line {}) {}: {} -> {}",
                c.file, c.record, c.line, c.field, c.old, c.new
            );
        }
        let path = followup::write_with_review(&out, &fu, &ra, &rb, card, &opts, &review)?;
        eprintln!(
            "kaopei: {}: {} ({} confirmed, {} resolved, {} changed records)",
            a.institution,
            review.verdict.zh(),
            review.items.len(),
            review.items.iter().filter(|i| i.resolved).count(),
            review.changes.len()
        );
        outln!("report: {}", path.display());
        let mut written = vec![path.clone()];
        let stem = path.file_stem().map(|s| format!("{}_review", s.to_string_lossy())).unwrap_or_default();
        let docs = super::notice::write_document(&out.join("followup"), &stem, &doc, a.pdf)?;
        for d in &docs {
            println!("review: {}", d.display());
        }
        written.extend(docs);
        if a.pdf {
            written.extend(print_pdfs(&[path])?);
        }
        Ok(((), written))
    })?;
    Ok(if review.verdict == followup::Verdict::Pass { 0 } else { 1 })
}
