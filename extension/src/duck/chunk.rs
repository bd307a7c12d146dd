//! Read-only access to the input `duckdb_data_chunk` of a raw scalar function.
//!
//! DuckDB hands C API scalar functions flattened vectors: a data pointer, an
//! optional validity bitmask, and `len` rows. These accessors copy nothing
//! except where a type needs decoding (strings borrow from the chunk).

use std::borrow::Cow;

use duckdb::ffi;

/// The input rows of one scalar function call.
pub struct InputChunk {
    raw: ffi::duckdb_data_chunk,
    len: usize,
}

impl InputChunk {
    /// # Safety
    /// `raw` must be the live input chunk of the current callback.
    pub unsafe fn new(raw: ffi::duckdb_data_chunk) -> Self {
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
        (unsafe { ffi::duckdb_data_chunk_get_column_count(self.raw) }) as usize
    }

    /// An optional trailing argument: `read(column idx)` when this overload
    /// has that column, else NULL for every row.
    pub fn optional<'s, T>(
        &'s self,
        idx: usize,
        read: impl FnOnce(Column<'s>) -> Vec<Option<T>>,
    ) -> Vec<Option<T>> {
        if idx < self.column_count() {
            read(self.column(idx))
        } else {
            (0..self.len).map(|_| None).collect()
        }
    }

    /// Column `idx` (panics if out of range: a signature bug, caught by the guard).
    pub fn column(&self, idx: usize) -> Column<'_> {
        assert!(idx < self.column_count(), "column {idx} out of range");
        let vector = unsafe { ffi::duckdb_data_chunk_get_vector(self.raw, idx as ffi::idx_t) };
        Column {
            vector,
            len: self.len,
            _chunk: std::marker::PhantomData,
        }
    }
}

/// One flat input vector.
pub struct Column<'a> {
    vector: ffi::duckdb_vector,
    len: usize,
    _chunk: std::marker::PhantomData<&'a InputChunk>,
}

impl<'a> Column<'a> {
    /// Wraps a raw vector of `len` rows (a child of a nested input vector;
    /// see [`super::nested`]).
    ///
    /// # Safety
    /// `vector` must be a flat vector with at least `len` rows that lives as
    /// long as `'a`.
    pub(crate) unsafe fn from_raw(vector: ffi::duckdb_vector, len: usize) -> Self {
        Column {
            vector,
            len,
            _chunk: std::marker::PhantomData,
        }
    }

    /// The raw vector, for the nested readers in [`super::nested`].
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
        let validity = unsafe { ffi::duckdb_vector_get_validity(self.vector) };
        validity.is_null()
            || unsafe { ffi::duckdb_validity_row_is_valid(validity, row as ffi::idx_t) }
    }

    /// A VARCHAR column as text, `None` for NULL. DuckDB guarantees valid
    /// UTF-8 for VARCHAR; anything else is replaced rather than trusted.
    pub fn strings(&self) -> Vec<Option<Cow<'a, str>>> {
        let data =
            unsafe { ffi::duckdb_vector_get_data(self.vector) } as *const ffi::duckdb_string_t;
        (0..self.len)
            .map(|row| {
                if !self.is_valid(row) {
                    return None;
                }
                let bytes = unsafe { string_bytes(&*data.add(row)) };
                Some(String::from_utf8_lossy(bytes))
            })
            .collect()
    }

    /// A column of a fixed-width type `T` (BIGINT → i64, DOUBLE → f64, ...).
    ///
    /// # Safety
    /// `T` must match the column's physical type.
    pub unsafe fn values<T: Copy>(&self) -> Vec<Option<T>> {
        let data = unsafe { ffi::duckdb_vector_get_data(self.vector) } as *const T;
        (0..self.len)
            .map(|row| self.is_valid(row).then(|| unsafe { *data.add(row) }))
            .collect()
    }
}

/// The bytes of a `duckdb_string_t`: inlined when at most 12 bytes long.
unsafe fn string_bytes(s: &ffi::duckdb_string_t) -> &[u8] {
    unsafe {
        let len = s.value.inlined.length as usize;
        if len <= 12 {
            std::slice::from_raw_parts(s.value.inlined.inlined.as_ptr().cast(), len)
        } else {
            std::slice::from_raw_parts(s.value.pointer.ptr.cast(), len)
        }
    }
}
