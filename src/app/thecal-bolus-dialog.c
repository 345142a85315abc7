/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-bolus-dialog.c: see thecal-bolus-dialog.h.
 */
#include "config.h"

#include "thecal-bolus-dialog.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-form.h"
#include "thecal-format.h"

#define REASON_MIN_CHARS 10

struct _ThecalBolusDialog
{
  AdwWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *back_button;
  GtkWidget *next_button;
  GtkWidget *stack;
  GtkWidget *request_box;
  GtkWidget *review_box;
  GtkWidget *progress_box;
  GtkWidget *outcome_box;

  /* request */
  GtkWidget *kind_dropdown;
  GtkWidget *clinician_box;
  GtkWidget *dose_entry;
  GtkWidget *dose_error;
  GtkWidget *duration_entry;
  GtkWidget *duration_error;
  GtkWidget *priming_box;
  GtkWidget *priming_rate_entry;
  GtkWidget *priming_rate_error;
  GtkWidget *request_error;
  /* review */
  GtkWidget *summary_label;
  GtkWidget *volume_label;
  GtkWidget *duration_label;
  GtkWidget *drug_dose_label;
  GtkWidget *day_label;
  GtkWidget *warning_label;
  GtkWidget *reason_box;
  GtkWidget *reason_entry;
  GtkWidget *reason_error;
  /* progress, outcome */
  GtkWidget *spinner;
  GtkWidget *progress_label;
  GtkWidget *outcome_page;
  GtkWidget *read_again_button;

  ThecalVisit *visit;
  ThecalDrugLibrary *library;
  GCancellable *cancellable; /* the write or the settle in flight */
  ThecalBolusReview *review;
  gboolean finished;
  ThecalProgrammingOutcome outcome;
};

G_DEFINE_FINAL_TYPE (ThecalBolusDialog, thecal_bolus_dialog, ADW_TYPE_WINDOW)

/* The kinds offered, in the drop-down's order. A bridge bolus needs the prescription the pump ran
 * before a drug change: the refill wizard gives it with the change (docs/gui.md). */
static const ThecalVisitBolusKind offered_kinds[] = { THECAL_VISIT_BOLUS_CLINICIAN, THECAL_VISIT_BOLUS_PRIMING };

static const char *const page_titles[][2] = {
  { "request", N_ ("Step 1 of 2: The Bolus") },
  { "review", N_ ("Step 2 of 2: Review") },
  { "progress", N_ ("Giving the Bolus") },
  { "outcome", N_ ("Outcome") },
};

/* ---- building ---------------------------------------------------------------------------------- */

/* A line "Title: value" of the review; the value label is returned. */
static GtkWidget *
add_value (GtkWidget *box, const char *title)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *name = gtk_label_new (title);
  GtkWidget *value = gtk_label_new ("");

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_widget_add_css_class (name, "dim-label");
  gtk_widget_set_size_request (name, 220, -1);
  gtk_label_set_xalign (GTK_LABEL (value), 0);
  gtk_label_set_wrap (GTK_LABEL (value), TRUE);
  gtk_widget_set_hexpand (value, TRUE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (value), GTK_ACCESSIBLE_RELATION_LABELLED_BY, name, NULL, -1);
  gtk_box_append (GTK_BOX (row), name);
  gtk_box_append (GTK_BOX (row), value);
  gtk_box_append (GTK_BOX (box), row);
  return value;
}

static const char *
current_page (ThecalBolusDialog *self)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (self->stack));
}

static ThecalVisitBolusKind
selected_kind (ThecalBolusDialog *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->kind_dropdown));

  return i < G_N_ELEMENTS (offered_kinds) ? offered_kinds[i] : THECAL_VISIT_BOLUS_CLINICIAN;
}

/* ---- the request ---------------------------------------------------------------------------- */

/* Parses @entry as @kind (thecal_form_parse); an empty entry with @empty_ok is 0. */
static gboolean
parse_field (GtkWidget *entry, GtkWidget *error_label, ThecalQuantityKind kind, const char *field, gboolean empty_ok, gint64 *value)
{
  if (empty_ok && thecal_form_entry_text (entry)[0] == '\0')
    {
      *value = 0;
      thecal_form_set_error (error_label, NULL);
      return TRUE;
    }
  return thecal_form_parse (entry, error_label, kind, field, value);
}

/* The request from the fields; FALSE (the errors shown next to the fields) when one does not
 * parse. */
static gboolean
read_request (ThecalBolusDialog *self, ThecalBolusRequest *request)
{
  gboolean ok = TRUE;

  memset (request, 0, sizeof *request);
  request->kind = selected_kind (self);
  if (request->kind == THECAL_VISIT_BOLUS_CLINICIAN)
    {
      ok = parse_field (self->dose_entry, self->dose_error, THECAL_QUANTITY_AMOUNT, _ ("Dose"), FALSE, &request->dose_ng) && ok;
      ok = parse_field (self->duration_entry, self->duration_error, THECAL_QUANTITY_DURATION, _ ("Duration"), FALSE,
                        &request->duration_ms)
           && ok;
    }
  else
    ok = parse_field (self->priming_rate_entry, self->priming_rate_error, THECAL_QUANTITY_VOLUME_RATE, _ ("Priming rate"), TRUE,
                      &request->priming_rate_nl_per_day);
  return ok;
}

static gboolean
page_complete (ThecalBolusDialog *self, const char *page)
{
  if (g_strcmp0 (page, "request") == 0)
    {
      if (selected_kind (self) == THECAL_VISIT_BOLUS_CLINICIAN)
        return thecal_form_entry_text (self->dose_entry)[0] != '\0' && thecal_form_entry_text (self->duration_entry)[0] != '\0';
      return TRUE;
    }
  if (g_strcmp0 (page, "review") == 0)
    return self->review != NULL; /* and the reason, when one is needed: update_buttons () */
  return g_strcmp0 (page, "outcome") == 0;
}

static void
update_buttons (ThecalBolusDialog *self)
{
  const char *page = current_page (self);
  gboolean first = g_strcmp0 (page, "request") == 0;
  gboolean running = g_strcmp0 (page, "progress") == 0;
  gboolean done = g_strcmp0 (page, "outcome") == 0;
  const char *next = first ? _ ("Review") : done ? _ ("Close")
                                                 : _ ("Give Bolus");
  const char *back = first ? _ ("Cancel") : _ ("Back");
  gboolean complete = page_complete (self, page);

  if (g_strcmp0 (page, "review") == 0 && self->review != NULL && self->review->over_soft_limit)
    {
      g_autofree char *reason = g_strstrip (g_strdup (thecal_form_entry_text (self->reason_entry)));

      complete = g_utf8_strlen (reason, -1) >= REASON_MIN_CHARS;
    }
  if (done && self->outcome == THECAL_OUTCOME_UNCERTAIN)
    complete = FALSE; /* blocking: read the pump again first */
  thecal_form_set_step_header (self->back_button, back, !running && !done, self->next_button, next, !running,
                               complete && self->cancellable == NULL, self->window_title, page, page_titles, G_N_ELEMENTS (page_titles));
}

static void
show_page (ThecalBolusDialog *self, const char *page)
{
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), page);
  update_buttons (self);
}

/* Runs on the main thread: a field or the kind changed. */
static void
on_field_changed (ThecalBolusDialog *self)
{
  gboolean clinician = selected_kind (self) == THECAL_VISIT_BOLUS_CLINICIAN;

  gtk_widget_set_visible (self->clinician_box, clinician);
  gtk_widget_set_visible (self->priming_box, !clinician);
  thecal_form_set_error (self->request_error, NULL);
  if (g_strcmp0 (current_page (self), "review") == 0)
    {
      g_autofree char *reason = g_strstrip (g_strdup (thecal_form_entry_text (self->reason_entry)));

      if (reason[0] != '\0' && g_utf8_strlen (reason, -1) < REASON_MIN_CHARS)
        {
          g_autofree char *message
              = g_strdup_printf (_ ("Reason: at least %d characters (what was agreed, with whom)."), REASON_MIN_CHARS);

          thecal_form_set_error (self->reason_error, message);
        }
      else
        thecal_form_set_error (self->reason_error, NULL);
    }
  update_buttons (self);
}

/* The review of the request as the workflow answers it; on a refusal the sentence is shown next
 * to the field it concerns (the dose of a clinician bolus, the rate of a priming one). */
static gboolean
review_request (ThecalBolusDialog *self)
{
  ThecalBolusRequest request;
  g_autoptr (GError) error = NULL;
  const char *drug_id = thecal_visit_get_active (self->visit)->rx.drug_id;
  g_autofree char *volume = NULL;
  g_autofree char *duration = NULL;
  g_autofree char *dose = NULL;
  g_autofree char *day = NULL;

  g_clear_pointer (&self->review, thecal_bolus_review_free);
  if (!read_request (self, &request))
    return FALSE;
  self->review = thecal_visit_review_bolus (self->visit, &request, &error);
  if (self->review == NULL)
    {
      if (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED))
        {
          g_autofree char *message
              = g_strdup_printf (_ ("%s: %s"), request.kind == THECAL_VISIT_BOLUS_CLINICIAN ? _ ("Dose") : _ ("Priming rate"),
                                 error->message);

          thecal_form_set_error (request.kind == THECAL_VISIT_BOLUS_CLINICIAN ? self->dose_error : self->priming_rate_error, message);
        }
      else
        thecal_form_set_error (self->request_error, error->message);
      return FALSE;
    }
  volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, self->review->volume_nl);
  duration = thecal_format_duration (self->review->duration_ms);
  dose = thecal_format_quantity (THECAL_QUANTITY_AMOUNT, self->review->dose_ng);
  day = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, self->review->day_worst_ng);
  gtk_label_set_text (GTK_LABEL (self->summary_label), self->review->summary != NULL ? self->review->summary : "");
  gtk_label_set_text (GTK_LABEL (self->volume_label), volume);
  gtk_label_set_text (GTK_LABEL (self->duration_label), duration);
  {
    g_autofree char *text = g_strdup_printf (_ ("%s of %s"), dose, thecal_format_drug (self->library, drug_id));

    gtk_label_set_text (GTK_LABEL (self->drug_dose_label), text);
  }
  {
    g_autofree char *text = self->review->over_soft_limit
                                ? g_strdup_printf (_ ("%s: above a soft daily limit of the drug library"), day)
                                : g_strdup_printf (_ ("%s: within the drug library's daily limits"), day);

    gtk_label_set_text (GTK_LABEL (self->day_label), text);
    if (self->review->over_soft_limit)
      gtk_widget_add_css_class (self->day_label, "warning");
    else
      gtk_widget_remove_css_class (self->day_label, "warning");
  }
  gtk_label_set_text (GTK_LABEL (self->warning_label), self->review->warning != NULL ? self->review->warning : "");
  gtk_widget_set_visible (self->warning_label, self->review->warning != NULL);
  gtk_widget_set_visible (self->reason_box, self->review->over_soft_limit);
  thecal_form_set_error (self->reason_error, NULL);
  return TRUE;
}

/* ---- the write and its outcome ------------------------------------------------------------------ */

static void
show_outcome (ThecalBolusDialog *self, const char *icon, const char *title, const char *description)
{
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->outcome_page), icon);
  adw_status_page_set_title (ADW_STATUS_PAGE (self->outcome_page), title);
  adw_status_page_set_description (ADW_STATUS_PAGE (self->outcome_page), description);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->outcome_page), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  gtk_widget_set_visible (self->read_again_button, self->outcome == THECAL_OUTCOME_UNCERTAIN);
  show_page (self, "outcome");
}

static void
show_uncertain (ThecalBolusDialog *self, const char *why)
{
  g_autofree char *text
      = g_strdup_printf (_ ("%s\nEvery change of this pump is blocked until the pump is read again. Bring the wand over the "
                            "pump and press Read the Pump Again."),
                         why);

  self->outcome = THECAL_OUTCOME_UNCERTAIN;
  show_outcome (self, "dialog-warning-symbolic", _ ("Outcome UNCERTAIN"), text);
}

/* Runs on the main thread: the bolus write returned. @user_data: the dialog (a reference). */
static void
on_bolus_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalBolusDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  gboolean ok = thecal_visit_bolus_finish (THECAL_VISIT (source), result, &outcome, &error);

  g_clear_object (&self->cancellable);
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  self->finished = TRUE;
  if (!ok)
    {
      self->outcome = THECAL_OUTCOME_FAILED;
      show_outcome (self, "dialog-error-symbolic", _ ("Bolus Not Given"), error->message);
    }
  else if (outcome == THECAL_OUTCOME_UNCERTAIN)
    show_uncertain (self, _ ("The pump's answer to the bolus was lost: it may or may not run."));
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("The pump took the bolus. %s"), self->review->summary);

      self->outcome = THECAL_OUTCOME_CONFIRMED;
      show_outcome (self, "emblem-ok-symbolic", _ ("Bolus Confirmed"), text);
    }
}

static void
give_bolus (ThecalBolusDialog *self)
{
  g_autofree char *reason = g_strstrip (g_strdup (thecal_form_entry_text (self->reason_entry)));

  show_page (self, "progress");
  gtk_spinner_start (GTK_SPINNER (self->spinner));
  gtk_label_set_text (GTK_LABEL (self->progress_label),
                      _ ("Writing to the pump: the bolus is recorded as pending, then sent, and its answer recorded…"));
  self->cancellable = g_cancellable_new ();
  thecal_visit_bolus_async (self->visit, self->review, self->review->over_soft_limit ? reason : NULL, self->cancellable, on_bolus_done,
                            g_object_ref (self));
}

/* Runs on the main thread: the settle of an UNCERTAIN bolus returned. @user_data: the dialog (a
 * reference). */
static void
on_settled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalBolusDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  gboolean ok = thecal_visit_settle_bolus_finish (THECAL_VISIT (source), result, &outcome, &error);

  g_clear_object (&self->cancellable);
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  if (!ok)
    show_uncertain (self, error->message);
  else if (outcome == THECAL_OUTCOME_CONFIRMED)
    {
      g_autofree char *text = g_strdup_printf (_ ("Settled by reading the pump: it took the bolus. %s"), self->review->summary);

      self->outcome = THECAL_OUTCOME_CONFIRMED;
      show_outcome (self, "emblem-ok-symbolic", _ ("Bolus Confirmed"), text);
    }
  else
    {
      self->outcome = THECAL_OUTCOME_FAILED;
      show_outcome (self, "action-unavailable-symbolic", _ ("Bolus Not Given"),
                    _ ("Settled by reading the pump: it did not take the bolus and runs its prescription. The pump is no longer "
                       "blocked; give the bolus again if it is still needed."));
    }
}

void
thecal_bolus_dialog_read_again (ThecalBolusDialog *self)
{
  g_return_if_fail (THECAL_IS_BOLUS_DIALOG (self));
  if (self->cancellable != NULL || self->outcome != THECAL_OUTCOME_UNCERTAIN)
    return;
  show_page (self, "progress");
  gtk_spinner_start (GTK_SPINNER (self->spinner));
  gtk_label_set_text (GTK_LABEL (self->progress_label), _ ("Reading the pump: its status, then its log, to settle the bolus…"));
  self->cancellable = g_cancellable_new ();
  thecal_visit_settle_bolus_async (self->visit, self->cancellable, on_settled, g_object_ref (self));
}

/* ---- navigation ----------------------------------------------------------------------------------- */

void
thecal_bolus_dialog_next (ThecalBolusDialog *self)
{
  const char *page;

  g_return_if_fail (THECAL_IS_BOLUS_DIALOG (self));
  if (!gtk_widget_get_sensitive (self->next_button) || !gtk_widget_get_visible (self->next_button))
    return;
  page = current_page (self);
  if (g_strcmp0 (page, "request") == 0)
    {
      if (review_request (self))
        show_page (self, "review");
      else
        update_buttons (self);
    }
  else if (g_strcmp0 (page, "review") == 0)
    give_bolus (self);
  else if (g_strcmp0 (page, "outcome") == 0)
    gtk_window_close (GTK_WINDOW (self));
}

void
thecal_bolus_dialog_back (ThecalBolusDialog *self)
{
  const char *page;

  g_return_if_fail (THECAL_IS_BOLUS_DIALOG (self));
  page = current_page (self);
  if (g_strcmp0 (page, "request") == 0)
    gtk_window_close (GTK_WINDOW (self));
  else if (g_strcmp0 (page, "review") == 0)
    show_page (self, "request");
}

/* Runs on the main thread: the buttons. */
static void
on_next_clicked (ThecalBolusDialog *self)
{
  thecal_bolus_dialog_next (self);
}

static void
on_back_clicked (ThecalBolusDialog *self)
{
  thecal_bolus_dialog_back (self);
}

/* ---- accessors -------------------------------------------------------------------------------------- */

const char *
thecal_bolus_dialog_get_page (ThecalBolusDialog *self)
{
  g_return_val_if_fail (THECAL_IS_BOLUS_DIALOG (self), NULL);
  return current_page (self);
}

gboolean
thecal_bolus_dialog_set_kind (ThecalBolusDialog *self, ThecalVisitBolusKind kind)
{
  g_return_val_if_fail (THECAL_IS_BOLUS_DIALOG (self), FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (offered_kinds); i++)
    if (offered_kinds[i] == kind)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_dropdown), i);
        return TRUE;
      }
  return FALSE;
}

static GtkWidget *
field_entry (ThecalBolusDialog *self, const char *field)
{
  if (g_strcmp0 (field, "dose") == 0)
    return self->dose_entry;
  if (g_strcmp0 (field, "duration") == 0)
    return self->duration_entry;
  if (g_strcmp0 (field, "priming_rate") == 0)
    return self->priming_rate_entry;
  if (g_strcmp0 (field, "reason") == 0)
    return self->reason_entry;
  return NULL;
}

void
thecal_bolus_dialog_set_field (ThecalBolusDialog *self, const char *field, const char *text)
{
  GtkWidget *entry;

  g_return_if_fail (THECAL_IS_BOLUS_DIALOG (self));
  entry = field_entry (self, field);
  g_return_if_fail (entry != NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

gboolean
thecal_bolus_dialog_can_go_next (ThecalBolusDialog *self)
{
  g_return_val_if_fail (THECAL_IS_BOLUS_DIALOG (self), FALSE);
  return gtk_widget_get_sensitive (self->next_button) && gtk_widget_get_visible (self->next_button);
}

char *
thecal_bolus_dialog_dup_text (ThecalBolusDialog *self, const char *key)
{
  const struct
  {
    const char *key;
    GtkWidget *label;
  } labels[] = {
    { "dose", self->dose_error },
    { "duration", self->duration_error },
    { "priming_rate", self->priming_rate_error },
    { "reason", self->reason_error },
    { "request", self->request_error },
    { "volume", self->volume_label },
    { "duration_value", self->duration_label },
    { "drug_dose", self->drug_dose_label },
    { "day", self->day_label },
    { "summary", self->summary_label },
    { "warning", self->warning_label },
  };

  g_return_val_if_fail (THECAL_IS_BOLUS_DIALOG (self), NULL);
  if (g_strcmp0 (key, "outcome") == 0)
    return g_strdup_printf ("%s\n%s", adw_status_page_get_title (ADW_STATUS_PAGE (self->outcome_page)),
                            adw_status_page_get_description (ADW_STATUS_PAGE (self->outcome_page)));
  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (labels[i].key, key) == 0)
      return g_strdup (gtk_label_get_text (GTK_LABEL (labels[i].label)));
  return NULL;
}

gboolean
thecal_bolus_dialog_get_finished (ThecalBolusDialog *self, ThecalProgrammingOutcome *outcome)
{
  g_return_val_if_fail (THECAL_IS_BOLUS_DIALOG (self), FALSE);
  if (outcome != NULL)
    *outcome = self->outcome;
  return self->finished;
}

gboolean
thecal_bolus_dialog_get_busy (ThecalBolusDialog *self)
{
  g_return_val_if_fail (THECAL_IS_BOLUS_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}

/* ---- construction ----------------------------------------------------------------------------------- */

static void
build_pages (ThecalBolusDialog *self, ThecalVisitBolusKind kind)
{
  const ThecalMsgPrescription *active = thecal_visit_get_active (self->visit);
  const ThecalPumpModel *model = thecal_visit_get_model (self->visit);
  g_autoptr (GtkStringList) kinds = gtk_string_list_new (NULL);
  g_autofree char *conc = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, active->rx.concentration_ng_per_ml);
  g_autofree char *ceiling = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, model->bolus_rate_max_nl_per_day);
  g_autofree char *runs = NULL;
  g_autofree char *rate_title = NULL;
  GtkWidget *label;

  /* the request */
  runs = g_strdup_printf (_ ("The pump runs %s %s. The basal delivery pauses while a bolus runs."),
                          thecal_format_drug (self->library, active->rx.drug_id), conc);
  thecal_form_add_text (self->request_box, runs, NULL);
  gtk_string_list_append (kinds, _ ("Clinician bolus"));
  gtk_string_list_append (kinds, _ ("Priming bolus (after an implant or a catheter revision)"));
  label = thecal_form_add_text (self->request_box, _ ("Kind of bolus"), "heading");
  self->kind_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (kinds)), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->kind_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Kind of bolus"), -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->kind_dropdown), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
  gtk_box_append (GTK_BOX (self->request_box), self->kind_dropdown);
  self->clinician_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (self->request_box), self->clinician_box);
  self->dose_entry = thecal_form_add_entry (self->clinician_box, _ ("Dose"), _ ("e.g. 0.5 mg"), &self->dose_error);
  self->duration_entry = thecal_form_add_entry (self->clinician_box, _ ("Duration"), _ ("e.g. 30 min"), &self->duration_error);
  self->priming_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (self->request_box), self->priming_box);
  thecal_form_add_text (self->priming_box,
                        _ ("The priming bolus fills the catheter and the pump's dead space with drug, from the catheter length the record "
                           "holds for this pump."),
                        NULL);
  rate_title = g_strdup_printf (_ ("Priming rate (empty: the pump's bolus maximum, %s)"), ceiling);
  self->priming_rate_entry = thecal_form_add_entry (self->priming_box, rate_title, _ ("e.g. 12 mL/day"), &self->priming_rate_error);
  self->request_error = thecal_form_add_text (self->request_box, "", "error");
  gtk_widget_set_visible (self->request_error, FALSE);

  /* the review */
  self->summary_label = thecal_form_add_text (self->review_box, "", "heading");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->summary_label), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Summary"), -1);
  self->volume_label = add_value (self->review_box, _ ("Volume"));
  self->duration_label = add_value (self->review_box, _ ("Duration"));
  self->drug_dose_label = add_value (self->review_box, _ ("Drug reaching the patient"));
  self->day_label = add_value (self->review_box, _ ("Day's worst case with the bolus"));
  self->warning_label = thecal_form_add_text (self->review_box, "", "warning");
  gtk_widget_set_visible (self->warning_label, FALSE);
  self->reason_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (self->review_box), self->reason_box);
  self->reason_entry = thecal_form_add_entry (self->reason_box, _ ("Reason to pass the soft daily limit (at least 10 characters)"), NULL,
                                              &self->reason_error);
  gtk_widget_set_visible (self->reason_box, FALSE);
  thecal_form_add_text (self->review_box, _ ("Only a physician may give a bolus: the workflow refuses it for anyone else and says why."),
                        "dim-label");

  /* progress and outcome */
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_size_request (self->spinner, 32, 32);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Working"), -1);
  gtk_box_append (GTK_BOX (self->progress_box), self->spinner);
  self->progress_label = thecal_form_add_text (self->progress_box, "", NULL);
  gtk_label_set_xalign (GTK_LABEL (self->progress_label), 0.5);
  gtk_label_set_justify (GTK_LABEL (self->progress_label), GTK_JUSTIFY_CENTER);
  self->outcome_page = adw_status_page_new ();
  gtk_widget_set_vexpand (self->outcome_page, TRUE);
  gtk_box_append (GTK_BOX (self->outcome_box), self->outcome_page);
  self->read_again_button = gtk_button_new_with_label (_ ("Read the Pump Again"));
  gtk_widget_set_halign (self->read_again_button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (self->read_again_button, "pill");
  gtk_widget_add_css_class (self->read_again_button, "suggested-action");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->read_again_button), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Read the Pump Again"),
                                  -1);
  gtk_widget_set_visible (self->read_again_button, FALSE);
  g_signal_connect_swapped (self->read_again_button, "clicked", G_CALLBACK (thecal_bolus_dialog_read_again), self);
  gtk_box_append (GTK_BOX (self->outcome_box), self->read_again_button);

  {
    GtkWidget *entries[] = { self->dose_entry, self->duration_entry, self->priming_rate_entry, self->reason_entry };

    for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
      {
        g_signal_connect_swapped (entries[i], "changed", G_CALLBACK (on_field_changed), self);
        g_signal_connect_swapped (entries[i], "activate", G_CALLBACK (thecal_bolus_dialog_next), self);
      }
    g_signal_connect_swapped (self->kind_dropdown, "notify::selected", G_CALLBACK (on_field_changed), self);
  }
  if (!thecal_bolus_dialog_set_kind (self, kind))
    thecal_bolus_dialog_set_kind (self, THECAL_VISIT_BOLUS_CLINICIAN);
  on_field_changed (self);
  show_page (self, "request");
}

/* Runs on the main thread: the window is asked to close (Escape, the window manager). Not while
 * the pump is written or read, and not while the bolus is UNCERTAIN: read the pump first. */
static gboolean
thecal_bolus_dialog_close_request (GtkWindow *window)
{
  ThecalBolusDialog *self = THECAL_BOLUS_DIALOG (window);

  if (self->cancellable != NULL || self->outcome == THECAL_OUTCOME_UNCERTAIN)
    return TRUE;
  return GTK_WINDOW_CLASS (thecal_bolus_dialog_parent_class)->close_request != NULL
             ? GTK_WINDOW_CLASS (thecal_bolus_dialog_parent_class)->close_request (window)
             : FALSE;
}

static void
thecal_bolus_dialog_dispose (GObject *object)
{
  ThecalBolusDialog *self = THECAL_BOLUS_DIALOG (object);

  /* a write in flight is not cancellable at the pump; the visit finishes it and records it */
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->review, thecal_bolus_review_free);
  g_clear_object (&self->visit);
  g_clear_pointer (&self->library, g_free);
  G_OBJECT_CLASS (thecal_bolus_dialog_parent_class)->dispose (object);
}

static void
thecal_bolus_dialog_class_init (ThecalBolusDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_bolus_dialog_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = thecal_bolus_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-bolus-dialog.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, ThecalBolusDialog, name)
  BIND (window_title);
  BIND (back_button);
  BIND (next_button);
  BIND (stack);
  BIND (request_box);
  BIND (review_box);
  BIND (progress_box);
  BIND (outcome_box);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_next_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
}

static void
thecal_bolus_dialog_init (ThecalBolusDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->outcome = THECAL_OUTCOME_PENDING;
}

ThecalBolusDialog *
thecal_bolus_dialog_new (ThecalVisit *visit, const ThecalDrugLibrary *library, ThecalVisitBolusKind kind)
{
  ThecalBolusDialog *self;

  g_return_val_if_fail (THECAL_IS_VISIT (visit), NULL);
  g_return_val_if_fail (library != NULL, NULL);
  self = g_object_new (THECAL_TYPE_BOLUS_DIALOG, NULL);
  self->visit = g_object_ref (visit);
  self->library = g_memdup2 (library, sizeof *library);
  build_pages (self, kind);
  return self;
}
