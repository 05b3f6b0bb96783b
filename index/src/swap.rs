//! Generations of the index under one root directory, and the atomic swap between them.
//!
//! Layout:
//!
//! ```text
//! root/
//!   CURRENT            one line: the name of the serving generation, e.g. "gen-00000000000000000002"
//!   gen-00000000000000000001/   an index (tantivy files)
//!   gen-00000000000000000002/   another index
//! ```
//!
//! A rebuild creates a new generation with [`new_generation_dir`], fills it through
//! [`SearchIndex::create_for_rebuild`] (bulk writer, one commit at the end carrying the feed
//! position), drops that builder, and calls [`swap_in`], which writes `CURRENT.tmp`, fsyncs it and
//! renames it over `CURRENT` (atomic on POSIX file systems), then fsyncs the root. A crash leaves
//! either the old or the new pointer. The process then opens the new generation with
//! [`open_current`] (or [`SearchIndex::open_or_create`] on the returned path) and swaps its
//! `Arc<SearchIndex>`; requests holding the old `Arc` keep reading the old generation until they
//! drop it. Old generations are deleted by the caller with [`remove_generation`] once no handle
//! uses them (the writer lock inside a generation is released when its `SearchIndex` is dropped).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{IndexError, SearchIndex};

/// Name of the pointer file inside the root directory.
pub const CURRENT_FILE: &str = "CURRENT";
const PREFIX: &str = "gen-";

fn generation_number(name: &str) -> Option<u64> {
    name.strip_prefix(PREFIX)?.parse().ok()
}

/// Create (empty) the next generation directory under `root` and return its path.
pub fn new_generation_dir(root: &Path) -> Result<PathBuf, IndexError> {
    fs::create_dir_all(root)?;
    let mut max = 0;
    for e in fs::read_dir(root)? {
        if let Some(n) = e?.file_name().to_str().and_then(generation_number) {
            max = max.max(n);
        }
    }
    let dir = root.join(format!("{PREFIX}{:020}", max + 1));
    fs::create_dir(&dir)?;
    Ok(dir)
}

/// The serving generation named by `root/CURRENT`, if any.
pub fn current_dir(root: &Path) -> Result<Option<PathBuf>, IndexError> {
    match fs::read_to_string(root.join(CURRENT_FILE)) {
        Ok(s) => {
            let name = s.trim();
            if generation_number(name).is_none() {
                return Err(IndexError::Swap(format!("{CURRENT_FILE} names no generation: {name:?}")));
            }
            Ok(Some(root.join(name)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Point `root/CURRENT` at `new_dir` atomically. `new_dir` must be a generation directory directly
/// under `root` holding a committed index.
pub fn swap_in(root: &Path, new_dir: &Path) -> Result<(), IndexError> {
    let name = new_dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| generation_number(n).is_some())
        .ok_or_else(|| IndexError::Swap(format!("{} is not a generation directory", new_dir.display())))?;
    let parent = new_dir.parent().map(Path::to_path_buf).unwrap_or_default();
    if fs::canonicalize(&parent)? != fs::canonicalize(root)? {
        return Err(IndexError::Swap(format!("{} is not under {}", new_dir.display(), root.display())));
    }
    if !new_dir.join("meta.json").exists() {
        return Err(IndexError::Swap(format!("{} holds no committed index", new_dir.display())));
    }
    let tmp = root.join(format!("{CURRENT_FILE}.tmp"));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(name.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    fs::rename(&tmp, root.join(CURRENT_FILE))?;
    fs::File::open(root)?.sync_all()?;
    Ok(())
}

/// Open the serving generation of `root`; on a fresh root, create a first (empty) generation and
/// point `CURRENT` at it.
pub fn open_current(root: &Path) -> Result<SearchIndex, IndexError> {
    match current_dir(root)? {
        Some(dir) => SearchIndex::open_or_create(&dir),
        None => {
            let dir = new_generation_dir(root)?;
            let idx = SearchIndex::open_or_create(&dir)?;
            swap_in(root, &dir)?;
            Ok(idx)
        }
    }
}

/// Delete a generation that is not the current one. Call it only after every `SearchIndex` on it
/// has been dropped.
pub fn remove_generation(root: &Path, dir: &Path) -> Result<(), IndexError> {
    if let Some(cur) = current_dir(root)? {
        if fs::canonicalize(&cur).ok() == fs::canonicalize(dir).ok() {
            return Err(IndexError::Swap("refusing to remove the current generation".into()));
        }
    }
    let ok = dir.file_name().and_then(|n| n.to_str()).and_then(generation_number).is_some();
    if !ok {
        return Err(IndexError::Swap(format!("{} is not a generation directory", dir.display())));
    }
    if being_written(dir) {
        return Err(IndexError::Swap(format!("{} is being written (a rebuild or an import)", dir.display())));
    }
    fs::remove_dir_all(dir)?;
    Ok(())
}

/// Whether a writer (of this process or another: a `registry reindex` or `registry import`
/// building the generation) holds the generation's writer lock: tantivy holds an exclusive `flock`
/// on `.tantivy-writer.lock` for as long as its writer lives.
pub fn being_written(dir: &Path) -> bool {
    let Ok(file) = fs::File::open(dir.join(".tantivy-writer.lock")) else { return false };
    matches!(file.try_lock(), Err(fs::TryLockError::WouldBlock))
}
