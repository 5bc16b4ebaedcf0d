//! Every endpoint × every role × own tenant / other tenant gets the expected status.

use crate::harness::*;
use domain::case::*;
use domain::ids::*;
use domain::model::{
    Actor, AttachmentInput, CaseInput, CustomerInput, InteractionInput, TaskInput,
};
use domain::role::{Permission, Role};
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use Permission as P;

/// (method, path, body, permission). `None` means any signed-in user.
/// `{case}`, `{customer}`, `{task}`, `{user}`, `{token}`, `{number}` and `{sha}`
/// become fresh rows of tenant a for every call; `{n}` a unique number.
const ENDPOINTS: &[(&str, &str, &str, Option<Permission>)] = &[
    ("GET", "/api/v1/me", "", None),
    ("GET", "/api/v1/tokens", "", None),
    ("POST", "/api/v1/tokens", r#"{"name":"t{n}"}"#, None),
    ("DELETE", "/api/v1/tokens/{token}", "", None),
    (
        "GET",
        "/api/v1/customers?phone=13800138000",
        "",
        Some(P::ReadCases),
    ),
    (
        "POST",
        "/api/v1/customers",
        r#"{"name":"c{n}"}"#,
        Some(P::WorkCases),
    ),
    (
        "GET",
        "/api/v1/customers/{customer}",
        "",
        Some(P::ReadCases),
    ),
    (
        "PUT",
        "/api/v1/customers/{customer}",
        r#"{"name":"renamed"}"#,
        Some(P::WorkCases),
    ),
    (
        "GET",
        "/api/v1/customers/{customer}/cases",
        "",
        Some(P::ReadCases),
    ),
    (
        "PUT",
        "/api/v1/customers/{customer}/dedicated",
        r#"{"agent_id":{me}}"#,
        Some(P::Supervise),
    ),
    (
        "GET",
        "/api/v1/organizations?kind=dealer",
        "",
        Some(P::ReadCases),
    ),
    ("GET", "/api/v1/cases", "", Some(P::ReadCases)),
    (
        "POST",
        "/api/v1/cases",
        r#"{"type":"inquiry","channel":"phone","subject":"s"}"#,
        Some(P::WorkCases),
    ),
    (
        "GET",
        "/api/v1/cases/by-number/{number}",
        "",
        Some(P::ReadCases),
    ),
    ("GET", "/api/v1/cases/{case}", "", Some(P::ReadCases)),
    (
        "PATCH",
        "/api/v1/cases/{case}",
        r#"{"priority":"high"}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/cases/{case}/transitions",
        r#"{"action":"open"}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/cases/{case}/interactions",
        r#"{"body":"note"}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/cases/{case}/links",
        r#"{"related_id":{case2}}"#,
        Some(P::WorkCases),
    ),
    // Into itself: refused after the permission check, so no case closes.
    (
        "POST",
        "/api/v1/cases/{case}/merge",
        r#"{"duplicate_id":{case}}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/cases/{case}/tasks",
        r#"{"department_id":{dept},"instructions":"x"}"#,
        Some(P::AssignTasks),
    ),
    ("GET", "/api/v1/attachments/{sha}", "", Some(P::ReadCases)),
    ("GET", "/api/v1/tasks", "", Some(P::ReadTasks)),
    ("GET", "/api/v1/tasks/{task}", "", Some(P::ReadTasks)),
    (
        "POST",
        "/api/v1/tasks/{task}/answer",
        r#"{"answer":"done"}"#,
        Some(P::AnswerTasks),
    ),
    (
        "POST",
        "/api/v1/tasks/{task}/return",
        r#"{"reason":"not ours"}"#,
        Some(P::AnswerTasks),
    ),
    ("GET", "/api/v1/users", "", Some(P::Administer)),
    (
        "POST",
        "/api/v1/users",
        r#"{"username":"u{n}","display_name":"U","role":"agent"}"#,
        Some(P::Administer),
    ),
    (
        "PATCH",
        "/api/v1/users/{user}",
        r#"{"active":false}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/teams", "", Some(P::ReadCases)),
    (
        "POST",
        "/api/v1/teams",
        r#"{"name":"team {n}"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/departments", "", Some(P::ReadTasks)),
    (
        "POST",
        "/api/v1/departments",
        r#"{"name":"dept {n}"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/categories", "", Some(P::ReadCases)),
    (
        "POST",
        "/api/v1/categories",
        r#"{"name":"cat {n}"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/custom-fields", "", Some(P::ReadCases)),
    // Unchanged entries: the permission and the tenant are what is tested here.
    (
        "PATCH",
        "/api/v1/teams/{team}",
        r#"{"name":"team {n}","active":true}"#,
        Some(P::Administer),
    ),
    (
        "PATCH",
        "/api/v1/departments/{dept}",
        r#"{"name":"dept {n}","active":true}"#,
        Some(P::Administer),
    ),
    (
        "PATCH",
        "/api/v1/categories/{category}",
        r#"{"name":"cat {n}","active":true}"#,
        Some(P::Administer),
    ),
    (
        "PATCH",
        "/api/v1/custom-fields/{field}",
        r#"{"label":"field {n}","active":true}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/tenants", "", Some(P::ManageTenants)),
    ("GET", "/api/v1/search?q=x", "", Some(P::ReadCases)),
    ("POST", "/api/v1/search/rebuild", "{}", Some(P::Administer)),
    (
        "GET",
        "/api/v1/cases/{case}/suggestions",
        "",
        Some(P::ReadCases),
    ),
    ("GET", "/api/v1/kb/categories", "", Some(P::ReadCases)),
    (
        "POST",
        "/api/v1/kb/categories",
        r#"{"name":"k{n}"}"#,
        Some(P::EditKnowledge),
    ),
    ("GET", "/api/v1/articles", "", Some(P::ReadCases)),
    (
        "POST",
        "/api/v1/articles",
        r#"{"title":"t","body":"b","source":"s"}"#,
        Some(P::EditKnowledge),
    ),
    ("GET", "/api/v1/articles/{article}", "", Some(P::ReadCases)),
    (
        "PUT",
        "/api/v1/articles/{article}",
        r#"{"title":"t","body":"b","source":"s","base_version":1}"#,
        Some(P::EditKnowledge),
    ),
    (
        "PATCH",
        "/api/v1/articles/{article}",
        r#"{"active":true}"#,
        Some(P::EditKnowledge),
    ),
    (
        "GET",
        "/api/v1/articles/{article}/versions",
        "",
        Some(P::ReadCases),
    ),
    (
        "POST",
        "/api/v1/articles/{article}/read",
        "",
        Some(P::ReadCases),
    ),
    (
        "GET",
        "/api/v1/articles/{article}/readers",
        "",
        Some(P::Supervise),
    ),
    ("GET", "/api/v1/scripts", "", Some(P::ReadCases)),
    (
        "POST",
        "/api/v1/scripts",
        r#"{"name":"s{n}","steps":[{"id":"a","title":"a"}]}"#,
        Some(P::EditKnowledge),
    ),
    ("GET", "/api/v1/scripts/{script}", "", Some(P::ReadCases)),
    (
        "PUT",
        "/api/v1/scripts/{script}",
        r#"{"name":"s{n}","base_version":1,"steps":[{"id":"b","title":"b"}]}"#,
        Some(P::EditKnowledge),
    ),
    (
        "PATCH",
        "/api/v1/scripts/{script}",
        r#"{"active":false}"#,
        Some(P::EditKnowledge),
    ),
    (
        "GET",
        "/api/v1/scripts/{script}/versions",
        "",
        Some(P::ReadCases),
    ),
    (
        "GET",
        "/api/v1/cases/{case}/scripts",
        "",
        Some(P::ReadCases),
    ),
    (
        "GET",
        "/api/v1/articles/{article}/files/{article_file}",
        "",
        Some(P::ReadCases),
    ),
    (
        "GET",
        "/api/v1/cases/{case}/articles",
        "",
        Some(P::ReadCases),
    ),
    (
        "POST",
        "/api/v1/cases/{case}/articles",
        r#"{"article_id":{article},"version":1}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/tenants",
        r#"{"slug":"t{n}","name":"T","admin_username":"t{n}.admin","admin_display_name":"A"}"#,
        Some(P::ManageTenants),
    ),
    // An operator reaches every tenant, so tenant a's is no other tenant's row.
    (
        "PATCH",
        "/api/v1/tenants/{tenant}",
        r#"{"name":"Tenant a {n}"}"#,
        Some(P::ManageTenants),
    ),
    (
        "PATCH",
        "/api/v1/tenant",
        r#"{"name":"Tenant a {n}"}"#,
        Some(P::Administer),
    ),
    // A GIF's signature is plain text: enough for the logo check.
    ("PUT", "/api/v1/tenant/logo", "GIF89a;", Some(P::Administer)),
    ("DELETE", "/api/v1/tenant/logo", "", Some(P::Administer)),
    (
        "POST",
        "/api/v1/custom-fields",
        r#"{"key":"f{n}","label":"F","kind":"text"}"#,
        Some(P::Administer),
    ),
    (
        "POST",
        "/api/v1/import/{kind}?format=json",
        r#"[{"external_id":"x{n}","name":"n"}]"#,
        Some(P::Import),
    ),
    ("GET", "/api/v1/reports/summary", "", Some(P::ViewReports)),
    ("GET", "/api/v1/audit", "", Some(P::ViewAudit)),
    (
        "POST",
        "/api/v1/cases/{case}/replies",
        r#"{"to":["c{n}@example.cn"],"body":"hi"}"#,
        Some(P::WorkCases),
    ),
    ("GET", "/api/v1/cases/{case}/mail", "", Some(P::ReadCases)),
    (
        "GET",
        "/api/v1/cases/{case}/templates/{template}",
        "",
        Some(P::WorkCases),
    ),
    ("GET", "/api/v1/mail/addresses", "", Some(P::Administer)),
    (
        "POST",
        "/api/v1/mail/addresses",
        r#"{"address":"m{n}@a.example","display_name":"M"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/mail/settings", "", Some(P::Administer)),
    (
        "PUT",
        "/api/v1/mail/settings",
        r#"{"faq_url":"https://faq.example/"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/mail/templates", "", Some(P::WorkCases)),
    (
        "POST",
        "/api/v1/mail/templates",
        r#"{"kind":"reply","name":"t{n}","language":"en","subject":"s","body":"Hi {{customer_name}}"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/mail/mailboxes", "", Some(P::Administer)),
    (
        "POST",
        "/api/v1/mail/mailboxes",
        r#"{"host":"imap{n}.example","username":"u{n}","password":"p","enabled":false}"#,
        Some(P::Administer),
    ),
    (
        "PUT",
        "/api/v1/mail/mailboxes/{mailbox}",
        r#"{"host":"imap{n}.example","username":"u{n}","enabled":false}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/mail/inbound", "", Some(P::ViewMailLog)),
    ("GET", "/api/v1/mail/outbound", "", Some(P::ViewMailLog)),
    (
        "GET",
        "/api/v1/mail/outbound/{outbound}/source",
        "",
        Some(P::ViewMailLog),
    ),
    ("GET", "/api/v1/notifications", "", None),
    ("POST", "/api/v1/notifications/read", "", None),
    ("GET", "/api/v1/calendars", "", Some(P::Administer)),
    (
        "POST",
        "/api/v1/calendars",
        r#"{"name":"c{n}","timezone":"Asia/Shanghai","hours":{"mon":["09:00-18:00"]}}"#,
        Some(P::Administer),
    ),
    (
        "GET",
        "/api/v1/calendars/{calendar}",
        "",
        Some(P::Administer),
    ),
    (
        "PUT",
        "/api/v1/calendars/{calendar}",
        r#"{"name":"c{n}","timezone":"UTC","hours":{"tue":["09:00-18:00"]}}"#,
        Some(P::Administer),
    ),
    (
        "DELETE",
        "/api/v1/calendars/{calendar}",
        "",
        Some(P::Administer),
    ),
    (
        "POST",
        "/api/v1/calendars/{calendar}/holidays",
        r#"{"ics":"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261001\nEND:VEVENT\nEND:VCALENDAR\n"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/sla-policies", "", Some(P::Administer)),
    (
        "POST",
        "/api/v1/sla-policies",
        r#"{"name":"p{n}","resolution":{"minutes":60}}"#,
        Some(P::Administer),
    ),
    (
        "GET",
        "/api/v1/sla-policies/{policy}",
        "",
        Some(P::Administer),
    ),
    (
        "PUT",
        "/api/v1/sla-policies/{policy}",
        r#"{"name":"p{n}","first_response":{"minutes":60}}"#,
        Some(P::Administer),
    ),
    (
        "DELETE",
        "/api/v1/sla-policies/{policy}",
        "",
        Some(P::Administer),
    ),
    (
        "POST",
        "/api/v1/sla-policies/{policy}/position",
        r#"{"position":1}"#,
        Some(P::Administer),
    ),
    (
        "PUT",
        "/api/v1/departments/{dept}/calendar",
        r#"{"calendar_id":null}"#,
        Some(P::Administer),
    ),
    (
        "POST",
        "/api/v1/sla/due",
        r#"{"start":"2026-11-02T09:00:00+08:00","minutes":60}"#,
        Some(P::Administer),
    ),
    (
        "POST",
        "/api/v1/sla/elapsed",
        r#"{"from":"2026-11-02","to":"2026-11-03"}"#,
        Some(P::Administer),
    ),
    (
        "POST",
        "/api/v1/staffing",
        r#"{"aht_secs":180,"calls_per_hour":100,"check":false}"#,
        Some(P::ViewReports),
    ),
    ("GET", "/api/v1/routing/skills", "", Some(P::Supervise)),
    (
        "POST",
        "/api/v1/routing/skills",
        r#"{"name":"s{n}"}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/routing/queues", "", Some(P::Supervise)),
    (
        "POST",
        "/api/v1/routing/queues",
        r#"{"name":"q{n}","kinds":["email"]}"#,
        Some(P::Administer),
    ),
    (
        "PUT",
        "/api/v1/routing/queues/{queue}",
        r#"{"name":"matrix","kinds":["callback"],"skills":[{"skill":{skill},"level":5}]}"#,
        Some(P::Administer),
    ),
    (
        "GET",
        "/api/v1/routing/queues/{queue}/waiting",
        "",
        Some(P::Supervise),
    ),
    ("GET", "/api/v1/routing/rules", "", Some(P::Supervise)),
    (
        "PUT",
        "/api/v1/routing/rules",
        r#"{"rules":[{"queue_id":{queue},"conditions":{"kinds":["callback"]}}]}"#,
        Some(P::Administer),
    ),
    ("GET", "/api/v1/routing/agents", "", Some(P::Supervise)),
    (
        "PUT",
        "/api/v1/routing/agents/{user}",
        r#"{"languages":["zh"]}"#,
        Some(P::Administer),
    ),
    (
        "POST",
        "/api/v1/routing/agents/{user}/state",
        r#"{"state":"break","reason":"meeting"}"#,
        Some(P::Supervise),
    ),
    (
        "GET",
        "/api/v1/routing/agents/{user}/states",
        "",
        Some(P::Supervise),
    ),
    ("GET", "/api/v1/routing/me", "", Some(P::WorkCases)),
    (
        "POST",
        "/api/v1/routing/me/state",
        r#"{"state":"break","reason":"training"}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/routing/work/{work}/accept",
        "",
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/routing/work/{work}/reject",
        r#"{"reason":"busy"}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/routing/work/{work}/finish",
        "",
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/routing/work/{work}/assign",
        r#"{"agent_id":{me}}"#,
        Some(P::Supervise),
    ),
    (
        "POST",
        "/api/v1/routing/work/{work}/move",
        r#"{"queue_id":{queue2}}"#,
        Some(P::Supervise),
    ),
    ("GET", "/api/v1/routing/status", "", Some(P::Supervise)),
    ("GET", "/api/v1/wallboard", "", Some(P::Supervise)),
    ("POST", "/api/v1/cti/token", "", Some(P::Administer)),
    ("GET", "/api/v1/calls/{call}", "", Some(P::WorkCases)),
    (
        "GET",
        "/api/v1/calls/{call}/recording",
        "",
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/calls/{call}/case",
        r#"{"case_id":{case}}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/calls/{call}/customer",
        r#"{"customer_id":{customer}}"#,
        Some(P::WorkCases),
    ),
    (
        "POST",
        "/api/v1/calls/{call}/wrap-up",
        r#"{"result":"in_progress"}"#,
        Some(P::WorkCases),
    ),
];

/// Endpoints outside the matrix: public, or ending the caller's own session.
const NOT_IN_MATRIX: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    // A stream that never ends; its permissions are tested in `routing`.
    ("GET", "/api/v1/routing/events"),
    // The PBX's, with the tenant's CTI token; tested in `cti`.
    ("POST", "/api/v1/cti/events"),
    ("PUT", "/api/v1/cti/calls/{call_id}/recording"),
];

/// Administrators' calls that change no setting: two calculators, and a
/// rebuild of the search index from what the store already holds.
const NOT_SETTINGS: &[&str] = &[
    "/api/v1/sla/due",
    "/api/v1/sla/elapsed",
    "/api/v1/search/rebuild",
];

struct Fixture<'a> {
    app: &'a App,
    tenant: TenantId,
    sha: String,
    /// A reply template, an outgoing message and a mailbox of tenant a.
    template: i64,
    outbound: i64,
    mailbox: i64,
    /// Tenant a's routing: a skill nobody has, so routed work waits, and two queues asking for it.
    skill: i64,
    queue: i64,
    queue2: i64,
    /// A custom field of tenant a.
    field: i64,
    n: u32,
}

impl Fixture<'_> {
    async fn case(&self) -> (CaseId, String) {
        let actor = Actor {
            tenant_id: self.tenant,
            user_id: None,
            channel: None,
        };
        let input = CaseInput {
            case_type: CaseType::Inquiry,
            channel: Channel::Phone,
            priority: Priority::Normal,
            subject: "matrix".into(),
            description: String::new(),
            customer_id: None,
            category_id: None,
            assignee_id: None,
            team_id: None,
            custom: Default::default(),
        };
        let id = self
            .app
            .store
            .create_case(actor, "Asia/Shanghai", &input, None, Timestamp::now())
            .await
            .unwrap();
        let number = self
            .app
            .store
            .case(self.tenant, id)
            .await
            .unwrap()
            .summary
            .number
            .to_string();
        (id, number)
    }

    /// Fills the placeholders of one call with fresh rows of tenant a.
    async fn resolve(&mut self, template: &str, caller: &Client) -> String {
        self.n += 1;
        let now = Timestamp::now();
        let actor = Actor {
            tenant_id: self.tenant,
            user_id: None,
            channel: None,
        };
        let mut s = template.replace("{n}", &format!("{}{}", self.n, caller.user_id));
        if s.contains("{case}") || s.contains("{number}") {
            let (id, number) = self.case().await;
            s = s
                .replace("{case}", &id.to_string())
                .replace("{number}", &number);
        }
        if s.contains("{case2}") {
            s = s.replace("{case2}", &self.case().await.0.to_string());
        }
        if s.contains("{customer}") {
            let c = self
                .app
                .store
                .create_customer(
                    actor,
                    &CustomerInput {
                        name: "matrix".into(),
                        ..Default::default()
                    },
                    now,
                )
                .await
                .unwrap();
            s = s.replace("{customer}", &c.id.to_string());
        }
        if s.contains("{task}") {
            let (case, _) = self.case().await;
            let input = TaskInput {
                department_id: self.app.departments["a.aftersales"],
                assignee_id: None,
                instructions: "x".into(),
                deadline_at: None,
            };
            let t = self
                .app
                .store
                .create_task(actor, case, &input, now)
                .await
                .unwrap();
            s = s.replace("{task}", &t.to_string());
        }
        if s.contains("{user}") {
            let u = store::NewUser {
                username: format!("victim{}x{}", self.n, caller.user_id),
                display_name: "v".into(),
                password_hash: "x".into(),
                role: Role::Agent,
                team_id: None,
                department_id: None,
            };
            s = s.replace(
                "{user}",
                &self
                    .app
                    .store
                    .create_user(actor, &u, now)
                    .await
                    .unwrap()
                    .id
                    .to_string(),
            );
        }
        if s.contains("{article}") {
            // A fresh article of tenant a at version 1 (a body's base_version), with one file.
            let draft = domain::knowledge::ArticleDraft {
                title: "matrix".into(),
                body: "body".into(),
                source: "fixture".into(),
                ..Default::default()
            };
            let (content, source, note) = draft.parse().unwrap();
            let file = AttachmentInput::new("a.txt".into(), "text/plain".into(), b"file".to_vec());
            let id = self
                .app
                .store
                .create_article(
                    actor,
                    &content,
                    &source,
                    &note,
                    std::slice::from_ref(&file),
                    now,
                )
                .await
                .unwrap();
            s = s
                .replace("{article}", &id.to_string())
                .replace("{article_file}", file.sha256());
        }
        if s.contains("{script}") {
            // A fresh script of tenant a at version 1.
            let draft = domain::script::ScriptDraft {
                name: "matrix".into(),
                steps: vec![domain::script::Step {
                    id: "a".into(),
                    title: "a".into(),
                    say: String::new(),
                    branches: Vec::new(),
                }],
                ..Default::default()
            };
            let (content, note) = draft.parse().unwrap();
            let id = self
                .app
                .store
                .create_script(actor, &content, &note, now)
                .await
                .unwrap();
            s = s.replace("{script}", &id.to_string());
        }
        if s.contains("{calendar}") {
            let spec = domain::calendar::CalendarSpec {
                timezone: "Asia/Shanghai".into(),
                hours: [("mon".to_string(), vec!["09:00-18:00".to_string()])].into(),
                exceptions: Default::default(),
            };
            let id = self
                .app
                .store
                .create_calendar(
                    actor,
                    &format!("fixture {}x{}", self.n, caller.user_id),
                    &spec,
                    now,
                )
                .await
                .unwrap();
            s = s.replace("{calendar}", &id.to_string());
        }
        if s.contains("{policy}") {
            let spec: domain::policy::PolicySpec = serde_json::from_value(
                json!({"name": format!("fixture {}x{}", self.n, caller.user_id), "resolution": {"minutes": 60}}),
            )
            .unwrap();
            let id = self
                .app
                .store
                .create_policy(actor, &spec, now)
                .await
                .unwrap();
            s = s.replace("{policy}", &id.to_string());
        }
        if s.contains("{work}") {
            let (case, _) = self.case().await;
            let mut work = None;
            // Until the driver has taken the new work into its router; the
            // newest open items are looked at (the queue holds hundreds).
            for _ in 0..200 {
                let open = self.app.store.open_work(self.tenant).await.unwrap();
                let pending = self.app.store.pending_work(1000).await.unwrap();
                for w in open.iter().rev().take(5) {
                    let seen = self
                        .app
                        .store
                        .work_summaries(self.tenant, store::WorkFilter::Work(w.work.id))
                        .await
                        .unwrap();
                    if seen
                        .iter()
                        .any(|s| s.case_id == case && s.state == "waiting")
                        && !pending.iter().any(|p| p.open.work.id == w.work.id)
                    {
                        work = Some(w.work.id);
                    }
                }
                if work.is_some() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            let work = work.unwrap_or_else(|| panic!("work for case {case} was not routed"));
            s = s.replace("{work}", &work.to_string());
        }
        if s.contains("{call}") {
            // An ended call the IVR put on a fresh case.
            let (_, number) = self.case().await;
            let tenant = self.app.store.tenant(self.tenant).await.unwrap();
            let report = store::CallReport {
                event: domain::call::CallEvent::Hangup,
                call_ref: format!("matrix-{}x{}", self.n, caller.user_id),
                direction: Some(domain::call::CallDirection::Inbound),
                caller: Some("13800138000".into()),
                callee: Some("4008001234".into()),
                number: None,
                queue: None,
                agent: None,
                cause: None,
                recording: None,
                talk_secs: None,
                case_number: Some(domain::case::CaseNumber::parse(&number).unwrap()),
                at: now,
            };
            let out = self.app.store.call_event(&tenant, &report).await.unwrap();
            let recording = domain::model::AttachmentInput::new(
                "r.wav".into(),
                "audio/wav".into(),
                b"RIFF".to_vec(),
            );
            self.app
                .store
                .call_recording_file(self.tenant, &report.call_ref, &recording)
                .await
                .unwrap();
            s = s.replace("{call}", &out.call.id.to_string());
        }
        if s.contains("{token}") {
            // The caller's own token when the caller is in tenant a; someone else's otherwise.
            let (_, body) = caller
                .post("/api/v1/tokens", json!({"name": "to delete"}))
                .await;
            let id = body["id"].as_i64().unwrap_or(0);
            s = s.replace("{token}", &id.to_string());
        }
        s.replace("{kind}", "customers")
            .replace("{sha}", &self.sha)
            .replace("{dept}", &self.app.departments["a.aftersales"].to_string())
            .replace("{template}", &self.template.to_string())
            .replace("{outbound}", &self.outbound.to_string())
            .replace("{mailbox}", &self.mailbox.to_string())
            .replace("{skill}", &self.skill.to_string())
            .replace("{team}", &self.app.teams["a"].to_string())
            .replace("{category}", &self.app.categories["a"].to_string())
            .replace("{field}", &self.field.to_string())
            .replace("{tenant}", &self.tenant.to_string())
            .replace("{queue2}", &self.queue2.to_string())
            .replace("{queue}", &self.queue.to_string())
            .replace("{me}", &caller.user_id.to_string())
    }
}

fn expected(
    role: Role,
    perm: Option<Permission>,
    own_tenant: bool,
    path: &str,
    body: &str,
) -> &'static str {
    let allowed = perm.is_none_or(|p| role.allows(p));
    if !allowed {
        return "403";
    }
    // Rows named in the path belong to tenant a; tokens are always the caller's own.
    let names_a_row = [
        "{case}",
        "{customer}",
        "{task}",
        "{user}",
        "{number}",
        "{sha}",
        "{outbound}",
        "{mailbox}",
        "{calendar}",
        "{policy}",
        "{dept}",
        "{queue}",
        "{work}",
        "{call}",
        "{team}",
        "{category}",
        "{field}",
        "{article}",
        "{script}",
    ]
    .iter()
    .any(|p| path.contains(p));
    if !own_tenant && names_a_row {
        return "404";
    }
    // A body naming another tenant's row is a field that names nothing.
    if !own_tenant && body.contains("{queue}") {
        return "422";
    }
    // The work waits in a queue: it is offered to no one, in no one's hands.
    if ["accept", "reject", "finish"]
        .iter()
        .any(|a| path.ends_with(&format!("{{work}}/{a}")))
    {
        return "409";
    }
    "2xx"
}

/// Both tenants receive mail at an address; tenant a has a reply template,
/// one message in its outbox and a mailbox it polls.
async fn mail_rows(app: &App, actor: Actor, case: CaseId) -> (i64, i64, i64) {
    let now = Timestamp::now();
    let mut address = 0;
    for t in ["a", "b"] {
        let actor = Actor {
            tenant_id: app.tenants[t],
            ..actor
        };
        let id = app
            .store
            .create_mail_address(
                actor,
                &store::MailAddressInput {
                    address: domain::contact::EmailAddress::parse(&format!("service@{t}.example"))
                        .unwrap(),
                    display_name: "A".into(),
                    case_type: CaseType::Inquiry,
                    category_id: None,
                    team_id: None,
                    region: None,
                    reply_hours: 24,
                    vip_reply_hours: 4,
                    language: "en".into(),
                },
                now,
            )
            .await
            .unwrap()
            .id;
        if t == "a" {
            address = id;
        }
    }
    let mailbox = app
        .store
        .create_mailbox(
            actor,
            &store::MailboxInput {
                address_id: address,
                host: "imap.a.example".into(),
                port: 993,
                security: domain::mail::Security::Tls,
                username: "service".into(),
                password: Some("secret".into()),
                folder: "INBOX".into(),
                move_to: None,
                poll_seconds: 60,
                max_bytes: 1 << 20,
                enabled: false,
            },
            now,
        )
        .await
        .unwrap()
        .id;
    let template = app
        .store
        .save_template(
            actor,
            &store::TemplateInput {
                kind: domain::template::TemplateKind::Reply,
                name: "thanks".into(),
                address_id: None,
                language: "en".into(),
                subject: "Thanks".into(),
                body: "Dear {{customer_name}}".into(),
            },
            now,
        )
        .await
        .unwrap();
    let reply = store::ReplyInput {
        to: vec![domain::contact::EmailAddress::parse("x@example.cn").unwrap()],
        body: "hello".into(),
        ..Default::default()
    };
    let queued = app
        .store
        .queue_reply(actor, case, &reply, now)
        .await
        .unwrap();
    (template.id, queued.outbox_id, mailbox)
}

async fn newest_audit(app: &App, tenant: TenantId) -> Option<i64> {
    let log = app.store.audit_log(tenant, None, 1).await.unwrap();
    log.first().map(|e| e.id)
}

#[tokio::test]
async fn every_endpoint_for_every_role_in_both_tenants() {
    each_backend(|app| async move {
        let tenant = app.tenants["a"];
        let (case, _) = Fixture {
            app: &app,
            tenant,
            sha: String::new(),
            template: 0,
            outbound: 0,
            mailbox: 0,
            skill: 0,
            field: 0,
            queue: 0,
            queue2: 0,
            n: 0,
        }
        .case()
        .await;
        let actor = Actor {
            tenant_id: tenant,
            user_id: None,
            channel: None,
        };
        let file = InteractionInput {
            kind: InteractionKind::Fax,
            direction: Direction::Inbound,
            started_at: Timestamp::now(),
            ended_at: None,
            body: "fax".into(),
            attachments: vec![AttachmentInput::new(
                "f.txt".into(),
                "text/plain".into(),
                b"matrix".to_vec(),
            )],
            script_version_id: None,
        };
        app.store
            .add_interaction(actor, case, &file, Timestamp::now())
            .await
            .unwrap();
        let sha = app.store.interactions(tenant, case).await.unwrap()[0].attachments[0]
            .sha256
            .clone();
        let (template, outbound, mailbox) = mail_rows(&app, actor, case).await;
        let admin = app.login("a", Role::Admin).await;
        let skill = admin.create("/api/v1/routing/skills", json!({"name": "rare"})).await["id"]
            .as_i64()
            .unwrap();
        let queue = |name: &str| json!({"name": name, "kinds": ["callback"], "skills": [{"skill": skill, "level": 5}]});
        let q1 = admin.create("/api/v1/routing/queues", queue("matrix")).await["id"].as_i64().unwrap();
        let q2 = admin.create("/api/v1/routing/queues", queue("matrix 2")).await["id"].as_i64().unwrap();
        let field = json!({"key": "matrix", "label": "Matrix", "kind": "text"});
        let field = admin.create("/api/v1/custom-fields", field).await["id"].as_i64().unwrap();
        let rules = json!({"rules": [{"queue_id": q1, "conditions": {"kinds": ["callback"]}}]});
        let (status, _) = admin.call(Method::PUT, "/api/v1/routing/rules", Some(rules)).await;
        assert_eq!(status, StatusCode::OK);
        let mut fx = Fixture {
            app: &app,
            tenant,
            sha,
            template,
            outbound,
            mailbox,
            skill,
            queue: q1,
            queue2: q2,
            field,
            n: 0,
        };

        let mut failures = Vec::new();
        for own in ["a", "b"] {
            for role in ROLES {
                let client = app.login(own, role).await;
                for (method, path, template, perm) in ENDPOINTS {
                    let url = fx.resolve(path, &client).await;
                    let m = Method::from_bytes(method.as_bytes()).unwrap();
                    let body = fx.resolve(template, &client).await;
                    let audited = own == "a"
                        && *method != "GET"
                        && !NOT_SETTINGS.contains(path)
                        && matches!(
                            perm,
                            Some(P::Administer | P::ManageTenants | P::EditKnowledge)
                        );
                    let last_audit = newest_audit(&app, tenant).await;
                    // A body that is not JSON (an image) is sent as it is.
                    let (status, resp) = match serde_json::from_str::<Value>(&body) {
                        _ if template.is_empty() => client.call(m, &url, None).await,
                        Ok(json) => client.call(m, &url, Some(json)).await,
                        Err(_) => client.call_raw(m, &url, body.into_bytes()).await,
                    };
                    let want = expected(role, *perm, own == "a", path, template);
                    let ok = match want {
                        "2xx" => status.is_success(),
                        code => status.as_str() == code,
                    };
                    if !ok {
                        failures.push(format!(
                            "[{}] {own}.{role} {method} {url}: want {want}, got {status} {resp}",
                            app.backend
                        ));
                    }
                    // A change to the settings is in the audit log.
                    if audited
                        && status.is_success()
                        && newest_audit(&app, tenant).await == last_audit
                    {
                        failures.push(format!(
                            "[{}] {own}.{role} {method} {url}: changed settings without an audit entry",
                            app.backend
                        ));
                    }
                }
            }
        }
        // Nobody without a session gets anything.
        let anon = app.anon();
        for (method, path, _, _) in ENDPOINTS {
            let url = fx.resolve(path, &anon).await;
            let (status, _) = anon
                .call(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &url,
                    Some(json!({})),
                )
                .await;
            if status != StatusCode::UNAUTHORIZED {
                failures.push(format!(
                    "[{}] anonymous {method} {url}: want 401, got {status}",
                    app.backend
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} unexpected statuses:\n{}",
            failures.len(),
            failures.join("\n")
        );
    })
    .await;
}

/// The matrix covers every operation of the OpenAPI document, and the document
/// every route the matrix knows.
#[tokio::test]
async fn openapi_document_matches_the_routes() {
    each_backend(|app| async move {
        let doc = app.anon().ok("/api/v1/openapi.json").await;
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.")),
            Some(true)
        );
        let mut documented = Vec::new();
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            for method in ops
                .as_object()
                .unwrap()
                .keys()
                .filter(|m| *m != "parameters")
            {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        let normalise = |p: &str| -> String {
            let p = p.split('?').next().unwrap();
            p.split('/')
                .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
                .collect::<Vec<_>>()
                .join("/")
        };
        let mut known: Vec<(String, String)> = ENDPOINTS
            .iter()
            .map(|(m, p, _, _)| (m.to_string(), normalise(p)))
            .collect();
        known.extend(
            NOT_IN_MATRIX
                .iter()
                .map(|(m, p)| (m.to_string(), normalise(p))),
        );
        let documented: Vec<(String, String)> = documented
            .iter()
            .map(|(m, p)| (m.clone(), normalise(p)))
            .collect();
        for op in &documented {
            assert!(
                known.contains(op),
                "documented but not in the matrix: {op:?}"
            );
        }
        // The router's own paths: none may be left out of the matrix.
        let routes = include_str!("../../src/api/mod.rs");
        for path in routes.split('"').filter(|s| s.starts_with("/api/v1/")) {
            assert!(
                known.iter().any(|(_, p)| *p == normalise(path)),
                "routed but in neither the matrix nor NOT_IN_MATRIX: {path}"
            );
        }
        for op in &known {
            assert!(documented.contains(op), "routed but not documented: {op:?}");
        }
        // Every documented operation is really routed (an unknown route answers no_route).
        let admin = app.login("a", Role::Admin).await;
        // (The event stream never ends; the routing tests open it.)
        for (method, path) in documented.iter().filter(|(_, p)| !p.ends_with("/events")) {
            let url = path.replace("{}", "1");
            let (_, body) = admin
                .call(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &url,
                    Some(json!({})),
                )
                .await;
            assert_ne!(
                body["error"], "no_route",
                "{method} {path} is documented but not routed"
            );
        }
    })
    .await;
}
