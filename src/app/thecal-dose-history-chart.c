/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-dose-history-chart.c: see thecal-dose-history-chart.h.
 */
#include "config.h"

#include "thecal-dose-history-chart.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-format.h"
#include "thecal-prescription.h"

struct _ThecalDoseHistoryChart
{
  GtkDrawingArea parent_instance;

  GArray *steps;   /* ThecalDoseStep */
  GArray *refills; /* ThecalDoseRefillMark */
  gint64 end_ms;
  guint n_unresolved;
  ThecalDrugLibrary *library; /* for the drugs' display names */
  char *description;
};

G_DEFINE_FINAL_TYPE (ThecalDoseHistoryChart, thecal_dose_history_chart, GTK_TYPE_DRAWING_AREA)

/* ---- the steps, in integers ------------------------------------------------------------------ */

typedef struct
{
  ThecalDoseStep step;
  guint order;
} Change;

static gint
compare_changes (gconstpointer a, gconstpointer b)
{
  const Change *x = a;
  const Change *y = b;

  if (x->step.at_ms != y->step.at_ms)
    return x->step.at_ms < y->step.at_ms ? -1 : 1;
  return x->order < y->order ? -1 : (x->order > y->order ? 1 : 0);
}

static const ThecalPumpModel *
model_of_pump (const ThecalPatientRecord *record, const ThecalPumpModelSet *models, const char *serial)
{
  for (guint i = 0; i < record->pumps->len; i++)
    {
      const ThecalPump *p = record->pumps->pdata[i];

      if (g_strcmp0 (p->serial, serial) == 0)
        return thecal_pump_model_set_find (models, p->model_id);
    }
  return NULL;
}

static void
update_end (gint64 *end_ms, gint64 at_ms)
{
  if (at_ms != G_MAXINT64 && at_ms != G_MININT64 && at_ms > *end_ms)
    *end_ms = at_ms;
}

guint
thecal_dose_history_compute (const ThecalPatientRecord *record,
                             const ThecalPumpModelSet *models,
                             GArray *steps,
                             GArray *refills,
                             gint64 *end_ms)
{
  g_autoptr (GArray) changes = g_array_new (FALSE, TRUE, sizeof (Change));
  guint unresolved = 0;
  gint64 end = G_MININT64;

  g_return_val_if_fail (record != NULL && steps != NULL && refills != NULL, 0);

  g_array_set_size (steps, 0);
  g_array_set_size (refills, 0);
  /* the record's prescription versions that took effect: their delivery plan on the pump's model */
  for (guint i = 0; i < record->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *r = record->prescriptions->pdata[i];
      const ThecalPumpModel *model = model_of_pump (record, models, r->pump_serial);
      ThecalPrescription rx;
      ThecalDeliveryPlan plan;
      ThecalDoseError dose_error = { 0 };
      Change change = { .order = changes->len };

      if (r->superseded)
        continue; /* corrected: it never took effect as written */
      if (model == NULL || r->json == NULL || !thecal_prescription_load_json (r->json, strlen (r->json), &rx, &dose_error)
          || !thecal_delivery_plan_resolve (&rx, model, &plan, &dose_error)
          || __builtin_add_overflow (plan.basal_ng_per_day, plan.periodic_ng_per_day, &change.step.dose_ng_per_day))
        {
          unresolved++;
          continue;
        }
      change.step.at_ms = r->effective_from_utc_ms;
      change.step.version_recorded_ms = r->recorded_utc_ms;
      change.step.concentration_ng_per_ml = rx.concentration_ng_per_ml;
      g_strlcpy (change.step.drug_id, rx.drug_id, sizeof change.step.drug_id);
      g_array_append_val (changes, change);
      update_end (&end, r->effective_from_utc_ms);
    }
  /* what the pump logged it was set to: the rate it reported at its concentration */
  for (guint i = 0; i < record->events->len; i++)
    {
      const ThecalPumpEvent *e = record->events->pdata[i];
      int type;
      gint64 code, a[3], rate;
      ThecalDoseError dose_error = { 0 };
      Change change = { .order = changes->len };

      update_end (&end, e->pump_time_ms);
      if (g_strcmp0 (e->kind, "prescription_set") != 0 || e->detail == NULL
          || sscanf (e->detail, "{\"type\":%d,\"code\":%" SCNd64 ",\"args\":[%" SCNd64 ",%" SCNd64 ",%" SCNd64 "]}", &type, &code, &a[0], &a[1],
                     &a[2])
                 != 5)
        continue;
      if (__builtin_add_overflow (a[0], a[1], &rate) || (rate > 0 && !thecal_dose_for_rate (NULL, a[2], rate, NULL, &change.step.dose_ng_per_day, &dose_error)))
        continue;
      if (rate == 0)
        change.step.dose_ng_per_day = 0;
      change.step.at_ms = e->pump_time_ms;
      change.step.concentration_ng_per_ml = a[2];
      change.step.from_pump_log = TRUE;
      change.step.version_recorded_ms = G_MAXINT64;
      g_array_append_val (changes, change);
    }
  g_array_sort (changes, compare_changes);
  for (guint i = 0; i < changes->len; i++)
    {
      ThecalDoseStep step = g_array_index (changes, Change, i).step;
      ThecalDoseStep *last = steps->len > 0 ? &g_array_index (steps, ThecalDoseStep, steps->len - 1) : NULL;

      /* the pump's log does not name the drug: it is the one of the step before at the same
       * concentration */
      if (step.drug_id[0] == '\0' && last != NULL && last->concentration_ng_per_ml == step.concentration_ng_per_ml)
        g_strlcpy (step.drug_id, last->drug_id, sizeof step.drug_id);
      /* the same therapy seen twice (the record's version and the pump's log of it, or a new
       * version that changed nothing delivered): no step; a drug not known on one side is the
       * other side's */
      if (last != NULL && last->dose_ng_per_day == step.dose_ng_per_day && last->concentration_ng_per_ml == step.concentration_ng_per_ml
          && (step.drug_id[0] == '\0' || last->drug_id[0] == '\0' || strcmp (last->drug_id, step.drug_id) == 0))
        {
          if (last->drug_id[0] == '\0')
            g_strlcpy (last->drug_id, step.drug_id, sizeof last->drug_id);
          last->version_recorded_ms = MIN (last->version_recorded_ms, step.version_recorded_ms);
          continue;
        }
      g_array_append_val (steps, step);
    }
  for (guint i = 0; i < record->refills->len; i++)
    {
      const ThecalRefill *r = record->refills->pdata[i];
      ThecalDoseRefillMark mark = { r->performed_utc_ms, r->added_nl };

      if (r->superseded)
        continue;
      g_array_append_val (refills, mark);
      update_end (&end, r->performed_utc_ms);
    }
  if (end_ms != NULL)
    *end_ms = end;
  return unresolved;
}

/* ---- drawing (floating point from here on: cairo coordinates only) -------------------------- */

static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double align)
{
  int width, height;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &width, &height);
  cairo_move_to (cr, x - align * width, y - height / 2.0);
  pango_cairo_show_layout (cr, layout);
}

void
thecal_dose_history_draw (cairo_t *cr,
                          PangoLayout *layout,
                          double width,
                          double height,
                          const GArray *steps,
                          const GArray *refills,
                          gint64 last_ms,
                          const ThecalDrugLibrary *library,
                          const GdkRGBA *foreground)
{
  const GdkRGBA fg = *foreground, accent = { 0.11, 0.44, 0.85, 1 }, refill = { 0.15, 0.6, 0.35, 1 };
  const double left = 84, right = 16, top = 12, bottom = 28;
  double plot_w = width - left - right, plot_h = height - top - bottom;
  gint64 start_ms, end_ms, max_dose = 0;
  double span, y_max;

  if (plot_w <= 10 || plot_h <= 10)
    return;
  if (steps->len == 0)
    {
      gdk_cairo_set_source_rgba (cr, &fg);
      draw_text (cr, layout, _ ("No prescription in the record or the pump's log yet."), width / 2.0, height / 2.0, 0.5);
      return;
    }
  start_ms = g_array_index (steps, ThecalDoseStep, 0).at_ms;
  for (guint i = 0; i < refills->len; i++)
    start_ms = MIN (start_ms, g_array_index (refills, ThecalDoseRefillMark, i).at_ms);
  end_ms = MAX (last_ms, start_ms + 24 * 3600 * 1000);
  for (guint i = 0; i < steps->len; i++)
    max_dose = MAX (max_dose, g_array_index (steps, ThecalDoseStep, i).dose_ng_per_day);
  /* a little room after the last instant, so that the latest step shows */
  span = (double) (end_ms - start_ms) * 1.08;
  y_max = max_dose > 0 ? (double) max_dose * 1.25 : 1.0;
#define X(ms) (left + plot_w * (double) ((ms) -start_ms) / span)
#define Y(dose) (top + plot_h - plot_h * (double) (dose) / y_max)

  /* axes and the labels: 0 and the highest dose, the first and last dates */
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.35);
  cairo_move_to (cr, left, top);
  cairo_line_to (cr, left, top + plot_h);
  cairo_line_to (cr, left + plot_w, top + plot_h);
  cairo_stroke (cr);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.15);
  cairo_move_to (cr, left, Y (max_dose));
  cairo_line_to (cr, left + plot_w, Y (max_dose));
  cairo_stroke (cr);
  gdk_cairo_set_source_rgba (cr, &fg);
  {
    g_autofree char *top_label = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, max_dose);
    const char *unit = strrchr (top_label, ' ');
    char zero[THECAL_QUANTITY_TEXT_MAX] = "0";

    /* zero in the unit of the highest dose ("0 mg/day" beside "5 mg/day") */
    if (unit == NULL || thecal_quantity_format_in (THECAL_QUANTITY_DOSE_RATE, 0, unit + 1, zero, sizeof zero) == NULL)
      thecal_quantity_format (THECAL_QUANTITY_DOSE_RATE, 0, zero, sizeof zero);
    g_autofree char *first = thecal_format_instant (start_ms);
    g_autofree char *last = thecal_format_instant (end_ms);

    draw_text (cr, layout, zero, left - 6, Y (0), 1);
    if (max_dose > 0)
      draw_text (cr, layout, top_label, left - 6, Y (max_dose), 1);
    draw_text (cr, layout, first, left, top + plot_h + bottom / 2.0 + 2, 0);
    draw_text (cr, layout, last, X (end_ms), top + plot_h + bottom / 2.0 + 2, 1);
  }

  /* refills: a dashed vertical line each, a triangle on the time axis */
  cairo_save (cr);
  gdk_cairo_set_source_rgba (cr, &refill);
  cairo_set_dash (cr, (double[]){ 4, 3 }, 2, 0);
  cairo_set_line_width (cr, 1.5);
  for (guint i = 0; i < refills->len; i++)
    {
      double x = X (g_array_index (refills, ThecalDoseRefillMark, i).at_ms);

      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, top + plot_h);
      cairo_stroke (cr);
      cairo_move_to (cr, x - 5, top + plot_h);
      cairo_line_to (cr, x + 5, top + plot_h);
      cairo_line_to (cr, x, top + plot_h - 7);
      cairo_close_path (cr);
      cairo_fill (cr);
    }
  cairo_restore (cr);

  /* the steps */
  gdk_cairo_set_source_rgba (cr, &accent);
  cairo_set_line_width (cr, 2.5);
  for (guint i = 0; i < steps->len; i++)
    {
      const ThecalDoseStep *s = &g_array_index (steps, ThecalDoseStep, i);
      gint64 until = i + 1 < steps->len ? g_array_index (steps, ThecalDoseStep, i + 1).at_ms : end_ms;

      if (i == 0)
        cairo_move_to (cr, X (s->at_ms), Y (s->dose_ng_per_day));
      else
        cairo_line_to (cr, X (s->at_ms), Y (s->dose_ng_per_day));
      cairo_line_to (cr, X (until), Y (s->dose_ng_per_day));
    }
  cairo_stroke (cr);
  /* a point at each step, and what it delivers (drug and concentration) above it; labels that
   * would overlap the one before go one line higher */
  {
    double previous_end = -1, row = 0;

    for (guint i = 0; i < steps->len; i++)
      {
        const ThecalDoseStep *s = &g_array_index (steps, ThecalDoseStep, i);
        g_autofree char *concentration = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, s->concentration_ng_per_ml);
        g_autofree char *label = NULL;
        int text_w, text_h;
        double x = X (s->at_ms), y = Y (s->dose_ng_per_day);

        gdk_cairo_set_source_rgba (cr, &accent);
        cairo_arc (cr, x, y, 3.5, 0, 2 * G_PI);
        cairo_fill (cr);
        if (s->concentration_ng_per_ml <= 0)
          continue;
        label = s->drug_id[0] != '\0' ? g_strdup_printf ("%s %s", thecal_format_drug (library, s->drug_id), concentration)
                                      : g_steal_pointer (&concentration);
        pango_layout_set_text (layout, label, -1);
        pango_layout_get_pixel_size (layout, &text_w, &text_h);
        x = MIN (x + 4, left + plot_w - text_w);
        row = x < previous_end ? row + 1 : 0;
        previous_end = x + text_w + 8;
        gdk_cairo_set_source_rgba (cr, &fg);
        cairo_move_to (cr, x, y - 6 - text_h * (row + 1));
        pango_cairo_show_layout (cr, layout);
      }
  }
#undef X
#undef Y
}

/* Runs on the main thread: GTK draws the chart. */
static void
draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  ThecalDoseHistoryChart *self = THECAL_DOSE_HISTORY_CHART (area);
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  GdkRGBA fg;

  (void) user_data;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  thecal_dose_history_draw (cr, layout, width, height, self->steps, self->refills, self->end_ms, self->library, &fg);
}

static void
thecal_dose_history_chart_finalize (GObject *object)
{
  ThecalDoseHistoryChart *self = THECAL_DOSE_HISTORY_CHART (object);

  g_array_unref (self->steps);
  g_array_unref (self->refills);
  g_free (self->description);
  g_free (self->library);
  G_OBJECT_CLASS (thecal_dose_history_chart_parent_class)->finalize (object);
}

static void
thecal_dose_history_chart_class_init (ThecalDoseHistoryChartClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = thecal_dose_history_chart_finalize;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
thecal_dose_history_chart_init (ThecalDoseHistoryChart *self)
{
  self->steps = g_array_new (FALSE, TRUE, sizeof (ThecalDoseStep));
  self->refills = g_array_new (FALSE, TRUE, sizeof (ThecalDoseRefillMark));
  self->description = g_strdup ("");
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self), 180);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self), draw, NULL, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Daily dose history"), -1);
}

GtkWidget *
thecal_dose_history_chart_new (void)
{
  return g_object_new (THECAL_TYPE_DOSE_HISTORY_CHART, NULL);
}

void
thecal_dose_history_chart_set_record (ThecalDoseHistoryChart *self,
                                      const ThecalPatientRecord *record,
                                      const ThecalPumpModelSet *models,
                                      const ThecalDrugLibrary *library)
{
  g_autoptr (GString) text = g_string_new (NULL);

  g_return_if_fail (THECAL_IS_DOSE_HISTORY_CHART (self));

  g_array_set_size (self->steps, 0);
  g_array_set_size (self->refills, 0);
  g_clear_pointer (&self->library, g_free);
  if (library != NULL)
    self->library = g_memdup2 (library, sizeof *library);
  self->n_unresolved = 0;
  self->end_ms = 0;
  if (record != NULL && models != NULL)
    self->n_unresolved = thecal_dose_history_compute (record, models, self->steps, self->refills, &self->end_ms);
  for (guint i = 0; i < self->steps->len; i++)
    {
      const ThecalDoseStep *s = &g_array_index (self->steps, ThecalDoseStep, i);
      g_autofree char *when = thecal_format_instant (s->at_ms);
      g_autofree char *dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, s->dose_ng_per_day);
      g_autofree char *concentration = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, s->concentration_ng_per_ml);

      g_string_append_printf (text, _ ("From %s: %s"), when, dose);
      if (s->concentration_ng_per_ml > 0)
        g_string_append_printf (text, " (%s%s%s)", s->drug_id[0] != '\0' ? thecal_format_drug (library, s->drug_id) : "",
                                s->drug_id[0] != '\0' ? " " : "", concentration);
      g_string_append_c (text, '\n');
    }
  for (guint i = 0; i < self->refills->len; i++)
    {
      const ThecalDoseRefillMark *m = &g_array_index (self->refills, ThecalDoseRefillMark, i);
      g_autofree char *when = thecal_format_instant (m->at_ms);
      g_autofree char *added = thecal_format_quantity (THECAL_QUANTITY_VOLUME, m->added_nl);

      g_string_append_printf (text, _ ("Refill %s: %s added\n"), when, added);
    }
  g_free (self->description);
  self->description = g_string_free (g_steal_pointer (&text), FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, self->description, -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
thecal_dose_history_chart_get_n_steps (ThecalDoseHistoryChart *self)
{
  g_return_val_if_fail (THECAL_IS_DOSE_HISTORY_CHART (self), 0);
  return self->steps->len;
}

const ThecalDoseStep *
thecal_dose_history_chart_get_step (ThecalDoseHistoryChart *self, guint index)
{
  g_return_val_if_fail (THECAL_IS_DOSE_HISTORY_CHART (self), NULL);
  g_return_val_if_fail (index < self->steps->len, NULL);
  return &g_array_index (self->steps, ThecalDoseStep, index);
}

guint
thecal_dose_history_chart_get_n_refills (ThecalDoseHistoryChart *self)
{
  g_return_val_if_fail (THECAL_IS_DOSE_HISTORY_CHART (self), 0);
  return self->refills->len;
}

guint
thecal_dose_history_chart_get_n_unresolved (ThecalDoseHistoryChart *self)
{
  g_return_val_if_fail (THECAL_IS_DOSE_HISTORY_CHART (self), 0);
  return self->n_unresolved;
}

const char *
thecal_dose_history_chart_get_description (ThecalDoseHistoryChart *self)
{
  g_return_val_if_fail (THECAL_IS_DOSE_HISTORY_CHART (self), NULL);
  return self->description;
}
