//! Per-examinee exam forensics (issue 16): every theory exam record is
//! scored on its own, against the examinees of the same paper, for
//! aberrant speed and for preknowledge of a (blindly estimated) set of
//! leaked items; the statistics are in [`model`], the joint accuracy and
//! response-time model in `stats::lnirt`.
//!
//! | id | what it says |
//! |---|---|
//! | `exam.examinee_speed` | an institution's examinees are aberrantly fast more often than their peers: other schools' examinees in the same sessions (training institution) or other centres of the region on the same paper (exam centre) |
//! | `exam.examinee_preknowledge` | the same for the preknowledge statistic |
//! | `exam.examinee_lead` | the exam centre's examinees whose combined statistic passes BH over all examinees (weight 0: leads on people, not evidence against the centre) |
//!
//! A *bank* is operation × theory: the item ids answered on that paper
//! across the whole dataset (all centres). Each examinee's p is Fisher's
//! combination of their speed p and preknowledge p; BH runs over all
//! examinees; every row goes to `examinees.csv`. Institutions (as exam
//! centre and as training institution) are tested by the number of their
//! examinees whose component p reaches `lead_p` (Poisson-binomial tail):
//! a training institution against the other schools' examinees in the
//! same exam sessions (falling back to the same centre and paper, then to
//! the region and paper), so a school is not charged for a relayed
//! session; an exam centre against the other centres of the region on the
//! same paper, leaving out examinees whose school is itself found. BH
//! within each role.
//!
//! Fairness: group differences look like leakage (a region's schooling, a
//! training route); the flags are leads relative to peers of the same
//! background and every text says so.

pub mod model;
pub mod sim;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Deserialize;

use super::exam::Cell;
use super::{ColKind, EvidenceTable, ExamineeCheck, Finding, SubjectKind};
use crate::dataset::intern::{Interner, Sym};
use crate::dataset::rows::{group_by, Part, Tables};
use crate::model::Operations;
use crate::stats::fdr::bh_adjust;
use crate::stats::lnirt::{Bank, FitOptions};
use model::{bank_stats, PersonStat, Settings};

/// `[params.examinee]` in `models/scorecard.toml` (each value is sourced there).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Answers an examinee needs for the model statistics.
    pub min_items: usize,
    /// Examinees a paper (or a speed population) needs before it is fitted.
    pub min_population: usize,
    /// Answers needed on each side of the suspected set.
    pub min_set_items: usize,
    /// Robust z of an item's fast-and-right statistic that puts it in the set.
    pub item_z: f64,
    /// ... or is among this top share of the items by that statistic.
    pub min_set_share: f64,
    /// Rounds of item-set estimation.
    pub rounds: u32,
    /// Later rounds weight examinees whose preknowledge z reached this by 1 ...
    pub focus_z: f64,
    /// ... and the others by this.
    pub background_weight: f64,
    /// Floor of the MAD of speeds (log units).
    pub min_log_scale: f64,
    pub max_iter: u32,
    pub tol: f64,
    /// BH level over examinees and over institutions.
    pub fdr_q: f64,
    /// q at which a severity's statistical part is full.
    pub full_q: f64,
    /// An examinee's component p below this counts as a lead for the
    /// institution tests.
    pub lead_p: f64,
    /// Leading digits of the region code that define peers.
    pub peer_region_digits: usize,
    /// Pseudo-count of examinees shrinking a peer rate to the paper's rate.
    pub peer_prior: f64,
    /// Pseudo-count of examinees shrinking a session's rate (other schools)
    /// to the centre × paper rate, and that to the region × paper rate.
    pub session_prior: f64,
    pub min_leads: u32,
    pub min_excess_share: f64,
    pub full_excess_share: f64,
    pub max_evidence_rows: usize,
}

impl Params {
    fn settings(&self) -> Settings {
        Settings {
            min_items: self.min_items,
            min_population: self.min_population,
            min_set_items: self.min_set_items,
            item_z: self.item_z,
            min_set_share: self.min_set_share,
            rounds: self.rounds,
            focus_z: self.focus_z,
            background_weight: self.background_weight,
            min_log_scale: self.min_log_scale,
            fit: FitOptions { max_iter: self.max_iter, tol: self.tol },
        }
    }
}

/// One line of `--suspect-items`: an item id, optionally restricted to an
/// operation (code or Chinese name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspectItem {
    pub item_id: String,
    pub operation: Option<String>,
}

/// One row of `examinees.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExamineeRow {
    pub record_id: String,
    pub person_id: String,
    pub exam_institution_id: String,
    pub training_institution_id: String,
    pub speed_z: Option<f64>,
    pub preknowledge_z: Option<f64>,
    pub p_value: f64,
    pub q_value: f64,
}

/// What the analysis returns: the rows (sorted by record id) and findings.
#[derive(Debug, Clone, Default)]
pub struct Examinees {
    pub rows: Vec<ExamineeRow>,
    pub findings: Vec<Finding>,
}

const FAIR_ZH: &str = "考生层面的标记只是与相同背景（同一地区、同一试卷）考生相比得出的线索，不是作弊认定；地区、培训途径等群体差异也可能造成类似的统计表现，须调取录像、答题记录并询问核实后方可处理。";
const FAIR_EN: &str = "Examinee flags are leads relative to examinees of the same background (same region, same paper), never verdicts; group differences (region, training route) can look alike, so verify with video, answer logs and interviews before acting.";

/// Per examinee, what the findings need besides the row.
struct Scored {
    record: u32,
    bank: usize,
    stat: PersonStat,
    /// BH q over all examinees.
    q: f64,
}

/// The analysis on plain tables.
pub fn analyse(t: &Tables, ops: Option<&Operations>, p: &Params, suspect: &[SuspectItem]) -> Examinees {
    let (Some(sessions), Some(records)) = (&t.exam_sessions, &t.exam_records) else {
        return Examinees::default();
    };
    // Banks: operation × theory, in a fixed order.
    let mut cells: BTreeMap<Cell, usize> = BTreeMap::new();
    for s in sessions.iter().filter(|s| s.part == Part::Theory) {
        let n = cells.len();
        cells.entry(Cell::of(s.operation, s.part)).or_insert(n);
    }
    if cells.is_empty() {
        return Examinees::default();
    }
    let bank_of_session: Vec<usize> = sessions
        .iter()
        .map(|s| if s.part == Part::Theory { cells[&Cell::of(s.operation, s.part)] } else { cells.len() })
        .collect();
    let bank_ops: Vec<crate::dataset::rows::OpRef> = {
        let mut v = vec![None; cells.len()];
        for (s, &b) in sessions.iter().zip(&bank_of_session) {
            if b < cells.len() && v[b].is_none() {
                v[b] = Some(s.operation);
            }
        }
        v.into_iter().flatten().collect()
    };
    let (bank_off, bank_recs) =
        group_by(cells.len() + 1, records.iter().map(|r| bank_of_session[r.session as usize] as u32));
    let empty = Vec::new();
    let responses = t.exam_responses.as_ref().unwrap_or(&empty);
    let (rec_off, rec_rows) = group_by(records.len(), responses.iter().map(|r| r.record));
    let settings = p.settings();

    let per_bank: Vec<Vec<Scored>> = (0..cells.len())
        .into_par_iter()
        .map_init(
            || vec![u32::MAX; t.strings.len()],
            |slot, b| {
                let recs = &bank_recs[bank_off[b] as usize..bank_off[b + 1] as usize];
                let mut bank = Bank { off: vec![0], ..Default::default() };
                let mut item_syms: Vec<Sym> = Vec::new();
                let (mut log_sit, mut score) = (Vec::with_capacity(recs.len()), Vec::with_capacity(recs.len()));
                for &r in recs {
                    let rec = &records[r as usize];
                    for &k in &rec_rows[rec_off[r as usize] as usize..rec_off[r as usize + 1] as usize] {
                        let resp = &responses[k as usize];
                        let s = &mut slot[resp.item.0 as usize];
                        if *s == u32::MAX {
                            *s = item_syms.len() as u32;
                            item_syms.push(resp.item);
                        }
                        bank.items.push(*s);
                        bank.x.push(u8::from(resp.answer != Interner::EMPTY && resp.answer == resp.key));
                        bank.logt.push(match resp.seconds {
                            Some(s) if s > 0.0 && s.is_finite() => s.ln(),
                            _ => f32::NAN,
                        });
                    }
                    bank.off.push(bank.items.len() as u32);
                    log_sit.push(match (rec.login_at, rec.submit_at) {
                        (Some(a), Some(z)) if z > a => ((z - a) as f64).ln(),
                        _ => f64::NAN,
                    });
                    score.push(rec.score as f64);
                }
                bank.n_items = item_syms.len();
                for s in &item_syms {
                    slot[s.0 as usize] = u32::MAX;
                }
                let outside = outside_set(t, ops, bank_ops.get(b).copied(), &item_syms, suspect);
                let st = bank_stats(&bank, &log_sit, &score, outside.as_deref(), &settings);
                recs.iter()
                    .zip(st.persons)
                    .map(|(&record, stat)| Scored { record, bank: b, stat, q: f64::NAN })
                    .collect()
            },
        )
        .collect();
    let mut scored: Vec<Scored> = per_bank.into_iter().flatten().filter(|s| s.stat.p.is_finite()).collect();
    scored.sort_by(|a, b| t.s(records[a.record as usize].id).cmp(t.s(records[b.record as usize].id)));
    let q = bh_adjust(&scored.iter().map(|s| s.stat.p).collect::<Vec<_>>());
    for (s, &q) in scored.iter_mut().zip(&q) {
        s.q = q;
    }
    let rows: Vec<ExamineeRow> = scored
        .iter()
        .zip(&q)
        .map(|(s, &q)| {
            let r = &records[s.record as usize];
            ExamineeRow {
                record_id: t.s(r.id).to_string(),
                person_id: t.s(r.person).to_string(),
                exam_institution_id: t.inst_id(sessions[r.session as usize].inst).to_string(),
                training_institution_id: r.training_inst.map(|i| t.inst_id(i).to_string()).unwrap_or_default(),
                speed_z: s.stat.speed_z,
                preknowledge_z: s.stat.pk_z,
                p_value: s.stat.p,
                q_value: q,
            }
        })
        .collect();
    let bank_label: Vec<String> = bank_ops
        .iter()
        .map(|o| match (o.op, ops) {
            (Some(i), Some(m)) => m.get(i).name.clone(),
            _ => t.s(o.raw).to_string(),
        })
        .collect();
    let mut findings = lead_findings(t, &scored, &bank_label, p);
    findings.extend(institution_findings(t, &scored, &bank_label, p));
    Examinees { rows, findings }
}

/// The bank's items named in the outside list (`None` without a match).
fn outside_set(
    t: &Tables,
    ops: Option<&Operations>,
    op: Option<crate::dataset::rows::OpRef>,
    items: &[Sym],
    suspect: &[SuspectItem],
) -> Option<Vec<bool>> {
    if suspect.is_empty() {
        return None;
    }
    let op_matches = |name: &Option<String>| match (name, op) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(n), Some(o)) => {
            let n = n.trim();
            n == t.s(o.raw) || (o.op.is_some() && ops.and_then(|m| m.resolve(n)) == o.op)
        }
    };
    let set: Vec<bool> =
        items.iter().map(|&s| suspect.iter().any(|x| x.item_id.trim() == t.s(s) && op_matches(&x.operation))).collect();
    set.iter().any(|&b| b).then_some(set)
}

fn strength(q: f64, p: &Params) -> f64 {
    let span = (p.fdr_q / p.full_q).log10().max(1e-9);
    ((p.fdr_q / q.max(1e-300)).log10() / span).clamp(0.0, 1.0)
}

fn fmt(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite()).map(|v| format!("{v:.2}")).unwrap_or_default()
}

fn fmt_p(x: f64) -> String {
    super::exam::fmt_p(x)
}

const COLUMNS: [(&str, ColKind); 12] = [
    ("record_id", ColKind::Text),
    ("person_id", ColKind::PersonId),
    ("paper", ColKind::Text),
    ("speed_z", ColKind::Number),
    ("z_speed_vs_peers", ColKind::Number),
    ("z_speed_given_ability", ColKind::Number),
    ("L_s", ColKind::Number),
    ("Lambda_s", ColKind::Number),
    ("items_in_set", ColKind::Number),
    ("preknowledge_z", ColKind::Number),
    ("p", ColKind::Number),
    ("q", ColKind::Number),
];

fn evidence_row(t: &Tables, s: &Scored, labels: &[String]) -> Vec<String> {
    let r = t.exam_records.as_ref().map(|v| &v[s.record as usize]);
    let (id, person) = r.map(|r| (t.s(r.id).to_string(), t.s(r.person).to_string())).unwrap_or_default();
    let st = &s.stat;
    let has_speed = st.p_speed.is_some();
    vec![
        id,
        person,
        format!("{}{}", labels[s.bank], if st.speed_from_items || !has_speed { "" } else { " (sitting time)" }),
        fmt(st.speed_z),
        fmt(has_speed.then_some(st.z_speed)),
        fmt(has_speed.then_some(st.z_residual)),
        fmt(st.l_s),
        fmt(st.lambda_s),
        if st.pk_z.is_some() { st.n_set.to_string() } else { String::new() },
        fmt(st.pk_z),
        fmt_p(st.p),
        fmt_p(s.q),
    ]
}

/// `exam.examinee_lead`: one finding per exam centre with examinees at q < fdr_q.
fn lead_findings(t: &Tables, scored: &[Scored], labels: &[String], p: &Params) -> Vec<Finding> {
    let q: Vec<f64> = scored.iter().map(|s| s.q).collect();
    let (Some(sessions), Some(records)) = (&t.exam_sessions, &t.exam_records) else {
        return Vec::new();
    };
    let mut by_centre: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (k, s) in scored.iter().enumerate() {
        if q[k] < p.fdr_q {
            by_centre.entry(sessions[records[s.record as usize].session as usize].inst).or_default().push(k);
        }
    }
    by_centre
        .into_iter()
        .map(|(inst, mut ks)| {
            ks.sort_by(|&a, &b| q[a].total_cmp(&q[b]));
            let best = q[ks[0]];
            let mut table = EvidenceTable::new(
                "单独标记的考生（与同卷考生相比）",
                "Examinees singled out (against examinees of the same paper)",
                "derived",
                &COLUMNS,
            );
            let mut f = Finding::new(t.inst_id(inst), ExamineeCheck::ExamineeLead, strength(best, p));
            for &k in &ks {
                table.push_limited(evidence_row(t, &scored[k], labels), p.max_evidence_rows);
                let rid = t.s(records[scored[k].record as usize].id);
                f = f.flag(SubjectKind::ExamRecord, rid, strength(q[k], p));
            }
            let n = ks.len();
            f.stat(n as f64, Some(best))
                .summary(
                    format!("{n} 名考生的个人作答速度或预知题目统计量异常（最小 q = {}），为待核实线索", fmt_p(best)),
                    format!(
                        "{n} examinees with aberrant speed or preknowledge statistics (smallest q = {}): leads to verify",
                        fmt_p(best)
                    ),
                )
                .method(
                    format!("每名考生与全省同一试卷考生比较：速度（对数作答时间模型的速度参数 τ 或交卷用时，及扣除能力后的速度），以及对从数据中估计的疑似泄露题目的 Sinharay 符号似然比统计量 L_s（得分）与 Λ_s（用时）；Fisher 合并后对全部考生做 BH 校正，q < {} 列出。{FAIR_ZH}", p.fdr_q),
                    format!("Each examinee against all examinees of the same paper in the dataset: speed (τ of the lognormal response-time model, or the sitting time, and speed beyond what ability predicts), and Sinharay's signed likelihood ratios L_s (scores) and Λ_s (times) on a blindly estimated set of leaked items; Fisher-combined, BH over all examinees, listed at q < {}. {FAIR_EN}", p.fdr_q),
                )
                .evidence(table)
        })
        .collect()
}

/// Which component an institution finding tests.
#[derive(Clone, Copy)]
enum Component {
    Speed,
    Preknowledge,
}

impl Component {
    fn p(self, s: &PersonStat) -> Option<f64> {
        match self {
            Component::Speed => s.p_speed,
            Component::Preknowledge => s.p_pk,
        }
    }
}

/// One examinee as the institution tests see it.
#[derive(Debug, Clone, Copy)]
struct Unit {
    /// Index into the scored examinees.
    k: usize,
    centre: u32,
    school: Option<u32>,
    session: u32,
    bank: usize,
    lead: bool,
}

/// One institution in one role, tested for one component.
#[derive(Debug, Clone)]
struct InstTest {
    inst: u32,
    training_role: bool,
    n: usize,
    leads: u32,
    expected: f64,
    p: f64,
    /// Indices into the scored examinees.
    members: Vec<usize>,
    /// Training role: trainees whose null rate is carried mostly by their
    /// session's other schools, by the centre's other schools on the same
    /// paper, by the centre's other schools on any paper, or by the
    /// region's other schools on the paper.
    levels: [u32; 4],
    /// Centre role: examinees left out because their school is itself found.
    excluded: u32,
}

type Count = (f64, f64);

fn bump<K: Ord>(m: &mut BTreeMap<K, Count>, key: K, lead: bool) {
    let c = m.entry(key).or_default();
    c.0 += 1.0;
    c.1 += f64::from(u8::from(lead));
}

fn get<K: Ord>(m: &BTreeMap<K, Count>, k: K) -> Count {
    m.get(&k).copied().unwrap_or_default()
}

fn minus(a: Count, b: Count) -> Count {
    ((a.0 - b.0).max(0.0), (a.1 - b.1).max(0.0))
}

/// The rate of `c` shrunk towards `prior` with the weight of `w` examinees.
fn shrunk(c: Count, prior: f64, w: f64) -> f64 {
    ((c.1 + w * prior) / (c.0 + w)).clamp(1e-6, 1.0)
}

/// The region × paper rate of the examinees not in `own`, shrunk towards
/// the paper's rate outside `own` (the peer null of both roles).
fn region_rate(cell: Count, bank: Count, own: Count, p: &Params) -> f64 {
    let rest = minus(bank, own);
    let base = (rest.1 + 0.5) / (rest.0 + 1.0);
    shrunk(minus(cell, own), base, p.peer_prior)
}

/// Training institutions: each trainee's null rate is the lead rate of the
/// other schools' examinees in the same session, shrunk towards the rate of
/// the other schools' examinees of the same centre and paper, then of the
/// same centre on any paper (the statistics are calibrated within each
/// paper), then the region × paper rate: a session or centre with few
/// others falls back to the wider level. A school whose trainees are only as fast
/// as their session-mates is not charged for the session.
fn school_tests(units: &[Unit], region: &[String], p: &Params) -> Vec<InstTest> {
    let w = p.session_prior;
    let (mut sess, mut sess_own) = (BTreeMap::new(), BTreeMap::new());
    let (mut cen, mut cen_own) = (BTreeMap::new(), BTreeMap::new());
    let (mut site, mut site_own) = (BTreeMap::new(), BTreeMap::new());
    let (mut reg, mut bank_tot, mut bank_own) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut members: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, u) in units.iter().enumerate() {
        bump(&mut sess, u.session, u.lead);
        bump(&mut cen, (u.centre, u.bank), u.lead);
        bump(&mut site, u.centre, u.lead);
        if let Some(s) = u.school {
            bump(&mut sess_own, (u.session, s), u.lead);
            bump(&mut cen_own, (u.centre, u.bank, s), u.lead);
            bump(&mut site_own, (u.centre, s), u.lead);
            bump(&mut reg, (region[s as usize].as_str(), u.bank), u.lead);
            bump(&mut bank_tot, u.bank, u.lead);
            bump(&mut bank_own, (u.bank, s), u.lead);
            members.entry(s).or_default().push(i);
        }
    }
    members
        .into_iter()
        .map(|(s, is)| {
            let mut levels = [0u32; 4];
            let ps: Vec<f64> = is
                .iter()
                .map(|&i| {
                    let u = &units[i];
                    let own = get(&bank_own, (u.bank, s));
                    let r_reg =
                        region_rate(get(&reg, (region[s as usize].as_str(), u.bank)), get(&bank_tot, u.bank), own, p);
                    let o_cen = minus(get(&cen, (u.centre, u.bank)), get(&cen_own, (u.centre, u.bank, s)));
                    let o_site = minus(get(&site, u.centre), get(&site_own, (u.centre, s)));
                    let r_cen = shrunk(o_cen, shrunk(o_site, r_reg, w), w);
                    let o_ses = minus(get(&sess, u.session), get(&sess_own, (u.session, s)));
                    levels[if o_ses.0 >= w {
                        0
                    } else if o_cen.0 >= w {
                        1
                    } else if o_site.0 >= w {
                        2
                    } else {
                        3
                    }] += 1;
                    shrunk(o_ses, r_cen, w)
                })
                .collect();
            let leads = is.iter().filter(|&&i| units[i].lead).count() as u32;
            InstTest {
                inst: s,
                training_role: true,
                n: is.len(),
                leads,
                expected: ps.iter().sum(),
                p: crate::stats::poibin::upper_tail(leads as usize, &ps),
                members: is.iter().map(|&i| units[i].k).collect(),
                levels,
                excluded: 0,
            }
        })
        .collect()
}

/// Exam centres against the other centres' examinees of the same region and
/// paper, leaving out examinees trained at a school in `found` (their
/// anomaly is explained by their school, tested within their sessions).
fn centre_tests(units: &[Unit], region: &[String], found: &[u32], p: &Params) -> Vec<InstTest> {
    let explained = |u: &Unit| u.school.is_some_and(|s| found.binary_search(&s).is_ok());
    let (mut reg, mut bank_tot, mut own) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut members: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut excluded: BTreeMap<u32, u32> = BTreeMap::new();
    for (i, u) in units.iter().enumerate() {
        if explained(u) {
            *excluded.entry(u.centre).or_default() += 1;
            continue;
        }
        bump(&mut reg, (region[u.centre as usize].as_str(), u.bank), u.lead);
        bump(&mut bank_tot, u.bank, u.lead);
        bump(&mut own, (u.centre, u.bank), u.lead);
        members.entry(u.centre).or_default().push(i);
    }
    members
        .into_iter()
        .map(|(c, is)| {
            let ps: Vec<f64> = is
                .iter()
                .map(|&i| {
                    let b = units[i].bank;
                    region_rate(get(&reg, (region[c as usize].as_str(), b)), get(&bank_tot, b), get(&own, (c, b)), p)
                })
                .collect();
            let leads = is.iter().filter(|&&i| units[i].lead).count() as u32;
            InstTest {
                inst: c,
                training_role: false,
                n: is.len(),
                leads,
                expected: ps.iter().sum(),
                p: crate::stats::poibin::upper_tail(leads as usize, &ps),
                members: is.iter().map(|&i| units[i].k).collect(),
                levels: [0; 4],
                excluded: excluded.get(&c).copied().unwrap_or(0),
            }
        })
        .collect()
}

/// BH within one family of tests; the tests that pass with their q.
fn passing(tests: Vec<InstTest>, p: &Params) -> Vec<(InstTest, f64)> {
    let q = bh_adjust(&tests.iter().map(|x| x.p).collect::<Vec<_>>());
    tests
        .into_iter()
        .zip(q)
        .filter(|(x, q)| {
            let excess = (x.leads as f64 - x.expected) / x.n as f64;
            *q < p.fdr_q && x.leads >= p.min_leads && excess >= p.min_excess_share
        })
        .collect()
}

/// Schools first (BH over schools), then centres without the found
/// schools' trainees (BH over centres); per institution the stronger role.
fn select(units: &[Unit], region: &[String], p: &Params) -> Vec<(InstTest, f64)> {
    let schools = passing(school_tests(units, region, p), p);
    let mut found: Vec<u32> = schools.iter().map(|(x, _)| x.inst).collect();
    found.sort_unstable();
    let centres = passing(centre_tests(units, region, &found, p), p);
    let mut best: BTreeMap<u32, (InstTest, f64)> = BTreeMap::new();
    for (x, q) in schools.into_iter().chain(centres) {
        match best.get(&x.inst) {
            Some((_, bq)) if *bq <= q => {}
            _ => {
                best.insert(x.inst, (x, q));
            }
        }
    }
    best.into_values().collect()
}

/// `exam.examinee_speed` / `exam.examinee_preknowledge`.
fn institution_findings(t: &Tables, scored: &[Scored], labels: &[String], p: &Params) -> Vec<Finding> {
    let (Some(sessions), Some(records)) = (&t.exam_sessions, &t.exam_records) else {
        return Vec::new();
    };
    let region: Vec<String> =
        t.institutions.iter().map(|i| t.s(i.region).chars().take(p.peer_region_digits).collect()).collect();
    let mut out = Vec::new();
    for comp in [Component::Speed, Component::Preknowledge] {
        let units: Vec<Unit> = scored
            .iter()
            .enumerate()
            .filter_map(|(k, s)| {
                let cp = comp.p(&s.stat)?;
                let r = &records[s.record as usize];
                Some(Unit {
                    k,
                    centre: sessions[r.session as usize].inst,
                    school: r.training_inst,
                    session: r.session,
                    bank: s.bank,
                    lead: cp < p.lead_p,
                })
            })
            .collect();
        for (x, q) in select(&units, &region, p) {
            out.push(inst_finding(t, &x, q, comp, scored, labels, p));
        }
    }
    out
}

fn inst_finding(
    t: &Tables,
    x: &InstTest,
    q: f64,
    comp: Component,
    scored: &[Scored],
    labels: &[String],
    p: &Params,
) -> Finding {
    let excess = (x.leads as f64 - x.expected) / x.n as f64;
    let effect = (excess / p.full_excess_share).clamp(0.0, 1.0);
    let sp = strength(q, p);
    let severity = 1.0 - (1.0 - sp) * (1.0 - effect);
    let (check, what_zh, what_en) = match comp {
        Component::Speed => {
            (ExamineeCheck::ExamineeSpeed, "作答速度异常（快于同卷考生或快于其能力所预期）", "aberrantly fast")
        }
        Component::Preknowledge => {
            (ExamineeCheck::ExamineePreknowledge, "疑似预知题目（在疑似泄露题上又快又对）", "showing preknowledge")
        }
    };
    let (role_zh, role_en) =
        if x.training_role { ("培训的", "trained here") } else { ("在本考点参考的", "examined here") };
    let mut table = EvidenceTable::new(
        "个人统计量达到线索水平的考生",
        "Examinees whose own statistic reaches the lead level",
        "derived",
        &COLUMNS,
    );
    let mut members: Vec<usize> =
        x.members.iter().copied().filter(|&k| comp.p(&scored[k].stat).is_some_and(|v| v < p.lead_p)).collect();
    members.sort_by(|&a, &b| comp.p(&scored[a].stat).unwrap_or(1.0).total_cmp(&comp.p(&scored[b].stat).unwrap_or(1.0)));
    let mut f = Finding::new(t.inst_id(x.inst), check, severity);
    let records = t.exam_records.as_deref().unwrap_or(&[]);
    for &k in &members {
        let cp = comp.p(&scored[k].stat).unwrap_or(1.0);
        table.push_limited(evidence_row(t, &scored[k], labels), p.max_evidence_rows);
        f = f.flag(
            SubjectKind::ExamRecord,
            t.s(records[scored[k].record as usize].id),
            (1.0 - cp / p.lead_p).clamp(0.0, 1.0) * sp,
        );
    }
    let (null_zh, null_en, method_zh, method_en) = if x.training_role {
        let [ses, cen, site, reg] = x.levels;
        (
            format!(
                "按同场次其他培训机构考生的比率预期 {:.1} 名（{ses} 名考生以同场次为准，{cen} 名因同场次其他考生不足改用同考点同卷，{site} 名改用同考点各卷，{reg} 名改用同地区同卷）",
                x.expected
            ),
            format!(
                "{:.1} expected at the rate of other schools' examinees in the same sessions ({ses} trainees against their session, {cen} with too few others in the session against the same centre and paper, {site} against the same centre on any paper, {reg} against the region and paper)",
                x.expected
            ),
            format!(
                "考生个人统计量 p < {lead} 计为线索。零假设：本机构每名学员成为线索的概率等于同一考试场次中其他培训机构考生的线索比率（以 {w} 名考生的权重依次向同考点同卷、同考点各卷其他机构考生的比率收缩，最后向同地区（行政区划前 {d} 位）同卷比率收缩；个人统计量均在本卷内校准，故各卷线索比率可比；场次或考点其他考生不足时即以上一级为准）。因此整场作答都快（考点的问题）不计入培训机构，只有学员在混合场次中明显快于同场考生才计入。泊松二项上尾检验，对全部培训机构做 BH 校正（q < {fq}）。{FAIR_ZH}",
                lead = p.lead_p, w = p.session_prior, d = p.peer_region_digits, fq = p.fdr_q
            ),
            format!(
                "An examinee whose own p < {lead} is a lead. Null: each trainee is a lead at the rate of the other schools' examinees in the same exam session, shrunk with the weight of {w} examinees towards the rate of the other schools' examinees of the same centre and paper, then of the same centre on any paper (each examinee's statistic is calibrated within its paper, so lead rates are comparable), then the region (first {d} digits) × paper rate, so a session or centre with few others falls back to the wider level. A whole session answering fast (the centre's doing) is not charged to the school; trainees who stand out within mixed sessions are. Poisson-binomial upper tail, BH over training institutions (q < {fq}). {FAIR_EN}",
                lead = p.lead_p, w = p.session_prior, d = p.peer_region_digits, fq = p.fdr_q
            ),
        )
    } else {
        let ex_zh = if x.excluded > 0 {
            format!("；另有 {} 名考生的培训机构本身被检出，其异常归于培训机构，不计入本考点", x.excluded)
        } else {
            String::new()
        };
        let ex_en = if x.excluded > 0 {
            format!(
                "; {} more examinees whose school is itself found are left out (their anomaly is the school's)",
                x.excluded
            )
        } else {
            String::new()
        };
        (
            format!("同地区同卷考生的比率预期 {:.1} 名{ex_zh}", x.expected),
            format!("{:.1} expected at the rate of peers of the same region and paper{ex_en}", x.expected),
            format!(
                "考生个人统计量 p < {} 计为线索；零假设为本考点考生与同地区（行政区划前 {} 位）其他考点同卷考生的线索比率相同；培训机构已被检出（学员在同场次中明显偏快）的考生不计入考点及其同类。泊松二项上尾检验，对全部考点做 BH 校正（q < {}）。{FAIR_ZH}",
                p.lead_p, p.peer_region_digits, p.fdr_q
            ),
            format!(
                "An examinee whose own p < {} is a lead; null: the centre's examinees are leads at the rate of examinees of the same paper at other centres of the region (first {} digits of the code); examinees of a school that is itself found (its trainees stand out within their sessions) are left out of the centre and its peers. Poisson-binomial upper tail, BH over exam centres (q < {}). {FAIR_EN}",
                p.lead_p, p.peer_region_digits, p.fdr_q
            ),
        )
    };
    f.stat(x.leads as f64 / x.expected.max(1e-9), Some(q))
        .summary(
            format!("{role_zh} {} 名考生中 {} 名{what_zh}，{null_zh}（q = {}）", x.n, x.leads, fmt_p(q)),
            format!("{} of {} examinees {role_en} {what_en}, {null_en} (q = {})", x.leads, x.n, fmt_p(q)),
        )
        .method(method_zh, method_en)
        .evidence(table)
}

/// Runs on a check context (what `checks::run_checks` calls).
pub fn run(ctx: &super::Ctx, suspect: &[SuspectItem]) -> Examinees {
    analyse(ctx.t, Some(ctx.ops), &ctx.params.examinee, suspect)
}

#[cfg(test)]
mod tests;
