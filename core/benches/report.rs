//! Report figures (issue 13): filled in with the engine.
fn main() {}
