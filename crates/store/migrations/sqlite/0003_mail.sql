-- The e-mail channel: the tenant's receiving addresses, the durable spool of
-- every message accepted, and the Message-IDs that thread replies into cases.

-- What a reply to a closed case does: 'reopen' it, or open a 'follow_up' case.
ALTER TABLE tenants ADD COLUMN closed_reply TEXT NOT NULL DEFAULT 'reopen';

CREATE TABLE mail_addresses (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    address TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    case_type TEXT NOT NULL,
    category_id INTEGER REFERENCES categories(id),
    team_id INTEGER REFERENCES teams(id),
    region TEXT,
    reply_hours INTEGER NOT NULL,
    vip_reply_hours INTEGER NOT NULL,
    language TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_addresses_tenant ON mail_addresses (tenant_id, id);

-- Written before the sender hears 250; filed into a case afterwards. The raw
-- message stays: it is the record of what the customer sent.
CREATE TABLE mail_inbound (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    address_id INTEGER NOT NULL REFERENCES mail_addresses(id),
    source TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    size INTEGER NOT NULL,
    raw BLOB NOT NULL,
    status TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id),
    outcome TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    filed_at INTEGER
);
CREATE INDEX mail_inbound_pending ON mail_inbound (status, id);
CREATE INDEX mail_inbound_tenant ON mail_inbound (tenant_id, id);
CREATE INDEX mail_inbound_sender ON mail_inbound (tenant_id, envelope_from, received_at);

CREATE TABLE mail_messages (
    tenant_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    interaction_id INTEGER REFERENCES interactions(id),
    direction TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_addresses TEXT NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX mail_messages_case ON mail_messages (tenant_id, case_id);

-- Addresses besides the customer's that may write on a case (CC'd colleagues).
CREATE TABLE case_participants (
    tenant_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    email TEXT NOT NULL,
    PRIMARY KEY (tenant_id, case_id, email)
);
