/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-refill-wizard.c: see thecal-refill-wizard.h.
 */
#include "config.h"

#include "thecal-refill-wizard.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-form.h"
#include "thecal-format.h"
#include "thecal-workflow-refill.h"

#define ACK_MIN_CHARS 10

struct _ThecalRefillWizard
{
  AdwWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *back_button;
  GtkWidget *next_button;
  GtkWidget *stack;
  GtkWidget *aspirate_box;
  GtkWidget *fill_box;
  GtkWidget *review_box;
  GtkWidget *verifier_box;
  GtkWidget *summary_box;
  GtkWidget *progress_box;
  GtkWidget *outcome_box;

  /* page 1 */
  GtkWidget *expected_label;
  GtkWidget *aspirated_entry;
  GtkWidget *aspirated_error;
  GtkWidget *check_label;
  GtkWidget *discrepancy_label;
  GtkWidget *ack_entry;
  GtkWidget *ack_error;
  /* page 2 */
  GtkWidget *drug_dropdown;
  GtkWidget *concentration_entry;
  GtkWidget *concentration_error;
  GtkWidget *lot_entry;
  GtkWidget *lot_error;
  GtkWidget *expiry_entry;
  GtkWidget *expiry_error;
  GtkWidget *added_entry;
  GtkWidget *added_error;
  GtkWidget *fill_error;
  /* page 3 */
  GtkWidget *review_label;
  GtkWidget *override_entry;
  GtkWidget *override_error;
  /* page 4 */
  GtkWidget *verifier_name_entry;
  GtkWidget *verifier_password_entry;
  GtkWidget *verifier_error;
  /* page 5 */
  GtkWidget *summary_label;
  /* page 6, 7 */
  GtkWidget *progress_label;
  GtkWidget *spinner;
  GtkWidget *outcome_page;

  ThecalVisit *visit;
  ThecalDrugLibrary *library;
  GCancellable *cancellable;
  ThecalRefillReview *review; /* of the request as the fill page left it */
  gboolean flagged;
  gboolean aspirated_ok;
  gboolean fill_ok;
  gboolean finished;
  ThecalProgrammingOutcome outcome;
};

G_DEFINE_FINAL_TYPE (ThecalRefillWizard, thecal_refill_wizard, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const char *const page_titles[][2] = {
  { "aspirate", N_ ("Step 1 of 5: Aspirate") },
  { "fill", N_ ("Step 2 of 5: New Fill") },
  { "review", N_ ("Step 3 of 5: Review the Change") },
  { "verifier", N_ ("Step 4 of 5: Second Person") },
  { "summary", N_ ("Step 5 of 5: Summary") },
  { "progress", N_ ("Refilling") },
  { "outcome", N_ ("Outcome") },
};

/* ---- building the pages ------------------------------------------------------------------- */

static const char *
current_page (ThecalRefillWizard *self)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (self->stack));
}

/* ---- the request, from the fields (parsed by src/dose) ------------------------------------ */

static gboolean
parse_quantity (ThecalQuantityKind kind, GtkWidget *entry, const char *field, gint64 *value, char **message)
{
  ThecalDoseError dose_error = { 0 };
  int64_t v = 0;

  if (!thecal_quantity_parse (kind, thecal_form_entry_text (entry), field, &v, &dose_error))
    {
      *message = g_strdup (dose_error.message);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

static const char *
selected_drug_id (ThecalRefillWizard *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->drug_dropdown));

  return i < (guint) self->library->n_drugs ? self->library->drugs[i].id : NULL;
}

/* Fills @request from the fields; strings point into the entries (valid until they change). */
static void
fill_request (ThecalRefillWizard *self, ThecalRefillRequest *request)
{
  g_autofree char *ignored = NULL;

  memset (request, 0, sizeof *request);
  parse_quantity (THECAL_QUANTITY_VOLUME, self->aspirated_entry, "aspirated volume", &request->aspirated_nl, &ignored);
  g_clear_pointer (&ignored, g_free);
  request->acknowledgement = thecal_form_entry_text (self->ack_entry);
  request->drug_id = selected_drug_id (self);
  parse_quantity (THECAL_QUANTITY_CONCENTRATION, self->concentration_entry, "concentration", &request->concentration_ng_per_ml,
                  &ignored);
  g_clear_pointer (&ignored, g_free);
  request->lot = thecal_form_entry_text (self->lot_entry);
  request->expiry_date = thecal_form_entry_text (self->expiry_entry);
  parse_quantity (THECAL_QUANTITY_VOLUME, self->added_entry, "volume added", &request->added_nl, &ignored);
  request->verifier_name = thecal_form_entry_text (self->verifier_name_entry);
  request->verifier_password = thecal_form_entry_text (self->verifier_password_entry);
  request->override_reason = thecal_form_entry_text (self->override_entry);
}

/* ---- page 1: the aspirated volume ---------------------------------------------------------- */

static void
update_aspirate (ThecalRefillWizard *self)
{
  g_autofree char *message = NULL;
  g_autoptr (GError) error = NULL;
  ThecalRefillCheck check = { 0 };
  gboolean history_known = FALSE;
  gint64 aspirated = 0;

  self->aspirated_ok = FALSE;
  self->flagged = FALSE;
  thecal_form_set_error (self->check_label, NULL);
  thecal_form_set_error (self->discrepancy_label, NULL);
  if (thecal_form_entry_text (self->aspirated_entry)[0] == '\0')
    thecal_form_set_error (self->aspirated_error, NULL);
  else if (!parse_quantity (THECAL_QUANTITY_VOLUME, self->aspirated_entry, "aspirated volume", &aspirated, &message))
    thecal_form_set_error (self->aspirated_error, message);
  else if (!thecal_visit_refill_preview (self->visit, aspirated, &check, &history_known, &error))
    thecal_form_set_error (self->aspirated_error, error->message);
  else
    {
      g_autofree char *expected = thecal_format_quantity (THECAL_QUANTITY_VOLUME, check.expected_residual_nl);
      g_autofree char *difference = thecal_format_quantity (THECAL_QUANTITY_VOLUME, check.discrepancy_nl);
      g_autofree char *threshold = thecal_format_quantity (THECAL_QUANTITY_VOLUME, check.threshold_nl);
      g_autofree char *asp = thecal_format_quantity (THECAL_QUANTITY_VOLUME, aspirated);

      thecal_form_set_error (self->aspirated_error, NULL);
      self->aspirated_ok = TRUE;
      self->flagged = check.flagged;
      if (!check.flagged)
        {
          g_autofree char *text = g_strdup_printf (_ ("Within the band: %s expected, %s aspirated (difference %s, band %s)."),
                                                   expected, asp, difference, threshold);
          thecal_form_set_error (self->check_label, text);
        }
      else
        {
          /* the workflow's sentence (thecal-workflow-refill.c, acknowledged ()) */
          g_autofree char *text = g_strdup_printf (
              _ ("Discrepancy: %s aspirated, %s expected (band %s): %s. Check the patient for overdose or "
                 "withdrawal, then acknowledge it (at least 10 characters) to go on."),
              asp, expected, threshold,
              check.kind == THECAL_DISCREPANCY_LESS_BACK ? _ ("possible pocket fill (drug injected outside the reservoir) or over-infusion")
                                                         : _ ("possible under-infusion, motor stall or catheter occlusion"));
          thecal_form_set_error (self->discrepancy_label, text);
        }
    }
  gtk_widget_set_visible (self->ack_entry, self->flagged);
  gtk_widget_set_visible (gtk_widget_get_prev_sibling (self->ack_entry), self->flagged);
  if (self->flagged)
    {
      g_autofree char *ack = g_strstrip (g_strdup (thecal_form_entry_text (self->ack_entry)));
      glong n = g_utf8_strlen (ack, -1);

      thecal_form_set_error (self->ack_error, n > 0 && n < ACK_MIN_CHARS ? _ ("Acknowledgement: at least 10 characters.") : NULL);
    }
  else
    thecal_form_set_error (self->ack_error, NULL);
}

static gboolean
aspirate_complete (ThecalRefillWizard *self)
{
  g_autofree char *ack = NULL;

  if (!self->aspirated_ok)
    return FALSE;
  if (!self->flagged)
    return TRUE;
  ack = g_strstrip (g_strdup (thecal_form_entry_text (self->ack_entry)));
  return g_utf8_strlen (ack, -1) >= ACK_MIN_CHARS;
}

/* ---- page 2: the new fill ------------------------------------------------------------------- */

/* @message names the field by @english, or by @translated (the word of the translation in use:
 * the workflow's messages are translated too, docs/gui.md "Translations"). */
static gboolean
message_names (const char *message, const char *english, const char *translated)
{
  return strstr (message, english) != NULL || (translated[0] != '\0' && strstr (message, translated) != NULL);
}

/* Which field a refusal of the workflow is about (its message names it). */
static GtkWidget *
error_label_for (ThecalRefillWizard *self, const char *message)
{
  /* Translators: a piece of the word that names the expiry in your translation of the refill's
   * refusals ("The expiry date … is not a date", "The drug expired on …"): the refusal is shown
   * under the field whose word it contains. */
  if (message_names (message, "expir", C_ ("field named in a refusal", "expir")))
    return self->expiry_error;
  /* Translators: the word for the lot in your translation of "The lot number is required." */
  if (message_names (message, "lot", C_ ("field named in a refusal", "lot")))
    return self->lot_error;
  /* Translators: the words for the capacity and the volume in your translation of the refill's
   * refusals ("The volume added is refused: …"). */
  if (message_names (message, "capacity", C_ ("field named in a refusal", "capacity"))
      || message_names (message, "volume", C_ ("field named in a refusal", "volume")))
    return self->added_error;
  /* Translators: the word for the concentration in your translation of "The concentration must be
   * above 0." */
  if (message_names (message, "concentration", C_ ("field named in a refusal", "concentration")))
    return self->concentration_error;
  return self->fill_error;
}

static void
update_fill (ThecalRefillWizard *self)
{
  const ThecalPumpModel *model = thecal_visit_get_model (self->visit);
  g_autofree char *conc_message = NULL;
  g_autofree char *added_message = NULL;
  gint64 conc = 0, added = 0;
  gboolean ok = TRUE;

  self->fill_ok = FALSE;
  g_clear_pointer (&self->review, thecal_refill_review_free);
  thecal_form_set_error (self->fill_error, NULL);
  thecal_form_set_error (self->lot_error, NULL);
  thecal_form_set_error (self->expiry_error, NULL);

  if (!parse_quantity (THECAL_QUANTITY_CONCENTRATION, self->concentration_entry, "concentration", &conc, &conc_message))
    ok = FALSE;
  thecal_form_set_error (self->concentration_error, thecal_form_entry_text (self->concentration_entry)[0] != '\0' ? conc_message : NULL);
  if (!parse_quantity (THECAL_QUANTITY_VOLUME, self->added_entry, "volume added", &added, &added_message))
    ok = FALSE;
  else
    {
      ThecalDoseError dose_error = { 0 };
      int64_t v = 0;

      /* the dose core's check: never above the reservoir's capacity (its message names it) */
      if (!thecal_refill_new_volume (model, added, &v, &dose_error))
        {
          added_message = g_strdup (dose_error.message);
          ok = FALSE;
        }
    }
  thecal_form_set_error (self->added_error, thecal_form_entry_text (self->added_entry)[0] != '\0' ? added_message : NULL);
  if (thecal_form_entry_text (self->lot_entry)[0] == '\0' || thecal_form_entry_text (self->expiry_entry)[0] == '\0')
    return;
  /* the workflow's checks (expiry against the clinic's date, the drug, the change) also while
   * the volume is wrong, so every wrong field says so at once */
  if (conc_message == NULL)
    {
      ThecalRefillRequest request;
      g_autoptr (GError) error = NULL;
      g_autoptr (ThecalRefillReview) review = NULL;

      fill_request (self, &request);
      review = thecal_visit_review_refill (self->visit, &request, &error);
      if (review == NULL)
        {
          GtkWidget *label = error_label_for (self, error->message);

          if (label != self->added_error || added_message == NULL)
            thecal_form_set_error (label, error->message);
        }
      else if (ok)
        {
          self->review = g_steal_pointer (&review);
          self->fill_ok = TRUE;
        }
    }
}

/* ---- page 3: the review of a drug or concentration change ----------------------------------- */

static void
show_review (ThecalRefillWizard *self)
{
  const ThecalRefillReview *r = self->review;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *old_c = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, r->old_rx.concentration_ng_per_ml);
  g_autofree char *new_c = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, r->new_rx.concentration_ng_per_ml);

  g_string_append_printf (text, _ ("Drug: %s → %s\n"), thecal_format_drug (self->library, r->old_rx.drug_id),
                          thecal_format_drug (self->library, r->new_rx.drug_id));
  g_string_append_printf (text, _ ("Concentration: %s → %s\n"), old_c, new_c);
  if (r->rx_check.plan_valid)
    {
      g_autofree char *old_dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, r->old_plan.basal_ng_per_day);
      g_autofree char *new_dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, r->rx_check.plan.basal_ng_per_day);
      g_autofree char *old_rate = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, r->old_plan.basal_nl_per_day);
      g_autofree char *new_rate = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, r->rx_check.plan.basal_nl_per_day);

      g_string_append_printf (text, _ ("Basal daily dose: %s → %s\nBasal rate: %s → %s\n"), old_dose, new_dose, old_rate, new_rate);
    }
  for (guint i = 0; r->changes != NULL && i < r->changes->len; i++)
    {
      const ThecalVisitChange *c = r->changes->pdata[i];

      if (g_strcmp0 (c->field, "concentration") == 0 || g_strcmp0 (c->field, "drug") == 0)
        continue; /* above */
      g_string_append_printf (text, "%s: %s → %s\n", c->field, c->old_value, c->new_value);
    }
  if (r->bridge != NULL && r->bridge->summary != NULL)
    g_string_append_printf (text, _ ("Bridge bolus: %s\n"), r->bridge->summary);
  if (r->have_projection)
    {
      g_autofree char *low = thecal_format_instant (r->projection.low_alarm_local_ms);
      g_autofree char *empty = thecal_format_instant (r->projection.empty_local_ms);
      g_autofree char *by = thecal_format_instant (r->projection.refill_by_local_ms);

      g_string_append_printf (text, _ ("Low-reservoir alarm: %s\nEmpty: %s\nRefill by: %s\n"), low, empty, by);
    }
  for (int i = 0; i < r->rx_check.n_findings; i++)
    g_string_append_printf (text, "%s\n", r->rx_check.findings[i].message);
  if (text->len > 0 && text->str[text->len - 1] == '\n')
    g_string_truncate (text, text->len - 1);
  gtk_label_set_text (GTK_LABEL (self->review_label), text->str);
  gtk_widget_set_visible (self->override_entry, r->needs_override);
  gtk_widget_set_visible (gtk_widget_get_prev_sibling (self->override_entry), r->needs_override);
}

static gboolean
review_complete (ThecalRefillWizard *self)
{
  g_autofree char *reason = NULL;

  if (self->review == NULL || !self->review->needs_override)
    return self->review != NULL;
  reason = g_strstrip (g_strdup (thecal_form_entry_text (self->override_entry)));
  return g_utf8_strlen (reason, -1) >= ACK_MIN_CHARS;
}

/* ---- page 5: the summary -------------------------------------------------------------------- */

static void
show_summary (ThecalRefillWizard *self)
{
  const ThecalProtoStatus *st = thecal_visit_get_status (self->visit);
  const ThecalMsgPrescription *active = thecal_visit_get_active (self->visit);
  const ThecalRefillReview *r = self->review;
  ThecalRefillRequest request;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *old_v = thecal_format_quantity (THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl);
  g_autofree char *new_v = thecal_format_quantity (THECAL_QUANTITY_VOLUME, r->new_volume_nl);
  g_autofree char *old_c = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, active->rx.concentration_ng_per_ml);
  g_autofree char *new_c = NULL;
  g_autofree char *asp = NULL;

  fill_request (self, &request);
  new_c = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, request.concentration_ng_per_ml);
  asp = thecal_format_quantity (THECAL_QUANTITY_VOLUME, request.aspirated_nl);
  g_string_append_printf (text, _ ("Reservoir: %s → %s\n"), old_v, new_v);
  g_string_append_printf (text, _ ("Drug: %s → %s\n"), thecal_format_drug (self->library, active->rx.drug_id),
                          thecal_format_drug (self->library, request.drug_id));
  g_string_append_printf (text, _ ("Concentration: %s → %s\n"), old_c, new_c);
  g_string_append_printf (text, _ ("Aspirated: %s%s\n"), asp, self->flagged ? _ (" (discrepancy acknowledged)") : "");
  g_string_append_printf (text, _ ("Lot: %s, expiry %s\n"), request.lot, request.expiry_date);
  g_string_append_printf (text, _ ("Verified by: %s\n"), request.verifier_name);
  if (r->change && r->bridge != NULL && r->bridge->summary != NULL)
    g_string_append_printf (text, _ ("Bridge bolus: %s\n"), r->bridge->summary);
  if (r->have_projection)
    {
      g_autofree char *low = thecal_format_instant (r->projection.low_alarm_local_ms);
      g_autofree char *by = thecal_format_instant (r->projection.refill_by_local_ms);

      g_string_append_printf (text, _ ("New low-reservoir alarm: %s\nRefill by: %s"), low, by);
    }
  gtk_label_set_text (GTK_LABEL (self->summary_label), text->str);
}

/* ---- navigation ----------------------------------------------------------------------------- */

static gboolean
page_complete (ThecalRefillWizard *self, const char *page)
{
  if (g_strcmp0 (page, "aspirate") == 0)
    return aspirate_complete (self);
  if (g_strcmp0 (page, "fill") == 0)
    return self->fill_ok;
  if (g_strcmp0 (page, "review") == 0)
    return review_complete (self);
  if (g_strcmp0 (page, "verifier") == 0)
    return thecal_form_entry_text (self->verifier_name_entry)[0] != '\0' && thecal_form_entry_text (self->verifier_password_entry)[0] != '\0';
  if (g_strcmp0 (page, "summary") == 0 || g_strcmp0 (page, "outcome") == 0)
    return TRUE;
  return FALSE; /* progress */
}

static void
update_buttons (ThecalRefillWizard *self)
{
  const char *page = current_page (self);
  gboolean first = g_strcmp0 (page, "aspirate") == 0;
  gboolean running = g_strcmp0 (page, "progress") == 0;
  gboolean done = g_strcmp0 (page, "outcome") == 0;
  const char *next = g_strcmp0 (page, "summary") == 0 ? _ ("Refill") : done ? _ ("Close")
                                                                            : _ ("Next");
  const char *back = first ? _ ("Cancel") : _ ("Back");

  thecal_form_set_step_header (self->back_button, back, !running && !done, self->next_button, next, !running, page_complete (self, page),
                               self->window_title, page, page_titles, G_N_ELEMENTS (page_titles));
}

static void
show_page (ThecalRefillWizard *self, const char *page)
{
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), page);
  update_buttons (self);
}

/* Runs on the main thread: any field changed. */
static void
on_field_changed (ThecalRefillWizard *self)
{
  const char *page = current_page (self);

  if (g_strcmp0 (page, "aspirate") == 0)
    update_aspirate (self);
  else if (g_strcmp0 (page, "fill") == 0)
    update_fill (self);
  else if (g_strcmp0 (page, "verifier") == 0)
    thecal_form_set_error (self->verifier_error, NULL);
  update_buttons (self);
}

static void
clear_password (ThecalRefillWizard *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->verifier_password_entry), "");
}

/* Runs on the main thread: the refill returned. @user_data: the wizard (a reference). */
static void
on_refilled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalRefillWizard) self = user_data;
  g_autoptr (GError) error = NULL;
  ThecalRefillReport report = { 0 };
  gboolean ok = thecal_visit_refill_finish (THECAL_VISIT (source), result, &report, &error);

  if (self->visit == NULL)
    return; /* the wizard was destroyed meanwhile (the patient's connection was dropped) */
  g_clear_object (&self->cancellable);
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  self->finished = TRUE;
  gtk_widget_remove_css_class (self->outcome_page, "error");
  if ((ok && report.outcome != THECAL_OUTCOME_CONFIRMED) || (!ok && thecal_visit_is_blocked (self->visit, NULL)))
    {
      /* the answer was lost and the read after it too (PAUSED), or the outcome could not be
       * stored (BLOCKED): the pump may hold the new fill; the visit blocks every change */
      g_autofree char *text = g_strdup_printf (
          _ ("%s\nThe pump may or may not hold the new fill. Every change is blocked until the pump is read again: "
             "the overview reads it again now; if it cannot, connect and interrogate the pump again."),
          error != NULL ? error->message : _ ("The pump's answer was lost."));

      self->outcome = THECAL_OUTCOME_UNCERTAIN;
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->outcome_page), "dialog-warning-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (self->outcome_page), _ ("Outcome UNCERTAIN"));
      adw_status_page_set_description (ADW_STATUS_PAGE (self->outcome_page), text);
      gtk_widget_add_css_class (self->outcome_page, "error");
    }
  else if (!ok)
    {
      self->outcome = THECAL_OUTCOME_FAILED;
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->outcome_page), "dialog-error-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (self->outcome_page), _ ("Not Refilled"));
      adw_status_page_set_description (ADW_STATUS_PAGE (self->outcome_page), error->message);
    }
  else
    {
      g_autofree char *volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, report.new_volume_nl);
      g_autofree char *low = report.have_projection ? thecal_format_instant (report.projection.low_alarm_local_ms) : g_strdup (_ ("not known"));
      g_autofree char *by = report.have_projection ? thecal_format_instant (report.projection.refill_by_local_ms) : g_strdup (_ ("not known"));
      g_autofree char *text = NULL;

      self->outcome = THECAL_OUTCOME_CONFIRMED;
      text = g_strdup_printf (_ ("The pump confirmed the new fill: %s.%s\nLow-reservoir alarm: %s\nRefill by: %s"), volume,
                              report.changed ? _ (" The new prescription runs and the bridge bolus was started.") : "", low, by);
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->outcome_page), "emblem-ok-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (self->outcome_page), _ ("Refill Confirmed"));
      adw_status_page_set_description (ADW_STATUS_PAGE (self->outcome_page), text);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->outcome_page), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  adw_status_page_get_title (ADW_STATUS_PAGE (self->outcome_page)), -1);
  show_page (self, "outcome");
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

static void
start_refill (ThecalRefillWizard *self)
{
  ThecalRefillRequest request;

  fill_request (self, &request);
  show_page (self, "progress");
  gtk_spinner_start (GTK_SPINNER (self->spinner));
  self->cancellable = g_cancellable_new ();
  /* the request's strings are copied by the workflow before it returns */
  thecal_visit_refill_async (self->visit, &request, self->cancellable, on_refilled, g_object_ref (self));
  /* the second person's password is not kept once it was used (never logged) */
  clear_password (self);
}

void
thecal_refill_wizard_next (ThecalRefillWizard *self)
{
  const char *page;

  g_return_if_fail (THECAL_IS_REFILL_WIZARD (self));
  page = current_page (self);
  if (!page_complete (self, page))
    return;
  if (g_strcmp0 (page, "aspirate") == 0)
    {
      show_page (self, "fill");
      update_fill (self);
      update_buttons (self);
    }
  else if (g_strcmp0 (page, "fill") == 0)
    {
      if (self->review->change)
        {
          show_review (self);
          show_page (self, "review");
        }
      else
        show_page (self, "verifier");
    }
  else if (g_strcmp0 (page, "review") == 0)
    show_page (self, "verifier");
  else if (g_strcmp0 (page, "verifier") == 0)
    {
      show_summary (self);
      show_page (self, "summary");
    }
  else if (g_strcmp0 (page, "summary") == 0)
    start_refill (self);
  else if (g_strcmp0 (page, "outcome") == 0)
    gtk_window_close (GTK_WINDOW (self));
}

void
thecal_refill_wizard_back (ThecalRefillWizard *self)
{
  const char *page;

  g_return_if_fail (THECAL_IS_REFILL_WIZARD (self));
  page = current_page (self);
  if (g_strcmp0 (page, "aspirate") == 0)
    gtk_window_close (GTK_WINDOW (self));
  else if (g_strcmp0 (page, "fill") == 0)
    show_page (self, "aspirate");
  else if (g_strcmp0 (page, "review") == 0)
    show_page (self, "fill");
  else if (g_strcmp0 (page, "verifier") == 0)
    {
      clear_password (self);
      show_page (self, self->review != NULL && self->review->change ? "review" : "fill");
    }
  else if (g_strcmp0 (page, "summary") == 0)
    show_page (self, "verifier");
}

/* Runs on the main thread: the header bar's buttons. */
static void
on_next_clicked (ThecalRefillWizard *self)
{
  thecal_refill_wizard_next (self);
}

static void
on_back_clicked (ThecalRefillWizard *self)
{
  thecal_refill_wizard_back (self);
}

/* ---- the public accessors --------------------------------------------------------------------- */

const char *
thecal_refill_wizard_get_page (ThecalRefillWizard *self)
{
  g_return_val_if_fail (THECAL_IS_REFILL_WIZARD (self), NULL);
  return current_page (self);
}

gboolean
thecal_refill_wizard_can_go_next (ThecalRefillWizard *self)
{
  g_return_val_if_fail (THECAL_IS_REFILL_WIZARD (self), FALSE);
  return gtk_widget_get_sensitive (self->next_button) && gtk_widget_get_visible (self->next_button);
}

static GtkWidget *
field_entry (ThecalRefillWizard *self, const char *field)
{
  const struct
  {
    const char *name;
    GtkWidget *entry;
  } fields[] = {
    { "aspirated", self->aspirated_entry },
    { "acknowledgement", self->ack_entry },
    { "concentration", self->concentration_entry },
    { "lot", self->lot_entry },
    { "expiry", self->expiry_entry },
    { "added", self->added_entry },
    { "override", self->override_entry },
    { "verifier_name", self->verifier_name_entry },
    { "verifier_password", self->verifier_password_entry },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (g_strcmp0 (fields[i].name, field) == 0)
      return fields[i].entry;
  return NULL;
}

void
thecal_refill_wizard_set_field (ThecalRefillWizard *self, const char *field, const char *text)
{
  GtkWidget *entry;

  g_return_if_fail (THECAL_IS_REFILL_WIZARD (self));
  entry = field_entry (self, field);
  g_return_if_fail (entry != NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

char *
thecal_refill_wizard_dup_field (ThecalRefillWizard *self, const char *field)
{
  GtkWidget *entry;

  g_return_val_if_fail (THECAL_IS_REFILL_WIZARD (self), NULL);
  entry = field_entry (self, field);
  g_return_val_if_fail (entry != NULL, NULL);
  return g_strdup (thecal_form_entry_text (entry));
}

gboolean
thecal_refill_wizard_set_drug (ThecalRefillWizard *self, const char *drug_id)
{
  g_return_val_if_fail (THECAL_IS_REFILL_WIZARD (self), FALSE);
  for (int i = 0; i < self->library->n_drugs; i++)
    if (g_strcmp0 (self->library->drugs[i].id, drug_id) == 0)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->drug_dropdown), (guint) i);
        return TRUE;
      }
  return FALSE;
}

char *
thecal_refill_wizard_dup_text (ThecalRefillWizard *self, const char *key)
{
  const struct
  {
    const char *key;
    GtkWidget *label;
  } labels[] = {
    { "expected", self->expected_label },
    { "check", self->check_label },
    { "discrepancy", self->discrepancy_label },
    { "aspirated", self->aspirated_error },
    { "acknowledgement", self->ack_error },
    { "concentration", self->concentration_error },
    { "lot", self->lot_error },
    { "expiry", self->expiry_error },
    { "added", self->added_error },
    { "fill", self->fill_error },
    { "override", self->override_error },
    { "verifier", self->verifier_error },
    { "review", self->review_label },
    { "summary", self->summary_label },
  };

  g_return_val_if_fail (THECAL_IS_REFILL_WIZARD (self), NULL);
  if (g_strcmp0 (key, "outcome") == 0)
    return g_strdup_printf ("%s\n%s", adw_status_page_get_title (ADW_STATUS_PAGE (self->outcome_page)),
                            adw_status_page_get_description (ADW_STATUS_PAGE (self->outcome_page)));
  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (labels[i].key, key) == 0)
      return g_strdup (gtk_label_get_text (GTK_LABEL (labels[i].label)));
  return NULL;
}

gboolean
thecal_refill_wizard_get_finished (ThecalRefillWizard *self, ThecalProgrammingOutcome *outcome)
{
  g_return_val_if_fail (THECAL_IS_REFILL_WIZARD (self), FALSE);
  if (outcome != NULL)
    *outcome = self->outcome;
  return self->finished;
}

/* ---- construction ------------------------------------------------------------------------------ */

static void
build_pages (ThecalRefillWizard *self)
{
  const ThecalProtoStatus *st = thecal_visit_get_status (self->visit);
  const ThecalMsgPrescription *active = thecal_visit_get_active (self->visit);
  const ThecalPumpModel *model = thecal_visit_get_model (self->visit);
  g_autoptr (GtkStringList) drugs = gtk_string_list_new (NULL);
  g_autofree char *capacity = thecal_format_quantity (THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl);
  g_autofree char *reported = thecal_format_quantity (THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl);
  g_autofree char *conc = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, active->rx.concentration_ng_per_ml);
  g_autofree char *added_title = g_strdup_printf (_ ("Volume added (at most %s)"), capacity);
  ThecalRefillCheck check = { 0 };
  gboolean history_known = FALSE;
  GtkWidget *label;

  /* page 1: what is expected back, what came back */
  thecal_form_add_text (self->aspirate_box, _ ("Empty the reservoir through the refill port and measure what comes back."), NULL);
  if (thecal_visit_refill_preview (self->visit, 0, &check, &history_known, NULL))
    {
      g_autofree char *expected = thecal_format_quantity (THECAL_QUANTITY_VOLUME, check.expected_residual_nl);
      g_autofree char *text = history_known ? g_strdup_printf (_ ("Expected residual: %s (from the record's history)"), expected)
                                            : g_strdup_printf (_ ("Expected residual: %s (the pump's own estimate)"), expected);

      self->expected_label = thecal_form_add_text (self->aspirate_box, text, "title-4");
    }
  else
    self->expected_label = thecal_form_add_text (self->aspirate_box, _ ("Expected residual: not known"), "title-4");
  self->aspirated_entry = thecal_form_add_entry_full (self->aspirate_box, _ ("Aspirated volume"), _ ("e.g. 1.8 mL"), FALSE, "error", &self->aspirated_error);
  self->check_label = thecal_form_add_text (self->aspirate_box, "", NULL);
  self->discrepancy_label = thecal_form_add_text (self->aspirate_box, "", "warning");
  gtk_widget_set_visible (self->discrepancy_label, FALSE);
  self->ack_entry = thecal_form_add_entry_full (self->aspirate_box, _ ("Acknowledgement (what you checked, at least 10 characters)"), NULL,
                                                FALSE, "error", &self->ack_error);

  /* page 2: the new fill */
  for (int i = 0; i < self->library->n_drugs; i++)
    gtk_string_list_append (drugs, self->library->drugs[i].display_name);
  label = thecal_form_add_text (self->fill_box, _ ("Drug"), "heading");
  self->drug_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (drugs)), NULL);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->drug_dropdown), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
  gtk_box_append (GTK_BOX (self->fill_box), self->drug_dropdown);
  thecal_refill_wizard_set_drug (self, active->rx.drug_id);
  self->concentration_entry = thecal_form_add_entry_full (self->fill_box, _ ("Concentration"), _ ("e.g. 25 mg/mL"), FALSE, "error", &self->concentration_error);
  gtk_editable_set_text (GTK_EDITABLE (self->concentration_entry), conc);
  self->lot_entry = thecal_form_add_entry_full (self->fill_box, _ ("Lot"), NULL, FALSE, "error", &self->lot_error);
  self->expiry_entry = thecal_form_add_entry_full (self->fill_box, _ ("Expiry (YYYY-MM-DD)"), _ ("YYYY-MM-DD"), FALSE, "error", &self->expiry_error);
  self->added_entry = thecal_form_add_entry_full (self->fill_box, added_title, _ ("e.g. 18 mL"), FALSE, "error", &self->added_error);
  self->fill_error = thecal_form_add_text (self->fill_box, "", "error");
  gtk_widget_set_visible (self->fill_error, FALSE);
  {
    g_autofree char *now = g_strdup_printf (_ ("The pump reports %s now."), reported);

    thecal_form_add_text (self->fill_box, now, "dim-label");
  }

  /* page 3: a change of drug or concentration */
  thecal_form_add_text (self->review_box, _ ("This fill changes the drug or the concentration: a new prescription and a bridge bolus. Only a "
                                             "physician may do it."),
                        "warning");
  self->review_label = thecal_form_add_text (self->review_box, "", NULL);
  gtk_label_set_selectable (GTK_LABEL (self->review_label), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->review_label), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Review of the change"), -1);
  self->override_entry = thecal_form_add_entry_full (self->review_box, _ ("Reason to override the soft limit (at least 10 characters)"),
                                                     NULL, FALSE, "error", &self->override_error);

  /* page 4: the second person */
  thecal_form_add_text (self->verifier_box, _ ("A second person checks the drug, the concentration and the volume, then signs in with their own "
                                               "name and password."),
                        NULL);
  self->verifier_name_entry = thecal_form_add_entry_full (self->verifier_box, _ ("Verifier user name"), NULL, FALSE, "error", &self->verifier_error);
  self->verifier_password_entry = thecal_form_add_entry_full (self->verifier_box, _ ("Verifier password"), NULL, TRUE, "error", &self->verifier_error);

  /* page 5: what will change */
  thecal_form_add_text (self->summary_box, _ ("Check what will change, then press Refill."), "heading");
  self->summary_label = thecal_form_add_text (self->summary_box, "", NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->summary_label), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Summary"), -1);

  /* page 6: progress; page 7: the outcome */
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_size_request (self->spinner, 32, 32);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Refilling"), -1);
  gtk_box_append (GTK_BOX (self->progress_box), self->spinner);
  self->progress_label = thecal_form_add_text (self->progress_box, _ ("Writing to the pump: the refill is recorded as pending, sent, then read back…"),
                                               NULL);
  gtk_label_set_xalign (GTK_LABEL (self->progress_label), 0.5);
  self->outcome_page = adw_status_page_new ();
  gtk_widget_set_vexpand (self->outcome_page, TRUE);
  gtk_box_append (GTK_BOX (self->outcome_box), self->outcome_page);

  {
    GtkWidget *entries[] = { self->aspirated_entry, self->ack_entry, self->concentration_entry, self->lot_entry,
                             self->expiry_entry, self->added_entry, self->override_entry, self->verifier_name_entry,
                             self->verifier_password_entry };

    for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
      {
        g_signal_connect_swapped (entries[i], "changed", G_CALLBACK (on_field_changed), self);
        if (GTK_IS_ENTRY (entries[i]))
          g_signal_connect_swapped (entries[i], "activate", G_CALLBACK (thecal_refill_wizard_next), self);
      }
    g_signal_connect_swapped (self->drug_dropdown, "notify::selected", G_CALLBACK (on_field_changed), self);
  }
  update_aspirate (self);
  show_page (self, "aspirate");
}

/* Runs on the main thread: the window is asked to close (Escape, the window manager). Not while
 * the refill runs: its outcome must be seen. */
static gboolean
thecal_refill_wizard_close_request (GtkWindow *window)
{
  ThecalRefillWizard *self = THECAL_REFILL_WIZARD (window);

  if (self->cancellable != NULL)
    return TRUE;
  return GTK_WINDOW_CLASS (thecal_refill_wizard_parent_class)->close_request != NULL
             ? GTK_WINDOW_CLASS (thecal_refill_wizard_parent_class)->close_request (window)
             : FALSE;
}

static void
thecal_refill_wizard_dispose (GObject *object)
{
  ThecalRefillWizard *self = THECAL_REFILL_WIZARD (object);

  /* a refill in flight is not cancellable at the pump; the visit finishes it and records it */
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->review, thecal_refill_review_free);
  g_clear_object (&self->visit);
  g_clear_pointer (&self->library, g_free);
  G_OBJECT_CLASS (thecal_refill_wizard_parent_class)->dispose (object);
}

static void
thecal_refill_wizard_class_init (ThecalRefillWizardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_refill_wizard_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = thecal_refill_wizard_close_request;

  /* Emitted on the main thread when the refill returned (any outcome): the overview reads the
   * pump again. */
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-refill-wizard.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, ThecalRefillWizard, name)
  BIND (window_title);
  BIND (back_button);
  BIND (next_button);
  BIND (stack);
  BIND (aspirate_box);
  BIND (fill_box);
  BIND (review_box);
  BIND (verifier_box);
  BIND (summary_box);
  BIND (progress_box);
  BIND (outcome_box);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_next_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
}

static void
thecal_refill_wizard_init (ThecalRefillWizard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

ThecalRefillWizard *
thecal_refill_wizard_new (ThecalVisit *visit, const ThecalDrugLibrary *library)
{
  ThecalRefillWizard *self;

  g_return_val_if_fail (THECAL_IS_VISIT (visit), NULL);
  g_return_val_if_fail (library != NULL, NULL);
  self = g_object_new (THECAL_TYPE_REFILL_WIZARD, NULL);
  self->visit = g_object_ref (visit);
  self->library = g_memdup2 (library, sizeof *library);
  build_pages (self);
  return self;
}
