//! Grouping a chunk's rows by run; the result writers live in `duck::output`.

pub use crate::duck::output::{bigints, bools, strings};

/// The rows of a chunk grouped by run id, in first-seen order (NULL run ids
/// are left out): one backend call per run per chunk.
pub fn by_run<S: AsRef<str>>(run_ids: &[Option<S>]) -> Vec<(String, Vec<usize>)> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (row, id) in run_ids.iter().enumerate() {
        let Some(id) = id else { continue };
        let id = id.as_ref().trim();
        match groups.iter_mut().find(|(g, _)| g == id) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((id.to_string(), vec![row])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_group_by_run_in_order() {
        let ids = [Some("b"), Some("a"), None, Some("b")];
        assert_eq!(
            super::by_run(&ids),
            vec![("b".to_string(), vec![0, 3]), ("a".to_string(), vec![1])]
        );
    }
}
