//! The rectification follow-up (`kaopei compare`): an institution's findings
//! in an earlier run A and a follow-up run B, each earlier finding marked
//! resolved or persisting (with B's evidence) and B's other findings marked
//! new, and the verdict 整改合格 / 整改不合格 under the `[rectification]`
//! rule of the scorecard. Findings are matched by check id: a check that
//! still finds something after the deadline has not been rectified.
//!
//! Nothing is recomputed: the verdict reads the severities and tiers the
//! two runs recorded.
//!
//! With the inspector's decisions at hand, [`review`] judges per record
//! and cannot be fooled by a re-export of the earlier period: every earlier
//! record a confirmed finding cited must come back unchanged (else the
//! verdict is 数据被改动，无法认定整改, with the changed records listed
//! first), and a confirmed finding counts as resolved only when its rule
//! holds on the records of the *new* period: days after the institution's
//! own earlier audit period. Findings without flagged records (a rate
//! over all records) cannot be split by period and stay unresolved while
//! they persist.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::case::{self, Action, CitedRow, Decision, Standing};
use crate::checks::Finding;
use crate::model::{Scorecard, Tier};
use crate::report::html::{self, esc, HtmlOptions, Page};
use crate::run::{RunInfo, RunResult};
use crate::score::InstScore;
use crate::store::decisions as recs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Resolved,
    Persisting,
    New,
}

/// One check's state across the two runs.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub check: String,
    pub status: Status,
    pub before: Vec<&'a Finding>,
    pub after: Vec<&'a Finding>,
}

impl Item<'_> {
    fn max_severity(fs: &[&Finding]) -> Option<f64> {
        fs.iter().map(|f| f.severity).reduce(f64::max)
    }
}

/// Why a follow-up failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// A persisting or new finding at or above `max_remaining_severity`.
    Severity { check: String, severity: f64 },
    /// Run B's tier is worse than `max_tier`.
    Tier { tier: Tier },
    /// Run B has no data about the institution.
    NotAudited,
}

/// The comparison of one institution across two runs.
#[derive(Debug, Clone)]
pub struct FollowUp<'a> {
    pub institution_id: String,
    pub before: &'a InstScore,
    pub after: &'a InstScore,
    pub items: Vec<Item<'a>>,
    pub pass: bool,
    pub reasons: Vec<Reason>,
}

/// Compares `institution` between run `a` (before) and run `b` (follow-up).
pub fn compare<'a>(card: &Scorecard, a: &'a RunResult, b: &'a RunResult, institution: &str) -> Result<FollowUp<'a>> {
    let find = |r: &'a RunResult| r.scores.iter().find(|s| s.institution_id == institution);
    let before = find(a).with_context(|| format!("institution `{institution}` is not in run {}", a.info.run_id))?;
    let after = find(b).with_context(|| format!("institution `{institution}` is not in run {}", b.info.run_id))?;
    let rule = &card.rectification;
    let max_rank = rule.max_tier.rank().with_context(|| {
        format!("scorecard [rectification] max_tier `{}` is not one of green/yellow/orange/red", rule.max_tier)
    })?;
    let of = |r: &'a RunResult| -> Vec<&'a Finding> {
        r.findings.iter().filter(|f| f.institution_id == institution).collect()
    };
    let (fa, fb) = (of(a), of(b));
    let mut checks: Vec<&str> = fa.iter().chain(&fb).map(|f| f.check.as_str()).collect();
    checks.sort_unstable();
    checks.dedup();
    let items: Vec<Item> = checks
        .into_iter()
        .map(|c| {
            let before: Vec<&Finding> = fa.iter().copied().filter(|f| f.check == c).collect();
            let after: Vec<&Finding> = fb.iter().copied().filter(|f| f.check == c).collect();
            let status = match (before.is_empty(), after.is_empty()) {
                (false, true) => Status::Resolved,
                (false, false) => Status::Persisting,
                _ => Status::New,
            };
            Item { check: c.to_string(), status, before, after }
        })
        .collect();
    let mut reasons = Vec::new();
    if after.tier == Tier::NotAudited {
        reasons.push(Reason::NotAudited);
    } else if after.tier.rank().is_none_or(|r| r > max_rank) {
        reasons.push(Reason::Tier { tier: after.tier });
    }
    for it in items.iter().filter(|i| i.status != Status::Resolved) {
        if let Some(sev) = Item::max_severity(&it.after).filter(|s| *s >= rule.max_remaining_severity) {
            reasons.push(Reason::Severity { check: it.check.clone(), severity: sev });
        }
    }
    Ok(FollowUp { institution_id: institution.to_string(), before, after, items, pass: reasons.is_empty(), reasons })
}

/// One earlier record a confirmed finding cited that came back different.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordChange {
    pub file: String,
    pub record: String,
    pub line: i64,
    pub field: String,
    pub old: String,
    pub new: String,
}

/// The per-record verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 整改合格
    Pass,
    /// 整改不合格
    Fail,
    /// 数据被改动，无法认定整改
    Tampered,
}

impl Verdict {
    pub fn zh(self) -> &'static str {
        match self {
            Verdict::Pass => "整改合格",
            Verdict::Fail => "整改不合格",
            Verdict::Tampered => "数据被改动，无法认定整改",
        }
    }
}

/// One confirmed finding in the follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseItem {
    pub check: String,
    pub resolved: bool,
    /// Flagged records of the new period in run B.
    pub new_period_flags: usize,
    /// Flagged records of the earlier period in run B (already known).
    pub earlier_flags: usize,
    pub detail: String,
}

/// The follow-up judged per record with the decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReview {
    pub verdict: Verdict,
    pub changes: Vec<RecordChange>,
    pub period_before: Option<(String, String)>,
    pub period_after: Option<(String, String)>,
    pub deadline: Option<String>,
    pub items: Vec<CaseItem>,
    /// Dismissed findings (not judged), with the reason.
    pub dismissed: Vec<(String, String)>,
    pub reasons: Vec<String>,
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "（空）".into(),
        serde_json::Value::String(s) => s.clone(),
        // Stored doubles of values read as single precision: six decimals.
        serde_json::Value::Number(n) if n.is_f64() => {
            let t = format!("{:.6}", n.as_f64().unwrap_or(0.0));
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        v => v.to_string(),
    }
}

/// Equal values; numbers within the last digits JSON text may carry
/// (the snapshot went through JSON, the store holds doubles).
fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

/// The changes between the cited rows as decided and the rows now held.
pub fn record_changes(cited: &[&CitedRow], now: &[CitedRow]) -> Vec<RecordChange> {
    let index: std::collections::HashMap<(&str, &str), &CitedRow> =
        now.iter().map(|r| ((r.table.as_str(), r.key.as_str()), r)).collect();
    let mut out = Vec::new();
    for old in cited {
        let file = format!("{}.csv", old.table);
        match index.get(&(old.table.as_str(), old.key.as_str())) {
            None => out.push(RecordChange {
                file,
                record: old.key.clone(),
                line: old.line,
                field: "（整条记录）".into(),
                old: "存在".into(),
                new: "已删除".into(),
            }),
            Some(new) => {
                for (k, v) in &old.fields {
                    let nv = new.fields.get(k).unwrap_or(&serde_json::Value::Null);
                    if !same_value(nv, v) {
                        out.push(RecordChange {
                            file: file.clone(),
                            record: old.key.clone(),
                            line: old.line,
                            field: k.clone(),
                            old: value_text(v),
                            new: value_text(nv),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Judges the follow-up `fu` of run A per record: `decisions` are the
/// institution's decisions on run A, `now` the institution's rows in run
/// B's data (as the store holds them).
pub fn review(fu: &FollowUp, a_run: i64, decisions: &[Decision], now: &[CitedRow], card: &Scorecard) -> CaseReview {
    let inst = fu.institution_id.as_str();
    let decided: Vec<Decision> =
        decisions.iter().filter(|d| d.audit_run == a_run && d.institution_id == inst).cloned().collect();
    let eff = case::effective(&decided);
    let mut checks: Vec<String> = eff
        .iter()
        .filter(|d| d.action.needs_check())
        .map(|d| d.check_id.clone())
        .filter(|c| case::standing(&decided, inst, c) == Standing::Confirmed)
        .collect();
    checks.sort();
    checks.dedup();
    let dismissed: Vec<(String, String)> = eff
        .iter()
        .filter(|d| d.action == Action::Dismiss && case::standing(&decided, inst, &d.check_id) == Standing::Dismissed)
        .map(|d| (d.check_id.clone(), d.reason.clone()))
        .collect();
    let latest_of = |c: &str| {
        eff.iter()
            .filter(|d| d.check_id == c && matches!(d.action, Action::Confirm | Action::Rectify))
            .max_by_key(|d| d.id)
            .copied()
    };
    let cited: Vec<&CitedRow> = checks.iter().filter_map(|c| latest_of(c)).flat_map(|d| d.cited.iter()).collect();
    let mut seen = std::collections::HashSet::new();
    let cited: Vec<&CitedRow> = cited.into_iter().filter(|r| seen.insert((r.table.clone(), r.key.clone()))).collect();
    let changes = record_changes(&cited, now);
    let period_before = eff.iter().find_map(|d| d.period.clone());
    let period_after = recs::period(now);
    let (_, deadline) = case::rectification(&decided, inst);
    let mut reasons = Vec::new();
    if checks.is_empty() {
        reasons.push(
            "没有经认定的问题（kaopei decide --action confirm）：无法逐条核对原始记录，不能认定整改。".to_string(),
        );
    }
    let before_end = period_before.as_ref().map(|p| p.1.clone());
    let after_end = period_after.as_ref().map(|p| p.1.clone());
    let has_new_period = match (&before_end, &after_end) {
        (Some(b), Some(a)) => a > b,
        _ => false,
    };
    if !checks.is_empty() && !has_new_period {
        reasons.push(format!(
            "复查数据没有原核查期间（截至 {}）之后的新记录：整改无从认定。",
            before_end.as_deref().unwrap_or("—")
        ));
    }
    if let (Some(dl), Some(ae)) = (&deadline, &after_end) {
        if ae.as_str() < dl.as_str() {
            reasons.push(format!("复查数据截至 {ae}，尚未到整改期限 {dl}。"));
        }
    }
    let days = recs::record_days(now);
    let split = |fs: &[&Finding]| -> (usize, usize, bool) {
        let (mut new, mut old, mut unsplit) = (0, 0, false);
        for f in fs {
            if f.flags.is_empty() {
                unsplit = true;
            }
            for g in &f.flags {
                let d = recs::flag_day(now, &days, g);
                match (&d, &before_end) {
                    (Some(d), Some(b)) if d > b => new += 1,
                    _ => old += 1,
                }
            }
        }
        (new, old, unsplit)
    };
    let mut items = Vec::new();
    for c in &checks {
        let after: Vec<&Finding> =
            fu.items.iter().filter(|i| i.check == *c).flat_map(|i| i.after.iter().copied()).collect();
        let (new, old, unsplit) = split(&after);
        let (resolved, detail) = if !has_new_period {
            (false, "无新期间记录，无法复查".to_string())
        } else if after.is_empty() {
            (true, "新期间记录中未再发现".to_string())
        } else if unsplit {
            (false, "复查运行仍有此问题；其统计涵盖两期记录，无法只就新期间认定".to_string())
        } else if new > 0 {
            (false, format!("新期间仍有 {new} 条记录存在此问题"))
        } else {
            (true, format!("新期间记录中未再发现（复查运行所列 {old} 条均为原核查期间的记录）"))
        };
        items.push(CaseItem { check: c.clone(), resolved, new_period_flags: new, earlier_flags: old, detail });
    }
    // New problems of the new period weigh too.
    for it in fu.items.iter().filter(|i| i.status == Status::New) {
        let (new, _, unsplit) = split(&it.after);
        let sev = Item::max_severity(&it.after).unwrap_or(0.0);
        if (new > 0 || unsplit) && sev >= card.rectification.max_remaining_severity {
            reasons.push(format!("复查运行发现新问题 {}（严重度 {sev:.2}）。", it.check));
        }
    }
    let verdict = if !changes.is_empty() {
        Verdict::Tampered
    } else if reasons.is_empty() && items.iter().all(|i| i.resolved) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    CaseReview { verdict, changes, period_before, period_after, deadline, items, dismissed, reasons }
}

/// The per-record verdict as an HTML section (the changed records first).
pub(crate) fn review_section(p: &Page, r: &CaseReview) -> String {
    let class = if r.verdict == Verdict::Pass { "pass" } else { "fail" };
    let period = |x: &Option<(String, String)>| {
        x.as_ref().map_or_else(|| "—".to_string(), |(a, b)| format!("{} – {}", esc(a), esc(b)))
    };
    let mut s = format!(
        r#"<section class="verdict-block" id="case-verdict"><h2>逐条复查结论</h2><div class="verdict {class}">{}</div><p class="method">原核查期间（本机构）：{} · 复查期间（本机构）：{} · 整改期限：{}</p>"#,
        r.verdict.zh(),
        period(&r.period_before),
        period(&r.period_after),
        r.deadline.as_deref().map_or_else(|| "—".to_string(), esc)
    );
    if !r.changes.is_empty() {
        let _ = write!(
            s,
            r#"<h3>被改动或删除的原核查记录（{} 处）</h3><table><thead><tr><th>文件</th><th>记录</th><th class="num">原行号</th><th>字段</th><th>原值 → 现值</th></tr></thead><tbody>"#,
            r.changes.len()
        );
        for c in &r.changes {
            let _ = write!(
                s,
                r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td>{} → {}</td></tr>"#,
                esc(&c.file),
                p.txt(&c.record),
                c.line,
                esc(&c.field),
                p.txt(&c.old),
                p.txt(&c.new)
            );
        }
        s.push_str("</tbody></table>");
    }
    if !r.reasons.is_empty() {
        s.push_str("<ul>");
        for x in &r.reasons {
            let _ = write!(s, "<li>{}</li>", esc(x));
        }
        s.push_str("</ul>");
    }
    s.push_str(r#"<table><thead><tr><th>经认定的问题</th><th>结果</th><th class="num">新期间记录</th><th class="num">原期间记录</th><th>说明</th></tr></thead><tbody>"#);
    for i in &r.items {
        let _ = write!(
            s,
            r#"<tr><td>{} <code>{}</code></td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            p.check_title(&i.check),
            esc(&i.check),
            if i.resolved { "已整改" } else { "未整改" },
            i.new_period_flags,
            i.earlier_flags,
            esc(&i.detail)
        );
    }
    for (c, why) in &r.dismissed {
        let _ = write!(
            s,
            r#"<tr><td>{} <code>{}</code></td><td>不予认定</td><td class="num">—</td><td class="num">—</td><td>{}</td></tr>"#,
            p.check_title(c),
            esc(c),
            p.txt(why)
        );
    }
    s.push_str("</tbody></table></section>");
    s
}

/// Writes the follow-up page with the per-record verdict on top.
pub fn write_with_review(
    out: &Path,
    fu: &FollowUp,
    a: &RunResult,
    b: &RunResult,
    card: &Scorecard,
    opts: &HtmlOptions,
    r: &CaseReview,
) -> Result<PathBuf> {
    let path = write(out, fu, a, b, card, opts)?;
    let page = std::fs::read_to_string(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let p = Page::new(opts, card);
    let section = review_section(&p, r);
    // The per-record verdict replaces the check-level one at the top.
    let page = match (page.find(r#"<section class="verdict-block" id="verdict">"#), page.find(r#"<section id="runs">"#))
    {
        (Some(i), Some(j)) if i < j => format!("{}{section}{}", &page[..i], &page[j..]),
        _ => page,
    };
    crate::output::write_atomic(&path, page.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(path)
}

/// Writes the follow-up page to `DIR/followup/<id>_run<A>_run<B>.html`.
pub fn write(
    out: &Path,
    fu: &FollowUp,
    a: &RunResult,
    b: &RunResult,
    card: &Scorecard,
    opts: &HtmlOptions,
) -> Result<PathBuf> {
    let dir = out.join("followup");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let base = html::report_file_name(&fu.institution_id);
    let stem = base.strip_suffix(".html").unwrap_or(&base);
    let path = dir.join(format!("{stem}_run{}_run{}.html", a.info.run_id, b.info.run_id));
    crate::output::write_atomic(&path, render(fu, &a.info, &b.info, card, opts).as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(path)
}

fn status_badge(p: &Page, s: Status) -> String {
    let (class, text) = match s {
        Status::Resolved => ("resolved", p.t.resolved),
        Status::Persisting => ("persisting", p.t.persisting),
        Status::New => ("new", p.t.new_finding),
    };
    format!(r#"<span class="st {class}">{text}</span>"#)
}

/// The follow-up page.
pub fn render(fu: &FollowUp, a: &RunInfo, b: &RunInfo, card: &Scorecard, opts: &HtmlOptions) -> String {
    let p = Page::new(opts, card);
    let t = p.t;
    let c = t.colon;
    let name = p.txt(&fu.after.name);
    let mut s = p.head(&format!("{name} · {}", t.followup_title));
    let _ = write!(
        s,
        r#"<main class="report followup"><header class="doc {}"><p class="kicker">{}</p><h1>{name}</h1><dl class="meta"><dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>{}</dd></dl></header>"#,
        html::tier_class(fu.after.tier.as_str()),
        t.followup_title,
        t.institution_id,
        p.txt(&fu.institution_id),
        t.region,
        p.txt(&fu.after.region)
    );

    // Verdict.
    let rule = &card.rectification;
    let _ = write!(
        s,
        r#"<section class="verdict-block" id="verdict"><h2>{}</h2><div class="verdict {}">{}</div><p class="method"><b>{}{c}</b>{} &lt; {} · {} ≤ {}</p>"#,
        t.verdict,
        if fu.pass { "pass" } else { "fail" },
        if fu.pass { t.verdict_pass } else { t.verdict_fail },
        t.verdict_rule,
        t.severity,
        svg_num(rule.max_remaining_severity),
        t.tier,
        t.tier_name(rule.max_tier.as_str())
    );
    if !fu.reasons.is_empty() {
        let _ = write!(s, "<p><b>{}{c}</b></p><ul>", t.reasons);
        for r in &fu.reasons {
            let line = match r {
                Reason::Severity { check, severity } => {
                    format!(
                        "{} <code>{}</code>{c}{} {} ({:.2})",
                        p.check_title(check),
                        esc(check),
                        t.reason_severity,
                        svg_num(rule.max_remaining_severity),
                        severity
                    )
                }
                Reason::Tier { tier } => {
                    format!(
                        "{} {}{c}{}",
                        t.reason_tier,
                        t.tier_name(rule.max_tier.as_str()),
                        p.tier_badge(tier.as_str())
                    )
                }
                Reason::NotAudited => t.reason_not_audited.to_string(),
            };
            let _ = write!(s, "<li>{line}</li>");
        }
        s.push_str("</ul>");
    }
    s.push_str("</section>");

    // The two runs.
    let _ = write!(
        s,
        r#"<section id="runs"><h2>{}</h2><table><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        t.followup_runs, t.run_before, t.run_after
    );
    let period =
        |i: &RunInfo| i.period.as_ref().map(|(x, y)| format!("{} – {}", esc(x), esc(y))).unwrap_or_else(|| "—".into());
    for (k, va, vb) in [
        (t.run_id, a.run_id.to_string(), b.run_id.to_string()),
        (t.run_started, esc(&a.started_at), esc(&b.started_at)),
        (t.audit_period, period(a), period(b)),
        (t.dataset, p.txt(&a.dataset), p.txt(&b.dataset)),
        (t.version, esc(&a.version), esc(&b.version)),
        (
            t.scorecard_hash,
            format!(r#"<code class="hash">{}</code>"#, esc(&a.scorecard_sha256)),
            format!(r#"<code class="hash">{}</code>"#, esc(&b.scorecard_sha256)),
        ),
        (t.score, format!("{:.1}", fu.before.score), format!("{:.1}", fu.after.score)),
        (t.tier, p.tier_badge(fu.before.tier.as_str()), p.tier_badge(fu.after.tier.as_str())),
        (t.findings, fu.before.findings.to_string(), fu.after.findings.to_string()),
    ] {
        let _ = write!(s, "<tr><th>{k}</th><td>{va}</td><td>{vb}</td></tr>");
    }
    s.push_str("</tbody></table></section>");

    // Each check's change.
    let _ = write!(
        s,
        r#"<section id="changes"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th class="num">{} ({})</th><th class="num">{} ({})</th></tr></thead><tbody>"#,
        t.change, t.check_id, t.status, t.severity, t.before, t.severity, t.after
    );
    let sev = |fs: &[&Finding]| Item::max_severity(fs).map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
    for it in &fu.items {
        let _ = write!(
            s,
            r##"<tr><td><a href="#c-{}">{}</a> <code>{}</code></td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>"##,
            esc(&it.check),
            p.check_title(&it.check),
            esc(&it.check),
            status_badge(&p, it.status),
            sev(&it.before),
            sev(&it.after)
        );
    }
    if fu.items.is_empty() {
        let _ = write!(s, r#"<tr><td colspan="4">{}</td></tr>"#, t.no_findings);
    }
    s.push_str("</tbody></table></section>");

    // Details: remaining findings with the follow-up evidence, then resolved ones.
    let _ = write!(s, r#"<section class="findings" id="findings"><h2>{}</h2>"#, t.new_evidence);
    let mut n = 0;
    for it in fu.items.iter().filter(|i| i.status != Status::Resolved) {
        for (k, f) in it.after.iter().enumerate() {
            n += 1;
            let anchor = if k == 0 { format!("c-{}", it.check) } else { format!("c-{}-{k}", it.check) };
            let mut sec = p.finding_section(f, &format!("{n}."), &anchor, "");
            // Mark the status right under the heading.
            if let Some(pos) = sec.find("</h3>") {
                sec.insert_str(pos + 5, &format!("<p>{}</p>", status_badge(&p, it.status)));
            }
            s.push_str(&sec);
        }
    }
    for it in fu.items.iter().filter(|i| i.status == Status::Resolved) {
        n += 1;
        let _ = write!(
            s,
            r#"<section class="finding f-resolved" id="c-{}"><h3><span class="fnum">{n}.</span> {} <span class="cid">{}</span></h3><p>{}</p>"#,
            esc(&it.check),
            p.check_title(&it.check),
            esc(&it.check),
            status_badge(&p, it.status)
        );
        for f in &it.before {
            let _ = write!(
                s,
                r#"<p class="found"><b>{}{c}</b>{}</p>"#,
                t.before,
                p.txt(p.lang.pick(&f.summary_zh, &f.summary_en))
            );
        }
        s.push_str("</section>");
    }
    s.push_str("</section>");

    let remaining: Vec<&Finding> =
        fu.items.iter().filter(|i| i.status != Status::Resolved).flat_map(|i| i.after.iter().copied()).collect();
    if !fu.pass {
        s.push_str(&html::checklist(&p, b, &remaining));
    }
    let _ = write!(s, r#"<footer><p>{}</p><p>{}</p></footer></main></body></html>"#, t.generated_by, p.privacy_note());
    s
}

fn svg_num(v: f64) -> String {
    crate::report::svg::num(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Source;
    use crate::model::Models;
    use crate::run::RunInfo;

    fn run(id: i64, tier: &str, score: f64, findings: Vec<Finding>) -> RunResult {
        let tier: Tier = tier.parse().unwrap();
        RunResult {
            info: RunInfo {
                run_id: id,
                command: "score".into(),
                args: vec![],
                version: "0".into(),
                dataset: "d".into(),
                started_at: "2024-07-01 09:00:00".into(),
                operations_sha256: "o".into(),
                scorecard_sha256: "s".into(),
                period: None,
            },
            inputs: vec![],
            scores: vec![InstScore {
                institution_id: "I1".into(),
                name: "n".into(),
                region: "410100".into(),
                kind: "exam".into(),
                score,
                tier,
                findings: findings.len(),
                top_check: String::new(),
                contributions: vec![],
                audited: if tier == Tier::NotAudited { vec![] } else { vec![Source::Exam] },
            }],
            findings,
            overview: vec![],
            unreadable: vec![],
        }
    }

    fn f(check: &str, sev: f64) -> Finding {
        Finding::new("I1", check.parse::<crate::checks::CheckId>().expect("registered id"), sev)
            .summary("摘要", "summary")
    }

    #[test]
    fn statuses_and_a_passing_verdict() {
        let card = Models::load(None).unwrap().scorecard;
        let a = run(1, "red", 80.0, vec![f("exam.pass_rate", 0.9), f("exam.early_submit", 0.8)]);
        let b = run(2, "green", 5.0, vec![f("exam.early_submit", 0.1), f("cert.duplicate", 0.05)]);
        let fu = compare(&card, &a, &b, "I1").unwrap();
        let st: Vec<(&str, Status)> = fu.items.iter().map(|i| (i.check.as_str(), i.status)).collect();
        assert_eq!(
            st,
            [
                ("cert.duplicate", Status::New),
                ("exam.early_submit", Status::Persisting),
                ("exam.pass_rate", Status::Resolved)
            ]
        );
        assert!(fu.pass, "{:?}", fu.reasons);
        let html = render(&fu, &a.info, &b.info, &card, &HtmlOptions::default());
        assert!(html.contains("整改合格") && !html.contains("整改不合格"));
    }

    #[test]
    fn strong_remaining_findings_or_a_bad_tier_fail() {
        let card = Models::load(None).unwrap().scorecard;
        let a = run(1, "red", 80.0, vec![f("exam.pass_rate", 0.9)]);
        let b = run(2, "yellow", 30.0, vec![f("exam.pass_rate", 0.6)]);
        let fu = compare(&card, &a, &b, "I1").unwrap();
        assert!(!fu.pass);
        assert_eq!(fu.reasons, [Reason::Severity { check: "exam.pass_rate".into(), severity: 0.6 }]);
        let b = run(2, "orange", 50.0, vec![]);
        let fu = compare(&card, &a, &b, "I1").unwrap();
        assert_eq!(fu.reasons, [Reason::Tier { tier: Tier::Orange }]);
        let b = run(2, "not_audited", 0.0, vec![]);
        let fu = compare(&card, &a, &b, "I1").unwrap();
        assert_eq!(fu.reasons, [Reason::NotAudited]);
        let html =
            render(&fu, &a.info, &b.info, &card, &HtmlOptions { lang: crate::report::Lang::En, ..Default::default() });
        assert!(html.contains("整改不合格") && html.contains("resolved"));
        assert!(compare(&card, &a, &b, "nope").is_err());
    }
}
