//! The result vector of a scalar function call: flat values per row
//! (`None`: SQL NULL), or any Arrow array (STRUCT, MAP, LIST results).

use arrow59::array::ArrayRef;
use duckdb::core::{FlatVector, Inserter};
use duckdb::ffi;
use duckdb::vtab::arrow::{write_arrow_array_to_vector, WritableVector};

use super::arrow_bridge::array_59_to_60;

/// Where a scalar function writes its results, one per input row.
pub struct Output {
    vector: ffi::duckdb_vector,
}

impl Output {
    /// # Safety
    /// `vector` must be the live result vector of the current callback,
    /// with room for the input chunk's rows.
    pub(crate) unsafe fn new(vector: ffi::duckdb_vector) -> Self {
        Self { vector }
    }

    /// Writes BOOLEAN results.
    pub fn bools(&mut self, values: &[Option<bool>]) {
        // SAFETY: a BOOLEAN result vector holds one bool per row.
        self.write(values, |out, row, b| unsafe {
            out.as_mut_slice::<bool>()[row] = *b
        });
    }

    /// Writes BIGINT results.
    pub fn bigints(&mut self, values: &[Option<i64>]) {
        // SAFETY: a BIGINT result vector holds one i64 per row.
        self.write(values, |out, row, n| unsafe {
            out.as_mut_slice::<i64>()[row] = *n
        });
    }

    /// Writes VARCHAR results.
    pub fn strings(&mut self, values: &[Option<String>]) {
        self.write(values, |out, row, s| out.insert(row, s.as_str()));
    }

    /// Writes one value per row with `set`, NULL where there is none: what
    /// every flat result type shares but how a value is stored.
    fn write<T>(&mut self, values: &[Option<T>], set: impl Fn(&mut FlatVector, usize, &T)) {
        let mut out = self.vector.flat_vector();
        for (row, v) in values.iter().enumerate() {
            match v {
                Some(v) => set(&mut out, row, v),
                None => out.set_null(row),
            }
        }
    }

    /// Writes the same VARCHAR into `rows` rows.
    pub fn repeat_str(&mut self, rows: usize, value: &str) {
        let out = self.vector.flat_vector();
        for row in 0..rows {
            out.insert(row, value);
        }
    }

    /// Writes an Arrow array (one element per row) of the result's type:
    /// how STRUCT, MAP and LIST results are written.
    pub fn arrow(&mut self, array: &ArrayRef) -> Result<(), String> {
        let a60 = array_59_to_60(array)?;
        write_arrow_array_to_vector(&a60, &mut self.vector).map_err(|e| e.to_string())
    }
}
