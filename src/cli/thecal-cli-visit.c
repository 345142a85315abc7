/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-visit.c: "thecal-cli [--db FILE] [--user NAME] visit PATIENT --sim SUBCOMMAND"
 * (docs/workflows.md). The visit is the one the GUI drives (ThecalVisit): every rule of
 * src/workflow holds here too. --sim talks to the demo pump whose serial the record holds for the
 * patient, over the loopback transport on simulated time; the pump's state is kept between runs
 * in a file beside the record (--sim-state, default "<db>.sim-<serial>"). --wand talks to the
 * patient's pump through the USB wand (1209:0001, as "thecal-cli pump --wand") on the clinic's
 * clock; without a wand it exits 3 ("No wand connected") before it opens the record.
 */
#include "config.h"

#include "thecal-cli-visit.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#ifdef THECAL_HAVE_USB_TRANSPORT
#include "thecal-usb-transport.h"
#endif
#include "thecal-visit.h"
#include "thecal-workflow-bolus.h"
#include "thecal-workflow-clock.h"
#include "thecal-workflow-refill.h"

/* ---- the simulated pump's state file ------------------------------------------------------- */

#define SIM_STATE_MAGIC "THECALSIMPUMP"
#define SIM_STATE_FORMAT 1

#define WAND_VID 0x1209 /* DESIGN.md "Names": pid.codes, the test PID (as thecal-cli pump) */
#define WAND_PID 0x0001

/* A raw copy of the ThecalSimPump, valid only for the build that wrote it: the header names the
 * version and the sizes, and a file from another build is refused. */
typedef struct
{
  char magic[16];
  guint32 format;
  guint32 size;
  guint32 engine_size;
  guint32 role_size;
  char version[32];
} SimStateHeader;

static void
sim_state_header (SimStateHeader *header)
{
  memset (header, 0, sizeof *header);
  g_strlcpy (header->magic, SIM_STATE_MAGIC, sizeof header->magic);
  header->format = SIM_STATE_FORMAT;
  header->size = sizeof (ThecalSimPump);
  header->engine_size = sizeof (ThecalEngine);
  header->role_size = sizeof (ThecalPumpRole);
  g_strlcpy (header->version, PACKAGE_VERSION, sizeof header->version);
}

/* Loads @path over @pump (freshly initialised for its serial): the pointers the fresh pump holds
 * (its role's ops and nonce source, the engines' stroke callbacks) are kept, so they point into
 * this process and this pump. FALSE with a usage error for a file of another build or pump. */
static gboolean
sim_state_load (const char *path, ThecalSimPump *pump, GError **error)
{
  g_autofree char *data = NULL;
  gsize length;
  SimStateHeader expected, found;
  ThecalPumpRoleConfig role_config = pump->role.config;
  ThecalEngineStrokeFunc stroke = pump->engine.stroke_func;
  void *stroke_data = pump->engine.stroke_data;
  ThecalEngineStrokeFunc scratch_stroke = pump->scratch.stroke_func;
  void *scratch_data = pump->scratch.stroke_data;
  char serial[sizeof pump->identity.serial];
  ThecalSimPump *loaded;

  if (!g_file_get_contents (path, &data, &length, NULL))
    return TRUE; /* none yet: the demo pump starts as the demo describes it */
  sim_state_header (&expected);
  if (length != sizeof found + sizeof *pump)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("visit: the simulated pump's state %s was written by another build of thecal-cli (its size "
                      "differs): delete it to start the demo pump afresh"),
                   path);
      return FALSE;
    }
  memcpy (&found, data, sizeof found);
  if (memcmp (&found, &expected, sizeof found) != 0)
    {
      found.version[sizeof found.version - 1] = '\0';
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("visit: the simulated pump's state %s was written by another build or version of thecal-cli "
                      "(%s, this is %s): delete it to start the demo pump afresh"),
                   path, found.magic[0] == 'T' ? found.version : "?", PACKAGE_VERSION);
      return FALSE;
    }
  loaded = (ThecalSimPump *) (void *) (data + sizeof found);
  memcpy (serial, pump->identity.serial, sizeof serial);
  if (memcmp (loaded->identity.serial, serial, sizeof serial) != 0)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("visit: the simulated pump's state %s is another pump's: delete it or give --sim-state"), path);
      return FALSE;
    }
  memcpy (pump, loaded, sizeof *pump);
  /* function pointers and pointers into the pump: this process's, not the writer's */
  pump->role.config.ops = role_config.ops;
  pump->role.config.ops_data = role_config.ops_data;
  pump->role.config.random = role_config.random;
  pump->role.config.random_data = role_config.random_data;
  pump->engine.stroke_func = stroke;
  pump->engine.stroke_data = stroke_data;
  pump->scratch.stroke_func = scratch_stroke;
  pump->scratch.stroke_data = scratch_data;
  /* a new run is a new session */
  thecal_sim_pump_end_session (pump);
  return TRUE;
}

static gboolean
sim_state_save (const char *path, const ThecalSimPump *pump, GError **error)
{
  SimStateHeader header;
  g_autofree char *data = g_malloc (sizeof header + sizeof *pump);
  g_autoptr (GError) local_error = NULL;

  sim_state_header (&header);
  memcpy (data, &header, sizeof header);
  memcpy (data + sizeof header, pump, sizeof *pump);
  if (!g_file_set_contents (path, data, (gssize) (sizeof header + sizeof *pump), &local_error))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, _ ("visit: the simulated pump's state: %s"), local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- passwords ----------------------------------------------------------------------------- */

/* $@variable, or one line from the terminal without echo. */
static char *
password_for (const char *variable, const char *name, GError **error)
{
  const char *from_env = g_getenv (variable);
  g_autofree char *prompt = NULL;
  g_autofree char *no_terminal = NULL;

  if (from_env != NULL)
    return g_strdup (from_env);
  prompt = g_strdup_printf (_ ("Password for %s: "), name);
  no_terminal = g_strdup_printf (_ ("there is no terminal to ask %s's password on: set $%s in scripts"), name, variable);
  return thecal_cli_prompt_password (prompt, no_terminal, error);
}

/* ---- running the visit ---------------------------------------------------------------------- */

typedef struct
{
  char *db;
  char *user;
  gboolean sim;
  gboolean wand;
  char *sim_state;
  char *prescription;
  char *override_reason;
  char *reason;
  char *aspirated;
  char *added;
  char *drug;
  char *concentration;
  char *lot;
  char *expiry;
  char *verifier;
  char *acknowledge;
  char *kind;
  char *dose;
  char *duration;
  char *priming_rate;
  char *previous;
} VisitOptions;

static void
visit_options_clear (VisitOptions *o)
{
  g_free (o->db);
  g_free (o->user);
  g_free (o->sim_state);
  g_free (o->prescription);
  g_free (o->override_reason);
  g_free (o->reason);
  g_free (o->aspirated);
  g_free (o->added);
  g_free (o->drug);
  g_free (o->concentration);
  g_free (o->lot);
  g_free (o->expiry);
  g_free (o->verifier);
  g_free (o->acknowledge);
  g_free (o->kind);
  g_free (o->dose);
  g_free (o->duration);
  g_free (o->priming_rate);
  g_free (o->previous);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VisitOptions, visit_options_clear)

typedef struct
{
  ThecalClock *clock;
  ThecalLoopbackTransport *loopback;
  /* --sim: the state file, and the pump as last saved there (NULL with --wand) */
  const char *state_path;
  ThecalSimPump *saved;
} Sim;

/* A real pump keeps what it took in non-volatile memory the moment it takes it: the simulated one
 * is saved whenever it changed, so a thecal-cli killed mid-visit (tests/cli/test-cli-visit-crash.c)
 * leaves the pump as a real one would be, and the next start must reconcile with it. */
static void
sim_state_persist (Sim *sim)
{
  const ThecalSimPump *pump;

  if (sim->loopback == NULL || sim->state_path == NULL)
    return;
  pump = thecal_loopback_transport_get_pump (sim->loopback);
  if (sim->saved != NULL && memcmp (sim->saved, pump, sizeof *pump) == 0)
    return;
  if (sim->saved == NULL)
    sim->saved = g_new0 (ThecalSimPump, 1);
  memcpy (sim->saved, pump, sizeof *pump);
  (void) sim_state_save (sim->state_path, pump, NULL); /* the final save reports errors */
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  (void) source;
  *slot = g_object_ref (result);
}

/* Runs the simulated clock (the link) and, when nothing is scheduled, the record's answers. */
static GAsyncResult *
wait_result (Sim *sim, GAsyncResult **slot)
{
  while (*slot == NULL)
    {
      if (!thecal_clock_iterate (sim->clock, NULL))
        g_main_context_iteration (NULL, TRUE);
      sim_state_persist (sim);
    }
  return *slot;
}

static gint64
sim_time (gpointer user_data)
{
  Sim *sim = user_data;

  return thecal_loopback_transport_pump_time_ms (sim->loopback);
}

/* A workflow error: refusals exit 1 (said on stderr), everything else is an I/O problem. */
static gboolean
report (ThecalCliOutput *out, const GError *error, GError **cli_error)
{
  if (error->domain == THECAL_VISIT_ERROR || error->domain == THECAL_WORKFLOW_ERROR
      || g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_AUTH_FAILED)
      || g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_LOCKED_OUT))
    {
      thecal_cli_refuse (out, "%s", error->message);
      return TRUE;
    }
  g_set_error_literal (cli_error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, error->message);
  return FALSE;
}

static void
print_findings (ThecalCliOutput *out, ThecalVisit *visit)
{
  GPtrArray *findings = thecal_visit_get_findings (visit);
  cJSON *array = thecal_cli_json_array (out->json, "findings");

  for (guint i = 0; i < findings->len; i++)
    {
      const ThecalVisitFinding *f = findings->pdata[i];
      cJSON *item = thecal_cli_json_append_object (array);

      thecal_cli_print (out, "  [%s] %s: %s\n", thecal_visit_severity_name (f->severity), f->code, f->message);
      thecal_cli_json_string (item, "severity", thecal_visit_severity_name (f->severity));
      thecal_cli_json_string (item, "code", f->code);
      thecal_cli_json_string (item, "message", f->message);
    }
}

static gboolean
run_program (ThecalCliOutput *out, Sim *sim, ThecalVisit *visit, const VisitOptions *o, GError **error)
{
  ThecalPrescription rx;
  g_autoptr (ThecalProgramReview) review = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  ThecalProgrammingOutcome outcome;
  gint64 session_id = 0;

  if (!thecal_cli_require ("prescription", o->prescription, "--prescription rx.json", error)
      || !thecal_cli_load_prescription (o->prescription, &rx, error))
    return FALSE;
  review = thecal_visit_review_prescription (visit, &rx, &local_error);
  if (review == NULL)
    return report (out, local_error, error);
  thecal_cli_print (out, _ ("Review (old → new):\n"));
  for (guint i = 0; i < review->changes->len; i++)
    {
      const ThecalVisitChange *c = review->changes->pdata[i];

      thecal_cli_print (out, "  %s: %s → %s\n", c->field, c->old_value != NULL ? c->old_value : "—",
                        c->new_value != NULL ? c->new_value : "—");
    }
  thecal_visit_program_async (visit, review, o->reason, o->override_reason, NULL, on_done, &result);
  if (!thecal_visit_program_finish (visit, wait_result (sim, &result), &outcome, &session_id, &local_error))
    return report (out, local_error, error);
  thecal_cli_json_string (out->json, "outcome", thecal_programming_outcome_name (outcome));
  thecal_cli_json_int (out->json, "session", session_id);
  thecal_cli_print (out, _ ("Programming session %" G_GINT64_FORMAT ": %s.\n"), session_id, thecal_programming_outcome_name (outcome));
  if (outcome != THECAL_OUTCOME_CONFIRMED)
    thecal_cli_refuse (out, _ ("The write was not confirmed (%s): see the programming session %" G_GINT64_FORMAT "."),
                       thecal_programming_outcome_name (outcome), session_id);
  return TRUE;
}

/* The review of a refill that changes the drug or its concentration: old → new, the new
 * prescription and the dose core's findings, the bridge bolus phase by phase, the new dates. */
static void
print_change_review (ThecalCliOutput *out, const ThecalRefillReview *review)
{
  const ThecalBolusPlan *plan = &review->bridge->request.plan;
  cJSON *change = thecal_cli_json_object (out->json, "change");
  cJSON *findings = thecal_cli_json_array (change, "findings");
  cJSON *phases = thecal_cli_json_array (change, "bridge_phases");

  thecal_cli_print (out, _ ("Review of the drug change (old → new):\n"));
  thecal_cli_print (out, "  drug: %s %s → %s %s\n", review->old_rx.drug_id,
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, review->old_rx.concentration_ng_per_ml), review->new_rx.drug_id,
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, review->new_rx.concentration_ng_per_ml));
  for (guint i = 0; i < review->changes->len; i++)
    {
      const ThecalVisitChange *c = review->changes->pdata[i];

      thecal_cli_print (out, "  %s: %s → %s\n", c->field, c->old_value != NULL ? c->old_value : "—",
                        c->new_value != NULL ? c->new_value : "—");
    }
  thecal_cli_print (out, _ ("  new prescription: %s basal at %s; worst case with PTM %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, review->rx_check.plan.basal_ng_per_day),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, review->rx_check.plan.basal_nl_per_day),
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, review->rx_check.plan.total_worst_ng_per_day));
  thecal_cli_json_string (change, "old_drug", review->old_rx.drug_id);
  thecal_cli_json_quantity (change, "old_concentration", THECAL_QUANTITY_CONCENTRATION, review->old_rx.concentration_ng_per_ml);
  thecal_cli_json_string (change, "new_drug", review->new_rx.drug_id);
  thecal_cli_json_quantity (change, "new_concentration", THECAL_QUANTITY_CONCENTRATION, review->new_rx.concentration_ng_per_ml);
  thecal_cli_json_quantity (change, "new_dose", THECAL_QUANTITY_DOSE_RATE, review->rx_check.plan.basal_ng_per_day);
  thecal_cli_json_quantity (change, "new_rate", THECAL_QUANTITY_VOLUME_RATE, review->rx_check.plan.basal_nl_per_day);
  thecal_cli_json_bool (change, "needs_override", review->needs_override);
  for (int32_t i = 0; i < review->rx_check.n_findings; i++)
    {
      const ThecalFinding *f = &review->rx_check.findings[i];
      cJSON *item = thecal_cli_json_append_object (findings);

      thecal_cli_print (out, "  [%s] %s\n", thecal_finding_severity_name (f->severity), f->message);
      thecal_cli_json_string (item, "severity", thecal_finding_severity_name (f->severity));
      thecal_cli_json_string (item, "code", thecal_finding_code_name (f->code));
      thecal_cli_json_string (item, "message", f->message);
    }
  thecal_cli_print (out, _ ("Bridge bolus: %s\n"), review->bridge->summary);
  for (int32_t i = 0; i < plan->n_phases; i++)
    {
      const ThecalBolusPhase *phase = &plan->phases[i];
      cJSON *item = thecal_cli_json_append_object (phases);

      if (phase->kind == THECAL_PHASE_PRESCRIPTION)
        thecal_cli_print (out, _ ("  phase %d, the new prescription: %s of %s = %s, ongoing\n"), (int) i + 1,
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day),
                          thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, phase->concentration_ng_per_ml),
                          thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, phase->dose_rate_ng_per_day));
      else
        thecal_cli_print (out, _ ("  phase %d, bridge: %s at %s for %s; at the catheter tip %s; delivers %s at %s\n"), (int) i + 1,
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME, phase->volume_nl),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day),
                          thecal_cli_duration (out, phase->duration_ms),
                          thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, phase->concentration_ng_per_ml),
                          thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, phase->dose_ng),
                          thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, phase->dose_rate_ng_per_day));
      thecal_cli_json_string (item, "kind", phase->kind == THECAL_PHASE_PRESCRIPTION ? "prescription" : "bridge");
      thecal_cli_json_quantity (item, "volume", THECAL_QUANTITY_VOLUME, phase->volume_nl);
      thecal_cli_json_quantity (item, "rate", THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day);
      thecal_cli_json_quantity (item, "duration", THECAL_QUANTITY_DURATION, phase->duration_ms);
      thecal_cli_json_quantity (item, "concentration", THECAL_QUANTITY_CONCENTRATION, phase->concentration_ng_per_ml);
      thecal_cli_json_quantity (item, "dose", THECAL_QUANTITY_AMOUNT, phase->dose_ng);
    }
  thecal_cli_json_bool (change, "bridge_rate_capped", plan->rate_capped);
  if (plan->rate_capped)
    thecal_cli_print (out, _ ("  the bridge rate is capped at the pump's fastest bolus rate: it takes longer than at the ideal rate\n"));
  if (review->have_projection)
    {
      thecal_cli_print (out, _ ("New fill under the new prescription: low-reservoir alarm %s, empty %s, refill by %s\n"),
                        thecal_cli_instant (out, review->projection.low_alarm_local_ms),
                        thecal_cli_instant (out, review->projection.empty_local_ms),
                        thecal_cli_instant (out, review->projection.refill_by_local_ms));
      thecal_cli_json_instant (change, "low_alarm", review->projection.low_alarm_local_ms);
      thecal_cli_json_instant (change, "empty", review->projection.empty_local_ms);
      thecal_cli_json_instant (change, "refill_by", review->projection.refill_by_local_ms);
    }
}

static gboolean
run_refill (ThecalCliOutput *out, Sim *sim, ThecalVisit *visit, const VisitOptions *o, GError **error)
{
  ThecalRefillRequest request = { 0 };
  ThecalRefillReport refill;
  g_autofree ThecalPrescription *new_rx = NULL;
  g_autoptr (ThecalRefillReview) review = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  char *password;
  gboolean ok;

  if (!thecal_cli_require ("aspirated", o->aspirated, "--aspirated '11.5 mL'", error)
      || !thecal_cli_require ("added", o->added, "--added '18 mL'", error)
      || !thecal_cli_require ("drug", o->drug, "--drug morphine", error)
      || !thecal_cli_require ("concentration", o->concentration, "--concentration '25 mg/mL'", error)
      || !thecal_cli_require ("lot", o->lot, "--lot A123", error)
      || !thecal_cli_require ("expiry", o->expiry, "--expiry 2027-06-30", error)
      || !thecal_cli_require ("verifier", o->verifier, "--verifier paula", error)
      || !thecal_cli_parse_quantity ("aspirated", o->aspirated, THECAL_QUANTITY_VOLUME, &request.aspirated_nl, error)
      || !thecal_cli_parse_quantity ("added", o->added, THECAL_QUANTITY_VOLUME, &request.added_nl, error)
      || !thecal_cli_parse_quantity ("concentration", o->concentration, THECAL_QUANTITY_CONCENTRATION,
                                     &request.concentration_ng_per_ml, error))
    return FALSE;
  if (o->dose != NULL && !thecal_cli_parse_quantity ("dose", o->dose, THECAL_QUANTITY_DOSE_RATE, &request.new_dose_ng_per_day, error))
    return FALSE;
  if (o->prescription != NULL)
    {
      new_rx = g_new0 (ThecalPrescription, 1);
      if (!thecal_cli_load_prescription (o->prescription, new_rx, error))
        return FALSE;
      request.new_rx = new_rx;
    }
  request.drug_id = o->drug;
  request.lot = o->lot;
  request.expiry_date = o->expiry;
  request.verifier_name = o->verifier;
  request.acknowledgement = o->acknowledge;
  request.override_reason = o->override_reason;
  /* the review first (no I/O): a drug or concentration change shows everything that will change */
  review = thecal_visit_review_refill (visit, &request, &local_error);
  if (review == NULL)
    return report (out, local_error, error);
  thecal_cli_json_bool (out->json, "drug_change", review->change);
  if (review->change)
    print_change_review (out, review);
  password = password_for ("THECAL_VERIFIER_PASSWORD", o->verifier, error);
  if (password == NULL)
    return FALSE;
  request.verifier_password = password;
  thecal_visit_refill_async (visit, &request, NULL, on_done, &result);
  ok = thecal_visit_refill_finish (visit, wait_result (sim, &result), &refill, &local_error);
  thecal_cli_wipe_secret (password);
  if (!ok)
    return report (out, local_error, error);
  thecal_cli_json_string (out->json, "outcome", thecal_programming_outcome_name (refill.outcome));
  thecal_cli_json_int (out->json, "refill", refill.refill_id);
  thecal_cli_json_quantity (out->json, "expected", THECAL_QUANTITY_VOLUME, refill.check.expected_residual_nl);
  thecal_cli_json_quantity (out->json, "volume", THECAL_QUANTITY_VOLUME, refill.new_volume_nl);
  thecal_cli_print (out, _ ("Expected residual %s, aspirated %s%s.\n"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, refill.check.expected_residual_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, refill.check.aspirated_nl),
                    refill.check.flagged ? _ (" (discrepancy acknowledged)") : "");
  thecal_cli_print (out, _ ("Refill %s: the reservoir holds %s.\n"), thecal_programming_outcome_name (refill.outcome),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, refill.new_volume_nl));
  if (refill.changed)
    {
      thecal_cli_json_int (out->json, "program_session", refill.program_session_id);
      thecal_cli_print (out, _ ("The pump was filled with %s %s and programmed in one step (programming session %" G_GINT64_FORMAT ", never stopped) and runs the bridge bolus; then the new prescription.\n"),
                        o->drug, o->concentration, refill.program_session_id);
    }
  if (refill.have_projection)
    {
      thecal_cli_json_instant (out->json, "low_alarm", refill.projection.low_alarm_local_ms);
      thecal_cli_json_instant (out->json, "refill_by", refill.projection.refill_by_local_ms);
      thecal_cli_print (out, _ ("Low-reservoir alarm %s; refill by %s.\n"), thecal_cli_instant (out, refill.projection.low_alarm_local_ms),
                        thecal_cli_instant (out, refill.projection.refill_by_local_ms));
    }
  return TRUE;
}

static gboolean
run_bolus (ThecalCliOutput *out, Sim *sim, ThecalVisit *visit, const VisitOptions *o, GError **error)
{
  ThecalBolusRequest request = { 0 };
  g_autofree ThecalPrescription *previous = g_new0 (ThecalPrescription, 1);
  g_autoptr (ThecalBolusReview) review = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  ThecalProgrammingOutcome outcome;

  if (!thecal_cli_require ("kind", o->kind, "--kind clinician", error))
    return FALSE;
  if (g_str_equal (o->kind, "clinician"))
    {
      request.kind = THECAL_VISIT_BOLUS_CLINICIAN;
      if (!thecal_cli_require ("dose", o->dose, "--dose '0.5 mg'", error)
          || !thecal_cli_require ("duration", o->duration, "--duration '30 min'", error)
          || !thecal_cli_parse_quantity ("dose", o->dose, THECAL_QUANTITY_AMOUNT, &request.dose_ng, error)
          || !thecal_cli_parse_quantity ("duration", o->duration, THECAL_QUANTITY_DURATION, &request.duration_ms, error))
        return FALSE;
    }
  else if (g_str_equal (o->kind, "priming"))
    {
      request.kind = THECAL_VISIT_BOLUS_PRIMING;
      if (o->priming_rate != NULL
          && !thecal_cli_parse_quantity ("priming-rate", o->priming_rate, THECAL_QUANTITY_VOLUME_RATE, &request.priming_rate_nl_per_day, error))
        return FALSE;
    }
  else if (g_str_equal (o->kind, "bridge"))
    {
      request.kind = THECAL_VISIT_BOLUS_BRIDGE;
      if (!thecal_cli_require ("previous-prescription", o->previous, "--previous-prescription old.json", error)
          || !thecal_cli_load_prescription (o->previous, previous, error))
        return FALSE;
      request.previous_rx = previous;
    }
  else
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--kind: “%s” is not clinician, priming or bridge"), o->kind);
      return FALSE;
    }
  review = thecal_visit_review_bolus (visit, &request, &local_error);
  if (review == NULL)
    return report (out, local_error, error);
  thecal_cli_print (out, _ ("Review: %s\n"), review->summary);
  thecal_cli_print (out, _ ("  volume %s, %s of drug, over %s; the day's worst case with it %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, review->volume_nl), thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, review->dose_ng),
                    thecal_cli_duration (out, review->duration_ms), thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, review->day_worst_ng));
  if (review->warning != NULL)
    thecal_cli_print (out, _ ("Warning: %s\n"), review->warning);
  thecal_cli_json_string (out->json, "kind", o->kind);
  thecal_cli_json_quantity (out->json, "bolus_volume", THECAL_QUANTITY_VOLUME, review->volume_nl);
  thecal_cli_json_quantity (out->json, "bolus_dose", THECAL_QUANTITY_AMOUNT, review->dose_ng);
  thecal_cli_json_quantity (out->json, "bolus_duration", THECAL_QUANTITY_DURATION, review->duration_ms);
  thecal_visit_bolus_async (visit, review, o->reason, NULL, on_done, &result);
  if (!thecal_visit_bolus_finish (visit, wait_result (sim, &result), &outcome, &local_error))
    return report (out, local_error, error);
  thecal_cli_json_string (out->json, "outcome", thecal_programming_outcome_name (outcome));
  thecal_cli_print (out, _ ("Bolus %s.\n"), thecal_programming_outcome_name (outcome));
  if (outcome != THECAL_OUTCOME_CONFIRMED)
    thecal_cli_refuse (out, _ ("The bolus was not confirmed (%s): the next visit reads the pump before any change."),
                       thecal_programming_outcome_name (outcome));
  return TRUE;
}

static gboolean
run_sync_clock (ThecalCliOutput *out, Sim *sim, ThecalVisit *visit, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  gint64 drift = 0;
  gboolean synced = FALSE;

  thecal_visit_sync_clock_async (visit, NULL, on_done, &result);
  if (!thecal_visit_sync_clock_finish (visit, wait_result (sim, &result), &drift, &synced, &local_error))
    return report (out, local_error, error);
  thecal_cli_json_int (out->json, "drift_ms", drift);
  thecal_cli_json_bool (out->json, "synced", synced);
  thecal_cli_print (out, synced ? _ ("The pump's clock was %s off: set to the clinic's time.\n") : _ ("The pump's clock is %s off: within the 5 min bound, not changed.\n"),
                    thecal_cli_duration (out, drift < 0 ? -drift : drift));
  return TRUE;
}

static gboolean
run_ack_alarm (ThecalCliOutput *out, Sim *sim, ThecalVisit *visit, GError **error)
{
  const ThecalProtoStatus *st = thecal_visit_get_status (visit);
  guint acknowledged = 0;

  for (int32_t i = 0; st != NULL && i < st->n_alarms && i < THECAL_PROTO_ALARMS_MAX; i++)
    {
      ThecalProtoAlarm kind = st->alarms[i].kind;
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GError) local_error = NULL;

      if (!st->alarms[i].raised || st->alarms[i].acknowledged)
        continue;
      thecal_visit_ack_alarm_async (visit, kind, NULL, on_done, &result);
      if (!thecal_visit_ack_alarm_finish (visit, wait_result (sim, &result), &local_error))
        return report (out, local_error, error);
      thecal_cli_print (out, _ ("Alarm %s acknowledged and recorded.\n"), thecal_alarm_kind_name ((ThecalAlarmKind) kind));
      acknowledged++;
      st = thecal_visit_get_status (visit);
    }
  thecal_cli_json_int (out->json, "acknowledged", acknowledged);
  if (acknowledged == 0)
    thecal_cli_print (out, _ ("No raised alarm to acknowledge.\n"));
  return TRUE;
}

/* Connects (interrogating) and runs @subcommand. */
static gboolean
run_visit (ThecalCliOutput *out, Sim *sim, ThecalVisit *visit, const VisitOptions *o, const char *patient, const ThecalPump *pump, const char *subcommand, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  const ThecalProtoStatus *st;

  thecal_visit_connect_async (visit, patient, NULL, on_done, &result);
  if (!thecal_visit_connect_finish (visit, wait_result (sim, &result), &local_error))
    return report (out, local_error, error);
  st = thecal_visit_get_status (visit);
  thecal_cli_json_string (out->json, "pump", pump->serial);
  thecal_cli_json_quantity (out->json, "reservoir", THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl);
  thecal_cli_print (out, _ ("Pump %s of patient %s: reservoir %s (%s).\n"), pump->serial, patient,
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl), st->reservoir_drug_id);
  print_findings (out, visit);
  if (g_str_equal (subcommand, "program"))
    return run_program (out, sim, visit, o, error);
  if (g_str_equal (subcommand, "refill"))
    return run_refill (out, sim, visit, o, error);
  if (g_str_equal (subcommand, "bolus"))
    return run_bolus (out, sim, visit, o, error);
  if (g_str_equal (subcommand, "sync-clock"))
    return run_sync_clock (out, sim, visit, error);
  if (g_str_equal (subcommand, "ack-alarm"))
    return run_ack_alarm (out, sim, visit, error);
  return TRUE;
}

static const char *const subcommands[] = { "interrogate", "program", "refill", "bolus", "sync-clock", "ack-alarm" };

gboolean
thecal_cli_visit (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (VisitOptions) o = { 0 };
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &o.db, N_ ("The patient record (default: ~/.local/share/thecal/record.sqlite)"), N_ ("FILE") },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o.user, N_ ("Log in as NAME (the password is asked, or read from $THECAL_PASSWORD)"), N_ ("NAME") },
    { "sim", 0, 0, G_OPTION_ARG_NONE, &o.sim, N_ ("Talk to the demo pump the record holds for the patient (simulated)"), NULL },
    { "wand", 0, 0, G_OPTION_ARG_NONE, &o.wand, N_ ("Talk to the patient's pump through the USB wand (1209:0001)"), NULL },
    { "sim-state", 0, 0, G_OPTION_ARG_FILENAME, &o.sim_state, N_ ("The simulated pump's state (default: <db>.sim-<serial>)"), N_ ("FILE") },
    { "prescription", 0, 0, G_OPTION_ARG_FILENAME, &o.prescription, N_ ("program: the new prescription; refill: the one for a new drug or concentration (JSON)"), N_ ("FILE") },
    { "override-reason", 0, 0, G_OPTION_ARG_STRING, &o.override_reason, N_ ("program, refill: why a soft limit is overridden"), N_ ("TEXT") },
    { "reason", 0, 0, G_OPTION_ARG_STRING, &o.reason, N_ ("program, bolus: why (a bolus over a soft daily limit needs one)"), N_ ("TEXT") },
    { "aspirated", 0, 0, G_OPTION_ARG_STRING, &o.aspirated, N_ ("refill: the volume that came back"), N_ ("V") },
    { "added", 0, 0, G_OPTION_ARG_STRING, &o.added, N_ ("refill: the volume put in"), N_ ("V") },
    { "drug", 0, 0, G_OPTION_ARG_STRING, &o.drug, N_ ("refill: the drug"), N_ ("D") },
    { "concentration", 0, 0, G_OPTION_ARG_STRING, &o.concentration, N_ ("refill: its concentration"), N_ ("C") },
    { "lot", 0, 0, G_OPTION_ARG_STRING, &o.lot, N_ ("refill: the lot number"), N_ ("L") },
    { "expiry", 0, 0, G_OPTION_ARG_STRING, &o.expiry, N_ ("refill: the expiry date (YYYY-MM-DD)"), N_ ("DATE") },
    { "verifier", 0, 0, G_OPTION_ARG_STRING, &o.verifier, N_ ("refill: the second person (password from $THECAL_VERIFIER_PASSWORD or asked)"), N_ ("NAME") },
    { "acknowledge", 0, 0, G_OPTION_ARG_STRING, &o.acknowledge, N_ ("refill: acknowledges a flagged discrepancy (what was checked)"), N_ ("TEXT") },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &o.kind, N_ ("bolus: clinician, priming or bridge"), N_ ("KIND") },
    { "dose", 0, 0, G_OPTION_ARG_STRING, &o.dose, N_ ("bolus --kind clinician: the dose; refill: the new daily dose of a new drug or concentration"), N_ ("D") },
    { "duration", 0, 0, G_OPTION_ARG_STRING, &o.duration, N_ ("bolus --kind clinician: over how long"), N_ ("T") },
    { "priming-rate", 0, 0, G_OPTION_ARG_STRING, &o.priming_rate, N_ ("bolus --kind priming: the rate (default: the model's bolus ceiling)"), N_ ("R") },
    { "previous-prescription", 0, 0, G_OPTION_ARG_FILENAME, &o.previous, N_ ("bolus --kind bridge: what the pump ran before the change (JSON)"), N_ ("FILE") },
    { NULL },
  };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (GPtrArray) pumps = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *state_path = NULL;
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autoptr (ThecalPumpLink) link = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  const ThecalPump *pump = NULL;
  const ThecalSimPumpDemo *demo;
  ThecalSimPump *sim_pump;
  ThecalDoseError dose_error;
  Sim sim = { 0 };
  g_autoptr (GObject) wand = NULL;
  const char *patient, *subcommand;
  char *password;
  gboolean ok = TRUE;

  if (!thecal_cli_parse_command_line (_ ("PATIENT SUBCOMMAND"),
                                      _ ("A clinic visit with --sim or --wand: interrogate, program, refill, bolus, sync-clock or ack-alarm."),
                                      _ ("A refill with another drug or concentration than the pump runs is a drug change (a "
                                         "physician's): its review (old → new, the new prescription, the bridge bolus, the new "
                                         "dates) is printed first; the same drug keeps its daily dose unless --dose or "
                                         "--prescription says otherwise; then the fill and the new prescription are set together "
                                         "(the pump never stops) and the bridge bolus started (docs/workflows.md).\n\nExample:\n  thecal-cli visit MRN-0001 "
                                         "--sim --user paula refill --aspirated '12 mL' --added '18 mL' --drug morphine "
                                         "--concentration '50 mg/mL' --lot L1 --expiry 2027-06-30 --verifier nina "
                                         "--override-reason 'concentration doubled to halve refills'"),
                                      entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (g_strv_length (positional) != 2)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("visit: give the patient and one subcommand: visit MRN --sim|--wand interrogate|program|refill|bolus|sync-clock|ack-alarm"));
      return FALSE;
    }
  patient = positional[0];
  subcommand = positional[1];
  if (!g_strv_contains ((const char *const[]){ subcommands[0], subcommands[1], subcommands[2], subcommands[3], subcommands[4], subcommands[5], NULL },
                        subcommand))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("visit: no subcommand “%s” (interrogate, program, refill, bolus, sync-clock, ack-alarm)"), subcommand);
      return FALSE;
    }
  if (o.sim == o.wand)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("visit: give either --sim (the simulated demo pump) or --wand (the pump through the USB wand)"));
      return FALSE;
    }
  if (!thecal_cli_require ("user", o.user, "--user nina", error) || !thecal_cli_load_models (NULL, models, error)
      || !thecal_cli_load_library (NULL, library, error))
    return FALSE;
  if (o.wand)
    {
      /* the wand first: without one there is no visit, whatever the record holds (exit 3) */
#ifdef THECAL_HAVE_USB_TRANSPORT
      g_autoptr (GError) usb_error = NULL;

      wand = (GObject *) thecal_usb_transport_new (WAND_VID, WAND_PID, &usb_error);
      if (wand == NULL)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, "visit: %s", usb_error->message);
          return FALSE;
        }
#else
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO,
                   _ ("visit: No wand connected (this build has no USB wand support; %04x:%04x)"), WAND_VID, WAND_PID);
      return FALSE;
#endif
    }
  db = o.db != NULL ? g_strdup (o.db) : thecal_record_default_path ();
  record = thecal_record_open_sync (db,
                                    THECAL_RECORD_OPEN_DEFAULT
                                        | (g_strcmp0 (g_getenv ("THECAL_PWHASH_LIMITS"), "min") == 0 ? THECAL_RECORD_OPEN_FAST_HASH : 0),
                                    NULL, &local_error);
  if (record == NULL)
    return report (out, local_error, error);
  password = password_for ("THECAL_PASSWORD", o.user, error);
  if (password == NULL)
    return FALSE;
  session = thecal_record_session_login_sync (record, o.user, password, NULL, &local_error);
  thecal_cli_wipe_secret (password);
  if (session == NULL)
    return report (out, local_error, error);
  thecal_cli_json_string (out->json, "user", o.user);

  /* the patient's implanted pump, from the record (as the user: pump.read is checked and a
   * refusal audited): its serial names the demo pump */
  pumps = thecal_record_session_list_pumps_sync (session, patient, NULL, &local_error);
  if (pumps == NULL)
    return report (out, local_error, error);
  for (guint i = 0; i < pumps->len; i++)
    {
      const ThecalPump *p = pumps->pdata[i];

      if (p->status == THECAL_PUMP_IMPLANTED)
        pump = p;
    }
  if (pump == NULL)
    {
      thecal_cli_refuse (out, _ ("Patient %s has no implanted pump in the record."), patient);
      return TRUE;
    }
  if (o.wand)
    {
      /* the clinic's clock; the visit pairs with the key the record holds for the pump */
      sim.clock = thecal_clock_new_real ();
      link = thecal_pump_link_new (THECAL_TRANSPORT (wand), sim.clock);
      visit = thecal_visit_new (session, link, models, library);
      ok = run_visit (out, &sim, visit, &o, patient, pump, subcommand, error);
      g_clear_object (&visit);
      g_clear_object (&link);
      g_clear_object (&sim.clock);
      return ok;
    }
  demo = thecal_sim_pump_demo_find (pump->serial);
  if (demo == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("visit: --sim: pump %s of patient %s is not a demo pump"),
                   pump->serial, patient);
      return FALSE;
    }
  state_path = o.sim_state != NULL ? g_strdup (o.sim_state) : g_strdup_printf ("%s.sim-%s", db, pump->serial);
  sim_pump = g_new0 (ThecalSimPump, 1);
  thecal_dose_error_clear (&dose_error);
  if (!thecal_sim_pump_demo_init (sim_pump, demo, thecal_pump_model_set_find (models, demo->model_id), &dose_error))
    {
      g_free (sim_pump);
      return thecal_cli_dose_error (&dose_error, "visit", error);
    }
  if (!sim_state_load (state_path, sim_pump, error))
    {
      g_free (sim_pump);
      return FALSE;
    }
  sim.clock = thecal_clock_new_virtual (0);
  sim.loopback = thecal_loopback_transport_new (sim_pump, g_free, sim.clock);
  sim.state_path = state_path;
  link = thecal_pump_link_new (THECAL_TRANSPORT (sim.loopback), sim.clock);
  visit = thecal_visit_new (session, link, models, library);
  /* simulated: the clinic's clock is the simulated one */
  thecal_visit_set_time_func (visit, sim_time, &sim);

  ok = run_visit (out, &sim, visit, &o, patient, pump, subcommand, error);
  /* whatever happened, the pump keeps its state for the next run */
  if (!sim_state_save (state_path, thecal_loopback_transport_get_pump (sim.loopback), ok ? error : NULL))
    ok = FALSE;
  g_clear_object (&visit);
  g_clear_object (&link);
  g_clear_object (&sim.loopback);
  g_clear_object (&sim.clock);
  g_clear_pointer (&sim.saved, g_free);
  return ok;
}
