//! Serves a page and WebSocket on one port with rouille.
//!
//! ```text
//! cargo run --manifest-path embedding/Cargo.toml --bin rouille   # then open http://127.0.0.1:8081/
//! ```

use std::sync::Arc;

fn main() {
    let upgrader = Arc::new(wsio::Upgrader::new().subprotocols(["chat"]));
    println!("http://127.0.0.1:8081/");
    rouille::start_server("127.0.0.1:8081", wsio_embedding::handler(upgrader));
}
