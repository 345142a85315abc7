/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-accuracy.c: "thecal-cli accuracy": the trumpet table of the reference pump
 * (thecal-engine-accuracy.h), and with --plot the trumpet curve drawn with cairo.
 *
 * The analysis is integer (basis points) in the engine; only the drawing here uses floating point,
 * for page coordinates, never for a figure that is printed.
 */
#include "config.h"

#include "thecal-cli-accuracy.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "thecal-cli-simulate.h"
#include "thecal-engine-accuracy.h"

#define DEFAULT_START "2026-11-01T00:00"
#define PLOT_WIDTH 720
#define PLOT_HEIGHT 450

/* "1 h,2 h,4 h" */
static gboolean
parse_windows (const char *text, ThecalAccuracyConfig *config, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  int32_t n = 0;

  for (gsize i = 0; parts[i] != NULL; i++)
    {
      int64_t ms = 0;

      if (n == THECAL_ACCURACY_WINDOWS_MAX)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--windows: at most %d windows"),
                       THECAL_ACCURACY_WINDOWS_MAX);
          return FALSE;
        }
      if (!thecal_cli_parse_quantity ("windows", g_strstrip (parts[i]), THECAL_QUANTITY_DURATION, &ms, error))
        return FALSE;
      config->window_ms[n++] = ms;
    }
  config->n_windows = n;
  return TRUE;
}

/* ---- the plot ------------------------------------------------------------------------------------ */

typedef struct
{
  double left, right, top, bottom;
  double x_max_h, y_limit;
} Frame;

static double
fx (const Frame *f, double hours)
{
  return f->left + (f->right - f->left) * hours / f->x_max_h;
}

static double
fy (const Frame *f, double percent)
{
  return f->top + (f->bottom - f->top) * (f->y_limit - percent) / (2 * f->y_limit);
}

static void
text_at (cairo_t *cr, double x, double y, const char *text, double align)
{
  cairo_text_extents_t extents;

  cairo_text_extents (cr, text, &extents);
  cairo_move_to (cr, x - extents.width * align, y);
  cairo_show_text (cr, text);
}

/* Every label is formatted from the exact integers (never through printf's locale-dependent %f). */
static void
draw (cairo_t *cr, ThecalCliOutput *out, const ThecalAccuracyResult *r, const ThecalPumpModel *model, const char *title)
{
  Frame f = { 70, PLOT_WIDTH - 30, 50, PLOT_HEIGHT - 60, 0, 0 };
  double spec = (double) model->accuracy_bp / 100.0;
  double step;
  char label[64];

  for (int32_t w = 0; w < r->n_windows; w++)
    {
      double h = (double) r->windows[w].window_ms / THECAL_MS_PER_HOUR;
      double hi = (double) r->windows[w].max_bp / 100.0, lo = (double) r->windows[w].min_bp / 100.0;

      if (h > f.x_max_h)
        f.x_max_h = h;
      if (r->windows[w].n_positions == 0)
        continue;
      f.y_limit = MAX (f.y_limit, MAX (hi < 0 ? -hi : hi, lo < 0 ? -lo : lo));
    }
  f.y_limit = MAX (f.y_limit, spec) * 1.2;
  if (f.y_limit < 1)
    f.y_limit = 1;
  if (f.x_max_h <= 0)
    f.x_max_h = 1;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  cairo_set_source_rgb (cr, 0, 0, 0);
  text_at (cr, PLOT_WIDTH / 2.0, 25, title, 0.5);

  /* axes and grid */
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  step = f.y_limit > 40 ? 10 : f.y_limit > 10 ? 5
                           : f.y_limit > 4    ? 2
                                              : 1;
  for (int p = -(int) step * (int) (f.y_limit / step); p <= f.y_limit; p += (int) step)
    {
      cairo_move_to (cr, f.left, fy (&f, p));
      cairo_line_to (cr, f.right, fy (&f, p));
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      g_snprintf (label, sizeof label, p > 0 ? "+%d %%" : "%d %%", p);
      text_at (cr, f.left - 6, fy (&f, p) + 4, label, 1);
      cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
    }
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_rectangle (cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_stroke (cr);
  for (int32_t w = 0; w < r->n_windows; w++)
    text_at (cr, fx (&f, (double) r->windows[w].window_ms / THECAL_MS_PER_HOUR), f.bottom + 16,
             thecal_cli_duration (out, r->windows[w].window_ms), 0.5);
  text_at (cr, PLOT_WIDTH / 2.0, PLOT_HEIGHT - 15, _ ("observation window P"), 0.5);

  /* the accuracy specification, the zero line and the mean error */
  cairo_set_source_rgb (cr, 0.8, 0.2, 0.2);
  cairo_set_dash (cr, (const double[]){ 2, 3 }, 2, 0);
  for (int sign = -1; sign <= 1; sign += 2)
    {
      cairo_move_to (cr, f.left, fy (&f, sign * spec));
      cairo_line_to (cr, f.right, fy (&f, sign * spec));
      cairo_stroke (cr);
    }
  g_snprintf (label, sizeof label, _ ("specification ±%s"), thecal_cli_q (out, THECAL_QUANTITY_RATIO, model->accuracy_bp));
  text_at (cr, f.right - 4, fy (&f, spec) - 4, label, 1);
  cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, f.left, fy (&f, 0));
  cairo_line_to (cr, f.right, fy (&f, 0));
  cairo_stroke (cr);
  if (r->has_mean)
    {
      double mean = (double) r->mean_error_bp / 100.0;

      cairo_set_source_rgb (cr, 0.1, 0.5, 0.1);
      cairo_set_dash (cr, (const double[]){ 8, 4 }, 2, 0);
      cairo_move_to (cr, f.left, fy (&f, mean));
      cairo_line_to (cr, f.right, fy (&f, mean));
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      g_snprintf (label, sizeof label, _ ("mean error A %s"), thecal_cli_signed_percent (out, r->mean_error_bp));
      text_at (cr, f.right - 4, fy (&f, mean) + 14, label, 1);
    }

  /* Ep(max) and Ep(min) */
  cairo_set_source_rgb (cr, 0.1, 0.2, 0.7);
  cairo_set_line_width (cr, 2);
  for (int pass = 0; pass < 2; pass++)
    {
      gboolean started = FALSE;

      for (int32_t w = 0; w < r->n_windows; w++)
        {
          double h = (double) r->windows[w].window_ms / THECAL_MS_PER_HOUR;
          double v = (double) (pass == 0 ? r->windows[w].max_bp : r->windows[w].min_bp) / 100.0;

          if (r->windows[w].n_positions == 0)
            continue;
          if (!started)
            cairo_move_to (cr, fx (&f, h), fy (&f, v));
          else
            cairo_line_to (cr, fx (&f, h), fy (&f, v));
          started = TRUE;
        }
      cairo_stroke (cr);
      for (int32_t w = 0; w < r->n_windows; w++)
        if (r->windows[w].n_positions > 0)
          {
            double h = (double) r->windows[w].window_ms / THECAL_MS_PER_HOUR;
            double v = (double) (pass == 0 ? r->windows[w].max_bp : r->windows[w].min_bp) / 100.0;

            cairo_arc (cr, fx (&f, h), fy (&f, v), 3, 0, 2 * G_PI);
            cairo_fill (cr);
          }
    }
  text_at (cr, f.left + 6, f.top + 14, _ ("Ep(max) and Ep(min) per window"), 0);
}

static gboolean
plot (const char *path,
      ThecalCliOutput *out,
      const ThecalAccuracyResult *r,
      const ThecalPumpModel *model,
      const char *title,
      GError **error)
{
  gboolean svg = g_str_has_suffix (path, ".svg");
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  surface = svg ? cairo_svg_surface_create (path, PLOT_WIDTH, PLOT_HEIGHT)
                : cairo_image_surface_create (CAIRO_FORMAT_RGB24, PLOT_WIDTH, PLOT_HEIGHT);
  cr = cairo_create (surface);
  draw (cr, out, r, model, title);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    {
      if (svg)
        cairo_surface_finish (surface);
      else
        status = cairo_surface_write_to_png (surface, path);
    }
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, _ ("--plot: cannot write “%s”: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

/* ---- the command ------------------------------------------------------------------------------- */

gboolean
thecal_cli_accuracy (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *pump = NULL;
  g_autofree char *models_path = NULL;
  g_autofree char *rx_path = NULL;
  g_autofree char *fill_text = NULL;
  g_autofree char *seed_text = NULL;
  g_autofree char *sample_text = NULL;
  g_autofree char *startup_text = NULL;
  g_autofree char *analysis_text = NULL;
  g_autofree char *windows_text = NULL;
  g_autofree char *plot_path = NULL;
  g_autofree char *refusal = NULL;
  g_autofree char *title = NULL;
  g_auto (GStrv) fault_texts = NULL;
  g_auto (GStrv) positional = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalDeliveryPlan *plan = g_new0 (ThecalDeliveryPlan, 1);
  g_autofree ThecalEngine *engine = g_new0 (ThecalEngine, 1);
  g_autofree ThecalAccuracyResult *result = g_new0 (ThecalAccuracyResult, 1);
  ThecalCliFault faults[THECAL_CLI_FAULTS_MAX];
  int32_t n_faults = 0;
  ThecalCliEngineSetup setup = { 0 };
  ThecalAccuracyConfig config;
  ThecalDoseError dose_error = { 0 };
  const ThecalPumpModel *model;
  cJSON *windows, *samples;
  gboolean within = TRUE;
  const GOptionEntry entries[] = {
    { "pump", 'p', 0, G_OPTION_ARG_FILENAME, &pump, N_ ("Pump model (default TR-20)"), N_ ("MODEL") },
    { "models", 0, 0, G_OPTION_ARG_FILENAME, &models_path, N_ ("Pump models file"), N_ ("FILE") },
    { "prescription", 0, 0, G_OPTION_ARG_FILENAME, &rx_path, N_ ("The prescription to analyse"), N_ ("FILE") },
    { "fault", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &fault_texts,
      N_ ("A fault to inject (as for simulate); repeat for each"), N_ ("FAULT") },
    { "seed", 0, 0, G_OPTION_ARG_FILENAME, &seed_text, N_ ("Seed of the per-stroke noise (default 0)"), N_ ("S") },
    { "fill", 0, 0, G_OPTION_ARG_FILENAME, &fill_text, N_ ("Reservoir volume (default: full)"), N_ ("VOLUME") },
    { "sample", 0, 0, G_OPTION_ARG_FILENAME, &sample_text, N_ ("Sampling interval Δt (default 15 min)"), N_ ("DURATION") },
    { "startup", 0, 0, G_OPTION_ARG_FILENAME, &startup_text, N_ ("Start-up period (default 24 h)"), N_ ("DURATION") },
    { "analysis", 0, 0, G_OPTION_ARG_FILENAME, &analysis_text, N_ ("Analysis period T2 (default 48 h)"),
      N_ ("DURATION") },
    { "windows", 0, 0, G_OPTION_ARG_FILENAME, &windows_text,
      N_ ("Observation windows (default 1 h,2 h,4 h,6 h,12 h,24 h)"), N_ ("LIST") },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &plot_path, N_ ("Draw the trumpet curve into FILE.svg or FILE.png"),
      N_ ("FILE") },
    G_OPTION_ENTRY_NULL
  };

  context = thecal_cli_option_context_new (
      NULL, _ ("The accuracy (trumpet) analysis of the reference pump on a prescription."),
      _ ("In the manner of the IEC 60601-2-24 trumpet curve (CLINICAL.md §5.1), scaled to implanted-pump rates: "
         "the volume that reaches the catheter tip is sampled every Δt (15 min) over a start-up period (24 h) and an "
         "analysis period T2 (48 h). For each observation window P (1 to 24 h) a window slides over T2 by Δt; at "
         "each position the error is E = (V − Vprog) / Vprog, where Vprog is what the prescription programs in the "
         "same window (thecal_delivery_plan_volume_between). Ep(max) and Ep(min) are the largest and smallest E; "
         "A is the error over the whole of T2. All figures are exact integers in basis points, shown as "
         "percentages. Narrow windows show the stroke quantisation; a pump with a systematic bias "
         "(--fault bias=+20%) shows it at every window.\n\n"
         "Example:\n"
         "  thecal-cli accuracy --prescription morphine.json --fault bias=+20% --plot trumpet.svg"),
      entries, out);
  if (!thecal_cli_option_context_parse (context, entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (positional[0] != NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("accuracy: unexpected argument “%s”"), positional[0]);
      return FALSE;
    }
  if (!thecal_cli_require ("prescription", rx_path, "morphine.json", error))
    return FALSE;
  if (plot_path != NULL && !g_str_has_suffix (plot_path, ".svg") && !g_str_has_suffix (plot_path, ".png"))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--plot: “%s” must end in .svg or .png"), plot_path);
      return FALSE;
    }
  thecal_accuracy_config_init (&config);
  if ((sample_text != NULL
       && !thecal_cli_parse_quantity ("sample", sample_text, THECAL_QUANTITY_DURATION, &config.sample_ms, error))
      || (startup_text != NULL
          && !thecal_cli_parse_quantity ("startup", startup_text, THECAL_QUANTITY_DURATION, &config.startup_ms, error))
      || (analysis_text != NULL
          && !thecal_cli_parse_quantity ("analysis", analysis_text, THECAL_QUANTITY_DURATION, &config.analysis_ms, error))
      || (windows_text != NULL && !parse_windows (windows_text, &config, error)))
    return FALSE;
  if (seed_text != NULL)
    {
      guint64 seed = 0;

      if (!g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--seed: “%s” is not a whole number from 0 to 18446744073709551615"), seed_text);
          return FALSE;
        }
      setup.seed = seed;
    }
  memset (faults, 0, sizeof faults);
  if (!thecal_cli_parse_faults (fault_texts, faults, &n_faults, error))
    return FALSE;

  if (!thecal_cli_load_models (models_path, models, error))
    return FALSE;
  model = thecal_cli_find_model (models, pump, error);
  if (model == NULL || !thecal_cli_load_prescription (rx_path, rx, error)
      || !thecal_cli_resolve_plan (rx, model, rx_path, plan, error))
    return FALSE;
  setup.fill_nl = model->reservoir_capacity_nl;
  if (fill_text != NULL && !thecal_cli_parse_quantity ("fill", fill_text, THECAL_QUANTITY_VOLUME, &setup.fill_nl, error))
    return FALSE;
  if (!thecal_cli_parse_instant ("start", DEFAULT_START, &setup.start_local_ms, error))
    return FALSE;
  setup.model = model;
  setup.rx = rx;
  setup.battery_bp = THECAL_BP_WHOLE;
  setup.faults = faults;
  setup.n_faults = n_faults;
  if (!thecal_cli_engine_start (&setup, engine, &refusal, error))
    return FALSE;

  thecal_cli_json_string (out->json, "command", "accuracy");
  thecal_cli_json_string (out->json, "prescription_file", rx_path);
  thecal_cli_print (out, _ ("Accuracy of the reference pump (trumpet, CLINICAL.md §5.1 scaled to mL/day): %s %s, "
                            "prescription %s\n"),
                    rx->drug_id, thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml), rx_path);
  thecal_cli_report_model (out, out->json, model, pump == NULL);
  for (int32_t i = 0; i < n_faults; i++)
    thecal_cli_print (out, _ ("Fault: %s\n"), faults[i].text);
  {
    cJSON *array = cJSON_AddArrayToObject (out->json, "faults");

    for (int32_t i = 0; i < n_faults; i++)
      cJSON_AddItemToArray (array, cJSON_CreateString (faults[i].text));
  }
  if (refusal != NULL)
    {
      thecal_cli_print (out, _ ("REFUSED: the pump cannot run this prescription: %s\n"), refusal);
      thecal_cli_json_bool (out->json, "refused", TRUE);
      thecal_cli_json_string (out->json, "refusal", refusal);
      thecal_cli_refuse (out, _ ("accuracy: the pump refuses the prescription: %s"), refusal);
      return TRUE;
    }
  thecal_cli_json_bool (out->json, "refused", FALSE);
  if (!thecal_engine_accuracy (engine, &config, result, &dose_error))
    return thecal_cli_dose_error (&dose_error, "accuracy", error);

  thecal_cli_print (out, _ ("Sampling every %s; start-up %s; analysis period T2 %s\n"),
                    thecal_cli_duration (out, config.sample_ms), thecal_cli_duration (out, config.startup_ms),
                    thecal_cli_duration (out, config.analysis_ms));
  thecal_cli_json_quantity (out->json, "sample", THECAL_QUANTITY_DURATION, config.sample_ms);
  thecal_cli_json_quantity (out->json, "startup", THECAL_QUANTITY_DURATION, config.startup_ms);
  thecal_cli_json_quantity (out->json, "analysis", THECAL_QUANTITY_DURATION, config.analysis_ms);
  thecal_cli_json_quantity (out->json, "programmed", THECAL_QUANTITY_VOLUME, result->programmed_nl);
  thecal_cli_json_quantity (out->json, "delivered", THECAL_QUANTITY_VOLUME, result->delivered_nl);
  thecal_cli_json_quantity (out->json, "specification", THECAL_QUANTITY_RATIO, model->accuracy_bp);
  if (result->has_mean)
    {
      thecal_cli_json_int (out->json, "mean_error_bp", result->mean_error_bp);
      thecal_cli_json_string (out->json, "mean_error", thecal_cli_signed_percent (out, result->mean_error_bp));
      thecal_cli_print (out, _ ("Over T2: programmed %s, delivered %s: mean error A %s\n"),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, result->programmed_nl),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, result->delivered_nl),
                        thecal_cli_signed_percent (out, result->mean_error_bp));
    }
  else
    {
      cJSON_AddNullToObject (out->json, "mean_error_bp");
      cJSON_AddNullToObject (out->json, "mean_error");
      thecal_cli_print (out, _ ("The prescription programs no delivery over T2: there is no error to show.\n"));
    }

  thecal_cli_print (out, _ ("\n%-8s %10s %10s %10s\n"), _ ("Window"), _ ("Ep(max)"), _ ("Ep(min)"), _ ("Positions"));
  windows = cJSON_AddArrayToObject (out->json, "windows");
  for (int32_t w = 0; w < result->n_windows; w++)
    {
      const ThecalAccuracyWindow *win = &result->windows[w];
      cJSON *object = thecal_cli_json_append_object (windows);

      thecal_cli_json_quantity (object, "window", THECAL_QUANTITY_DURATION, win->window_ms);
      thecal_cli_json_int (object, "positions", win->n_positions);
      if (win->n_positions == 0)
        {
          cJSON_AddNullToObject (object, "max_bp");
          cJSON_AddNullToObject (object, "min_bp");
          thecal_cli_print (out, "%-8s %10s %10s %10d\n", thecal_cli_duration (out, win->window_ms), "-", "-", 0);
          continue;
        }
      thecal_cli_json_int (object, "max_bp", win->max_bp);
      thecal_cli_json_string (object, "max", thecal_cli_signed_percent (out, win->max_bp));
      thecal_cli_json_int (object, "min_bp", win->min_bp);
      thecal_cli_json_string (object, "min", thecal_cli_signed_percent (out, win->min_bp));
      thecal_cli_print (out, "%-8s %10s %10s %10d\n", thecal_cli_duration (out, win->window_ms),
                        thecal_cli_signed_percent (out, win->max_bp), thecal_cli_signed_percent (out, win->min_bp),
                        (int) win->n_positions);
      if (win->max_bp > model->accuracy_bp || win->min_bp < -model->accuracy_bp)
        within = FALSE;
    }
  thecal_cli_json_bool (out->json, "within_specification", within);
  thecal_cli_print (out, within ? _ ("Every window is within the %s specification of ±%s.\n") : _ ("Some windows are OUTSIDE the %s specification of ±%s (CLINICAL.md §1.5).\n"),
                    model->id, thecal_cli_q (out, THECAL_QUANTITY_RATIO, model->accuracy_bp));

  samples = cJSON_AddArrayToObject (out->json, "samples");
  for (int32_t i = 0; i < result->n_samples; i++)
    {
      cJSON *object = thecal_cli_json_append_object (samples);

      thecal_cli_json_quantity (object, "delivered", THECAL_QUANTITY_VOLUME, result->sample_delivered_nl[i]);
      thecal_cli_json_quantity (object, "programmed", THECAL_QUANTITY_VOLUME, result->sample_programmed_nl[i]);
    }

  if (plot_path != NULL)
    {
      title = g_strdup_printf (_ ("Trumpet: %s, %s %s, %s"), model->id, rx->drug_id,
                               thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml), rx_path);
      if (!plot (plot_path, out, result, model, title, error))
        return FALSE;
      thecal_cli_print (out, _ ("Plot: %s\n"), plot_path);
      thecal_cli_json_string (out->json, "plot", plot_path);
    }
  return TRUE;
}
