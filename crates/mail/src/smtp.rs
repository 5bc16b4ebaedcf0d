//! An SMTP server session (RFC 5321, with SIZE, 8BITMIME, PIPELINING and
//! SMTPUTF8), generic over the stream and over where accepted mail goes.
//! It answers 250 to DATA only once the [`Mailroom`] says the message is
//! durably stored.

use domain::contact::EmailAddress;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The name this server gives in its greeting.
    pub hostname: String,
    pub max_message_bytes: usize,
    pub max_recipients: usize,
    /// A silent client is dropped after this long.
    pub idle_timeout: Duration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            hostname: "carecenter.localhost".into(),
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 100,
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// Whether a recipient is ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rcpt<T> {
    Accept(T),
    Unknown,
    /// The lookup failed for now: the sender should try again later.
    TryLater,
}

/// Where accepted mail goes.
pub trait Mailroom: Send + Sync {
    /// What the mailroom knows of an accepted recipient (its tenant and address).
    type Recipient: Clone + Send + Sync;

    fn recipient(&self, to: &EmailAddress) -> impl Future<Output = Rcpt<Self::Recipient>> + Send;

    /// Stores the message durably; `Err` means it was not stored (4xx).
    fn deliver(
        &self,
        envelope_from: &str,
        to: &[Self::Recipient],
        raw: Vec<u8>,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Whether this client may send another message now.
    fn admit(&self) -> bool {
        true
    }
}

/// Longest command line accepted (RFC 5321 allows 512; SMTPUTF8 addresses need more).
const MAX_LINE: usize = 2048;

enum Line {
    Text(Vec<u8>),
    TooLong,
    Closed,
}

async fn read_line<R: AsyncBufReadExt + Unpin>(r: &mut R, max: usize) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    // A line over the limit is read to its end and dropped, never held.
    let mut too_long = false;
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::Closed,
                (false, false) => Line::Text(buf),
            });
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if too_long || buf.len() + take > max {
            too_long = true;
            buf = Vec::new();
        } else {
            buf.extend_from_slice(&available[..take]);
        }
        r.consume(take);
        if done {
            if too_long {
                return Ok(Line::TooLong);
            }
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            return Ok(Line::Text(buf));
        }
    }
}

/// `<addr>` (with optional parameters after it) from `MAIL FROM:` / `RCPT TO:`.
fn path_and_params(arg: &str) -> Option<(&str, &str)> {
    let arg = arg.trim_start();
    let rest = arg.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((&rest[..end], rest[end + 1..].trim()))
}

/// Runs one SMTP session to its end; with an acceptor, the client may
/// switch to TLS (STARTTLS) and the session starts over inside it.
pub async fn serve<S, M>(
    stream: S,
    cfg: &SmtpConfig,
    room: &M,
    tls: Option<&TlsAcceptor>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    M: Mailroom,
{
    let Some(stream) = session(stream, cfg, room, tls.is_some(), true).await? else {
        return Ok(());
    };
    let Some(acceptor) = tls else {
        return Ok(());
    };
    let stream = acceptor.accept(stream).await?;
    session(stream, cfg, room, false, false).await?;
    Ok(())
}

/// One session; returns the stream when the client asked for STARTTLS.
async fn session<S, M>(
    stream: S,
    cfg: &SmtpConfig,
    room: &M,
    starttls: bool,
    greet: bool,
) -> std::io::Result<Option<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    M: Mailroom,
{
    let (r, mut w) = tokio::io::split(stream);
    let mut r = BufReader::new(r);
    let host = &cfg.hostname;
    if greet {
        w.write_all(format!("220 {host} carecenter ESMTP ready\r\n").as_bytes())
            .await?;
        w.flush().await?;
    }
    let mut greeted = false;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<M::Recipient> = Vec::new();
    loop {
        let line = match tokio::time::timeout(cfg.idle_timeout, read_line(&mut r, MAX_LINE)).await {
            Err(_) => {
                w.write_all(b"421 4.4.2 Idle too long, closing\r\n").await?;
                w.flush().await?;
                return Ok(None);
            }
            Ok(line) => line?,
        };
        let line = match line {
            Line::Closed => return Ok(None),
            Line::TooLong => {
                reply(&mut w, "500 5.5.2 Line too long").await?;
                continue;
            }
            Line::Text(t) => String::from_utf8_lossy(&t).into_owned(),
        };
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.to_string()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        match verb.as_str() {
            "EHLO" => {
                greeted = true;
                from = None;
                rcpts.clear();
                let max = cfg.max_message_bytes;
                let tls = if starttls { "250-STARTTLS\r\n" } else { "" };
                reply(
                    &mut w,
                    &format!(
                        "250-{host}\r\n250-SIZE {max}\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-SMTPUTF8\r\n{tls}250 ENHANCEDSTATUSCODES"
                    ),
                )
                .await?;
            }
            "HELO" => {
                greeted = true;
                from = None;
                rcpts.clear();
                reply(&mut w, &format!("250 {host}")).await?;
            }
            "MAIL" => {
                let Some(a) = strip_keyword(&arg, "FROM:") else {
                    reply(&mut w, "501 5.5.4 Syntax: MAIL FROM:<address>").await?;
                    continue;
                };
                if !greeted {
                    reply(&mut w, "503 5.5.1 Say EHLO first").await?;
                } else if from.is_some() {
                    reply(&mut w, "503 5.5.1 Sender already given").await?;
                } else if let Some((path, params)) = path_and_params(a) {
                    let declared = params
                        .split_whitespace()
                        .find_map(|p| {
                            p.to_ascii_uppercase()
                                .strip_prefix("SIZE=")
                                .map(str::to_string)
                        })
                        .and_then(|n| n.parse::<usize>().ok());
                    if declared.is_some_and(|n| n > cfg.max_message_bytes) {
                        reply(&mut w, "552 5.3.4 Message too big").await?;
                    } else if !room.admit() {
                        reply(
                            &mut w,
                            "450 4.7.1 Too many messages from your address, try later",
                        )
                        .await?;
                    } else {
                        from = Some(path.to_string());
                        reply(&mut w, "250 2.1.0 OK").await?;
                    }
                } else {
                    reply(&mut w, "501 5.1.7 Bad sender address syntax").await?;
                }
            }
            "RCPT" => {
                let Some(a) = strip_keyword(&arg, "TO:") else {
                    reply(&mut w, "501 5.5.4 Syntax: RCPT TO:<address>").await?;
                    continue;
                };
                if from.is_none() {
                    reply(&mut w, "503 5.5.1 Need MAIL before RCPT").await?;
                    continue;
                }
                if rcpts.len() >= cfg.max_recipients {
                    reply(&mut w, "452 4.5.3 Too many recipients").await?;
                    continue;
                }
                let Some(addr) = path_and_params(a).and_then(|(p, _)| EmailAddress::parse(p).ok())
                else {
                    reply(&mut w, "501 5.1.3 Bad recipient address syntax").await?;
                    continue;
                };
                match room.recipient(&addr).await {
                    Rcpt::Accept(r) => {
                        rcpts.push(r);
                        reply(&mut w, "250 2.1.5 OK").await?;
                    }
                    Rcpt::Unknown => reply(&mut w, "550 5.1.1 No such mailbox here").await?,
                    Rcpt::TryLater => reply(&mut w, "451 4.3.0 Try again later").await?,
                }
            }
            "DATA" => {
                if from.is_none() || rcpts.is_empty() {
                    reply(&mut w, "503 5.5.1 Need MAIL and RCPT before DATA").await?;
                    continue;
                }
                reply(&mut w, "354 End data with <CR><LF>.<CR><LF>").await?;
                let body = read_data(&mut r, cfg.max_message_bytes).await?;
                let sender = from.take().unwrap_or_default();
                let to = std::mem::take(&mut rcpts);
                match body {
                    Data::Closed => return Ok(None),
                    Data::TooBig => reply(&mut w, "552 5.3.4 Message too big").await?,
                    Data::Message(raw) => match room.deliver(&sender, &to, raw).await {
                        Ok(()) => reply(&mut w, "250 2.0.0 OK: stored").await?,
                        Err(_) => {
                            reply(
                                &mut w,
                                "451 4.3.0 Could not store the message, try again later",
                            )
                            .await?
                        }
                    },
                }
            }
            "RSET" => {
                from = None;
                rcpts.clear();
                reply(&mut w, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut w, "250 2.0.0 OK").await?,
            "VRFY" => reply(&mut w, "252 2.1.5 Send some mail and see").await?,
            "HELP" => reply(&mut w, "214 2.0.0 See RFC 5321").await?,
            "STARTTLS" if !starttls => reply(&mut w, "454 4.7.0 TLS not available").await?,
            "STARTTLS" => {
                // Commands pipelined before the handshake would be read as
                // if they had come encrypted (RFC 3207 section 5).
                if !r.buffer().is_empty() {
                    reply(&mut w, "501 5.5.4 Nothing may follow STARTTLS").await?;
                    return Ok(None);
                }
                reply(&mut w, "220 2.0.0 Ready to start TLS").await?;
                return Ok(Some(r.into_inner().unsplit(w)));
            }
            "QUIT" => {
                reply(&mut w, "221 2.0.0 Bye").await?;
                return Ok(None);
            }
            _ => reply(&mut w, "500 5.5.2 Command not recognised").await?,
        }
    }
}

fn strip_keyword<'a>(arg: &'a str, kw: &str) -> Option<&'a str> {
    let head = arg.get(..kw.len())?;
    head.eq_ignore_ascii_case(kw).then(|| &arg[kw.len()..])
}

/// One write per reply: split writes would wait on the peer's delayed ACK.
async fn reply<W: AsyncWrite + Unpin>(w: &mut W, text: &str) -> std::io::Result<()> {
    w.write_all(format!("{text}\r\n").as_bytes()).await?;
    w.flush().await
}

enum Data {
    Message(Vec<u8>),
    TooBig,
    Closed,
}

/// Reads a DATA body to the lone dot, undoing dot-stuffing. An oversize body
/// is read to its end and dropped, so the session can go on.
async fn read_data<R: AsyncBufReadExt + Unpin>(r: &mut R, max: usize) -> std::io::Result<Data> {
    let mut out = Vec::new();
    let mut too_big = false;
    loop {
        let start = out.len();
        // Past the limit only a line's first bytes are kept: enough to see the end.
        let keep = if too_big {
            3
        } else {
            max.saturating_sub(start) + 3
        };
        let Some(len) = append_line(r, &mut out, keep).await? else {
            return Ok(Data::Closed);
        };
        while out.len() > start && matches!(out[out.len() - 1], b'\n' | b'\r') {
            out.pop();
        }
        if &out[start..] == b"." {
            out.truncate(start);
            return Ok(if too_big {
                Data::TooBig
            } else {
                Data::Message(out)
            });
        }
        if too_big || len > keep {
            too_big = true;
            out = Vec::new();
            continue;
        }
        if out.get(start) == Some(&b'.') {
            out.remove(start);
        }
        out.extend_from_slice(b"\r\n");
        if out.len() > max {
            too_big = true;
            out = Vec::new();
        }
    }
}

/// Appends the next line, line end included, to `out`, keeping at most
/// `keep` of its bytes; its whole length, or None when the peer closed first.
async fn append_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
    keep: usize,
) -> std::io::Result<Option<usize>> {
    let mut len = 0;
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(None);
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let kept = take.min(keep.saturating_sub(len));
        out.extend_from_slice(&available[..kept]);
        len += take;
        r.consume(take);
        if done {
            return Ok(Some(len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Data, read_data};

    /// What the client sends, the limit, and the message (None: refused as too big).
    type Case = (&'static [u8], usize, Option<&'static [u8]>);

    #[tokio::test]
    async fn data_bodies() {
        let table: &[Case] = &[
            (b"a\r\n..b\r\n.\r\n", 100, Some(b"a\r\n.b\r\n")),
            (b"a\nb\n.\n", 100, Some(b"a\r\nb\r\n")),
            (b".\r\n", 100, Some(b"")),
            (b"abc\r\n.\r\n", 5, Some(b"abc\r\n")),
            (b"abc\r\n.\r\n", 4, None),
            (b"1234567890\r\n..\r\nx\r\n.\r\n", 5, None),
            (b"ab\r\n1234567890123\r\n.\r\n", 8, None),
        ];
        for (sent, max, want) in table {
            let mut r = *sent;
            let got = match read_data(&mut r, *max).await.unwrap() {
                Data::Message(m) => Some(m),
                Data::TooBig => None,
                Data::Closed => panic!("{sent:?}: closed"),
            };
            assert_eq!(got.as_deref(), *want, "{:?}", String::from_utf8_lossy(sent));
            assert!(r.is_empty(), "read to the end: {sent:?}");
        }
        let mut cut: &[u8] = b"abc\r\nde";
        assert!(matches!(
            read_data(&mut cut, 100).await.unwrap(),
            Data::Closed
        ));
    }
}
