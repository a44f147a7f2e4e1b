fn main() {
    // The window's files are embedded at compile time; without them the
    // context macro fails with a bare panic, so say what to do instead.
    let dist = std::path::Path::new("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !dist.is_file() {
        println!(
            "cargo:warning=ui/dist/index.html is missing: build the front end first (cd ui && npm ci && npm run build)"
        );
        eprintln!("error: ui/dist/index.html is missing: build the front end first (cd ui && npm ci && npm run build)");
        std::process::exit(1);
    }
    tauri_build::build()
}
