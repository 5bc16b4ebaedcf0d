-- A SQLite store keeps large bytes (raw messages, attachment data) in
-- segment files beside the database (see the store's `segments` module):
-- such a row has empty bytes and says where they are. Its length is the
-- row's size. PostgreSQL keeps every byte in its rows: these stay NULL.

ALTER TABLE mail_inbound ADD COLUMN raw_segment BIGINT;
ALTER TABLE mail_inbound ADD COLUMN raw_offset BIGINT;
ALTER TABLE blobs ADD COLUMN data_segment BIGINT;
ALTER TABLE blobs ADD COLUMN data_offset BIGINT;
