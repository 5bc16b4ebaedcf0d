-- The knowledge base. An article row holds its current version; every
-- version, the first included, is kept in article_versions with who wrote
-- it, when, what changed and where the information came from. Files belong
-- to a version (their bytes are blobs, shared by content). A case records
-- the article versions its agents used.
CREATE TABLE kb_categories (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    parent_id INTEGER REFERENCES kb_categories(id),
    name TEXT NOT NULL
);
CREATE INDEX kb_categories_tenant ON kb_categories (tenant_id, parent_id);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    visibility TEXT NOT NULL,
    language TEXT NOT NULL,
    category_id INTEGER REFERENCES kb_categories(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    -- JSON arrays of text.
    tags TEXT NOT NULL,
    products TEXT NOT NULL,
    -- Days as YYYY-MM-DD, in the tenant's calendar.
    valid_from TEXT,
    valid_to TEXT,
    source TEXT NOT NULL,
    retired_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX articles_tenant ON articles (tenant_id, updated_at);

CREATE TABLE article_versions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    visibility TEXT NOT NULL,
    language TEXT NOT NULL,
    category_id INTEGER,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    products TEXT NOT NULL,
    valid_from TEXT,
    valid_to TEXT,
    source TEXT NOT NULL,
    change_note TEXT NOT NULL,
    -- JSON array of the field names this version changed.
    changed TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (article_id, version)
);

CREATE TABLE article_files (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    version_id INTEGER NOT NULL REFERENCES article_versions(id),
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX article_files_version ON article_files (tenant_id, version_id);

CREATE TABLE case_articles (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    version_id INTEGER NOT NULL REFERENCES article_versions(id),
    user_id INTEGER REFERENCES users(id),
    used_at INTEGER NOT NULL,
    UNIQUE (case_id, version_id)
);
