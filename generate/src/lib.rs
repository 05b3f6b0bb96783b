//! Synthetic, realistic enterprises for the demo, the benchmark and the tests.
//!
//! Two generators, both deterministic: the same seed and the same input give the same output on
//! every platform (a ChaCha8 stream, integer-only sampling, no hash-map iteration).
//! - [`Generator`]: registration request bodies (`POST /v1/enterprises`), used by
//!   `registry serve --demo` (a few thousand) and the benchmark's write driver. It reads no
//!   files: the caller passes the wards and VSIC codes in ([`GeneratorInput`], whose order
//!   matters).
//! - [`RecordGenerator`]: full records with their history (the lines of `GET /v1/export`), for
//!   `registry generate --count N --seed S` and the import; [`write_records`] writes them as
//!   NDJSON after [`resolve`] passed them through the import's validation.
//!
//! Every body is meant to pass the service's validation: the type's prefix in the Vietnamese
//! name, owners per type with capitals summing exactly to the charter capital, exactly one main
//! VSIC line, 12-digit CCCD numbers consistent with birth date and sex, identities unique over
//! the run, and names unique over the run in a sense stronger than the legal "confusing name"
//! test (Law on Enterprises 2020, art. 41): the proper-name core (distinctive syllables, trade
//! words excluded, folded: lower case, no tones or diacritics, đ→d, spaces removed, the tokens
//! `tân`/`mới` dropped) never repeats; English names and abbreviations never repeat
//! (case-insensitive).
//!
//! ```text
//! let mut g = Generator::new(seed, GeneratorInput { wards, vsic4, organisation_owner_codes });
//! for _ in 0..count {
//!     let body: serde_json::Value = g.next_registration();
//!     // POST it, or write it as one NDJSON line
//! }
//! ```
//!
//! Uniqueness is only guaranteed among the bodies of one `Generator`; it does not know about
//! enterprises already in the database. Memory grows with the run (a few 64-bit hashes per body:
//! about 190 MB resident at 2 million). Organisation owners use only `organisation_owner_codes`
//! (none when empty); their names are invented, not looked up.
//!
//! Beneficial owners (SPEC §7, `ownership`): [`RecordGenerator`] holds its enterprise owners in a
//! pool of the last 500 enterprises with legal personality, each with the individuals at the ends
//! of its chains and their shares (a few dozen entries at most), so a child's declaration is
//! computed through its parents without looking anything up: memory stays bounded whatever the
//! count, and the draw stays one sequential, deterministic stream.
//!
//! The files: `registration` (the body generator), `names`, `address`, `people` and `vsic` (the
//! parts of a body), `places` and `vocabulary` (what is drawn from, built from the tables of
//! `words`), `sampling` and `json` (helpers); `records`, `history`, `ownership` and `write` (full
//! records).

mod address;
mod history;
mod json;
mod names;
mod ownership;
mod people;
mod places;
mod records;
mod registration;
mod sampling;
mod vocabulary;
mod vsic;
mod words;
mod write;

#[cfg(test)]
mod tests;

pub use records::{default_as_of, RecordGenerator};
pub use registration::{Generator, GeneratorInput, Ward};
pub use write::{resolve, write_records};
