//! Micro benchmarks of the codec: masking and UTF-8 validation beside `memcpy` of the same
//! buffer, frame header parse and encode, and whole messages read and written over an
//! in-memory stream by wsio and by tungstenite.
//!
//! `cargo bench --bench codec`

use std::hint::black_box;
use std::io::{self, Read, Write};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
// The validator itself, compiled into this bench: it imports nothing else of the crate.
#[allow(dead_code)]
#[path = "../src/utf8.rs"]
mod utf8;
use utf8::Utf8Validator;
use wsio::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use wsio::{Config, Conn, MessageKind, Role};

fn masking(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for len in [16usize, 1024, 64 << 10] {
        let src = vec![0x5au8; len];
        let mut dst = vec![0u8; len];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(format!("apply_mask {len}"), |b| {
            b.iter(|| wsio::mask::apply_mask(black_box(&mut dst), [1, 2, 3, 4], 1))
        });
        group.bench_function(format!("memcpy {len}"), |b| {
            b.iter(|| black_box(&mut dst).copy_from_slice(black_box(&src)))
        });
    }
    group.finish();
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8");
    let ascii = "The quick brown fox jumps over the lazy dog. "
        .repeat(1500)
        .into_bytes();
    let ascii = &ascii[..64 << 10];
    let mixed = "Grüße, κόσμε, 世界, 🎉 and some ASCII too. "
        .repeat(1300)
        .into_bytes();
    let mut mixed = mixed[..64 << 10].to_vec();
    while std::str::from_utf8(&mixed).is_err() {
        mixed.pop();
    }
    let mut dst = vec![0u8; 64 << 10];
    for (name, data) in [("ascii", ascii), ("mixed", &mixed[..])] {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(format!("wsio incremental {name} 64K"), |b| {
            b.iter(|| {
                let mut v = Utf8Validator::default();
                v.feed(black_box(data)).unwrap();
                v.finish().unwrap();
            })
        });
        group.bench_function(format!("std from_utf8 {name} 64K"), |b| {
            b.iter(|| std::str::from_utf8(black_box(data)).unwrap().len())
        });
        group.bench_function(format!("memcpy {name} 64K"), |b| {
            b.iter(|| dst[..data.len()].copy_from_slice(black_box(data)))
        });
    }
    group.finish();
}

fn headers(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame header");
    for len in [16u64, 1024, 1 << 20] {
        let mut header = FrameHeader::new(OpCode::Binary, true, len);
        header.masking_key = Some([1, 2, 3, 4]);
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut bytes);
        group.bench_function(format!("parse {len}"), |b| {
            b.iter(|| FrameHeader::parse(black_box(&bytes[..n])).unwrap().unwrap())
        });
        group.bench_function(format!("encode {len}"), |b| {
            let mut out = [0u8; MAX_HEADER_LEN];
            b.iter(|| black_box(&header).encode(&mut out))
        });
    }
    group.finish();
}

/// An in-memory stream: reads from a fixed input (rewound by the benchmark), writes into a
/// sink that keeps nothing.
struct Memory {
    input: Vec<u8>,
    at: usize,
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.input.len() - self.at);
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        black_box(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `count` masked client frames of `len` bytes each.
fn client_frames(count: usize, len: usize, opcode: OpCode) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
    let mut out = Vec::new();
    for _ in 0..count {
        let mut header = FrameHeader::new(opcode, true, len as u64);
        header.masking_key = Some([9, 8, 7, 6]);
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut bytes);
        out.extend_from_slice(&bytes[..n]);
        let start = out.len();
        out.extend_from_slice(&payload);
        wsio::mask::apply_mask(&mut out[start..], [9, 8, 7, 6], 0);
    }
    out
}

fn messages(c: &mut Criterion) {
    const COUNT: usize = 1000;
    let mut group = c.benchmark_group("messages");
    for (len, opcode, kind) in [
        (16, OpCode::Binary, "binary"),
        (1024, OpCode::Binary, "binary"),
        (1024, OpCode::Text, "text"),
        (64 << 10, OpCode::Binary, "binary"),
    ] {
        let input = client_frames(COUNT, len, opcode);
        group.throughput(Throughput::Elements(COUNT as u64));
        group.bench_function(format!("wsio read {COUNT} x {len} {kind}"), |b| {
            let mut conn = Conn::from_raw(
                Memory {
                    input: input.clone(),
                    at: 0,
                },
                Role::Server,
                Config::default(),
            );
            let mut buf = Vec::new();
            b.iter(|| {
                conn.get_mut().at = 0;
                for _ in 0..COUNT {
                    conn.read_message_into(&mut buf).unwrap();
                }
            })
        });
        group.bench_function(format!("tungstenite read {COUNT} x {len} {kind}"), |b| {
            let config = tungstenite::protocol::WebSocketConfig::default().max_message_size(None);
            let mut ws = tungstenite::WebSocket::from_raw_socket(
                Memory {
                    input: input.clone(),
                    at: 0,
                },
                tungstenite::protocol::Role::Server,
                Some(config),
            );
            b.iter(|| {
                ws.get_mut().at = 0;
                for _ in 0..COUNT {
                    black_box(ws.read().unwrap());
                }
            })
        });
        let data: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let text = String::from_utf8(data.clone()).unwrap();
        group.bench_function(format!("wsio write {COUNT} x {len} {kind}"), |b| {
            let mut conn = Conn::from_raw(
                Memory {
                    input: Vec::new(),
                    at: 0,
                },
                Role::Server,
                Config::default(),
            );
            let kind = if opcode == OpCode::Text {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            b.iter(|| {
                for _ in 0..COUNT {
                    conn.write_message(kind, &data).unwrap();
                }
            })
        });
        group.bench_function(format!("tungstenite write {COUNT} x {len} {kind}"), |b| {
            let mut ws = tungstenite::WebSocket::from_raw_socket(
                Memory {
                    input: Vec::new(),
                    at: 0,
                },
                tungstenite::protocol::Role::Server,
                None,
            );
            b.iter(|| {
                for _ in 0..COUNT {
                    let message = if opcode == OpCode::Text {
                        tungstenite::Message::text(text.clone())
                    } else {
                        tungstenite::Message::binary(data.clone())
                    };
                    ws.send(message).unwrap();
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = masking, utf8, headers, messages
}
criterion_main!(benches);
