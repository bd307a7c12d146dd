//! Reading nested input vectors (LIST, STRUCT, MAP) of a raw scalar function.
//!
//! DuckDB flattens a scalar function's input chunk before calling it, and the
//! children of a flat LIST or STRUCT vector are flat vectors themselves. So a
//! nested value is read as plain [`Column`]s:
//!
//! * a LIST column is one `duckdb_list_entry {offset, length}` per row plus
//!   one child column holding every row's elements back to back
//!   ([`Column::list_entries`], [`Column::list_child`]);
//! * a STRUCT column has one child column per member, with the same rows as
//!   the struct ([`Column::struct_member`]);
//! * a MAP is physically a `LIST(STRUCT(key, value))`, so it is read as a
//!   list whose child is a two-member struct.
//!
//! Callers pair these with [`Column::strings`] / [`Column::values`] on the
//! child columns. Nothing is copied except the list entries.

use std::ops::Range;

use duckdb::ffi;

use super::chunk::Column;

impl<'a> Column<'a> {
    /// For a LIST (or MAP) column: each row's range of rows in
    /// [`Column::list_child`], `None` for a NULL list.
    ///
    /// # Safety
    /// The column must be a LIST or MAP.
    pub unsafe fn list_entries(&self) -> Vec<Option<Range<usize>>> {
        let data =
            unsafe { ffi::duckdb_vector_get_data(self.raw()) } as *const ffi::duckdb_list_entry;
        (0..self.len())
            .map(|row| {
                self.is_valid(row).then(|| {
                    let e = unsafe { &*data.add(row) };
                    e.offset as usize..(e.offset + e.length) as usize
                })
            })
            .collect()
    }

    /// For a LIST (or MAP) column: the child column with the elements of all
    /// rows.
    ///
    /// # Safety
    /// The column must be a LIST or MAP.
    pub unsafe fn list_child(&self) -> Column<'a> {
        unsafe {
            let child = ffi::duckdb_list_vector_get_child(self.raw());
            let len = ffi::duckdb_list_vector_get_size(self.raw()) as usize;
            Column::from_raw(child, len)
        }
    }

    /// For a STRUCT column: how many members it has.
    pub fn struct_member_count(&self) -> usize {
        unsafe {
            let mut ty = ffi::duckdb_vector_get_column_type(self.raw());
            let n = ffi::duckdb_struct_type_child_count(ty) as usize;
            ffi::duckdb_destroy_logical_type(&mut ty);
            n
        }
    }

    /// For a STRUCT column: member `idx` (in declaration order), with the
    /// same rows as the struct. A NULL struct row reads as NULL members only
    /// if DuckDB propagated the NULL; check [`Column::is_valid`] on the struct.
    ///
    /// # Safety
    /// The column must be a STRUCT with more than `idx` members.
    pub unsafe fn struct_member(&self, idx: usize) -> Column<'a> {
        unsafe {
            let child = ffi::duckdb_struct_vector_get_child(self.raw(), idx as ffi::idx_t);
            Column::from_raw(child, self.len())
        }
    }
}

/// A `MAP(VARCHAR, VARCHAR)` column as one `Vec<(key, value)>` per row
/// (`None` for a NULL map; a NULL value reads as an empty string).
///
/// # Safety
/// `column` must be a `MAP(VARCHAR, VARCHAR)` (or `LIST(STRUCT(VARCHAR, VARCHAR))`).
pub unsafe fn string_pairs(column: &Column<'_>) -> Vec<Option<Vec<(String, String)>>> {
    unsafe {
        let entries = column.list_entries();
        let pairs = column.list_child();
        let keys = pairs.struct_member(0).strings();
        let values = pairs.struct_member(1).strings();
        entries
            .into_iter()
            .map(|range| {
                range.map(|r| {
                    r.filter_map(|i| {
                        let key = keys[i].as_deref()?;
                        let value = values[i].as_deref().unwrap_or("");
                        Some((key.to_string(), value.to_string()))
                    })
                    .collect()
                })
            })
            .collect()
    }
}
