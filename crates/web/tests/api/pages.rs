//! Every page each role can reach, found by following the links from its
//! home page on the demo data, checked in a real Chromium: it is not an
//! error; every control has a name a screen reader can say (Chromium's own
//! accessible-name computation); the keyboard starts at "skip to content"
//! and no positive tabindex reorders it; nothing runs off the side at
//! 1280×800 or on a tablet held upright (820×1180).

use crate::browser::Browser;
use crate::harness::*;
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};

/// Links that lead to no page of ours: files, the API, switching language
/// or leaving.
fn crawlable(href: &str) -> Option<String> {
    let path = href.split('#').next().unwrap_or_default();
    let skip = ["/api/", "/assets/", "/lang", "/logout", "/mail-html/"];
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !skip.iter().any(|s| path.starts_with(s))
        && !path.contains("/files/")
        && !path.ends_with("/logo");
    ok.then(|| path.to_string())
}

/// One page per shape of address: `/cases/17` and `/cases/42` are the same
/// page; the query is left out.
fn shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|c| c.is_ascii_digit()) {
                "N"
            } else if seg.len() >= 32 && seg.bytes().all(|c| c.is_ascii_hexdigit()) {
                "H"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Describes an element in a failure message.
const DESCRIBE: &str = "const d = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '') + ' ' + e.outerHTML.slice(0, 90);";

/// What sticks out past the window's right edge (the innermost first).
const WIDE: &str = r#"
const root = document.documentElement;
const overflow = root.scrollWidth > root.clientWidth
  ? [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > root.clientWidth + 1).reverse().slice(0, 3).map(d)
  : [];
"#;

const CHECKS: &str = r#"
const shown = e => e.checkVisibility({visibilityProperty: true}) && !e.closest('[aria-hidden=true]');
// Folded parts (an edit form under "Edit") are checked unfolded.
document.querySelectorAll('details').forEach(x => x.open = true);
const ids = {};
document.querySelectorAll('[id]').forEach(e => ids[e.id] = (ids[e.id] || 0) + 1);
return {
  error: document.querySelector('#error-page') ? document.querySelector('#error-page').innerText : null,
  positive_tabindex: [...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex > 0).map(d),
  hidden_focusable: [...document.querySelectorAll('[aria-hidden=true] :is(a[href], input, button, select, textarea)')].filter(e => e.tabIndex >= 0).map(d),
  duplicate_ids: Object.keys(ids).filter(k => ids[k] > 1),
  overflow,
  ask: [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href], summary')]
    .filter(shown)
    .filter(e => ['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName) || !e.textContent.trim())
    .map(e => [e, d(e)]),
  first_focus: document.activeElement === document.body,
};
"#;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What is wrong with the page open now.
async fn check(b: &Browser, page: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    let found = b.eval(&format!("{DESCRIBE}{WIDE}{CHECKS}")).await;
    if let Some(e) = found["error"].as_str() {
        wrong.push(format!("{page}: an error page: {e}"));
    }
    for (what, key) in [
        ("a positive tabindex", "positive_tabindex"),
        ("focusable under aria-hidden", "hidden_focusable"),
        ("a duplicate id", "duplicate_ids"),
        ("wider than 1280 px", "overflow"),
    ] {
        for item in found[key].as_array().into_iter().flatten() {
            wrong.push(format!("{page}: {what}: {item}"));
        }
    }
    for pair in found["ask"].as_array().into_iter().flatten() {
        let id = pair[0][ELEMENT].as_str().unwrap_or_default();
        let label = b
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{id}/computedlabel"),
                None,
            )
            .await;
        if label.as_str().is_none_or(|l| l.trim().is_empty()) {
            wrong.push(format!("{page}: no accessible name: {}", pair[1]));
        }
    }
    if found["first_focus"] == Value::Bool(true) {
        b.cmd(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keys", "actions": [
                {"type": "keyDown", "value": "\u{E004}"}, {"type": "keyUp", "value": "\u{E004}"}]}]})),
        )
        .await;
        let first = b
            .eval("return document.activeElement.className + ' ' + document.activeElement.getAttribute('href')")
            .await;
        if first != json!("skip #main") {
            wrong.push(format!("{page}: the first Tab lands on {first}"));
        }
    }
    wrong
}

/// Follows the links from `home` breadth-first, one page per shape.
async fn crawl(b: &Browser, base: &str, home: &str) -> (Vec<String>, Vec<String>) {
    let mut seen = HashSet::from([shape(home)]);
    let mut todo = VecDeque::from([home.to_string()]);
    let (mut visited, mut wrong) = (Vec::new(), Vec::new());
    while let Some(path) = todo.pop_front() {
        b.goto(&format!("{base}{path}")).await;
        b.find("main").await;
        wrong.extend(check(b, &path).await);
        let links = b
            .eval(
                "return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))",
            )
            .await;
        for href in links.as_array().into_iter().flatten() {
            if let Some(next) = href.as_str().and_then(crawlable)
                && seen.insert(shape(&next))
            {
                todo.push_back(next);
            }
        }
        visited.push(path);
    }
    (visited, wrong)
}

#[tokio::test]
async fn every_page_names_its_controls_and_fits_a_laptop_and_a_tablet() {
    let dir = store::testing::temp_dir();
    let url = format!("sqlite:{}", dir.join("pages.db").display());
    let app = App::start("sqlite", &url).await;
    let sizes = demo::Sizes {
        auto_customers: 120,
        auto_cases: 40,
        fund_customers: 20,
        fund_cases: 8,
    };
    demo::seed(&app.store, password_hash(), &sizes, jiff::Timestamp::now())
        .await
        .expect("demo data");
    // A stranger on the line with an agent, so the team view links the call.
    let pbx = Client {
        token: Some("demo-cti-auto".into()),
        ..app.anon()
    };
    for event in [
        json!({"event": "new", "call_id": "pages-1", "direction": "inbound",
               "caller": "139 0000 1111", "callee": "4008001234", "extension": "8002"}),
        json!({"event": "answered", "call_id": "pages-1", "extension": "8002"}),
    ] {
        let (status, out) = pbx.post("/api/v1/cti/events", event).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{out}");
    }
    // Customers are listed once looked for: the agent starts there too.
    let roles = [
        ("auto.agent1", "en-US", "/desk"),
        ("auto.agent1", "zh-CN", "/customers?q=%E7%8E%8B"),
        ("auto.supervisor", "en-US", "/wallboard"),
        ("auto.admin", "zh-CN", "/admin"),
        ("auto.operator", "en-US", "/admin/tenants"),
        ("auto.dept1", "zh-CN", "/tasks"),
        ("auto.client", "zh-CN", "/reports"),
    ];
    let mut wrong = Vec::new();
    let mut shapes = HashSet::new();
    for (user, lang, home) in roles {
        let b = Browser::start(lang).await;
        b.resize(1280, 800).await;
        b.login(&app.base, user).await;
        let (visited, found) = crawl(&b, &app.base, home).await;
        wrong.extend(found.into_iter().map(|w| format!("{user}: {w}")));
        // The same pages on a tablet held upright.
        b.resize(820, 1180).await;
        for page in &visited {
            b.goto(&format!("{}{page}", app.base)).await;
            b.find("main").await;
            let wide = b.eval(&format!("{DESCRIBE}{WIDE} return overflow;")).await;
            for item in wide.as_array().into_iter().flatten() {
                wrong.push(format!("{user}: {page}: wider than a tablet: {item}"));
            }
        }
        shapes.extend(visited.iter().map(|p| shape(p)));
    }
    // The crawl reached the pages people live in, so a page that vanished
    // from the links fails here rather than passing unchecked.
    for must in [
        "/desk",
        "/cases",
        "/cases/N",
        "/cases/new",
        "/customers/N",
        "/tasks",
        "/notifications",
        "/kb",
        "/kb/N",
        "/scripts",
        "/scripts/N",
        "/wallboard",
        "/team",
        "/routing",
        "/routing/queues/N",
        "/routing/agents/N",
        "/reports",
        "/staffing",
        "/mail/log",
        "/admin",
        "/admin/users",
        "/admin/users/N",
        "/admin/roles",
        "/admin/catalog",
        "/admin/audit",
        "/admin/tenants",
        "/sla",
        "/sla/calendars/N",
        "/sla/policies/N",
        "/mail",
        "/cti",
        "/calls/N",
        "/portal/auto",
        "/portal/auto/contact",
    ] {
        if !shapes.contains(must) {
            wrong.push(format!("{must} was never reached"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} problems:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn pages_are_told_apart_by_shape() {
    for (href, want) in [
        ("/cases/17?tab=mail", Some("/cases/N")),
        ("/kb/3/v/2#top", Some("/kb/N/v/N")),
        (
            "/portal/auto/c/0123456789abcdef0123456789abcdef0123456789abcdef",
            Some("/portal/auto/c/H"),
        ),
        ("/api/v1/openapi.json", None),
        ("/kb/3/files/ab", None),
        ("https://example.com/", None),
        ("/lang?to=en", None),
    ] {
        assert_eq!(
            crawlable(href).map(|p| shape(&p)).as_deref(),
            want,
            "{href}"
        );
    }
}
