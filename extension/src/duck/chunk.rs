//! Read-only access to the input `duckdb_data_chunk` of a scalar function.
//!
//! DuckDB hands C API scalar functions flattened vectors: a data pointer, an
//! optional validity bitmask, and `len` rows. Every reader checks the
//! vector's type before it interprets the bytes, so a signature mistake is
//! an error naming both types, never a misread. Nothing is copied except
//! where a type needs decoding (strings borrow from the chunk).

use std::borrow::Cow;
use std::marker::PhantomData;

use duckdb::ffi;

use crate::error::{Error, Result};

/// The input rows of one scalar function call.
pub struct InputChunk {
    raw: ffi::duckdb_data_chunk,
    len: usize,
}

impl InputChunk {
    /// # Safety
    /// `raw` must be the live input chunk of the current callback.
    pub(crate) unsafe fn new(raw: ffi::duckdb_data_chunk) -> Self {
        // SAFETY: `raw` is live (caller's contract).
        let len = unsafe { ffi::duckdb_data_chunk_get_size(raw) } as usize;
        Self { raw, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn column_count(&self) -> usize {
        // SAFETY: the chunk is live for the lifetime of `self`.
        (unsafe { ffi::duckdb_data_chunk_get_column_count(self.raw) }) as usize
    }

    /// An optional trailing argument: `read(column idx)` when this overload
    /// has that column, else NULL for every row.
    pub fn optional<'s, T>(
        &'s self,
        idx: usize,
        read: impl FnOnce(Column<'s>) -> Result<Vec<Option<T>>>,
    ) -> Result<Vec<Option<T>>> {
        if idx < self.column_count() {
            read(self.column(idx))
        } else {
            Ok((0..self.len).map(|_| None).collect())
        }
    }

    /// Column `idx` (panics if out of range: a signature bug, caught by the guard).
    pub fn column(&self, idx: usize) -> Column<'_> {
        assert!(idx < self.column_count(), "column {idx} out of range");
        // SAFETY: `idx` is in range and the chunk is live.
        let vector = unsafe { ffi::duckdb_data_chunk_get_vector(self.raw, idx as ffi::idx_t) };
        Column {
            vector,
            len: self.len,
            _chunk: PhantomData,
        }
    }
}

/// One flat input vector (or a child of one).
pub struct Column<'a> {
    vector: ffi::duckdb_vector,
    len: usize,
    _chunk: PhantomData<&'a InputChunk>,
}

impl<'a> Column<'a> {
    /// Wraps a raw vector of `len` rows (a child of a nested vector).
    ///
    /// # Safety
    /// `vector` must be a flat vector with at least `len` rows that lives as
    /// long as `'a`.
    pub(crate) unsafe fn from_raw(vector: ffi::duckdb_vector, len: usize) -> Self {
        Column {
            vector,
            len,
            _chunk: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> ffi::duckdb_vector {
        self.vector
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether row `row` holds a value (false for SQL NULL).
    pub fn is_valid(&self, row: usize) -> bool {
        // SAFETY: the vector is live for 'a; a null mask means all valid.
        let validity = unsafe { ffi::duckdb_vector_get_validity(self.vector) };
        validity.is_null()
            // SAFETY: `row` < len, within the mask DuckDB allocated.
            || unsafe { ffi::duckdb_validity_row_is_valid(validity, row as ffi::idx_t) }
    }

    /// The column's DuckDB type id (`DUCKDB_TYPE_*`).
    pub(crate) fn type_id(&self) -> ffi::DUCKDB_TYPE {
        // SAFETY: the vector is live; the type we get is ours to destroy.
        unsafe {
            let mut ty = ffi::duckdb_vector_get_column_type(self.vector);
            let id = ffi::duckdb_get_type_id(ty);
            ffi::duckdb_destroy_logical_type(&mut ty);
            id
        }
    }

    /// Errors unless the column has type `want` (named `wanted` in the message).
    pub(crate) fn expect(&self, want: ffi::DUCKDB_TYPE, wanted: &str) -> Result<()> {
        let got = self.type_id();
        if got == want {
            return Ok(());
        }
        Err(Error::Internal {
            context: "input".into(),
            message: format!("a {} column was read as {wanted}", type_name(got)),
        })
    }

    /// A VARCHAR column as text, `None` for NULL. DuckDB guarantees valid
    /// UTF-8 for VARCHAR; anything else is replaced rather than trusted.
    pub fn strings(&self) -> Result<Vec<Option<Cow<'a, str>>>> {
        self.expect(ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR, "VARCHAR")?;
        // SAFETY: a VARCHAR vector's data is `len` `duckdb_string_t`s.
        let data =
            unsafe { ffi::duckdb_vector_get_data(self.vector) } as *const ffi::duckdb_string_t;
        Ok((0..self.len)
            .map(|row| {
                if !self.is_valid(row) {
                    return None;
                }
                // SAFETY: `row` < len; the string lives as long as the chunk.
                let bytes = unsafe { string_bytes(&*data.add(row)) };
                Some(String::from_utf8_lossy(bytes))
            })
            .collect())
    }

    /// A DOUBLE column.
    pub fn f64s(&self) -> Result<Vec<Option<f64>>> {
        self.expect(ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE, "DOUBLE")?;
        // SAFETY: checked: the data is `len` f64s.
        Ok(unsafe { self.values::<f64>() })
    }

    /// A BIGINT column.
    pub fn i64s(&self) -> Result<Vec<Option<i64>>> {
        self.expect(ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT, "BIGINT")?;
        // SAFETY: checked: the data is `len` i64s.
        Ok(unsafe { self.values::<i64>() })
    }

    /// A column of a fixed-width type `T` (BIGINT → i64, DOUBLE → f64, ...).
    ///
    /// # Safety
    /// `T` must match the column's physical type.
    pub(crate) unsafe fn values<T: Copy>(&self) -> Vec<Option<T>> {
        // SAFETY: the caller vouches that the data is `len` `T`s.
        let data = unsafe { ffi::duckdb_vector_get_data(self.vector) } as *const T;
        (0..self.len)
            // SAFETY: `row` < len.
            .map(|row| self.is_valid(row).then(|| unsafe { *data.add(row) }))
            .collect()
    }
}

/// A type id's SQL name, for messages.
pub(crate) fn type_name(id: ffi::DUCKDB_TYPE) -> String {
    format!("{:?}", duckdb::core::LogicalTypeId::from(id)).to_uppercase()
}

/// The bytes of a `duckdb_string_t`: inlined when at most 12 bytes long.
///
/// # Safety
/// `s` must be a live string of a VARCHAR or BLOB vector.
pub(crate) unsafe fn string_bytes(s: &ffi::duckdb_string_t) -> &[u8] {
    // SAFETY: the union's `inlined.length` is valid in both layouts; the
    // pointer form is used only for strings longer than the inline buffer.
    unsafe {
        let len = s.value.inlined.length as usize;
        if len <= 12 {
            std::slice::from_raw_parts(s.value.inlined.inlined.as_ptr().cast(), len)
        } else {
            std::slice::from_raw_parts(s.value.pointer.ptr.cast(), len)
        }
    }
}
