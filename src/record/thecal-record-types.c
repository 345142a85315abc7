/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-types.c: names, copies and frees of what the record hands back.
 */
#include "config.h"

#include <string.h>

#include "thecal-record-types.h"

typedef struct
{
  int value;
  const char *name;
} NameOf;

static const NameOf role_names[] = {
  { THECAL_ROLE_PHYSICIAN, "physician" },
  { THECAL_ROLE_NURSE, "nurse" },
  { THECAL_ROLE_ADMINISTRATOR, "administrator" },
  { THECAL_ROLE_DEMO, "demo" },
};
static const NameOf tolerance_names[] = {
  { THECAL_OPIOID_NAIVE, "naive" },
  { THECAL_OPIOID_TOLERANT, "tolerant" },
};
static const NameOf status_names[] = {
  { THECAL_PUMP_IMPLANTED, "implanted" },
  { THECAL_PUMP_EXPLANTED, "explanted" },
};
static const NameOf outcome_names[] = {
  { THECAL_OUTCOME_PENDING, "pending" },
  { THECAL_OUTCOME_CONFIRMED, "confirmed" },
  { THECAL_OUTCOME_FAILED, "failed" },
  { THECAL_OUTCOME_UNCERTAIN, "uncertain" },
};
static const NameOf write_kind_names[] = {
  { THECAL_PUMP_WRITE_REFILL, "refill" },
  { THECAL_PUMP_WRITE_BOLUS, "bolus" },
};
static const NameOf source_names[] = {
  { THECAL_RX_SOURCE_PROGRAMMED, "programmed" },
  { THECAL_RX_SOURCE_INTERROGATED, "interrogated" },
  { THECAL_RX_SOURCE_ENTERED, "entered" },
};
static const NameOf problem_names[] = {
  { THECAL_AUDIT_INTACT, "intact" },
  { THECAL_AUDIT_ALTERED, "altered" },
  { THECAL_AUDIT_REMOVED, "removed" },
  { THECAL_AUDIT_REORDERED, "reordered" },
  { THECAL_AUDIT_UNLINKED, "unlinked" },
  { THECAL_AUDIT_ANCHOR_MISMATCH, "anchor_mismatch" },
  { THECAL_AUDIT_UNPROTECTED, "unprotected" },
};

static const char *
name_of (const NameOf *table, gsize n, int value)
{
  for (gsize i = 0; i < n; i++)
    if (table[i].value == value)
      return table[i].name;
  return "?";
}

static gboolean
value_of (const NameOf *table, gsize n, const char *name, int *value)
{
  for (gsize i = 0; name != NULL && i < n; i++)
    if (g_str_equal (table[i].name, name))
      {
        *value = table[i].value;
        return TRUE;
      }
  return FALSE;
}

#define NAME_FUNCTIONS(type, prefix, table)                    \
  const char *prefix##_name (type value)                       \
  {                                                            \
    return name_of (table, G_N_ELEMENTS (table), (int) value); \
  }                                                            \
  gboolean prefix##_from_name (const char *name, type *value)  \
  {                                                            \
    int found;                                                 \
                                                               \
    if (!value_of (table, G_N_ELEMENTS (table), name, &found)) \
      return FALSE;                                            \
    *value = (type) found;                                     \
    return TRUE;                                               \
  }

NAME_FUNCTIONS (ThecalRole, thecal_role, role_names)
NAME_FUNCTIONS (ThecalOpioidTolerance, thecal_opioid_tolerance, tolerance_names)
NAME_FUNCTIONS (ThecalPumpStatus, thecal_pump_status, status_names)
NAME_FUNCTIONS (ThecalProgrammingOutcome, thecal_programming_outcome, outcome_names)
NAME_FUNCTIONS (ThecalPrescriptionSource, thecal_prescription_source, source_names)
NAME_FUNCTIONS (ThecalPumpWriteKind, thecal_pump_write_kind, write_kind_names)

const char *
thecal_audit_problem_name (ThecalAuditProblem problem)
{
  return name_of (problem_names, G_N_ELEMENTS (problem_names), (int) problem);
}

ThecalUser *
thecal_user_copy (const ThecalUser *user)
{
  ThecalUser *copy = g_memdup2 (user, sizeof *user);

  copy->name = g_strdup (user->name);
  copy->full_name = g_strdup (user->full_name);
  return copy;
}

void
thecal_user_free (ThecalUser *user)
{
  if (user == NULL)
    return;
  g_free (user->name);
  g_free (user->full_name);
  g_free (user);
}

ThecalPatient *
thecal_patient_copy (const ThecalPatient *patient)
{
  ThecalPatient *copy = g_memdup2 (patient, sizeof *patient);

  copy->mrn = g_strdup (patient->mrn);
  copy->name = g_strdup (patient->name);
  copy->date_of_birth = g_strdup (patient->date_of_birth);
  copy->notes = g_strdup (patient->notes);
  copy->reason = g_strdup (patient->reason);
  copy->recorded_by = g_strdup (patient->recorded_by);
  return copy;
}

void
thecal_patient_free (ThecalPatient *patient)
{
  if (patient == NULL)
    return;
  g_free (patient->mrn);
  g_free (patient->name);
  g_free (patient->date_of_birth);
  g_free (patient->notes);
  g_free (patient->reason);
  g_free (patient->recorded_by);
  g_free (patient);
}

ThecalPump *
thecal_pump_copy (const ThecalPump *pump)
{
  ThecalPump *copy = g_memdup2 (pump, sizeof *pump);

  copy->serial = g_strdup (pump->serial);
  copy->model_id = g_strdup (pump->model_id);
  copy->patient_mrn = g_strdup (pump->patient_mrn);
  copy->implant_date = g_strdup (pump->implant_date);
  copy->explant_date = g_strdup (pump->explant_date);
  copy->reason = g_strdup (pump->reason);
  copy->recorded_by = g_strdup (pump->recorded_by);
  return copy;
}

void
thecal_pump_free (ThecalPump *pump)
{
  if (pump == NULL)
    return;
  g_free (pump->serial);
  g_free (pump->model_id);
  g_free (pump->patient_mrn);
  g_free (pump->implant_date);
  g_free (pump->explant_date);
  g_free (pump->reason);
  g_free (pump->recorded_by);
  g_free (pump);
}

ThecalRecordedPrescription *
thecal_recorded_prescription_copy (const ThecalRecordedPrescription *rx)
{
  ThecalRecordedPrescription *copy = g_memdup2 (rx, sizeof *rx);

  copy->pump_serial = g_strdup (rx->pump_serial);
  copy->json = g_strdup (rx->json);
  copy->reason = g_strdup (rx->reason);
  copy->recorded_by = g_strdup (rx->recorded_by);
  return copy;
}

void
thecal_recorded_prescription_free (ThecalRecordedPrescription *rx)
{
  if (rx == NULL)
    return;
  g_free (rx->pump_serial);
  g_free (rx->json);
  g_free (rx->reason);
  g_free (rx->recorded_by);
  g_free (rx);
}

void
thecal_programming_change_free (ThecalProgrammingChange *change)
{
  if (change == NULL)
    return;
  g_free (change->field);
  g_free (change->old_value);
  g_free (change->new_value);
  g_free (change->override_reason);
  g_free (change);
}

void
thecal_programming_session_free (ThecalProgrammingSession *session)
{
  if (session == NULL)
    return;
  g_free (session->pump_serial);
  g_free (session->started_by);
  g_free (session->reason);
  g_free (session->new_prescription_json);
  g_clear_pointer (&session->changes, g_ptr_array_unref);
  g_free (session->outcome_note);
  g_free (session->outcome_by);
  g_free (session);
}

ThecalPumpWrite *
thecal_pump_write_copy (const ThecalPumpWrite *write)
{
  ThecalPumpWrite *copy = g_memdup2 (write, sizeof *write);

  copy->pump_serial = g_strdup (write->pump_serial);
  copy->started_by = g_strdup (write->started_by);
  copy->reason = g_strdup (write->reason);
  copy->request_json = g_strdup (write->request_json);
  copy->outcome_note = g_strdup (write->outcome_note);
  copy->outcome_by = g_strdup (write->outcome_by);
  return copy;
}

void
thecal_pump_write_free (ThecalPumpWrite *write)
{
  if (write == NULL)
    return;
  g_free (write->pump_serial);
  g_free (write->started_by);
  g_free (write->reason);
  g_free (write->request_json);
  g_free (write->outcome_note);
  g_free (write->outcome_by);
  g_free (write);
}

ThecalRefill *
thecal_refill_copy (const ThecalRefill *refill)
{
  ThecalRefill *copy = g_memdup2 (refill, sizeof *refill);

  copy->pump_serial = g_strdup (refill->pump_serial);
  copy->drug_id = g_strdup (refill->drug_id);
  copy->lot = g_strdup (refill->lot);
  copy->expiry_date = g_strdup (refill->expiry_date);
  copy->performed_by = g_strdup (refill->performed_by);
  copy->verified_by = g_strdup (refill->verified_by);
  copy->reason = g_strdup (refill->reason);
  return copy;
}

void
thecal_refill_free (ThecalRefill *refill)
{
  if (refill == NULL)
    return;
  g_free (refill->pump_serial);
  g_free (refill->drug_id);
  g_free (refill->lot);
  g_free (refill->expiry_date);
  g_free (refill->performed_by);
  g_free (refill->verified_by);
  g_free (refill->reason);
  g_free (refill);
}

void
thecal_pump_event_free (ThecalPumpEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->kind);
  g_free (event->detail);
  g_free (event->imported_by);
  g_free (event);
}

void
thecal_alarm_seen_free (ThecalAlarmSeen *alarm)
{
  if (alarm == NULL)
    return;
  g_free (alarm->pump_serial);
  g_free (alarm->kind);
  g_free (alarm->seen_by);
  g_free (alarm);
}

void
thecal_audit_entry_free (ThecalAuditEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->user_name);
  g_free (entry->action);
  g_free (entry->object_type);
  g_free (entry->before);
  g_free (entry->after);
  g_free (entry->reason);
  g_free (entry);
}

void
thecal_audit_verification_free (ThecalAuditVerification *verification)
{
  if (verification == NULL)
    return;
  g_free (verification->message);
  g_free (verification->missing_trigger);
  g_free (verification);
}

char *
thecal_audit_hash_to_hex (const guint8 hash[THECAL_AUDIT_HASH_BYTES])
{
  static const char digits[] = "0123456789abcdef";
  char *hex = g_malloc (THECAL_AUDIT_HASH_BYTES * 2 + 1);

  for (gsize i = 0; i < THECAL_AUDIT_HASH_BYTES; i++)
    {
      hex[2 * i] = digits[hash[i] >> 4];
      hex[2 * i + 1] = digits[hash[i] & 0x0f];
    }
  hex[THECAL_AUDIT_HASH_BYTES * 2] = '\0';
  return hex;
}

gboolean
thecal_audit_hash_from_hex (const char *hex, guint8 hash[THECAL_AUDIT_HASH_BYTES])
{
  if (hex == NULL || strlen (hex) != THECAL_AUDIT_HASH_BYTES * 2)
    return FALSE;
  for (gsize i = 0; i < THECAL_AUDIT_HASH_BYTES; i++)
    {
      int high = g_ascii_xdigit_value (hex[2 * i]);
      int low = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (high < 0 || low < 0)
        return FALSE;
      hash[i] = (guint8) (high << 4 | low);
    }
  return TRUE;
}

void
thecal_patient_record_free (ThecalPatientRecord *record)
{
  if (record == NULL)
    return;
  thecal_patient_free (record->patient);
  g_clear_pointer (&record->patient_versions, g_ptr_array_unref);
  g_clear_pointer (&record->pumps, g_ptr_array_unref);
  g_clear_pointer (&record->prescriptions, g_ptr_array_unref);
  g_clear_pointer (&record->sessions, g_ptr_array_unref);
  g_clear_pointer (&record->refills, g_ptr_array_unref);
  g_clear_pointer (&record->events, g_ptr_array_unref);
  g_clear_pointer (&record->event_serials, g_ptr_array_unref);
  g_clear_pointer (&record->alarms, g_ptr_array_unref);
  g_free (record);
}
