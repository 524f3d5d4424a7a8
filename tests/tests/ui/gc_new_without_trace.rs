use gc_core::Gc;

struct Config {
    name: String,
}

fn share(config: Config) -> Gc<Config> {
    Gc::new(config)
}

fn main() {}
