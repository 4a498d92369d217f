//! The plan of a synthetic province: institutions (kind, region, size,
//! honest profile), the falsification patterns planted on each, which exam
//! centre each training institution sends its trainees to, and the groups
//! (an exam centre with the training institutions that feed it) that are
//! generated independently and in parallel.

use rand::seq::SliceRandom;
use rand::Rng;

use super::people::unit_rng;
use crate::dataset::rows::InstKind;

/// Every planted falsification pattern (the names written to `truth.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pattern {
    HoursNotDelivered,
    ProxySignin,
    OnlineFarming,
    BackfilledRecords,
    TrainedWithoutRecords,
    AnswerRelay,
    ProxyTakers,
    ScoreHeaping,
    EarlySubmit,
    CertWithoutExam,
    CertNumberMismatch,
    InvalidIdCerts,
    CertBeforeExam,
    FootageMissing,
    FootageFrozen,
    FootageBlack,
    FootageReused,
    FootageLooped,
    FootageCorrupt,
    CallbackDenials,
    /// A training-only school lists certificates for trainees who never
    /// passed, naming the honest centre its other trainees sit at (planted
    /// by [`plant_feeder_fakes`], not part of [`Pattern::ALL`]'s spread).
    FeederCertFakes,
}

/// What an institution must do for a pattern to be plantable on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Delivers training (any course).
    Training,
    /// Delivers initial training whose trainees sit exams.
    InitialTraining,
    /// Runs exams.
    Exams,
    /// Runs exams and trains the candidates itself (so certificates,
    /// attendance and exam records all name it).
    Both,
    /// Runs exams and the dataset has CCTV.
    Footage,
}

impl Pattern {
    pub const ALL: [Pattern; 20] = [
        Pattern::HoursNotDelivered,
        Pattern::ProxySignin,
        Pattern::OnlineFarming,
        Pattern::BackfilledRecords,
        Pattern::TrainedWithoutRecords,
        Pattern::AnswerRelay,
        Pattern::ProxyTakers,
        Pattern::ScoreHeaping,
        Pattern::EarlySubmit,
        Pattern::CertWithoutExam,
        Pattern::CertNumberMismatch,
        Pattern::InvalidIdCerts,
        Pattern::CertBeforeExam,
        Pattern::FootageMissing,
        Pattern::FootageFrozen,
        Pattern::FootageBlack,
        Pattern::FootageReused,
        Pattern::FootageLooped,
        Pattern::FootageCorrupt,
        Pattern::CallbackDenials,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pattern::HoursNotDelivered => "hours_not_delivered",
            Pattern::ProxySignin => "proxy_signin",
            Pattern::OnlineFarming => "online_farming",
            Pattern::BackfilledRecords => "backfilled_records",
            Pattern::TrainedWithoutRecords => "trained_without_records",
            Pattern::AnswerRelay => "answer_relay",
            Pattern::ProxyTakers => "proxy_takers",
            Pattern::ScoreHeaping => "score_heaping",
            Pattern::EarlySubmit => "early_submit",
            Pattern::CertWithoutExam => "cert_without_exam",
            Pattern::CertNumberMismatch => "cert_number_mismatch",
            Pattern::InvalidIdCerts => "invalid_id_certs",
            Pattern::CertBeforeExam => "cert_before_exam",
            Pattern::FootageMissing => "footage_missing",
            Pattern::FootageFrozen => "footage_frozen",
            Pattern::FootageBlack => "footage_black",
            Pattern::FootageReused => "footage_reused",
            Pattern::FootageLooped => "footage_looped",
            Pattern::FootageCorrupt => "footage_corrupt",
            Pattern::CallbackDenials => "callback_denials",
            Pattern::FeederCertFakes => "feeder_cert_fakes",
        }
    }

    fn needs(self) -> Needs {
        use Pattern::*;
        match self {
            HoursNotDelivered | ProxySignin | OnlineFarming | CallbackDenials => Needs::Training,
            BackfilledRecords | TrainedWithoutRecords => Needs::InitialTraining,
            AnswerRelay | ProxyTakers | ScoreHeaping | EarlySubmit | CertWithoutExam | CertNumberMismatch
            | CertBeforeExam => Needs::Exams,
            InvalidIdCerts => Needs::Both,
            FeederCertFakes => Needs::InitialTraining,
            FootageMissing | FootageFrozen | FootageBlack | FootageReused | FootageLooped | FootageCorrupt => {
                Needs::Footage
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Tiny,
    Small,
    Medium,
    Large,
}

/// The honest variation of one institution.
#[derive(Debug, Clone)]
pub struct Profile {
    pub size: Size,
    /// Added to every candidate's ability (training quality).
    pub quality: f64,
    pub strong: bool,
    pub refresher_only: bool,
    pub online_heavy: bool,
    pub night_shift: bool,
    pub face_terminal: bool,
    pub quiet_rooms: bool,
    pub unreachable: bool,
    /// The exam system exports item-level responses. At province scale some
    /// centres (paper sheets, older systems) hand over scores only.
    pub item_logs: bool,
    /// Honest variation of the hour log (manual entries, shared PCs, ...).
    pub hour_log: super::training::HourLog,
    /// Honest variation of issue 15 (drawn from their own stream, so the
    /// rest of a world does not move when they are switched on or off):
    /// practical exams rotate candidates through a few stations (seats =
    /// stations, many candidates over the morning).
    pub station_rotation: bool,
    /// Practical records carry no login or submit time (examiners' sheets).
    pub untimed_practical: bool,
    /// Refresher trainees hold certificates issued years before the exam
    /// archive starts (and have no exam record in it).
    pub old_certificates: bool,
}

impl Profile {
    /// `+`-joined tags for `truth.csv`.
    pub fn label(&self) -> String {
        let mut tags = vec![match self.size {
            Size::Tiny => "tiny",
            Size::Small => "small",
            Size::Medium => "medium",
            Size::Large => "large",
        }];
        for (on, tag) in [
            (self.strong, "strong"),
            (self.refresher_only, "refresher_only"),
            (self.online_heavy, "online_heavy"),
            (self.night_shift, "night_shift"),
            (self.face_terminal, "face_terminal"),
            (self.quiet_rooms, "quiet_rooms"),
            (self.unreachable, "unreachable"),
            (!self.item_logs, "no_item_logs"),
            (self.station_rotation, "station_rotation"),
            (self.untimed_practical, "untimed_practical"),
            (self.old_certificates, "old_certificates"),
        ] {
            if on {
                tags.push(tag);
            }
        }
        tags.extend(self.hour_log.tags());
        tags.join("+")
    }
}

/// One planned institution.
#[derive(Debug, Clone)]
pub struct InstPlan {
    pub idx: usize,
    pub id: String,
    pub name: String,
    pub kind: InstKind,
    pub region: &'static str,
    pub profile: Profile,
    /// Sorted, no duplicates.
    pub patterns: Vec<Pattern>,
    /// Operation indices (into the operations model) it trains or examines.
    pub ops: Vec<u16>,
    /// For institutions that train: the exam centre (index) their trainees sit at.
    pub exam_centre: Option<usize>,
    /// Initial trainees (training) or external candidates (exam-only) over the period.
    pub volume: usize,
}

impl InstPlan {
    pub fn has(&self, p: Pattern) -> bool {
        self.patterns.binary_search(&p).is_ok()
    }
    pub fn trains(&self) -> bool {
        matches!(self.kind, InstKind::Training | InstKind::Both)
    }
    pub fn examines(&self) -> bool {
        matches!(self.kind, InstKind::Exam | InstKind::Both)
    }
    pub fn kind_text(&self) -> &'static str {
        match self.kind {
            InstKind::Training => "training",
            InstKind::Exam => "exam",
            InstKind::Both => "both",
        }
    }
}

/// How big the generated world is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Small classes (a committed demo, tests).
    Demo,
    /// Province-sized volumes (~500 institutions, millions of rows).
    Province,
}

/// A whole plan: institutions and the independent generation groups.
#[derive(Debug, Clone)]
pub struct Plan {
    pub insts: Vec<InstPlan>,
    /// Each group: the exam centre first, then the training-only
    /// institutions that send trainees to it.
    pub groups: Vec<Vec<usize>>,
}

/// Regions (prefecture-level 6-digit codes) and their names.
pub const REGIONS: &[(&str, &str)] =
    &[("410800", "焦作市"), ("410100", "郑州市"), ("410300", "洛阳市"), ("410700", "新乡市"), ("411000", "许昌市")];

const NAME_WORDS: &[&str] = &[
    "安泰", "恒安", "平安", "鑫源", "华安", "中安", "宏达", "安信", "众诚", "安达", "泰安", "兴安", "长安", "永安",
    "金盾", "卓越", "明德", "博远", "正泰", "瑞安", "安邦", "天安", "盛安", "通达",
];

/// Operation codes offered, with relative weights (most common first).
const OP_WEIGHTS: &[(&str, u32)] = &[
    ("low_voltage_electrician", 30),
    ("fusion_welding", 22),
    ("high_voltage_electrician", 12),
    ("work_at_height_maintenance", 10),
    ("scaffolding", 8),
    ("refrigeration", 7),
    ("explosion_proof_electrical", 4),
    ("pressure_welding", 4),
    ("brazing", 3),
];

/// How a world deviates from the default: all honest, the honest profiles
/// of issue 15 on or off, and how much of a planted institution's units
/// are falsified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Plant nothing (an honest world for the false-positive figures).
    pub honest: bool,
    /// Station-rotated and untimed practical exams, refresher holders' old
    /// certificates, feeder schools' fakes through honest centres.
    pub honest_profiles: bool,
    pub intensity: Intensity,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { honest: false, honest_profiles: true, intensity: Intensity::Mixed }
    }
}

/// Share of a planted institution's units (sessions, certificates) that
/// are falsified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Intensity {
    /// Each pattern's own share (the historical generator).
    Mixed,
    /// ≈ 80 % of units.
    High,
    /// ≈ 35 %.
    Medium,
    /// ≈ 10 %.
    Low,
}

impl Intensity {
    /// The share of units falsified, or `default` for `Mixed`.
    pub fn share(self, default: f64) -> f64 {
        match self {
            Intensity::Mixed => default,
            Intensity::High => 0.8,
            Intensity::Medium => 0.35,
            Intensity::Low => 0.1,
        }
    }
}

/// Builds the plan for `n` institutions. `footage` says whether CCTV is
/// generated (footage patterns are only planted when it is).
pub fn build(n: usize, seed: u64, scale: Scale, footage: bool, ops: &crate::model::Operations) -> Plan {
    build_with(n, seed, scale, footage, ops, Settings::default())
}

/// [`build`] with explicit [`Settings`].
pub fn build_with(
    n: usize,
    seed: u64,
    scale: Scale,
    footage: bool,
    ops: &crate::model::Operations,
    settings: Settings,
) -> Plan {
    let mut rng = unit_rng(seed, u64::MAX, 0);
    let op_pool: Vec<(u16, u32)> =
        OP_WEIGHTS.iter().filter_map(|(code, w)| ops.resolve(code).map(|i| (i, *w))).collect();
    let mut insts = Vec::with_capacity(n);
    for idx in 0..n {
        let region = REGIONS[rng.gen_range(0..REGIONS.len())];
        let u: f64 = rng.gen();
        let kind = if u < 0.5 {
            InstKind::Both
        } else if u < 0.82 {
            InstKind::Training
        } else {
            InstKind::Exam
        };
        let size = match rng.gen::<f64>() {
            x if x < 0.08 => Size::Tiny,
            x if x < 0.38 => Size::Small,
            x if x < 0.80 => Size::Medium,
            _ => Size::Large,
        };
        let strong = rng.gen_bool(0.15);
        let refresher_only = kind == InstKind::Training && rng.gen_bool(0.15);
        let profile = Profile {
            size,
            quality: if strong { 0.9 + 0.3 * rng.gen::<f64>() } else { 0.35 * super::people::normal(&mut rng) },
            strong,
            refresher_only,
            online_heavy: !refresher_only && rng.gen_bool(0.2),
            night_shift: !refresher_only && rng.gen_bool(0.12),
            face_terminal: rng.gen_bool(0.3),
            quiet_rooms: rng.gen_bool(0.3),
            unreachable: rng.gen_bool(0.12),
            // No draw at demo scale: the demo and calibration worlds stay as they were.
            item_logs: scale == Scale::Demo || rng.gen_bool(0.62),
            // Its own random stream: the other draws stay as they were.
            hour_log: super::training::HourLog::draw(seed, idx),
            station_rotation: false,
            untimed_practical: false,
            old_certificates: false,
        };
        let base = match size {
            Size::Tiny => rng.gen_range(5..=10) as f64,
            Size::Small => rng.gen_range(30..=70) as f64,
            Size::Medium => rng.gen_range(100..=220) as f64,
            Size::Large => rng.gen_range(250..=450) as f64,
        };
        let factor = match (scale, size) {
            (_, Size::Tiny) => 1.0,
            (Scale::Demo, _) => 0.22,
            (Scale::Province, _) => 1.1,
        };
        let volume = ((base * factor).round() as usize).max(5);
        let n_ops = if size == Size::Tiny { 1 } else { rng.gen_range(1..=3) };
        let mut my_ops: Vec<u16> = Vec::new();
        while my_ops.len() < n_ops.min(op_pool.len()) {
            let total: u32 = op_pool.iter().map(|o| o.1).sum();
            let mut x = rng.gen_range(0..total.max(1));
            for &(o, w) in &op_pool {
                if x < w {
                    if !my_ops.contains(&o) {
                        my_ops.push(o);
                    }
                    break;
                }
                x -= w;
            }
        }
        my_ops.sort_unstable();
        let word = NAME_WORDS[rng.gen_range(0..NAME_WORDS.len())];
        let name = match kind {
            InstKind::Training => format!("{}{}安全技术培训学校", region.1, word),
            InstKind::Exam => format!("{}{}特种作业考试点", region.1, word),
            InstKind::Both => format!("{}{}安全培训考试中心", region.1, word),
        };
        insts.push(InstPlan {
            idx,
            id: format!("{}{:03}", region.0, idx + 1),
            name,
            kind,
            region: region.0,
            profile,
            patterns: Vec::new(),
            ops: my_ops,
            exam_centre: None,
            volume,
        });
    }
    if !insts.iter().any(InstPlan::examines) {
        if let Some(first) = insts.first_mut() {
            first.kind = InstKind::Both;
            first.profile.refresher_only = false;
        }
    }
    if settings.honest_profiles {
        for i in insts.iter_mut() {
            let mut r = unit_rng(seed, i.idx as u64, 11);
            let examines = i.examines();
            i.profile.station_rotation = examines && r.gen_bool(0.4);
            i.profile.untimed_practical = examines && r.gen_bool(0.25);
            i.profile.old_certificates = i.trains() && r.gen_bool(0.6);
        }
    }
    // Exam centres examine every operation their feeders train.
    assign_centres(&mut insts, &mut rng);
    if !settings.honest {
        plant(&mut insts, &mut rng, scale, footage);
        if settings.honest_profiles {
            plant_feeder_fakes(&mut insts, seed);
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for c in insts.iter().filter(|i| i.examines()) {
        let mut g = vec![c.idx];
        g.extend(insts.iter().filter(|i| i.kind == InstKind::Training && i.exam_centre == Some(c.idx)).map(|i| i.idx));
        groups.push(g);
    }
    Plan { insts, groups }
}

fn assign_centres(insts: &mut [InstPlan], rng: &mut impl Rng) {
    let centres: Vec<usize> = insts.iter().filter(|i| i.examines()).map(|i| i.idx).collect();
    for i in 0..insts.len() {
        match insts[i].kind {
            InstKind::Both => insts[i].exam_centre = Some(i),
            InstKind::Exam => {}
            InstKind::Training => {
                let region = insts[i].region;
                let near: Vec<usize> = centres.iter().copied().filter(|&c| insts[c].region == region).collect();
                let pool = if near.is_empty() { &centres } else { &near };
                let c = pool[rng.gen_range(0..pool.len())];
                insts[i].exam_centre = Some(c);
                let ops = insts[i].ops.clone();
                for o in ops {
                    if !insts[c].ops.contains(&o) {
                        insts[c].ops.push(o);
                    }
                }
                insts[c].ops.sort_unstable();
            }
        }
    }
}

fn compatible(i: &InstPlan, p: Pattern, footage: bool) -> bool {
    match p.needs() {
        Needs::Training => i.trains(),
        Needs::InitialTraining => i.trains() && !i.profile.refresher_only,
        Needs::Exams => i.examines(),
        Needs::Both => i.kind == InstKind::Both,
        Needs::Footage => footage && i.examines(),
    }
}

/// Chooses the planted institutions (never tiny ones: a handful of records
/// cannot carry a statistical pattern) and spreads every pattern over them,
/// several on some.
fn plant(insts: &mut [InstPlan], rng: &mut impl Rng, scale: Scale, footage: bool) {
    let mut eligible: Vec<usize> = insts.iter().filter(|i| i.profile.size != Size::Tiny).map(|i| i.idx).collect();
    eligible.shuffle(rng);
    let share = if scale == Scale::Demo { 0.5 } else { 0.4 };
    let k = ((insts.len() as f64 * share).round() as usize).min(eligible.len());
    let planted = &eligible[..k];
    if planted.is_empty() {
        return;
    }
    let mut order: Vec<Pattern> = Pattern::ALL.to_vec();
    order.shuffle(rng);
    // Enough rounds that each planted institution carries ~1.8 patterns.
    let rounds = ((k as f64 * 1.8) / Pattern::ALL.len() as f64).ceil().max(1.0) as usize;
    for _ in 0..rounds {
        for &p in &order {
            let mut cands: Vec<usize> =
                planted.iter().copied().filter(|&i| compatible(&insts[i], p, footage) && !insts[i].has(p)).collect();
            if cands.is_empty() {
                continue;
            }
            cands.shuffle(rng);
            cands.sort_by_key(|&i| insts[i].patterns.len());
            let i = cands[0];
            insts[i].patterns.push(p);
            insts[i].patterns.sort_unstable();
        }
    }
    for &i in planted {
        if insts[i].patterns.is_empty() {
            let cands: Vec<Pattern> =
                Pattern::ALL.iter().copied().filter(|&p| compatible(&insts[i], p, footage)).collect();
            if let Some(&p) = cands.choose(rng) {
                insts[i].patterns.push(p);
            }
        }
    }
    // Planted institutions keep their honest profile, except that a
    // "strong" label on a cheating centre would be a contradiction in truth.csv.
    for &i in planted {
        if !insts[i].patterns.is_empty() {
            insts[i].profile.strong = false;
            insts[i].profile.quality = insts[i].profile.quality.min(0.3);
        }
    }
}

/// Feeder-school fakes: some honest, non-tiny training-only schools whose
/// centre is honest list fake certificates (the school is planted, the
/// centre is not — attribution must come from the data).
fn plant_feeder_fakes(insts: &mut [InstPlan], seed: u64) {
    for i in 0..insts.len() {
        let ok = insts[i].kind == InstKind::Training
            && insts[i].patterns.is_empty()
            && insts[i].profile.size != Size::Tiny
            && !insts[i].profile.refresher_only
            && insts[i].exam_centre.is_some_and(|c| insts[c].patterns.is_empty());
        if ok && unit_rng(seed, i as u64, 12).gen_bool(0.25) {
            insts[i].patterns.push(Pattern::FeederCertFakes);
            insts[i].profile.strong = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Models;

    #[test]
    fn plan_is_deterministic_and_consistent() {
        let m = Models::load(None).unwrap();
        let a = build(40, 3, Scale::Demo, true, &m.operations);
        let b = build(40, 3, Scale::Demo, true, &m.operations);
        let la: Vec<String> = a.insts.iter().map(|i| format!("{} {:?} {:?}", i.id, i.kind, i.patterns)).collect();
        let lb: Vec<String> = b.insts.iter().map(|i| format!("{} {:?} {:?}", i.id, i.kind, i.patterns)).collect();
        assert_eq!(la, lb);
        // Every institution is in exactly one group or trains no initial trainees for an exam.
        let mut seen = vec![0; a.insts.len()];
        for g in &a.groups {
            assert!(a.insts[g[0]].examines());
            for &i in g {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
        for i in &a.insts {
            for &p in &i.patterns {
                assert!(compatible(i, p, true), "{} {:?}", i.id, p);
            }
            assert!(!i.ops.is_empty());
        }
        // Some honest and some planted institutions, and most patterns used.
        let planted = a.insts.iter().filter(|i| !i.patterns.is_empty()).count();
        assert!(planted > 5 && planted < 35, "{planted}");
        let used: std::collections::BTreeSet<Pattern> = a.insts.iter().flat_map(|i| i.patterns.clone()).collect();
        assert!(used.len() >= 17, "{used:?}");
    }
}
