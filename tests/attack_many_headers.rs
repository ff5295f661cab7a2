//! Node ws CVE-2024-37890: a request with too many headers crashed the server. wsio answers
//! 431 and keeps serving.

#[path = "support/server.rs"]
mod server;

use std::io::Write;

use wsio::Config;

#[test]
fn too_many_headers_get_431_and_the_server_lives_on() {
    let server = server::Server::start(Config::default());
    let mut s = server::raw_client(server.addr);
    s.write_all(server::REQUEST).unwrap();
    for i in 0..2000 {
        let _ = s.write_all(format!("X-{i}: v\r\n").as_bytes());
    }
    let _ = s.write_all(b"\r\n");
    let head = server::read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 431"), "{head}");
    // Both "too large" and "too many" are 431; a normal client still gets in.
    let mut ok = server::raw_client(server.addr);
    server::handshake(&mut ok, "");
}
