-- The agent's desk: list filters a user saved by name, and when each user
-- last opened each case (what changed since shows as new).
CREATE TABLE saved_filters (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    -- The list's query string, e.g. status=open&sla=warning.
    query TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, user_id, name)
);

CREATE TABLE case_reads (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    read_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, case_id)
);
