/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-implant-dialog.c: see thecal-implant-dialog.h.
 */
#include "config.h"

#include "thecal-implant-dialog.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "thecal-form.h"
#include "thecal-format.h"

struct _ThecalImplantDialog
{
  AdwWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *back_button;
  GtkWidget *next_button;
  GtkWidget *stack;
  GtkWidget *form_box;
  GtkWidget *progress_box;
  GtkWidget *outcome_box;

  GtkWidget *implant_date_entry;
  GtkWidget *implant_date_error;
  GtkWidget *catheter_entry;
  GtkWidget *catheter_error;
  GtkWidget *key_entry; /* a real pump's pairing key (NULL: the caller gave the key) */
  GtkWidget *key_error;
  GtkWidget *key_file_button;
  GtkWidget *drug_dropdown;
  GtkWidget *concentration_entry;
  GtkWidget *concentration_error;
  GtkWidget *dose_entry;
  GtkWidget *dose_error;
  GtkWidget *override_entry;
  GtkWidget *override_error;
  GtkWidget *priming_switch;
  GtkWidget *priming_rate_entry;
  GtkWidget *priming_rate_error;
  GtkWidget *form_error;
  GtkWidget *spinner;
  GtkWidget *outcome_page;

  ThecalVisit *visit;
  ThecalDrugLibrary *library;
  ThecalPumpModel model;
  char *serial;
  char *mrn;
  char *patient_name;
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  gboolean key_entry_wanted;          /* no key given: the form asks for it */
  GtkNativeDialog *key_chooser;       /* "Load from File…" while open */
  GCancellable *key_file_cancellable; /* a key file being read */
  GCancellable *cancellable;          /* the registration in flight */
  gboolean finished;
  gboolean ok;
  ThecalImplantReport report;
};

G_DEFINE_FINAL_TYPE (ThecalImplantDialog, thecal_implant_dialog, ADW_TYPE_WINDOW)

static const char *
current_page (ThecalImplantDialog *self)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (self->stack));
}

static void
update_buttons (ThecalImplantDialog *self)
{
  const char *page = current_page (self);
  gboolean form = g_strcmp0 (page, "form") == 0;
  gboolean done = g_strcmp0 (page, "outcome") == 0;
  const char *next = done ? _ ("Close") : _ ("Register");

  gtk_button_set_label (GTK_BUTTON (self->next_button), next);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->next_button), GTK_ACCESSIBLE_PROPERTY_LABEL, next, -1);
  gtk_widget_set_visible (self->next_button, form || done);
  gtk_widget_set_visible (self->back_button, form);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->window_title), form   ? _ ("The Implant and the First Prescription")
                                                                        : done ? _ ("Outcome")
                                                                               : _ ("Registering"));
}

static void
show_page (ThecalImplantDialog *self, const char *page)
{
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), page);
  update_buttons (self);
}

/* ---- the request, from the fields ------------------------------------------------------------- */

/* The implant date: a real calendar date written YYYY-MM-DD (the form the record stores). */
static gboolean
check_date (ThecalImplantDialog *self)
{
  const char *text = thecal_form_entry_text (self->implant_date_entry);
  gboolean ok = strlen (text) == 10 && text[4] == '-' && text[7] == '-';

  for (int i = 0; ok && i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      ok = FALSE;
  if (ok)
    {
      int year = atoi (text), month = atoi (text + 5), day = atoi (text + 8);

      ok = year >= 1 && month >= 1 && month <= 12 && day >= 1 && g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year);
    }
  thecal_form_set_error (self->implant_date_error, ok ? NULL : _ ("Implant date: a date written YYYY-MM-DD, e.g. 2026-01-05."));
  return ok;
}

/* A real pump's pairing key, typed or pasted (or loaded from its file), parsed exactly
 * (thecal_pairing_key_parse: 64 hexadecimal digits, separators ignored) into self->key; FALSE with
 * the error next to the field. Nothing to check when the caller gave the key. */
static gboolean
check_key (ThecalImplantDialog *self)
{
  g_autoptr (GError) error = NULL;

  if (self->key_entry == NULL)
    return TRUE;
  if (!thecal_pairing_key_parse (thecal_form_entry_text (self->key_entry), self->key, &error))
    {
      thecal_form_set_error (self->key_error, error->message);
      return FALSE;
    }
  thecal_form_set_error (self->key_error, NULL);
  return TRUE;
}

static const char *
selected_drug_id (ThecalImplantDialog *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->drug_dropdown));

  return i < (guint) self->library->n_drugs ? self->library->drugs[i].id : NULL;
}

/* The initial prescription (continuous) and the rest of the request from the fields; FALSE with
 * the errors shown next to the fields. */
static gboolean
read_request (ThecalImplantDialog *self, ThecalPrescription *rx, ThecalImplantRequest *request)
{
  gboolean ok = check_date (self);
  ThecalDoseError dose_error = { 0 };
  ThecalQuantityKind kind = THECAL_QUANTITY_DOSE_RATE;
  int64_t daily = 0;
  gint64 concentration = 0;

  memset (request, 0, sizeof *request);
  thecal_prescription_init (rx);
  ok = thecal_form_parse (self->catheter_entry, self->catheter_error, THECAL_QUANTITY_LENGTH, _ ("Catheter length"),
                          &request->catheter_length_mm)
       && ok;
  ok = thecal_form_parse (self->concentration_entry, self->concentration_error, THECAL_QUANTITY_CONCENTRATION, _ ("Concentration"),
                          &concentration)
       && ok;
  if (!thecal_quantity_parse_rate (thecal_form_entry_text (self->dose_entry), _ ("Daily dose"), &kind, &daily, &dose_error))
    {
      g_autofree char *message = g_strdup_printf (_ ("%s: %s"), _ ("Daily dose"), dose_error.message);

      thecal_form_set_error (self->dose_error, message);
      ok = FALSE;
    }
  else
    thecal_form_set_error (self->dose_error, NULL);
  if (gtk_switch_get_active (GTK_SWITCH (self->priming_switch)) && thecal_form_entry_text (self->priming_rate_entry)[0] != '\0')
    ok = thecal_form_parse (self->priming_rate_entry, self->priming_rate_error, THECAL_QUANTITY_VOLUME_RATE, _ ("Priming rate"),
                            &request->priming_rate_nl_per_day)
         && ok;
  else
    thecal_form_set_error (self->priming_rate_error, NULL);
  ok = check_key (self) && ok;
  if (!ok)
    return FALSE;
  g_strlcpy (rx->drug_id, selected_drug_id (self), sizeof rx->drug_id);
  rx->concentration_ng_per_ml = concentration;
  rx->mode = THECAL_MODE_CONTINUOUS;
  if (kind == THECAL_QUANTITY_DOSE_RATE)
    {
      rx->continuous.basis = THECAL_BASIS_DOSE;
      rx->continuous.dose_ng_per_day = daily;
    }
  else
    {
      rx->continuous.basis = THECAL_BASIS_RATE;
      rx->continuous.rate_nl_per_day = daily;
    }
  request->patient_mrn = self->mrn;
  request->serial = self->serial;
  request->model = &self->model;
  request->implant_date = thecal_form_entry_text (self->implant_date_entry);
  request->pairing_key = self->key;
  request->prescription = rx;
  request->override_reason = thecal_form_entry_text (self->override_entry)[0] != '\0' ? thecal_form_entry_text (self->override_entry) : NULL;
  request->priming = gtk_switch_get_active (GTK_SWITCH (self->priming_switch));
  return TRUE;
}

/* ---- the registration and its outcome ---------------------------------------------------------- */

static const char *
outcome_text (ThecalProgrammingOutcome outcome)
{
  switch (outcome)
    {
    case THECAL_OUTCOME_CONFIRMED:
      return _ ("confirmed");
    case THECAL_OUTCOME_FAILED:
      return _ ("FAILED (the pump did not take it)");
    case THECAL_OUTCOME_UNCERTAIN:
      return _ ("UNCERTAIN: read the pump again before any other change");
    case THECAL_OUTCOME_PENDING:
    default:
      return _ ("pending");
    }
}

static void
show_outcome (ThecalImplantDialog *self, const char *icon, const char *title, const char *description)
{
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->outcome_page), icon);
  adw_status_page_set_title (ADW_STATUS_PAGE (self->outcome_page), title);
  adw_status_page_set_description (ADW_STATUS_PAGE (self->outcome_page), description);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->outcome_page), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  show_page (self, "outcome");
}

/* Runs on the main thread: the registration returned. @user_data: the dialog (a reference). */
static void
on_registered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalImplantDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = thecal_visit_register_implant_finish (THECAL_VISIT (source), result, &self->report, &error);

  g_clear_object (&self->cancellable);
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  if (self->key_entry != NULL)
    memset (self->key, 0, sizeof self->key); /* parsed again from the field at each Register */
  if (!ok && g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_KEY) && self->key_entry != NULL)
    {
      /* the pump did not accept the key: nothing was written; the sentence next to the key */
      thecal_form_set_error (self->key_error, error->message);
      show_page (self, "form");
      gtk_widget_grab_focus (self->key_entry);
      return;
    }
  if (!ok && !g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED)
      && !g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED))
    {
      /* a refusal (permission, a known serial, the dose core): nothing was written; the form
       * stays, the workflow's sentence next to what it concerns */
      thecal_form_set_error (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON) ? self->override_error : self->form_error,
                             error->message);
      show_page (self, "form");
      return;
    }
  self->finished = TRUE;
  self->ok = ok;
  if (!ok)
    {
      /* a step after the registration failed: what was done stays recorded, the message says
       * what is left */
      show_outcome (self, "dialog-error-symbolic", _ ("Registration Incomplete"), error->message);
      return;
    }
  {
    g_autofree char *text = NULL;

    if (self->report.priming_given)
      text = g_strdup_printf (_ ("Pump %s is registered to %s and paired.\nInitial prescription: %s.\nPriming bolus: %s."), self->serial,
                              self->patient_name, outcome_text (self->report.program_outcome),
                              outcome_text (self->report.priming_outcome));
    else
      text = g_strdup_printf (_ ("Pump %s is registered to %s and paired.\nInitial prescription: %s.\nPriming bolus: not given%s."),
                              self->serial, self->patient_name, outcome_text (self->report.program_outcome),
                              gtk_switch_get_active (GTK_SWITCH (self->priming_switch))
                                  ? _ (" (the prescription's write did not end confirmed: read the pump, then give it with Bolus…)")
                                  : _ (" (give it later with Bolus…, Priming bolus)"));
    show_outcome (self,
                  self->report.program_outcome == THECAL_OUTCOME_CONFIRMED ? "emblem-ok-symbolic" : "dialog-warning-symbolic",
                  self->report.program_outcome == THECAL_OUTCOME_UNCERTAIN ? _ ("Registered: Prescription UNCERTAIN")
                                                                           : _ ("Implant Registered"),
                  text);
  }
}

void
thecal_implant_dialog_next (ThecalImplantDialog *self)
{
  ThecalPrescription rx;
  ThecalImplantRequest request;
  const char *page;

  g_return_if_fail (THECAL_IS_IMPLANT_DIALOG (self));
  page = current_page (self);
  if (g_strcmp0 (page, "outcome") == 0)
    {
      gtk_window_close (GTK_WINDOW (self));
      return;
    }
  if (g_strcmp0 (page, "form") != 0 || self->cancellable != NULL)
    return;
  thecal_form_set_error (self->form_error, NULL);
  thecal_form_set_error (self->override_error, NULL);
  if (!read_request (self, &rx, &request))
    {
      if (self->key_entry != NULL)
        memset (self->key, 0, sizeof self->key); /* a key read from the field goes when it is not used */
      return;
    }
  show_page (self, "progress");
  gtk_spinner_start (GTK_SPINNER (self->spinner));
  self->cancellable = g_cancellable_new ();
  /* the request's strings and the prescription are copied by the workflow before it returns */
  thecal_visit_register_implant_async (self->visit, &request, self->cancellable, on_registered, g_object_ref (self));
}

/* Runs on the main thread: the header bar's buttons. */
static void
on_next_clicked (ThecalImplantDialog *self)
{
  thecal_implant_dialog_next (self);
}

static void
on_back_clicked (ThecalImplantDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

/* Runs on the main thread: the priming switch changed. */
static void
on_priming_changed (ThecalImplantDialog *self)
{
  gtk_widget_set_sensitive (self->priming_rate_entry, gtk_switch_get_active (GTK_SWITCH (self->priming_switch)));
}

/* ---- the pairing key from its file ------------------------------------------------------------------ */

/* A key file holds 64 hexadecimal digits and perhaps separators: anything larger is not one. */
#define KEY_FILE_MAX_BYTES 4096

/* Runs on the main thread: the key file was read (or not). @user_data: the dialog (a reference). */
static void
on_key_file_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalImplantDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_file_get_parse_name (G_FILE (source));
  char *contents = NULL;
  gsize length = 0;
  guint8 key[THECAL_PAIRING_KEY_BYTES];

  gboolean loaded = g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error);

  g_clear_object (&self->key_file_cancellable);
  if (self->key_entry == NULL || !loaded)
    {
      /* the dialog went away (its key with it), or the file could not be read */
      if (!loaded && self->key_entry != NULL)
        {
          g_autofree char *message = g_strdup_printf (_ ("Pairing key: the file %s cannot be read: %s"), name, error->message);

          thecal_form_set_error (self->key_error, message);
        }
      if (contents != NULL)
        memset (contents, 0, length);
      g_free (contents);
      return;
    }
  if (length > KEY_FILE_MAX_BYTES || memchr (contents, '\0', length) != NULL)
    {
      g_autofree char *message = g_strdup_printf (_ ("Pairing key: the file %s is not a key file (64 hexadecimal digits)."), name);

      memset (contents, 0, length);
      g_free (contents);
      thecal_form_set_error (self->key_error, message);
      return;
    }
  /* the file's text as typed: the same parse, the same messages, here naming the file */
  if (!thecal_pairing_key_parse (contents, key, &error))
    {
      g_autofree char *message = g_strdup_printf (_ ("%s (file %s)"), error->message, name);

      thecal_form_set_error (self->key_error, message);
    }
  else
    {
      char hex[2 * THECAL_PAIRING_KEY_BYTES + 1];

      for (gsize i = 0; i < THECAL_PAIRING_KEY_BYTES; i++)
        g_snprintf (hex + 2 * i, 3, "%02x", key[i]);
      gtk_editable_set_text (GTK_EDITABLE (self->key_entry), hex);
      memset (hex, 0, sizeof hex);
      thecal_form_set_error (self->key_error, NULL);
    }
  memset (key, 0, sizeof key);
  memset (contents, 0, length);
  g_free (contents);
}

void
thecal_implant_dialog_load_key_file (ThecalImplantDialog *self, GFile *file)
{
  g_return_if_fail (THECAL_IS_IMPLANT_DIALOG (self));
  g_return_if_fail (G_IS_FILE (file));
  if (self->key_entry == NULL || self->key_file_cancellable != NULL)
    return;
  self->key_file_cancellable = g_cancellable_new ();
  g_file_load_contents_async (file, self->key_file_cancellable, on_key_file_loaded, g_object_ref (self));
}

gboolean
thecal_implant_dialog_get_loading_key (ThecalImplantDialog *self)
{
  g_return_val_if_fail (THECAL_IS_IMPLANT_DIALOG (self), FALSE);
  return self->key_file_cancellable != NULL;
}

/* Runs on the main thread: the file chooser answered. */
static void
on_key_chooser_response (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  ThecalImplantDialog *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      if (file != NULL)
        thecal_implant_dialog_load_key_file (self, file);
    }
  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->key_chooser);
}

/* Runs on the main thread: "Load from File…". */
static void
on_key_file_clicked (ThecalImplantDialog *self)
{
  if (self->key_chooser != NULL || self->key_file_cancellable != NULL)
    return;
  self->key_chooser = GTK_NATIVE_DIALOG (gtk_file_chooser_native_new (_ ("Load the Pairing Key"), GTK_WINDOW (self),
                                                                      GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Load"), _ ("Cancel")));
  gtk_native_dialog_set_modal (self->key_chooser, TRUE);
  g_signal_connect (self->key_chooser, "response", G_CALLBACK (on_key_chooser_response), self);
  gtk_native_dialog_show (self->key_chooser);
}

gboolean
thecal_implant_dialog_has_key_field (ThecalImplantDialog *self)
{
  g_return_val_if_fail (THECAL_IS_IMPLANT_DIALOG (self), FALSE);
  return self->key_entry != NULL;
}

/* ---- accessors ------------------------------------------------------------------------------------ */

const char *
thecal_implant_dialog_get_page (ThecalImplantDialog *self)
{
  g_return_val_if_fail (THECAL_IS_IMPLANT_DIALOG (self), NULL);
  return current_page (self);
}

static GtkWidget *
field_entry (ThecalImplantDialog *self, const char *field, gboolean error)
{
  const struct
  {
    const char *name;
    GtkWidget *entry;
    GtkWidget *error;
  } fields[] = {
    { "implant_date", self->implant_date_entry, self->implant_date_error },
    { "catheter", self->catheter_entry, self->catheter_error },
    { "pairing_key", self->key_entry, self->key_error },
    { "concentration", self->concentration_entry, self->concentration_error },
    { "dose", self->dose_entry, self->dose_error },
    { "override", self->override_entry, self->override_error },
    { "priming_rate", self->priming_rate_entry, self->priming_rate_error },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (g_strcmp0 (fields[i].name, field) == 0)
      return error ? fields[i].error : fields[i].entry;
  return NULL;
}

void
thecal_implant_dialog_set_field (ThecalImplantDialog *self, const char *field, const char *text)
{
  GtkWidget *entry;

  g_return_if_fail (THECAL_IS_IMPLANT_DIALOG (self));
  entry = field_entry (self, field, FALSE);
  g_return_if_fail (entry != NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

gboolean
thecal_implant_dialog_set_drug (ThecalImplantDialog *self, const char *drug_id)
{
  g_return_val_if_fail (THECAL_IS_IMPLANT_DIALOG (self), FALSE);
  for (int i = 0; i < self->library->n_drugs; i++)
    if (g_strcmp0 (self->library->drugs[i].id, drug_id) == 0)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->drug_dropdown), (guint) i);
        return TRUE;
      }
  return FALSE;
}

void
thecal_implant_dialog_set_priming (ThecalImplantDialog *self, gboolean priming)
{
  g_return_if_fail (THECAL_IS_IMPLANT_DIALOG (self));
  gtk_switch_set_active (GTK_SWITCH (self->priming_switch), priming);
}

char *
thecal_implant_dialog_dup_text (ThecalImplantDialog *self, const char *key)
{
  GtkWidget *label;

  g_return_val_if_fail (THECAL_IS_IMPLANT_DIALOG (self), NULL);
  if (g_strcmp0 (key, "outcome") == 0)
    return g_strdup_printf ("%s\n%s", adw_status_page_get_title (ADW_STATUS_PAGE (self->outcome_page)),
                            adw_status_page_get_description (ADW_STATUS_PAGE (self->outcome_page)));
  label = g_strcmp0 (key, "form") == 0 ? self->form_error : field_entry (self, key, TRUE);
  return label != NULL ? g_strdup (gtk_label_get_text (GTK_LABEL (label))) : NULL;
}

gboolean
thecal_implant_dialog_get_finished (ThecalImplantDialog *self, gboolean *ok, ThecalImplantReport *report)
{
  g_return_val_if_fail (THECAL_IS_IMPLANT_DIALOG (self), FALSE);
  if (ok != NULL)
    *ok = self->ok;
  if (report != NULL)
    *report = self->report;
  return self->finished;
}

gboolean
thecal_implant_dialog_get_busy (ThecalImplantDialog *self)
{
  g_return_val_if_fail (THECAL_IS_IMPLANT_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}

/* ---- construction --------------------------------------------------------------------------------- */

/* A real pump's pairing key: a password entry (its peek icon shown) with "Load from File…" beside
 * it, its error label under them. */
static void
build_key_field (ThecalImplantDialog *self)
{
  GtkWidget *title;
  GtkWidget *row;

  self->key_entry = thecal_form_add_entry_full (self->form_box, _ ("Pairing key (the 64 hexadecimal digits delivered with the pump)"),
                                                NULL, TRUE, "error", &self->key_error);
  title = gtk_widget_get_prev_sibling (self->key_entry);
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  g_object_ref (self->key_entry);
  gtk_box_remove (GTK_BOX (self->form_box), self->key_entry);
  gtk_widget_set_hexpand (self->key_entry, TRUE);
  gtk_box_append (GTK_BOX (row), self->key_entry);
  g_object_unref (self->key_entry);
  self->key_file_button = gtk_button_new_with_label (_ ("Load from File…"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->key_file_button), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Load the pairing key from a file"),
                                  -1);
  g_signal_connect_swapped (self->key_file_button, "clicked", G_CALLBACK (on_key_file_clicked), self);
  gtk_box_append (GTK_BOX (row), self->key_file_button);
  gtk_box_insert_child_after (GTK_BOX (self->form_box), row, title);
}

static void
build_form (ThecalImplantDialog *self)
{
  g_autoptr (GtkStringList) drugs = gtk_string_list_new (NULL);
  g_autofree char *intro = NULL;
  g_autofree char *ceiling = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, self->model.bolus_rate_max_nl_per_day);
  g_autofree char *rate_title = g_strdup_printf (_ ("Priming rate (empty: the pump's bolus maximum, %s)"), ceiling);
  GtkWidget *label;
  GtkWidget *row;

  intro = g_strdup_printf (_ ("Pump %s (%s) is not in the record. Register it as the new implant of %s (MRN %s): the record "
                              "keeps the pump, its catheter and its pairing key, then the pump is interrogated, the first "
                              "prescription written and, when chosen, the priming bolus given. Only a physician may do it."),
                           self->serial, self->model.id, self->patient_name, self->mrn);
  if (self->key_entry_wanted)
    {
      g_autofree char *with_key = g_strdup_printf (_ ("%s The pairing key delivered with the pump is checked with the pump first: a "
                                                      "key it does not accept is refused and nothing is recorded."),
                                                   intro);

      g_free (intro);
      intro = g_steal_pointer (&with_key);
    }
  thecal_form_add_text (self->form_box, intro, NULL);
  self->implant_date_entry = thecal_form_add_entry (self->form_box, _ ("Implant date (YYYY-MM-DD)"), _ ("YYYY-MM-DD"), &self->implant_date_error);
  self->catheter_entry = thecal_form_add_entry (self->form_box, _ ("Implanted catheter length"), _ ("e.g. 45 cm"), &self->catheter_error);
  if (self->key_entry_wanted)
    build_key_field (self);

  thecal_form_add_text (self->form_box, _ ("First prescription (continuous)"), "title-4");
  for (int i = 0; i < self->library->n_drugs; i++)
    gtk_string_list_append (drugs, self->library->drugs[i].display_name);
  label = thecal_form_add_text (self->form_box, _ ("Drug"), "heading");
  self->drug_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (drugs)), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->drug_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Drug"), -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->drug_dropdown), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
  gtk_box_append (GTK_BOX (self->form_box), self->drug_dropdown);
  self->concentration_entry = thecal_form_add_entry (self->form_box, _ ("Concentration"), _ ("e.g. 25 mg/mL"), &self->concentration_error);
  self->dose_entry = thecal_form_add_entry (self->form_box, _ ("Daily dose or rate"), _ ("e.g. 5 mg/day or 0.2 mL/day"), &self->dose_error);
  self->override_entry = thecal_form_add_entry (self->form_box, _ ("Reason to override a soft limit (only when the prescription meets one)"), NULL,
                                                &self->override_error);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  label = gtk_label_new (_ ("Give the priming bolus after the prescription"));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "heading");
  self->priming_switch = gtk_switch_new ();
  gtk_switch_set_active (GTK_SWITCH (self->priming_switch), TRUE);
  gtk_widget_set_valign (self->priming_switch, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->priming_switch), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Give the priming bolus after the prescription"), -1);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), self->priming_switch);
  gtk_box_append (GTK_BOX (self->form_box), row);
  thecal_form_add_text (self->form_box,
                        _ ("The catheter and the pump's dead space hold no drug yet: the priming bolus fills them, from the catheter length "
                           "above."),
                        "dim-label");
  self->priming_rate_entry = thecal_form_add_entry (self->form_box, rate_title, _ ("e.g. 12 mL/day"), &self->priming_rate_error);
  self->form_error = thecal_form_add_text (self->form_box, "", "error");
  gtk_widget_set_visible (self->form_error, FALSE);
  g_signal_connect_swapped (self->priming_switch, "notify::active", G_CALLBACK (on_priming_changed), self);

  self->spinner = gtk_spinner_new ();
  gtk_widget_set_size_request (self->spinner, 32, 32);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Registering"), -1);
  gtk_box_append (GTK_BOX (self->progress_box), self->spinner);
  label = thecal_form_add_text (self->progress_box,
                                _ ("Registering the implant, interrogating the pump, writing the first prescription and priming…"), NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0.5);
  self->outcome_page = adw_status_page_new ();
  gtk_widget_set_vexpand (self->outcome_page, TRUE);
  gtk_box_append (GTK_BOX (self->outcome_box), self->outcome_page);
  show_page (self, "form");
}

/* Runs on the main thread: not closed while the registration runs. */
static gboolean
thecal_implant_dialog_close_request (GtkWindow *window)
{
  ThecalImplantDialog *self = THECAL_IMPLANT_DIALOG (window);

  if (self->cancellable != NULL)
    return TRUE;
  return GTK_WINDOW_CLASS (thecal_implant_dialog_parent_class)->close_request != NULL
             ? GTK_WINDOW_CLASS (thecal_implant_dialog_parent_class)->close_request (window)
             : FALSE;
}

static void
thecal_implant_dialog_dispose (GObject *object)
{
  ThecalImplantDialog *self = THECAL_IMPLANT_DIALOG (object);

  if (self->key_chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->key_chooser, self);
      gtk_native_dialog_destroy (self->key_chooser);
      g_clear_object (&self->key_chooser);
    }
  if (self->key_file_cancellable != NULL)
    g_cancellable_cancel (self->key_file_cancellable);
  g_clear_object (&self->key_file_cancellable);
  /* the key's text goes with the dialog (the password entry's own buffer is wiped by GTK) */
  if (self->key_entry != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->key_entry), "");
  self->key_entry = NULL;
  g_clear_object (&self->cancellable);
  g_clear_object (&self->visit);
  g_clear_pointer (&self->library, g_free);
  g_clear_pointer (&self->serial, g_free);
  g_clear_pointer (&self->mrn, g_free);
  g_clear_pointer (&self->patient_name, g_free);
  memset (self->key, 0, sizeof self->key);
  G_OBJECT_CLASS (thecal_implant_dialog_parent_class)->dispose (object);
}

static void
thecal_implant_dialog_class_init (ThecalImplantDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_implant_dialog_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = thecal_implant_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-implant-dialog.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, ThecalImplantDialog, name)
  BIND (window_title);
  BIND (back_button);
  BIND (next_button);
  BIND (stack);
  BIND (form_box);
  BIND (progress_box);
  BIND (outcome_box);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_next_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
}

static void
thecal_implant_dialog_init (ThecalImplantDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

ThecalImplantDialog *
thecal_implant_dialog_new (ThecalVisit *visit,
                           const ThecalDrugLibrary *library,
                           const ThecalPumpModel *model,
                           const char *serial,
                           const char *mrn,
                           const char *patient_name,
                           const guint8 *pairing_key)
{
  ThecalImplantDialog *self;

  g_return_val_if_fail (THECAL_IS_VISIT (visit), NULL);
  g_return_val_if_fail (library != NULL && model != NULL && serial != NULL && mrn != NULL, NULL);
  self = g_object_new (THECAL_TYPE_IMPLANT_DIALOG, NULL);
  self->visit = g_object_ref (visit);
  self->library = g_memdup2 (library, sizeof *library);
  self->model = *model;
  self->serial = g_strdup (serial);
  self->mrn = g_strdup (mrn);
  self->patient_name = g_strdup (patient_name != NULL ? patient_name : mrn);
  self->key_entry_wanted = pairing_key == NULL;
  if (pairing_key != NULL)
    memcpy (self->key, pairing_key, sizeof self->key);
  build_form (self);
  return self;
}
