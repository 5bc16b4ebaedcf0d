//! The customer portal over HTTP, as a visitor's browser posts it: public
//! answers only, the contact form that opens a routed case and acknowledges
//! it, the private page, and the portal's defences.

use crate::harness::*;
use domain::role::Role;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A visitor's browser: it keeps cookies and does not follow redirects.
struct Visitor {
    base: String,
    http: reqwest::Client,
    lang: &'static str,
}

/// A multipart form: text fields and files.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----portal-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (filename, data) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Visitor {
    fn new(app: &App, lang: &'static str) -> Visitor {
        Visitor {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            lang,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept-language", self.lang)
            .send()
            .await
            .expect("get");
        (resp.status(), resp.text().await.expect("body"))
    }

    /// Posts a form; the status, the page and where it sends the browser.
    async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> (StatusCode, String, String) {
        let (kind, body) = multipart(fields, files);
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, kind)
            .header("accept-language", self.lang)
            .body(body)
            .send()
            .await
            .expect("post");
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, resp.text().await.expect("body"), location)
    }

    /// The anti-forgery value a page's form carries.
    async fn csrf(&self, path: &str) -> String {
        let (status, page) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        let at = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        page[at..at + 32].to_string()
    }
}

fn form<'a>(csrf: &'a str, overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf", csrf),
        ("category_id", ""),
        ("province", "44"),
        ("name", "王女士"),
        ("phone", ""),
        ("email", "wang@example.cn"),
        ("account_no", "ACC-9"),
        ("order_no", ""),
        (
            "message",
            "Brake noise after the service\nIt squeals when cold.",
        ),
        ("website", ""),
    ];
    for (k, v) in overrides {
        match f.iter_mut().find(|(n, _)| n == k) {
            Some(slot) => slot.1 = v,
            None => f.push((k, v)),
        }
    }
    f
}

/// The key of a case page's address `/portal/a/c/{key}?...`.
fn key_of(location: &str) -> String {
    location
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_visitor_contacts_the_center_and_follows_the_case() {
    each_backend(|app| async move {
        let ctx = app.backend;
        let admin = app.login("a", Role::Admin).await;
        let sup = app.login("a", Role::Supervisor).await;
        let agent = app.login("a", Role::Agent).await;
        admin
            .create("/api/v1/mail/addresses", json!({"address": "service@a.example", "display_name": "A 服务", "language": "en"}))
            .await;
        // Guangdong's web work has its own queue; the rest goes to another.
        let mut queues = Vec::new();
        for name in ["广东网页", "网页"] {
            let q = admin
                .create("/api/v1/routing/queues", json!({"name": name, "kinds": ["web"], "offer_timeout_secs": 600}))
                .await;
            queues.push(q["id"].as_i64().unwrap());
        }
        let rules = json!({"rules": [{"queue_id": queues[0], "conditions": {"regions": ["44"]}}, {"queue_id": queues[1]}]});
        let (status, v) = admin.call(Method::PUT, "/api/v1/routing/rules", Some(rules)).await;
        assert_eq!(status, StatusCode::OK, "{ctx}: {v}");
        let category = app.categories["a"].0.to_string();

        let visitor = Visitor::new(&app, "en");
        let (status, page) = visitor.get("/portal/a/contact").await;
        assert_eq!(status, StatusCode::OK, "{ctx}");
        assert!(page.contains("咨询"), "{ctx}: the tenant's live categories are offered");
        let csrf = visitor.csrf("/portal/a/contact").await;

        // The defences come first: a post without the visitor's value, one
        // with the robots' field, and one from a browser with no cookie.
        let (status, page, _) = visitor.post("/portal/a/contact", &form("0".repeat(32).as_str(), &[]), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{ctx}: {page}");
        let (status, _, _) = visitor.post("/portal/a/contact", &form(&csrf, &[("website", "http://spam")]), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ctx}");
        let stranger = Visitor::new(&app, "en");
        let (status, _, _) = stranger.post("/portal/a/contact", &form(&csrf, &[]), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{ctx}: another browser's value");

        // Bad fields are named on the page, in the visitor's language.
        let bad: &[(&[(&str, &str)], &str)] = &[
            (&[("name", "")], "c-name"),
            (&[("email", ""), ("phone", "")], "c-email"),
            (&[("province", "99")], "c-province"),
            (&[("email", "not-an-address")], "c-email"),
            (&[("category_id", "999999")], "category"),
        ];
        for (over, marked) in bad {
            let (status, page, _) = visitor.post("/portal/a/contact", &form(&csrf, over), &[]).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx} {over:?}: {page}");
            assert!(page.contains("contact-errors"), "{ctx} {over:?}");
            if marked.starts_with("c-") {
                let field = page.split(&format!("id=\"{marked}\"")).nth(1).unwrap_or_default();
                assert!(field[..200.min(field.len())].contains("aria-invalid"), "{ctx} {over:?} marks {marked}");
            }
        }
        let zh = Visitor::new(&app, "zh-CN");
        let zh_csrf = zh.csrf("/portal/a/contact").await;
        let (_, page, _) = zh.post("/portal/a/contact", &form(&zh_csrf, &[("name", "")]), &[]).await;
        assert!(page.contains("姓名") || page.contains("您的姓名") || page.contains("名称"), "{ctx}: {page}");
        let five_mb = vec![7u8; 5 * 1024 * 1024 + 1];
        let (status, page, _) = visitor
            .post("/portal/a/contact", &form(&csrf, &[]), &[("big.bin", five_mb.as_slice())])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}: files over 5 MB");
        assert!(page.contains("5 MB"), "{ctx}");

        // A good form: a case, routed by its province, acknowledged.
        let script = "<script>alert(1)</script>";
        let message = format!("Brake noise after the service {script}");
        let (status, _, location) = visitor
            .post(
                "/portal/a/contact",
                &form(&csrf, &[("category_id", &category), ("message", &message)]),
                &[("noise.m4a", b"RIFF-sound".as_slice())],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{ctx}");
        assert!(location.starts_with("/portal/a/c/") && location.ends_with("?new=mailed"), "{ctx}: {location}");
        let key = key_of(&location);
        let (status, page) = visitor.get(&location).await;
        assert_eq!(status, StatusCode::OK, "{ctx}");
        assert!(page.contains("&#60;script&#62;") && !page.contains(script), "{ctx}: escaped: {page}");
        let number_at = page.find("id=\"portal-case-number\">").expect("case number") + 24;
        let number = page[number_at..number_at + 11].to_string();

        let detail = sup.ok(&format!("/api/v1/cases/by-number/{number}")).await;
        let case_id = detail["id"].as_i64().unwrap();
        let c = &detail;
        assert_eq!((c["channel"].as_str(), c["category_id"].as_i64()), (Some("web"), Some(app.categories["a"].0)), "{ctx}");
        assert_eq!(c["custom"]["province"], "44", "{ctx}");
        assert_eq!(c["custom"]["account_no"], "ACC-9", "{ctx}");
        let queued: Vec<&Value> = detail["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "queued").collect();
        assert_eq!(queued.len(), 1, "{ctx}: {detail}");
        assert_eq!(queued[0]["data"]["queue_id"], queues[0].to_string(), "{ctx}: Guangdong's queue");
        let interactions = detail["interactions"].as_array().unwrap();
        let first = &interactions[0];
        assert_eq!((first["kind"].as_str(), first["direction"].as_str()), (Some("web_form"), Some("inbound")), "{ctx}");
        assert!(first["body"].as_str().unwrap().contains("Province: Guangdong"), "{ctx}: {first}");
        assert_eq!(first["attachments"][0]["filename"], "noise.m4a", "{ctx}");
        let ack = interactions.iter().find(|i| i["kind"] == "email" && i["direction"] == "outbound").expect("ack");
        let link = format!("{}/portal/a/c/{key}", app.base);
        assert!(ack["body"].as_str().unwrap().contains(&link), "{ctx}: {ack}");
        assert!(ack["body"].as_str().unwrap().contains(&number), "{ctx}");
        let customer = sup.ok(&format!("/api/v1/customers/{}", c["customer_id"])).await;
        assert_eq!(customer["emails"], json!(["wang@example.cn"]), "{ctx}");

        // The same e-mail again: the same customer, and the same answer as
        // for a stranger (no enumeration). Another province: the other queue.
        let (status, _, again) = visitor
            .post("/portal/a/contact", &form(&csrf, &[("province", "31"), ("message", "Second question")]), &[])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{ctx}");
        assert!(again.ends_with("?new=mailed"), "{ctx}");
        let (_, page2) = visitor.get(&again).await;
        let n2_at = page2.find("id=\"portal-case-number\">").unwrap() + 24;
        let n2 = &page2[n2_at..n2_at + 11];
        let d2 = sup.ok(&format!("/api/v1/cases/by-number/{n2}")).await;
        assert_eq!(d2["customer_id"], c["customer_id"], "{ctx}");
        let q2 = d2["events"].as_array().unwrap().iter().find(|e| e["kind"] == "queued").unwrap().clone();
        assert_eq!(q2["data"]["queue_id"], queues[1].to_string(), "{ctx}");

        // An agent answers by e-mail and writes a note: the customer sees
        // the answer, never the note.
        let (status, v) = agent
            .post(&format!("/api/v1/cases/{case_id}/replies"), json!({"body": "Please bring the car in; the pads are covered."}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ctx}: {v}");
        agent.create(&format!("/api/v1/cases/{case_id}/interactions"), json!({"body": "内部：客户曾投诉过"})).await;
        let (_, page) = visitor.get(&format!("/portal/a/c/{key}")).await;
        assert!(page.contains("the pads are covered"), "{ctx}");
        assert!(!page.contains("内部：客户曾投诉过"), "{ctx}: notes stay inside");
        assert!(page.contains("noise.m4a"), "{ctx}");
        let file_at = page.find(&format!("/portal/a/c/{key}/files/")).unwrap();
        let file_path = page[file_at..].split('"').next().unwrap().to_string();
        let (status, bytes) = visitor.get(&file_path).await;
        assert_eq!((status, bytes.as_str()), (StatusCode::OK, "RIFF-sound"), "{ctx}");

        // The customer answers a resolved case: it opens again.
        let (status, _) = agent.post(&format!("/api/v1/cases/{case_id}/transitions"), json!({"action": "resolve"})).await;
        assert_eq!(status, StatusCode::OK, "{ctx}");
        let (status, _, sent) = visitor
            .post(&format!("/portal/a/c/{key}"), &[("csrf", &csrf), ("message", "Still squealing."), ("website", "")], &[])
            .await;
        assert_eq!((status, sent.ends_with("?sent=1")), (StatusCode::SEE_OTHER, true), "{ctx}");
        let after = sup.ok(&format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(after["status"], "open", "{ctx}");
        let last = after["interactions"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["kind"].as_str(), last["body"].as_str()), (Some("web_form"), Some("Still squealing.")), "{ctx}");
        let (status, _, _) = visitor.post(&format!("/portal/a/c/{key}"), &[("csrf", &csrf), ("message", " ")], &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}: an empty answer");
        for action in ["resolve", "close"] {
            let (status, v) = agent.post(&format!("/api/v1/cases/{case_id}/transitions"), json!({"action": action})).await;
            assert_eq!(status, StatusCode::OK, "{ctx}: {v}");
        }
        let (status, page, _) = visitor.post(&format!("/portal/a/c/{key}"), &[("csrf", &csrf), ("message", "Hello?")], &[]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{ctx}: {page}");

        // The key opens nothing elsewhere, and a made-up key nothing at all.
        for path in [format!("/portal/b/c/{key}"), format!("/portal/a/c/{}", "0".repeat(48)), "/portal/a/c/short".into(), "/portal/nobody".into()] {
            let (status, _) = visitor.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}: {path}");
        }

        // Five forms per address in ten minutes; the next waits.
        let mut refused = None;
        for i in 0..5 {
            let msg = format!("question {i}");
            let (status, _, _) = visitor.post("/portal/a/contact", &form(&csrf, &[("message", &msg)]), &[]).await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                refused = Some(i);
                break;
            }
            assert_eq!(status, StatusCode::SEE_OTHER, "{ctx}");
        }
        // Three were counted before: two cases, and the form whose category
        // only the store could refuse.
        assert_eq!(refused, Some(2), "{ctx}: two more pass");
    })
    .await;
}

#[tokio::test]
async fn the_portal_shows_public_answers_that_hold_today() {
    each_backend(|app| async move {
        let ctx = app.backend;
        let sup = app.login("a", Role::Supervisor).await;
        let admin = app.login("a", Role::Admin).await;
        let cat = sup.create("/api/v1/kb/categories", json!({"name": "保养"})).await;
        let article = |title: &str, extra: Value| {
            let mut b = json!({"title": title, "body": format!("{title} 的答案：每 5000 公里保养一次。"), "source": "客户服务部", "language": "zh-CN"});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        let mut ids = std::collections::HashMap::new();
        for (title, extra) in [
            ("保养周期是多久", json!({"kind": "faq", "visibility": "public", "category_id": cat["id"]})),
            ("内部报价说明", json!({"kind": "faq", "visibility": "internal"})),
            ("已结束的促销", json!({"kind": "announcement", "visibility": "public", "valid_to": "2020-01-01"})),
            ("春节服务安排", json!({"kind": "announcement", "visibility": "public"})),
            ("ABS", json!({"kind": "glossary", "visibility": "public"})),
            ("保养手册", json!({"kind": "download", "visibility": "public", "files": [{"filename": "manual.pdf", "data": "JVBERi0xLjQ="}]})),
        ] {
            let a = sup.create("/api/v1/articles", article(title, extra)).await;
            ids.insert(title, a["id"].as_i64().unwrap());
        }
        let visitor = Visitor::new(&app, "zh-CN");
        let (status, home) = visitor.get("/portal/a").await;
        assert_eq!(status, StatusCode::OK, "{ctx}");
        assert!(home.contains("保养周期是多久") && home.contains("每 5000 公里"), "{ctx}: the FAQ with its answer");
        assert!(home.contains("春节服务安排"), "{ctx}: a current announcement");
        assert!(!home.contains("内部报价说明") && !home.contains("已结束的促销"), "{ctx}: {home}");
        let (_, glossary) = visitor.get("/portal/a/glossary").await;
        assert!(glossary.contains("ABS"), "{ctx}");
        let (_, downloads) = visitor.get("/portal/a/downloads").await;
        assert!(downloads.contains("manual.pdf"), "{ctx}");
        for (title, want) in [("内部报价说明", StatusCode::NOT_FOUND), ("已结束的促销", StatusCode::NOT_FOUND), ("保养周期是多久", StatusCode::OK)] {
            let (status, _) = visitor.get(&format!("/portal/a/a/{}", ids[title])).await;
            assert_eq!(status, want, "{ctx}: {title}");
        }
        let (status, _) = visitor.get(&format!("/portal/b/a/{}", ids["保养周期是多久"])).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}: another tenant's portal");

        // Search finds public answers only (from the index or, until it has
        // caught up, from the store).
        let mut page = String::new();
        for _ in 0..50 {
            let (status, p) = visitor.get("/portal/a/search?q=保养").await;
            assert_eq!(status, StatusCode::OK, "{ctx}");
            page = p;
            if page.contains("保养周期是多久") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(page.contains("保养周期是多久"), "{ctx}: {page}");
        assert!(!page.contains("内部报价说明"), "{ctx}");

        // A retired article leaves the portal.
        let (status, _) = sup.patch(&format!("/api/v1/articles/{}", ids["保养周期是多久"]), json!({"active": false})).await;
        assert_eq!(status, StatusCode::OK, "{ctx}");
        let (status, _) = visitor.get(&format!("/portal/a/a/{}", ids["保养周期是多久"])).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}");

        // The tenant's logo: an image told by its bytes, never an SVG.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01".to_vec();
        let put = |body: Vec<u8>| {
            let admin = &admin;
            async move {
                admin
                    .http
                    .put(format!("{}/api/v1/tenant/logo", admin.base))
                    .bearer_auth(admin.token.as_deref().unwrap())
                    .body(body)
                    .send()
                    .await
                    .expect("put logo")
            }
        };
        let resp = put(b"<svg onload='alert(1)'/>".to_vec()).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{ctx}");
        let (status, _) = visitor.get("/portal/a/logo").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}: no logo yet");
        assert_eq!(put(png.clone()).await.status(), StatusCode::NO_CONTENT, "{ctx}");
        let resp = visitor.http.get(format!("{}/portal/a/logo", app.base)).send().await.unwrap();
        assert_eq!(resp.headers()[CONTENT_TYPE], "image/png", "{ctx}");
        assert_eq!(resp.bytes().await.unwrap().to_vec(), png, "{ctx}");
        let (_, home) = visitor.get("/portal/a").await;
        assert!(home.contains("/portal/a/logo"), "{ctx}");
        let me = admin.ok("/api/v1/me").await;
        assert!(me.to_string().contains("logo_sha256"), "{ctx}: {me}");
        let (status, _) = admin.call(Method::DELETE, "/api/v1/tenant/logo", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{ctx}");
        let (status, _) = visitor.get("/portal/a/logo").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}");

        // Pages set the visitor's own anti-forgery cookie, for the portal only.
        let resp = reqwest::get(format!("{}/portal/a/contact", app.base)).await.unwrap();
        let cookie = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
        assert!(cookie.starts_with("cc_portal=") && cookie.contains("Path=/portal") && cookie.contains("SameSite=Strict"), "{cookie}");
    })
    .await;
}
