//! Writing a file whole or not at all: to a temporary name next to it, then
//! renamed into place, so a reader never sees half a picture.

use std::path::Path;

/// Writes `bytes` to `path`, creating its directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // A name of its own, so that writers of the same file at once (two
    // pipeline passes drawing the same chart) never rename each other's.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_of_one_file_all_succeed() {
        let dir = std::env::temp_dir().join(format!("medallion-chart-race-{}", std::process::id()));
        let path = dir.join("c.png");
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        write_atomically(&path, &[i; 64]).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() == 64 && bytes.iter().all(|b| *b == bytes[0]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_appears_whole_with_its_directory_and_no_temporary_left() {
        let dir = std::env::temp_dir().join(format!("medallion-chart-{}", std::process::id()));
        let path = dir.join("sub/c.png");
        write_atomically(&path, b"png").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"png");
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
