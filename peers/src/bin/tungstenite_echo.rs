//! tungstenite's echo server as its users write it: a thread per connection, `accept`,
//! then `read` and `send`.
//!
//!     tungstenite_echo ADDR

use std::net::TcpListener;
use std::thread;

fn main() {
    let addr = std::env::args().nth(1).expect("tungstenite_echo ADDR");
    let listener = TcpListener::bind(addr).expect("bind");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let Ok(mut ws) = tungstenite::accept(stream) else {
                return;
            };
            while let Ok(message) = ws.read() {
                if (message.is_text() || message.is_binary()) && ws.send(message).is_err() {
                    return;
                }
            }
        });
    }
}
