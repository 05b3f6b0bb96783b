//! Derived data that follows the change feed: the search index (a tantivy index of the `index/`
//! crate under the data directory) and the record cache. The index records the feed position of
//! every commit, so after a crash the follower resumes from there; `registry reindex` and
//! `registry import` build a new generation that the running service swaps in.
//!
//! - [`follow`]: the index an instance serves, following the feed, and its warm-up;
//! - [`document`]: a record as a search document;
//! - [`generation`]: new generations, rebuilt from PostgreSQL or streamed from an import;
//! - [`cache`]: current records for look-ups, kept correct by the feed.

pub mod cache;
pub mod document;
pub mod follow;
pub mod generation;

pub use document::document;
pub use follow::{warm_in_background, IndexStatus, Search, BATCH};
pub use generation::{rebuild, ImportSink, Progress, StreamBuild};
