//! Owned `duckdb_value`s: what settings and folded constant arguments come as.

use std::ffi::CStr;

use duckdb::ffi;

/// A `duckdb_value` that is destroyed when dropped.
pub struct Value(ffi::duckdb_value);

impl Value {
    /// Takes ownership of a value returned by the C API (may be null).
    ///
    /// # Safety
    /// `raw` must be null or a value the caller owns and nobody else frees.
    pub unsafe fn from_raw(raw: ffi::duckdb_value) -> Option<Self> {
        (!raw.is_null()).then_some(Self(raw))
    }

    pub fn is_null(&self) -> bool {
        unsafe { ffi::duckdb_is_null_value(self.0) }
    }

    /// The value cast to text, or `None` for SQL NULL.
    pub fn to_text(&self) -> Option<String> {
        if self.is_null() {
            return None;
        }
        unsafe {
            let p = ffi::duckdb_get_varchar(self.0);
            if p.is_null() {
                return None;
            }
            let s = CStr::from_ptr(p).to_string_lossy().into_owned();
            ffi::duckdb_free(p.cast());
            Some(s)
        }
    }

    pub fn varchar(text: &str) -> Self {
        let c = std::ffi::CString::new(text.replace('\0', "")).expect("NUL removed");
        Self(unsafe { ffi::duckdb_create_varchar(c.as_ptr()) })
    }

    pub fn raw(&self) -> ffi::duckdb_value {
        self.0
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_destroy_value(&mut self.0) }
    }
}
