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
    pub secure_cookies: Option<bool>,
    pub log: Option<String>,
    pub smtp_listen: Option<String>,
    pub smtp_hostname: Option<String>,
    pub smtp_max_message_mb: Option<usize>,
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
    pub secure_cookies: bool,
    pub log: String,
    pub smtp: Option<Smtp>,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub listen: SocketAddr,
    pub hostname: String,
    pub max_message_bytes: usize,
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
        let database_url = match (
            o.database_url.clone().or(file.database_url),
            o.data_dir.clone().or(file.data_dir),
        ) {
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
                Some(Smtp {
                    listen,
                    hostname: file
                        .smtp_hostname
                        .unwrap_or_else(|| "carecenter.localhost".into()),
                    max_message_bytes: mb * 1024 * 1024,
                })
            }
            None => None,
        };
        Ok(Config {
            listen,
            database_url,
            secure_cookies: file.secure_cookies.unwrap_or(false),
            log,
            smtp,
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
