/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-demo.c: "thecal-cli demo": a clinic visit on simulated pumps, and
 * "thecal-cli demo --calculators": the calculators on worked examples.
 *
 * The visit builds a demo record (THECAL_RECORD_OPEN_CREATE_DEMO, in a temporary directory removed
 * at the end unless --db names a new file) with six patients on the demo pumps of
 * thecal-sim-pump-demo.h (one stable, one low on drug, one near ERI, one over-infusing, one with a
 * motor stall, one on baclofen), interrogates each through src/workflow over the loopback transport
 * on simulated time, then walks a scripted visit of the low-reservoir patient: a refill whose
 * discrepancy is flagged, acknowledged and confirmed by a second person, a change of prescription
 * with its review and projections and a clinician bolus; then a refill of the stable patient that
 * doubles the concentration (one review, REFILL_COMMIT, the bridge bolus; the pump never stops),
 * and the audit chain verified. The
 * calculators use the shipped drug library and pump models (or --library / --models) and the same
 * report functions as the commands. Refusals shown are part of the demonstration: it exits 0.
 */
#include "config.h"

#include "thecal-cli-demo.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "thecal-cli-bolus.h"
#include "thecal-cli-check.h"
#include "thecal-cli-dose.h"
#include "thecal-cli-oral.h"
#include "thecal-cli-refill.h"
#include "thecal-demo.h"
#include "thecal-dose-json.h"
#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-visit.h"
#include "thecal-workflow-bolus.h"
#include "thecal-workflow-refill.h"

#define MG(x) ((int64_t) (x) *THECAL_NG_PER_MG)
#define MCG(x) ((int64_t) (x) *THECAL_NG_PER_MCG)
#define ML(x) ((int64_t) (x) *THECAL_NL_PER_ML)

static void
prescription_new (ThecalPrescription *rx, const char *drug_id, int64_t concentration_ng_per_ml)
{
  memset (rx, 0, sizeof *rx);
  thecal_prescription_init (rx);
  g_strlcpy (rx->drug_id, drug_id, sizeof rx->drug_id);
  rx->concentration_ng_per_ml = concentration_ng_per_ml;
}

static void
continuous_dose (ThecalPrescription *rx, int64_t dose_ng_per_day)
{
  rx->mode = THECAL_MODE_CONTINUOUS;
  rx->continuous.basis = THECAL_BASIS_DOSE;
  rx->continuous.dose_ng_per_day = dose_ng_per_day;
}

static void
flex_step (ThecalPrescription *rx, int32_t start_min, int32_t duration_min, int64_t dose_ng_per_day)
{
  ThecalFlexStep *step = &rx->flex_steps[rx->n_flex_steps++];

  rx->mode = THECAL_MODE_FLEX;
  step->start_min = start_min;
  step->duration_min = duration_min;
  step->amount.basis = THECAL_BASIS_DOSE;
  step->amount.dose_ng_per_day = dose_ng_per_day;
}

static cJSON *
step_begin (ThecalCliOutput *out, cJSON *steps, int number, const char *title, const char *kind)
{
  cJSON *step = thecal_cli_json_append_object (steps);

  thecal_cli_print (out, "\n== %d. %s ==\n", number, title);
  thecal_cli_json_int (step, "step", number);
  thecal_cli_json_string (step, "title", title);
  thecal_cli_json_string (step, "kind", kind);
  return step;
}

static gboolean
parse_fixed_instant (const char *text, int64_t *local_ms, GError **error)
{
  return thecal_cli_parse_instant ("demo", text, local_ms, error);
}

static gboolean
demo_calculators (ThecalCliOutput *out, const char *library_path, const char *models_path, GError **error)
{
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autofree ThecalPrescription *morphine_25 = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *morphine_10 = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *flex = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *ziconotide_current = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *ziconotide_new = g_new0 (ThecalPrescription, 1);
  char *flex_json = NULL;
  g_autofree char *why = NULL;
  const ThecalPumpModel *model;
  ThecalPatientContext tolerant = { .opioid_tolerant = true };
  ThecalPatientContext naive = { .opioid_tolerant = false };
  ThecalCliRefillInput refill = { 0 };
  ThecalCatheter catheter = { .catheter_length_mm = 450, .catheter_volume_nl_per_cm = 2600 };
  gboolean in_range = FALSE;
  gboolean fill_refused = FALSE;
  cJSON *steps;
  cJSON *step;

  model = thecal_cli_load_model (models_path, NULL, models, error);
  if (model == NULL || !thecal_cli_load_library (library_path, library, error))
    return FALSE;

  thecal_cli_json_string (out->json, "library_version", library->version);
  thecal_cli_print (out, _ ("Thecal demo: the calculators of thecal-cli on worked examples.\n"));
  thecal_cli_print (out, _ ("Drug library %s and pump models from %s; pump model %s unless said otherwise.\n"),
                    library->version, library_path != NULL ? library_path : thecal_cli_data_dir (), model->id);
  steps = thecal_cli_json_array (out->json, "steps");

  /* 1. The worked example of DESIGN.md: 25 mg/mL, 5 mg/day → 0.2 mL/day, and back. */
  step = step_begin (out, steps, 1, _ ("Dose → rate: morphine 25 mg/mL at 5 mg/day"), "dose");
  thecal_cli_print (out, "$ thecal-cli dose --concentration \"25 mg/mL\" --dose \"5 mg/day\"\n");
  if (!thecal_cli_dose_report (out, step, model, TRUE, MG (25), TRUE, MG (5), &in_range, error))
    return FALSE;
  step = step_begin (out, steps, 2, _ ("Rate → dose: 0.2 mL/day of morphine 25 mg/mL"), "dose");
  thecal_cli_print (out, "$ thecal-cli dose --concentration \"25 mg/mL\" --rate \"0.2 mL/day\"\n");
  if (!thecal_cli_dose_report (out, step, model, TRUE, MG (25), FALSE, 200000, &in_range, error))
    return FALSE;

  /* 2. A flex day: 4 mg/day at night, 6 mg/day in the day, 5 mg/day in the evening, and PTM. */
  prescription_new (flex, "morphine", MG (10));
  flex_step (flex, 0, 8 * 60, MG (4));
  flex_step (flex, 8 * 60, 12 * 60, MG (6));
  flex_step (flex, 20 * 60, 4 * 60, MG (5));
  flex->ptm.enabled = true;
  flex->ptm.dose_ng = MCG (200);
  flex->ptm.duration_ms = 10 * THECAL_MS_PER_MINUTE;
  flex->ptm.lockout_ms = 4 * THECAL_MS_PER_HOUR;
  flex->ptm.max_per_24h = 4;
  step = step_begin (out, steps, 3,
                     _ ("A flex schedule with PTM: morphine 10 mg/mL, 4 / 6 / 5 mg/day, opioid-tolerant patient"),
                     "check");
  flex_json = thecal_prescription_to_json (flex);
  if (flex_json != NULL)
    thecal_cli_print (out, _ ("The prescription, as a file for “thecal-cli check”:\n%s\n"), flex_json);
  free (flex_json); /* thecal_prescription_to_json () allocates with malloc () */
  thecal_cli_check_report (out, step, flex, NULL, &tolerant, model, TRUE, library, NULL, &why);
  g_clear_pointer (&why, g_free);

  /* 3. Ziconotide compounded at 200 mcg/mL (above the 100 mcg/mL soft maximum) and raised from
   * 4.8 to 21.6 mcg/day: above the label maximum of 19.2 mcg/day and the titration step of
   * 2.4 mcg/day (both hard, CLINICAL.md §3.1). An override reason lifts the soft limit only. */
  prescription_new (ziconotide_current, "ziconotide", MCG (100));
  continuous_dose (ziconotide_current, MCG (48) / 10);
  prescription_new (ziconotide_new, "ziconotide", MCG (200));
  continuous_dose (ziconotide_new, MCG (216) / 10);
  step = step_begin (out, steps, 4,
                     _ ("A check over a soft and a hard limit: ziconotide 200 mcg/mL from 4.8 to 21.6 mcg/day, "
                        "with an override reason"),
                     "check");
  thecal_cli_print (out, _ ("(The override reason covers the soft limit; it cannot lift a hard one.)\n"));
  thecal_cli_check_report (out, step, ziconotide_new, ziconotide_current, &naive, model, TRUE, library,
                           _ ("compounded by the hospital pharmacy"), &why);
  g_clear_pointer (&why, g_free);

  /* 4. A refill: 20 mL on 1 November at 0.2 mL/day; 30 days later 14 mL are expected but only
   * 12.2 mL come back: 1.8 mL is beyond max (14.5 % × 6 mL = 0.87 mL, 1 mL). */
  prescription_new (morphine_25, "morphine", MG (25));
  continuous_dose (morphine_25, MG (5));
  refill.rx = morphine_25;
  refill.rx_label = _ ("continuous 5 mg/day");
  refill.fill_volume_nl = ML (20);
  refill.aspirated_nl = ML (122) / 10;
  refill.have_added = TRUE;
  refill.added_nl = ML (20);
  if (!parse_fixed_instant ("2026-11-01T09:00", &refill.filled_at_local_ms, error)
      || !parse_fixed_instant ("2026-12-01T09:00", &refill.at_local_ms, error))
    return FALSE;
  step = step_begin (out, steps, 5, _ ("A refill with a flagged discrepancy"), "refill-calc");
  if (!thecal_cli_refill_report (out, step, model, TRUE, library, &refill, &fill_refused, error))
    return FALSE;

  /* 5. Bridge: morphine 10 mg/mL → 25 mg/mL, 5 mg/day both, 45 cm of catheter. */
  prescription_new (morphine_10, "morphine", MG (10));
  continuous_dose (morphine_10, MG (5));
  step = step_begin (out, steps, 6, _ ("A bridge bolus: morphine 10 mg/mL → 25 mg/mL at 5 mg/day, 45 cm catheter"),
                     "bolus-calc bridge");
  if (!thecal_cli_bridge_report (out, step, model, TRUE, library, &catheter, morphine_10,
                                 _ ("continuous 5 mg/day"), morphine_25, _ ("continuous 5 mg/day"), error))
    return FALSE;

  /* 6. Priming after an implant, then 25 mg/mL at 5 mg/day. */
  step = step_begin (out, steps, 7, _ ("A priming bolus after an implant, 45 cm catheter"), "bolus-calc priming");
  if (!thecal_cli_priming_report (out, step, model, TRUE, library, &catheter, morphine_25,
                                  _ ("continuous 5 mg/day"), 0, error))
    return FALSE;

  /* 7. Oral morphine 120 mg/day: 0.4 mg/day at 300:1, 10 mg/day at 12:1. */
  step = step_begin (out, steps, 8, _ ("Oral → intrathecal morphine: an estimate only"), "oral-estimate");
  thecal_cli_print (out, "$ thecal-cli oral-estimate --oral \"120 mg/day\"\n");
  if (!thecal_cli_oral_report (out, step, MG (120), THECAL_ORAL_TO_IT_RATIO_DEFAULT, error))
    return FALSE;

  thecal_cli_print (out, _ ("\nEnd of the demo: every figure above is exact integer arithmetic "
                            "(nL, ng, ms), shown the ISMP way whatever the locale.\n"));
  return TRUE;
}

/* ---- the clinic visit on simulated pumps ----------------------------------------------------- */

#define OVERRIDE_REASON "morphine 25 mg/mL: above the library's soft limit, reviewed with the pharmacy"
#define OVERRIDE_REASON_50 "morphine 50 mg/mL: half the refill volume, reviewed with the pharmacy"

/* The patients of the demo record (thecal-demo.h, shared with the GUI's demo mode). */
typedef ThecalDemoPatient DemoPatient;

/* The patient of the scripted visit: the one low on drug. */
#define DEMO_VISIT_PATIENT THECAL_DEMO_PATIENT_LOW_RESERVOIR
/* The patient whose refill changes the concentration: the stable one. */
#define DEMO_CHANGE_PATIENT THECAL_DEMO_PATIENT_STABLE

static void
demo_on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  (void) source;
  *slot = g_object_ref (result);
}

/* Runs the simulated clock (the link) and, when nothing is scheduled, the record's answers. */
static GAsyncResult *
demo_wait (ThecalDemoLink *d, GAsyncResult **slot)
{
  while (*slot == NULL)
    if (!thecal_clock_iterate (thecal_demo_link_get_clock (d), NULL))
      g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static cJSON *
heading (ThecalCliOutput *out, cJSON *steps, int *number, const char *title, const char *kind)
{
  return step_begin (out, steps, ++*number, title, kind);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) folder = g_dir_open (path, 0, NULL);
  const char *name;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
demo_findings (ThecalCliOutput *out, cJSON *step, ThecalVisit *visit)
{
  GPtrArray *findings = thecal_visit_get_findings (visit);
  cJSON *array = thecal_cli_json_array (step, "findings");

  if (findings->len == 0)
    thecal_cli_print (out, _ ("  no finding\n"));
  for (guint i = 0; i < findings->len; i++)
    {
      const ThecalVisitFinding *f = findings->pdata[i];
      cJSON *item = thecal_cli_json_append_object (array);

      thecal_cli_print (out, "  [%s] %s: %s\n", thecal_visit_severity_name (f->severity), f->code, f->message);
      thecal_cli_json_string (item, "severity", thecal_visit_severity_name (f->severity));
      thecal_cli_json_string (item, "code", f->code);
    }
}

/* Starts the demo pump of @patient (thecal-demo.h) on simulated time and connects a visit of
 * @session to it (interrogating); *@link holds it afterwards. */
static gboolean
demo_connect (ThecalCliOutput *out,
              cJSON *step,
              ThecalRecordSession *session,
              ThecalPumpModelSet *models,
              ThecalDrugLibrary *library,
              const DemoPatient *patient,
              ThecalDemoLink **link,
              GError **error)
{
  g_autoptr (ThecalClock) clock = thecal_clock_new_virtual (0);
  g_autoptr (ThecalDemoLink) d = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  const ThecalSimPumpDemo *demo;
  const ThecalProtoStatus *st;
  ThecalVisit *visit;

  d = thecal_demo_link_new (session, models, library, patient->serial, clock, &local_error);
  if (d == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: %s", local_error->message);
      return FALSE;
    }
  demo = thecal_demo_link_get_demo (d);
  visit = thecal_demo_link_get_visit (d);
  thecal_visit_connect_async (visit, patient->mrn, NULL, demo_on_done, &result);
  if (!thecal_visit_connect_finish (visit, demo_wait (d, &result), &local_error))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: %s: %s", patient->serial, local_error->message);
      return FALSE;
    }
  st = thecal_visit_get_status (visit);
  thecal_cli_json_string (step, "patient", patient->mrn);
  thecal_cli_json_string (step, "pump", patient->serial);
  thecal_cli_json_quantity (step, "reservoir", THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl);
  thecal_cli_print (out, _ ("%s %s, pump %s (%s)\n  reservoir %s of %s, battery %s\n"), patient->mrn, patient->name,
                    patient->serial, demo->summary, thecal_cli_q (out, THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl),
                    st->reservoir_drug_id, thecal_cli_q (out, THECAL_QUANTITY_RATIO, st->battery_bp));
  /* the battery's elective replacement indicator: reached, or when it will be (CLINICAL.md §1.7) */
  if (st->eri)
    thecal_cli_print (out, _ ("  ERI reached: plan the replacement of the pump\n"));
  else if (st->eri_pump_ms != INT64_MAX)
    thecal_cli_print (out, _ ("  ERI expected %s\n"), thecal_cli_instant (out, st->eri_pump_ms));
  demo_findings (out, step, visit);
  *link = g_steal_pointer (&d);
  return TRUE;
}

/* Builds the demo record at @db (thecal-demo.h): an administrator, the demo user, a physician (the
 * second person of the refill) and the six patients on their demo pumps, paired with the demo keys. */
static ThecalRecord *
demo_record (ThecalCliOutput *out, const char *db, ThecalRecordSession **admin, GError **error)
{
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (GError) local_error = NULL;

  record = thecal_demo_record_create_sync (db, 0, admin, NULL, &local_error);
  if (record == NULL && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("demo: --db %s exists already: give a new file"), db);
      return NULL;
    }
  if (record == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: %s", local_error->message);
      return NULL;
    }
  thecal_cli_print (out, _ ("A demo record with the users admin, demo (the demo clinician) and paula (a physician), and %u "
                            "patients on simulated demo pumps.\n"),
                    thecal_demo_patient_count ());
  return g_steal_pointer (&record);
}

static void
print_projection (ThecalCliOutput *out, const char *label, const ThecalProjection *p)
{
  thecal_cli_print (out, _ ("  %s: low-reservoir alarm %s, "), label, thecal_cli_instant (out, p->low_alarm_local_ms));
  thecal_cli_print (out, _ ("empty %s, "), thecal_cli_instant (out, p->empty_local_ms));
  thecal_cli_print (out, _ ("refill by %s\n"), thecal_cli_instant (out, p->refill_by_local_ms));
}

/* The scripted visit of the patient low on drug (already connected): refill, change, bolus. */
static gboolean
demo_visit (ThecalCliOutput *out, cJSON *steps, int *number, ThecalDemoLink *d, GError **error)
{
  ThecalVisit *visit = thecal_demo_link_get_visit (d);
  ThecalRefillRequest request = { 0 };
  ThecalRefillReport refill;
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  g_autoptr (ThecalProgramReview) review = NULL;
  g_autoptr (ThecalBolusReview) bolus = NULL;
  ThecalBolusRequest bolus_request = { .kind = THECAL_VISIT_BOLUS_CLINICIAN, .dose_ng = MG (1) / 2, .duration_ms = 30 * THECAL_MS_PER_MINUTE };
  ThecalProgrammingOutcome outcome;
  gint64 session_id = 0;
  cJSON *step;

  /* the refill: 1.8 mL expected, 0.6 mL aspirated: 1.2 mL less, over the TR-20's 1 mL */
  step = heading (out, steps, number, _ ("Refill: a flagged discrepancy, acknowledged, and a second person"), "refill");
  request.aspirated_nl = ML (6) / 10;
  request.added_nl = ML (18);
  request.drug_id = "morphine";
  request.concentration_ng_per_ml = MG (25);
  request.lot = "LOT-DEMO-1";
  request.expiry_date = "2027-06-30";
  request.verifier_name = THECAL_DEMO_PHYSICIAN_NAME;
  request.verifier_password = THECAL_DEMO_PHYSICIAN_PASSWORD;
  thecal_cli_print (out, _ ("Aspirated %s, adding %s of morphine 25 mg/mL (lot %s); paula confirms with her own password.\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, request.aspirated_nl), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, request.added_nl),
                    request.lot);
  for (int attempt = 0; attempt < 2; attempt++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GError) local_error = NULL;

      request.acknowledgement = attempt == 0 ? NULL : _ ("patient examined: no sign of overdose or pocket fill");
      thecal_visit_refill_async (visit, &request, NULL, demo_on_done, &result);
      if (thecal_visit_refill_finish (visit, demo_wait (d, &result), &refill, &local_error))
        break;
      if (attempt > 0 || (local_error->domain != THECAL_WORKFLOW_ERROR && local_error->domain != THECAL_VISIT_ERROR))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: refill: %s", local_error->message);
          return FALSE;
        }
      thecal_cli_print (out, _ ("Refused until acknowledged: %s\n"), local_error->message);
      thecal_cli_print (out, _ ("Acknowledged: “%s”.\n"), _ ("patient examined: no sign of overdose or pocket fill"));
    }
  thecal_cli_json_bool (step, "flagged", refill.check.flagged);
  thecal_cli_json_string (step, "outcome", thecal_programming_outcome_name (refill.outcome));
  thecal_cli_print (out, _ ("Expected residual %s, aspirated %s%s.\n"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, refill.check.expected_residual_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, refill.check.aspirated_nl),
                    refill.check.flagged ? _ (" (discrepancy flagged and acknowledged)") : "");
  thecal_cli_print (out, _ ("Refill %s, verified by paula: the reservoir holds %s.\n"), thecal_programming_outcome_name (refill.outcome),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, refill.new_volume_nl));
  if (refill.have_projection)
    thecal_cli_print (out, _ ("Low-reservoir alarm %s; refill by %s.\n"), thecal_cli_instant (out, refill.projection.low_alarm_local_ms),
                      thecal_cli_instant (out, refill.projection.refill_by_local_ms));

  /* the change: 5 → 6 mg/day of the same morphine 25 mg/mL */
  step = heading (out, steps, number, _ ("Change of prescription: review, projections, write, read back"), "program");
  prescription_new (rx, "morphine", MG (25));
  continuous_dose (rx, MG (6));
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GError) local_error = NULL;

    review = thecal_visit_review_prescription (visit, rx, &local_error);
    if (review == NULL)
      {
        g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: review: %s", local_error->message);
        return FALSE;
      }
    thecal_cli_print (out, _ ("Review (old → new):\n"));
    for (guint i = 0; i < review->changes->len; i++)
      {
        const ThecalVisitChange *c = review->changes->pdata[i];

        thecal_cli_print (out, "  %s: %s → %s\n", c->field, c->old_value != NULL ? c->old_value : "—",
                          c->new_value != NULL ? c->new_value : "—");
      }
    if (review->have_projections)
      {
        thecal_cli_print (out, _ ("Projections from the pump's reservoir:\n"));
        print_projection (out, _ ("old"), &review->old_projection);
        print_projection (out, _ ("new"), &review->new_projection);
      }
    thecal_cli_print (out, _ ("Override reason for the soft limit: “%s”.\n"), OVERRIDE_REASON);
    thecal_visit_program_async (visit, review, _ ("better pain control"), OVERRIDE_REASON, NULL, demo_on_done, &result);
    if (!thecal_visit_program_finish (visit, demo_wait (d, &result), &outcome, &session_id, &local_error))
      {
        g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: program: %s", local_error->message);
        return FALSE;
      }
    thecal_cli_json_string (step, "outcome", thecal_programming_outcome_name (outcome));
    thecal_cli_print (out, _ ("Programming session %" G_GINT64_FORMAT ": %s (written, read back and compared).\n"), session_id,
                      thecal_programming_outcome_name (outcome));
  }

  /* a clinician bolus of 0.5 mg over 30 min */
  step = heading (out, steps, number, _ ("A clinician bolus"), "bolus");
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GError) local_error = NULL;

    bolus = thecal_visit_review_bolus (visit, &bolus_request, &local_error);
    if (bolus == NULL)
      {
        g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: bolus: %s", local_error->message);
        return FALSE;
      }
    thecal_cli_print (out, _ ("Review: %s\n"), bolus->summary);
    thecal_visit_bolus_async (visit, bolus, _ ("breakthrough pain after the change"), NULL, demo_on_done, &result);
    if (!thecal_visit_bolus_finish (visit, demo_wait (d, &result), &outcome, &local_error))
      {
        g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: bolus: %s", local_error->message);
        return FALSE;
      }
    thecal_cli_json_string (step, "outcome", thecal_programming_outcome_name (outcome));
    thecal_cli_print (out, _ ("Bolus %s.\n"), thecal_programming_outcome_name (outcome));
  }
  return TRUE;
}

/* A refill that changes the concentration (morphine 25 → 50 mg/mL at the same daily dose) on the
 * connected pump: one review of everything that changes, the bridge bolus, the pump never stopped. */
static gboolean
demo_drug_change (ThecalCliOutput *out, cJSON *steps, int *number, ThecalDemoLink *d, GError **error)
{
  ThecalVisit *visit = thecal_demo_link_get_visit (d);
  ThecalRefillRequest request = { 0 };
  ThecalRefillReport report;
  ThecalRefillCheck check;
  g_autoptr (ThecalRefillReview) review = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  cJSON *step;

  step = heading (out, steps, number, _ ("Refill with a concentration change: morphine 25 → 50 mg/mL, one review, a bridge bolus"),
                  "refill-change");
  if (!thecal_visit_refill_preview (visit, 0, &check, NULL, &local_error))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: refill preview: %s", local_error->message);
      return FALSE;
    }
  request.aspirated_nl = check.expected_residual_nl; /* all of it came back: no discrepancy */
  request.added_nl = ML (18);
  request.drug_id = "morphine";
  request.concentration_ng_per_ml = MG (50);
  request.lot = "LOT-DEMO-2";
  request.expiry_date = "2027-06-30";
  request.verifier_name = THECAL_DEMO_PHYSICIAN_NAME;
  request.verifier_password = THECAL_DEMO_PHYSICIAN_PASSWORD;
  request.override_reason = OVERRIDE_REASON_50;
  review = thecal_visit_review_refill (visit, &request, &local_error);
  if (review == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: refill review: %s", local_error->message);
      return FALSE;
    }
  thecal_cli_print (out, _ ("Review (old → new), before anything is sent:\n"));
  for (guint i = 0; review->changes != NULL && i < review->changes->len; i++)
    {
      const ThecalVisitChange *c = review->changes->pdata[i];

      thecal_cli_print (out, "  %s: %s → %s\n", c->field, c->old_value != NULL ? c->old_value : "—",
                        c->new_value != NULL ? c->new_value : "—");
    }
  thecal_cli_print (out, _ ("  new prescription: %s at %s (the pump delivered %s of the old fill at %s)\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, review->rx_check.plan.basal_ng_per_day),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, review->rx_check.plan.basal_nl_per_day),
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, review->old_plan.basal_ng_per_day),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, review->old_plan.basal_nl_per_day));
  if (review->bridge != NULL)
    thecal_cli_print (out, _ ("Bridge bolus: %s\n"), review->bridge->summary);
  if (review->have_projection)
    print_projection (out, _ ("new"), &review->projection);
  if (review->needs_override)
    thecal_cli_print (out, _ ("Override reason for the soft limit: “%s”.\n"), OVERRIDE_REASON_50);
  thecal_visit_refill_async (visit, &request, NULL, demo_on_done, &result);
  if (!thecal_visit_refill_finish (visit, demo_wait (d, &result), &report, &local_error))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: refill with a concentration change: %s",
                   local_error->message);
      return FALSE;
    }
  thecal_cli_json_string (step, "outcome", thecal_programming_outcome_name (report.outcome));
  thecal_cli_json_bool (step, "changed", report.changed);
  thecal_cli_print (out, _ ("Refill %s: the reservoir holds %s of morphine 50 mg/mL; the new prescription took effect at the "
                            "same instant (programming session %" G_GINT64_FORMAT "), the pump never stopped, and the "
                            "bridge bolus %s.\n"),
                    thecal_programming_outcome_name (report.outcome), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, report.new_volume_nl),
                    report.program_session_id, report.changed ? _ ("runs") : _ ("was not started"));
  return TRUE;
}

static gboolean
demo_clinic (ThecalCliOutput *out, const char *db_option, GError **error)
{
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalAuditVerification) verification = NULL;
  g_autoptr (GError) local_error = NULL;
  cJSON *steps;
  cJSON *step;
  cJSON *pumps;
  int number = 0;
  gboolean ok = FALSE;

  if (!thecal_cli_load_models (NULL, models, error) || !thecal_cli_load_library (NULL, library, error))
    return FALSE;
  if (db_option != NULL)
    db = g_strdup (db_option);
  else
    {
      dir = g_dir_make_tmp ("thecal-demo-XXXXXX", &local_error);
      if (dir == NULL)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: %s", local_error->message);
          return FALSE;
        }
      db = g_build_filename (dir, "demo-record.sqlite", NULL);
    }
  thecal_cli_print (out, _ ("Thecal demo: a clinic visit on simulated pumps (thecal-cli demo --calculators: the calculators).\n"));
  steps = thecal_cli_json_array (out->json, "steps");

  step = heading (out, steps, &number, _ ("A demo record"), "record");
  thecal_cli_json_string (step, "db", db);
  record = demo_record (out, db, &admin, error);
  if (record == NULL)
    goto out;

  step = heading (out, steps, &number, _ ("Sign in"), "login");
  session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &local_error);
  if (session == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: %s", local_error->message);
      goto out;
    }
  thecal_cli_print (out, _ ("Signed in as demo (a physician's clinical rights, in a demo record only).\n"));

  step = heading (out, steps, &number, _ ("Connect and interrogate every patient's pump: the findings"), "interrogate");
  pumps = thecal_cli_json_array (step, "pumps");
  for (guint i = 0; i < thecal_demo_patient_count (); i++)
    {
      g_autoptr (ThecalDemoLink) d = NULL;
      cJSON *item = thecal_cli_json_append_object (pumps);

      if (i == DEMO_VISIT_PATIENT)
        continue;
      if (!demo_connect (out, item, session, models, library, thecal_demo_patient_get (i), &d, error))
        goto out;
    }

  {
    g_autoptr (ThecalDemoLink) d = NULL;
    const DemoPatient *p = thecal_demo_patient_get (DEMO_VISIT_PATIENT);
    g_autofree char *title = g_strdup_printf (_ ("The visit of %s %s: connect and interrogate"), p->mrn, p->name);

    step = heading (out, steps, &number, title, "connect");
    if (!demo_connect (out, step, session, models, library, p, &d, error) || !demo_visit (out, steps, &number, d, error))
      goto out;
  }

  {
    g_autoptr (ThecalDemoLink) d = NULL;
    const DemoPatient *p = thecal_demo_patient_get (DEMO_CHANGE_PATIENT);
    g_autofree char *title = g_strdup_printf (_ ("The visit of %s %s: connect and interrogate"), p->mrn, p->name);

    step = heading (out, steps, &number, title, "connect");
    if (!demo_connect (out, step, session, models, library, p, &d, error) || !demo_drug_change (out, steps, &number, d, error))
      goto out;
  }

  step = heading (out, steps, &number, _ ("The audit chain, verified"), "audit");
  verification = thecal_record_session_verify_audit_sync (admin, 0, NULL, NULL, &local_error);
  if (verification == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "demo: %s", local_error->message);
      goto out;
    }
  thecal_cli_json_string (step, "problem", thecal_audit_problem_name (verification->problem));
  thecal_cli_json_int (step, "entries", verification->n_entries);
  thecal_cli_print (out, _ ("%" G_GINT64_FORMAT " entries: %s (%s)\n"), verification->n_entries, verification->message,
                    thecal_audit_problem_name (verification->problem));
  thecal_cli_print (out, dir != NULL ? _ ("\nEnd of the demo: the demo record was in a temporary directory, now removed.\n") : _ ("\nEnd of the demo: the demo record is %s.\n"),
                    db);
  ok = TRUE;
out:
  g_clear_object (&session);
  g_clear_object (&admin);
  g_clear_object (&record);
  if (dir != NULL)
    remove_tree (dir);
  return ok;
}

gboolean
thecal_cli_demo (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *library_path = NULL;
  g_autofree char *models_path = NULL;
  g_autofree char *db = NULL;
  gboolean calculators = FALSE;
  const GOptionEntry entries[] = {
    { "calculators", 0, 0, G_OPTION_ARG_NONE, &calculators, N_ ("Show the calculators on worked examples instead"), NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_ ("Build the demo record in FILE (a new file) and keep it"), N_ ("FILE") },
    THECAL_CLI_OPTION_LIBRARY (&library_path),
    THECAL_CLI_OPTION_MODELS (&models_path),
    G_OPTION_ENTRY_NULL
  };

  if (!thecal_cli_parse_command_line (NULL,
                                      _ ("A clinic visit on simulated pumps, or (--calculators) every calculator on a worked example."),
                                      _ ("Builds a demo record (in a temporary directory, or in a new --db FILE) with six patients on "
                                         "simulated demo pumps: one stable, one low on drug, one near ERI, one over-infusing, one "
                                         "with a motor stall and one on baclofen. Signs in as the demo user, interrogates every pump "
                                         "and shows its findings, then walks a visit of the patient low on drug: a refill with a "
                                         "flagged discrepancy acknowledged and confirmed by a second person, a change of "
                                         "prescription with its review and projections, a clinician bolus; then a refill of the "
                                         "stable patient that doubles the concentration, with one review and a bridge bolus, the "
                                         "pump never stopped; and the audit chain verified. --calculators: morphine 25 mg/mL at 5 mg/day, a flex schedule with PTM, a "
                                         "ziconotide prescription over a soft and a hard limit, a refill with a flagged "
                                         "discrepancy, a bridge and a priming bolus and an oral-morphine estimate (--library and "
                                         "--models apply to it). Each step has a short heading; the refusals shown are part of "
                                         "the demo, and it exits with status 0."),
                                      entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (calculators)
    return demo_calculators (out, library_path, models_path, error);
  if (library_path != NULL || models_path != NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("demo: --library and --models go with --calculators"));
      return FALSE;
    }
  return demo_clinic (out, db, error);
}
