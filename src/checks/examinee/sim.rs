//! A simulated province for the examinee statistics (tests and the
//! benchmark), independent of `synth`'s relay pattern. The design follows
//! the preknowledge simulations of Sinharay (2020, J. Educ. Behav. Stat.):
//! examinees answer by a hierarchical model (2PL accuracy, lognormal
//! response times, correlated ability and speed); a share of the bank's
//! items is leaked; a share of examinees knows them and, on those items,
//! answers right with a high probability and faster, each examinee's gain
//! and speed-up drawn from a range. Separately, a share of examinees is
//! aberrantly fast throughout (extreme speed, normal accuracy).
//!
//! Ranges used (stated here so tests can quote them): θ ~ N(0, 1), τ ~
//! N(0, 0.3²) with corr(θ, τ) = 0.3, a ~ U(0.7, 1.4), b ~ N(0, 1), β ~
//! N(3.5, 0.4²) (≈ 33 s an item), α ~ U(1.5, 2.5); preknowledge: P(right)
//! on a leaked item ~ U(0.8, 1.0) per examinee (or their own P if higher),
//! log-time − U(0.5, 1.5) on leaked items; speeders: τ + U(1.0, 2.0).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::dataset::rows::*;

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Design {
    pub seed: u64,
    /// Operations (each its own paper and bank); centres cycle through them.
    pub operations: usize,
    pub centres: usize,
    pub per_centre: usize,
    /// Items in the bank; each examinee answers `paper` of them at random.
    pub bank: usize,
    pub paper: usize,
    pub leaked_share: f64,
    pub preknowledge_share: f64,
    pub speeder_share: f64,
    /// Whether answers carry times (else only login/submit).
    pub item_times: bool,
    /// Per examinee with preknowledge: P(right) on a leaked item and the
    /// log-time reduction there, each drawn uniformly from its range.
    pub gain: (f64, f64),
    pub speedup: (f64, f64),
    /// Extra share of preknowledge among the trainees of the first
    /// training institution (a school that sells the bank).
    pub hot_school_share: f64,
}

impl Design {
    pub fn honest(seed: u64) -> Design {
        Design {
            seed,
            operations: 1,
            centres: 40,
            per_centre: 50,
            bank: 120,
            paper: 80,
            leaked_share: 0.0,
            preknowledge_share: 0.0,
            speeder_share: 0.0,
            item_times: true,
            hot_school_share: 0.0,
            gain: (0.8, 1.0),
            speedup: (0.5, 1.5),
        }
    }
}

/// What was planted, by exam record index.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    pub preknowledge: Vec<bool>,
    pub speeder: Vec<bool>,
    pub leaked_items: Vec<String>,
}

/// Builds the tables and the truth.
pub fn simulate(d: &Design) -> (Tables, Truth) {
    let mut rng = ChaCha8Rng::seed_from_u64(d.seed);
    let normal = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
    let mut t = Tables {
        exam_sessions: Some(Vec::new()),
        exam_records: Some(Vec::new()),
        exam_responses: Some(Vec::new()),
        ..Default::default()
    };
    let n_ops = d.operations.max(1);
    let items: Vec<(f64, f64, f64, f64)> = (0..d.bank * n_ops)
        .map(|_| {
            (
                rng.gen_range(0.7..1.4),
                normal.sample(&mut rng),
                3.5 + 0.4 * normal.sample(&mut rng),
                rng.gen_range(1.5..2.5),
            )
        })
        .collect();
    let n_leak = (d.leaked_share * d.bank as f64).round() as usize;
    let leaked: Vec<bool> = (0..d.bank).map(|j| j < n_leak).collect();
    // Operation 0's items are `Q0000`..; operation o's `O{o}Q0000`...
    let item_syms: Vec<Vec<_>> = (0..n_ops)
        .map(|o| {
            let pre = if o == 0 { String::new() } else { format!("O{o}") };
            (0..d.bank).map(|j| t.strings.intern(&format!("{pre}Q{j:04}"))).collect()
        })
        .collect();
    let key = t.strings.intern("A");
    let wrong = t.strings.intern("B");
    let op_names = ["低压电工", "高压电工", "焊接与热切割", "高处安装维护拆除", "制冷与空调设备运行操作"];
    let ops: Vec<OpRef> = (0..n_ops)
        .map(|o| {
            let name = op_names.get(o).map(|s| s.to_string()).unwrap_or_else(|| format!("作业{o}"));
            OpRef { raw: t.strings.intern(&name), op: None }
        })
        .collect();
    let room = t.strings.intern("R1");
    let mut truth = Truth { leaked_items: (0..n_leak).map(|j| format!("Q{j:04}")).collect(), ..Default::default() };
    let (mut sessions, mut records, mut responses) = (Vec::new(), Vec::new(), Vec::new());
    let n_train = (d.centres / 2).max(1);
    for c in 0..d.centres + n_train {
        let id = t.strings.intern(&format!("C{c:03}"));
        let region = t.strings.intern(if c % 2 == 0 { "410100" } else { "410200" });
        let kind = if c < d.centres { InstKind::Exam } else { InstKind::Training };
        t.institutions.push(Institution { line: 0, id, name: id, kind, region, seats: None });
    }
    let mut order: Vec<usize> = (0..d.bank).collect();
    for c in 0..d.centres {
        let start = 1_720_000_000 + c as i64 * 86_400;
        let sid = t.strings.intern(&format!("S{c:04}"));
        sessions.push(ExamSession {
            line: 0,
            id: sid,
            inst: c as u32,
            room,
            operation: ops[c % n_ops],
            part: Part::Theory,
            start,
            end: start + 7200,
            seats: None,
            proctor: None,
        });
        for e in 0..d.per_centre {
            let rec = records.len() as u32;
            let theta = normal.sample(&mut rng);
            let mut tau = 0.3 * (0.3 * theta + (1.0f64 - 0.09).sqrt() * normal.sample(&mut rng));
            let school = rng.gen_range(0..n_train);
            let share = if school == 0 { d.preknowledge_share + d.hot_school_share } else { d.preknowledge_share };
            let pk = rng.gen_bool(share.clamp(0.0, 1.0));
            let fast = rng.gen_bool(d.speeder_share.clamp(0.0, 1.0));
            if fast {
                tau += rng.gen_range(1.0..2.0);
            }
            let (gain, speedup) = (rng.gen_range(d.gain.0..=d.gain.1), rng.gen_range(d.speedup.0..=d.speedup.1));
            truth.preknowledge.push(pk);
            truth.speeder.push(fast);
            // A random paper of `paper` items from the bank.
            for k in 0..d.paper.min(d.bank) {
                let r = rng.gen_range(k..d.bank);
                order.swap(k, r);
            }
            let mut total = 0.0;
            let mut right = 0usize;
            let o = c % n_ops;
            for &j in &order[..d.paper.min(d.bank)] {
                let (a, b, beta, alpha) = items[o * d.bank + j];
                let mut p = 1.0 / (1.0 + (-a * (theta - b)).exp());
                let mut lt = beta - tau + normal.sample(&mut rng) / alpha;
                if pk && leaked[j] {
                    p = p.max(gain);
                    lt -= speedup;
                }
                let ok = rng.gen_bool(p);
                right += ok as usize;
                let secs = lt.exp().clamp(1.0, 3600.0);
                total += secs;
                responses.push(ExamResponse {
                    line: 0,
                    record: rec,
                    item: item_syms[o][j],
                    answer: if ok { key } else { wrong },
                    key,
                    seconds: d.item_times.then_some(secs as f32),
                    changes: None,
                });
            }
            let login = start + rng.gen_range(0..120);
            let rid = t.strings.intern(&format!("R{rec:07}"));
            let person = t.strings.intern(&format!("41010219900101{:04}", rec % 10_000));
            let seat = t.strings.intern(&format!("{:03}", e + 1));
            records.push(ExamRecord {
                line: 0,
                id: rid,
                session: c as u32,
                person,
                name: None,
                seat: Some(seat),
                training_inst: Some((d.centres + school) as u32),
                login_at: Some(login),
                submit_at: Some(login + total.round() as i64 + rng.gen_range(10..60)),
                score: (100.0 * right as f64 / d.paper.max(1) as f64) as f32,
                attempt: 1,
                face_score: None,
            });
        }
    }
    t.exam_sessions = Some(sessions);
    t.exam_records = Some(records);
    t.exam_responses = Some(responses);
    (t, truth)
}

/// ROC AUC of `score` (higher = more suspicious) for the positives in
/// `label` (Mann–Whitney, ties counted half). NaN scores count as lowest.
pub fn auc(score: &[f64], label: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..score.len()).collect();
    let key = |i: usize| if score[i].is_finite() { score[i] } else { f64::NEG_INFINITY };
    idx.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
    let (mut rank_sum, mut n_pos) = (0.0, 0.0);
    let mut k = 0;
    while k < idx.len() {
        let mut e = k;
        while e + 1 < idx.len() && key(idx[e + 1]) == key(idx[k]) {
            e += 1;
        }
        let mid = (k + e) as f64 / 2.0 + 1.0;
        for &i in &idx[k..=e] {
            if label[i] {
                rank_sum += mid;
                n_pos += 1.0;
            }
        }
        k = e + 1;
    }
    let n_neg = score.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}
