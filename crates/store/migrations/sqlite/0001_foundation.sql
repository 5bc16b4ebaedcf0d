-- Foundation schema. Times are integer milliseconds since the Unix epoch (UTC).
-- Every row carries tenant_id and every query filters on it.

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    leader_id INTEGER,
    UNIQUE (tenant_id, name)
);

CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    interface_user_id INTEGER,
    default_deadline_hours INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    department_id INTEGER REFERENCES departments(id),
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id, id);

CREATE TABLE auth_tokens (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX auth_tokens_user ON auth_tokens (tenant_id, user_id);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    parent_id INTEGER REFERENCES categories(id),
    name TEXT NOT NULL
);
CREATE INDEX categories_tenant ON categories (tenant_id, parent_id);

CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL,
    required INTEGER NOT NULL,
    UNIQUE (tenant_id, key)
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    external_id TEXT,
    tier TEXT NOT NULL,
    region TEXT,
    branch TEXT,
    address TEXT,
    lat REAL,
    lon REAL,
    opening_hours TEXT,
    tags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX customers_name ON customers (tenant_id, name);
CREATE INDEX customers_kind ON customers (tenant_id, kind, name);

CREATE TABLE customer_phones (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    e164 TEXT NOT NULL,
    PRIMARY KEY (tenant_id, e164, customer_id)
);
CREATE INDEX customer_phones_customer ON customer_phones (customer_id);

CREATE TABLE customer_emails (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    email TEXT NOT NULL,
    PRIMARY KEY (tenant_id, email, customer_id)
);
CREATE INDEX customer_emails_customer ON customer_emails (customer_id);

CREATE TABLE customer_accounts (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    account_no TEXT NOT NULL,
    PRIMARY KEY (tenant_id, account_no, customer_id)
);
CREATE INDEX customer_accounts_customer ON customer_accounts (customer_id);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    external_id TEXT,
    vin TEXT NOT NULL,
    model TEXT,
    plate TEXT,
    purchase_date TEXT,
    dealer_id INTEGER REFERENCES customers(id),
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX assets_vin ON assets (tenant_id, vin);
CREATE INDEX assets_customer ON assets (customer_id);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    external_id TEXT,
    order_no TEXT NOT NULL,
    product TEXT,
    amount_cents INTEGER,
    ordered_on TEXT,
    status TEXT,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX orders_no ON orders (tenant_id, order_no);
CREATE INDEX orders_customer ON orders (customer_id);

CREATE TABLE service_records (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    asset_id INTEGER NOT NULL REFERENCES assets(id),
    station_id INTEGER REFERENCES customers(id),
    external_id TEXT,
    service_date TEXT NOT NULL,
    kind TEXT NOT NULL,
    mileage_km INTEGER,
    description TEXT,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX service_records_asset ON service_records (asset_id);

CREATE TABLE case_counters (
    tenant_id INTEGER NOT NULL,
    year INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    case_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id),
    category_id INTEGER REFERENCES categories(id),
    assignee_id INTEGER REFERENCES users(id),
    team_id INTEGER REFERENCES teams(id),
    custom TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    resolved_at INTEGER,
    closed_at INTEGER,
    UNIQUE (tenant_id, year, seq)
);
CREATE INDEX cases_list ON cases (tenant_id, id);
CREATE INDEX cases_status ON cases (tenant_id, status, id);
CREATE INDEX cases_type ON cases (tenant_id, case_type, id);
CREATE INDEX cases_customer ON cases (tenant_id, customer_id, id);
CREATE INDEX cases_assignee ON cases (tenant_id, assignee_id, status, id);
CREATE INDEX cases_team ON cases (tenant_id, team_id, status, id);
CREATE INDEX cases_updated ON cases (tenant_id, updated_at);

CREATE TABLE case_links (
    tenant_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    related_id INTEGER NOT NULL REFERENCES cases(id),
    PRIMARY KEY (tenant_id, case_id, related_id)
);

CREATE TABLE blobs (
    tenant_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);

CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    direction TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    body TEXT NOT NULL
);
CREATE INDEX interactions_case ON interactions (tenant_id, case_id, id);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    interaction_id INTEGER NOT NULL REFERENCES interactions(id),
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX attachments_interaction ON attachments (tenant_id, interaction_id);

CREATE TABLE department_tasks (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    assignee_id INTEGER REFERENCES users(id),
    instructions TEXT NOT NULL,
    deadline_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    settled_at INTEGER,
    settled_by INTEGER REFERENCES users(id)
);
CREATE INDEX department_tasks_case ON department_tasks (tenant_id, case_id);
CREATE INDEX department_tasks_department ON department_tasks (tenant_id, department_id, status, id);

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    at INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    channel TEXT,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (tenant_id, case_id, id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor_id INTEGER,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
