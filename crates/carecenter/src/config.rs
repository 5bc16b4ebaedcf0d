//! Configuration: defaults, then a TOML file, then `CARECENTER_*` variables and
//! command-line flags (clap reads both); validated before anything starts.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// Where the search index lives (default: `search` in the data directory).
    pub search_dir: Option<PathBuf>,
    pub secure_cookies: Option<bool>,
    /// Where customers reach the server, e.g. https://care.example.com: the
    /// private case links in acknowledgement mail (default: http://LISTEN).
    pub public_url: Option<String>,
    pub log: Option<String>,
    pub smtp_listen: Option<String>,
    pub smtp_hostname: Option<String>,
    pub smtp_max_message_mb: Option<usize>,
    pub smtp_tls_cert: Option<PathBuf>,
    pub smtp_tls_key: Option<PathBuf>,
    pub relay_host: Option<String>,
    pub relay_port: Option<u16>,
    pub relay_security: Option<String>,
    pub relay_username: Option<String>,
    pub relay_password: Option<String>,
    pub relay_ca_file: Option<PathBuf>,
    pub relay_retry_seconds: Option<u64>,
    pub imap_poll: Option<bool>,
    pub imap_ca_file: Option<PathBuf>,
}

/// Options given by flag or environment; they win over the file.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// A TOML configuration file.
    #[arg(long, env = "CARECENTER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, env = "CARECENTER_LISTEN")]
    pub listen: Option<String>,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "CARECENTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://USER@HOST/DB (or sqlite:PATH) instead of the data directory.
    #[arg(long, env = "CARECENTER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Address of the SMTP listener for incoming mail, e.g. 0.0.0.0:25 (off when unset).
    #[arg(long, env = "CARECENTER_SMTP_LISTEN")]
    pub smtp_listen: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub search_dir: PathBuf,
    pub secure_cookies: bool,
    pub public_url: String,
    pub log: String,
    pub smtp: Option<Smtp>,
    pub relay: Option<Relay>,
    pub imap: Option<Imap>,
}

/// The poller of the mailboxes administrators set up in the UI.
#[derive(Debug, Clone)]
pub struct Imap {
    /// Trust anchors for the servers' certificates (the system bundle if unset).
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub listen: SocketAddr,
    pub hostname: String,
    pub max_message_bytes: usize,
    /// Certificate chain and key (PEM) offered by STARTTLS.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// Where outgoing mail is handed over.
#[derive(Debug, Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub security: mail::relay::Security,
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub retry_seconds: u64,
}

/// A setting from its `CARECENTER_*` variable, else from the file.
fn env_or<T: std::str::FromStr>(key: &str, file: Option<T>) -> anyhow::Result<Option<T>> {
    let name = format!("CARECENTER_{}", key.to_ascii_uppercase());
    match std::env::var(&name) {
        Ok(v) => v
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{key}: {v:?} (from {name}) is not valid")),
        Err(_) => Ok(file),
    }
}

impl Config {
    pub fn load(o: &Overrides) -> anyhow::Result<Config> {
        let file = match &o.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let log = std::env::var("CARECENTER_LOG")
            .ok()
            .or(file.log)
            .unwrap_or_else(|| "info".into());
        if !log_filter_ok(&log) {
            bail!("log: {log:?} is not a level such as info or carecenter=debug");
        }
        let listen_raw = o
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_raw.parse().with_context(|| {
            format!("listen: {listen_raw:?} is not an address such as 127.0.0.1:8080")
        })?;
        let public_url =
            env_or("public_url", file.public_url)?.unwrap_or_else(|| format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
            || public_url.contains(char::is_whitespace)
        {
            bail!("public_url: {public_url:?} is not an address such as https://care.example.com");
        }
        let data_dir = o.data_dir.clone().or(file.data_dir);
        let search_dir = env_or("search_dir", file.search_dir)?.unwrap_or_else(|| {
            data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("data"))
                .join("search")
        });
        let database_url = match (o.database_url.clone().or(file.database_url), data_dir) {
            (Some(url), _) => {
                if !(url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"))
                {
                    bail!(
                        "database_url: unsupported scheme in {url:?}; use postgres://USER@HOST/DB or sqlite:PATH"
                    );
                }
                url
            }
            (None, dir) => sqlite_in(&dir.unwrap_or_else(|| PathBuf::from("data")))?,
        };
        let smtp = match o.smtp_listen.clone().or(file.smtp_listen) {
            Some(raw) => {
                let listen: SocketAddr = raw.parse().with_context(|| {
                    format!("smtp_listen: {raw:?} is not an address such as 0.0.0.0:25")
                })?;
                let mb = file.smtp_max_message_mb.unwrap_or(25);
                if !(1..=200).contains(&mb) {
                    bail!("smtp_max_message_mb: {mb} is not between 1 and 200");
                }
                let tls = match (
                    env_or("smtp_tls_cert", file.smtp_tls_cert)?,
                    env_or("smtp_tls_key", file.smtp_tls_key)?,
                ) {
                    (Some(c), Some(k)) => Some((c, k)),
                    (None, None) => None,
                    _ => bail!("smtp_tls_cert and smtp_tls_key: give both or neither"),
                };
                Some(Smtp {
                    listen,
                    hostname: file
                        .smtp_hostname
                        .unwrap_or_else(|| "carecenter.localhost".into()),
                    max_message_bytes: mb * 1024 * 1024,
                    tls,
                })
            }
            None => None,
        };
        let relay = match env_or("relay_host", file.relay_host)? {
            Some(host) => {
                let raw = env_or("relay_security", file.relay_security)?
                    .unwrap_or_else(|| "starttls".into());
                let Ok(security) = mail::relay::Security::parse(&raw) else {
                    bail!("relay_security: {raw:?} is not none, starttls or tls");
                };
                let default_port = match security {
                    mail::relay::Security::None => 25,
                    mail::relay::Security::StartTls => 587,
                    mail::relay::Security::Tls => 465,
                };
                let retry_seconds =
                    env_or("relay_retry_seconds", file.relay_retry_seconds)?.unwrap_or(60);
                if retry_seconds == 0 {
                    bail!("relay_retry_seconds: must be at least 1");
                }
                let username = env_or("relay_username", file.relay_username)?;
                let password = env_or("relay_password", file.relay_password)?;
                if username.is_some() != password.is_some() {
                    bail!("relay_username and relay_password: give both or neither");
                }
                Some(Relay {
                    host,
                    port: env_or("relay_port", file.relay_port)?.unwrap_or(default_port),
                    security,
                    username,
                    password,
                    ca_file: env_or("relay_ca_file", file.relay_ca_file)?,
                    retry_seconds,
                })
            }
            None => None,
        };
        let imap = match env_or("imap_poll", file.imap_poll)? {
            Some(false) => None,
            _ => Some(Imap {
                ca_file: env_or("imap_ca_file", file.imap_ca_file)?,
            }),
        };
        Ok(Config {
            listen,
            database_url,
            search_dir,
            secure_cookies: file.secure_cookies.unwrap_or(false),
            public_url,
            log,
            smtp,
            relay,
            imap,
        })
    }
}

/// `info`, or `info,store=debug`: a bare word must be a level, not a typo taken for a target.
fn log_filter_ok(log: &str) -> bool {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    log.parse::<tracing_subscriber::filter::Targets>().is_ok()
        && log.split(',').all(|d| match d.split_once('=') {
            Some((_, level)) => LEVELS.contains(&level.trim().to_ascii_lowercase().as_str()),
            None => LEVELS.contains(&d.trim().to_ascii_lowercase().as_str()),
        })
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("config file {}: {}", path.display(), e.message()))
}

/// The SQLite database inside a data directory, creating the directory.
pub fn sqlite_in(dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("data_dir: cannot create {}", dir.display()))?;
    Ok(format!("sqlite:{}", dir.join("carecenter.db").display()))
}
