//! Output files written whole or not at all.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `path` through a temporary file beside it (`.NAME.PID.tmp`, on the same file system so
/// that the rename is atomic): `write` gets the new file and hands it back once everything is
/// written; it is then synced to disk and renamed over `path`. A reader never sees `path` half
/// written; when anything fails (or panics) the temporary file is removed and `path` is left as
/// it was.
pub fn write_atomically<T>(path: &Path, write: impl FnOnce(File) -> anyhow::Result<(File, T)>) -> anyhow::Result<T> {
    let temporary = Temporary(temporary_beside(path)?);
    let file = File::create(&temporary.0).with_context(|| format!("creating {}", temporary.0.display()))?;
    let (file, value) = write(file)?;
    file.sync_all().with_context(|| format!("writing {}", temporary.0.display()))?;
    drop(file);
    temporary.rename_to(path)?;
    Ok(value)
}

/// `.NAME.PID.tmp` in the folder of `path` (the current folder when it names none).
fn temporary_beside(path: &Path) -> anyhow::Result<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().with_context(|| format!("{} names no file", path.display()))?;
    Ok(dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id())))
}

/// A temporary file, removed when dropped before it is renamed.
struct Temporary(PathBuf);

impl Temporary {
    fn rename_to(mut self, path: &Path) -> anyhow::Result<()> {
        std::fs::rename(&self.0, path).with_context(|| format!("renaming to {}", path.display()))?;
        // Renamed: nothing is left to remove.
        self.0 = PathBuf::new();
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn the_file_appears_whole_once_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let n = write_atomically(&path, |mut file| {
            file.write_all(b"{}\n")?;
            assert!(!path.exists(), "the file is not there before it is whole");
            Ok((file, 1))
        })
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        assert_eq!(names_in(dir.path()), ["out.ndjson"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        std::fs::write(&path, "old\n").unwrap();
        let failed = write_atomically(&path, |mut file| -> anyhow::Result<(File, ())> {
            file.write_all(b"half")?;
            anyhow::bail!("the source failed")
        });
        assert_eq!(failed.unwrap_err().to_string(), "the source failed");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(names_in(dir.path()), ["out.ndjson"]);
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        assert!(write_atomically(Path::new("/"), |file| Ok((file, ()))).is_err());
    }
}
