//! Writing one flat result vector from per-row values (`None`: SQL NULL).

use duckdb::core::Inserter;
use duckdb::vtab::arrow::WritableVector;

/// Writes BOOLEAN results (`None`: NULL).
pub fn bools(output: &mut dyn WritableVector, values: &[Option<bool>]) {
    let mut out = output.flat_vector();
    for (row, v) in values.iter().enumerate() {
        match v {
            Some(b) => unsafe { out.as_mut_slice::<bool>()[row] = *b },
            None => out.set_null(row),
        }
    }
}

/// Writes BIGINT results.
pub fn bigints(output: &mut dyn WritableVector, values: &[Option<i64>]) {
    let mut out = output.flat_vector();
    for (row, v) in values.iter().enumerate() {
        match v {
            Some(n) => unsafe { out.as_mut_slice::<i64>()[row] = *n },
            None => out.set_null(row),
        }
    }
}

/// Writes VARCHAR results.
pub fn strings(output: &mut dyn WritableVector, values: &[Option<String>]) {
    let mut out = output.flat_vector();
    for (row, v) in values.iter().enumerate() {
        match v {
            Some(s) => out.insert(row, s.as_str()),
            None => out.set_null(row),
        }
    }
}
