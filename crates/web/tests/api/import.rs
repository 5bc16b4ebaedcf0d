use crate::harness::*;
use domain::role::Role;
use reqwest::StatusCode;
use serde_json::Value;

async fn upload(c: &Client, kind: &str, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let resp = c
        .http
        .post(format!("{}/api/v1/import/{kind}?{query}", c.base))
        .bearer_auth(c.token.as_ref().unwrap())
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

#[tokio::test]
async fn a_dealer_file_imports_once_and_reports_bad_rows() {
    each_backend(|app| async move {
        let sup = app.login("a", Role::Supervisor).await;
        let customers = gbk("客户编号,姓名,手机,等级,省份\r\nC1,王伟,138-0013-8000,VIP,上海\r\nC2,李娜,13900001111,,北京\r\nC3,坏号码,12345,,\r\nD1,上海东区4S店,400-820-8820,,上海\r\n");
        let (status, r) = upload(&sup, "customers", "", customers.clone()).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!((r["rows"].as_u64(), r["created"].as_u64(), r["updated"].as_u64()), (Some(4), Some(3), Some(0)), "{r}");
        assert_eq!(r["rejected"][0]["row"], 4);
        assert_eq!(r["rejected"][0]["field"], "phones");

        // The same file again changes nothing but counts updates: idempotent on external ids.
        let (_, again) = upload(&sup, "customers", "", customers).await;
        assert_eq!((again["created"].as_u64(), again["updated"].as_u64()), (Some(0), Some(3)));
        let found = sup.ok("/api/v1/customers?phone=13800138000").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        assert_eq!(found["items"][0]["tier"], "vip");

        // A changed row replaces what the customer had: the old phone no longer finds them.
        // Quotes, a backslash and coordinates survive the trip.
        let changed = "external_id,name,phones,lat,lon\nC1,\"王\"\"伟\"\" \\ 先生\",13700001234,31.2304,121.4737\n";
        let (_, r) = upload(&sup, "customers", "", changed.as_bytes().to_vec()).await;
        assert_eq!(r["updated"], 1, "{r}");
        assert!(sup.ok("/api/v1/customers?phone=13800138000").await["items"].as_array().unwrap().is_empty());
        let found = sup.ok("/api/v1/customers?phone=13700001234").await;
        assert_eq!(found["items"][0]["name"], "王\"伟\" \\ 先生");
        assert_eq!(found["items"][0]["coordinates"]["lat"], 31.2304);
        assert_eq!(sup.ok("/api/v1/customers?phone=13900001111").await["items"][0]["name"], "李娜");

        let vehicles = "external_id,customer_external_id,vin,model,purchase_date,dealer_external_id\n\
                        V1,C1,LSVAA4182E2123456,X5 SUV,2025/6/18,D1\nV2,C404,LSVAA4182E2123457,X5,,\n";
        let (_, r) = upload(&sup, "vehicles", "encoding=utf-8", vehicles.as_bytes().to_vec()).await;
        assert_eq!(r["created"], 1);
        assert_eq!(r["rejected"][0]["field"], "customer_external_id");
        // The owner is found by the vehicle's VIN once the search index follows.
        let mut owner = Value::Null;
        for _ in 0..100 {
            owner = sup.ok("/api/v1/search?q=LSVAA4182E2123456&kinds=customer").await;
            if owner["items"].as_array().is_some_and(|i| !i.is_empty()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(owner["items"][0]["title"], "王\"伟\" \\ 先生", "{owner}");
        let records = "external_id,vehicle_external_id,station_external_id,service_date,kind,mileage_km\nR1,V1,D1,2026-01-05,定期保养,5000\n";
        let (_, r) = upload(&sup, "service_records", "", records.as_bytes().to_vec()).await;
        assert_eq!(r["created"], 1, "{r}");
        let orders = r#"[{"external_id":"O1","customer_external_id":"C2","order_no":"SO-77","amount":"1999.50"}]"#;
        let (_, r) = upload(&sup, "orders", "format=json", orders.as_bytes().to_vec()).await;
        assert_eq!(r["created"], 1, "{r}");

        let by_vin = sup.ok("/api/v1/customers?q=LSVAA4182E2123456").await;
        let id = by_vin["items"][0]["id"].as_i64().unwrap();
        let view = sup.ok(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(view["vehicles"][0]["dealer_name"], "上海东区4S店");
        assert_eq!(view["service_records"][0]["kind"], "定期保养");
        assert_eq!(sup.ok("/api/v1/customers?order=SO-77").await["items"][0]["name"], "李娜");

        // Strict: one bad row and nothing is written.
        let (_, r) = upload(&sup, "customers", "strict=true", "external_id,name\nC9,新客户\nC10,\n".as_bytes().to_vec()).await;
        assert_eq!(r["written"], false);
        assert!(sup.ok("/api/v1/customers?name=新客户").await["items"].as_array().unwrap().is_empty());

        // A file that cannot be read is refused whole, naming the problem.
        for (kind, query, body, want) in [
            ("customers", "encoding=utf-8", gbk("客户编号,姓名\nC1,王伟\n"), "UTF-8"),
            ("customers", "", b"name\nx\n".to_vec(), "external_id"),
            ("customers", "format=json", b"{}".to_vec(), "array"),
        ] {
            let (status, r) = upload(&sup, kind, query, body).await;
            assert_field_error(status, &r, "file", want);
            assert!(r["message"].as_str().unwrap().contains(want), "{r}");
        }
        let (status, r) = upload(&sup, "planets", "", b"x".to_vec()).await;
        assert_field_error(status, &r, "kind", "unknown kind");

        // Tenant b's external ids are its own.
        let other = app.login("b", Role::Admin).await;
        let (_, r) = upload(&other, "vehicles", "", "external_id,customer_external_id,vin\nV1,C1,LSVAA4182E2123458\n".as_bytes().to_vec()).await;
        assert_eq!(r["rejected"][0]["field"], "customer_external_id");
        let agent = app.login("a", Role::Agent).await;
        assert_eq!(upload(&agent, "customers", "", b"external_id,name\nX,y\n".to_vec()).await.0, StatusCode::FORBIDDEN);
    })
    .await;
}
