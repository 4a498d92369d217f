//! `kaopei score DATASET --out DIR` (every institution) and
//! `kaopei audit DATASET --institution ID --out DIR` (one).

use std::path::PathBuf;

use anyhow::Result;

use super::opts::{ModelsOpt, ViewOpt};
use crate::model::Tier;
use crate::pipeline::{self, Options, Scope};

#[derive(Debug, clap::Args)]
pub struct Common {
    /// Dataset folder (DATA.md).
    pub dataset: PathBuf,
    /// Output folder for scores.csv, findings.csv, flags.csv, kaopei.db and reports.
    #[arg(long)]
    pub out: PathBuf,
    /// Store to use instead of OUT/kaopei.db (e.g. one store across months).
    #[arg(long)]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub models: ModelsOpt,
    #[command(flatten)]
    pub view: ViewOpt,
    /// Skip the HTML reports (CSV outputs and store only).
    #[arg(long)]
    pub no_html: bool,
    /// CSV of suspect items (`item_id`, optional `operation`), e.g. items
    /// seen in a leaked bank: examinees are tested for preknowledge of
    /// these instead of a set estimated from the data.
    #[arg(long, value_name = "FILE")]
    pub suspect_items: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Exit 0 even when red-tier institutions were found (batch schedulers
    /// such as Kubernetes or Slurm mark a job failed on a non-zero exit);
    /// errors still exit 2.
    #[arg(long)]
    pub exit_zero_on_red: bool,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Process only shard K of N (`--shard 2/8`), by a stable hash of
    /// institution_id; combine shard outputs with `kaopei merge`.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub common: Common,
    /// The institution to audit (institution_id).
    #[arg(long)]
    pub institution: String,
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 2/8")?;
    let k: u32 = k.trim().parse().map_err(|_| "K is not a number")?;
    let n: u32 = n.trim().parse().map_err(|_| "N is not a number")?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard `{s}` must satisfy 1 <= K <= N"));
    }
    Ok((k, n))
}

pub fn run(a: Args) -> Result<i32> {
    let scope = match a.shard {
        Some((k, n)) => Scope::Shard { k, n },
        None => Scope::All,
    };
    execute("score", a.common, scope)
}

pub fn run_audit(a: AuditArgs) -> Result<i32> {
    let scope = Scope::One(a.institution.clone());
    execute("audit", a.common, scope)
}

fn execute(command: &str, c: Common, scope: Scope) -> Result<i32> {
    if let Some(n) = c.jobs {
        // Ignore the error of a pool already built (library use in tests).
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global().ok();
    }
    let opts = Options {
        dataset: c.dataset,
        out: c.out,
        db: c.db,
        models: c.models.dir,
        scope,
        html: !c.no_html,
        lang: c.view.lang,
        unmasked: c.view.unmasked,
        suspect_items: c.suspect_items,
        command: command.to_string(),
        args: std::env::args().skip(1).collect(),
    };
    let exit_zero_on_red = c.exit_zero_on_red;
    let o = pipeline::run(&opts)?;
    for n in &o.reader_notes {
        eprintln!("kaopei: {n}");
    }
    let r = &o.result;
    let count = |tier: Tier| r.scores.iter().filter(|s| s.tier == tier).count();
    eprintln!(
        "kaopei: {} rows read, {} rejected; {} institutions: {} red, {} orange, {} yellow, {} green, {} not audited; {} findings",
        o.rows_read,
        o.rows_rejected,
        r.scores.len(),
        count(Tier::Red),
        count(Tier::Orange),
        count(Tier::Yellow),
        count(Tier::Green),
        count(Tier::NotAudited),
        r.findings.len()
    );
    eprintln!(
        "kaopei: read {:.2}s, video {:.2}s, checks {:.2}s (store write alongside: {:.2}s), outputs {:.2}s",
        o.timings.read, o.timings.video, o.timings.checks, o.timings.store, o.timings.outputs
    );
    let db = opts.db.clone().unwrap_or_else(|| opts.out.join("kaopei.db"));
    eprintln!(
        "kaopei: run {} in `{}` (`kaopei runs --db {}` lists the runs)",
        r.info.run_id,
        db.display(),
        db.display()
    );
    outln!("{}", opts.out.join("scores.csv").display());
    if let Some(index) = &o.index {
        outln!("report: {}", index.display());
    }
    Ok(if count(Tier::Red) > 0 && !exit_zero_on_red { 1 } else { 0 })
}
