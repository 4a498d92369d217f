//! The official forms of the case: the 整改通知书 (rectification notice)
//! built from an institution's *confirmed* findings, and the 复查意见书
//! (review opinion) after the follow-up. Both are [`Document`]s rendered
//! to DOCX (editable) and HTML (printed to PDF).
//!
//! The legal basis comes from `models/legal_basis.toml`: a provision is
//! cited only when an entry with its source says so; one whose source is
//! an unconfirmed reprint is printed with 〔条款待核〕, and a check without
//! an entry gets `依据：____` for the inspector. Nothing here invents an
//! article.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::case::{self, Action, Decision, Standing};
use crate::checks::Finding;
use crate::model::Scorecard;
use crate::report::document::{Block, Document};
use crate::report::mask;
use crate::run::RunInfo;
use crate::score::InstScore;

pub const BUILTIN_LEGAL_BASIS: &str = include_str!("../../models/legal_basis.toml");

/// One provision with where its text was read.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Provision {
    pub law: String,
    pub article: String,
    pub text: String,
    pub source: String,
    /// `verified` or `uncertain`.
    pub status: String,
}

/// `models/legal_basis.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LegalBasis {
    pub version: String,
    pub provisions: BTreeMap<String, Provision>,
    /// check id → provision keys.
    pub checks: BTreeMap<String, Vec<String>>,
}

impl LegalBasis {
    /// From `DIR/legal_basis.toml` when given and present, else the built-in copy.
    pub fn load(dir: Option<&Path>) -> Result<LegalBasis> {
        let (text, name) = match dir.map(|d| d.join("legal_basis.toml")).filter(|p| p.is_file()) {
            Some(p) => (
                std::fs::read_to_string(&p).with_context(|| format!("cannot read `{}`", p.display()))?,
                p.display().to_string(),
            ),
            None => (BUILTIN_LEGAL_BASIS.to_string(), "built-in legal_basis.toml".to_string()),
        };
        let lb: LegalBasis = toml::from_str(&text).with_context(|| format!("{name} is not valid"))?;
        for (check, keys) in &lb.checks {
            for k in keys {
                let p = lb
                    .provisions
                    .get(k)
                    .with_context(|| format!("{name}: check `{check}` cites unknown provision `{k}`"))?;
                if p.source.trim().is_empty() {
                    anyhow::bail!("{name}: provision `{k}` has no source");
                }
                if p.status != "verified" && p.status != "uncertain" {
                    anyhow::bail!("{name}: provision `{k}` status `{}` is not verified/uncertain", p.status);
                }
            }
        }
        Ok(lb)
    }

    /// The lines citing what `check` breaks: `依据：____` when nothing is known.
    pub fn citation(&self, check: &str) -> Vec<String> {
        let keys = self.checks.get(check).map(Vec::as_slice).unwrap_or(&[]);
        let lines: Vec<String> = keys
            .iter()
            .filter_map(|k| self.provisions.get(k))
            .map(|p| {
                let mark =
                    if p.status == "verified" { String::new() } else { format!("〔条款待核：{}〕", p.source) };
                format!("依据：{}{}：“{}”{mark}", p.law, p.article, p.text)
            })
            .collect();
        if lines.is_empty() {
            vec!["依据：____".to_string()]
        } else {
            lines
        }
    }
}

/// What a notice is built from.
pub struct NoticeInput<'a> {
    pub inst: &'a InstScore,
    pub run: &'a RunInfo,
    /// The run's findings of this institution (only confirmed ones are used).
    pub findings: Vec<&'a Finding>,
    pub decisions: &'a [Decision],
    pub legal: &'a LegalBasis,
    pub card: &'a Scorecard,
    /// The ledger's head hash when the notice was made.
    pub ledger_head: String,
    pub unmasked: bool,
}

/// How many flagged record ids a notice lists per finding.
const IDS_SHOWN: usize = 12;
/// How many cited records the evidence list shows per finding.
const ROWS_SHOWN: usize = 20;

fn show_id(s: &str, unmasked: bool) -> String {
    if unmasked {
        s.to_string()
    } else {
        mask::redact_text(s)
    }
}

const NUMS: [&str; 20] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六", "十七",
    "十八", "十九", "二十",
];

fn num(i: usize) -> String {
    NUMS.get(i).map_or_else(|| (i + 1).to_string(), |s| s.to_string())
}

fn period_text(p: &Option<(String, String)>) -> String {
    p.as_ref().map_or_else(|| "____".to_string(), |(a, b)| format!("{a} 至 {b}"))
}

/// The confirmed checks of an institution, in scorecard order (weight).
pub fn confirmed_checks(findings: &[&Finding], decisions: &[Decision], institution: &str) -> Vec<String> {
    let mut checks: Vec<String> = findings
        .iter()
        .filter(|f| f.institution_id == institution)
        .map(|f| f.check.clone())
        .filter(|c| case::standing(decisions, institution, c) == Standing::Confirmed)
        .collect();
    checks.sort();
    checks.dedup();
    checks
}

/// The 整改通知书.
pub fn rectification_notice(n: &NoticeInput) -> Document {
    let id = &n.inst.institution_id;
    let checks = confirmed_checks(&n.findings, n.decisions, id);
    let (orders, deadline) = case::rectification(n.decisions, id);
    let eff = case::effective(n.decisions);
    let period =
        eff.iter().filter(|d| d.institution_id == *id).find_map(|d| d.period.clone()).or_else(|| n.run.period.clone());
    let mut b = vec![
        Block::Kicker("________（发文机关名称）".into()),
        Block::Title("整改通知书".into()),
        Block::Kicker("编号：____〔____〕第____号".into()),
        Block::Plain(format!("{}（机构代码：{id}，行政区划：{}）：", n.inst.name, n.inst.region)),
        Block::Para(format!(
            "根据安全生产培训考试专项整治工作部署，我单位对你单位 {} 期间的培训、考试、发证及监控记录进行了核查（数据集：{}；核查运行编号 {}，{}）。经逐项核实，认定存在下列问题：",
            period_text(&period),
            show_id(&n.run.dataset, n.unmasked),
            n.run.run_id,
            n.run.started_at
        )),
    ];
    let mut evidence_rows: Vec<Vec<String>> = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        let title = n.card.check(check).map_or_else(|| check.clone(), |c| c.title_zh.clone());
        b.push(Block::Heading(format!("{}、{title}（检查项 {check}）", num(i))));
        let fs: Vec<&&Finding> = n.findings.iter().filter(|f| f.check == *check).collect();
        for f in &fs {
            b.push(Block::Para(format!("事实：{}", show_id(&f.summary_zh, n.unmasked))));
            if !f.method_zh.is_empty() {
                b.push(Block::Para(format!("核查方法：{}", show_id(&f.method_zh, n.unmasked))));
            }
            let mut refs: Vec<String> = f
                .evidence
                .iter()
                .map(|t| {
                    let cut = if t.rows.len() < t.total_rows {
                        format!("，报告列出前 {} 行，其余见证据包 evidence/ 目录", t.rows.len())
                    } else {
                        String::new()
                    };
                    format!("{}（来源：{}，共 {} 行{cut}）", t.title_zh, t.source, t.total_rows)
                })
                .collect();
            if !f.flags.is_empty() {
                let ids: Vec<String> =
                    f.flags.iter().take(IDS_SHOWN).map(|g| show_id(&g.subject_id, n.unmasked)).collect();
                let more = if f.flags.len() > IDS_SHOWN {
                    format!(" 等，共 {} 条，完整清单见证据包 evidence/flags.csv", f.flags.len())
                } else {
                    format!("，共 {} 条", f.flags.len())
                };
                refs.push(format!("涉及记录：{}{more}", ids.join("、")));
            }
            if !f.frames.is_empty() {
                refs.push(format!("监控画面 {} 帧（见证据包 frames/ 目录）", f.frames.len()));
            }
            if !refs.is_empty() {
                b.push(Block::Para(format!("证据：{}。", refs.join("；"))));
            }
        }
        for line in n.legal.citation(check) {
            b.push(Block::Para(line));
        }
        let mut items: Vec<String> =
            orders.iter().filter(|d| d.check_id == *check).flat_map(|d| d.items.iter().cloned()).collect();
        if items.is_empty() {
            items.extend(n.card.check(check).map(|c| c.action_zh.clone()));
        }
        if items.is_empty() {
            items.push("____".into());
        }
        b.push(Block::Para(format!("整改要求：{}", items.join("；"))));
        // The cited records behind the confirmation (file, record, line).
        let cited: Vec<&case::CitedRow> = eff
            .iter()
            .filter(|d| {
                d.institution_id == *id && d.check_id == *check && matches!(d.action, Action::Confirm | Action::Rectify)
            })
            .max_by_key(|d| d.id)
            .map(|d| d.cited.iter().collect())
            .unwrap_or_default();
        for r in cited.iter().take(ROWS_SHOWN) {
            evidence_rows.push(vec![
                num(i),
                format!("{}.csv", r.table),
                show_id(&r.key, n.unmasked),
                r.line.to_string(),
            ]);
        }
        if cited.len() > ROWS_SHOWN {
            evidence_rows.push(vec![
                num(i),
                "—".into(),
                format!("其余 {} 条见证据包 evidence/records_*.csv", cited.len() - ROWS_SHOWN),
                "—".into(),
            ]);
        }
    }
    if checks.is_empty() {
        b.push(Block::Para("（尚无经认定的问题：请先用 kaopei decide 认定。）".into()));
    }
    let deadline_text = deadline.as_deref().map_or_else(|| "____年____月____日".to_string(), str::to_string);
    b.push(Block::Heading("整改期限".into()));
    b.push(Block::Para(format!(
        "请你单位于 {deadline_text} 前完成上述问题的整改，并将整改情况连同证明材料书面报送我单位。整改合格后方可从事培训考试工作。逾期未整改或者整改不合格的，将依法依规处理。"
    )));
    for d in eff
        .iter()
        .filter(|d| d.institution_id == *id && matches!(d.action, Action::Suspend | Action::Fine | Action::Refer))
    {
        let what = match d.action {
            Action::Fine => format!("罚款 {:.2} 万元", d.amount_wan.unwrap_or(0.0)),
            a => a.zh().to_string(),
        };
        b.push(Block::Para(format!(
            "另：{what}（{}，{}）{}",
            d.decided_by,
            d.decided_at,
            if d.reason.is_empty() { String::new() } else { format!("：{}", d.reason) }
        )));
    }
    if !evidence_rows.is_empty() {
        b.push(Block::Heading("附：证据记录清单".into()));
        b.push(Block::Table {
            header: vec!["问题".into(), "文件".into(), "记录编号".into(), "行号".into()],
            rows: evidence_rows,
        });
    }
    let inspectors: Vec<String> = {
        let mut v: Vec<String> = eff.iter().filter(|d| d.institution_id == *id).map(|d| d.decided_by.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    b.push(Block::Sign(vec![
        format!(
            "检查人员：{}    执法证号：____",
            if inspectors.is_empty() { "____".to_string() } else { inspectors.join("、") }
        ),
        "________（发文机关，盖章）".into(),
        "____年____月____日".into(),
    ]));
    b.push(Block::Plain("被检查单位签收：________    签收日期：____年____月____日".into()));
    b.push(Block::Small(format!(
        "校验信息：本通知书依据 kaopei 存储账本生成，账本头哈希 {}；核查运行 {} 。可用 kaopei verify --bundle 核对证据包，或将此哈希与存储比对。",
        n.ledger_head, n.run.run_id
    )));
    Document { title: format!("整改通知书 · {}", n.inst.name), blocks: b }
}

/// One item of the review opinion.
pub struct ReviewItem {
    pub title: String,
    pub check: String,
    pub status: String,
    pub detail: String,
}

/// What a review opinion is built from (filled by the follow-up).
pub struct ReviewInput<'a> {
    pub inst: &'a InstScore,
    pub verdict: String,
    pub period_before: Option<(String, String)>,
    pub period_after: Option<(String, String)>,
    pub run_before: i64,
    pub run_after: i64,
    pub deadline: Option<String>,
    /// Changed or removed earlier records: (file, record, field, old → new).
    pub changes: Vec<[String; 4]>,
    pub items: Vec<ReviewItem>,
    pub reasons: Vec<String>,
    pub ledger_head: String,
}

/// The 复查意见书.
pub fn review_opinion(r: &ReviewInput) -> Document {
    let mut b = vec![
        Block::Kicker("________（发文机关名称）".into()),
        Block::Title("复查意见书".into()),
        Block::Kicker("编号：____〔____〕第____号".into()),
        Block::Plain(format!("{}（机构代码：{}）：", r.inst.name, r.inst.institution_id)),
        Block::Para(format!(
            "我单位依据整改通知书（整改期限：{}），对你单位的整改情况进行了复查。原核查期间 {}（运行 {}），复查期间 {}（运行 {}）。",
            r.deadline.as_deref().unwrap_or("____"),
            period_text(&r.period_before),
            r.run_before,
            period_text(&r.period_after),
            r.run_after
        )),
        Block::Heading(format!("复查结论：{}", r.verdict)),
    ];
    if !r.changes.is_empty() {
        b.push(Block::Para(format!(
            "原核查所依据的 {} 处记录在复查数据中被改动或删除，无法认定整改：",
            r.changes.len()
        )));
        b.push(Block::Table {
            header: vec!["文件".into(), "记录".into(), "字段".into(), "原值 → 现值".into()],
            rows: r.changes.iter().map(|c| c.to_vec()).collect(),
        });
    }
    for reason in &r.reasons {
        b.push(Block::Para(reason.clone()));
    }
    b.push(Block::Heading("逐项复查情况".into()));
    b.push(Block::Table {
        header: vec!["问题".into(), "检查项".into(), "复查结果".into(), "说明".into()],
        rows: r
            .items
            .iter()
            .map(|i| vec![i.title.clone(), i.check.clone(), i.status.clone(), i.detail.clone()])
            .collect(),
    });
    b.push(Block::Sign(vec![
        "复查人员：____    执法证号：____".into(),
        "________（发文机关，盖章）".into(),
        "____年____月____日".into(),
    ]));
    b.push(Block::Small(format!("校验信息：账本头哈希 {}。", r.ledger_head)));
    Document { title: format!("复查意见书 · {}", r.inst.name), blocks: b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_legal_basis_cites_only_sourced_provisions() {
        let lb = LegalBasis::load(None).unwrap();
        assert!(lb.provisions.values().all(|p| !p.source.is_empty()));
        let c = lb.citation("cert.no_passing_exam");
        assert!(c.iter().all(|l| l.contains("〔条款待核")), "{c:?}");
        assert_eq!(lb.citation("exam.face_mismatch"), ["依据：____"]);
    }
}
