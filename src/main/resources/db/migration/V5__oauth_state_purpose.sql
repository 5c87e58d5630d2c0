-- What a pending state was started for: 'sign-in' or 'admin-consent' (both answers come to /oauth/callback).
-- Existing rows are sign-ins.
ALTER TABLE mi_oauth_states ADD COLUMN IF NOT EXISTS purpose VARCHAR(16) DEFAULT 'sign-in' NOT NULL;
