//! The scan cache: a [`VideoScan`] per file content (SHA-256) and sampling
//! options, so that a re-run does not decode the same footage again.
//!
//! Scans are kept as compact binary features, not JSON (issue 14 item 4: a
//! JSON cache with a PNG thumbnail per sample was ten times the footage it
//! described). One row per scan: a deflated blob of the scan's metadata and
//! its frames column by column — times and statistics as the bytes of their
//! IEEE values split into byte planes, hashes as little-endian words, the
//! appearance grids as the byte-wise difference to the previous frame's
//! grid — which deflate packs to a few tens of bytes per sample of a
//! fixed camera. Every value round-trips bit for bit, so a warm cache gives
//! exactly the scan a cold one decodes. Thumbnails are not cached: the
//! pipeline makes them for the frames findings cite (`video::thumbnails`)
//! and they are stored with the findings.

use std::io::{Read, Write};

use rusqlite::OptionalExtension;

use super::Store;
use crate::video::{FrameSample, Noise, ScanCache, ScanMode, VideoScan};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS video_scan_features (
    sha256 TEXT NOT NULL,
    options TEXT NOT NULL,
    features BLOB NOT NULL,
    PRIMARY KEY (sha256, options)
)";
/// The JSON cache of earlier versions (its rows were made with older
/// options keys and never answer).
const OLD: &str = "video_scan_cache";

/// First bytes of an encoded scan: format name and version.
const MAGIC: &[u8; 5] = b"KPVS\x01";

impl Store {
    fn scan_table(&self) -> rusqlite::Result<()> {
        self.conn.execute(SCHEMA, [])?;
        let old: Option<i64> = self
            .conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [OLD], |r| r.get(0))
            .optional()?;
        if old.is_some() {
            // Dropped once, and the file compacted: the old cache was
            // several times the footage (issue 14).
            self.conn.execute(&format!("DROP TABLE {OLD}"), [])?;
            if let Err(e) = self.conn.execute("VACUUM", []) {
                tracing::warn!("could not compact the store after dropping the old scan cache: {e}");
            }
        }
        Ok(())
    }

    /// The cached scan of the file with this SHA-256 made with these options.
    pub fn get_video_scan(&self, sha256: &str, options: &str) -> rusqlite::Result<Option<VideoScan>> {
        self.scan_table()?;
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT features FROM video_scan_features WHERE sha256 = ?1 AND options = ?2",
                [sha256, options],
                |r| r.get(0),
            )
            .optional()?;
        // A row that does not decode (damaged, other version) is a miss, not an error.
        Ok(blob.and_then(|b| decode(&b)))
    }

    /// Keeps a scan (replacing any older one for the same file and options).
    pub fn put_video_scan(&self, options: &str, scan: &VideoScan) -> rusqlite::Result<()> {
        self.scan_table()?;
        self.conn.execute(
            "INSERT OR REPLACE INTO video_scan_features (sha256, options, features) VALUES (?1, ?2, ?3)",
            rusqlite::params![scan.sha256, options, encode(scan)],
        )?;
        Ok(())
    }

    /// Bytes the cached scans take (their encoded features), and their count.
    pub fn video_scan_bytes(&self) -> rusqlite::Result<(u64, u64)> {
        self.scan_table()?;
        self.conn.query_row("SELECT COALESCE(SUM(LENGTH(features)), 0), COUNT(*) FROM video_scan_features", [], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })
    }
}

impl ScanCache for Store {
    fn get_scan(&mut self, sha256: &str, options_key: &str) -> Option<VideoScan> {
        match self.get_video_scan(sha256, options_key) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("frame cache read failed: {e}");
                None
            }
        }
    }

    fn put_scan(&mut self, options_key: &str, scan: &VideoScan) {
        // Scans of files that could not be read are not cached: the file may
        // be fixed in place, and re-trying costs little.
        if scan.error.is_some() || scan.sha256.is_empty() {
            return;
        }
        if let Err(e) = self.put_video_scan(options_key, scan) {
            tracing::warn!("frame cache write failed: {e}");
        }
    }
}

// ------------------------------------------------------------------ format

/// Encodes a scan: [`MAGIC`], then one deflate stream of the fields.
pub fn encode(s: &VideoScan) -> Vec<u8> {
    let mut b = Vec::with_capacity(256 + s.frames.len() * 64);
    put_str(&mut b, &s.sha256);
    b.extend(s.duration.to_bits().to_le_bytes());
    put_opt_u64(&mut b, s.header_duration.map(f64::to_bits));
    b.extend(s.width.to_le_bytes());
    b.extend(s.height.to_le_bytes());
    put_str(&mut b, &s.codec);
    put_str(&mut b, &s.container);
    put_opt_str(&mut b, s.creation_time.as_deref());
    put_opt_u64(&mut b, s.wall_start.map(|w| w as u64));
    b.push(u8::from(s.keyframes_only));
    b.push(s.mode.code());
    b.extend(s.packets.to_le_bytes());
    b.extend(s.bad_packets.to_le_bytes());
    put_opt_str(&mut b, s.damage.as_deref());
    put_opt_str(&mut b, s.error.as_deref());
    b.extend(s.noise.temporal.to_bits().to_le_bytes());
    b.extend(s.noise.temporal_pairs.to_le_bytes());
    b.extend(s.noise.requant.to_bits().to_le_bytes());
    b.extend(s.noise.requant_samples.to_le_bytes());
    let f = &s.frames;
    b.extend((f.len() as u64).to_le_bytes());
    planes64(&mut b, f.iter().map(|x| x.t.to_bits()));
    planes64(&mut b, f.iter().map(|x| x.dhash));
    planes64(&mut b, f.iter().map(|x| x.phash));
    planes32(&mut b, f.iter().map(|x| x.mean.to_bits()));
    planes32(&mut b, f.iter().map(|x| x.std.to_bits()));
    planes32(&mut b, f.iter().map(|x| x.motion.to_bits()));
    planes64(&mut b, f.iter().map(|x| x.motion_hash));
    planes64(&mut b, f.iter().map(|x| x.fg_hash));
    planes32(&mut b, f.iter().map(|x| x.grid.len() as u32));
    let mut prev: &[u8] = &[];
    for x in f {
        // byte-wise difference to the previous grid (wrapping): a fixed
        // camera's static cells become zeros
        b.extend(x.grid.iter().enumerate().map(|(i, &v)| v.wrapping_sub(prev.get(i).copied().unwrap_or(0))));
        prev = &x.grid;
    }
    let mut out = MAGIC.to_vec();
    let mut z = flate2::write::DeflateEncoder::new(&mut out, flate2::Compression::default());
    // writing into a Vec cannot fail
    let _ = z.write_all(&b);
    let _ = z.finish();
    out
}

/// Decodes [`encode`]'s bytes; `None` for anything else.
pub fn decode(bytes: &[u8]) -> Option<VideoScan> {
    let body = bytes.strip_prefix(MAGIC.as_slice())?;
    let mut raw = Vec::new();
    flate2::read::DeflateDecoder::new(body).read_to_end(&mut raw).ok()?;
    let mut r = Reader { b: &raw };
    let mut s = VideoScan {
        sha256: r.str()?,
        duration: f64::from_bits(r.u64()?),
        header_duration: r.opt_u64()?.map(f64::from_bits),
        width: r.u32()?,
        height: r.u32()?,
        codec: r.str()?,
        container: r.str()?,
        creation_time: r.opt_str()?,
        wall_start: r.opt_u64()?.map(|w| w as i64),
        keyframes_only: r.u8()? != 0,
        mode: ScanMode::from_code(r.u8()?)?,
        packets: r.u64()?,
        bad_packets: r.u64()?,
        damage: r.opt_str()?,
        error: r.opt_str()?,
        noise: Noise {
            temporal: f32::from_bits(r.u32()?),
            temporal_pairs: r.u32()?,
            requant: f32::from_bits(r.u32()?),
            requant_samples: r.u32()?,
        },
        frames: Vec::new(),
    };
    let n = usize::try_from(r.u64()?).ok()?;
    // every frame takes at least 56 bytes below: a larger count is damage
    if n > r.b.len() / 56 {
        return None;
    }
    let t = r.planes64(n)?;
    let dhash = r.planes64(n)?;
    let phash = r.planes64(n)?;
    let mean = r.planes32(n)?;
    let std = r.planes32(n)?;
    let motion = r.planes32(n)?;
    let motion_hash = r.planes64(n)?;
    let fg_hash = r.planes64(n)?;
    let lens = r.planes32(n)?;
    let mut prev: Vec<u8> = Vec::new();
    s.frames.reserve(n);
    for i in 0..n {
        let d = r.take(lens[i] as usize)?;
        let grid: Vec<u8> =
            d.iter().enumerate().map(|(k, &v)| v.wrapping_add(prev.get(k).copied().unwrap_or(0))).collect();
        s.frames.push(FrameSample {
            t: f64::from_bits(t[i]),
            dhash: dhash[i],
            phash: phash[i],
            mean: f32::from_bits(mean[i]),
            std: f32::from_bits(std[i]),
            motion: f32::from_bits(motion[i]),
            motion_hash: motion_hash[i],
            fg_hash: fg_hash[i],
            grid: grid.clone(),
        });
        prev = grid;
    }
    r.b.is_empty().then_some(s)
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    b.extend((s.len() as u32).to_le_bytes());
    b.extend(s.as_bytes());
}

fn put_opt_str(b: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            b.push(1);
            put_str(b, s);
        }
        None => b.push(0),
    }
}

fn put_opt_u64(b: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => {
            b.push(1);
            b.extend(v.to_le_bytes());
        }
        None => b.push(0),
    }
}

/// A column of words as byte planes (all lowest bytes, then the next …):
/// nearby values share their high bytes, which deflate then packs.
fn planes64(b: &mut Vec<u8>, v: impl Iterator<Item = u64> + Clone) {
    for k in 0..8 {
        b.extend(v.clone().map(|x| (x >> (8 * k)) as u8));
    }
}

fn planes32(b: &mut Vec<u8>, v: impl Iterator<Item = u32> + Clone) {
    for k in 0..4 {
        b.extend(v.clone().map(|x| (x >> (8 * k)) as u8));
    }
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.b.len() {
            return None;
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Some(h)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
    fn opt_u64(&mut self) -> Option<Option<u64>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.u64()?)),
            _ => None,
        }
    }
    fn planes64(&mut self, n: usize) -> Option<Vec<u64>> {
        let p = self.take(n.checked_mul(8)?)?;
        Some((0..n).map(|i| (0..8).fold(0u64, |acc, k| acc | u64::from(p[k * n + i]) << (8 * k))).collect())
    }
    fn planes32(&mut self, n: usize) -> Option<Vec<u32>> {
        let p = self.take(n.checked_mul(4)?)?;
        Some((0..n).map(|i| (0..4).fold(0u32, |acc, k| acc | u32::from(p[k * n + i]) << (8 * k))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_scan() -> VideoScan {
        let frames = (0..40)
            .map(|i| FrameSample {
                t: f64::from(i) * 2.0 + 0.04,
                dhash: 0x0123_4567_89ab_cdef ^ u64::from(i as u32),
                phash: u64::MAX - u64::from(i as u32),
                mean: 100.0 + i as f32 / 3.0,
                std: 12.5,
                motion: if i == 0 { 0.0 } else { 1.0 / i as f32 },
                motion_hash: 1 << (i % 64),
                fg_hash: 3 << (i % 60),
                grid: (0..768).map(|k| ((k * 7 + i * (k % 3)) % 256) as u8).collect(),
            })
            .collect();
        VideoScan {
            sha256: "ab".into(),
            duration: 80.04,
            header_duration: Some(80.0),
            width: 1280,
            height: 720,
            codec: "h264".into(),
            container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            creation_time: Some("2024-07-10T08:30:00Z".into()),
            wall_start: Some(-5),
            keyframes_only: true,
            mode: ScanMode::Keyframes,
            packets: 2000,
            bad_packets: 1,
            damage: Some("decoder: 坏包".into()),
            error: None,
            noise: Noise { temporal: 0.37, temporal_pairs: 39, requant: 0.81, requant_samples: 9 },
            frames,
        }
    }

    #[test]
    fn features_round_trip_bit_for_bit() {
        let s = sample_scan();
        let b = encode(&s);
        assert_eq!(decode(&b), Some(s.clone()));
        // compact: well under the 768-byte raw grid per frame
        assert!(b.len() < 40 * 400, "{} bytes", b.len());
        let empty = VideoScan::default();
        assert_eq!(decode(&encode(&empty)), Some(empty));
    }

    #[test]
    fn damaged_features_are_a_miss_not_a_panic() {
        let b = encode(&sample_scan());
        for cut in [0, 3, 5, 20, b.len() / 2, b.len() - 1] {
            assert_eq!(decode(&b[..cut]), None, "cut at {cut}");
        }
        let mut flipped = b.clone();
        flipped[4] = 9;
        assert_eq!(decode(&flipped), None);
        assert_eq!(decode(b"{\"sha256\":\"ab\"}"), None);
    }

    #[test]
    fn the_old_json_cache_is_dropped_and_the_store_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let store = Store::open(&path).unwrap();
        store.conn.execute("CREATE TABLE video_scan_cache (sha256 TEXT, options TEXT, scan_json TEXT)", []).unwrap();
        let big = "x".repeat(1 << 20);
        for i in 0..4 {
            store
                .conn
                .execute("INSERT INTO video_scan_cache VALUES (?1, 'v1', ?2)", [i.to_string(), big.clone()])
                .unwrap();
        }
        let before = std::fs::metadata(&path).unwrap().len();
        assert!(before > 4 << 20);
        assert_eq!(store.get_video_scan("0", "v1").unwrap(), None);
        let gone: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'video_scan_cache'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(gone, 0);
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after < before / 4, "{before} → {after} bytes");
    }

    #[test]
    fn round_trip_by_hash_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let scan = sample_scan();
        assert_eq!(store.get_scan("ab", "v1"), None);
        store.put_scan("v1", &scan);
        assert_eq!(store.get_scan("ab", "v1"), Some(scan.clone()));
        assert_eq!(store.get_scan("ab", "v2"), None);
        let bad = VideoScan { sha256: "cd".into(), error: Some("x".into()), ..VideoScan::default() };
        store.put_scan("v1", &bad);
        assert_eq!(store.get_scan("cd", "v1"), None);
        assert_eq!(store.video_scan_bytes().unwrap().1, 1);
    }
}
