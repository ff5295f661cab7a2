//! Certificates made at test time (never checked in): a test CA, and server certificates it
//! signs, as wsio's TLS tests and the interop scripts' servers need them.

#![allow(dead_code)]

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use wsio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use wsio::{Dialer, TlsAcceptor};

/// A certificate authority for one test.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A server's certificate chain and key.
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key_der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: a CA that shares its name with another would make a failure
        // look like a bad signature rather than an unknown issuer.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        params.distinguished_name.push(
            DnType::CommonName,
            format!("wsio test CA {} {n}", std::process::id()),
        );
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, names: &[&str]) -> ServerCert {
        self.server_with(names, |_| {})
    }

    /// A certificate for `names`, its parameters changed by `tweak` (dates, say).
    pub fn server_with(
        &self,
        names: &[&str],
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> ServerCert {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "wsio test server");
        tweak(&mut params);
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        ServerCert {
            chain: vec![cert.der().clone()],
            key_der: key.serialize_der(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A dialer that trusts this CA (and nothing else).
    pub fn dialer(&self) -> Dialer {
        Dialer::new().no_proxy().tls_config(self.client_config())
    }

    /// A client config that trusts this CA only.
    pub fn client_config(&self) -> Arc<wsio::rustls::ClientConfig> {
        let mut roots = wsio::rustls::RootCertStore::empty();
        roots.add(self.der()).unwrap();
        Arc::new(
            wsio::rustls::ClientConfig::builder_with_provider(Arc::new(
                wsio::rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
        )
    }
}

impl ServerCert {
    pub fn acceptor(&self) -> TlsAcceptor {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        TlsAcceptor::from_der(self.chain.clone(), key).unwrap()
    }
}

/// A wss:// connection over loopback: wsio's server end (with `server_config`) and wsio's
/// client end (with `client_config`), a certificate for `localhost` from a fresh CA.
pub fn pair(
    server_config: wsio::Config,
    client_config: wsio::Config,
) -> (
    wsio::Conn<wsio::TlsStream<std::net::TcpStream>>,
    wsio::Conn<wsio::MaybeTlsStream>,
) {
    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        wsio::Upgrader::new()
            .config(server_config)
            .upgrade_tls(stream, &acceptor)
            .unwrap()
    });
    let (client, _) = ca
        .dialer()
        .config(client_config)
        .dial(&format!("wss://localhost:{port}/"))
        .unwrap();
    (server.join().unwrap(), client)
}
