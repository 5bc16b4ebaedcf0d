-- IMAP polling: existing mailboxes whose mail becomes cases, and every UID
-- taken from them. A message's row is written in the transaction that spools
-- it, so a UID is stored once however many pollers or nodes overlap.

CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    -- The receiving address the mail counts as sent to (type, category, team).
    address_id INTEGER NOT NULL REFERENCES mail_addresses(id),
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    -- none | starttls | tls
    security TEXT NOT NULL,
    username TEXT NOT NULL,
    password TEXT NOT NULL,
    folder TEXT NOT NULL,
    -- Where a stored message goes: NULL leaves it, flagged, in the folder.
    move_to TEXT,
    poll_seconds INTEGER NOT NULL,
    max_bytes INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    -- The node polling it now, until when.
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    last_poll_at INTEGER,
    last_error TEXT,
    fetched INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX mailboxes_tenant ON mailboxes (tenant_id, id);

-- state: 'stored' (spooled; the mailbox not yet told), 'done' (flagged or
-- moved), 'duplicate' (the same message under an earlier UIDVALIDITY).
CREATE TABLE mailbox_messages (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    tenant_id INTEGER NOT NULL,
    -- The Message-ID, or a digest of the message when it has none.
    message_key TEXT NOT NULL,
    spool_id INTEGER REFERENCES mail_inbound(id),
    state TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uidvalidity, uid)
);
CREATE INDEX mailbox_messages_key ON mailbox_messages (mailbox_id, message_key);
