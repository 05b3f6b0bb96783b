//! A validation failure of one field, named by its JSON path (`head_office.ward_code`,
//! `owners[1].capital_vnd`). Domain checks collect every failure, not only the first.

use std::borrow::Cow;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field in the request body.
    pub field: String,
    /// Stable machine-readable code (`required`, `unknown_ward`, …).
    pub code: Cow<'static, str>,
    /// A sentence for people.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: Cow::Borrowed(code), message: message.into() }
    }
}

/// Collects field errors under a path prefix.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    pub fn required(&mut self, field: impl Into<String>) {
        self.add(field, "required", "this field is required");
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }

    /// Adds the errors reported by the `validator` crate, flattened to JSON paths.
    pub fn extend_validator(&mut self, prefix: &str, errors: &validator::ValidationErrors) {
        use validator::ValidationErrorsKind as K;
        for (field, kind) in errors.errors() {
            let path = join(prefix, field);
            match kind {
                K::Field(list) => {
                    for e in list {
                        let message = e.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| describe(&e.code));
                        self.0.push(FieldError { field: path.clone(), code: e.code.clone(), message });
                    }
                }
                K::Struct(inner) => self.extend_validator(&path, inner),
                K::List(items) => {
                    for (i, inner) in items {
                        self.extend_validator(&format!("{path}[{i}]"), inner);
                    }
                }
            }
        }
    }
}

fn describe(code: &str) -> String {
    match code {
        "too_long" => "the value is too long".into(),
        "invalid_email" => "not a valid e-mail address".into(),
        "empty" => "the value is empty".into(),
        other => other.replace('_', " "),
    }
}

pub fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}
