//! Customers with their phones, e-mails, accounts, vehicles, orders and service history.

use crate::bulk::{BULK_ROWS, Col, Columns, JsonRows, insert_json, select_json};
use crate::db::{Backend, RowExt, Store, ms, vocab};
use crate::events::{audit, data};
use crate::exec::{Exec, query};
use crate::sql::Sql;
use crate::users::exists;
use crate::{Result, StoreError};
use domain::FieldError;
use domain::contact::{EmailAddress, PhoneNumber, Vin};
use domain::customer::{Coordinates, CustomerKind};
use domain::ids::*;
use domain::model::*;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::collections::{BTreeSet, HashMap};

/// How a caller is looked up (the basis of screen pop).
#[derive(Debug, Clone)]
pub enum CustomerLookup {
    Phone(PhoneNumber),
    Email(EmailAddress),
    Vin(Vin),
    Account(String),
    OrderNo(String),
    /// Names starting with this text.
    Name(String),
    ExternalId(String),
}

/// Everything the customer screen shows besides the cases.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    #[serde(flatten)]
    pub customer: Customer,
    pub vehicles: Vec<Vehicle>,
    pub orders: Vec<Order>,
    pub service_records: Vec<ServiceRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    Created,
    Updated,
}

const CUSTOMER_COLS: &str = "id, kind, name, external_id, tier, region, branch, address, lat, lon, opening_hours, tags, dedicated_agent_id, dedicated_team_id, created_at, updated_at";

fn customer_row(r: &AnyRow) -> Result<Customer> {
    let coordinates = match (r.opt_float("lat")?, r.opt_float("lon")?) {
        (Some(lat), Some(lon)) => Some(Coordinates { lat, lon }),
        _ => None,
    };
    let tags = r.text("tags")?;
    Ok(Customer {
        id: CustomerId(r.int("id")?),
        kind: vocab(CustomerKind::parse(&r.text("kind")?))?,
        name: r.text("name")?,
        external_id: r.opt_text("external_id")?,
        tier: r.text("tier")?,
        region: r.opt_text("region")?,
        branch: r.opt_text("branch")?,
        address: r.opt_text("address")?,
        coordinates,
        opening_hours: r.opt_text("opening_hours")?,
        tags: tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        phones: Vec::new(),
        emails: Vec::new(),
        accounts: Vec::new(),
        dedicated_agent_id: r.opt_int("dedicated_agent_id")?.map(UserId),
        dedicated_team_id: r.opt_int("dedicated_team_id")?.map(TeamId),
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

/// Loads customers with their contact lists, in the order of `ids`.
async fn load_customers(
    conn: &mut AnyConnection,
    tenant: TenantId,
    ids: &[i64],
) -> Result<Vec<Customer>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(&format!(
        "SELECT {CUSTOMER_COLS} FROM customers WHERE tenant_id = "
    ));
    q.int(tenant.0).push(" AND id IN ").int_list(ids);
    let mut by_id: HashMap<i64, Customer> = HashMap::new();
    for r in q.fetch_all(conn).await? {
        let c = customer_row(&r)?;
        by_id.insert(c.id.0, c);
    }
    // The three contact lists in one round trip.
    let mut q =
        Sql::new("SELECT customer_id, 1 AS t, e164 AS v FROM customer_phones WHERE tenant_id = ");
    q.int(tenant.0).push(" AND customer_id IN ").int_list(ids);
    q.push(
        " UNION ALL SELECT customer_id, 2 AS t, email AS v FROM customer_emails WHERE tenant_id = ",
    )
    .int(tenant.0);
    q.push(" AND customer_id IN ").int_list(ids);
    q.push(" UNION ALL SELECT customer_id, 3 AS t, account_no AS v FROM customer_accounts WHERE tenant_id = ").int(tenant.0);
    q.push(" AND customer_id IN ")
        .int_list(ids)
        .push(" ORDER BY 2, 3");
    for r in q.fetch_all(conn).await? {
        if let Some(c) = by_id.get_mut(&r.int("customer_id")?) {
            let v = r.text("v")?;
            match r.int("t")? {
                1 => c.phones.push(PhoneNumber::from_stored(v)),
                2 => c.emails.push(EmailAddress::from_stored(v)),
                _ => c.accounts.push(v),
            }
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Binds a customer's own columns as `$1`…`$10`, in the order both writes name them:
/// kind, name, tier, region, branch, address, lat, lon, opening_hours, tags.
fn bind_customer<'q>(q: crate::exec::Query<'q>, c: &'q CustomerInput) -> crate::exec::Query<'q> {
    q.bind(c.kind.unwrap_or(CustomerKind::Person).as_str())
        .bind(&c.name)
        .bind(c.tier.as_deref().unwrap_or("standard"))
        .bind(c.region.as_deref())
        .bind(c.branch.as_deref())
        .bind(c.address.as_deref())
        .bind(c.coordinates.map(|p| p.lat))
        .bind(c.coordinates.map(|p| p.lon))
        .bind(c.opening_hours.as_deref())
        .bind(c.tags.join(","))
}

pub(crate) async fn insert_customer<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    c: &CustomerInput,
    at: Timestamp,
) -> Result<i64> {
    let q = query(
        "INSERT INTO customers (kind, name, tier, region, branch, address, lat, lon, opening_hours, tags, \
         tenant_id, external_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    );
    let row = bind_customer(q, c)
        .bind(tenant.0)
        .bind(c.external_id.as_deref())
        .bind(ms(at))
        .fetch_one(conn)
        .await
        .map_err(|e| {
            StoreError::from_unique(e, "a customer with this external_id already exists")
        })?;
    let id = row.int("id")?;
    insert_contacts(conn, tenant, id, c).await?;
    Ok(id)
}

async fn update_customer_row(
    conn: &mut AnyConnection,
    tenant: TenantId,
    id: i64,
    c: &CustomerInput,
    at: Timestamp,
) -> Result<()> {
    let q = query(
        "UPDATE customers SET kind = $1, name = $2, tier = $3, region = $4, branch = $5, address = $6, lat = $7, lon = $8, \
         opening_hours = $9, tags = $10, updated_at = $11 WHERE tenant_id = $12 AND id = $13",
    );
    let n = bind_customer(q, c)
        .bind(ms(at))
        .bind(tenant.0)
        .bind(id)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    for table in ["customer_phones", "customer_emails", "customer_accounts"] {
        query(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND customer_id = $2"
        ))
        .bind(tenant.0)
        .bind(id)
        .execute(conn)
        .await?;
    }
    insert_contacts(conn, tenant, id, c).await
}

async fn insert_contacts<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    id: i64,
    c: &CustomerInput,
) -> Result<()> {
    let lists: [(&str, &str, Vec<&str>); 3] = [
        (
            "customer_phones",
            "e164",
            c.phones.iter().map(|p| p.as_str()).collect(),
        ),
        (
            "customer_emails",
            "email",
            c.emails.iter().map(|e| e.as_str()).collect(),
        ),
        (
            "customer_accounts",
            "account_no",
            c.accounts.iter().map(String::as_str).collect(),
        ),
    ];
    for (table, col, mut values) in lists {
        values.sort_unstable();
        values.dedup();
        for v in values {
            query(format!(
                "INSERT INTO {table} (tenant_id, customer_id, {col}) VALUES ($1, $2, $3)"
            ))
            .bind(tenant.0)
            .bind(id)
            .bind(v)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    pub async fn create_customer(
        &self,
        actor: Actor,
        c: &CustomerInput,
        at: Timestamp,
    ) -> Result<Customer> {
        let (_w, mut tx) = self.write_tx().await?;
        let id = insert_customer(&mut tx, actor.tenant_id, c, at).await?;
        tx.commit().await?;
        self.customer(actor.tenant_id, CustomerId(id)).await
    }

    pub async fn update_customer(
        &self,
        actor: Actor,
        id: CustomerId,
        c: &CustomerInput,
        at: Timestamp,
    ) -> Result<Customer> {
        let (_w, mut tx) = self.write_tx().await?;
        update_customer_row(&mut tx, actor.tenant_id, id.0, c, at).await?;
        tx.commit().await?;
        self.customer(actor.tenant_id, id).await
    }

    /// Gives a customer their own agent and team (or takes them away): new
    /// work for the customer is held for them for the queue's prefer time.
    pub async fn set_dedicated(
        &self,
        actor: Actor,
        id: CustomerId,
        agent: Option<UserId>,
        team: Option<TeamId>,
        at: Timestamp,
    ) -> Result<Customer> {
        let tenant = actor.tenant_id;
        {
            let (_w, mut tx) = self.write_tx().await?;
            if let Some(a) = agent {
                match crate::routing::takes_routed_work(&mut *tx, tenant, a).await? {
                    None => return Err(StoreError::invalid("agent_id", "does not exist")),
                    Some(false) => {
                        return Err(StoreError::invalid("agent_id", crate::routing::NOT_ROUTED));
                    }
                    Some(true) => {}
                }
            }
            if let Some(t) = team {
                crate::users::in_use(&mut *tx, "teams", tenant, t.0, "team_id").await?;
            }
            let n = query(
                "UPDATE customers SET dedicated_agent_id = $1, dedicated_team_id = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(agent.map(|a| a.0))
            .bind(team.map(|t| t.0))
            .bind(ms(at))
            .bind(tenant.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let d = data([
                ("agent", agent.map(|a| a.0.to_string()).unwrap_or_default()),
                ("team", team.map(|t| t.0.to_string()).unwrap_or_default()),
            ]);
            let target = format!("customer:{}", id.0);
            audit(&mut tx, actor, "customer.dedicated", &target, &d, at).await?;
            tx.commit().await?;
        }
        self.customer(tenant, id).await
    }

    pub async fn customer(&self, tenant: TenantId, id: CustomerId) -> Result<Customer> {
        let mut conn = self.pool.acquire().await?;
        load_customers(&mut conn, tenant, &[id.0])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// The customer screen: identity, vehicles, orders and service history.
    pub async fn customer_view(&self, tenant: TenantId, id: CustomerId) -> Result<CustomerView> {
        let mut conn = self.pool.acquire().await?;
        let customer = load_customers(&mut conn, tenant, &[id.0])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        let vehicles = sqlx::query(
            "SELECT a.id, a.customer_id, a.external_id, a.vin, a.model, a.plate, a.purchase_date, a.dealer_id, d.name AS dealer_name \
             FROM assets a LEFT JOIN customers d ON d.id = a.dealer_id WHERE a.tenant_id = $1 AND a.customer_id = $2 ORDER BY a.id",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Vehicle {
                id: AssetId(r.int("id")?),
                customer_id: CustomerId(r.int("customer_id")?),
                external_id: r.opt_text("external_id")?,
                vin: r.text("vin")?,
                model: r.opt_text("model")?,
                plate: r.opt_text("plate")?,
                purchase_date: r.opt_text("purchase_date")?,
                dealer_id: r.opt_int("dealer_id")?.map(CustomerId),
                dealer_name: r.opt_text("dealer_name")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let orders = sqlx::query(
            "SELECT id, customer_id, external_id, order_no, product, amount_cents, ordered_on, status FROM orders \
             WHERE tenant_id = $1 AND customer_id = $2 ORDER BY ordered_on DESC, id DESC",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Order {
                id: OrderId(r.int("id")?),
                customer_id: CustomerId(r.int("customer_id")?),
                external_id: r.opt_text("external_id")?,
                order_no: r.text("order_no")?,
                product: r.opt_text("product")?,
                amount_cents: r.opt_int("amount_cents")?,
                ordered_on: r.opt_text("ordered_on")?,
                status: r.opt_text("status")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let service_records = sqlx::query(
            "SELECT s.id, s.asset_id, a.vin, s.station_id, st.name AS station_name, s.external_id, s.service_date, s.kind, \
             s.mileage_km, s.description FROM service_records s JOIN assets a ON a.id = s.asset_id \
             LEFT JOIN customers st ON st.id = s.station_id \
             WHERE s.tenant_id = $1 AND a.customer_id = $2 ORDER BY s.service_date DESC, s.id DESC",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(ServiceRecord {
                id: ServiceRecordId(r.int("id")?),
                asset_id: AssetId(r.int("asset_id")?),
                vin: r.text("vin")?,
                station_id: r.opt_int("station_id")?.map(CustomerId),
                station_name: r.opt_text("station_name")?,
                external_id: r.opt_text("external_id")?,
                service_date: r.text("service_date")?,
                kind: r.text("kind")?,
                mileage_km: r.opt_int("mileage_km")?,
                description: r.opt_text("description")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(CustomerView {
            customer,
            vehicles,
            orders,
            service_records,
        })
    }

    /// Finds customers by one identifier; at most `limit`, best match first.
    pub async fn find_customers(
        &self,
        tenant: TenantId,
        by: &CustomerLookup,
        limit: u32,
    ) -> Result<Vec<Customer>> {
        let mut conn = self.pool.acquire().await?;
        let (sql, value) = match by {
            CustomerLookup::Phone(p) => (
                "SELECT customer_id AS id FROM customer_phones WHERE tenant_id = $1 AND e164 = $2",
                p.as_str().to_string(),
            ),
            CustomerLookup::Email(e) => (
                "SELECT customer_id AS id FROM customer_emails WHERE tenant_id = $1 AND email = $2",
                e.as_str().to_string(),
            ),
            CustomerLookup::Vin(v) => (
                "SELECT customer_id AS id FROM assets WHERE tenant_id = $1 AND vin = $2",
                v.as_str().to_string(),
            ),
            CustomerLookup::Account(a) => (
                "SELECT customer_id AS id FROM customer_accounts WHERE tenant_id = $1 AND account_no = $2",
                a.clone(),
            ),
            CustomerLookup::OrderNo(o) => (
                "SELECT customer_id AS id FROM orders WHERE tenant_id = $1 AND order_no = $2",
                o.clone(),
            ),
            CustomerLookup::ExternalId(x) => (
                "SELECT id FROM customers WHERE tenant_id = $1 AND external_id = $2",
                x.clone(),
            ),
            // A range instead of LIKE so the (tenant_id, name) index serves it on both engines.
            CustomerLookup::Name(n) => (
                "SELECT id FROM customers WHERE tenant_id = $1 AND name >= $2 AND name < $2 || '\u{10FFFF}' ORDER BY name, id",
                n.clone(),
            ),
        };
        let ids: Vec<i64> = sqlx::query_scalar(&format!("{sql} LIMIT $3"))
            .bind(tenant.0)
            .bind(value)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?;
        let mut unique = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        load_customers(&mut conn, tenant, &unique).await
    }

    /// Dealers and service stations, for pick lists and "nearest station" answers.
    pub async fn organizations(
        &self,
        tenant: TenantId,
        kind: CustomerKind,
    ) -> Result<Vec<Customer>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM customers WHERE tenant_id = $1 AND kind = $2 ORDER BY name",
        )
        .bind(tenant.0)
        .bind(kind.as_str())
        .fetch_all(&mut *conn)
        .await?;
        load_customers(&mut conn, tenant, &ids).await
    }

    /// Writes a batch of import rows in one transaction: every row either
    /// lands or is reported with its reason. With `strict`, one rejected row
    /// writes nothing at all. Rows go in chunks of one kind with distinct
    /// external ids, a handful of statements per chunk.
    pub async fn import(
        &self,
        actor: Actor,
        records: &[ImportRecord],
        strict: bool,
        at: Timestamp,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<std::result::Result<ImportOutcome, FieldError>>> {
        let (_w, mut tx) = self.write_tx().await?;
        self.bulk_planning(&mut tx).await?;
        let mut outcomes = Vec::with_capacity(records.len());
        let mut start = 0;
        while start < records.len() {
            let end = chunk_end(records, start, BULK_ROWS);
            let chunk = &records[start..end];
            outcomes
                .extend(import_chunk(&mut tx, self.backend(), actor.tenant_id, chunk, at).await?);
            start = end;
            progress(start);
        }
        if strict && outcomes.iter().any(|o| o.is_err()) {
            tx.rollback().await?;
            return Ok(outcomes);
        }
        let created = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(ImportOutcome::Created)))
            .count();
        let updated = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(ImportOutcome::Updated)))
            .count();
        let rejected = outcomes.len() - created - updated;
        let d = data([
            ("created", created.to_string()),
            ("updated", updated.to_string()),
            ("rejected", rejected.to_string()),
        ]);
        audit(&mut tx, actor, "import", "import", &d, at).await?;
        if records.len() >= ANALYZE_AFTER {
            sqlx::query("ANALYZE").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// A load this large changes the tables enough that the planner's statistics should follow.
pub(crate) const ANALYZE_AFTER: usize = 1000;

fn external_id(r: &ImportRecord) -> Option<&str> {
    match r {
        ImportRecord::Customer(c) => c.external_id.as_deref(),
        ImportRecord::Vehicle { external_id, .. }
        | ImportRecord::Order { external_id, .. }
        | ImportRecord::ServiceRecord { external_id, .. } => Some(external_id),
    }
}

/// The end of the chunk starting at `start`: same kind, no external id twice
/// (a repeated id must see the row before it written).
fn chunk_end(records: &[ImportRecord], start: usize, max_rows: usize) -> usize {
    let kind = std::mem::discriminant(&records[start]);
    let mut seen = std::collections::HashSet::new();
    let mut end = start;
    while end < records.len()
        && end - start < max_rows
        && std::mem::discriminant(&records[end]) == kind
    {
        if let Some(x) = external_id(&records[end])
            && !seen.insert(x)
        {
            break;
        }
        end += 1;
    }
    end.max(start + 1)
}

/// `external_id → id` for the given ids of one table. One unique-index probe
/// per key, written as a correlated subquery so that no planner estimate
/// (stale while a big load grows the table) can turn it into a table scan.
async fn ids_by_external(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    tenant: TenantId,
    exts: &[&str],
) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    if exts.is_empty() {
        return Ok(out);
    }
    let mut keys = JsonRows::new();
    for x in exts {
        keys.row().str(x);
    }
    let mut q = Sql::new(&format!(
        "SELECT k.x AS external_id, (SELECT t.id FROM {table} t \
         WHERE t.tenant_id = $2 AND t.external_id = k.x) AS id FROM ({}) AS k",
        select_json(backend, &[("x", Col::Text)], 1)
    ));
    q.bind_text(keys.finish()).bind_int(tenant.0);
    for r in q.fetch_all(conn).await? {
        if let Some(id) = r.opt_int("id")? {
            out.insert(r.text("external_id")?, id);
        }
    }
    Ok(out)
}

type Outcome = std::result::Result<ImportOutcome, FieldError>;

async fn import_chunk(
    conn: &mut AnyConnection,
    backend: Backend,
    tenant: TenantId,
    chunk: &[ImportRecord],
    at: Timestamp,
) -> Result<Vec<Outcome>> {
    let missing = |field: &str, what: &str| -> std::result::Result<Option<i64>, FieldError> {
        Err(FieldError::new(
            field,
            format!("no {what} with this external id"),
        ))
    };
    let own_table = match &chunk[0] {
        ImportRecord::Customer(_) => "customers",
        ImportRecord::Vehicle { .. } => "assets",
        ImportRecord::Order { .. } => "orders",
        ImportRecord::ServiceRecord { .. } => "service_records",
    };
    let exts: Vec<&str> = chunk.iter().filter_map(external_id).collect();
    let existing = ids_by_external(conn, backend, own_table, tenant, &exts).await?;
    // References to other rows, resolved once per chunk.
    let mut customer_refs = Vec::new();
    let mut asset_refs = Vec::new();
    for r in chunk {
        match r {
            ImportRecord::Vehicle {
                customer_external_id,
                dealer_external_id,
                ..
            } => {
                customer_refs.push(customer_external_id.as_str());
                customer_refs.extend(dealer_external_id.as_deref());
            }
            ImportRecord::Order {
                customer_external_id,
                ..
            } => customer_refs.push(customer_external_id.as_str()),
            ImportRecord::ServiceRecord {
                vehicle_external_id,
                station_external_id,
                ..
            } => {
                asset_refs.push(vehicle_external_id.as_str());
                customer_refs.extend(station_external_id.as_deref());
            }
            ImportRecord::Customer(_) => {}
        }
    }
    let customers = ids_by_external(conn, backend, "customers", tenant, &customer_refs).await?;
    let assets = ids_by_external(conn, backend, "assets", tenant, &asset_refs).await?;
    let cust = |x: &str| customers.get(x).copied();

    let mut outcomes: Vec<Outcome> = Vec::with_capacity(chunk.len());
    let mut rows = JsonRows::new();
    let mut good: Vec<&CustomerInput> = Vec::new();
    for r in chunk {
        let outcome = match external_id(r) {
            None => Err(FieldError::new("external_id", "is required")),
            Some(x) if existing.contains_key(x) => Ok(ImportOutcome::Updated),
            Some(_) => Ok(ImportOutcome::Created),
        };
        // References first: a rejected row must leave no trace in the statement.
        let refs = outcome.and_then(|o| {
            let r2 = |x: Option<&String>, field: &str, what: &str| match x {
                Some(x) => cust(x)
                    .map(Some)
                    .ok_or(())
                    .or_else(|_| missing(field, what)),
                None => Ok(None),
            };
            let (a, b) = match r {
                ImportRecord::Customer(_) => (None, None),
                ImportRecord::Vehicle {
                    customer_external_id,
                    dealer_external_id,
                    ..
                } => (
                    r2(
                        Some(customer_external_id),
                        "customer_external_id",
                        "customer",
                    )?,
                    r2(dealer_external_id.as_ref(), "dealer_external_id", "dealer")?,
                ),
                ImportRecord::Order {
                    customer_external_id,
                    ..
                } => (
                    r2(
                        Some(customer_external_id),
                        "customer_external_id",
                        "customer",
                    )?,
                    None,
                ),
                ImportRecord::ServiceRecord {
                    vehicle_external_id,
                    station_external_id,
                    ..
                } => {
                    let asset = assets.get(vehicle_external_id.as_str()).copied();
                    let asset = asset
                        .map(Some)
                        .ok_or(())
                        .or_else(|_| missing("vehicle_external_id", "vehicle"))?;
                    (
                        asset,
                        r2(
                            station_external_id.as_ref(),
                            "station_external_id",
                            "service station",
                        )?,
                    )
                }
            };
            Ok((o, a, b))
        });
        let outcome = refs.map(|(o, a, b)| {
            rows.row().int(tenant.0);
            match r {
                ImportRecord::Customer(c) => {
                    rows.opt_str(c.external_id.as_deref())
                        .str(c.kind.unwrap_or(CustomerKind::Person).as_str())
                        .str(&c.name)
                        .str(c.tier.as_deref().unwrap_or("standard"))
                        .opt_str(c.region.as_deref())
                        .opt_str(c.branch.as_deref())
                        .opt_str(c.address.as_deref())
                        .opt_float(c.coordinates.map(|p| p.lat))
                        .opt_float(c.coordinates.map(|p| p.lon))
                        .opt_str(c.opening_hours.as_deref())
                        .str(&c.tags.join(","))
                        .int(ms(at))
                        .int(ms(at));
                    good.push(c);
                }
                ImportRecord::Vehicle {
                    external_id,
                    vin,
                    model,
                    plate,
                    purchase_date,
                    ..
                } => {
                    rows.str(external_id)
                        .opt_int(a)
                        .str(vin.as_str())
                        .opt_str(model.as_deref())
                        .opt_str(plate.as_deref())
                        .opt_str(purchase_date.as_deref())
                        .opt_int(b);
                }
                ImportRecord::Order {
                    external_id,
                    order_no,
                    product,
                    amount_cents,
                    ordered_on,
                    status,
                    ..
                } => {
                    rows.str(external_id)
                        .opt_int(a)
                        .str(order_no)
                        .opt_str(product.as_deref())
                        .opt_int(*amount_cents)
                        .opt_str(ordered_on.as_deref())
                        .opt_str(status.as_deref());
                }
                ImportRecord::ServiceRecord {
                    external_id,
                    service_date,
                    kind,
                    mileage_km,
                    description,
                    ..
                } => {
                    rows.str(external_id)
                        .opt_int(a)
                        .opt_int(b)
                        .str(service_date)
                        .str(kind)
                        .opt_int(*mileage_km)
                        .opt_str(description.as_deref());
                }
            }
            o
        });
        outcomes.push(outcome);
    }
    if rows.rows() == 0 {
        return Ok(outcomes);
    }
    let columns = match own_table {
        "customers" => CUSTOMER_IMPORT,
        "assets" => VEHICLE_IMPORT,
        "orders" => ORDER_IMPORT,
        _ => SERVICE_RECORD_IMPORT,
    };
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let data: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| {
            !matches!(
                *n,
                "tenant_id" | "external_id" | "created_at" | "updated_at"
            )
        })
        .collect();
    let mut updates: Vec<String> = names
        .iter()
        .filter(|n| !matches!(**n, "tenant_id" | "external_id" | "created_at"))
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    updates.sort();
    // A row the file repeats unchanged is not rewritten (nor its updated_at moved).
    let differs: Vec<String> = data
        .iter()
        .map(|n| format!("{own_table}.{n} IS DISTINCT FROM excluded.{n}"))
        .collect();
    let mut upsert = Sql::new(&format!(
        "{} ON CONFLICT (tenant_id, external_id) DO UPDATE SET {} WHERE {} RETURNING id, external_id",
        insert_json(backend, own_table, columns),
        updates.join(", "),
        differs.join(" OR "),
    ));
    upsert.bind_text(rows.finish());
    let written = upsert.fetch_all(conn).await?;
    if own_table == "customers" {
        let mut ids = existing.clone();
        for r in &written {
            ids.insert(r.text("external_id")?, r.int("id")?);
        }
        replace_contacts(conn, backend, tenant, &good, &ids, &existing).await?;
    }
    if own_table == "assets" && !written.is_empty() {
        // A new or changed vehicle changes what its owner is found by (the VIN).
        let ids: Vec<i64> = written.iter().map(|r| r.int("id")).collect::<Result<_>>()?;
        let mut bump = Sql::new("UPDATE customers SET updated_at = ");
        bump.int(ms(at));
        bump.push(" WHERE tenant_id = ").int(tenant.0);
        bump.push(" AND id IN (SELECT customer_id FROM assets WHERE id IN ");
        bump.int_list(&ids);
        bump.push(")");
        bump.execute(conn).await?;
    }
    Ok(outcomes)
}

/// Columns written by an import, in the order its JSON rows hold them.
type ImportColumns = Columns<'static>;
const CUSTOMER_IMPORT: ImportColumns = &[
    ("tenant_id", Col::Int),
    ("external_id", Col::Text),
    ("kind", Col::Text),
    ("name", Col::Text),
    ("tier", Col::Text),
    ("region", Col::Text),
    ("branch", Col::Text),
    ("address", Col::Text),
    ("lat", Col::Float),
    ("lon", Col::Float),
    ("opening_hours", Col::Text),
    ("tags", Col::Text),
    ("created_at", Col::Int),
    ("updated_at", Col::Int),
];
const VEHICLE_IMPORT: ImportColumns = &[
    ("tenant_id", Col::Int),
    ("external_id", Col::Text),
    ("customer_id", Col::Int),
    ("vin", Col::Text),
    ("model", Col::Text),
    ("plate", Col::Text),
    ("purchase_date", Col::Text),
    ("dealer_id", Col::Int),
];
const ORDER_IMPORT: ImportColumns = &[
    ("tenant_id", Col::Int),
    ("external_id", Col::Text),
    ("customer_id", Col::Int),
    ("order_no", Col::Text),
    ("product", Col::Text),
    ("amount_cents", Col::Int),
    ("ordered_on", Col::Text),
    ("status", Col::Text),
];
const SERVICE_RECORD_IMPORT: ImportColumns = &[
    ("tenant_id", Col::Int),
    ("external_id", Col::Text),
    ("asset_id", Col::Int),
    ("station_id", Col::Int),
    ("service_date", Col::Text),
    ("kind", Col::Text),
    ("mileage_km", Col::Int),
    ("description", Col::Text),
];

/// Reads one contact list (phones, e-mails or accounts) of a customer.
type ContactsOf = fn(&CustomerInput) -> Vec<&str>;

/// Replaces the phone, e-mail and account lists of imported customers.
/// A daily file mostly repeats yesterday's lists: a list that did not
/// change is left as it is rather than deleted and written again.
async fn replace_contacts(
    conn: &mut AnyConnection,
    backend: Backend,
    tenant: TenantId,
    customers: &[&CustomerInput],
    ids: &HashMap<String, i64>,
    existing: &HashMap<String, i64>,
) -> Result<()> {
    let updated: Vec<i64> = existing.values().copied().collect();
    let lists: [(&str, &str, ContactsOf); 3] = [
        ("customer_phones", "e164", |c| {
            c.phones.iter().map(|p| p.as_str()).collect()
        }),
        ("customer_emails", "email", |c| {
            c.emails.iter().map(|e| e.as_str()).collect()
        }),
        ("customer_accounts", "account_no", |c| {
            c.accounts.iter().map(String::as_str).collect()
        }),
    ];
    for (table, col, values_of) in lists {
        let mut current: HashMap<i64, BTreeSet<String>> = HashMap::new();
        if !updated.is_empty() {
            let mut q = Sql::new(&format!(
                "SELECT customer_id, {col} AS v FROM {table} WHERE tenant_id = "
            ));
            q.int(tenant.0)
                .push(" AND customer_id IN ")
                .int_list(&updated);
            for r in q.fetch_all(conn).await? {
                current
                    .entry(r.int("customer_id")?)
                    .or_default()
                    .insert(r.text("v")?);
            }
        }
        let mut changed = Vec::new();
        let mut rows = JsonRows::new();
        for c in customers {
            let Some(&id) = c.external_id.as_deref().and_then(|x| ids.get(x)) else {
                continue;
            };
            let wanted: BTreeSet<&str> = values_of(c).into_iter().collect();
            let had = current.get(&id);
            if had.is_some_and(|had| had.iter().map(String::as_str).eq(wanted.iter().copied())) {
                continue;
            }
            if had.is_some() {
                changed.push(id);
            }
            for v in wanted {
                rows.row().int(tenant.0).int(id).str(v);
            }
        }
        if !changed.is_empty() {
            let mut del = Sql::new(&format!("DELETE FROM {table} WHERE tenant_id = "));
            del.int(tenant.0)
                .push(" AND customer_id IN ")
                .int_list(&changed);
            del.fetch_all(conn).await?;
        }
        if rows.rows() > 0 {
            let columns = [
                ("tenant_id", Col::Int),
                ("customer_id", Col::Int),
                (col, Col::Text),
            ];
            // DO NOTHING: a concurrent import of the same new customer may have written the same list.
            let mut ins = Sql::new(&format!(
                "{} ON CONFLICT DO NOTHING",
                insert_json(backend, table, &columns)
            ));
            ins.bind_text(rows.finish());
            ins.fetch_all(conn).await?;
        }
    }
    Ok(())
}

/// Checks a customer id belongs to the tenant (used by cases).
pub(crate) async fn customer_exists<E: Exec>(
    conn: &mut E,
    tenant: TenantId,
    id: CustomerId,
) -> Result<()> {
    exists(conn, "customers", tenant, id.0, "customer_id").await
}
