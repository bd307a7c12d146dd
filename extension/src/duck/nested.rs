//! Reading nested input vectors (LIST, STRUCT, MAP) of a scalar function.
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
//!   list whose child is a two-member struct ([`Column::string_pairs`]);
//! * a `LIST(STRUCT(a, b, c))` (the rows of a query gathered with `list()`)
//!   comes back whole, as typed tuples ([`Column::struct_lists`]).
//!
//! Each reader checks the vector's type first.

use std::borrow::Cow;
use std::ops::Range;

use duckdb::ffi;

use super::chunk::Column;
use crate::error::{Error, Result};

/// A MAP's entries per row (`None`: a NULL map).
pub type Pairs = Vec<Option<Vec<(String, String)>>>;

/// A `LIST(STRUCT(a, b, c))`'s structs per row (`None`: a NULL list), each
/// member `None` where it is NULL.
pub type Triples<A, B, C> = Vec<Option<Vec<(Option<A>, Option<B>, Option<C>)>>>;

/// What a STRUCT member can be read as: one value per row, `None` for NULL.
pub trait Member<'a>: Sized + Clone {
    fn read(column: &Column<'a>) -> Result<Vec<Option<Self>>>;
}

impl<'a> Member<'a> for Cow<'a, str> {
    fn read(column: &Column<'a>) -> Result<Vec<Option<Self>>> {
        column.strings()
    }
}

impl Member<'_> for f64 {
    fn read(column: &Column<'_>) -> Result<Vec<Option<Self>>> {
        column.f64s()
    }
}

impl Member<'_> for i64 {
    fn read(column: &Column<'_>) -> Result<Vec<Option<Self>>> {
        column.i64s()
    }
}

impl<'a> Column<'a> {
    fn expect_list(&self) -> Result<()> {
        if self.type_id() == ffi::DUCKDB_TYPE_DUCKDB_TYPE_MAP {
            return Ok(());
        }
        self.expect(ffi::DUCKDB_TYPE_DUCKDB_TYPE_LIST, "LIST")
    }

    /// For a LIST (or MAP) column: each row's range of rows in
    /// [`Column::list_child`], `None` for a NULL list.
    pub fn list_entries(&self) -> Result<Vec<Option<Range<usize>>>> {
        self.expect_list()?;
        // SAFETY: checked: a LIST/MAP vector's data is `len` list entries.
        let data =
            unsafe { ffi::duckdb_vector_get_data(self.raw()) } as *const ffi::duckdb_list_entry;
        Ok((0..self.len())
            .map(|row| {
                self.is_valid(row).then(|| {
                    // SAFETY: `row` < len.
                    let e = unsafe { &*data.add(row) };
                    e.offset as usize..(e.offset + e.length) as usize
                })
            })
            .collect())
    }

    /// For a LIST (or MAP) column: the child column with the elements of all
    /// rows.
    pub fn list_child(&self) -> Result<Column<'a>> {
        self.expect_list()?;
        // SAFETY: checked: a list vector has one child of `size` rows that
        // lives as long as the list.
        unsafe {
            let child = ffi::duckdb_list_vector_get_child(self.raw());
            let len = ffi::duckdb_list_vector_get_size(self.raw()) as usize;
            Ok(Column::from_raw(child, len))
        }
    }

    /// For a STRUCT column: how many members it has (0 for another type).
    pub fn struct_member_count(&self) -> usize {
        // SAFETY: the vector is live; the type we get is ours to destroy.
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
    pub fn struct_member(&self, idx: usize) -> Result<Column<'a>> {
        self.expect(ffi::DUCKDB_TYPE_DUCKDB_TYPE_STRUCT, "STRUCT")?;
        if idx >= self.struct_member_count() {
            return Err(Error::Internal {
                context: "input".into(),
                message: format!("STRUCT member {idx} does not exist"),
            });
        }
        // SAFETY: checked: a struct vector has this child, with its rows.
        unsafe {
            let child = ffi::duckdb_struct_vector_get_child(self.raw(), idx as ffi::idx_t);
            Ok(Column::from_raw(child, self.len()))
        }
    }

    /// A `LIST(STRUCT(a, b, c))` column as each row's structs, members read
    /// as `A`, `B` and `C` (each type-checked). A NULL struct is left out of
    /// its list; a third member the struct lacks (an optional one, as in an
    /// overload without it) reads as NULL.
    pub fn struct_lists<A: Member<'a>, B: Member<'a>, C: Member<'a>>(
        &self,
    ) -> Result<Triples<A, B, C>> {
        let entries = self.list_entries()?;
        let items = self.list_child()?;
        let a = A::read(&items.struct_member(0)?)?;
        let b = B::read(&items.struct_member(1)?)?;
        let c = match items.struct_member_count() > 2 {
            true => C::read(&items.struct_member(2)?)?,
            false => vec![None; items.len()],
        };
        // Rows of a flattened constant list share their items: clone them.
        let item = |i: usize| (a[i].clone(), b[i].clone(), c[i].clone());
        Ok(entries
            .into_iter()
            .map(|range| range.map(|r| r.filter(|&i| items.is_valid(i)).map(item).collect()))
            .collect())
    }

    /// A `MAP(VARCHAR, VARCHAR)` column as one `Vec<(key, value)>` per row
    /// (`None` for a NULL map; a NULL value reads as an empty string).
    pub fn string_pairs(&self) -> Result<Pairs> {
        let entries = self.list_entries()?;
        let pairs = self.list_child()?;
        let keys = pairs.struct_member(0)?.strings()?;
        let values = pairs.struct_member(1)?.strings()?;
        Ok(entries
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
            .collect())
    }
}
