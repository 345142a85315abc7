/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-dose-json.c: the JSON loaders and the prescription writer (docs/formats.md).
 *
 * - the shipped data files load, with the figures of the brief and CLINICAL.md;
 * - every ```json block of docs/formats.md loads and every ```json-invalid block is refused, so
 *   the documentation cannot drift from the code;
 * - malformed files are refused with the JSON path of the offending value in error.field, and the
 *   caller's struct is left byte-for-byte untouched;
 * - prescriptions survive write → load exactly.
 */
#include "config.h"

#include "thecal-dose-json.h"
#include "thecal-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                      */

static char *
read_text_file (const char *path, size_t *length)
{
  FILE *file = fopen (path, "rb");
  char *text;
  long size;

  ck_assert_msg (file != NULL, "cannot open %s", path);
  ck_assert (fseek (file, 0, SEEK_END) == 0);
  size = ftell (file);
  ck_assert (size >= 0);
  ck_assert (fseek (file, 0, SEEK_SET) == 0);
  text = malloc ((size_t) size + 1);
  ck_assert (text != NULL);
  *length = fread (text, 1, (size_t) size, file);
  ck_assert_uint_eq (*length, (size_t) size);
  text[*length] = '\0';
  fclose (file);
  return text;
}

static char *
read_env_file (const char *variable, const char *name, size_t *length)
{
  const char *dir = getenv (variable);
  char path[4096];

  ck_assert_msg (dir != NULL, "%s is not set (tests/meson.build sets it)", variable);
  snprintf (path, sizeof path, "%s/%s", dir, name);
  return read_text_file (path, length);
}

/* A copy of @text with the only occurrence of @old replaced by @new (asserted to be unique, so
 * a mutation cannot silently miss). Free with free (). */
static char *
replace_once (const char *text, const char *old, const char *new_text)
{
  const char *at = strstr (text, old);
  size_t before, old_length = strlen (old), new_length = strlen (new_text);
  char *out;

  ck_assert_msg (at != NULL, "\"%s\" not found in the template", old);
  ck_assert_msg (strstr (at + 1, old) == NULL, "\"%s\" is not unique in the template", old);
  before = (size_t) (at - text);
  out = malloc (strlen (text) - old_length + new_length + 1);
  ck_assert (out != NULL);
  memcpy (out, text, before);
  memcpy (out + before, new_text, new_length);
  strcpy (out + before + new_length, at + old_length);
  return out;
}

typedef enum
{
  KIND_PRESCRIPTION,
  KIND_DRUG_LIBRARY,
  KIND_PUMP_MODELS,
} FileKind;

/* Loads @text as @kind into a pre-filled struct; asserts that a failure leaves it untouched.
 * Returns whether the load succeeded. */
static bool
load_checked (FileKind kind, const char *text, size_t length, ThecalDoseError *error)
{
  static ThecalDrugLibrary library, library_before;
  static ThecalPumpModelSet models, models_before;
  ThecalPrescription rx, rx_before;
  bool ok = false;

  thecal_dose_error_clear (error);
  switch (kind)
    {
    case KIND_PRESCRIPTION:
      memset (&rx, 0xA5, sizeof rx);
      memcpy (&rx_before, &rx, sizeof rx);
      ok = thecal_prescription_load_json (text, length, &rx, error);
      if (!ok)
        ck_assert_msg (memcmp (&rx, &rx_before, sizeof rx) == 0, "failed prescription load changed the output");
      break;
    case KIND_DRUG_LIBRARY:
      memset (&library, 0xA5, sizeof library);
      memcpy (&library_before, &library, sizeof library);
      ok = thecal_drug_library_load_json (text, length, &library, error);
      if (!ok)
        ck_assert_msg (memcmp (&library, &library_before, sizeof library) == 0, "failed library load changed the output");
      break;
    case KIND_PUMP_MODELS:
      memset (&models, 0xA5, sizeof models);
      memcpy (&models_before, &models, sizeof models);
      ok = thecal_pump_models_load_json (text, length, &models, error);
      if (!ok)
        ck_assert_msg (memcmp (&models, &models_before, sizeof models) == 0, "failed pump model load changed the output");
      break;
    default:
      ck_abort ();
    }
  if (ok)
    ck_assert_int_eq (error->code, THECAL_DOSE_OK);
  else
    {
      ck_assert_int_ne (error->code, THECAL_DOSE_OK);
      ck_assert_msg (error->message[0] != '\0', "an error without a message");
    }
  return ok;
}

/* Asserts that @text is refused with @code and exactly @field. */
static void
assert_refused (FileKind kind, const char *text, ThecalDoseStatus code, const char *field)
{
  ThecalDoseError error;

  ck_assert_msg (!load_checked (kind, text, strlen (text), &error), "accepted: %s", text);
  ck_assert_msg (strcmp (error.field, field) == 0,
                 "field \"%s\" instead of \"%s\" (%s)", error.field, field, error.message);
  ck_assert_msg (error.code == code, "code %d instead of %d (%s: %s)", error.code, code, error.field, error.message);
}

/* Mutates @template once and asserts the refusal. */
static void
assert_mutation_refused (FileKind kind,
                         const char *template,
                         const char *old,
                         const char *new_text,
                         ThecalDoseStatus code,
                         const char *field)
{
  char *text = replace_once (template, old, new_text);

  assert_refused (kind, text, code, field);
  free (text);
}

static const ThecalDrug *
find_drug (const ThecalDrugLibrary *library, const char *id)
{
  for (int32_t i = 0; i < library->n_drugs; i++)
    if (strcmp (library->drugs[i].id, id) == 0)
      return &library->drugs[i];
  return NULL;
}

/* The one limit of @kind / @applies_to / @severity; asserts there is exactly one. */
static const ThecalDrugLimit *
find_limit (const ThecalDrug *drug, ThecalLimitKind kind, ThecalLimitApplies applies_to, ThecalLimitSeverity severity)
{
  const ThecalDrugLimit *found = NULL;

  for (int32_t i = 0; i < drug->n_limits; i++)
    if (drug->limits[i].kind == kind && drug->limits[i].applies_to == applies_to && drug->limits[i].severity == severity)
      {
        ck_assert_msg (found == NULL, "%s: two limits of kind %d", drug->id, kind);
        found = &drug->limits[i];
      }
  ck_assert_msg (found != NULL, "%s: no limit of kind %d", drug->id, kind);
  return found;
}

static int
count_limits (const ThecalDrug *drug, ThecalLimitKind kind)
{
  int n = 0;

  for (int32_t i = 0; i < drug->n_limits; i++)
    n += drug->limits[i].kind == kind;
  return n;
}

/* ------------------------------------------------------------------------------------------ */
/* The shipped data                                                                             */

START_TEST (test_shipped_pump_models)
{
  static ThecalPumpModelSet set;
  ThecalDoseError error;
  size_t length;
  char *text = read_env_file ("THECAL_DATA_DIR", "pump-models.json", &length);

  ck_assert_msg (thecal_pump_models_load_json (text, length, &set, &error), "%s: %s", error.field, error.message);
  free (text);
  ck_assert_int_eq (set.n_models, 2);
  for (int i = 0; i < 2; i++)
    {
      const ThecalPumpModel *m = &set.models[i];
      bool is_20 = i == 0;

      ck_assert_str_eq (m->id, is_20 ? "TR-20" : "TR-40");
      /* the table of the brief, in integer units */
      ck_assert_int_eq (m->reservoir_capacity_nl, is_20 ? 20000000 : 40000000); /* 20 / 40 mL */
      ck_assert_int_eq (m->rate_min_nl_per_day, 48000);                         /* 0.048 mL/day */
      ck_assert_int_eq (m->rate_max_nl_per_day, 24000000);                      /* 24 mL/day */
      ck_assert_int_eq (m->minimum_rate_nl_per_day, 6000);                      /* 0.006 mL/day */
      ck_assert_int_eq (m->rate_resolution_nl_per_day, 1000);                   /* 0.001 mL/day */
      ck_assert_int_eq (m->bolus_rate_max_nl_per_day, 24000000);                /* 1 mL/h */
      ck_assert_int_eq (m->stroke_volume_nl, 250);                              /* 0.25 microlitre */
      ck_assert_int_eq (m->internal_volume_nl, 250000);                         /* 0.25 mL */
      ck_assert_int_eq (m->accuracy_bp, 1450);                                  /* 14.5 % */
      ck_assert_int_eq (m->low_reservoir_alarm_nl, 2000000);
      ck_assert_int_eq (m->refill_threshold_nl, 3000000);
      ck_assert_int_eq (m->empty_nl, 1000000);
      ck_assert_int_eq (m->discrepancy_threshold_nl, is_20 ? 1000000 : 2000000); /* Maino 2017 */
      ck_assert_int_eq (m->service_life_days, 2555);
      ck_assert_int_eq (m->eri_days_before_eos, 90);
    }
}
END_TEST

START_TEST (test_shipped_drug_library)
{
  static ThecalDrugLibrary library;
  static const char *const ids[] = {
    "morphine",
    "hydromorphone",
    "fentanyl",
    "sufentanil",
    "ziconotide",
    "bupivacaine",
    "clonidine",
    "baclofen",
  };
  const ThecalDrug *drug;
  const ThecalDrugLimit *limit;
  ThecalDoseError error;
  size_t length;
  char *text = read_env_file ("THECAL_DATA_DIR", "drug-library.json", &length);

  ck_assert_msg (thecal_drug_library_load_json (text, length, &library, &error), "%s: %s", error.field, error.message);
  free (text);
  /* the first library, released 2026-11: year.month, then its number in that month */
  ck_assert_str_eq (library.version, "2026.11-1");
  ck_assert_int_eq (library.n_drugs, 8);
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    ck_assert_msg (find_drug (&library, ids[i]) != NULL, "%s missing", ids[i]);

  /* every limit has its source; hard limits are confirmed label maxima; PACC figures are soft
   * and unconfirmed (CLINICAL.md §3.2, §8) */
  for (int32_t d = 0; d < library.n_drugs; d++)
    {
      drug = &library.drugs[d];
      ck_assert (drug->ptm_source[0] != '\0');
      for (int32_t l = 0; l < drug->n_limits; l++)
        {
          limit = &drug->limits[l];
          ck_assert_msg (strstr (limit->source, "CLINICAL.md §") != NULL, "%s limit %d: no CLINICAL.md section", drug->id, l);
          if (limit->severity == THECAL_LIMIT_HARD)
            ck_assert_msg (limit->confirmed, "%s: an unconfirmed hard limit", drug->id);
          if (strncmp (limit->source, "PACC", 4) == 0)
            ck_assert_msg (!limit->confirmed && limit->severity == THECAL_LIMIT_SOFT, "%s: PACC limit not soft/unconfirmed", drug->id);
        }
    }

  /* morphine */
  drug = find_drug (&library, "morphine");
  ck_assert_str_eq (drug->display_name, "morphine");
  ck_assert (drug->opioid);
  ck_assert (drug->ptm_permitted && drug->ptm_permitted_confirmed);
  ck_assert_int_eq (drug->stability_days, 90);
  ck_assert_int_eq (drug->n_labeled_concentrations, 2);
  ck_assert_int_eq (drug->labeled_concentrations_ng_per_ml[0], 10000000); /* 10 mg/mL */
  ck_assert_int_eq (drug->labeled_concentrations_ng_per_ml[1], 25000000); /* 25 mg/mL */
  limit = find_limit (drug, THECAL_LIMIT_MAX_CONCENTRATION, THECAL_APPLIES_ALL, THECAL_LIMIT_SOFT);
  ck_assert_int_eq (limit->value, 20000000); /* 20 mg/mL PACC */
  ck_assert (!limit->confirmed);
  limit = find_limit (drug, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_APPLIES_ALL, THECAL_LIMIT_SOFT);
  ck_assert_int_eq (limit->value, 15000000); /* 15 mg/day PACC */
  ck_assert (!limit->confirmed);
  ck_assert (strncmp (limit->source, "PACC 2017: ", 11) == 0);
  limit = find_limit (drug, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_APPLIES_OPIOID_TOLERANT, THECAL_LIMIT_SOFT);
  ck_assert_int_eq (limit->value, 20000000); /* label: caution above 20 mg/day */
  ck_assert (limit->confirmed);
  limit = find_limit (drug, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_APPLIES_OPIOID_NAIVE, THECAL_LIMIT_SOFT);
  ck_assert_int_eq (limit->value, 1000000); /* label: opioid-naive up to 1 mg/day */
  ck_assert (limit->confirmed);
  limit = find_limit (drug, THECAL_LIMIT_MAX_INCREASE_PERCENT, THECAL_APPLIES_ALL, THECAL_LIMIT_SOFT);
  ck_assert_int_eq (limit->value, 3000); /* 30 % */
  ck_assert (!limit->confirmed);

  /* HYDROmorphone, SUFentanil: tall-man names; fentanyl and sufentanil: no daily maximum */
  ck_assert_str_eq (find_drug (&library, "hydromorphone")->display_name, "HYDROmorphone");
  ck_assert_str_eq (find_drug (&library, "sufentanil")->display_name, "SUFentanil");
  ck_assert_int_eq (count_limits (find_drug (&library, "fentanyl"), THECAL_LIMIT_MAX_DAILY_DOSE), 0);
  ck_assert_int_eq (count_limits (find_drug (&library, "sufentanil"), THECAL_LIMIT_MAX_DAILY_DOSE), 0);
  ck_assert_int_eq (find_limit (find_drug (&library, "hydromorphone"), THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_APPLIES_ALL, THECAL_LIMIT_SOFT)->value,
                    10000000);

  /* ziconotide: the two label maxima are hard */
  drug = find_drug (&library, "ziconotide");
  ck_assert (!drug->opioid);
  ck_assert (!drug->ptm_permitted && !drug->ptm_permitted_confirmed);
  limit = find_limit (drug, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_APPLIES_ALL, THECAL_LIMIT_HARD);
  ck_assert_int_eq (limit->value, 19200); /* 19.2 mcg/day */
  ck_assert (limit->confirmed);
  limit = find_limit (drug, THECAL_LIMIT_MAX_INCREASE_ABSOLUTE, THECAL_APPLIES_ALL, THECAL_LIMIT_HARD);
  ck_assert_int_eq (limit->value, 2400); /* 2.4 mcg/day */

  /* baclofen */
  drug = find_drug (&library, "baclofen");
  ck_assert (!drug->ptm_permitted && drug->ptm_permitted_confirmed);
  ck_assert_int_eq (drug->stability_days, 77);
  ck_assert_int_eq (drug->n_labeled_concentrations, 3);
  ck_assert_int_eq (drug->labeled_concentrations_ng_per_ml[0], 50000);   /* 50 mcg/mL */
  ck_assert_int_eq (drug->labeled_concentrations_ng_per_ml[1], 500000);  /* 500 mcg/mL */
  ck_assert_int_eq (drug->labeled_concentrations_ng_per_ml[2], 2000000); /* 2000 mcg/mL */
  ck_assert_int_eq (find_limit (drug, THECAL_LIMIT_MAX_CONCENTRATION, THECAL_APPLIES_ALL, THECAL_LIMIT_SOFT)->value, 2000000);
  limit = find_limit (drug, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_APPLIES_ALL, THECAL_LIMIT_SOFT);
  ck_assert_int_eq (limit->value, 2000000); /* 2000 mcg/day */
  ck_assert (limit->confirmed);
  ck_assert_int_eq (find_limit (drug, THECAL_LIMIT_MAX_INCREASE_PERCENT, THECAL_APPLIES_ALL, THECAL_LIMIT_SOFT)->value, 3000);

  /* PTM: only morphine */
  for (int32_t d = 0; d < library.n_drugs; d++)
    ck_assert_int_eq (library.drugs[d].ptm_permitted, strcmp (library.drugs[d].id, "morphine") == 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* docs/formats.md                                                                              */

START_TEST (test_docs_examples)
{
  size_t length;
  char *doc = read_env_file ("THECAL_SOURCE_DIR", "docs/formats.md", &length);
  int n_valid = 0, n_invalid = 0, n_blocks = 0;
  char *line = doc;

  while (line != NULL && *line != '\0')
    {
      char *next = strchr (line, '\n');
      bool valid = strncmp (line, "```json\n", 8) == 0;
      bool invalid = strncmp (line, "```json-invalid\n", 16) == 0;
      char *body, *end;
      FileKind kind;
      ThecalDoseError error;
      bool ok;

      if (!valid && !invalid)
        {
          line = next != NULL ? next + 1 : NULL;
          continue;
        }
      body = next + 1;
      end = strstr (body, "\n```\n");
      ck_assert_msg (end != NULL, "unterminated ``` block %d", n_blocks);
      end[1] = '\0'; /* the body ends with its last newline */
      if (strstr (body, "\"thecal-drug-library\"") != NULL)
        kind = KIND_DRUG_LIBRARY;
      else if (strstr (body, "\"thecal-pump-models\"") != NULL)
        kind = KIND_PUMP_MODELS;
      else
        kind = KIND_PRESCRIPTION;
      ok = load_checked (kind, body, strlen (body), &error);
      if (valid)
        ck_assert_msg (ok, "docs/formats.md block %d does not load: %s: %s", n_blocks, error.field, error.message);
      else
        {
          ck_assert_msg (!ok, "docs/formats.md block %d (json-invalid) loads", n_blocks);
          ck_assert_msg (error.field[0] != '\0', "block %d: no field in the error", n_blocks);
        }
      n_valid += valid;
      n_invalid += invalid;
      n_blocks++;
      line = end + 5; /* past "\n```\n" */
    }
  free (doc);
  /* the page has examples of every format, valid and invalid */
  ck_assert_int_ge (n_valid, 8);
  ck_assert_int_ge (n_invalid, 6);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Malformed prescriptions                                                                      */

static const char *const rx_template = "{\n"
                                       "  \"format\": \"thecal-prescription\",\n"
                                       "  \"version\": 1,\n"
                                       "  \"drug\": \"morphine\",\n"
                                       "  \"concentration\": \"25 mg/mL\",\n"
                                       "  \"mode\": \"continuous\",\n"
                                       "  \"continuous\": { \"dose\": \"5 mg/day\" },\n"
                                       "  \"periodic_boluses\": [ { \"start\": \"12:00\", \"dose\": \"0.5 mg\", \"duration\": \"30 min\" } ],\n"
                                       "  \"ptm\": { \"dose\": \"0.1 mg\", \"duration\": \"10 min\", \"lockout\": \"3 h\", \"max_per_24h\": 4 }\n"
                                       "}\n";

static const char *const flex_template = "{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"morphine\", \"concentration\": \"25 mg/mL\",\n"
                                         "  \"mode\": \"flex\", \"flex_steps\": [\n"
                                         "    { \"start\": \"00:00\", \"duration\": \"6 h\", \"dose\": \"4 mg/day\" },\n"
                                         "    { \"start\": \"06:00\", \"duration\": \"18 h\", \"rate\": \"0.24 mL/day\" } ] }\n";

START_TEST (test_prescription_template_loads)
{
  ThecalPrescription rx;
  ThecalDoseError error;

  /* the templates the mutations start from are valid: each refusal below is the mutation's */
  ck_assert_msg (thecal_prescription_load_json (rx_template, strlen (rx_template), &rx, &error), "%s: %s", error.field, error.message);
  ck_assert_str_eq (rx.drug_id, "morphine");
  ck_assert_int_eq (rx.concentration_ng_per_ml, 25000000);
  ck_assert_int_eq (rx.mode, THECAL_MODE_CONTINUOUS);
  ck_assert_int_eq (rx.continuous.basis, THECAL_BASIS_DOSE);
  ck_assert_int_eq (rx.continuous.dose_ng_per_day, 5000000);
  ck_assert_int_eq (rx.n_periodic_boluses, 1);
  ck_assert_int_eq (rx.periodic_boluses[0].start_min, 720);
  ck_assert_int_eq (rx.periodic_boluses[0].dose_ng, 500000);
  ck_assert_int_eq (rx.periodic_boluses[0].duration_ms, 1800000);
  ck_assert (rx.ptm.enabled);
  ck_assert_int_eq (rx.ptm.dose_ng, 100000);
  ck_assert_int_eq (rx.ptm.duration_ms, 600000);
  ck_assert_int_eq (rx.ptm.lockout_ms, 10800000);
  ck_assert_int_eq (rx.ptm.max_per_24h, 4);

  ck_assert_msg (thecal_prescription_load_json (flex_template, strlen (flex_template), &rx, &error), "%s: %s", error.field, error.message);
  ck_assert_int_eq (rx.mode, THECAL_MODE_FLEX);
  ck_assert_int_eq (rx.n_flex_steps, 2);
  ck_assert_int_eq (rx.flex_steps[1].start_min, 360);
  ck_assert_int_eq (rx.flex_steps[1].duration_min, 1080);
  ck_assert_int_eq (rx.flex_steps[1].amount.basis, THECAL_BASIS_RATE);
  ck_assert_int_eq (rx.flex_steps[1].amount.rate_nl_per_day, 240000);

  /* error may be NULL */
  ck_assert (thecal_prescription_load_json (rx_template, strlen (rx_template), &rx, NULL));
  ck_assert (!thecal_prescription_load_json ("{", 1, &rx, NULL));
}
END_TEST

START_TEST (test_prescription_document_errors)
{
  ThecalDoseError error;
  ThecalPrescription rx;
  size_t half = strlen (rx_template) / 2;
  char *truncated = strndup (rx_template, half);
  char *big;

  /* truncated JSON: a syntax error on the document */
  ck_assert (!load_checked (KIND_PRESCRIPTION, truncated, half, &error));
  ck_assert_str_eq (error.field, "$");
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_PARSE);
  ck_assert_msg (strstr (error.message, "line") != NULL, "%s", error.message);
  /* the length is honoured: the full text cut at the same point fails the same way */
  ck_assert (!load_checked (KIND_PRESCRIPTION, rx_template, half, &error));
  ck_assert_str_eq (error.field, "$");
  free (truncated);

  assert_refused (KIND_PRESCRIPTION, "", THECAL_DOSE_ERROR_PARSE, "$");
  assert_refused (KIND_PRESCRIPTION, "[1, 2]", THECAL_DOSE_ERROR_INVALID, "$");
  assert_refused (KIND_PRESCRIPTION, "{} trailing", THECAL_DOSE_ERROR_PARSE, "$");
  assert_refused (KIND_PRESCRIPTION, "{}", THECAL_DOSE_ERROR_INVALID, "format");

  /* a NUL byte inside the length */
  ck_assert (!load_checked (KIND_PRESCRIPTION, "{\"format\"\0:1}", 13, &error));
  ck_assert_str_eq (error.field, "$");

  /* larger than THECAL_JSON_MAX_BYTES: refused before parsing */
  big = malloc (THECAL_JSON_MAX_BYTES + 2);
  ck_assert (big != NULL);
  memset (big, ' ', THECAL_JSON_MAX_BYTES + 1);
  memcpy (big, rx_template, strlen (rx_template));
  big[THECAL_JSON_MAX_BYTES + 1] = '\0';
  ck_assert (!load_checked (KIND_PRESCRIPTION, big, THECAL_JSON_MAX_BYTES + 1, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_CAPACITY);
  ck_assert_str_eq (error.field, "$");
  /* exactly at the limit is read (the padding is whitespace) */
  ck_assert_msg (load_checked (KIND_PRESCRIPTION, big, THECAL_JSON_MAX_BYTES, &error), "%s", error.message);
  free (big);

  /* no output: an error, not a crash */
  ck_assert (!thecal_prescription_load_json (rx_template, strlen (rx_template), NULL, &error));
  ck_assert (!thecal_prescription_load_json (NULL, 0, &rx, &error));
}
END_TEST

START_TEST (test_prescription_header_errors)
{
  /* wrong format, newer / older / non-integer version */
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"thecal-prescription\"", "\"thecal-drug-library\"", THECAL_DOSE_ERROR_INVALID, "format");
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"format\": \"thecal-prescription\",", "", THECAL_DOSE_ERROR_INVALID, "format");
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"version\": 1", "\"version\": 2", THECAL_DOSE_ERROR_RANGE, "version");
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"version\": 1", "\"version\": 0", THECAL_DOSE_ERROR_RANGE, "version");
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"version\": 1", "\"version\": 1.5", THECAL_DOSE_ERROR_RANGE, "version");
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"version\": 1", "\"version\": \"1\"", THECAL_DOSE_ERROR_INVALID, "version");
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"version\": 1,", "", THECAL_DOSE_ERROR_INVALID, "version");
  /* a newer version is refused as newer even when it brings keys this Thecal does not know */
  assert_mutation_refused (KIND_PRESCRIPTION, rx_template, "\"version\": 1,", "\"version\": 2, \"new_key\": true,", THECAL_DOSE_ERROR_RANGE, "version");
}
END_TEST

START_TEST (test_prescription_field_errors)
{
  const char *t = rx_template;

  /* wrong types */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"25 mg/mL\"", "25", THECAL_DOSE_ERROR_INVALID, "concentration");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"drug\": \"morphine\"", "\"drug\": null", THECAL_DOSE_ERROR_INVALID, "drug");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"continuous\": { \"dose\": \"5 mg/day\" }", "\"continuous\": \"5 mg/day\"", THECAL_DOSE_ERROR_INVALID, "continuous");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"max_per_24h\": 4", "\"max_per_24h\": \"4\"", THECAL_DOSE_ERROR_INVALID, "ptm.max_per_24h");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"periodic_boluses\": [", "\"periodic_boluses\": {\"x\": [", THECAL_DOSE_ERROR_PARSE, "$");

  /* unknown and duplicate keys */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"concentration\"", "\"concentation\"", THECAL_DOSE_ERROR_INVALID, "concentation");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"lockout\"", "\"lockuot\"", THECAL_DOSE_ERROR_INVALID, "ptm.lockuot");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"start\": \"12:00\"", "\"start\": \"12:00\", \"note\": \"x\"", THECAL_DOSE_ERROR_INVALID, "periodic_boluses[0].note");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"drug\": \"morphine\",", "\"drug\": \"morphine\", \"drug\": \"baclofen\",", THECAL_DOSE_ERROR_INVALID, "drug");

  /* missing required keys */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"mode\": \"continuous\",", "", THECAL_DOSE_ERROR_INVALID, "mode");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"concentration\": \"25 mg/mL\",", "", THECAL_DOSE_ERROR_INVALID, "concentration");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"continuous\": { \"dose\": \"5 mg/day\" },", "", THECAL_DOSE_ERROR_INVALID, "continuous");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"lockout\": \"3 h\", ", "", THECAL_DOSE_ERROR_INVALID, "ptm.lockout");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"dose\": \"0.5 mg\", ", "", THECAL_DOSE_ERROR_INVALID, "periodic_boluses[0].dose");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "{ \"dose\": \"5 mg/day\" }", "{ }", THECAL_DOSE_ERROR_INVALID, "continuous");

  /* values: wrong unit, negative, overflow, not exact, out of range */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"5 mg/day\"", "\"5 mg\"", THECAL_DOSE_ERROR_UNIT, "continuous.dose");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"25 mg/mL\"", "\"25 mg/L\"", THECAL_DOSE_ERROR_UNIT, "concentration");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"0.5 mg\"", "\"0.5 mL\"", THECAL_DOSE_ERROR_UNIT, "periodic_boluses[0].dose");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"5 mg/day\"", "\"-5 mg/day\"", THECAL_DOSE_ERROR_RANGE, "continuous.dose");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"5 mg/day\"", "\"99999999999999999999 mg/day\"", THECAL_DOSE_ERROR_OVERFLOW, "continuous.dose");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"5 mg/day\"", "\"0 mg/day\"", THECAL_DOSE_ERROR_RANGE, "continuous.dose");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"12:00\"", "\"24:00\"", THECAL_DOSE_ERROR_RANGE, "periodic_boluses[0].start");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"max_per_24h\": 4", "\"max_per_24h\": -1", THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"max_per_24h\": 4", "\"max_per_24h\": 0", THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"max_per_24h\": 4", "\"max_per_24h\": 4.5", THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"max_per_24h\": 4", "\"max_per_24h\": 1e400", THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"max_per_24h\": 4", "\"max_per_24h\": 3000000000", THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  /* 3 h lockout: at most 8 a day (thecal_prescription_validate) */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"max_per_24h\": 4", "\"max_per_24h\": 9", THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"mode\": \"continuous\"", "\"mode\": \"Continuous\"", THECAL_DOSE_ERROR_INVALID, "mode");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"drug\": \"morphine\"", "\"drug\": \"morphine-with-a-much-too-long-name-x\"", THECAL_DOSE_ERROR_CAPACITY, "drug");
  /* a \u0000 escape would cut the text short: refused */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"25 mg/mL\"", "\"25 mg/mL\\u0000 per day\"", THECAL_DOSE_ERROR_PARSE, "$");

  /* mode blocks */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "{ \"dose\": \"5 mg/day\" }", "{ \"dose\": \"5 mg/day\", \"rate\": \"0.2 mL/day\" }", THECAL_DOSE_ERROR_INVALID, "continuous");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"mode\": \"continuous\"", "\"mode\": \"minimum_rate\"", THECAL_DOSE_ERROR_INVALID, "continuous");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"mode\": \"continuous\"", "\"mode\": \"flex\"", THECAL_DOSE_ERROR_INVALID, "continuous");
  /* a stopped pump delivers no periodic bolus (thecal_prescription_validate) */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"mode\": \"continuous\",\n  \"continuous\": { \"dose\": \"5 mg/day\" },", "\"mode\": \"stopped\",", THECAL_DOSE_ERROR_INVALID, "periodic_boluses");
  /* an empty drug only when stopped; the validator's "drug_id" is reported as "drug" */
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"drug\": \"morphine\"", "\"drug\": \"\"", THECAL_DOSE_ERROR_INVALID, "drug");
}
END_TEST

START_TEST (test_flex_errors)
{
  const char *t = flex_template;
  char many[4096];
  size_t used = 0;

  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"18 h\"", "\"17 h\"", THECAL_DOSE_ERROR_INVALID, "flex_steps[1].duration");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"6 h\"", "\"7 h\"", THECAL_DOSE_ERROR_INVALID, "flex_steps[1].start");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"6 h\"", "\"359 s\"", THECAL_DOSE_ERROR_RANGE, "flex_steps[0].duration");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"6 h\"", "\"6 mL\"", THECAL_DOSE_ERROR_UNIT, "flex_steps[0].duration");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"0.24 mL/day\"", "\"0.24 mg/day\"", THECAL_DOSE_ERROR_UNIT, "flex_steps[1].rate");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"4 mg/day\"", "\"4 mg/day\", \"rate\": \"0.16 mL/day\"", THECAL_DOSE_ERROR_INVALID, "flex_steps[0]");
  assert_mutation_refused (KIND_PRESCRIPTION, t, ", \"dose\": \"4 mg/day\"", "", THECAL_DOSE_ERROR_INVALID, "flex_steps[0]");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"flex_steps\": [", "\"flex_steps\": [ ], \"x\": [", THECAL_DOSE_ERROR_INVALID, "x");
  assert_mutation_refused (KIND_PRESCRIPTION, t, "\"mode\": \"flex\", ", "\"mode\": \"continuous\", ", THECAL_DOSE_ERROR_INVALID, "continuous");

  /* 14 steps: one more than THECAL_FLEX_STEPS_MAX, refused as a capacity error on the list */
  used += (size_t) snprintf (many + used, sizeof many - used,
                             "{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"morphine\", "
                             "\"concentration\": \"25 mg/mL\", \"mode\": \"flex\", \"flex_steps\": [");
  for (int i = 0; i < THECAL_FLEX_STEPS_MAX + 1; i++)
    used += (size_t) snprintf (many + used, sizeof many - used,
                               "%s{ \"start\": \"%02d:00\", \"duration\": \"%d min\", \"dose\": \"1 mg/day\" }",
                               i > 0 ? ", " : "", i, i < THECAL_FLEX_STEPS_MAX ? 60 : 60 * 11);
  snprintf (many + used, sizeof many - used, "] }");
  assert_refused (KIND_PRESCRIPTION, many, THECAL_DOSE_ERROR_CAPACITY, "flex_steps");
}
END_TEST

START_TEST (test_periodic_capacity)
{
  char many[4096];
  size_t used = 0;

  used += (size_t) snprintf (many + used, sizeof many - used,
                             "{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"morphine\", "
                             "\"concentration\": \"25 mg/mL\", \"mode\": \"continuous\", \"continuous\": { \"dose\": \"5 mg/day\" }, "
                             "\"periodic_boluses\": [");
  for (int i = 0; i < THECAL_PERIODIC_BOLUSES_MAX + 1; i++)
    used += (size_t) snprintf (many + used, sizeof many - used,
                               "%s{ \"start\": \"%02d:00\", \"dose\": \"0.1 mg\", \"duration\": \"10 min\" }",
                               i > 0 ? ", " : "", i);
  snprintf (many + used, sizeof many - used, "] }");
  assert_refused (KIND_PRESCRIPTION, many, THECAL_DOSE_ERROR_CAPACITY, "periodic_boluses");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Malformed drug libraries                                                                     */

/* Every text that a mutation anchors on is unique: ids and kinds are part of the sources. */
#define LIMIT_JSON(kind, value)                                                                    \
  "{ \"kind\": \"" kind "\", \"severity\": \"soft\", \"applies_to\": \"all\", \"value\": \"" value \
  "\", \"confirmed\": false, \"source\": \"test: " kind "\" }"

#define DRUG_JSON(id, labeled, limits)                                                           \
  "{ \"id\": \"" id "\", \"display_name\": \"" id "\", \"opioid\": true,\n"                      \
  "  \"ptm\": { \"permitted\": true, \"confirmed\": true, \"source\": \"test: ptm " id "\" },\n" \
  "  \"stability\": { \"days\": 90, \"source\": \"test: stability " id "\" },\n"                 \
  "  \"labeled_concentrations\": [" labeled "],\n"                                               \
  "  \"limits\": [ " limits " ] }"

static const char *const library_template = "{ \"format\": \"thecal-drug-library\", \"version\": 1, \"library_version\": \"test-1\",\n"
                                            "  \"drugs\": [\n"
                                            "  " DRUG_JSON ("alpha", "\"10 mg/mL\", \"25 mg/mL\"", LIMIT_JSON ("max_daily_dose", "15 mg/day")) ",\n"
                                                                                                                                               "  " DRUG_JSON ("beta", "\"10 mg/mL\"", LIMIT_JSON ("max_concentration", "20 mg/mL")) ",\n"
                                                                                                                                                                                                                                     "  " DRUG_JSON ("gamma", "", LIMIT_JSON ("max_increase_percent", "30 %") ", " LIMIT_JSON ("max_ptm_dose", "0.5 mg")) " ] }\n";

START_TEST (test_library_errors)
{
  static ThecalDrugLibrary library;
  const char *t = library_template;
  ThecalDoseError error;
  char *text;

  ck_assert_msg (thecal_drug_library_load_json (t, strlen (t), &library, &error), "%s: %s", error.field, error.message);
  ck_assert_int_eq (library.n_drugs, 3);
  ck_assert_str_eq (library.version, "test-1");
  ck_assert_int_eq (library.drugs[2].n_limits, 2);
  ck_assert_int_eq (library.drugs[2].limits[0].kind, THECAL_LIMIT_MAX_INCREASE_PERCENT);
  ck_assert_int_eq (library.drugs[2].limits[0].value, 3000);
  ck_assert_int_eq (library.drugs[2].limits[1].value, 500000);
  ck_assert_int_eq (library.drugs[0].stability_days, 90);

  /* the path names the drug and the limit */
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"30 %\"", "\"30 mg\"", THECAL_DOSE_ERROR_UNIT, "drugs[2].limits[0].value");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"30 %\"", "\"-30 %\"", THECAL_DOSE_ERROR_RANGE, "drugs[2].limits[0].value");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"30 %\"", "\"0 %\"", THECAL_DOSE_ERROR_RANGE, "drugs[2].limits[0].value");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"0.5 mg\"", "\"0.5 mg/day\"", THECAL_DOSE_ERROR_UNIT, "drugs[2].limits[1].value");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"15 mg/day\"", "\"99999999999999999999 mg/day\"", THECAL_DOSE_ERROR_OVERFLOW, "drugs[0].limits[0].value");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"max_daily_dose\"", "\"max_dialy_dose\"", THECAL_DOSE_ERROR_INVALID, "drugs[0].limits[0].kind");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"id\": \"beta\"", "\"id\": \"Beta\"", THECAL_DOSE_ERROR_INVALID, "drugs[1].id");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"id\": \"beta\"", "\"id\": \"alpha\"", THECAL_DOSE_ERROR_INVALID, "drugs[1].id");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"library_version\": \"test-1\",", "", THECAL_DOSE_ERROR_INVALID, "library_version");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"version\": 1", "\"version\": 2", THECAL_DOSE_ERROR_RANGE, "version");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"thecal-drug-library\"", "\"thecal-pump-models\"", THECAL_DOSE_ERROR_INVALID, "format");

  /* unknown keys at every level */
  text = replace_once (t, "\"library_version\"", "\"library_versoin\"");
  assert_refused (KIND_DRUG_LIBRARY, text, THECAL_DOSE_ERROR_INVALID, "library_versoin");
  free (text);
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"source\": \"test: stability alpha\"", "\"sorce\": \"test: stability alpha\"", THECAL_DOSE_ERROR_INVALID, "drugs[0].stability.sorce");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"kind\": \"max_concentration\"", "\"kind\": \"max_concentration\", \"note\": 1", THECAL_DOSE_ERROR_INVALID, "drugs[1].limits[0].note");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"display_name\": \"gamma\"", "\"display_name\": \"gamma\", \"displayname\": \"g\"", THECAL_DOSE_ERROR_INVALID, "drugs[2].displayname");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"permitted\": true, \"confirmed\": true, \"source\": \"test: ptm beta\"",
                           "\"permitted\": true, \"confirmed\": true, \"confirmed\": false, \"source\": \"test: ptm beta\"", THECAL_DOSE_ERROR_INVALID, "drugs[1].ptm.confirmed");

  /* missing required keys and wrong types */
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, ", \"source\": \"test: max_ptm_dose\"", "", THECAL_DOSE_ERROR_INVALID, "drugs[2].limits[1].source");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"source\": \"test: max_ptm_dose\"", "\"source\": \"\"", THECAL_DOSE_ERROR_INVALID, "drugs[2].limits[1].source");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"days\": 90, \"source\": \"test: stability beta\"", "\"days\": \"90\", \"source\": \"test: stability beta\"", THECAL_DOSE_ERROR_INVALID, "drugs[1].stability.days");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"days\": 90, \"source\": \"test: stability beta\"", "\"days\": 0, \"source\": \"test: stability beta\"", THECAL_DOSE_ERROR_RANGE, "drugs[1].stability.days");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"display_name\": \"alpha\", \"opioid\": true", "\"display_name\": \"alpha\", \"opioid\": \"yes\"", THECAL_DOSE_ERROR_INVALID, "drugs[0].opioid");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"display_name\": \"alpha\", ", "", THECAL_DOSE_ERROR_INVALID, "drugs[0].display_name");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"labeled_concentrations\": [\"10 mg/mL\"]", "\"labeled_concentrations\": \"10 mg/mL\"", THECAL_DOSE_ERROR_INVALID, "drugs[1].labeled_concentrations");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"labeled_concentrations\": [\"10 mg/mL\"]", "\"labeled_concentrations\": [\"10 mg\"]", THECAL_DOSE_ERROR_UNIT, "drugs[1].labeled_concentrations[0]");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"labeled_concentrations\": [\"10 mg/mL\"]", "\"labeled_concentrations\": [10]", THECAL_DOSE_ERROR_INVALID, "drugs[1].labeled_concentrations[0]");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"severity\": \"soft\", \"applies_to\": \"all\", \"value\": \"15 mg/day\"",
                           "\"severity\": \"medium\", \"applies_to\": \"all\", \"value\": \"15 mg/day\"", THECAL_DOSE_ERROR_INVALID, "drugs[0].limits[0].severity");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"severity\": \"soft\", \"applies_to\": \"all\", \"value\": \"15 mg/day\"",
                           "\"severity\": \"soft\", \"applies_to\": \"naive\", \"value\": \"15 mg/day\"", THECAL_DOSE_ERROR_INVALID, "drugs[0].limits[0].applies_to");
  assert_mutation_refused (KIND_DRUG_LIBRARY, t, "\"drugs\": [", "\"drugs\": [ ], \"x\": [", THECAL_DOSE_ERROR_INVALID, "x");
  assert_refused (KIND_DRUG_LIBRARY, "{ \"format\": \"thecal-drug-library\", \"version\": 1, \"library_version\": \"x\", \"drugs\": [] }", THECAL_DOSE_ERROR_INVALID, "drugs");
}
END_TEST

START_TEST (test_library_capacity)
{
  char *text = malloc (THECAL_JSON_MAX_BYTES);
  size_t used = 0;

  ck_assert (text != NULL);
  /* 33 drugs: one more than THECAL_DRUGS_MAX */
  used += (size_t) snprintf (text + used, THECAL_JSON_MAX_BYTES - used,
                             "{ \"format\": \"thecal-drug-library\", \"version\": 1, \"library_version\": \"x\", \"drugs\": [");
  for (int i = 0; i < THECAL_DRUGS_MAX + 1; i++)
    used += (size_t) snprintf (text + used, THECAL_JSON_MAX_BYTES - used,
                               "%s{ \"id\": \"d%d\", \"display_name\": \"d\", \"opioid\": false, "
                               "\"ptm\": { \"permitted\": false, \"confirmed\": true, \"source\": \"s\" }, "
                               "\"labeled_concentrations\": [], \"limits\": [] }",
                               i > 0 ? ", " : "", i);
  snprintf (text + used, THECAL_JSON_MAX_BYTES - used, "] }");
  assert_refused (KIND_DRUG_LIBRARY, text, THECAL_DOSE_ERROR_CAPACITY, "drugs");

  /* 17 limits in the second drug */
  used = 0;
  used += (size_t) snprintf (text + used, THECAL_JSON_MAX_BYTES - used,
                             "{ \"format\": \"thecal-drug-library\", \"version\": 1, \"library_version\": \"x\", \"drugs\": ["
                             "{ \"id\": \"a\", \"display_name\": \"a\", \"opioid\": false, "
                             "\"ptm\": { \"permitted\": false, \"confirmed\": true, \"source\": \"s\" }, "
                             "\"labeled_concentrations\": [], \"limits\": [] }, "
                             "{ \"id\": \"b\", \"display_name\": \"b\", \"opioid\": false, "
                             "\"ptm\": { \"permitted\": false, \"confirmed\": true, \"source\": \"s\" }, "
                             "\"labeled_concentrations\": [], \"limits\": [");
  for (int i = 0; i < THECAL_DRUG_LIMITS_MAX + 1; i++)
    used += (size_t) snprintf (text + used, THECAL_JSON_MAX_BYTES - used, "%s%s", i > 0 ? ", " : "", LIMIT_JSON ("max_daily_dose", "1 mg/day"));
  snprintf (text + used, THECAL_JSON_MAX_BYTES - used, "] } ] }");
  assert_refused (KIND_DRUG_LIBRARY, text, THECAL_DOSE_ERROR_CAPACITY, "drugs[1].limits");

  /* 9 labeled concentrations */
  {
    char *nine = replace_once (library_template, "[\"10 mg/mL\"]",
                               "[\"1 mg/mL\", \"2 mg/mL\", \"3 mg/mL\", \"4 mg/mL\", \"5 mg/mL\", \"6 mg/mL\", \"7 mg/mL\", \"8 mg/mL\", \"9 mg/mL\"]");

    assert_refused (KIND_DRUG_LIBRARY, nine, THECAL_DOSE_ERROR_CAPACITY, "drugs[1].labeled_concentrations");
    free (nine);
  }

  /* a source longer than the 319 bytes it is stored in */
  {
    char source[400];
    char replacement[500];
    char *long_source;

    memset (source, 'x', sizeof source - 1);
    source[sizeof source - 1] = '\0';
    snprintf (replacement, sizeof replacement, "\"source\": \"%s\"", source);
    long_source = replace_once (library_template, "\"source\": \"test: max_increase_percent\"", replacement);
    assert_refused (KIND_DRUG_LIBRARY, long_source, THECAL_DOSE_ERROR_CAPACITY, "drugs[2].limits[0].source");
    free (long_source);
  }
  free (text);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Malformed pump models                                                                        */

#define MODEL_JSON(id, rate_min)                                                                                  \
  "{ \"id\": \"" id "\", \"name\": \"test " id "\", \"reservoir_capacity\": \"20 mL\",\n"                         \
  "  \"rate_min\": \"" rate_min "\", \"rate_max\": \"24 mL/day\", \"minimum_rate\": \"0.006 mL/day\",\n"          \
  "  \"rate_resolution\": \"0.001 mL/day\", \"bolus_rate_max\": \"1 mL/h\", \"stroke_volume\": \"0.00025 mL\",\n" \
  "  \"internal_volume\": \"0.25 mL\", \"accuracy\": \"14.5 %\", \"low_reservoir_alarm\": \"2 mL\",\n"            \
  "  \"refill_threshold\": \"3 mL\", \"empty\": \"1 mL\", \"discrepancy_threshold\": \"1 mL\",\n"                 \
  "  \"service_life_days\": 2555, \"eri_days_before_eos\": 90,\n"                                                 \
  "  \"sources\": { \"rate_min\": \"test: " id "\" } }"

static const char *const models_template = "{ \"format\": \"thecal-pump-models\", \"version\": 1, \"models\": [\n"
                                           "  " MODEL_JSON ("A", "0.048 mL/day") ",\n"
                                                                                 "  " MODEL_JSON ("B", "0.049 mL/day") " ] }\n";

START_TEST (test_models_errors)
{
  static ThecalPumpModelSet set;
  const char *t = models_template;
  ThecalDoseError error;
  char *text;
  size_t used = 0;

  ck_assert_msg (thecal_pump_models_load_json (t, strlen (t), &set, &error), "%s: %s", error.field, error.message);
  ck_assert_int_eq (set.n_models, 2);
  ck_assert_int_eq (set.models[1].rate_min_nl_per_day, 49000);

  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"0.049 mL/day\"", "\"0.049 mL\"", THECAL_DOSE_ERROR_UNIT, "models[1].rate_min");
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"0.049 mL/day\"", "\"-0.049 mL/day\"", THECAL_DOSE_ERROR_RANGE, "models[1].rate_min");
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"0.049 mL/day\"", "\"0.0495 mL/day\"", THECAL_DOSE_ERROR_INVALID, "models[1].rate_min");
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"0.049 mL/day\"", "\"25 mL/day\"", THECAL_DOSE_ERROR_RANGE, "models[1].rate_min");
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"rate_min\": \"test: B\"", "\"rate_mni\": \"test: B\"", THECAL_DOSE_ERROR_INVALID, "models[1].sources.rate_mni");
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"rate_min\": \"test: B\"", "\"rate_min\": 1", THECAL_DOSE_ERROR_INVALID, "models[1].sources.rate_min");
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"id\": \"B\"", "\"id\": \"A\"", THECAL_DOSE_ERROR_INVALID, "models[1].id");
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"rate_min\": \"0.049 mL/day\", ", "", THECAL_DOSE_ERROR_INVALID, "models[1].rate_min");
  text = replace_once (t, "\"id\": \"A\", \"name\": \"test A\", \"reservoir_capacity\"", "\"id\": \"A\", \"name\": \"test A\", \"reservoir_capacty\"");
  assert_refused (KIND_PUMP_MODELS, text, THECAL_DOSE_ERROR_INVALID, "models[0].reservoir_capacty");
  free (text);
  assert_mutation_refused (KIND_PUMP_MODELS, t, "\"models\": [", "\"models\": [], \"more\": [", THECAL_DOSE_ERROR_INVALID, "more");
  assert_refused (KIND_PUMP_MODELS, "{ \"format\": \"thecal-pump-models\", \"version\": 1, \"models\": [] }", THECAL_DOSE_ERROR_INVALID, "models");

  /* 17 models: one more than THECAL_PUMP_MODELS_MAX */
  text = malloc (65536);
  ck_assert (text != NULL);
  used += (size_t) snprintf (text + used, 65536 - used, "{ \"format\": \"thecal-pump-models\", \"version\": 1, \"models\": [");
  for (int i = 0; i < THECAL_PUMP_MODELS_MAX + 1; i++)
    used += (size_t) snprintf (text + used, 65536 - used, "%s%s", i > 0 ? ", " : "", MODEL_JSON ("M", "0.048 mL/day"));
  snprintf (text + used, 65536 - used, "] }");
  assert_refused (KIND_PUMP_MODELS, text, THECAL_DOSE_ERROR_CAPACITY, "models");
  free (text);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Writing prescriptions                                                                        */

static void
assert_same_prescription (const ThecalPrescription *a, const ThecalPrescription *b)
{
  ck_assert_str_eq (a->drug_id, b->drug_id);
  ck_assert_int_eq (a->concentration_ng_per_ml, b->concentration_ng_per_ml);
  ck_assert_int_eq (a->mode, b->mode);
  ck_assert_int_eq (a->continuous.basis, b->continuous.basis);
  ck_assert_int_eq (a->continuous.dose_ng_per_day, b->continuous.dose_ng_per_day);
  ck_assert_int_eq (a->continuous.rate_nl_per_day, b->continuous.rate_nl_per_day);
  ck_assert_int_eq (a->n_flex_steps, b->n_flex_steps);
  for (int32_t i = 0; i < a->n_flex_steps; i++)
    {
      ck_assert_int_eq (a->flex_steps[i].start_min, b->flex_steps[i].start_min);
      ck_assert_int_eq (a->flex_steps[i].duration_min, b->flex_steps[i].duration_min);
      ck_assert_int_eq (a->flex_steps[i].amount.basis, b->flex_steps[i].amount.basis);
      ck_assert_int_eq (a->flex_steps[i].amount.dose_ng_per_day, b->flex_steps[i].amount.dose_ng_per_day);
      ck_assert_int_eq (a->flex_steps[i].amount.rate_nl_per_day, b->flex_steps[i].amount.rate_nl_per_day);
    }
  ck_assert_int_eq (a->n_periodic_boluses, b->n_periodic_boluses);
  for (int32_t i = 0; i < a->n_periodic_boluses; i++)
    {
      ck_assert_int_eq (a->periodic_boluses[i].start_min, b->periodic_boluses[i].start_min);
      ck_assert_int_eq (a->periodic_boluses[i].dose_ng, b->periodic_boluses[i].dose_ng);
      ck_assert_int_eq (a->periodic_boluses[i].duration_ms, b->periodic_boluses[i].duration_ms);
    }
  ck_assert_int_eq (a->ptm.enabled, b->ptm.enabled);
  ck_assert_int_eq (a->ptm.dose_ng, b->ptm.dose_ng);
  ck_assert_int_eq (a->ptm.duration_ms, b->ptm.duration_ms);
  ck_assert_int_eq (a->ptm.lockout_ms, b->ptm.lockout_ms);
  ck_assert_int_eq (a->ptm.max_per_24h, b->ptm.max_per_24h);
}

static void
assert_round_trip (const ThecalPrescription *rx)
{
  ThecalPrescription loaded;
  ThecalDoseError error;
  char *text = thecal_prescription_to_json (rx);
  char *again;

  ck_assert (text != NULL);
  ck_assert_msg (thecal_prescription_load_json (text, strlen (text), &loaded, &error), "%s: %s\n%s", error.field, error.message, text);
  assert_same_prescription (rx, &loaded);
  /* writing again gives the same text */
  again = thecal_prescription_to_json (&loaded);
  ck_assert_str_eq (text, again);
  free (again);
  free (text);
}

START_TEST (test_round_trip)
{
  ThecalPrescription rx;
  char *text;

  /* the worked example: morphine 25 mg/mL, 5 mg/day */
  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "morphine");
  rx.concentration_ng_per_ml = 25000000;
  rx.mode = THECAL_MODE_CONTINUOUS;
  rx.continuous.basis = THECAL_BASIS_DOSE;
  rx.continuous.dose_ng_per_day = 5000000;
  assert_round_trip (&rx);
  text = thecal_prescription_to_json (&rx);
  ck_assert (strstr (text, "\"25 mg/mL\"") != NULL);
  ck_assert (strstr (text, "\"5 mg/day\"") != NULL);
  ck_assert (strstr (text, "\"thecal-prescription\"") != NULL);
  ck_assert (strstr (text, "flex_steps") == NULL);
  ck_assert (strstr (text, "ptm") == NULL);
  free (text);

  /* the same as a rate, with awkward digits (every significant digit must survive) */
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.dose_ng_per_day = 0;
  rx.continuous.rate_nl_per_day = 200001; /* 0.200001 mL/day */
  assert_round_trip (&rx);

  /* periodic boluses and PTM */
  rx.continuous.rate_nl_per_day = 200000;
  rx.n_periodic_boluses = 2;
  rx.periodic_boluses[0].start_min = 120; /* 02:00, 1 ng over 1 ms: the smallest values */
  rx.periodic_boluses[0].dose_ng = 1;
  rx.periodic_boluses[0].duration_ms = 1;
  rx.periodic_boluses[1].start_min = 1439; /* 23:59, running 60 min past midnight */
  rx.periodic_boluses[1].dose_ng = 1234567;
  rx.periodic_boluses[1].duration_ms = 60 * 60000;
  rx.ptm.enabled = true;
  rx.ptm.dose_ng = 100000;
  rx.ptm.duration_ms = 600000;
  rx.ptm.lockout_ms = 10800000; /* 3 h: at most 8 a day */
  rx.ptm.max_per_24h = 8;
  assert_round_trip (&rx);

  /* flex: 13 steps of mixed basis, the last running past midnight */
  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "baclofen");
  rx.concentration_ng_per_ml = 500000; /* 500 mcg/mL */
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = THECAL_FLEX_STEPS_MAX;
  for (int i = 0; i < THECAL_FLEX_STEPS_MAX; i++)
    {
      rx.flex_steps[i].start_min = 60 + i * 100;
      rx.flex_steps[i].duration_min = i < THECAL_FLEX_STEPS_MAX - 1 ? 100 : 1440 - 1200;
      rx.flex_steps[i].amount.basis = i % 2 == 0 ? THECAL_BASIS_DOSE : THECAL_BASIS_RATE;
      if (i % 2 == 0)
        rx.flex_steps[i].amount.dose_ng_per_day = 400000 + i * 1001;
      else
        rx.flex_steps[i].amount.rate_nl_per_day = 800000 + i * 7;
    }
  assert_round_trip (&rx);

  /* minimum rate and stopped */
  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "ziconotide");
  rx.concentration_ng_per_ml = 100000; /* 100 mcg/mL */
  rx.mode = THECAL_MODE_MINIMUM_RATE;
  assert_round_trip (&rx);
  rx.mode = THECAL_MODE_STOPPED;
  assert_round_trip (&rx);

  /* a stopped prescription straight from thecal_prescription_init: no drug, no concentration */
  thecal_prescription_init (&rx);
  assert_round_trip (&rx);

  ck_assert (thecal_prescription_to_json (NULL) == NULL);
}
END_TEST

START_TEST (test_round_trip_docs_worked_example)
{
  /* docs/formats.md flex example: load → write → load gives the same prescription */
  static const char text[] = "{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"morphine\", \"concentration\": \"25 mg/mL\","
                             "  \"mode\": \"flex\", \"flex_steps\": ["
                             "    { \"start\": \"00:00\", \"duration\": \"6 h\", \"dose\": \"4 mg/day\" },"
                             "    { \"start\": \"06:00\", \"duration\": \"16 h\", \"dose\": \"6 mg/day\" },"
                             "    { \"start\": \"22:00\", \"duration\": \"2 h\", \"rate\": \"0.16 mL/day\" } ],"
                             "  \"periodic_boluses\": [ { \"start\": \"12:00\", \"dose\": \"0.5 mg\", \"duration\": \"30 min\" } ],"
                             "  \"ptm\": { \"dose\": \"0.1 mg\", \"duration\": \"10 min\", \"lockout\": \"3 h\", \"max_per_24h\": 4 } }";
  ThecalPrescription rx;
  ThecalDoseError error;

  ck_assert_msg (thecal_prescription_load_json (text, strlen (text), &rx, &error), "%s: %s", error.field, error.message);
  ck_assert_int_eq (rx.flex_steps[2].amount.rate_nl_per_day, 160000);
  ck_assert_int_eq (rx.flex_steps[1].duration_min, 960);
  assert_round_trip (&rx);
}
END_TEST

static Suite *
dose_json_suite (void)
{
  Suite *suite = suite_create ("dose-json");
  TCase *tc;

  tc = tcase_create ("shipped");
  tcase_add_test (tc, test_shipped_pump_models);
  tcase_add_test (tc, test_shipped_drug_library);
  tcase_add_test (tc, test_docs_examples);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("prescription");
  tcase_add_test (tc, test_prescription_template_loads);
  tcase_add_test (tc, test_prescription_document_errors);
  tcase_add_test (tc, test_prescription_header_errors);
  tcase_add_test (tc, test_prescription_field_errors);
  tcase_add_test (tc, test_flex_errors);
  tcase_add_test (tc, test_periodic_capacity);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("library");
  tcase_add_test (tc, test_library_errors);
  tcase_add_test (tc, test_library_capacity);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("models");
  tcase_add_test (tc, test_models_errors);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("write");
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_round_trip_docs_worked_example);
  suite_add_tcase (suite, tc);
  return suite;
}

THECAL_TEST_MAIN (dose_json_suite)
