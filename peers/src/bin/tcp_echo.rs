//! A plain TCP echo server, a thread per connection: the floor a thread-per-connection
//! WebSocket server is measured against.
//!
//!     tcp_echo ADDR

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

fn main() {
    let addr = std::env::args().nth(1).expect("tcp_echo ADDR");
    let listener = TcpListener::bind(addr).expect("bind");
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}
