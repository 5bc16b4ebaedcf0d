-- Call scripts. A script row holds its current version; every version, the
-- first included, is kept in script_versions with who wrote it, when and
-- what changed. A contact records the version the agent had open.
CREATE TABLE scripts (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    -- JSON arrays: case types, queue ids.
    case_types TEXT NOT NULL,
    queue_ids TEXT NOT NULL,
    campaign TEXT,
    -- JSON array of steps.
    steps TEXT NOT NULL,
    retired_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX scripts_tenant ON scripts (tenant_id, updated_at);

CREATE TABLE script_versions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    script_id INTEGER NOT NULL REFERENCES scripts(id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    case_types TEXT NOT NULL,
    queue_ids TEXT NOT NULL,
    campaign TEXT,
    steps TEXT NOT NULL,
    change_note TEXT NOT NULL,
    changed TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (script_id, version)
);

ALTER TABLE interactions ADD COLUMN script_version_id INTEGER REFERENCES script_versions(id);
