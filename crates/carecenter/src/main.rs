//! The carecenter binary: command line, configuration and start-up wiring.

mod config;
mod workforce;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use config::{Config, Overrides};
use domain::calendar::Calendar;
use domain::model::Actor;
use domain::role::Role;
use jiff::Timestamp;
use store::{NewUser, Store};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

#[derive(Parser)]
#[command(
    name = "carecenter",
    version,
    about = "A customer care center in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Overrides),
    /// Run the server on a demo database (created and filled on first start).
    Demo(Overrides),
    /// Import customers, vehicles, orders or service records from CSV (UTF-8 or GBK) or JSON.
    Import {
        #[command(flatten)]
        o: Overrides,
        /// The tenant the rows belong to.
        #[arg(long)]
        tenant: String,
        /// customers, vehicles, orders or service_records.
        #[arg(long)]
        kind: String,
        /// csv or json (default: from the file name).
        #[arg(long)]
        format: Option<String>,
        /// auto, utf-8 or gbk.
        #[arg(long, default_value = "auto")]
        encoding: String,
        /// Write nothing when any row is rejected.
        #[arg(long)]
        strict: bool,
        file: std::path::PathBuf,
    },
    /// Rebuild the search index from the store, with a progress bar. The
    /// server must be stopped; a running one rebuilds on request
    /// (Administration, or POST /api/v1/search/rebuild).
    Reindex(Overrides),
    /// Administration of tenants and users.
    Admin {
        #[command(flatten)]
        o: Overrides,
        #[command(subcommand)]
        action: Admin,
    },
    /// Run the routing engine on generated or historical calls and report
    /// service level, ASA, abandonment and occupancy per interval.
    Simulate(workforce::SimulateArgs),
    /// The fewest agents meeting a service-level goal (Erlang C, or Erlang
    /// A with --patience), with the simulator's check beside it.
    Staffing(workforce::StaffingArgs),
    /// Business-time sums on a calendar file, to check an SLA policy.
    Sla {
        #[command(subcommand)]
        action: Sla,
    },
}

#[derive(Subcommand)]
enum Sla {
    /// The instant N business minutes after a start.
    Due {
        /// A calendar in TOML (timezone, [hours], [exceptions]).
        #[arg(long)]
        calendar: std::path::PathBuf,
        /// RFC 3339, e.g. 2026-09-30T17:30:00+08:00.
        #[arg(long)]
        start: Timestamp,
        #[arg(long)]
        minutes: u32,
    },
    /// The business minutes between two instants.
    Elapsed {
        #[arg(long)]
        calendar: std::path::PathBuf,
        #[arg(long)]
        from: Timestamp,
        #[arg(long)]
        to: Timestamp,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Create a tenant (a client company of the center).
    CreateTenant {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Asia/Shanghai")]
        timezone: String,
        #[arg(long, default_value = "CN")]
        region: String,
    },
    /// Create a user; prints a generated password unless one is given.
    CreateUser {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// admin, supervisor, team_leader, agent, department_staff, client_viewer or operator.
        #[arg(long)]
        role: String,
        #[arg(long, env = "CARECENTER_NEW_PASSWORD")]
        password: Option<String>,
        #[arg(long)]
        department: Option<i64>,
    },
    /// Receive mail at an address: what it sends becomes cases of the tenant.
    AddMailAddress {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        address: String,
        /// The name acknowledgements are signed with.
        #[arg(long)]
        name: String,
        /// The case type mail to this address opens (inquiry, complaint, …).
        #[arg(long, default_value = "inquiry")]
        case_type: String,
        /// The reply time promised to customers, in hours.
        #[arg(long, default_value_t = 24)]
        reply_hours: i64,
        /// The reply time promised to VIP customers, in hours.
        #[arg(long, default_value_t = 4)]
        vip_reply_hours: i64,
        /// zh-CN or en.
        #[arg(long, default_value = "zh-CN")]
        language: String,
    },
    /// Set a new password (generated and printed unless given).
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, env = "CARECENTER_NEW_PASSWORD")]
        password: Option<String>,
    },
}

fn sla(action: Sla) -> anyhow::Result<()> {
    let load = |path: &std::path::Path| -> anyhow::Result<Calendar> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let spec = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        Calendar::parse(&spec).with_context(|| format!("{}", path.display()))
    };
    match action {
        Sla::Due {
            calendar,
            start,
            minutes,
        } => {
            let calendar = load(&calendar)?;
            let due = calendar.due(start, minutes.into())?;
            println!("{}", calendar.show(due));
        }
        Sla::Elapsed { calendar, from, to } => {
            let elapsed = load(&calendar)?.elapsed(from, to)?;
            let seconds = elapsed.as_secs();
            match seconds % 60 {
                0 => println!("{}", seconds / 60),
                _ => println!("{:.2}", seconds as f64 / 60.0),
            }
        }
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli)));
    if let Err(e) = result {
        // One line a newcomer can act on, not a backtrace.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(o) => {
            let config = Config::load(&o)?;
            init_logging(&config);
            let store = open(&config).await?;
            first_admin(&store).await?;
            serve(config, store).await
        }
        Command::Demo(mut o) => {
            // The demo receives mail out of the box.
            o.smtp_listen.get_or_insert_with(|| "127.0.0.1:2525".into());
            let config = Config::load(&o)?;
            init_logging(&config);
            let store = open(&config).await?;
            let logins = demo_data(&store).await?;
            println!("\ncarecenter demo at http://{}/", config.listen);
            println!(
                "Every demo user's password is \"{}\" (demo only).",
                demo::DEMO_PASSWORD
            );
            println!("{:<8} {:<18} role", "tenant", "username");
            for l in logins {
                println!("{:<8} {:<18} {}", l.tenant, l.username, l.role);
            }
            if let Some(smtp) = &config.smtp {
                println!(
                    "\nE-mail: SMTP on {}, addresses {}",
                    smtp.listen,
                    demo::DEMO_MAIL_ADDRESSES.join(", ")
                );
                println!(
                    "  try: swaks --server {} --to {} --from you@example.cn",
                    smtp.listen,
                    demo::DEMO_MAIL_ADDRESSES[0]
                );
            }
            println!(
                "\nPhone (CTI): the PBX token of auto is \"{}\"; agents have extensions 8001, 8002, …\n  \
                 try: curl -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n    \
                 -d '{{\"event\":\"new\",\"call_id\":\"c1\",\"direction\":\"inbound\",\"caller\":\"CUSTOMER PHONE\",\"callee\":\"4008001234\",\"extension\":\"8001\"}}' \\\n    \
                 http://{}/api/v1/cti/events",
                demo::cti_token("auto"),
                demo::cti_token("auto"),
                config.listen
            );
            serve(config, store).await
        }
        Command::Reindex(o) => {
            let config = Config::load(&o)?;
            let store = open(&config).await?;
            reindex(&store, &config.search_dir).await
        }
        Command::Import {
            o,
            tenant,
            kind,
            format,
            encoding,
            strict,
            file,
        } => {
            let config = Config::load(&o)?;
            let store = open(&config).await?;
            import_file(
                &store,
                &tenant,
                &kind,
                format.as_deref(),
                &encoding,
                strict,
                &file,
            )
            .await
        }
        Command::Sla { action } => sla(action),
        Command::Simulate(args) => workforce::simulate(args),
        Command::Staffing(args) => workforce::staffing(args),
        Command::Admin { o, action } => {
            let config = Config::load(&o)?;
            let store = open(&config).await?;
            admin(&store, action).await
        }
    }
}

fn init_logging(config: &Config) {
    let filter: Targets = config
        .log
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(filter))
        .init();
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url)
        .await
        .map_err(anyhow::Error::from)
}

/// This server among others sharing the database (for mailbox leases).
fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "carecenter".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    )
}

async fn serve(config: Config, store: Store) -> anyhow::Result<()> {
    // The index first: it is this server's before anyone is told it listens.
    let index = search::SearchIndex::open(&config.search_dir).map_err(|e| match e.is_busy() {
        true => anyhow::anyhow!(
            "search_dir {}: in use by another process (a running server, or carecenter reindex)",
            config.search_dir.display()
        ),
        false => {
            anyhow::Error::from(e).context(format!("search_dir {}", config.search_dir.display()))
        }
    })?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen: cannot bind {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "carecenter listening");
    // Mail spooled before a crash is filed first: the worker starts with what is pending.
    let intake = mail::Intake::start(store.clone());
    if let Some(smtp) = &config.smtp {
        let smtp_listener = tokio::net::TcpListener::bind(smtp.listen)
            .await
            .with_context(|| format!("smtp_listen: cannot bind {}", smtp.listen))?;
        tracing::info!(address = %smtp_listener.local_addr()?, "smtp listening");
        let cfg = mail::SmtpConfig {
            hostname: smtp.hostname.clone(),
            max_message_bytes: smtp.max_message_bytes,
            ..mail::SmtpConfig::default()
        };
        let tls = match &smtp.tls {
            Some((cert, key)) => Some(mail::tls::acceptor(cert, key).context("smtp_tls_cert")?),
            None => None,
        };
        tokio::spawn(mail::listen(
            smtp_listener,
            intake.clone(),
            cfg,
            mail::ListenerLimits::default(),
            tls,
        ));
    }
    if let Some(imap) = &config.imap {
        // Without trust anchors only plain mailboxes can be polled; a TLS
        // mailbox then shows the reason as its last error.
        let tls = match mail::tls::connector(imap.ca_file.as_deref()) {
            Ok(c) => Some(c),
            Err(e) if imap.ca_file.is_some() => return Err(e).context("imap_ca_file"),
            Err(e) => {
                tracing::warn!(error = %e, "no certificate authorities: IMAP over TLS is off");
                None
            }
        };
        let poller = mail::poller::PollerConfig {
            owner: node_name(),
            tls,
            ..mail::poller::PollerConfig::default()
        };
        tokio::spawn(mail::poller::run(store.clone(), intake.clone(), poller));
    }
    match &config.relay {
        Some(r) => {
            let tls = match r.security {
                mail::relay::Security::None => None,
                _ => Some(mail::tls::connector(r.ca_file.as_deref()).context("relay_ca_file")?),
            };
            let relay = mail::relay::RelayConfig {
                host: r.host.clone(),
                port: r.port,
                security: r.security,
                username: r.username.clone(),
                password: r.password.clone(),
                helo: config
                    .smtp
                    .as_ref()
                    .map(|s| s.hostname.clone())
                    .unwrap_or_else(|| "carecenter.localhost".into()),
                timeout: std::time::Duration::from_secs(120),
            };
            let mut sender = mail::outbox::SenderConfig::new(relay);
            sender.retry_base = std::time::Duration::from_secs(r.retry_seconds);
            tracing::info!(relay = %r.host, port = r.port, "sending mail through the relay");
            mail::outbox::start(store.clone(), sender, tls);
        }
        None => tracing::warn!("no relay_host configured: outgoing mail waits in the outbox"),
    }
    tokio::spawn(escalations(store.clone()));
    let state = web::AppState::new(
        store.clone(),
        config.secure_cookies,
        std::sync::Arc::new(index),
    )
    .with_public_url(&config.public_url);
    web::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    store.close().await;
    Ok(())
}

/// The SLA scheduler: every second, the warnings and breaches now due. A
/// full batch means more are waiting, so it goes on without a pause.
async fn escalations(store: Store) {
    // Small batches: a tick holds the SQLite writer, which mail intake waits for.
    const BATCH: u32 = 50;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        loop {
            match store.sla_tick(Timestamp::now(), BATCH).await {
                Ok(out) if out.warnings + out.breaches >= BATCH as usize => continue,
                Ok(out) => {
                    if out.warnings + out.breaches > 0 {
                        tracing::info!(
                            warnings = out.warnings,
                            breaches = out.breaches,
                            "SLA escalations"
                        );
                    }
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "SLA scheduler tick failed");
                    break;
                }
            }
        }
    }
}

/// On an empty database, a first tenant and administrator so someone can log in.
async fn first_admin(store: &Store) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let now = Timestamp::now();
    let tenant = match store.tenants().await?.into_iter().next() {
        Some(t) => t,
        None => {
            store
                .create_tenant(
                    "default",
                    "Customer Care Center",
                    "Asia/Shanghai",
                    "CN",
                    now,
                )
                .await?
        }
    };
    let password = web::auth::random_password();
    let user = NewUser {
        username: "admin".into(),
        display_name: "Administrator".into(),
        password_hash: web::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?,
        role: Role::Admin,
        team_id: None,
        department_id: None,
    };
    store
        .create_user(
            Actor {
                tenant_id: tenant.id,
                user_id: None,
                channel: None,
            },
            &user,
            now,
        )
        .await?;
    println!(
        "First start: created user \"admin\" in tenant \"{}\" with password {password}",
        tenant.slug
    );
    println!(
        "This password is shown once; change it with `carecenter admin reset-password --username admin`."
    );
    Ok(())
}

async fn demo_data(store: &Store) -> anyhow::Result<Vec<demo::DemoLogin>> {
    if store.tenants().await?.iter().any(|t| t.slug == "auto") {
        return Ok(demo_logins());
    }
    if store.count_users().await? > 0 {
        bail!("this database holds other data; give `demo` an empty --data-dir");
    }
    println!("Creating the demo data (a minute at most)…");
    let hash = web::auth::hash_password(demo::DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(demo::seed(store, &hash, &demo::Sizes::default(), Timestamp::now()).await?)
}

fn demo_logins() -> Vec<demo::DemoLogin> {
    let mut out = Vec::new();
    for (tenant, names) in [
        (
            "auto",
            ["admin", "supervisor", "lead1", "agent1", "dept1", "client"],
        ),
        (
            "fund",
            ["admin", "supervisor", "lead1", "agent1", "dept1", "client"],
        ),
    ] {
        for (n, role) in names.iter().zip([
            Role::Admin,
            Role::Supervisor,
            Role::TeamLeader,
            Role::Agent,
            Role::DepartmentStaff,
            Role::ClientViewer,
        ]) {
            out.push(demo::DemoLogin {
                tenant: tenant.into(),
                username: format!("{tenant}.{n}"),
                role,
            });
        }
    }
    out.push(demo::DemoLogin {
        tenant: "auto".into(),
        username: demo::OPERATOR.into(),
        role: Role::Operator,
    });
    out
}

async fn admin(store: &Store, action: Admin) -> anyhow::Result<()> {
    let now = Timestamp::now();
    match action {
        Admin::CreateTenant {
            slug,
            name,
            timezone,
            region,
        } => {
            if jiff::tz::TimeZone::get(&timezone).is_err() {
                bail!("timezone: {timezone:?} is not an IANA zone such as Asia/Shanghai");
            }
            if domain::contact::Region::from_iso(&region).is_none() {
                bail!("region: {region:?} is not a supported country code such as CN");
            }
            let t = store
                .create_tenant(&slug, &name, &timezone, &region.to_uppercase(), now)
                .await?;
            println!("created tenant {} (id {})", t.slug, t.id);
        }
        Admin::CreateUser {
            tenant,
            username,
            name,
            role,
            password,
            department,
        } => {
            let tenant = store
                .tenant_by_slug(&tenant)
                .await
                .with_context(|| format!("tenant {tenant:?}"))?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            let username = domain::user::username(&username).map_err(|e| anyhow::anyhow!("{e}"))?;
            let (pw, show) = pick_password(password)?;
            let user = NewUser {
                username,
                display_name: name,
                password_hash: web::auth::hash_password(&pw).map_err(|e| anyhow::anyhow!("{e}"))?,
                role,
                team_id: None,
                department_id: department.map(domain::ids::DepartmentId),
            };
            let u = store
                .create_user(
                    Actor {
                        tenant_id: tenant.id,
                        user_id: None,
                        channel: None,
                    },
                    &user,
                    now,
                )
                .await?;
            println!(
                "created user {} (id {}) in {}",
                u.username, u.id, tenant.slug
            );
            if show {
                println!("password: {pw}");
            }
        }
        Admin::AddMailAddress {
            tenant,
            address,
            name,
            case_type,
            reply_hours,
            vip_reply_hours,
            language,
        } => {
            let tenant = store
                .tenant_by_slug(&tenant)
                .await
                .with_context(|| format!("tenant {tenant:?}"))?;
            let field = |e: domain::FieldError| anyhow::anyhow!("{e}");
            if !(1..=24 * 30).contains(&reply_hours) || !(1..=24 * 30).contains(&vip_reply_hours) {
                bail!("reply_hours: must be between 1 and 720");
            }
            if !["zh-CN", "en"].contains(&language.as_str()) {
                bail!("language: must be zh-CN or en");
            }
            let a = store
                .create_mail_address(
                    Actor {
                        tenant_id: tenant.id,
                        user_id: None,
                        channel: None,
                    },
                    &store::MailAddressInput {
                        address: domain::mail::parse_address(&address).map_err(field)?,
                        display_name: name,
                        case_type: domain::case::CaseType::parse(&case_type).map_err(field)?,
                        category_id: None,
                        team_id: None,
                        region: None,
                        reply_hours,
                        vip_reply_hours,
                        language,
                    },
                    now,
                )
                .await?;
            println!(
                "{} now receives mail for {}",
                a.settings.address, tenant.slug
            );
        }
        Admin::ResetPassword { username, password } => {
            let (user, _) = store
                .login_candidate(&username)
                .await?
                .with_context(|| format!("no user {username:?}"))?;
            let (pw, show) = pick_password(password)?;
            let hash = web::auth::hash_password(&pw).map_err(|e| anyhow::anyhow!("{e}"))?;
            store
                .set_password(
                    Actor {
                        tenant_id: user.tenant_id,
                        user_id: None,
                        channel: None,
                    },
                    user.id,
                    &hash,
                    now,
                )
                .await?;
            println!("password of {username} changed; their sessions were ended");
            if show {
                println!("password: {pw}");
            }
        }
    }
    Ok(())
}

async fn import_file(
    store: &Store,
    tenant: &str,
    kind: &str,
    format: Option<&str>,
    encoding: &str,
    strict: bool,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let tenant = store
        .tenant_by_slug(tenant)
        .await
        .with_context(|| format!("tenant {tenant:?}"))?;
    let field = |e: domain::FieldError| anyhow::anyhow!("{e}");
    let kind = import::Kind::parse(kind).map_err(field)?;
    let encoding = import::Encoding::parse(encoding).map_err(field)?;
    let json = match format {
        Some("json") => true,
        Some("csv") => false,
        Some(other) => bail!("format: {other:?} must be csv or json"),
        None => file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json")),
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // Lines approximate rows well enough for a progress bar.
    let total = bytes.iter().filter(|b| **b == b'\n').count().max(1);
    let options = import::Options {
        kind,
        format: if json {
            import::Format::Json
        } else {
            import::Format::Csv
        },
        encoding,
        strict,
    };
    let region =
        domain::contact::Region::from_iso(&tenant.region).unwrap_or(domain::contact::Region::CN);
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    let started = std::time::Instant::now();
    let bar = |done: usize| progress_bar(done, total, "rows");
    let report = import::run(store, actor, region, &options, &bytes, &bar)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    eprintln!();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} rows in {secs:.1} s: {} created, {} updated, {} rejected{}",
        report.rows,
        report.created,
        report.updated,
        report.rejected.len(),
        if report.written {
            ""
        } else {
            "; nothing written (--strict)"
        }
    );
    for r in report.rejected.iter().take(100) {
        println!("row {}: {}: {}", r.row, r.field, r.reason);
    }
    if report.rejected.len() > 100 {
        println!("… and {} more", report.rejected.len() - 100);
    }
    if !report.written {
        bail!("the file was not imported");
    }
    Ok(())
}

fn pick_password(given: Option<String>) -> anyhow::Result<(String, bool)> {
    match given {
        Some(p) => domain::user::password(&p)
            .map(|p| (p, false))
            .map_err(|e| anyhow::anyhow!("{e}")),
        None => Ok((web::auth::random_password(), true)),
    }
}

/// A line that redraws itself: `[#####     ] 512/1024 rows`.
fn progress_bar(done: usize, total: usize, what: &str) {
    let total = total.max(1);
    let filled = (done * 30 / total).min(30);
    eprint!(
        "\r[{}{}] {done}/{total} {what}",
        "#".repeat(filled),
        " ".repeat(30 - filled)
    );
}

/// Throws the search index away and reads every document from the store again.
async fn reindex(store: &Store, dir: &std::path::Path) -> anyhow::Result<()> {
    let index = match search::SearchIndex::open(dir) {
        Ok(i) => std::sync::Arc::new(i),
        Err(e) if e.is_busy() => bail!(
            "the search index in {} is in use by a running server: ask it to rebuild instead \
             (Administration, or POST /api/v1/search/rebuild)",
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("search_dir {}", dir.display())),
    };
    index.clear()?;
    let total = store.search_document_count().await? as usize;
    let started = std::time::Instant::now();
    let mut mark = store::FeedMark::default();
    let mut done = 0;
    loop {
        let (next, more, n) = web::finder::feed_once(store, &index, mark)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        mark = next;
        done += n;
        progress_bar(done, total, "documents");
        if !more {
            break;
        }
    }
    eprintln!();
    let secs = started.elapsed().as_secs_f64().max(0.001);
    println!(
        "{done} documents indexed in {secs:.1} s ({:.0} a second); the index holds {}",
        done as f64 / secs,
        index.len()
    );
    Ok(())
}
