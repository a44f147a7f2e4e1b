fn main() {
    eprintln!("meterdeck-cloud: not built yet");
    std::process::exit(2);
}
