-- The search index follows the rows that changed since it last looked,
-- across tenants, in the order they changed.
CREATE INDEX cases_changed ON cases (updated_at, id);
CREATE INDEX customers_changed ON customers (updated_at, id);
CREATE INDEX articles_changed ON articles (updated_at, id);
