-- Read receipts of announcements: the version of an article each user last
-- confirmed reading, so a supervisor sees who has not read the current one.
-- A notice of a new announcement links to its article.
CREATE TABLE article_reads (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    article_id BIGINT NOT NULL REFERENCES articles(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    version BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, user_id)
);

ALTER TABLE notifications ADD COLUMN article_id BIGINT REFERENCES articles(id);
