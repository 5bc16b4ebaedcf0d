//! A realistic, deterministic demo: an outsourcing center serving a car maker's
//! care center and a fund company's hotline. Also the data source of `bench/`.

mod knowledge;
mod words;

use domain::case::*;
use domain::contact::{EmailAddress, PhoneNumber, Region, Vin};
use domain::customer::{Coordinates, CustomerKind};
use domain::ids::*;
use domain::model::*;
pub use domain::rng::Rng;
use domain::role::Role;
use domain::task::TaskStatus;
use jiff::{SignedDuration, Timestamp};
use store::{NewUser, Store, StoreError};
use words::*;

/// The password of every demo user. Only `carecenter demo` uses it.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The token the demo gives a tenant's PBX (`demo-cti-auto`, …): fixed for
/// the demo only, like the password.
pub fn cti_token(prefix: &str) -> String {
    format!("demo-cti-{prefix}")
}

#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub tenant: String,
    pub username: String,
    pub role: Role,
}

pub struct Sizes {
    pub auto_customers: usize,
    pub auto_cases: usize,
    pub fund_customers: usize,
    pub fund_cases: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            auto_customers: 2000,
            auto_cases: 360,
            fund_customers: 400,
            fund_cases: 120,
        }
    }
}

impl Sizes {
    /// The default demo, `n` times over (the benchmarks' larger stores).
    pub fn times(n: usize) -> Sizes {
        let base = Sizes::default();
        Sizes {
            auto_customers: base.auto_customers * n,
            auto_cases: base.auto_cases * n,
            fund_customers: base.fund_customers * n,
            fund_cases: base.fund_cases * n,
        }
    }
}

/// Fills an empty store; returns the logins to print.
pub async fn seed(
    store: &Store,
    password_hash: &str,
    sizes: &Sizes,
    now: Timestamp,
) -> Result<Vec<DemoLogin>, StoreError> {
    let mut rng = Rng::new(20_260_301);
    let mut logins = Vec::new();
    logins.extend(seed_auto(store, password_hash, sizes, now, &mut rng).await?);
    logins.extend(seed_fund(store, password_hash, sizes, now, &mut rng).await?);
    logins.push(operator(store, password_hash, now).await?);
    Ok(logins)
}

/// The outsourcer's operator, who runs both client tenants, at home in the first.
async fn operator(store: &Store, hash: &str, at: Timestamp) -> Result<DemoLogin, StoreError> {
    let home = store.tenant_by_slug("auto").await?;
    let actor = Actor {
        tenant_id: home.id,
        user_id: None,
        channel: None,
    };
    let user = NewUser {
        username: OPERATOR.into(),
        display_name: "平台运营".into(),
        password_hash: hash.into(),
        role: Role::Operator,
        team_id: None,
        department_id: None,
    };
    store.create_user(actor, &user, at).await?;
    Ok(DemoLogin {
        tenant: home.slug,
        username: OPERATOR.into(),
        role: Role::Operator,
    })
}

/// The demo operator's login.
pub const OPERATOR: &str = "auto.operator";

/// The demo's receiving addresses, printed by `carecenter demo`.
pub const DEMO_MAIL_ADDRESSES: &[&str] = &[
    "service@auto.example",
    "complaints@auto.example",
    "service@fund.example",
];

type AddressSpec<'a> = (&'a str, &'a str, CaseType, i64, i64, Option<&'a TeamId>);

async fn mail_addresses(
    store: &Store,
    actor: Actor,
    specs: &[AddressSpec<'_>],
    at: Timestamp,
) -> Result<(), StoreError> {
    for (address, name, case_type, hours, vip_hours, team) in specs {
        let address = EmailAddress::parse(address).map_err(StoreError::Invalid)?;
        store
            .create_mail_address(
                actor,
                &store::MailAddressInput {
                    address,
                    display_name: name.to_string(),
                    case_type: *case_type,
                    category_id: None,
                    team_id: team.copied(),
                    region: None,
                    reply_hours: *hours,
                    vip_reply_hours: *vip_hours,
                    language: "zh-CN".into(),
                },
                at,
            )
            .await?;
    }
    // Two reply templates an agent starts from, and the FAQ the
    // acknowledgement links to.
    for (name, language, subject, body) in [
        (
            "已处理 / resolved",
            "zh-CN",
            "关于您的来信：{{subject}}",
            "{{customer_name}}，您好：\n\n您反映的问题（工单 {{case_number}}）已处理完毕。如仍有疑问，请直接回复本邮件。\n\n{{agent_name}}\n{{signature}}\n",
        ),
        (
            "已处理 / resolved",
            "en",
            "About your message: {{subject}}",
            "Dear {{customer_name}},\n\nThe matter you raised (case {{case_number}}) has been dealt with. Reply to this e-mail if anything is still open.\n\n{{agent_name}}\n{{signature}}\n",
        ),
    ] {
        store
            .save_template(
                actor,
                &store::TemplateInput {
                    kind: domain::template::TemplateKind::Reply,
                    name: name.into(),
                    address_id: None,
                    language: language.into(),
                    subject: subject.into(),
                    body: body.into(),
                },
                at,
            )
            .await?;
    }
    store
        .set_faq_url(actor, Some("https://help.example/faq"), at)
        .await?;
    Ok(())
}

struct Staff {
    agents: Vec<UserId>,
    teams: Vec<TeamId>,
    departments: Vec<(DepartmentId, &'static str)>,
    logins: Vec<DemoLogin>,
}

#[allow(clippy::too_many_arguments)]
async fn staff(
    store: &Store,
    tenant: &Tenant,
    prefix: &str,
    hash: &str,
    teams: &[&str],
    departments: &[(&'static str, i64)],
    agents: usize,
    at: Timestamp,
) -> Result<Staff, StoreError> {
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    let mut logins = Vec::new();
    let mut add = |u: &str, r: Role| {
        logins.push(DemoLogin {
            tenant: tenant.slug.clone(),
            username: u.to_string(),
            role: r,
        });
    };
    let user = |username: String,
                name: String,
                role: Role,
                team: Option<TeamId>,
                dept: Option<DepartmentId>| NewUser {
        username,
        display_name: name,
        password_hash: hash.to_string(),
        role,
        team_id: team,
        department_id: dept,
    };
    store
        .create_user(
            actor,
            &user(
                format!("{prefix}.admin"),
                "系统管理员".into(),
                Role::Admin,
                None,
                None,
            ),
            at,
        )
        .await?;
    add(&format!("{prefix}.admin"), Role::Admin);
    store
        .create_user(
            actor,
            &user(
                format!("{prefix}.supervisor"),
                "周主管".into(),
                Role::Supervisor,
                None,
                None,
            ),
            at,
        )
        .await?;
    add(&format!("{prefix}.supervisor"), Role::Supervisor);
    let mut team_ids = Vec::new();
    for (i, t) in teams.iter().enumerate() {
        let team = store.create_team(actor, t, None, at).await?;
        let lead = user(
            format!("{prefix}.lead{}", i + 1),
            format!("{}班长", SURNAMES[i % SURNAMES.len()]),
            Role::TeamLeader,
            Some(team.id),
            None,
        );
        store.create_user(actor, &lead, at).await?;
        add(&format!("{prefix}.lead{}", i + 1), Role::TeamLeader);
        team_ids.push(team.id);
    }
    let mut agent_ids = Vec::new();
    for i in 0..agents {
        let name = format!(
            "{}{}",
            SURNAMES[(i * 7 + 3) % SURNAMES.len()],
            GIVEN[(i * 5 + 1) % GIVEN.len()]
        );
        let u = store
            .create_user(
                actor,
                &user(
                    format!("{prefix}.agent{}", i + 1),
                    name,
                    Role::Agent,
                    Some(team_ids[i % team_ids.len()]),
                    None,
                ),
                at,
            )
            .await?;
        if i < 2 {
            add(&format!("{prefix}.agent{}", i + 1), Role::Agent);
        }
        agent_ids.push(u.id);
    }
    let mut dept_ids = Vec::new();
    for (i, (d, hours)) in departments.iter().enumerate() {
        let dept = store.create_department(actor, d, None, *hours, at).await?;
        let username = format!("{prefix}.dept{}", i + 1);
        let u = store
            .create_user(
                actor,
                &user(
                    username.clone(),
                    format!("{}（{d}）", GIVEN[i % GIVEN.len()]),
                    Role::DepartmentStaff,
                    None,
                    Some(dept.id),
                ),
                at,
            )
            .await?;
        store
            .set_department_interface(actor, dept.id, u.id, at)
            .await?;
        if i < 2 {
            add(&username, Role::DepartmentStaff);
        }
        dept_ids.push((dept.id, *d));
    }
    store
        .create_user(
            actor,
            &user(
                format!("{prefix}.client"),
                "委托方查看".into(),
                Role::ClientViewer,
                None,
                None,
            ),
            at,
        )
        .await?;
    add(&format!("{prefix}.client"), Role::ClientViewer);
    // The PBX knows the agents by extension (8001, 8002, …); the demo's PBX
    // token is fixed, like its password.
    for (i, a) in agent_ids.iter().enumerate() {
        let ext = format!("8{:03}", i + 1);
        store.set_extension(actor, *a, Some(&ext), at).await?;
    }
    store
        .set_cti_token(actor, &domain::user::token_hash(&cti_token(prefix)), at)
        .await?;
    Ok(Staff {
        agents: agent_ids,
        teams: team_ids,
        departments: dept_ids,
        logins,
    })
}

/// Creates a two-level category tree; returns the leaves.
async fn category_tree(
    store: &Store,
    actor: Actor,
    tree: &[(&str, &[&str])],
    at: Timestamp,
) -> Result<Vec<CategoryId>, StoreError> {
    let mut leaves = Vec::new();
    for (parent, children) in tree {
        let p = store.create_category(actor, None, parent, at).await?;
        for c in *children {
            leaves.push(store.create_category(actor, Some(p.id), c, at).await?.id);
        }
    }
    Ok(leaves)
}

/// Imports the generated rows (all of them, or an error); returns the persons' ids.
async fn import_people(
    store: &Store,
    actor: Actor,
    records: &[ImportRecord],
    at: Timestamp,
) -> Result<People, StoreError> {
    let outcomes = store.import(actor, records, true, at, &|_| {}).await?;
    if let Some(Err(e)) = outcomes.iter().find(|o| o.is_err()) {
        return Err(StoreError::Invalid(e.clone()));
    }
    let everyone = store
        .find_customers(
            actor.tenant_id,
            &store::CustomerLookup::Name(String::new()),
            5000,
        )
        .await?;
    let people: Vec<Customer> = everyone
        .into_iter()
        .filter(|c| c.kind == CustomerKind::Person)
        .collect();
    Ok(People {
        valued: people
            .iter()
            .filter(|c| matches!(c.tier.as_str(), "vip" | "high_value"))
            .map(|c| c.id)
            .collect(),
        all: people.into_iter().map(|c| c.id).collect(),
    })
}

/// The imported people, and those among them served by their own agent.
struct People {
    all: Vec<CustomerId>,
    valued: Vec<CustomerId>,
}

fn person_name(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

fn mobile(rng: &mut Rng) -> PhoneNumber {
    let prefix = rng.pick(&[
        "138", "139", "136", "158", "186", "135", "177", "150", "189", "131",
    ]);
    let n = format!("{prefix}{:08}", rng.below(100_000_000));
    PhoneNumber::parse(&n, Region::CN).expect("generated mobile numbers are valid")
}

fn vin(rng: &mut Rng) -> Vin {
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    let tail: String = (0..14)
        .map(|_| ALNUM[rng.below(ALNUM.len() as u64) as usize] as char)
        .collect();
    Vin::parse(&format!("LCC{tail}")).expect("generated VINs are valid")
}

fn days_ago(now: Timestamp, days: u64, rng: &mut Rng) -> Timestamp {
    let secs = days as i64 * 86_400 + rng.below(86_400) as i64;
    now.checked_sub(SignedDuration::from_secs(secs))
        .unwrap_or(now)
}

/// China's 2026 public holidays and make-up working days (调休).
const CN_HOLIDAYS_2026: &[&str] = &[
    "2026-01-01",
    "2026-01-02",
    "2026-01-03",
    "2026-02-15",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-21",
    "2026-02-22",
    "2026-02-23",
    "2026-04-04",
    "2026-04-05",
    "2026-04-06",
    "2026-05-01",
    "2026-05-02",
    "2026-05-03",
    "2026-05-04",
    "2026-05-05",
    "2026-06-19",
    "2026-06-20",
    "2026-06-21",
    "2026-09-25",
    "2026-09-26",
    "2026-09-27",
    "2026-10-01",
    "2026-10-02",
    "2026-10-03",
    "2026-10-04",
    "2026-10-05",
    "2026-10-06",
    "2026-10-07",
];
const CN_WORKDAYS_2026: &[&str] = &[
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
];

fn target(minutes: u32, business: bool) -> Option<domain::policy::Target> {
    Some(domain::policy::Target { minutes, business })
}

/// A business calendar for the center (Monday to Saturday with a lunch
/// break, China's holidays) and the SLA policies a center starts from; with
/// `rescue`, a 24-hour line whose promises run on the wall clock.
async fn sla_setup(
    store: &Store,
    actor: Actor,
    escalation_team: Option<TeamId>,
    rescue: bool,
    at: Timestamp,
) -> Result<(), StoreError> {
    use domain::policy::{Conditions, Escalation, PolicySpec, Recipient};
    let day = || vec!["08:30-12:00".to_string(), "13:00-18:00".to_string()];
    let spec = domain::calendar::CalendarSpec {
        timezone: "Asia/Shanghai".into(),
        hours: ["mon", "tue", "wed", "thu", "fri", "sat"]
            .iter()
            .map(|d| (d.to_string(), day()))
            .collect(),
        exceptions: domain::calendar::ExceptionsSpec {
            holidays: CN_HOLIDAYS_2026.iter().map(|d| d.to_string()).collect(),
            workdays: CN_WORKDAYS_2026.iter().map(|d| d.to_string()).collect(),
            hours: Default::default(),
        },
    };
    let office = store
        .create_calendar(actor, "客服中心 Service center", &spec, at)
        .await?;
    let base = PolicySpec {
        name: String::new(),
        active: true,
        conditions: Conditions::default(),
        calendar_id: Some(office),
        first_response: None,
        next_response: None,
        resolution: None,
        task: None,
        pause_statuses: vec![CaseStatus::PendingCustomer],
        warn_percent: 80,
        warn_notify: vec![Recipient::Assignee],
        breach: Escalation {
            notify: vec![Recipient::Assignee, Recipient::TeamLeader],
            raise_priority: true,
            move_to_team: None,
        },
        notify_any_time: false,
    };
    let mut policies = Vec::new();
    if rescue {
        policies.push(PolicySpec {
            name: "道路救援 Roadside rescue".into(),
            conditions: Conditions {
                case_types: vec![CaseType::Rescue],
                ..Conditions::default()
            },
            first_response: target(15, false),
            resolution: target(240, false),
            notify_any_time: true,
            ..base.clone()
        });
    }
    policies.push(PolicySpec {
        name: "VIP 投诉 VIP complaints".into(),
        conditions: Conditions {
            case_types: vec![CaseType::Complaint],
            tiers: vec!["vip".into(), "key_account".into()],
            ..Conditions::default()
        },
        first_response: target(60, true),
        next_response: target(120, true),
        resolution: target(960, true),
        task: target(480, true),
        breach: Escalation {
            notify: vec![Recipient::TeamLeader, Recipient::Supervisor],
            raise_priority: true,
            move_to_team: escalation_team,
        },
        ..base.clone()
    });
    policies.push(PolicySpec {
        name: "标准 Standard".into(),
        first_response: target(240, true),
        next_response: target(480, true),
        resolution: target(2400, true),
        task: target(1440, true),
        ..base
    });
    for p in &policies {
        store.create_policy(actor, p, at).await?;
    }
    Ok(())
}

/// Skills, queues and entry rules, added after the history so that only
/// new work is routed: a complaint queue served by the complaint team
/// (overflowing to everyone after ten minutes) above the general e-mail and
/// web queue, and a call-back queue; every agent takes e-mail and web work,
/// the complaint team also complaints.
async fn routing_setup(
    store: &Store,
    actor: Actor,
    s: &Staff,
    valued: &[CustomerId],
    complaints: bool,
    at: Timestamp,
) -> Result<(), StoreError> {
    use domain::routing::{
        AgentProfile, EntryConditions, Overflow, QueueSpec, SkillLevel, Strategy, WorkKind,
    };
    use store::EntryRule;
    let general = store.create_skill(actor, "一般咨询 General", at).await?;
    let skill = |skill, level| SkillLevel { skill, level };
    let mut written = QueueSpec::new(
        QueueId(0),
        "邮件与网页 E-mail and web",
        &[WorkKind::Email, WorkKind::Web, WorkKind::DepartmentReturn],
    );
    written.skills = vec![skill(general, 1)];
    written.offer_timeout_secs = Some(60);
    written.prefer_secs = 600;
    let written = store.save_queue(actor, None, written, at).await?;
    let mut callbacks = QueueSpec::new(
        QueueId(0),
        "回拨 Call-backs",
        &[WorkKind::Callback, WorkKind::FollowUp],
    );
    callbacks.priority = 10;
    callbacks.strategy = Strategy::LeastOccupied;
    callbacks.offer_timeout_secs = Some(30);
    callbacks.wrap_up_secs = 30;
    let callbacks = store.save_queue(actor, None, callbacks, at).await?;
    let mut rules = Vec::new();
    let mut complaint_skill = None;
    if complaints {
        let c = store.create_skill(actor, "投诉处理 Complaints", at).await?;
        complaint_skill = Some(c);
        let mut q = QueueSpec::new(
            QueueId(0),
            "投诉 Complaints",
            &[WorkKind::Email, WorkKind::Web, WorkKind::DepartmentReturn],
        );
        q.skills = vec![skill(c, 2)];
        q.priority = 5;
        q.strategy = Strategy::BestSkill;
        q.offer_timeout_secs = Some(60);
        q.overflow = vec![Overflow {
            after_secs: 600,
            widen_to: None,
            move_to: Some(written.id),
        }];
        let q = store.save_queue(actor, None, q, at).await?;
        rules.push(EntryRule {
            queue_id: q.id,
            conditions: EntryConditions {
                case_types: vec![CaseType::Complaint],
                kinds: vec![WorkKind::Email, WorkKind::Web, WorkKind::DepartmentReturn],
                ..Default::default()
            },
        });
    }
    rules.push(EntryRule {
        queue_id: callbacks.id,
        conditions: EntryConditions {
            kinds: vec![WorkKind::Callback, WorkKind::FollowUp],
            ..Default::default()
        },
    });
    rules.push(EntryRule {
        queue_id: written.id,
        conditions: EntryConditions {
            kinds: written.kinds.clone(),
            ..Default::default()
        },
    });
    store.set_entry_rules(actor, &rules, at).await?;
    let complaint_team = s.teams.get(2).copied();
    for u in store.routing_agents(actor.tenant_id).await? {
        let mut p = AgentProfile {
            skills: vec![skill(general, 3)],
            languages: vec!["zh".into()],
            ..Default::default()
        };
        if let Some(c) = complaint_skill
            && u.team_id.is_some()
            && u.team_id == complaint_team
        {
            p.skills.push(skill(c, 4));
        }
        store.save_routing_profile(actor, u.user_id, p, at).await?;
    }
    // Valued customers get their own agent (the written queue holds their
    // work ten minutes for them).
    if !s.agents.is_empty() {
        for (i, c) in valued.iter().take(40).enumerate() {
            let agent = s.agents[i % s.agents.len()];
            store
                .set_dedicated(actor, *c, Some(agent), None, at)
                .await?;
        }
    }
    Ok(())
}

async fn seed_auto(
    store: &Store,
    hash: &str,
    sizes: &Sizes,
    now: Timestamp,
    rng: &mut Rng,
) -> Result<Vec<DemoLogin>, StoreError> {
    let start = now
        .checked_sub(SignedDuration::from_hours(24 * 120))
        .unwrap_or(now);
    let tenant = store
        .create_tenant("auto", "星途汽车客户关怀中心", "Asia/Shanghai", "CN", start)
        .await?;
    let s = staff(
        store,
        &tenant,
        "auto",
        hash,
        &["售前咨询组", "售后服务组", "投诉处理组"],
        &[
            ("售后服务部", 48),
            ("质量部", 72),
            ("销售部", 24),
            ("财务部", 120),
            ("市场部", 72),
        ],
        10,
        start,
    )
    .await?;
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    mail_addresses(
        store,
        actor,
        &[
            (
                "service@auto.example",
                "星途汽车客服",
                CaseType::Inquiry,
                24,
                4,
                s.teams.get(1),
            ),
            (
                "complaints@auto.example",
                "星途汽车投诉",
                CaseType::Complaint,
                24,
                4,
                s.teams.get(2),
            ),
        ],
        start,
    )
    .await?;
    sla_setup(store, actor, s.teams.get(2).copied(), true, start).await?;
    let cats = category_tree(store, actor, AUTO_CATEGORIES, start).await?;
    knowledge::seed(store, actor, start).await?;
    // Dealers and service stations, then owners with vehicles, then service history.
    let mut records = Vec::new();
    for (i, (city, region, lat, lon)) in CITIES.iter().cycle().take(50).enumerate() {
        let is_dealer = i < 20;
        let kind = if is_dealer {
            CustomerKind::Dealer
        } else {
            CustomerKind::ServiceStation
        };
        let label = if is_dealer {
            "4S店"
        } else {
            "授权服务站"
        };
        records.push(ImportRecord::Customer(CustomerInput {
            kind: Some(kind),
            name: format!(
                "{city}{}{label}",
                ["东区", "西区", "南区", "北区", "中心"][i % 5]
            ),
            external_id: Some(format!(
                "{}-{:03}",
                if is_dealer { "D" } else { "S" },
                i + 1
            )),
            tier: Some("partner".into()),
            region: Some(region.to_string()),
            branch: Some(format!("{city}分公司")),
            address: Some(format!(
                "{city}市{}路{}号",
                rng.pick(STREETS),
                10 + rng.below(800)
            )),
            coordinates: Coordinates::parse(
                lat + (rng.below(200) as f64 - 100.0) / 1000.0,
                lon + (rng.below(200) as f64 - 100.0) / 1000.0,
            )
            .ok(),
            opening_hours: Some(
                if is_dealer {
                    "09:00-18:00"
                } else {
                    "08:00-20:00"
                }
                .into(),
            ),
            phones: vec![
                PhoneNumber::parse(
                    &format!("400-{:03}-{:04}", 100 + i, rng.below(10_000)),
                    Region::CN,
                )
                .expect("valid 400 number"),
            ],
            ..Default::default()
        }));
    }
    for i in 0..sizes.auto_customers {
        let (city, region, _, _) = CITIES[rng.below(CITIES.len() as u64) as usize];
        let name = person_name(rng);
        let vip = rng.below(100) < 8;
        records.push(ImportRecord::Customer(CustomerInput {
            kind: Some(CustomerKind::Person),
            name,
            external_id: Some(format!("C{:06}", i + 1)),
            tier: Some(if vip { "vip" } else { "standard" }.into()),
            region: Some(region.to_string()),
            branch: Some(format!("{city}分公司")),
            address: Some(format!(
                "{city}市{}路{}号",
                rng.pick(STREETS),
                1 + rng.below(999)
            )),
            tags: if rng.below(4) == 0 {
                vec!["车主".into(), "老客户".into()]
            } else {
                vec!["车主".into()]
            },
            phones: vec![mobile(rng)],
            emails: if rng.below(3) == 0 {
                vec![EmailAddress::parse(&format!("owner{}@example.cn", i + 1)).expect("valid")]
            } else {
                vec![]
            },
            ..Default::default()
        }));
        let purchase = days_ago(now, 30 + rng.below(1400), rng);
        records.push(ImportRecord::Vehicle {
            external_id: format!("V{:06}", i + 1),
            customer_external_id: format!("C{:06}", i + 1),
            vin: vin(rng),
            model: Some(rng.pick(MODELS).to_string()),
            plate: Some(format!(
                "{}{}{:05}",
                rng.pick(&["沪", "京", "粤", "川", "浙", "苏"]),
                rng.pick(&["A", "B", "C", "D"]),
                rng.below(100_000)
            )),
            purchase_date: Some(
                purchase
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date()
                    .to_string(),
            ),
            dealer_external_id: Some(format!("D-{:03}", 1 + rng.below(20))),
        });
        for k in 0..rng.below(4) {
            let at = days_ago(now, rng.below(700), rng);
            records.push(ImportRecord::ServiceRecord {
                external_id: format!("R{:06}-{k}", i + 1),
                vehicle_external_id: format!("V{:06}", i + 1),
                station_external_id: Some(format!("S-{:03}", 21 + rng.below(30))),
                service_date: at.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
                kind: rng
                    .pick(&["定期保养", "维修", "钣金喷漆", "召回检修", "轮胎更换"])
                    .to_string(),
                mileage_km: Some(3_000 + rng.below(120_000) as i64),
                description: Some(rng.pick(SERVICE_NOTES).to_string()),
            });
        }
    }
    let people = import_people(store, actor, &records, start).await?;
    cases(
        store,
        &tenant,
        &s,
        &people.all,
        &cats,
        AUTO_CASES,
        sizes.auto_cases,
        now,
        rng,
    )
    .await?;
    routing_setup(store, actor, &s, &people.valued, true, now).await?;
    this_morning(store, &tenant, &s, now, rng).await?;
    Ok(s.logins)
}

/// The center is at work when the demo opens: a few agents logged in (one
/// at lunch), and the hotline's calls of the last two hours reported by
/// the PBX, so the wallboard and team view have something to show.
async fn this_morning(
    store: &Store,
    tenant: &Tenant,
    s: &Staff,
    now: Timestamp,
    rng: &mut Rng,
) -> Result<(), StoreError> {
    use domain::call::{CallDirection, CallEvent};
    use domain::routing::{AgentState, AgentStatus, BreakReason, Event};
    use store::{AgentRef, CallReport};
    let ago = |mins: i64| now - SignedDuration::from_mins(mins);
    for (i, mins) in [(0, 190), (1, 180), (2, 175)] {
        let Some(agent) = s.agents.get(i).copied() else {
            continue;
        };
        let state = AgentState {
            status: AgentStatus::Available,
            reason: None,
        };
        let at = ago(mins);
        let e = Event::State {
            agent,
            state,
            at: at.as_millisecond(),
        };
        store.record_routing(tenant.id, &[e], None, at).await?;
    }
    if let Some(agent) = s.agents.get(1).copied() {
        let state = AgentState {
            status: AgentStatus::Break,
            reason: Some(BreakReason::Lunch),
        };
        let at = ago(12);
        let e = Event::State {
            agent,
            state,
            at: at.as_millisecond(),
        };
        store.record_routing(tenant.id, &[e], None, at).await?;
    }
    for i in 0..14_i64 {
        let start = ago(125 - i * 8);
        let call_ref = format!("demo-{i}");
        let report = |event, at| CallReport {
            event,
            call_ref: call_ref.clone(),
            direction: Some(CallDirection::Inbound),
            caller: Some(format!("139{:08}", 10_000_000 + i * 7_919)),
            callee: Some("400-800-1234".into()),
            number: PhoneNumber::parse(&format!("139{:08}", 10_000_000 + i * 7_919), Region::CN)
                .ok(),
            queue: Some("热线 Hotline".into()),
            agent: None,
            cause: None,
            recording: None,
            talk_secs: None,
            case_number: None,
            at,
        };
        store
            .call_event(tenant, &report(CallEvent::New, start))
            .await?;
        let wait = SignedDuration::from_secs(2 + rng.below(28) as i64);
        if i % 6 == 3 {
            // The caller gave up.
            store
                .call_event(tenant, &report(CallEvent::Hangup, start + wait + wait))
                .await?;
            continue;
        }
        let ext = format!("8{:03}", 1 + (i % 3) * 2 % 3);
        let answered = CallReport {
            agent: Some(AgentRef::Extension(ext)),
            ..report(CallEvent::Answered, start + wait)
        };
        store.call_event(tenant, &answered).await?;
        let talk = SignedDuration::from_secs(120 + rng.below(300) as i64);
        store
            .call_event(tenant, &report(CallEvent::Hangup, start + wait + talk))
            .await?;
    }
    Ok(())
}

async fn seed_fund(
    store: &Store,
    hash: &str,
    sizes: &Sizes,
    now: Timestamp,
    rng: &mut Rng,
) -> Result<Vec<DemoLogin>, StoreError> {
    let start = now
        .checked_sub(SignedDuration::from_hours(24 * 120))
        .unwrap_or(now);
    let tenant = store
        .create_tenant("fund", "汇盈基金客服热线", "Asia/Shanghai", "CN", start)
        .await?;
    let s = staff(
        store,
        &tenant,
        "fund",
        hash,
        &["热线组"],
        &[("运营部", 24), ("合规部", 48)],
        4,
        start,
    )
    .await?;
    let actor = Actor {
        tenant_id: tenant.id,
        user_id: None,
        channel: None,
    };
    mail_addresses(
        store,
        actor,
        &[(
            "service@fund.example",
            "汇盈基金客服",
            CaseType::Inquiry,
            48,
            24,
            s.teams.first(),
        )],
        start,
    )
    .await?;
    sla_setup(store, actor, None, false, start).await?;
    let cats = category_tree(store, actor, FUND_CATEGORIES, start).await?;
    let mut records = Vec::new();
    for i in 0..sizes.fund_customers {
        let (city, region, _, _) = CITIES[rng.below(CITIES.len() as u64) as usize];
        // Accounts over 3 million get dedicated service.
        let high_value = rng.below(100) < 5;
        records.push(ImportRecord::Customer(CustomerInput {
            kind: Some(CustomerKind::Person),
            name: person_name(rng),
            external_id: Some(format!("F{:06}", i + 1)),
            tier: Some(if high_value { "high_value" } else { "standard" }.into()),
            region: Some(region.to_string()),
            branch: Some(city.to_string()),
            tags: if high_value {
                vec!["专属服务".into()]
            } else {
                vec![]
            },
            phones: vec![mobile(rng)],
            accounts: vec![format!("6{:011}", 10_000_000_000 + i as u64 * 7919)],
            ..Default::default()
        }));
    }
    let people = import_people(store, actor, &records, start).await?;
    cases(
        store,
        &tenant,
        &s,
        &people.all,
        &cats,
        FUND_CASES,
        sizes.fund_cases,
        now,
        rng,
    )
    .await?;
    routing_setup(store, actor, &s, &people.valued, false, now).await?;
    Ok(s.logins)
}

#[allow(clippy::too_many_arguments)]
async fn cases(
    store: &Store,
    tenant: &Tenant,
    s: &Staff,
    customers: &[CustomerId],
    cats: &[CategoryId],
    templates: &[(CaseType, &str, &str)],
    count: usize,
    now: Timestamp,
    rng: &mut Rng,
) -> Result<(), StoreError> {
    for _ in 0..count {
        let (case_type, subject, body) = *rng.pick(templates);
        let channel = *rng.pick(&[
            Channel::Phone,
            Channel::Phone,
            Channel::Phone,
            Channel::Email,
            Channel::Web,
            Channel::WalkIn,
            Channel::Fax,
            Channel::Letter,
        ]);
        let opened = days_ago(now, rng.below(90), rng);
        let agent = *rng.pick(&s.agents);
        let actor = Actor {
            tenant_id: tenant.id,
            user_id: Some(agent),
            channel: Some(channel),
        };
        let input = CaseInput {
            case_type,
            channel,
            priority: *rng.pick(&[
                Priority::Normal,
                Priority::Normal,
                Priority::Normal,
                Priority::High,
                Priority::Low,
                Priority::Urgent,
            ]),
            subject: subject.to_string(),
            description: body.to_string(),
            customer_id: Some(*rng.pick(customers)),
            category_id: Some(*rng.pick(cats)),
            assignee_id: if rng.below(10) == 0 {
                None
            } else {
                Some(agent)
            },
            team_id: Some(*rng.pick(&s.teams)),
            custom: Default::default(),
        };
        let kind = channel.first_interaction();
        let first = InteractionInput {
            kind,
            direction: kind.default_direction(),
            started_at: opened,
            ended_at: opened
                .checked_add(SignedDuration::from_secs(60 + rng.below(600) as i64))
                .ok(),
            body: body.to_string(),
            attachments: Vec::new(),
            script_version_id: None,
        };
        let id = store
            .create_case(actor, &tenant.timezone, &input, Some(&first), opened)
            .await?;
        if input.assignee_id.is_none() {
            continue;
        }
        let later = |h: u64| {
            opened
                .checked_add(SignedDuration::from_hours(h as i64))
                .unwrap_or(opened)
        };
        let needs_department = matches!(
            case_type,
            CaseType::Complaint | CaseType::Feedback | CaseType::RepairDispatch
        ) || rng.below(6) == 0;
        if needs_department {
            let (dept, _) = *rng.pick(&s.departments);
            let input = TaskInput {
                department_id: dept,
                assignee_id: None,
                instructions: "请核实情况并在处理时限内答复客服中心。".into(),
                deadline_at: None,
            };
            let task = store.create_task(actor, id, &input, later(1)).await?;
            let age_days = (now.as_second() - opened.as_second()) / 86_400;
            if age_days > 3 {
                let (to, text) = if rng.below(5) == 0 {
                    (
                        TaskStatus::Returned,
                        "信息不全：请补充客户的VIN和维修单号。",
                    )
                } else {
                    (
                        TaskStatus::Answered,
                        "已联系服务站处理完毕，客户问题已解决。",
                    )
                };
                let dept_actor = Actor {
                    user_id: None,
                    ..actor
                };
                store
                    .settle_task(dept_actor, task, to, text, later(20))
                    .await?;
            } else {
                continue;
            }
        }
        let age_days = (now.as_second() - opened.as_second()) / 86_400;
        if age_days > 2 {
            let callback = InteractionInput {
                kind: InteractionKind::Call,
                direction: Direction::Outbound,
                started_at: later(26),
                ended_at: Some(later(26)),
                body: "回访客户：已告知处理结果，客户表示满意。".into(),
                attachments: Vec::new(),
                script_version_id: None,
            };
            store
                .add_interaction(actor, id, &callback, later(26))
                .await?;
            let status = store.case(tenant.id, id).await?.summary.status;
            if status.apply(CaseAction::Resolve).is_ok() {
                store
                    .transition(actor, id, CaseAction::Resolve, later(27))
                    .await?;
                if age_days > 10 {
                    store
                        .transition(actor, id, CaseAction::Close, later(24 * 7))
                        .await?;
                }
            }
        } else if rng.below(3) == 0 {
            store
                .transition(actor, id, CaseAction::WaitForCustomer, later(2))
                .await?;
        }
    }
    Ok(())
}
