/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-check.c: the prescription check (thecal-check.h).
 *
 * The check never fails: every problem, including a prescription that cannot be resolved, is a
 * finding with a severity (refused / needs an override reason / note), the field, the value, the
 * limit with its source, and one sentence a clinician reads at a glance. Findings are kept in
 * order of severity, then in the order the fields appear in a prescription:
 *
 *   structure → drug → concentration → continuous / flex_steps → periodic_boluses → ptm
 *   → daily dose → per-step increase
 *
 * What is checked is what the pump will really deliver: the delivery plan of the prescription on
 * the given pump model (rates rounded to the model's resolution, boluses to whole strokes), and
 * for daily doses the worst case (basal + periodic boluses + every allowed PTM activation).
 *
 * Two decisions beyond the letter of the drug library:
 *  - A STOPPED prescription delivers nothing, so drug-library findings about it (unknown drug,
 *    concentration limits) are notes: the check must never stand in the way of stopping a pump.
 *    PTM and structure findings keep their severity.
 *  - When the current prescription cannot be resolved, the per-step limits cannot be compared;
 *    the check then fails closed with the severity of the strictest per-step limit.
 */
#include "config.h"

#include "thecal-check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SOURCE_UNLABELED                                                                         \
  "Dec 2012 Class I recall: pump failure 7.0 % with unapproved vs 2.4 % with approved drugs at " \
  "78 months (CLINICAL.md §1.7, https://www.medscape.com/viewarticle/776694); FDA Nov 2018 "    \
  "safety communication on drugs not approved for the pump (CLINICAL.md §4.1)"
#define SOURCE_PTM_OPIOID_NAIVE                                                                     \
  "Contraindication: PTM must not be used to give opioid to opioid-naive patients (CLINICAL.md "    \
  "§1.8, §3.1; https://medtronic.com/en-us/healthcare-professionals/specialties/pain-management/" \
  "therapies-procedures/targeted-drug-delivery/conditions/cancer-pain.html)"
#define SOURCE_BRIDGE                                                                                \
  "CLINICAL.md §1.4: a drug or concentration change needs a refill and a bridge bolus through the " \
  "pump's internal volume and the catheter"

typedef struct
{
  const ThecalPrescription *rx;
  const ThecalPrescription *current;
  const ThecalPumpModel *model;
  const ThecalDrugLibrary *library;
  const ThecalDrug *drug; /* NULL: unknown */
  bool tolerant;          /* opioid-tolerant patient */
  ThecalCheckResult *result;
} CheckState;

/* ------------------------------------------------------------------------------------------ */
/* Text helpers                                                                                 */

static void text_printf (char *buf, size_t size, const char *format, ...) __attribute__ ((format (printf, 3, 4)));

/* snprintf that truncates silently: every text field of a finding is fixed-size. */
static void
text_printf (char *buf, size_t size, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vsnprintf (buf, size, format, args);
  va_end (args);
}

static void
text_copy (char *buf, size_t size, const char *text)
{
  size_t length = text != NULL ? strnlen (text, size - 1) : 0;

  if (length > 0)
    memcpy (buf, text, length);
  buf[length] = '\0';
}

/* A count from a struct the caller owns, clamped to its table: never index past the end. */
static int32_t
clamp_count (int32_t n, int32_t max)
{
  return n < 0 ? 0 : n > max ? max
                             : n;
}

typedef struct
{
  char text[THECAL_QUANTITY_TEXT_MAX];
} QuantityText;

static QuantityText
quantity (ThecalQuantityKind kind, int64_t value)
{
  QuantityText q;

  q.text[0] = '\0';
  thecal_quantity_format (kind, value, q.text, sizeof q.text);
  return q;
}

/* A bolus rate reads best per hour ("1 mL/h"); per day when it is not exact per hour. */
static QuantityText
bolus_rate_text (int64_t rate_nl_per_day)
{
  QuantityText q;

  if (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day, "mL/h", q.text, sizeof q.text) == NULL)
    return quantity (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day);
  return q;
}

static const char *
drug_name (const ThecalDrug *drug)
{
  return drug->display_name[0] != '\0' ? drug->display_name : drug->id;
}

/* The short label a source starts with ("PACC 2017: Deer et al. ..." → "PACC 2017"), shown in the
 * limit text; the whole source is in the finding's source field. */
static void
source_label (const char *source, char *label, size_t size)
{
  const char *colon = strstr (source, ": ");
  size_t length = colon != NULL ? (size_t) (colon - source) : 0;

  label[0] = '\0';
  if (length > 0 && length <= 40 && length < size)
    {
      memcpy (label, source, length);
      label[length] = '\0';
    }
}

static const char *
limit_severity_word (ThecalLimitSeverity severity)
{
  switch (severity)
    {
    case THECAL_LIMIT_SOFT:
      return "soft";
    case THECAL_LIMIT_HARD:
      return "hard";
    default:
      return "hard";
    }
}

/* A limit's value in its unit; a kind that is not valid (never in a validated library) is shown
 * as an amount. */
static QuantityText
limit_value_text (const ThecalDrugLimit *limit)
{
  ThecalQuantityKind kind = thecal_limit_value_kind (limit->kind);

  return quantity (kind != THECAL_QUANTITY_N_KINDS ? kind : THECAL_QUANTITY_AMOUNT, limit->value);
}

/* "15 mg/day (soft limit, PACC 2017, source unconfirmed)" */
static void
limit_text (const ThecalDrugLimit *limit, const char *suffix, char *buf, size_t size)
{
  char label[48];
  QuantityText value = limit_value_text (limit);

  source_label (limit->source, label, sizeof label);
  text_printf (buf,
               size,
               "%s%s (%s limit%s%s%s)",
               value.text,
               suffix,
               limit_severity_word (limit->severity),
               label[0] != '\0' ? ", " : "",
               label,
               limit->confirmed ? "" : ", source unconfirmed");
}

/* " in opioid-naive patients" when the limit is for one group only. */
static const char *
limit_group_text (const ThecalDrugLimit *limit)
{
  switch (limit->applies_to)
    {
    case THECAL_APPLIES_OPIOID_NAIVE:
      return " in opioid-naive patients";
    case THECAL_APPLIES_OPIOID_TOLERANT:
      return " in opioid-tolerant patients";
    case THECAL_APPLIES_ALL:
    default:
      return "";
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Findings                                                                                     */

static int
severity_rank (ThecalFindingSeverity severity)
{
  switch (severity)
    {
    case THECAL_FINDING_NOTE:
      return 0;
    case THECAL_FINDING_OVERRIDE:
      return 1;
    case THECAL_FINDING_REFUSED:
      return 2;
    default:
      return 2;
    }
}

static void finding_add (ThecalCheckResult *result,
                         ThecalFindingSeverity severity,
                         ThecalFindingCode code,
                         const char *field,
                         const char *value,
                         const char *limit,
                         const char *source,
                         const char *format,
                         ...) __attribute__ ((format (printf, 8, 9)));

/* Inserts a finding after every stored finding at least as severe (stable within a severity).
 * When the table is full, the least severe finding (the newest of them) is the one dropped;
 * n_dropped counts it and `worst` still includes it. */
static void
finding_add (ThecalCheckResult *result,
             ThecalFindingSeverity severity,
             ThecalFindingCode code,
             const char *field,
             const char *value,
             const char *limit,
             const char *source,
             const char *format,
             ...)
{
  int rank = severity_rank (severity);
  int32_t position = result->n_findings;
  ThecalFinding *finding;
  va_list args;

  if (rank > severity_rank (result->worst))
    result->worst = severity;

  while (position > 0 && severity_rank (result->findings[position - 1].severity) < rank)
    position--;
  if (result->n_findings == THECAL_FINDINGS_MAX)
    {
      result->n_dropped++;
      if (position == THECAL_FINDINGS_MAX)
        return; /* the new finding is the least severe and the newest: it is the one dropped */
      result->n_findings--;
    }
  memmove (&result->findings[position + 1],
           &result->findings[position],
           (size_t) (result->n_findings - position) * sizeof result->findings[0]);
  result->n_findings++;

  finding = &result->findings[position];
  memset (finding, 0, sizeof *finding);
  finding->severity = severity;
  finding->code = code;
  text_copy (finding->field, sizeof finding->field, field);
  text_copy (finding->value, sizeof finding->value, value);
  text_copy (finding->limit, sizeof finding->limit, limit);
  text_copy (finding->source, sizeof finding->source, source);
  va_start (args, format);
  vsnprintf (finding->message, sizeof finding->message, format, args);
  va_end (args);
}

static void add_rounding_note (CheckState *st,
                               const char *field,
                               const char *delivered,
                               const char *written,
                               const char *steps,
                               const char *step,
                               const char *format,
                               ...) __attribute__ ((format (printf, 7, 8)));

/* A rounding note: the pump delivers @delivered for the @written value because it moves in
 * @steps of @step ("rate steps" of "0.001 mL/day", "whole strokes" of "0.00025 mL"). */
static void
add_rounding_note (CheckState *st,
                   const char *field,
                   const char *delivered,
                   const char *written,
                   const char *steps,
                   const char *step,
                   const char *format,
                   ...)
{
  char value[THECAL_FINDING_VALUE_MAX], limit[THECAL_FINDING_VALUE_MAX], message[THECAL_FINDING_TEXT_MAX];
  va_list args;

  text_printf (value, sizeof value, "%s (written %s)", delivered, written);
  text_printf (limit, sizeof limit, "%s of %s (pump model %s)", steps, step, st->model->id);
  va_start (args, format);
  vsnprintf (message, sizeof message, format, args);
  va_end (args);
  finding_add (st->result, THECAL_FINDING_NOTE, THECAL_FINDING_ROUNDING, field, value, limit, "", "%s", message);
}

static ThecalFindingSeverity
limit_finding_severity (const ThecalDrugLimit *limit)
{
  switch (limit->severity)
    {
    case THECAL_LIMIT_SOFT:
      return THECAL_FINDING_OVERRIDE;
    case THECAL_LIMIT_HARD:
      return THECAL_FINDING_REFUSED;
    default:
      return THECAL_FINDING_REFUSED; /* an unknown severity is treated as hard */
    }
}

static bool
limit_applies (const CheckState *st, const ThecalDrugLimit *limit)
{
  switch (limit->applies_to)
    {
    case THECAL_APPLIES_ALL:
      return true;
    case THECAL_APPLIES_OPIOID_NAIVE:
      return !st->tolerant;
    case THECAL_APPLIES_OPIOID_TOLERANT:
      return st->tolerant;
    default:
      return true; /* an unknown group: apply the limit rather than skip it */
    }
}

static int32_t
drug_limit_count (const ThecalDrug *drug)
{
  return clamp_count (drug->n_limits, THECAL_DRUG_LIMITS_MAX);
}

static bool
stopped (const CheckState *st)
{
  return st->rx->mode == THECAL_MODE_STOPPED;
}

/* Drug-library findings on a stopped pump are notes (see the top of this file). */
static ThecalFindingSeverity
delivery_severity (const CheckState *st, ThecalFindingSeverity severity)
{
  return stopped (st) ? THECAL_FINDING_NOTE : severity;
}

static const char *
stopped_suffix (const CheckState *st)
{
  return stopped (st) ? " (the pump is stopped, so nothing is delivered)" : "";
}

static const char *
amount_field_name (const ThecalDailyAmount *amount)
{
  return amount->basis == THECAL_BASIS_RATE ? "rate" : "dose";
}

/* ------------------------------------------------------------------------------------------ */
/* Drug and concentration                                                                       */

static void
check_drug (CheckState *st)
{
  const ThecalPrescription *rx = st->rx;
  char id[THECAL_ID_MAX];

  text_copy (id, sizeof id, rx->drug_id);
  if (st->library != NULL && id[0] != '\0')
    st->drug = thecal_drug_library_find (st->library, id);
  if (st->drug != NULL)
    return;
  if (id[0] == '\0' && stopped (st))
    return; /* a stopped pump with no drug named: nothing to look up */

  if (st->library == NULL)
    finding_add (st->result,
                 delivery_severity (st, THECAL_FINDING_REFUSED),
                 THECAL_FINDING_UNKNOWN_DRUG,
                 "drug",
                 id,
                 "a drug of the drug library",
                 "",
                 "No drug library is loaded, so the limits of \"%s\" cannot be checked%s.",
                 id,
                 stopped_suffix (st));
  else
    finding_add (st->result,
                 delivery_severity (st, THECAL_FINDING_REFUSED),
                 THECAL_FINDING_UNKNOWN_DRUG,
                 "drug",
                 id,
                 "a drug of the drug library",
                 "",
                 "Drug \"%s\" is not in the drug library (version %.*s), so its limits cannot be checked%s.",
                 id,
                 (int) strnlen (st->library->version, sizeof st->library->version),
                 st->library->version,
                 stopped_suffix (st));
}

static void
check_drug_change (CheckState *st)
{
  const ThecalPrescription *rx = st->rx;
  const ThecalPrescription *current = st->current;
  char old_id[THECAL_ID_MAX], new_id[THECAL_ID_MAX];
  char value[THECAL_FINDING_VALUE_MAX], limit[THECAL_FINDING_VALUE_MAX];

  if (current == NULL)
    return;
  text_copy (old_id, sizeof old_id, current->drug_id);
  text_copy (new_id, sizeof new_id, rx->drug_id);
  if (old_id[0] == '\0' || new_id[0] == '\0')
    return;

  if (strcmp (old_id, new_id) != 0)
    {
      QuantityText old_c = quantity (THECAL_QUANTITY_CONCENTRATION, current->concentration_ng_per_ml);
      QuantityText new_c = quantity (THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml);
      const ThecalDrug *old_drug = thecal_drug_library_find (st->library, old_id);
      const char *old_name = old_drug != NULL ? drug_name (old_drug) : old_id;
      const char *new_name = st->drug != NULL ? drug_name (st->drug) : new_id;

      text_printf (value, sizeof value, "%s %s", new_name, new_c.text);
      text_printf (limit, sizeof limit, "current: %s %s", old_name, old_c.text);
      finding_add (st->result,
                   THECAL_FINDING_NOTE,
                   THECAL_FINDING_DRUG_CHANGE,
                   "drug",
                   value,
                   limit,
                   SOURCE_BRIDGE,
                   "The drug changes from %s %s to %s %s: the pump needs a refill and a bridge bolus so the old drug in the pump and catheter is delivered at the new rate.",
                   old_name,
                   old_c.text,
                   new_name,
                   new_c.text);
    }
  else if (current->concentration_ng_per_ml != rx->concentration_ng_per_ml)
    {
      QuantityText old_c = quantity (THECAL_QUANTITY_CONCENTRATION, current->concentration_ng_per_ml);
      QuantityText new_c = quantity (THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml);

      text_printf (limit, sizeof limit, "current: %s", old_c.text);
      finding_add (st->result,
                   THECAL_FINDING_NOTE,
                   THECAL_FINDING_DRUG_CHANGE,
                   "concentration",
                   new_c.text,
                   limit,
                   SOURCE_BRIDGE,
                   "The concentration of %s changes from %s to %s: the pump needs a refill and a bridge bolus so the old solution in the pump and catheter is delivered at the new rate.",
                   st->drug != NULL ? drug_name (st->drug) : new_id,
                   old_c.text,
                   new_c.text);
    }
}

static void
check_concentration (CheckState *st)
{
  const ThecalDrug *drug = st->drug;
  int64_t concentration = st->rx->concentration_ng_per_ml;
  QuantityText value = quantity (THECAL_QUANTITY_CONCENTRATION, concentration);
  char limit_buf[THECAL_FINDING_VALUE_MAX];
  char labeled[THECAL_FINDING_VALUE_MAX];
  int32_t n_labeled;
  bool is_labeled = false;
  size_t used = 0;

  if (drug == NULL || concentration <= 0)
    return;

  for (int32_t i = 0; i < drug_limit_count (drug); i++)
    {
      const ThecalDrugLimit *limit = &drug->limits[i];
      bool above = limit->kind == THECAL_LIMIT_MAX_CONCENTRATION && concentration > limit->value;
      bool below = limit->kind == THECAL_LIMIT_MIN_CONCENTRATION && concentration < limit->value;

      if (!limit_applies (st, limit) || (!above && !below))
        continue;
      limit_text (limit, above ? " maximum" : " minimum", limit_buf, sizeof limit_buf);
      finding_add (st->result,
                   delivery_severity (st, limit_finding_severity (limit)),
                   THECAL_FINDING_CONCENTRATION,
                   "concentration",
                   value.text,
                   limit_buf,
                   limit->source,
                   "Concentration %s is %s the %s %s limit for %s%s%s.",
                   value.text,
                   above ? "above" : "below",
                   quantity (THECAL_QUANTITY_CONCENTRATION, limit->value).text,
                   limit_severity_word (limit->severity),
                   drug_name (drug),
                   limit_group_text (limit),
                   stopped_suffix (st));
    }

  n_labeled = clamp_count (drug->n_labeled_concentrations, THECAL_DRUG_CONCENTRATIONS_MAX);
  labeled[0] = '\0';
  for (int32_t i = 0; i < n_labeled; i++)
    {
      QuantityText c = quantity (THECAL_QUANTITY_CONCENTRATION, drug->labeled_concentrations_ng_per_ml[i]);

      if (drug->labeled_concentrations_ng_per_ml[i] == concentration)
        is_labeled = true;
      if (used < sizeof labeled)
        {
          text_printf (labeled + used, sizeof labeled - used, "%s%s", i > 0 ? ", " : "labeled: ", c.text);
          used = strnlen (labeled, sizeof labeled);
        }
    }
  if (is_labeled)
    return;
  if (n_labeled == 0)
    finding_add (st->result,
                 THECAL_FINDING_NOTE,
                 THECAL_FINDING_UNLABELED_CONCENTRATION,
                 "concentration",
                 value.text,
                 "no labeled concentration",
                 SOURCE_UNLABELED,
                 "%s has no labeled concentration for intrathecal pumps; unapproved drugs and concentrations raise the risk of a pump motor stall.",
                 drug_name (drug));
  else
    finding_add (st->result,
                 THECAL_FINDING_NOTE,
                 THECAL_FINDING_UNLABELED_CONCENTRATION,
                 "concentration",
                 value.text,
                 labeled,
                 SOURCE_UNLABELED,
                 "%s is not a labeled concentration of %s (%s); unapproved concentrations raise the risk of a pump motor stall.",
                 value.text,
                 drug_name (drug),
                 labeled);
}

/* ------------------------------------------------------------------------------------------ */
/* Basal rates                                                                                  */

/* The flex step a plan segment starting at @start_ms belongs to (steps are validated: they
 * cover the day without overlap, possibly wrapping past midnight). */
static int32_t
flex_step_of_segment (const ThecalPrescription *rx, int64_t start_ms)
{
  int32_t n = clamp_count (rx->n_flex_steps, THECAL_FLEX_STEPS_MAX);

  for (int32_t i = 0; i < n; i++)
    {
      int64_t step_start = (int64_t) rx->flex_steps[i].start_min * THECAL_MS_PER_MINUTE;
      int64_t step_length = (int64_t) rx->flex_steps[i].duration_min * THECAL_MS_PER_MINUTE;
      int64_t offset = ((start_ms - step_start) % THECAL_MS_PER_DAY + THECAL_MS_PER_DAY) % THECAL_MS_PER_DAY;

      if (offset < step_length)
        return i;
    }
  return -1;
}

static void
check_basal_amount (CheckState *st, const char *where, const char *field_prefix, const ThecalDailyAmount *amount, int64_t rate_nl_per_day)
{
  const ThecalPumpModel *model = st->model;
  int64_t concentration = st->rx->concentration_ng_per_ml;
  char field[THECAL_ERROR_FIELD_MAX];
  char limit[THECAL_FINDING_VALUE_MAX];
  QuantityText rate = quantity (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day);
  QuantityText resolution = quantity (THECAL_QUANTITY_VOLUME_RATE, model->rate_resolution_nl_per_day);
  int64_t delivered_ng_per_day = 0;

  text_printf (field, sizeof field, "%s.%s", field_prefix, amount_field_name (amount));

  if (rate_nl_per_day < model->rate_min_nl_per_day || rate_nl_per_day > model->rate_max_nl_per_day)
    {
      bool below = rate_nl_per_day < model->rate_min_nl_per_day;
      QuantityText bound = quantity (THECAL_QUANTITY_VOLUME_RATE,
                                     below ? model->rate_min_nl_per_day : model->rate_max_nl_per_day);

      text_printf (limit, sizeof limit, "%s (%s rate of pump model %s)", bound.text, below ? "minimum" : "maximum", model->id);
      finding_add (st->result,
                   THECAL_FINDING_REFUSED,
                   THECAL_FINDING_RATE_RANGE,
                   field,
                   rate.text,
                   limit,
                   "",
                   "%s runs at %s, %s the %s %s programmable rate of pump model %s.",
                   where,
                   rate.text,
                   below ? "below" : "above",
                   bound.text,
                   below ? "minimum" : "maximum",
                   model->id);
    }

  if (!thecal_dose_ng_from_volume_nl (rate_nl_per_day, concentration, THECAL_ROUND_NEAREST_HALF_DOWN, &delivered_ng_per_day))
    return;
  if (amount->basis == THECAL_BASIS_DOSE && delivered_ng_per_day != amount->dose_ng_per_day)
    {
      QuantityText delivered = quantity (THECAL_QUANTITY_DOSE_RATE, delivered_ng_per_day);
      QuantityText written = quantity (THECAL_QUANTITY_DOSE_RATE, amount->dose_ng_per_day);

      add_rounding_note (st, field, delivered.text, written.text, "rate steps", resolution.text,
                         "%s delivers %s for the written %s, because the rate is rounded to %s (steps of %s).",
                         where, delivered.text, written.text, rate.text, resolution.text);
    }
  else if (amount->basis == THECAL_BASIS_RATE && rate_nl_per_day != amount->rate_nl_per_day)
    {
      QuantityText written = quantity (THECAL_QUANTITY_VOLUME_RATE, amount->rate_nl_per_day);
      QuantityText delivered = quantity (THECAL_QUANTITY_DOSE_RATE, delivered_ng_per_day);

      add_rounding_note (st, field, rate.text, written.text, "rate steps", resolution.text,
                         "%s runs at %s for the written %s (steps of %s), which delivers %s.",
                         where, rate.text, written.text, resolution.text, delivered.text);
    }
}

static void
check_basal (CheckState *st)
{
  const ThecalPrescription *rx = st->rx;
  const ThecalDeliveryPlan *plan = &st->result->plan;
  int32_t n_segments, n_steps;

  if (!st->result->plan_valid || plan->n_segments < 1)
    return;
  n_segments = clamp_count (plan->n_segments, THECAL_DAY_SEGMENTS_MAX);

  if (rx->mode == THECAL_MODE_CONTINUOUS)
    {
      check_basal_amount (st, "The continuous rate", "continuous", &rx->continuous, plan->segments[0].basal_rate_nl_per_day);
      return;
    }
  if (rx->mode != THECAL_MODE_FLEX)
    return;

  /* Each step once, in the order of the steps, with the rate of its (first) plan segment: a step
   * that runs past midnight has two segments with the same rate. */
  n_steps = clamp_count (rx->n_flex_steps, THECAL_FLEX_STEPS_MAX);
  for (int32_t step = 0; step < n_steps; step++)
    for (int32_t s = 0; s < n_segments; s++)
      if (flex_step_of_segment (rx, plan->segments[s].start_ms_of_day) == step)
        {
          char where[64];
          char prefix[32];
          QuantityText start = quantity (THECAL_QUANTITY_TIME_OF_DAY, rx->flex_steps[step].start_min);

          text_printf (where, sizeof where, "Flex step %d (%s)", (int) step + 1, start.text);
          text_printf (prefix, sizeof prefix, "flex_steps[%d]", (int) step);
          check_basal_amount (st, where, prefix, &rx->flex_steps[step].amount, plan->segments[s].basal_rate_nl_per_day);
          break;
        }
}

/* ------------------------------------------------------------------------------------------ */
/* Boluses                                                                                      */

/* The volume of a bolus of @dose_ng in whole strokes, by the rounding rule (one rounding from the
 * exact value). Used only when no delivery plan exists; otherwise the plan's volumes are used. */
static bool
bolus_volume_nl (const CheckState *st, int64_t dose_ng, int64_t *volume_nl)
{
  int64_t stroke = st->model->stroke_volume_nl;
  int64_t divisor, strokes;

  if (stroke <= 0 || st->rx->concentration_ng_per_ml <= 0 || dose_ng < 0)
    return false;
  return thecal_mul_i64 (st->rx->concentration_ng_per_ml, stroke, &divisor)
         && thecal_muldiv_i64 (dose_ng, THECAL_NL_PER_ML, divisor, THECAL_ROUND_NEAREST_HALF_DOWN, &strokes)
         && thecal_mul_i64 (strokes, stroke, volume_nl);
}

/* True when @volume_nl over @duration_ms is faster than the model's fastest bolus. */
static bool
bolus_too_fast (const ThecalPumpModel *model, int64_t volume_nl, int64_t duration_ms, int64_t *rate_nl_per_day)
{
  int64_t rate_ceiling;

  if (duration_ms <= 0 || volume_nl <= 0)
    return false;
  /* ROUND_UP is exact for this comparison: with an integer maximum m, ceil (x) > m ⟺ x > m, so
   * rounding can never hide an excess. Overflow means a rate far beyond any pump. */
  if (!thecal_muldiv_i64 (volume_nl, THECAL_MS_PER_DAY, duration_ms, THECAL_ROUND_UP, &rate_ceiling))
    {
      *rate_nl_per_day = INT64_MAX;
      return true;
    }
  /* The rate shown is rounded by the rule. */
  thecal_muldiv_i64 (volume_nl, THECAL_MS_PER_DAY, duration_ms, THECAL_ROUND_NEAREST_HALF_DOWN, rate_nl_per_day);
  return rate_ceiling > model->bolus_rate_max_nl_per_day;
}

/* The plan's bolus for periodic bolus @index of the prescription (matched by start and duration,
 * so the plan may keep them in any order). */
static const ThecalPlannedBolus *
planned_periodic_bolus (const CheckState *st, int32_t index)
{
  const ThecalDeliveryPlan *plan = &st->result->plan;
  const ThecalPeriodicBolus *bolus = &st->rx->periodic_boluses[index];
  int32_t n = clamp_count (plan->n_boluses, THECAL_PERIODIC_BOLUSES_MAX);
  int32_t seen = 0;

  if (!st->result->plan_valid)
    return NULL;
  /* the same start and duration twice would overlap, which the validator refuses; still, take
   * the same-numbered match so that each bolus maps to its own entry */
  for (int32_t j = 0; j < n; j++)
    if (plan->boluses[j].start_ms_of_day == (int64_t) bolus->start_min * THECAL_MS_PER_MINUTE
        && plan->boluses[j].duration_ms == bolus->duration_ms)
      {
        int32_t earlier = 0;

        for (int32_t k = 0; k < index; k++)
          if (st->rx->periodic_boluses[k].start_min == bolus->start_min
              && st->rx->periodic_boluses[k].duration_ms == bolus->duration_ms)
            earlier++;
        if (seen == earlier)
          return &plan->boluses[j];
        seen++;
      }
  return NULL;
}

static int32_t
periodic_count (const ThecalPrescription *rx)
{
  return clamp_count (rx->n_periodic_boluses, THECAL_PERIODIC_BOLUSES_MAX);
}

static void
report_bolus_rate (CheckState *st, const char *where, const char *field, int64_t rate_nl_per_day)
{
  char limit[THECAL_FINDING_VALUE_MAX];
  QuantityText rate = bolus_rate_text (rate_nl_per_day);
  QuantityText max = bolus_rate_text (st->model->bolus_rate_max_nl_per_day);

  if (rate_nl_per_day == INT64_MAX)
    text_printf (rate.text, sizeof rate.text, "more than %s", max.text);
  text_printf (limit, sizeof limit, "%s (maximum bolus rate of pump model %s)", max.text, st->model->id);
  finding_add (st->result,
               THECAL_FINDING_REFUSED,
               THECAL_FINDING_BOLUS_RATE,
               field,
               rate.text,
               limit,
               "",
               "%s needs %s, faster than the %s maximum bolus rate of pump model %s: lengthen its duration.",
               where,
               rate.text,
               max.text,
               st->model->id);
}

/* Whether any bolus (periodic or PTM) is too fast for the model; when @report, each is a finding. */
static bool
check_bolus_rates (CheckState *st, bool periodic, bool ptm, bool report)
{
  const ThecalPrescription *rx = st->rx;
  bool any = false;
  int64_t volume = 0, rate = 0;

  if (st->model == NULL)
    return false;
  if (periodic)
    for (int32_t i = 0; i < periodic_count (rx); i++)
      {
        const ThecalPeriodicBolus *bolus = &rx->periodic_boluses[i];
        const ThecalPlannedBolus *planned = planned_periodic_bolus (st, i);
        bool have_volume;

        if (planned != NULL)
          {
            volume = planned->volume_nl;
            have_volume = true;
          }
        else
          have_volume = bolus_volume_nl (st, bolus->dose_ng, &volume);
        if (have_volume && bolus_too_fast (st->model, volume, bolus->duration_ms, &rate))
          {
            char where[64], field[THECAL_ERROR_FIELD_MAX];

            any = true;
            if (!report)
              continue;
            text_printf (where, sizeof where, "Periodic bolus %d (%s)", (int) i + 1, quantity (THECAL_QUANTITY_TIME_OF_DAY, bolus->start_min).text);
            text_printf (field, sizeof field, "periodic_boluses[%d].duration", (int) i);
            report_bolus_rate (st, where, field, rate);
          }
      }
  if (ptm && rx->ptm.enabled)
    {
      bool have_volume;

      if (st->result->plan_valid)
        {
          volume = st->result->plan.ptm.volume_nl;
          have_volume = true;
        }
      else
        have_volume = bolus_volume_nl (st, rx->ptm.dose_ng, &volume);
      if (have_volume && bolus_too_fast (st->model, volume, rx->ptm.duration_ms, &rate))
        {
          any = true;
          if (report)
            report_bolus_rate (st, "The PTM bolus", "ptm.duration", rate);
        }
    }
  return any;
}

static void
report_bolus_rounding (CheckState *st, const char *where, const char *field, int64_t written_ng, int64_t delivered_ng)
{
  QuantityText written = quantity (THECAL_QUANTITY_AMOUNT, written_ng);
  QuantityText delivered = quantity (THECAL_QUANTITY_AMOUNT, delivered_ng);
  QuantityText stroke = quantity (THECAL_QUANTITY_VOLUME, st->model->stroke_volume_nl);

  if (written_ng == delivered_ng)
    return;
  add_rounding_note (st, field, delivered.text, written.text, "whole strokes", stroke.text,
                     "%s delivers %s for the written %s, because the pump moves whole strokes of %s.",
                     where, delivered.text, written.text, stroke.text);
}

static void
check_periodic_boluses (CheckState *st)
{
  const ThecalPrescription *rx = st->rx;

  check_bolus_rates (st, true, false, true);
  if (!st->result->plan_valid)
    return;
  for (int32_t i = 0; i < periodic_count (rx); i++)
    {
      const ThecalPlannedBolus *planned = planned_periodic_bolus (st, i);
      char where[64], field[THECAL_ERROR_FIELD_MAX];

      if (planned == NULL)
        continue;
      text_printf (where, sizeof where, "Periodic bolus %d (%s)", (int) i + 1, quantity (THECAL_QUANTITY_TIME_OF_DAY, rx->periodic_boluses[i].start_min).text);
      text_printf (field, sizeof field, "periodic_boluses[%d].dose", (int) i);
      report_bolus_rounding (st, where, field, rx->periodic_boluses[i].dose_ng, planned->dose_ng);
    }
}

static void
check_ptm (CheckState *st)
{
  const ThecalPrescription *rx = st->rx;
  const ThecalDrug *drug = st->drug;
  char limit_buf[THECAL_FINDING_VALUE_MAX];
  int64_t dose_ng;

  if (!rx->ptm.enabled)
    return;

  if (drug != NULL && !drug->ptm_permitted)
    {
      text_printf (limit_buf, sizeof limit_buf, "not permitted for %s%s", drug_name (drug), drug->ptm_permitted_confirmed ? "" : " (source unconfirmed)");
      finding_add (st->result,
                   THECAL_FINDING_REFUSED,
                   THECAL_FINDING_PTM_NOT_PERMITTED,
                   "ptm",
                   "PTM enabled",
                   limit_buf,
                   drug->ptm_source,
                   "PTM boluses are not permitted for %s.",
                   drug_name (drug));
    }
  if (drug != NULL && drug->opioid && !st->tolerant)
    finding_add (st->result,
                 THECAL_FINDING_REFUSED,
                 THECAL_FINDING_PTM_OPIOID_NAIVE,
                 "ptm",
                 "opioid-naive patient",
                 "PTM opioid contraindicated in opioid-naive patients",
                 SOURCE_PTM_OPIOID_NAIVE,
                 "PTM boluses of %s, an opioid, are contraindicated in an opioid-naive patient.",
                 drug_name (drug));
  if (drug != NULL && drug->ptm_permitted && !drug->ptm_permitted_confirmed)
    finding_add (st->result,
                 THECAL_FINDING_NOTE,
                 THECAL_FINDING_UNCONFIRMED_SOURCE,
                 "ptm",
                 "PTM enabled",
                 "permitted (source unconfirmed)",
                 drug->ptm_source,
                 "PTM boluses are permitted for %s only by a source that is not confirmed yet.",
                 drug_name (drug));

  check_bolus_rates (st, false, true, true);

  /* What the pump delivers (whole strokes) is what is checked; the written dose without a plan. */
  dose_ng = st->result->plan_valid ? st->result->plan.ptm.dose_ng : rx->ptm.dose_ng;
  if (drug != NULL)
    for (int32_t i = 0; i < drug_limit_count (drug); i++)
      {
        const ThecalDrugLimit *limit = &drug->limits[i];
        QuantityText value = quantity (THECAL_QUANTITY_AMOUNT, dose_ng);

        if (limit->kind != THECAL_LIMIT_MAX_PTM_DOSE || !limit_applies (st, limit) || dose_ng <= limit->value)
          continue;
        limit_text (limit, " per PTM bolus", limit_buf, sizeof limit_buf);
        finding_add (st->result,
                     limit_finding_severity (limit),
                     THECAL_FINDING_PTM_DOSE,
                     "ptm.dose",
                     value.text,
                     limit_buf,
                     limit->source,
                     "A PTM bolus of %s is above the %s %s limit per PTM bolus for %s%s.",
                     value.text,
                     quantity (THECAL_QUANTITY_AMOUNT, limit->value).text,
                     limit_severity_word (limit->severity),
                     drug_name (drug),
                     limit_group_text (limit));
      }

  if (st->result->plan_valid && st->model != NULL)
    report_bolus_rounding (st, "The PTM bolus", "ptm.dose", rx->ptm.dose_ng, st->result->plan.ptm.dose_ng);
}

/* ------------------------------------------------------------------------------------------ */
/* Daily dose and per-step increase                                                             */

static void
daily_breakdown (const ThecalDeliveryPlan *plan, char *buf, size_t size)
{
  QuantityText basal = quantity (THECAL_QUANTITY_DOSE_RATE, plan->basal_ng_per_day);
  QuantityText periodic = quantity (THECAL_QUANTITY_DOSE_RATE, plan->periodic_ng_per_day);
  QuantityText ptm = quantity (THECAL_QUANTITY_DOSE_RATE, plan->ptm_worst_ng_per_day);

  if (plan->periodic_ng_per_day == 0 && plan->ptm_worst_ng_per_day == 0)
    {
      buf[0] = '\0';
      return;
    }
  text_printf (buf,
               size,
               " (basal %s%s%s%s%s)",
               basal.text,
               plan->periodic_ng_per_day != 0 ? " + periodic boluses " : "",
               plan->periodic_ng_per_day != 0 ? periodic.text : "",
               plan->ptm_worst_ng_per_day != 0 ? " + PTM " : "",
               plan->ptm_worst_ng_per_day != 0 ? ptm.text : "");
}

static void
check_daily_dose (CheckState *st)
{
  const ThecalDeliveryPlan *plan = &st->result->plan;
  const ThecalDrug *drug = st->drug;
  QuantityText total = quantity (THECAL_QUANTITY_DOSE_RATE, plan->total_worst_ng_per_day);
  char breakdown[160];
  char limit_buf[THECAL_FINDING_VALUE_MAX];
  bool worst_case = plan->periodic_ng_per_day != 0 || plan->ptm_worst_ng_per_day != 0;

  if (!st->result->plan_valid || drug == NULL)
    return;
  daily_breakdown (plan, breakdown, sizeof breakdown);
  for (int32_t i = 0; i < drug_limit_count (drug); i++)
    {
      const ThecalDrugLimit *limit = &drug->limits[i];

      if (limit->kind != THECAL_LIMIT_MAX_DAILY_DOSE || !limit_applies (st, limit)
          || plan->total_worst_ng_per_day <= limit->value)
        continue;
      limit_text (limit, "", limit_buf, sizeof limit_buf);
      finding_add (st->result,
                   limit_finding_severity (limit),
                   THECAL_FINDING_DAILY_DOSE,
                   "daily dose",
                   total.text,
                   limit_buf,
                   limit->source,
                   "%s %s%s is above the %s %s limit for %s%s.",
                   worst_case ? "Worst-case daily dose" : "Daily dose",
                   total.text,
                   breakdown,
                   quantity (THECAL_QUANTITY_DOSE_RATE, limit->value).text,
                   limit_severity_word (limit->severity),
                   drug_name (drug),
                   limit_group_text (limit));
    }
}

static bool
is_step_limit (const ThecalDrugLimit *limit)
{
  return limit->kind == THECAL_LIMIT_MAX_INCREASE_PERCENT || limit->kind == THECAL_LIMIT_MAX_INCREASE_ABSOLUTE;
}

static void
step_limit_text (const ThecalDrugLimit *limit, char *buf, size_t size)
{
  limit_text (limit, " per step", buf, size);
}

static void
check_step_increase (CheckState *st)
{
  const ThecalPrescription *current = st->current;
  const ThecalDrug *drug = st->drug;
  const ThecalDeliveryPlan *plan = &st->result->plan;
  ThecalDeliveryPlan current_plan;
  ThecalDoseError error;
  char limit_buf[THECAL_FINDING_VALUE_MAX];
  char value[THECAL_FINDING_VALUE_MAX];
  const ThecalDrugLimit *first = NULL;
  ThecalFindingSeverity strictest = THECAL_FINDING_NOTE;
  char old_id[THECAL_ID_MAX], new_id[THECAL_ID_MAX];
  int64_t old_ng, new_ng, increase_ng;
  bool worst_case;

  if (current == NULL || drug == NULL || !st->result->plan_valid || st->model == NULL)
    return;
  text_copy (old_id, sizeof old_id, current->drug_id);
  text_copy (new_id, sizeof new_id, st->rx->drug_id);
  if (strcmp (old_id, new_id) != 0)
    return; /* doses of different drugs do not compare; the drug change is a note of its own */

  for (int32_t i = 0; i < drug_limit_count (drug); i++)
    if (is_step_limit (&drug->limits[i]) && limit_applies (st, &drug->limits[i]))
      {
        if (first == NULL)
          first = &drug->limits[i];
        if (severity_rank (limit_finding_severity (&drug->limits[i])) > severity_rank (strictest))
          strictest = limit_finding_severity (&drug->limits[i]);
      }
  if (first == NULL)
    return;

  new_ng = plan->total_worst_ng_per_day;
  thecal_dose_error_clear (&error);
  memset (&current_plan, 0, sizeof current_plan);
  if (!thecal_delivery_plan_resolve (current, st->model, &current_plan, &error))
    {
      step_limit_text (first, limit_buf, sizeof limit_buf);
      finding_add (st->result,
                   strictest,
                   THECAL_FINDING_STEP_INCREASE,
                   "daily dose",
                   quantity (THECAL_QUANTITY_DOSE_RATE, new_ng).text,
                   limit_buf,
                   first->source,
                   "The current prescription cannot be resolved on pump model %s, so the per-step limit for %s cannot be checked: %s",
                   st->model->id,
                   drug_name (drug),
                   error.message[0] != '\0' ? error.message : "it is invalid.");
      return;
    }

  old_ng = current_plan.total_worst_ng_per_day;
  if (old_ng <= 0)
    {
      step_limit_text (first, limit_buf, sizeof limit_buf);
      finding_add (st->result,
                   THECAL_FINDING_NOTE,
                   THECAL_FINDING_STEP_INCREASE,
                   "daily dose",
                   quantity (THECAL_QUANTITY_DOSE_RATE, new_ng).text,
                   limit_buf,
                   first->source,
                   "There is no current daily dose of %s to compare with, so the per-step limit was not applied.",
                   drug_name (drug));
      return;
    }
  if (new_ng <= old_ng || !thecal_sub_i64 (new_ng, old_ng, &increase_ng))
    return;
  worst_case = plan->periodic_ng_per_day != 0 || plan->ptm_worst_ng_per_day != 0
               || current_plan.periodic_ng_per_day != 0 || current_plan.ptm_worst_ng_per_day != 0;

  for (int32_t i = 0; i < drug_limit_count (drug); i++)
    {
      const ThecalDrugLimit *limit = &drug->limits[i];
      QuantityText old_text = quantity (THECAL_QUANTITY_DOSE_RATE, old_ng);
      QuantityText new_text = quantity (THECAL_QUANTITY_DOSE_RATE, new_ng);
      char change[THECAL_QUANTITY_TEXT_MAX + 8];
      bool exceeded;

      if (!is_step_limit (limit) || !limit_applies (st, limit))
        continue;
      if (limit->kind == THECAL_LIMIT_MAX_INCREASE_PERCENT)
        {
          int64_t increase_bp_ceiling, increase_bp = 0;

          /* (new − old) × 10 000 > limit_bp × old, exactly: with an integer limit,
           * ceil (increase × 10 000 / old) > limit ⟺ increase × 10 000 / old > limit, so ROUND_UP
           * cannot hide an excess. Overflow means an increase far beyond any limit. */
          exceeded = !thecal_muldiv_i64 (increase_ng, THECAL_BP_WHOLE, old_ng, THECAL_ROUND_UP, &increase_bp_ceiling)
                     || increase_bp_ceiling > limit->value;
          if (thecal_muldiv_i64 (increase_ng, THECAL_BP_WHOLE, old_ng, THECAL_ROUND_NEAREST_HALF_DOWN, &increase_bp))
            text_printf (change, sizeof change, "+%s", quantity (THECAL_QUANTITY_RATIO, increase_bp).text);
          else
            text_printf (change, sizeof change, "more than +%s", quantity (THECAL_QUANTITY_RATIO, limit->value).text);
        }
      else
        {
          exceeded = increase_ng > limit->value;
          text_printf (change, sizeof change, "+%s", quantity (THECAL_QUANTITY_DOSE_RATE, increase_ng).text);
        }
      if (!exceeded)
        continue;
      step_limit_text (limit, limit_buf, sizeof limit_buf);
      text_printf (value, sizeof value, "%s (%s)", new_text.text, change);
      finding_add (st->result,
                   limit_finding_severity (limit),
                   THECAL_FINDING_STEP_INCREASE,
                   "daily dose",
                   value,
                   limit_buf,
                   limit->source,
                   "%s rises from %s to %s (%s), above the %s per-step %s limit for %s%s.",
                   worst_case ? "Worst-case daily dose" : "Daily dose",
                   old_text.text,
                   new_text.text,
                   change,
                   limit_value_text (limit).text,
                   limit_severity_word (limit->severity),
                   drug_name (drug),
                   limit_group_text (limit));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The check                                                                                    */

/* "periodic_boluses[3].duration" or "ptm.duration": where the plan refuses a bolus too fast. */
static bool
is_bolus_duration_field (const char *field)
{
  size_t length = strnlen (field, THECAL_ERROR_FIELD_MAX);
  const char *suffix = ".duration";
  size_t suffix_length = strlen (suffix);

  return (strncmp (field, "periodic_boluses[", strlen ("periodic_boluses[")) == 0 || strcmp (field, "ptm.duration") == 0)
         && length >= suffix_length && strcmp (field + length - suffix_length, suffix) == 0;
}

void
thecal_check_prescription (const ThecalPrescription *rx,
                           const ThecalPrescription *current,
                           const ThecalPatientContext *patient,
                           const ThecalPumpModel *model,
                           const ThecalDrugLibrary *library,
                           ThecalCheckResult *result)
{
  CheckState st;
  ThecalDoseError error;

  if (result == NULL)
    return;
  memset (result, 0, sizeof *result);
  result->worst = THECAL_FINDING_NOTE;
  if (rx == NULL)
    {
      finding_add (result, THECAL_FINDING_REFUSED, THECAL_FINDING_STRUCTURE, "prescription", "", "", "", "No prescription was given.");
      return;
    }

  memset (&st, 0, sizeof st);
  st.rx = rx;
  st.current = current;
  st.model = model;
  st.library = library;
  st.tolerant = patient != NULL && patient->opioid_tolerant; /* unknown: opioid-naive, the safe default */
  st.result = result;

  /* Structure: the validator, then the delivery plan on this model. */
  thecal_dose_error_clear (&error);
  if (model == NULL)
    finding_add (result, THECAL_FINDING_REFUSED, THECAL_FINDING_STRUCTURE, "pump model", "", "", "", "No pump model was given, so the prescription cannot be resolved into rates.");
  else if (!thecal_prescription_validate (rx, &error))
    finding_add (result,
                 THECAL_FINDING_REFUSED,
                 THECAL_FINDING_STRUCTURE,
                 error.field[0] != '\0' ? error.field : "prescription",
                 "",
                 "",
                 "",
                 "%s",
                 error.message[0] != '\0' ? error.message : "The prescription is invalid.");
  else
    {
      /* A bolus too fast for the model is refused by the plan as well; it is reported once, as a
       * bolus-rate finding with the rate and the limit, below. */
      bool bolus_too_fast_found = check_bolus_rates (&st, true, true, false);

      thecal_dose_error_clear (&error);
      if (thecal_delivery_plan_resolve (rx, model, &result->plan, &error))
        result->plan_valid = true;
      else
        {
          memset (&result->plan, 0, sizeof result->plan);
          if (!(bolus_too_fast_found && is_bolus_duration_field (error.field)))
            finding_add (result,
                         THECAL_FINDING_REFUSED,
                         THECAL_FINDING_STRUCTURE,
                         error.field[0] != '\0' ? error.field : "prescription",
                         "",
                         "",
                         "",
                         "%s",
                         error.message[0] != '\0' ? error.message : "The prescription cannot be delivered by this pump model.");
        }
    }

  check_drug (&st);
  check_drug_change (&st);
  check_concentration (&st);
  if (model != NULL)
    {
      check_basal (&st);
      check_periodic_boluses (&st);
    }
  check_ptm (&st);
  check_daily_dose (&st);
  check_step_increase (&st);
}

const char *
thecal_finding_severity_name (ThecalFindingSeverity severity)
{
  switch (severity)
    {
    case THECAL_FINDING_NOTE:
      return "note";
    case THECAL_FINDING_OVERRIDE:
      return "override";
    case THECAL_FINDING_REFUSED:
      return "refused";
    default:
      return "unknown";
    }
}

const char *
thecal_finding_code_name (ThecalFindingCode code)
{
  switch (code)
    {
    case THECAL_FINDING_STRUCTURE:
      return "structure";
    case THECAL_FINDING_UNKNOWN_DRUG:
      return "unknown_drug";
    case THECAL_FINDING_CONCENTRATION:
      return "concentration";
    case THECAL_FINDING_UNLABELED_CONCENTRATION:
      return "unlabeled_concentration";
    case THECAL_FINDING_RATE_RANGE:
      return "rate_range";
    case THECAL_FINDING_BOLUS_RATE:
      return "bolus_rate";
    case THECAL_FINDING_DAILY_DOSE:
      return "daily_dose";
    case THECAL_FINDING_STEP_INCREASE:
      return "step_increase";
    case THECAL_FINDING_PTM_NOT_PERMITTED:
      return "ptm_not_permitted";
    case THECAL_FINDING_PTM_OPIOID_NAIVE:
      return "ptm_opioid_naive";
    case THECAL_FINDING_PTM_DOSE:
      return "ptm_dose";
    case THECAL_FINDING_DRUG_CHANGE:
      return "drug_change";
    case THECAL_FINDING_ROUNDING:
      return "rounding";
    case THECAL_FINDING_UNCONFIRMED_SOURCE:
      return "unconfirmed_source";
    case THECAL_FINDING_N_CODES:
    default:
      return "unknown";
    }
}
