//! New index generations: rebuilt from one snapshot of PostgreSQL (`registry reindex`), or built
//! from the documents an import hands over as its batches commit.

use std::path::{Path, PathBuf};

use diesel::PgConnection;
use registry_index::{EnterpriseDoc, SearchIndex};

use crate::indexer::document::document;
use crate::store::{self};
/// How far `registry reindex` got, for its progress bar.
pub trait Progress {
    fn total(&self, n: u64);
    fn advance(&self, n: u64);
}

/// Rebuilds the index from one consistent snapshot of PostgreSQL into a new generation under
/// `root` and swaps it in; a running service switches to it on its next feed check. Returns the
/// feed position of the snapshot and the number of documents.
pub fn rebuild(conn: &mut PgConnection, root: &Path, progress: &dyn Progress) -> anyhow::Result<(i64, u64)> {
    let (dir, builder) = new_generation(root)?;
    let result = (|| -> anyhow::Result<(i64, u64)> {
        let (position, count) =
            store::enterprises::snapshot(conn, 2000, &mut |total| progress.total(total), &mut |batch, former| {
                for record in batch {
                    builder.add(&document(record, former.get(&record.code).cloned().unwrap_or_default()))?;
                }
                progress.advance(batch.len() as u64);
                Ok(())
            })?;
        builder.commit(position as u64)?;
        builder.close()?;
        Ok((position, count))
    })();
    match result {
        Ok(done) => {
            registry_index::swap_in(root, &dir)?;
            Ok(done)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

/// A new, empty generation directory under `root` and a bulk writer on it (removed again when the
/// writer cannot be made).
fn new_generation(root: &Path) -> anyhow::Result<(PathBuf, SearchIndex)> {
    let dir = registry_index::new_generation_dir(root)?;
    match SearchIndex::create_for_rebuild(&dir, registry_index::BULK_WRITER_HEAP_BYTES / 2) {
        Ok(builder) => Ok((dir, builder)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e.into())
        }
    }
}

/// Takes the search documents of what an import loads, batch by batch as they commit, to build
/// the search index while the load runs (instead of reading the register again after it).
pub trait ImportSink: Sync {
    /// The import starts from its file's first line on an empty register whose feed is at
    /// `head`: from now on every enterprise it loads is handed over. Not called otherwise (a
    /// resumed run, a register that holds enterprises): then nothing is handed over.
    fn begin(&self, head: i64);
    /// A batch committed: the documents of the enterprises it loaded, and the feed positions its
    /// events took (first and last).
    fn loaded(&self, docs: Vec<EnterpriseDoc>, positions: Option<(i64, i64)>);
    /// The load ended (every batch handed over, or it stopped): what remains of the index's own
    /// work may run while the register's deferred indexes are built.
    fn load_ended(&self);
}

/// A new index generation built from the documents a bulk import hands over as its batches
/// commit (see [`ImportSink`]), on a thread of its own while the load goes on.
///
/// It stands for the register only when the import began on an empty register and its batches
/// took every feed position after the head it began at, one after the other: then it is committed
/// at the last batch's position and swapped in. Otherwise (a resumed import, a register that held
/// enterprises, another write between two batches) [`StreamBuild::finish`] returns `None`, and the
/// caller rebuilds from PostgreSQL.
pub struct StreamBuild {
    root: PathBuf,
    dir: PathBuf,
    /// To the indexing thread; `None` once closed.
    tx: Option<std::sync::mpsc::SyncSender<Work>>,
    /// The indexing thread.
    worker: Option<std::thread::JoinHandle<Built>>,
    state: std::sync::Mutex<StreamState>,
}

/// What the indexing thread ends with: the feed position and document count of the generation it
/// committed, when the load ended as one that stands for the register.
type Built = anyhow::Result<Option<(i64, u64)>>;

/// What the import hands the indexing thread.
enum Work {
    Docs(Vec<EnterpriseDoc>),
    /// The load ended; every batch's events followed the previous ones up to this position.
    Ended(i64),
}

#[derive(Debug, Default)]
struct StreamState {
    /// The feed position the next batch's events must start after (set by `begin`, taken when
    /// the load ends).
    last: Option<i64>,
    /// A batch's events did not follow the previous ones, or the worker stopped.
    broken: bool,
}

impl StreamBuild {
    /// Starts an empty generation under `root` and its indexing thread.
    pub fn start(root: &Path) -> anyhow::Result<StreamBuild> {
        let (dir, builder) = new_generation(root)?;
        // A few batches in flight: the load waits for the index rather than holding every batch.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Work>(4);
        let worker = std::thread::Builder::new().name("import-index".into()).spawn(move || {
            let mut count = 0u64;
            for work in rx {
                match work {
                    Work::Docs(docs) => {
                        for doc in &docs {
                            builder.add(doc)?;
                        }
                        count += docs.len() as u64;
                    }
                    // The load ended with every batch in the index: committed and merged into
                    // one segment (not yet swapped in) while the register builds its indexes.
                    Work::Ended(position) => {
                        builder.commit(position as u64)?;
                        builder.close()?;
                        return Ok(Some((position, count)));
                    }
                }
            }
            // Closed without the end of a load that stands for the register: nothing to keep.
            Ok(None)
        })?;
        Ok(StreamBuild { root: root.to_path_buf(), dir, tx: Some(tx), worker: Some(worker), state: Default::default() })
    }

    /// Swaps in the generation the indexing thread committed at the import's last feed position
    /// when the load ended (ending it here if the import did not), returning that position and
    /// the number of documents; `None` (the generation removed) when it does not stand for the
    /// register.
    pub fn finish(mut self) -> anyhow::Result<Option<(i64, u64)>> {
        ImportSink::load_ended(&self);
        let built = self.stop_worker();
        let broken = self.state.lock().unwrap_or_else(|e| e.into_inner()).broken;
        match built {
            Some(Ok(Ok(Some((position, count))))) => {
                registry_index::swap_in(&self.root, &self.dir)?;
                self.dir = PathBuf::new(); // swapped in: not removed on drop
                Ok(Some((position, count)))
            }
            Some(Ok(Err(e))) => {
                tracing::warn!(error = %e, "indexing during the import failed; the index is rebuilt after it");
                Ok(None)
            }
            _ => {
                if broken {
                    tracing::info!("other writes came between the import's batches; the index is rebuilt after it");
                }
                Ok(None)
            }
        }
    }
}

impl ImportSink for StreamBuild {
    fn begin(&self, head: i64) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).last = Some(head);
    }

    fn loaded(&self, docs: Vec<EnterpriseDoc>, positions: Option<(i64, i64)>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(last) = state.last else { return };
        if state.broken {
            return;
        }
        if let Some((first, end)) = positions {
            if first != last + 1 {
                state.broken = true;
                return;
            }
            state.last = Some(end);
        }
        drop(state);
        if docs.is_empty() {
            return;
        }
        if self.tx.as_ref().is_none_or(|tx| tx.send(Work::Docs(docs)).is_err()) {
            // The indexing thread stopped (an index error): `finish` reports it.
            self.state.lock().unwrap_or_else(|e| e.into_inner()).broken = true;
        }
    }

    /// Once: the position is taken, so a second call (from `finish`) sends nothing.
    fn load_ended(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(last), false) = (state.last.take(), state.broken) {
            drop(state);
            if self.tx.as_ref().is_none_or(|tx| tx.send(Work::Ended(last)).is_err()) {
                self.state.lock().unwrap_or_else(|e| e.into_inner()).broken = true;
            }
        }
    }
}

impl StreamBuild {
    /// Closes the channel and waits for the indexing thread (once): what it built.
    fn stop_worker(&mut self) -> Option<std::thread::Result<Built>> {
        self.tx = None;
        self.worker.take().map(|w| w.join())
    }
}

impl Drop for StreamBuild {
    fn drop(&mut self) {
        let _ = self.stop_worker();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
