//! The baseline window of the desktop figures (issue 17, issue 13): a bare
//! Tauri 2 window over the same WebKitGTK, drawing as the app draws (the
//! same render choices without a GPU), with a blank page.
//!
//! `bare_window [--values N]`: with N > 0 the page shows N numbers that a
//! timer in the page changes once a second, the least any window showing N
//! live values must paint (no IPC, no layout beyond the text). The figures
//! measure the app's memory and CPU against this window in the same run.

#[path = "../src/render.rs"]
#[allow(dead_code)]
mod render;

use tauri::http::Response;
use tauri::{WebviewUrl, WebviewWindowBuilder};

fn page(values: usize) -> String {
    let script = if values == 0 {
        String::new()
    } else {
        format!(
            "<script>
const grid = document.getElementById('v');
const cells = [];
for (let i = 0; i < {values}; i++) {{
  const d = document.createElement('div');
  d.className = 'c';
  const n = document.createElement('span');
  n.textContent = '0.000';
  d.append('ch' + (i + 1) + ' ', n, ' V');
  grid.append(d);
  cells.push(n);
}}
setInterval(() => {{ for (const n of cells) n.textContent = (Math.random() * 10).toFixed(3); }}, 1000);
</script>"
        )
    };
    format!(
        "<!doctype html><html><head><meta charset=utf-8><title>bare</title>
<style>body{{font:14px sans-serif;margin:16px}} #v{{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}}
.c{{padding:12px;border:1px solid #ccc;border-radius:6px}} span{{font-variant-numeric:tabular-nums;font-size:20px}}</style>
</head><body><div id=v></div>{script}</body></html>"
    )
}

fn main() {
    render::prefer_shm_without_gpu();
    render::compositing_without_gpu();
    let mut values = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--values" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => values = n,
                None => {
                    eprintln!("bare_window: --values takes a count");
                    std::process::exit(2);
                }
            },
            other => {
                eprintln!("bare_window: unknown argument {other:?} (expected --values N)");
                std::process::exit(2);
            }
        }
    }
    let html = page(values);
    let mut context = tauri::generate_context!();
    // The app's own window (its full UI) is not wanted: one blank window instead.
    context.config_mut().app.windows.clear();
    let result = tauri::Builder::default()
        .register_uri_scheme_protocol("bare", move |_ctx, _req| {
            Response::builder()
                .header("Content-Type", "text/html; charset=utf-8")
                .body(html.clone().into_bytes())
                .unwrap()
        })
        .setup(|app| {
            let url = WebviewUrl::CustomProtocol("bare://localhost/".parse().expect("a fixed URL"));
            WebviewWindowBuilder::new(app, "main", url).title("bare").inner_size(1280.0, 800.0).build()?;
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        eprintln!("bare_window: {e}");
        std::process::exit(1);
    }
}
