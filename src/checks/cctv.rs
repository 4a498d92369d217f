//! `cctv.*` checks over the sampled footage ([`Footage`], one [`VideoScan`]
//! per `cctv` row) and the `exam_sessions` table:
//!
//! - `cctv.unreadable` — files that cannot be decoded (with the decoder's
//!   message), paths that leave the dataset folder, files with damaged packets;
//! - `cctv.missing_coverage` — exam time of a session (matched by institution
//!   and room) not covered by footage actually present: claimed start + *real*
//!   duration, or the frame names' own times;
//! - `cctv.claim_mismatch` — real duration vs claimed_end − claimed_start,
//!   frame-name times vs claimed_start, and (weak) a container
//!   `creation_time` earlier than the claimed recording;
//! - `cctv.frozen` — runs of samples with no change at all (no motion, no
//!   sensor noise, identical hashes);
//! - `cctv.black` — runs of dark or flat (covered) pictures;
//! - `cctv.reused` — the same footage in two videos claimed for different
//!   times, found through the hash index and verified along one time offset
//!   against the other offsets of the same pair (a permutation-style null);
//! - `cctv.loop` — the same within one video at a lag.
//!
//! A motionless room is *inconclusive* for re-use and loops: only samples
//! with foreground and motion are indexed.

use std::collections::HashMap;

use serde::Deserialize;

use super::{ColKind, Ctx, EvidenceTable, Finding, FrameRef, SubjectKind};
use crate::checks::CctvCheck;
use crate::dataset::rows::{fmt_ts, Cctv, Tables, Ts};
use crate::video::hash::hamming;
use crate::video::index::{landmark_pairs, near_pairs, Key, Landmarks, Place, Tolerance};
use crate::video::{FrameSample, SampleOptions, VideoScan};

/// `[params.cctv]` in `models/scorecard.toml` (each value is sourced there).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    // sampling
    pub interval_seconds: f64,
    pub keyframes_only: bool,
    pub decoder_threads: usize,
    pub min_side: u32,
    pub motion_cell_min: f32,
    pub fg_cell_min: f32,
    // unreadable
    pub damaged_share_min: f64,
    // coverage
    pub coverage_min_gap_seconds: f64,
    pub coverage_unclaimed_sessions: bool,
    // claim mismatch
    pub claim_tolerance_seconds: f64,
    pub claim_tolerance_share: f64,
    pub creation_before_claim_seconds: f64,
    pub creation_severity: f64,
    // frozen
    pub frozen_motion_max: f32,
    pub frozen_hash_max: u32,
    pub frozen_min_seconds: f64,
    pub frozen_min_samples: usize,
    // black
    pub black_mean_max: f32,
    pub flat_std_max: f32,
    pub black_min_seconds: f64,
    // re-use and loops
    pub min_fg_bits: u32,
    pub min_motion_bits: u32,
    pub index_fg_max: u32,
    pub index_motion_max: u32,
    pub index_phash_max: u32,
    pub index_bucket_cap: usize,
    pub landmark_fanout: usize,
    pub landmark_max_gap_seconds: f64,
    pub landmark_gap_seconds: f64,
    pub match_min_votes: usize,
    pub match_min_frames: usize,
    pub match_min_seconds: f64,
    pub match_distance_ratio_max: f64,
    pub match_min_nulls: usize,
    pub match_null_offsets: usize,
    pub match_candidates_per_pair: usize,
    pub match_z_min: f64,
    pub reuse_same_time_seconds: f64,
    pub loop_min_lag_seconds: f64,
    // evidence
    pub evidence_rows_max: usize,
    pub thumbnails_max: usize,
}

impl Params {
    pub fn sample_options(&self) -> SampleOptions {
        SampleOptions {
            interval: self.interval_seconds,
            keyframes_only: self.keyframes_only,
            threads: self.decoder_threads,
            min_side: self.min_side,
            motion_cell_min: self.motion_cell_min,
            fg_cell_min: self.fg_cell_min,
        }
    }
}

impl Default for Params {
    /// The values of `models/scorecard.toml` (kept equal by a test there).
    fn default() -> Self {
        Params {
            interval_seconds: 2.0,
            keyframes_only: false,
            decoder_threads: 0,
            min_side: 16,
            motion_cell_min: 3.0,
            fg_cell_min: 6.0,
            damaged_share_min: 0.01,
            coverage_min_gap_seconds: 120.0,
            coverage_unclaimed_sessions: false,
            claim_tolerance_seconds: 60.0,
            claim_tolerance_share: 0.02,
            creation_before_claim_seconds: 3600.0,
            creation_severity: 0.15,
            frozen_motion_max: 0.01,
            frozen_hash_max: 2,
            frozen_min_seconds: 10.0,
            frozen_min_samples: 3,
            black_mean_max: 16.0,
            flat_std_max: 4.0,
            black_min_seconds: 10.0,
            min_fg_bits: 1,
            min_motion_bits: 2,
            index_fg_max: 6,
            index_motion_max: 10,
            index_phash_max: 14,
            index_bucket_cap: 400,
            landmark_fanout: 3,
            landmark_max_gap_seconds: 300.0,
            landmark_gap_seconds: 5.0,
            match_min_votes: 3,
            match_min_frames: 5,
            match_min_seconds: 8.0,
            match_distance_ratio_max: 0.6,
            match_min_nulls: 8,
            match_null_offsets: 64,
            match_candidates_per_pair: 3,
            match_z_min: 4.0,
            reuse_same_time_seconds: 60.0,
            loop_min_lag_seconds: 10.0,
            evidence_rows_max: 50,
            thumbnails_max: 6,
        }
    }
}

/// One `cctv` row with its scan, resolved for the checks.
struct Video<'a> {
    c: &'a Cctv,
    id: &'a str,
    scan: &'a VideoScan,
    /// Wall-clock time of `t = 0`: the frame names' own time, else the claim.
    wall0: Ts,
}

impl Video<'_> {
    fn wall(&self, t: f64) -> Ts {
        self.wall0 + t.floor() as Ts
    }
    fn readable(&self) -> bool {
        self.scan.error.is_none()
    }
}

/// Runs every `cctv.*` check.
pub fn run(ctx: &Ctx) -> Vec<Finding> {
    let t = ctx.t;
    let p = &ctx.params.cctv;
    let Some(rows) = t.cctv.as_ref() else { return Vec::new() };
    let videos: Vec<Video> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let scan = ctx.footage.scans.get(i)?;
            Some(Video { c, id: t.s(c.id), scan, wall0: scan.wall_start.unwrap_or(c.claimed_start) })
        })
        .collect();
    let rooms = Rooms::new(t);
    let mut out = Vec::new();
    out.extend(unreadable(t, &rooms, p, &videos));
    out.extend(missing_coverage(t, p, &videos));
    out.extend(claim_mismatch(t, &rooms, p, &videos));
    out.extend(runs_check(t, &rooms, p, &videos, RunKind::Frozen));
    out.extend(runs_check(t, &rooms, p, &videos, RunKind::Black));
    out.extend(matches_check(t, &rooms, p, &videos));
    out
}

fn norm_room(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Institutions in order, each with its videos.
fn by_inst<'a, 'b>(videos: &'b [Video<'a>]) -> Vec<(u32, Vec<&'b Video<'a>>)> {
    let mut m: HashMap<u32, Vec<&Video>> = HashMap::new();
    for v in videos {
        m.entry(v.c.inst).or_default().push(v);
    }
    let mut out: Vec<_> = m.into_iter().collect();
    out.sort_by_key(|(i, _)| *i);
    out
}

/// Exam sessions by (institution, normalised room), for overlap look-ups
/// without scanning the province's sessions per question.
struct Rooms<'a> {
    t: &'a Tables,
    by_room: HashMap<(u32, String), Vec<usize>>,
}

impl<'a> Rooms<'a> {
    fn new(t: &'a Tables) -> Self {
        let mut by_room: HashMap<(u32, String), Vec<usize>> = HashMap::new();
        for (i, s) in t.exam_sessions.iter().flatten().enumerate() {
            by_room.entry((s.inst, norm_room(t.s(s.room)))).or_default().push(i);
        }
        Rooms { t, by_room }
    }

    /// Sessions of `inst` in `room` whose window overlaps `[from, to]`.
    fn overlapping(&self, inst: u32, room: &str, from: Ts, to: Ts) -> Vec<String> {
        let (Some(list), Some(sessions)) = (self.by_room.get(&(inst, norm_room(room))), self.t.exam_sessions.as_ref())
        else {
            return Vec::new();
        };
        let mut ids: Vec<String> = list
            .iter()
            .map(|&i| &sessions[i])
            .filter(|s| s.start <= to && s.end >= from)
            .map(|s| self.t.s(s.id).to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

fn frame_ref(v: &Video, f: &FrameSample, caption: String) -> FrameRef {
    FrameRef {
        video_id: v.id.to_string(),
        video_time: f.t,
        wall_time: fmt_ts(v.wall(f.t)),
        thumbnail_png: f.thumb_png.clone(),
        caption,
    }
}

fn mmss(t: f64) -> String {
    let s = t.max(0.0).round() as i64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

// ---------------------------------------------------------------- unreadable

fn unreadable(t: &Tables, rooms: &Rooms, p: &Params, videos: &[Video]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (inst, vs) in by_inst(videos) {
        let mut table = EvidenceTable::new(
            "无法读取或受损的录像",
            "Unreadable or damaged footage",
            "cctv",
            &[
                ("video_id", ColKind::Text),
                ("file", ColKind::Text),
                ("line", ColKind::Number),
                ("problem", ColKind::Text),
            ],
        );
        let mut weight = 0.0;
        let mut flags = Vec::new();
        for v in &vs {
            let (w, why) = match (&v.scan.error, &v.scan.damage) {
                (Some(e), _) => (1.0, e.clone()),
                (None, Some(d)) if v.scan.packets > 0 => {
                    let share = v.scan.bad_packets as f64 / v.scan.packets as f64;
                    if share < p.damaged_share_min {
                        continue;
                    }
                    (
                        0.5,
                        format!(
                            "{} of {} packets damaged ({:.1}%): {d}",
                            v.scan.bad_packets,
                            v.scan.packets,
                            100.0 * share
                        ),
                    )
                }
                _ => continue,
            };
            weight += w;
            flags.push((v.id.to_string(), w, v.c));
            table.push_limited(
                vec![v.id.to_string(), t.s(v.c.file).to_string(), v.c.line.to_string(), why],
                p.evidence_rows_max,
            );
        }
        if flags.is_empty() {
            continue;
        }
        let n = vs.len();
        let share = weight / n as f64;
        // Severity: an unreadable file is itself a breach of the duty to keep
        // readable footage (0.4), rising with the share of the centre's files.
        let sev = 0.4 + 0.6 * share;
        let k = flags.len();
        // The example names the file and its cctv line, so the summary alone
        // (findings.csv) tells an inspector which file to look at.
        let first =
            table.rows.first().map(|r| format!("`{}` (cctv line {}): {}", r[1], r[2], r[3])).unwrap_or_default();
        let mut f = Finding::new(t.inst_id(inst), CctvCheck::Unreadable, sev)
            .stat(share, None)
            .summary(
                format!("{k}/{n} 个监控录像文件无法读取或受损（如：{first}）"),
                format!("{k} of {n} CCTV files cannot be read or are damaged (e.g. {first})"),
            )
            .method(
                "用 FFmpeg 解码每个文件；打不开、无视频流、无可解码画面、路径越出数据目录均视为无法读取，部分数据包损坏比例达到阈值视为受损。",
                "Each file was decoded with FFmpeg; files that do not open, have no video stream or no decodable frame, or whose path leaves the dataset folder are unreadable; files with at least the configured share of damaged packets are damaged.",
            )
            .evidence(table);
        for (id, w, c) in flags {
            f = f.flag(SubjectKind::Video, id, w);
            let to = c.claimed_end.unwrap_or(c.claimed_start);
            for s in rooms.overlapping(c.inst, t.s(c.room), c.claimed_start, to) {
                f = f.flag(SubjectKind::Session, s, w * 0.8);
            }
        }
        out.push(f);
    }
    out
}

// ---------------------------------------------------------- missing coverage

/// Length of the part of `[a, b]` covered by the sorted, merged intervals.
fn covered(a: Ts, b: Ts, merged: &[(Ts, Ts)]) -> Ts {
    merged.iter().map(|&(x, y)| (y.min(b) - x.max(a)).max(0)).sum()
}

fn merge(mut iv: Vec<(Ts, Ts)>) -> Vec<(Ts, Ts)> {
    iv.sort_unstable();
    let mut out: Vec<(Ts, Ts)> = Vec::new();
    for (a, b) in iv {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn missing_coverage(t: &Tables, p: &Params, videos: &[Video]) -> Vec<Finding> {
    let Some(sessions) = t.exam_sessions.as_ref() else { return Vec::new() };
    // footage per (institution, room): only institutions that gave any CCTV
    // rows are audited for it; the others are "not audited", not "missing".
    let mut footage: HashMap<(u32, String), Vec<(Ts, Ts)>> = HashMap::new();
    let mut claims: HashMap<(u32, String), Vec<(Ts, Ts)>> = HashMap::new();
    let mut audited = std::collections::HashSet::new();
    for v in videos {
        audited.insert(v.c.inst);
        let to = v.c.claimed_end.unwrap_or(v.c.claimed_start + v.scan.duration.round() as Ts);
        claims.entry((v.c.inst, norm_room(t.s(v.c.room)))).or_default().push((v.c.claimed_start, to));
        let e = footage.entry((v.c.inst, norm_room(t.s(v.c.room)))).or_default();
        if v.readable() && v.scan.duration > 0.0 {
            e.push((v.wall0, v.wall0 + v.scan.duration.round() as Ts));
        }
    }
    let footage: HashMap<(u32, String), Vec<(Ts, Ts)>> = footage.into_iter().map(|(k, iv)| (k, merge(iv))).collect();
    let mut per_inst: HashMap<u32, Vec<(usize, Ts, Ts)>> = HashMap::new();
    for (si, s) in sessions.iter().enumerate() {
        if !audited.contains(&s.inst) || s.end <= s.start {
            continue;
        }
        let key = (s.inst, norm_room(t.s(s.room)));
        // Inspectors usually ask for the footage of a sample of sessions: a
        // session no `cctv` row claims to show is not audited, unless the
        // table is declared the centre's full inventory.
        let claimed = claims.get(&key).is_some_and(|c| c.iter().any(|&(a, b)| a <= s.end && b >= s.start));
        if !claimed && !p.coverage_unclaimed_sessions {
            continue;
        }
        let merged = footage.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let len = s.end - s.start;
        let cov = covered(s.start, s.end, merged);
        per_inst.entry(s.inst).or_default().push((si, len, len - cov));
    }
    let mut insts: Vec<_> = per_inst.into_iter().collect();
    insts.sort_by_key(|(i, _)| *i);
    let mut out = Vec::new();
    for (inst, list) in insts {
        let total: Ts = list.iter().map(|x| x.1).sum();
        let gaps: Vec<&(usize, Ts, Ts)> =
            list.iter().filter(|x| x.2 as f64 >= p.coverage_min_gap_seconds.min(x.1 as f64)).collect();
        if gaps.is_empty() || total <= 0 {
            continue;
        }
        let uncovered: Ts = gaps.iter().map(|x| x.2).sum();
        let share = uncovered as f64 / total as f64;
        let mut table = EvidenceTable::new(
            "录像未覆盖的考试场次",
            "Exam sessions not covered by footage",
            "exam_sessions",
            &[
                ("session_id", ColKind::Text),
                ("room", ColKind::Text),
                ("start", ColKind::Time),
                ("end", ColKind::Time),
                ("uncovered_minutes", ColKind::Number),
                ("covered_share", ColKind::Number),
            ],
        );
        let mut f = Finding::new(t.inst_id(inst), CctvCheck::MissingCoverage, 0.3 + 0.7 * share);
        let whole = gaps.iter().filter(|x| x.2 == x.1).count();
        for &&(si, len, gap) in &gaps {
            let s = &sessions[si];
            table.push_limited(
                vec![
                    t.s(s.id).to_string(),
                    t.s(s.room).to_string(),
                    fmt_ts(s.start),
                    fmt_ts(s.end),
                    format!("{:.1}", gap as f64 / 60.0),
                    format!("{:.2}", 1.0 - gap as f64 / len as f64),
                ],
                p.evidence_rows_max,
            );
            f = f.flag(SubjectKind::Session, t.s(s.id), gap as f64 / len as f64);
        }
        let n = list.len();
        let k = gaps.len();
        f = f
            .stat(share, None)
            .summary(
                format!("{k}/{n} 个考试场次录像缺失或不全（{whole} 场完全无录像），共 {:.0} 分钟考试时间无录像", uncovered as f64 / 60.0),
                format!("{k} of {n} exam sessions lack footage ({whole} with none at all): {:.0} exam minutes not covered", uncovered as f64 / 60.0),
            )
            .method(
                format!("按机构和考场匹配录像，以录像开始时间加实际解码时长（非声明时长）计算覆盖区间，与清单声称覆盖的每场考试起止时间比较；未覆盖时长达到 {:.0} 秒的场次列出。", p.coverage_min_gap_seconds),
                format!("Footage matched by institution and room; each video covers claimed start + its real decoded duration (not the claimed one), compared with every session the cctv list claims to cover; sessions with at least {:.0} s not covered are listed.", p.coverage_min_gap_seconds),
            )
            .evidence(table);
        out.push(f);
    }
    out
}

// ------------------------------------------------------------ claim mismatch

/// `creation_time` tag (`2024-07-10T00:30:00.000000Z`, UTC) as local CST [`Ts`].
fn parse_creation_time(s: &str) -> Option<Ts> {
    let s = s.trim();
    let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let utc =
        i64::from(crate::dataset::rows::days_from_civil(y as i32, mo, d)) * 86_400 + i64::from(h * 3600 + mi * 60 + se);
    let utc_marked = s.ends_with('Z') || s.len() <= 19 || s[19..].starts_with('.');
    // Tags are UTC by the MP4/QuickTime convention; CST = UTC + 8 h.
    Some(if utc_marked { utc + 8 * 3600 } else { utc })
}

fn claim_mismatch(t: &Tables, rooms: &Rooms, p: &Params, videos: &[Video]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (inst, vs) in by_inst(videos) {
        let mut table = EvidenceTable::new(
            "与声明不符的录像",
            "Footage that does not match its claim",
            "cctv",
            &[
                ("video_id", ColKind::Text),
                ("claimed_start", ColKind::Time),
                ("claimed_end", ColKind::Time),
                ("what", ColKind::Text),
                ("claimed", ColKind::Text),
                ("found", ColKind::Text),
            ],
        );
        let mut sev: f64 = 0.0;
        let mut strong = 0;
        let mut weak = 0;
        let mut flags: Vec<(String, f64, &Cctv)> = Vec::new();
        for v in vs.iter().filter(|v| v.readable()) {
            let c = v.c;
            let end_txt = c.claimed_end.map(fmt_ts).unwrap_or_default();
            if let Some(end) = c.claimed_end {
                let claimed = (end - c.claimed_start) as f64;
                let real = v.scan.duration;
                let tol = p.claim_tolerance_seconds.max(p.claim_tolerance_share * claimed);
                if (real - claimed).abs() > tol {
                    let rel = ((real - claimed).abs() / claimed.max(real).max(1.0)).min(1.0);
                    // Footage shorter than claimed hides exam time; longer
                    // (an export with extra minutes) is half as telling.
                    let s = (0.2 + 0.8 * rel) * if real < claimed { 1.0 } else { 0.5 };
                    sev = sev.max(s);
                    strong += 1;
                    flags.push((v.id.to_string(), s, c));
                    table.push_limited(
                        vec![
                            v.id.to_string(),
                            fmt_ts(c.claimed_start),
                            end_txt.clone(),
                            "duration / 时长".into(),
                            mmss(claimed),
                            mmss(real),
                        ],
                        p.evidence_rows_max,
                    );
                }
            }
            if let Some(ws) = v.scan.wall_start {
                if ((ws - c.claimed_start) as f64).abs() > p.claim_tolerance_seconds {
                    let s = 0.6;
                    sev = sev.max(s);
                    strong += 1;
                    flags.push((v.id.to_string(), s, c));
                    table.push_limited(
                        vec![
                            v.id.to_string(),
                            fmt_ts(c.claimed_start),
                            end_txt.clone(),
                            "first frame time (file names) / 首帧时间（文件名）".into(),
                            fmt_ts(c.claimed_start),
                            fmt_ts(ws),
                        ],
                        p.evidence_rows_max,
                    );
                }
            }
            if let Some(ct) = v.scan.creation_time.as_deref().and_then(parse_creation_time) {
                if ((c.claimed_start - ct) as f64) > p.creation_before_claim_seconds {
                    sev = sev.max(p.creation_severity);
                    weak += 1;
                    flags.push((v.id.to_string(), p.creation_severity, c));
                    table.push_limited(
                        vec![
                            v.id.to_string(),
                            fmt_ts(c.claimed_start),
                            end_txt.clone(),
                            "container creation_time before the recording (weak: tag is easy to forge or mis-set) / 文件创建时间早于录像开始（弱证据）".into(),
                            fmt_ts(c.claimed_start),
                            fmt_ts(ct),
                        ],
                        p.evidence_rows_max,
                    );
                }
            }
        }
        if flags.is_empty() {
            continue;
        }
        let mut f = Finding::new(t.inst_id(inst), CctvCheck::ClaimMismatch, sev)
            .stat(table.total_rows as f64, None)
            .summary(
                format!("{strong} 处录像时长或时间与声明不符，{weak} 处文件创建时间早于声明的录像时间（弱证据）"),
                format!("{strong} video{} whose real duration or frame times contradict the claim; {weak} with a container creation_time before the claimed recording (weak evidence)", if strong == 1 { "" } else { "s" }),
            )
            .method(
                format!("实际解码时长与声明起止时间之差超过 {:.0} 秒或 {:.0}%；帧文件名时间与声明开始时间之差超过 {:.0} 秒；容器 creation_time（导出时写入，易伪造）早于声明开始 {:.0} 秒以上仅作弱证据。", p.claim_tolerance_seconds, 100.0 * p.claim_tolerance_share, p.claim_tolerance_seconds, p.creation_before_claim_seconds),
                format!("Real decoded duration differs from claimed_end − claimed_start by more than {:.0} s or {:.0}%; frame-name times differ from claimed_start by more than {:.0} s; a container creation_time (written at export, easy to forge) more than {:.0} s before claimed_start is weak evidence only.", p.claim_tolerance_seconds, 100.0 * p.claim_tolerance_share, p.claim_tolerance_seconds, p.creation_before_claim_seconds),
            )
            .evidence(table);
        for (id, s, c) in flags {
            f = f.flag(SubjectKind::Video, id, s);
            for sid in rooms.overlapping(c.inst, t.s(c.room), c.claimed_start, c.claimed_end.unwrap_or(c.claimed_start))
            {
                f = f.flag(SubjectKind::Session, sid, s * 0.8);
            }
        }
        out.push(f);
    }
    out
}

// ---------------------------------------------------------- frozen and black

#[derive(Clone, Copy, PartialEq)]
pub enum RunKind {
    Frozen,
    Black,
}

fn is_dark(p: &Params, f: &FrameSample) -> bool {
    f.mean <= p.black_mean_max || f.std <= p.flat_std_max
}

/// Typical gap between samples (what one sample stands for).
fn step(frames: &[FrameSample]) -> f64 {
    let mut g: Vec<f64> = frames.windows(2).map(|w| w[1].t - w[0].t).filter(|g| *g > 0.0).collect();
    g.sort_by(f64::total_cmp);
    g.get(g.len() / 2).copied().unwrap_or(0.0)
}

/// Runs `(first, last)` of frame indices with the property, at least `min_s` long.
pub fn find_runs(frames: &[FrameSample], p: &Params, kind: RunKind) -> Vec<(usize, usize)> {
    let dt = step(frames);
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    let n = frames.len();
    for i in 0..=n {
        let inside = i < n
            && match kind {
                RunKind::Black => is_dark(p, &frames[i]),
                // frame i continues a still run begun at frame i−1 or earlier
                RunKind::Frozen => {
                    i > 0
                        && !is_dark(p, &frames[i])
                        && !is_dark(p, &frames[i - 1])
                        && frames[i].motion <= p.frozen_motion_max
                        && hamming(frames[i].dhash, frames[i - 1].dhash) <= p.frozen_hash_max
                        && hamming(frames[i].phash, frames[i - 1].phash) <= p.frozen_hash_max
                }
            };
        match (inside, start) {
            (true, None) => start = Some(if kind == RunKind::Frozen { i - 1 } else { i }),
            (false, Some(s)) => {
                let e = i - 1;
                let len = frames[e].t - frames[s].t + if kind == RunKind::Black { dt } else { 0.0 };
                let (min, min_n) = if kind == RunKind::Black {
                    (p.black_min_seconds, 1)
                } else {
                    (p.frozen_min_seconds, p.frozen_min_samples)
                };
                // a frozen run of k still transitions spans k + 1 samples
                let n = if kind == RunKind::Black { e + 1 - s } else { e - s };
                if len + 1e-9 >= min && n >= min_n {
                    runs.push((s, e));
                }
                start = None;
            }
            _ => {}
        }
    }
    runs
}

fn runs_check(t: &Tables, rooms: &Rooms, p: &Params, videos: &[Video], kind: RunKind) -> Vec<Finding> {
    let (check, zh_what, en_what) = match kind {
        RunKind::Frozen => (CctvCheck::Frozen, "画面静止", "frozen picture"),
        RunKind::Black => (CctvCheck::Black, "黑屏或遮挡", "black or covered picture"),
    };
    let mut out = Vec::new();
    for (inst, vs) in by_inst(videos) {
        let mut table = EvidenceTable::new(
            &format!("{zh_what}时段"),
            &format!("Runs of {en_what}"),
            "cctv",
            &[
                ("video_id", ColKind::Text),
                ("from_video_time", ColKind::Text),
                ("to_video_time", ColKind::Text),
                ("from_wall_time", ColKind::Time),
                ("to_wall_time", ColKind::Time),
                ("seconds", ColKind::Number),
                ("mean_luma", ColKind::Number),
                ("max_motion", ColKind::Number),
            ],
        );
        let mut frames_ev = Vec::new();
        let mut bad = 0.0;
        let mut total = 0.0;
        let mut worst: f64 = 0.0;
        let mut flags = Vec::new();
        for v in vs.iter().filter(|v| v.readable()) {
            let fr = &v.scan.frames;
            total += v.scan.duration.max(0.0);
            let runs = find_runs(fr, p, kind);
            let dt = step(fr);
            let mut vbad = 0.0;
            for &(s, e) in &runs {
                let secs = fr[e].t - fr[s].t + if kind == RunKind::Black { dt } else { 0.0 };
                vbad += secs;
                let mean = fr[s..=e].iter().map(|f| f.mean).sum::<f32>() / (e - s + 1) as f32;
                let maxm = fr[s + 1..=e].iter().map(|f| f.motion).fold(0f32, f32::max);
                table.push_limited(
                    vec![
                        v.id.to_string(),
                        mmss(fr[s].t),
                        mmss(fr[e].t),
                        fmt_ts(v.wall(fr[s].t)),
                        fmt_ts(v.wall(fr[e].t)),
                        format!("{secs:.0}"),
                        format!("{mean:.1}"),
                        format!("{maxm:.3}"),
                    ],
                    p.evidence_rows_max,
                );
                if frames_ev.len() + 2 <= p.thumbnails_max {
                    frames_ev.push(frame_ref(v, &fr[s], format!("{en_what} from / {zh_what}开始")));
                    frames_ev.push(frame_ref(v, &fr[e], format!("{en_what} until / {zh_what}结束")));
                }
                for sid in rooms.overlapping(v.c.inst, t.s(v.c.room), v.wall(fr[s].t), v.wall(fr[e].t)) {
                    flags.push((SubjectKind::Session, sid, 0.8));
                }
            }
            if !runs.is_empty() {
                let share = (vbad / v.scan.duration.max(1e-9)).min(1.0);
                worst = worst.max(share);
                flags.push((SubjectKind::Video, v.id.to_string(), 0.5 + 0.5 * share));
                bad += vbad;
            }
        }
        if table.total_rows == 0 {
            continue;
        }
        let share = (bad / total.max(1e-9)).min(1.0);
        // A run past the threshold already breaks the duty to record the
        // whole exam (0.5); the worst video's affected share adds the rest.
        let sev = 0.5 + 0.5 * worst;
        let n = table.total_rows;
        let method = match kind {
            RunKind::Frozen => (
                format!("每 {:.0} 秒取一帧；相邻取样帧平均亮度差不超过 {} 级（无运动也无传感器噪声）且感知哈希相差不超过 {} 位，持续至少 {:.0} 秒视为画面静止。标定：静止画面经 x264 编码差值 ≤ 0.007，最安静的诚信演示考场 ≥ 0.016，有摄像机噪声的考场 0.3–0.7，有人走动 4–6。", p.interval_seconds, p.frozen_motion_max, p.frozen_hash_max, p.frozen_min_seconds),
                format!("One frame every {:.0} s; consecutive samples whose mean absolute luma difference is at most {} levels (no motion and no sensor noise) and whose perceptual hashes differ by at most {} bits, for at least {:.0} s, are a frozen picture. Calibration: a still picture re-encoded by x264 measured ≤ 0.007 (I-frame flicker), the quietest honest demo room ≥ 0.016, a room with camera noise 0.3–0.7, people walking 4–6.", p.interval_seconds, p.frozen_motion_max, p.frozen_hash_max, p.frozen_min_seconds),
            ),
            RunKind::Black => (
                format!("平均亮度 ≤ {} 或亮度标准差 ≤ {}（黑屏或镜头被遮挡、画面无内容）持续至少 {:.0} 秒。", p.black_mean_max, p.flat_std_max, p.black_min_seconds),
                format!("Mean luma ≤ {} or luma standard deviation ≤ {} (black, covered lens or blank picture) for at least {:.0} s.", p.black_mean_max, p.flat_std_max, p.black_min_seconds),
            ),
        };
        let mut f = Finding::new(t.inst_id(inst), check, sev)
            .stat(bad, None)
            .summary(
                format!("{n} 段{zh_what}，共 {:.0} 秒，占录像总时长 {:.1}%", bad, 100.0 * share),
                format!("{n} runs of {en_what}, {:.0} s in all, {:.1}% of the footage", bad, 100.0 * share),
            )
            .method(method.0, method.1)
            .evidence(table);
        f.frames = frames_ev;
        for (k, id, s) in flags {
            f = f.flag(k, id, s);
        }
        out.push(f);
    }
    out
}

// ------------------------------------------------------- re-use and loops

/// A verified match of footage between two videos (or one video at a lag).
#[derive(Debug, Clone)]
pub struct Match {
    pub a: usize,
    pub b: usize,
    /// t_b − t_a of the matched frames.
    pub offset: f64,
    /// Matched sample pairs (frame index in a, frame index in b).
    pub pairs: Vec<(usize, usize)>,
    pub mean_distance: f64,
    pub null_median: f64,
    /// Robust z of `mean_distance` below the other offsets' median.
    pub z: f64,
}

fn eligible(p: &Params, f: &FrameSample) -> bool {
    f.fg_hash.count_ones() >= p.min_fg_bits && f.motion_hash.count_ones() >= p.min_motion_bits
}

fn dist(a: &FrameSample, b: &FrameSample) -> u32 {
    hamming(a.fg_hash, b.fg_hash) + hamming(a.motion_hash, b.motion_hash)
}

/// Aligned eligible pairs of `a` and `b` at offset `d` (`t_b ≈ t_a + d`).
fn align(p: &Params, a: &[FrameSample], b: &[FrameSample], d: f64, tol: f64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut j = 0;
    for (i, fa) in a.iter().enumerate() {
        if !eligible(p, fa) {
            continue;
        }
        let target = fa.t + d;
        while j + 1 < b.len() && (b[j + 1].t - target).abs() <= (b[j].t - target).abs() {
            j += 1;
        }
        if let Some(fb) = b.get(j) {
            if (fb.t - target).abs() <= tol && eligible(p, fb) {
                out.push((i, j));
            }
        }
    }
    out
}

/// Median time between consecutive samples (0 for fewer than two).
fn median_spacing(f: &[FrameSample]) -> f64 {
    let mut gaps: Vec<f64> = f.windows(2).map(|w| w[1].t - w[0].t).collect();
    if gaps.is_empty() {
        return 0.0;
    }
    gaps.sort_by(f64::total_cmp);
    gaps[gaps.len() / 2]
}

fn mean_dist(a: &[FrameSample], b: &[FrameSample], pairs: &[(usize, usize)]) -> f64 {
    if pairs.is_empty() {
        return f64::INFINITY;
    }
    pairs.iter().map(|&(i, j)| f64::from(dist(&a[i], &b[j]))).sum::<f64>() / pairs.len() as f64
}

/// Finds verified matches among the given scans. `same_video_only`:
/// loops (a == b, lag ≥ loop_min_lag) vs re-use (a != b).
pub fn find_matches(p: &Params, scans: &[&VideoScan]) -> Vec<Match> {
    // 1. index the eligible frames of every readable scan
    let mut refs: Vec<(usize, usize)> = Vec::new();
    let mut keys: Vec<Key> = Vec::new();
    let mut places: Vec<Place> = Vec::new();
    for (v, s) in scans.iter().enumerate() {
        if s.error.is_some() {
            continue;
        }
        for (i, f) in s.frames.iter().enumerate() {
            if eligible(p, f) {
                refs.push((v, i));
                keys.push(Key { fg: f.fg_hash, motion: f.motion_hash, phash: f.phash });
                places.push(Place { video: v as u32, t: f.t });
            }
        }
    }
    let tol = Tolerance {
        fg: p.index_fg_max,
        motion: p.index_motion_max,
        phash: p.index_phash_max,
        bucket_cap: p.index_bucket_cap,
    };
    // 2. candidate pairs vote for (video a, video b, offset bucket)
    let step_s = p.interval_seconds.max(1e-3);
    let mut votes: HashMap<(usize, usize, i64), Vec<f64>> = HashMap::new();
    let lm = Landmarks { fanout: p.landmark_fanout, max_gap: p.landmark_max_gap_seconds, step: p.landmark_gap_seconds };
    let mut candidates = near_pairs(&keys, &tol);
    candidates.extend(landmark_pairs(&keys, &places, &lm, &tol));
    candidates.sort_unstable();
    candidates.dedup();
    for (x, y) in candidates {
        let (mut ra, mut rb) = (refs[x as usize], refs[y as usize]);
        if ra > rb {
            std::mem::swap(&mut ra, &mut rb);
        }
        let (ta, tb) = (scans[ra.0].frames[ra.1].t, scans[rb.0].frames[rb.1].t);
        let d = tb - ta;
        if ra.0 == rb.0 && d.abs() < p.loop_min_lag_seconds {
            continue;
        }
        votes.entry((ra.0, rb.0, (d / step_s).round() as i64)).or_default().push(d);
    }
    // 3. verify the best-voted offsets of each pair along their diagonal
    let mut cands: Vec<((usize, usize, i64), Vec<f64>)> =
        votes.into_iter().filter(|(_, v)| v.len() >= p.match_min_votes).collect();
    cands.sort_by(|x, y| y.1.len().cmp(&x.1.len()).then(x.0.cmp(&y.0)));

    let mut done: Vec<(usize, usize, f64)> = Vec::new();
    let mut tried: HashMap<(usize, usize), usize> = HashMap::new();
    let mut out = Vec::new();
    for ((a, b, _), mut ds) in cands {
        let n_tried = tried.entry((a, b)).or_default();
        if *n_tried >= p.match_candidates_per_pair {
            continue;
        }
        *n_tried += 1;
        ds.sort_by(f64::total_cmp);
        let d = ds[ds.len() / 2];
        let (fa, fb) = (&scans[a].frames, &scans[b].frames);
        let spacing = median_spacing(fa).max(median_spacing(fb)).max(step_s);
        // neighbours of a verified offset (a sample or two away) are the same match
        if done.iter().any(|&(x, y, e)| x == a && y == b && (e - d).abs() < 3.0 * spacing) {
            continue;
        }
        let tol_t = step_s * 0.75;
        let pairs = align(p, fa, fb, d, tol_t);
        if pairs.len() < p.match_min_frames.max(1) {
            continue;
        }
        let span = fa[pairs[pairs.len() - 1].0].t - fa[pairs[0].0].t;
        if span < p.match_min_seconds {
            continue;
        }
        let score = mean_dist(fa, fb, &pairs);
        // null: the same pair of videos at every other offset with enough overlap
        let (lo, hi) = (
            fb.first().map_or(0.0, |f| f.t) - fa.last().map_or(0.0, |f| f.t),
            fb.last().map_or(0.0, |f| f.t) - fa.first().map_or(0.0, |f| f.t),
        );
        // Null offsets keep the candidate's phase against the sampling grid
        // (d + k·spacing): on sparse samples (keyframes every 15 s, say) an
        // offset off that grid aligns no frames at all and would say nothing.
        let mut nulls = Vec::new();
        // Within one video the null is lag-local, lags in [d/2, 2d]: footage
        // resembles itself more at short lags than at long ones (people sit
        // still, the proctor pauses), so long lags would make any short lag
        // of a quiet room look like a loop.
        let (lo, hi) = if a == b { ((d / 2.0).max(p.loop_min_lag_seconds), hi.min(2.0 * d)) } else { (lo, hi) };
        let (k0, k1) = (((lo - d) / spacing).ceil() as i64, ((hi - d) / spacing).floor() as i64);
        // at most `match_null_offsets` offsets, evenly spread (cost bound on long videos)
        let stride = ((k1 - k0 + 1) as usize).div_ceil(p.match_null_offsets.max(1)).max(1) as i64;
        let mut k = k0;
        while k <= k1 {
            let dn = d + k as f64 * spacing;
            k += stride;
            // within one video only positive lags are distinct
            if (dn - d).abs() < 3.0 * spacing || (a == b && dn < p.loop_min_lag_seconds) {
                continue;
            }
            let pn = align(p, fa, fb, dn, tol_t);
            if pn.len() >= p.match_min_frames.min(pairs.len()) {
                nulls.push(mean_dist(fa, fb, &pn));
            }
        }
        if nulls.len() < p.match_min_nulls.max(1) {
            continue;
        }
        nulls.sort_by(f64::total_cmp);
        let med = nulls[nulls.len() / 2];
        let mut dev: Vec<f64> = nulls.iter().map(|x| (x - med).abs()).collect();
        dev.sort_by(f64::total_cmp);
        // robust z against the other offsets (median/MAD: a looped copy's other
        // true offsets do not inflate the spread); MAD floored at half a bit
        let mad = (1.4826 * dev[dev.len() / 2]).max(0.5);
        let z = (med - score) / mad;
        if z >= p.match_z_min && score <= p.match_distance_ratio_max * med {
            done.push((a, b, d));
            out.push(Match { a, b, offset: d, pairs, mean_distance: score, null_median: med, z });
        }
    }
    out.sort_by(|x, y| (x.a, x.b).cmp(&(y.a, y.b)).then(x.offset.total_cmp(&y.offset)));
    out
}

fn matches_check(t: &Tables, rooms: &Rooms, p: &Params, videos: &[Video]) -> Vec<Finding> {
    let scans: Vec<&VideoScan> = videos.iter().map(|v| v.scan).collect();
    let matches = find_matches(p, &scans);
    // (institution, check) → rows, frames, flags, severity
    struct Acc {
        table: EvidenceTable,
        frames: Vec<FrameRef>,
        flags: Vec<(SubjectKind, String, f64)>,
        sev: f64,
        best_z: f64,
        n: usize,
    }
    let mut acc: HashMap<(u32, CctvCheck), Acc> = HashMap::new();
    for m in &matches {
        let (va, vb) = (&videos[m.a], &videos[m.b]);
        let (fa, fb) = (&va.scan.frames, &vb.scan.frames);
        let (i0, j0) = m.pairs[0];
        let (i1, j1) = m.pairs[m.pairs.len() - 1];
        let wall_a = va.wall(fa[i0].t);
        let wall_b = vb.wall(fb[j0].t);
        let check = if m.a == m.b {
            CctvCheck::Loop
        } else if ((wall_a - wall_b) as f64).abs() > p.reuse_same_time_seconds {
            CctvCheck::Reused
        } else {
            // two exports of the same moment (overlapping files of one camera)
            continue;
        };
        let secs = fa[i1].t - fa[i0].t;
        // Severity: the verified share of the shorter video that is duplicated.
        let shorter = va.scan.duration.min(vb.scan.duration).max(1e-9);
        let sev = (0.5 + 0.5 * (secs / shorter).min(1.0)).min(1.0);
        for inst in [va.c.inst, vb.c.inst] {
            let e = acc.entry((inst, check)).or_insert_with(|| Acc {
                table: EvidenceTable::new(
                    "重复的录像片段",
                    "Repeated footage",
                    "cctv",
                    &[
                        ("video_a", ColKind::Text),
                        ("a_from", ColKind::Text),
                        ("a_wall_time", ColKind::Time),
                        ("video_b", ColKind::Text),
                        ("b_from", ColKind::Text),
                        ("b_wall_time", ColKind::Time),
                        ("seconds", ColKind::Number),
                        ("matched_samples", ColKind::Number),
                        ("mean_distance", ColKind::Number),
                        ("other_offsets_median", ColKind::Number),
                        ("robust_z", ColKind::Number),
                    ],
                ),
                frames: Vec::new(),
                flags: Vec::new(),
                sev: 0.0,
                best_z: 0.0,
                n: 0,
            });
            e.n += 1;
            e.sev = e.sev.max(sev);
            e.best_z = e.best_z.max(m.z);
            e.table.push_limited(
                vec![
                    va.id.to_string(),
                    mmss(fa[i0].t),
                    fmt_ts(wall_a),
                    vb.id.to_string(),
                    mmss(fb[j0].t),
                    fmt_ts(wall_b),
                    format!("{secs:.0}"),
                    m.pairs.len().to_string(),
                    format!("{:.1}", m.mean_distance),
                    format!("{:.1}", m.null_median),
                    format!("{:.1}", m.z),
                ],
                p.evidence_rows_max,
            );
            if e.frames.len() + 2 <= p.thumbnails_max {
                let mid = m.pairs[m.pairs.len() / 2];
                e.frames.push(frame_ref(va, &fa[mid.0], format!("same as {} at {}", vb.id, mmss(fb[mid.1].t))));
                e.frames.push(frame_ref(vb, &fb[mid.1], format!("same as {} at {}", va.id, mmss(fa[mid.0].t))));
            }
            for (v, from, to) in [(va, fa[i0].t, fa[i1].t), (vb, fb[j0].t, fb[j1].t)] {
                if v.c.inst == inst {
                    e.flags.push((SubjectKind::Video, v.id.to_string(), sev));
                    for sid in rooms.overlapping(inst, t.s(v.c.room), v.wall(from), v.wall(to)) {
                        e.flags.push((SubjectKind::Session, sid, sev * 0.9));
                    }
                }
            }
            if va.c.inst == vb.c.inst {
                break;
            }
        }
    }
    let mut keys: Vec<_> = acc.keys().copied().collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let Some(e) = acc.remove(&key) else { continue };
        let (inst, check) = key;
        let (zh, en) = if check == CctvCheck::Loop {
            (
                format!("{} 处录像片段在同一录像中循环重复", e.n),
                format!("{} segments repeat within the same video (looped footage)", e.n),
            )
        } else {
            (
                format!("{} 段录像与另一时间声明的录像画面相同", e.n),
                format!("{} stretches of footage are the same as footage claimed for another time", e.n),
            )
        };
        let mut f = Finding::new(t.inst_id(inst), check, e.sev)
            .stat(e.best_z, None)
            .summary(zh, en)
            .method(
                format!("对每个取样帧计算前景分布（与该录像中位数背景之差）和运动分布（与上一帧之差）的 8×8 哈希，用多索引哈希找近似相同的帧，按时间偏移投票；对候选偏移沿整段比对，其平均距离须不超过同一对录像其他偏移（至少 {} 个）中位数的 {:.0}%，且稳健 z 值（中位数/MAD）≥ {}，至少 {} 帧、{:.0} 秒。统计量为最大 z 值。无运动的画面不参与（无法判断）。", p.match_min_nulls, 100.0 * p.match_distance_ratio_max, p.match_z_min, p.match_min_frames, p.match_min_seconds),
                format!("Each sample has 8×8 maps of foreground (difference to the video's median background) and motion (difference to the previous sample); multi-index hashing finds near-identical samples, which vote for a time offset. A candidate offset is verified along the whole overlap: its mean distance must be at most {:.0}% of the median over the other offsets of the same pair of videos (at least {} of them) and lie at least {} robust standard deviations (median/MAD) below it, over at least {} samples and {:.0} s. The statistic is the largest robust z. Samples without motion are left out (inconclusive).", 100.0 * p.match_distance_ratio_max, p.match_min_nulls, p.match_z_min, p.match_min_frames, p.match_min_seconds),
            )
            .evidence(e.table);
        f.frames = e.frames;
        for (k, id, s) in e.flags {
            f = f.flag(k, id, s);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t: f64, mean: f32, std: f32, motion: f32, h: u64) -> FrameSample {
        FrameSample { t, dhash: h, phash: h, mean, std, motion, ..FrameSample::default() }
    }

    #[test]
    fn frozen_needs_no_motion_and_no_noise() {
        let p = Params::default();
        // 10 samples 2 s apart of a still picture: one 18 s frozen run
        let still: Vec<FrameSample> = (0..10).map(|i| frame(2.0 * i as f64, 120.0, 50.0, 0.0, 7)).collect();
        assert_eq!(find_runs(&still, &p, RunKind::Frozen), vec![(0, 9)]);
        // a quiet live room: same hashes but sensor noise (0.66 levels measured)
        let quiet: Vec<FrameSample> = (0..10).map(|i| frame(2.0 * i as f64, 120.0, 50.0, 0.66, 7)).collect();
        assert!(find_runs(&quiet, &p, RunKind::Frozen).is_empty());
        // too short a still run
        assert!(find_runs(&still[..4], &p, RunKind::Frozen).is_empty());
        // black frames are black, not frozen
        let black: Vec<FrameSample> = (0..10).map(|i| frame(2.0 * i as f64, 2.0, 0.5, 0.0, 0)).collect();
        assert!(find_runs(&black, &p, RunKind::Frozen).is_empty());
        assert_eq!(find_runs(&black, &p, RunKind::Black), vec![(0, 9)]);
    }

    #[test]
    fn black_runs_need_their_length() {
        let p = Params::default();
        let mut fr: Vec<FrameSample> = (0..20).map(|i| frame(2.0 * i as f64, 120.0, 50.0, 3.0, i)).collect();
        for f in &mut fr[5..10] {
            f.mean = 5.0; // 5 samples × 2 s = 10 s: exactly the minimum
        }
        fr[15].mean = 3.0; // one dark sample: 2 s, not reported
        assert_eq!(find_runs(&fr, &p, RunKind::Black), vec![(5, 9)]);
        // a dim but detailed room is not black
        for f in &mut fr {
            f.mean = 20.0;
        }
        assert!(find_runs(&fr, &p, RunKind::Black).is_empty());
    }

    #[test]
    fn coverage_union() {
        let m = merge(vec![(10, 20), (0, 5), (15, 30)]);
        assert_eq!(m, vec![(0, 5), (10, 30)]);
        assert_eq!(covered(0, 40, &m), 25);
        assert_eq!(covered(3, 12, &m), 4);
    }

    #[test]
    fn creation_time_is_utc() {
        let base = i64::from(crate::dataset::rows::days_from_civil(2024, 7, 10)) * 86_400;
        assert_eq!(parse_creation_time("2024-07-10T00:30:00.000000Z"), Some(base + 8 * 3600 + 1800));
        assert_eq!(parse_creation_time("junk"), None);
    }

    fn moving(t: f64, seed: u64) -> FrameSample {
        // a pseudo-random but deterministic picture of people at time seed
        // splitmix64: no periodic low bits (a plain multiplicative hash has
        // them, and the loop check rightly finds the period)
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let h = z ^ (z >> 31);
        FrameSample {
            t,
            fg_hash: h & 0x0F0F_00F0_0F00_F00F,
            motion_hash: (h >> 7) & 0x00FF_0F00_F0F0_0F00,
            phash: 0x1234,
            mean: 120.0,
            std: 50.0,
            motion: 4.0,
            ..FrameSample::default()
        }
    }

    #[test]
    fn reuse_found_at_its_offset_and_not_elsewhere() {
        let p = Params::default();
        let a = VideoScan { frames: (0..40).map(|i| moving(2.0 * i as f64, i)).collect(), ..VideoScan::default() };
        // b = a's samples 10..25 at times starting from 0
        let b =
            VideoScan { frames: (10..25).map(|i| moving(2.0 * (i - 10) as f64, i)).collect(), ..VideoScan::default() };
        let c =
            VideoScan { frames: (0..30).map(|i| moving(2.0 * i as f64, 1000 + i)).collect(), ..VideoScan::default() };
        let m = find_matches(&p, &[&a, &b, &c]);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!((m[0].a, m[0].b), (0, 1));
        assert!((m[0].offset + 20.0).abs() < 1e-9);
        assert_eq!(m[0].pairs.len(), 15);
    }

    #[test]
    fn motionless_room_is_inconclusive() {
        let p = Params::default();
        let still = |n: usize| VideoScan {
            frames: (0..n).map(|i| frame(2.0 * i as f64, 120.0, 50.0, 0.5, 9)).collect(),
            ..VideoScan::default()
        };
        let (a, b) = (still(40), still(40));
        assert!(find_matches(&p, &[&a, &b]).is_empty());
    }

    // ---- table-driven checks: a tiny dataset built in memory ----

    use crate::checks::Params as AllParams;
    use crate::dataset::rows::{days_from_civil, ExamSession, InstKind, Institution, OpRef, Part};
    use crate::model::Models;
    use crate::video::Footage;

    const T0: Ts = 19_914 * 86_400 + 9 * 3600; // 2024-07-10 09:00

    fn tables(sessions: &[(Ts, Ts)], videos: &[(Ts, Option<Ts>)]) -> Tables {
        let mut t = Tables::default();
        let (id, name, region) = (t.strings.intern("E1"), t.strings.intern("考点"), t.strings.intern("410800"));
        t.institutions.push(Institution { line: 2, id, name, kind: InstKind::Exam, region, seats: None });
        let room = t.strings.intern("R1");
        let op = t.strings.intern("低压电工");
        let ss = sessions
            .iter()
            .enumerate()
            .map(|(i, &(start, end))| ExamSession {
                line: i as u32 + 2,
                id: t.strings.intern(&format!("S{}", i + 1)),
                inst: 0,
                room,
                operation: OpRef { raw: op, op: None },
                part: Part::Theory,
                start,
                end,
                seats: None,
                proctor: None,
            })
            .collect();
        t.exam_sessions = Some(ss);
        let vs = videos
            .iter()
            .enumerate()
            .map(|(i, &(claimed_start, claimed_end))| Cctv {
                line: i as u32 + 2,
                id: t.strings.intern(&format!("V{}", i + 1)),
                inst: 0,
                room,
                camera: None,
                file: t.strings.intern(&format!("v{}.mp4", i + 1)),
                claimed_start,
                claimed_end,
            })
            .collect();
        t.cctv = Some(vs);
        t
    }

    fn live(duration: f64, seed: u64) -> VideoScan {
        VideoScan {
            duration,
            frames: (0..(duration / 2.0) as u64).map(|i| moving(2.0 * i as f64, seed * 1_000_000 + i)).collect(),
            ..VideoScan::default()
        }
    }

    fn findings(t: &Tables, scans: Vec<VideoScan>) -> Vec<Finding> {
        let models = Models::load(None).unwrap();
        let params = AllParams::from_scorecard(&models.scorecard).unwrap();
        let footage = Footage { scans };
        let ctx = Ctx { t, ops: &models.operations, card: &models.scorecard, params: &params, footage: &footage };
        run(&ctx)
    }

    fn checks_of(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|x| x.check.as_str()).collect()
    }

    #[test]
    fn scorecard_params_are_the_defaults() {
        let models = Models::load(None).unwrap();
        let params = AllParams::from_scorecard(&models.scorecard).unwrap();
        assert_eq!(params.cctv, Params::default());
    }

    #[test]
    fn coverage_tolerates_short_gaps_only() {
        // a 2 h exam filmed in two files with 30 s lost in between: honest
        let t = tables(&[(T0, T0 + 7200)], &[(T0, None), (T0 + 3630, None)]);
        let f = findings(&t, vec![live(3600.0, 1), live(3570.0, 2)]);
        assert!(f.is_empty(), "{:?}", checks_of(&f));
        // the second hour missing: 60 min not covered
        let f = findings(&t, vec![live(3600.0, 1), VideoScan { error: Some("x".into()), ..VideoScan::default() }]);
        let cov: Vec<_> = f.iter().filter(|x| x.check == "cctv.missing_coverage").collect();
        assert_eq!(cov.len(), 1);
        assert_eq!(cov[0].evidence[0].rows[0][4], "60.0");
        assert!((cov[0].statistic.unwrap() - 0.5).abs() < 0.01);
        assert_eq!(checks_of(&f), vec!["cctv.unreadable", "cctv.missing_coverage"]);
    }

    #[test]
    fn claim_mismatch_on_short_footage_and_early_creation_time() {
        let t = tables(&[], &[(T0, Some(T0 + 7200))]);
        // 7,195 s for a claimed 7,200 s, exported the same afternoon: honest
        let honest = VideoScan { creation_time: Some("2024-07-10T07:00:00.000000Z".into()), ..live(7195.0, 1) };
        assert!(findings(&t, vec![honest]).is_empty());
        // an hour of footage claimed as two, with a tag from the day before
        let short = VideoScan { creation_time: Some("2024-07-09T01:00:00Z".into()), ..live(3600.0, 1) };
        let f = findings(&t, vec![short]);
        assert_eq!(checks_of(&f), vec!["cctv.claim_mismatch"]);
        assert_eq!(f[0].evidence[0].total_rows, 2);
        assert!((f[0].severity - 0.6).abs() < 1e-9, "{}", f[0].severity);
        let _ = days_from_civil(2024, 7, 10);
    }

    #[test]
    fn damage_below_the_share_is_not_reported() {
        let t = tables(&[], &[(T0, None)]);
        let slightly = VideoScan { packets: 1000, bad_packets: 5, damage: Some("decoder: x".into()), ..live(100.0, 1) };
        assert!(findings(&t, vec![slightly]).is_empty());
        let badly = VideoScan { packets: 1000, bad_packets: 50, damage: Some("decoder: x".into()), ..live(100.0, 1) };
        let f = findings(&t, vec![badly]);
        assert_eq!(checks_of(&f), vec!["cctv.unreadable"]);
        assert!((f[0].severity - 0.7).abs() < 1e-9);
    }
}
