//! Sampler throughput against the decode limit: `ffmpeg -skip_frame nokey
//! -i FILE -f null -` on the same 720p H.264 files, in one run. Prints both
//! times and the throughput ratio (target ≥ 0.9 in keyframe mode).
//!
//! Run with `cargo bench --bench video`. Needs the `ffmpeg` CLI and Debian's
//! `opencv-doc` (for the real `vtest.avi` scaled to 1280×720).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kaopei::video::{sample, SampleOptions};

const VTEST: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

fn sh(dir: &Path, cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(cmd).current_dir(dir).status().map(|s| s.success()).unwrap_or(false)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let n_files = 3;
    // 72 s of real surveillance footage at 1280×720, 25 fps, a keyframe every 2 s
    let src = if Path::new(VTEST).exists() {
        format!("-stream_loop 1 -i {VTEST} -t 72")
    } else {
        "-f lavfi -i testsrc2=s=1280x720:r=25 -t 72".to_string()
    };
    assert!(
        sh(root, &format!("ffmpeg -nostdin -v error -y {src} -vf scale=1280:720,fps=25 -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p f0.mp4")),
        "ffmpeg could not build the 720p file"
    );
    let files: Vec<PathBuf> = (0..n_files)
        .map(|i| {
            let p = root.join(format!("f{i}.mp4"));
            if i > 0 {
                std::fs::copy(root.join("f0.mp4"), &p).expect("copy");
            }
            p
        })
        .collect();
    let total_bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();

    let ffmpeg_run = || {
        let t = Instant::now();
        for f in &files {
            assert!(sh(root, &format!("ffmpeg -nostdin -v error -skip_frame nokey -i '{}' -f null -", f.display())));
        }
        t.elapsed().as_secs_f64()
    };
    let opts = SampleOptions { keyframes_only: true, ..SampleOptions::default() };
    let sampler_run = || {
        let t = Instant::now();
        let mut frames = 0;
        for f in &files {
            let s = sample::scan_video(f, &opts);
            assert!(s.error.is_none(), "{:?}", s.error);
            frames += s.frames.len();
        }
        (t.elapsed().as_secs_f64(), frames)
    };
    // warm the page cache and the libraries, then take the best of 3 of each, interleaved
    ffmpeg_run();
    sampler_run();
    let mut best_ff = f64::INFINITY;
    let mut best_s = f64::INFINITY;
    let mut frames = 0;
    for _ in 0..3 {
        best_ff = best_ff.min(ffmpeg_run());
        let (s, n) = sampler_run();
        best_s = best_s.min(s);
        frames = n;
    }
    let full = SampleOptions { every_frame: true, ..SampleOptions::default() };
    let t = Instant::now();
    for f in &files {
        sample::scan_video(f, &full);
    }
    let full_s = t.elapsed().as_secs_f64();
    println!("files: {n_files} × 72 s 1280×720 H.264 (GOP 2 s), {:.1} MB", total_bytes as f64 / 1e6);
    println!("ffmpeg -skip_frame nokey -f null : {best_ff:.3} s");
    println!("sampler, keyframes only          : {best_s:.3} s ({frames} frames sampled and hashed)");
    println!("sampler, every frame decoded     : {full_s:.3} s");
    println!("throughput ratio (ffmpeg time / sampler time), keyframe mode: {:.2}", best_ff / best_s);
}
