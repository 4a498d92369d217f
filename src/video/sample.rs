//! Decoding one video file with FFmpeg (ffmpeg-next): real duration from the
//! packets present, container and stream metadata, and one small grayscale
//! frame per sampling interval (swscale area filter straight to the
//! analysis size; frames that are not sampled are never converted).
//!
//! How frames are decoded is chosen per file and recorded in
//! `VideoScan::mode` (issue 14 item 5):
//! - **keyframes** — when the keyframes are at most one sampling interval
//!   apart (read from the first packets before anything is decoded), or
//!   when `keyframes_only` forces it: only keyframe packets are handed to
//!   the decoder, and of those only the ones a sample can fall on, which is
//!   at least as cheap as `ffmpeg -skip_frame nokey`;
//! - **seek** — when keyframes are far closer than the interval allows in
//!   every-frame mode: jump to the keyframe before each sample time;
//! - **every_frame** — otherwise (long GOPs): every frame is decoded, the
//!   sample is the first frame at or after each grid time.
//!
//! [`thumbnails`] is the targeted second decode: the pictures of a few
//! sampled frames, for the evidence of a finding.
//!
//! A file FFmpeg cannot open, with no video stream, no decodable frame or a
//! picture too small to show a room gives a scan with `error` set to the
//! library's message; damaged packets inside an otherwise readable file are
//! counted in `bad_packets` with the first message in `damage`.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Once;

use ff::format::Pixel;
use ff::software::scaling;
use ffmpeg_next as ff;

use super::hash::{H, W};
use super::{Analyzer, SampleOptions, ScanMode, VideoScan};

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
    let mut scan = VideoScan::default();
    if let Err(e) = decode(path, opts, &mut scan) {
        scan.error = Some(e);
    }
    scan
}

fn secs(ts: i64, tb: ff::Rational) -> f64 {
    ts as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator().max(1))
}

/// An opened file: its best video stream and a decoder for it.
struct Opened {
    ictx: ff::format::context::Input,
    index: usize,
    tb: ff::Rational,
    /// The stream's start time (its `t = 0`), if the container states it.
    start: Option<i64>,
    rate: f64,
    dec: ff::decoder::Video,
}

fn open(path: &Path, threads: usize) -> Result<Opened, String> {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Err("empty file (0 bytes)".into());
    }
    let ictx = ff::format::input(path).map_err(|e| format!("ffmpeg cannot open the file: {e}"))?;
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| "no video stream (empty or audio-only file)".to_string())?;
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
        count: threads,
        ..Default::default()
    });
    let dec = ctx.decoder().video().map_err(|e| format!("no decoder for this stream: {e}"))?;
    Ok(Opened { ictx, index, tb, start, rate, dec })
}

/// What reading one packet gave.
enum Next {
    Packet(ff::Packet),
    /// A packet of another stream, or one the demuxer rejected (counted).
    Skip,
    End,
}

fn read_packet(o: &mut Opened, scan: &mut VideoScan) -> Next {
    // A fresh packet each time: `Packet::read` does not unreference the
    // packet it reads into, so reusing one leaked every packet's buffer
    // (the whole compressed file per scan; found by fuzz/video_sample).
    let mut packet = ff::Packet::empty();
    match packet.read(&mut o.ictx) {
        Ok(()) if packet.stream() == o.index => Next::Packet(packet),
        Ok(()) => Next::Skip,
        Err(ff::Error::Eof) => Next::End,
        Err(ff::Error::InvalidData) => {
            scan.bad_packets += 1;
            scan.damage.get_or_insert_with(|| "demuxer: invalid data found when processing input".into());
            Next::Skip
        }
        Err(e) => {
            // a truncated file ends with an I/O error: what was read stays usable
            scan.damage.get_or_insert_with(|| format!("demuxer stopped: {e}"));
            scan.bad_packets += 1;
            Next::End
        }
    }
}

/// Reads the first packets (kept for decoding) until the keyframe spacing
/// is known: keyframe mode pays when every keyframe gap seen is at most one
/// sampling interval. Stops at the fourth keyframe, or as soon as a gap is
/// longer than the interval, so at most a few GOPs are held.
fn probe(o: &mut Opened, interval: f64, scan: &mut VideoScan, held: &mut VecDeque<ff::Packet>) -> (bool, bool) {
    let limit = interval * (1.0 + 1e-3) + 1e-6;
    let mut keys: Vec<f64> = Vec::new();
    let mut last_t: Option<f64> = None;
    let mut long_gap = false;
    let ended = loop {
        let p = match read_packet(o, scan) {
            Next::Packet(p) => p,
            Next::Skip => continue,
            Next::End => break true,
        };
        let pt = p.pts().or(p.dts()).map(|ts| secs(ts, o.tb));
        if p.is_key() {
            if let Some(x) = pt {
                keys.push(x);
            }
        }
        let key = p.is_key();
        held.push_back(p);
        if let Some(x) = pt {
            last_t = Some(last_t.map_or(x, |l: f64| l.max(x)));
        }
        if keys.len() >= 4 {
            break false;
        }
        if let (Some(&k), Some(x)) = (keys.last(), last_t) {
            if !key && x - k > limit {
                long_gap = true;
                break false;
            }
        }
        if held.len() > 20_000 {
            // no keyframe flags in thousands of packets: decode every frame
            break false;
        }
    };
    let mut sorted = keys.clone();
    sorted.sort_by(f64::total_cmp);
    let regular = sorted.len() >= 2 && !long_gap && sorted.windows(2).all(|w| w[1] - w[0] <= limit);
    (regular, ended)
}

fn decode(path: &Path, opts: &SampleOptions, scan: &mut VideoScan) -> Result<(), String> {
    let mut o = open(path, opts.threads)?;
    scan.container = o.ictx.format().name().to_string();
    let header = o.ictx.duration();
    if header > 0 {
        scan.header_duration = Some(header as f64 / f64::from(ff::ffi::AV_TIME_BASE));
    }
    scan.creation_time = o.ictx.metadata().get("creation_time").map(str::to_string);
    if scan.creation_time.is_none() {
        scan.creation_time = o.ictx.stream(o.index).and_then(|s| s.metadata().get("creation_time").map(str::to_string));
    }
    scan.codec = o.dec.codec().map(|c| c.name().to_string()).unwrap_or_else(|| format!("{:?}", o.dec.id()));
    scan.width = o.dec.width();
    scan.height = o.dec.height();
    if o.dec.width() > 0 && (o.dec.width() < opts.min_side || o.dec.height() < opts.min_side) {
        return Err(format!(
            "picture is {}×{} pixels, too small to show a room (minimum side {})",
            o.dec.width(),
            o.dec.height(),
            opts.min_side
        ));
    }
    let interval = opts.interval.max(1e-3);
    let mut held = VecDeque::new();
    let (keyframes, mut ended) = if opts.keyframes_only {
        (true, false)
    } else if opts.every_frame {
        (false, false)
    } else {
        probe(&mut o, interval, scan, &mut held)
    };
    if keyframes {
        o.dec.skip_frame(ff::codec::discard::Discard::NonKey);
    }
    let (tb, start, rate) = (o.tb, o.start, o.rate);

    let mut st = State {
        analyzer: Analyzer::new(opts),
        conv: Converter::default(),
        frame: ff::frame::Video::empty(),
        next_t: 0.0,
        tol: if keyframes { 0.25 * interval } else { 1e-3 },
        interval,
        clock: Clock::new(tb, start, rate),
        small_err: None,
        gop: 0.0,
        last_key: None,
        seek_to: None,
        can_seek: !keyframes,
        seeked: false,
    };
    let mut max_end: Option<i64> = None;
    let mut min_ts: Option<i64> = None;
    loop {
        let packet = match held.pop_front() {
            Some(p) => p,
            None if ended => break,
            None => match read_packet(&mut o, scan) {
                Next::Packet(p) => p,
                Next::Skip => continue,
                Next::End => break,
            },
        };
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
        if keyframes {
            if !packet.is_key() {
                continue;
            }
            // A keyframe before the next sample time (less the widest
            // tolerance) can never be sampled: not decoded at all.
            if let (Some(origin), Some(ts)) = (st.clock.start, packet.pts()) {
                if secs(ts - origin, tb) + st.tol < st.next_t {
                    continue;
                }
            }
        }
        if let Err(e) = o.dec.send_packet(&packet) {
            scan.bad_packets += 1;
            scan.damage.get_or_insert_with(|| format!("decoder: {e}"));
            continue;
        }
        st.drain(&mut o.dec, scan)?;
        if let Some(target) = st.seek_to.take() {
            // Skip ahead: jump to the keyframe at or before the next sample
            // time instead of decoding every frame in between.
            let origin = secs(st.clock.start.unwrap_or(0), tb);
            let us = ((target + origin) * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
            if o.ictx.seek(us, ..us).is_ok() {
                o.dec.flush();
                st.last_key = None;
                st.seeked = true;
                // packets still held from the probe lie before the new position
                held.clear();
                ended = false;
            } else {
                st.can_seek = false;
            }
        }
    }
    let _ = o.dec.send_eof();
    st.drain(&mut o.dec, scan)?;
    scan.keyframes_only = keyframes;
    scan.mode = match (keyframes, st.seeked) {
        (true, _) => ScanMode::Keyframes,
        (false, true) => ScanMode::Seek,
        (false, false) => ScanMode::EveryFrame,
    };

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

/// Seconds from the start of the file of each decoded frame: its timestamp
/// against the stream's start (or the first frame's timestamp); without
/// any timestamps (a damaged index), the frame count over the rate.
struct Clock {
    tb: ff::Rational,
    start: Option<i64>,
    rate: f64,
    counter: u64,
    /// Frames were counted (no timestamps): seeking would lose the count.
    counted: bool,
}

impl Clock {
    fn new(tb: ff::Rational, start: Option<i64>, rate: f64) -> Clock {
        Clock { tb, start, rate, counter: 0, counted: false }
    }

    fn time(&mut self, ts: Option<i64>) -> Option<f64> {
        self.counter += 1;
        match ts {
            Some(ts) => {
                let origin = *self.start.get_or_insert(ts);
                Some(secs(ts - origin, self.tb))
            }
            None if self.rate > 0.0 => {
                self.counted = true;
                Some((self.counter - 1) as f64 / self.rate)
            }
            None => None,
        }
    }
}

/// swscale from the decoder's format to the `W`×`H` gray analysis image.
#[derive(Default)]
struct Converter {
    scaler: Option<(scaling::Context, Pixel, u32, u32)>,
    gray: Option<ff::frame::Video>,
}

impl Converter {
    /// The analysis image of `frame`; `Ok(None)` for an empty frame.
    fn run(&mut self, frame: &ff::frame::Video) -> Result<Option<Vec<u8>>, String> {
        let (fmt, w, h) = (frame.format(), frame.width(), frame.height());
        if w == 0 || h == 0 || fmt == Pixel::None {
            return Ok(None);
        }
        let stale = !matches!(&self.scaler, Some((_, f, sw, sh)) if *f == fmt && *sw == w && *sh == h);
        if stale {
            let ctx = scaling::Context::get(fmt, w, h, Pixel::GRAY8, W as u32, H as u32, scaling::Flags::AREA)
                .map_err(|e| format!("swscale cannot convert {fmt:?} {w}×{h}: {e}"))?;
            self.scaler = Some((ctx, fmt, w, h));
        }
        let gray = self.gray.get_or_insert_with(ff::frame::Video::empty);
        if let Some((ctx, ..)) = self.scaler.as_mut() {
            ctx.run(frame, gray).map_err(|e| format!("swscale: {e}"))?;
        }
        let stride = gray.stride(0);
        let data = gray.data(0);
        let mut img = Vec::with_capacity(W * H);
        for y in 0..H {
            let row =
                data.get(y * stride..y * stride + W).ok_or_else(|| "swscale returned a short picture".to_string())?;
            img.extend_from_slice(row);
        }
        Ok(Some(img))
    }
}

struct State {
    analyzer: Analyzer,
    conv: Converter,
    frame: ff::frame::Video,
    next_t: f64,
    tol: f64,
    interval: f64,
    clock: Clock,
    small_err: Option<String>,
    /// Longest gap seen between keyframes (s), to decide whether seeking pays.
    gop: f64,
    last_key: Option<f64>,
    seek_to: Option<f64>,
    can_seek: bool,
    seeked: bool,
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
            let Some(t) = self.clock.time(self.frame.timestamp()) else { continue };
            if self.clock.counted {
                // no timestamps at all (damaged index): count frames, never seek
                self.can_seek = false;
            }
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
        let (w, h) = (self.frame.width(), self.frame.height());
        let img = match self.conv.run(&self.frame) {
            Ok(Some(img)) => img,
            Ok(None) => return Ok(()),
            Err(e) if e.starts_with("swscale: ") => {
                scan.bad_packets += 1;
                scan.damage.get_or_insert(e);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if scan.width == 0 {
            scan.width = w;
            scan.height = h;
        }
        if w < 2 || h < 2 {
            self.small_err = Some(format!("picture is {w}×{h} pixels, too small to show a room"));
        }
        self.analyzer.push(t, &img);
        Ok(())
    }
}

/// PNG thumbnails ([`super::hash::THUMB_W`]×[`super::hash::THUMB_H`] gray,
/// made the way the sampler makes its analysis image) of the frames at
/// `times` seconds of the file, as `FrameSample::t` gives them: the first
/// frame at or after each time. Seeks to the keyframe before each time when
/// the file has timestamps, else decodes from the start. `None` where no
/// such frame can be decoded; never panics.
pub fn thumbnails(path: &Path, times: &[f64]) -> Vec<Option<Vec<u8>>> {
    init();
    let mut out = vec![None; times.len()];
    let _ = grab(path, times, &mut out);
    out
}

fn grab(path: &Path, times: &[f64], out: &mut [Option<Vec<u8>>]) -> Result<(), String> {
    let mut order: Vec<usize> = (0..times.len()).filter(|&i| times[i].is_finite() && times[i] >= 0.0).collect();
    order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
    if order.is_empty() {
        return Ok(());
    }
    let mut o = open(path, 1)?;
    let mut clock = Clock::new(o.tb, o.start, o.rate);
    let can_seek = o.start.is_some();
    let mut conv = Converter::default();
    let mut frame = ff::frame::Video::empty();
    let mut sink = VideoScan::default();
    // time of the last frame decoded, when the decoder is positioned after it
    let mut at: Option<f64> = None;
    let mut ended = false;
    for i in order {
        let t = times[i];
        let behind = at.is_some_and(|a| a > t + 1e-3);
        let far = at.map_or(t > 1.0, |a| t - a > 1.0);
        if can_seek && !clock.counted && (behind || far) {
            let origin = secs(o.start.unwrap_or(0), o.tb);
            let us = ((t + origin) * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
            if o.ictx.seek(us, ..us).is_ok() {
                o.dec.flush();
                at = None;
                ended = false;
            }
        } else if behind {
            continue;
        }
        'target: while !ended {
            match read_packet(&mut o, &mut sink) {
                Next::Packet(p) => {
                    if o.dec.send_packet(&p).is_err() {
                        continue;
                    }
                }
                Next::Skip => continue,
                Next::End => {
                    ended = true;
                    let _ = o.dec.send_eof();
                }
            }
            while o.dec.receive_frame(&mut frame).is_ok() {
                let Some(ft) = clock.time(frame.timestamp()) else { continue };
                at = Some(ft);
                if ft + 1e-3 >= t {
                    if let Ok(Some(img)) = conv.run(&frame) {
                        out[i] = super::hash::thumbnail_png(&img);
                    }
                    break 'target;
                }
            }
        }
    }
    Ok(())
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

    fn ffmpeg(dir: &Path, args: &str) {
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ffmpeg -nostdin -hide_banner -loglevel error -y {args}"))
            .current_dir(dir)
            .status()
            .expect("the ffmpeg command-line tool (Debian package `ffmpeg`) makes the test clip");
        assert!(st.success(), "ffmpeg {args}");
    }

    #[test]
    fn scanning_does_not_keep_the_packets() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("noise.mp4");
        // 6 s of noise at a high bitrate: ~6 MB of packets that a leak would keep per scan.
        ffmpeg(
            dir.path(),
            "-f lavfi -i 'nullsrc=s=320x240:r=25,geq=random(1)*255:128:128' -t 6 -c:v libx264 -b:v 8M -pix_fmt yuv420p noise.mp4",
        );
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

    #[test]
    fn the_mode_follows_the_keyframe_spacing() {
        let dir = tempfile::tempdir().unwrap();
        // keyframes every 1 s (≤ the 2 s interval) and every 4 s (>)
        let src = "-f lavfi -i testsrc=s=160x120:r=10 -t 12 -c:v libx264 -sc_threshold 0 -pix_fmt yuv420p";
        ffmpeg(dir.path(), &format!("{src} -g 10 -keyint_min 10 short.mp4"));
        ffmpeg(dir.path(), &format!("{src} -g 40 -keyint_min 40 long.mp4"));
        let auto = SampleOptions { threads: 1, ..SampleOptions::default() };
        let short = scan_video(&dir.path().join("short.mp4"), &auto);
        let long = scan_video(&dir.path().join("long.mp4"), &auto);
        assert_eq!((short.mode, short.keyframes_only), (ScanMode::Keyframes, true));
        assert_eq!((long.mode, long.keyframes_only), (ScanMode::EveryFrame, false));
        let times = |s: &VideoScan| s.frames.iter().map(|f| f.t).collect::<Vec<_>>();
        let grid: Vec<f64> = (0..6).map(|k| f64::from(k) * 2.0).collect();
        assert_eq!(times(&short), grid);
        assert_eq!(times(&long), grid);
        // every frame decoded gives the very same samples as keyframes only
        let every = scan_video(&dir.path().join("short.mp4"), &SampleOptions { every_frame: true, ..auto.clone() });
        assert_eq!(every.mode, ScanMode::EveryFrame);
        assert_eq!(every.frames, short.frames);
        assert_eq!(every.duration, short.duration);
        // 4 s interval over 1 s keyframes in every-frame mode: seek
        let sparse = SampleOptions { interval: 4.0, every_frame: true, ..auto };
        let seek = scan_video(&dir.path().join("short.mp4"), &sparse);
        assert_eq!(seek.mode, ScanMode::Seek);
        assert_eq!(times(&seek), vec![0.0, 4.0, 8.0]);
    }

    #[test]
    fn thumbnails_are_the_sampled_pictures() {
        let dir = tempfile::tempdir().unwrap();
        ffmpeg(dir.path(), "-f lavfi -i testsrc=s=320x240:r=10 -t 10 -g 30 -c:v libx264 -pix_fmt yuv420p c.mp4");
        let p = dir.path().join("c.mp4");
        let scan = scan_video(&p, &SampleOptions { threads: 1, ..SampleOptions::default() });
        assert_eq!(scan.error, None);
        let times: Vec<f64> = [8.0, 2.0, 4.0, 99.0, -1.0].to_vec();
        let th = thumbnails(&p, &times);
        assert!(th[3].is_none() && th[4].is_none(), "no frame at 99 s or -1 s");
        for (k, t) in times[..3].iter().enumerate() {
            let png = th[k].as_ref().unwrap_or_else(|| panic!("no thumbnail at {t} s"));
            let img = image::load_from_memory(png).unwrap().to_luma8();
            assert_eq!(
                (img.width() as usize, img.height() as usize),
                (super::super::hash::THUMB_W, super::super::hash::THUMB_H)
            );
            // the thumbnail shrunk to the grid is the sample's appearance grid
            let f = scan.frames.iter().find(|f| f.t == *t).expect("sampled");
            let g = super::super::hash::shrink(img.as_raw(), img.width() as usize, img.height() as usize, 32, 24);
            let d = g.iter().zip(&f.grid).map(|(&a, &b)| u32::from(a.abs_diff(b))).max().unwrap();
            assert!(d <= 3, "thumbnail at {t} s differs from the sample by {d} levels");
        }
        assert_eq!(thumbnails(&dir.path().join("missing.mp4"), &[1.0]), vec![None]);
    }
}
