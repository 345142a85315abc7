/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-history-entry.c: see thecal-history-entry.h.
 */
#include "config.h"

#include "thecal-history-entry.h"

#include <cJSON.h>
#include <glib/gi18n.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-engine.h"
#include "thecal-format.h"
#include "thecal-prescription.h"

struct _ThecalHistoryEntry
{
  GObject parent_instance;

  ThecalHistoryKind kind;
  gint64 time_ms;
  gint64 recorded_ms;
  guint order; /* the order built, for equal times */
  char *time_text;
  char *who;
  char *summary;
  char *detail;
  char *haystack; /* folded text the search looks in */
};

G_DEFINE_FINAL_TYPE (ThecalHistoryEntry, thecal_history_entry, G_TYPE_OBJECT)

static void
thecal_history_entry_finalize (GObject *object)
{
  ThecalHistoryEntry *self = THECAL_HISTORY_ENTRY (object);

  g_free (self->time_text);
  g_free (self->who);
  g_free (self->summary);
  g_free (self->detail);
  g_free (self->haystack);
  G_OBJECT_CLASS (thecal_history_entry_parent_class)->finalize (object);
}

static void
thecal_history_entry_class_init (ThecalHistoryEntryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = thecal_history_entry_finalize;
}

static void
thecal_history_entry_init (ThecalHistoryEntry *self)
{
  (void) self;
}

const char *
thecal_history_kind_label (ThecalHistoryKind kind)
{
  switch (kind)
    {
    case THECAL_HISTORY_SESSION:
      return _ ("Session");
    case THECAL_HISTORY_PRESCRIPTION:
      return _ ("Prescription");
    case THECAL_HISTORY_REFILL:
      return _ ("Refill");
    case THECAL_HISTORY_BOLUS:
      return _ ("Bolus");
    case THECAL_HISTORY_ALARM:
      return _ ("Alarm");
    case THECAL_HISTORY_EVENT:
      return _ ("Pump event");
    case THECAL_HISTORY_RECORD:
      return _ ("Record");
    case THECAL_HISTORY_N_KINDS:
    default:
      return "";
    }
}

const char *
thecal_history_kind_name (ThecalHistoryKind kind)
{
  static const char *const names[] = { "session", "prescription", "refill", "bolus", "alarm", "event", "record" };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == THECAL_HISTORY_N_KINDS);
  return (guint) kind < THECAL_HISTORY_N_KINDS ? names[kind] : "";
}

ThecalHistoryKind
thecal_history_entry_get_kind (ThecalHistoryEntry *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), THECAL_HISTORY_EVENT);
  return self->kind;
}

gint64
thecal_history_entry_get_time_ms (ThecalHistoryEntry *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), 0);
  return self->time_ms;
}

gint64
thecal_history_entry_get_recorded_ms (ThecalHistoryEntry *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), 0);
  return self->recorded_ms;
}

const char *
thecal_history_entry_get_time_text (ThecalHistoryEntry *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), NULL);
  return self->time_text;
}

const char *
thecal_history_entry_get_who (ThecalHistoryEntry *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), NULL);
  return self->who;
}

const char *
thecal_history_entry_get_summary (ThecalHistoryEntry *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), NULL);
  return self->summary;
}

const char *
thecal_history_entry_get_detail (ThecalHistoryEntry *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), NULL);
  return self->detail;
}

static char *
fold (const char *text)
{
  g_autofree char *normal = g_utf8_normalize (text != NULL ? text : "", -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normal != NULL ? normal : "", -1);
}

gboolean
thecal_history_entry_matches (ThecalHistoryEntry *self, guint kind_mask, const char *search)
{
  g_autofree char *needle = NULL;

  g_return_val_if_fail (THECAL_IS_HISTORY_ENTRY (self), FALSE);
  if ((kind_mask & (1u << self->kind)) == 0)
    return FALSE;
  if (search == NULL || search[0] == '\0')
    return TRUE;
  needle = fold (search);
  return strstr (self->haystack, needle) != NULL;
}

/* ---- building ------------------------------------------------------------------------------ */

/* Formats a quantity into a string owned by @strings (freed with the build). */
static const char *
q (GPtrArray *strings, ThecalQuantityKind kind, gint64 value)
{
  char *text = thecal_format_quantity (kind, value);

  g_ptr_array_add (strings, text);
  return text;
}

static void
add_entry (GPtrArray *entries,
           ThecalHistoryKind kind,
           gint64 time_ms,
           gint64 recorded_ms,
           const char *who,
           char *summary /* owned */,
           char *detail /* owned, may be NULL */)
{
  ThecalHistoryEntry *entry = g_object_new (THECAL_TYPE_HISTORY_ENTRY, NULL);
  g_autofree char *all = NULL;

  entry->kind = kind;
  entry->time_ms = time_ms;
  entry->recorded_ms = recorded_ms;
  entry->order = entries->len;
  entry->time_text = thecal_format_instant (time_ms);
  entry->who = g_strdup (who != NULL ? who : "");
  entry->summary = summary;
  entry->detail = detail != NULL ? detail : g_strdup ("");
  all = g_strjoin ("\n", thecal_history_kind_label (kind), entry->who, entry->summary, entry->detail, NULL);
  entry->haystack = fold (all);
  g_ptr_array_add (entries, entry);
}

char *
thecal_history_prescription_summary (const char *json, const ThecalDrugLibrary *library)
{
  ThecalPrescription rx;
  ThecalDoseError dose_error = { 0 };

  if (json == NULL || !thecal_prescription_load_json (json, strlen (json), &rx, &dose_error))
    return NULL;
  return thecal_history_rx_summary (&rx, library);
}

char *
thecal_history_rx_summary (const ThecalPrescription *prescription, const ThecalDrugLibrary *library)
{
  const ThecalPrescription rx = *prescription;
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  GString *text;

  text = g_string_new (NULL);
  g_string_append_printf (text, "%s %s, %s", thecal_format_drug (library, rx.drug_id),
                          q (strings, THECAL_QUANTITY_CONCENTRATION, rx.concentration_ng_per_ml), thecal_format_mode (rx.mode));
  if (rx.mode == THECAL_MODE_CONTINUOUS)
    g_string_append_printf (text, " %s",
                            rx.continuous.basis == THECAL_BASIS_DOSE ? q (strings, THECAL_QUANTITY_DOSE_RATE, rx.continuous.dose_ng_per_day)
                                                                     : q (strings, THECAL_QUANTITY_VOLUME_RATE, rx.continuous.rate_nl_per_day));
  else if (rx.mode == THECAL_MODE_FLEX)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, ", %d step", ", %d steps", (gulong) rx.n_flex_steps), (int) rx.n_flex_steps);
  if (rx.n_periodic_boluses > 0)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, ", %d periodic bolus", ", %d periodic boluses", (gulong) rx.n_periodic_boluses),
                            (int) rx.n_periodic_boluses);
  if (rx.ptm.enabled)
    g_string_append (text, _ (", PTM"));
  return g_string_free (text, FALSE);
}

static const char *
outcome_label (ThecalProgrammingOutcome outcome)
{
  switch (outcome)
    {
    case THECAL_OUTCOME_PENDING:
      return _ ("PENDING");
    case THECAL_OUTCOME_CONFIRMED:
      return _ ("confirmed");
    case THECAL_OUTCOME_FAILED:
      return _ ("FAILED");
    case THECAL_OUTCOME_UNCERTAIN:
      return _ ("UNCERTAIN");
    default:
      return "";
    }
}

static void
add_sessions (GPtrArray *entries, const ThecalPatientRecord *record)
{
  for (guint i = 0; i < record->sessions->len; i++)
    {
      const ThecalProgrammingSession *s = record->sessions->pdata[i];
      GString *changes = g_string_new (NULL);
      GString *detail = g_string_new (NULL);

      for (guint c = 0; c < s->changes->len; c++)
        {
          const ThecalProgrammingChange *change = s->changes->pdata[c];

          if (changes->len > 0)
            g_string_append (changes, "; ");
          g_string_append_printf (changes, "%s %s → %s", change->field, change->old_value != NULL ? change->old_value : "—",
                                  change->new_value != NULL ? change->new_value : "—");
          if (change->override_reason != NULL)
            g_string_append_printf (detail, _ ("Soft limit overridden for %s: %s\n"), change->field, change->override_reason);
        }
      g_string_prepend (detail, "\n");
      g_string_prepend (detail, s->reason);
      g_string_prepend (detail, _ ("Reason: "));
      if (s->outcome != THECAL_OUTCOME_PENDING)
        {
          g_autofree char *when = thecal_format_instant (s->outcome_utc_ms);

          g_string_append_printf (detail, _ ("Outcome %s at %s by %s"), outcome_label (s->outcome), when, s->outcome_by);
          if (s->outcome_note != NULL && s->outcome_note[0] != '\0')
            g_string_append_printf (detail, ": %s", s->outcome_note);
        }
      add_entry (entries, THECAL_HISTORY_SESSION, s->started_utc_ms, s->started_utc_ms, s->started_by,
                 g_strdup_printf (_ ("Pump %s programmed, %s: %s"), s->pump_serial, outcome_label (s->outcome),
                                  changes->len > 0 ? changes->str : _ ("no field changed")),
                 g_string_free (detail, FALSE));
      g_string_free (changes, TRUE);
    }
}

static void
add_prescriptions (GPtrArray *entries, const ThecalPatientRecord *record, const ThecalDrugLibrary *library)
{
  for (guint i = 0; i < record->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *r = record->prescriptions->pdata[i];
      const ThecalRecordedPrescription *before = NULL;
      g_autofree char *now = thecal_history_prescription_summary (r->json, library);
      g_autofree char *old = NULL;
      char *detail;

      /* the version this one followed: the latest earlier one of the same pump that took effect */
      for (guint j = 0; j < i; j++)
        {
          const ThecalRecordedPrescription *o = record->prescriptions->pdata[j];

          if (g_strcmp0 (o->pump_serial, r->pump_serial) == 0 && !o->superseded && o->version < r->version)
            before = o;
        }
      if (before != NULL)
        old = thecal_history_prescription_summary (before->json, library);
      detail = g_strdup_printf (_ ("Version %d of pump %s (%s)%s%s%s"), r->version, r->pump_serial, thecal_prescription_source_name (r->source),
                                r->superseded ? _ (", later corrected") : "", r->reason != NULL ? _ ("; reason: ") : "",
                                r->reason != NULL ? r->reason : "");
      add_entry (entries, THECAL_HISTORY_PRESCRIPTION, r->effective_from_utc_ms, r->recorded_utc_ms, r->recorded_by,
                 before != NULL ? g_strdup_printf ("%s → %s", old != NULL ? old : _ ("(unreadable)"), now != NULL ? now : _ ("(unreadable)"))
                                : g_strdup_printf (_ ("First recorded: %s"), now != NULL ? now : _ ("(unreadable)")),
                 detail);
    }
}

static void
add_refills (GPtrArray *entries, const ThecalPatientRecord *record, const ThecalDrugLibrary *library)
{
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < record->refills->len; i++)
    {
      const ThecalRefill *r = record->refills->pdata[i];

      add_entry (entries, THECAL_HISTORY_REFILL, r->performed_utc_ms, r->recorded_utc_ms, r->performed_by,
                 g_strdup_printf (_ ("%s of %s %s added; %s aspirated of %s expected%s; verified by %s"),
                                  q (strings, THECAL_QUANTITY_VOLUME, r->added_nl), thecal_format_drug (library, r->drug_id),
                                  q (strings, THECAL_QUANTITY_CONCENTRATION, r->concentration_ng_per_ml),
                                  q (strings, THECAL_QUANTITY_VOLUME, r->aspirated_nl), q (strings, THECAL_QUANTITY_VOLUME, r->expected_nl),
                                  r->discrepancy_flagged ? _ (" (discrepancy flagged)") : "", r->verified_by),
                 g_strdup_printf (_ ("Pump %s%s; lot %s, expires %s; discrepancy %s%s%s"), r->pump_serial,
                                  r->supersedes != 0 ? _ (" (a correction)") : "", r->lot, r->expiry_date,
                                  q (strings, THECAL_QUANTITY_VOLUME, r->discrepancy_nl), r->reason != NULL ? _ ("; reason: ") : "",
                                  r->reason != NULL ? r->reason : ""));
    }
}

static const char *
source_label (gint64 source)
{
  switch (source)
    {
    case THECAL_SOURCE_BASAL:
      return _ ("Basal delivery");
    case THECAL_SOURCE_PERIODIC:
      return _ ("Periodic bolus");
    case THECAL_SOURCE_PTM:
      return _ ("Patient (PTM) bolus");
    case THECAL_SOURCE_CLINICIAN:
      return _ ("Clinician bolus");
    case THECAL_SOURCE_PRIMING:
      return _ ("Priming bolus");
    case THECAL_SOURCE_BRIDGE:
      return _ ("Bridge bolus");
    default:
      return _ ("Bolus");
    }
}

static const char *
ptm_refusal_label (gint64 code)
{
  switch (code)
    {
    case THECAL_PTM_REFUSED_DISABLED:
      return _ ("PTM is not enabled");
    case THECAL_PTM_REFUSED_LOCKOUT:
      return _ ("the lockout interval had not passed");
    case THECAL_PTM_REFUSED_DAILY_MAX:
      return _ ("the maximum per 24 h was reached");
    case THECAL_PTM_REFUSED_RESERVOIR_EMPTY:
      return _ ("the reservoir was empty");
    case THECAL_PTM_REFUSED_NOT_DELIVERING:
      return _ ("the pump was not delivering");
    case THECAL_PTM_REFUSED_BOLUS_IN_PROGRESS:
      return _ ("another bolus was running");
    default:
      return _ ("refused by the pump");
    }
}

static const char *
alarm_label (gint64 code)
{
  return thecal_format_alarm_name (code >= 0 && code < THECAL_PROTO_ALARM_N_KINDS ? (ThecalProtoAlarm) code : THECAL_PROTO_ALARM_N_KINDS);
}

/* One imported pump event: its kind and a summary from its logged code and arguments
 * (thecal-engine.h ThecalEngineEventType). */
static void
add_event (GPtrArray *entries, const ThecalPumpEvent *e, const char *serial, GPtrArray *strings)
{
  g_autofree char *who = g_strdup_printf (_ ("pump %s"), serial);
  g_autofree char *detail = NULL;
  ThecalHistoryKind kind = THECAL_HISTORY_EVENT;
  char *summary = NULL;
  int type = -1;
  gint64 code = 0, a[3] = { 0, 0, 0 };
  gboolean parsed = e->detail != NULL
                    && sscanf (e->detail, "{\"type\":%d,\"code\":%" SCNd64 ",\"args\":[%" SCNd64 ",%" SCNd64 ",%" SCNd64 "]}", &type, &code,
                               &a[0], &a[1], &a[2])
                           == 5;

  {
    g_autofree char *imported = thecal_format_instant (e->imported_utc_ms);

    g_autofree char *sequence = g_strdup_printf ("%" G_GINT64_FORMAT, e->sequence);

    detail = g_strdup_printf (_ ("Log entry %s (%s); imported %s by %s"), sequence, e->kind, imported, e->imported_by);
  }
  if (!parsed)
    summary = g_strdup_printf (_ ("Pump event %s"), e->kind);
  else if (g_strcmp0 (e->kind, "engine_start") == 0)
    summary = g_strdup_printf (_ ("Pump started with %s in the reservoir"), q (strings, THECAL_QUANTITY_VOLUME, a[0]));
  else if (g_strcmp0 (e->kind, "prescription_set") == 0)
    {
      gint64 rate = 0, dose = 0;
      ThecalDoseError dose_error = { 0 };

      /* the rate the pump reported (basal + periodic, nL/day) at its concentration: exact, by
       * the dose core */
      if (!__builtin_add_overflow (a[0], a[1], &rate) && thecal_dose_for_rate (NULL, a[2], rate, NULL, &dose, &dose_error))
        summary = g_strdup_printf (_ ("Pump prescription set: %s, %s (%s at %s)"),
                                   thecal_format_mode (code >= 0 && code < THECAL_MODE_N_MODES ? (ThecalMode) code : THECAL_MODE_N_MODES),
                                   q (strings, THECAL_QUANTITY_DOSE_RATE, dose), q (strings, THECAL_QUANTITY_VOLUME_RATE, rate),
                                   q (strings, THECAL_QUANTITY_CONCENTRATION, a[2]));
      else
        summary = g_strdup_printf (_ ("Pump prescription set: %s"),
                                   thecal_format_mode (code >= 0 && code < THECAL_MODE_N_MODES ? (ThecalMode) code : THECAL_MODE_N_MODES));
    }
  else if (g_strcmp0 (e->kind, "bolus_start") == 0)
    summary = g_strdup_printf (_ ("%s started: %s planned"), source_label (code), q (strings, THECAL_QUANTITY_VOLUME, a[0]));
  else if (g_strcmp0 (e->kind, "bolus_end") == 0)
    {
      if (code != THECAL_SOURCE_PERIODIC && code != THECAL_SOURCE_BASAL)
        kind = THECAL_HISTORY_BOLUS;
      summary = g_strdup_printf (a[2] != 0 ? _ ("%s: %s delivered of %s planned") : _ ("%s stopped: %s delivered of %s planned"),
                                 source_label (code), q (strings, THECAL_QUANTITY_VOLUME, a[0]), q (strings, THECAL_QUANTITY_VOLUME, a[1]));
    }
  else if (g_strcmp0 (e->kind, "ptm_granted") == 0)
    {
      kind = THECAL_HISTORY_BOLUS;
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, a[1]);

      summary = g_strdup_printf (_ ("Patient (PTM) bolus granted: %s (%s in 24 h)"), q (strings, THECAL_QUANTITY_VOLUME, a[0]), count);
    }
  else if (g_strcmp0 (e->kind, "ptm_refused") == 0)
    {
      kind = THECAL_HISTORY_BOLUS;
      summary = g_strdup_printf (_ ("Patient (PTM) bolus refused: %s"), ptm_refusal_label (code));
    }
  else if (g_strcmp0 (e->kind, "alarm_raised") == 0)
    {
      kind = THECAL_HISTORY_ALARM;
      summary = g_strdup_printf (_ ("%s alarm raised (reservoir estimate %s)"), alarm_label (code), q (strings, THECAL_QUANTITY_VOLUME, a[0]));
    }
  else if (g_strcmp0 (e->kind, "alarm_cleared") == 0)
    {
      kind = THECAL_HISTORY_ALARM;
      summary = g_strdup_printf (_ ("%s alarm cleared"), alarm_label (code));
    }
  else if (g_strcmp0 (e->kind, "alarm_acknowledged") == 0)
    {
      kind = THECAL_HISTORY_ALARM;
      summary = g_strdup_printf (_ ("%s alarm acknowledged at the pump"), alarm_label (code));
    }
  else if (g_strcmp0 (e->kind, "reservoir_set") == 0)
    summary = g_strdup_printf (_ ("Reservoir set to %s at %s"), q (strings, THECAL_QUANTITY_VOLUME, a[0]),
                               q (strings, THECAL_QUANTITY_CONCENTRATION, a[1]));
  else if (g_strcmp0 (e->kind, "clock_set") == 0)
    {
      g_autofree char *old_time = thecal_format_instant (a[0]);
      g_autofree char *new_time = thecal_format_instant (a[1]);

      summary = g_strdup_printf (_ ("Pump clock set: %s → %s"), old_time, new_time);
    }
  else if (g_strcmp0 (e->kind, "fault_injected") == 0)
    summary = g_strdup_printf (_ ("Simulated fault: %s"), thecal_fault_kind_name ((ThecalFaultKind) code));
  else if (g_strcmp0 (e->kind, "motor_restarted") == 0)
    summary = g_strdup (_ ("Motor restarted after a transient stall"));
  else
    summary = g_strdup_printf (_ ("Pump event %s"), e->kind);
  add_entry (entries, kind, e->pump_time_ms, e->imported_utc_ms, who, summary, g_steal_pointer (&detail));
}

static void
add_alarms_seen (GPtrArray *entries, const ThecalPatientRecord *record)
{
  for (guint i = 0; i < record->alarms->len; i++)
    {
      const ThecalAlarmSeen *a = record->alarms->pdata[i];
      ThecalAlarmKind kind;
      const char *name = thecal_alarm_kind_from_name (a->kind, &kind) ? alarm_label (kind) : a->kind;
      g_autofree char *pump_time = a->pump_time_ms != G_MININT64 ? thecal_format_instant (a->pump_time_ms) : NULL;

      add_entry (entries, THECAL_HISTORY_ALARM, a->seen_utc_ms, a->seen_utc_ms, a->seen_by,
                 g_strdup_printf (_ ("%s alarm seen and acknowledged on pump %s"), name, a->pump_serial),
                 pump_time != NULL ? g_strdup_printf (_ ("The pump's time of the alarm: %s"), pump_time) : NULL);
    }
}

/* The "summary" a bolus write's request carries (thecal-workflow-bolus.c), or NULL. */
static char *
request_summary (const char *request_json)
{
  cJSON *object = request_json != NULL ? cJSON_Parse (request_json) : NULL;
  const cJSON *summary = cJSON_GetObjectItemCaseSensitive (object, "summary");
  char *text = cJSON_IsString (summary) && summary->valuestring[0] != '\0' ? g_strdup (summary->valuestring) : NULL;

  cJSON_Delete (object);
  return text;
}

char *
thecal_history_write_summary (const ThecalPumpWrite *w)
{
  g_autofree char *summary = NULL;

  g_return_val_if_fail (w != NULL, NULL);
  if (w->kind == THECAL_PUMP_WRITE_REFILL && w->outcome == THECAL_OUTCOME_CONFIRMED)
    return NULL; /* the refill's own entry */
  if (w->kind == THECAL_PUMP_WRITE_BOLUS)
    {
      summary = request_summary (w->request_json);
      return g_strdup_printf (_ ("Bolus on pump %s, %s: %s"), w->pump_serial, outcome_label (w->outcome),
                              summary != NULL ? summary : _ ("(no description)"));
    }
  return g_strdup_printf (w->outcome == THECAL_OUTCOME_FAILED ? _ ("Refill of pump %s not done: %s") : _ ("Refill of pump %s not confirmed: %s"),
                          w->pump_serial, outcome_label (w->outcome));
}

static void
add_writes (GPtrArray *entries, const GPtrArray *writes)
{
  for (guint i = 0; writes != NULL && i < writes->len; i++)
    {
      const ThecalPumpWrite *w = writes->pdata[i];
      char *summary = thecal_history_write_summary (w);
      GString *detail;

      if (summary == NULL)
        continue;
      detail = g_string_new (NULL);
      g_string_append_printf (detail, _ ("Reason: %s"), w->reason != NULL ? w->reason : "");
      if (w->outcome != THECAL_OUTCOME_PENDING)
        {
          g_autofree char *when = thecal_format_instant (w->outcome_utc_ms);

          g_string_append_printf (detail, _ ("\nOutcome %s at %s by %s"), outcome_label (w->outcome), when, w->outcome_by);
          if (w->outcome_note != NULL && w->outcome_note[0] != '\0')
            g_string_append_printf (detail, ": %s", w->outcome_note);
        }
      add_entry (entries, w->kind == THECAL_PUMP_WRITE_BOLUS ? THECAL_HISTORY_BOLUS : THECAL_HISTORY_REFILL, w->started_utc_ms,
                 w->started_utc_ms, w->started_by, summary, g_string_free (detail, FALSE));
    }
}

static void
add_registrations (GPtrArray *entries, const ThecalPatientRecord *record, GPtrArray *strings)
{
  for (guint i = 0; i < record->patient_versions->len; i++)
    {
      const ThecalPatient *v = record->patient_versions->pdata[i];

      add_entry (entries, THECAL_HISTORY_RECORD, v->recorded_utc_ms, v->recorded_utc_ms, v->recorded_by,
                 v->supersedes == 0 ? g_strdup_printf (_ ("Patient registered: %s, MRN %s, born %s"), v->name, v->mrn, v->date_of_birth)
                                    : g_strdup_printf (_ ("Patient details corrected: %s, born %s (%s)"), v->name, v->date_of_birth,
                                                       v->reason != NULL ? v->reason : ""),
                 NULL);
    }
  for (guint i = 0; i < record->pumps->len; i++)
    {
      const ThecalPump *p = record->pumps->pdata[i];
      char *summary;

      if (p->supersedes == 0)
        summary = g_strdup_printf (_ ("Pump %s (%s) registered, implanted %s, catheter %s"), p->serial, p->model_id, p->implant_date,
                                   q (strings, THECAL_QUANTITY_LENGTH, p->catheter_length_mm));
      else if (p->status == THECAL_PUMP_EXPLANTED)
        summary = g_strdup_printf (_ ("Pump %s explanted on %s (%s)"), p->serial, p->explant_date != NULL ? p->explant_date : "",
                                   p->reason != NULL ? p->reason : "");
      else
        summary = g_strdup_printf (_ ("Pump %s details corrected (%s)"), p->serial, p->reason != NULL ? p->reason : "");
      add_entry (entries, THECAL_HISTORY_RECORD, p->recorded_utc_ms, p->recorded_utc_ms, p->recorded_by, summary, NULL);
    }
}

/* Newest first; equal times: the one built later first (a pump's log in reverse sequence). */
static gint
compare_newest_first (gconstpointer a, gconstpointer b)
{
  const ThecalHistoryEntry *x = *(ThecalHistoryEntry *const *) a;
  const ThecalHistoryEntry *y = *(ThecalHistoryEntry *const *) b;

  if (x->time_ms != y->time_ms)
    return x->time_ms > y->time_ms ? -1 : 1;
  return x->order > y->order ? -1 : (x->order < y->order ? 1 : 0);
}

GListStore *
thecal_history_build (const ThecalPatientRecord *record, const GPtrArray *writes, const ThecalDrugLibrary *library)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  GListStore *store = g_list_store_new (THECAL_TYPE_HISTORY_ENTRY);

  g_return_val_if_fail (record != NULL, store);

  add_registrations (entries, record, strings);
  add_prescriptions (entries, record, library);
  add_sessions (entries, record);
  add_refills (entries, record, library);
  for (guint i = 0; i < record->events->len; i++)
    add_event (entries, record->events->pdata[i], record->event_serials->pdata[i], strings);
  add_alarms_seen (entries, record);
  add_writes (entries, writes);
  g_ptr_array_sort (entries, compare_newest_first);
  g_list_store_splice (store, 0, 0, entries->pdata, entries->len);
  return store;
}
