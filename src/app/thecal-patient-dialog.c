/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patient-dialog.c: see thecal-patient-dialog.h.
 */
#include "config.h"

#include "thecal-patient-dialog.h"

#include <glib/gi18n.h>

#include "thecal-record-error.h"

#define N_FIELDS 5
static const char *const field_names[N_FIELDS] = { "mrn", "name", "date_of_birth", "notes", "reason" };

struct _ThecalPatientDialog
{
  AdwWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *cancel_button;
  GtkWidget *save_button;
  GtkWidget *intro_label;
  GtkWidget *mrn_box;
  GtkWidget *mrn_row;
  GtkWidget *mrn_hint;
  GtkWidget *mrn_error;
  GtkWidget *name_row;
  GtkWidget *name_error;
  GtkWidget *date_of_birth_row;
  GtkWidget *date_of_birth_error;
  GtkWidget *tolerance_row;
  GtkWidget *notes_row;
  GtkWidget *notes_error;
  GtkWidget *reason_box;
  GtkWidget *reason_row;
  GtkWidget *reason_error;
  GtkWidget *form_error;
  GtkWidget *spinner;

  ThecalRecordSession *session;
  ThecalPatient *patient; /* the version corrected; NULL for an add */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (ThecalPatientDialog, thecal_patient_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
field_of (ThecalPatientDialog *self, const char *field, GtkWidget **row, GtkWidget **error)
{
  GtkWidget *rows[N_FIELDS] = { self->mrn_row, self->name_row, self->date_of_birth_row, self->notes_row, self->reason_row };
  GtkWidget *errors[N_FIELDS] = { self->mrn_error, self->name_error, self->date_of_birth_error, self->notes_error, self->reason_error };

  for (guint i = 0; i < N_FIELDS; i++)
    if (g_strcmp0 (field, field_names[i]) == 0)
      {
        *row = rows[i];
        *error = errors[i];
        return TRUE;
      }
  if (g_strcmp0 (field, "form") == 0)
    {
      *row = NULL;
      *error = self->form_error;
      return TRUE;
    }
  return FALSE;
}

static void
show_error (GtkWidget *label, const char *message)
{
  gtk_label_set_text (GTK_LABEL (label), message != NULL ? message : "");
  gtk_widget_set_visible (label, message != NULL);
}

static void
set_busy (ThecalPatientDialog *self, gboolean busy)
{
  gtk_widget_set_sensitive (self->save_button, !busy);
  gtk_widget_set_visible (self->spinner, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_window_set_deletable (GTK_WINDOW (self), !busy);
  gtk_widget_set_sensitive (self->cancel_button, !busy);
}

/* Runs on the main thread: a field was edited; its old message no longer applies. */
static void
on_field_changed (ThecalPatientDialog *self, GtkEditable *editable)
{
  GtkWidget *row, *error;

  for (guint i = 0; i < N_FIELDS; i++)
    if (field_of (self, field_names[i], &row, &error) && GTK_EDITABLE (row) == editable)
      show_error (error, NULL);
  show_error (self->form_error, NULL);
}

/* Runs on the main thread: the record wrote the patient, or refused (@user_data: a reference to
 * the dialog). */
static void
on_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalPatientDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  ThecalRecordSession *session = THECAL_RECORD_SESSION (source);

  patient = self->patient == NULL ? thecal_record_session_add_patient_finish (session, result, &error)
                                  : thecal_record_session_correct_patient_finish (session, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (patient == NULL)
    {
      /* an MRN already in the record belongs under the MRN; anything else under the form */
      show_error (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS) ? self->mrn_error : self->form_error, error->message);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_SAVED], 0, patient);
  gtk_window_destroy (GTK_WINDOW (self));
}

/* Every field's text, stripped (a vector of N_FIELDS strings, NULL-terminated). */
static GStrv
dup_values (ThecalPatientDialog *self)
{
  GStrv values = g_new0 (char *, N_FIELDS + 1);

  for (guint i = 0; i < N_FIELDS; i++)
    {
      GtkWidget *row, *error_label;

      field_of (self, field_names[i], &row, &error_label);
      values[i] = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
    }
  return values;
}

gboolean
thecal_patient_dialog_save (ThecalPatientDialog *self)
{
  g_auto (GStrv) values = NULL;
  gboolean accepted = TRUE;
  ThecalPatientInput input;

  g_return_val_if_fail (THECAL_IS_PATIENT_DIALOG (self), FALSE);

  if (self->cancellable != NULL)
    return FALSE;
  show_error (self->form_error, NULL);
  values = dup_values (self);
  for (guint i = 0; i < N_FIELDS; i++)
    {
      GtkWidget *row, *error_label;
      g_autoptr (GError) error = NULL;

      field_of (self, field_names[i], &row, &error_label);
      if (i == 4 && self->patient == NULL)
        continue; /* a new patient has no reason to give */
      /* the record's own rules, field by field, so each message stands under its field */
      if (!thecal_record_check_patient_field (field_names[i], values[i], &error))
        {
          show_error (error_label, error->message);
          accepted = FALSE;
        }
      else
        show_error (error_label, NULL);
    }
  if (!accepted)
    return FALSE;
  input = (ThecalPatientInput){
    .mrn = values[0],
    .name = values[1],
    .date_of_birth = values[2],
    .opioid_tolerance = thecal_patient_dialog_get_tolerance (self),
    .notes = values[3],
  };
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  /* the input is copied by the record before the call returns */
  if (self->patient == NULL)
    thecal_record_session_add_patient_async (self->session, &input, self->cancellable, on_saved, g_object_ref (self));
  else
    thecal_record_session_correct_patient_async (self->session, self->patient->mrn, &input, values[4], self->cancellable, on_saved,
                                                 g_object_ref (self));
  return TRUE;
}

/* Runs on the main thread: Add (or Save), or Enter in a field. */
static void
on_save_clicked (ThecalPatientDialog *self)
{
  thecal_patient_dialog_save (self);
}

/* Runs on the main thread: Cancel (insensitive while the record writes). */
static void
on_cancel_clicked (ThecalPatientDialog *self)
{
  gtk_window_destroy (GTK_WINDOW (self));
}

void
thecal_patient_dialog_set_field (ThecalPatientDialog *self, const char *field, const char *text)
{
  GtkWidget *row = NULL, *error = NULL;

  g_return_if_fail (THECAL_IS_PATIENT_DIALOG (self));
  g_return_if_fail (field_of (self, field, &row, &error) && row != NULL);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
}

char *
thecal_patient_dialog_dup_field (ThecalPatientDialog *self, const char *field)
{
  GtkWidget *row = NULL, *error = NULL;

  g_return_val_if_fail (THECAL_IS_PATIENT_DIALOG (self), NULL);
  if (!field_of (self, field, &row, &error) || row == NULL)
    return NULL;
  return g_strdup (gtk_editable_get_text (GTK_EDITABLE (row)));
}

char *
thecal_patient_dialog_dup_error (ThecalPatientDialog *self, const char *field)
{
  GtkWidget *row = NULL, *error = NULL;

  g_return_val_if_fail (THECAL_IS_PATIENT_DIALOG (self), NULL);
  if (!field_of (self, field, &row, &error))
    return NULL;
  return g_strdup (gtk_widget_get_visible (error) ? gtk_label_get_text (GTK_LABEL (error)) : "");
}

void
thecal_patient_dialog_set_tolerance (ThecalPatientDialog *self, ThecalOpioidTolerance tolerance)
{
  g_return_if_fail (THECAL_IS_PATIENT_DIALOG (self));
  adw_combo_row_set_selected (ADW_COMBO_ROW (self->tolerance_row), tolerance == THECAL_OPIOID_TOLERANT ? 1 : 0);
}

ThecalOpioidTolerance
thecal_patient_dialog_get_tolerance (ThecalPatientDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_DIALOG (self), THECAL_OPIOID_NAIVE);
  return adw_combo_row_get_selected (ADW_COMBO_ROW (self->tolerance_row)) == 1 ? THECAL_OPIOID_TOLERANT : THECAL_OPIOID_NAIVE;
}

gboolean
thecal_patient_dialog_get_busy (ThecalPatientDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}

static void
thecal_patient_dialog_dispose (GObject *object)
{
  ThecalPatientDialog *self = THECAL_PATIENT_DIALOG (object);

  /* a write already handed to the record completes there; only its answer is no longer awaited */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->session);
  g_clear_pointer (&self->patient, thecal_patient_free);
  G_OBJECT_CLASS (thecal_patient_dialog_parent_class)->dispose (object);
}

static void
thecal_patient_dialog_class_init (ThecalPatientDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_patient_dialog_dispose;

  signals[SIGNAL_SAVED] = g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                        G_TYPE_POINTER);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-patient-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, save_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, intro_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, mrn_box);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, mrn_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, mrn_hint);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, mrn_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, name_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, date_of_birth_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, date_of_birth_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, tolerance_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, notes_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, notes_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, reason_box);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, reason_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, reason_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, form_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientDialog, spinner);
  gtk_widget_class_bind_template_callback (widget_class, on_field_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_save_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
}

static void
thecal_patient_dialog_init (ThecalPatientDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

ThecalPatientDialog *
thecal_patient_dialog_new (ThecalRecordSession *session, const ThecalPatient *patient)
{
  ThecalPatientDialog *self = g_object_new (THECAL_TYPE_PATIENT_DIALOG, NULL);

  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (session), self);
  self->session = g_object_ref (session);
  if (patient == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->intro_label), _ ("A new patient of the record. Every field but the notes is required."));
      gtk_widget_set_visible (self->reason_box, FALSE);
      return self;
    }
  self->patient = thecal_patient_copy (patient);
  gtk_window_set_title (GTK_WINDOW (self), _ ("Edit Patient"));
  adw_window_title_set_title (ADW_WINDOW_TITLE (self->window_title), _ ("Edit Patient"));
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->window_title), patient->name);
  gtk_button_set_label (GTK_BUTTON (self->save_button), _ ("Save"));
  gtk_label_set_text (GTK_LABEL (self->intro_label),
                      _ ("A correction: the details saved here become the patient's current version and supersede the "
                         "old one, which stays in the record with who wrote it and when."));
  gtk_editable_set_text (GTK_EDITABLE (self->mrn_row), patient->mrn);
  /* the MRN identifies the patient: it is shown, not corrected (the record refuses it) */
  gtk_editable_set_editable (GTK_EDITABLE (self->mrn_row), FALSE);
  gtk_label_set_text (GTK_LABEL (self->mrn_hint), _ ("The MRN cannot be corrected: register the patient under the right number and note the error in this one's notes."));
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), patient->name);
  gtk_editable_set_text (GTK_EDITABLE (self->date_of_birth_row), patient->date_of_birth);
  gtk_editable_set_text (GTK_EDITABLE (self->notes_row), patient->notes != NULL ? patient->notes : "");
  thecal_patient_dialog_set_tolerance (self, patient->opioid_tolerance);
  return self;
}
