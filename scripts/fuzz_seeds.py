"""Writes the fuzz targets' seed corpora to fuzz/seeds/<target>/: valid frames of every kind,
Autobahn-like broken ones, handshakes, extension headers and compressed messages.

    python3 scripts/fuzz_seeds.py
"""
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "seeds")
KEY = b"\x37\xfa\x21\x3d"


def frame(opcode, payload, fin=True, mask=True, rsv=0, raw_len=None):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if raw_len is None else raw_len
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if mask:
        payload = bytes(c ^ KEY[i % 4] for i, c in enumerate(payload))
        head += KEY
    return head + payload


def deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def frames(mask):
    f = lambda *a, **k: frame(*a, mask=mask, **k)
    text = "κόσμε 𝄞 hello".encode()
    return {
        "text": f(1, b"hello"),
        "binary": f(2, bytes(range(256))),
        "empty": f(1, b""),
        "len126": f(2, b"x" * 126),
        "len65536": f(2, b"y" * 65536),
        "fragmented": f(1, text[:5], fin=False) + f(9, b"ping") + f(0, text[5:]),
        "ping_pong": f(9, b"p" * 125) + f(10, b"pong"),
        "close_1000": f(8, b"\x03\xe8bye"),
        "close_empty": f(8, b""),
        "close_1005": f(8, b"\x03\xed"),
        "close_one_byte": f(8, b"\x03"),
        "bad_utf8": f(1, b"ok\xf4\x90\x80\x80"),
        "split_char": f(1, "𝄞".encode()[:2], fin=False) + f(0, "𝄞".encode()[2:]),
        "reserved_bits": f(1, b"x", rsv=7),
        "reserved_opcode": f(3, b"x"),
        "continuation_first": f(0, b"x"),
        "huge_len": f(2, b"", raw_len=(1 << 63) - 1),
        "compressed": f(1, deflate(b"hello hello hello hello"), rsv=4),
        "compressed_fragments": f(2, deflate(b"a" * 1000)[:3], fin=False, rsv=4) + f(0, deflate(b"a" * 1000)[3:]),
        "bad_deflate": f(2, b"\xff\xff\xff", rsv=4),
        "many": b"".join(f(1 + i % 2, bytes([i]) * i) for i in range(40)),
    }


REQUEST = (b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


def requests():
    ext = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=10\r\n"
    return {
        "valid": REQUEST + b"\r\n" + frame(1, b"hi"),
        "with_extensions": REQUEST + ext + b"Sec-WebSocket-Protocol: b, a\r\nOrigin: http://example.com\r\n\r\n",
        "deny": REQUEST.replace(b"/chat?x=1", b"/deny") + b"\r\n",
        "post": REQUEST.replace(b"GET", b"POST") + b"\r\n",
        "version8": REQUEST.replace(b"Version: 13", b"Version: 8") + b"\r\n",
        "no_key": REQUEST.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b"") + b"\r\n",
        "cross_origin": REQUEST + b"Origin: https://evil.example\r\n\r\n",
        "many_headers": REQUEST + b"".join(b"X-%d: v\r\n" % i for i in range(40)) + b"\r\n",
        "bare_lf": REQUEST.replace(b"\r\n", b"\n") + b"\n",
    }


def responses():
    ok = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: {ACCEPT}\r\n")
    return {
        "switching": ok + b"\r\n" + frame(1, b"hi", mask=False),
        "with_extensions": ok + b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9\r\n"
                           b"Sec-WebSocket-Protocol: chat\r\n\r\n",
        "wrong_accept": ok.replace(b"{ACCEPT}", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") + b"\r\n",
        "unoffered_protocol": ok + b"Sec-WebSocket-Protocol: other\r\n\r\n",
        "not_found": b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such!!",
        "garbage": b"SSH-2.0-OpenSSH_9.0\r\n\r\n",
    }


EXTENSIONS = [
    b"permessage-deflate",
    b"permessage-deflate; client_max_window_bits",
    b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    b"permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
    b"permessage-deflate; server_max_window_bits=\"12\"",
    b"permessage-deflate; foo, permessage-deflate; server_max_window_bits=8, permessage-deflate",
    b"x-webkit-deflate-frame, permessage-deflate;;",
    b"permessage-deflate; a=\"q\\\"x\"",
]


def inflate_seeds():
    """The inflate target's input: a mode byte (bits 0-2: window bits - 8; bit 6: no context
    takeover), a read-size byte, then messages: a 2-byte header (low 15 bits: length; top
    bit: two fragments) and the compressed payload."""
    out = {}
    for bits in (9, 15):
        c = zlib.compressobj(6, zlib.DEFLATED, -bits)
        msgs = []
        for i, data in enumerate((b"hello " * 50, b"", bytes(range(256)) * 4, b"hello " * 50)):
            d = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
            d = d[:-4]
            msgs.append(struct.pack("!H", len(d) | (0x8000 if i % 2 else 0)) + d)
        out["takeover_%d" % bits] = bytes([bits - 8, 0x20]) + b"".join(msgs)
    fresh = [deflate(m) for m in (b"abc" * 30, b"xyz" * 40)]
    out["no_takeover"] = bytes([7 | 0x40, 0x00]) + b"".join(struct.pack("!H", len(d)) + d for d in fresh)
    out["bomb"] = bytes([7, 0xff]) + (lambda d: struct.pack("!H", len(d)) + d)(deflate(b"\0" * 60000))
    return out


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, data in frames(mask=True).items():
        write("server_conn", name, b"\x07" + data)
        write("server_conn", name + "_bytewise", b"\x00" + data)
        write("frame_header", name, data[:14])
    for name, data in frames(mask=False).items():
        # Byte 2 picks compression: off, or on with a 15-bit window.
        write("client_conn", name, b"\x20\x00" + data)
        write("client_conn", name + "_deflate", b"\x20\x87" + data)
    for name, data in requests().items():
        write("handshake_request", name, b"\x3f" + data)
    for name, data in responses().items():
        write("handshake_response", name, b"\x3f" + data)
    for i, value in enumerate(EXTENSIONS):
        write("extensions", "ext%d" % i, value)
    for name, data in inflate_seeds().items():
        write("inflate", name, data)


if __name__ == "__main__":
    main()
