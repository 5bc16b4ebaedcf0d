-- The customer portal. A tenant's logo is a blob of its own, shown on its
-- portal. A case opened from the portal's form has a private key: the
-- customer follows and answers the case with it. Only its SHA-256 is kept,
-- so the table read by someone else opens no case.
ALTER TABLE tenants ADD COLUMN logo_sha256 TEXT;
ALTER TABLE tenants ADD COLUMN logo_type TEXT;

CREATE TABLE portal_keys (
    key_hash TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX portal_keys_case ON portal_keys (tenant_id, case_id);
