//! Records the git commit the extension is built from, for `medallion_version()`.
//!
//! Falls back to `unknown` outside a git checkout (e.g. a source tarball), and
//! to `MEDALLION_GIT_COMMIT` when the builder sets it explicitly.
use std::process::Command;

fn main() {
    let commit = std::env::var("MEDALLION_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MEDALLION_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=MEDALLION_GIT_COMMIT");
    // Rebuild when HEAD moves: HEAD itself changes on checkout, the ref file
    // it points to changes on commit.
    if let Some(git_dir) = run_git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        if let Some(head_ref) = run_git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={git_dir}/{head_ref}");
        }
    }
}

fn git_commit() -> Option<String> {
    let commit = run_git(&["rev-parse", "--short=12", "HEAD"])?;
    let dirty = run_git(&["status", "--porcelain", "--untracked-files=no"])
        .map(|s| !s.is_empty())
        .unwrap_or(false);
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

fn run_git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}
