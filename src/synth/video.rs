//! Rendering CCTV clips of a fixed camera over an exam room: desks, people
//! as blobs that arrive, move slightly and leave, a proctor walking the
//! aisles (not in quiet rooms), sensor noise on every frame. Honest
//! structure locked to the clock, shared by every room (issue 14): a
//! burned-in OSD clock, a cleaning/patrol routine crossing the front of
//! every room on the quarter hour, daylight that drifts with the time of
//! day, and a few room layouts shared by many rooms. Written as H.264 MP4 with ffmpeg-next (libx264, one thread so
//! the bytes are reproducible) at a very low frame rate, or as a folder of
//! JPEG stills named by capture time. Planted defects (frozen, black,
//! looped, truncated, re-encoded at another size) are applied here.
//!
//! Content is drawn in resolution-independent coordinates, so the same
//! session rendered at two sizes is the same footage re-encoded.

use std::path::Path;

use ffmpeg_next as ff;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::cctv::{Defect, Store, VideoJob};
use super::SynthError;
use crate::dataset::rows::{civil_from_days, day_of, second_of_day, Ts};

/// A seated (or walking) person.
struct Blob {
    x: f32,
    y: f32,
    r: f32,
    luma: f32,
    arrive: f64,
    leave: f64,
    phase: f32,
    amp: f32,
}

/// The static room plus its occupants, in unit coordinates.
struct Scene {
    bg: Vec<f32>,
    w: usize,
    h: usize,
    blobs: Vec<Blob>,
    /// The proctor's walk as (clip time, x, y) way-points in frame units,
    /// linearly interpolated; empty when the room has no proctor. Drawn
    /// per session, never periodic: two honest sessions of one room do not
    /// share motion, and no honest session repeats itself.
    proctor: Vec<(f64, f32, f32)>,
}

/// A proctor who pauses for a random while (10 s to 2 min), then walks to a
/// random point of the floor (the aisles between the desks and the sides)
/// at walking pace, until the clip ends.
fn proctor_walk(seed: u64, duration: f64) -> Vec<(f64, f32, f32)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0070_C70B_A1C0);
    let spot = |rng: &mut ChaCha8Rng| (rng.gen_range(0.04..0.96f32), rng.gen_range(0.45..0.92f32));
    let mut t = 0.0;
    let (mut x, mut y) = spot(&mut rng);
    let mut path = vec![(t, x, y)];
    while t <= duration {
        t += rng.gen_range(10.0..120.0);
        path.push((t, x, y));
        let (tx, ty) = spot(&mut rng);
        // About 0.02 of the frame width per second (a slow patrol).
        let d = f64::from(((tx - x).powi(2) + (ty - y).powi(2)).sqrt());
        t += (d / 0.02).max(5.0);
        (x, y) = (tx, ty);
        path.push((t, x, y));
    }
    path
}

/// Where the proctor is at clip time `t`.
fn proctor_at(path: &[(f64, f32, f32)], t: f64) -> (f32, f32) {
    let k = path.partition_point(|&(pt, _, _)| pt <= t);
    match (path.get(k.wrapping_sub(1)), path.get(k)) {
        (Some(&(t0, x0, y0)), Some(&(t1, x1, y1))) if t1 > t0 => {
            let f = ((t - t0) / (t1 - t0)) as f32;
            (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)
        }
        (Some(&(_, x, y)), _) | (None, Some(&(_, x, y))) => (x, y),
        (None, None) => (0.5, 0.5),
    }
}

fn scene(job: &VideoJob, w: usize, h: usize) -> Scene {
    let mut room = ChaCha8Rng::seed_from_u64(job.layout_seed ^ 0x0005_EED0_FA11);
    let wall = room.gen_range(150.0..185.0f32);
    let floor = room.gen_range(95.0..130.0f32);
    let horizon = room.gen_range(0.30..0.40f32);
    let cols = if job.desks > 40 { 8 } else { 6 };
    let rows = job.desks.div_ceil(cols).max(1);
    let mut bg = vec![0f32; w * h];
    for y in 0..h {
        let v = y as f32 / h as f32;
        for x in 0..w {
            let u = x as f32 / w as f32;
            bg[y * w + x] = if v < horizon { wall - 20.0 * v + 6.0 * (u - 0.5) } else { floor + 25.0 * (v - horizon) };
        }
    }
    // Window light on the wall.
    let wx = room.gen_range(0.1..0.7f32);
    fill_rect(&mut bg, w, h, wx, 0.05, wx + 0.18, horizon - 0.08, wall + 40.0);
    let mut desks = Vec::new();
    for r in 0..rows {
        let v = horizon + 0.12 + (0.95 - horizon - 0.12) * (r as f32 + 0.5) / rows as f32;
        let scale = 0.6 + 0.6 * (v - horizon) / (1.0 - horizon);
        let span = 0.9 * scale;
        for c in 0..cols {
            let u = 0.5 - span / 2.0 + span * (c as f32 + 0.5) / cols as f32;
            let dw = 0.6 * span / cols as f32;
            let dh = 0.035 * scale;
            fill_rect(&mut bg, w, h, u - dw / 2.0, v, u + dw / 2.0, v + dh, 65.0);
            desks.push((u, v, scale));
        }
    }
    let mut sess = ChaCha8Rng::seed_from_u64(job.session_seed);
    let n = job.people.min(desks.len());
    let seats = rand::seq::index::sample(&mut sess, desks.len(), n);
    let amp = if job.quiet { 0.15 } else { 1.0 };
    let blobs = seats
        .into_iter()
        .map(|k| {
            let (u, v, scale) = desks[k];
            let arrive = job.exam_from - sess.gen_range(0.0..480.0);
            let leave = sess.gen_range((job.exam_from + 2400.0).min(job.exam_to)..=job.exam_to);
            Blob {
                x: u,
                y: v - 0.03 * scale,
                r: 0.022 * scale,
                luma: sess.gen_range(35.0..95.0),
                arrive,
                leave,
                phase: sess.gen_range(0.0..std::f32::consts::TAU),
                amp: amp * sess.gen_range(0.3..1.0),
            }
        })
        .collect();
    let proctor = if job.quiet { Vec::new() } else { proctor_walk(job.session_seed, job.duration) };
    Scene { bg, w, h, blobs, proctor }
}

#[allow(clippy::too_many_arguments)]
fn fill_rect(img: &mut [f32], w: usize, h: usize, x0: f32, y0: f32, x1: f32, y1: f32, val: f32) {
    let (px0, px1) = ((x0 * w as f32) as isize, (x1 * w as f32).ceil() as isize);
    let (py0, py1) = ((y0 * h as f32) as isize, (y1 * h as f32).ceil() as isize);
    for y in py0.max(0)..py1.min(h as isize) {
        for x in px0.max(0)..px1.min(w as isize) {
            img[y as usize * w + x as usize] = val;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn disc(img: &mut [f32], w: usize, h: usize, cx: f32, cy: f32, rx: f32, ry: f32, val: f32) {
    let (cxp, cyp) = (cx * w as f32, cy * h as f32);
    let (rxp, ryp) = ((rx * w as f32).max(1.0), (ry * w as f32).max(1.0));
    for y in ((cyp - ryp) as isize).max(0)..((cyp + ryp).ceil() as isize).min(h as isize) {
        for x in ((cxp - rxp) as isize).max(0)..((cxp + rxp).ceil() as isize).min(w as isize) {
            let dx = (x as f32 + 0.5 - cxp) / rxp;
            let dy = (y as f32 + 0.5 - cyp) / ryp;
            if dx * dx + dy * dy <= 1.0 {
                img[y as usize * w + x as usize] = val;
            }
        }
    }
}

/// Luma of the frame at clip time `t`, with noise stream `noise_idx`.
fn draw(sc: &Scene, job: &VideoJob, t: f64, noise_idx: u64, black: bool) -> Vec<u8> {
    let (w, h) = (sc.w, sc.h);
    let mut noise = ChaCha8Rng::seed_from_u64(job.noise_seed ^ noise_idx.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut grain = Grain::new(noise.gen());
    if black {
        return (0..w * h).map(|_| (14.0 + 1.2 * grain.next()).clamp(0.0, 255.0) as u8).collect();
    }
    let mut img = sc.bg.clone();
    let px = 1.0 / w as f32;
    for b in &sc.blobs {
        if t < b.arrive || t > b.leave {
            continue;
        }
        // People sit still most of the time and lean, turn or reach now and
        // then (a few pixels at this size): the pose changes at random
        // moments, rarely in quiet rooms.
        let pose = ((t / 60.0) as u64).wrapping_mul(0x9E37_79B9) ^ (b.phase.to_bits() as u64);
        let moving = Grain::new(pose).next().abs() < b.amp * 0.6;
        let (dx, dy) = if moving {
            let mut g = Grain::new(pose ^ 0xABCD);
            (px * 4.0 * g.next(), px * 2.5 * g.next())
        } else {
            (0.0, 0.0)
        };
        // Body, then head.
        disc(&mut img, w, h, b.x + dx, b.y + 0.02 + dy, b.r * 1.3, b.r * 1.1, b.luma + 15.0);
        disc(&mut img, w, h, b.x + dx, b.y - b.r + dy, b.r * 0.7, b.r * 0.7, b.luma);
    }
    if !sc.proctor.is_empty() && t > 0.0 {
        let (x, y) = proctor_at(&sc.proctor, t);
        disc(&mut img, w, h, x, y, 0.03, 0.06, 50.0);
    }
    let wall = job.content_start as f64 + t;
    let tod = wall.rem_euclid(86_400.0);
    if job.clock_locked {
        // The routine: someone crosses the front of every room for 90 s
        // from each quarter hour, at the same place at the same clock time.
        let q = tod.rem_euclid(900.0);
        if q < 90.0 {
            disc(&mut img, w, h, 0.05 + 0.9 * (q / 90.0) as f32, 0.4, 0.03, 0.06, 45.0);
        }
        osd(&mut img, w, h, tod as i64);
    }
    // Sensor noise: fine grain plus daylight drifting with the time of day
    // (±8 levels over the day, the same in every room).
    let flicker =
        if job.clock_locked { 8.0 * ((tod / 86_400.0 - 0.25) * std::f64::consts::TAU).sin() as f32 } else { 0.0 };
    img.iter().map(|&v| (v + flicker + NOISE * grain.next()).clamp(16.0, 235.0) as u8).collect()
}

/// Burns an `HH:MM:SS` clock into the top-left corner (3×5 digit cells, a
/// white glyph on a black box, as recorders draw it).
fn osd(img: &mut [f32], w: usize, h: usize, tod: i64) {
    const GLYPHS: [u16; 11] = [
        0b111_101_101_101_111,
        0b010_110_010_010_111,
        0b111_001_111_100_111,
        0b111_001_111_001_111,
        0b101_101_111_001_001,
        0b111_100_111_001_111,
        0b111_100_111_101_111,
        0b111_001_001_001_001,
        0b111_101_111_101_111,
        0b111_101_111_001_111,
        0b000_010_000_010_000,
    ];
    let (hh, mm, ss) = (tod / 3600 % 24, tod / 60 % 60, tod % 60);
    let text = [hh / 10, hh % 10, 10, mm / 10, mm % 10, 10, ss / 10, ss % 10];
    let cell = (h / 60).max(1);
    let (x0, y0) = (cell * 2, cell * 2);
    let box_w = text.len() * 4 * cell + cell;
    for y in y0 - cell..y0 + 6 * cell {
        for x in x0 - cell..(x0 + box_w).min(w) {
            if y < h {
                img[y * w + x] = 16.0;
            }
        }
    }
    for (k, &g) in text.iter().enumerate() {
        let bits = GLYPHS[g as usize];
        for r in 0..5 {
            for c in 0..3 {
                if bits >> (14 - (r * 3 + c)) & 1 == 1 {
                    for dy in 0..cell {
                        for dx in 0..cell {
                            let (x, y) = (x0 + (k * 4 + c) * cell + dx, y0 + r * cell + dy);
                            if x < w && y < h {
                                img[y * w + x] = 235.0;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Standard deviation of the per-pixel sensor noise (luma levels).
const NOISE: f32 = 2.5;

/// Cheap Gaussian grain: xorshift into a table of normal quantiles.
struct Grain {
    state: u64,
}

impl Grain {
    fn new(seed: u64) -> Grain {
        Grain { state: seed | 1 }
    }
    fn next(&mut self) -> f32 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        gauss_table()[(self.state >> 54) as usize]
    }
}

fn gauss_table() -> &'static [f32; 1024] {
    static T: std::sync::OnceLock<[f32; 1024]> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut t = [0f32; 1024];
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for v in t.iter_mut() {
            *v = gauss(&mut rng) as f32;
        }
        t
    })
}

fn gauss(rng: &mut impl Rng) -> f64 {
    super::people::normal(rng)
}

/// Which content time, noise stream and blackness frame `i` shows.
fn frame_plan(job: &VideoJob, i: u64) -> (f64, u64, bool) {
    let mut t = i as f64 * job.interval;
    let mut idx = i;
    let mut black = false;
    for d in &job.defects {
        match *d {
            Defect::Frozen { from, to } if t >= from && t <= to => {
                idx = (from / job.interval) as u64;
                t = idx as f64 * job.interval;
            }
            Defect::Black { from, to } if t >= from && t <= to => black = true,
            Defect::Loop { period } => {
                let n = (period / job.interval).max(1.0) as u64;
                idx = i % n;
                t = idx as f64 * job.interval + job.exam_from.min(job.duration / 2.0);
            }
            _ => {}
        }
    }
    (t, idx, black)
}

/// Renders one clip (or frame folder) under `root`.
pub fn render(root: &Path, job: &VideoJob) -> Result<(), SynthError> {
    let path = root.join(&job.file);
    let (w, h) = (job.width as usize, job.height as usize);
    let sc = scene(job, w, h);
    let n = (job.duration / job.interval).ceil().max(1.0) as u64;
    let verr = |m: String| SynthError::Video { path: path.clone(), message: m };
    match job.store {
        Store::Frames => {
            std::fs::create_dir_all(&path).map_err(|e| verr(e.to_string()))?;
            for i in 0..n {
                let (t, idx, black) = frame_plan(job, i);
                let luma = draw(&sc, job, t, idx, black);
                let mut buf = Vec::new();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 70)
                    .encode(&luma, job.width, job.height, image::ExtendedColorType::L8)
                    .map_err(|e| verr(e.to_string()))?;
                let ts = job.start + (i as f64 * job.interval) as Ts;
                let name = format!("{}_ch01.jpg", stamp(ts));
                std::fs::write(path.join(name), buf).map_err(|e| verr(e.to_string()))?;
            }
        }
        Store::Mp4 => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| verr(e.to_string()))?;
            }
            encode(&path, job, n, |i| {
                let (t, idx, black) = frame_plan(job, i);
                draw(&sc, job, t, idx, black)
            })
            .map_err(|e| verr(e.to_string()))?;
            for d in &job.defects {
                if let Defect::Truncate { keep } = *d {
                    let bytes = std::fs::read(&path).map_err(|e| verr(e.to_string()))?;
                    let cut = (bytes.len() as f64 * keep) as usize;
                    std::fs::write(&path, &bytes[..cut]).map_err(|e| verr(e.to_string()))?;
                }
            }
        }
    }
    Ok(())
}

/// `20240710T083000`
pub fn stamp(ts: Ts) -> String {
    let (y, m, d) = civil_from_days(day_of(ts));
    let s = second_of_day(ts);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn encode(path: &Path, job: &VideoJob, n: u64, mut frame: impl FnMut(u64) -> Vec<u8>) -> Result<(), ff::Error> {
    ff::init()?;
    ff::util::log::set_level(ff::util::log::Level::Error);
    let (w, h) = (job.width, job.height);
    let mut octx = ff::format::output(&path)?;
    let global = octx.format().flags().contains(ff::format::Flags::GLOBAL_HEADER);
    let codec = ff::encoder::find(ff::codec::Id::H264).ok_or(ff::Error::EncoderNotFound)?;
    let mut ost = octx.add_stream(codec)?;
    let mut enc = ff::codec::context::Context::new_with_codec(codec).encoder().video()?;
    let step = job.interval.round().max(1.0) as i32;
    let tb = ff::Rational(step, 1);
    enc.set_width(w);
    enc.set_height(h);
    enc.set_format(ff::format::Pixel::YUV420P);
    enc.set_time_base(tb);
    enc.set_frame_rate(Some(ff::Rational(1, step)));
    enc.set_gop(300);
    enc.set_max_b_frames(0);
    if global {
        enc.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    }
    let mut opts = ff::Dictionary::new();
    opts.set("preset", "medium");
    opts.set("crf", &job.crf.to_string());
    opts.set("threads", "1");
    let mut enc = enc.open_as_with(codec, opts)?;
    ost.set_parameters(&enc);
    ost.set_time_base(tb);
    let mut meta = ff::Dictionary::new();
    // Container creation time as a recorder writes it (UTC; CST = UTC+8).
    let utc = job.start - 8 * 3600;
    let (y, m, d) = civil_from_days(day_of(utc));
    let s = second_of_day(utc);
    meta.set(
        "creation_time",
        &format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000Z", s / 3600, s / 60 % 60, s % 60),
    );
    octx.set_metadata(meta);
    octx.write_header()?;
    let ost_tb = octx.stream(0).map(|s| s.time_base()).unwrap_or(tb);
    let mut f = ff::frame::Video::new(ff::format::Pixel::YUV420P, w, h);
    let mut pkt = ff::Packet::empty();
    let mut drain = |enc: &mut ff::encoder::Video, octx: &mut ff::format::context::Output| -> Result<(), ff::Error> {
        while enc.receive_packet(&mut pkt).is_ok() {
            pkt.set_stream(0);
            pkt.set_duration(1);
            pkt.rescale_ts(tb, ost_tb);
            pkt.write_interleaved(octx)?;
        }
        Ok(())
    };
    for i in 0..n {
        let luma = frame(i);
        let stride = f.stride(0);
        let data = f.data_mut(0);
        for y in 0..h as usize {
            data[y * stride..y * stride + w as usize].copy_from_slice(&luma[y * w as usize..(y + 1) * w as usize]);
        }
        for plane in 1..3 {
            f.data_mut(plane).fill(128);
        }
        f.set_pts(Some(i as i64));
        enc.send_frame(&f)?;
        drain(&mut enc, &mut octx)?;
    }
    enc.send_eof()?;
    drain(&mut enc, &mut octx)?;
    octx.write_trailer()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn job(file: &str, store: Store, defects: Vec<Defect>) -> VideoJob {
        VideoJob {
            file: file.into(),
            store,
            width: 160,
            height: 90,
            interval: 10.0,
            duration: 600.0,
            start: crate::dataset::rows::days_from_civil(2024, 7, 10) as Ts * 86_400 + 8 * 3600 + 55 * 60,
            room_seed: 1,
            layout_seed: 1,
            content_start: crate::dataset::rows::days_from_civil(2024, 7, 10) as Ts * 86_400 + 8 * 3600 + 55 * 60,
            clock_locked: true,
            crf: 34,
            session_seed: 2,
            noise_seed: 3,
            desks: 30,
            people: 20,
            exam_from: 60.0,
            exam_to: 560.0,
            quiet: false,
            defects,
        }
    }

    #[test]
    fn frames_differ_unless_frozen() {
        let j = job("x.mp4", Store::Mp4, vec![Defect::Frozen { from: 200.0, to: 400.0 }]);
        let sc = scene(&j, 160, 90);
        let f = |i| {
            let (t, idx, b) = frame_plan(&j, i);
            draw(&sc, &j, t, idx, b)
        };
        assert_ne!(f(5), f(6));
        assert_eq!(f(21), f(35));
        assert_ne!(f(41), f(42));
        let black = job("x.mp4", Store::Mp4, vec![Defect::Black { from: 0.0, to: 100.0 }]);
        let (t, idx, b) = frame_plan(&black, 3);
        let dark = draw(&scene(&black, 160, 90), &black, t, idx, b);
        assert!(dark.iter().map(|&v| v as f64).sum::<f64>() / (dark.len() as f64) < 20.0);
    }

    /// Decoded duration (container) and number of decoded frames.
    fn probe(path: &Path) -> Result<(f64, usize), ff::Error> {
        ff::init()?;
        let mut ictx = ff::format::input(&path)?;
        let dur = ictx.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE);
        let stream = ictx.streams().best(ff::media::Type::Video).ok_or(ff::Error::StreamNotFound)?;
        let idx = stream.index();
        let mut dec = ff::codec::context::Context::from_parameters(stream.parameters())?.decoder().video()?;
        let mut n = 0;
        let mut frame = ff::frame::Video::empty();
        for (s, pkt) in ictx.packets() {
            if s.index() == idx {
                dec.send_packet(&pkt)?;
                while dec.receive_frame(&mut frame).is_ok() {
                    n += 1;
                }
            }
        }
        dec.send_eof()?;
        while dec.receive_frame(&mut frame).is_ok() {
            n += 1;
        }
        Ok((dur, n))
    }

    #[test]
    fn clips_decode_with_the_intended_duration_and_truncated_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let j = job("videos/a.mp4", Store::Mp4, vec![]);
        super::render(dir.path(), &j).unwrap();
        let (dur, n) = probe(&dir.path().join("videos/a.mp4")).unwrap();
        assert_eq!(n, 60);
        assert!((dur - 600.0).abs() <= 10.0, "{dur}");
        // Same job, same bytes.
        let again = tempfile::tempdir().unwrap();
        super::render(again.path(), &j).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("videos/a.mp4")).unwrap(),
            std::fs::read(again.path().join("videos/a.mp4")).unwrap()
        );
        let cut = job("videos/b.mp4", Store::Mp4, vec![Defect::Truncate { keep: 0.5 }]);
        super::render(dir.path(), &cut).unwrap();
        assert!(probe(&dir.path().join("videos/b.mp4")).is_err());
        let frames = job("frames/c", Store::Frames, vec![]);
        super::render(dir.path(), &frames).unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path().join("frames/c"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 60);
        assert!(names.contains(&"20240710T085500_ch01.jpg".to_string()), "{names:?}");
    }

    #[test]
    fn loops_repeat() {
        let j = job("x.mp4", Store::Mp4, vec![Defect::Loop { period: 100.0 }]);
        assert_eq!(frame_plan(&j, 3), frame_plan(&j, 13));
    }

    #[test]
    fn stamps() {
        assert_eq!(
            stamp(crate::dataset::rows::days_from_civil(2024, 7, 10) as Ts * 86_400 + 8 * 3600 + 30 * 60),
            "20240710T083000"
        );
    }
}
