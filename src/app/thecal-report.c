/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-report.c: see thecal-report.h.
 */
#include "config.h"

#include "thecal-report.h"

#include <cairo-pdf.h>
#include <glib/gi18n.h>
#include <string.h>

#include "thecal-dose-history-chart.h"
#include "thecal-format.h"
#include "thecal-history-entry.h"

/* A4 in points, and the margins of the PDF and the PNG (2 cm). */
#define A4_WIDTH_PT 595.276
#define A4_HEIGHT_PT 841.89
#define MARGIN_PT 56.69

void
thecal_report_section_free (ThecalReportSection *section)
{
  if (section == NULL)
    return;
  g_free (section->heading);
  g_ptr_array_unref (section->lines);
  g_free (section);
}

void
thecal_report_free (ThecalReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->steps, g_array_unref);
  g_clear_pointer (&report->refills, g_array_unref);
  g_free (report->library);
  g_free (report->title);
  g_free (report->generated);
  g_ptr_array_unref (report->sections);
  g_free (report);
}

static GPtrArray *
add_section (ThecalReport *report, const char *heading)
{
  ThecalReportSection *section = g_new0 (ThecalReportSection, 1);

  section->heading = g_strdup (heading);
  section->lines = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (report->sections, section);
  return section->lines;
}

static void
add_line (GPtrArray *lines, char *text /* owned */)
{
  g_ptr_array_add (lines, text);
}

static const char *
outcome_text (ThecalProgrammingOutcome outcome)
{
  switch (outcome)
    {
    case THECAL_OUTCOME_PENDING:
      return _ ("PENDING");
    case THECAL_OUTCOME_CONFIRMED:
      return _ ("confirmed");
    case THECAL_OUTCOME_FAILED:
      return _ ("FAILED");
    case THECAL_OUTCOME_UNCERTAIN:
      return _ ("UNCERTAIN");
    default:
      return "";
    }
}

/* The pump's details: the latest version of each pump. */
static void
gather_pumps (const ThecalReportInput *in, GPtrArray *lines)
{
  const ThecalPatientRecord *record = in->record;

  for (guint i = 0; i < record->pumps->len; i++)
    {
      const ThecalPump *p = record->pumps->pdata[i];
      gboolean latest = TRUE;
      g_autofree char *catheter = NULL;

      for (guint j = i + 1; j < record->pumps->len; j++)
        if (g_strcmp0 (((const ThecalPump *) record->pumps->pdata[j])->serial, p->serial) == 0)
          latest = FALSE;
      if (!latest)
        continue;
      catheter = thecal_format_quantity (THECAL_QUANTITY_LENGTH, p->catheter_length_mm);
      if (p->status == THECAL_PUMP_EXPLANTED)
        add_line (lines, g_strdup_printf (_ ("%s (%s), implanted %s, explanted %s"), p->serial, p->model_id, p->implant_date,
                                          p->explant_date != NULL ? p->explant_date : ""));
      else
        add_line (lines, g_strdup_printf (_ ("%s (%s), implanted %s, catheter %s"), p->serial, p->model_id, p->implant_date, catheter));
    }
  if (record->pumps->len == 0)
    add_line (lines, g_strdup (_ ("No pump in the record.")));
}

static void
gather_reading (const ThecalReportInput *in, GPtrArray *pump_lines, GPtrArray *therapy_lines, GPtrArray *findings, GPtrArray *alarms)
{
  ThecalVisit *visit = in->visit;
  const ThecalProtoStatus *st = thecal_visit_get_status (visit);
  const ThecalMsgPrescription *active = thecal_visit_get_active (visit);
  const ThecalPumpModel *model = thecal_visit_get_model (visit);
  GPtrArray *visit_findings = thecal_visit_get_findings (visit);
  g_autoptr (ThecalProgramReview) review = thecal_visit_review_prescription (visit, &active->rx, NULL);
  g_autofree char *read_at = thecal_format_instant (st->pump_ms);
  g_autofree char *volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl);
  g_autofree char *capacity = thecal_format_quantity (THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl);
  g_autofree char *battery = thecal_format_quantity (THECAL_QUANTITY_RATIO, st->battery_bp);
  g_autofree char *eri = st->eri_pump_ms != G_MAXINT64 ? thecal_format_instant (st->eri_pump_ms) : g_strdup (_ ("not known"));
  g_autofree char *summary = thecal_history_rx_summary (&active->rx, in->library);
  gboolean any = FALSE;

  add_line (pump_lines, g_strdup_printf (_ ("Read from pump %s at %s (pump time): reservoir %s of %s; battery %s; replacement (ERI) %s"),
                                         thecal_visit_get_pump (visit)->serial, read_at, volume, capacity, battery,
                                         st->eri ? _ ("reached") : eri));
  if (review != NULL && review->have_projections)
    {
      g_autofree char *low = thecal_format_instant (review->old_projection.low_alarm_local_ms);
      g_autofree char *empty = thecal_format_instant (review->old_projection.empty_local_ms);
      g_autofree char *refill_by = thecal_format_instant (review->old_projection.refill_by_local_ms);

      add_line (pump_lines, g_strdup_printf (_ ("Low-reservoir alarm %s; empty %s; refill by %s"), low, empty, refill_by));
    }
  if (review != NULL && review->old_plan_valid)
    {
      g_autofree char *dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, review->old_plan.basal_ng_per_day);
      g_autofree char *rate = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, review->old_plan.basal_nl_per_day);

      if (review->old_plan.periodic_ng_per_day == 0)
        add_line (therapy_lines, g_strdup_printf (_ ("Now, as read from the pump: %s; daily dose %s (%s)"), summary, dose, rate));
      else
        {
          g_autofree char *periodic = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, review->old_plan.periodic_ng_per_day);

          add_line (therapy_lines, g_strdup_printf (_ ("Now, as read from the pump: %s; daily dose %s basal + %s periodic boluses"), summary,
                                                    dose, periodic));
        }
    }
  else
    add_line (therapy_lines, g_strdup_printf (_ ("Now, as read from the pump: %s"), summary));

  for (guint i = 0; i < visit_findings->len; i++)
    {
      const ThecalVisitFinding *f = visit_findings->pdata[i];

      if (g_str_has_prefix (f->code, "alarm."))
        continue;
      add_line (findings, g_strdup_printf ("%s: %s", thecal_visit_severity_name (f->severity), f->message));
    }
  if (findings->len == 0)
    add_line (findings, g_strdup (_ ("No finding.")));
  for (int i = 0; i < st->n_alarms && i < THECAL_PROTO_ALARMS_MAX; i++)
    {
      const ThecalProtoAlarmState *a = &st->alarms[i];

      if (!a->condition && !a->raised)
        continue;
      add_line (alarms, g_strdup_printf (_ ("Active: %s%s. %s"), thecal_format_alarm_name (a->kind),
                                         a->raised && !a->acknowledged ? _ (" (not acknowledged)") : "", thecal_format_alarm_action (a->kind)));
      any = TRUE;
    }
  if (!any)
    add_line (alarms, g_strdup (_ ("No active alarm at the pump.")));
}

/* No version recorded before today: what the pump's log (or a version of today) says it
 * delivered before the first version recorded today (thecal-dose-history-chart.h's steps). */
static char *
before_from_pump_log (const ThecalReportInput *in)
{
  g_autoptr (GArray) steps = g_array_new (FALSE, TRUE, sizeof (ThecalDoseStep));
  g_autoptr (GArray) refills = g_array_new (FALSE, TRUE, sizeof (ThecalDoseRefillMark));
  const ThecalDoseStep *step = NULL;
  g_autofree char *dose = NULL;
  g_autofree char *concentration = NULL;

  if (in->models != NULL)
    thecal_dose_history_compute (in->record, in->models, steps, refills, NULL);
  /* the last step before the first one a version of today belongs to */
  for (guint i = 0; i < steps->len; i++)
    {
      const ThecalDoseStep *s = &g_array_index (steps, ThecalDoseStep, i);

      if (s->version_recorded_ms != G_MAXINT64 && s->version_recorded_ms >= in->since_utc_ms)
        break;
      step = s;
    }
  if (step == NULL)
    return g_strdup (_ ("Before today: no prescription in the record or the pump's log."));
  dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, step->dose_ng_per_day);
  concentration = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, step->concentration_ng_per_ml);
  if (step->drug_id[0] != '\0')
    return g_strdup_printf (_ ("Before today (no version in the record; the pump's log): %s of %s %s"), dose,
                            thecal_format_drug (in->library, step->drug_id), concentration);
  return g_strdup_printf (_ ("Before today (no version in the record; the pump's log): %s at %s"), dose, concentration);
}

ThecalReport *
thecal_report_gather (const ThecalReportInput *in)
{
  const ThecalPatientRecord *record;
  ThecalReport *report;
  GPtrArray *patient, *pump, *therapy, *refills, *findings, *alarms, *audit;
  const ThecalRecordedPrescription *before = NULL, *latest = NULL;
  g_autofree char *now = NULL;
  g_autoptr (GListStore) history = NULL;
  guint n_changes = 0;

  g_return_val_if_fail (in != NULL && in->record != NULL && in->user != NULL, NULL);
  record = in->record;

  report = g_new0 (ThecalReport, 1);
  report->sections = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_report_section_free);
  report->title = g_strdup_printf (_ ("Session report: %s"), record->patient->name);
  now = thecal_format_instant (in->now_utc_ms);
  report->generated = g_strdup_printf (_ ("Printed %s (UTC) by %s (%s), from the record of this patient"), now, in->user->full_name,
                                       in->user->name);

  patient = add_section (report, _ ("Patient"));
  add_line (patient, g_strdup (record->patient->name));
  add_line (patient, g_strdup_printf (_ ("MRN %s · born %s · %s"), record->patient->mrn, record->patient->date_of_birth,
                                      record->patient->opioid_tolerance == THECAL_OPIOID_NAIVE ? _ ("opioid-naive") : _ ("opioid-tolerant")));

  pump = add_section (report, _ ("Pump"));
  gather_pumps (in, pump);

  therapy = add_section (report, _ ("Therapy before and after"));
  report->chart_after = report->sections->len - 1;
  report->steps = g_array_new (FALSE, TRUE, sizeof (ThecalDoseStep));
  report->refills = g_array_new (FALSE, TRUE, sizeof (ThecalDoseRefillMark));
  if (in->models != NULL)
    thecal_dose_history_compute (record, in->models, report->steps, report->refills, &report->chart_last_ms);
  if (in->library != NULL)
    report->library = g_memdup2 (in->library, sizeof *in->library);
  for (guint i = 0; i < record->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *r = record->prescriptions->pdata[i];

      if (r->superseded)
        continue;
      if (r->recorded_utc_ms < in->since_utc_ms)
        before = r;
      latest = r;
    }
  if (before != NULL)
    {
      g_autofree char *text = thecal_history_prescription_summary (before->json, in->library);

      add_line (therapy, g_strdup_printf (_ ("Before today: %s"), text != NULL ? text : _ ("(unreadable)")));
    }
  else
    add_line (therapy, before_from_pump_log (in));
  findings = NULL;
  alarms = NULL;
  refills = NULL;
  for (guint i = 0; i < record->sessions->len; i++)
    {
      const ThecalProgrammingSession *s = record->sessions->pdata[i];
      g_autoptr (GString) text = NULL;
      g_autofree char *when = NULL;

      if (s->started_utc_ms < in->since_utc_ms || s->started_utc_ms > in->now_utc_ms)
        continue;
      when = thecal_format_instant (s->started_utc_ms);
      text = g_string_new (NULL);
      g_string_append_printf (text, _ ("Changed %s by %s (%s; reason: %s): "), when, s->started_by, outcome_text (s->outcome), s->reason);
      for (guint c = 0; c < s->changes->len; c++)
        {
          const ThecalProgrammingChange *change = s->changes->pdata[c];

          g_string_append_printf (text, "%s%s %s → %s", c > 0 ? "; " : "", change->field, change->old_value != NULL ? change->old_value : "—",
                                  change->new_value != NULL ? change->new_value : "—");
          if (change->override_reason != NULL)
            g_string_append_printf (text, _ (" (soft limit overridden: %s)"), change->override_reason);
        }
      add_line (therapy, g_string_free (g_steal_pointer (&text), FALSE));
      n_changes++;
    }
  if (n_changes == 0)
    add_line (therapy, g_strdup (_ ("No prescription change today.")));
  if (in->visit != NULL && thecal_visit_is_connected (in->visit))
    {
      findings = g_ptr_array_new_with_free_func (g_free);
      alarms = g_ptr_array_new_with_free_func (g_free);
      gather_reading (in, pump, therapy, findings, alarms);
    }
  else
    {
      g_autofree char *text = latest != NULL ? thecal_history_prescription_summary (latest->json, in->library) : NULL;

      add_line (therapy, latest != NULL ? g_strdup_printf (_ ("After (the record's latest prescription): %s"), text != NULL ? text : _ ("(unreadable)"))
                                        : g_strdup (_ ("After: no prescription in the record, and the pump was not read.")));
    }

  refills = add_section (report, _ ("Refills today"));
  for (guint i = 0; i < record->refills->len; i++)
    {
      const ThecalRefill *r = record->refills->pdata[i];
      g_autofree char *when = NULL, *added = NULL, *concentration = NULL, *aspirated = NULL, *expected = NULL;

      if (r->recorded_utc_ms < in->since_utc_ms || r->recorded_utc_ms > in->now_utc_ms)
        continue;
      when = thecal_format_instant (r->performed_utc_ms);
      added = thecal_format_quantity (THECAL_QUANTITY_VOLUME, r->added_nl);
      concentration = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, r->concentration_ng_per_ml);
      aspirated = thecal_format_quantity (THECAL_QUANTITY_VOLUME, r->aspirated_nl);
      expected = thecal_format_quantity (THECAL_QUANTITY_VOLUME, r->expected_nl);
      add_line (refills, g_strdup_printf (_ ("%s, pump %s: %s of %s %s added (lot %s, expires %s); %s aspirated of %s expected%s; "
                                             "by %s, verified by %s"),
                                          when, r->pump_serial, added, thecal_format_drug (in->library, r->drug_id), concentration, r->lot,
                                          r->expiry_date, aspirated, expected, r->discrepancy_flagged ? _ (" (discrepancy flagged)") : "",
                                          r->performed_by, r->verified_by));
    }
  /* boluses asked for today, and refills that did not end confirmed, from the pump writes */
  {
    GPtrArray *boluses = add_section (report, _ ("Boluses today"));

    for (guint i = 0; in->writes != NULL && i < in->writes->len; i++)
      {
        const ThecalPumpWrite *w = in->writes->pdata[i];
        g_autofree char *summary = NULL;
        g_autofree char *when = NULL;

        if (w->started_utc_ms < in->since_utc_ms || w->started_utc_ms > in->now_utc_ms
            || (summary = thecal_history_write_summary (w)) == NULL)
          continue;
        when = thecal_format_instant (w->started_utc_ms);
        /* the outcome's note when it says more than the summary (why a refill failed) */
        if (w->outcome_note != NULL && w->outcome_note[0] != '\0' && strstr (summary, w->outcome_note) == NULL)
          add_line (w->kind == THECAL_PUMP_WRITE_BOLUS ? boluses : refills,
                    g_strdup_printf (_ ("%s by %s: %s (%s)"), when, w->started_by, summary, w->outcome_note));
        else
          add_line (w->kind == THECAL_PUMP_WRITE_BOLUS ? boluses : refills, g_strdup_printf (_ ("%s by %s: %s"), when, w->started_by, summary));
      }
    if (boluses->len == 0)
      add_line (boluses, g_strdup (_ ("No bolus asked for today.")));
  }
  if (refills->len == 0)
    add_line (refills, g_strdup (_ ("No refill today.")));

  {
    GPtrArray *lines = add_section (report, _ ("Findings"));

    if (findings != NULL)
      g_ptr_array_extend_and_steal (lines, g_steal_pointer (&findings));
    else
      add_line (lines, g_strdup (_ ("The pump was not read for this report: connect and interrogate it to include its findings.")));
  }
  {
    GPtrArray *lines = add_section (report, _ ("Alarms"));

    if (alarms != NULL)
      g_ptr_array_extend_and_steal (lines, g_steal_pointer (&alarms));
    /* alarms the pump logged, or acknowledged, that the record took in today */
    history = thecal_history_build (record, in->writes, in->library);
    for (guint i = g_list_model_get_n_items (G_LIST_MODEL (history)); i > 0; i--)
      {
        g_autoptr (ThecalHistoryEntry) entry = g_list_model_get_item (G_LIST_MODEL (history), i - 1);

        if (thecal_history_entry_get_kind (entry) != THECAL_HISTORY_ALARM || thecal_history_entry_get_recorded_ms (entry) < in->since_utc_ms)
          continue;
        add_line (lines, g_strdup_printf ("%s: %s", thecal_history_entry_get_time_text (entry), thecal_history_entry_get_summary (entry)));
      }
    if (lines->len == 0)
      add_line (lines, g_strdup (_ ("No alarm recorded today.")));
  }

  audit = add_section (report, _ ("Audit trail"));
  add_line (audit, g_strdup (in->audit_status != NULL ? in->audit_status : _ ("Not verified for this report.")));

  {
    GPtrArray *sign = add_section (report, _ ("Signature"));

    add_line (sign, g_strdup_printf (_ ("%s: ______________________________    Date: ______________"), in->user->full_name));
  }
  return report;
}

char *
thecal_report_dup_text (const ThecalReport *report)
{
  g_autoptr (GString) text = g_string_new (NULL);

  g_return_val_if_fail (report != NULL, NULL);
  g_string_append_printf (text, "%s\n%s\n", report->title, report->generated);
  for (guint i = 0; i < report->sections->len; i++)
    {
      const ThecalReportSection *section = report->sections->pdata[i];

      g_string_append_printf (text, "%s\n", section->heading);
      for (guint j = 0; j < section->lines->len; j++)
        g_string_append_printf (text, "%s\n", (const char *) section->lines->pdata[j]);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ---- layout and drawing (cairo units: points; floating point only for coordinates) ----------- */

typedef enum
{
  BLOCK_TITLE,
  BLOCK_GENERATED,
  BLOCK_HEADING,
  BLOCK_LINE,
} BlockStyle;

/* @text with a no-break space between a number and its unit ("50 mg/mL") and a word joiner
 * after the slash of a unit, so that a line never breaks inside a quantity (ISMP: the unit always
 * beside the number). */
static char *
keep_units_together (const char *text)
{
  GString *out = g_string_sized_new (strlen (text) + 8);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ' ' && p > text && g_ascii_isdigit (p[-1]) && (g_ascii_isalpha (p[1]) || p[1] == '%'))
        g_string_append (out, "\u00a0");
      else if (*p == '/' && p > text && g_ascii_isalpha (p[-1]) && g_ascii_isalpha (p[1]))
        g_string_append (out, "/\u2060"); /* a word joiner: "mg/day" stays whole */
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* Places one block: a new page when it does not fit (a heading also needs room for one line
 * after it). Draws it when it lands on @page. */
static void
place (cairo_t *cr, PangoLayout *layout, BlockStyle style, const char *text, double width, double height, int page, int *at_page, double *y)
{
  static const char *const fonts[] = { "Sans Bold 16", "Sans 9", "Sans Bold 12", "Sans 10" };
  static const double before[] = { 0, 4, 14, 3 };
  g_autoptr (PangoFontDescription) font = pango_font_description_from_string (fonts[style]);
  g_autofree char *kept = keep_units_together (text);
  int w, h;
  double need;

  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_text (layout, kept, -1);
  pango_layout_get_size (layout, &w, &h);
  need = before[style] + (double) h / PANGO_SCALE;
  if (*y > 0 && *y + need + (style == BLOCK_HEADING ? 16 : 0) > height - 20 /* the footer */)
    {
      (*at_page)++;
      *y = 0;
    }
  if (*y > 0)
    *y += before[style];
  if (*at_page == page)
    {
      cairo_save (cr);
      if (style == BLOCK_GENERATED)
        cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
      else
        cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_move_to (cr, style == BLOCK_LINE ? 0 : 0, *y);
      pango_cairo_show_layout (cr, layout);
      if (style == BLOCK_HEADING)
        {
          cairo_set_line_width (cr, 0.5);
          cairo_move_to (cr, 0, *y + (double) h / PANGO_SCALE + 1);
          cairo_line_to (cr, width, *y + (double) h / PANGO_SCALE + 1);
          cairo_stroke (cr);
        }
      cairo_restore (cr);
    }
  *y += (double) h / PANGO_SCALE + (style == BLOCK_HEADING ? 3 : 0);
}

/* The dose history chart: a caption and the chart the history window shows, in black. */
static void
place_chart (const ThecalReport *report, cairo_t *cr, PangoLayout *layout, double width, double height, int page, int *at_page, double *y)
{
  const double chart_height = 150;
  const GdkRGBA black = { 0, 0, 0, 1 };

  place (cr, layout, BLOCK_LINE, _ ("Daily dose over time (steps: the record's versions and the pump's log; dashed: refills):"), width,
         height, page, at_page, y);
  if (*y + chart_height + 4 > height - 20 /* the footer */)
    {
      (*at_page)++;
      *y = 0;
    }
  if (*at_page == page)
    {
      g_autoptr (PangoFontDescription) font = pango_font_description_from_string ("Sans 8");

      cairo_save (cr);
      cairo_translate (cr, 0, *y + 4);
      pango_layout_set_font_description (layout, font);
      pango_layout_set_width (layout, -1);
      thecal_dose_history_draw (cr, layout, width, chart_height, report->steps, report->refills, report->chart_last_ms, report->library,
                                &black);
      cairo_restore (cr);
    }
  *y += chart_height + 4;
}

int
thecal_report_draw (const ThecalReport *report, cairo_t *cr, double width, double height, int page)
{
  g_autoptr (PangoLayout) layout = NULL;
  int at_page = 0;
  double y = 0;

  g_return_val_if_fail (report != NULL && cr != NULL, 0);
  layout = pango_cairo_create_layout (cr);
  /* cairo units are points here: 72 per inch, whatever the surface; no hinted metrics, so that
   * the pages break at the same lines on paper, in the PDF and in a PNG */
  pango_cairo_context_set_resolution (pango_layout_get_context (layout), 72);
  {
    cairo_font_options_t *options = cairo_font_options_create ();

    cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options (pango_layout_get_context (layout), options);
    cairo_font_options_destroy (options);
  }
  pango_layout_context_changed (layout);
  place (cr, layout, BLOCK_TITLE, report->title, width, height, page, &at_page, &y);
  place (cr, layout, BLOCK_GENERATED, report->generated, width, height, page, &at_page, &y);
  for (guint i = 0; i < report->sections->len; i++)
    {
      const ThecalReportSection *section = report->sections->pdata[i];

      place (cr, layout, BLOCK_HEADING, section->heading, width, height, page, &at_page, &y);
      for (guint j = 0; j < section->lines->len; j++)
        place (cr, layout, BLOCK_LINE, section->lines->pdata[j], width, height, page, &at_page, &y);
      if (i == report->chart_after && report->steps != NULL && report->steps->len > 0)
        place_chart (report, cr, layout, width, height, page, &at_page, &y);
    }
  if (page >= 0 && page <= at_page)
    {
      g_autofree char *footer = g_strdup_printf (_ ("%s — page %d of %d"), report->title, page + 1, at_page + 1);
      g_autoptr (PangoFontDescription) font = pango_font_description_from_string ("Sans 8");
      int w, h;

      pango_layout_set_font_description (layout, font);
      pango_layout_set_width (layout, -1);
      pango_layout_set_text (layout, footer, -1);
      pango_layout_get_size (layout, &w, &h);
      cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
      cairo_move_to (cr, width - (double) w / PANGO_SCALE, height - (double) h / PANGO_SCALE);
      pango_cairo_show_layout (cr, layout);
    }
  return at_page + 1;
}

static gboolean
check_surface (cairo_surface_t *surface, const char *path, GError **error)
{
  cairo_status_t status = cairo_surface_status (surface);

  if (status == CAIRO_STATUS_SUCCESS)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("Cannot write %s: %s"), path, cairo_status_to_string (status));
  return FALSE;
}

int
thecal_report_count_pages (const ThecalReport *report)
{
  /* a PDF surface without output: the metrics of the PDF itself */
  cairo_surface_t *surface = cairo_pdf_surface_create (NULL, A4_WIDTH_PT, A4_HEIGHT_PT);
  cairo_t *cr = cairo_create (surface);
  int pages = thecal_report_draw (report, cr, A4_WIDTH_PT - 2 * MARGIN_PT, A4_HEIGHT_PT - 2 * MARGIN_PT, -1);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return pages;
}

gboolean
thecal_report_export_pdf (const ThecalReport *report, const char *path, GError **error)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  int pages;
  gboolean ok;

  g_return_val_if_fail (report != NULL && path != NULL, FALSE);
  surface = cairo_pdf_surface_create (path, A4_WIDTH_PT, A4_HEIGHT_PT);
  if (!check_surface (surface, path, error))
    {
      cairo_surface_destroy (surface);
      return FALSE;
    }
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, report->title);
  cr = cairo_create (surface);
  pages = thecal_report_draw (report, cr, A4_WIDTH_PT - 2 * MARGIN_PT, A4_HEIGHT_PT - 2 * MARGIN_PT, -1);
  for (int page = 0; page < pages; page++)
    {
      cairo_save (cr);
      cairo_translate (cr, MARGIN_PT, MARGIN_PT);
      thecal_report_draw (report, cr, A4_WIDTH_PT - 2 * MARGIN_PT, A4_HEIGHT_PT - 2 * MARGIN_PT, page);
      cairo_restore (cr);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  ok = check_surface (surface, path, error);
  cairo_surface_destroy (surface);
  return ok;
}

gboolean
thecal_report_export_png (const ThecalReport *report, const char *path, int page, double scale, GError **error)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean ok;

  g_return_val_if_fail (report != NULL && path != NULL, FALSE);
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) (A4_WIDTH_PT * scale), (int) (A4_HEIGHT_PT * scale));
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  cairo_translate (cr, MARGIN_PT, MARGIN_PT);
  thecal_report_draw (report, cr, A4_WIDTH_PT - 2 * MARGIN_PT, A4_HEIGHT_PT - 2 * MARGIN_PT, page);
  cairo_destroy (cr);
  ok = check_surface (surface, path, error);
  if (ok && cairo_surface_write_to_png (surface, path) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("Cannot write %s"), path);
      ok = FALSE;
    }
  cairo_surface_destroy (surface);
  return ok;
}

/* ---- GtkPrintOperation ------------------------------------------------------------------------ */

/* Runs on the main thread: the operation starts; the pages are counted. */
static void
on_begin_print (GtkPrintOperation *operation, GtkPrintContext *context, gpointer user_data)
{
  const ThecalReport *report = user_data;

  gtk_print_operation_set_n_pages (operation, thecal_report_draw (report, gtk_print_context_get_cairo_context (context),
                                                                  gtk_print_context_get_width (context),
                                                                  gtk_print_context_get_height (context), -1));
}

/* Runs on the main thread: one page is drawn. */
static void
on_draw_page (GtkPrintOperation *operation, GtkPrintContext *context, int page, gpointer user_data)
{
  (void) operation;
  thecal_report_draw (user_data, gtk_print_context_get_cairo_context (context), gtk_print_context_get_width (context),
                      gtk_print_context_get_height (context), page);
}

static GtkPrintOperation *
print_operation_new (const ThecalReport *report)
{
  GtkPrintOperation *operation = gtk_print_operation_new ();

  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);
  gtk_print_operation_set_job_name (operation, report->title);
  gtk_print_operation_set_embed_page_setup (operation, TRUE);
  g_signal_connect (operation, "begin-print", G_CALLBACK (on_begin_print), (gpointer) report);
  g_signal_connect (operation, "draw-page", G_CALLBACK (on_draw_page), (gpointer) report);
  return operation;
}

/* Runs on the main thread: the print dialog's operation ended. The operation's own reference is
 * dropped here when it ran on after gtk_print_operation_run returned (in progress), else by
 * thecal_report_print itself. */
static void
on_print_done (GtkPrintOperation *operation, GtkPrintOperationResult result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  (void) user_data;
  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      gtk_print_operation_get_error (operation, &error);
      g_warning ("Printing the report failed: %s", error != NULL ? error->message : "");
    }
  if (g_object_get_data (G_OBJECT (operation), "thecal-in-progress") != NULL)
    g_object_unref (operation);
}

void
thecal_report_print (ThecalReport *report, GtkWindow *parent)
{
  GtkPrintOperation *operation;
  GtkPrintOperationResult result;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (report != NULL);
  operation = print_operation_new (report);
  g_object_set_data_full (G_OBJECT (operation), "thecal-report", report, (GDestroyNotify) thecal_report_free);
  gtk_print_operation_set_allow_async (operation, TRUE);
  g_signal_connect (operation, "done", G_CALLBACK (on_print_done), NULL);
  result = gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG, parent, &error);
  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    g_warning ("Printing the report failed: %s", error != NULL ? error->message : "");
  if (result == GTK_PRINT_OPERATION_RESULT_IN_PROGRESS)
    g_object_set_data (G_OBJECT (operation), "thecal-in-progress", GINT_TO_POINTER (1));
  else
    g_object_unref (operation);
}

gboolean
thecal_report_print_to_file (const ThecalReport *report, const char *path, GError **error)
{
  g_autoptr (GtkPrintOperation) operation = NULL;

  g_return_val_if_fail (report != NULL && path != NULL, FALSE);
  operation = print_operation_new (report);
  gtk_print_operation_set_export_filename (operation, path);
  return gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_EXPORT, NULL, error) != GTK_PRINT_OPERATION_RESULT_ERROR;
}
