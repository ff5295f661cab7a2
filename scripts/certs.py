"""Makes a throwaway certificate authority and a server certificate it signs, for the TLS
checks: nothing here is checked in, and the keys live only as long as the run.

    python certs.py DIR

Writes DIR/ca.pem (the CA's certificate), DIR/cert.pem (the server's chain), DIR/key.pem
(its private key), DIR/proxy-bundle.pem (chain and key in one file, for stunnel), for
localhost, 127.0.0.1 and ::1, and DIR/spki.txt: the base64 SHA-256 of the server
certificate's public key, which Chromium trusts with --ignore-certificate-errors-spki-list.
Needs `trustme` (and `cryptography`, which it brings).
"""

import base64
import hashlib
import os
import sys

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    ca = trustme.CA(organization_name="wsio test CA")
    cert = ca.issue_cert("localhost", "127.0.0.1", "::1")
    ca.cert_pem.write_to_path(os.path.join(out, "ca.pem"))
    cert.private_key_pem.write_to_path(os.path.join(out, "key.pem"))
    chain = b"".join(blob.bytes() for blob in cert.cert_chain_pems)
    with open(os.path.join(out, "cert.pem"), "wb") as f:
        f.write(chain)
    with open(os.path.join(out, "proxy-bundle.pem"), "wb") as f:
        f.write(chain + cert.private_key_pem.bytes())
    leaf = x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes())
    spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with open(os.path.join(out, "spki.txt"), "w") as f:
        f.write(base64.b64encode(hashlib.sha256(spki).digest()).decode() + "\n")


if __name__ == "__main__":
    main()
