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
use crate::checks::severity::Evidence;
use crate::checks::CctvCheck;
use crate::dataset::rows::{fmt_ts, Cctv, Part, Tables, Ts};
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
    pub black_min_samples: usize,
    pub dark_cells_share: f64,
    // short dropouts (black or frozen glitches) against the base rate
    pub dropout_min_centres: usize,
    pub dropout_q_max: f64,
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
    pub match_candidates_per_pair: usize,
    pub match_distance_ratio_max: f64,
    pub identity_share_min: f64,
    pub identity_luma_max: f32,
    pub null_min_recordings: usize,
    pub null_max_recordings: usize,
    pub null_block_seconds: f64,
    pub null_mad_floor: f64,
    pub null_scale_floor: f64,
    pub null_block_z_cap: f64,
    pub match_q_max: f64,
    pub cross_centre_share: f64,
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
            ..SampleOptions::default()
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
            black_min_samples: 3,
            dark_cells_share: 0.95,
            dropout_min_centres: 5,
            dropout_q_max: 0.05,
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
            match_candidates_per_pair: 3,
            match_distance_ratio_max: 0.6,
            identity_share_min: 0.9,
            identity_luma_max: 0.05,
            null_min_recordings: 8,
            null_max_recordings: 60,
            null_block_seconds: 60.0,
            null_mad_floor: 0.25,
            null_scale_floor: 0.25,
            null_block_z_cap: 8.0,
            match_q_max: 0.05,
            cross_centre_share: 0.5,
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
    out.extend(runs_check(ctx, &rooms, &videos, RunKind::Frozen));
    out.extend(runs_check(ctx, &rooms, &videos, RunKind::Black));
    out.extend(matches_check(ctx, &rooms, &videos));
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

    /// Whether any exam session was given at all (else runs are placed on
    /// the clips themselves).
    fn has_sessions(&self) -> bool {
        !self.by_room.is_empty()
    }

    /// `(session id, start, end)` of the sessions of `inst` in `room` whose
    /// window overlaps `(from, to)`, sorted by id.
    fn windows(&self, inst: u32, room: &str, from: Ts, to: Ts) -> Vec<(String, Ts, Ts)> {
        let (Some(list), Some(sessions)) = (self.by_room.get(&(inst, norm_room(room))), self.t.exam_sessions.as_ref())
        else {
            return Vec::new();
        };
        let mut out: Vec<(String, Ts, Ts)> = list
            .iter()
            .map(|&i| &sessions[i])
            .filter(|s| s.start < to && s.end > from)
            .map(|s| (self.t.s(s.id).to_string(), s.start, s.end))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The exam part of the session a clip of `inst`/`room` overlaps most.
    fn part(&self, inst: u32, room: &str, from: Ts, to: Ts) -> Option<Part> {
        let list = self.by_room.get(&(inst, norm_room(room)))?;
        let sessions = self.t.exam_sessions.as_ref()?;
        list.iter()
            .map(|&i| &sessions[i])
            .map(|s| ((s.end.min(to) - s.start.max(from)), s.part))
            .filter(|(o, _)| *o > 0)
            .max_by_key(|(o, _)| *o)
            .map(|(_, p)| p)
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
        // made after the checks by a targeted decode (pipeline::attach_thumbnails)
        thumbnail_png: None,
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

/// Black or flat: by the whole frame's mean and contrast, or — because a
/// recorder burns its OSD clock into the black "no signal" picture too,
/// which lifts both — by the appearance grid: nearly every cell within
/// `flat_std_max` levels of the median cell.
fn is_dark(p: &Params, f: &FrameSample) -> bool {
    if f.mean <= p.black_mean_max || f.std <= p.flat_std_max {
        return true;
    }
    if f.grid.is_empty() {
        return false;
    }
    let mut hist = [0u32; 256];
    for &v in &f.grid {
        hist[v as usize] += 1;
    }
    let half = f.grid.len().div_ceil(2) as u32;
    let mut acc = 0;
    let med = hist.iter().position(|&h| {
        acc += h;
        acc >= half
    });
    let Some(med) = med else { return false };
    let near = f.grid.iter().filter(|&&v| f32::from(v.abs_diff(med as u8)) <= p.flat_std_max).count();
    near as f64 >= p.dark_cells_share * f.grid.len() as f64
}

/// Typical gap between samples (what one sample stands for).
fn step(frames: &[FrameSample]) -> f64 {
    let mut g: Vec<f64> = frames.windows(2).map(|w| w[1].t - w[0].t).filter(|g| *g > 0.0).collect();
    g.sort_by(f64::total_cmp);
    g.get(g.len() / 2).copied().unwrap_or(0.0)
}

/// Every run `(first, last)` of frame indices with the property, however
/// short (a single dark sample is a run of one).
fn raw_runs(frames: &[FrameSample], p: &Params, kind: RunKind) -> Vec<(usize, usize)> {
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
                runs.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// Seconds a run stands for: each sample covers one sampling step.
fn run_seconds(frames: &[FrameSample], (s, e): (usize, usize), dt: f64) -> f64 {
    frames[e].t - frames[s].t + dt
}

/// Whether a run is more than a glitch: enough consecutive samples *and*
/// at least `*_min_seconds` (the floor under the per-session tolerance).
fn is_long(frames: &[FrameSample], run: (usize, usize), dt: f64, p: &Params, kind: RunKind) -> bool {
    let (s, e) = run;
    let (min_s, min_n, n) = match kind {
        RunKind::Black => (p.black_min_seconds, p.black_min_samples, e + 1 - s),
        // a frozen run of k still transitions spans k + 1 samples
        RunKind::Frozen => (p.frozen_min_seconds, p.frozen_min_samples, e - s),
    };
    n >= min_n.max(1) && run_seconds(frames, run, dt) + 1e-9 >= min_s
}

/// Runs `(first, last)` long enough to be more than a glitch.
pub fn find_runs(frames: &[FrameSample], p: &Params, kind: RunKind) -> Vec<(usize, usize)> {
    let dt = step(frames);
    raw_runs(frames, p, kind).into_iter().filter(|&r| is_long(frames, r, dt, p, kind)).collect()
}

/// A unit of exam time a run can hide: a session of the clip's room, or
/// (without sessions) the clip itself.
#[derive(Default)]
struct Unit {
    len: f64,
    hidden: f64,
    /// Rows (run indices into the institution's list) that hide time in it.
    runs: Vec<usize>,
}

/// One long run of one video.
struct RunRow<'v, 'a> {
    v: &'v Video<'a>,
    s: usize,
    e: usize,
    secs: f64,
}

fn runs_check(ctx: &Ctx, rooms: &Rooms, videos: &[Video], kind: RunKind) -> Vec<Finding> {
    let (t, p) = (ctx.t, &ctx.params.cctv);
    let (check, zh_what, en_what) = match kind {
        RunKind::Frozen => (CctvCheck::Frozen, "画面静止", "frozen picture"),
        RunKind::Black => (CctvCheck::Black, "黑屏或遮挡", "black or covered picture"),
    };
    // pass 1: per institution, long runs placed on exam time; short runs
    // (glitches) only counted, for the base-rate test of pass 2
    struct Inst<'v, 'a> {
        inst: u32,
        runs: Vec<RunRow<'v, 'a>>,
        units: HashMap<String, Unit>,
        events: u64,
        event_seconds: f64,
        samples: u64,
        footage_seconds: f64,
    }
    let mut insts: Vec<Inst> = Vec::new();
    for (inst, vs) in by_inst(videos) {
        let mut it = Inst {
            inst,
            runs: Vec::new(),
            units: HashMap::new(),
            events: 0,
            event_seconds: 0.0,
            samples: 0,
            footage_seconds: 0.0,
        };
        for v in vs.into_iter().filter(|v| v.readable()) {
            let fr = &v.scan.frames;
            let dt = step(fr);
            it.samples += fr.len() as u64;
            it.footage_seconds += v.scan.duration.max(0.0);
            for run in raw_runs(fr, p, kind) {
                let secs = run_seconds(fr, run, dt);
                if !is_long(fr, run, dt, p, kind) {
                    it.events += 1;
                    it.event_seconds += secs;
                    continue;
                }
                let k = it.runs.len();
                let (w0, w1) = (v.wall0 as f64 + fr[run.0].t, v.wall0 as f64 + fr[run.0].t + secs);
                let sessions = rooms.windows(v.c.inst, t.s(v.c.room), w0.floor() as Ts, w1.ceil() as Ts);
                if sessions.is_empty() && rooms.has_sessions() {
                    // outside every exam of the room: the empty room before or after
                    it.events += 1;
                    it.event_seconds += secs;
                    continue;
                }
                if sessions.is_empty() {
                    let u = it.units.entry(format!("video {}", v.id)).or_default();
                    u.len = v.scan.duration.max(secs);
                    u.hidden += secs;
                    u.runs.push(k);
                }
                for (sid, a, b) in sessions {
                    let u = it.units.entry(sid).or_default();
                    u.len = (b - a) as f64;
                    u.hidden += (w1.min(b as f64) - w0.max(a as f64)).max(0.0);
                    u.runs.push(k);
                }
                it.runs.push(RunRow { v, s: run.0, e: run.1, secs });
            }
        }
        insts.push(it);
    }
    // pass 2: short dropouts against the base rate of the other centres
    // (quasi-binomial, dispersion from all centres, BH over centres)
    let dropouts = dropout_test(p, &insts.iter().map(|i| (i.events, i.samples)).collect::<Vec<_>>());

    let mut out = Vec::new();
    for (ix, it) in insts.iter().enumerate() {
        // lost units: hidden time beyond the per-session tolerance coverage uses
        let mut lost: Vec<(&String, &Unit)> = it
            .units
            .iter()
            .filter(|(_, u)| u.hidden + 1e-9 >= p.coverage_min_gap_seconds.min(u.len) && u.hidden > 0.0)
            .collect();
        lost.sort_by(|x, y| x.0.cmp(y.0));
        let mut used = vec![false; it.runs.len()];
        for (_, u) in &lost {
            for &k in &u.runs {
                used[k] = true;
            }
        }
        let hidden: f64 = lost.iter().map(|(_, u)| u.hidden).sum();
        let sev_lost = lost.iter().map(|(_, u)| (u.hidden / u.len.max(1e-9)).min(1.0)).fold(0.0, f64::max);
        let drop = dropouts[ix].filter(|d| d.q <= p.dropout_q_max && d.excess > 0.0);
        if lost.is_empty() && drop.is_none() {
            continue;
        }
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
                ("samples", ColKind::Number),
                ("mean_luma", ColKind::Number),
                ("max_motion", ColKind::Number),
            ],
        );
        let mut frames_ev = Vec::new();
        let mut flags = Vec::new();
        for (k, r) in it.runs.iter().enumerate().filter(|(k, _)| used[*k]) {
            let _ = k;
            let (fr, v) = (&r.v.scan.frames, r.v);
            let mean = fr[r.s..=r.e].iter().map(|f| f.mean).sum::<f32>() / (r.e - r.s + 1) as f32;
            let maxm = fr[r.s + 1..=r.e].iter().map(|f| f.motion).fold(0f32, f32::max);
            table.push_limited(
                vec![
                    v.id.to_string(),
                    mmss(fr[r.s].t),
                    mmss(fr[r.e].t),
                    fmt_ts(v.wall(fr[r.s].t)),
                    fmt_ts(v.wall(fr[r.e].t)),
                    format!("{:.0}", r.secs),
                    (r.e + 1 - r.s).to_string(),
                    format!("{mean:.1}"),
                    format!("{maxm:.3}"),
                ],
                p.evidence_rows_max,
            );
            if frames_ev.len() + 2 <= p.thumbnails_max {
                frames_ev.push(frame_ref(v, &fr[r.s], format!("{en_what} from / {zh_what}开始")));
                frames_ev.push(frame_ref(v, &fr[r.e], format!("{en_what} until / {zh_what}结束")));
            }
            let share = (r.secs / v.scan.duration.max(1e-9)).min(1.0);
            flags.push((SubjectKind::Video, v.id.to_string(), share));
        }
        for (sid, u) in &lost {
            if !sid.starts_with("video ") {
                flags.push((SubjectKind::Session, sid.to_string(), (u.hidden / u.len.max(1e-9)).min(1.0)));
            }
        }
        // Severity: the exam time hidden, as the share of the worst-hit
        // session (or clip); short dropouts only by the time they hide beyond
        // the base rate of the other centres. No floor.
        let sev_drop = drop.map_or(0.0, |d| d.excess * it.event_seconds / it.footage_seconds.max(1e-9));
        let sev = ctx.severity(check, &Evidence::default().with_hidden_share(sev_lost.max(sev_drop).min(1.0)));
        let n = table.total_rows;
        let (mut zh, mut en) = (
            format!(
                "{n} 段{zh_what}，遮蔽考试时间共 {:.0} 秒（{} 场次），最严重场次被遮蔽 {:.0}%",
                hidden,
                lost.len(),
                100.0 * sev_lost
            ),
            format!(
                "{n} runs of {en_what} hide {:.0} s of exam time in {} session(s); the worst session is {:.0}% hidden",
                hidden,
                lost.len(),
                100.0 * sev_lost
            ),
        );
        if let Some(d) = drop {
            zh.push_str(&format!(
                "；短暂中断 {} 次（其他考点基准预期 {:.1} 次，q = {:.2e}）",
                it.events, d.expected, d.q
            ));
            en.push_str(&format!(
                "; {} short dropouts where the other centres' base rate predicts {:.1} (q = {:.2e})",
                it.events, d.expected, d.q
            ));
        }
        let method = match kind {
            RunKind::Frozen => (
                format!("每 {:.0} 秒取一帧；相邻取样帧平均亮度差不超过 {} 级（无运动也无传感器噪声）且感知哈希相差不超过 {} 位，连续至少 {} 次、至少 {:.0} 秒视为画面静止；落在考试时间内、每场累计超过与覆盖检查相同的容差（{:.0} 秒或整场）时计为失去录像覆盖，严重度为被遮蔽的场次时间比例。更短的静止（设备重复帧）只按其频率与其他考点的基准比较（准二项检验，离散度由各考点估计，BH 校正）。", p.interval_seconds, p.frozen_motion_max, p.frozen_hash_max, p.frozen_min_samples, p.frozen_min_seconds, p.coverage_min_gap_seconds),
                format!("One frame every {:.0} s; consecutive samples whose mean absolute luma difference is at most {} levels (no motion, no sensor noise) and whose perceptual hashes differ by at most {} bits, over at least {} transitions and {:.0} s, are a frozen run. Runs inside exam sessions that hide more of a session than the tolerance missing_coverage uses ({:.0} s, or the whole session) are lost coverage; severity is the hidden share of the worst-hit session. Shorter freezes (repeated frames) are only tested by their rate against the other centres' base rate (quasi-binomial, dispersion estimated across centres, BH over centres).", p.interval_seconds, p.frozen_motion_max, p.frozen_hash_max, p.frozen_min_samples, p.frozen_min_seconds, p.coverage_min_gap_seconds),
            ),
            RunKind::Black => (
                format!("平均亮度 ≤ {} 或亮度标准差 ≤ {}（黑屏、镜头遮挡、无内容）连续至少 {} 个取样、至少 {:.0} 秒；落在考试时间内、每场累计超过与覆盖检查相同的容差（{:.0} 秒或整场）时计为失去录像覆盖，严重度为被遮蔽的场次时间比例。一两帧黑屏（摄像机故障）不作证据，只按其频率与其他考点的基准比较（准二项检验，BH 校正）。", p.black_mean_max, p.flat_std_max, p.black_min_samples, p.black_min_seconds, p.coverage_min_gap_seconds),
                format!("Mean luma ≤ {} or luma standard deviation ≤ {} (black, covered lens, blank picture) over at least {} consecutive samples and {:.0} s. Runs inside exam sessions that hide more of a session than the tolerance missing_coverage uses ({:.0} s, or the whole session) are lost coverage; severity is the hidden share of the worst-hit session. One or two black frames (camera glitches) are not evidence: only their rate is tested against the other centres' base rate (quasi-binomial, BH over centres).", p.black_mean_max, p.flat_std_max, p.black_min_samples, p.black_min_seconds, p.coverage_min_gap_seconds),
            ),
        };
        let mut f = Finding::new(t.inst_id(it.inst), check, sev)
            .stat(hidden, drop.map(|d| d.q))
            .summary(zh, en)
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

/// The base-rate test of short dropouts of one centre.
#[derive(Debug, Clone, Copy)]
struct Dropouts {
    expected: f64,
    /// Events beyond the expectation, as a share of the centre's events.
    excess: f64,
    q: f64,
}

/// Per centre `(events, samples)`: the events' upper tail against the
/// pooled rate of the *other* centres (quasi-binomial, φ from the median
/// squared Pearson residual across centres, floored at 1), BH-adjusted over centres. `None` for
/// every centre when fewer than `dropout_min_centres` have samples
/// (no base rate: inconclusive).
fn dropout_test(p: &Params, units: &[(u64, u64)]) -> Vec<Option<Dropouts>> {
    let with: Vec<usize> = (0..units.len()).filter(|&i| units[i].1 > 0).collect();
    if with.len() < p.dropout_min_centres.max(2) {
        return vec![None; units.len()];
    }
    let (k_all, n_all): (u64, u64) = with.iter().fold((0, 0), |(k, n), &i| (k + units[i].0, n + units[i].1));
    let p0 = k_all as f64 / n_all as f64;
    // φ robustly: the median squared Pearson residual over the median of
    // χ²(1) (0.4549), so that the centres being tested do not inflate it
    let mut z2: Vec<f64> = with
        .iter()
        .map(|&i| {
            let (k, n) = (units[i].0 as f64, units[i].1 as f64);
            let e = n * p0;
            if e > 0.0 && p0 < 1.0 {
                (k - e).powi(2) / (e * (1.0 - p0))
            } else {
                0.0
            }
        })
        .collect();
    z2.sort_by(f64::total_cmp);
    let phi = (crate::stats::robust::quantile_sorted(&z2, 0.5) / 0.4549).max(1.0);
    let mut ps = Vec::new();
    let mut info = Vec::new();
    for &i in &with {
        let (k, n) = units[i];
        let (ko, no) = (k_all - k, n_all - n);
        // a rate of zero elsewhere is not a base rate (one event would be
        // infinitely surprising): use half an event
        let rate = (ko as f64).max(0.5) / no.max(1) as f64;
        let expected = rate * n as f64;
        let pv = crate::stats::funnel::quasi_binomial_upper(k as f64, n as f64, rate.min(1.0), phi);
        ps.push(pv);
        info.push((i, expected, if k > 0 { ((k as f64 - expected) / k as f64).max(0.0) } else { 0.0 }));
    }
    let qs = crate::stats::fdr::bh_adjust(&ps);
    let mut out = vec![None; units.len()];
    for ((i, expected, excess), q) in info.into_iter().zip(qs) {
        out[i] = Some(Dropouts { expected, excess, q });
    }
    out
}

// ------------------------------------------------------- re-use and loops

/// A clip as the matcher sees it: its samples and where they sit on the clock.
#[derive(Debug, Clone, Copy)]
pub struct Clip<'a> {
    pub scan: &'a VideoScan,
    /// Wall-clock time of `t = 0` (frame names' own time, else the claim).
    pub wall0: Ts,
    pub inst: u32,
    /// Exam part of the session the clip covers (matched by room and time).
    pub part: Option<Part>,
}

/// A candidate match of footage between two clips (or one clip at a lag),
/// tested against other recordings at the same clock alignment.
#[derive(Debug, Clone)]
pub struct Match {
    pub a: usize,
    pub b: usize,
    /// t_b − t_a of the matched frames.
    pub offset: f64,
    /// Matched sample pairs (frame index in a, frame index in b).
    pub pairs: Vec<(usize, usize)>,
    pub mean_distance: f64,
    /// Median over the counted blocks of the other recordings' median distance.
    pub null_median: f64,
    /// Fewest other recordings any counted block was compared with.
    pub null_recordings: usize,
    /// Blocks compared, and blocks where the pair was closer than every
    /// other recording at that clock time.
    pub blocks: usize,
    pub beaten: usize,
    /// Stouffer z over the blocks' robust z values.
    pub z: f64,
    pub p: f64,
    /// BH-adjusted over the family (see [`Matches::family`]).
    pub q: f64,
    /// Aligned samples whose decoded pictures are the same (all hashes and
    /// luma statistics equal): frame-level identity, which needs no null.
    pub identical: usize,
}

/// What the matcher tested and found.
#[derive(Debug, Clone, Default)]
pub struct Matches {
    /// Candidates with `q ≤ match_q_max`.
    pub found: Vec<Match>,
    /// Candidates tested against the clock-aligned null.
    pub tested: usize,
    /// Candidates with too few comparable recordings (no verdict).
    pub inconclusive: usize,
    /// Size of the BH family: every (pair of clips, offset) the index voted for.
    pub family: usize,
}

fn eligible(p: &Params, f: &FrameSample) -> bool {
    f.fg_hash.count_ones() >= p.min_fg_bits && f.motion_hash.count_ones() >= p.min_motion_bits
}

/// The same decoded picture with the same change from the previous sample:
/// every hash equal and mean/contrast within `identity_luma_max` levels.
/// Only moving samples are compared (an empty or frozen room is not
/// specific to one recording), so two real recordings never agree on a run
/// of them; a copy of the decoded frames (re-muxed, renamed, re-packed
/// stills) does.
fn same_picture(p: &Params, a: &FrameSample, b: &FrameSample) -> bool {
    a.dhash == b.dhash
        && a.phash == b.phash
        && a.fg_hash == b.fg_hash
        && a.motion_hash == b.motion_hash
        && (a.mean - b.mean).abs() <= p.identity_luma_max
        && (a.std - b.std).abs() <= p.identity_luma_max
}

/// Distance of two samples for the clock-aligned test: on the appearance
/// grid when both have one (mean absolute luma difference per cell after
/// removing each frame's mean level, so a brighter re-encode or daylight
/// does not count), else foreground + motion map bits.
fn dist(a: &FrameSample, b: &FrameSample) -> f64 {
    if !a.grid.is_empty() && a.grid.len() == b.grid.len() {
        let n = a.grid.len() as f64;
        let ma = a.grid.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let mb = b.grid.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        return a.grid.iter().zip(&b.grid).map(|(&x, &y)| (f64::from(x) - ma - f64::from(y) + mb).abs()).sum::<f64>()
            / n;
    }
    f64::from(hamming(a.fg_hash, b.fg_hash) + hamming(a.motion_hash, b.motion_hash))
}

/// Aligned eligible pairs of `a` and `b` at offset `d` (`t_b ≈ t_a + d`).
fn align(p: &Params, a: &[FrameSample], b: &[FrameSample], d: f64, tol: f64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, fa) in a.iter().enumerate() {
        if !eligible(p, fa) {
            continue;
        }
        if let Some(j) = nearest(b, fa.t + d, tol) {
            if eligible(p, &b[j]) {
                out.push((i, j));
            }
        }
    }
    out
}

/// Index of the sample of `f` nearest to `t`, if within `tol`.
fn nearest(f: &[FrameSample], t: f64, tol: f64) -> Option<usize> {
    let k = f.partition_point(|x| x.t < t);
    let best = [k.checked_sub(1), Some(k)]
        .into_iter()
        .flatten()
        .filter(|&j| j < f.len())
        .min_by(|&x, &y| (f[x].t - t).abs().total_cmp(&(f[y].t - t).abs()))?;
    ((f[best].t - t).abs() <= tol).then_some(best)
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
    pairs.iter().map(|&(i, j)| dist(&a[i], &b[j])).sum::<f64>() / pairs.len() as f64
}

/// The clock-aligned null of one candidate: per block of the matched span,
/// the distances of `a` to every other recording `c` sampled at the same
/// clock time (time of day) as `b`'s matched samples. Whatever is locked to
/// the clock (OSD, timetable, routines, daylight, the empty room) is shared
/// by `b` and the `c`s and cancels. `None` when no block has enough
/// comparable recordings (inconclusive).
struct Null {
    null_median: f64,
    null_recordings: usize,
    blocks: usize,
    beaten: usize,
    z: f64,
}

fn clock_null(p: &Params, clips: &[Clip], a: usize, b: usize, pairs: &[(usize, usize)], tol: f64) -> Option<Null> {
    let (fa, fb) = (&clips[a].scan.frames, &clips[b].scan.frames);
    let t0 = fa[pairs[0].0].t;
    let block_len = p.null_block_seconds.max(1e-3);
    let block_of = |i: usize| ((fa[i].t - t0) / block_len).floor().max(0.0) as usize;
    let nb = block_of(pairs[pairs.len() - 1].0) + 1;
    let mut obs = vec![(0.0f64, 0usize); nb];
    for &(i, j) in pairs {
        let o = &mut obs[block_of(i)];
        o.0 += dist(&fa[i], &fb[j]);
        o.1 += 1;
    }
    let obs: Vec<Option<f64>> = obs.iter().map(|&(s, n)| (n > 0).then(|| s / n as f64)).collect();
    // other recordings, the same exam part first (then the rest, if too few)
    let (sa, sb) = (&clips[a].scan.sha256, &clips[b].scan.sha256);
    let mut order: Vec<usize> = (0..clips.len())
        .filter(|&c| {
            let s = clips[c].scan;
            c != a
                && c != b
                && s.error.is_none()
                && !s.frames.is_empty()
                && (s.sha256.is_empty() || (&s.sha256 != sa && &s.sha256 != sb))
        })
        .collect();
    order.sort_by_key(|&c| {
        (clips[c].part != clips[b].part || clips[b].part.is_none(), clips[c].inst != clips[b].inst, c)
    });
    let counts: Vec<usize> = {
        let mut n = vec![0usize; nb];
        for &(i, _) in pairs {
            n[block_of(i)] += 1;
        }
        n
    };
    // per other recording, its mean distance to A in each block it covers
    let mut others: Vec<Vec<Option<f64>>> = Vec::new();
    for c in order {
        if others.len() >= p.null_max_recordings {
            break;
        }
        let fc = &clips[c].scan.frames;
        let shift = (clips[b].wall0 - clips[c].wall0).rem_euclid(86_400) as f64;
        let mut sums = vec![(0.0f64, 0usize); nb];
        for &(i, j) in pairs {
            let tb = fb[j].t;
            let hit = [tb + shift, tb + shift - 86_400.0].into_iter().find_map(|tc| nearest(fc, tc, tol));
            if let Some(k) = hit.filter(|&k| eligible(p, &fc[k])) {
                let s = &mut sums[block_of(i)];
                s.0 += dist(&fa[i], &fc[k]);
                s.1 += 1;
            }
        }
        // a recording stands in a block when it covers at least half its samples
        let row: Vec<Option<f64>> =
            sums.iter().zip(&counts).map(|(&(s, n), &want)| (n > 0 && 2 * n >= want).then(|| s / n as f64)).collect();
        if row.iter().any(Option::is_some) {
            others.push(row);
        }
    }
    // stage 1, per block: robust z of B and of every other recording
    // against the other recordings at that clock time
    let mut z_b = Vec::new();
    let mut z_c: Vec<Vec<f64>> = vec![Vec::new(); others.len()];
    let mut medians = Vec::new();
    let (mut beaten, mut fewest) = (0, usize::MAX);
    for blk in 0..nb {
        let Some(s) = obs[blk] else { continue };
        let mut vals: Vec<f64> = others.iter().filter_map(|r| r[blk]).collect();
        if vals.len() < p.null_min_recordings.max(2) {
            continue;
        }
        vals.sort_by(f64::total_cmp);
        let med = crate::stats::robust::quantile_sorted(&vals, 0.5);
        let mad = (1.4826 * crate::stats::robust::mad(&vals)).max(p.null_mad_floor);
        let z = |x: f64| ((med - x) / mad).clamp(-p.null_block_z_cap, p.null_block_z_cap);
        z_b.push(z(s));
        for (k, r) in others.iter().enumerate() {
            if let Some(x) = r[blk] {
                z_c[k].push(z(x));
            }
        }
        medians.push(med);
        beaten += usize::from(s < vals[0]);
        fewest = fewest.min(vals.len());
    }
    let k = z_b.len();
    if k == 0 {
        return None;
    }
    // stage 2, per recording: B's mean block z against the other
    // recordings' own (a room that resembles A all session long, e.g. the
    // same seating, is in the null too, so persistence is not evidence)
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let t_b = mean(&z_b);
    let mut t_c: Vec<f64> = z_c.iter().filter(|v| 2 * v.len() >= k && !v.is_empty()).map(|v| mean(v)).collect();
    if t_c.len() < p.null_min_recordings.max(2) {
        return None;
    }
    t_c.sort_by(f64::total_cmp);
    let med = crate::stats::robust::quantile_sorted(&t_c, 0.5);
    let scale = (1.4826 * crate::stats::robust::mad(&t_c)).max(p.null_scale_floor);
    medians.sort_by(f64::total_cmp);
    Some(Null { null_median: medians[k / 2], null_recordings: fewest, blocks: k, beaten, z: (t_b - med) / scale })
}

/// Finds candidate matches among the clips through the hash index and
/// tests each against the clock-aligned null; BH over the family.
pub fn find_matches(p: &Params, clips: &[Clip]) -> Matches {
    // 1. index the eligible frames of every readable clip
    let mut refs: Vec<(usize, usize)> = Vec::new();
    let mut keys: Vec<Key> = Vec::new();
    let mut places: Vec<Place> = Vec::new();
    for (v, c) in clips.iter().enumerate() {
        if c.scan.error.is_some() {
            continue;
        }
        for (i, f) in c.scan.frames.iter().enumerate() {
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
    // 2. candidate pairs vote for (clip a, clip b, offset bucket)
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
        let (ta, tb) = (clips[ra.0].scan.frames[ra.1].t, clips[rb.0].scan.frames[rb.1].t);
        let d = tb - ta;
        if ra.0 == rb.0 && d.abs() < p.loop_min_lag_seconds {
            continue;
        }
        // two files of the same moment (overlapping exports of one camera)
        let wall_gap = (clips[rb.0].wall0 - clips[ra.0].wall0) as f64 + d;
        if ra.0 != rb.0 && wall_gap.abs() <= p.reuse_same_time_seconds {
            continue;
        }
        votes.entry((ra.0, rb.0, (d / step_s).round() as i64)).or_default().push(d);
    }
    let family = votes.len();
    // 3. test the best-voted offsets of each pair
    let mut cands: Vec<((usize, usize, i64), Vec<f64>)> =
        votes.into_iter().filter(|(_, v)| v.len() >= p.match_min_votes).collect();
    cands.sort_by(|x, y| y.1.len().cmp(&x.1.len()).then(x.0.cmp(&y.0)));

    let mut done: Vec<(usize, usize, f64)> = Vec::new();
    let mut tried: HashMap<(usize, usize), usize> = HashMap::new();
    let mut tested: Vec<Match> = Vec::new();
    let mut inconclusive = 0;
    for ((a, b, _), mut ds) in cands {
        let n_tried = tried.entry((a, b)).or_default();
        if *n_tried >= p.match_candidates_per_pair {
            continue;
        }
        ds.sort_by(f64::total_cmp);
        let d = ds[ds.len() / 2];
        let (fa, fb) = (&clips[a].scan.frames, &clips[b].scan.frames);
        let spacing = median_spacing(fa).max(median_spacing(fb)).max(step_s);
        // neighbours of a tested offset (a sample or two away) are the same match
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
        *n_tried += 1;
        done.push((a, b, d));
        let mean_distance = mean_dist(fa, fb, &pairs);
        let same = pairs.iter().filter(|&&(i, j)| same_picture(p, &fa[i], &fb[j])).count();
        if same >= p.match_min_frames && same as f64 >= p.identity_share_min * pairs.len() as f64 {
            tested.push(Match {
                a,
                b,
                offset: d,
                pairs,
                mean_distance,
                null_median: f64::NAN,
                null_recordings: 0,
                blocks: 0,
                beaten: 0,
                z: f64::INFINITY,
                p: 0.0,
                q: 1.0,
                identical: same,
            });
            continue;
        }
        let Some(null) = clock_null(p, clips, a, b, &pairs, tol_t) else {
            inconclusive += 1;
            continue;
        };
        tested.push(Match {
            a,
            b,
            offset: d,
            pairs,
            mean_distance,
            null_median: null.null_median,
            null_recordings: null.null_recordings,
            blocks: null.blocks,
            beaten: null.beaten,
            z: null.z,
            p: crate::stats::funnel::norm_upper(null.z),
            q: 1.0,
            identical: 0,
        });
    }
    // 4. BH over the whole family: offsets voted for but never tested count
    // as tested with p = 1 (they had less support than those tested)
    let family = family.max(tested.len());
    let mut ps: Vec<f64> = tested.iter().map(|m| m.p).collect();
    ps.resize(family, 1.0);
    let qs = crate::stats::fdr::bh_adjust(&ps);
    for (m, q) in tested.iter_mut().zip(qs) {
        m.q = q;
    }
    let n_tested = tested.len();
    // …and an effect size: a copy is far closer than the other recordings
    // are, not a little (a pair picked by the index for its near-identical
    // samples is always a little closer; that is the selection, not a copy)
    let mut found: Vec<Match> = tested
        .into_iter()
        .filter(|m| {
            m.identical > 0
                || (m.q <= p.match_q_max && m.z > 0.0 && m.mean_distance <= p.match_distance_ratio_max * m.null_median)
        })
        .collect();
    found.sort_by(|x, y| (x.a, x.b).cmp(&(y.a, y.b)).then(x.offset.total_cmp(&y.offset)));
    Matches { found, tested: n_tested, inconclusive, family }
}

/// Whether a clip's own evidence agrees with its claim: frame-name times at
/// the claimed start, real duration at the claimed length. Of two copies of
/// one recording, the one that fits its claim is the likely original.
fn fits_claim(p: &Params, v: &Video) -> bool {
    let c = v.c;
    let start_ok =
        v.scan.wall_start.is_none_or(|ws| ((ws - c.claimed_start) as f64).abs() <= p.claim_tolerance_seconds);
    let len_ok = c.claimed_end.is_none_or(|end| {
        let claimed = (end - c.claimed_start) as f64;
        (v.scan.duration - claimed).abs() <= p.claim_tolerance_seconds.max(p.claim_tolerance_share * claimed)
    });
    start_ok && len_ok
}

/// One piece of re-use or loop evidence, before it is attributed.
struct Hit<'v, 'a> {
    check: CctvCheck,
    va: &'v Video<'a>,
    vb: &'v Video<'a>,
    /// Video times of the matched span in a and b, and a middle pair of frames.
    a_span: (f64, f64),
    b_span: (f64, f64),
    mid: Option<(usize, usize)>,
    samples: usize,
    mean_distance: Option<f64>,
    null_median: Option<f64>,
    null_recordings: Option<usize>,
    beaten: Option<(usize, usize)>,
    q: Option<f64>,
    sev: f64,
    kind_en: &'static str,
}

fn matches_check(ctx: &Ctx, rooms: &Rooms, videos: &[Video]) -> Vec<Finding> {
    let (t, p) = (ctx.t, &ctx.params.cctv);
    let mut hits: Vec<Hit> = Vec::new();
    // 1. identical files: the same bytes claimed for another time or room
    let mut by_sha: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, v) in videos.iter().enumerate() {
        if v.readable() && !v.scan.sha256.is_empty() && v.scan.duration > 0.0 {
            by_sha.entry(v.scan.sha256.as_str()).or_default().push(i);
        }
    }
    let mut groups: Vec<Vec<usize>> = by_sha.into_values().filter(|g| g.len() > 1).collect();
    groups.sort();
    for g in groups {
        let first = &videos[g[0]];
        for &k in &g[1..] {
            let other = &videos[k];
            let same_claim = (first.c.inst, norm_room(t.s(first.c.room)))
                == (other.c.inst, norm_room(t.s(other.c.room)))
                && ((first.c.claimed_start - other.c.claimed_start) as f64).abs() <= p.reuse_same_time_seconds;
            if same_claim {
                continue; // one recording listed twice
            }
            let dur = first.scan.duration;
            hits.push(Hit {
                check: CctvCheck::Reused,
                va: first,
                vb: other,
                a_span: (0.0, dur),
                b_span: (0.0, dur),
                mid: (!first.scan.frames.is_empty())
                    .then_some((first.scan.frames.len() / 2, first.scan.frames.len() / 2)),
                samples: first.scan.frames.len(),
                mean_distance: Some(0.0),
                null_median: None,
                null_recordings: None,
                beaten: None,
                q: None,
                sev: ctx.severity(CctvCheck::Reused, &Evidence::default().with_q(0.0).with_effect(1.0)),
                kind_en: "identical file (same SHA-256)",
            });
        }
    }
    // 2. the same frames: index candidates against the clock-aligned null
    let clips: Vec<Clip> = videos
        .iter()
        .map(|v| Clip {
            scan: v.scan,
            wall0: v.wall0,
            inst: v.c.inst,
            part: rooms.part(v.c.inst, t.s(v.c.room), v.wall0, v.wall0 + v.scan.duration.round() as Ts),
        })
        .collect();
    let m = find_matches(p, &clips);
    for mt in &m.found {
        let (va, vb) = (&videos[mt.a], &videos[mt.b]);
        // identical files are already evidence at full strength
        if mt.a != mt.b && !va.scan.sha256.is_empty() && va.scan.sha256 == vb.scan.sha256 {
            continue;
        }
        let (fa, fb) = (&va.scan.frames, &vb.scan.frames);
        let (i0, j0) = mt.pairs[0];
        let (i1, j1) = mt.pairs[mt.pairs.len() - 1];
        // Severity: the strength of the evidence (−log10 q, full at the
        // configured level) times the share of blocks where the pair was
        // closer than every other recording at that clock time. No floor.
        // Severity (the check's form): the strength of q times the effect,
        // the identical share for frame-level identity (q = 0), else how
        // much closer B is to A than the other recordings' median
        // (1 − distance ratio). No floor.
        let check = if mt.a == mt.b { CctvCheck::Loop } else { CctvCheck::Reused };
        let ev = if mt.identical > 0 {
            Evidence::default().with_q(0.0).with_effect(mt.identical as f64 / mt.pairs.len() as f64)
        } else {
            Evidence::default().with_q(mt.q).with_effect((1.0 - mt.mean_distance / mt.null_median.max(1e-9)).max(0.0))
        };
        let sev = ctx.severity(check, &ev);
        let stat = mt.identical == 0;
        hits.push(Hit {
            check,
            va,
            vb,
            a_span: (fa[i0].t, fa[i1].t),
            b_span: (fb[j0].t, fb[j1].t),
            mid: Some(mt.pairs[mt.pairs.len() / 2]),
            samples: mt.pairs.len(),
            mean_distance: Some(mt.mean_distance),
            null_median: stat.then_some(mt.null_median),
            null_recordings: stat.then_some(mt.null_recordings),
            beaten: stat.then_some((mt.beaten, mt.blocks)),
            q: stat.then_some(mt.q),
            sev,
            kind_en: if stat {
                "same frames (against other recordings at the same clock time)"
            } else {
                "identical decoded pictures"
            },
        });
    }
    // 3. attribute and collect per (institution, check)
    struct Acc {
        table: EvidenceTable,
        frames: Vec<FrameRef>,
        flags: Vec<(SubjectKind, String, f64)>,
        sev: f64,
        best_q: Option<f64>,
        identical: usize,
        n: usize,
    }
    let mut acc: HashMap<(u32, CctvCheck), Acc> = HashMap::new();
    for h in &hits {
        let (va, vb) = (h.va, h.vb);
        // A copy across centres counts against both at reduced strength,
        // unless one clip fits its claim and the other does not.
        let shares: Vec<(u32, f64)> = if va.c.inst == vb.c.inst {
            vec![(va.c.inst, 1.0)]
        } else {
            match (fits_claim(p, va), fits_claim(p, vb)) {
                (true, false) => vec![(vb.c.inst, 1.0)],
                (false, true) => vec![(va.c.inst, 1.0)],
                _ => vec![(va.c.inst, p.cross_centre_share), (vb.c.inst, p.cross_centre_share)],
            }
        };
        for (inst, share) in shares {
            let sev = h.sev * share;
            let e = acc.entry((inst, h.check)).or_insert_with(|| Acc {
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
                        ("evidence", ColKind::Text),
                        ("matched_samples", ColKind::Number),
                        ("mean_distance", ColKind::Number),
                        ("others_same_clock_median", ColKind::Number),
                        ("others_compared", ColKind::Number),
                        ("blocks_closest", ColKind::Text),
                        ("q_value", ColKind::Number),
                        ("strength", ColKind::Number),
                    ],
                ),
                frames: Vec::new(),
                flags: Vec::new(),
                sev: 0.0,
                best_q: None,
                identical: 0,
                n: 0,
            });
            e.n += 1;
            e.identical += usize::from(h.kind_en.starts_with("identical file"));
            e.sev = e.sev.max(sev);
            if let Some(q) = h.q {
                e.best_q = Some(e.best_q.map_or(q, |b: f64| b.min(q)));
            }
            let opt = |x: Option<f64>, prec: usize| x.map(|v| format!("{v:.prec$}")).unwrap_or_default();
            e.table.push_limited(
                vec![
                    va.id.to_string(),
                    mmss(h.a_span.0),
                    fmt_ts(va.wall(h.a_span.0)),
                    vb.id.to_string(),
                    mmss(h.b_span.0),
                    fmt_ts(vb.wall(h.b_span.0)),
                    format!("{:.0}", h.a_span.1 - h.a_span.0),
                    h.kind_en.to_string(),
                    h.samples.to_string(),
                    opt(h.mean_distance, 1),
                    opt(h.null_median, 1),
                    h.null_recordings.map(|n| n.to_string()).unwrap_or_default(),
                    h.beaten.map(|(k, n)| format!("{k}/{n}")).unwrap_or_default(),
                    h.q.map(|q| format!("{q:.2e}")).unwrap_or_default(),
                    format!("{sev:.2}"),
                ],
                p.evidence_rows_max,
            );
            if let Some((i, j)) = h.mid {
                if e.frames.len() + 2 <= p.thumbnails_max && i < va.scan.frames.len() && j < vb.scan.frames.len() {
                    let (fi, fj) = (&va.scan.frames[i], &vb.scan.frames[j]);
                    e.frames.push(frame_ref(va, fi, format!("same as {} at {}", vb.id, mmss(fj.t))));
                    e.frames.push(frame_ref(vb, fj, format!("same as {} at {}", va.id, mmss(fi.t))));
                }
            }
            for (v, (from, to)) in [(va, h.a_span), (vb, h.b_span)] {
                if v.c.inst == inst {
                    e.flags.push((SubjectKind::Video, v.id.to_string(), sev));
                    for sid in rooms.overlapping(inst, t.s(v.c.room), v.wall(from), v.wall(to)) {
                        e.flags.push((SubjectKind::Session, sid, sev * 0.9));
                    }
                }
            }
        }
    }
    let mut keys: Vec<_> = acc.keys().copied().collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let Some(e) = acc.remove(&key) else { continue };
        let (inst, check) = key;
        if e.sev <= 0.0 {
            continue;
        }
        let (zh, en) = if check == CctvCheck::Loop {
            (
                format!("{} 处录像片段在同一录像中循环重复", e.n),
                format!("{} segments repeat within the same video (looped footage)", e.n),
            )
        } else {
            (
                format!("{} 段录像与另一时间或考场声明的录像相同（其中 {} 个为完全相同的文件）", e.n, e.identical),
                format!("{} stretches of footage are the same as footage claimed for another time or room ({} identical files)", e.n, e.identical),
            )
        };
        let statistic = e.best_q.map_or(e.identical as f64, |q| -q.max(1e-300).log10());
        let mut f = Finding::new(t.inst_id(inst), check, e.sev)
            .stat(statistic, e.best_q)
            .summary(zh, en)
            .method(
                format!("完全相同的文件（SHA-256 相同）声明为不同时间或考场，以及解码后画面完全相同的有运动帧（≥ {:.0}%），直接作为重复使用的证据，不需统计。其余候选由前景/运动 8×8 哈希的多索引近邻检索和时间偏移投票得到；每个候选（录像 A 与 B 在偏移 d，或 A 与自身在滞后 L）与同一时钟对齐下的其他录像比较：对 B 每个匹配帧所在的时刻（一天中的时间），取其他录像（优先同一考试科目）在同一时刻的帧，以 32×24 外观网格（去除各帧平均亮度后）的距离与 A 比较。第一步按 {:.0} 秒分段，每段至少 {} 个其他录像，计算 B 和每个其他录像的稳健 z（中位数/MAD，单段上限 {}）；第二步把 B 的平均 z 与其他录像的平均 z 比较（稳健 z，正态上尾得 p）。OSD 时钟、作息、巡查、日光、空考场、相同布局等为 B 与其他录像共有而抵消。比较录像不足时不下结论。对所有投票过的录像对与偏移做 BH 校正，q ≤ {}，且距离不超过其他录像中位数的 {:.0}%。严重度随 q 的强度与 B 比其他录像中位数更接近 A 的程度（1 − 距离比）；跨机构的复制对双方按 {:.1} 计，除非一方录像与其声明相符而另一方不符。统计量为 −log10 q（仅有相同文件时为相同文件数）。", 100.0 * p.identity_share_min, p.null_block_seconds, p.null_min_recordings, p.null_block_z_cap, p.match_q_max, 100.0 * p.match_distance_ratio_max, p.cross_centre_share),
                format!("Identical files (same SHA-256) claimed for different times or rooms, and runs of moving samples whose decoded pictures are identical (≥ {:.0}% of a match), are direct evidence of re-use, without statistics. Other candidates come from multi-index hashing of 8×8 foreground/motion maps and votes for a time offset; each candidate (clips A and B at offset d, or A against itself at lag L) is compared with other recordings at the same clock alignment: for every matched sample of B, the samples of other recordings (the same exam part first) at the same time of day are compared with A's, by the distance of their 32×24 appearance grids (each frame's mean level removed). Stage 1: per {:.0}-s block with at least {} other recordings, a robust z (median/MAD, capped at {}) for B and for every other recording; stage 2: B's mean z against the other recordings' mean z (robust z, normal upper tail). What is locked to the clock or shared by rooms (OSD, timetable, patrols, daylight, the empty room, one layout) is shared by B and the other recordings and cancels; with too few comparable recordings there is no verdict. BH over every clip pair and offset the index voted for, q ≤ {}, and a distance at most {:.0}% of the other recordings' median. Severity follows the strength of q and how much closer B is to A than the other recordings' median (1 − distance ratio); a copy across centres counts {:.1} against each unless one clip fits its claim and the other does not. Statistic: −log10 q (for identical files only, their number).", 100.0 * p.identity_share_min, p.null_block_seconds, p.null_min_recordings, p.null_block_z_cap, p.match_q_max, 100.0 * p.match_distance_ratio_max, p.cross_centre_share),
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

    const DAY: Ts = 86_400;

    fn clips<'a>(scans: &'a [VideoScan], wall0: &[Ts]) -> Vec<Clip<'a>> {
        scans.iter().zip(wall0).map(|(scan, &wall0)| Clip { scan, wall0, inst: 0, part: None }).collect()
    }

    /// `n` samples 2 s apart of a room at seed `room`, from sample `from`.
    fn room(room: u64, from: u64, n: u64) -> VideoScan {
        VideoScan {
            frames: (from..from + n).map(|i| moving(2.0 * (i - from) as f64, room * 1_000_000 + i)).collect(),
            ..VideoScan::default()
        }
    }

    /// The same samples re-encoded: luma shifted, one map bit in eight flipped.
    fn reencoded(mut s: VideoScan) -> VideoScan {
        for (k, f) in s.frames.iter_mut().enumerate() {
            f.mean += 0.7;
            if k % 8 == 3 {
                f.fg_hash ^= 1 << (k % 64);
            }
        }
        s
    }

    #[test]
    fn reuse_found_at_its_offset_against_other_rooms_at_the_same_clock() {
        let p = Params::default();
        // 10 honest rooms filmed at 09:00 on day 0 (120 samples, 4 min);
        // clip 10 is room 0's samples 20..100, claimed for 09:00 on day 3.
        let mut scans: Vec<VideoScan> = (0..10).map(|r| room(r, 0, 120)).collect();
        scans.push(reencoded(room(0, 20, 80)));
        let mut wall: Vec<Ts> = vec![9 * 3600; 10];
        wall.push(3 * DAY + 9 * 3600);
        let m = find_matches(&p, &clips(&scans, &wall));
        assert_eq!(m.found.len(), 1, "{m:?}");
        let f = &m.found[0];
        assert_eq!((f.a, f.b), (0, 10));
        assert!((f.offset + 40.0).abs() < 1e-9);
        assert_eq!(f.pairs.len(), 80);
        assert_eq!((f.beaten, f.blocks), (3, 3), "{f:?}");
        assert!(f.q < 1e-6, "{f:?}");
        assert!(f.null_recordings >= 8);
    }

    #[test]
    fn too_few_other_recordings_is_inconclusive() {
        let p = Params::default();
        let scans = vec![room(0, 0, 60), reencoded(room(0, 10, 40)), room(1, 0, 60)];
        let m = find_matches(&p, &clips(&scans, &[9 * 3600, DAY + 9 * 3600, 9 * 3600]));
        assert!(m.found.is_empty(), "{m:?}");
        assert_eq!((m.tested, m.inconclusive), (0, 1));
    }

    /// A sample whose maps are shared by every room at clock time `tod`
    /// (an OSD clock, a bell, a patrol routine) plus one room-specific bit.
    fn clocked(t: f64, tod: i64, room: u64) -> FrameSample {
        let shared = moving(0.0, tod as u64);
        let own = moving(0.0, room * 7_919 + tod as u64 * 31 + 1);
        FrameSample {
            t,
            fg_hash: shared.fg_hash | (own.fg_hash & own.fg_hash.rotate_left(13) & 0x0101_0101),
            motion_hash: shared.motion_hash,
            ..shared
        }
    }

    #[test]
    fn structure_locked_to_the_clock_is_not_reuse() {
        let p = Params::default();
        // 12 rooms on 3 days, all showing the same clock-locked maps at the
        // same time of day: any two look alike, but no more than any others.
        let mut scans = Vec::new();
        let mut wall = Vec::new();
        for r in 0..12u64 {
            let w0 = (r % 3) as Ts * DAY + 9 * 3600;
            scans.push(VideoScan {
                frames: (0..90).map(|i| clocked(2.0 * i as f64, 9 * 3600 + 2 * i, r)).collect(),
                ..VideoScan::default()
            });
            wall.push(w0);
        }
        let m = find_matches(&p, &clips(&scans, &wall));
        assert!(m.found.is_empty(), "{:?}", m.found.iter().map(|x| (x.a, x.b, x.z, x.q)).collect::<Vec<_>>());
        assert!(m.tested > 0, "the index must propose the clock-aligned pairs: {m:?}");
    }

    #[test]
    fn a_loop_is_found_against_other_rooms_at_the_lag() {
        let p = Params::default();
        // room 0's first 60 samples played twice; 10 other rooms of the same time
        let mut looped = room(0, 0, 60);
        let again: Vec<FrameSample> =
            looped.frames.iter().map(|f| FrameSample { t: f.t + 120.0, mean: f.mean + 0.7, ..f.clone() }).collect();
        looped.frames.extend(again);
        let mut scans = vec![looped];
        scans.extend((1..11).map(|r| room(r, 0, 120)));
        let wall = vec![9 * 3600; 11];
        let m = find_matches(&p, &clips(&scans, &wall));
        let loops: Vec<_> = m.found.iter().filter(|x| x.a == x.b).collect();
        assert_eq!(loops.len(), 1, "{m:?}");
        assert_eq!(loops[0].a, 0);
        assert!((loops[0].offset - 120.0).abs() < 1e-9);
    }

    #[test]
    fn motionless_room_is_inconclusive() {
        let p = Params::default();
        let still = |n: usize| VideoScan {
            frames: (0..n).map(|i| frame(2.0 * i as f64, 120.0, 50.0, 0.5, 9)).collect(),
            ..VideoScan::default()
        };
        let scans: Vec<VideoScan> = (0..12).map(|_| still(40)).collect();
        let wall: Vec<Ts> = (0..12).map(|d| d * DAY).collect();
        assert!(find_matches(&p, &clips(&scans, &wall)).found.is_empty());
    }

    #[test]
    fn dropout_rate_against_the_other_centres() {
        let p = Params::default();
        // 9 centres with 2 glitches in 10,000 samples, one with 40
        let mut units = vec![(2u64, 10_000u64); 9];
        units.push((40, 10_000));
        let d = dropout_test(&p, &units);
        let q = |i: usize| d[i].unwrap().q;
        assert!(q(9) < 1e-6, "{:?}", d[9]);
        assert!((0..9).all(|i| q(i) > 0.5), "{d:?}");
        assert!((d[9].unwrap().expected - 2.0).abs() < 1e-9);
        // too few centres: no base rate
        assert!(dropout_test(&p, &units[..3]).iter().all(Option::is_none));
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
