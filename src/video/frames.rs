//! Folders of still frames (JPEG/PNG) whose names begin with their capture
//! time `YYYYMMDDTHHMMSS` (DATA.md): the names give real wall-clock times,
//! so such footage carries its own `wall_start`. Files whose names do not
//! parse are counted as damage, symlinks and non-files are skipped.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::hash::{H, W};
use super::{Analyzer, SampleOptions, VideoScan};
use crate::dataset::rows::{days_from_civil, Ts};

/// Parses the `YYYYMMDDTHHMMSS` prefix of a frame file name.
pub fn parse_frame_time(name: &str) -> Option<Ts> {
    let b = name.as_bytes();
    if b.len() < 15 || b[8] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = name.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let day = days_from_civil(y as i32, mo, d);
    if super::super::dataset::rows::civil_from_days(day) != (y as i32, mo, d) {
        return None;
    }
    Some(i64::from(day) * 86_400 + i64::from(h * 3600 + mi * 60 + s))
}

fn is_image(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.ends_with(".jpg") || l.ends_with(".jpeg") || l.ends_with(".png")
}

/// Image files of the folder (regular files only, no symlinks), sorted by name.
fn list(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot list frame folder `{}`: {e}", dir.display()))?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_file() && is_image(&name) {
            out.push((name, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// SHA-256 over the folder's image names and contents, in name order.
pub fn folder_sha256(dir: &Path) -> Result<String, String> {
    let mut h = Sha256::new();
    for (name, p) in list(dir)? {
        let bytes = std::fs::read(&p).map_err(|e| format!("cannot read frame `{name}`: {e}"))?;
        h.update(name.as_bytes());
        h.update([0u8]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(hex::encode(h.finalize()))
}

/// Samples a frame folder: at most one frame per interval, by name time.
pub fn scan_folder(dir: &Path, opts: &SampleOptions) -> VideoScan {
    let mut scan =
        VideoScan { codec: "frames".into(), container: "folder".into(), keyframes_only: false, ..VideoScan::default() };
    if let Err(e) = scan_inner(dir, opts, &mut scan) {
        scan.error = Some(e);
    }
    scan
}

fn scan_inner(dir: &Path, opts: &SampleOptions, scan: &mut VideoScan) -> Result<(), String> {
    let files = list(dir)?;
    let mut timed: Vec<(Ts, String, PathBuf)> = Vec::new();
    for (name, p) in files {
        match parse_frame_time(&name) {
            Some(ts) => timed.push((ts, name, p)),
            None => {
                scan.bad_packets += 1;
                scan.damage.get_or_insert_with(|| format!("frame name `{name}` does not start with YYYYMMDDTHHMMSS"));
            }
        }
    }
    scan.packets = timed.len() as u64 + scan.bad_packets;
    timed.sort();
    let (first, last) = match (timed.first(), timed.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => return Err("frame folder has no image named YYYYMMDDTHHMMSS…(.jpg/.png)".into()),
    };
    scan.wall_start = Some(first);
    let mut gaps: Vec<i64> = timed.windows(2).map(|w| w[1].0 - w[0].0).filter(|&g| g > 0).collect();
    gaps.sort_unstable();
    let step = gaps.get(gaps.len() / 2).copied().unwrap_or(0);
    scan.duration = (last - first + step) as f64;
    let mut an = Analyzer::new(opts);
    let mut next_t = 0.0;
    for (ts, name, p) in &timed {
        let t = (ts - first) as f64;
        if t + 1e-6 < next_t {
            continue;
        }
        let img = match image::open(p) {
            Ok(i) => i,
            Err(e) => {
                scan.bad_packets += 1;
                scan.damage.get_or_insert_with(|| format!("frame `{name}`: {e}"));
                continue;
            }
        };
        if img.width() < opts.min_side || img.height() < opts.min_side {
            scan.bad_packets += 1;
            scan.damage.get_or_insert_with(|| format!("frame `{name}` is {}×{} pixels", img.width(), img.height()));
            continue;
        }
        if scan.width == 0 {
            scan.width = img.width();
            scan.height = img.height();
            scan.codec = format!("frames/{}", if name.to_ascii_lowercase().ends_with(".png") { "png" } else { "jpeg" });
        }
        let gray = img.to_luma8();
        let small = image::imageops::resize(&gray, W as u32, H as u32, image::imageops::FilterType::Triangle);
        an.push(t, small.as_raw());
        next_t = ((t / opts.interval.max(1e-3)).floor() + 1.0) * opts.interval;
    }
    if an.frames.is_empty() {
        return Err(format!(
            "no frame of the folder could be decoded ({})",
            scan.damage.clone().unwrap_or_else(|| "no image".into())
        ));
    }
    (scan.frames, scan.noise) = an.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_names() {
        let base = i64::from(days_from_civil(2024, 7, 10)) * 86_400;
        assert_eq!(parse_frame_time("20240710T083005.jpg"), Some(base + 8 * 3600 + 30 * 60 + 5));
        assert_eq!(parse_frame_time("20240710T083005123_cam1.png"), Some(base + 8 * 3600 + 30 * 60 + 5));
        assert_eq!(parse_frame_time("20240231T083005.jpg"), None);
        assert_eq!(parse_frame_time("2024-07-10 08:30.jpg"), None);
        assert_eq!(parse_frame_time("cam.jpg"), None);
    }
}
