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

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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
    b.click("#login").await;
    b.find("table.list, main p").await;
    assert!(b.url().await.ends_with("/cases"));

    // The caller gives the number in another writing; one match opens the record.
    b.goto(&format!("{}/customers", app.base)).await;
    b.type_into("#customer-q", "138-0013-8000").await;
    b.click("#customer-search").await;
    assert!(b.text("#customer-name").await.contains("王伟"));
    b.screenshot("customer").await;

    b.click("#new-case-for-customer").await;
    b.click("#case-type option[value=complaint]").await;
    b.type_into("#case-subject", "Noise after repair").await;
    b.type_into(
        "#case-description",
        "Caller says the noise is back since the repair.",
    )
    .await;
    b.click("#create-case").await;
    let number = b.text("#case-number").await;
    assert!(
        number.len() == 11 && number.as_bytes()[4] == b'-',
        "case number shown: {number}"
    );
    assert_eq!(b.text("#case-status").await, "Open");
    assert!(b.text("#case-customer").await.contains("王伟"));

    b.type_into("#note-body", "Offered a free inspection on Wednesday")
        .await;
    b.click("#add-note").await;
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
    b.click("header .who a[lang]").await;
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
