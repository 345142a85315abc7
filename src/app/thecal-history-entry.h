/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-history-entry.h: one line of a patient's history (docs/gui.md "History"): when, what
 * kind, who, a one-line summary and the details, built from what the record holds for the patient
 * (ThecalPatientRecord, read through ThecalRecordSession [history.read]). Quantities are formatted
 * by src/dose (ISMP); drugs by the library's display name (tall-man letters).
 *
 * Threads: an entry is a plain immutable GObject; thecal_history_build runs on any thread (the
 * history window builds on a worker thread) and reads only its arguments.
 */
#pragma once

#include <gio/gio.h>

#include "thecal-drug.h"
#include "thecal-prescription.h"
#include "thecal-record-types.h"

G_BEGIN_DECLS

typedef enum
{
  THECAL_HISTORY_SESSION = 0,  /* a programming session: who changed what, and its outcome */
  THECAL_HISTORY_PRESCRIPTION, /* a prescription version: old → new */
  THECAL_HISTORY_REFILL,       /* a refill: volumes, drug, verifier */
  THECAL_HISTORY_BOLUS,        /* a bolus the pump logged (clinician, priming, bridge, PTM) */
  THECAL_HISTORY_ALARM,        /* an alarm the pump logged, or one acknowledged at a visit */
  THECAL_HISTORY_EVENT,        /* any other imported pump event */
  THECAL_HISTORY_RECORD,       /* the patient's and the pump's details (registration, corrections) */
  THECAL_HISTORY_N_KINDS,
} ThecalHistoryKind;

#define THECAL_HISTORY_ALL_KINDS ((1u << THECAL_HISTORY_N_KINDS) - 1)

/* "Session", "Prescription" ... (translated). */
const char *thecal_history_kind_label (ThecalHistoryKind kind);
/* "session", "prescription" ... (stable names, for tests and CSS). */
const char *thecal_history_kind_name (ThecalHistoryKind kind);

#define THECAL_TYPE_HISTORY_ENTRY (thecal_history_entry_get_type ())
G_DECLARE_FINAL_TYPE (ThecalHistoryEntry, thecal_history_entry, THECAL, HISTORY_ENTRY, GObject)

ThecalHistoryKind thecal_history_entry_get_kind (ThecalHistoryEntry *self);
/* When it happened: the record's clock for what Thecal wrote (sessions, refills performed,
 * prescriptions effective, alarms acknowledged, registrations), the pump's clock for its events
 * (pump-local ms, as everywhere in the app). */
gint64 thecal_history_entry_get_time_ms (ThecalHistoryEntry *self);
/* When the record wrote it (the record's clock): what a report of "today" selects on. */
gint64 thecal_history_entry_get_recorded_ms (ThecalHistoryEntry *self);
const char *thecal_history_entry_get_time_text (ThecalHistoryEntry *self); /* "2026-01-05 09:00" */
const char *thecal_history_entry_get_who (ThecalHistoryEntry *self);       /* a user name, or "pump TR20-000124" */
const char *thecal_history_entry_get_summary (ThecalHistoryEntry *self);   /* one line */
const char *thecal_history_entry_get_detail (ThecalHistoryEntry *self);    /* "" or more lines */

/* Whether @self is of a kind in @kind_mask (bit 1 << kind) and, when @search is not empty, holds
 * it (case-insensitive) in its summary, details, who or kind. */
gboolean thecal_history_entry_matches (ThecalHistoryEntry *self, guint kind_mask, const char *search);

/* "MORphine 25 mg/mL, Continuous 5 mg/day" from a prescription's canonical JSON; NULL when it
 * cannot be read. */
char *thecal_history_prescription_summary (const char *json, const ThecalDrugLibrary *library);

/* The same from a prescription. */
char *thecal_history_rx_summary (const ThecalPrescription *rx, const ThecalDrugLibrary *library);

/* The summary of a pump write's entry ("Bolus on pump …, confirmed: …", "Refill of pump … not
 * done: FAILED"); NULL for a refill write that ended CONFIRMED (no entry of its own). */
char *thecal_history_write_summary (const ThecalPumpWrite *write);

/* Every entry of @record and of @writes (ThecalPumpWrite of the patient's pumps, from
 * thecal_record_session_list_pump_writes; may be NULL), newest first (a GListStore of
 * ThecalHistoryEntry). A bolus written through Thecal is a Bolus entry (who asked for what, and
 * the outcome); a refill write is an entry only when it did not end CONFIRMED (a confirmed one is
 * the refill's own entry). Runs on any thread: it reads only its arguments. */
GListStore *thecal_history_build (const ThecalPatientRecord *record, const GPtrArray *writes, const ThecalDrugLibrary *library);

G_END_DECLS
