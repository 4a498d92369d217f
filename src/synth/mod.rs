//! Synthetic datasets with planted falsification, for the demo, tests,
//! calibration and benchmarks: every table of the data contract (DATA.md),
//! CCTV clips, and `truth.csv` / `truth_subjects.csv` naming what was planted.
//!
//! The world is planned first ([`plan`]): institutions, their honest
//! profiles and planted patterns, and *groups* (an exam centre with the
//! training institutions that send it candidates). Each group is generated
//! independently from its own seeded ChaCha8 streams ([`people::unit_rng`]),
//! so groups run in parallel and the bytes written never depend on thread
//! count or timing; their rows are appended to the table files in group
//! order. Nothing here iterates a `HashMap` into output.
//!
//! One file per table family: [`training`] (classes, attendance),
//! [`exam`] (sessions, records, responses), [`cert`], [`cctv`] (inventory)
//! with [`video`] (rendering the clips), [`callback`].
//!
//! `video` writes H.264 with ffmpeg-next: the one place outside
//! `crate::video` that links FFmpeg (for encoding, never for audits).

pub mod callback;
pub mod cctv;
pub mod cert;
pub mod continuation;
pub mod exam;
pub mod people;
pub mod plan;
pub mod training;
pub mod video;
mod write;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::dataset::rows::Day;
use crate::model::Operations;
pub use plan::{Intensity, Pattern, Scale, Settings};

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write `{path}`: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot encode video `{path}`: {message}")]
    Video { path: PathBuf, message: String },
    #[error("cannot write xlsx `{path}`: {message}")]
    Xlsx { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Every table of the contract, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Institutions = 0,
    Classes,
    Attendance,
    ExamSessions,
    ExamRecords,
    ExamResponses,
    Certificates,
    Cctv,
    Callbacks,
}

pub const TABLES: [Table; 9] = [
    Table::Institutions,
    Table::Classes,
    Table::Attendance,
    Table::ExamSessions,
    Table::ExamRecords,
    Table::ExamResponses,
    Table::Certificates,
    Table::Cctv,
    Table::Callbacks,
];

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Institutions => "institutions",
            Table::Classes => "classes",
            Table::Attendance => "attendance",
            Table::ExamSessions => "exam_sessions",
            Table::ExamRecords => "exam_records",
            Table::ExamResponses => "exam_responses",
            Table::Certificates => "certificates",
            Table::Cctv => "cctv",
            Table::Callbacks => "callbacks",
        }
    }

    /// The contract's English headers.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Table::Institutions => &["institution_id", "name", "kind", "region", "seats"],
            Table::Classes => &[
                "class_id",
                "institution_id",
                "operation",
                "course_kind",
                "start_date",
                "end_date",
                "room",
                "capacity",
            ],
            Table::Attendance => &[
                "record_id",
                "class_id",
                "person_id",
                "name",
                "instructor_id",
                "mode",
                "check_in",
                "check_out",
                "device_id",
                "face_score",
            ],
            Table::ExamSessions => {
                &["session_id", "institution_id", "room", "operation", "part", "start", "end", "seats", "proctor_id"]
            }
            Table::ExamRecords => &[
                "record_id",
                "session_id",
                "person_id",
                "name",
                "seat",
                "training_institution_id",
                "login_at",
                "submit_at",
                "score",
                "attempt",
                "face_score",
            ],
            Table::ExamResponses => &["record_id", "item_id", "answer", "key", "seconds", "changes"],
            Table::Certificates => &[
                "cert_no",
                "person_id",
                "name",
                "operation",
                "issued_on",
                "expires_on",
                "training_institution_id",
                "exam_institution_id",
            ],
            Table::Cctv => &["video_id", "institution_id", "room", "camera", "file", "claimed_start", "claimed_end"],
            Table::Callbacks => {
                &["person_id", "institution_id", "called_at", "reached", "attended", "hours_reported", "note"]
            }
        }
    }

    /// The first Chinese alias of each header (for the GBK variant).
    pub fn headers_zh(self) -> &'static [&'static str] {
        match self {
            Table::Institutions => &["机构编号", "机构名称", "机构类型", "行政区划代码", "座位数"],
            Table::Classes => &["班级编号", "机构编号", "作业类别", "培训类型", "开班日期", "结业日期", "教室", "容量"],
            Table::Attendance => &[
                "记录编号",
                "班级编号",
                "身份证号",
                "姓名",
                "教师编号",
                "培训方式",
                "签到时间",
                "签退时间",
                "设备编号",
                "人脸比对分",
            ],
            Table::ExamSessions => {
                &["场次编号", "考点编号", "考场", "作业类别", "科目", "开考时间", "结束时间", "座位数", "监考员"]
            }
            Table::ExamRecords => &[
                "记录编号",
                "场次编号",
                "身份证号",
                "姓名",
                "座位号",
                "培训机构编号",
                "登录时间",
                "交卷时间",
                "成绩",
                "考试次数",
                "人脸比对分",
            ],
            Table::ExamResponses => &["记录编号", "题目编号", "作答", "标准答案", "用时", "改答次数"],
            Table::Certificates => {
                &["证书编号", "身份证号", "姓名", "作业类别", "发证日期", "有效期至", "培训机构编号", "考点编号"]
            }
            Table::Cctv => &["视频编号", "机构编号", "考场", "摄像头", "文件", "录像开始时间", "录像结束时间"],
            Table::Callbacks => &["身份证号", "机构编号", "回访时间", "是否接通", "是否参训", "自述学时", "备注"],
        }
    }
}

/// What the generators share (read-only).
pub struct Ctx<'a> {
    pub seed: u64,
    /// Seed of the centres' rooms (the plan's seed even when a
    /// continuation draws its records from another).
    pub centre_seed: u64,
    pub scale: Scale,
    pub ops: &'a Operations,
    /// Sampled sessions with CCTV per centre (0 = no CCTV table).
    pub videos_per_centre: usize,
    /// Seconds between video frames.
    pub frame_interval: f64,
    /// Share of a planted institution's units falsified.
    pub intensity: Intensity,
}

impl<'a> Ctx<'a> {
    #[cfg(test)]
    pub fn for_tests(ops: &'a Operations) -> Ctx<'a> {
        Ctx {
            seed: 1,
            centre_seed: 1,
            scale: Scale::Demo,
            ops,
            videos_per_centre: 3,
            frame_interval: 10.0,
            intensity: Intensity::Mixed,
        }
    }
}

/// A group of people trained (or not) together for one operation: a class,
/// the ghost candidates of `trained_without_records`, or walk-in candidates
/// of an exam-only centre.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// The institution that owns the cohort (trainer, or the exam centre for walk-ins).
    pub inst: usize,
    /// Written as `training_institution_id` on exam records.
    pub train_inst: Option<String>,
    /// `None` for cohorts without a class (ghosts, walk-ins).
    pub class_id: Option<String>,
    pub op: u16,
    pub refresher: bool,
    pub night: bool,
    pub start: Day,
    pub end: Day,
    pub slots: Vec<training::Slot>,
    pub online_minutes: u32,
    pub compressed: bool,
    pub farmed: bool,
    pub persons: Vec<people::Person>,
    pub dropped: Vec<bool>,
    /// Day of each person's first theory sitting (filled by the exams).
    pub first_exam: Vec<Option<Day>>,
    pub room: String,
    pub capacity: usize,
}

impl Cohort {
    /// A cohort with no class: candidates who only appear at the exam.
    pub fn ghost(inst: usize, train_inst: Option<String>, op: u16, end: Day, persons: Vec<people::Person>) -> Cohort {
        let n = persons.len();
        Cohort {
            inst,
            train_inst,
            class_id: None,
            op,
            refresher: false,
            night: false,
            start: end,
            end,
            slots: Vec::new(),
            online_minutes: 0,
            compressed: false,
            farmed: false,
            persons,
            dropped: vec![false; n],
            first_exam: Vec::new(),
            room: String::new(),
            capacity: 0,
        }
    }
}

/// A finished sink: table bytes, row counts, truth subjects, clips.
type SinkBytes = (Vec<Vec<u8>>, [u64; 9], Vec<[String; 4]>, Vec<cctv::VideoJob>);

/// Per-group output: one CSV buffer per table, truth subjects, clips.
pub struct Sink {
    bufs: Vec<csv::Writer<Vec<u8>>>,
    pub rows: [u64; 9],
    pub subjects: Vec<[String; 4]>,
    pub videos: Vec<cctv::VideoJob>,
}

impl Sink {
    pub fn new() -> Sink {
        Sink {
            bufs: TABLES
                .iter()
                .map(|_| csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new()))
                .collect(),
            rows: [0; 9],
            subjects: Vec::new(),
            videos: Vec::new(),
        }
    }

    pub fn row<T: AsRef<[u8]>>(&mut self, t: Table, fields: &[T]) -> Result<(), SynthError> {
        self.rows[t as usize] += 1;
        Ok(self.bufs[t as usize].write_record(fields)?)
    }

    /// Names a planted record in `truth_subjects.csv`.
    pub fn subject(&mut self, inst: &str, p: Pattern, kind: &str, id: &str) {
        self.subjects.push([inst.to_string(), p.name().to_string(), kind.to_string(), id.to_string()]);
    }

    fn into_bytes(self) -> Result<SinkBytes, SynthError> {
        let mut out = Vec::with_capacity(self.bufs.len());
        for b in self.bufs {
            out.push(b.into_inner().map_err(|e| SynthError::Invalid(format!("csv buffer: {e}")))?);
        }
        Ok((out, self.rows, self.subjects, self.videos))
    }
}

impl Default for Sink {
    fn default() -> Self {
        Sink::new()
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    pub out: PathBuf,
    pub institutions: usize,
    pub seed: u64,
    pub scale: Scale,
    pub video: bool,
    /// One table as GBK CSV with Chinese headers, one as XLSX.
    pub mixed: bool,
    /// Seconds between video frames (15 s keeps a 2-hour clip near 200 KB).
    pub frame_interval: f64,
    /// Mixed into the records' seed (0 = none): a continuation's new
    /// records differ from the earlier ones, institutions stay the same.
    pub records_salt: u64,
    /// Institutions generated without planted patterns (`all` = every one):
    /// a continuation in which they rectified.
    pub clean: Vec<String>,
    /// Honest world, honest profiles, intensity.
    pub settings: Settings,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct Summary {
    pub rows: Vec<(&'static str, u64)>,
    pub institutions: usize,
    pub planted: usize,
    pub videos: usize,
    pub bytes: u64,
    pub seconds: f64,
}

/// Generates the dataset described by `cfg` into `cfg.out`.
pub fn generate(cfg: &Config, ops: &Operations) -> Result<Summary, SynthError> {
    let t0 = Instant::now();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Io { path, source }
    };
    std::fs::create_dir_all(&cfg.out).map_err(io(&cfg.out))?;
    if cfg.institutions == 0 {
        return Err(SynthError::Invalid("`--institutions` must be at least 1".into()));
    }
    let mut plan = plan::build_with(cfg.institutions, cfg.seed, cfg.scale, cfg.video, ops, cfg.settings);
    for i in plan.insts.iter_mut() {
        if cfg.clean.iter().any(|c| c == "all" || *c == i.id) {
            i.patterns.clear();
        }
    }
    let ctx = Ctx {
        seed: cfg.seed ^ cfg.records_salt,
        centre_seed: cfg.seed,
        scale: cfg.scale,
        ops,
        videos_per_centre: if cfg.video { 2 } else { 0 },
        frame_interval: cfg.frame_interval,
        intensity: cfg.settings.intensity,
    };
    let tables: Vec<Table> = TABLES.iter().copied().filter(|&t| t != Table::Cctv || cfg.video).collect();
    let mut files = write::TableFiles::create(&cfg.out, &tables)?;
    // Institutions come straight from the plan.
    let mut head = Sink::new();
    for i in &plan.insts {
        let seats =
            if i.examines() { exam::centre(&ctx, i).theory_rooms.iter().map(|r| r.1).sum::<usize>() } else { 0 };
        let seats = if seats > 0 { seats.to_string() } else { String::new() };
        head.row(Table::Institutions, &[i.id.as_str(), &i.name, i.kind_text(), i.region, &seats])?;
    }
    let mut subjects: Vec<[String; 4]> = Vec::new();
    let mut jobs: Vec<cctv::VideoJob> = Vec::new();
    let (b, rows, s, v) = head.into_bytes()?;
    files.append(&b, &rows)?;
    subjects.extend(s);
    jobs.extend(v);
    // Groups in parallel, a chunk at a time so memory stays bounded.
    let chunk = (rayon::current_num_threads() * 4).max(4);
    for groups in plan.groups.chunks(chunk) {
        let outs: Vec<Result<Sink, SynthError>> = groups.par_iter().map(|g| group(&ctx, &plan, g)).collect();
        for o in outs {
            let (b, rows, s, v) = o?.into_bytes()?;
            files.append(&b, &rows)?;
            subjects.extend(s);
            jobs.extend(v);
        }
    }
    let rows = files.finish()?;
    // Clips in parallel; each is deterministic on its own.
    let rendered: Vec<Result<(), SynthError>> = jobs.par_iter().map(|j| video::render(&cfg.out, j)).collect();
    for r in rendered {
        r?;
    }
    write::truth(&cfg.out, &plan, &mut subjects)?;
    if cfg.mixed {
        write::to_gbk_chinese(&cfg.out, Table::Callbacks)?;
        write::to_xlsx(&cfg.out, Table::Certificates)?;
    }
    let bytes = write::dir_size(&cfg.out);
    Ok(Summary {
        rows: tables.iter().map(|&t| (t.name(), rows[t as usize])).collect(),
        institutions: plan.insts.len(),
        planted: plan.insts.iter().filter(|i| !i.patterns.is_empty()).count(),
        videos: jobs.len(),
        bytes,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Generates one group: the training of its members, the exams at its
/// centre, certificates, CCTV and callbacks.
fn group(ctx: &Ctx, plan: &plan::Plan, g: &[usize]) -> Result<Sink, SynthError> {
    let mut sink = Sink::new();
    let c = &plan.insts[g[0]];
    let mut cohorts: Vec<Cohort> = Vec::new();
    for &i in g {
        let inst = &plan.insts[i];
        if inst.trains() {
            cohorts.extend(training::plan(ctx, inst, 0.5 * c.profile.quality));
        }
    }
    cohorts.extend(walk_ins(ctx, c));
    if c.has(Pattern::InvalidIdCerts) {
        // Made-up identities put through the whole paper trail.
        let mut rng = people::unit_rng(ctx.seed, c.idx as u64, 9);
        let share = rng.gen_range(0.06..0.14);
        let mut n = 0;
        for co in cohorts.iter_mut().filter(|co| co.inst == c.idx && !co.refresher) {
            for p in co.persons.iter_mut() {
                // At least two per centre, so the pattern is never a lone typo.
                if rng.gen_bool(share) || n < 2 {
                    p.id = people::invalidate(&p.id);
                    n += 1;
                }
            }
        }
    }
    for co in cohorts.iter().filter(|co| co.class_id.is_none() && co.train_inst.is_some()) {
        let owner = &plan.insts[co.inst];
        for p in &co.persons {
            sink.subject(&owner.id, Pattern::TrainedWithoutRecords, "person", &p.id);
        }
    }
    let outcome = exam::run(ctx, c, &mut cohorts, &mut sink)?;
    cert::write(ctx, plan, c, &cohorts, &outcome.passed, &mut sink)?;
    if ctx.videos_per_centre > 0 {
        let jobs = cctv::write(ctx, c, &outcome.theory_sessions, &mut sink)?;
        sink.videos.extend(jobs);
    }
    for &i in g {
        let inst = &plan.insts[i];
        if inst.trains() {
            training::write(ctx, inst, &cohorts, &mut sink)?;
            callback::write(ctx, inst, &cohorts, &mut sink)?;
        }
    }
    Ok(sink)
}

use rand::Rng;

/// Candidates of an exam-only centre trained somewhere outside the dataset.
fn walk_ins(ctx: &Ctx, c: &plan::InstPlan) -> Vec<Cohort> {
    let mut rng = people::unit_rng(ctx.seed, c.idx as u64, 10);
    let mut out = Vec::new();
    // Exam-only centres see mostly outside candidates; others some.
    let share = if c.kind == crate::dataset::rows::InstKind::Exam { 0.6 } else { 0.25 };
    // A province's centres also examine workers trained by their employers
    // (企业自主培训) or outside the province: most of its candidates, which
    // is what puts ~300 k exam records beside ~2 M attendance rows.
    let share = if ctx.scale == plan::Scale::Province { share * 4.0 } else { share };
    let mut left = (c.volume as f64 * share).ceil() as usize;
    let first = crate::dataset::rows::days_from_civil(2024, 3, 20);
    while left > 0 {
        let n = rng.gen_range(3..=15).min(left);
        left -= n;
        let op = c.ops[rng.gen_range(0..c.ops.len())];
        let end = first + rng.gen_range(0..220);
        let persons = (0..n).map(|_| people::person(&mut rng, 0.5 * c.profile.quality)).collect();
        out.push(Cohort::ghost(c.idx, None, op, end, persons));
    }
    out
}
