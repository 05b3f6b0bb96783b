//! The feed's formats that are not HTTP: the cursor, and the snapshot export's NDJSON that
//! `GET /v1/export` streams, `registry export FILE` writes and `registry mirror` reads back.

use std::io::Write;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::feed::{self, ExportError, ExportItem};

/// A position in the feed, handed to clients as an opaque string: base64url of a format tag, the
/// position and a checksum over both, so that a hand-edited or truncated cursor is refused rather
/// than silently read as another position. Cursors never expire: a position means the same thing
/// forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

const CURSOR_TAG: u8 = 1;
const CURSOR_DOMAIN: &[u8] = b"registry change-feed cursor";

impl Cursor {
    /// The beginning of the feed: before every event.
    pub const BEGINNING: Cursor = Cursor(0);

    fn checksum(tag: u8, position: i64) -> [u8; 8] {
        let mut h = Sha256::new();
        h.update(CURSOR_DOMAIN);
        h.update([tag]);
        h.update(position.to_be_bytes());
        let digest = h.finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        out
    }

    pub fn encode(self) -> String {
        let mut bytes = Vec::with_capacity(17);
        bytes.push(CURSOR_TAG);
        bytes.extend_from_slice(&self.0.to_be_bytes());
        bytes.extend_from_slice(&Self::checksum(CURSOR_TAG, self.0));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor, when `text` is one this service made.
    pub fn decode(text: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        if bytes.len() != 17 || bytes[0] != CURSOR_TAG {
            return None;
        }
        let position = i64::from_be_bytes(bytes[1..9].try_into().ok()?);
        let expected = Self::checksum(CURSOR_TAG, position);
        (position >= 0 && subtle::ConstantTimeEq::ct_eq(&bytes[9..], &expected[..]).into()).then_some(Cursor(position))
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

/// Bytes buffered before the export's output is written on (a chunk of the streamed body).
pub const CHUNK: usize = 64 * 1024;

/// NDJSON output, plain or gzip.
pub enum ExportWriter<W: Write> {
    Plain(std::io::BufWriter<W>),
    Gzip(flate2::write::GzEncoder<std::io::BufWriter<W>>),
}

impl<W: Write> ExportWriter<W> {
    pub fn new(out: W, gzip: bool) -> Self {
        let buffered = std::io::BufWriter::with_capacity(CHUNK, out);
        if gzip {
            ExportWriter::Gzip(flate2::write::GzEncoder::new(buffered, flate2::Compression::fast()))
        } else {
            ExportWriter::Plain(buffered)
        }
    }

    /// Ends the output (the gzip trailer) and flushes it.
    pub fn finish(self) -> std::io::Result<W> {
        let buffered = match self {
            ExportWriter::Plain(b) => b,
            ExportWriter::Gzip(g) => g.finish()?,
        };
        buffered.into_inner().map_err(|e| e.into_error())
    }
}

impl<W: Write> Write for ExportWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            ExportWriter::Plain(w) => w.write(buf),
            ExportWriter::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            ExportWriter::Plain(w) => w.flush(),
            ExportWriter::Gzip(w) => w.flush(),
        }
    }
}

/// The export's first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportHeader {
    pub cursor: String,
}

/// Writes the export as NDJSON to `out`: `{"cursor": ...}`, then one record per line.
/// `on_start` is told the head and, with `count`, the number of records; `on_record` each record.
pub fn write_export(
    conn: &mut PgConnection,
    out: &mut impl Write,
    count: bool,
    mut on_start: impl FnMut(i64, Option<i64>),
    mut on_record: impl FnMut(),
) -> Result<u64, ExportError> {
    feed::export(conn, count, |item| {
        match item {
            ExportItem::Start { head, total } => {
                serde_json::to_writer(&mut *out, &ExportHeader { cursor: Cursor(head).encode() })?;
                on_start(head, total);
            }
            ExportItem::Record(record) => {
                out.write_all(record.as_bytes())?;
                on_record();
            }
        }
        out.write_all(b"\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_edits() {
        for p in [0, 1, 2, 1_000_000, i64::MAX] {
            let text = Cursor(p).encode();
            assert_eq!(Cursor::decode(&text), Some(Cursor(p)), "{text}");
            assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "URL-safe: {text}");
        }
        let text = Cursor(42).encode();
        let mut bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 0x10;
            assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode(&bytes)), None, "byte {i} edited");
            bytes[i] ^= 0x10;
        }
        for bad in ["", "42", "not a cursor", &text[1..], &format!("{text}A")] {
            assert_eq!(Cursor::decode(bad), None, "{bad:?}");
        }
        // A negative position with a valid checksum is still refused.
        let mut neg = vec![CURSOR_TAG];
        neg.extend_from_slice(&(-1i64).to_be_bytes());
        neg.extend_from_slice(&Cursor::checksum(CURSOR_TAG, -1));
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode(neg)), None);
    }
}
