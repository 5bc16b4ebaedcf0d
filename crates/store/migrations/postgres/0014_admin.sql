-- Catalogue entries are retired, never deleted: old cases, tasks and users
-- keep their names, and a retired entry is no longer offered.
ALTER TABLE teams ADD COLUMN retired_at BIGINT;
ALTER TABLE departments ADD COLUMN retired_at BIGINT;
ALTER TABLE categories ADD COLUMN retired_at BIGINT;
ALTER TABLE custom_fields ADD COLUMN retired_at BIGINT;

-- A tenant's accent colour (#rrggbb) in its pages.
ALTER TABLE tenants ADD COLUMN brand_color TEXT;
