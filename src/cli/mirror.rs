//! `registry mirror`: the reference consumer of the change feed, as the tax agency would write it.
//!
//! It talks to the register over HTTP with a key, like any consumer, and keeps a copy in another
//! PostgreSQL database (`store::mirror`): when the copy has no cursor yet it loads `GET
//! /v1/export` (the records and the snapshot's cursor in one target transaction), then follows
//! `GET /v1/changes` with long polls, applying each page and storing its `next` cursor in the same
//! target transaction. Killed at any point, it resumes from the last committed cursor: a page is
//! applied whole or not at all, and applying a version the copy already has changes nothing.

use std::io::BufRead;
use std::time::Duration;

use anyhow::Context;
use diesel::{Connection, PgConnection};
use serde::Deserialize;

use crate::api::feed::format::ExportHeader;
use crate::cli::config::MirrorArgs;
use crate::store::{self, mirror::MirrorRecord};

#[derive(Debug, Deserialize)]
struct Page {
    events: Vec<Event>,
    next: String,
}

#[derive(Debug, Deserialize)]
struct Event {
    code: String,
    version: i32,
    record: serde_json::Value,
}

/// A failure worth retrying (the register is unreachable or busy) or not (a refusal: a bad key,
/// a cursor the register does not know).
enum Failure {
    Transient(anyhow::Error),
    Fatal(anyhow::Error),
}

macro_rules! transient {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure::Transient(e.into())
            }
        }
    )*};
}
transient!(anyhow::Error, reqwest::Error, diesel::result::Error, url::ParseError);

fn check(res: reqwest::blocking::Response) -> Result<reqwest::blocking::Response, Failure> {
    let status = res.status();
    if status.is_success() {
        return Ok(res);
    }
    let body = res.text().unwrap_or_default();
    let e = anyhow::anyhow!("the register answered {status}: {body}");
    if status.is_client_error() && status.as_u16() != 429 {
        Err(Failure::Fatal(e))
    } else {
        Err(Failure::Transient(e))
    }
}

struct Mirror<'a> {
    args: &'a MirrorArgs,
    base: String,
    target: PgConnection,
    feed: reqwest::blocking::Client,
    export: reqwest::blocking::Client,
}

/// Runs the mirror until `--once` has caught up, or forever.
pub fn run(args: &MirrorArgs) -> anyhow::Result<()> {
    store::ensure_database(&args.target_url)?;
    let mut target = PgConnection::establish(&args.target_url).context("connecting to the target database")?;
    store::mirror::prepare(&mut target).context("creating the copy's tables")?;
    let mut mirror = Mirror {
        args,
        base: args.url.trim_end_matches('/').to_string(),
        target,
        feed: reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(args.wait + 30))
            .build()?,
        // An export takes as long as the register is large.
        export: reqwest::blocking::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(None).build()?,
    };
    let mut backoff = Duration::from_millis(250);
    loop {
        match mirror.step() {
            Ok(true) => return Ok(()),
            Ok(false) => backoff = Duration::from_millis(250),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Transient(e)) => {
                tracing::warn!(error = %format!("{e:#}"), retry_in_ms = backoff.as_millis() as u64, "mirror step failed");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

impl Mirror<'_> {
    /// One export or one page; `true` when `--once` has caught up.
    fn step(&mut self) -> Result<bool, Failure> {
        let Some(cursor) = store::mirror::cursor(&mut self.target)? else {
            self.load_export()?;
            return Ok(false);
        };
        let wait = if self.args.once { 0 } else { self.args.wait };
        let url = url::Url::parse_with_params(
            &format!("{}/v1/changes", self.base),
            &[("after", cursor.as_str()), ("limit", &self.args.page.to_string()), ("wait", &wait.to_string())],
        )?;
        let page: Page = check(self.feed.get(url).bearer_auth(&self.args.key).send()?)?.json()?;
        if page.events.is_empty() {
            return Ok(self.args.once);
        }
        let n = page.events.len();
        let last = page.events.last().map(|e| (e.code.clone(), e.version));
        let events = page
            .events
            .into_iter()
            .map(|e| MirrorRecord { code: e.code, version: e.version, record: e.record })
            .collect();
        store::mirror::apply(&mut self.target, events, &page.next)?;
        tracing::info!(events = n, last = ?last, "applied a page of the feed");
        Ok(false)
    }

    /// Replaces the copy by the register's export, with its cursor.
    fn load_export(&mut self) -> Result<(), Failure> {
        let res = check(self.export.get(format!("{}/v1/export", self.base)).bearer_auth(&self.args.key).send()?)?;
        let mut reader = std::io::BufReader::with_capacity(256 * 1024, res);
        let header: ExportHeader = serde_json::from_str(&read_line(&mut reader)?.context("the export is empty")?)
            .context("the export's first line is its cursor")?;
        let records = std::iter::from_fn(|| match read_line(&mut reader) {
            Ok(None) => None,
            Ok(Some(line)) => Some(parse_record(&line)),
            Err(e) => Some(Err(e)),
        });
        let n = store::mirror::load_snapshot::<anyhow::Error>(&mut self.target, &header.cursor, records)?;
        tracing::info!(records = n, "loaded the export");
        Ok(())
    }
}

/// One whole line; an unterminated last line means the body was cut short.
fn read_line(reader: &mut impl BufRead) -> anyhow::Result<Option<String>> {
    let mut line = String::new();
    if reader.read_line(&mut line).context("reading the export")? == 0 {
        return Ok(None);
    }
    anyhow::ensure!(line.ends_with('\n'), "the export was cut short");
    line.pop();
    Ok(Some(line))
}

fn parse_record(line: &str) -> anyhow::Result<MirrorRecord> {
    let record: serde_json::Value = serde_json::from_str(line).context("an export line is not JSON")?;
    let code = record["code"].as_str().context("an exported record has no code")?.to_string();
    let version = record["version"].as_i64().and_then(|v| i32::try_from(v).ok()).context("no version")?;
    Ok(MirrorRecord { code, version, record })
}
