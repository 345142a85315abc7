/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-check.c: "thecal-cli check PRESCRIPTION.json [--current FILE] ...".
 *
 * A hard limit refuses; a soft limit needs an override reason (DESIGN.md, drug library). The
 * patient is opioid-naive unless --opioid-tolerant is given: the safe default, since the
 * opioid-naive rules are the stricter ones (PTM opioid is contraindicated, CLINICAL.md §1.8).
 */
#include "config.h"

#include "thecal-cli-check.h"

#include <glib/gi18n.h>

static const char *
severity_label (ThecalFindingSeverity severity)
{
  switch (severity)
    {
    case THECAL_FINDING_REFUSED:
      return _ ("REFUSED");
    case THECAL_FINDING_OVERRIDE:
      return _ ("NEEDS AN OVERRIDE REASON");
    case THECAL_FINDING_NOTE:
      return _ ("NOTE");
    default:
      return "?";
    }
}

static const char *
verdict_name (ThecalCliVerdict verdict)
{
  switch (verdict)
    {
    case THECAL_CLI_VERDICT_OK:
      return "ok";
    case THECAL_CLI_VERDICT_OVERRIDDEN:
      return "overridden";
    case THECAL_CLI_VERDICT_NEEDS_REASON:
      return "needs_override_reason";
    case THECAL_CLI_VERDICT_REFUSED:
      return "refused";
    default:
      return "?";
    }
}

char *
thecal_cli_check_override_reason (const char *text, GError **error)
{
  g_autofree char *reason = NULL;

  if (text == NULL)
    return NULL;
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                           _ ("--override-reason: the reason is not valid UTF-8 text"));
      return NULL;
    }
  reason = g_strstrip (g_strdup (text));
  if (g_utf8_strlen (reason, -1) < THECAL_CLI_OVERRIDE_REASON_MIN)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--override-reason: “%s” is too short: give a reason of at least %d characters "
                      "that a colleague can read later"),
                   reason, THECAL_CLI_OVERRIDE_REASON_MIN);
      return NULL;
    }
  return g_steal_pointer (&reason);
}

/* "daily dose: 24 mcg/day, limit 19.2 mcg/day (hard)", "; "-separated, for one severity. */
static char *
list_findings (const ThecalCheckResult *result, ThecalFindingSeverity severity, int *count)
{
  GString *list = g_string_new (NULL);

  *count = 0;
  for (int32_t i = 0; i < result->n_findings; i++)
    {
      const ThecalFinding *finding = &result->findings[i];

      if (finding->severity != severity)
        continue;
      if (*count > 0)
        g_string_append (list, "; ");
      g_string_append (list, finding->field[0] != '\0' ? finding->field : thecal_finding_code_name (finding->code));
      if (finding->value[0] != '\0' && finding->limit[0] != '\0')
        g_string_append_printf (list, _ (": %s, limit %s"), finding->value, finding->limit);
      else if (finding->value[0] != '\0')
        g_string_append_printf (list, ": %s", finding->value);
      (*count)++;
    }
  return g_string_free (list, FALSE);
}

static void
report_findings (ThecalCliOutput *out, cJSON *json, const ThecalCheckResult *result)
{
  cJSON *findings = thecal_cli_json_array (json, "findings");

  if (result->n_findings == 0)
    thecal_cli_print (out, _ ("Findings: none\n"));
  else
    thecal_cli_print (out, _ ("Findings (%d, most severe first):\n"), (int) result->n_findings);

  for (int32_t i = 0; i < result->n_findings; i++)
    {
      const ThecalFinding *finding = &result->findings[i];
      cJSON *object = thecal_cli_json_append_object (findings);

      thecal_cli_print (out, "  %d. %s  %s", (int) i + 1, severity_label (finding->severity),
                        finding->field[0] != '\0' ? finding->field : thecal_finding_code_name (finding->code));
      if (finding->value[0] != '\0')
        thecal_cli_print (out, ": %s", finding->value);
      if (finding->limit[0] != '\0')
        thecal_cli_print (out, _ ("; limit %s"), finding->limit);
      thecal_cli_print (out, "\n");
      if (finding->message[0] != '\0')
        thecal_cli_print (out, "     %s\n", finding->message);
      if (finding->source[0] != '\0')
        thecal_cli_print (out, _ ("     Source: %s\n"), finding->source);

      thecal_cli_json_string (object, "severity", thecal_finding_severity_name (finding->severity));
      thecal_cli_json_string (object, "code", thecal_finding_code_name (finding->code));
      thecal_cli_json_string (object, "field", finding->field);
      thecal_cli_json_string (object, "value", finding->value);
      thecal_cli_json_string (object, "limit", finding->limit);
      thecal_cli_json_string (object, "message", finding->message);
      thecal_cli_json_string (object, "source", finding->source);
    }
  if (result->n_dropped > 0)
    thecal_cli_print (out, ngettext ("  %d more finding did not fit in the list; the verdict counts it.\n", "  %d more findings did not fit in the list; the verdict counts them.\n", (unsigned long) result->n_dropped),
                      (int) result->n_dropped);
  thecal_cli_json_int (json, "findings_dropped", result->n_dropped);
  thecal_cli_json_string (json, "worst", result->n_findings + result->n_dropped > 0 ? thecal_finding_severity_name (result->worst) : NULL);
}

ThecalCliVerdict
thecal_cli_check_report (ThecalCliOutput *out,
                         cJSON *json,
                         const ThecalPrescription *rx,
                         const ThecalPrescription *current,
                         const ThecalPatientContext *patient,
                         const ThecalPumpModel *model,
                         gboolean model_is_default,
                         const ThecalDrugLibrary *library,
                         const char *override_reason,
                         char **why)
{
  g_autofree ThecalCheckResult *result = g_new0 (ThecalCheckResult, 1);
  g_autofree char *refused_list = NULL;
  g_autofree char *override_list = NULL;
  int n_refused = 0;
  int n_override = 0;
  ThecalCliVerdict verdict;
  gboolean any_findings;

  thecal_check_prescription (rx, current, patient, model, library, result);
  any_findings = result->n_findings + result->n_dropped > 0;

  thecal_cli_print (out, _ ("Drug: %s %s (drug library %s)\n"),
                    thecal_cli_drug_name (library, rx->drug_id),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml),
                    library->version);
  thecal_cli_json_string (json, "drug_id", rx->drug_id);
  thecal_cli_json_string (json, "drug", thecal_cli_drug_name (library, rx->drug_id));
  thecal_cli_json_string (json, "library_version", library->version);
  thecal_cli_report_model (out, json, model, model_is_default);
  if (patient->opioid_tolerant)
    thecal_cli_print (out, _ ("Patient: opioid-tolerant (--opioid-tolerant)\n"));
  else
    thecal_cli_print (out, _ ("Patient: opioid-naive (the safe default; give --opioid-tolerant for an opioid-tolerant patient)\n"));
  thecal_cli_json_bool (json, "opioid_tolerant", patient->opioid_tolerant);
  if (current != NULL)
    {
      g_autofree ThecalDeliveryPlan *current_plan = g_new0 (ThecalDeliveryPlan, 1);
      ThecalDoseError dose_error = { 0 };
      cJSON *current_json = thecal_cli_json_object (json, "current");

      thecal_cli_json_string (current_json, "drug_id", current->drug_id);
      thecal_cli_json_quantity (current_json, "concentration", THECAL_QUANTITY_CONCENTRATION,
                                current->concentration_ng_per_ml);
      /* The current daily dose, if it resolves (an invalid current prescription is the
       * check's business: it reports what it can). */
      if (thecal_delivery_plan_resolve (current, model, current_plan, &dose_error))
        {
          thecal_cli_print (out, _ ("Replaces: %s %s, %s worst case\n"), thecal_cli_drug_name (library, current->drug_id),
                            thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, current->concentration_ng_per_ml),
                            thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, current_plan->total_worst_ng_per_day));
          thecal_cli_json_quantity (current_json, "total_worst_dose", THECAL_QUANTITY_DOSE_RATE,
                                    current_plan->total_worst_ng_per_day);
        }
      else
        thecal_cli_print (out, _ ("Replaces: %s %s\n"), thecal_cli_drug_name (library, current->drug_id),
                          thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, current->concentration_ng_per_ml));
    }
  else
    cJSON_AddItemToObject (json, "current", cJSON_CreateNull ());
  thecal_cli_print (out, "\n");

  if (result->plan_valid)
    thecal_cli_report_plan (out, thecal_cli_json_object (json, "plan"), &result->plan);
  else
    {
      thecal_cli_print (out, _ ("Delivery plan: none (the prescription cannot be delivered; see the findings)\n"));
      cJSON_AddItemToObject (json, "plan", cJSON_CreateNull ());
    }
  thecal_cli_print (out, "\n");
  report_findings (out, json, result);
  thecal_cli_print (out, "\n");

  refused_list = list_findings (result, THECAL_FINDING_REFUSED, &n_refused);
  override_list = list_findings (result, THECAL_FINDING_OVERRIDE, &n_override);

  if (any_findings && result->worst == THECAL_FINDING_REFUSED)
    {
      verdict = THECAL_CLI_VERDICT_REFUSED;
      /* A finding that did not fit still counts: never report fewer than one. */
      if (n_refused == 0)
        n_refused = 1;
      thecal_cli_print (out, ngettext ("Verdict: REFUSED: %d finding cannot be overridden: %s.\n", "Verdict: REFUSED: %d findings cannot be overridden: %s.\n", (unsigned long) n_refused),
                        n_refused, refused_list);
      if (override_reason != NULL)
        thecal_cli_print (out, _ ("The override reason applies to soft limits only: it cannot lift these.\n"));
      *why = g_strdup_printf (_ ("refused: a hard limit or an impossible prescription: %s"), refused_list);
    }
  else if (any_findings && result->worst == THECAL_FINDING_OVERRIDE && override_reason == NULL)
    {
      verdict = THECAL_CLI_VERDICT_NEEDS_REASON;
      if (n_override == 0)
        n_override = 1;
      thecal_cli_print (out, ngettext ("Verdict: NOT ACCEPTED: %d finding needs an override reason "
                                       "(--override-reason \"…\", at least %d characters): %s.\n",
                                       "Verdict: NOT ACCEPTED: %d findings need an override reason "
                                       "(--override-reason \"…\", at least %d characters): %s.\n",
                                       (unsigned long) n_override),
                        n_override, THECAL_CLI_OVERRIDE_REASON_MIN, override_list);
      *why = g_strdup_printf (_ ("these findings need an override reason (--override-reason): %s"), override_list);
    }
  else if (any_findings && result->worst == THECAL_FINDING_OVERRIDE)
    {
      verdict = THECAL_CLI_VERDICT_OVERRIDDEN;
      thecal_cli_print (out, _ ("Verdict: ACCEPTED WITH AN OVERRIDE of %s, reason: “%s”.\n"),
                        override_list, override_reason);
      *why = NULL;
    }
  else
    {
      verdict = THECAL_CLI_VERDICT_OK;
      thecal_cli_print (out, _ ("Verdict: ACCEPTED: no finding stops this prescription.\n"));
      *why = NULL;
    }
  thecal_cli_json_string (json, "verdict", verdict_name (verdict));
  thecal_cli_json_string (json, "override_reason", override_reason);
  return verdict;
}

gboolean
thecal_cli_check (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *current_path = NULL;
  g_autofree char *library_path = NULL;
  g_autofree char *models_path = NULL;
  g_autofree char *pump = NULL;
  g_autofree char *reason_text = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *why = NULL;
  gboolean opioid_tolerant = FALSE;
  g_auto (GStrv) positional = NULL;
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *current = NULL;
  ThecalPatientContext patient = { 0 };
  const ThecalPumpModel *model;
  ThecalCliVerdict verdict;
  const GOptionEntry entries[] = {
    { "current", 0, 0, G_OPTION_ARG_FILENAME, &current_path,
      N_ ("The prescription this one replaces (per-step change limits)"), N_ ("FILE") },
    THECAL_CLI_OPTION_LIBRARY (&library_path),
    THECAL_CLI_OPTION_MODELS (&models_path),
    THECAL_CLI_OPTION_PUMP (&pump),
    THECAL_CLI_OPTION_OPIOID_TOLERANT (&opioid_tolerant),
    THECAL_CLI_OPTION_OVERRIDE_REASON (&reason_text),
    G_OPTION_ENTRY_NULL
  };

  if (!thecal_cli_parse_command_line (_ ("PRESCRIPTION.json"),
                                      _ ("Check a prescription against the drug library and the pump model."),
                                      _ ("Prints what the pump will deliver (mode, rates, basal, periodic "
                                         "boluses, worst-case PTM and total daily dose) and every finding with "
                                         "its severity, field, value, limit and source. A hard limit refuses "
                                         "(exit status 1). A soft limit needs --override-reason; without one "
                                         "the exit status is 1 and the findings that need a reason are named.\n\n"
                                         "The patient is taken to be opioid-naive unless --opioid-tolerant is "
                                         "given: the safe default, since the opioid-naive rules are the "
                                         "stricter ones (PTM opioid is refused for opioid-naive patients).\n\n"
                                         "Example:\n"
                                         "  thecal-cli check prescription.json --current current.json"),
                                      entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (positional[0] == NULL)
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                           _ ("check: give the prescription file, e.g. thecal-cli check prescription.json"));
      return FALSE;
    }
  if (positional[1] != NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("check: unexpected argument “%s”: give one prescription file"), positional[1]);
      return FALSE;
    }
  if (reason_text != NULL)
    {
      reason = thecal_cli_check_override_reason (reason_text, error);
      if (reason == NULL)
        return FALSE;
    }

  model = thecal_cli_load_model (models_path, pump, models, error);
  if (model == NULL || !thecal_cli_load_library (library_path, library, error)
      || !thecal_cli_load_prescription (positional[0], rx, error)
      || !thecal_cli_load_optional_prescription (current_path, &current, error))
    return FALSE;
  patient.opioid_tolerant = opioid_tolerant;

  thecal_cli_json_string (out->json, "prescription_file", positional[0]);
  thecal_cli_json_string (out->json, "current_file", current_path);
  thecal_cli_print (out, _ ("Prescription: %s\n"), positional[0]);
  verdict = thecal_cli_check_report (out, out->json, rx, current, &patient, model, pump == NULL,
                                     library, reason, &why);
  switch (verdict)
    {
    case THECAL_CLI_VERDICT_REFUSED:
    case THECAL_CLI_VERDICT_NEEDS_REASON:
      thecal_cli_refuse (out, "check: %s", why);
      break;
    case THECAL_CLI_VERDICT_OK:
    case THECAL_CLI_VERDICT_OVERRIDDEN:
    default:
      break;
    }
  return TRUE;
}
