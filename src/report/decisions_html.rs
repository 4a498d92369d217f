//! The inspector's decisions on the report pages (`kaopei report`): on an
//! institution's page, the decisions in force on its findings (a dismissal
//! with its reason); on the index, how often each check was dismissed, so
//! weak checks become visible. Added to the rendered pages before their
//! footer.

use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::case::{self, Decision};
use crate::model::Scorecard;
use crate::report::html::esc;

fn title(card: &Scorecard, check: &str) -> String {
    if check.is_empty() {
        return "（机构）".into();
    }
    card.check(check).map_or_else(|| esc(check), |c| format!("{} <code>{}</code>", esc(&c.title_zh), esc(check)))
}

/// The decisions in force about `institution` on run `run_id`, as a section.
pub fn institution_section(all: &[Decision], institution: &str, run_id: i64, card: &Scorecard) -> String {
    let mine: Vec<Decision> =
        all.iter().filter(|d| d.institution_id == institution && d.audit_run == run_id).cloned().collect();
    if mine.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        r#"<section id="decisions"><h2>检查人员决定</h2><table><thead><tr><th>编号</th><th>问题</th><th>决定</th><th>理由 / 整改事项</th><th>期限 / 金额</th><th>决定人</th><th>时间</th></tr></thead><tbody>"#,
    );
    for d in case::effective(&mine) {
        let detail = if d.items.is_empty() { d.reason.clone() } else { d.items.join("；") };
        let when = match (&d.deadline, d.amount_wan) {
            (Some(x), _) => x.clone(),
            (None, Some(a)) => format!("{a:.2} 万元"),
            _ => String::new(),
        };
        let _ = write!(
            s,
            r#"<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            d.action.as_str(),
            d.id,
            title(card, &d.check_id),
            d.action.zh(),
            esc(&detail),
            esc(&when),
            esc(&d.decided_by),
            esc(&d.decided_at)
        );
    }
    s.push_str("</tbody></table></section>");
    s
}

/// Dismissal rates per check over every decision, as a section.
pub fn rates_section(all: &[Decision], card: &Scorecard) -> String {
    let rates = case::dismissal_rates(all);
    if rates.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        r#"<section id="dismissals"><h2>各检查项的不予认定比例</h2><p class="method">每个机构每个检查项按其最新有效决定计一次。比例高的检查项需要复核其规则。</p><table><thead><tr><th>检查项</th><th class="num">已决定</th><th class="num">不予认定</th><th class="num">比例</th></tr></thead><tbody>"#,
    );
    for r in rates {
        let _ = write!(
            s,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{:.0}%</td></tr>"#,
            title(card, &r.check_id),
            r.decided,
            r.dismissed,
            100.0 * r.rate()
        );
    }
    s.push_str("</tbody></table></section>");
    s
}

/// Adds `section` to the page at `path` before its footer (or at the end).
pub fn inject(path: &Path, section: &str) -> Result<()> {
    if section.is_empty() {
        return Ok(());
    }
    let page = std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let page = match page.rfind("<footer>") {
        Some(i) => format!("{}{section}{}", &page[..i], &page[i..]),
        None => format!("{page}{section}"),
    };
    crate::output::write_atomic(path, page.as_bytes()).with_context(|| format!("cannot write `{}`", path.display()))
}
