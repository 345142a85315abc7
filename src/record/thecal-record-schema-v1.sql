-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- Schema version 1 of the patient record (docs/record.md). Run by migrations[0] of
-- thecal-record-schema.c, inside one transaction, on an empty file.
--
-- Clinical rows are never updated or deleted: a correction is a new row that names the row it
-- corrects in "supersedes" (UNIQUE, so a row is corrected at most once and the versions form one
-- chain). The current version is the row that no other row supersedes. Triggers refuse UPDATE
-- and DELETE; the audit table is append-only and hash-chained (docs/security.md).

-- Facts about the record itself, written once at creation: record_id, created_utc_ms,
-- demo ('0' or '1'), kek_check (docs/security.md).
CREATE TABLE record_info (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- Users change (password, failed attempts) but are never deleted: the audit trail names them.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  full_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('physician', 'nurse', 'administrator', 'demo')),
  password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  created_utc_ms INTEGER NOT NULL,
  password_changed_utc_ms INTEGER NOT NULL
);

CREATE TABLE patients (
  id INTEGER PRIMARY KEY,
  mrn TEXT NOT NULL UNIQUE,
  created_utc_ms INTEGER NOT NULL,
  created_by INTEGER NOT NULL REFERENCES users (id)
);

CREATE TABLE patient_versions (
  id INTEGER PRIMARY KEY,
  patient_id INTEGER NOT NULL REFERENCES patients (id),
  supersedes INTEGER UNIQUE REFERENCES patient_versions (id),
  name TEXT NOT NULL,
  date_of_birth TEXT NOT NULL,
  opioid_tolerance TEXT NOT NULL CHECK (opioid_tolerance IN ('naive', 'tolerant')),
  notes TEXT NOT NULL DEFAULT '',
  reason TEXT,
  recorded_utc_ms INTEGER NOT NULL,
  recorded_by INTEGER NOT NULL REFERENCES users (id),
  CHECK ((supersedes IS NULL) = (reason IS NULL))
);
CREATE INDEX patient_versions_patient ON patient_versions (patient_id);

-- Derived search index (not clinical data: rewritten when a name is corrected). The words of the
-- current name, lower-cased and without accents by Thecal (thecal-record-text.c), in an FTS5 table
-- whose rowid is the patient's id, with prefix indexes for 1 to 3 characters: any word of the
-- name found by its start, whatever the order of the words typed.
CREATE VIRTUAL TABLE patient_search USING fts5 (words, prefix = '1 2 3');

CREATE TABLE pumps (
  id INTEGER PRIMARY KEY,
  serial TEXT NOT NULL UNIQUE,
  model_id TEXT NOT NULL,
  patient_id INTEGER NOT NULL REFERENCES patients (id),
  -- nonce (24 bytes) || XChaCha20-Poly1305 ciphertext of the key (32) || tag (16)
  pairing_key_wrapped BLOB NOT NULL CHECK (length (pairing_key_wrapped) = 72),
  created_utc_ms INTEGER NOT NULL,
  created_by INTEGER NOT NULL REFERENCES users (id)
);
CREATE INDEX pumps_patient ON pumps (patient_id);

CREATE TABLE pump_versions (
  id INTEGER PRIMARY KEY,
  pump_id INTEGER NOT NULL REFERENCES pumps (id),
  supersedes INTEGER UNIQUE REFERENCES pump_versions (id),
  implant_date TEXT NOT NULL,
  catheter_length_mm INTEGER NOT NULL CHECK (catheter_length_mm > 0),
  status TEXT NOT NULL CHECK (status IN ('implanted', 'explanted')),
  explant_date TEXT,
  reason TEXT,
  recorded_utc_ms INTEGER NOT NULL,
  recorded_by INTEGER NOT NULL REFERENCES users (id),
  CHECK ((status = 'explanted') = (explant_date IS NOT NULL)),
  CHECK ((supersedes IS NULL) = (reason IS NULL))
);
CREATE INDEX pump_versions_pump ON pump_versions (pump_id);

CREATE TABLE programming_sessions (
  id INTEGER PRIMARY KEY,
  pump_id INTEGER NOT NULL REFERENCES pumps (id),
  started_utc_ms INTEGER NOT NULL,
  started_by INTEGER NOT NULL REFERENCES users (id),
  reason TEXT NOT NULL,
  old_prescription_id INTEGER REFERENCES prescriptions (id),
  new_prescription_json TEXT NOT NULL
);
CREATE INDEX programming_sessions_pump ON programming_sessions (pump_id);

CREATE TABLE programming_changes (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES programming_sessions (id),
  field TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  override_reason TEXT
);
CREATE INDEX programming_changes_session ON programming_changes (session_id);

CREATE TABLE programming_outcomes (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES programming_sessions (id),
  supersedes INTEGER UNIQUE REFERENCES programming_outcomes (id),
  outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'confirmed', 'failed', 'uncertain')),
  note TEXT,
  recorded_utc_ms INTEGER NOT NULL,
  recorded_by INTEGER NOT NULL REFERENCES users (id),
  CHECK ((supersedes IS NULL) = (outcome = 'pending'))
);
CREATE INDEX programming_outcomes_session ON programming_outcomes (session_id);

CREATE TABLE prescriptions (
  id INTEGER PRIMARY KEY,
  pump_id INTEGER NOT NULL REFERENCES pumps (id),
  version INTEGER NOT NULL CHECK (version >= 1),
  supersedes INTEGER UNIQUE REFERENCES prescriptions (id),
  effective_from_utc_ms INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('programmed', 'interrogated', 'entered')),
  session_id INTEGER UNIQUE REFERENCES programming_sessions (id),
  prescription_json TEXT NOT NULL,
  reason TEXT,
  recorded_utc_ms INTEGER NOT NULL,
  recorded_by INTEGER NOT NULL REFERENCES users (id),
  UNIQUE (pump_id, version),
  CHECK (supersedes IS NULL OR reason IS NOT NULL),
  CHECK ((source = 'programmed') = (session_id IS NOT NULL))
);

CREATE TABLE refills (
  id INTEGER PRIMARY KEY,
  pump_id INTEGER NOT NULL REFERENCES pumps (id),
  supersedes INTEGER UNIQUE REFERENCES refills (id),
  performed_utc_ms INTEGER NOT NULL,
  expected_nl INTEGER NOT NULL,
  aspirated_nl INTEGER NOT NULL CHECK (aspirated_nl >= 0),
  discrepancy_nl INTEGER NOT NULL CHECK (discrepancy_nl = expected_nl - aspirated_nl),
  discrepancy_flagged INTEGER NOT NULL CHECK (discrepancy_flagged IN (0, 1)),
  added_nl INTEGER NOT NULL CHECK (added_nl >= 0),
  drug_id TEXT NOT NULL,
  concentration_ng_per_ml INTEGER NOT NULL CHECK (concentration_ng_per_ml > 0),
  lot TEXT NOT NULL,
  expiry_date TEXT NOT NULL,
  performed_by INTEGER NOT NULL REFERENCES users (id),
  verified_by INTEGER NOT NULL REFERENCES users (id),
  reason TEXT,
  recorded_utc_ms INTEGER NOT NULL,
  CHECK (verified_by <> performed_by),
  CHECK ((supersedes IS NULL) = (reason IS NULL))
);
CREATE INDEX refills_pump ON refills (pump_id);

CREATE TABLE pump_events (
  id INTEGER PRIMARY KEY,
  pump_id INTEGER NOT NULL REFERENCES pumps (id),
  sequence INTEGER NOT NULL CHECK (sequence >= 0),
  pump_time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  imported_utc_ms INTEGER NOT NULL,
  imported_by INTEGER NOT NULL REFERENCES users (id),
  UNIQUE (pump_id, sequence)
);

CREATE TABLE alarms_seen (
  id INTEGER PRIMARY KEY,
  pump_id INTEGER NOT NULL REFERENCES pumps (id),
  kind TEXT NOT NULL,
  pump_time_ms INTEGER,
  seen_utc_ms INTEGER NOT NULL,
  seen_by INTEGER NOT NULL REFERENCES users (id)
);
CREATE INDEX alarms_seen_pump ON alarms_seen (pump_id);

-- The audit trail (21 CFR 11.10(e), CLINICAL.md §5.2): append-only, hash-chained. No foreign
-- keys: nothing may stop an entry from being written, and users are never deleted anyway.
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY CHECK (seq >= 1),
  at_utc_ms INTEGER NOT NULL,
  user_id INTEGER,
  user_name TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT,
  object_id INTEGER,
  patient_id INTEGER,
  before TEXT,
  after TEXT,
  reason TEXT,
  prev_hash BLOB NOT NULL CHECK (length (prev_hash) = 32),
  hash BLOB NOT NULL CHECK (length (hash) = 32)
);
CREATE INDEX audit_patient ON audit (patient_id) WHERE patient_id IS NOT NULL;

-- Append-only: the next entry is always the one after the last, nothing is changed or removed.
CREATE TRIGGER audit_append_only_insert BEFORE INSERT ON audit
  WHEN NEW.seq IS NOT (SELECT coalesce (max (seq), 0) + 1 FROM audit)
  BEGIN SELECT RAISE (ABORT, 'the audit trail only grows at its end'); END;
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE (ABORT, 'the audit trail is append-only: an entry is never changed'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE (ABORT, 'the audit trail is append-only: an entry is never removed'); END;

-- Clinical rows: corrections supersede, never UPDATE or DELETE.
CREATE TRIGGER record_info_no_update BEFORE UPDATE ON record_info
  BEGIN SELECT RAISE (ABORT, 'the record''s identity is written once'); END;
CREATE TRIGGER record_info_no_delete BEFORE DELETE ON record_info
  BEGIN SELECT RAISE (ABORT, 'the record''s identity is written once'); END;
CREATE TRIGGER users_no_delete BEFORE DELETE ON users
  BEGIN SELECT RAISE (ABORT, 'a user is never deleted: the audit trail names them'); END;
CREATE TRIGGER users_fixed BEFORE UPDATE OF id, name, created_utc_ms ON users
  BEGIN SELECT RAISE (ABORT, 'a user''s name is never changed'); END;
CREATE TRIGGER users_demo_only_insert BEFORE INSERT ON users
  WHEN NEW.role = 'demo' AND (SELECT value FROM record_info WHERE key = 'demo') IS NOT '1'
  BEGIN SELECT RAISE (ABORT, 'a demo user exists only in a demo record'); END;
CREATE TRIGGER users_demo_only_update BEFORE UPDATE OF role ON users
  WHEN NEW.role = 'demo' AND (SELECT value FROM record_info WHERE key = 'demo') IS NOT '1'
  BEGIN SELECT RAISE (ABORT, 'a demo user exists only in a demo record'); END;

CREATE TRIGGER patients_no_update BEFORE UPDATE ON patients
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER patients_no_delete BEFORE DELETE ON patients
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER patient_versions_no_update BEFORE UPDATE ON patient_versions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER patient_versions_no_delete BEFORE DELETE ON patient_versions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER patient_versions_same_patient BEFORE INSERT ON patient_versions
  WHEN NEW.supersedes IS NOT NULL
   AND (SELECT patient_id FROM patient_versions WHERE id = NEW.supersedes) IS NOT NEW.patient_id
  BEGIN SELECT RAISE (ABORT, 'a correction supersedes a version of the same patient'); END;
CREATE TRIGGER pumps_no_update BEFORE UPDATE ON pumps
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER pumps_no_delete BEFORE DELETE ON pumps
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER pump_versions_no_update BEFORE UPDATE ON pump_versions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER pump_versions_no_delete BEFORE DELETE ON pump_versions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER pump_versions_same_pump BEFORE INSERT ON pump_versions
  WHEN NEW.supersedes IS NOT NULL
   AND (SELECT pump_id FROM pump_versions WHERE id = NEW.supersedes) IS NOT NEW.pump_id
  BEGIN SELECT RAISE (ABORT, 'a correction supersedes a version of the same pump'); END;
CREATE TRIGGER prescriptions_no_update BEFORE UPDATE ON prescriptions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER prescriptions_no_delete BEFORE DELETE ON prescriptions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER prescriptions_same_pump BEFORE INSERT ON prescriptions
  WHEN NEW.supersedes IS NOT NULL
   AND (SELECT pump_id FROM prescriptions WHERE id = NEW.supersedes) IS NOT NEW.pump_id
  BEGIN SELECT RAISE (ABORT, 'a correction supersedes a prescription of the same pump'); END;
CREATE TRIGGER programming_sessions_no_update BEFORE UPDATE ON programming_sessions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER programming_sessions_no_delete BEFORE DELETE ON programming_sessions
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER programming_changes_no_update BEFORE UPDATE ON programming_changes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER programming_changes_no_delete BEFORE DELETE ON programming_changes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER programming_outcomes_no_update BEFORE UPDATE ON programming_outcomes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER programming_outcomes_no_delete BEFORE DELETE ON programming_outcomes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER programming_outcomes_same_session BEFORE INSERT ON programming_outcomes
  WHEN NEW.supersedes IS NOT NULL
   AND (SELECT session_id FROM programming_outcomes WHERE id = NEW.supersedes) IS NOT NEW.session_id
  BEGIN SELECT RAISE (ABORT, 'an outcome supersedes an outcome of the same session'); END;
CREATE TRIGGER refills_no_update BEFORE UPDATE ON refills
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER refills_no_delete BEFORE DELETE ON refills
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER refills_same_pump BEFORE INSERT ON refills
  WHEN NEW.supersedes IS NOT NULL
   AND (SELECT pump_id FROM refills WHERE id = NEW.supersedes) IS NOT NEW.pump_id
  BEGIN SELECT RAISE (ABORT, 'a correction supersedes a refill of the same pump'); END;
CREATE TRIGGER pump_events_no_update BEFORE UPDATE ON pump_events
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER pump_events_no_delete BEFORE DELETE ON pump_events
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER alarms_seen_no_update BEFORE UPDATE ON alarms_seen
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER alarms_seen_no_delete BEFORE DELETE ON alarms_seen
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
