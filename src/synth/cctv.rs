//! The CCTV inventory: for a sample of each exam centre's theory sessions
//! (the sessions an inspector asks footage for), a `cctv` row and the job
//! that renders its clip or frame folder; and the planted footage patterns:
//! footage_missing, footage_frozen, footage_black, footage_reused,
//! footage_looped and footage_corrupt.

use rand::seq::SliceRandom;
use rand::Rng;

use super::exam::SessionInfo;
use super::people::unit_rng;
use super::plan::{InstPlan, Pattern};
use super::{Ctx, Sink, SynthError, Table};
use crate::dataset::rows::{day_of, fmt_ts, Ts};

const STREAM_CCTV: u64 = 8;

/// A listed clip: video id, session, source clip of a re-use, claimed start and length.
type ClipRow = (String, usize, Option<usize>, (Ts, f64));

/// A planted defect of one clip (times in seconds from the clip's start).
#[derive(Debug, Clone, PartialEq)]
pub enum Defect {
    /// The picture stops changing from `from` to `to`.
    Frozen { from: f64, to: f64 },
    /// Black (covered lens, camera off) from `from` to `to`.
    Black { from: f64, to: f64 },
    /// The first `period` seconds repeat for the whole clip.
    Loop { period: f64 },
    /// The file is cut to this share of its bytes after writing.
    Truncate { keep: f64 },
}

/// How a clip is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// H.264 in MP4.
    Mp4,
    /// A folder of JPEG stills named `YYYYMMDDTHHMMSS_ch01.jpg`.
    Frames,
}

/// Everything needed to render one clip, deterministically.
#[derive(Debug, Clone)]
pub struct VideoJob {
    /// Path relative to the dataset folder.
    pub file: String,
    pub store: Store,
    pub width: u32,
    pub height: u32,
    /// Seconds between frames.
    pub interval: f64,
    pub duration: f64,
    /// Wall-clock time of the first frame (frame file names).
    pub start: Ts,
    /// The room (its camera channel label).
    pub room_seed: u64,
    /// Room layout: one of a few standard layouts shared by many rooms of
    /// every centre (the background is the same in all of them).
    pub layout_seed: u64,
    /// Wall-clock time of the content's first frame, for what is locked to
    /// the clock (OSD, routine, daylight): a copy shows its source's time.
    pub content_start: Ts,
    /// Burned-in OSD clock, the quarter-hour routine and daylight drift.
    pub clock_locked: bool,
    /// x264 constant rate factor of the encode.
    pub crf: u8,
    /// Who sits where and how they move (one per session).
    pub session_seed: u64,
    /// Sensor noise (differs between two encodes of the same footage).
    pub noise_seed: u64,
    pub desks: usize,
    pub people: usize,
    /// Seconds from the clip start when the exam starts and ends.
    pub exam_from: f64,
    pub exam_to: f64,
    pub quiet: bool,
    pub defects: Vec<Defect>,
}

/// Writes the `cctv` rows of centre `c` and returns the clips to render.
pub fn write(ctx: &Ctx, c: &InstPlan, sessions: &[SessionInfo], sink: &mut Sink) -> Result<Vec<VideoJob>, SynthError> {
    let mut rng = unit_rng(ctx.seed, c.idx as u64, STREAM_CCTV);
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let footage_patterns = [
        Pattern::FootageMissing,
        Pattern::FootageFrozen,
        Pattern::FootageBlack,
        Pattern::FootageReused,
        Pattern::FootageLooped,
        Pattern::FootageCorrupt,
    ];
    let planted: Vec<Pattern> = footage_patterns.iter().copied().filter(|&p| c.has(p)).collect();
    let want = (ctx.videos_per_centre + planted.len()).min(sessions.len());
    let mut pick: Vec<usize> = rand::seq::index::sample(&mut rng, sessions.len(), want).into_vec();
    pick.sort_unstable();
    // Which sampled session carries which defect.
    let mut order: Vec<usize> = (0..pick.len()).collect();
    order.shuffle(&mut rng);
    let mut assigned: Vec<Option<Pattern>> = vec![None; pick.len()];
    for (k, &p) in planted.iter().enumerate() {
        if let Some(&slot) = order.get(k) {
            assigned[slot] = Some(p);
        }
    }
    let mut jobs: Vec<VideoJob> = Vec::new();
    // (video id, session, source clip of a re-use, claimed start and length)
    let mut rows: Vec<ClipRow> = Vec::new();
    for (k, &si) in pick.iter().enumerate() {
        let s = &sessions[si];
        let vid = format!("{}-V{:02}", c.id, k + 1);
        let lead = rng.gen_range(3..10) * 60;
        let tail = rng.gen_range(2..8) * 60;
        let start = s.start - lead;
        let end = s.end + tail;
        let duration = (end - start) as f64;
        let room_no: u64 = s.room.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap_or(1);
        let frames = assigned[k].is_none() && rng.gen_bool(0.2);
        let file = if frames { format!("frames/{vid}") } else { format!("videos/{vid}.mp4") };
        let mut job = VideoJob {
            file: file.clone(),
            store: if frames { Store::Frames } else { Store::Mp4 },
            width: 320,
            height: 180,
            interval: if frames { 120.0 } else { ctx.frame_interval },
            duration,
            start,
            room_seed: (c.idx as u64) << 8 | room_no,
            // two standard layouts across the province, by room number
            layout_seed: room_no % 2,
            content_start: start,
            clock_locked: true,
            crf: 34,
            session_seed: rng.gen(),
            noise_seed: rng.gen(),
            desks: s.seats,
            people: s.candidates,
            exam_from: lead as f64,
            exam_to: duration - tail as f64,
            quiet: c.profile.quiet_rooms,
            defects: Vec::new(),
        };
        let mut source = None;
        match assigned[k] {
            Some(Pattern::FootageFrozen) => {
                let from = duration * rng.gen_range(0.2..0.4);
                job.defects.push(Defect::Frozen { from, to: duration * rng.gen_range(0.7..0.95) });
            }
            Some(Pattern::FootageBlack) => {
                let from = duration * rng.gen_range(0.15..0.6);
                job.defects.push(Defect::Black { from, to: from + rng.gen_range(15..50) as f64 * 60.0 });
            }
            Some(Pattern::FootageLooped) => {
                job.defects.push(Defect::Loop { period: rng.gen_range(8..16) as f64 * 60.0 })
            }
            Some(Pattern::FootageCorrupt) => job.defects.push(Defect::Truncate { keep: rng.gen_range(0.3..0.7) }),
            None if rng.gen_bool(0.3) => {
                // an honest camera glitch: one or two black frames
                let n = (duration / job.interval) as u64;
                let at = rng.gen_range(0..n.max(1)) as f64 * job.interval;
                let len = rng.gen_range(0..2) as f64 * job.interval;
                job.defects.push(Defect::Black { from: at, to: at + len });
            }
            Some(Pattern::FootageReused) => {
                // The clip of a session on another day, re-encoded at another size.
                let other = pick
                    .iter()
                    .enumerate()
                    .filter(|&(j, &sj)| {
                        j != k && assigned[j].is_none() && day_of(sessions[sj].start) != day_of(s.start)
                    })
                    .map(|(j, _)| j)
                    .next();
                if let Some(j) = other {
                    source = Some(j);
                }
            }
            _ => {}
        }
        if let Some(p) = assigned[k] {
            let applies = p != Pattern::FootageReused || source.is_some();
            if applies {
                sink.subject(&c.id, p, "video", &vid);
            }
        }
        rows.push((vid, si, source, (job.start, job.duration)));
        if assigned[k] != Some(Pattern::FootageMissing) {
            jobs.push(job);
        } else {
            jobs.push(VideoJob { file: String::new(), ..job });
        }
    }
    // Re-used footage, three ways: a byte copy of the source file, a
    // re-encode of the same pictures at another size and CRF, or a
    // re-render of the same content with other sensor noise. All show the
    // source's clock (OSD, routine, daylight).
    for k in 0..rows.len() {
        if let Some(j) = rows[k].2 {
            let src = jobs[j].clone();
            let file = jobs[k].file.clone();
            let (w, h) = [(256, 144), (352, 198), (384, 216)][rng.gen_range(0..3)];
            let job = &mut jobs[k];
            match rng.gen_range(0..3) {
                0 => {
                    // the same job renders the same bytes (one encoder thread)
                    let file = if src.store == Store::Frames { format!("frames/{}", rows[k].0) } else { file };
                    *job = VideoJob { file, ..src };
                }
                1 => {
                    *job = VideoJob {
                        file,
                        store: Store::Mp4,
                        interval: ctx.frame_interval,
                        width: w,
                        height: h,
                        crf: [28, 40][rng.gen_range(0..2)],
                        ..src
                    };
                }
                _ => {
                    job.room_seed = src.room_seed;
                    job.layout_seed = src.layout_seed;
                    job.session_seed = src.session_seed;
                    job.content_start = src.content_start;
                    job.desks = src.desks;
                    job.people = src.people;
                    job.exam_from = src.exam_from;
                    job.exam_to = src.exam_to;
                    job.duration = src.duration;
                    job.quiet = src.quiet;
                    job.width = w;
                    job.height = h;
                }
            }
        }
    }
    for (k, (vid, si, _, (claim_start, claim_len))) in rows.iter().enumerate() {
        let s = &sessions[*si];
        let job = &jobs[k];
        // A missing file is still listed (the centre claims it has it).
        let file = if job.file.is_empty() { format!("videos/{vid}.mp4") } else { job.file.clone() };
        sink.row(
            Table::Cctv,
            &[
                vid.as_str(),
                &c.id,
                &s.room,
                &format!("CH{:02}", job.room_seed & 0xff),
                &file,
                &fmt_ts(*claim_start),
                &fmt_ts(*claim_start + *claim_len as Ts),
            ],
        )?;
    }
    Ok(jobs.into_iter().filter(|j| !j.file.is_empty()).collect())
}
