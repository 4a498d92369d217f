//! CCTV footage sampling: the only module that links FFmpeg. It turns each
//! `cctv` row's file (a video FFmpeg can read, or a folder of timestamped
//! still frames) into a [`VideoScan`]: real duration, container metadata and
//! a sequence of small sampled frames with perceptual hashes and statistics.
//! The `cctv.*` checks read only these scans (and [`index`], the pure
//! near-duplicate index over their hashes).
//!
//! **Architecture invariant:** nothing outside `video` calls FFmpeg, and a
//! file that cannot be decoded (or a path that leaves the dataset folder)
//! yields a scan with `error` set, never a panic.

pub mod frames;
pub mod hash;
pub mod index;
pub mod path;
pub mod sample;

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::Tables;

/// Scans of every `cctv` row, indexed like `Tables::cctv`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Footage {
    pub scans: Vec<VideoScan>,
}

/// What the sampler found in one file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VideoScan {
    /// SHA-256 of the file (or of the frame folder's names and contents).
    pub sha256: String,
    /// Real duration in seconds: from the packets actually present (video
    /// files) or the first and last frame names (frame folders), never from
    /// the container header alone.
    pub duration: f64,
    /// Duration the container header states (may differ on a truncated file).
    pub header_duration: Option<f64>,
    pub width: u32,
    pub height: u32,
    /// Decoder name (`h264`, `mpeg4`, …) or `frames/jpeg` for a frame folder.
    pub codec: String,
    /// Container format (`mov,mp4,m4a,3gp,3g2,mj2`, `avi`, …).
    pub container: String,
    /// Container `creation_time` tag as written (weak evidence: easy to forge).
    pub creation_time: Option<String>,
    /// Wall-clock time (local, [`crate::dataset::rows::Ts`]) of the first
    /// frame when the footage itself carries it (frame folder names).
    pub wall_start: Option<i64>,
    /// Whether only keyframes were decoded.
    pub keyframes_only: bool,
    /// Video packets read and packets the demuxer or decoder rejected.
    pub packets: u64,
    pub bad_packets: u64,
    /// The first decoder or demuxer message about a damaged packet.
    pub damage: Option<String>,
    /// Sampled frames in time order.
    pub frames: Vec<FrameSample>,
    /// Noise level of the appearance grids of `frames`.
    #[serde(default)]
    pub noise: Noise,
    /// Why the file could not be read, if it could not (decoder's message).
    pub error: Option<String>,
}

/// One sampled frame.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FrameSample {
    /// Seconds from the start of the file.
    pub t: f64,
    /// 64-bit difference hash of the frame (9×8 grayscale).
    pub dhash: u64,
    /// 64-bit DCT perceptual hash (32×32 grayscale, 8×8 low frequencies).
    pub phash: u64,
    /// Mean luma 0–255 and its standard deviation (contrast).
    pub mean: f32,
    pub std: f32,
    /// Mean absolute luma difference to the previous sampled frame on the
    /// 128×96 analysis image (0 for the first): sensor noise keeps it above
    /// zero in a live room, a frozen picture has none.
    pub motion: f32,
    /// 8×8 map of where the picture changed since the previous sample.
    pub motion_hash: u64,
    /// 8×8 map of where the picture differs from the video's background
    /// (per-pixel median of all samples): where the people are. Unlike a
    /// whole-frame hash it tells two minutes of one fixed camera apart, and
    /// unlike `motion_hash` it does not depend on the sampling phase.
    pub fg_hash: u64,
    /// Small PNG thumbnail for evidence.
    #[serde(with = "b64_opt", default)]
    pub thumb_png: Option<Vec<u8>>,
    /// Frame-specific appearance: the analysis image area-averaged to
    /// [`hash::GRID_W`]×[`hash::GRID_H`] cells (32×24, row-major, top row
    /// first), each the cell's mean luma 0–255 rounded to the nearest level.
    /// Unlike the binary maps it keeps the residual content a copy
    /// reproduces and another recording does not (light, poses, noise);
    /// compare it at the scale of the clip's [`Noise`]. Empty only in scans
    /// cached before it existed.
    #[serde(with = "b64_vec", default)]
    pub grid: Vec<u8>,
}

/// How much the appearance grid of one clip moves without any change of
/// content, in luma levels (0–255) of one grid cell. The grid is rounded to
/// whole levels, which alone puts ±0.5 (standard deviation 0.29) on a cell.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Noise {
    /// Median over consecutive sample pairs of the median over the cells of
    /// |grid(k) − grid(k−1)| (unrounded cell means): what a cell of the room
    /// changes between two samples — sensor and codec noise plus slow light
    /// drift; people cover a minority of the cells, so the median cell is
    /// static. 0 with fewer than two samples.
    pub temporal: f32,
    /// Consecutive pairs `temporal` is the median of.
    pub temporal_pairs: u32,
    /// Median over probed samples of the mean over the cells of
    /// |grid(frame) − grid(JPEG re-encode of the frame)| (unrounded), the
    /// re-encode at quality [`hash::REQUANT_QUALITY`] of the 128×96
    /// analysis image: what one lossy re-encode of this footage alone moves a
    /// cell (codec noise).
    pub requant: f32,
    /// Samples `requant` was measured on (the first 8, then every 32nd).
    pub requant_samples: u32,
}

/// Sampling settings (from `[params.cctv]`).
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Seconds between sampled frames.
    pub interval: f64,
    /// Decode keyframes only (faster; enough for long-run checks).
    pub keyframes_only: bool,
    /// Decoder threads per file (0 = FFmpeg's choice).
    pub threads: usize,
    /// Smallest picture side that can show a room; smaller is unreadable.
    pub min_side: u32,
    /// Luma levels an 8×8 cell must change by to count as motion / foreground.
    pub motion_cell_min: f32,
    pub fg_cell_min: f32,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            interval: 2.0,
            keyframes_only: false,
            threads: 0,
            min_side: 16,
            motion_cell_min: 3.0,
            fg_cell_min: 6.0,
        }
    }
}

impl SampleOptions {
    /// What a cached scan must have been made with to be reused.
    pub fn cache_key(&self) -> String {
        format!(
            "v2|interval={}|keyframes={}|min_side={}|motion_cell={}|fg_cell={}",
            self.interval, self.keyframes_only, self.min_side, self.motion_cell_min, self.fg_cell_min
        )
    }
}

/// A place to keep scans between runs, keyed by content hash and options
/// (the store implements it in `store::frame_cache`).
pub trait ScanCache {
    fn get_scan(&mut self, sha256: &str, options_key: &str) -> Option<VideoScan>;
    fn put_scan(&mut self, options_key: &str, scan: &VideoScan);
}

/// Samples every `cctv` row's file under `root`, in parallel, without a cache.
pub fn scan_all(root: &Path, t: &Tables, opts: &SampleOptions) -> Footage {
    scan_all_cached(root, t, opts, None)
}

/// Samples every `cctv` row's file under `root`: hashes the files, reuses
/// cached scans by SHA-256, decodes the rest in parallel and caches them.
pub fn scan_all_cached(
    root: &Path,
    t: &Tables,
    opts: &SampleOptions,
    mut cache: Option<&mut dyn ScanCache>,
) -> Footage {
    let Some(rows) = t.cctv.as_ref() else { return Footage::default() };
    // 1. resolve and hash (parallel, IO bound)
    let targets: Vec<Result<(path::Target, String), String>> = rows
        .par_iter()
        .map(|r| {
            let target = path::resolve(root, t.s(r.file))?;
            let sha = match &target {
                path::Target::File(p) => crate::output::hash_file(p)
                    .map(|(_, h)| h)
                    .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?,
                path::Target::Folder(p) => frames::folder_sha256(p)?,
            };
            Ok((target, sha))
        })
        .collect();
    // 2. cache look-up (the store is single-threaded)
    let key = opts.cache_key();
    let mut scans: Vec<Option<VideoScan>> = targets
        .iter()
        .map(|tg| match (tg, cache.as_deref_mut()) {
            (Ok((_, sha)), Some(c)) => c.get_scan(sha, &key),
            (Err(e), _) => Some(VideoScan { error: Some(e.clone()), ..VideoScan::default() }),
            _ => None,
        })
        .collect();
    // 3. decode the misses in parallel; the same file listed twice is decoded once
    // (issue 14: `seen` must keep the *first* row of each content, the one
    // that is decoded; keeping the last gave every later copy an empty scan)
    let mut todo: Vec<(usize, &path::Target, &str)> = Vec::new();
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, tg) in targets.iter().enumerate() {
        if let (None, Ok((target, sha))) = (&scans[i], tg) {
            if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(sha.as_str()) {
                e.insert(i);
                todo.push((i, target, sha.as_str()));
            }
        }
    }
    let decoded: Vec<(usize, VideoScan)> = todo
        .par_iter()
        .map(|&(i, target, sha)| {
            let mut s = match target {
                path::Target::File(p) => sample::scan_video(p, opts),
                path::Target::Folder(p) => frames::scan_folder(p, opts),
            };
            s.sha256 = sha.to_string();
            (i, s)
        })
        .collect();
    for (i, s) in decoded {
        if let Some(c) = cache.as_deref_mut() {
            c.put_scan(&key, &s);
        }
        scans[i] = Some(s);
    }
    for (i, tg) in targets.iter().enumerate() {
        if scans[i].is_none() {
            if let Ok((_, sha)) = tg {
                scans[i] = seen.get(sha.as_str()).and_then(|&j| scans[j].clone());
            }
        }
    }
    // Every row is now scanned: from the cache, its own decode or the decode
    // of the first row with the same content.
    debug_assert!(scans.iter().all(Option::is_some));
    Footage { scans: scans.into_iter().map(Option::unwrap_or_default).collect() }
}

/// Turns a stream of small gray frames into [`FrameSample`]s: statistics and
/// hashes per frame, motion against the previous one, the appearance grid
/// and noise levels, and (at the end) the foreground maps against the
/// median background.
pub(crate) struct Analyzer {
    opts: SampleOptions,
    prev: Option<Vec<u8>>,
    /// Unrounded grid of the previous sample (for `Noise::temporal`).
    prev_grid: Option<Vec<f32>>,
    temporal: Vec<f32>,
    requant: Vec<f32>,
    pub frames: Vec<FrameSample>,
}

impl Analyzer {
    pub fn new(opts: &SampleOptions) -> Self {
        Analyzer {
            opts: opts.clone(),
            prev: None,
            prev_grid: None,
            temporal: Vec::new(),
            requant: Vec::new(),
            frames: Vec::new(),
        }
    }

    /// Adds one analysis image (`hash::W`×`hash::H` gray) taken at `t` seconds.
    pub fn push(&mut self, t: f64, img: &[u8]) {
        use hash::{GRID_H, GRID_W, H, W};
        let (mean, std) = hash::mean_std(img);
        let (motion, motion_hash) = match &self.prev {
            Some(p) => (hash::mean_abs_diff(p, img), hash::diff_map(p, img, W, H, self.opts.motion_cell_min)),
            None => (0.0, 0),
        };
        let grid_f = hash::resample(img, W, H, GRID_W, GRID_H);
        if let Some(p) = &self.prev_grid {
            let mut d: Vec<f32> = p.iter().zip(&grid_f).map(|(a, b)| (a - b).abs()).collect();
            self.temporal.push(median(&mut d));
        }
        let k = self.frames.len();
        if k < 8 || k % 32 == 0 {
            if let Some(r) = hash::requant_error(img, W, H, &grid_f) {
                self.requant.push(r);
            }
        }
        let thumb = hash::shrink(img, W, H, hash::THUMB_W, hash::THUMB_H);
        self.frames.push(FrameSample {
            t,
            dhash: hash::dhash(img, W, H),
            phash: hash::phash(img, W, H),
            mean,
            std,
            motion,
            motion_hash,
            fg_hash: 0,
            thumb_png: hash::png_gray(&thumb, hash::THUMB_W, hash::THUMB_H),
            grid: grid_f.iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect(),
        });
        self.prev_grid = Some(grid_f);
        self.prev = Some(img.to_vec());
    }

    /// The frames with their foreground maps, and the clip's noise levels.
    pub fn finish(mut self) -> (Vec<FrameSample>, Noise) {
        use hash::{GRID_H, GRID_W};
        let refs: Vec<&[u8]> = self.frames.iter().map(|f| f.grid.as_slice()).collect();
        let bg = hash::median_image(&refs);
        for f in self.frames.iter_mut() {
            let diff: Vec<u8> = f.grid.iter().zip(&bg).map(|(&a, &b)| a.abs_diff(b)).collect();
            f.fg_hash = hash::threshold_map(&diff, GRID_W, GRID_H, self.opts.fg_cell_min);
        }
        let noise = Noise {
            temporal_pairs: self.temporal.len() as u32,
            temporal: median(&mut self.temporal),
            requant_samples: self.requant.len() as u32,
            requant: median(&mut self.requant),
        };
        (self.frames, noise)
    }
}

/// Median of the values (mean of the middle two for an even count); 0 for none.
fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

mod b64_opt {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let o: Option<String> = Option::deserialize(d)?;
        o.map(|t| base64::engine::general_purpose::STANDARD.decode(t).map_err(serde::de::Error::custom)).transpose()
    }
}

mod b64_vec {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let t = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(t).map_err(serde::de::Error::custom)
    }
}
