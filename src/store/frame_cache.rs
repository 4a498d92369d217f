//! The frame-hash cache: a [`VideoScan`] per file content (SHA-256) and
//! sampling options, so that a re-run does not decode the same footage
//! again. Kept in its own table, created on first use.

use rusqlite::OptionalExtension;

use super::Store;
use crate::video::{ScanCache, VideoScan};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS video_scan_cache (
    sha256 TEXT NOT NULL,
    options TEXT NOT NULL,
    scan_json TEXT NOT NULL,
    PRIMARY KEY (sha256, options)
)";

impl Store {
    /// The cached scan of the file with this SHA-256 made with these options.
    pub fn get_video_scan(&self, sha256: &str, options: &str) -> rusqlite::Result<Option<VideoScan>> {
        self.conn.execute(SCHEMA, [])?;
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT scan_json FROM video_scan_cache WHERE sha256 = ?1 AND options = ?2",
                [sha256, options],
                |r| r.get(0),
            )
            .optional()?;
        // A cache row that no longer parses (older format) is a miss, not an error.
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Keeps a scan (replacing any older one for the same file and options).
    pub fn put_video_scan(&self, options: &str, scan: &VideoScan) -> rusqlite::Result<()> {
        self.conn.execute(SCHEMA, [])?;
        let json = serde_json::to_string(scan).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        self.conn.execute(
            "INSERT OR REPLACE INTO video_scan_cache (sha256, options, scan_json) VALUES (?1, ?2, ?3)",
            [scan.sha256.as_str(), options, json.as_str()],
        )?;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::FrameSample;

    #[test]
    fn round_trip_by_hash_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let scan = VideoScan {
            sha256: "ab".into(),
            duration: 12.5,
            frames: vec![FrameSample {
                t: 2.0,
                phash: u64::MAX,
                thumb_png: Some(vec![1, 2, 3]),
                ..FrameSample::default()
            }],
            ..VideoScan::default()
        };
        assert_eq!(store.get_scan("ab", "v1"), None);
        store.put_scan("v1", &scan);
        assert_eq!(store.get_scan("ab", "v1"), Some(scan.clone()));
        assert_eq!(store.get_scan("ab", "v2"), None);
        let bad = VideoScan { sha256: "cd".into(), error: Some("x".into()), ..VideoScan::default() };
        store.put_scan("v1", &bad);
        assert_eq!(store.get_scan("cd", "v1"), None);
    }
}
