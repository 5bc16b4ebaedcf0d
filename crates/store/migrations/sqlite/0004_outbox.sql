-- Sending mail: the templates acknowledgements and replies are written from,
-- the durable outbox every outgoing message waits in until the relay took
-- it, and the notifications that tell an agent what went wrong.

-- Linked from acknowledgements ({{faq_url}}).
ALTER TABLE tenants ADD COLUMN faq_url TEXT;

-- kind 'ack': the acknowledgement, per receiving address (address_id 0 means
-- every address of the tenant) and language. kind 'reply': agents' reply
-- templates, chosen by name.
CREATE TABLE mail_templates (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    address_id INTEGER NOT NULL DEFAULT 0,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, kind, name, address_id, language)
);

-- One row per outgoing message, written in the transaction that decided to
-- send it (the filing of a mail, an agent's reply), with the message already
-- composed: what the relay receives is what was recorded.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    case_id INTEGER REFERENCES cases(id),
    interaction_id INTEGER REFERENCES interactions(id),
    author_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_case ON mail_outbox (tenant_id, case_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    case_id INTEGER REFERENCES cases(id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notifications_user ON notifications (tenant_id, user_id, id);
