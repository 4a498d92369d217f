//! Printing HTML reports to PDF with headless Chromium (Debian package
//! `chromium`). The browser is run with a throw-away profile folder, no
//! network services, and a time limit; its absence is a clear error.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How long one page may take to print before the browser is stopped.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium binary: `$KAOPEI_CHROMIUM`, else the first of `chromium`,
/// `chromium-browser`, `google-chrome` found in `/usr/bin` or on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KAOPEI_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let mut dirs: Vec<PathBuf> = vec![PathBuf::from("/usr/bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.iter().flat_map(|d| names.iter().map(move |n| d.join(n))).find(|p| p.is_file())
}

/// The flags every headless run uses (sandbox off: it cannot start inside
/// most containers; no background network, updates or sync).
pub fn headless_args(user_data_dir: &Path) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--user-data-dir={}", user_data_dir.display()),
    ]
}

/// A fresh, empty profile folder under the system temp dir.
pub fn temp_profile() -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("kaopei-chromium-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    Ok(dir)
}

/// Prints `html` to `pdf` (A4, as the page's print stylesheet lays it out).
pub fn print_to_pdf(html: &Path, pdf: &Path) -> Result<()> {
    let Some(chromium) = find_chromium() else {
        bail!(
            "cannot print to PDF: Chromium was not found (install the Debian package `chromium`, or set KAOPEI_CHROMIUM to the browser binary); the HTML report is at `{}`",
            html.display()
        );
    };
    let html = std::fs::canonicalize(html).with_context(|| format!("cannot find `{}`", html.display()))?;
    let profile = temp_profile()?;
    // Printed beside the target and renamed when complete (crate::output).
    let tmp = crate::output::temp_path(pdf);
    let _ = std::fs::remove_file(&tmp);
    let mut cmd = Command::new(&chromium);
    cmd.args(headless_args(&profile))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", tmp.display()))
        .arg(file_url(&html))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = run_with_timeout(cmd, TIMEOUT);
    let _ = std::fs::remove_dir_all(&profile);
    let (ok, stderr) = out.with_context(|| format!("cannot run `{}`", chromium.display()))?;
    if !ok || !tmp.is_file() {
        let _ = std::fs::remove_file(&tmp);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        bail!(
            "chromium did not print `{}` to PDF: {}",
            html.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        );
    }
    std::fs::rename(&tmp, pdf).with_context(|| format!("cannot write `{}`", pdf.display()))
}

/// A `file://` URL for an absolute path (spaces and other unsafe bytes
/// percent-encoded).
pub fn file_url(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// Runs a command, stopping it after `limit`; returns (success, stderr).
pub fn run_with_timeout(mut cmd: Command, limit: Duration) -> std::io::Result<(bool, String)> {
    let mut child = cmd.spawn()?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut buf = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(e, &mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = reader.join().unwrap_or_default();
    match status {
        Some(st) => Ok((st.success(), err)),
        None => Ok((false, format!("{err}\ntimed out after {}s", limit.as_secs()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_encoded() {
        assert_eq!(file_url(Path::new("/tmp/a b/报告.html")), "file:///tmp/a%20b/%E6%8A%A5%E5%91%8A.html");
    }

    #[test]
    fn timeouts_stop_the_child() {
        let mut cmd = Command::new("sleep");
        cmd.arg("5").stderr(Stdio::piped());
        let t = Instant::now();
        let (ok, err) = run_with_timeout(cmd, Duration::from_millis(200)).unwrap();
        assert!(!ok && err.contains("timed out"));
        assert!(t.elapsed() < Duration::from_secs(4));
    }
}
