//! Decoding one video file with FFmpeg (ffmpeg-next): real duration from the
//! packets present, container and stream metadata, and one small grayscale
//! frame per sampling interval (swscale area filter straight to the
//! analysis size). In keyframe mode non-key packets are never handed to the
//! decoder at all, which is at least as cheap as `ffmpeg -skip_frame nokey`.
//!
//! A file FFmpeg cannot open, with no video stream, no decodable frame or a
//! picture too small to show a room gives a scan with `error` set to the
//! library's message; damaged packets inside an otherwise readable file are
//! counted in `bad_packets` with the first message in `damage`.

use std::path::Path;
use std::sync::Once;

use ff::format::Pixel;
use ff::software::scaling;
use ffmpeg_next as ff;

use super::hash::{H, W};
use super::{Analyzer, SampleOptions, VideoScan};

fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Safe to ignore: init only registers devices on old FFmpeg versions.
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Quiet);
    });
}

/// Samples one video file. Never panics on bad input.
pub fn scan_video(path: &Path, opts: &SampleOptions) -> VideoScan {
    init();
    let mut scan = VideoScan { keyframes_only: opts.keyframes_only, ..VideoScan::default() };
    if let Err(e) = decode(path, opts, &mut scan) {
        scan.error = Some(e);
    }
    scan
}

fn secs(ts: i64, tb: ff::Rational) -> f64 {
    ts as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator().max(1))
}

fn decode(path: &Path, opts: &SampleOptions, scan: &mut VideoScan) -> Result<(), String> {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Err("empty file (0 bytes)".into());
    }
    let mut ictx = ff::format::input(path).map_err(|e| format!("ffmpeg cannot open the file: {e}"))?;
    scan.container = ictx.format().name().to_string();
    let header = ictx.duration();
    if header > 0 {
        scan.header_duration = Some(header as f64 / f64::from(ff::ffi::AV_TIME_BASE));
    }
    scan.creation_time = ictx.metadata().get("creation_time").map(str::to_string);
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| "no video stream (empty or audio-only file)".to_string())?;
    if scan.creation_time.is_none() {
        scan.creation_time = stream.metadata().get("creation_time").map(str::to_string);
    }
    let index = stream.index();
    let tb = stream.time_base();
    let start = stream.start_time();
    let start = if start == ff::ffi::AV_NOPTS_VALUE { None } else { Some(start) };
    let rate = stream.avg_frame_rate();
    let rate = if rate.numerator() > 0 && rate.denominator() > 0 { f64::from(rate) } else { f64::from(stream.rate()) };
    let mut ctx = ff::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| format!("unsupported codec parameters: {e}"))?;
    ctx.set_threading(ff::codec::threading::Config {
        kind: ff::codec::threading::Type::Frame,
        count: opts.threads,
        ..Default::default()
    });
    let mut dec = ctx.decoder().video().map_err(|e| format!("no decoder for this stream: {e}"))?;
    scan.codec = dec.codec().map(|c| c.name().to_string()).unwrap_or_else(|| format!("{:?}", dec.id()));
    scan.width = dec.width();
    scan.height = dec.height();
    if dec.width() > 0 && (dec.width() < opts.min_side || dec.height() < opts.min_side) {
        return Err(format!(
            "picture is {}×{} pixels, too small to show a room (minimum side {})",
            dec.width(),
            dec.height(),
            opts.min_side
        ));
    }
    if opts.keyframes_only {
        dec.skip_frame(ff::codec::discard::Discard::NonKey);
    }

    let mut st = State {
        analyzer: Analyzer::new(opts),
        scaler: None,
        gray: ff::frame::Video::empty(),
        frame: ff::frame::Video::empty(),
        next_t: 0.0,
        tol: if opts.keyframes_only { 0.25 * opts.interval } else { 1e-3 },
        interval: opts.interval.max(1e-3),
        tb,
        start,
        first_ts: None,
        counter: 0,
        rate,
        small_err: None,
        gop: 0.0,
        last_key: None,
        seek_to: None,
        can_seek: !opts.keyframes_only,
    };
    let mut max_end: Option<i64> = None;
    let mut min_ts: Option<i64> = None;
    loop {
        // A fresh packet each time: `Packet::read` does not unreference the
        // packet it reads into, so reusing one leaked every packet's buffer
        // (the whole compressed file per scan; found by fuzz/video_sample).
        let mut packet = ff::Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(ff::Error::InvalidData) => {
                scan.bad_packets += 1;
                scan.damage.get_or_insert_with(|| "demuxer: invalid data found when processing input".into());
                continue;
            }
            Err(e) => {
                // a truncated file ends with an I/O error: what was read stays usable
                scan.damage.get_or_insert_with(|| format!("demuxer stopped: {e}"));
                scan.bad_packets += 1;
                break;
            }
        }
        if packet.stream() != index {
            continue;
        }
        scan.packets += 1;
        if let Some(ts) = packet.pts().or(packet.dts()) {
            let end = ts + packet.duration().max(0);
            max_end = Some(max_end.map_or(end, |m| m.max(end)));
            min_ts = Some(min_ts.map_or(ts, |m| m.min(ts)));
        }
        if packet.is_key() {
            if let Some(ts) = packet.pts().or(packet.dts()) {
                let kt = secs(ts, tb);
                if let Some(prev) = st.last_key {
                    if kt > prev {
                        st.gop = st.gop.max(kt - prev);
                    }
                }
                st.last_key = Some(kt);
            }
        }
        if opts.keyframes_only && !packet.is_key() {
            continue;
        }
        if let Err(e) = dec.send_packet(&packet) {
            scan.bad_packets += 1;
            scan.damage.get_or_insert_with(|| format!("decoder: {e}"));
            continue;
        }
        st.drain(&mut dec, scan)?;
        if let Some(target) = st.seek_to.take() {
            // Skip ahead: jump to the keyframe at or before the next sample
            // time instead of decoding every frame in between.
            let origin = secs(st.start.unwrap_or(0), tb);
            let us = ((target + origin) * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
            if ictx.seek(us, ..us).is_ok() {
                dec.flush();
                st.last_key = None;
            } else {
                st.can_seek = false;
            }
        }
    }
    let _ = dec.send_eof();
    st.drain(&mut dec, scan)?;

    let origin = start.or(min_ts).unwrap_or(0);
    let from_packets = max_end.map(|e| secs(e - origin, tb));
    let frames_end = st.analyzer.frames.last().map(|f| f.t + if rate > 0.0 { 1.0 / rate } else { 0.0 });
    scan.duration = match (from_packets, frames_end) {
        (Some(p), Some(f)) => p.max(f),
        (Some(p), None) => p,
        (None, Some(f)) => f,
        (None, None) => 0.0,
    }
    .max(0.0);
    if let Some(e) = st.small_err {
        return Err(e);
    }
    if st.analyzer.frames.is_empty() {
        return Err(match &scan.damage {
            Some(d) => format!("no frame could be decoded ({d})"),
            None if scan.packets == 0 => "the video stream has no packets (empty or truncated file)".into(),
            None => "no frame could be decoded".into(),
        });
    }
    (scan.frames, scan.noise) = st.analyzer.finish();
    Ok(())
}

struct State {
    analyzer: Analyzer,
    scaler: Option<(scaling::Context, Pixel, u32, u32)>,
    gray: ff::frame::Video,
    frame: ff::frame::Video,
    next_t: f64,
    tol: f64,
    interval: f64,
    tb: ff::Rational,
    start: Option<i64>,
    first_ts: Option<i64>,
    counter: u64,
    rate: f64,
    small_err: Option<String>,
    /// Longest gap seen between keyframes (s), to decide whether seeking pays.
    gop: f64,
    last_key: Option<f64>,
    seek_to: Option<f64>,
    can_seek: bool,
}

impl State {
    fn drain(&mut self, dec: &mut ff::decoder::Video, scan: &mut VideoScan) -> Result<(), String> {
        loop {
            match dec.receive_frame(&mut self.frame) {
                Ok(()) => {}
                Err(ff::Error::Other { errno: ff::util::error::EAGAIN }) | Err(ff::Error::Eof) => return Ok(()),
                Err(e) => {
                    scan.bad_packets += 1;
                    scan.damage.get_or_insert_with(|| format!("decoder: {e}"));
                    return Ok(());
                }
            }
            self.counter += 1;
            let t = match self.frame.timestamp() {
                Some(ts) => {
                    let origin = *self.start.get_or_insert(*self.first_ts.get_or_insert(ts));
                    secs(ts - origin, self.tb)
                }
                // no timestamps at all (damaged index): count frames, never seek
                None if self.rate > 0.0 => {
                    self.can_seek = false;
                    (self.counter - 1) as f64 / self.rate
                }
                None => continue,
            };
            // In keyframe mode take a keyframe a little before the grid time
            // (up to half a keyframe gap, at most a quarter interval).
            let tol = if self.gop > 0.0 { self.tol.min(0.5 * self.gop) } else { self.tol };
            if t + tol < self.next_t {
                continue;
            }
            self.next_t = (((t + tol) / self.interval).floor() + 1.0) * self.interval;
            self.sample(t, scan)?;
            // Seek only when a keyframe surely lies between here and the next
            // sample (twice the longest keyframe gap seen so far).
            if self.can_seek && self.gop > 0.0 && self.next_t - t > 2.0 * self.gop {
                self.seek_to = Some(self.next_t);
            }
        }
    }

    fn sample(&mut self, t: f64, scan: &mut VideoScan) -> Result<(), String> {
        let (fmt, w, h) = (self.frame.format(), self.frame.width(), self.frame.height());
        if w == 0 || h == 0 || fmt == Pixel::None {
            return Ok(());
        }
        if scan.width == 0 {
            scan.width = w;
            scan.height = h;
        }
        let stale = !matches!(&self.scaler, Some((_, f, sw, sh)) if *f == fmt && *sw == w && *sh == h);
        if stale {
            let ctx = scaling::Context::get(fmt, w, h, Pixel::GRAY8, W as u32, H as u32, scaling::Flags::AREA)
                .map_err(|e| format!("swscale cannot convert {fmt:?} {w}×{h}: {e}"))?;
            self.scaler = Some((ctx, fmt, w, h));
        }
        if let Some((ctx, ..)) = self.scaler.as_mut() {
            if let Err(e) = ctx.run(&self.frame, &mut self.gray) {
                scan.bad_packets += 1;
                scan.damage.get_or_insert_with(|| format!("swscale: {e}"));
                return Ok(());
            }
        }
        let stride = self.gray.stride(0);
        let data = self.gray.data(0);
        let mut img = Vec::with_capacity(W * H);
        for y in 0..H {
            let row =
                data.get(y * stride..y * stride + W).ok_or_else(|| "swscale returned a short picture".to_string())?;
            img.extend_from_slice(row);
        }
        if w < 2 || h < 2 {
            self.small_err = Some(format!("picture is {w}×{h} pixels, too small to show a room"));
        }
        self.analyzer.push(t, &img);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident memory of this process in bytes (Linux).
    fn rss() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
        let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("statm rss");
        pages * 4096
    }

    #[test]
    fn scanning_does_not_keep_the_packets() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("noise.mp4");
        // 6 s of noise at a high bitrate: ~6 MB of packets that a leak would keep per scan.
        let st = std::process::Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "nullsrc=s=320x240:r=25,geq=random(1)*255:128:128",
            ])
            .args(["-t", "6", "-c:v", "libx264", "-b:v", "8M", "-pix_fmt", "yuv420p", "-y"])
            .arg(&clip)
            .status()
            .expect("the ffmpeg command-line tool (Debian package `ffmpeg`) makes the test clip");
        assert!(st.success());
        let size = std::fs::metadata(&clip).unwrap().len();
        assert!(size > 2_000_000, "clip only {size} bytes");
        let opts = SampleOptions { interval: 2.0, keyframes_only: true, threads: 1, ..SampleOptions::default() };
        assert_eq!(scan_video(&clip, &opts).error, None);
        let before = rss();
        for _ in 0..12 {
            assert_eq!(scan_video(&clip, &opts).error, None);
        }
        let grown = rss().saturating_sub(before);
        // Leaking, 12 scans keep 12 × size; allow 4 × size for other tests' noise.
        assert!(grown < 4 * size, "resident memory grew {grown} bytes over 12 scans of a {size}-byte clip");
    }
}
