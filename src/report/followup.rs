//! The rectification follow-up (`kaopei compare`): an institution's findings
//! in an earlier run A and a follow-up run B, each earlier finding marked
//! resolved or persisting (with B's evidence) and B's other findings marked
//! new, and the verdict 整改合格 / 整改不合格 under the `[rectification]`
//! rule of the scorecard. Findings are matched by check id: a check that
//! still finds something after the deadline has not been rectified.
//!
//! Nothing is recomputed: the verdict reads the severities and tiers the
//! two runs recorded.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::checks::Finding;
use crate::model::Scorecard;
use crate::report::html::{self, esc, HtmlOptions, Page};
use crate::run::{RunInfo, RunResult};
use crate::score::InstScore;

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
    Tier { tier: String },
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

/// Tiers from best to worst.
const TIER_ORDER: [&str; 4] = ["green", "yellow", "orange", "red"];

fn tier_rank(tier: &str) -> Option<usize> {
    TIER_ORDER.iter().position(|t| *t == tier)
}

/// Compares `institution` between run `a` (before) and run `b` (follow-up).
pub fn compare<'a>(card: &Scorecard, a: &'a RunResult, b: &'a RunResult, institution: &str) -> Result<FollowUp<'a>> {
    let find = |r: &'a RunResult| r.scores.iter().find(|s| s.institution_id == institution);
    let before = find(a).with_context(|| format!("institution `{institution}` is not in run {}", a.info.run_id))?;
    let after = find(b).with_context(|| format!("institution `{institution}` is not in run {}", b.info.run_id))?;
    let rule = &card.rectification;
    let max_rank = tier_rank(&rule.max_tier).with_context(|| {
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
    if after.tier == "not_audited" {
        reasons.push(Reason::NotAudited);
    } else if tier_rank(&after.tier).is_none_or(|r| r > max_rank) {
        reasons.push(Reason::Tier { tier: after.tier.clone() });
    }
    for it in items.iter().filter(|i| i.status != Status::Resolved) {
        if let Some(sev) = Item::max_severity(&it.after).filter(|s| *s >= rule.max_remaining_severity) {
            reasons.push(Reason::Severity { check: it.check.clone(), severity: sev });
        }
    }
    Ok(FollowUp { institution_id: institution.to_string(), before, after, items, pass: reasons.is_empty(), reasons })
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
        html::tier_class(&fu.after.tier),
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
        t.tier_name(&rule.max_tier)
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
                    format!("{} {}{c}{}", t.reason_tier, t.tier_name(&rule.max_tier), p.tier_badge(tier))
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
        (t.tier, p.tier_badge(&fu.before.tier), p.tier_badge(&fu.after.tier)),
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
                tier: tier.into(),
                findings: findings.len(),
                top_check: String::new(),
                contributions: vec![],
                audited: if tier == "not_audited" { vec![] } else { vec![Source::Exam] },
            }],
            findings,
            overview: vec![],
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
        assert_eq!(fu.reasons, [Reason::Tier { tier: "orange".into() }]);
        let b = run(2, "not_audited", 0.0, vec![]);
        let fu = compare(&card, &a, &b, "I1").unwrap();
        assert_eq!(fu.reasons, [Reason::NotAudited]);
        let html =
            render(&fu, &a.info, &b.info, &card, &HtmlOptions { lang: crate::report::Lang::En, ..Default::default() });
        assert!(html.contains("整改不合格") && html.contains("resolved"));
        assert!(compare(&card, &a, &b, "nope").is_err());
    }
}
