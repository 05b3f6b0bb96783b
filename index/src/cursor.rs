//! Opaque paging cursor.
//!
//! Hits are ordered by `(score desc, code asc)` (a query with no text has every score `0` and is
//! thus ordered by code). The cursor is the sort key of the last hit of a page plus a hash of the
//! request it belongs to; the next page is "every hit strictly after that key". While the index
//! does not change the scores are bit-for-bit the same, so no hit is repeated or skipped. After a
//! commit the walk still continues from the same key (a hit whose score changed may move across
//! the cursor, as in any keyset paging).
//!
//! Encoding: `base64url( json || fnv1a64(KEY || json) )`. The checksum catches truncated, edited
//! or forged cursors (it is a tamper check, not a security boundary: a cursor grants nothing the
//! caller cannot ask for with a new query).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::IndexError;

const VERSION: u8 = 1;
const KEY: &[u8] = b"registry-index/cursor/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Format version.
    pub v: u8,
    /// Hash of the request (query text and filters) the cursor belongs to.
    pub h: u64,
    /// Score of the last hit, as `f32::to_bits`.
    pub s: u32,
    /// Code of the last hit.
    pub c: String,
}

pub(crate) fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // Separator, so that ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Cursor {
    pub fn new(request_hash: u64, score: f32, code: &str) -> Self {
        Cursor { v: VERSION, h: request_hash, s: score.to_bits(), c: code.to_string() }
    }

    pub fn score(&self) -> f32 {
        f32::from_bits(self.s)
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serialises");
        let sum = fnv1a64(&[KEY, &json]);
        let mut bytes = json;
        bytes.extend_from_slice(&sum.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Decode and check a cursor for the request whose hash is `request_hash`.
    pub fn decode(s: &str, request_hash: u64) -> Result<Self, IndexError> {
        let bad = |why: &str| IndexError::InvalidCursor(why.to_string());
        let bytes = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad("not base64url"))?;
        if bytes.len() < 9 {
            return Err(bad("too short"));
        }
        let (json, sum) = bytes.split_at(bytes.len() - 8);
        if fnv1a64(&[KEY, json]).to_be_bytes() != sum {
            return Err(bad("checksum mismatch"));
        }
        let c: Cursor = serde_json::from_slice(json).map_err(|_| bad("malformed"))?;
        if c.v != VERSION {
            return Err(bad("unknown version"));
        }
        if c.h != request_hash {
            return Err(bad("cursor belongs to another query"));
        }
        if !c.score().is_finite() || c.c.is_empty() {
            return Err(bad("malformed"));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let c = Cursor::new(7, 1.25, "0100233488");
        let s = c.encode();
        assert_eq!(Cursor::decode(&s, 7).unwrap(), c);
        assert!(matches!(Cursor::decode(&s, 8), Err(IndexError::InvalidCursor(_))));
        assert!(matches!(Cursor::decode("garbage!!", 7), Err(IndexError::InvalidCursor(_))));
        assert!(matches!(Cursor::decode("", 7), Err(IndexError::InvalidCursor(_))));
        // Forge: change the code in the JSON, keep the old checksum.
        let mut bytes = URL_SAFE_NO_PAD.decode(&s).unwrap();
        let pos = bytes.windows(3).position(|w| w == b"010").unwrap();
        bytes[pos] = b'9';
        assert!(matches!(Cursor::decode(&URL_SAFE_NO_PAD.encode(bytes), 7), Err(IndexError::InvalidCursor(_))));
    }
}
