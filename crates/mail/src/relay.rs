//! The SMTP client that hands outgoing mail to the configured relay: plain,
//! STARTTLS or implicit TLS, with AUTH PLAIN, one message per connection.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

pub use domain::mail::Security;

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The name this server greets with.
    pub helo: String,
    pub timeout: Duration,
}

/// Why a message was not handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: the relay was unreachable, busy (4xx), or
    /// the connection broke.
    #[error("{0}")]
    Transient(String),
    /// The relay refused the message or a recipient for good (5xx).
    #[error("{0}")]
    Permanent(String),
}

/// Hands one message to the relay. Returns once the relay answered 250 to
/// its end of data: from then on the message is the relay's to deliver.
pub async fn send(
    config: &RelayConfig,
    tls: Option<&TlsConnector>,
    mail_from: &str,
    recipients: &[String],
    raw: &[u8],
) -> Result<(), SendError> {
    let transient = |e: std::io::Error| SendError::Transient(format!("relay: {e}"));
    let work = async {
        let tcp = TcpStream::connect((config.host.as_str(), config.port))
            .await
            .map_err(transient)?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(config.host.clone())
            .map_err(|e| SendError::Transient(format!("relay host name: {e}")))?;
        match (config.security, tls) {
            (Security::None, _) => {
                let mut c = Client::new(tcp);
                c.expect(220, "greeting").await?;
                c.ehlo(&config.helo).await?;
                c.deliver(config, mail_from, recipients, raw).await
            }
            (Security::StartTls, Some(tls)) => {
                let mut c = Client::new(tcp);
                c.expect(220, "greeting").await?;
                let caps = c.ehlo(&config.helo).await?;
                if !caps.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS")) {
                    return Err(SendError::Transient(
                        "relay does not offer STARTTLS".to_string(),
                    ));
                }
                c.command("STARTTLS", 220).await?;
                let stream = tls.connect(name, c.stream).await.map_err(transient)?;
                let mut c = Client::new(stream);
                c.ehlo(&config.helo).await?;
                c.deliver(config, mail_from, recipients, raw).await
            }
            (Security::Tls, Some(tls)) => {
                let stream = tls.connect(name, tcp).await.map_err(transient)?;
                let mut c = Client::new(stream);
                c.expect(220, "greeting").await?;
                c.ehlo(&config.helo).await?;
                c.deliver(config, mail_from, recipients, raw).await
            }
            (_, None) => Err(SendError::Transient(
                "relay needs TLS but no trust anchors are loaded".to_string(),
            )),
        }
    };
    match tokio::time::timeout(config.timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(SendError::Transient("relay: timed out".to_string())),
    }
}

struct Client<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn new(stream: S) -> Self {
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// One reply, all its lines: the code and the text of each line.
    async fn reply(&mut self) -> Result<(u16, Vec<String>), SendError> {
        let mut lines = Vec::new();
        loop {
            let line = loop {
                if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = self.buf.drain(..=end).collect();
                    break String::from_utf8_lossy(&line).trim_end().to_string();
                }
                if self.buf.len() > 64 * 1024 {
                    return Err(SendError::Transient("relay: reply too long".into()));
                }
                let mut chunk = [0u8; 4096];
                let n = self
                    .stream
                    .read(&mut chunk)
                    .await
                    .map_err(|e| SendError::Transient(format!("relay: {e}")))?;
                if n == 0 {
                    return Err(SendError::Transient("relay closed the connection".into()));
                }
                self.buf.extend_from_slice(&chunk[..n]);
            };
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .ok_or_else(|| SendError::Transient(format!("relay: bad reply {line:?}")))?;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.get(4..).unwrap_or_default().to_string());
            if last {
                return Ok((code, lines));
            }
        }
    }

    /// Reads a reply and fails unless it has the expected code.
    async fn expect(&mut self, want: u16, what: &str) -> Result<Vec<String>, SendError> {
        let (code, lines) = self.reply().await?;
        if code == want {
            return Ok(lines);
        }
        let text = format!("relay answered {code} {} to {what}", lines.join(" "));
        Err(if code >= 500 {
            SendError::Permanent(text)
        } else {
            SendError::Transient(text)
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| SendError::Transient(format!("relay: {e}")))?;
        self.stream
            .flush()
            .await
            .map_err(|e| SendError::Transient(format!("relay: {e}")))
    }

    async fn command(&mut self, line: &str, want: u16) -> Result<Vec<String>, SendError> {
        self.write(format!("{line}\r\n").as_bytes()).await?;
        let verb = line.split(' ').next().unwrap_or(line);
        self.expect(want, verb).await
    }

    /// EHLO; returns the relay's extensions.
    async fn ehlo(&mut self, helo: &str) -> Result<Vec<String>, SendError> {
        let lines = self.command(&format!("EHLO {helo}"), 250).await?;
        Ok(lines.into_iter().skip(1).collect())
    }

    async fn deliver(
        &mut self,
        config: &RelayConfig,
        mail_from: &str,
        recipients: &[String],
        raw: &[u8],
    ) -> Result<(), SendError> {
        if let (Some(user), Some(pass)) = (&config.username, &config.password) {
            let token = STANDARD.encode(format!("\0{user}\0{pass}"));
            // A refused login is the administrator's to fix, not the
            // message's fault: it is retried, not given up.
            self.command(&format!("AUTH PLAIN {token}"), 235)
                .await
                .map_err(|e| SendError::Transient(e.to_string()))?;
        }
        self.command(&format!("MAIL FROM:<{mail_from}>"), 250)
            .await?;
        for r in recipients {
            if let Err(e) = self.command(&format!("RCPT TO:<{r}>"), 250).await {
                // Nobody gets a message some of its recipients were refused:
                // the agent corrects the address and sends it again.
                let _ = self.command("RSET", 250).await;
                return Err(match e {
                    SendError::Permanent(t) => SendError::Permanent(format!("{r}: {t}")),
                    SendError::Transient(t) => SendError::Transient(format!("{r}: {t}")),
                });
            }
        }
        self.command("DATA", 354).await?;
        self.write(&dot_stuff(raw)).await?;
        self.expect(250, "end of data").await?;
        let _ = self.command("QUIT", 221).await;
        Ok(())
    }
}

/// The message as DATA carries it: CRLF line ends, lines starting with a dot
/// doubled, and the terminating dot line.
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40 + 8);
    let mut start = 0;
    // Line by line: a message is megabytes of short lines.
    while start < raw.len() {
        let end = memchr::memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i);
        let line = &raw[start..end];
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        if end < raw.len() && line.last() == Some(&b'\r') {
            out.push(b'\n');
        } else {
            out.extend_from_slice(b"\r\n");
        }
        start = end + 1;
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::dot_stuff;

    #[test]
    fn dot_stuffing() {
        for (raw, want) in [
            (&b"a\r\n.b\r\n"[..], &b"a\r\n..b\r\n.\r\n"[..]),
            (b".\nx", b"..\r\nx\r\n.\r\n"),
            (b"", b".\r\n"),
            (b"a\n\nb\r\n", b"a\r\n\r\nb\r\n.\r\n"),
            (b"x\r", b"x\r\r\n.\r\n"),
        ] {
            assert_eq!(dot_stuff(raw), want, "{:?}", String::from_utf8_lossy(raw));
        }
    }
}
