//! The National Enterprise Registration Database service. Each part is a folder:
//!
//! - [`domain`]: the law as pure code (codes, names, statuses, addresses, people), a crate of its own;
//! - [`store`]: PostgreSQL, the only place that speaks SQL; returns domain values and typed outcomes;
//! - [`api`]: the HTTP API, turning domain values and store outcomes into answers;
//! - [`indexer`]: follows the change feed into the search index and the record cache, builds index generations;
//! - [`cli`]: the command line, one module per command, with the private cluster, the demo, the mirror and the import.

pub use registry_domain as domain;

pub mod api;
pub mod cli;
pub mod indexer;
pub mod store;
