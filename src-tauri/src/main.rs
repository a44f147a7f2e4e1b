//! `meterdeck`: the desktop window. The agent runs in-process (through
//! `meterdeck_core::desk::Desk`) with the same data directory and
//! configuration format as `meterdeck-agent`.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod args;
mod cloud;
mod cloud_admin;
mod commands;
mod contract;
mod control;
mod dashboards;
mod error;
mod files;
mod licence;
mod live;
mod remote;
mod render;
mod reports;
mod startup;
mod tray;

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use clap::Parser;
use meterdeck_core::desk::Desk;
use tauri::{Manager, RunEvent};

fn main() -> ExitCode {
    webview_locale_fix();
    render::prefer_shm_without_gpu();
    render::compositing_without_gpu();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = args::Args::parse();
    let launch = match args::resolve(&args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("meterdeck: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = meterdeck_core::agent::AgentOptions {
        demo_history: args.demo_history,
        ..meterdeck_core::agent::AgentOptions::default()
    };
    // A demo writing its history opens the Desk beside the window's
    // start (see `startup`); otherwise it opens first, so a refused
    // configuration exits before a window appears.
    let (opening, ready) = startup::channel();
    let opened: Arc<OnceLock<Arc<Desk>>> = Arc::new(OnceLock::new());
    let early = if launch.demo {
        None
    } else {
        match tauri::async_runtime::block_on(open_desk(&launch, opts.clone())) {
            Ok(pair) => Some(pair),
            Err(e) => {
                eprintln!("meterdeck: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let mut builder = contract::register(tauri::Builder::default()).manage(ready);
    if let Some((desk, link)) = &early {
        builder = builder.manage(desk.clone()).manage(link.clone());
        let _ = opened.set(desk.clone());
    }
    let setup_opened = opened.clone();
    let app = builder
        .setup(move |app| {
            exit_on_signal(app.handle().clone());
            let handle = app.handle().clone();
            match early {
                Some((desk, _)) => {
                    desk_ready(&handle, &desk);
                    opening.done(Ok(()));
                }
                None => {
                    tauri::async_runtime::spawn(async move {
                        match open_desk(&launch, opts).await {
                            Ok((desk, link)) => {
                                handle.manage(desk.clone());
                                handle.manage(link);
                                let _ = setup_opened.set(desk.clone());
                                desk_ready(&handle, &desk);
                                opening.done(Ok(()));
                            }
                            Err(e) => {
                                eprintln!("meterdeck: {e}");
                                opening.done(Err(e));
                                handle.exit(1);
                            }
                        }
                    });
                }
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(a) => a,
        Err(e) => {
            eprintln!("meterdeck: cannot start the window: {e}");
            if let Some(desk) = opened.get() {
                let _ = tauri::async_runtime::block_on(desk.shutdown());
            }
            return ExitCode::FAILURE;
        }
    };
    app.run(move |_, event| {
        if let RunEvent::Exit = event
            && let Some(desk) = opened.get()
            && let Err(e) = tauri::async_runtime::block_on(desk.shutdown())
        {
            eprintln!("meterdeck: stopping the agent: {e}");
        }
    });
    ExitCode::SUCCESS
}

/// Opens the Desk (the agent, a fresh demo's last hour of history first) and the
/// cloud sign-in (token in the OS keychain, URL/account/user in the store).
async fn open_desk(
    launch: &args::Launch,
    opts: meterdeck_core::agent::AgentOptions,
) -> Result<(Arc<Desk>, Arc<meterdeck_core::cloudlink::CloudLink>), String> {
    let desk =
        Desk::open_with(&launch.data_dir, &launch.config_path, launch.demo, opts).await.map_err(|e| e.to_string())?;
    let desk = Arc::new(desk);
    // The cloud's remote instrument settings go through the window's editing path.
    desk.serve_remote_edits();
    tracing::info!(
        "data in {}, configuration {}{}",
        launch.data_dir.display(),
        launch.config_path.display(),
        if launch.demo { " (demo on the built-in simulator)" } else { "" }
    );
    let ca_file = desk.config().cloud.as_ref().and_then(|c| c.ca_file.clone());
    match meterdeck_core::cloudlink::CloudLink::for_data_dir(&launch.data_dir, ca_file.as_deref()) {
        Ok(link) => {
            // Errors the window shows and mails the cloud sends for it follow its language.
            if let Ok(s) = desk.settings() {
                link.set_language(&s.language);
                link.set_zone(&s.timezone);
                error::set_language(&s.language);
            }
            Ok((desk, Arc::new(link)))
        }
        Err(e) => {
            let _ = desk.shutdown().await;
            Err(e.to_string())
        }
    }
}

/// What runs once the Desk is open: the tray and the live updates.
fn desk_ready<R: tauri::Runtime>(app: &tauri::AppHandle<R>, desk: &Arc<Desk>) {
    // A missing tray (no status notifier on this desktop) must not stop the window.
    if let Err(e) = tray::create(app, desk) {
        tracing::warn!("no tray icon: {e}");
    }
    live::spawn(app.clone(), desk.clone());
}

/// WebKitGTK hands the process locale to JavaScript as the default
/// language; `C` / `C.UTF-8` (the default in Debian containers and CI) is
/// no language tag, and then every `Intl`/`toLocaleString` call without an
/// explicit locale throws `RangeError: invalid language tag: C`, leaving a
/// blank window. Such a locale is replaced by `en_US.UTF-8` (the UI picks
/// its language from the settings, not from the locale).
fn webview_locale_fix() {
    let effective =
        ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let c_like = effective.as_deref().is_none_or(|v| v == "C" || v == "POSIX" || v.starts_with("C."));
    if c_like {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe {
            std::env::remove_var("LC_ALL");
            std::env::remove_var("LC_MESSAGES");
            std::env::set_var("LANG", "en_US.UTF-8");
        }
    }
}

/// SIGTERM / Ctrl-C close the app the normal way, so the agent records
/// its stop and the store is flushed.
fn exit_on_signal<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping on signal");
        app.exit(0);
    });
}

#[cfg(test)]
mod tests;
