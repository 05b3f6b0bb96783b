//! The directory a serving index is opened in: tantivy's [`MmapDirectory`], except that document
//! stores (`.store` files) are read with positioned reads (`pread`) instead of a memory map.
//!
//! The document store holds every enterprise's serialised record (see
//! [`crate::SearchIndex::record`]): at 2 million enterprises it is about a gigabyte, and look-ups
//! by code touch all of it. Mapped, every page read would count as the service's resident memory;
//! read, it lives in the kernel's page cache, shared and evictable, as PostgreSQL's table does. A
//! read costs one system call per 4 KiB block, against the decompression of that block which a
//! mapped read pays as well.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::HasLen;

#[derive(Clone, Debug)]
pub(crate) struct PreadStores {
    inner: MmapDirectory,
    root: PathBuf,
}

impl PreadStores {
    pub(crate) fn open(root: &Path) -> Result<PreadStores, tantivy::directory::error::OpenDirectoryError> {
        Ok(PreadStores { inner: MmapDirectory::open(root)?, root: root.to_path_buf() })
    }
}

impl PreadStores {
    /// Reads every document store of the directory once, front to back, so that the kernel holds
    /// them in its page cache (as `pg_prewarm` does for a table); the bytes read. A sequential
    /// read is read ahead in large requests; `POSIX_FADV_WILLNEED` would be the obvious call, but
    /// Linux reads no more than its read-ahead window for it.
    pub(crate) fn prefetch(&self) -> std::io::Result<u64> {
        use std::io::Read;
        let mut total = 0;
        let mut buf = vec![0u8; 1 << 20];
        for entry in std::fs::read_dir(&self.root)? {
            let path = entry?.path();
            if !is_store(&path) {
                continue;
            }
            // A store a merge removed meanwhile is simply skipped.
            let Ok(mut file) = File::open(&path) else { continue };
            let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::Sequential);
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => total += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(total)
    }
}

/// An open file read with `pread`.
#[derive(Debug)]
struct PreadFile {
    file: File,
    len: usize,
}

impl HasLen for PreadFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for PreadFile {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        if range.start > range.end || range.end > self.len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("read of {range:?} past the end of a {}-byte file", self.len),
            ));
        }
        let mut buf = vec![0u8; range.len()];
        self.file.read_exact_at(&mut buf, range.start as u64)?;
        Ok(OwnedBytes::new(buf))
    }
}

fn is_store(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "store")
}

impl Directory for PreadStores {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if !is_store(path) {
            return self.inner.get_file_handle(path);
        }
        let full = self.root.join(path);
        let file = File::open(&full).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => OpenReadError::FileDoesNotExist(path.to_path_buf()),
            _ => OpenReadError::wrap_io_error(e, path.to_path_buf()),
        })?;
        let len = file.metadata().map_err(|e| OpenReadError::wrap_io_error(e, path.to_path_buf()))?.len() as usize;
        // Reads land anywhere in the store: without this, the kernel reads ahead 128 KiB or more
        // around each 4 KiB block a look-up wants, from disk when the block is not cached, and
        // fills the page cache with neighbours nobody asked for. Advice only: were it refused,
        // reads would still be right, only slower.
        let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::Random);
        Ok(Arc::new(PreadFile { file, len }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.inner.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tantivy::directory::TerminatingWrite;

    #[test]
    fn store_files_are_read_with_positioned_reads_and_others_mapped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = PreadStores::open(tmp.path()).unwrap();
        for name in ["a.store", "a.idx"] {
            let mut w = dir.open_write(Path::new(name)).unwrap();
            w.write_all(b"0123456789").unwrap();
            w.terminate().unwrap();
        }
        let store = dir.get_file_handle(Path::new("a.store")).unwrap();
        assert_eq!(store.len(), 10);
        assert_eq!(store.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert_eq!(store.read_bytes(10..10).unwrap().as_slice(), b"");
        assert!(store.read_bytes(8..11).is_err(), "a read past the end fails instead of panicking");
        assert!(format!("{store:?}").contains("PreadFile"));
        let other = dir.get_file_handle(Path::new("a.idx")).unwrap();
        assert_eq!(other.read_bytes(0..3).unwrap().as_slice(), b"012");
        assert!(matches!(dir.get_file_handle(Path::new("b.store")), Err(OpenReadError::FileDoesNotExist(_))));
        // Only the stores are prefetched.
        assert_eq!(dir.prefetch().unwrap(), 10);
    }
}
