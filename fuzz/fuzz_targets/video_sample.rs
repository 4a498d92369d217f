//! The CCTV sampler's open / seek / decode path (`video::sample::scan_video`)
//! on arbitrary bytes written to a file: FFmpeg either reads it or the scan
//! carries an `error`, never a panic. The first byte picks the options
//! (keyframes only or seeking, sampling interval), the rest is the file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kaopei::video::{sample, SampleOptions};
use libfuzzer_sys::fuzz_target;

fn file() -> &'static PathBuf {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| std::env::temp_dir().join(format!("kaopei-fuzz-video-{}.mp4", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let path = file();
    std::fs::write(path, body).expect("write");
    let opts = SampleOptions {
        interval: [0.5, 1.0, 2.0, 5.0][usize::from(sel & 3)],
        keyframes_only: sel & 4 != 0,
        every_frame: sel & 8 != 0,
        threads: 1,
        ..SampleOptions::default()
    };
    let scan = sample::scan_video(path, &opts);
    if scan.error.is_none() {
        assert!(scan.duration.is_finite() && scan.duration >= 0.0, "duration {}", scan.duration);
        assert!(scan.frames.windows(2).all(|w| w[0].t <= w[1].t), "frames out of order");
    }
});
