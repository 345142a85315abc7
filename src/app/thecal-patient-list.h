/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patient-list.h: the patients of the record as a GListModel of ThecalPatientItem, paged
 * through the record (never loaded whole: 100 000 patients must stay fast).
 *
 * With no search text the model pages through thecal_record_session_list_patients_async (by MRN,
 * THECAL_PATIENT_LIST_PAGE at a time): it starts with one page and fetches the next when the view
 * asks for an item near the end of what it holds. With a search text it holds the record's first
 * THECAL_PATIENT_LIST_SEARCH_MAX matches (thecal_record_session_search_patients_async);
 * "truncated" says when there may be more, so the page can ask for a narrower search.
 *
 * Threads: main thread only; the record answers on the main context.
 */
#pragma once

#include <gio/gio.h>

#include "thecal-record-session.h"

G_BEGIN_DECLS

#define THECAL_PATIENT_LIST_PAGE 100
#define THECAL_PATIENT_LIST_SEARCH_MAX 200

#define THECAL_TYPE_PATIENT_ITEM (thecal_patient_item_get_type ())
G_DECLARE_FINAL_TYPE (ThecalPatientItem, thecal_patient_item, THECAL, PATIENT_ITEM, GObject)

const ThecalPatient *thecal_patient_item_get_patient (ThecalPatientItem *self);
const char *thecal_patient_item_get_mrn (ThecalPatientItem *self);
/* The pump's status at a glance where known (demo mode: the demo pump's summary), or NULL. */
const char *thecal_patient_item_get_status (ThecalPatientItem *self);

#define THECAL_TYPE_PATIENT_LIST (thecal_patient_list_get_type ())
G_DECLARE_FINAL_TYPE (ThecalPatientList, thecal_patient_list, THECAL, PATIENT_LIST, GObject)

ThecalPatientList *thecal_patient_list_new (ThecalRecordSession *session);

/* NULL or "": every patient, paged; else the matches of @text. Starts loading at once. */
void thecal_patient_list_set_search (ThecalPatientList *self, const char *text);
const char *thecal_patient_list_get_search (ThecalPatientList *self);

/* TRUE while a page is being read or shown ("loading" property): what was read is shown a chunk at
 * a time, one per idle, so that the view's rows are made a few at a time. */
gboolean thecal_patient_list_get_loading (ThecalPatientList *self);
/* TRUE when a search hit THECAL_PATIENT_LIST_SEARCH_MAX ("truncated" property). */
gboolean thecal_patient_list_get_truncated (ThecalPatientList *self);
/* The last error of a read, or NULL ("error" property). */
const char *thecal_patient_list_get_error (ThecalPatientList *self);

/* Ask for the next page now (the view also does it by reading near the end). */
void thecal_patient_list_load_more (ThecalPatientList *self);

G_END_DECLS
