//! Raw SQL that PostgreSQL parses and plans once per connection.
//!
//! Diesel never caches a `sql_query` statement: it cannot know the text is constant, so every
//! call pays PostgreSQL's parse, analysis and planning again. The register's hot writes are raw
//! SQL (data-modifying CTEs that diesel's DSL cannot express), and that cost was a visible share
//! of PostgreSQL's time per write. A [`Prepared`] statement is a constant text and its binds:
//! diesel's statement cache keys it by the text and the bind types and prepares it once per
//! connection, as it does for its own DSL.
//!
//! The text numbers its parameters `$1`, `$2`, … in the order they appear, each once, and the
//! binds are given in that order; a mismatch is an error, not a panic.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A constant SQL text with its binds, prepared once per connection.
#[must_use = "a statement does nothing until it is executed or loaded"]
pub struct Prepared<'a> {
    sql: &'static str,
    /// The text between parameters, split once here: diesel walks a statement several times per
    /// execution (its cache key, its binds, its text). `None` when the text numbers them otherwise.
    pieces: Option<Vec<&'static str>>,
    binds: Vec<Box<dyn QueryFragment<Pg> + 'a>>,
}

/// A statement of `sql`, whose parameters are `$1`, `$2`, … in order of appearance.
pub fn prepared(sql: &'static str) -> Prepared<'static> {
    Prepared { sql, pieces: pieces(sql), binds: Vec::new() }
}

struct Bind<'a, ST, T: ?Sized> {
    value: &'a T,
    sql_type: PhantomData<fn() -> ST>,
}

impl<ST, T> QueryFragment<Pg> for Bind<'_, ST, T>
where
    Pg: HasSqlType<ST>,
    T: ToSql<ST, Pg> + ?Sized,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, T>(self.value)
    }
}

impl<'a> Prepared<'a> {
    /// Binds the next parameter as SQL type `ST`.
    pub fn bind<ST, T>(mut self, value: &'a T) -> Self
    where
        Pg: HasSqlType<ST>,
        T: ToSql<ST, Pg> + ?Sized,
        ST: 'static,
    {
        self.binds.push(Box::new(Bind::<ST, T> { value, sql_type: PhantomData }));
        self
    }
}

/// The text between parameters: `$1` … `$n` in order, each once. `None` when the text numbers
/// its parameters otherwise.
fn pieces(sql: &str) -> Option<Vec<&str>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut next) = (0, 0, 1usize);
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
            let n: usize = sql[i + 1..i + 1 + digits].parse().ok()?;
            if n != next {
                return None;
            }
            out.push(&sql[start..i]);
            next += 1;
            i += 1 + digits;
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&sql[start..]);
    Some(out)
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let pieces = match &self.pieces {
            Some(p) if p.len() == self.binds.len() + 1 => p,
            _ => {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!("{} binds for the parameters of {:?}", self.binds.len(), self.sql).into(),
                ))
            }
        };
        for (i, piece) in pieces.iter().enumerate() {
            out.push_sql(piece);
            if let Some(bind) = self.binds.get(i) {
                bind.walk_ast(out.reborrow())?;
            }
        }
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // Keyed by its text and bind types in the statement cache.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn parameters_split_the_text_in_order() {
        assert_eq!(pieces("SELECT $1, $2::text"), Some(vec!["SELECT ", ", ", "::text"]));
        assert_eq!(pieces("SELECT 1"), Some(vec!["SELECT 1"]));
        assert_eq!(pieces("SELECT $10"), None);
        assert_eq!(pieces("SELECT $2, $1"), None);
        assert_eq!(pieces("SELECT $1, $1"), None);
        // A dollar not followed by a digit is text (a dollar-quoted string's tag).
        assert_eq!(pieces("SELECT $$a$$, $1"), Some(vec!["SELECT $$a$$, ", ""]));
    }
}
