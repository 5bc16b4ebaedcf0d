-- The wallboard counts today's routed work by arrival.
CREATE INDEX work_items_arrived ON work_items (tenant_id, arrived_at);
