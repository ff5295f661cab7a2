//! An echo server: every message comes back as it arrived, streamed, one thread per
//! connection, any origin accepted (a test server).
//!
//! ```text
//! cargo run --example echo -- [--addr HOST:PORT] [--deflate]    # default 127.0.0.1:9001
//! ```

mod common;

use std::net::TcpListener;
use std::sync::Arc;

use wsio::{Config, DeflateConfig, FlushPolicy, Upgrader};

fn main() -> std::io::Result<()> {
    let addr = common::arg("--addr").unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr)?;
    println!(
        "wsio echo server listening on ws://{}/",
        listener.local_addr()?
    );

    // Batched writes: echoes of pipelined messages leave in one write, flushed whenever the
    // connection is about to wait for more input.
    let mut config = Config::builder().flush_policy(FlushPolicy::Batched);
    if common::flag("--deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let config = config.build();
    let upgrader = Arc::new(Upgrader::new().allow_any_origin().config(config));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let upgrader = Arc::clone(&upgrader);
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let result = stream
                .set_nodelay(true)
                .map_err(wsio::Error::Io)
                .and_then(|()| upgrader.upgrade(stream))
                .and_then(common::echo);
            if let Err(e) = result {
                eprintln!("{peer}: {e}");
            }
        });
    }
    Ok(())
}
