/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-projection-chart.c: see thecal-projection-chart.h.
 */
#include "config.h"

#include "thecal-projection-chart.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-format.h"

#define DAY_MS G_GINT64_CONSTANT (86400000)
#define HORIZON_MIN_DAYS 7
#define HORIZON_MAX_DAYS 180
#define HORIZON_UNKNOWN_DAYS 30

typedef struct
{
  gboolean present;
  gint64 volume_nl[THECAL_PROJECTION_CHART_STEPS + 1];
  gboolean have_projection;
  ThecalProjection projection;
  gint64 programmed_ng_per_day; /* basal + periodic */
  gint64 worst_ng_per_day;      /* with every PTM bolus allowed */
} Series;

struct _ThecalProjectionChart
{
  GtkDrawingArea parent_instance;

  gboolean valid;
  gint64 now_local_ms;
  gint64 step_ms;
  gint64 start_volume_nl;
  gint64 low_nl;
  Series series[2];
};

G_DEFINE_FINAL_TYPE (ThecalProjectionChart, thecal_projection_chart, GTK_TYPE_DRAWING_AREA)

/* ---- the data, in integers ------------------------------------------------------------------ */

static gboolean
fill_series (ThecalProjectionChart *self, Series *series, const ThecalDeliveryPlan *plan, const ThecalProjection *projection, GError **error)
{
  series->present = TRUE;
  series->have_projection = projection != NULL;
  if (projection != NULL)
    series->projection = *projection;
  if (__builtin_add_overflow (plan->basal_ng_per_day, plan->periodic_ng_per_day, &series->programmed_ng_per_day))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("The daily dose overflows."));
      return FALSE;
    }
  series->worst_ng_per_day = plan->total_worst_ng_per_day;
  for (guint i = 0; i <= THECAL_PROJECTION_CHART_STEPS; i++)
    {
      ThecalDoseError dose_error;
      int64_t delivered = 0;

      thecal_dose_error_clear (&dose_error);
      if (!thecal_delivery_plan_volume_between (plan, self->now_local_ms, self->now_local_ms + (gint64) i * self->step_ms, &delivered,
                                                &dose_error))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", dose_error.message);
          return FALSE;
        }
      series->volume_nl[i] = delivered >= self->start_volume_nl ? 0 : self->start_volume_nl - delivered;
    }
  return TRUE;
}

static gint64
horizon_days (gint64 now_local_ms, const ThecalProjection *a, const ThecalProjection *b)
{
  gint64 latest = G_MININT64;
  const ThecalProjection *projections[] = { a, b };

  for (gsize i = 0; i < G_N_ELEMENTS (projections); i++)
    if (projections[i] != NULL && projections[i]->empty_local_ms != G_MAXINT64 && projections[i]->empty_local_ms > latest)
      latest = projections[i]->empty_local_ms;
  if (latest == G_MININT64)
    return HORIZON_UNKNOWN_DAYS;
  if (latest <= now_local_ms)
    return HORIZON_MIN_DAYS;
  /* whole days past the later empty date, and one more so it is not on the edge */
  return CLAMP ((latest - now_local_ms) / DAY_MS + 2, HORIZON_MIN_DAYS, HORIZON_MAX_DAYS);
}

gboolean
thecal_projection_chart_set_data (ThecalProjectionChart *self,
                                  const ThecalPumpModel *model,
                                  gint64 volume_nl,
                                  gint64 now_local_ms,
                                  const ThecalDeliveryPlan *old_plan,
                                  const ThecalProjection *old_projection,
                                  const ThecalDeliveryPlan *new_plan,
                                  const ThecalProjection *new_projection,
                                  GError **error)
{
  g_autofree char *summary = NULL;

  g_return_val_if_fail (THECAL_IS_PROJECTION_CHART (self), FALSE);
  g_return_val_if_fail (model != NULL && old_plan != NULL, FALSE);

  thecal_projection_chart_clear (self);
  self->now_local_ms = now_local_ms;
  self->start_volume_nl = MAX (volume_nl, 0);
  self->low_nl = model->low_reservoir_alarm_nl;
  /* DAY_MS is a multiple of the number of steps: every instant is a whole millisecond */
  G_STATIC_ASSERT (86400000 % THECAL_PROJECTION_CHART_STEPS == 0);
  self->step_ms = horizon_days (now_local_ms, old_projection, new_plan != NULL ? new_projection : NULL) * (DAY_MS / THECAL_PROJECTION_CHART_STEPS);
  if (!fill_series (self, &self->series[THECAL_PROJECTION_CHART_OLD], old_plan, old_projection, error)
      || (new_plan != NULL && !fill_series (self, &self->series[THECAL_PROJECTION_CHART_NEW], new_plan, new_projection, error)))
    {
      thecal_projection_chart_clear (self);
      return FALSE;
    }
  self->valid = TRUE;
  summary = thecal_projection_chart_dup_summary (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, summary, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

void
thecal_projection_chart_clear (ThecalProjectionChart *self)
{
  g_return_if_fail (THECAL_IS_PROJECTION_CHART (self));
  self->valid = FALSE;
  memset (self->series, 0, sizeof self->series);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Reservoir projection: nothing to show"), -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
thecal_projection_chart_get_n_points (ThecalProjectionChart *self, ThecalProjectionChartSeries series)
{
  g_return_val_if_fail (THECAL_IS_PROJECTION_CHART (self), 0);
  g_return_val_if_fail (series <= THECAL_PROJECTION_CHART_NEW, 0);
  return self->valid && self->series[series].present ? THECAL_PROJECTION_CHART_STEPS + 1 : 0;
}

gboolean
thecal_projection_chart_get_point (ThecalProjectionChart *self,
                                   ThecalProjectionChartSeries series,
                                   guint index,
                                   gint64 *local_ms,
                                   gint64 *volume_nl)
{
  g_return_val_if_fail (THECAL_IS_PROJECTION_CHART (self), FALSE);
  if (index >= thecal_projection_chart_get_n_points (self, series))
    return FALSE;
  if (local_ms != NULL)
    *local_ms = self->now_local_ms + (gint64) index * self->step_ms;
  if (volume_nl != NULL)
    *volume_nl = self->series[series].volume_nl[index];
  return TRUE;
}

static void
append_series_summary (GString *text, const Series *series, const char *name)
{
  g_autofree char *dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, series->programmed_ng_per_day);

  if (series->have_projection)
    {
      g_autofree char *empty = thecal_format_instant (series->projection.empty_local_ms);
      g_autofree char *refill_by = thecal_format_instant (series->projection.refill_by_local_ms);

      g_string_append_printf (text, _ (" %s: %s, empty %s, refill by %s."), name, dose, empty, refill_by);
    }
  else
    g_string_append_printf (text, _ (" %s: %s, dates not known."), name, dose);
}

char *
thecal_projection_chart_dup_summary (ThecalProjectionChart *self)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *volume = NULL;
  g_autofree char *low = NULL;

  g_return_val_if_fail (THECAL_IS_PROJECTION_CHART (self), NULL);
  if (!self->valid)
    return g_strdup (_ ("Reservoir projection: nothing to show"));
  volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, self->start_volume_nl);
  low = thecal_format_quantity (THECAL_QUANTITY_VOLUME, self->low_nl);
  g_string_append_printf (text, _ ("Reservoir projection from %s (low-reservoir alarm at %s)."), volume, low);
  append_series_summary (text, &self->series[THECAL_PROJECTION_CHART_OLD], _ ("Running prescription"));
  if (self->series[THECAL_PROJECTION_CHART_NEW].present)
    append_series_summary (text, &self->series[THECAL_PROJECTION_CHART_NEW], _ ("New prescription"));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ---- drawing (doubles from here on: cairo coordinates only) ----------------------------------- */

#define MARGIN_LEFT 64.0
#define MARGIN_RIGHT 16.0
#define MARGIN_TOP 28.0
#define PANEL_GAP 56.0
#define DOSE_PANEL_HEIGHT 64.0

static const double old_rgb[3] = { 0.47, 0.46, 0.48 }; /* grey: what runs now */
static const double new_rgb[3] = { 0.11, 0.44, 0.85 }; /* blue: the new prescription */
static const double low_rgb[3] = { 0.90, 0.38, 0.0 };  /* orange: the low-reservoir alarm */

static void
draw_text (GtkWidget *widget, cairo_t *cr, const char *text, double x, double y, double xalign, const GdkRGBA *color)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  int width, height;

  pango_layout_get_pixel_size (layout, &width, &height);
  gdk_cairo_set_source_rgba (cr, color);
  cairo_move_to (cr, x - xalign * width, y - height / 2.0);
  pango_cairo_show_layout (cr, layout);
}

static double
x_of (const ThecalProjectionChart *self, gint64 local_ms, double x0, double width)
{
  double span = (double) (self->step_ms * THECAL_PROJECTION_CHART_STEPS);

  return x0 + width * CLAMP ((double) (local_ms - self->now_local_ms) / span, 0.0, 1.0);
}

static double
y_of (gint64 volume_nl, gint64 top_nl, double y0, double height)
{
  return y0 + height - height * CLAMP ((double) volume_nl / (double) top_nl, 0.0, 1.0);
}

static void
draw_marker (const ThecalProjectionChart *self, cairo_t *cr, gint64 local_ms, const double rgb[3], double x0, double width, double y0, double height)
{
  const double dash[] = { 4.0, 3.0 };
  double x;

  if (local_ms == G_MAXINT64 || local_ms < self->now_local_ms || local_ms > self->now_local_ms + self->step_ms * THECAL_PROJECTION_CHART_STEPS)
    return;
  x = x_of (self, local_ms, x0, width);
  cairo_save (cr);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
  cairo_set_line_width (cr, 1.0);
  cairo_move_to (cr, x, y0);
  cairo_line_to (cr, x, y0 + height);
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* Runs on the main thread: GTK draws the chart. */
static void
draw (GtkDrawingArea *area, cairo_t *cr, int width_px, int height_px, gpointer user_data)
{
  ThecalProjectionChart *self = THECAL_PROJECTION_CHART (area);
  GtkWidget *widget = GTK_WIDGET (area);
  GdkRGBA fg;
  double x0 = MARGIN_LEFT, width = width_px - MARGIN_LEFT - MARGIN_RIGHT;
  double y0 = MARGIN_TOP, height = height_px - MARGIN_TOP - PANEL_GAP - DOSE_PANEL_HEIGHT - 8.0;
  double dose_y0 = y0 + height + PANEL_GAP;
  gint64 top_nl;

  (void) user_data;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  if (!self->valid || width < 40 || height < 40)
    {
      draw_text (widget, cr, _ ("No projection"), width_px / 2.0, height_px / 2.0, 0.5, &fg);
      return;
    }
  top_nl = MAX (MAX (self->start_volume_nl, self->low_nl), 1);
  top_nl += top_nl / 10; /* headroom for the legend */

  /* axes */
  cairo_set_line_width (cr, 1.0);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.5);
  cairo_move_to (cr, x0, y0);
  cairo_line_to (cr, x0, y0 + height);
  cairo_line_to (cr, x0 + width, y0 + height);
  cairo_stroke (cr);

  /* y ticks: 0, the low-reservoir level, the volume now (ISMP text from the dose core) */
  {
    const gint64 ticks[] = { 0, self->low_nl, self->start_volume_nl };

    for (gsize i = 0; i < G_N_ELEMENTS (ticks); i++)
      {
        g_autofree char *text = thecal_format_quantity (THECAL_QUANTITY_VOLUME, ticks[i]);
        double y = y_of (ticks[i], top_nl, y0, height);

        if (i == 2 && ABS (y - y_of (self->low_nl, top_nl, y0, height)) < 14.0)
          continue; /* would overlap the low level's label */
        draw_text (widget, cr, text, x0 - 6.0, y, 1.0, &fg);
      }
  }
  /* x ticks: the dates, every whole number of days from now, at most six of them */
  {
    gint64 horizon_ms = self->step_ms * THECAL_PROJECTION_CHART_STEPS;
    gint64 days = horizon_ms / DAY_MS;
    gint64 every = MAX ((days + 4) / 5, 1);

    for (gint64 k = 0; k * every <= days; k++)
      {
        gint64 at = self->now_local_ms + k * every * DAY_MS;
        g_autofree char *instant = thecal_format_instant (at);
        char date[11];
        double x = x_of (self, at, x0, width);

        g_strlcpy (date, instant, sizeof date); /* "2026-01-08" of "2026-01-08 09:00" */
        draw_text (widget, cr, date, x, y0 + height + 12.0, k == 0 ? 0.0 : x > x0 + width - 50.0 ? 1.0
                                                                                                 : 0.5,
                   &fg);
      }
  }

  /* the low-reservoir level */
  {
    const double dash[] = { 6.0, 4.0 };
    double y = y_of (self->low_nl, top_nl, y0, height);

    cairo_save (cr);
    cairo_set_source_rgb (cr, low_rgb[0], low_rgb[1], low_rgb[2]);
    cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
    cairo_move_to (cr, x0, y);
    cairo_line_to (cr, x0 + width, y);
    cairo_stroke (cr);
    cairo_restore (cr);
  }

  /* the curves, the empty and refill-by dates */
  for (int s = THECAL_PROJECTION_CHART_OLD; s <= THECAL_PROJECTION_CHART_NEW; s++)
    {
      const Series *series = &self->series[s];
      const double *rgb = s == THECAL_PROJECTION_CHART_OLD ? old_rgb : new_rgb;

      if (!series->present)
        continue;
      if (series->have_projection)
        {
          draw_marker (self, cr, series->projection.empty_local_ms, rgb, x0, width, y0, height);
          draw_marker (self, cr, series->projection.refill_by_local_ms, rgb, x0, width, y0, height);
        }
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_set_line_width (cr, s == THECAL_PROJECTION_CHART_NEW ? 2.5 : 2.0);
      for (guint i = 0; i <= THECAL_PROJECTION_CHART_STEPS; i++)
        {
          double x = x0 + width * i / THECAL_PROJECTION_CHART_STEPS;
          double y = y_of (series->volume_nl[i], top_nl, y0, height);

          if (i == 0)
            cairo_move_to (cr, x, y);
          else
            cairo_line_to (cr, x, y);
        }
      cairo_stroke (cr);
    }

  /* the legend, above the curves */
  {
    struct
    {
      const double *rgb;
      const char *text;
      gboolean show;
    } items[] = {
      { old_rgb, _ ("Running"), TRUE },
      { new_rgb, _ ("New"), self->series[THECAL_PROJECTION_CHART_NEW].present },
      { low_rgb, _ ("Low-reservoir alarm"), TRUE },
    };
    double x = x0 + 8.0;

    for (gsize i = 0; i < G_N_ELEMENTS (items); i++)
      {
        g_autoptr (PangoLayout) layout = NULL;
        int w, h;

        if (!items[i].show)
          continue;
        layout = gtk_widget_create_pango_layout (widget, items[i].text);
        pango_layout_get_pixel_size (layout, &w, &h);
        cairo_set_source_rgb (cr, items[i].rgb[0], items[i].rgb[1], items[i].rgb[2]);
        cairo_rectangle (cr, x, MARGIN_TOP / 2.0 - 5.0, 14.0, 10.0);
        cairo_fill (cr);
        draw_text (widget, cr, items[i].text, x + 18.0, MARGIN_TOP / 2.0, 0.0, &fg);
        x += 18.0 + w + 18.0;
      }
    draw_text (widget, cr, _ ("Dashed: empty and refill-by dates"), x0 + width, MARGIN_TOP / 2.0, 1.0, &fg);
  }

  /* the daily dose, old against new: programmed (solid) and with every PTM bolus (light) */
  {
    gint64 top_ng = 1;
    int rows = 0;

    for (int s = THECAL_PROJECTION_CHART_OLD; s <= THECAL_PROJECTION_CHART_NEW; s++)
      if (self->series[s].present)
        top_ng = MAX (top_ng, MAX (self->series[s].worst_ng_per_day, self->series[s].programmed_ng_per_day));
    draw_text (widget, cr, _ ("Daily dose"), x0, dose_y0 - 14.0, 0.0, &fg);
    for (int s = THECAL_PROJECTION_CHART_OLD; s <= THECAL_PROJECTION_CHART_NEW; s++)
      {
        const Series *series = &self->series[s];
        const double *rgb = s == THECAL_PROJECTION_CHART_OLD ? old_rgb : new_rgb;
        double bar_y = dose_y0 + rows * (DOSE_PANEL_HEIGHT / 2.0);
        double bar_h = DOSE_PANEL_HEIGHT / 2.0 - 8.0;
        double bar_w = width * 0.6;
        double programmed_w = bar_w * ((double) series->programmed_ng_per_day / (double) top_ng);
        double worst_w = bar_w * ((double) series->worst_ng_per_day / (double) top_ng);
        g_autofree char *dose = NULL;
        g_autofree char *text = NULL;

        if (!series->present)
          continue;
        rows++;
        dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, series->programmed_ng_per_day);
        if (series->worst_ng_per_day > series->programmed_ng_per_day)
          {
            g_autofree char *worst = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, series->worst_ng_per_day);

            text = g_strdup_printf (_ ("%s (%s with every PTM bolus)"), dose, worst);
          }
        else
          text = g_strdup (dose);
        draw_text (widget, cr, s == THECAL_PROJECTION_CHART_OLD ? _ ("Running") : _ ("New"), x0 - 6.0, bar_y + bar_h / 2.0, 1.0, &fg);
        cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], 0.35);
        cairo_rectangle (cr, x0, bar_y, worst_w, bar_h);
        cairo_fill (cr);
        cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle (cr, x0, bar_y, programmed_w, bar_h);
        cairo_fill (cr);
        draw_text (widget, cr, text, x0 + MAX (programmed_w, worst_w) + 8.0, bar_y + bar_h / 2.0, 0.0, &fg);
      }
  }
}

static void
thecal_projection_chart_class_init (ThecalProjectionChartClass *klass)
{
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
thecal_projection_chart_init (ThecalProjectionChart *self)
{
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self), 320);
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (self), 480);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self), draw, NULL, NULL);
  thecal_projection_chart_clear (self);
}

GtkWidget *
thecal_projection_chart_new (void)
{
  return g_object_new (THECAL_TYPE_PROJECTION_CHART, NULL);
}
