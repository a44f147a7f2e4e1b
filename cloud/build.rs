//! The web portal's bundle (issue 15): `ui/dist`, built by `npm run build`
//! in `ui/` (scripts/test and scripts/run do it before cargo), is embedded
//! into `meterdeck-cloud`. Without it the cloud still builds, and its `/`
//! says how to build the UI: the API works either way.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = manifest.join("../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-changed=build.rs");
    let folder = if dist.join("index.html").is_file() {
        dist.canonicalize().unwrap_or(dist)
    } else {
        println!(
            "cargo:warning=ui/dist is missing: the portal at / will say the UI is not built (run `npm ci && npm run build` in ui/, then build again)"
        );
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("ui-not-built");
        std::fs::create_dir_all(&out).expect("creating the placeholder UI folder in OUT_DIR");
        std::fs::write(out.join("index.html"), NOT_BUILT).expect("writing the placeholder index.html");
        out
    };
    println!("cargo:rustc-env=MD_UI_DIR={}", folder.display());
    println!("cargo:rustc-env=MD_UI_BUILT={}", if folder.ends_with("ui-not-built") { "0" } else { "1" });
}

const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Meterdeck: UI not built</title></head>\n<body><h1>The Meterdeck UI is not built into this binary</h1>\n<p>Run <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>, then build <code>meterdeck-cloud</code> again. The Web API at <code>/api/v1</code> works without it.</p></body></html>\n";
