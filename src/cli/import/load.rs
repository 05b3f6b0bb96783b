//! `registry import FILE`: loads NDJSON of full records (the lines of `GET /v1/export`, or of
//! `registry generate`) into the register.
//!
//! - Every line is checked by the domain's rules for imported records
//!   ([`crate::domain::imported::validate_imported`]): historical codes are kept (check digit
//!   verified), legacy head offices and VSIC 2018 lines are accepted where the law keeps them; the
//!   fields the register derives (unit and line names, editions, shares, counters, `updated_at`)
//!   are derived when absent and checked when present, in the parsing path (no database query).
//! - Consecutive lines with the same code are the versions of one enterprise, oldest first, each a
//!   full record; the last is the current one. A file without history (an export) has one line
//!   per enterprise.
//! - Lines are read and checked on every core while the previous batch is written; batches of
//!   whole enterprises are written through `COPY`, each batch one transaction with its feed events
//!   and the run's progress (`import_runs`): an interrupted import (even `kill -9`) resumes after
//!   its last committed batch, nothing is loaded twice, nothing half-written.
//! - A refused line (not UTF-8, not JSON, cut short, an unknown type or ward, a wrong check digit,
//!   a code already in the register or earlier in the file, …) is reported with its line number and
//!   reason; the other lines load. With `max_errors` the import stops cleanly once that many
//!   lines were refused (after the rest of that enterprise's versions).
//! - A first line `{"cursor": ...}` (an export's) is skipped, as are empty lines.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::domain::imported::{self, ImportedRecord, REGISTRATION_FIELDS};
use crate::domain::legal_date;
use crate::domain::record::Enterprise;
use crate::domain::reference::Reference;
use crate::indexer::ImportSink;
use crate::store::import::{self as store, EnterpriseRows, Item, Position, Refusal, VersionRow};
use registry_index::EnterpriseDoc;

/// Lines read and checked together (on every core).
const CHUNK_LINES: usize = 1024;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub file: PathBuf,
    /// Stop once this many lines were refused.
    pub max_errors: Option<u64>,
    /// Enterprises (with all their versions) per transaction.
    pub batch: usize,
}

/// Where an import is, for a progress bar.
pub trait Progress: Sync {
    /// The file's size in bytes and where this run starts in it.
    fn start(&self, size: u64, offset: u64);
    /// A batch was committed: the run is at `offset`, this run loaded `enterprises` and refused
    /// `refused` lines so far.
    fn committed(&self, offset: u64, enterprises: u64, refused: u64);
    /// A line was refused (reported at once).
    fn refused(&self, refusal: &Refusal);
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    pub run_id: i64,
    /// The line an interrupted run resumed at.
    pub resumed_at_line: Option<i64>,
    /// The file had been imported whole before: nothing was done.
    pub already_done: bool,
    /// Loaded by this run.
    pub enterprises: u64,
    pub versions: u64,
    /// Loaded by every run of this file.
    pub total_enterprises: u64,
    pub total_versions: u64,
    /// Refused by this run.
    pub refused_now: u64,
    /// Every line refused by any run of this file, in line order.
    pub refusals: Vec<Refusal>,
    /// Stopped by `max_errors` before the end of the file.
    pub stopped: bool,
    /// Secondary indexes and foreign keys built after the load (deferred because the register
    /// was empty).
    pub built_after_load: store::Deferred,
    pub elapsed: Duration,
}

/// A line as read from the file.
struct RawLine {
    number: i64,
    /// The offset just after the line.
    end: u64,
    bytes: Vec<u8>,
    /// Ended by a newline (the last line of a file may not be).
    complete: bool,
}

/// A checked line.
struct Line {
    number: i64,
    end: u64,
    outcome: Outcome,
}

enum Outcome {
    /// Empty, or an export's first line.
    Skip,
    Refused {
        code: Option<String>,
        reason: String,
    },
    Valid(Box<Valid>),
}

struct Valid {
    /// Dropped once the next line's change is known (only the chunk's last is kept longer).
    record: Option<Enterprise>,
    code: String,
    version: i32,
    effective_first: chrono::NaiveDate,
    updated_at: DateTime<Utc>,
    /// The change from the line before, when it is a valid version of the same enterprise.
    change: Option<(&'static str, Vec<String>)>,
    /// The record's JSON, escaped for `COPY`.
    json: String,
    /// Its search document (without former names), when an [`ImportSink`] takes them.
    doc: Option<Box<EnterpriseDoc>>,
    current: String,
    units: String,
}

/// Recognises a file on a rerun: SHA-256 over its size and its first and last MiB.
fn file_key(file: &mut File, size: u64) -> std::io::Result<String> {
    const PART: u64 = 1 << 20;
    let mut h = Sha256::new();
    h.update(size.to_le_bytes());
    let mut buf = vec![0u8; PART as usize];
    file.seek(SeekFrom::Start(0))?;
    let n = read_up_to(file, &mut buf)?;
    h.update(&buf[..n]);
    if size > PART {
        file.seek(SeekFrom::Start(size - PART.min(size)))?;
        let n = read_up_to(file, &mut buf)?;
        h.update(&buf[..n]);
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(hex::encode(h.finalize()))
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The file being imported, as its runs know it.
struct Source {
    file: File,
    size: u64,
    /// Recognises the file on a rerun ([`file_key`]).
    key: String,
    /// Its canonical path, recorded with the run.
    shown: String,
}

impl Source {
    fn open(path: &Path) -> anyhow::Result<Source> {
        let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let size = file.metadata()?.len();
        let key = file_key(&mut file, size).with_context(|| format!("reading {}", path.display()))?;
        let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).to_string_lossy().into_owned();
        Ok(Source { file, size, key, shown })
    }
}

/// Imports `options.file` on `conn` (which must stay on one session: it holds the run's lock).
pub fn run(
    conn: &mut PgConnection,
    reference: &Reference,
    options: &Options,
    progress: &dyn Progress,
    indexer: Option<&dyn ImportSink>,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut source = Source::open(&options.file)?;
    let run = store::start_run(conn, &source.key, &source.shown, source.size as i64)?;
    let mut summary = Summary { run_id: run.id, ..Summary::default() };
    // One process per file at a time: a second one would race the first for the same lines.
    anyhow::ensure!(
        store::try_lock_run(conn, run.id)?,
        "{} is being imported by another process (run {})",
        options.file.display(),
        run.id
    );
    let result = (|| {
        let loaded = if run.finished_at.is_some() {
            summary.already_done = true;
            Ok(())
        } else {
            let indexer = prepare_load(conn, &run, indexer, &mut summary)?;
            let loaded = load(conn, reference, options, progress, indexer, &mut source, &run, &mut summary);
            if let Some(indexer) = indexer {
                indexer.load_ended();
            }
            loaded
        };
        // Whatever happened above, and whichever run deferred them: the register must not stay
        // without its indexes.
        summary.built_after_load = store::restore_deferred(conn)?;
        loaded?;
        count_every_run(conn, &source, &run, &mut summary)
    })();
    store::unlock_run(conn, run.id)?;
    result?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Before the lines are loaded: on an empty register the secondary indexes and foreign keys are
/// deferred to after the load. Returns the indexer that takes the loaded enterprises: `indexer`
/// when this run loads an empty register from the file's first line, else none.
fn prepare_load<'a>(
    conn: &mut PgConnection,
    run: &store::Run,
    indexer: Option<&'a dyn ImportSink>,
    summary: &mut Summary,
) -> anyhow::Result<Option<&'a dyn ImportSink>> {
    if run.next_line > 1 {
        summary.resumed_at_line = Some(run.next_line);
        tracing::info!(run = run.id, line = run.next_line, "resuming an interrupted import");
    }
    // The head first: a write committed after it is either seen below (the register is not
    // empty) or takes a later position than the import's first batch expects.
    let head = crate::store::feed::head(conn)?;
    let deferred = store::defer_for_load(conn, run.id)?;
    if let Some(d) = deferred.filter(|d| *d != store::Deferred::default()) {
        tracing::info!(
            indexes = d.indexes,
            keys = d.keys,
            "empty register: secondary indexes and foreign keys are built after the load"
        );
    }
    let indexer = indexer.filter(|_| run.next_line == 1 && deferred.is_some());
    if let Some(indexer) = indexer {
        indexer.begin(head);
    }
    Ok(indexer)
}

/// After a load: statistics refreshed when anything changed, and what every run of the file
/// loaded and refused.
fn count_every_run(
    conn: &mut PgConnection,
    source: &Source,
    run: &store::Run,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    if summary.enterprises > 0 || summary.built_after_load.indexes > 0 {
        store::analyze(conn)?;
    }
    let run_now = store::start_run(conn, &source.key, &source.shown, source.size as i64)?;
    summary.total_enterprises = run_now.enterprises as u64;
    summary.total_versions = run_now.versions as u64;
    summary.refusals = store::refusals(conn, run.id)?;
    Ok(())
}

/// Loads the lines after where `run` stands: read and checked on a thread of their own, written
/// in batches by a [`Writer`].
#[allow(clippy::too_many_arguments)]
fn load(
    conn: &mut PgConnection,
    reference: &Reference,
    options: &Options,
    progress: &dyn Progress,
    indexer: Option<&dyn ImportSink>,
    source: &mut Source,
    run: &store::Run,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let file = &mut source.file;
    file.seek(SeekFrom::Start(run.next_offset as u64))?;
    progress.start(source.size, run.next_offset as u64);
    let now = Utc::now();
    let reason = format!(
        "imported from {}",
        options.file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
    );
    let reader = BufReader::with_capacity(1 << 20, file.try_clone()?);
    // Room for more than a batch of checked lines: while one batch commits, the next is checked.
    let chunks = (options.batch.div_ceil(CHUNK_LINES) + 1).clamp(2, 16);
    let (tx, rx) = sync_channel::<anyhow::Result<Vec<Line>>>(chunks);
    std::thread::scope(|scope| {
        let docs = indexer.is_some();
        scope.spawn(move || read_and_check(reader, run.next_line, run.next_offset as u64, reference, now, docs, tx));
        let mut writer = Writer {
            conn,
            run_id: run.id,
            options,
            progress,
            reason: &reason,
            pending: Vec::new(),
            pending_codes: HashMap::new(),
            pending_versions: 0,
            indexer,
            pending_docs: HashMap::new(),
            open: None,
            summary,
            stop_after_group: false,
        };
        writer.consume(rx)
    })
}

/// The reader's thread: reads chunks of lines, checks them on every core, sends them in order.
fn read_and_check(
    mut reader: BufReader<File>,
    first_line: i64,
    offset: u64,
    reference: &Reference,
    now: DateTime<Utc>,
    docs: bool,
    tx: SyncSender<anyhow::Result<Vec<Line>>>,
) {
    let mut number = first_line;
    let mut offset = offset;
    let mut last_valid: Option<(i64, Enterprise)> = None;
    loop {
        let mut raw = Vec::with_capacity(CHUNK_LINES);
        while raw.len() < CHUNK_LINES {
            let mut bytes = Vec::with_capacity(4096);
            match reader.read_until(b'\n', &mut bytes) {
                Ok(0) => break,
                Ok(n) => {
                    offset += n as u64;
                    let complete = bytes.last() == Some(&b'\n');
                    if complete {
                        bytes.pop();
                        if bytes.last() == Some(&b'\r') {
                            bytes.pop();
                        }
                    }
                    raw.push(RawLine { number, end: offset, bytes, complete });
                    number += 1;
                }
                Err(e) => {
                    let _ = tx.send(Err(anyhow::Error::new(e).context("reading the file")));
                    return;
                }
            }
        }
        if raw.is_empty() {
            return;
        }
        let mut lines: Vec<Line> = raw
            .par_iter()
            .map(|r| Line { number: r.number, end: r.end, outcome: check_line(r, reference, now, docs) })
            .collect();
        link_versions(&mut lines, &mut last_valid);
        if tx.send(Ok(lines)).is_err() {
            return; // the writer stopped
        }
    }
}

/// For each valid line that follows a valid line of the same code: what changed from it (the
/// feed event's kind and changed fields). `last` carries the previous chunk's last valid line.
fn link_versions(lines: &mut [Line], last: &mut Option<(i64, Enterprise)>) {
    // Pairs (previous line, line) of the same enterprise; the previous one is the line before,
    // skipped lines aside.
    let mut pairs: Vec<(usize, Option<usize>)> = Vec::new();
    let mut previous: Option<usize> = None;
    let mut previous_code: Option<String> = last.as_ref().map(|(_, r)| r.code.clone());
    for (i, line) in lines.iter().enumerate() {
        match &line.outcome {
            Outcome::Skip => continue,
            Outcome::Valid(v) => {
                if previous_code.as_deref() == Some(v.code.as_str()) {
                    pairs.push((i, previous));
                }
                previous_code = Some(v.code.clone());
            }
            Outcome::Refused { .. } => previous_code = None,
        }
        previous = Some(i);
    }
    let changes: Vec<(usize, (&'static str, Vec<String>))> = pairs
        .par_iter()
        .filter_map(|&(i, prev)| {
            let before = match prev {
                Some(p) => match &lines[p].outcome {
                    Outcome::Valid(v) => v.record.as_ref()?,
                    _ => return None,
                },
                None => &last.as_ref()?.1,
            };
            let Outcome::Valid(v) = &lines[i].outcome else { return None };
            Some((i, imported::version_change(before, v.record.as_ref()?)))
        })
        .collect();
    for (i, change) in changes {
        if let Outcome::Valid(v) = &mut lines[i].outcome {
            v.change = Some(change);
        }
    }
    // Keep only the last valid record, for the next chunk's first line.
    let mut kept = false;
    for line in lines.iter_mut().rev() {
        match &mut line.outcome {
            Outcome::Valid(v) if !kept => {
                *last = v.record.take().map(|r| (line.number, r));
                kept = true;
            }
            Outcome::Valid(v) => v.record = None,
            Outcome::Refused { .. } if !kept => {
                *last = None;
                kept = true;
            }
            _ => {}
        }
    }
}

/// Parses and checks one line.
fn check_line(raw: &RawLine, reference: &Reference, now: DateTime<Utc>, doc: bool) -> Outcome {
    if raw.bytes.iter().all(u8::is_ascii_whitespace) {
        return Outcome::Skip;
    }
    let text = match std::str::from_utf8(&raw.bytes) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::Refused {
                code: code_in(&String::from_utf8_lossy(&raw.bytes)),
                reason: format!("not UTF-8: invalid byte at column {}", e.valid_up_to() + 1),
            }
        }
    };
    if raw.number == 1 && is_export_cursor(text) {
        return Outcome::Skip;
    }
    let record: ImportedRecord = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => return Outcome::Refused { code: code_in(text), reason: parse_error(text, &e, raw.complete) },
    };
    let code = record.code.clone();
    match imported::validate_imported(record, reference, now) {
        Err(errors) => Outcome::Refused {
            code: Some(code),
            reason: errors
                .iter()
                .map(|e| format!("{}: {}: {}", e.field, e.code, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        },
        Ok(resolved) => {
            let json = serde_json::to_string(&resolved).expect("records serialise");
            let mut escaped = String::with_capacity(json.len() + 64);
            store::push_copy_text(&mut escaped, &json);
            let current = store::enterprise_row(&resolved, &escaped);
            let units = store::unit_rows(&resolved.units);
            let effective_first =
                if resolved.version == 1 { resolved.registered_on } else { legal_date(resolved.updated_at) };
            let doc = doc.then(|| Box::new(crate::indexer::document(&resolved, Vec::new())));
            Outcome::Valid(Box::new(Valid {
                doc,
                code: resolved.code.clone(),
                version: resolved.version,
                effective_first,
                updated_at: resolved.updated_at,
                record: Some(resolved),
                change: None,
                json: escaped,
                current,
                units,
            }))
        }
    }
}

/// An export's first line: `{"cursor": ...}`.
fn is_export_cursor(text: &str) -> bool {
    text.trim_start().starts_with("{\"cursor\"")
        && serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|v| v.get("cursor").is_some() && v.get("code").is_none())
}

/// Why a line is not a record, with the field's path when serde knows it.
fn parse_error(text: &str, e: &serde_json::Error, complete: bool) -> String {
    if e.is_eof() {
        return if complete {
            "invalid JSON: the line ends in the middle of a record".into()
        } else {
            "truncated: the file ends in the middle of this line".into()
        };
    }
    if e.is_syntax() {
        return format!("invalid JSON: {e}");
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, ImportedRecord>(&mut de) {
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner().to_string();
            if path == "." || path.is_empty() {
                format!("not a record: {inner}")
            } else {
                format!("{path}: {inner}")
            }
        }
        Ok(_) => format!("not a record: {e}"),
    }
}

/// The code of a line that is not a record, when one can be read in it (for the report).
fn code_in(text: &str) -> Option<String> {
    let at = text.find("\"code\"")? + "\"code\"".len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let code: String = rest.chars().take_while(|c| *c != '"').take(20).collect();
    (!code.is_empty()).then_some(code)
}

/// The writing side: assembles enterprises from consecutive versions, refuses duplicates, commits
/// batches.
struct Writer<'a> {
    conn: &'a mut PgConnection,
    run_id: i64,
    options: &'a Options,
    progress: &'a dyn Progress,
    reason: &'a str,
    /// Items decided but not yet committed, in file order. An item that ends an enterprise (or a
    /// lone refused line) carries the position after it: where a rerun may resume.
    pending: Vec<(Item, Option<Position>)>,
    /// Codes of the pending enterprises, with their first line.
    pending_codes: HashMap<String, i64>,
    pending_versions: usize,
    /// Takes the search documents of what is loaded.
    indexer: Option<&'a dyn ImportSink>,
    /// The search documents of the pending enterprises, by code (when an indexer takes them).
    pending_docs: HashMap<String, EnterpriseDoc>,
    /// The enterprise being read (its versions so far).
    open: Option<Open>,
    summary: &'a mut Summary,
    /// `max_errors` was reached: stop once the open enterprise is closed.
    stop_after_group: bool,
}

/// An enterprise being assembled from consecutive lines.
struct Open {
    code: String,
    versions: Vec<(VersionRow, String, String)>,
    /// Why it is refused (then later lines of the same code are refused too).
    refused: Option<String>,
    refused_lines: Vec<(i64, String)>,
    last_version: i32,
    end: Position,
    /// The search document of its latest version, and the names of every version.
    doc: Option<Box<EnterpriseDoc>>,
    names: Vec<String>,
}

impl Writer<'_> {
    fn consume(&mut self, rx: Receiver<anyhow::Result<Vec<Line>>>) -> anyhow::Result<()> {
        for chunk in rx {
            for line in chunk? {
                if self.stop_after_group && !self.continues_open(&line) {
                    self.close_open();
                    self.flush()?;
                    self.summary.stopped = true;
                    return Ok(());
                }
                self.take(line);
                if self.pending_versions >= self.options.batch.max(1) && !self.stop_after_group {
                    self.flush()?;
                    if self.summary.stopped {
                        return Ok(());
                    }
                }
            }
        }
        self.close_open();
        self.flush()?;
        if !self.summary.stopped {
            store::finish_run(self.conn, self.run_id)?;
        }
        Ok(())
    }

    fn continues_open(&self, line: &Line) -> bool {
        let Some(open) = &self.open else { return false };
        match &line.outcome {
            Outcome::Skip => true,
            Outcome::Valid(v) => v.code == open.code,
            Outcome::Refused { code, .. } => code.as_deref() == Some(open.code.as_str()),
        }
    }

    fn take(&mut self, line: Line) {
        let here = Position { next_offset: line.end as i64, next_line: line.number + 1 };
        match line.outcome {
            Outcome::Skip => {
                if let Some(open) = &mut self.open {
                    open.end = here;
                }
            }
            Outcome::Refused { code, reason } => match &mut self.open {
                Some(open) if code.as_deref() == Some(open.code.as_str()) => {
                    if open.refused.is_none() {
                        open.refused = Some(format!("line {} of the same enterprise was refused", line.number));
                    }
                    open.refused_lines.push((line.number, reason));
                    open.end = here;
                }
                _ => {
                    self.close_open();
                    self.decide(Item::Refuse(Refusal { line: line.number, code, reason }), Some(here));
                }
            },
            Outcome::Valid(v) => {
                let v = *v;
                if let Some(open) = self.open.as_mut().filter(|o| o.code == v.code) {
                    open.end = here;
                    if open.refused.is_some() {
                        open.refused_lines
                            .push((line.number, "an earlier version of this enterprise was refused".into()));
                    } else if v.version != open.last_version + 1 {
                        let why = format!(
                            "version {} follows version {} of the same enterprise (versions are consecutive, oldest first)",
                            v.version, open.last_version
                        );
                        open.refused_lines.push((line.number, format!("version: out_of_order: {why}")));
                        open.refused = Some(why);
                    } else {
                        let (kind, changed) = v.change.unwrap_or(("changed", Vec::new()));
                        open.last_version = v.version;
                        let row = VersionRow {
                            line: line.number,
                            version: v.version,
                            kind,
                            changed_fields: changed,
                            recorded_at: v.updated_at,
                            effective_on: legal_date(v.updated_at),
                            record: v.json,
                        };
                        open.versions.push((row, v.current, v.units));
                        if let Some(doc) = v.doc {
                            open.names.push(doc.name.clone());
                            open.doc = Some(doc);
                        }
                    }
                    return;
                }
                self.close_open();
                let row = VersionRow {
                    line: line.number,
                    version: v.version,
                    kind: "registered",
                    changed_fields: REGISTRATION_FIELDS.iter().map(|f| f.to_string()).collect(),
                    recorded_at: v.updated_at,
                    effective_on: v.effective_first,
                    record: v.json,
                };
                let names = v.doc.iter().map(|d| d.name.clone()).collect();
                self.open = Some(Open {
                    code: v.code,
                    last_version: v.version,
                    versions: vec![(row, v.current, v.units)],
                    refused: None,
                    refused_lines: Vec::new(),
                    end: here,
                    doc: v.doc,
                    names,
                });
            }
        }
    }

    /// The open enterprise is complete: load it, or refuse every line of it.
    fn close_open(&mut self) {
        let Some(open) = self.open.take() else { return };
        let duplicate = self.pending_codes.get(&open.code).copied();
        let why = match (&open.refused, duplicate) {
            (Some(why), _) => Some(format!("refused with its enterprise: {why}")),
            (None, Some(line)) => Some(format!("code: duplicate_code: {} is also on line {line}", open.code)),
            (None, None) => None,
        };
        if let Some(why) = why {
            let mut lines: Vec<(i64, String)> = open.versions.iter().map(|v| (v.0.line, why.clone())).collect();
            lines.extend(open.refused_lines);
            lines.sort_by_key(|l| l.0);
            let last = lines.len() - 1;
            for (i, (line, reason)) in lines.into_iter().enumerate() {
                // Every line of the enterprise is decided together: only after the last may a rerun resume.
                let at = (i == last).then_some(open.end);
                self.decide(Item::Refuse(Refusal { line, code: Some(open.code.clone()), reason }), at);
            }
            return;
        }
        self.pending_codes.insert(open.code.clone(), open.versions[0].0.line);
        if let Some(mut doc) = open.doc {
            // Former names as a rebuild reads them from the history: every distinct earlier one.
            let mut names = open.names;
            names.sort();
            names.dedup();
            names.retain(|n| *n != doc.name);
            doc.former_names = names;
            self.pending_docs.insert(open.code.clone(), *doc);
        }
        let (_, current, units) = open.versions.last().expect("a valid enterprise has a version").clone();
        let versions: Vec<VersionRow> = open.versions.into_iter().map(|v| v.0).collect();
        self.pending_versions += versions.len();
        self.decide(Item::Load(EnterpriseRows { code: open.code, versions, current, units }), Some(open.end));
    }

    /// Adds a decided item; counts refusals against `max_errors`.
    fn decide(&mut self, item: Item, at: Option<Position>) {
        if let Item::Refuse(r) = &item {
            self.refused(r);
        }
        self.pending.push((item, at));
    }

    fn refused(&mut self, r: &Refusal) {
        self.progress.refused(r);
        self.summary.refused_now += 1;
        if self.options.max_errors.is_some_and(|max| self.summary.refused_now >= max) {
            self.stop_after_group = true;
        }
    }

    /// Commits the pending items. Codes already in the register are refused first, in order, so
    /// that `max_errors` stops right after the one that reaches it.
    fn flush(&mut self) -> anyhow::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let items = std::mem::take(&mut self.pending);
        self.pending_codes.clear();
        self.pending_versions = 0;
        let codes: Vec<&str> = items
            .iter()
            .filter_map(|(i, _)| match i {
                Item::Load(e) => Some(e.code.as_str()),
                Item::Refuse(_) => None,
            })
            .collect();
        let existing = store::existing_codes(self.conn, &codes)?;
        let mut checked = Vec::with_capacity(items.len());
        for (item, at) in items {
            match item {
                Item::Load(e) if existing.contains(&e.code) => {
                    self.pending_docs.remove(&e.code);
                    let stopping = self.stop_after_group;
                    let last = e.versions.len() - 1;
                    for (i, v) in e.versions.iter().enumerate() {
                        let refusal = Refusal {
                            line: v.line,
                            code: Some(e.code.clone()),
                            reason: format!("code: duplicate_code: {} is already in the register", e.code),
                        };
                        self.refused(&refusal);
                        checked.push((Item::Refuse(refusal), if i == last { at } else { None }));
                    }
                    if !stopping && self.stop_after_group {
                        // The limit is reached here: nothing after this enterprise is committed.
                        self.summary.stopped = true;
                        break;
                    }
                }
                other => checked.push((other, at)),
            }
        }
        let committed = self.commit(checked);
        // What was not loaded (refused, or after the stop) is not indexed.
        self.pending_docs.clear();
        committed
    }

    fn commit(&mut self, items: Vec<(Item, Option<Position>)>) -> anyhow::Result<()> {
        let Some(position) = items.iter().rev().find_map(|(_, p)| *p) else { return Ok(()) };
        let (batch, ats): (Vec<Item>, Vec<Option<Position>>) = items.into_iter().unzip();
        match store::load_batch(self.conn, self.run_id, &batch, position, self.reason) {
            Ok(loaded) => {
                for r in &loaded.refused {
                    self.refused(r);
                }
                if let Some(indexer) = self.indexer {
                    let refused: std::collections::HashSet<&str> =
                        loaded.refused.iter().filter_map(|r| r.code.as_deref()).collect();
                    let docs: Vec<EnterpriseDoc> = batch
                        .iter()
                        .filter_map(|i| match i {
                            Item::Load(e) if !refused.contains(e.code.as_str()) => self.pending_docs.remove(&e.code),
                            _ => None,
                        })
                        .collect();
                    indexer.loaded(docs, loaded.positions);
                }
                self.summary.enterprises += loaded.enterprises;
                self.summary.versions += loaded.versions;
                self.progress.committed(
                    position.next_offset as u64,
                    self.summary.enterprises,
                    self.summary.refused_now,
                );
                Ok(())
            }
            Err(e) if is_data_error(&e) && batch.iter().filter(|i| matches!(i, Item::Load(_))).count() > 1 => {
                tracing::warn!(error = %e, "the database refused a batch; loading its enterprises one by one");
                let mut one = Vec::new();
                for (item, at) in batch.into_iter().zip(ats) {
                    one.push((item, at));
                    if at.is_some() {
                        self.commit(std::mem::take(&mut one))?;
                    }
                }
                Ok(())
            }
            Err(e) if is_data_error(&e) => {
                // One enterprise the database refuses (a NUL character in a text, say): refuse its
                // lines, keep the rest.
                let mut refusals = Vec::with_capacity(batch.len());
                for (item, at) in batch.into_iter().zip(ats) {
                    match item {
                        Item::Load(rows) => {
                            let last = rows.versions.len() - 1;
                            for (i, v) in rows.versions.iter().enumerate() {
                                let r = Refusal {
                                    line: v.line,
                                    code: Some(rows.code.clone()),
                                    reason: format!("the database refused it: {e}"),
                                };
                                self.refused(&r);
                                refusals.push((Item::Refuse(r), if i == last { at } else { None }));
                            }
                        }
                        other => refusals.push((other, at)),
                    }
                }
                self.commit(refusals)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether the database refused the data (rather than being unreachable).
fn is_data_error(e: &diesel::result::Error) -> bool {
    use diesel::result::DatabaseErrorKind as K;
    match e {
        diesel::result::Error::DatabaseError(kind, _) => !matches!(kind, K::ClosedConnection | K::SerializationFailure),
        _ => false,
    }
}
