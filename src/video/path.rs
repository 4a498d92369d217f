//! Resolving a `cctv.file` value against the dataset folder safely: the path
//! must name a regular file or a folder *inside* the dataset (no absolute
//! paths, no `..`, no symlink leading out, no device, FIFO or socket). A bad
//! path is a reason string that becomes a `cctv.unreadable` finding.

use std::path::{Component, Path, PathBuf};

/// What a `cctv.file` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File(PathBuf),
    Folder(PathBuf),
}

/// Resolves `rel` under `root`, refusing anything outside it.
pub fn resolve(root: &Path, rel: &str) -> Result<Target, String> {
    let rel = rel.trim();
    if rel.is_empty() {
        return Err("empty file path".into());
    }
    let p = Path::new(rel);
    for c in p.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(format!("path `{rel}` contains `..`; refused (outside the dataset)")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("path `{rel}` is absolute; refused (must be inside the dataset folder)"))
            }
        }
    }
    let root_c = root.canonicalize().map_err(|e| format!("dataset folder `{}`: {e}", root.display()))?;
    let joined = root_c.join(p);
    let real = match joined.canonicalize() {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(format!("file `{rel}` does not exist")),
        Err(e) => return Err(format!("file `{rel}`: {e}")),
    };
    if !real.starts_with(&root_c) {
        return Err(format!("path `{rel}` leads outside the dataset folder (to `{}`); refused", real.display()));
    }
    let meta = std::fs::metadata(&real).map_err(|e| format!("file `{rel}`: {e}"))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        Ok(Target::Folder(real))
    } else if ft.is_file() {
        Ok(Target::File(real))
    } else {
        Err(format!("`{rel}` is not a regular file or folder (device, FIFO or socket); refused"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_out_of_the_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.mp4"), b"x").unwrap();
        std::fs::create_dir(root.join("frames")).unwrap();
        assert!(matches!(resolve(root, "a.mp4"), Ok(Target::File(_))));
        assert!(matches!(resolve(root, "./frames"), Ok(Target::Folder(_))));
        assert!(resolve(root, "../../etc/passwd").unwrap_err().contains(".."));
        assert!(resolve(root, "/etc/passwd").unwrap_err().contains("absolute"));
        assert!(resolve(root, "nope.mp4").unwrap_err().contains("does not exist"));
        assert!(resolve(root, "").is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", root.join("link.mp4")).unwrap();
            assert!(resolve(root, "link.mp4").unwrap_err().contains("outside"));
            std::os::unix::fs::symlink("/dev/null", root.join("null.mp4")).unwrap();
            assert!(resolve(root, "null.mp4").is_err());
            std::os::unix::fs::symlink(root.join("a.mp4"), root.join("inside.mp4")).unwrap();
            assert!(matches!(resolve(root, "inside.mp4"), Ok(Target::File(_))));
        }
    }
}
