//! Reading an input column of any simple type as text: for functions that
//! take an `ANY` argument and store it as a string (MLflow params and tags),
//! so `mlflow_log_param(run, 'lr', 0.001)` works without a cast.
//!
//! Covers VARCHAR, BOOLEAN, the signed and unsigned integers, FLOAT, DOUBLE
//! and DECIMAL (rendered exactly, `0.0010` stays `0.0010`). Any other type is
//! refused with its name so the caller can ask for a `::VARCHAR`.

use duckdb::ffi;

use super::chunk::{type_name, Column};

impl<'a> Column<'a> {
    /// Every row as text (`None` for NULL), or `Err` naming the unsupported type.
    pub fn as_text(&self) -> Result<Vec<Option<String>>, String> {
        use ffi::*;
        /// # Safety
        /// `T` must be the column's physical type.
        unsafe fn show<T: Copy + ToString>(c: &Column<'_>) -> Vec<Option<String>> {
            // SAFETY: forwarded caller's contract.
            unsafe { c.values::<T>() }
                .into_iter()
                .map(|v| v.map(|v| v.to_string()))
                .collect()
        }
        let id = self.type_id();
        if id == DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR {
            return Ok(self
                .strings()
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|s| s.map(|s| s.into_owned()))
                .collect());
        }
        if id == DUCKDB_TYPE_DUCKDB_TYPE_DECIMAL {
            return self.decimals();
        }
        // SAFETY: `id` was just read from the vector, and each arm reads the
        // physical type DuckDB stores that logical type as.
        let text = unsafe {
            match id {
                DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN => show::<bool>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_TINYINT => show::<i8>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => show::<i16>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => show::<i32>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => show::<i64>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_UTINYINT => show::<u8>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_USMALLINT => show::<u16>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_UINTEGER => show::<u32>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_UBIGINT => show::<u64>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_FLOAT => show::<f32>(self),
                DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE => show::<f64>(self),
                other => return Err(format!("values of type {}", type_name(other))),
            }
        };
        Ok(text)
    }

    fn decimals(&self) -> Result<Vec<Option<String>>, String> {
        use ffi::*;
        // SAFETY: the vector is live; the type we get is ours to destroy.
        let (scale, internal) = unsafe {
            let mut ty = duckdb_vector_get_column_type(self.raw());
            let out = (
                duckdb_decimal_scale(ty) as usize,
                duckdb_decimal_internal_type(ty),
            );
            duckdb_destroy_logical_type(&mut ty);
            out
        };
        // SAFETY (every arm): a DECIMAL is stored as its internal type.
        let raw: Vec<Option<i128>> = match internal {
            DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => widen(unsafe { self.values::<i16>() }),
            DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => widen(unsafe { self.values::<i32>() }),
            DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => widen(unsafe { self.values::<i64>() }),
            DUCKDB_TYPE_DUCKDB_TYPE_HUGEINT => unsafe { self.values::<ffi::duckdb_hugeint>() }
                .into_iter()
                .map(|v| v.map(|h| ((h.upper as i128) << 64) | h.lower as i128))
                .collect(),
            other => return Err(format!("DECIMAL stored as type {}", type_name(other))),
        };
        Ok(raw
            .into_iter()
            .map(|v| v.map(|v| decimal_text(v, scale)))
            .collect())
    }
}

fn widen<T: Into<i128>>(values: Vec<Option<T>>) -> Vec<Option<i128>> {
    values.into_iter().map(|v| v.map(Into::into)).collect()
}

/// `unscaled / 10^scale` written out exactly: (12345, 3) → `12.345`.
pub fn decimal_text(unscaled: i128, scale: usize) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::decimal_text;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal_text(12345, 3), "12.345");
        assert_eq!(decimal_text(1, 3), "0.001");
        assert_eq!(decimal_text(-10, 4), "-0.0010");
        assert_eq!(decimal_text(42, 0), "42");
    }
}
