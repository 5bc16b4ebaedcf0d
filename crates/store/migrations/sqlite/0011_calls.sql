-- Calls reported by the center's PBX (CTI events). One row per call, moved
-- along by its events; the hang-up writes the call onto a case as an
-- interaction in the same transaction.
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    -- The PBX's own id of the call.
    call_ref TEXT NOT NULL,
    direction TEXT NOT NULL,
    caller TEXT NOT NULL,
    callee TEXT NOT NULL,
    -- The customer's side in E.164, when it parses.
    number TEXT,
    -- The PBX's queue name.
    queue TEXT,
    agent_id INTEGER REFERENCES users(id),
    customer_id INTEGER REFERENCES customers(id),
    case_id INTEGER REFERENCES cases(id),
    interaction_id INTEGER REFERENCES interactions(id),
    state TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at INTEGER,
    cause TEXT,
    recording TEXT,
    wrapped_up_at INTEGER,
    UNIQUE (tenant_id, call_ref)
);
CREATE INDEX calls_started ON calls (tenant_id, started_at);
CREATE INDEX calls_agent ON calls (tenant_id, agent_id, id);

-- The PBX's token (hashed): it names the tenant its events belong to.
ALTER TABLE tenants ADD COLUMN cti_token_hash TEXT;
CREATE UNIQUE INDEX tenants_cti_token ON tenants (cti_token_hash);
-- An agent's phone extension, as the PBX names it.
ALTER TABLE users ADD COLUMN extension TEXT;
CREATE UNIQUE INDEX users_extension ON users (tenant_id, extension);
