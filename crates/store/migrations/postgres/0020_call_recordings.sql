-- A recording the PBX sends as a file rather than a URL: its bytes are kept
-- with the tenant's other files (blobs, stored once), and the call names
-- them; a filed call's recording is also an attachment of its interaction.
ALTER TABLE calls ADD COLUMN recording_sha256 TEXT;
ALTER TABLE calls ADD COLUMN recording_type TEXT;
ALTER TABLE calls ADD COLUMN recording_name TEXT;
ALTER TABLE calls ADD COLUMN recording_size BIGINT;
