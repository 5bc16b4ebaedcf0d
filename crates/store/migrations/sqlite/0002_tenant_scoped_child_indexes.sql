-- Child rows are always read within a tenant: lead their indexes with tenant_id
-- so the planner never scans a tenant's whole table for one customer's phones.
DROP INDEX customer_phones_customer;
DROP INDEX customer_emails_customer;
DROP INDEX customer_accounts_customer;
DROP INDEX assets_customer;
DROP INDEX orders_customer;
DROP INDEX service_records_asset;
CREATE INDEX customer_phones_customer ON customer_phones (tenant_id, customer_id);
CREATE INDEX customer_emails_customer ON customer_emails (tenant_id, customer_id);
CREATE INDEX customer_accounts_customer ON customer_accounts (tenant_id, customer_id);
CREATE INDEX assets_customer ON assets (tenant_id, customer_id);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id);
CREATE INDEX service_records_asset ON service_records (tenant_id, asset_id);
