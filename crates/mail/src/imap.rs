//! The IMAP4rev1 client the poller fetches with (RFC 3501, with UIDPLUS,
//! MOVE and SASL-IR where the server offers them): just the commands polling
//! needs, over any byte stream, so TLS and plain connections share it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The keyword a stored message is flagged with when it stays in its folder.
pub const STORED_KEYWORD: &str = "$Carecenter";

/// The longest response line read (literals aside).
const MAX_LINE: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("imap: {0}")]
    Io(#[from] std::io::Error),
    /// The server refused a command (`NO`/`BAD`), or said goodbye.
    #[error("imap: {command} refused: {reason}")]
    Refused { command: String, reason: String },
    #[error("imap: {0}")]
    Protocol(String),
}

fn protocol(reason: impl Into<String>) -> ImapError {
    ImapError::Protocol(reason.into())
}

/// One response line, with the literals (`{n}` and the n bytes after it)
/// taken out in order; the text keeps the `{n}` markers.
#[derive(Debug, Default)]
pub struct Line {
    pub text: String,
    pub literals: Vec<Vec<u8>>,
}

impl Line {
    /// The number after `name ` in the text, e.g. `UID 12` or `RFC822.SIZE 34`.
    pub fn number(&self, name: &str) -> Option<u64> {
        let upper = self.text.to_ascii_uppercase();
        let mut from = 0;
        while let Some(at) = upper[from..].find(name) {
            let start = from + at;
            let before_ok = start == 0 || matches!(upper.as_bytes()[start - 1], b' ' | b'(' | b'[');
            let rest = &upper[start + name.len()..];
            if before_ok && let Some(rest) = rest.strip_prefix(' ') {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse() {
                    return Some(n);
                }
            }
            from = start + name.len();
        }
        None
    }
}

/// What the server said in answer to a command.
#[derive(Debug, Default)]
pub struct Reply {
    pub untagged: Vec<Line>,
    /// The text after the tag's `OK`.
    pub status: String,
}

pub struct Session<S> {
    stream: BufReader<S>,
    pub(crate) tag: u32,
    /// The largest literal accepted: a message the size check let through,
    /// with room for a server that counts differently.
    pub max_literal: usize,
    pub capabilities: Vec<String>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// Reads the greeting; fails unless the server is ready for a login.
    pub async fn start(stream: S) -> Result<Session<S>, ImapError> {
        let mut s = Session::resume(stream);
        let greeting = s.read_line().await?;
        if !greeting.text.to_ascii_uppercase().starts_with("* OK") {
            return Err(protocol(format!("greeting: {}", greeting.text)));
        }
        Ok(s)
    }

    /// Goes on over a stream whose greeting was read (after STARTTLS).
    pub fn resume(stream: S) -> Session<S> {
        Session {
            stream: BufReader::new(stream),
            tag: 0,
            max_literal: 64 * 1024 * 1024,
            capabilities: Vec::new(),
        }
    }

    pub fn into_inner(self) -> S {
        self.stream.into_inner()
    }

    pub fn has(&self, capability: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(capability))
    }

    pub async fn capability(&mut self) -> Result<(), ImapError> {
        let reply = self.command("CAPABILITY").await?;
        self.capabilities = reply
            .untagged
            .iter()
            .filter_map(|l| l.text.strip_prefix("* CAPABILITY "))
            .flat_map(|t| t.split_ascii_whitespace().map(String::from))
            .collect();
        Ok(())
    }

    /// AUTHENTICATE PLAIN when the server takes the response inline (so any
    /// byte of a password goes through), LOGIN otherwise.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<(), ImapError> {
        if self.has("SASL-IR") && self.has("AUTH=PLAIN") {
            let token = STANDARD.encode(format!("\0{username}\0{password}"));
            self.command(&format!("AUTHENTICATE PLAIN {token}"))
                .await
                .map_err(hide_secret)?;
        } else {
            let cmd = format!("LOGIN {} {}", quote(username)?, quote(password)?);
            self.command(&cmd).await.map_err(hide_secret)?;
        }
        // Servers may offer more once logged in (e.g. MOVE).
        self.capability().await
    }

    /// Opens a folder; returns its UIDVALIDITY and whether it takes keywords.
    pub async fn select(&mut self, folder: &str) -> Result<Selected, ImapError> {
        let reply = self.command(&format!("SELECT {}", quote(folder)?)).await?;
        let mut selected = Selected::default();
        for l in &reply.untagged {
            if let Some(v) = l.number("UIDVALIDITY") {
                selected.uidvalidity = u32::try_from(v).map_err(|_| protocol("UIDVALIDITY"))?;
            }
            if l.text.contains("[PERMANENTFLAGS") && l.text.contains("\\*") {
                selected.keywords = true;
            }
        }
        if selected.uidvalidity == 0 {
            return Err(protocol("SELECT gave no UIDVALIDITY"));
        }
        Ok(selected)
    }

    /// UIDs of the messages not yet flagged as stored (with keywords), or
    /// not yet seen (without).
    pub async fn unfiled(&mut self, keywords: bool) -> Result<Vec<u32>, ImapError> {
        let cmd = if keywords {
            format!("UNKEYWORD {STORED_KEYWORD}")
        } else {
            "UNSEEN".to_string()
        };
        self.search(&cmd).await
    }

    /// The UIDs a `UID SEARCH` finds, in order.
    pub async fn search(&mut self, criteria: &str) -> Result<Vec<u32>, ImapError> {
        let reply = self.command(&format!("UID SEARCH {criteria}")).await?;
        let mut uids: Vec<u32> = reply
            .untagged
            .iter()
            .filter_map(|l| l.text.strip_prefix("* SEARCH"))
            .flat_map(|t| t.split_ascii_whitespace().filter_map(|n| n.parse().ok()))
            .collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The size of each of these messages.
    pub async fn sizes(&mut self, uids: &[u32]) -> Result<Vec<(u32, u64)>, ImapError> {
        let reply = self
            .command(&format!("UID FETCH {} (UID RFC822.SIZE)", uid_set(uids)))
            .await?;
        Ok(reply
            .untagged
            .iter()
            .filter_map(|l| {
                let uid = u32::try_from(l.number("UID")?).ok()?;
                Some((uid, l.number("RFC822.SIZE")?))
            })
            .collect())
    }

    /// The whole message, or only its header, without setting `\Seen`.
    pub async fn fetch(&mut self, uid: u32, header_only: bool) -> Result<Vec<u8>, ImapError> {
        let part = if header_only { "HEADER" } else { "" };
        let reply = self
            .command(&format!("UID FETCH {uid} (UID BODY.PEEK[{part}])"))
            .await?;
        reply
            .untagged
            .into_iter()
            .find(|l| l.number("UID") == Some(u64::from(uid)))
            .and_then(|l| l.literals.into_iter().next())
            .ok_or_else(|| protocol(format!("no body for UID {uid}")))
    }

    /// Flags messages as stored (and seen), where they are.
    pub async fn flag(&mut self, uids: &[u32], keywords: bool) -> Result<(), ImapError> {
        let flags = if keywords {
            format!("\\Seen {STORED_KEYWORD}")
        } else {
            "\\Seen".to_string()
        };
        self.command(&format!(
            "UID STORE {} +FLAGS.SILENT ({flags})",
            uid_set(uids)
        ))
        .await
        .map(drop)
    }

    /// Moves messages to a folder, creating it when missing: MOVE where the
    /// server has it, else copy, mark deleted and expunge those UIDs.
    pub async fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<(), ImapError> {
        let target = quote(folder)?;
        // NO when it exists already, which is what we want.
        let _ = self.command(&format!("CREATE {target}")).await;
        let mut set = uid_set(uids);
        if self.has("MOVE") {
            let first = self.command(&format!("UID MOVE {set} {target}")).await;
            let Err(ImapError::Refused { .. }) = first else {
                return first.map(drop);
            };
            // Another poller moved some of them first: move what is left.
            let left = self.search(&format!("UID {set}")).await?;
            if left.is_empty() {
                return Ok(());
            }
            set = uid_set(&left);
            return self
                .command(&format!("UID MOVE {set} {target}"))
                .await
                .map(drop);
        }
        self.command(&format!("UID COPY {set} {target}")).await?;
        self.command(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"))
            .await?;
        if self.has("UIDPLUS") {
            self.command(&format!("UID EXPUNGE {set}")).await?;
        }
        Ok(())
    }

    pub async fn logout(&mut self) -> Result<(), ImapError> {
        self.command("LOGOUT").await.map(drop)
    }

    /// Sends a command and reads up to its tagged answer.
    pub async fn command(&mut self, command: &str) -> Result<Reply, ImapError> {
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        let stream = self.stream.get_mut();
        stream
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .await?;
        stream.flush().await?;
        let verb = command
            .split_ascii_whitespace()
            .take(if command.starts_with("UID ") { 2 } else { 1 })
            .collect::<Vec<_>>()
            .join(" ");
        let mut reply = Reply::default();
        loop {
            let line = self.read_line().await?;
            if let Some(rest) = line.text.strip_prefix(&tag) {
                let rest = rest.trim_start();
                let upper = rest.to_ascii_uppercase();
                if upper.starts_with("OK") {
                    reply.status = rest[2..].trim().to_string();
                    return Ok(reply);
                }
                return Err(ImapError::Refused {
                    command: verb,
                    reason: rest.to_string(),
                });
            }
            if line.text.to_ascii_uppercase().starts_with("* BYE") && verb != "LOGOUT" {
                return Err(ImapError::Refused {
                    command: verb,
                    reason: line.text,
                });
            }
            if line.text.starts_with('+') {
                // Nothing we send waits for a continuation: cancel it.
                self.stream.get_mut().write_all(b"*\r\n").await?;
                continue;
            }
            reply.untagged.push(line);
        }
    }

    /// Reads one response line and the literals it announces.
    async fn read_line(&mut self) -> Result<Line, ImapError> {
        let mut line = Line::default();
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let n = (&mut self.stream)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut raw)
                .await?;
            if n == 0 {
                return Err(protocol("connection closed"));
            }
            if !raw.ends_with(b"\n") {
                return Err(protocol("response line too long"));
            }
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_end_matches(['\r', '\n']);
            line.text.push_str(text);
            let Some(size) = literal_size(text) else {
                return Ok(line);
            };
            if size > self.max_literal {
                return Err(protocol(format!("literal of {size} bytes is too large")));
            }
            let mut data = vec![0; size];
            self.stream.read_exact(&mut data).await?;
            line.literals.push(data);
        }
    }
}

/// What SELECT told about a folder.
#[derive(Debug, Default, Clone, Copy)]
pub struct Selected {
    pub uidvalidity: u32,
    /// The server keeps keywords of our own (`\*` in PERMANENTFLAGS).
    pub keywords: bool,
}

/// A failed login's reply may echo what was sent; never log the password.
fn hide_secret(e: ImapError) -> ImapError {
    match e {
        ImapError::Refused { reason, .. } => ImapError::Refused {
            command: "LOGIN".into(),
            reason: reason.chars().take(200).collect(),
        },
        other => other,
    }
}

/// `{123}` or `{123+}` at the end of a line.
fn literal_size(text: &str) -> Option<usize> {
    let inner = text.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    inner[open + 1..].trim_end_matches('+').parse().ok()
}

/// An IMAP quoted string; control characters and 8-bit text cannot be quoted.
pub fn quote(s: &str) -> Result<String, ImapError> {
    if s.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
        return Err(protocol(
            "names and passwords must be printable ASCII for LOGIN",
        ));
    }
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// `1:3,7,9:10` for sorted or unsorted UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_ranges() {
        for (uids, want) in [
            (vec![1, 2, 3, 7, 9, 10], "1:3,7,9:10"),
            (vec![5], "5"),
            (vec![4, 2, 3, 3], "2:4"),
        ] {
            assert_eq!(uid_set(&uids), want);
        }
    }

    #[test]
    fn numbers_are_read_from_fetch_responses() {
        let l = Line {
            text: "* 3 FETCH (UID 17 RFC822.SIZE 2048 BODY[] {2048})".into(),
            literals: vec![],
        };
        assert_eq!(l.number("UID"), Some(17));
        assert_eq!(l.number("RFC822.SIZE"), Some(2048));
        assert_eq!(l.number("UIDVALIDITY"), None);
        assert_eq!(literal_size("* 1 FETCH (BODY[] {34}"), Some(34));
        assert_eq!(literal_size("* OK [UIDVALIDITY 5] {x}"), None);
        assert_eq!(quote(r#"pa"ss\"#).unwrap(), r#""pa\"ss\\""#);
        assert!(quote("密码").is_err());
    }
}
