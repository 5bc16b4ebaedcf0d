use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn customers_are_found_by_any_writing_of_their_number() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let c = agent
            .create(
                "/api/v1/customers",
                json!({"name": "王伟", "phones": ["138-0013-8000", "021-6234 5678"], "emails": ["Wang.Wei@Example.com"],
                       "accounts": ["6200001"], "tier": "VIP", "tags": ["车主"], "region": "华东"}),
            )
            .await;
        assert_eq!(c["phones"], json!(["+8613800138000", "+862162345678"]));
        assert_eq!(c["emails"], json!(["wang.wei@example.com"]));
        assert_eq!(c["tier"], "vip");
        let id = c["id"].as_i64().unwrap();

        let found_by = [
            "phone=138-0013-8000",
            "phone=%2B86%20138%200013%208000",
            "phone=8613800138000",
            "q=13800138000",
            "q=021-6234%205678",
            "q=(021)%2062345678",
            "q=%2B86%2021%206234%205678",
            "email=WANG.WEI@example.com",
            "q=wang.wei@example.com",
            "account=6200001",
            "q=6200001",
            "name=王",
            "q=王伟",
        ];
        for query in found_by {
            let r = agent.ok(&format!("/api/v1/customers?{query}")).await;
            let ids: Vec<i64> = r["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
            assert_eq!(ids, vec![id], "[{}] {query}", app.backend);
        }
        let r = agent.ok("/api/v1/customers?phone=13900000000").await;
        assert!(r["items"].as_array().unwrap().is_empty());

        // Tenant b does not see tenant a's customer, by lookup or by id.
        let other = app.login("b", Role::Agent).await;
        assert!(other.ok("/api/v1/customers?phone=13800138000").await["items"].as_array().unwrap().is_empty());
        assert_eq!(other.get(&format!("/api/v1/customers/{id}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(other.get(&format!("/api/v1/customers/{id}/cases")).await.0, StatusCode::NOT_FOUND);

        // Update replaces the contact lists.
        let (status, u) = agent
            .call(reqwest::Method::PUT, &format!("/api/v1/customers/{id}"), Some(json!({"name": "王伟", "phones": ["13900001111"]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{u}");
        assert_eq!(u["phones"], json!(["+8613900001111"]));
        assert!(agent.ok("/api/v1/customers?phone=13800138000").await["items"].as_array().unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn bad_customer_input_names_the_field() {
    each_backend(|app| async move {
        let agent = app.login("a", Role::Agent).await;
        let cases = [
            (json!({"phones": ["13800138000"]}), "name"),
            (json!({"name": "x", "phones": ["12345"]}), "phones[0]"),
            (
                json!({"name": "x", "phones": ["13800138000", "abc"]}),
                "phones[1]",
            ),
            (json!({"name": "x", "emails": ["no-at-sign"]}), "emails[0]"),
            (json!({"name": "x", "kind": "alien"}), "kind"),
            (json!({"name": "x", "lat": 95.0, "lon": 10.0}), "lat"),
            (json!({"name": "x", "tags": ["two words"]}), "tags[0]"),
            (json!({"name": 42}), "name"),
            (json!({"name": "x", "shoe_size": 42}), "shoe_size"),
        ];
        for (body, field) in cases {
            let (status, resp) = agent.post("/api/v1/customers", body.clone()).await;
            assert_field_error(status, &resp, field, &format!("[{}] {body}", app.backend));
        }
        let (status, body) = agent.get("/api/v1/customers").await;
        assert_field_error(status, &body, "q", "lookup without a key");
        let (status, body) = agent.get("/api/v1/customers?phone=12").await;
        assert_field_error(status, &body, "phone", "bad phone lookup");
        let (status, body) = agent.get("/api/v1/customers/abc").await;
        assert_field_error(status, &body, "id", "non-numeric id");
        let (status, _) = agent.get("/api/v1/customers/999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Malformed JSON is a 400, never a 500.
        let resp = agent
            .http
            .post(format!("{}/api/v1/customers", agent.base))
            .bearer_auth(agent.token.as_ref().unwrap())
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    })
    .await;
}
