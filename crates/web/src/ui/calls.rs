//! The screen a PBX call pops: the caller's record and recent cases beside
//! the call's state, the case the call is about, and the wrap-up after the
//! hang-up; and the administrator's telephony settings (the PBX's token,
//! the agents' extensions).

#![allow(clippy::result_large_err)]

use super::pages::{CaseRow, Page, case_rows, category_choices, or_page};
use super::sla::{FormPairs, back};
use super::{Chrome, UiAuth, render};
use crate::AppState;
use crate::api::cti::WrapUpBody;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use domain::call::{CallResult, CallState};
use domain::case::CaseType;
use domain::contact::PhoneNumber;
use domain::ids::*;
use domain::model::{CaseFilter, Customer, CustomerInput, User};
use domain::role::Permission;
use jiff::Timestamp;
use store::{Call, CustomerLookup};

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    c: Chrome,
    call: Call,
    agent: String,
    /// The caller, when known; else those sharing the number.
    customer: Option<Customer>,
    candidates: Vec<Customer>,
    cases: Vec<CaseRow>,
    /// The case the call is (or will be) on.
    on_case: Option<CaseRow>,
    types: &'static [CaseType],
    categories: Vec<(i64, String)>,
    results: &'static [CallResult],
}

impl CallPage {
    fn state(&self) -> &'static str {
        self.call.state.as_str()
    }
    fn is_on(&self, case: &i64) -> bool {
        self.call.case_id.map(|c| c.0) == Some(*case)
    }
    fn ended(&self) -> bool {
        self.call.state == CallState::Ended
    }
    fn started(&self) -> String {
        self.c.time(self.call.started_at)
    }
    /// Talk time so far (or in all), as m:ss.
    fn talk(&self) -> String {
        let Some(a) = self.call.answered_at else {
            return String::new();
        };
        let end = self.call.ended_at.unwrap_or_else(Timestamp::now);
        let secs = end.duration_since(a).as_secs().max(0);
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

pub async fn call(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    Query(q): Query<super::pages::ErrorQuery>,
) -> Page {
    let c = Chrome::new(&ui, "desk").with_error(q.error);
    or_page(&c, ui.0.need(Permission::WorkCases))?;
    let tenant = ui.0.tenant.id;
    let call = or_page(&c, state.store.call(tenant, CallId(id)).await)?;
    let agent = match call.agent_id {
        Some(a) => or_page(&c, state.store.user(tenant, a).await)?.display_name,
        None => String::new(),
    };
    let (customer, candidates) = match (call.customer_id, &call.number) {
        (Some(cid), _) => (
            Some(or_page(&c, state.store.customer(tenant, cid).await)?),
            Vec::new(),
        ),
        (None, Some(n)) => {
            let by = CustomerLookup::Phone(PhoneNumber::from_stored(n.clone()));
            (
                None,
                or_page(&c, state.store.find_customers(tenant, &by, 10).await)?,
            )
        }
        (None, None) => (None, Vec::new()),
    };
    let recent = match call.customer_id {
        Some(cid) => {
            let filter = CaseFilter {
                customer_id: Some(cid),
                limit: 10,
                ..Default::default()
            };
            or_page(&c, state.store.list_cases(tenant, &filter).await)?
        }
        None => Vec::new(),
    };
    let on_case = match call.case_id {
        Some(case) => {
            let s = or_page(&c, state.store.case(tenant, case).await)?.summary;
            case_rows(&c, &[s]).pop()
        }
        None => None,
    };
    let cats = or_page(&c, state.store.categories(tenant).await)?;
    Ok(render(&CallPage {
        cases: case_rows(&c, &recent),
        categories: category_choices(&cats, None),
        c,
        call,
        agent,
        customer,
        candidates,
        on_case,
        types: CaseType::ALL,
        results: CallResult::ALL,
    }))
}

/// The agent's answers on the call screen: the case it is about, who the
/// caller is (or a new customer with the number), the wrap-up.
pub async fn call_action(
    State(state): State<AppState>,
    ui: UiAuth,
    Path((id, action)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let here = format!("/calls/{id}");
    let (actor, id) = (ui.0.actor(), CallId(id));
    let r: Result<Option<String>, ApiError> = async {
        ui.0.need(Permission::WorkCases)?;
        let now = Timestamp::now();
        match action.as_str() {
            "case" => {
                let case = f
                    .id("case_id")?
                    .ok_or_else(|| ApiError::field("case_id", "is required"))?;
                state
                    .store
                    .attach_call(actor, id, CaseId(case), now)
                    .await?;
                Ok(None)
            }
            "customer" => {
                let cid = f
                    .id("customer_id")?
                    .ok_or_else(|| ApiError::field("customer_id", "is required"))?;
                state
                    .store
                    .call_customer(actor, id, CustomerId(cid))
                    .await?;
                Ok(None)
            }
            "new-customer" => {
                let call = state.store.call(actor.tenant_id, id).await?;
                let name = domain::contact::text("name", &f.one("name"), 200)?;
                let input = CustomerInput {
                    name,
                    phones: call
                        .number
                        .map(|n| vec![PhoneNumber::from_stored(n)])
                        .unwrap_or_default(),
                    ..Default::default()
                };
                let customer = state.store.create_customer(actor, &input, now).await?;
                state.store.call_customer(actor, id, customer.id).await?;
                Ok(None)
            }
            "wrap-up" => {
                let b = WrapUpBody {
                    category_id: f.id("category_id")?.map(CategoryId),
                    case_type: Some(f.one("type")),
                    result: Some(f.one("result")),
                    notes: f.one("notes"),
                    follow_up: f.one("follow_up") == "on",
                };
                let w = b.parse()?;
                let call = state
                    .store
                    .wrap_up_call(actor, &ui.0.tenant, id, &w, now)
                    .await?;
                Ok(call.case_id.map(|c| format!("/cases/{}", c.0)))
            }
            _ => Err(ApiError::NotFound),
        }
    }
    .await;
    Ok(match r {
        Ok(Some(to)) => Redirect::to(&to).into_response(),
        Ok(None) => Redirect::to(&here).into_response(),
        Err(e) => back(&here, Err(e)),
    })
}

#[derive(Template)]
#[template(path = "cti.html")]
struct CtiPage {
    c: Chrome,
    has_token: bool,
    /// A token just made: shown this once.
    token: String,
    users: Vec<User>,
}

#[derive(serde::Deserialize, Default)]
pub struct CtiQuery {
    error: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    ui: UiAuth,
    Query(q): Query<CtiQuery>,
) -> Page {
    let c = Chrome::new(&ui, "cti").with_error(q.error);
    or_page(&c, ui.0.need(Permission::Administer))?;
    let tenant = ui.0.tenant.id;
    let users = or_page(&c, phone_users(&state, tenant).await)?;
    let has_token = or_page(&c, state.store.has_cti_token(tenant).await)?;
    Ok(render(&CtiPage {
        c,
        has_token,
        token: String::new(),
        users,
    }))
}

/// Those who take calls: everyone active who works cases.
async fn phone_users(state: &AppState, tenant: TenantId) -> Result<Vec<User>, store::StoreError> {
    Ok(state
        .store
        .users(tenant)
        .await?
        .into_iter()
        .filter(|u| u.active && u.role.allows(Permission::WorkCases))
        .collect())
}

/// A new token for the PBX, shown on the page this once.
pub async fn new_token(State(state): State<AppState>, ui: UiAuth, body: axum::body::Bytes) -> Page {
    FormPairs::posted(&ui, &body)?;
    let c = Chrome::new(&ui, "cti");
    or_page(&c, ui.0.need(Permission::Administer))?;
    let token = crate::auth::random_hex(32);
    or_page(
        &c,
        state
            .store
            .set_cti_token(
                ui.0.actor(),
                &crate::auth::token_hash(&token),
                Timestamp::now(),
            )
            .await,
    )?;
    let users = or_page(&c, phone_users(&state, ui.0.tenant.id).await)?;
    Ok(render(&CtiPage {
        c,
        has_token: true,
        token,
        users,
    }))
}

/// One user's extension.
pub async fn save_extension(
    State(state): State<AppState>,
    ui: UiAuth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Page {
    let f = FormPairs::posted(&ui, &body)?;
    let r = async {
        ui.0.need(Permission::Administer)?;
        let x = crate::api::admin::extension(&f.one("extension"))?;
        state
            .store
            .set_extension(ui.0.actor(), UserId(id), x.as_deref(), Timestamp::now())
            .await?;
        Ok(())
    }
    .await;
    Ok(back("/cti", r))
}
