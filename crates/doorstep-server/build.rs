//! Embeds the console's built files (`web/console/dist`, made by `make console-dist`) and the
//! verification page (`web/verify`, with its WebAssembly in `web/verify/pkg`, made by
//! `make page-wasm`) in the binary, so a deployed back-office serves both without Node or files
//! beside it. A build without them serves a page saying how to build them.

use std::path::{Path, PathBuf};

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let dist = web.join("console/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    write("CONSOLE_ASSETS", "console_assets.rs", files);
    // The page's own files, named (its folder also holds its tests and their packages), and
    // its WebAssembly.
    let verify = web.join("verify");
    let pkg = verify.join("pkg");
    println!("cargo:rerun-if-changed={}", pkg.display());
    let mut files = Vec::new();
    collect(&verify, &pkg, &mut files);
    for name in ["index.html", "page.js", "i18n.js", "page.css"] {
        let path = verify.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        if path.exists() {
            files.push((name.to_string(), path.canonicalize().unwrap_or(path)));
        }
    }
    // Gzipped once here, so a customer on a slow mobile link downloads a third of the
    // WebAssembly and no request spends CPU on compressing.
    let gzip_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("verify-gzip");
    std::fs::create_dir_all(&gzip_dir).unwrap();
    let mut gzipped = Vec::new();
    for (name, path) in &files {
        if [".js", ".wasm", ".css"].iter().any(|e| name.ends_with(e)) {
            let target = gzip_dir.join(format!("{}.gz", name.replace('/', "_")));
            gzip(path, &target);
            gzipped.push((name.clone(), target));
        }
    }
    write("VERIFY_ASSETS", "verify_assets.rs", files);
    write("VERIFY_GZIPPED", "verify_gzipped.rs", gzipped);
}

fn gzip(from: &Path, to: &Path) {
    use std::io::Write;
    let bytes = std::fs::read(from).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&bytes).unwrap();
    std::fs::write(to, encoder.finish().unwrap()).unwrap();
}

fn write(name: &str, file: &str, mut files: Vec<(String, PathBuf)>) {
    files.sort();
    let mut out = format!("pub static {name}: &[(&str, &[u8])] = &[\n");
    for (name, path) in files {
        out.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join(file);
    std::fs::write(target, out).unwrap();
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let name = relative.to_string_lossy().replace('\\', "/");
            let absolute = path.canonicalize().unwrap_or(path.clone());
            files.push((name, absolute));
        }
    }
}
