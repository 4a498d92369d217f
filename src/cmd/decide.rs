//! `kaopei decide`: records an inspector's decision on one institution's
//! finding (confirm, dismiss with a reason, order rectification with items
//! and a deadline, accept a rectification) or on the institution (suspend,
//! fine in 万元, refer to the police): who and when. Each decision is one
//! ledger run whose hash covers the decision row; a correction is a new
//! decision with `--supersedes ID`, never an edit.
//!
//! Confirming or ordering rectification stores the records the finding
//! cited (every flagged record, whole, as the store holds them) and the
//! institution's own audit period, so the follow-up can tell whether the
//! institution changed them afterwards.
//!
//! `decide --summary` prints how often each check was dismissed;
//! `decide --list` prints the decisions in force.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::case::{self, Action, Decision};
use crate::checks::Flag;
use crate::cmd::open_store;
use crate::model::Models;
use crate::run::RunResult;
use crate::store::{decisions, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store holding the audit run.
    #[arg(long)]
    pub db: PathBuf,
    /// Print the dismissal rate of each check and stop.
    #[arg(long)]
    pub summary: bool,
    /// Print the decisions (of `--institution`, or all) and stop.
    #[arg(long)]
    pub list: bool,
    /// The institution decided on.
    #[arg(long)]
    pub institution: Option<String>,
    /// The audit run whose finding is decided (default: the latest score/audit run).
    #[arg(long)]
    pub run: Option<i64>,
    /// The finding's check id (required for confirm, dismiss, rectify).
    #[arg(long)]
    pub check: Option<String>,
    /// What was decided.
    #[arg(long, value_enum)]
    pub action: Option<Action>,
    /// Why (required for dismiss).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// A rectification item (repeatable; default for rectify: the scorecard's action for the check).
    #[arg(long = "item")]
    pub items: Vec<String>,
    /// Rectification deadline, YYYY-MM-DD (required for rectify).
    #[arg(long)]
    pub deadline: Option<String>,
    /// Fine in 万元 (required for fine).
    #[arg(long)]
    pub amount: Option<f64>,
    /// Who decided (name and post).
    #[arg(long)]
    pub by: Option<String>,
    /// When it was decided, `YYYY-MM-DD HH:MM:SS` (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// The id of the decision this one corrects.
    #[arg(long)]
    pub supersedes: Option<i64>,
}

fn valid_day(s: &str) -> bool {
    s.len() == 10 && crate::dataset::parse::date(s).is_ok()
}

pub fn run(a: Args) -> Result<i32> {
    let mut store = open_store(&a.db)?;
    if a.summary {
        let all = decisions::list(&store.conn, a.institution.as_deref())?;
        print!("{}", summary_text(&all));
        return Ok(0);
    }
    if a.list {
        let all = decisions::list(&store.conn, a.institution.as_deref())?;
        let eff: std::collections::HashSet<i64> = case::effective(&all).iter().map(|d| d.id).collect();
        println!("id\trun\taudit_run\tinstitution\tcheck\taction\tdeadline\tamount_wan\tby\tat\tsupersedes\tin_force\treason");
        for d in &all {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                d.id,
                d.run_id,
                d.audit_run,
                d.institution_id,
                d.check_id,
                d.action.as_str(),
                d.deadline.as_deref().unwrap_or(""),
                d.amount_wan.map(|x| format!("{x:.2}")).unwrap_or_default(),
                d.decided_by,
                d.decided_at,
                d.supersedes.map(|x| x.to_string()).unwrap_or_default(),
                if eff.contains(&d.id) { "yes" } else { "no" },
                d.reason
            );
        }
        return Ok(0);
    }
    let institution = a.institution.clone().context("--institution is required")?;
    let action = a.action.context("--action is required (confirm, dismiss, rectify, suspend, fine, refer, accept)")?;
    let by = a.by.clone().filter(|s| !s.trim().is_empty()).context("--by (who decided) is required")?;
    let audit_run = match a.run {
        Some(r) => r,
        None => crate::store::runs::latest(&store.conn)?,
    };
    let run = store.load_run(audit_run)?;
    if !run.scores.iter().any(|s| s.institution_id == institution) {
        bail!("institution `{institution}` is not in run {audit_run}");
    }
    let check = a.check.clone().unwrap_or_default();
    if action.needs_check() && check.is_empty() {
        bail!("--check is required for {}", action.as_str());
    }
    let findings: Vec<&crate::checks::Finding> =
        run.findings.iter().filter(|f| f.institution_id == institution && f.check == check).collect();
    if !check.is_empty() && findings.is_empty() {
        bail!("run {audit_run} has no finding `{check}` for institution `{institution}`");
    }
    if action == Action::Dismiss && a.reason.trim().is_empty() {
        bail!("a dismissal needs --reason (the report shows it)");
    }
    if let Some(d) = &a.deadline {
        if !valid_day(d) {
            bail!("--deadline `{d}` is not a date YYYY-MM-DD");
        }
    }
    if action == Action::Rectify && a.deadline.is_none() {
        bail!("rectify needs --deadline YYYY-MM-DD");
    }
    if action == Action::Fine && !a.amount.is_some_and(|x| x.is_finite() && x > 0.0) {
        bail!("fine needs --amount (万元, above 0)");
    }
    if let Some(s) = a.supersedes {
        if !decisions::exists(&store.conn, s)? {
            bail!("decision {s} (--supersedes) is not in the store");
        }
    }
    let decided_at = a.at.clone().unwrap_or_else(crate::dataset::time::now_local);
    let models = Models::load(None)?;
    let mut items = a.items.clone();
    if action == Action::Rectify && items.is_empty() {
        if let Some(c) = models.scorecard.check(&check) {
            items.push(c.action_zh.clone());
        }
    }
    let (cited, period) = if matches!(action, Action::Confirm | Action::Rectify) {
        snapshot(&store, &run, &institution, &findings)?
    } else {
        (Vec::new(), None)
    };
    let mut d = Decision {
        id: 0,
        run_id: 0,
        audit_run,
        institution_id: institution.clone(),
        check_id: check,
        action,
        reason: a.reason.clone(),
        items,
        deadline: a.deadline.clone(),
        amount_wan: a.amount,
        decided_by: by,
        decided_at,
        supersedes: a.supersedes,
        period,
        cited,
    };
    let id = record(&mut store, &run, &mut d)?;
    println!(
        "decision {id}: {} {} {} ({} cited records)",
        d.institution_id,
        d.action.as_str(),
        d.check_id,
        d.cited.len()
    );
    Ok(0)
}

/// The cited records and the institution's audit period.
type Snapshot = (Vec<case::CitedRow>, Option<(String, String)>);

/// The cited records and the institution's period, from the store, which
/// must still hold the audit run's data.
fn snapshot(
    store: &Store,
    run: &RunResult,
    institution: &str,
    findings: &[&crate::checks::Finding],
) -> Result<Snapshot> {
    let current = decisions::current_inputs(&store.conn)?;
    for i in &run.inputs {
        if let Some(now) = current.get(&i.table) {
            if *now != i.sha256 {
                bail!(
                    "the store now holds another `{}` than run {} read (sha256 {}… ≠ {}…): confirm on the latest \
                     run, or re-run score on that run's dataset first",
                    i.table,
                    run.info.run_id,
                    now.get(..12).unwrap_or(now),
                    i.sha256.get(..12).unwrap_or(&i.sha256)
                );
            }
        }
    }
    let rows = decisions::institution_rows(&store.conn, institution)?;
    let flags: Vec<&Flag> = findings.iter().flat_map(|f| f.flags.iter()).collect();
    Ok((decisions::cited_rows(&rows, &flags), decisions::period(&rows)))
}

/// Records `d` as one ledger run (the decision row under it, covered by
/// its hash); returns the decision's id.
fn record(store: &mut Store, audit: &RunResult, d: &mut Decision) -> Result<i64> {
    let mut info = super::run_info("decide", audit.info.dataset.clone(), None);
    info.period = d.period.clone();
    let info = store.begin_run(info)?;
    let inputs = vec![super::run_input(store, audit.info.run_id)?];
    let id = match decisions::insert(&store.conn, info.run_id, d) {
        Ok(id) => id,
        Err(e) => {
            let _ = store.fail_run(&info);
            return Err(e.into());
        }
    };
    d.id = id;
    d.run_id = info.run_id;
    let result = RunResult::without_findings(info, inputs);
    store.finish_run_with_outputs(&result, &[])?;
    Ok(id)
}

/// The dismissal rates as a tab-separated table, with the reasons.
pub fn summary_text(all: &[Decision]) -> String {
    use std::fmt::Write;
    let mut s = String::from("check\tdecided\tdismissed\tdismissal_rate\n");
    for r in case::dismissal_rates(all) {
        let _ = writeln!(s, "{}\t{}\t{}\t{:.2}", r.check_id, r.decided, r.dismissed, r.rate());
    }
    let eff = case::effective(all);
    let dismissed: Vec<&&Decision> = eff.iter().filter(|d| d.action == Action::Dismiss).collect();
    if !dismissed.is_empty() {
        s.push_str("\ndismissed\treason\n");
        for d in dismissed {
            let _ = writeln!(s, "{} {}\t{}", d.institution_id, d.check_id, d.reason);
        }
    }
    s
}
