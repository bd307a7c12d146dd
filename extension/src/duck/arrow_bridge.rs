//! arrow 60 (what duckdb-rs speaks) ⇄ arrow 59 (what `deltalake` speaks).
//!
//! Two major versions of arrow-rs compile into one library and their types are
//! distinct, but both implement the Arrow C Data Interface, whose structs are
//! `#[repr(C)]` and identical by specification. Exporting with one version and
//! importing with the other moves buffers without copying; the release
//! callback travels with them, so each buffer is freed exactly once.

use arrow59 as a59;
use duckdb::arrow as a60;

/// `pub fn $name`: moves an array of arrow `$from` into arrow `$to`. The two
/// directions are the same code with the versions swapped.
macro_rules! move_array {
    ($(#[$doc:meta])* $name:ident: $from:ident => $to:ident) => {
        $(#[$doc])*
        pub fn $name(array: &$from::array::ArrayRef) -> Result<$to::array::ArrayRef, String> {
            let data = array.to_data();
            let (ffi_array, ffi_schema) = $from::ffi::to_ffi(&data).map_err(|e| e.to_string())?;
            // SAFETY: both structs follow the C Data Interface layout
            // (#[repr(C)], identical field order); we move them bit for bit
            // and the source side no longer owns them (to_ffi returned owned
            // values).
            let ffi_array: $to::ffi::FFI_ArrowArray = unsafe { std::mem::transmute(ffi_array) };
            // SAFETY: as for the array.
            let ffi_schema: $to::ffi::FFI_ArrowSchema = unsafe { std::mem::transmute(ffi_schema) };
            // SAFETY: the array was produced by a conforming exporter just above.
            let data = unsafe { $to::ffi::from_ffi(ffi_array, &ffi_schema) }
                .map_err(|e| e.to_string())?;
            Ok($to::array::make_array(data))
        }
    };
}

move_array!(
    /// Moves an arrow 59 array into arrow 60.
    array_59_to_60: a59 => a60
);
move_array!(
    /// Moves an arrow 60 array into arrow 59.
    array_60_to_59: a60 => a59
);

/// Converts an arrow 59 data type to arrow 60 (through an exported schema).
pub fn datatype_59_to_60(
    dt: &a59::datatypes::DataType,
) -> Result<a60::datatypes::DataType, String> {
    let schema = a59::ffi::FFI_ArrowSchema::try_from(dt).map_err(|e| e.to_string())?;
    // SAFETY: identical #[repr(C)] layout; ownership moves with the value.
    let schema: a60::ffi::FFI_ArrowSchema = unsafe { std::mem::transmute(schema) };
    a60::datatypes::DataType::try_from(&schema).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn round_trip_keeps_values_and_shares_buffers() {
        let a: a59::array::ArrayRef = Arc::new(a59::array::StringArray::from(vec![
            Some("a"),
            None,
            Some("ccc"),
        ]));
        let b = array_59_to_60(&a).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b.null_count(), 1);
        let c = array_60_to_59(&b).unwrap();
        assert_eq!(&c, &a);
    }

    #[test]
    fn nested_types_cross_both_ways() {
        use a59::datatypes::{DataType, Field};
        let dt = DataType::Struct(
            vec![
                Field::new("d", DataType::Decimal128(10, 2), true),
                Field::new(
                    "l",
                    DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
                    true,
                ),
            ]
            .into(),
        );
        let dt60 = datatype_59_to_60(&dt).unwrap();
        assert_eq!(format!("{dt}"), format!("{dt60}"));
    }
}
