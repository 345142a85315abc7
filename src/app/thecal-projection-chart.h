/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-projection-chart.h: the reservoir projected over time under the running prescription and
 * under the new one, and the daily dose of each (docs/gui.md "Program"). A GtkDrawingArea drawn
 * with cairo. Every point is computed in integers by the dose core
 * (thecal_delivery_plan_volume_between: nL, pump-local ms); doubles exist only to draw. The chart
 * marks the low-reservoir alarm level of the pump model, the empty and refill-by dates of both
 * projections (thecal_project_reservoir, as the review computed them), and its accessible label
 * says the same in words.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "thecal-refill.h"

G_BEGIN_DECLS

/* The points of each curve: one every horizon / THECAL_PROJECTION_CHART_STEPS, both ends included. */
#define THECAL_PROJECTION_CHART_STEPS 96

/* Which curve. */
typedef enum
{
  THECAL_PROJECTION_CHART_OLD = 0, /* the running prescription */
  THECAL_PROJECTION_CHART_NEW,     /* the new one */
} ThecalProjectionChartSeries;

#define THECAL_TYPE_PROJECTION_CHART (thecal_projection_chart_get_type ())
G_DECLARE_FINAL_TYPE (ThecalProjectionChart, thecal_projection_chart, THECAL, PROJECTION_CHART, GtkDrawingArea)

GtkWidget *thecal_projection_chart_new (void);

/* Shows the projections from @volume_nl at @now_local_ms (the pump's reservoir estimate and
 * clock) under @old_plan and @new_plan (the review's plans; @new_plan NULL: only the old one),
 * with their projections (the review's old_projection and new_projection; NULL when not
 * known). @model: the low-reservoir level and the capacity. The horizon runs to the later empty
 * date (at least 7 days, at most 180 days). FALSE (and an empty chart) when a plan cannot be
 * projected (the dose core's error in @error). Everything is copied. */
gboolean thecal_projection_chart_set_data (ThecalProjectionChart *self,
                                           const ThecalPumpModel *model,
                                           gint64 volume_nl,
                                           gint64 now_local_ms,
                                           const ThecalDeliveryPlan *old_plan,
                                           const ThecalProjection *old_projection,
                                           const ThecalDeliveryPlan *new_plan,
                                           const ThecalProjection *new_projection,
                                           GError **error);
/* Nothing to show. */
void thecal_projection_chart_clear (ThecalProjectionChart *self);

/* The points drawn: 0 when the chart is empty (or @series has no curve), else
 * THECAL_PROJECTION_CHART_STEPS + 1. */
guint thecal_projection_chart_get_n_points (ThecalProjectionChart *self, ThecalProjectionChartSeries series);
/* Point @index of @series: pump-local ms and the programmed volume left (nL, never below 0). */
gboolean thecal_projection_chart_get_point (ThecalProjectionChart *self,
                                            ThecalProjectionChartSeries series,
                                            guint index,
                                            gint64 *local_ms,
                                            gint64 *volume_nl);
/* The accessible label: what the chart shows, in words (the dates and daily doses). A new string. */
char *thecal_projection_chart_dup_summary (ThecalProjectionChart *self);

G_END_DECLS
