//! The UI in a real headless Chromium, driven over WebDriver (chromedriver).

use crate::harness::*;
use base64::Engine;
use domain::contact::{PhoneNumber, Region};
use domain::model::{Actor, CustomerInput};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session; chromedriver is stopped when it is dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    pub async fn start(lang: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (scripts/install-deps installs Debian's chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = store::testing::temp_dir();
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,900".into(),
            format!("--lang={lang}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args, "prefs": {"intl.accept_languages": lang}}}}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {resp}"))
            .to_string();
        Browser {
            driver,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    pub async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"]["error"].is_string() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    pub async fn scroll_to(&self, css: &str) {
        let script = format!("document.querySelector({css:?}).scrollIntoView()");
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await;
    }

    /// Runs a script in the page and gives back what it returns.
    pub async fn resize(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Waits up to five seconds for the script to return true.
    pub async fn until(&self, what: &str, script: &str) {
        for _ in 0..50 {
            if self.eval(script).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never {what} on {}", self.url().await);
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits up to five seconds for the element to appear.
    pub async fn find(&self, css: &str) -> String {
        for _ in 0..50 {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let v: Value = self
                .http
                .post(url)
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = v["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no element {css} on {}", self.url().await);
    }

    /// Clicks something that loads a new page, and waits until it has: the
    /// old page's root element going stale is the sign.
    pub async fn click_nav(&self, css: &str) {
        let old = self.find("html").await;
        self.click(css).await;
        for _ in 0..100 {
            let url = format!("{}/session/{}/element/{old}/name", self.base, self.session);
            let v: Value = self
                .http
                .get(url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["value"]["error"] == "stale element reference" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} did not load a new page");
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Hands a file to an `<input type=file>`, as a user picking it would.
    pub async fn upload(&self, css: &str, path: &std::path::Path) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": path.display().to_string()})),
        )
        .await;
    }

    /// A form field's current value.
    pub async fn value(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::GET,
            &format!("/element/{id}/property/value"),
            None,
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub async fn login(&self, base: &str, username: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#username", username).await;
        self.type_into("#password", PASSWORD).await;
        self.click_nav("#login").await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Saves a PNG when CARECENTER_SCREENSHOTS names a directory (for the README).
    pub async fn screenshot(&self, name: &str) {
        if let Ok(dir) = std::env::var("CARECENTER_SCREENSHOTS") {
            let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
            let png = base64::engine::general_purpose::STANDARD
                .decode(b64.as_str().unwrap())
                .unwrap();
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }
}

#[tokio::test]
async fn agent_finds_caller_by_phone_opens_a_case_and_adds_a_note() {
    let url = format!(
        "sqlite:{}",
        store::testing::temp_dir().join("ui.db").display()
    );
    let app = App::start("sqlite", &url).await;
    let tenant = app.tenants["a"];
    let actor = Actor {
        tenant_id: tenant,
        user_id: None,
        channel: None,
    };
    let customer = CustomerInput {
        name: "王伟".into(),
        phones: vec![PhoneNumber::parse("+86 138 0013 8000", Region::CN).unwrap()],
        tier: Some("vip".into()),
        ..Default::default()
    };
    app.store
        .create_customer(actor, &customer, jiff::Timestamp::now())
        .await
        .unwrap();

    let b = Browser::start("en-US").await;
    b.goto(&format!("{}/cases", app.base)).await;
    assert!(
        b.url().await.ends_with("/login"),
        "a stranger is sent to log in"
    );
    b.type_into("#username", "a.agent").await;
    b.type_into("#password", PASSWORD).await;
    b.click_nav("#login").await;
    b.find("table.list, main p").await;
    assert!(b.url().await.ends_with("/cases"));

    // The caller gives the number in another writing; one match opens the record.
    b.goto(&format!("{}/customers", app.base)).await;
    b.type_into("#customer-q", "138-0013-8000").await;
    b.click_nav("#customer-search").await;
    assert!(b.text("#customer-name").await.contains("王伟"));
    b.screenshot("customer").await;

    b.click_nav("#new-case-for-customer").await;
    b.click("#case-type option[value=complaint]").await;
    b.type_into("#case-subject", "Noise after repair").await;
    b.type_into(
        "#case-description",
        "Caller says the noise is back since the repair.",
    )
    .await;
    b.click_nav("#create-case").await;
    let number = b.text("#case-number").await;
    assert!(
        number.len() == 11 && number.as_bytes()[4] == b'-',
        "case number shown: {number}"
    );
    assert_eq!(b.text("#case-status").await, "Open");
    assert!(b.text("#case-customer").await.contains("王伟"));

    b.type_into("#note-body", "Offered a free inspection on Wednesday")
        .await;
    b.click_nav("#add-note").await;
    let timeline = b.text("#timeline").await;
    assert!(
        timeline.contains("Offered a free inspection on Wednesday"),
        "{timeline}"
    );
    assert!(timeline.contains("Internal note"), "{timeline}");
    b.screenshot("case").await;

    // The same case, read back over the API, has the note and the phone contact.
    let agent = app.login("a", domain::role::Role::Agent).await;
    let case = agent.ok(&format!("/api/v1/cases/by-number/{number}")).await;
    let kinds: Vec<&str> = case["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["call", "note"]);
    assert_eq!(case["type"], "complaint");

    // Switching to Chinese keeps the page and speaks the glossary.
    b.click_nav("header .who a[lang]").await;
    assert_eq!(b.text("#case-status").await, "处理中");
    assert!(b.text("#timeline").await.contains("内部备注"));
}

#[tokio::test]
async fn ui_forms_refuse_a_forged_post() {
    let url = format!(
        "sqlite:{}",
        store::testing::temp_dir().join("csrf.db").display()
    );
    let app = App::start("sqlite", &url).await;
    let agent = app.login("a", domain::role::Role::Agent).await;
    let case = agent
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "phone", "subject": "s"}),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    // A session cookie without the form's token (what another site could send).
    let resp = reqwest::Client::new()
        .post(format!("{}/cases/{id}/transition", app.base))
        .header(
            "cookie",
            format!("cc_session={}", agent.token.as_ref().unwrap()),
        )
        .form(&[("action", "resolve")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        agent.ok(&format!("/api/v1/cases/{id}")).await["status"],
        "new"
    );
}

#[tokio::test]
async fn an_agent_reads_a_customers_html_mail_and_replies_from_a_template() {
    let url = format!(
        "sqlite:{}",
        store::testing::temp_dir().join("mail-ui.db").display()
    );
    let app = App::start("sqlite", &url).await;
    let tenant = app.tenants["a"];
    let actor = Actor {
        tenant_id: tenant,
        user_id: None,
        channel: None,
    };
    let now = jiff::Timestamp::now();
    let customer = app
        .store
        .create_customer(
            actor,
            &CustomerInput {
                name: "王伟".into(),
                emails: vec![domain::contact::EmailAddress::parse("wang.wei@example.cn").unwrap()],
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
    let case = domain::model::CaseInput {
        case_type: domain::case::CaseType::Inquiry,
        channel: domain::case::Channel::Email,
        priority: domain::case::Priority::Normal,
        subject: "保养周期".into(),
        description: String::new(),
        customer_id: Some(customer.id),
        category_id: None,
        assignee_id: None,
        team_id: None,
        custom: Default::default(),
    };
    let html = "<p>您好，<b>请问</b>保养周期是多久？</p><script>document.title='pwned'</script><img src=x onerror=alert(1)>";
    let mail = domain::model::InteractionInput {
        kind: domain::case::InteractionKind::Email,
        direction: domain::case::Direction::Inbound,
        started_at: now,
        ended_at: None,
        body: "您好，请问保养周期是多久？".into(),
        attachments: vec![domain::model::AttachmentInput::new(
            "message.html".into(),
            "text/html; charset=utf-8".into(),
            html.as_bytes().to_vec(),
        )],
        script_version_id: None,
    };
    let case_id = app
        .store
        .create_case(actor, "Asia/Shanghai", &case, Some(&mail), now)
        .await
        .unwrap();
    // Last month the customer phoned about a noise; that case is still with
    // the quality department.
    let call = domain::model::InteractionInput {
        kind: domain::case::InteractionKind::Call,
        direction: domain::case::Direction::Inbound,
        started_at: now - jiff::SignedDuration::from_hours(24 * 30),
        ended_at: None,
        body: "客户来电反映刹车异响".into(),
        attachments: vec![],
        script_version_id: None,
    };
    let earlier = domain::model::CaseInput {
        case_type: domain::case::CaseType::Complaint,
        channel: domain::case::Channel::Phone,
        subject: "刹车异响".into(),
        ..case.clone()
    };
    let earlier_id = app
        .store
        .create_case(actor, "Asia/Shanghai", &earlier, Some(&call), now)
        .await
        .unwrap();
    app.store
        .create_task(
            actor,
            earlier_id,
            &domain::model::TaskInput {
                department_id: app.departments["a.quality"],
                assignee_id: None,
                instructions: "检测刹车".into(),
                deadline_at: None,
            },
            now,
        )
        .await
        .unwrap();

    // The administrator sets the channel up, in Chinese.
    let b = Browser::start("zh-CN").await;
    b.login(&app.base, "a.admin").await;
    b.goto(&format!("{}/mail", app.base)).await;
    b.type_into("#add-address input[name=address]", "service@a.example")
        .await;
    b.type_into("#add-address input[name=display_name]", "客户服务中心")
        .await;
    b.click_nav("#add-address button").await;
    assert!(
        b.text("#mail-addresses")
            .await
            .contains("service@a.example")
    );
    // A mailbox on the company's mail server, fetched into the same address;
    // then switched off while the server is moved.
    b.type_into("#add-mailbox input[name=host]", "imap.a.example")
        .await;
    b.type_into("#add-mailbox input[name=username]", "service")
        .await;
    b.type_into("#add-mailbox input[name=password]", "口令 secret")
        .await;
    b.type_into("#add-mailbox input[name=move_to]", "Archive")
        .await;
    b.click_nav("#add-mailbox button").await;
    let listed = b.text("#mailboxes").await;
    assert!(listed.contains("service@imap.a.example:993"), "{listed}");
    assert!(listed.contains("INBOX → Archive"), "{listed}");
    assert!(listed.contains("尚未收取"), "{listed}");
    b.click("#mailboxes details summary").await;
    b.click("#mailboxes details input[name=enabled]").await;
    b.click_nav("#mailboxes details button").await;
    assert!(b.text("#mailboxes").await.contains("已停用"));
    b.scroll_to("#mailboxes").await;
    b.screenshot("mail-mailboxes").await;
    let admin = app.login("a", domain::role::Role::Admin).await;
    let boxes = admin.ok("/api/v1/mail/mailboxes").await;
    assert_eq!(boxes["items"][0]["enabled"], json!(false));
    assert_eq!(boxes["items"][0]["security"], json!("tls"));
    assert!(boxes["items"][0].get("password").is_none());

    b.type_into("#template-name", "保养答复").await;
    b.type_into("#template-subject", "关于{{subject}}").await;
    b.type_into(
        "#template-body",
        "{{customer_name}}，您好：\n工单 {{case_number}} 已为您查询，保养周期为一年或一万公里。\n{{agent_name}}",
    )
    .await;
    b.click_nav("#save-template button").await;
    assert!(b.text("#mail-templates").await.contains("保养答复"));
    b.screenshot("mail-settings").await;

    // The agent reads the mail as formatted, with nothing of it running.
    let b = Browser::start("zh-CN").await;
    b.login(&app.base, "a.agent").await;
    b.goto(&format!("{}/cases/{case_id}", app.base)).await;
    b.click("details.mail-html summary").await;
    b.find("details.mail-html iframe[sandbox]").await;
    let sha = b.source().await;
    let sha = sha
        .split("/mail-html/")
        .nth(1)
        .and_then(|s| s.get(..64))
        .expect("a link to the formatted mail")
        .to_string();

    // Pick the template: the form fills in for this case; add a file and send.
    b.click("#reply-template option:nth-child(2)").await;
    for _ in 0..50 {
        if !b.value("#reply-body").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = b.value("#reply-body").await;
    assert!(body.starts_with("王伟，您好"), "{body}");
    assert_eq!(b.value("#reply-subject").await, "关于保养周期");
    b.type_into("#reply-cc", "li.ming@example.cn").await;
    let file = store::testing::temp_dir().join("保养手册.txt");
    std::fs::write(&file, "一年或一万公里").unwrap();
    b.upload("#reply-files", &file).await;
    b.click("#reply-wait").await;
    b.click_nav("#send-reply").await;
    assert!(b.text("#case-mail").await.contains("待发送"));
    assert_eq!(b.text("#case-status").await, "待客户回复");
    let timeline = b.text("#timeline").await;
    assert!(timeline.contains("保养周期为一年或一万公里"), "{timeline}");
    b.screenshot("mail-reply").await;

    // Beside the timeline, the customer's whole story: the earlier call and
    // its case still open with the quality department.
    let c360 = b.text("#customer-360").await;
    assert!(
        c360.contains("刹车异响") && c360.contains("客户来电反映刹车异响"),
        "{c360}"
    );
    assert!(b.text("#c360-tasks").await.contains("质量部"));
    // The agent makes it a complaint, urgent, and passes it to after-sales
    // with a deadline.
    b.click("#edit-type option[value=complaint]").await;
    b.click("#edit-priority option[value=urgent]").await;
    b.click("#edit-category option:nth-child(2)").await;
    b.click_nav("#save-edit").await;
    let meta = b.text(".case-head .meta").await;
    assert!(meta.contains("投诉") && meta.contains("紧急"), "{meta}");
    let deadline = (now + jiff::SignedDuration::from_hours(26))
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    b.click(&format!(
        "#pass-to-department option[value='{}']",
        app.departments["a.aftersales"]
    ))
    .await;
    b.type_into("#pass-to-department textarea", "请确认保养记录")
        .await;
    b.eval(&format!(
        "document.querySelector('#pass-to-department input[name=deadline_at]').value = '{deadline}'; return true"
    ))
    .await;
    b.click_nav("#pass-to-department button").await;
    assert_eq!(b.text("#case-status").await, "部门处理中");
    let agent = app.login("a", domain::role::Role::Agent).await;
    let saved = agent.ok(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(
        (saved["type"].as_str(), saved["priority"].as_str()),
        (Some("complaint"), Some("urgent"))
    );
    assert_eq!(saved["category_id"], app.categories["a"].0);
    let task = &saved["tasks"][0];
    assert_eq!(task["department_name"], "售后服务部");
    assert!(
        task["deadline_at"]
            .as_str()
            .unwrap()
            .starts_with(&(now + jiff::SignedDuration::from_hours(26)).to_string()[..13]),
        "{task}"
    );
    b.screenshot("case-360").await;

    // What the customer will receive: threaded subject, the copy, the file.
    let admin = app.login("a", domain::role::Role::Admin).await;
    let outbound = admin.ok("/api/v1/mail/outbound").await;
    let sent = &outbound["items"][0];
    assert_eq!(
        sent["recipients"],
        json!(["wang.wei@example.cn", "li.ming@example.cn"])
    );
    let number = admin.ok(&format!("/api/v1/cases/{case_id}")).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sent["subject"], format!("关于保养周期 [#{number}]"));
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/mail/outbound/{}/source",
            app.base, sent["id"]
        ))
        .bearer_auth(admin.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    let raw = resp.text().await.unwrap();
    assert!(raw.contains("filename*=utf-8''%E4%BF%9D%E5%85%BB"), "{raw}");

    // The formatted mail, served alone: sanitised and locked down.
    let resp = reqwest::Client::new()
        .get(format!("{}/mail-html/{sha}", app.base))
        .header(
            "cookie",
            format!("cc_session={}", admin.token.as_ref().unwrap()),
        )
        .send()
        .await
        .unwrap();
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("sandbox;"), "{csp}");
    let page = resp.text().await.unwrap();
    assert!(page.contains("<b>请问</b>"), "{page}");
    assert!(
        !page.contains("<script") && !page.contains("onerror"),
        "{page}"
    );

    // The supervisor's mail log lists it; an agent is not offered the log.
    assert!(!b.source().await.contains("href=\"/mail/log\""));
    let b = Browser::start("en-US").await;
    b.login(&app.base, "a.supervisor").await;
    b.goto(&format!("{}/mail/log", app.base)).await;
    assert!(b.text("#mail-outbound").await.contains("Queued"));
}

/// An administrator sets up a business calendar (holidays typed and
/// imported from an .ics file), checks a deadline, writes a policy; a new
/// case then shows its SLA clocks in the list and on its page.
#[tokio::test]
async fn an_administrator_sets_up_sla_and_the_case_shows_its_clocks() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("sla-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let b = Browser::start("zh-CN").await;
    b.login(&app.base, "a.admin").await;
    b.goto(&format!("{}/sla", app.base)).await;
    b.click_nav("#new-calendar").await;
    b.type_into("#calendar-form input[name=name]", "客服中心")
        .await;
    b.type_into("#calendar-form textarea[name=holidays]", "2026-12-25")
        .await;
    b.click_nav("#calendar-form button").await;
    assert!(b.text("#sla-calendars").await.contains("客服中心"));

    // Next year's holidays from a feed: New Year's Day off, a Saturday worked.
    b.click_nav("#sla-calendars a").await;
    let feed = dir.join("holidays.ics");
    std::fs::write(
        &feed,
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nSUMMARY:元旦 假期\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270109\r\nSUMMARY:元旦 补班\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    b.upload("#ics-form input[name=ics]", &feed).await;
    b.click_nav("#ics-form button").await;
    let holidays = b.value("#calendar-form textarea[name=holidays]").await;
    assert_eq!(holidays, "2026-12-25\n2027-01-01");
    assert_eq!(
        b.value("#calendar-form textarea[name=workdays]").await,
        "2027-01-09"
    );

    // Two business hours from Christmas Eve 17:00: one that evening, one on
    // Monday morning after the holiday and the weekend.
    b.goto(&format!("{}/sla", app.base)).await;
    b.click("#sla-preview select[name=calendar] option:nth-child(2)")
        .await;
    b.type_into(
        "#sla-preview input[name=start]",
        "2026-12-24T17:00:00+08:00",
    )
    .await;
    b.type_into("#sla-preview input[name=minutes]", "120").await;
    b.click_nav("#sla-preview button").await;
    assert_eq!(b.text("#preview-result").await, "2026-12-28T10:00:00+08:00");

    b.click_nav("#new-policy").await;
    b.type_into("#policy-form input[name=name]", "标准服务")
        .await;
    b.click("#policy-form select[name=calendar_id] option:nth-child(2)")
        .await;
    b.type_into("#policy-form input[name=first_response_minutes]", "240")
        .await;
    b.type_into("#policy-form input[name=resolution_minutes]", "2400")
        .await;
    b.click_nav("#policy-form button[type=submit]").await;
    let policies = b.text("#sla-policies").await;
    assert!(policies.contains("标准服务"), "{policies}");
    assert!(policies.contains("首次响应 240分钟"), "{policies}");
    b.screenshot("sla").await;

    let tenant = app.tenants["a"];
    let actor = Actor {
        tenant_id: tenant,
        user_id: None,
        channel: None,
    };
    let input = domain::model::CaseInput {
        case_type: domain::case::CaseType::Inquiry,
        channel: domain::case::Channel::Email,
        priority: domain::case::Priority::Normal,
        subject: "发票什么时候寄出".into(),
        description: String::new(),
        customer_id: None,
        category_id: None,
        assignee_id: None,
        team_id: None,
        custom: Default::default(),
    };
    let case = app
        .store
        .create_case(actor, "Asia/Shanghai", &input, None, jiff::Timestamp::now())
        .await
        .unwrap();
    b.goto(&format!("{}/cases?sla=ok&sort=sla_due", app.base))
        .await;
    let row = b.text("table.list tbody tr").await;
    assert!(row.contains("发票什么时候寄出"), "{row}");
    assert!(row.contains("正常"), "{row}");
    b.goto(&format!("{}/cases/{case}", app.base)).await;
    let clocks = b.text("#sla-clocks").await;
    assert!(clocks.contains("首次响应"), "{clocks}");
    assert!(clocks.contains("解决时限"), "{clocks}");
}

/// A supervisor works out a morning's staffing from a forecast: agents per
/// interval in a table and a chart, each with the simulated check.
#[tokio::test]
async fn a_supervisor_works_out_staffing_for_a_forecast() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("staffing-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let b = Browser::start("en-US").await;
    b.login(&app.base, "a.supervisor").await;
    b.goto(&format!("{}/staffing", app.base)).await;
    b.type_into("#staffing-form input[name=aht]", "180").await;
    b.type_into(
        "#staffing-form textarea[name=forecast]",
        "08:00,50\n08:30,100\n09:00,150\n09:30,120\n10:00,80\n10:30,60",
    )
    .await;
    b.type_into("#staffing-form input[name=start]", "08:00")
        .await;
    b.click_nav("#staffing-form button").await;
    let table = b.text("#staffing-table").await;
    // 100 calls of 3 minutes in half an hour: the published 14 agents.
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("08:30"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(row[..4], ["08:30", "100", "14", "88.8%"], "{table}");
    assert!(b.source().await.contains("<svg id=\"staffing-chart\""));
    let bars = b.text("#staffing-chart").await;
    assert!(bars.contains("09:00"), "{bars}");
    assert!(!b.text("#agent-hours").await.is_empty());
    b.screenshot("staffing").await;
    // Switch to Chinese: the same page in the glossary's words.
    b.goto(&format!("{}/lang?to=zh-CN&back=/staffing", app.base))
        .await;
    b.type_into("#staffing-form input[name=aht]", "180").await;
    b.type_into("#staffing-form input[name=calls_per_hour]", "200")
        .await;
    b.click_nav("#staffing-form button").await;
    assert!(b.text("main h2").await.contains("所需坐席"));
    assert!(b.text("#staffing-table td.agents").await.contains("14"));
}

/// An administrator sets up a queue in the browser; an agent goes
/// available on the desk, sees an e-mail case offered live with its
/// countdown, accepts it and lands on the case; the supervisor's page shows
/// the agent busy. The agent answers the customer from a template and
/// passes the case to a department: the whole path, in one go.
#[tokio::test]
async fn an_agent_goes_available_and_accepts_a_live_offer() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("routing-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let agent_id = app.login("a", domain::role::Role::Agent).await.user_id;
    let b = Browser::start("en-US").await;
    b.login(&app.base, "a.admin").await;
    b.goto(&format!("{}/routing", app.base)).await;
    b.type_into(
        "form[action='/routing/skills'] input[name=name]",
        "warranty",
    )
    .await;
    b.click_nav("form[action='/routing/skills'] button").await;
    assert!(b.text("#skills").await.contains("warranty"));
    b.click_nav("#new-queue").await;
    b.type_into("#queue-form input[name=name]", "Web and e-mail")
        .await;
    b.click("#queue-form input[name=kinds][value=web]").await;
    b.click("#queue-form select[name^=skill_] option[value='2']")
        .await;
    b.type_into("#queue-form input[name=offer_timeout_secs]", "120")
        .await;
    b.click_nav("#queue-form button[type=submit]").await;
    let queues = b.text("#queues").await;
    assert!(
        queues.contains("Web and e-mail") && queues.contains("warranty ≥ 2"),
        "{queues}"
    );
    b.click("#rule-form input[name=kinds][value=email]").await;
    b.click_nav("#rule-form button").await;
    assert!(b.text("#rules").await.contains("E-mail → Web and e-mail"));
    b.goto(&format!("{}/routing/agents/{agent_id}", app.base))
        .await;
    b.click("#agent-form select[name^=skill_] option[value='3']")
        .await;
    b.click_nav("#agent-form button[type=submit]").await;
    assert!(b.text("#agents").await.contains("warranty ≥ 3"));
    b.screenshot("routing").await;
    // A valued customer gets the agent as their own.
    let sup = app.login("a", domain::role::Role::Supervisor).await;
    let vip = sup
        .create(
            "/api/v1/customers",
            json!({"name": "钱先生", "tier": "vip", "emails": ["qian@example.cn"]}),
        )
        .await;
    let vip_id = vip["id"].as_i64().unwrap();
    b.goto(&format!("{}/customers/{vip_id}", app.base)).await;
    b.click(&format!(
        "#dedicated-form select[name=agent_id] option[value='{agent_id}']"
    ))
    .await;
    b.click_nav("#dedicated-form button[type=submit]").await;
    let own = b.text("#dedicated-agent").await;
    let agents = sup.ok("/api/v1/routing/agents").await;
    let name = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == agent_id)
        .and_then(|a| a["display_name"].as_str())
        .unwrap()
        .to_string();
    assert_eq!(own.trim(), name);
    let saved = sup.ok(&format!("/api/v1/customers/{vip_id}")).await;
    assert_eq!(saved["dedicated_agent_id"], agent_id);

    // The agent, in Chinese.
    b.click_nav("form[action='/logout'] button").await;
    b.login(&app.base, "a.agent").await;
    b.goto(&format!("{}/lang?to=zh-CN&back=/desk", app.base))
        .await;
    assert!(b.text("#state").await.contains("签出"));
    b.click_nav("#go-available").await;
    assert!(b.text("#state").await.contains("空闲"));
    let case = sup
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "email", "subject": "延保条款咨询", "customer_id": vip_id}),
        )
        .await;
    let case_id = case["id"].as_i64().unwrap();
    // No reload: the offer arrives by the live stream.
    let offer = b.text(".offer").await;
    assert!(
        offer.contains("延保条款咨询") && offer.contains("Web and e-mail"),
        "{offer}"
    );
    let left: i64 = b.text("[data-until]").await.parse().unwrap_or(-1);
    assert!(
        (100..=120).contains(&left),
        "countdown from two minutes: {left}"
    );
    b.screenshot("desk").await;
    b.click_nav(".offer button.accept").await;
    assert!(b.url().await.ends_with(&format!("/cases/{case_id}")));
    b.goto(&format!("{}/desk", app.base)).await;
    assert!(b.text("#state").await.contains("忙碌"));
    assert!(b.text("#my-work").await.contains("延保条款咨询"));
    let agents = sup.ok("/api/v1/routing/agents").await;
    let me = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == agent_id)
        .unwrap();
    assert_eq!(
        (me["state"].as_str(), me["active"].as_i64()),
        (Some("busy"), Some(1))
    );

    // The accepted case answered from a template, then passed on.
    let admin = app.login("a", domain::role::Role::Admin).await;
    admin
        .create(
            "/api/v1/mail/addresses",
            json!({"address": "service@a.example", "display_name": "客服中心", "language": "zh-CN"}),
        )
        .await;
    admin
        .create(
            "/api/v1/mail/templates",
            json!({"kind": "reply", "name": "延保答复", "language": "zh-CN", "subject": "关于{{subject}}",
                   "body": "{{customer_name}}，您好：延保条款见附件说明。"}),
        )
        .await;
    b.click_nav("#my-work a").await;
    b.click("#reply-template option:nth-child(2)").await;
    b.until(
        "the template fills the reply",
        "return document.querySelector('#reply-body').value.startsWith('钱先生，您好')",
    )
    .await;
    b.click_nav("#send-reply").await;
    assert!(b.text("#case-mail").await.contains("待发送"));
    b.click(&format!(
        "#pass-to-department option[value='{}']",
        app.departments["a.aftersales"]
    ))
    .await;
    b.type_into("#pass-to-department textarea", "请核对延保合同")
        .await;
    b.click_nav("#pass-to-department button").await;
    assert_eq!(b.text("#case-status").await, "部门处理中");
    let outbound = admin.ok("/api/v1/mail/outbound").await;
    assert_eq!(
        outbound["items"][0]["recipients"],
        json!(["qian@example.cn"])
    );
    let saved = sup.ok(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(saved["tasks"][0]["department_name"], "售后服务部");
}

/// An administrator gives the PBX its token and the agent an extension; a
/// call the PBX reports for that extension pops the caller's record on the
/// agent's desk at once, and the wrap-up after the hang-up resolves the case.
#[tokio::test]
async fn a_pbx_call_pops_the_callers_record_on_the_agents_screen() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("cti-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let agent = app.login("a", domain::role::Role::Agent).await;
    let customer = agent
        .create(
            "/api/v1/customers",
            json!({"name": "王伟", "tier": "vip", "phones": ["13800138000"]}),
        )
        .await;
    agent
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "email", "subject": "保养预约", "customer_id": customer["id"]}),
        )
        .await;

    let b = Browser::start("en-US").await;
    b.login(&app.base, "a.admin").await;
    b.goto(&format!("{}/cti", app.base)).await;
    b.click_nav("#make-token").await;
    let token = b.text("#new-token").await;
    assert_eq!(token.len(), 64, "{token}");
    b.type_into(
        &format!(
            "form[action='/cti/extensions/{}'] input[name=extension]",
            agent.user_id
        ),
        "8001",
    )
    .await;
    b.click_nav(&format!(
        "form[action='/cti/extensions/{}'] button",
        agent.user_id
    ))
    .await;
    assert!(b.url().await.ends_with("/cti"), "{}", b.url().await);
    b.click_nav("form[action='/logout'] button").await;

    // The agent, in Chinese, on the desk.
    b.login(&app.base, "a.agent").await;
    b.goto(&format!("{}/lang?to=zh-CN&back=/desk", app.base))
        .await;
    b.find("#my-state").await;
    let pbx = Client {
        token: Some(token),
        ..app.anon()
    };
    let event = |e: &str| {
        json!({"event": e, "call_id": "1700000000.42", "direction": "inbound",
               "caller": "138 0013 8000", "callee": "4008001234", "queue": "售后", "extension": "8001"})
    };
    let (status, out) = pbx.post("/api/v1/cti/events", event("new")).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{out}");
    let call = out["call"]["id"].as_i64().unwrap();
    // No reload, no click: the ring opens the caller's record.
    let mut popped = false;
    for _ in 0..50 {
        if b.url().await.ends_with(&format!("/calls/{call}")) {
            popped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(popped, "the call popped: {}", b.url().await);
    assert!(b.text("#caller-name").await.contains("王伟"));
    assert!(b.text("#recent-cases").await.contains("保养预约"));
    assert!(b.text("#call-state").await.contains("振铃中"));
    pbx.post("/api/v1/cti/events", event("answered")).await;
    let mut talking = String::new();
    for _ in 0..50 {
        talking = b.text("#call-state").await;
        if talking.contains("通话中") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        talking.contains("通话中"),
        "the state follows the call: {talking}"
    );
    b.screenshot("call").await;
    // The caller asks about their booking: the call goes on that case.
    b.click_nav("#recent-cases form[action$='/case'] button")
        .await;
    assert!(b.text("#call-case").await.contains("保养预约"));
    pbx.post("/api/v1/cti/events", event("hangup")).await;
    // The wrap-up appears when the call ends; then the PBX sends the
    // recording, which the page offers to play.
    b.find("#wrap-up textarea[name=notes]").await;
    let resp = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/cti/calls/1700000000.42/recording",
            app.base
        ))
        .bearer_auth(pbx.token.as_deref().unwrap())
        .header("content-type", "audio/wav")
        .body(tone_wav())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let plays = "const a = document.querySelector('#call-recording audio'); \
                 if (a && !a.dataset.asked) { a.dataset.asked = '1'; a.preload = 'metadata'; a.load(); } \
                 return !!a && a.readyState >= 1 && Math.abs(a.duration - 0.5) < 0.01;";
    b.until("the recording plays on the call page", plays).await;
    b.screenshot("call-recording").await;
    b.type_into("#wrap-up textarea[name=notes]", "已预约周六保养")
        .await;
    b.click("#wrap-up input[name=result][value=resolved]").await;
    b.click_nav("#wrap-up button[type=submit]").await;
    assert!(b.url().await.contains("/cases/"), "{}", b.url().await);
    let page = b.text("main").await;
    assert!(
        page.contains("保养预约") && page.contains("已预约周六保养") && page.contains("已解决"),
        "{page}"
    );
    let on_case = "const a = document.querySelector('#timeline audio'); \
                   if (a && !a.dataset.asked) { a.dataset.asked = '1'; a.preload = 'metadata'; a.load(); } \
                   return !!a && a.readyState >= 1 && a.duration > 0.4;";
    b.until("the recording plays on the case", on_case).await;
    assert!(
        b.text("#timeline")
            .await
            .contains("recording-1700000000_42.wav")
    );
}

/// Half a second of a 440 Hz tone as a PBX records it: 8 kHz, 16-bit mono WAV.
fn tone_wav() -> Vec<u8> {
    let samples: Vec<i16> = (0..4000)
        .map(|i| (f64::from(i) * 440.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0)
        .map(|v| v as i16)
        .collect();
    let data_len = samples.len() as u32 * 2;
    let mut w = Vec::new();
    w.extend(b"RIFF");
    w.extend((36 + data_len).to_le_bytes());
    w.extend(b"WAVEfmt ");
    w.extend(16u32.to_le_bytes());
    w.extend(1u16.to_le_bytes()); // PCM
    w.extend(1u16.to_le_bytes()); // mono
    w.extend(8000u32.to_le_bytes());
    w.extend(16000u32.to_le_bytes()); // bytes a second
    w.extend(2u16.to_le_bytes()); // bytes a sample
    w.extend(16u16.to_le_bytes());
    w.extend(b"data");
    w.extend(data_len.to_le_bytes());
    for s in samples {
        w.extend(s.to_le_bytes());
    }
    w
}

/// A supervisor watches the wallboard while an agent changes state and
/// takes work: the board follows without a reload. In the team view the
/// supervisor hands the agent's work to a colleague and sends the agent on
/// a break; the wall TV mode hides everything but the board.
#[tokio::test]
async fn the_wallboard_follows_the_agents_and_the_team_view_moves_their_work() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("board-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let admin = app.login("a", domain::role::Role::Admin).await;
    let sup = app.login("a", domain::role::Role::Supervisor).await;
    let agent = app.login("a", domain::role::Role::Agent).await;
    let lead = app.login("a", domain::role::Role::TeamLeader).await;
    let queue = admin
        .create(
            "/api/v1/routing/queues",
            json!({"name": "邮件 E-mail", "kinds": ["email"], "wrap_up_secs": 0}),
        )
        .await;
    admin
        .call(
            reqwest::Method::PUT,
            "/api/v1/routing/rules",
            Some(json!({"rules": [{"queue_id": queue["id"]}]})),
        )
        .await;
    let b = Browser::start("en-US").await;
    b.login(&app.base, "a.supervisor").await;
    b.click_nav("nav a[href='/wallboard']").await;
    let tile = format!("#board-agents li[data-agent='{}']", agent.user_id);
    assert!(b.text(&tile).await.contains("Offline"));

    // The agent goes available: the tile turns without a reload.
    let started = std::time::Instant::now();
    agent
        .post("/api/v1/routing/me/state", json!({"state": "available"}))
        .await;
    b.until(
        "the agent shown available",
        &format!("return document.querySelector(\"{tile}\").className === 'as-available'"),
    )
    .await;
    eprintln!(
        "wallboard followed the state change in {:?}",
        started.elapsed()
    );
    let case = crate::routing::email_case(&sup, "发票抬头 invoice title").await;
    let d = crate::routing::desk_until(&agent, "an offer", |d| {
        d["offers"].as_array().is_some_and(|o| !o.is_empty())
    })
    .await;
    let work = d["offers"][0]["id"].as_i64().unwrap();
    agent
        .post(&format!("/api/v1/routing/work/{work}/accept"), json!({}))
        .await;
    b.until(
        "the agent shown busy with the case",
        &format!("const t = document.querySelector(\"{tile}\"); return t.className === 'as-busy' && t.textContent.includes('{}')", d["offers"][0]["case_number"].as_str().unwrap()),
    )
    .await;
    let queues = b.text("#board-queues").await;
    assert!(queues.contains("邮件 E-mail 0 0:00 1 1 0 100%"), "{queues}");
    b.screenshot("wallboard").await;

    // The team view: the work goes to the team leader, the agent to lunch.
    b.click_nav("#to-team").await;
    let row = format!("#team-agents tr[data-agent='{}']", agent.user_id);
    assert!(b.text(&row).await.contains("发票抬头"));
    b.click(&format!(
        "{row} form.reassign option[value='{}']",
        lead.user_id
    ))
    .await;
    b.click_nav(&format!("{row} form.reassign button")).await;
    let lead_row = format!("#team-agents tr[data-agent='{}']", lead.user_id);
    assert!(b.text(&lead_row).await.contains("发票抬头"));
    assert!(!b.text(&row).await.contains("发票抬头"));
    let c = sup.ok(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["assignee_id"], lead.user_id);
    b.click(&format!("{row} form.set-state option[value='break:lunch']"))
        .await;
    b.click_nav(&format!("{row} form.set-state button")).await;
    assert!(b.text(&row).await.contains("Break · Lunch"));
    let me = agent.ok("/api/v1/routing/me").await;
    assert_eq!(me["state"], "break:lunch");
    b.screenshot("team").await;

    // On a tablet (820 px, portrait) nothing runs off the side.
    b.resize(820, 1180).await;
    for page in ["/wallboard", "/team", "/desk", &format!("/cases/{case}")] {
        b.goto(&format!("{}{page}", app.base)).await;
        b.find("main").await;
        let (scroll, width) = (
            b.eval("return document.documentElement.scrollWidth").await,
            b.eval("return document.documentElement.clientWidth").await,
        );
        let wide = b
            .eval("return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')")
            .await;
        assert!(
            scroll.as_i64() <= width.as_i64(),
            "{page} is {scroll} px wide in a {width} px window: {wide}"
        );
    }
    b.resize(1280, 900).await;
    // The wall TV: no navigation, the board only.
    b.goto(&format!("{}/wallboard?tv=1", app.base)).await;
    b.find("#board").await;
    assert_eq!(
        b.eval("return getComputedStyle(document.querySelector('header.top')).display")
            .await,
        "none"
    );
    assert!(b.text(&tile).await.contains("Lunch"));
}

/// An administrator, in Chinese, sets the organisation up from the
/// administration pages: a team, a department (after a refused handling
/// time, explained in Chinese), a category and a field; a new agent whose
/// password is made and shown once, then moved to the new team as team
/// leader and deactivated; every change is in the audit log.
#[tokio::test]
async fn an_administrator_sets_up_teams_departments_and_users() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("admin-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let b = Browser::start("zh-CN").await;
    b.login(&app.base, "a.admin").await;
    b.click_nav("nav a[href='/admin']").await;
    b.click_nav("#admin-hub a[href='/admin/catalog']").await;
    b.type_into("#new-team input[name=name]", "二组").await;
    b.click_nav("#new-team button").await;
    assert!(b.text("#teams").await.contains("二组"));
    b.type_into("#new-department input[name=name]", "财务部")
        .await;
    b.type_into("#new-department input[name=default_deadline_hours]", "0")
        .await;
    b.click_nav("#new-department button").await;
    assert_eq!(b.text(".error").await, "默认处理时限：须在 1 到 2160 之间");
    b.type_into("#new-department input[name=name]", "财务部")
        .await;
    b.type_into("#new-department input[name=default_deadline_hours]", "24")
        .await;
    b.click_nav("#new-department button").await;
    assert!(b.text("#departments").await.contains("财务部 24 h"));
    b.type_into("#new-category input[name=name]", "发票").await;
    b.click("#new-category option:nth-child(2)").await;
    b.click_nav("#new-category button").await;
    assert!(b.text("#categories").await.contains("咨询 / 发票"));
    b.type_into("#new-field input[name=key]", "vin_model").await;
    b.type_into("#new-field input[name=label]", "车型").await;
    b.click("#new-field option[value=select]").await;
    b.type_into("#new-field input[name=options]", "轿车, SUV")
        .await;
    b.click_nav("#new-field button").await;
    assert!(
        b.text("#fields")
            .await
            .contains("车型 下拉选择 · 轿车, SUV")
    );

    b.goto(&format!("{}/admin/users", app.base)).await;
    b.type_into("#new-user input[name=username]", "li.na").await;
    b.type_into("#new-user input[name=display_name]", "李娜")
        .await;
    b.click_nav("#new-user button").await;
    let made = b.text("#new-password").await;
    let password = made.rsplit(' ').next().unwrap().to_string();
    assert!(made.contains("li.na") && password.len() >= 12, "{made}");
    let login = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"username": "li.na", "password": password}),
        )
        .await;
    assert_eq!(login.0, StatusCode::OK, "the shown password works");
    let admin = app.login("a", domain::role::Role::Admin).await;
    let users = admin.ok("/api/v1/users").await;
    let li = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "li.na")
        .unwrap()
        .clone();
    assert_eq!(li["role"], "agent");
    let teams = admin.ok("/api/v1/teams").await;
    let two = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "二组")
        .unwrap()["id"]
        .clone();
    b.click_nav(&format!("#users tr[data-user='{}'] a", li["id"]))
        .await;
    b.click("#user-form select[name=role] option[value=team_leader]")
        .await;
    b.click(&format!(
        "#user-form select[name=team_id] option[value='{two}']"
    ))
    .await;
    b.type_into("#user-form input[name=extension]", "8 8").await;
    b.click_nav("#user-form button").await;
    assert_eq!(b.text(".error").await, "分机号：最多 32 位数字或字母");
    let unchanged = admin.ok("/api/v1/users").await;
    assert!(
        unchanged["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "li.na" && u["role"] == "agent" && u["team_id"] != two),
        "a refused form changes nothing"
    );
    // The form shows the user as stored: choose again.
    b.click("#user-form select[name=role] option[value=team_leader]")
        .await;
    b.click(&format!(
        "#user-form select[name=team_id] option[value='{two}']"
    ))
    .await;
    b.type_into("#user-form input[name=extension]", "8088")
        .await;
    b.click("#user-form input[name=active]").await;
    b.click_nav("#user-form button").await;
    let row = b
        .text(&format!("#users tr[data-user='{}']", li["id"]))
        .await;
    assert!(
        row.contains("班长")
            && row.contains("二组")
            && row.contains("8088")
            && row.contains("已停用"),
        "{row}"
    );
    let saved = admin.ok("/api/v1/users").await;
    let li = saved["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "li.na")
        .unwrap()
        .clone();
    assert_eq!(
        (
            li["role"].as_str(),
            li["team_id"].clone(),
            li["active"].as_bool()
        ),
        (Some("team_leader"), two, Some(false))
    );
    b.goto(&format!("{}/admin/audit", app.base)).await;
    let log = b.text("#audit").await;
    for action in [
        "team.create",
        "department.create",
        "category.create",
        "user.create",
        "user.update",
        "user.set_active",
    ] {
        assert!(log.contains(action), "{action} missing from\n{log}");
    }
    b.screenshot("admin-users").await;

    // What each role may do, before handing one out: an agent works cases
    // but does not administer; the operator's role is not offered here.
    b.goto(&format!("{}/admin/users", app.base)).await;
    b.click_nav("#roles-link").await;
    let cell = |perm: &str, role: &str| {
        format!(
            "return document.querySelector('#roles tr[data-permission={perm}] td:nth-child(' + ([...document.querySelectorAll('#roles thead th')].findIndex(h => h.dataset.role === '{role}') + 1) + ')').className"
        )
    };
    assert_eq!(b.eval(&cell("work_cases", "agent")).await, "yes");
    assert_eq!(b.eval(&cell("administer", "agent")).await, "no");
    assert_eq!(b.eval(&cell("administer", "admin")).await, "yes");
    let heads = b.text("#roles thead").await;
    assert!(
        heads.contains("坐席") && !heads.contains("平台运营"),
        "{heads}"
    );
    assert!(b.text("#roles tbody").await.contains("管理用户和设置"));

    // The catalogue changes: a department renamed, a category retired. The
    // new-case form no longer offers the category, and asks for the custom
    // field, whose value the case then shows.
    b.goto(&format!("{}/admin/catalog", app.base)).await;
    let dept = "#departments li[data-name='财务部']";
    b.click(&format!("{dept} summary")).await;
    b.type_into(&format!("{dept} input[name=name]"), "财务结算部")
        .await;
    b.click_nav(&format!("{dept} button")).await;
    assert!(b.text("#departments").await.contains("财务结算部 24 h"));
    let cat = "#categories li[data-name='发票']";
    b.click(&format!("{cat} summary")).await;
    b.click(&format!("{cat} input[name=active]")).await;
    b.click_nav(&format!("{cat} button")).await;
    assert!(
        b.text(&format!("{cat}.retired")).await.contains("已停用"),
        "the retired category is marked"
    );
    b.goto(&format!("{}/cases/new", app.base)).await;
    let offered = b
        .eval("return [...document.querySelectorAll('#new-case select[name=category_id] option')].map(o => o.textContent).join('|')")
        .await;
    assert!(
        offered
            .as_str()
            .is_some_and(|o| o.contains("咨询") && !o.contains("发票")),
        "{offered}"
    );
    b.click("#custom-fields select[name='custom.vin_model'] option[value=SUV]")
        .await;
    b.type_into("#case-subject", "SUV 保养咨询").await;
    b.click_nav("#create-case").await;
    assert!(
        b.text(".custom-value").await.contains("车型: SUV"),
        "the case shows its custom field"
    );
    let audit = admin.ok("/api/v1/audit").await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "category.update" && e["data"]["active"] == "retired"),
        "{audit}"
    );
}

/// The outsourcer's operator adds a client company with its first
/// administrator and gives it a colour; that administrator logs in with the
/// password shown and works in the new tenant, in its colour.
#[tokio::test]
async fn an_operator_adds_a_client_company() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("tenants-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let b = Browser::start("en").await;
    b.login(&app.base, "a.operator").await;
    b.click_nav("nav a[href='/admin']").await;
    b.click_nav("#admin-hub a[href='/admin/tenants']").await;
    b.type_into("#new-tenant input[name=slug]", "Acme").await;
    b.type_into("#new-tenant input[name=name]", "Acme Cars")
        .await;
    b.type_into("#new-tenant input[name=admin_username]", "acme.admin")
        .await;
    b.type_into("#new-tenant input[name=admin_display_name]", "Ann Admin")
        .await;
    // The browser's own pattern check is skipped, to see the server's answer.
    b.eval("document.querySelector('#new-tenant').noValidate = true")
        .await;
    b.click_nav("#create-tenant").await;
    assert!(b.text(".error").await.starts_with("slug: must be 2 to 40"));
    b.type_into("#new-tenant input[name=slug]", "acme").await;
    b.type_into("#new-tenant input[name=name]", "Acme Cars")
        .await;
    b.type_into("#new-tenant input[name=admin_username]", "acme.admin")
        .await;
    b.type_into("#new-tenant input[name=admin_display_name]", "Ann Admin")
        .await;
    b.click_nav("#create-tenant").await;
    let made = b.text("#new-password").await;
    let password = made.rsplit(' ').next().unwrap().to_string();
    assert!(made.contains("acme.admin"), "{made}");
    let row = "#tenants tr[data-tenant='acme']";
    assert!(b.text(row).await.contains("Acme Cars"));
    b.click(&format!("{row} summary")).await;
    b.eval(&format!(
        "document.querySelector(\"{row} input[name=brand_color]\").value = '#aa3300'"
    ))
    .await;
    b.click_nav(&format!("{row} button")).await;
    b.screenshot("tenants").await;

    // The new administrator, in the new tenant's colour, sees an empty tenant.
    b.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    b.goto(&format!("{}/login", app.base)).await;
    b.type_into("#username", "acme.admin").await;
    b.type_into("#password", &password).await;
    b.click_nav("#login").await;
    let accent = b
        .eval("return getComputedStyle(document.body).getPropertyValue('--accent').trim()")
        .await;
    assert_eq!(accent, "#aa3300");
    b.goto(&format!("{}/cases", app.base)).await;
    let rows = b
        .eval("return document.querySelectorAll('table.list tbody tr').length")
        .await;
    assert_eq!(rows, 0, "no other tenant's cases");
    b.goto(&format!("{}/admin", app.base)).await;
    assert_eq!(b.value("#own-tenant input[name=name]").await, "Acme Cars");
    let links = b
        .eval("return document.querySelectorAll(\"#admin-hub a[href='/admin/tenants']\").length")
        .await;
    assert_eq!(links, 0, "a tenant's administrator has no tenant list");
}

/// An agent saves a list filter and comes back to it; a case assigned to
/// them shows as new until they open it, and again when someone adds to
/// it; the keyboard reaches the note, the shortcut list and the desk.
#[tokio::test]
async fn an_agent_saves_a_filter_sees_what_is_new_and_uses_the_keyboard() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("desk-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let sup = app.login("a", domain::role::Role::Supervisor).await;
    let agent = app.login("a", domain::role::Role::Agent).await;
    let mine = sup
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "phone", "subject": "Mine to do", "assignee_id": agent.user_id}),
        )
        .await;
    sup.create(
        "/api/v1/cases",
        json!({"type": "inquiry", "channel": "phone", "subject": "Someone else's"}),
    )
    .await;
    let id = mine["id"].as_i64().unwrap();
    let b = Browser::start("en-US").await;
    b.login(&app.base, "a.agent").await;
    b.goto(&format!("{}/cases", app.base)).await;
    // The state in the header follows the router, on any page.
    assert_eq!(b.text("#my-state").await, "Offline");
    agent
        .post(
            "/api/v1/routing/me/state",
            json!({"state": "break", "reason": "training"}),
        )
        .await;
    b.until(
        "the header showing the break",
        "const s = document.querySelector('#my-state'); return !!s && s.textContent === 'Break · Training'",
    )
    .await;
    b.click(".filters select[name=assignee] option[value=me]")
        .await;
    b.click_nav(".filters button").await;
    b.type_into("#save-filter input[name=name]", "My open work")
        .await;
    b.click_nav("#save-filter button").await;
    b.goto(&format!("{}/cases", app.base)).await;
    b.click_nav("#saved-filters a").await;
    assert!(b.url().await.contains("assignee=me"));
    let list = b.text("table.list").await;
    assert!(
        list.contains("Mine to do") && !list.contains("Someone else's"),
        "{list}"
    );
    let row = format!("table.list tr:has(a[href='/cases/{id}'])");
    assert_eq!(
        b.eval(&format!(
            "return document.querySelector(\"{row}\").className"
        ))
        .await,
        "new"
    );
    b.click_nav(&format!("a[href='/cases/{id}']")).await;
    // "n" writes a note; "?" lists the shortcuts.
    let body = b.find("body").await;
    b.cmd(
        reqwest::Method::POST,
        &format!("/element/{body}/value"),
        Some(json!({"text": "n"})),
    )
    .await;
    assert_eq!(
        b.eval("return document.activeElement.id").await,
        "note-body"
    );
    b.eval("document.activeElement.blur(); return true").await;
    b.cmd(
        reqwest::Method::POST,
        &format!("/element/{body}/value"),
        Some(json!({"text": "?"})),
    )
    .await;
    assert!(b.text("#keys").await.contains("Write a note on the case"));
    b.click("#keys button").await;
    b.goto(&format!("{}/cases?assignee=me", app.base)).await;
    assert_eq!(
        b.eval(&format!(
            "return document.querySelector(\"{row}\").className"
        ))
        .await,
        "",
        "opened: no longer new"
    );
    sup.post(
        &format!("/api/v1/cases/{id}/interactions"),
        json!({"kind": "note", "body": "客户又来电了 @a.agent"}),
    )
    .await;
    b.goto(&format!("{}/cases?assignee=me", app.base)).await;
    assert_eq!(
        b.eval(&format!(
            "return document.querySelector(\"{row}\").className"
        ))
        .await,
        "new",
        "a colleague's note makes it new again"
    );
    assert_eq!(b.text("#nav-notifications .count").await, "1");
    // A saved filter no longer wanted goes with its ×.
    b.click_nav("#saved-filters .chip button").await;
    assert!(!b.text("#saved-filters").await.contains("My open work"));
    // The customer wrote and then phoned about the same thing: the agent
    // merges the call's case into the mail's from the customer's history.
    let wang = sup
        .create("/api/v1/customers", json!({"name": "王伟"}))
        .await;
    let mail = sup
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "email", "subject": "发票抬头", "customer_id": wang["id"]}),
        )
        .await;
    let call = sup
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "phone", "subject": "来电：发票抬头", "customer_id": wang["id"]}),
        )
        .await;
    b.goto(&format!("{}/cases/{}", app.base, mail["id"])).await;
    b.click(&format!(
        "#c360-cases form.merge input[value='{}'] ~ button",
        call["id"]
    ))
    .await;
    b.cmd(reqwest::Method::POST, "/alert/accept", Some(json!({})))
        .await;
    b.until(
        "the merge in the timeline",
        "const t = document.querySelector('#timeline'); return !!t && t.textContent.includes('Duplicate merged in')",
    )
    .await;
    let gone = sup.ok(&format!("/api/v1/cases/{}", call["id"])).await;
    assert_eq!(gone["status"], "closed");
    // Relating another case by its number; an unknown number is explained.
    b.type_into("#link-form input[name=number]", "2026-999999")
        .await;
    b.click_nav("#link-form button").await;
    assert_eq!(b.text(".error").await, "number: does not exist");
    let number = mine["number"].as_str().unwrap();
    b.type_into("#link-form input[name=number]", number).await;
    b.click_nav("#link-form button").await;
    assert!(b.text("#related").await.contains("Mine to do"));
    // "g" then "d": the desk.
    let body = b.find("body").await;
    let old = b.find("html").await;
    b.cmd(
        reqwest::Method::POST,
        &format!("/element/{body}/value"),
        Some(json!({"text": "gd"})),
    )
    .await;
    b.until("the desk after g d", "return location.pathname === '/desk'")
        .await;
    let _ = old;
}

/// A supervisor writes a knowledge article with a file and revises it with
/// new information from the client; an agent finds it from a case, answers
/// from it, and the case records the version.
#[tokio::test]
async fn a_supervisor_writes_an_article_and_an_agent_answers_a_case_from_it() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("kb-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let brochure = dir.join("保养手册.txt");
    std::fs::write(&brochure, "首保 5000 公里").unwrap();
    let b = Browser::start("zh-CN").await;
    b.login(&app.base, "a.supervisor").await;
    b.click_nav("nav a[href='/kb']").await;
    b.type_into("#new-kb-category input[name=name]", "售后政策")
        .await;
    b.click_nav("#new-kb-category button").await;
    b.click_nav("#kb-new").await;
    b.click("#article-form select[name=category_id] option:nth-child(2)")
        .await;
    b.type_into("#article-title-input", "保养周期").await;
    b.type_into("#article-body-input", "首次保养 5000 公里或 6 个月。")
        .await;
    b.type_into("#article-form input[name=tags]", "保养, 首保")
        .await;
    b.upload("#article-form input[name=files]", &brochure).await;
    // No source: the server says which field.
    b.eval("document.querySelector('#article-form').noValidate = true")
        .await;
    b.click_nav("#save-article").await;
    assert_eq!(b.text(".error").await, "信息来源：必填");
    b.click("#article-form select[name=category_id] option:nth-child(2)")
        .await;
    b.type_into("#article-title-input", "保养周期").await;
    b.type_into("#article-body-input", "首次保养 5000 公里或 6 个月。")
        .await;
    b.type_into("#article-form input[name=tags]", "保养, 首保")
        .await;
    b.upload("#article-form input[name=files]", &brochure).await;
    b.type_into("#article-source-input", "委托方售后部 2026-03-02 邮件")
        .await;
    b.click_nav("#save-article").await;
    assert_eq!(b.text("#article-title").await, "保养周期");
    assert!(b.text("#article-files").await.contains("保养手册.txt"));

    b.click_nav("#edit-article").await;
    b.type_into("#article-body-input", "首次保养 7500 公里或 6 个月。")
        .await;
    b.type_into("#article-source-input", "委托方市场部 2026-03-10 通知")
        .await;
    b.type_into("#article-note-input", "里程调整").await;
    b.click_nav("#save-article").await;
    assert!(b.text("#article-body").await.contains("7500"));
    let history = b.text("#versions").await;
    assert!(
        history.contains("委托方市场部 2026-03-10 通知") && history.contains("修改了: 正文"),
        "{history}"
    );
    assert!(
        b.text("#article-files").await.contains("保养手册.txt"),
        "the file is kept"
    );
    b.screenshot("kb-article").await;

    // The agent looks for an answer from a case.
    let agent = app.login("a", domain::role::Role::Agent).await;
    let case = agent
        .create(
            "/api/v1/cases",
            json!({"type": "inquiry", "channel": "phone", "subject": "首保多少公里"}),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    b.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    b.login(&app.base, "a.agent").await;
    b.goto(&format!("{}/cases/{id}", app.base)).await;
    // Beside the case, the article its words point to; typing a note moves
    // the suggestions with the words.
    assert!(b.text("#suggested-articles").await.contains("保养周期"));
    b.type_into("#note-body", "火星探测").await;
    b.until(
        "the suggestions follow the note",
        "return !document.querySelector('#suggested-articles')",
    )
    .await;
    b.type_into("#note-body", "首次保养").await;
    b.until(
        "the article is suggested again",
        "return (document.querySelector('#suggested-articles') || {}).textContent?.includes('保养周期')",
    )
    .await;
    // One search from the header finds it too, the words marked.
    b.type_into("#top-search", "保养").await;
    b.eval("document.querySelector('.top-search').submit()")
        .await;
    b.until(
        "the search page",
        "return !!document.querySelector('#hits')",
    )
    .await;
    let hit = b.source().await;
    assert!(hit.contains("<b>保养</b>"), "highlighted");
    b.goto(&format!("{}/cases/{id}", app.base)).await;
    b.type_into("#kb-find input[name=q]", "保养").await;
    b.click_nav("#kb-find button").await;
    assert!(b.text("#kb-for-case").await.contains(&format!("#{id}")));
    b.click_nav("#articles tbody tr:first-child a").await;
    b.click_nav("#versions li:last-child a").await;
    assert!(b.text("#old-version").await.contains("1"));
    assert!(
        b.text("#article-body").await.contains("5000"),
        "the old version reads as it was"
    );
    b.click_nav("#versions li:first-child a").await;
    b.click_nav("#use-this").await;
    assert!(b.url().await.ends_with(&format!("/cases/{id}")));
    assert!(b.text("#articles-used").await.contains("保养周期"));
    let used = agent.ok(&format!("/api/v1/cases/{id}/articles")).await;
    assert_eq!(used["items"][0]["version"], 2, "{used}");
    assert!(b.text(".timeline").await.contains("引用知识库"));
}

/// A visitor on a phone: the tenant's portal in its colours, the FAQ by
/// category with its answers, and a search that finds a public answer.
#[tokio::test]
async fn a_visitor_finds_an_faq_answer_on_the_portal() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("portal-faq.db").display());
    let app = App::start("sqlite", &url).await;
    let sup = app.login("a", domain::role::Role::Supervisor).await;
    let admin = app.login("a", domain::role::Role::Admin).await;
    let (status, _) = admin
        .patch(
            "/api/v1/tenant",
            json!({"name": "星途汽车客户服务", "brand_color": "#aa3300"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let cat = sup
        .create("/api/v1/kb/categories", json!({"name": "保养"}))
        .await;
    for (title, body, visibility, kind) in [
        (
            "首次保养是多少公里？",
            "首次保养在 5000 公里或 6 个月，以先到者为准。",
            "public",
            "faq",
        ),
        ("保养工时内部价", "内部价格，不对外。", "internal", "faq"),
        (
            "春节期间服务安排",
            "2 月 10 日至 16 日热线照常服务。",
            "public",
            "announcement",
        ),
    ] {
        sup.create(
            "/api/v1/articles",
            json!({"title": title, "body": body, "visibility": visibility, "kind": kind,
                   "category_id": cat["id"], "source": "委托方售后部", "language": "zh-CN"}),
        )
        .await;
    }
    let b = Browser::start("zh-CN").await;
    b.resize(390, 844).await;
    b.goto(&format!("{}/portal/a", app.base)).await;
    assert_eq!(b.text("#portal-brand").await, "星途汽车客户服务");
    assert!(b.text("#portal-news").await.contains("春节期间服务安排"));
    let faq = b.text("#portal-faq").await;
    assert!(
        faq.contains("首次保养是多少公里？") && !faq.contains("内部价"),
        "{faq}"
    );
    assert_eq!(
        b.eval("return getComputedStyle(document.body).getPropertyValue('--accent').trim()")
            .await,
        json!("#aa3300"),
        "the tenant's colour"
    );
    assert_eq!(
        b.eval("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true),
        "nothing wider than a phone"
    );
    // The question opens on the page.
    b.click("#portal-faq details summary").await;
    b.until(
        "the answer shows",
        "return document.querySelector('#portal-faq details').open",
    )
    .await;
    // Or the visitor searches in their own words.
    b.type_into("#portal-q", "保养 公里").await;
    b.click_nav(".portal-search button").await;
    b.until(
        "a public answer is found",
        "return (document.querySelector('#portal-hits') || {}).textContent?.includes('首次保养是多少公里')",
    )
    .await;
    assert!(!b.text("main").await.contains("内部价"));
    b.screenshot("portal").await;
    b.click_nav("#portal-hits a").await;
    assert!(
        b.text("#portal-article-body")
            .await
            .contains("5000 公里或 6 个月")
    );
}

/// A visitor sends the contact form: a refused field is named, then the
/// case is opened, its number shown, and it waits in the queue its
/// province picks.
#[tokio::test]
async fn a_visitor_sends_the_contact_form_and_the_case_waits_in_its_queue() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("portal-form.db").display());
    let app = App::start("sqlite", &url).await;
    let photo = dir.join("noise.jpg");
    std::fs::write(&photo, [0xffu8, 0xd8, 0xff, 0xe0, 1, 2, 3]).unwrap();
    let admin = app.login("a", domain::role::Role::Admin).await;
    let mut queues = Vec::new();
    for name in ["Guangdong web", "Web"] {
        let q = admin
            .create(
                "/api/v1/routing/queues",
                json!({"name": name, "kinds": ["web"], "offer_timeout_secs": 600}),
            )
            .await;
        queues.push(q["id"].as_i64().unwrap());
    }
    let rules = json!({"rules": [{"queue_id": queues[0], "conditions": {"regions": ["44"]}}, {"queue_id": queues[1]}]});
    let (status, _) = admin
        .call(reqwest::Method::PUT, "/api/v1/routing/rules", Some(rules))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);

    let b = Browser::start("en").await;
    b.goto(&format!("{}/portal/a", app.base)).await;
    b.click_nav("#portal-contact").await;
    b.click("#c-province option[value='44']").await;
    b.type_into("#c-email", "li.lei@example.com").await;
    b.type_into("#c-message", "The brakes squeal since the last service.")
        .await;
    // No name: the server names the field, and keeps what was typed.
    b.eval("document.querySelector('#contact-form').noValidate = true")
        .await;
    b.click_nav("#c-send").await;
    assert_eq!(b.text("#contact-errors").await, "name: is required");
    assert_eq!(b.value("#c-email").await, "li.lei@example.com");
    assert_eq!(
        b.eval("return document.querySelector('#c-name').getAttribute('aria-invalid')")
            .await,
        json!("true")
    );
    b.type_into("#c-name", "Li Lei").await;
    b.upload("#c-files", &photo).await;
    b.click_nav("#c-send").await;
    let number = b.text("#portal-case-number").await;
    assert!(number.len() == 11 && number.contains('-'), "{number}");
    assert!(
        b.text("#portal-messages")
            .await
            .contains("Province: Guangdong")
    );
    assert!(b.url().await.contains("/portal/a/c/"));
    b.screenshot("portal-case").await;

    // The supervisor sees it waiting in Guangdong's queue, not the other.
    b.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    b.login(&app.base, "a.supervisor").await;
    b.goto(&format!("{}/routing", app.base)).await;
    let waiting = |q: i64| {
        format!(
            "return document.querySelector('#queue-status tr[data-queue=\"{q}\"] .waiting').textContent.trim()"
        )
    };
    assert_eq!(b.eval(&waiting(queues[0])).await, json!("1"));
    assert_eq!(b.eval(&waiting(queues[1])).await, json!("0"));
    let case = admin.ok(&format!("/api/v1/cases/by-number/{number}")).await;
    assert_eq!(case["channel"], "web");
    assert_eq!(
        case["interactions"][0]["attachments"][0]["filename"],
        "noise.jpg"
    );
}

/// An announcement to the agents: the agent is told, reads it and says so;
/// the supervisor sees who has read it and who has not.
#[tokio::test]
async fn an_agent_confirms_an_announcement_and_the_supervisor_sees_who_has_not() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("announce.db").display());
    let app = App::start("sqlite", &url).await;
    let sup = app.login("a", domain::role::Role::Supervisor).await;
    let a = sup
        .create(
            "/api/v1/articles",
            json!({"kind": "announcement", "title": "X5 price change", "language": "en",
                   "body": "From 1 December the X5 costs 5000 less.", "source": "Client marketing, notice of 20 November"}),
        )
        .await;
    let id = a["id"].as_i64().unwrap();
    let b = Browser::start("en").await;
    b.login(&app.base, "a.agent").await;
    assert_eq!(b.text("#nav-notifications .count").await, "1");
    b.click_nav("#nav-notifications").await;
    b.click_nav(".notice-article").await;
    assert!(b.text("#article-body").await.contains("5000 less"));
    b.click_nav("#mark-read").await;
    assert!(
        b.text("#you-read")
            .await
            .starts_with("You confirmed reading version 1")
    );
    b.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    b.login(&app.base, "a.supervisor").await;
    b.goto(&format!("{}/kb/{id}", app.base)).await;
    assert!(b.text("#readers-current").await.contains("a agent"));
    let not_read = b.text("#readers-none").await;
    assert!(
        not_read.contains("a team_leader") && !not_read.contains("a agent"),
        "{not_read}"
    );
}

/// A supervisor writes a call script as text; an agent walks it on a
/// complaint, follows the angry-caller branch, and the note they save
/// records the script version.
#[tokio::test]
async fn an_agent_walks_a_call_script_and_the_note_records_its_version() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("scripts-ui.db").display());
    let app = App::start("sqlite", &url).await;
    let b = Browser::start("zh-CN").await;
    b.login(&app.base, "a.supervisor").await;
    b.click_nav("nav a[href='/kb']").await;
    b.click_nav("#kb-scripts").await;
    b.click_nav("#script-new").await;
    b.type_into("#script-name-input", "投诉来电").await;
    b.click("#script-form input[name=case_types][value=complaint]")
        .await;
    // A branch to a step that does not exist: the server names the line.
    b.type_into(
        "#script-steps-input",
        "[greet] 问候\n您好，这里是星途汽车客服中心。\n> 客户情绪激动 -> calmm\n\n[calm] 安抚\n非常理解您的心情。",
    )
    .await;
    b.click_nav("#save-script").await;
    assert!(
        b.text(".error").await.contains("不是本话术中的步骤"),
        "{}",
        b.text(".error").await
    );
    let steps = b.value("#script-steps-input").await;
    b.type_into("#script-steps-input", &steps.replace("calmm", "calm"))
        .await;
    b.click_nav("#save-script").await;
    assert_eq!(b.text("#script-name").await, "投诉来电");
    assert!(b.text("#script-steps").await.contains("客户情绪激动"));

    let agent = app.login("a", domain::role::Role::Agent).await;
    let case = agent
        .create(
            "/api/v1/cases",
            json!({"type": "complaint", "channel": "phone", "subject": "维修后仍有异响"}),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    b.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    b.login(&app.base, "a.agent").await;
    b.goto(&format!("{}/cases/{id}", app.base)).await;
    b.click_nav("#script-panel a[data-script]").await;
    assert_eq!(b.text("#script-step").await, "问候");
    assert!(b.text("#script-say").await.contains("星途汽车客服中心"));
    b.click_nav("#script-branches a").await;
    assert_eq!(b.text("#script-step").await, "安抚");
    b.type_into("#note-body", "客户情绪激动，已按话术安抚")
        .await;
    b.click_nav("#add-note").await;
    let timeline = b.text(".timeline").await;
    assert!(timeline.contains("话术 投诉来电 v1"), "{timeline}");
    assert_eq!(
        b.text("#script-step").await,
        "安抚",
        "the script stays open at its step"
    );
    b.screenshot("script-panel").await;
}
