//! Writing a graph to a file, rendered by Graphviz when asked and
//! installed.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

/// Writes `source` to `path` (see
/// [`GraphOptions::filename`](super::GraphOptions::filename)): a `.dot`
/// path gets the source; any other extension names a Graphviz output format,
/// rendered by `dot` from a `.dot` file written beside it. Reports on
/// standard error, as objgraph does on standard output.
pub(super) fn write(path: &Path, source: &str, nodes: usize) -> io::Result<()> {
    write_with("dot", path, source, nodes)
}

/// [`write`] with the Graphviz program named (for tests).
fn write_with(program: &str, path: &Path, source: &str, nodes: usize) -> io::Result<()> {
    let format = path
        .extension()
        .and_then(OsStr::to_str)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "cannot tell the output format of {}: give the file name an extension \
                     such as .dot, .svg, .png or .pdf",
                    path.display()
                ),
            )
        })?;
    if format == "dot" {
        fs::write(path, source)?;
        eprintln!("Graph written to {} ({nodes} nodes)", path.display());
        return Ok(());
    }
    let dot_path = path.with_extension("dot");
    fs::write(&dot_path, source)?;
    eprintln!("Graph written to {} ({nodes} nodes)", dot_path.display());
    let rendered = Command::new(program)
        .arg(format!("-T{format}"))
        .arg("-o")
        .arg(path)
        .arg(&dot_path)
        .stdin(Stdio::null())
        .output();
    match rendered {
        Ok(output) if output.status.success() => {
            eprintln!("Image generated as {}", path.display());
            Ok(())
        }
        Ok(output) => Err(io::Error::other(format!(
            "{program} failed ({}) while rendering {}: {}",
            output.status,
            path.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            eprintln!(
                "Image renderer ({program}) not found: the graph is in {} instead of {} \
                 (install Graphviz, then run `dot -T{format} -o {} {}`)",
                dot_path.display(),
                path.display(),
                path.display(),
                dot_path.display()
            );
            Ok(())
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "digraph ObjectGraph {\n}\n";

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("gc-core-graphviz-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri's isolation forbids files and processes")]
    fn missing_renderer_leaves_the_dot_file_beside() {
        let dir = scratch("missing");
        let svg = dir.join("graph.svg");
        write_with("gc-core-no-such-graphviz", &svg, SOURCE, 0).unwrap();
        assert_eq!(fs::read_to_string(dir.join("graph.dot")).unwrap(), SOURCE);
        assert!(!svg.exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri's isolation forbids files")]
    fn dot_files_get_the_source_and_no_extension_is_an_error() {
        let dir = scratch("dot");
        let path = dir.join("graph.dot");
        write_with("gc-core-no-such-graphviz", &path, SOURCE, 0).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), SOURCE);
        let err = write(&dir.join("graph"), SOURCE, 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        fs::remove_dir_all(dir).unwrap();
    }
}
