-- A file that came base64-encoded in a message whose source a SQLite store
-- put aside is not written again: the blob row points at its text inside
-- that source (data_segment, data_offset) and gives the text's length
-- here; the bytes are decoded when read. NULL: the bytes as they are.
-- PostgreSQL keeps every byte in its rows: this stays NULL.

ALTER TABLE blobs ADD COLUMN data_base64_len BIGINT;
