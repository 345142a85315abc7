/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-types.h: what the patient record stores and hands back (docs/record.md).
 *
 * Inputs (…Input) are borrowed by the call that takes them: the record copies what it needs
 * before the call returns. Results are owned by the caller and freed with their _free function
 * (or g_autoptr). Quantities are exact integers with the unit in the name (DESIGN.md); instants
 * written by Thecal are UTC milliseconds; dates are "YYYY-MM-DD" text; instants read from a pump
 * are pump-local milliseconds (docs/dosing.md).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Who may do what: docs/security.md and src/workflow/thecal-permissions.c. */
typedef enum
{
  THECAL_ROLE_PHYSICIAN = 0, /* everything clinical */
  THECAL_ROLE_NURSE,         /* interrogate, refill, reservoir update; no dose change */
  THECAL_ROLE_ADMINISTRATOR, /* users, drug library; no clinical data */
  THECAL_ROLE_DEMO,          /* a physician's clinical rights, only inside a demo record */
  THECAL_N_ROLES,
} ThecalRole;

typedef enum
{
  THECAL_OPIOID_NAIVE = 0, /* the safe default of the dose core (thecal-check.h) */
  THECAL_OPIOID_TOLERANT,
} ThecalOpioidTolerance;

typedef enum
{
  THECAL_PUMP_IMPLANTED = 0,
  THECAL_PUMP_EXPLANTED,
} ThecalPumpStatus;

/* A programming session's outcome (DESIGN.md "Telemetry"): written PENDING before the first byte
 * goes to the pump; resolved by a later row that supersedes it. UNCERTAIN is never "failed": it
 * is resolved by reading the pump again. */
typedef enum
{
  THECAL_OUTCOME_PENDING = 0,
  THECAL_OUTCOME_CONFIRMED,
  THECAL_OUTCOME_FAILED,
  THECAL_OUTCOME_UNCERTAIN,
} ThecalProgrammingOutcome;

/* Where a prescription version came from. */
typedef enum
{
  THECAL_RX_SOURCE_PROGRAMMED = 0, /* written to the pump by a confirmed programming session */
  THECAL_RX_SOURCE_INTERROGATED,   /* read from the pump */
  THECAL_RX_SOURCE_ENTERED,        /* typed in (e.g. a pump programmed elsewhere) */
} ThecalPrescriptionSource;

/* Names as stored in the record and spelled on the command line ("physician", "naive", ...). */
const char *thecal_role_name (ThecalRole role);
gboolean thecal_role_from_name (const char *name, ThecalRole *role);
const char *thecal_opioid_tolerance_name (ThecalOpioidTolerance tolerance);
gboolean thecal_opioid_tolerance_from_name (const char *name, ThecalOpioidTolerance *tolerance);
const char *thecal_pump_status_name (ThecalPumpStatus status);
gboolean thecal_pump_status_from_name (const char *name, ThecalPumpStatus *status);
const char *thecal_programming_outcome_name (ThecalProgrammingOutcome outcome);
gboolean thecal_programming_outcome_from_name (const char *name, ThecalProgrammingOutcome *outcome);
const char *thecal_prescription_source_name (ThecalPrescriptionSource source);
gboolean thecal_prescription_source_from_name (const char *name, ThecalPrescriptionSource *source);

/* Lock-out: after this many failed logins in a row the account is locked until an
 * administrator unlocks it (docs/security.md). */
#define THECAL_LOGIN_MAX_FAILURES 5
/* Passwords are at least this many characters (Unicode characters, not bytes). */
#define THECAL_PASSWORD_MIN_CHARS 10
#define THECAL_PASSWORD_MAX_BYTES 1024
/* The pairing key shared by a pump and the clinic (DESIGN.md "Telemetry": 256 bits). */
#define THECAL_PAIRING_KEY_BYTES 32
/* Parses a pairing key as delivered with a pump (typed, pasted or read from a file; the text
 * `thecal-cli pump add --pairing-key-file` reads): 2 × THECAL_PAIRING_KEY_BYTES hexadecimal digits,
 * upper or lower case; spaces, tabs, dashes and line breaks between them are ignored. FALSE with
 * THECAL_DB_ERROR_INVALID naming the field and the rule ("Pairing key: 64 hexadecimal digits, not
 * 63"; "Pairing key: “zz” is not a hexadecimal byte") and @key zeroed. The copy of the digits made
 * here is wiped before returning; the caller wipes @text and @key. */
gboolean thecal_pairing_key_parse (const char *text, guint8 key[THECAL_PAIRING_KEY_BYTES], GError **error);
/* SHA-256 */
#define THECAL_AUDIT_HASH_BYTES 32

/* ------------------------------------------------------------------------------------------ */
/* Users                                                                                        */

typedef struct
{
  gint64 id;
  char *name;      /* the login name, unique regardless of case */
  char *full_name; /* as printed beside every entry the user makes */
  ThecalRole role;
  gint failed_attempts; /* failed logins in a row */
  gboolean locked;      /* failed_attempts ≥ THECAL_LOGIN_MAX_FAILURES */
  gint64 created_utc_ms;
  gint64 password_changed_utc_ms;
} ThecalUser;

ThecalUser *thecal_user_copy (const ThecalUser *user);
void thecal_user_free (ThecalUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalUser, thecal_user_free)

/* ------------------------------------------------------------------------------------------ */
/* Patients                                                                                     */

typedef struct
{
  const char *mrn;           /* medical record number: 1–32 of A–Z a–z 0–9 - / . _ */
  const char *name;          /* as the clinic writes it, e.g. "DOE, Jane" */
  const char *date_of_birth; /* "YYYY-MM-DD", not in the future */
  ThecalOpioidTolerance opioid_tolerance;
  const char *notes; /* NULL or "" for none */
} ThecalPatientInput;

typedef struct
{
  gint64 id;         /* the patient: stays the same across corrections */
  gint64 version_id; /* this version of the details */
  gint64 supersedes; /* the version this one corrects; 0 for the first */
  char *mrn;
  char *name;
  char *date_of_birth;
  ThecalOpioidTolerance opioid_tolerance;
  char *notes;            /* "" when none */
  char *reason;           /* why this version was written; NULL for the first */
  gint64 created_utc_ms;  /* when the patient was first registered */
  gint64 recorded_utc_ms; /* when this version was written */
  char *recorded_by;      /* user name */
} ThecalPatient;

ThecalPatient *thecal_patient_copy (const ThecalPatient *patient);
void thecal_patient_free (ThecalPatient *patient);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalPatient, thecal_patient_free)

/* ------------------------------------------------------------------------------------------ */
/* Pumps                                                                                        */

typedef struct
{
  const char *serial;      /* 1–32 of A–Z a–z 0–9 - / . _ */
  const char *model_id;    /* an id of data/pump-models.json, e.g. "TR-20" */
  const char *patient_mrn; /* the patient it is implanted in */
  const char *implant_date;
  gint64 catheter_length_mm; /* implanted length, > 0 */
  /* THECAL_PAIRING_KEY_BYTES bytes, or NULL: the record draws a new random key. Stored wrapped
   * (docs/security.md), never in clear. */
  const guint8 *pairing_key;
} ThecalPumpInput;

/* A correction or a change of state (explant) of a pump: the details that may change. */
typedef struct
{
  const char *implant_date;
  gint64 catheter_length_mm;
  ThecalPumpStatus status;
  const char *explant_date; /* required when EXPLANTED, NULL otherwise */
} ThecalPumpDetails;

typedef struct
{
  gint64 id;
  gint64 version_id;
  gint64 supersedes;
  char *serial;
  char *model_id;
  gint64 patient_id;
  char *patient_mrn;
  char *implant_date;
  gint64 catheter_length_mm;
  ThecalPumpStatus status;
  char *explant_date; /* NULL while implanted */
  char *reason;       /* NULL for the first version */
  gint64 created_utc_ms;
  gint64 recorded_utc_ms;
  char *recorded_by;
} ThecalPump;

ThecalPump *thecal_pump_copy (const ThecalPump *pump);
void thecal_pump_free (ThecalPump *pump);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalPump, thecal_pump_free)

/* ------------------------------------------------------------------------------------------ */
/* Prescriptions: versioned, never overwritten                                                 */

typedef struct
{
  gint64 id;
  gint64 pump_id;
  char *pump_serial;
  gint version;      /* 1, 2, ... per pump, in the order written */
  gint64 supersedes; /* the version this one corrects (entered in error); 0 if none */
  gint64 effective_from_utc_ms;
  gint64 effective_to_utc_ms; /* the next valid version's start; G_MAXINT64 while in effect */
  gboolean superseded;        /* a later row corrects this one: it never took effect as written */
  ThecalPrescriptionSource source;
  gint64 session_id; /* the programming session that wrote it; 0 if none */
  char *json;        /* canonical JSON (thecal_prescription_to_json) */
  char *reason;
  gint64 recorded_utc_ms;
  char *recorded_by;
} ThecalRecordedPrescription;

ThecalRecordedPrescription *thecal_recorded_prescription_copy (const ThecalRecordedPrescription *rx);
void thecal_recorded_prescription_free (ThecalRecordedPrescription *rx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalRecordedPrescription, thecal_recorded_prescription_free)

/* ------------------------------------------------------------------------------------------ */
/* Programming sessions                                                                        */

typedef struct
{
  const char *field;           /* "continuous.dose", "ptm.lockout", ... */
  const char *old_value;       /* as shown to the clinician; NULL if none */
  const char *new_value;       /* NULL if removed */
  const char *override_reason; /* a soft limit was overridden for this change: why; else NULL */
} ThecalProgrammingChangeInput;

typedef struct
{
  gint64 id;
  char *field;
  char *old_value;
  char *new_value;
  char *override_reason;
} ThecalProgrammingChange;

void thecal_programming_change_free (ThecalProgrammingChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalProgrammingChange, thecal_programming_change_free)

typedef struct
{
  gint64 id;
  gint64 pump_id;
  char *pump_serial;
  gint64 started_utc_ms;
  char *started_by;
  char *reason;                /* why the change */
  gint64 old_prescription_id;  /* 0 if none was recorded */
  char *new_prescription_json; /* what was sent */
  GPtrArray *changes;          /* ThecalProgrammingChange */
  /* The current (not superseded) outcome. */
  gint64 outcome_id;
  ThecalProgrammingOutcome outcome;
  char *outcome_note;
  gint64 outcome_utc_ms;
  char *outcome_by;
  gint n_outcomes;        /* rows written: 1 while pending, then one per resolution */
  gint64 prescription_id; /* the version written when confirmed; 0 otherwise */
} ThecalProgrammingSession;

void thecal_programming_session_free (ThecalProgrammingSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalProgrammingSession, thecal_programming_session_free)

/* ------------------------------------------------------------------------------------------ */
/* Refills                                                                                      */

typedef struct
{
  const char *pump_serial;
  gint64 performed_utc_ms;
  gint64 expected_nl;  /* expected residual (thecal_refill_check) */
  gint64 aspirated_nl; /* what came back */
  gboolean discrepancy_flagged;
  gint64 added_nl;
  const char *drug_id;
  gint64 concentration_ng_per_ml;
  const char *lot;
  const char *expiry_date;
  const char *verified_by; /* the second person's user name; not the performer */
  gint64 supersedes;       /* the refill row this one corrects; 0 for a new refill */
  const char *reason;      /* required for a correction */
} ThecalRefillInput;

typedef struct
{
  gint64 id;
  gint64 pump_id;
  char *pump_serial;
  gint64 supersedes;
  gboolean superseded;
  gint64 performed_utc_ms;
  gint64 expected_nl;
  gint64 aspirated_nl;
  gint64 discrepancy_nl; /* expected − aspirated */
  gboolean discrepancy_flagged;
  gint64 added_nl;
  char *drug_id;
  gint64 concentration_ng_per_ml;
  char *lot;
  char *expiry_date;
  char *performed_by;
  char *verified_by;
  char *reason;
  gint64 recorded_utc_ms;
} ThecalRefill;

ThecalRefill *thecal_refill_copy (const ThecalRefill *refill);
void thecal_refill_free (ThecalRefill *refill);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalRefill, thecal_refill_free)

/* ------------------------------------------------------------------------------------------ */
/* Pump writes: refills and boluses (schema version 2)                                          */

/* A write to a pump outside a programming session. Like a session it is recorded PENDING before
 * the first byte goes to the pump and resolved by later rows (ThecalProgrammingOutcome): an
 * UNCERTAIN or PENDING write blocks every change on its pump until a read of the pump settles it,
 * in this process or the next one (src/workflow). */
typedef enum
{
  THECAL_PUMP_WRITE_REFILL = 0, /* SET_RESERVOIR */
  THECAL_PUMP_WRITE_BOLUS,      /* START_BOLUS */
} ThecalPumpWriteKind;

const char *thecal_pump_write_kind_name (ThecalPumpWriteKind kind); /* "refill", "bolus" */
gboolean thecal_pump_write_kind_from_name (const char *name, ThecalPumpWriteKind *kind);

typedef struct
{
  const char *pump_serial;
  ThecalPumpWriteKind kind;
  const char *reason;       /* why (shown in the record): required */
  const char *request_json; /* a JSON object: what is sent, enough to settle it later (src/workflow) */
} ThecalPumpWriteInput;

typedef struct
{
  gint64 id;
  gint64 pump_id;
  char *pump_serial;
  ThecalPumpWriteKind kind;
  gint64 started_utc_ms;
  char *started_by;
  char *reason;
  char *request_json;
  /* The current (not superseded) outcome. */
  gint64 outcome_id;
  ThecalProgrammingOutcome outcome;
  char *outcome_note;
  gint64 outcome_utc_ms;
  char *outcome_by;
  gint n_outcomes;  /* rows written: 1 while pending, then one per resolution */
  gint64 refill_id; /* a confirmed refill: the refills row written with the confirmation; else 0 */
} ThecalPumpWrite;

ThecalPumpWrite *thecal_pump_write_copy (const ThecalPumpWrite *write);
void thecal_pump_write_free (ThecalPumpWrite *write);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalPumpWrite, thecal_pump_write_free)

/* ------------------------------------------------------------------------------------------ */
/* Pump events (imported idempotently by pump serial and sequence) and alarms seen             */

typedef struct
{
  gint64 sequence;     /* the pump's own, monotonically increasing */
  gint64 pump_time_ms; /* pump-local */
  const char *kind;    /* "refill", "alarm.low_reservoir", ... */
  const char *detail;  /* NULL or text (JSON) */
} ThecalPumpEventInput;

typedef struct
{
  gint64 id;
  gint64 sequence;
  gint64 pump_time_ms;
  char *kind;
  char *detail;
  gint64 imported_utc_ms;
  char *imported_by;
} ThecalPumpEvent;

void thecal_pump_event_free (ThecalPumpEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalPumpEvent, thecal_pump_event_free)

typedef struct
{
  guint inserted;   /* new */
  guint duplicates; /* already there, identical */
  guint conflicts;  /* already there with other content: kept as first imported, and audited */
} ThecalEventImport;

typedef struct
{
  gint64 id;
  char *pump_serial;
  char *kind;
  gint64 pump_time_ms; /* G_MININT64 when the pump gave no time */
  gint64 seen_utc_ms;
  char *seen_by;
} ThecalAlarmSeen;

void thecal_alarm_seen_free (ThecalAlarmSeen *alarm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalAlarmSeen, thecal_alarm_seen_free)

/* ------------------------------------------------------------------------------------------ */
/* Audit trail                                                                                  */

typedef struct
{
  gint64 seq; /* 1, 2, 3, ... without gaps */
  gint64 at_utc_ms;
  gint64 user_id; /* 0: nobody logged in (a failed login, the record itself) */
  char *user_name;
  char *action;      /* "patient.create", "login.failed", ... (docs/security.md) */
  char *object_type; /* "patient", "pump", ...; NULL if none */
  gint64 object_id;  /* 0 if none */
  gint64 patient_id; /* 0 if none */
  char *before;      /* JSON or NULL */
  char *after;       /* JSON or NULL */
  char *reason;      /* NULL if none */
  guint8 prev_hash[THECAL_AUDIT_HASH_BYTES];
  guint8 hash[THECAL_AUDIT_HASH_BYTES];
} ThecalAuditEntry;

void thecal_audit_entry_free (ThecalAuditEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalAuditEntry, thecal_audit_entry_free)

/* What one audit entry says, for a write of the workflow (refusals, exports, ...). */
typedef struct
{
  const char *action;
  const char *object_type;
  gint64 object_id;
  gint64 patient_id;
  const char *before;
  const char *after;
  const char *reason;
} ThecalAuditInput;

typedef enum
{
  THECAL_AUDIT_INTACT = 0,
  THECAL_AUDIT_ALTERED,         /* an entry's content no longer matches its hash */
  THECAL_AUDIT_REMOVED,         /* an entry is missing */
  THECAL_AUDIT_REORDERED,       /* an entry sits where another was written */
  THECAL_AUDIT_UNLINKED,        /* an intact entry does not link to the one before: one of the two was
                                 * rewritten with its hash recomputed, or entries were cut out */
  THECAL_AUDIT_ANCHOR_MISMATCH, /* the anchor given (an earlier head) is not in the chain */
  THECAL_AUDIT_UNPROTECTED,     /* the chain is intact but a trigger that protects the record was
                                 * removed (someone prepared to change it behind Thecal's back) */
} ThecalAuditProblem;

const char *thecal_audit_problem_name (ThecalAuditProblem problem);

typedef struct
{
  ThecalAuditProblem problem;
  gint64 n_entries;
  gint64 head_seq;
  guint8 head_hash[THECAL_AUDIT_HASH_BYTES];
  gint64 bad_seq;          /* the first entry altered, removed or reordered; 0 when intact */
  gint64 written_as_seq;   /* REORDERED: the position the entry at bad_seq was written at */
  gint64 clock_steps_back; /* entries whose time is before the previous entry's (a warning) */
  char *missing_trigger;   /* UNPROTECTED: the first protection found missing */
  char *message;           /* one sentence for people */
} ThecalAuditVerification;

void thecal_audit_verification_free (ThecalAuditVerification *verification);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalAuditVerification, thecal_audit_verification_free)

/* Lower-case hexadecimal of a hash (65 bytes with the NUL). */
char *thecal_audit_hash_to_hex (const guint8 hash[THECAL_AUDIT_HASH_BYTES]);
gboolean thecal_audit_hash_from_hex (const char *hex, guint8 hash[THECAL_AUDIT_HASH_BYTES]);

/* ------------------------------------------------------------------------------------------ */
/* A patient's whole record (history, export)                                                   */

typedef struct
{
  ThecalPatient *patient;      /* the current version */
  GPtrArray *patient_versions; /* ThecalPatient, oldest first */
  GPtrArray *pumps;            /* ThecalPump: every version of every pump, oldest first */
  GPtrArray *prescriptions;    /* ThecalRecordedPrescription, by pump then version */
  GPtrArray *sessions;         /* ThecalProgrammingSession, oldest first */
  GPtrArray *refills;          /* ThecalRefill, oldest first */
  GPtrArray *events;           /* ThecalPumpEvent, by pump then sequence */
  GPtrArray *event_serials;    /* char *: the pump serial of each event (same index) */
  GPtrArray *alarms;           /* ThecalAlarmSeen, oldest first */
} ThecalPatientRecord;

void thecal_patient_record_free (ThecalPatientRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalPatientRecord, thecal_patient_record_free)

G_END_DECLS
