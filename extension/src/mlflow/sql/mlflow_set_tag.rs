//! `mlflow_set_tag(run_id, key, value ANY)` → BOOLEAN: sets a run tag, the
//! value as text; setting it again overwrites it (unlike a param).

use super::rows::KeyValues;
use crate::mlflow::tracking::Batch;

pub struct SetTag;

impl KeyValues for SetTag {
    const NAME: &'static str = "mlflow_set_tag";

    fn batch(pairs: &[(String, String)]) -> Batch<'_> {
        Batch::tags(pairs)
    }
}
