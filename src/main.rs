//! The `labrys` command: a thin layer over the library.

fn main() {
    println!("labrys");
}
