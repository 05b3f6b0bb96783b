//! Building request bodies as JSON values without re-serialising.

use serde_json::{Map, Value};

/// A JSON object from key/value pairs (values moved in, no re-serialisation).
pub(crate) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

/// Appends `v` in decimal, zero-padded to `width` digits (`v` < 10^width).
pub(crate) fn push_digits(buf: &mut String, v: u64, width: u32) {
    let mut div = 10u64.pow(width - 1);
    while div > 0 {
        buf.push(char::from(b'0' + ((v / div) % 10) as u8));
        div /= 10;
    }
}

/// A JSON string.
pub(crate) fn string(s: &str) -> Value {
    Value::String(s.to_string())
}
