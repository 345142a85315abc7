/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-visit-private.h: what the workflows outside thecal-visit.c (thecal-workflow-*.c) need
 * of a visit's state. Not for the GUI or the CLI.
 */
#pragma once

#include <cjson/cJSON.h>

#include "thecal-visit.h"

G_BEGIN_DECLS

/* Marks the visit busy (one workflow at a time): FALSE with BUSY or NOT_CONNECTED. */
gboolean thecal_visit_step_begin (ThecalVisit *self, GError **error);
void thecal_visit_step_end (ThecalVisit *self);

/* The writes to the connected pump outside programming sessions (a refill's SET_RESERVOIR, a
 * START_BOLUS) that the record holds PENDING or UNCERTAIN (thecal_record_begin_pump_write_async):
 * each blocks every change (thecal_visit_is_blocked) until a read of the pump settles it, in this
 * visit or in a later one (a new process reads them from the record at connect and settles them
 * first). The workflows keep this list up to date with every write they begin or resolve. */
/* @write unresolved: kept (replacing the one with its id); resolved: dropped. */
void thecal_visit_track_write (ThecalVisit *self, const ThecalPumpWrite *write);
/* The oldest unresolved write of @kind, or NULL. */
const ThecalPumpWrite *thecal_visit_get_unresolved_write (ThecalVisit *self, ThecalPumpWriteKind kind);
/* Any unresolved write (the oldest), or NULL. */
const ThecalPumpWrite *thecal_visit_get_any_unresolved_write (ThecalVisit *self);

/* Settle @write (of the connected pump, left PENDING or UNCERTAIN) by reading the pump, with the
 * rules of thecal_visit_settle_refill_async and thecal_visit_settle_bolus_async (the same code:
 * the request is read back from @write's JSON). @nested: part of a step that is already running
 * (connect, reconcile), which keeps the visit busy. *@outcome CONFIRMED or FAILED (resolved in the
 * record and audited); FALSE with why it is still unresolved (PAUSED) or could not be recorded. */
void thecal_visit_settle_refill_write_async (ThecalVisit *self,
                                             const ThecalPumpWrite *write,
                                             gboolean nested,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
void thecal_visit_settle_bolus_write_async (ThecalVisit *self,
                                            const ThecalPumpWrite *write,
                                            gboolean nested,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
/* Either of the two. */
gboolean thecal_visit_settle_write_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error);

/* Small helpers of the request JSON of a pump write (integers as decimal strings: exact, never
 * through a binary fraction). */
gboolean thecal_visit_json_int (const cJSON *object, const char *key, gint64 *value);
const char *thecal_visit_json_text (const cJSON *object, const char *key);

/* The status a workflow read after connect replaces the one read at connect. */
void thecal_visit_update_status (ThecalVisit *self, const ThecalProtoStatus *status);
/* The active prescription a workflow confirmed outside thecal_visit_program_async (the drug
 * change's REFILL_COMMIT) replaces the one read at connect. */
void thecal_visit_update_active (ThecalVisit *self, const ThecalMsgPrescription *active);
/* A programming session written outside thecal_visit_program_async left UNCERTAIN (or with an
 * outcome the record could not store): the visit is blocked until reconcile settles it. */
void thecal_visit_block_on_session (ThecalVisit *self, gint64 session_id);

/* Proves that @key (THECAL_KEY_SIZE bytes, copied, wiped when done) is the pairing key of the
 * pump @serial before anything about it is recorded (a new implant): IDENTIFY, then a handshake
 * through the visit's link with @key offered by the visit's key function for @serial only.
 * TRUE when the pump accepted it (the link keeps the new session); FALSE with the link's error:
 * THECAL_PROTO_ERROR_WRONG_KEY when the pump is paired with another key, WRONG_PUMP when another
 * pump answered, or the wand's or the link's failure. */
void thecal_visit_prove_key_async (ThecalVisit *self,
                                   const char *serial,
                                   const guint8 *key,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean thecal_visit_prove_key_finish (ThecalVisit *self, GAsyncResult *result, GError **error);

const ThecalPatientRecord *thecal_visit_get_history (ThecalVisit *self);
gint64 thecal_visit_local_offset_ms (ThecalVisit *self);
const ThecalDrugLibrary *thecal_visit_get_library (ThecalVisit *self);

/* The record's history of the pump (the last recorded fill, the prescriptions since, the logged
 * boluses) through thecal_refill_check against @measured_nl at the interrogation's pump time:
 * 1 with @check; 0 when the history is inconsistent (@dose_error); -1 when no fill of this pump
 * is recorded; -2 when there is no history or the fill lies after the interrogation. */
int thecal_visit_history_check (ThecalVisit *self, gint64 measured_nl, ThecalRefillCheck *check, ThecalDoseError *dose_error);

G_END_DECLS
