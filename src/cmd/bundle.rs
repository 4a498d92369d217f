//! `kaopei bundle --db FILE --institution ID [--run N] [--dataset DIR]
//! --out FILE.zip`: the police hand-over bundle (移送材料) of one
//! institution, one ZIP:
//!
//! - `report/` the institution's evidence report (HTML, and PDF unless `--no-pdf`);
//! - `evidence/records_<table>.csv` every record behind its findings, whole
//!   (each flagged record with all its columns, exported from the store),
//!   with the checks that cite it; `evidence/flags.csv` every flag;
//!   `evidence/findings.json` the findings as stored; `evidence/tables/`
//!   each evidence table as the report shows it (cut tables say so);
//! - `frames/` the cited frames, `clips/` the cited clips (with `--dataset`);
//! - `decisions.json` the inspector's decisions;
//! - `manifest.json` every file's size and SHA-256, the run's chain hash
//!   and the ledger head; `README.txt` how to verify it, in Chinese.
//!
//! `kaopei verify --bundle FILE` ([`verify`]) checks a bundle without the
//! store: every file against the manifest, nothing missing or added.
//! (Signing is out of scope: compare the ledger head with the notice or the
//! store to know the manifest itself is the one made.)

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::cmd::{open_store, print_pdfs};
use crate::model::Models;
use crate::report::{html, HtmlOptions};
use crate::store::decisions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store holding the run.
    #[arg(long)]
    pub db: PathBuf,
    /// The institution the bundle is about.
    #[arg(long)]
    pub institution: String,
    /// The audit run (default: the latest score/audit run).
    #[arg(long)]
    pub run: Option<i64>,
    /// The dataset folder, to include the cited CCTV clips.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// The ZIP to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Leave out the PDF of the report (when Chromium is not installed).
    #[arg(long)]
    pub no_pdf: bool,
    /// Show full ID and phone numbers in the report (for the police).
    #[arg(long)]
    pub unmasked: bool,
}

/// One file of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub kaopei_version: String,
    pub institution_id: String,
    pub run_id: i64,
    /// The audit run's chain hash in the ledger.
    pub run_hash: String,
    /// The ledger's head when the bundle was made.
    pub ledger_head: String,
    pub created_at: String,
    /// Where the records come from: `store` (the run's data) or `decisions`
    /// (the records as they stood when each finding was confirmed).
    pub records_from: String,
    pub files: Vec<ManifestFile>,
}

const README: &str = "本压缩包是 kaopei 生成的移送材料（证据包）。

内容
- report/        该机构的核查报告（HTML，及 PDF）。
- evidence/      证据：records_<表名>.csv 为每条被认定问题所依据的原始记录（完整导出，含全部字段及引用该记录的检查项）；
                 flags.csv 为全部被标记的记录；findings.json 为存储中的核查结论原文；
                 tables/ 为报告中的证据表（报告只列前若干行时，表末注明总行数，完整记录见 records_*.csv）。
- frames/        所引用的监控画面截图；clips/ 为所引用的监控录像（如有）。
- decisions.json 检查人员的认定、整改、处罚、移送决定（含决定人、时间）。
- manifest.json  清单：每个文件的大小和 SHA-256，核查运行的哈希（run_hash）及账本头哈希（ledger_head）。

如何核验
1. 用 kaopei 核验：kaopei verify --bundle 本文件.zip
   结果为 0 表示所有文件与清单一致；任何文件被改动、缺失或增加都会逐一列出，结果为 1。
2. 不用 kaopei：解压后对每个文件计算 SHA-256（如 Linux 下 sha256sum，Windows 下 certutil -hashfile 文件名 SHA256），
   与 manifest.json 中的 sha256 逐一比对。
3. 清单本身：将 manifest.json 中的 ledger_head 与整改通知书所印的账本头哈希、或与检查机关存储（kaopei verify --db）中的账本比对，
   一致则说明本证据包出自该账本。（本证据包未做数字签名。）
";

fn zip_opts() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
}

fn csv_bytes(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

fn safe(s: &str) -> String {
    s.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

pub fn run(a: Args) -> Result<i32> {
    let mut store = open_store(&a.db)?;
    let run_id = match a.run {
        Some(r) => r,
        None => crate::store::runs::latest(&store.conn)?,
    };
    let run = store.load_run(run_id)?;
    if !run.scores.iter().any(|s| s.institution_id == a.institution) {
        bail!("institution `{}` is not in run {run_id}", a.institution);
    }
    let models = Models::load(None)?;
    let findings: Vec<&crate::checks::Finding> =
        run.findings.iter().filter(|f| f.institution_id == a.institution).collect();
    let all_decisions = decisions::list(&store.conn, Some(&a.institution))?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();

    // The records behind the findings: from the store when it holds the
    // run's data, else as they stood when each finding was confirmed.
    let current = decisions::current_inputs(&store.conn)?;
    let holds_run = run.inputs.iter().all(|i| current.get(&i.table).is_none_or(|s| *s == i.sha256));
    let mut cited_by: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let rows: Vec<crate::case::CitedRow> = if holds_run {
        let inst_rows = decisions::institution_rows(&store.conn, &a.institution)?;
        let mut out = Vec::new();
        for f in &findings {
            let flags: Vec<&crate::checks::Flag> = f.flags.iter().collect();
            for r in decisions::cited_rows(&inst_rows, &flags) {
                cited_by.entry((r.table.clone(), r.key.clone())).or_default().insert(f.check.clone());
                out.push(r);
            }
        }
        out
    } else {
        let mut out = Vec::new();
        for d in all_decisions.iter().filter(|d| d.audit_run == run_id) {
            for r in &d.cited {
                cited_by.entry((r.table.clone(), r.key.clone())).or_default().insert(d.check_id.clone());
                out.push(r.clone());
            }
        }
        out
    };
    let mut by_table: BTreeMap<String, BTreeMap<String, crate::case::CitedRow>> = BTreeMap::new();
    for r in rows {
        by_table.entry(r.table.clone()).or_default().insert(r.key.clone(), r);
    }
    for (table, rows) in &by_table {
        let mut cols: BTreeSet<String> = BTreeSet::new();
        for r in rows.values() {
            cols.extend(r.fields.keys().cloned());
        }
        let mut header =
            vec!["文件".to_string(), "原行号".to_string(), "记录编号".to_string(), "引用的检查项".to_string()];
        header.extend(cols.iter().cloned());
        let mut lines: Vec<&crate::case::CitedRow> = rows.values().collect();
        lines.sort_by_key(|r| r.line);
        let body: Vec<Vec<String>> = lines
            .iter()
            .map(|r| {
                let checks = cited_by
                    .get(&(r.table.clone(), r.key.clone()))
                    .map(|s| s.iter().cloned().collect::<Vec<_>>().join(" "));
                let mut v = vec![format!("{table}.csv"), r.line.to_string(), r.key.clone(), checks.unwrap_or_default()];
                v.extend(cols.iter().map(|c| match r.fields.get(c) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(x) => x.to_string(),
                }));
                v
            })
            .collect();
        files.insert(format!("evidence/records_{table}.csv"), csv_bytes(&header, &body)?);
    }
    let flag_rows: Vec<Vec<String>> = findings
        .iter()
        .flat_map(|f| {
            f.flags.iter().map(move |g| {
                vec![f.check.clone(), g.kind.as_str().to_string(), g.subject_id.clone(), format!("{:.4}", g.strength)]
            })
        })
        .collect();
    files.insert(
        "evidence/flags.csv".into(),
        csv_bytes(&["检查项".into(), "记录类型".into(), "记录编号".into(), "强度".into()], &flag_rows)?,
    );
    files.insert("evidence/findings.json".into(), serde_json::to_vec_pretty(&findings)?);
    for (i, f) in findings.iter().enumerate() {
        for (k, t) in f.evidence.iter().enumerate() {
            let header: Vec<String> = t.columns.iter().map(|c| c.0.clone()).collect();
            let mut rows = t.rows.clone();
            if t.rows.len() < t.total_rows {
                let mut note = vec![format!(
                    "（共 {} 行，此表列出前 {} 行；完整记录见 evidence/records_*.csv 与 flags.csv）",
                    t.total_rows,
                    t.rows.len()
                )];
                note.resize(header.len().max(1), String::new());
                rows.push(note);
            }
            files
                .insert(format!("evidence/tables/{:02}_{}_{k}.csv", i + 1, safe(&f.check)), csv_bytes(&header, &rows)?);
        }
        for fr in &f.frames {
            if let Some(png) = &fr.thumbnail_png {
                files.insert(format!("frames/{}_{:08.1}.png", safe(&fr.video_id), fr.video_time), png.clone());
            }
        }
    }
    if let Some(ds) = &a.dataset {
        let videos: BTreeSet<&str> = findings
            .iter()
            .flat_map(|f| {
                f.frames.iter().map(|x| x.video_id.as_str()).chain(
                    f.flags
                        .iter()
                        .filter(|g| g.kind == crate::checks::SubjectKind::Video)
                        .map(|g| g.subject_id.as_str()),
                )
            })
            .collect();
        for r in by_table.get("cctv").map(|m| m.values().collect::<Vec<_>>()).unwrap_or_default() {
            let id = r.fields.get("video_id").and_then(|v| v.as_str()).unwrap_or("");
            let file = r.fields.get("file").and_then(|v| v.as_str()).unwrap_or("");
            if videos.contains(id) && !file.is_empty() {
                let p = ds.join(file);
                match std::fs::read(&p) {
                    Ok(bytes) => {
                        let name =
                            Path::new(file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        files.insert(format!("clips/{}", safe(&name)), bytes);
                    }
                    Err(e) => eprintln!("kaopei: warning: clip `{}` not included: {e}", p.display()),
                }
            }
        }
    }
    files.insert("decisions.json".into(), serde_json::to_vec_pretty(&all_decisions)?);
    files.insert("README.txt".into(), README.as_bytes().to_vec());

    // The report, rendered into a scratch folder beside the ZIP.
    let scratch = a.out.with_extension("report.tmp");
    let _ = std::fs::remove_dir_all(&scratch);
    let opts = HtmlOptions { unmasked: a.unmasked, ..Default::default() };
    let pages = html::write_reports(&scratch, &run, &models.scorecard, &opts, Some(&a.institution))?;
    for p in &pages {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        files.insert(format!("report/{name}"), std::fs::read(p)?);
    }
    if !a.no_pdf {
        let pdfs = print_pdfs(&pages).context("cannot print the report (use --no-pdf without Chromium)")?;
        for p in &pdfs {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.insert(format!("report/{name}"), std::fs::read(p)?);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);

    let head = super::notice::ledger_head(&store)?;
    let manifest = Manifest {
        kaopei_version: crate::VERSION.to_string(),
        institution_id: a.institution.clone(),
        run_id,
        run_hash: store.run_hash(run_id)?.unwrap_or_default(),
        ledger_head: head,
        created_at: crate::dataset::time::now_local(),
        records_from: if holds_run { "store".into() } else { "decisions".into() },
        files: files
            .iter()
            .map(|(p, b)| ManifestFile { path: p.clone(), size: b.len() as u64, sha256: crate::output::sha256_hex(b) })
            .collect(),
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("manifest.json", zip_opts())?;
        z.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
        for (p, b) in &files {
            z.start_file(p.as_str(), zip_opts())?;
            z.write_all(b)?;
        }
        z.finish()?;
    }
    let info = super::run_info("bundle", run.info.dataset.clone(), Some(&models));
    let inputs = vec![super::run_input(&store, run_id)?];
    let out = a.out.clone();
    let bytes = buf.into_inner();
    super::recorded(&mut store, info, inputs, |_| {
        if let Some(d) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)?;
        }
        crate::output::write_atomic(&out, &bytes).with_context(|| format!("cannot write `{}`", out.display()))?;
        Ok(((), vec![out.clone()]))
    })?;
    println!("bundle: {} ({} files, ledger head {})", a.out.display(), manifest.files.len() + 1, manifest.ledger_head);
    Ok(0)
}

/// Checks a bundle against its manifest: prints each problem; 0 intact, 1 changed.
pub fn verify(path: &Path) -> Result<i32> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open bundle `{}`", path.display()))?;
    let mut z = zip::ZipArchive::new(f).with_context(|| format!("`{}` is not a ZIP bundle", path.display()))?;
    let manifest: Manifest = {
        let mut m = z.by_name("manifest.json").context("the bundle has no manifest.json")?;
        let mut s = String::new();
        m.read_to_string(&mut s)?;
        serde_json::from_str(&s).context("manifest.json is not a kaopei bundle manifest")?
    };
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i)?;
        let name = e.name().to_string();
        if name == "manifest.json" || e.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        if let Err(err) = e.read_to_end(&mut bytes) {
            problems.push(format!("`{name}` cannot be read: {err}"));
            continue;
        }
        seen.insert(name.clone());
        match manifest.files.iter().find(|m| m.path == name) {
            None => problems.push(format!("`{name}` is not in the manifest: added")),
            Some(m) => {
                let sha = crate::output::sha256_hex(&bytes);
                if sha != m.sha256 || bytes.len() as u64 != m.size {
                    problems.push(format!(
                        "`{name}` changed: manifest {} bytes sha256 {}…, now {} bytes sha256 {}…",
                        m.size,
                        m.sha256.get(..12).unwrap_or(&m.sha256),
                        bytes.len(),
                        sha.get(..12).unwrap_or(&sha)
                    ));
                }
            }
        }
    }
    for m in &manifest.files {
        if !seen.contains(&m.path) {
            problems.push(format!("`{}` is missing", m.path));
        }
    }
    for p in &problems {
        println!("{p}");
    }
    println!(
        "bundle {}: institution {} run {} (run hash {}), ledger head {}: {} files, {}",
        path.display(),
        manifest.institution_id,
        manifest.run_id,
        manifest.run_hash,
        manifest.ledger_head,
        manifest.files.len(),
        if problems.is_empty() { "intact".to_string() } else { format!("{} problem(s)", problems.len()) }
    );
    Ok(if problems.is_empty() { 0 } else { 1 })
}
