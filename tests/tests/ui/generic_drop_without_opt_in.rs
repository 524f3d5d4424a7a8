use gc_core::Trace;

#[derive(Trace)]
struct Wrapper<T>(T);

impl<T> Drop for Wrapper<T> {
    fn drop(&mut self) {}
}

fn main() {}
