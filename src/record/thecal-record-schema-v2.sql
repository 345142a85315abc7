-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- Schema version 2 of the patient record (docs/record.md): changes only. Run by migrations[1] of
-- thecal-record-schema.c, inside one transaction, on a version-1 record.
--
-- The writes to a pump outside a programming session (a refill's SET_RESERVOIR, a START_BOLUS)
-- get what programming sessions have had since version 1: the intent is committed PENDING before
-- the first byte goes to the pump, and resolved later by a row that supersedes it, so that a
-- crash or a lost answer leaves a record that the next start settles by reading the pump.

-- One write: which pump, what kind, who, why, and the request as sent (JSON written by
-- src/workflow: for a refill the new volume, drug, concentration, lot, expiry, verifier, the
-- discrepancy check and the settle threshold; for a bolus its kind, volume, dose, duration, source
-- and the pump's log sequence before the write). Enough to settle it in a later process.
CREATE TABLE pump_writes (
  id INTEGER PRIMARY KEY,
  pump_id INTEGER NOT NULL REFERENCES pumps (id),
  kind TEXT NOT NULL CHECK (kind IN ('refill', 'bolus')),
  started_utc_ms INTEGER NOT NULL,
  started_by INTEGER NOT NULL REFERENCES users (id),
  reason TEXT NOT NULL,
  request_json TEXT NOT NULL
);
CREATE INDEX pump_writes_pump ON pump_writes (pump_id);

-- Its outcomes, as programming_outcomes: 'pending' first, each resolution supersedes the current
-- one; 'confirmed' and 'failed' are final. A confirmed refill names the refills row written in
-- the same transaction (the refill is in the record exactly when the pump took it).
CREATE TABLE pump_write_outcomes (
  id INTEGER PRIMARY KEY,
  write_id INTEGER NOT NULL REFERENCES pump_writes (id),
  supersedes INTEGER UNIQUE REFERENCES pump_write_outcomes (id),
  outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'confirmed', 'failed', 'uncertain')),
  refill_id INTEGER UNIQUE REFERENCES refills (id),
  note TEXT,
  recorded_utc_ms INTEGER NOT NULL,
  recorded_by INTEGER NOT NULL REFERENCES users (id),
  CHECK ((supersedes IS NULL) = (outcome = 'pending')),
  CHECK (refill_id IS NULL OR outcome = 'confirmed')
);
CREATE INDEX pump_write_outcomes_write ON pump_write_outcomes (write_id);

CREATE TRIGGER pump_writes_no_update BEFORE UPDATE ON pump_writes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER pump_writes_no_delete BEFORE DELETE ON pump_writes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER pump_write_outcomes_no_update BEFORE UPDATE ON pump_write_outcomes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never changed: a correction supersedes'); END;
CREATE TRIGGER pump_write_outcomes_no_delete BEFORE DELETE ON pump_write_outcomes
  BEGIN SELECT RAISE (ABORT, 'clinical rows are never removed: a correction supersedes'); END;
CREATE TRIGGER pump_write_outcomes_same_write BEFORE INSERT ON pump_write_outcomes
  WHEN NEW.supersedes IS NOT NULL
   AND (SELECT write_id FROM pump_write_outcomes WHERE id = NEW.supersedes) IS NOT NEW.write_id
  BEGIN SELECT RAISE (ABORT, 'an outcome supersedes an outcome of the same write'); END;
CREATE TRIGGER pump_write_outcomes_final BEFORE INSERT ON pump_write_outcomes
  WHEN NEW.supersedes IS NOT NULL
   AND (SELECT outcome FROM pump_write_outcomes WHERE id = NEW.supersedes) IN ('confirmed', 'failed')
  BEGIN SELECT RAISE (ABORT, 'a confirmed or failed write is final'); END;
