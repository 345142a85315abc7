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

#define PLOT_WIDTH 800
#define PLOT_HEIGHT 540

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

/* The observation windows are categories, evenly spaced from left to right (1 h beside 2 h would
 * touch on a linear time axis that reaches 24 h); the error is linear, symmetric around 0. */
typedef struct
{
  double left, right, top, bottom;
  int32_t n_columns;
  double y_limit; /* percent */
} Frame;

static double
fx (const Frame *f, int32_t column)
{
  return f->left + (f->right - f->left) * (column + 0.5) / f->n_columns;
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
  cairo_move_to (cr, x - extents.x_advance * align, y);
  cairo_show_text (cr, text);
}

static double
text_width (cairo_t *cr, const char *text)
{
  cairo_text_extents_t extents;

  cairo_text_extents (cr, text, &extents);
  return extents.x_advance;
}

typedef enum
{
  STYLE_MAX,  /* Ep(max): blue, solid, triangles up */
  STYLE_MIN,  /* Ep(min): orange, solid, triangles down */
  STYLE_MEAN, /* A: green, dashed */
  STYLE_SPEC, /* the model's accuracy: red, dotted */
} Style;

static void
set_style (cairo_t *cr, Style style)
{
  static const double dash[] = { 8, 4 };
  static const double dot[] = { 2, 3 };

  switch (style)
    {
    case STYLE_MAX:
      cairo_set_source_rgb (cr, 0.10, 0.25, 0.75);
      cairo_set_line_width (cr, 2);
      cairo_set_dash (cr, NULL, 0, 0);
      break;
    case STYLE_MIN:
      cairo_set_source_rgb (cr, 0.85, 0.40, 0.00);
      cairo_set_line_width (cr, 2);
      cairo_set_dash (cr, NULL, 0, 0);
      break;
    case STYLE_MEAN:
      cairo_set_source_rgb (cr, 0.10, 0.50, 0.10);
      cairo_set_line_width (cr, 1.5);
      cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
      break;
    case STYLE_SPEC:
    default:
      cairo_set_source_rgb (cr, 0.80, 0.15, 0.15);
      cairo_set_line_width (cr, 1.5);
      cairo_set_dash (cr, dot, G_N_ELEMENTS (dot), 0);
      break;
    }
}

/* A triangle pointing up (Ep(max)) or down (Ep(min)) centred on (x, y). */
static void
marker (cairo_t *cr, double x, double y, Style style)
{
  double d = style == STYLE_MAX ? -1 : 1;

  cairo_save (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, x, y + 5 * d);
  cairo_line_to (cr, x - 4.5, y - 3.5 * d);
  cairo_line_to (cr, x + 4.5, y - 3.5 * d);
  cairo_close_path (cr);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* One legend entry at (x, y): a sample of the line (and marker), then @text. Returns its width. */
static double
legend_entry (cairo_t *cr, double x, double y, Style style, const char *text)
{
  set_style (cr, style);
  cairo_move_to (cr, x, y - 4);
  cairo_line_to (cr, x + 28, y - 4);
  cairo_stroke (cr);
  if (style == STYLE_MAX || style == STYLE_MIN)
    marker (cr, x + 14, y - 4, style);
  cairo_set_source_rgb (cr, 0, 0, 0);
  text_at (cr, x + 34, y, text, 0);
  return 34 + text_width (cr, text);
}

/* Every label is formatted from the exact integers (never through printf's locale-dependent %f);
 * floating point only places things on the page. */
static void
draw (cairo_t *cr,
      ThecalCliOutput *out,
      const ThecalAccuracyResult *r,
      const ThecalPumpModel *model,
      const char *title,
      const char *subtitle)
{
  Frame f = { 90, PLOT_WIDTH - 30, 70, PLOT_HEIGHT - 120, r->n_windows > 0 ? r->n_windows : 1, 0 };
  double spec = (double) model->accuracy_bp / 100.0;
  g_autofree char *mean_text = NULL;
  g_autofree char *spec_text = NULL;
  const char *legend[4];
  double step, x, y;
  char label[64];

  for (int32_t w = 0; w < r->n_windows; w++)
    {
      double hi = (double) r->windows[w].max_bp / 100.0, lo = (double) r->windows[w].min_bp / 100.0;

      if (r->windows[w].n_positions == 0)
        continue;
      f.y_limit = MAX (f.y_limit, MAX (hi < 0 ? -hi : hi, lo < 0 ? -lo : lo));
    }
  if (r->has_mean)
    f.y_limit = MAX (f.y_limit, (double) (r->mean_error_bp < 0 ? -r->mean_error_bp : r->mean_error_bp) / 100.0);
  f.y_limit = MAX (f.y_limit, spec) * 1.2;
  if (f.y_limit < 1)
    f.y_limit = 1;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 15);
  cairo_set_source_rgb (cr, 0, 0, 0);
  text_at (cr, PLOT_WIDTH / 2.0, 26, title, 0.5);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  text_at (cr, PLOT_WIDTH / 2.0, 46, subtitle, 0.5);

  /* the grid, the y ticks and the y axis's title */
  cairo_set_line_width (cr, 1);
  step = f.y_limit > 60 ? 20 : f.y_limit > 24 ? 10
                           : f.y_limit > 10   ? 5
                           : f.y_limit > 4    ? 2
                                              : 1;
  for (int p = -(int) step * (int) (f.y_limit / step); p <= f.y_limit; p += (int) step)
    {
      cairo_set_source_rgb (cr, p == 0 ? 0.45 : 0.88, p == 0 ? 0.45 : 0.88, p == 0 ? 0.45 : 0.88);
      cairo_move_to (cr, f.left, fy (&f, p));
      cairo_line_to (cr, f.right, fy (&f, p));
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      /* signed like the table's figures (thecal_cli_signed_percent) */
      g_snprintf (label, sizeof label, p > 0 ? "+%d %%" : "%d %%", p);
      text_at (cr, f.left - 8, fy (&f, p) + 4, label, 1);
    }
  cairo_save (cr);
  cairo_translate (cr, 22, (f.top + f.bottom) / 2);
  cairo_rotate (cr, -G_PI / 2);
  text_at (cr, 0, 0, _ ("Error E, % of the programmed volume"), 0.5);
  cairo_restore (cr);

  /* the frame, the x ticks and the x axis's title */
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_rectangle (cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_stroke (cr);
  for (int32_t w = 0; w < r->n_windows; w++)
    {
      cairo_move_to (cr, fx (&f, w), f.bottom);
      cairo_line_to (cr, fx (&f, w), f.bottom + 4);
      cairo_stroke (cr);
      text_at (cr, fx (&f, w), f.bottom + 18, thecal_cli_duration (out, r->windows[w].window_ms), 0.5);
    }
  text_at (cr, (f.left + f.right) / 2, f.bottom + 38,
           _ ("Observation window P (the window slides over the analysis period T2 by Δt)"), 0.5);

  /* the accuracy specification and the mean error */
  set_style (cr, STYLE_SPEC);
  for (int sign = -1; sign <= 1; sign += 2)
    {
      cairo_move_to (cr, f.left, fy (&f, sign * spec));
      cairo_line_to (cr, f.right, fy (&f, sign * spec));
      cairo_stroke (cr);
    }
  if (r->has_mean)
    {
      set_style (cr, STYLE_MEAN);
      cairo_move_to (cr, f.left, fy (&f, (double) r->mean_error_bp / 100.0));
      cairo_line_to (cr, f.right, fy (&f, (double) r->mean_error_bp / 100.0));
      cairo_stroke (cr);
    }

  /* Ep(max) and Ep(min): lines through the windows that have positions, a marker on each */
  for (Style style = STYLE_MAX; style <= STYLE_MIN; style++)
    {
      gboolean started = FALSE;

      set_style (cr, style);
      for (int32_t w = 0; w < r->n_windows; w++)
        {
          double v = (double) (style == STYLE_MAX ? r->windows[w].max_bp : r->windows[w].min_bp) / 100.0;

          if (r->windows[w].n_positions == 0)
            continue;
          if (!started)
            cairo_move_to (cr, fx (&f, w), fy (&f, v));
          else
            cairo_line_to (cr, fx (&f, w), fy (&f, v));
          started = TRUE;
        }
      cairo_stroke (cr);
      for (int32_t w = 0; w < r->n_windows; w++)
        if (r->windows[w].n_positions > 0)
          marker (cr, fx (&f, w), fy (&f, (double) (style == STYLE_MAX ? r->windows[w].max_bp : r->windows[w].min_bp) / 100.0),
                  style);
    }

  /* the legend, two entries a row under the axis's title */
  legend[0] = _ ("Ep(max): the largest error at each window");
  legend[1] = _ ("Ep(min): the smallest error at each window");
  if (r->has_mean)
    mean_text = g_strdup_printf (_ ("A: the mean error over T2, %s"), thecal_cli_signed_percent (out, r->mean_error_bp));
  else
    mean_text = g_strdup (_ ("A: nothing programmed over T2"));
  spec_text = g_strdup_printf (_ ("%s accuracy: ±%s"), model->id,
                               thecal_cli_q (out, THECAL_QUANTITY_RATIO, model->accuracy_bp));
  legend[2] = mean_text;
  legend[3] = spec_text;
  y = f.bottom + 66;
  for (int i = 0; i < 4; i += 2)
    {
      x = f.left;
      legend_entry (cr, x, y, (Style) i, legend[i]);
      x = (f.left + f.right) / 2;
      legend_entry (cr, x, y, (Style) (i + 1), legend[i + 1]);
      y += 20;
    }
}

static gboolean
plot (const char *path,
      ThecalCliOutput *out,
      const ThecalAccuracyResult *r,
      const ThecalPumpModel *model,
      const char *title,
      const char *subtitle,
      GError **error)
{
  gboolean svg = g_str_has_suffix (path, ".svg");
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  surface = svg ? cairo_svg_surface_create (path, PLOT_WIDTH, PLOT_HEIGHT)
                : cairo_image_surface_create (CAIRO_FORMAT_RGB24, PLOT_WIDTH, PLOT_HEIGHT);
  cr = cairo_create (surface);
  draw (cr, out, r, model, title, subtitle);
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
  g_auto (ThecalCliEngineOptions) options = { 0 };
  g_autofree char *fill_text = NULL;
  g_autofree char *sample_text = NULL;
  g_autofree char *startup_text = NULL;
  g_autofree char *analysis_text = NULL;
  g_autofree char *windows_text = NULL;
  g_autofree char *plot_path = NULL;
  g_autofree char *refusal = NULL;
  g_autofree char *title = NULL;
  g_autofree ThecalEngine *engine = g_new0 (ThecalEngine, 1);
  g_autofree ThecalAccuracyResult *result = g_new0 (ThecalAccuracyResult, 1);
  ThecalCliEngineSetup *setup = &options.setup;
  ThecalAccuracyConfig config;
  ThecalDoseError dose_error = { 0 };
  const ThecalPumpModel *model;
  const char *drug_name;
  int64_t fill_nl = -1;
  cJSON *windows, *samples;
  gboolean within = TRUE;
  const GOptionEntry entries[] = {
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

  /* the start in the description is THECAL_CLI_ENGINE_DEFAULT_START, written out for xgettext */
  if (!thecal_cli_engine_parse_command_line (
          &options, entries,
          _ ("The accuracy (trumpet) analysis of the reference pump on a prescription."),
          _ ("In the manner of the IEC 60601-2-24 trumpet curve (CLINICAL.md §5.1), scaled to implanted-pump rates: "
             "the volume that reaches the catheter tip is sampled every Δt (15 min) over a start-up period (24 h) and an "
             "analysis period T2 (48 h). For each observation window P (1 to 24 h) a window slides over T2 by Δt; at "
             "each position the error is E = (V − Vprog) / Vprog, where Vprog is what the prescription programs in the "
             "same window (thecal_delivery_plan_volume_between). Ep(max) and Ep(min) are the largest and smallest E; "
             "A is the error over the whole of T2. All figures are exact integers in basis points, shown as "
             "percentages. Narrow windows show the stroke quantisation; a pump with a systematic bias "
             "(--fault bias=+20%) shows it at every window. Windows outside the model's accuracy (±14.5 % for TR-20 "
             "and TR-40) are reported, and the exit status stays 0: the analysis only describes the pump.\n\n"
             "Faults as for simulate: bias=+20%, noise=50 nL, stall@3 days[/2 h], occlusion@10 days[/1 day], "
             "battery-drain=200%, drift=+100 ppm, memory-error@5 days. The pump starts at 2026-11-01T00:00, "
             "primed, with no PTM presses (docs/engine.md).\n\n"
             "Example:\n"
             "  thecal-cli accuracy --prescription morphine.json --fault bias=+20% --plot trumpet.svg"),
          out, argc, argv, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("prescription", options.rx_path, "morphine.json", error))
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
      || (windows_text != NULL && !parse_windows (windows_text, &config, error))
      || (fill_text != NULL && !thecal_cli_parse_quantity ("fill", fill_text, THECAL_QUANTITY_VOLUME, &fill_nl, error))
      || !thecal_cli_parse_instant ("start", THECAL_CLI_ENGINE_DEFAULT_START, &setup->start_local_ms, error))
    return FALSE;
  /* the shared options (seed, faults), then the files */
  if (!thecal_cli_engine_options_load (&options, error))
    return FALSE;
  model = setup->model;
  drug_name = thecal_cli_engine_drug_name (&options);
  setup->fill_nl = fill_text != NULL ? fill_nl : model->reservoir_capacity_nl;
  setup->battery_bp = THECAL_BP_WHOLE;
  if (!thecal_cli_engine_start (setup, engine, &refusal, error))
    return FALSE;

  thecal_cli_engine_report_json (out, &options);
  thecal_cli_print (out, _ ("Accuracy of the reference pump (trumpet, CLINICAL.md §5.1 scaled to mL/day): %s %s, "
                            "prescription %s\n"),
                    drug_name, thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, options.rx->concentration_ng_per_ml),
                    options.rx_path);
  thecal_cli_report_model (out, out->json, model, options.pump == NULL);
  thecal_cli_print (out, _ ("Fill %s from %s; no PTM presses; seed %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, setup->fill_nl), thecal_cli_instant (out, setup->start_local_ms),
                    options.seed_text != NULL ? options.seed_text : "0");
  if (thecal_cli_engine_report_faults (out, "accuracy", &options, refusal, TRUE))
    return TRUE;
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
      g_autoptr (GString) subtitle = g_string_new (NULL);

      title = g_strdup_printf (_ ("Trumpet curve: %s, %s %s (%s)"), model->id, drug_name,
                               thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, options.rx->concentration_ng_per_ml),
                               options.rx_path);
      g_string_printf (subtitle, _ ("Δt %s, start-up %s, T2 %s; fill %s; seed %s"),
                       thecal_cli_duration (out, config.sample_ms), thecal_cli_duration (out, config.startup_ms),
                       thecal_cli_duration (out, config.analysis_ms), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, setup->fill_nl),
                       options.seed_text != NULL ? options.seed_text : "0");
      for (int32_t i = 0; i < setup->n_faults; i++)
        g_string_append_printf (subtitle, i == 0 ? _ ("; fault %s") : ", %s", options.faults[i].text);
      if (!plot (plot_path, out, result, model, title, subtitle->str, error))
        return FALSE;
      thecal_cli_print (out, _ ("Plot: %s\n"), plot_path);
      thecal_cli_json_string (out->json, "plot", plot_path);
    }
  return TRUE;
}
