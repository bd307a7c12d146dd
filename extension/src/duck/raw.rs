//! Thin RAII and helpers over the raw C API, for what duckdb-rs does not wrap
//! (aggregates, STRUCT results written by hand, a registration connection).

use std::ffi::{c_char, CStr};

use duckdb::ffi;

/// A connection opened on the database that is loading the extension, used
/// only during `LOAD` to register raw functions; disconnected on drop. (The
/// `duckdb_database` handle DuckDB gives the entry point is freed when `LOAD`
/// returns, so nothing may keep it.)
pub struct RawConnection(pub ffi::duckdb_connection);

impl RawConnection {
    /// # Safety
    /// `db` must be the live database handle passed to the entry point.
    pub unsafe fn open(db: ffi::duckdb_database) -> Result<Self, String> {
        let mut con: ffi::duckdb_connection = std::ptr::null_mut();
        if unsafe { ffi::duckdb_connect(db, &mut con) } != ffi::DuckDBSuccess {
            return Err("duckdb_connect failed".into());
        }
        Ok(Self(con))
    }
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_disconnect(&mut self.0) };
    }
}

/// Writes values into row `row` of the children of a STRUCT result vector.
pub struct StructOut {
    vector: ffi::duckdb_vector,
    row: u64,
}

impl StructOut {
    /// # Safety
    /// `vector` must be a STRUCT vector with capacity beyond `row`.
    pub unsafe fn new(vector: ffi::duckdb_vector, row: u64) -> Self {
        Self { vector, row }
    }

    fn child(&self, idx: usize) -> ffi::duckdb_vector {
        unsafe { ffi::duckdb_struct_vector_get_child(self.vector, idx as ffi::idx_t) }
    }

    /// Sets a BIGINT child; `None` writes NULL.
    pub fn set_i64(&self, idx: usize, value: Option<i64>) {
        let child = self.child(idx);
        match value {
            Some(v) => unsafe {
                let data = ffi::duckdb_vector_get_data(child) as *mut i64;
                *data.add(self.row as usize) = v;
            },
            None => self.set_null_child(child),
        }
    }

    /// Sets a VARCHAR child; `None` writes NULL.
    pub fn set_str(&self, idx: usize, value: Option<&str>) {
        let child = self.child(idx);
        match value {
            Some(s) => unsafe {
                ffi::duckdb_vector_assign_string_element_len(
                    child,
                    self.row,
                    s.as_ptr() as *const c_char,
                    s.len() as ffi::idx_t,
                );
            },
            None => self.set_null_child(child),
        }
    }

    fn set_null_child(&self, child: ffi::duckdb_vector) {
        unsafe {
            ffi::duckdb_vector_ensure_validity_writable(child);
            let validity = ffi::duckdb_vector_get_validity(child);
            ffi::duckdb_validity_set_row_invalid(validity, self.row);
        }
    }
}

/// Reads a DuckDB-allocated C string and frees it.
///
/// # Safety
/// `ptr` must come from a C API call whose result the caller must `duckdb_free`.
pub unsafe fn take_c_string(ptr: *mut c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    let s = unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    unsafe { ffi::duckdb_free(ptr as *mut std::ffi::c_void) };
    s
}
