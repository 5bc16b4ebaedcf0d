use domain::ids::*;
use domain::model::Actor;
use domain::role::Role;
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;
use store::{NewUser, Store};

pub const PASSWORD: &str = "test-password-1";

/// One running server with two tenants, `a` and `b`, each with a user of every role.
pub struct App {
    pub backend: &'static str,
    pub base: String,
    pub store: Store,
    pub tenants: HashMap<&'static str, TenantId>,
    pub departments: HashMap<&'static str, DepartmentId>,
    pub teams: HashMap<&'static str, TeamId>,
    pub categories: HashMap<&'static str, CategoryId>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| web::auth::hash_password(PASSWORD).expect("hash"))
}

pub const ROLES: [Role; 7] = [
    Role::Operator,
    Role::Admin,
    Role::Supervisor,
    Role::TeamLeader,
    Role::Agent,
    Role::DepartmentStaff,
    Role::ClientViewer,
];

/// Runs `test` once per configured backend, each on its own fresh server.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(App) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for (backend, url) in store::testing::fresh_database_urls().await {
        let app = App::start(backend, &url).await;
        test(app).await;
    }
}

impl App {
    pub async fn start(backend: &'static str, url: &str) -> App {
        // A 500 is logged, not returned: print it beside the failing test.
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_test_writer()
            .try_init();
        let store = Store::connect(url).await.expect("connect");
        let now = Timestamp::now();
        let mut tenants = HashMap::new();
        let mut departments = HashMap::new();
        let mut teams = HashMap::new();
        let mut categories = HashMap::new();
        for slug in ["a", "b"] {
            let t = store
                .create_tenant(slug, &format!("Tenant {slug}"), "Asia/Shanghai", "CN", now)
                .await
                .expect("tenant");
            let actor = Actor {
                tenant_id: t.id,
                user_id: None,
                channel: None,
            };
            let dept = store
                .create_department(actor, "售后服务部", None, 48, now)
                .await
                .expect("dept");
            let dept2 = store
                .create_department(actor, "质量部", None, 72, now)
                .await
                .expect("dept2");
            let team = store
                .create_team(actor, "一组", None, now)
                .await
                .expect("team");
            let cat = store
                .create_category(actor, None, "咨询", now)
                .await
                .expect("category");
            for role in ROLES {
                let user = NewUser {
                    username: format!("{slug}.{role}"),
                    display_name: format!("{slug} {role}"),
                    password_hash: password_hash().to_string(),
                    role,
                    team_id: Some(team.id),
                    department_id: (role == Role::DepartmentStaff).then_some(dept.id),
                };
                store.create_user(actor, &user, now).await.expect("user");
            }
            tenants.insert(slug, t.id);
            departments.insert(
                if slug == "a" {
                    "a.aftersales"
                } else {
                    "b.aftersales"
                },
                dept.id,
            );
            departments.insert(
                if slug == "a" {
                    "a.quality"
                } else {
                    "b.quality"
                },
                dept2.id,
            );
            teams.insert(slug, team.id);
            categories.insert(slug, cat.id);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let index = std::sync::Arc::new(search::SearchIndex::in_memory().expect("index"));
        let state = web::AppState::new(store.clone(), false, index).with_public_url(&base);
        tokio::spawn(async move {
            web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        App {
            backend,
            base,
            store,
            tenants,
            departments,
            teams,
            categories,
            _shutdown: tx,
        }
    }

    /// A client logged in as `{tenant}.{role}` with a bearer token.
    pub async fn login(&self, tenant: &str, role: Role) -> Client {
        let anon = self.anon();
        let (status, body) = anon
            .post(
                "/api/v1/auth/login",
                json!({"username": format!("{tenant}.{role}"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "[{}] login {tenant}.{role}: {body}",
            self.backend
        );
        let token = body["token"].as_str().expect("token").to_string();
        let user_id = body["user"]["id"].as_i64().expect("user id");
        Client {
            base: self.base.clone(),
            token: Some(token),
            http: reqwest::Client::new(),
            user_id,
            backend: self.backend,
        }
    }

    pub fn anon(&self) -> Client {
        Client {
            base: self.base.clone(),
            token: None,
            http: reqwest::Client::new(),
            user_id: 0,
            backend: self.backend,
        }
    }
}

pub struct Client {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
    pub user_id: i64,
    pub backend: &'static str,
}

impl Client {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// A request whose body is bytes, not JSON (an image).
    pub async fn call_raw(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.body(body).send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// POST that must succeed with 201; returns the body.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.post(path, body).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "[{}] POST {path}: {v}",
            self.backend
        );
        v
    }

    pub async fn ok(&self, path: &str) -> Value {
        let (status, v) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "[{}] GET {path}: {v}", self.backend);
        v
    }
}

/// Asserts a 422 that names `field`.
pub fn assert_field_error(status: StatusCode, body: &Value, field: &str, ctx: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}: {body}");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        fields.contains(&field),
        "{ctx}: expected an error on {field:?}, got {body}"
    );
}
