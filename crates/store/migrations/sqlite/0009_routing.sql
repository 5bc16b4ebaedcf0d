-- Routing: skills, the agents' routing profiles, queues and the ordered
-- rules that fill them, the work the router holds (so a restart recovers who
-- waits and who is busy), every offer made, and each agent's states with
-- their times.

CREATE TABLE skills (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

-- An agent without a row routes with no skills and the default capacity.
CREATE TABLE routing_agents (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    -- {skills, languages, capacity} as JSON; teams come from the user.
    spec TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX routing_agents_tenant ON routing_agents (tenant_id, user_id);

CREATE TABLE queues (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    -- domain::routing::QueueSpec as JSON.
    spec TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE queue_rules (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    -- Tried in this order; the first that matches puts the work in its queue.
    position INTEGER NOT NULL,
    queue_id INTEGER NOT NULL REFERENCES queues(id),
    -- domain::routing::EntryConditions as JSON.
    conditions TEXT NOT NULL
);
CREATE INDEX queue_rules_order ON queue_rules (tenant_id, position, id);

CREATE TABLE work_items (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    queue_id INTEGER NOT NULL REFERENCES queues(id),
    stage INTEGER NOT NULL,
    priority TEXT NOT NULL,
    sla_due INTEGER,
    language TEXT,
    prefer_agent INTEGER REFERENCES users(id),
    prefer_team INTEGER REFERENCES teams(id),
    arrived_at INTEGER NOT NULL,
    -- waiting, offered, active, done
    state TEXT NOT NULL,
    agent_id INTEGER REFERENCES users(id),
    offered_until INTEGER,
    assigned_at INTEGER,
    ended_at INTEGER,
    -- finished, withdrawn, callback, voicemail
    outcome TEXT,
    -- 1 while the router has yet to take the work in, or to act on `request`.
    pending INTEGER NOT NULL,
    -- 'end': the case was answered, parked or closed; written with that
    -- change so a crash between the two cannot leave the work routed.
    request TEXT
);
CREATE INDEX work_items_pending ON work_items (pending, id);
CREATE INDEX work_items_open ON work_items (tenant_id, state, id);
CREATE INDEX work_items_case ON work_items (tenant_id, case_id, state);
CREATE INDEX work_items_agent ON work_items (tenant_id, agent_id, state);

CREATE TABLE work_offers (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    work_id INTEGER NOT NULL REFERENCES work_items(id),
    agent_id INTEGER NOT NULL REFERENCES users(id),
    offered_at INTEGER NOT NULL,
    -- accepted, rejected, no_answer, withdrawn; NULL while it rings.
    outcome TEXT,
    reason TEXT,
    ended_at INTEGER
);
CREATE INDEX work_offers_work ON work_offers (tenant_id, work_id, id);
CREATE INDEX work_offers_agent ON work_offers (tenant_id, agent_id, id);

CREATE TABLE agent_states (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    -- offline, available, busy, wrap_up, break:REASON
    state TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE INDEX agent_states_user ON agent_states (tenant_id, user_id, started_at);
