//! Engine figures (`cargo bench -p meterdeck-core --bench engine [-- --quick]`):
//! prints each figure, then one JSON line holding all of them.

#[path = "engine/poll_figures.rs"]
mod poll_figures;
#[path = "engine/store_figures.rs"]
mod store_figures;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut figures = store_figures::run(quick);
    figures.extend(poll_figures::run(quick));
    for (k, v) in &figures {
        println!("{k:>36}  {v}");
    }
    let json: Vec<String> = figures.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
    println!("{{{}}}", json.join(", "));
}
