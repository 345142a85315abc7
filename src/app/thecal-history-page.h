/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-history-page.h: a patient's history (docs/gui.md "History"), a window opened from the
 * overview with or without a connected pump: everything the record holds for the patient, read
 * through ThecalRecordSession [history.read] (get_patient_record, and list_pump_writes for each of
 * the patient's pumps; a refusal is shown, not worked around), as a
 * timeline newest first (a GtkListView over a filtered GListModel of ThecalHistoryEntry) with a
 * toggle per kind and a search; the daily dose over time (ThecalDoseHistoryChart) with the
 * refills marked; and the audit chain's status (ThecalRecordSession verify_audit [audit.verify],
 * run on the record's thread). "Print Report…" and "Export PDF…" make the session report
 * (thecal-report.h) of today's visit.
 *
 * Threads: main thread only; the record answers through GTask and the entries are built on a
 * worker thread (g_task_run_in_thread).
 */
#pragma once

#include <adwaita.h>

#include "thecal-dose-history-chart.h"
#include "thecal-history-entry.h"
#include "thecal-record-session.h"
#include "thecal-report.h"
#include "thecal-visit.h"

G_BEGIN_DECLS

#define THECAL_TYPE_HISTORY_PAGE (thecal_history_page_get_type ())
G_DECLARE_FINAL_TYPE (ThecalHistoryPage, thecal_history_page, THECAL, HISTORY_PAGE, AdwWindow)

/* The history of @mrn as @session's user may see it. @visit: the connected visit of the patient
 * (its findings and alarms go into the report), or NULL. @models and @library are copied. Reading
 * starts at once. */
ThecalHistoryPage *thecal_history_page_new (ThecalRecordSession *session,
                                            const char *mrn,
                                            ThecalVisit *visit,
                                            const ThecalPumpModelSet *models,
                                            const ThecalDrugLibrary *library);

/* Reads the record again (and verifies the audit chain again). */
void thecal_history_page_reload (ThecalHistoryPage *self);
/* TRUE while the record or the audit chain is being read. */
gboolean thecal_history_page_get_loading (ThecalHistoryPage *self);
/* The message shown when the history could not be read (e.g. refused), or NULL. */
const char *thecal_history_page_get_error (ThecalHistoryPage *self);

/* The timeline as shown (filtered, newest first; ThecalHistoryEntry) and all of it. */
GListModel *thecal_history_page_get_shown (ThecalHistoryPage *self);
GListModel *thecal_history_page_get_all (ThecalHistoryPage *self);
/* The kind's toggle, as a person would press it. */
void thecal_history_page_set_kind_shown (ThecalHistoryPage *self, ThecalHistoryKind kind, gboolean shown);
/* Types @text into the search field. */
void thecal_history_page_set_search (ThecalHistoryPage *self, const char *text);

/* What a label shows: "audit", "count", "chart_note", "selected" (the selected entry whole: time,
 * kind, who, summary, details; "" without one). A new string; NULL for an unknown key. */
char *thecal_history_page_dup_text (ThecalHistoryPage *self, const char *key);
/* TRUE once the audit chain was verified (whatever it found); *@intact (may be NULL): no break. */
/* Selects the shown entry at @position (GTK_INVALID_LIST_POSITION: none); it is shown whole under
 * the list (the rows are one line each). */
void thecal_history_page_select (ThecalHistoryPage *self, guint position);
gboolean thecal_history_page_get_audit_done (ThecalHistoryPage *self, gboolean *intact);
ThecalDoseHistoryChart *thecal_history_page_get_chart (ThecalHistoryPage *self);

/* The session report of today (thecal-report.h), from what was read; NULL while loading. */
ThecalReport *thecal_history_page_build_report (ThecalHistoryPage *self);
/* What "Export PDF…" writes once a file was chosen. */
gboolean thecal_history_page_export_pdf (ThecalHistoryPage *self, const char *path, GError **error);

G_END_DECLS
