-- SLA: business calendars, policies chosen by ordered rules, and one row per
-- clock with its due instants stored so the escalation scheduler reads an
-- index, not the cases.

CREATE TABLE calendars (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    -- domain::calendar::CalendarSpec as JSON.
    spec TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

-- A department's handling deadlines count its own opening hours.
ALTER TABLE departments ADD COLUMN calendar_id INTEGER REFERENCES calendars(id);

CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    -- Rules are tried in this order; the first that matches applies.
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    -- domain::policy::PolicySpec as JSON.
    spec TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX sla_policies_order ON sla_policies (tenant_id, position, id);

ALTER TABLE cases ADD COLUMN sla_policy_id INTEGER REFERENCES sla_policies(id);
-- The worst of the case's clocks, and the earliest due instant of those running.
ALTER TABLE cases ADD COLUMN sla_state TEXT;
ALTER TABLE cases ADD COLUMN sla_due_at INTEGER;
CREATE INDEX cases_sla_due ON cases (tenant_id, sla_due_at, id);
CREATE INDEX cases_sla_state ON cases (tenant_id, sla_state, sla_due_at, id);

ALTER TABLE department_tasks ADD COLUMN sla_state TEXT;

CREATE TABLE sla_clocks (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    task_id INTEGER REFERENCES department_tasks(id),
    policy_id INTEGER REFERENCES sla_policies(id),
    kind TEXT NOT NULL,
    -- NULL: the target is in minutes on the wall clock.
    calendar_id INTEGER REFERENCES calendars(id),
    target_seconds INTEGER NOT NULL,
    warn_percent INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    -- JSON [[from, until or null], ...] in milliseconds.
    pauses TEXT NOT NULL,
    stopped_at INTEGER,
    -- NULL while paused or stopped.
    due_at INTEGER,
    warn_at INTEGER,
    -- running, warned, breached: how far the escalation has gone.
    stage TEXT NOT NULL,
    state TEXT NOT NULL,
    -- When the scheduler must look at the clock; NULL when nothing is left to fire.
    next_fire_at INTEGER
);
CREATE INDEX sla_clocks_case ON sla_clocks (tenant_id, case_id, id);
CREATE INDEX sla_clocks_fire ON sla_clocks (next_fire_at) WHERE next_fire_at IS NOT NULL;

-- A notification held until the calendar opens (no escalation at midnight
-- for a nine-to-six team); NULL: shown at once.
ALTER TABLE notifications ADD COLUMN deliver_at INTEGER;
