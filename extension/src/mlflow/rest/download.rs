//! Downloading a tree of artifacts through the proxy (a registered model's
//! files, for the model cache): list a directory, fetch each file, recurse.
//! Only `Http` is needed, so this stays a free function apart from the store.

use std::fs;
use std::path::Path;

use super::http::{escape_path, Answer, Body, Http, Replay, ARTIFACTS};
use crate::mlflow::tracking::{Failure, Outcome};
use crate::mlflow::validate::check_artifact_path;

/// Downloads everything under `root/rel` on the proxy into `dest/rel`.
/// Every listed name is checked as a relative artifact path first, so a
/// hostile listing cannot write outside `dest`.
pub fn download_tree(http: &Http, root: &str, rel: &str, dest: &Path) -> Outcome<()> {
    let dir = if rel.is_empty() {
        root.to_string()
    } else {
        format!("{root}/{rel}")
    };
    let what = format!("listing artifacts {dir:?}");
    let listing = match http.call(
        &what,
        "GET",
        ARTIFACTS,
        &[("path", &dir)],
        Body::Empty,
        Replay::Safe,
    )? {
        Answer::Json(v) => v,
        _ => return Err(http.unexpected(&what, "a non-JSON answer")),
    };
    for file in listing["files"].as_array().cloned().unwrap_or_default() {
        let name = file["path"].as_str().unwrap_or_default();
        let name = name.rsplit('/').next().unwrap_or(name);
        let child = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        check_artifact_path(&child)?;
        if file["is_dir"].as_bool() == Some(true) {
            download_tree(http, root, &child, dest)?;
            continue;
        }
        let what = format!("downloading artifact {root}/{child}");
        let url = format!("{ARTIFACTS}/{}/{}", escape_path(root), escape_path(&child));
        let target = dest.join(&child);
        match http.call(&what, "GET", &url, &[], Body::Empty, Replay::Safe)? {
            Answer::Stream(mut reader) => {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent)
                        .map_err(|e| Failure::io("cannot create", parent, &e))?;
                }
                let mut out = fs::File::create(&target)
                    .map_err(|e| Failure::io("cannot write", &target, &e))?;
                std::io::copy(&mut reader, &mut out)
                    .map_err(|e| Failure::io(&what, &target, &e))?;
            }
            _ => return Err(http.unexpected(&what, "no file")),
        }
    }
    Ok(())
}
