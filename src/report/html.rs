//! The HTML evidence reports: one self-contained page per institution
//! (`DIR/reports/<institution_id>.html`: header with the run's provenance and
//! input manifest, summary, one section per finding with its charts,
//! evidence tables and CCTV frames, the rectification checklist, sources not
//! audited) and the batch overview `DIR/index.html`.
//!
//! **Architecture invariant:** pages are rendered from a [`RunResult`] and
//! the scorecard only; nothing here computes a statistic. Every piece of
//! input-derived text goes through [`Page::txt`] / [`Page::cell`], i.e.
//! through the single escape function [`esc`] after ID and phone masking
//! (unless `unmasked`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;

use crate::checks::{ColKind, EvidenceTable, Finding, FrameRef, Source};
use crate::dataset::rows;
use crate::model::Scorecard;
use crate::report::i18n::{Lang, Text};
use crate::report::{mask, svg};
use crate::run::{InputFile, RunInfo, RunResult};
use crate::score::InstScore;

/// How pages are rendered.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    pub lang: Lang,
    /// Show full ID and phone numbers.
    pub unmasked: bool,
    /// Mask personal names too.
    pub mask_names: bool,
}

/// The one HTML escape function: text and attribute values alike.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no place in a report (and break XML/SVG).
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The file name of an institution's report: the id with anything outside
/// `[A-Za-z0-9_-]` replaced, plus a short hash of the id when something was
/// replaced, so two ids never share a file.
pub fn report_file_name(institution_id: &str) -> String {
    let clean: String = institution_id
        .chars()
        .take(80)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    if clean == institution_id && !clean.is_empty() {
        format!("{clean}.html")
    } else {
        let h = crate::output::sha256_hex(institution_id.as_bytes());
        format!("{clean}_{}.html", &h[..8])
    }
}

/// Writes every institution's report and the index; returns the index path.
pub fn write_all(out: &Path, result: &RunResult, card: &Scorecard, opts: &HtmlOptions) -> Result<PathBuf> {
    write_reports(out, result, card, opts, None)?;
    write_index(out, result, card, opts)
}

/// Writes the overview page `DIR/index.html`; returns its path.
pub fn write_index(out: &Path, result: &RunResult, card: &Scorecard, opts: &HtmlOptions) -> Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))?;
    let index = out.join("index.html");
    crate::output::write_atomic(&index, render_index(result, card, opts).as_bytes())
        .with_context(|| format!("cannot write `{}`", index.display()))?;
    Ok(index)
}

/// Writes the reports of every institution (or only `only`) under
/// `DIR/reports/`; returns their paths in institution order.
pub fn write_reports(
    out: &Path,
    result: &RunResult,
    card: &Scorecard,
    opts: &HtmlOptions,
    only: Option<&str>,
) -> Result<Vec<PathBuf>> {
    use rayon::prelude::*;
    let dir = out.join("reports");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let by_inst = findings_by_institution(&result.findings);
    let mut scores: Vec<&InstScore> =
        result.scores.iter().filter(|s| only.is_none_or(|id| id == s.institution_id)).collect();
    scores.sort_by(|a, b| a.institution_id.cmp(&b.institution_id));
    if let Some(id) = only {
        if scores.is_empty() {
            anyhow::bail!("institution `{id}` is not in run {}", result.info.run_id);
        }
    }
    scores
        .par_iter()
        .map(|s| {
            let fs = by_inst.get(s.institution_id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let path = dir.join(report_file_name(&s.institution_id));
            let bad: Vec<&crate::run::Unreadable> =
                result.unreadable.iter().filter(|u| u.institution_id == s.institution_id).collect();
            let page = render_institution(&result.info, &result.inputs, s, fs, &bad, card, opts);
            crate::output::write_atomic(&path, page.as_bytes())
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            Ok(path)
        })
        .collect()
}

pub(crate) fn findings_by_institution(findings: &[Finding]) -> HashMap<&str, Vec<&Finding>> {
    let mut m: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in findings {
        m.entry(f.institution_id.as_str()).or_default().push(f);
    }
    m
}

/// Rendering context: language, masking, and the helpers every page uses.
pub(crate) struct Page<'a> {
    pub t: &'static Text,
    pub lang: Lang,
    pub opts: &'a HtmlOptions,
    pub card: &'a Scorecard,
}

impl<'a> Page<'a> {
    pub fn new(opts: &'a HtmlOptions, card: &'a Scorecard) -> Page<'a> {
        Page { t: opts.lang.text(), lang: opts.lang, opts, card }
    }

    /// Input-derived free text: ID/phone numbers masked, then escaped.
    pub fn txt(&self, s: &str) -> String {
        if self.opts.unmasked {
            esc(s)
        } else {
            esc(&mask::redact_text(s))
        }
    }

    /// One evidence cell according to its column kind.
    pub fn cell(&self, s: &str, kind: ColKind) -> String {
        match kind {
            ColKind::PersonId | ColKind::Phone if !self.opts.unmasked => {
                // Mask each token of a cell such as `A|B`, whatever its shape.
                let mut out = String::new();
                let mut tok = String::new();
                let flush = |tok: &mut String, out: &mut String| {
                    if !tok.is_empty() {
                        out.push_str(&if kind == ColKind::Phone { mask::mask_phone(tok) } else { mask::mask_id(tok) });
                        tok.clear();
                    }
                };
                for c in s.chars() {
                    if c.is_alphanumeric() {
                        tok.push(c);
                    } else {
                        flush(&mut tok, &mut out);
                        out.push(c);
                    }
                }
                flush(&mut tok, &mut out);
                esc(&out)
            }
            ColKind::Name if self.opts.mask_names => esc(&mask::mask_name(s)),
            _ => self.txt(s),
        }
    }

    /// Title of a check from the scorecard, or its id when not listed.
    pub fn check_title(&self, check: &str) -> String {
        match self.card.check(check) {
            Some(c) => esc(self.lang.pick(&c.title_zh, &c.title_en)),
            None => format!("{} {}", esc(check), self.t.unknown_check),
        }
    }

    pub fn check_action(&self, check: &str) -> String {
        match self.card.check(check) {
            Some(c) => esc(self.lang.pick(&c.action_zh, &c.action_en)),
            None => self.t.none.to_string(),
        }
    }

    pub fn tier_badge(&self, tier: &str) -> String {
        format!(r#"<span class="tier {}">{}</span>"#, tier_class(tier), self.t.tier_name(tier))
    }

    pub fn head(&self, title: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"generator\" content=\"kaopei {}\"><link rel=\"icon\" href=\"data:,\"><title>{title}</title><style>{CSS}</style></head><body>",
            self.lang.html_code(),
            esc(crate::VERSION)
        )
    }

    pub fn privacy_note(&self) -> &'static str {
        if self.opts.unmasked {
            self.t.unmasked_note
        } else {
            self.t.masked_note
        }
    }

    /// The run's provenance as `<dt>`/`<dd>` pairs of a definition list.
    pub fn run_meta(&self, info: &RunInfo) -> String {
        let t = self.t;
        let period =
            info.period.as_ref().map(|(a, b)| format!("{} – {}", esc(a), esc(b))).unwrap_or_else(|| "—".into());
        let mut s = String::new();
        for (k, v) in [
            (t.audit_period, period),
            (t.run_id, info.run_id.to_string()),
            (t.run_started, esc(&info.started_at)),
            (t.version, esc(&info.version)),
            (t.dataset, self.txt(&info.dataset)),
            (t.scorecard_hash, format!("<code>{}</code>", esc(&info.scorecard_sha256))),
            (t.operations_hash, format!("<code>{}</code>", esc(&info.operations_sha256))),
        ] {
            let _ = write!(s, "<dt>{k}</dt><dd>{v}</dd>");
        }
        s
    }

    /// A `<dt>`/`<dd>` line summing up the inputs, linking to the manifest.
    pub fn inputs_line(&self, inputs: &[InputFile]) -> String {
        let t = self.t;
        let loaded: u64 = inputs.iter().map(|f| f.rows_loaded).sum();
        let rejected: u64 = inputs.iter().map(|f| f.rows_rejected).sum();
        format!(
            r##"<dt>{}</dt><dd><a href="#inputs">{} {}</a> · {} {loaded} · {} {rejected}</dd>"##,
            t.inputs,
            inputs.len(),
            t.files_unit,
            t.rows_loaded,
            t.rows_rejected
        )
    }

    /// The input manifest table.
    pub fn manifest(&self, inputs: &[InputFile]) -> String {
        let t = self.t;
        let mut s = format!(
            r#"<table class="manifest"><thead><tr><th>{}</th><th>{}</th><th class="num">{}</th><th>{}</th><th class="num">{}</th><th class="num">{}</th><th class="num">{}</th></tr></thead><tbody>"#,
            t.input_table, t.input_path, t.input_size, t.sha256, t.rows_read, t.rows_loaded, t.rows_rejected
        );
        for f in inputs {
            let rej = if f.rows_rejected > 0 { r#" class="num warn""# } else { r#" class="num""# };
            let _ = write!(
                s,
                r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td><td><code class="hash">{}</code></td><td class="num">{}</td><td class="num">{}</td><td{rej}>{}</td></tr>"#,
                esc(&f.table),
                self.txt(&f.path),
                f.size,
                esc(&f.sha256),
                f.rows_read,
                f.rows_loaded,
                f.rows_rejected
            );
        }
        if inputs.is_empty() {
            let _ = write!(s, r#"<tr><td colspan="7">{}</td></tr>"#, t.none);
        }
        s.push_str("</tbody></table>");
        s
    }

    /// One finding: heading, numbers, summary, method, charts, evidence, frames.
    /// `anchor` is the element id, `number` the section number shown.
    pub fn finding_section(&self, f: &Finding, number: &str, anchor: &str, extra_class: &str) -> String {
        let t = self.t;
        let c = t.colon;
        let sev_class = severity_class(f.severity);
        let mut s = format!(
            r#"<section class="finding {sev_class} {extra_class}" id="{}"><h3><span class="fnum">{}</span> {} <span class="cid">{}</span></h3>"#,
            esc(anchor),
            esc(number),
            self.check_title(&f.check),
            esc(&f.check)
        );
        let stat = f.statistic.map(svg::num).unwrap_or_else(|| "—".into());
        let p = f.p_value.map(fmt_p).unwrap_or_else(|| "—".into());
        let _ = write!(
            s,
            r#"<div class="stats"><span><b>{}</b> <span class="sev {sev_class}">{:.2}</span></span><span><b>{}</b> {}</span><span><b>{}</b> {}</span></div>"#,
            t.severity, f.severity, t.statistic, stat, t.p_value, p
        );
        let _ = write!(
            s,
            r#"<p class="found"><b>{}{c}</b>{}</p>"#,
            t.what_found,
            self.txt(self.lang.pick(&f.summary_zh, &f.summary_en))
        );
        let method = self.lang.pick(&f.method_zh, &f.method_en);
        if !method.is_empty() {
            let _ = write!(s, r#"<p class="method"><b>{}{c}</b>{}</p>"#, t.compared_against, self.txt(method));
        }
        if !f.charts.is_empty() {
            s.push_str(r#"<div class="charts">"#);
            let label = |x: &str| self.txt(x);
            for c in &f.charts {
                let _ = write!(s, r#"<figure class="chart">{}</figure>"#, svg::chart(c, t, &label));
            }
            s.push_str("</div>");
        }
        for e in &f.evidence {
            s.push_str(&self.evidence_table(e));
        }
        if !f.frames.is_empty() {
            s.push_str(&self.frames(&f.frames));
        }
        s.push_str("</section>");
        s
    }

    fn evidence_table(&self, e: &EvidenceTable) -> String {
        let t = self.t;
        let c = t.colon;
        let mut s = format!(
            r#"<div class="evidence"><h4>{}{c}{}</h4><p class="src">{}{c}<code>{}</code> · {} {} {} {}</p><div class="scroll"><table class="ev"><thead><tr>"#,
            t.evidence,
            self.txt(self.lang.pick(&e.title_zh, &e.title_en)),
            t.source,
            self.txt(&e.source),
            t.rows_shown,
            e.rows.len(),
            t.of_total,
            e.total_rows.max(e.rows.len())
        );
        for (name, kind) in &e.columns {
            let cls = if matches!(kind, ColKind::Number) { r#" class="num""# } else { "" };
            let _ = write!(s, "<th{cls}>{}</th>", self.txt(name));
        }
        s.push_str("</tr></thead><tbody>");
        for row in &e.rows {
            s.push_str("<tr>");
            for (i, v) in row.iter().enumerate() {
                let kind = e.columns.get(i).map_or(ColKind::Text, |c| c.1);
                let cls = match kind {
                    ColKind::Number => r#" class="num""#,
                    ColKind::PersonId | ColKind::Phone | ColKind::Time => r#" class="mono""#,
                    _ => "",
                };
                let _ = write!(s, "<td{cls}>{}</td>", self.cell(v, kind));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div></div>");
        s
    }

    fn frames(&self, frames: &[FrameRef]) -> String {
        let t = self.t;
        let mut s = format!(r#"<div class="frames-block"><h4>{}</h4><div class="frames">"#, t.frames);
        for fr in frames {
            let img = match fr.thumbnail_png.as_deref().and_then(image_mime) {
                Some((mime, bytes)) => format!(
                    r#"<img src="data:{mime};base64,{}" alt="{}">"#,
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                    self.txt(&fr.caption)
                ),
                None => format!(r#"<div class="noimg">{}</div>"#, t.no_thumbnail),
            };
            let _ = write!(
                s,
                r#"<figure class="frame">{img}<figcaption><b>{}</b><br>{}: {}<br>{}: {}<br>{}</figcaption></figure>"#,
                self.txt(&fr.video_id),
                t.wall_time,
                self.txt(&fr.wall_time),
                t.video_time,
                svg::num(fr.video_time),
                self.txt(&fr.caption)
            );
        }
        s.push_str("</div></div>");
        s
    }
}

/// The MIME type of an embedded thumbnail, from its magic bytes; anything
/// else is not embedded (a broken image is worse than a note).
fn image_mime(b: &[u8]) -> Option<(&'static str, &[u8])> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", b))
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", b))
    } else {
        None
    }
}

pub(crate) fn tier_class(tier: &str) -> &'static str {
    match tier {
        "red" => "t-red",
        "orange" => "t-orange",
        "yellow" => "t-yellow",
        "green" => "t-green",
        _ => "t-na",
    }
}

/// Severity bands of HELPERS.md: < 0.2 weak, 0.2–0.5 moderate, > 0.5 strong.
pub(crate) fn severity_class(s: f64) -> &'static str {
    if s > 0.5 {
        "s-strong"
    } else if s >= 0.2 {
        "s-moderate"
    } else {
        "s-weak"
    }
}

fn severity_colour(s: f64) -> &'static str {
    match severity_class(s) {
        "s-strong" => svg::RED,
        "s-moderate" => "#e67e22",
        _ => "#95a5a6",
    }
}

pub(crate) fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        "—".into()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// The run date plus `days`, as `YYYY-MM-DD`; `None` when the run's start
/// time is not a date.
pub(crate) fn deadline(started_at: &str, days: u32) -> Option<String> {
    let d = started_at.get(..10)?;
    let mut it = d.split('-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let dd: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
        return None;
    }
    Some(rows::fmt_day(rows::days_from_civil(y, m, dd) + days as i32))
}

/// Findings in report order: largest weighted severity first, then by check.
pub(crate) fn ordered<'f>(card: &Scorecard, findings: &[&'f Finding]) -> Vec<&'f Finding> {
    let w = |f: &Finding| card.check(&f.check).map_or(0.0, |c| c.weight) * f.severity;
    let mut v = findings.to_vec();
    v.sort_by(|a, b| w(b).total_cmp(&w(a)).then_with(|| a.check.cmp(&b.check)));
    v
}

/// The report of one institution.
pub fn render_institution(
    info: &RunInfo,
    inputs: &[InputFile],
    score: &InstScore,
    findings: &[&Finding],
    unreadable: &[&crate::run::Unreadable],
    card: &Scorecard,
    opts: &HtmlOptions,
) -> String {
    let p = Page::new(opts, card);
    let t = p.t;
    let c = t.colon;
    let name = p.txt(&score.name);
    let mut s = p.head(&format!("{} · {}", name, t.report_title));
    s.push_str(r#"<main class="report">"#);
    let _ = write!(
        s,
        r#"<nav class="top"><a href="../index.html">← {}</a></nav><header class="doc {}"><p class="kicker">{}</p><h1>{}</h1><dl class="meta"><dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>{}{}</dl></header>"#,
        t.back_to_index,
        tier_class(&score.tier),
        t.report_title,
        name,
        t.institution_id,
        p.txt(&score.institution_id),
        t.region,
        p.txt(&score.region),
        t.kind,
        esc(t.kind_name(&score.kind)),
        p.run_meta(info),
        p.inputs_line(inputs)
    );

    // Summary.
    let findings = ordered(card, findings);
    let _ = write!(
        s,
        r#"<section class="summary" id="summary"><h2>{}</h2><div class="scorebox {}"><div class="score">{:.1}</div><div class="scorelbl">{}</div>{}</div><div class="sumtext"><p><b>{}{c}</b>{}</p>"#,
        t.summary,
        tier_class(&score.tier),
        score.score,
        t.score,
        p.tier_badge(&score.tier),
        t.findings,
        findings.len()
    );
    if !score.top_check.is_empty() {
        let _ = write!(s, "<p><b>{}{c}</b>{}</p>", t.top_check, p.check_title(&score.top_check));
    }
    let _ = write!(s, r#"<p class="note">{}</p></div>"#, p.privacy_note());
    if score.contributions.is_empty() {
        let _ = write!(s, r#"<p class="clean">{}</p>"#, t.no_findings);
    } else {
        let mut bars: Vec<(String, f64, &str)> = score
            .contributions
            .iter()
            .map(|c| (p.check_title(&c.check), c.points, severity_colour(c.severity)))
            .collect();
        bars.sort_by(|a, b| b.1.total_cmp(&a.1));
        let _ = write!(
            s,
            r#"<figure class="chart wide">{}</figure>"#,
            svg::hbars(t.contributions, &bars, |v| format!("{v:.1}"), t.contribution_points)
        );
    }
    s.push_str("</section>");

    // Findings.
    let _ = write!(s, r#"<section class="findings" id="findings"><h2>{}</h2>"#, t.finding_details);
    if findings.is_empty() {
        let _ = write!(s, r#"<p class="clean">{}</p>"#, t.no_findings);
    }
    for (i, f) in findings.iter().enumerate() {
        s.push_str(&p.finding_section(f, &format!("{}.", i + 1), &format!("f{}", i + 1), ""));
    }
    s.push_str("</section>");

    // Rectification checklist.
    s.push_str(&checklist(&p, info, &findings));

    // Sources not audited.
    let _ = write!(s, r#"<section class="notaudited" id="not-audited"><h2>{}</h2>"#, t.not_audited);
    let missing: Vec<Source> = Source::ALL.into_iter().filter(|x| !score.audited.contains(x)).collect();
    if missing.is_empty() {
        let _ = write!(s, "<p>{}</p>", t.all_audited);
    } else {
        let _ = write!(s, "<p>{}</p><ul>", t.not_audited_intro);
        for m in missing {
            let _ = write!(s, "<li>{} <code>{}</code></li>", t.source_name(m), m.as_str());
        }
        s.push_str("</ul>");
    }
    s.push_str("</section>");

    s.push_str(&unreadable_section(&p, unreadable));
    let _ = write!(s, r#"<section class="inputs" id="inputs"><h2>{}</h2>{}</section>"#, t.inputs, p.manifest(inputs));
    let _ = write!(s, r#"<footer><p>{}</p><p>{}</p></footer></main></body></html>"#, t.generated_by, p.privacy_note());
    s
}

/// The institution's rejected rows and field defects (nothing when none).
fn unreadable_section(p: &Page, rows: &[&crate::run::Unreadable]) -> String {
    let t = p.t;
    if rows.is_empty() {
        return String::new();
    }
    let mut s = format!(
        r#"<section class="unreadable" id="unreadable"><h2>{}</h2><p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        t.unreadable, t.unreadable_intro, t.unreadable_kind, t.unreadable_file, t.unreadable_reason
    );
    for u in rows {
        let kind = if u.kind == crate::run::Unreadable::REJECTED { t.unreadable_rejected } else { t.unreadable_defect };
        let _ = write!(
            s,
            r#"<tr><td>{}</td><td class="mono">{}:{}</td><td>{}</td></tr>"#,
            kind,
            esc(&u.file),
            u.line,
            p.txt(&u.reason)
        );
    }
    s.push_str("</tbody></table></section>");
    s
}

pub(crate) fn checklist(p: &Page, info: &RunInfo, findings: &[&Finding]) -> String {
    let t = p.t;
    let c = t.colon;
    let due = deadline(&info.started_at, p.card.rectification.deadline_days).unwrap_or_else(|| "____".into());
    let mut s = format!(r#"<section class="checklist" id="checklist"><h2>{}</h2>"#, t.checklist);
    if findings.is_empty() {
        let _ = write!(s, "<p>{}</p></section>", t.checklist_empty);
        return s;
    }
    let _ = write!(
        s,
        r#"<p>{}</p><table class="cl"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        t.checklist_intro, t.findings, t.action, t.deadline, t.status
    );
    // One row per check, even when a check found several problems.
    let mut seen: Vec<&str> = Vec::new();
    for f in findings {
        if seen.contains(&f.check.as_str()) {
            continue;
        }
        seen.push(&f.check);
        let _ = write!(
            s,
            r#"<tr><td>{}</td><td>{}<br><code>{}</code></td><td>{}</td><td class="mono">{}</td><td class="status">{}<br>{}</td></tr>"#,
            seen.len(),
            p.check_title(&f.check),
            esc(&f.check),
            p.check_action(&f.check),
            esc(&due),
            t.status_open,
            t.status_done
        );
    }
    let _ = write!(
        s,
        r#"</tbody></table><div class="sign"><div>{}{c}</div><div>{}{c}</div><div>{}{c}</div></div></section>"#,
        t.signature_inspector, t.signature_institution, t.signature_date
    );
    s
}

/// The batch overview page.
pub fn render_index(result: &RunResult, card: &Scorecard, opts: &HtmlOptions) -> String {
    let p = Page::new(opts, card);
    let t = p.t;
    let mut s = p.head(t.index_title);
    s.push_str(r#"<main class="index">"#);
    let _ = write!(
        s,
        r#"<header class="doc"><h1>{}</h1><dl class="meta">{}{}</dl></header>"#,
        t.index_title,
        p.run_meta(&result.info),
        p.inputs_line(&result.inputs)
    );

    const TIERS: [&str; 5] = ["red", "orange", "yellow", "green", "not_audited"];
    let tier_idx = |tier: &str| TIERS.iter().position(|x| *x == tier).unwrap_or(4);
    let mut totals = [0usize; 5];
    let mut by_region: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
    for sc in &result.scores {
        let k = tier_idx(&sc.tier);
        totals[k] += 1;
        by_region.entry(sc.region.as_str()).or_default()[k] += 1;
    }
    let _ = write!(s, r#"<section id="tiers"><h2>{}</h2><div class="tiercards">"#, t.tier_counts);
    for (k, tier) in TIERS.iter().enumerate() {
        let _ = write!(
            s,
            r#"<div class="tiercard {}"><div class="n">{}</div><div>{}</div></div>"#,
            tier_class(tier),
            totals[k],
            t.tier_name(tier)
        );
    }
    s.push_str("</div></section>");

    // Ranking.
    let mut ranked: Vec<&InstScore> = result.scores.iter().collect();
    // By score; institutions with no data at all go last, not among the clean.
    ranked.sort_by(|a, b| {
        (a.tier == "not_audited")
            .cmp(&(b.tier == "not_audited"))
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.institution_id.cmp(&b.institution_id))
    });
    let _ = write!(
        s,
        r#"<section id="ranking"><h2>{} <small>({}: {})</small></h2><div class="controls" id="controls" hidden><input type="search" id="filter" placeholder="{}" aria-label="{}"><select id="tierfilter" aria-label="{}"><option value="">{}</option>"#,
        t.ranking,
        t.institutions_count,
        ranked.len(),
        t.filter_placeholder,
        t.filter_placeholder,
        t.tier,
        t.all_tiers
    );
    for tier in TIERS {
        let _ = write!(s, r#"<option value="{tier}">{}</option>"#, t.tier_name(tier));
    }
    let _ = write!(
        s,
        r#"</select></div><div class="scroll"><table class="rank sortable" id="rank"><thead><tr><th data-sort="num">{}</th><th data-sort="text">{}</th><th data-sort="text">{}</th><th data-sort="text">{}</th><th data-sort="text">{}</th><th data-sort="num" class="num">{}</th><th data-sort="num">{}</th><th data-sort="num" class="num">{}</th><th data-sort="text">{}</th></tr></thead><tbody>"#,
        t.rank, t.institution_id, t.name, t.region, t.kind, t.score, t.tier, t.findings, t.top_check
    );
    for (i, sc) in ranked.iter().enumerate() {
        let href = format!("reports/{}", report_file_name(&sc.institution_id));
        let top = if sc.top_check.is_empty() { "—".to_string() } else { p.check_title(&sc.top_check) };
        let _ = write!(
            s,
            r#"<tr data-tier="{}"><td class="num">{}</td><td><a href="{}">{}</a></td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td class="num" data-v="{}">{:.1}</td><td data-v="{}">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            esc(TIERS[tier_idx(&sc.tier)]),
            i + 1,
            esc(&href),
            p.txt(&sc.institution_id),
            esc(&href),
            p.txt(&sc.name),
            p.txt(&sc.region),
            esc(t.kind_name(&sc.kind)),
            sc.score,
            sc.score,
            4 - tier_idx(&sc.tier),
            p.tier_badge(&sc.tier),
            sc.findings,
            top
        );
    }
    s.push_str("</tbody></table></div></section>");

    // Tiers by region.
    let _ = write!(
        s,
        r#"<section id="regions"><h2>{}</h2><div class="scroll"><table class="regions"><thead><tr><th>{}</th>"#,
        t.tier_counts_by_region, t.region
    );
    for tier in TIERS {
        let _ = write!(s, r#"<th class="num">{}</th>"#, p.tier_badge(tier));
    }
    let _ = write!(s, r#"<th class="num">{}</th></tr></thead><tbody>"#, t.total);
    for (region, counts) in &by_region {
        let _ = write!(s, "<tr><td>{}</td>", p.txt(region));
        for c in counts {
            let _ = write!(s, r#"<td class="num">{}</td>"#, if *c == 0 { "·".to_string() } else { c.to_string() });
        }
        let _ = write!(s, r#"<td class="num"><b>{}</b></td></tr>"#, counts.iter().sum::<usize>());
    }
    s.push_str("</tbody></table></div></section>");

    // Province charts.
    let _ = write!(s, r#"<section id="overview"><h2>{}</h2>"#, t.overview_charts);
    if result.overview.is_empty() {
        let _ = write!(s, "<p>{}</p>", t.no_overview);
    } else {
        s.push_str(r#"<div class="charts">"#);
        let label = |x: &str| p.txt(x);
        for c in &result.overview {
            let _ = write!(s, r#"<figure class="chart">{}</figure>"#, svg::chart(c, t, &label));
        }
        s.push_str("</div>");
    }
    s.push_str("</section>");

    // Not audited sources.
    let _ = write!(
        s,
        r#"<section id="not-audited"><h2>{}</h2><p>{}</p><div class="scroll"><table class="na"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        t.not_audited_sources, t.not_audited_intro, t.institution_id, t.name, t.sources_missing
    );
    let mut any = false;
    let mut by_id: Vec<&InstScore> = result.scores.iter().collect();
    by_id.sort_by(|a, b| a.institution_id.cmp(&b.institution_id));
    for sc in by_id {
        let missing: Vec<&str> =
            Source::ALL.into_iter().filter(|x| !sc.audited.contains(x)).map(|x| t.source_name(x)).collect();
        if missing.is_empty() {
            continue;
        }
        any = true;
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.txt(&sc.institution_id),
            p.txt(&sc.name),
            missing.join(t.list_sep)
        );
    }
    if !any {
        let _ = write!(s, r#"<tr><td colspan="3">{}</td></tr>"#, t.all_audited);
    }
    s.push_str("</tbody></table></div></section>");

    let _ = write!(
        s,
        r#"<section id="inputs"><h2>{}</h2>{}</section><footer><p>{}</p><p>{}</p></footer></main><script>{JS}</script></body></html>"#,
        t.inputs,
        p.manifest(&result.inputs),
        t.generated_by,
        p.privacy_note()
    );
    s
}

/// Sorting and filtering of the ranking table; the page reads fine without it
/// (the controls stay hidden and the table is already ranked).
const JS: &str = r#"(function(){
var tb=document.getElementById('rank');if(!tb)return;
var c=document.getElementById('controls');c.hidden=false;
var f=document.getElementById('filter'),s=document.getElementById('tierfilter');
function apply(){var q=f.value.toLowerCase(),t=s.value;
Array.prototype.forEach.call(tb.tBodies[0].rows,function(r){
var ok=(!q||r.textContent.toLowerCase().indexOf(q)>=0)&&(!t||r.getAttribute('data-tier')===t);
r.style.display=ok?'':'none';});}
f.addEventListener('input',apply);s.addEventListener('change',apply);
Array.prototype.forEach.call(tb.tHead.rows[0].cells,function(th,i){
th.style.cursor='pointer';var asc=false;
th.addEventListener('click',function(){asc=!asc;var num=th.getAttribute('data-sort')==='num';
var rows=Array.prototype.slice.call(tb.tBodies[0].rows);
rows.sort(function(a,b){var x=a.cells[i],y=b.cells[i];
var u=x.getAttribute('data-v')||x.textContent,v=y.getAttribute('data-v')||y.textContent;
var r=num?(parseFloat(u)-parseFloat(v)):u.localeCompare(v);return asc?r:-r;});
rows.forEach(function(r){tb.tBodies[0].appendChild(r);});});});
})();"#;

/// The stylesheet shared by every page (screen and print).
pub(crate) const CSS: &str = r#"
:root{--ink:#22313f;--muted:#5f6b77;--line:#d8dee4;--bg:#f5f7f9;--red:#c0392b;--orange:#e67e22;--yellow:#f1c40f;--green:#27ae60;--na:#7f8c8d;--accent:#2f5d8a}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.6 "Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",system-ui,sans-serif}
main{max-width:1080px;margin:0 auto;padding:24px 28px 40px;background:#fff;min-height:100vh;box-shadow:0 0 0 1px var(--line)}
h1{font-size:24px;margin:4px 0 12px}h2{font-size:18px;margin:28px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--ink)}
h3{font-size:16px;margin:0 0 8px}h4{font-size:14px;margin:14px 0 4px}h2 small{font-weight:normal;color:var(--muted);font-size:13px}
a{color:var(--accent)}code,.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
code.hash{word-break:break-all;font-size:11px}
nav.top{font-size:13px;margin-bottom:8px}
header.doc{border-left:6px solid var(--accent);padding:4px 0 4px 16px}
header.doc.t-red{border-color:var(--red)}header.doc.t-orange{border-color:var(--orange)}header.doc.t-yellow{border-color:var(--yellow)}header.doc.t-green{border-color:var(--green)}header.doc.t-na{border-color:var(--na)}
.kicker{margin:0;color:var(--muted);font-size:13px;letter-spacing:.05em}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:6px 0;font-size:13px}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;word-break:break-all}
.summary{display:grid;grid-template-columns:170px 1fr;gap:12px 24px;align-items:start}
.summary h2,.summary figure,.summary .clean{grid-column:1/-1}
.scorebox{border-radius:8px;padding:14px;text-align:center;color:#fff;background:var(--na)}
.scorebox.t-red{background:var(--red)}.scorebox.t-orange{background:var(--orange)}.scorebox.t-yellow{background:var(--yellow);color:#3d3400}.scorebox.t-green{background:var(--green)}
.scorebox .score{font-size:44px;font-weight:bold;line-height:1.1}.scorebox .scorelbl{font-size:13px;opacity:.9}
.scorebox .tier{background:rgba(255,255,255,.92);margin-top:8px}
.tier{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:bold;white-space:nowrap;border:1px solid currentColor}
.tier.t-red{color:var(--red)}.tier.t-orange{color:#b85c0f}.tier.t-yellow{color:#8a6d00}.tier.t-green{color:#1e8449}.tier.t-na{color:var(--na)}
.note{color:var(--muted);font-size:12px}.clean{padding:10px 14px;background:#eef8f1;border-left:4px solid var(--green)}
section.finding{border:1px solid var(--line);border-left:5px solid #95a5a6;border-radius:4px;padding:12px 16px;margin:0 0 18px;page-break-inside:auto}
section.finding.s-strong{border-left-color:var(--red)}section.finding.s-moderate{border-left-color:var(--orange)}
section.finding.f-resolved{border-left-color:var(--green);opacity:.85}
.fnum{color:var(--muted)}.cid{font-weight:normal;color:var(--muted);font-size:12px;font-family:monospace}
.stats{display:flex;flex-wrap:wrap;gap:6px 22px;font-size:13px;margin-bottom:6px}
.sev{padding:0 6px;border-radius:3px;color:#fff;background:#95a5a6}.sev.s-strong{background:var(--red)}.sev.s-moderate{background:var(--orange)}
p.found{margin:6px 0}p.method{margin:6px 0;color:#34495e;background:var(--bg);padding:6px 10px;border-radius:3px}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:8px 0}figure.chart{flex:1 1 460px;max-width:660px}
main.index figure.chart{max-width:506px}
svg.chart{width:100%;height:auto;background:#fff;border:1px solid var(--line);border-radius:3px}
svg .ctitle{font-size:14px;font-weight:bold;fill:var(--ink)}svg .tick{font-size:11px;fill:var(--muted)}svg .axis{font-size:12px;fill:var(--ink)}
svg .lbl{font-size:12px;fill:var(--ink)}svg .val{font-size:12px;fill:var(--ink)}svg .leg{font-size:11px;fill:var(--ink)}svg .hl{font-size:12px;font-weight:bold;fill:#c0392b}
p.src{margin:0 0 4px;color:var(--muted);font-size:12px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#eef1f4;font-weight:bold;white-space:nowrap}tbody tr:nth-child(even){background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.warn{color:var(--red);font-weight:bold}
table.ev{font-size:12px}
.frames{display:flex;flex-wrap:wrap;gap:10px}
figure.frame{width:200px;border:1px solid var(--line);padding:4px;background:#fafbfc;font-size:11px}
figure.frame img{width:100%;display:block;image-rendering:auto;background:#000}
.noimg{height:110px;display:flex;align-items:center;justify-content:center;background:#eee;color:var(--muted)}
table.cl td.status{white-space:nowrap}
.sign{display:grid;grid-template-columns:1fr 1fr 1fr;gap:20px;margin-top:28px}.sign div{border-bottom:1px solid var(--ink);padding-bottom:28px;font-size:13px}
.tiercards{display:flex;gap:12px;flex-wrap:wrap}
.tiercard{flex:1 1 150px;border-radius:6px;padding:10px 14px;color:#fff;background:var(--na)}
.tiercard .n{font-size:28px;font-weight:bold}
.tiercard.t-red{background:var(--red)}.tiercard.t-orange{background:var(--orange)}.tiercard.t-yellow{background:var(--yellow);color:#3d3400}.tiercard.t-green{background:var(--green)}
.controls{display:flex;gap:10px;margin-bottom:8px}.controls input{flex:1;padding:5px 8px}.controls select{padding:5px}
.verdict{font-size:20px;font-weight:bold;padding:12px 16px;border-radius:6px;color:#fff}
.verdict.pass{background:var(--green)}.verdict.fail{background:var(--red)}
.st{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;color:#fff}.st.resolved{background:var(--green)}.st.persisting{background:var(--red)}.st.new{background:var(--orange)}
footer{margin-top:36px;padding-top:10px;border-top:1px solid var(--line);color:var(--muted);font-size:12px}
@media print{body{background:#fff;font-size:12px}main{box-shadow:none;max-width:none;padding:0}nav.top,.controls{display:none}
section.finding,figure,tr{break-inside:avoid}h2{break-after:avoid}.scroll{overflow:visible}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
@page{size:A4;margin:16mm 14mm}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_markup_needs() {
        assert_eq!(esc(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(esc("中文\u{0}"), "中文\u{FFFD}");
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(report_file_name("TI-001_a"), "TI-001_a.html");
        let a = report_file_name("../x");
        let b = report_file_name("__x");
        assert!(a.starts_with("___x_") && a.ends_with(".html"), "{a}");
        assert_ne!(a, b);
        assert!(!report_file_name("<script>").contains('<'));
        assert!(report_file_name("").ends_with(".html"));
    }

    #[test]
    fn deadlines_add_days_to_the_run_date() {
        assert_eq!(deadline("2024-07-10 08:30:00", 30).as_deref(), Some("2024-08-09"));
        assert_eq!(deadline("2024-12-20", 30).as_deref(), Some("2025-01-19"));
        assert_eq!(deadline("soon", 30), None);
    }

    #[test]
    fn cells_mask_by_column_kind() {
        let card = crate::model::Models::load(None).unwrap().scorecard;
        let opts = HtmlOptions::default();
        let p = Page::new(&opts, &card);
        assert_eq!(p.cell("410102199001011234", ColKind::PersonId), "410***********1234");
        assert_eq!(
            p.cell("11010519491231002X|410102199001011234", ColKind::PersonId),
            "110***********002X|410***********1234"
        );
        assert_eq!(p.cell("13812345678", ColKind::Phone), "138****5678");
        assert_eq!(p.cell("张三", ColKind::Name), "张三");
        assert_eq!(p.cell("<b>", ColKind::Text), "&lt;b&gt;");
        let named = HtmlOptions { mask_names: true, ..HtmlOptions::default() };
        assert_eq!(Page::new(&named, &card).cell("张三", ColKind::Name), "张*");
        let open = HtmlOptions { unmasked: true, ..HtmlOptions::default() };
        assert_eq!(Page::new(&open, &card).cell("410102199001011234", ColKind::PersonId), "410102199001011234");
    }
}
