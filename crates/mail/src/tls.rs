//! TLS for the mail edge: the listener's certificate (STARTTLS) and the trust
//! anchors the relay and IMAP clients check servers against.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Debian's (and most distributions') bundle of public certificate authorities.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TlsError {
    pub path: String,
    pub reason: String,
}

fn err(path: &Path, reason: impl ToString) -> TlsError {
    TlsError {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The acceptor for STARTTLS, from a PEM certificate chain and its key.
pub fn acceptor(cert_file: &Path, key_file: &Path) -> Result<TlsAcceptor, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| err(cert_file, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(cert_file, e))?;
    if certs.is_empty() {
        return Err(err(cert_file, "holds no certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| err(key_file, e))?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| err(key_file, e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A connector trusting the certificates in `ca_file` (the system bundle
/// when none is given).
pub fn connector(ca_file: Option<&Path>) -> Result<TlsConnector, TlsError> {
    let path = ca_file.unwrap_or(Path::new(SYSTEM_CA_BUNDLE));
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| err(path, e))? {
        roots
            .add(cert.map_err(|e| err(path, e))?)
            .map_err(|e| err(path, e))?;
    }
    if roots.is_empty() {
        return Err(err(path, "holds no certificate"));
    }
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
