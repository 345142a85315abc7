/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-dose-history-chart.h: the daily dose of a patient's active prescriptions over time, as
 * steps, with the refills marked (docs/gui.md "History"). The steps are computed in integers by
 * the dose core: a recorded prescription version's daily dose is its delivery plan's basal plus
 * periodic total (thecal_delivery_plan_resolve for the pump's model: what the pump really
 * delivers, rounded to its resolution); a prescription the pump logged ("prescription_set": basal
 * and periodic nL/day and the concentration) gives thecal_dose_for_rate of the rate it reported.
 * Floating point is used only to draw (cairo coordinates).
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "thecal-drug.h"
#include "thecal-pump-model.h"
#include "thecal-record-types.h"

G_BEGIN_DECLS

/* From @at_ms on (until the next step) the pump delivered @dose_ng_per_day. */
typedef struct
{
  gint64 at_ms;                   /* pump-local ms, as everywhere in the app */
  gint64 dose_ng_per_day;         /* basal + periodic; 0 when stopped */
  gint64 concentration_ng_per_ml; /* 0 when not known */
  char drug_id[THECAL_ID_MAX];    /* "" when not known (the pump's log does not name the drug) */
  gboolean from_pump_log;         /* the pump's logged prescription, not a recorded version */
  gint64 version_recorded_ms;     /* when the record wrote a version of this step (the record's
                                   * clock); G_MAXINT64 when only the pump's log has it */
} ThecalDoseStep;

/* A refill: @added_nl put in at @at_ms. */
typedef struct
{
  gint64 at_ms;
  gint64 added_nl;
} ThecalDoseRefillMark;

/* Fills @steps (ThecalDoseStep, oldest first; consecutive equal steps merged) and @refills
 * (ThecalDoseRefillMark, oldest first) from @record; *@end_ms: the latest instant the record knows
 * of (the chart's right edge). Returns how many prescription versions could not be resolved for
 * their pump's model (left out of the chart, and said under it). */
guint thecal_dose_history_compute (const ThecalPatientRecord *record,
                                   const ThecalPumpModelSet *models,
                                   GArray *steps,
                                   GArray *refills,
                                   gint64 *end_ms);

/* Draws @steps and @refills (as computed above; @last_ms: the right edge) in a @width × @height
 * box of @cr, the text with @layout, in @foreground: the widget and the session report share it. */
void thecal_dose_history_draw (cairo_t *cr,
                               PangoLayout *layout,
                               double width,
                               double height,
                               const GArray *steps,
                               const GArray *refills,
                               gint64 last_ms,
                               const ThecalDrugLibrary *library,
                               const GdkRGBA *foreground);

#define THECAL_TYPE_DOSE_HISTORY_CHART (thecal_dose_history_chart_get_type ())
G_DECLARE_FINAL_TYPE (ThecalDoseHistoryChart, thecal_dose_history_chart, THECAL, DOSE_HISTORY_CHART, GtkDrawingArea)

GtkWidget *thecal_dose_history_chart_new (void);
/* Shows @record's dose history (NULL: empty). @models and @library are used during the call. */
void thecal_dose_history_chart_set_record (ThecalDoseHistoryChart *self,
                                           const ThecalPatientRecord *record,
                                           const ThecalPumpModelSet *models,
                                           const ThecalDrugLibrary *library);
/* The steps drawn (oldest first), and the refills marked. */
guint thecal_dose_history_chart_get_n_steps (ThecalDoseHistoryChart *self);
const ThecalDoseStep *thecal_dose_history_chart_get_step (ThecalDoseHistoryChart *self, guint index);
guint thecal_dose_history_chart_get_n_refills (ThecalDoseHistoryChart *self);
guint thecal_dose_history_chart_get_n_unresolved (ThecalDoseHistoryChart *self);
/* What the chart says in words (its accessible description): one line a step. */
const char *thecal_dose_history_chart_get_description (ThecalDoseHistoryChart *self);

G_END_DECLS
