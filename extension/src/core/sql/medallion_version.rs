//! `medallion_version()` → VARCHAR: the extension version and the git commit
//! it was built from, e.g. `0.1.0 (3f2a9c1d4e5b)`.
//!
//! Users paste this into bug reports; tests use it to prove the extension
//! loaded. It goes through [`BoundScalar`], so every test that calls it also
//! exercises the raw bind/invoke path, its panic guard, and the
//! external-access latch every bind feeds.

use crate::duck::{Bind, BoundScalar, InputChunk, LogicalType, Output, Signature};
use crate::error::Result;
use crate::version::version_string;

pub struct MedallionVersion;

impl BoundScalar for MedallionVersion {
    const NAME: &'static str = "medallion_version";
    type Bound = String;

    fn signatures() -> Vec<Signature> {
        vec![Signature::new(vec![], LogicalType::varchar())]
    }

    fn bind(_: &Bind) -> Result<String> {
        Ok(version_string())
    }

    fn invoke(text: &String, input: &InputChunk, output: &mut Output) -> Result<()> {
        // A zero-argument call may still arrive with a chunk of rows.
        output.repeat_str(input.len().max(1), text);
        Ok(())
    }
}
