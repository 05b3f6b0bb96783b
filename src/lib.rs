//! The National Enterprise Registration Database service.
//!
//! - [`domain`]: the law as pure code (codes, names, statuses, addresses, people);
//! - [`store`]: PostgreSQL, the only place that speaks SQL;
//! - [`api`]: the HTTP API;
//! - [`cluster`]: a private PostgreSQL cluster when no `DATABASE_URL` is given;
//! - [`config`]: the command line, each setting a flag and an environment variable;
//! - [`mirror`]: the reference consumer of the change feed (`registry mirror`).

pub mod access_log;
pub mod api;
pub mod cache;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod domain;
pub mod generate;
pub mod import;
pub mod mirror;
pub mod reference_data;
pub mod search;
pub mod store;
