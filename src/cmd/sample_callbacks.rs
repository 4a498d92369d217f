//! `kaopei sample-callbacks DATASET --institution ID --n N [--seed S] [--out FILE]`:
//! draws a reproducible stratified random sample of an institution's
//! trainees to phone back (学员电话回访) and writes the call sheet.
//!
//! Strata are the institution's classes (proportional allocation); trainees
//! flagged by a `training.*` or `exam.*` check are drawn with the higher
//! weight of `[params.callback]`. Without `--seed` a seed is generated and
//! printed; the seed, parameters and the drawn trainees are recorded in the
//! store, so the same command with the same seed gives the same sheet. The
//! draw is also a run in the store's ledger (dataset files in, sheet out).
//! The sheet has the columns of the `callbacks` table first, so once the
//! calls are filled in it loads back as `callbacks.csv` (with `--unmasked`,
//! whose full ID numbers join the calls to the trainees).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::opts::ModelsOpt;
use crate::checks::{self, callback, idno, Ctx, Params, SubjectKind};
use crate::dataset::{self, Loaded};
use crate::model::Models;
use crate::output::AtomicFile;
use crate::report::mask::mask_id;
use crate::store::callbacks::{CallbackSample, CallbackSampleRow};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset folder (DATA.md); needs `classes` and `attendance`.
    pub dataset: PathBuf,
    /// The institution whose trainees to sample (institution_id).
    #[arg(long)]
    pub institution: String,
    /// How many trainees to draw (all of them when fewer).
    #[arg(long)]
    pub n: usize,
    /// Random seed; without it one is generated, printed and stored.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Call sheet CSV to write (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The store recording the sample (created if missing).
    #[arg(long, default_value = "kaopei.db")]
    pub db: PathBuf,
    #[command(flatten)]
    pub models: ModelsOpt,
    /// Write full ID numbers on the call sheet (recorded in the store).
    #[arg(long)]
    pub unmasked: bool,
}

pub fn run(a: Args) -> Result<i32> {
    let models = Models::load(a.models.dir())?;
    let params = Params::from_scorecard(&models.scorecard).map_err(anyhow::Error::msg)?;
    let loaded = dataset::read_dataset(&a.dataset, &models.operations)?;
    let t = &loaded.tables;
    let inst = t
        .inst_index(&a.institution)
        .with_context(|| format!("institution `{}` is not in `{}`", a.institution, a.dataset.display()))?;
    if t.classes.is_none() || t.attendance.is_none() {
        anyhow::bail!("sampling needs the `classes` and `attendance` tables, which `{}` lacks", a.dataset.display());
    }

    let footage = crate::video::Footage::default();
    let ctx = Ctx { t, ops: &models.operations, card: &models.scorecard, params: &params, footage: &footage };
    let flagged = flagged_people(&ctx);
    let cands = callback::candidates(t, &models.operations, inst, &flagged);
    if cands.is_empty() {
        anyhow::bail!("institution `{}` has no trainees in the attendance log", a.institution);
    }
    let seed = a.seed.unwrap_or_else(fresh_seed);
    let drawn = callback::draw_sample(&cands, a.n, seed, &params.callback);
    let phones = phones(&loaded);

    let mut lines: Vec<[String; 12]> = Vec::with_capacity(drawn.len());
    let mut rows = Vec::with_capacity(drawn.len());
    for (k, &i) in drawn.iter().enumerate() {
        let c = &cands[i];
        let pid = if a.unmasked { c.person.clone() } else { mask_id(&c.person) };
        let phone = phones.get(&c.line).cloned().unwrap_or_default();
        let name = c.name.clone().unwrap_or_default();
        let (seq, hours) = ((k + 1).to_string(), format!("{:.1}", c.hours));
        // The columns of `callbacks` first (the caller fills in called_at,
        // reached, attended, hours_reported, note), then the sheet's own.
        lines.push([
            pid,
            a.institution.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            seq,
            c.class_id.clone(),
            name.clone(),
            phone,
            hours,
        ]);
        rows.push(CallbackSampleRow {
            seq: k as u32 + 1,
            person_id: c.person.clone(),
            name,
            class_id: c.class_id.clone(),
            recorded_hours: c.hours,
            flagged: c.flagged,
        });
    }
    let mut store = Store::open(&a.db).with_context(|| format!("cannot open store `{}`", a.db.display()))?;
    let info = crate::cmd::run_info("sample-callbacks", a.dataset.display().to_string(), Some(&models));
    crate::cmd::recorded(&mut store, info, crate::pipeline::input_manifest(&loaded), |_| match &a.out {
        Some(p) => {
            let mut f = AtomicFile::create(p).with_context(|| format!("cannot create `{}`", p.display()))?;
            write_sheet(&mut f, &lines)?;
            f.commit().with_context(|| format!("cannot write `{}`", p.display()))?;
            Ok(((), vec![p.clone()]))
        }
        None => write_sheet(&mut std::io::stdout(), &lines).map(|()| ((), Vec::new())),
    })?;

    let p = &params.callback;
    let sample = CallbackSample {
        sample_id: 0,
        created_at: crate::dataset::time::now_local(),
        dataset: a.dataset.display().to_string(),
        institution_id: a.institution.clone(),
        seed,
        n_requested: a.n as u64,
        population: cands.len() as u64,
        params_json: serde_json::json!({
            "base_weight": p.base_weight,
            "flagged_weight": p.flagged_weight,
            "strata": "class",
            "allocation": "proportional, largest remainder",
            "rng": "ChaCha8",
            "scorecard_sha256": models.scorecard_sha256,
            "unmasked": a.unmasked,
            "version": crate::VERSION,
        })
        .to_string(),
        rows,
    };
    let id = store.record_callback_sample(&sample)?;
    let strata: HashSet<&str> = cands.iter().map(|c| c.class_id.as_str()).collect();
    eprintln!(
        "kaopei: drew {} of {} trainees of `{}` across {} classes ({} flagged by training/exam checks, {} of them drawn)",
        drawn.len(),
        cands.len(),
        a.institution,
        strata.len(),
        cands.iter().filter(|c| c.flagged).count(),
        drawn.iter().filter(|&&i| cands[i].flagged).count()
    );
    eprintln!("kaopei: seed {seed} (sample {id} in `{}`; `--seed {seed}` draws the same sample)", a.db.display());
    eprintln!(
        "kaopei: fill in called_at, reached (and attended, hours_reported, note), then put the sheet in the dataset \
         as callbacks.csv{}",
        if a.unmasked {
            ""
        } else {
            "; the ID numbers are masked: draw with --unmasked for a sheet that joins back to the trainees"
        }
    );
    Ok(0)
}

/// The call sheet's header: the columns of the `callbacks` table (DATA.md),
/// so the filled-in sheet loads back as `callbacks.csv`, then the sheet's
/// own columns (kept as extra fields when loaded).
pub const SHEET_HEADER: [&str; 12] = [
    "person_id",
    "institution_id",
    "called_at",
    "reached",
    "attended",
    "hours_reported",
    "note",
    "seq",
    "class_id",
    "name",
    "phone",
    "recorded_hours",
];

/// Writes the call sheet (UTF-8 with a BOM, for Excel/WPS).
fn write_sheet(out: &mut dyn Write, lines: &[[String; 12]]) -> Result<()> {
    let mut w = crate::report::csv_out::bom_writer(out)?;
    w.write_record(SHEET_HEADER)?;
    for l in lines {
        w.write_record(l)?;
    }
    w.flush()?;
    Ok(())
}

/// Canonical ids of people singled out by training and exam checks (any
/// institution): person flags, and the people behind flagged attendance
/// and exam records.
fn flagged_people(ctx: &Ctx) -> HashSet<String> {
    let t = ctx.t;
    let mut out = HashSet::new();
    let mut by_att: Option<HashMap<&str, &str>> = None;
    let mut by_rec: Option<HashMap<&str, &str>> = None;
    for f in [checks::training::run(ctx), checks::exam::run(ctx), checks::responses::run(ctx)].into_iter().flatten() {
        for fl in &f.flags {
            let person = match fl.kind {
                SubjectKind::Person => Some(fl.subject_id.as_str()),
                SubjectKind::Attendance => by_att
                    .get_or_insert_with(|| t.attendance.iter().flatten().map(|a| (t.s(a.id), t.s(a.person))).collect())
                    .get(fl.subject_id.as_str())
                    .copied(),
                SubjectKind::ExamRecord => by_rec
                    .get_or_insert_with(|| {
                        t.exam_records.iter().flatten().map(|r| (t.s(r.id), t.s(r.person))).collect()
                    })
                    .get(fl.subject_id.as_str())
                    .copied(),
                _ => None,
            };
            if let Some(p) = person {
                out.insert(idno::normalise(p).into_owned());
            }
        }
    }
    out
}

/// Phone numbers of attendance rows, from an extra column `phone` / `电话`
/// (or 手机 / 联系电话), keyed by input line.
fn phones(loaded: &Loaded) -> HashMap<u32, String> {
    let mut out = HashMap::new();
    for e in loaded.extras.iter().filter(|e| e.table == "attendance") {
        let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(&e.json) else { continue };
        for (k, v) in m {
            let key = crate::model::operations::to_half_width(&k).trim().to_lowercase();
            if matches!(key.as_str(), "phone" | "电话" | "手机" | "手机号" | "手机号码" | "联系电话") {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                if !text.trim().is_empty() {
                    out.insert(e.line, text.trim().to_string());
                    break;
                }
            }
        }
    }
    out
}

/// A seed from the clock and the process id (printed and stored, so it
/// need not be secret, only different each time).
fn fresh_seed() -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    // SplitMix64 finaliser to spread nearby clock values.
    let mut z = nanos ^ (u64::from(std::process::id()) << 32);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
