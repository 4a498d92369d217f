//! `kaopei synth --out DIR --institutions N --seed S`: generate a synthetic
//! dataset with planted falsification patterns, `truth.csv` and
//! `truth_subjects.csv`. The same arguments give byte-identical files.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::opts::ModelsOpt;
use crate::model::Models;
use crate::synth::{self, Intensity, Scale, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder (created; existing table files are overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of institutions (default: 24 for `demo`, 500 for `province`).
    #[arg(long)]
    pub institutions: Option<usize>,
    /// Random seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// `demo`: small classes with CCTV clips (a few MB);
    /// `province`: ~500 institutions, millions of rows (~1 GB of CSV), no video.
    #[arg(long, value_enum, default_value_t = Scale::Demo)]
    pub scale: Scale,
    /// Skip CCTV (no `cctv` table, no clips); implied by `--scale province`.
    #[arg(long)]
    pub no_video: bool,
    /// `csv`: every table as UTF-8 CSV with English headers; `mixed`:
    /// callbacks as GBK CSV with Chinese headers, certificates as XLSX.
    #[arg(long, default_value = "csv", value_parser = ["csv", "mixed"])]
    pub formats: String,
    #[command(flatten)]
    pub models: ModelsOpt,
    /// Continue this dataset (made with the same --seed and --institutions)
    /// into the next months: its files unchanged, then a new period's rows.
    #[arg(long)]
    pub continue_from: Option<PathBuf>,
    /// Which continuation this is (1, 2, …: new record ids end in `-F<k>`).
    #[arg(long, default_value_t = 1)]
    pub continuation: u32,
    /// Institutions that rectified: their new period has no planted
    /// patterns (comma-separated ids, or `all`).
    #[arg(long, value_delimiter = ',')]
    pub rectified: Vec<String>,
    /// Share of a planted institution's units falsified: `mixed` (each
    /// pattern's own share), `high` ≈ 80 %, `medium` ≈ 35 %, `low` ≈ 10 %
    /// (applies to the exam and certificate patterns).
    #[arg(long, value_enum, default_value_t = Intensity::Mixed)]
    pub intensity: Intensity,
    /// Plant nothing: an all-honest world (false-positive figures).
    #[arg(long)]
    pub honest: bool,
    /// Switch off the honest variation of issue 15 (station-rotated and
    /// untimed practical exams, refresher holders' old certificates,
    /// feeder schools' fakes through honest centres).
    #[arg(long)]
    pub no_honest_profiles: bool,
}

pub fn run(a: Args) -> Result<i32> {
    let models = Models::load(a.models.dir())?;
    let cfg = synth::Config {
        out: a.out.clone(),
        institutions: a.institutions.unwrap_or(match a.scale {
            Scale::Demo => 24,
            Scale::Province => 500,
        }),
        seed: a.seed,
        scale: a.scale,
        video: !a.no_video && a.scale == Scale::Demo,
        mixed: a.formats == "mixed",
        frame_interval: 15.0,
        records_salt: 0,
        clean: a.rectified.clone(),
        settings: Settings { honest: a.honest, honest_profiles: !a.no_honest_profiles, intensity: a.intensity },
    };
    if let Some(earlier) = &a.continue_from {
        let days = synth::continuation::continue_dataset(earlier, &cfg, a.continuation.max(1), &models.operations)
            .with_context(|| format!("cannot continue `{}` into `{}`", earlier.display(), a.out.display()))?;
        eprintln!(
            "synth: continued {} into {} (new period moved by {days} days, ids end in -F{})",
            earlier.display(),
            a.out.display(),
            a.continuation.max(1)
        );
        return Ok(0);
    }
    let s = synth::generate(&cfg, &models.operations)
        .with_context(|| format!("cannot generate a dataset in `{}`", a.out.display()))?;
    eprintln!(
        "synth: {} institutions ({} planted), {} clips, {:.1} MB in {:.1} s -> {}",
        s.institutions,
        s.planted,
        s.videos,
        s.bytes as f64 / 1e6,
        s.seconds,
        a.out.display()
    );
    for (t, n) in &s.rows {
        eprintln!("  {t:<16} {n:>10} rows");
    }
    Ok(0)
}
