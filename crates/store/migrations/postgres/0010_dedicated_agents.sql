-- A valued customer's own agent and team: their new work is held for them
-- for the queue's prefer time before anyone else may take it.
ALTER TABLE customers ADD COLUMN dedicated_agent_id BIGINT REFERENCES users(id);
ALTER TABLE customers ADD COLUMN dedicated_team_id BIGINT REFERENCES teams(id);
