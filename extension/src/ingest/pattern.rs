//! A landing pattern: a directory plus a file-name pattern, `*` and `?`
//! wildcards allowed in the name only (`landing/*.json`).
//!
//! Why so little glob: a landing directory is flat, and listing one
//! directory with `read_dir` never opens an entry (a FIFO named `x.json`
//! must not block the listing). Wildcards in directories or `**` would mean
//! walking a tree, which landing does not need; they are refused with a
//! clear error rather than half-supported. `[`, `{` and `\` are plain
//! characters.

use super::error::{IngestError, Result};

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// The directory as the caller wrote it (`landing`, `/data/in/`), or
    /// empty for a bare name pattern (the working directory).
    directory: String,
    /// The file-name pattern (`*.json`).
    name: Vec<char>,
}

impl Pattern {
    /// Splits `pattern` at its last `/`; refuses wildcards before it and an
    /// empty name.
    pub fn parse(pattern: &str) -> Result<Pattern> {
        let fail = |reason: &str| IngestError::Pattern {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
        };
        let (directory, name) = match pattern.rsplit_once('/') {
            // `/x.json`: the root directory.
            Some(("", name)) => ("/", name),
            Some((dir, name)) => (dir, name),
            None => ("", pattern),
        };
        if directory.contains(['*', '?']) {
            return Err(fail(
                "only the last path component may hold wildcards (* or ?), as in 'landing/*.json'",
            ));
        }
        if name.is_empty() {
            return Err(fail(
                "it names no files: end it with a file-name pattern, as in 'landing/*.json'",
            ));
        }
        Ok(Pattern {
            directory: directory.to_string(),
            name: name.chars().collect(),
        })
    }

    /// The directory to list (`.` for a bare name pattern).
    pub fn directory(&self) -> &str {
        if self.directory.is_empty() {
            "."
        } else {
            &self.directory
        }
    }

    /// The path of entry `name`: `<directory as given>/<name>`, or `name`
    /// alone for a bare name pattern.
    pub fn path_of(&self, name: &str) -> String {
        match self.directory.as_str() {
            "" => name.to_string(),
            d if d.ends_with('/') => format!("{d}{name}"),
            d => format!("{d}/{name}"),
        }
    }

    /// Whether file name `name` matches the name pattern: `*` any run of
    /// characters (also none), `?` exactly one, anything else itself.
    pub fn matches(&self, name: &str) -> bool {
        wildcard_match(&self.name, &name.chars().collect::<Vec<_>>())
    }
}

/// Glob matching of `*` and `?` in linear passes: on a mismatch, retry from
/// the last `*` with one more character swallowed by it.
fn wildcard_match(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(name)
    }

    #[test]
    fn star_and_question_mark_match_within_the_name() {
        assert!(matches("landing/*.json", "tweets-000000001.json"));
        assert!(matches("landing/*.json", ".json"));
        assert!(!matches("landing/*.json", "tweets.json.tmp"));
        assert!(matches("landing/tweets-?.json", "tweets-7.json"));
        assert!(!matches("landing/tweets-?.json", "tweets-77.json"));
        assert!(matches("landing/*a*b*", "xxaxxbxx"));
        assert!(!matches("landing/*a*b", "xxaxxbxx"));
        assert!(matches("landing/**", "anything"));
        assert!(matches("landing/exact.json", "exact.json"));
        assert!(!matches("landing/exact.json", "Exact.json"));
        assert!(matches("landing/[x].json", "[x].json"));
        assert!(matches("landing/é?.json", "éß.json"));
    }

    #[test]
    fn the_directory_is_kept_as_given() {
        let cases = [
            ("landing/*.json", "landing", "landing/a.json"),
            ("./in//*.json", "./in/", "./in/a.json"),
            ("/*.json", "/", "/a.json"),
            ("*.json", ".", "a.json"),
        ];
        for (pattern, directory, path) in cases {
            let p = Pattern::parse(pattern).unwrap();
            assert_eq!(
                (p.directory(), p.path_of("a.json").as_str()),
                (directory, path)
            );
        }
    }

    #[test]
    fn wildcards_outside_the_last_component_and_empty_names_are_refused() {
        let e = Pattern::parse("land*/x/*.json").unwrap_err();
        assert_eq!(
            e.to_string(),
            "pattern 'land*/x/*.json': only the last path component may hold wildcards (* or ?), as in 'landing/*.json'"
        );
        assert!(Pattern::parse("a?/b.json").is_err());
        let e = Pattern::parse("landing/").unwrap_err();
        assert!(e.to_string().contains("it names no files"), "{e}");
        assert!(Pattern::parse("").is_err());
    }
}
