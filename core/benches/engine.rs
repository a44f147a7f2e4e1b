//! Engine figures (`cargo bench -p meterdeck-core --bench engine [-- --quick]`),
//! licence verification at start among them:
//! prints each figure, then one JSON line holding all of them (`null` for a
//! figure that could not be measured here).

#[path = "engine/alarm_figures.rs"]
mod alarm_figures;
#[path = "engine/demo_figures.rs"]
mod demo_figures;
#[path = "engine/licence_figures.rs"]
mod licence_figures;
#[path = "engine/notify_figures.rs"]
mod notify_figures;
#[path = "engine/poll_figures.rs"]
mod poll_figures;
#[path = "engine/store_figures.rs"]
mod store_figures;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == notify_figures::CHILD_FLAG) {
        return notify_figures::child(quick);
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(k) = args.iter().position(|a| a == poll_figures::CHILD_FLAG) {
        return poll_figures::child(std::path::Path::new(args.get(k + 1).map_or("", String::as_str)));
    }
    let mut figures: Vec<(&str, Option<f64>)> = Vec::new();
    // `-- --only demo`: the demo's history alone (profiling it).
    if args.windows(2).any(|w| w[0] == "--only" && w[1] == "demo") {
        figures.extend(demo_figures::run());
        return print(&figures);
    }
    figures.extend(store_figures::run(quick).into_iter().map(|(k, v)| (k, Some(v))));
    figures.extend(poll_figures::run(quick).into_iter().map(|(k, v)| (k, Some(v))));
    figures.extend(alarm_figures::run(quick));
    figures.extend(notify_figures::run(quick));
    figures.extend(licence_figures::run(quick));
    figures.extend(demo_figures::run());
    print(&figures);
}

fn print(figures: &[(&str, Option<f64>)]) {
    let shown = |v: &Option<f64>| v.map_or("null".to_string(), |v| v.to_string());
    for (k, v) in figures {
        println!("{k:>36}  {}", shown(v));
    }
    let json: Vec<String> = figures.iter().map(|(k, v)| format!("\"{k}\": {}", shown(v))).collect();
    println!("{{{}}}", json.join(", "));
}
