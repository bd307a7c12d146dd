//! Constants read at bind time: a folded scalar argument, a table
//! function's parameters, a setting. Capabilities get them as [`Constant`],
//! never as a DuckDB handle.

use duckdb::core::LogicalTypeId;
use duckdb::ffi;
use duckdb::vtab::Value;

/// An owned DuckDB value (destroyed when dropped).
pub struct Constant(Value);

impl Constant {
    /// Takes ownership of a value returned by the C API; `None` for null.
    ///
    /// # Safety
    /// `raw` must be null or a value the caller owns and nobody else frees.
    pub(crate) unsafe fn from_raw(raw: ffi::duckdb_value) -> Option<Self> {
        (!raw.is_null()).then(|| Self(Value::from(raw)))
    }

    pub(crate) fn from_value(value: Value) -> Self {
        Self(value)
    }

    /// Whether the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }

    /// The value cast to text, `None` for SQL NULL.
    pub fn text(&self) -> Option<String> {
        (!self.is_null()).then(|| self.0.to_string())
    }

    /// The value as BIGINT, `None` for SQL NULL.
    pub fn i64(&self) -> Option<i64> {
        (!self.is_null()).then(|| self.0.to_int64())
    }

    /// The value as DOUBLE, `None` for SQL NULL.
    pub fn f64(&self) -> Option<f64> {
        (!self.is_null()).then(|| self.0.to_double())
    }

    /// The value as BOOLEAN, `None` for SQL NULL.
    pub fn bool(&self) -> Option<bool> {
        (!self.is_null()).then(|| self.0.to_bool())
    }

    /// A LIST's items in order, NULL items kept in place; `None` when the
    /// value is not a list (or is NULL). For lists whose positions matter
    /// (one item per file), where [`Constant::texts`] drops NULLs.
    pub fn items(&self) -> Option<Vec<Constant>> {
        if self.0.logical_type_id() != LogicalTypeId::List {
            return None;
        }
        Some(self.0.to_list()?.into_iter().map(Constant).collect())
    }

    /// A LIST's non-NULL items as text; `None` when the value is not a list.
    pub fn texts(&self) -> Option<Vec<String>> {
        if self.0.logical_type_id() != LogicalTypeId::List {
            return None;
        }
        let items = self.0.to_list()?;
        Some(
            items
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| v.to_string())
                .collect(),
        )
    }
}

/// A VARCHAR value the caller owns, for registrations (defaults, arguments).
pub(crate) struct OwnedVarchar(pub ffi::duckdb_value);

impl OwnedVarchar {
    pub(crate) fn new(text: &str) -> Self {
        let c = super::message::c_text(text);
        // SAFETY: `c` is a valid NUL-terminated string; DuckDB copies it.
        Self(unsafe { ffi::duckdb_create_varchar(c.as_ptr()) })
    }
}

impl Drop for OwnedVarchar {
    fn drop(&mut self) {
        // SAFETY: created by `duckdb_create_varchar` and owned by us alone.
        unsafe { ffi::duckdb_destroy_value(&mut self.0) }
    }
}
