/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-program-dialog.c: see thecal-program-dialog.h.
 */
#include "config.h"

#include "thecal-program-dialog.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "thecal-form.h"
#include "thecal-format.h"
#include "thecal-projection-chart.h"

/* How loud a message next to a field is (its CSS class). */
typedef enum
{
  LEVEL_NOTE = 0, /* "dim-label" */
  LEVEL_OVERRIDE, /* "warning": a soft limit, needs an override reason */
  LEVEL_REFUSED,  /* "error": a hard limit, an impossible prescription or text that does not parse */
} Level;

/* One row of the flex table or of the periodic boluses. */
typedef struct
{
  ThecalProgramDialog *self; /* not a reference: the row lives inside the dialog */
  GtkWidget *container;      /* the row and its message under it */
  GtkWidget *number;
  GtkWidget *start;
  GtkWidget *amount;   /* flex: dose or rate per day; periodic: the dose */
  GtkWidget *duration; /* periodic only */
  GtkWidget *remove;
  GtkWidget *error;
} Row;

/* The steps of the write as the progress page lists them. */
enum
{
  PROGRESS_PENDING = 0,
  PROGRESS_STAGE,
  PROGRESS_READ_STAGED,
  PROGRESS_COMMIT,
  PROGRESS_VERIFY,
  PROGRESS_RECORD,
  N_PROGRESS
};

typedef enum
{
  STEP_WAITING = 0,
  STEP_ACTIVE,
  STEP_DONE,
  STEP_FAILED,
} StepState;

struct _ThecalProgramDialog
{
  AdwWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *back_button;
  GtkWidget *next_button;
  GtkWidget *stack;
  GtkWidget *edit_box;
  GtkWidget *review_box;
  GtkWidget *progress_box;
  GtkWidget *outcome_box;

  /* edit */
  GtkWidget *blocked_label;
  GtkWidget *drug_error;
  GtkWidget *mode_dropdown;
  GtkWidget *mode_error;
  GtkWidget *continuous_box;
  GtkWidget *continuous_entry;
  GtkWidget *continuous_error;
  GtkWidget *flex_box;
  GtkWidget *flex_rows_box;
  GtkWidget *flex_add_button;
  GtkWidget *flex_error;
  GtkWidget *minimum_label;
  GtkWidget *stopped_label;
  GtkWidget *periodic_box;
  GtkWidget *periodic_header;
  GtkWidget *periodic_rows_box;
  GtkWidget *periodic_add_button;
  GtkWidget *periodic_error;
  GtkWidget *ptm_check;
  GtkWidget *ptm_fields_box;
  GtkWidget *ptm_dose_entry;
  GtkWidget *ptm_dose_error;
  GtkWidget *ptm_duration_entry;
  GtkWidget *ptm_duration_error;
  GtkWidget *ptm_lockout_entry;
  GtkWidget *ptm_lockout_error;
  GtkWidget *ptm_max_entry;
  GtkWidget *ptm_max_error;
  GtkWidget *ptm_error;
  GtkWidget *daily_label;
  GtkWidget *general_error;
  GPtrArray *flex_rows;     /* Row * */
  GPtrArray *periodic_rows; /* Row * */

  /* review */
  GtkWidget *changes_label;
  GtkWidget *dates_label;
  GtkWidget *chart;
  GtkWidget *findings_label;
  GtkWidget *refusal_label;
  GtkWidget *reason_entry;
  GtkWidget *override_title;
  GtkWidget *override_entry;
  GtkWidget *override_error;

  /* progress, outcome */
  GtkWidget *spinner;
  GtkWidget *steps_box; /* the steps' list: on the progress page, then under the outcome */
  GtkWidget *progress_icons[N_PROGRESS];
  GtkWidget *progress_labels[N_PROGRESS];
  StepState progress[N_PROGRESS];
  GtkWidget *outcome_page;
  GtkWidget *read_again_button;
  GtkWidget *outcome_error;

  ThecalVisit *visit;
  ThecalDrugLibrary *library;
  ThecalPrescription old_rx;
  ThecalProgramReview *review; /* of the editor's prescription; NULL when it does not parse */
  GHashTable *messages;        /* GtkWidget * (an error label) → Message *, the last check's */
  guint check_id;
  gboolean filling; /* the editor is being filled in: no check per keystroke */
  gboolean busy;    /* the write or the reconciliation runs */
  gboolean wrote;   /* the write ran (any outcome) */
  gboolean finished_emitted;
  gboolean finished;
  ThecalProgrammingOutcome outcome;
};

G_DEFINE_FINAL_TYPE (ThecalProgramDialog, thecal_program_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

typedef struct
{
  Level level;
  GString *text;
} Message;

static void
message_free (gpointer data)
{
  Message *message = data;

  g_string_free (message->text, TRUE);
  g_free (message);
}

static const char *const page_titles[][2] = {
  { "edit", N_ ("Step 1 of 2: New Prescription") },
  { "review", N_ ("Step 2 of 2: Review the Change") },
  { "progress", N_ ("Programming") },
  { "outcome", N_ ("Outcome") },
};

/* The modes in the order of the drop-down. */
static const ThecalMode modes[] = { THECAL_MODE_CONTINUOUS, THECAL_MODE_FLEX, THECAL_MODE_MINIMUM_RATE, THECAL_MODE_STOPPED };

static void schedule_check (ThecalProgramDialog *self);
static void update_buttons (ThecalProgramDialog *self);

/* ---- building ----------------------------------------------------------------------------- */

static GtkWidget *
add_error_label (GtkWidget *box)
{
  GtkWidget *label = thecal_form_add_text (box, "", NULL);

  gtk_widget_set_visible (label, FALSE);
  return label;
}

static GtkWidget *
add_section (GtkWidget *box, const char *title)
{
  GtkWidget *section = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);

  if (title != NULL)
    thecal_form_add_text (section, title, "title-4");
  gtk_box_append (GTK_BOX (box), section);
  return section;
}

static void
set_entry (GtkWidget *entry, char *text /* owned */)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), text != NULL ? text : "");
  g_free (text);
}

static const char *
current_page (ThecalProgramDialog *self)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (self->stack));
}

/* The programmed daily total (basal + periodic boluses) of a plan; G_MAXINT64 if it overflows. */
static gint64
programmed_ng (const ThecalDeliveryPlan *plan)
{
  gint64 sum;

  return __builtin_add_overflow (plan->basal_ng_per_day, plan->periodic_ng_per_day, &sum) ? G_MAXINT64 : sum;
}

static gint64
programmed_nl (const ThecalDeliveryPlan *plan)
{
  gint64 sum;

  return __builtin_add_overflow (plan->basal_nl_per_day, plan->periodic_nl_per_day, &sum) ? G_MAXINT64 : sum;
}

static char *
amount_text (const ThecalDailyAmount *amount)
{
  if (amount->basis == THECAL_BASIS_RATE)
    return thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, amount->rate_nl_per_day);
  return thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, amount->dose_ng_per_day);
}

/* ---- the rows of the tables ------------------------------------------------------------------- */

static void
row_free (gpointer data)
{
  g_free (data);
}

/* Names each row's controls by its number (after a row was added or removed). */
static void
renumber (ThecalProgramDialog *self)
{
  for (guint i = 0; i < self->flex_rows->len; i++)
    {
      Row *row = self->flex_rows->pdata[i];
      g_autofree char *number = g_strdup_printf ("%u", i + 1);
      g_autofree char *start = g_strdup_printf (_ ("Flex step %u start (HH:MM)"), i + 1);
      g_autofree char *amount = g_strdup_printf (_ ("Flex step %u dose or rate per day"), i + 1);
      g_autofree char *remove = g_strdup_printf (_ ("Remove flex step %u"), i + 1);

      gtk_label_set_text (GTK_LABEL (row->number), number);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->start), GTK_ACCESSIBLE_PROPERTY_LABEL, start, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->amount), GTK_ACCESSIBLE_PROPERTY_LABEL, amount, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove, -1);
      gtk_widget_set_tooltip_text (row->remove, remove);
      /* a flex schedule has at least one step */
      gtk_widget_set_sensitive (row->remove, self->flex_rows->len > 1);
    }
  for (guint i = 0; i < self->periodic_rows->len; i++)
    {
      Row *row = self->periodic_rows->pdata[i];
      g_autofree char *number = g_strdup_printf ("%u", i + 1);
      g_autofree char *start = g_strdup_printf (_ ("Periodic bolus %u start (HH:MM)"), i + 1);
      g_autofree char *dose = g_strdup_printf (_ ("Periodic bolus %u dose"), i + 1);
      g_autofree char *duration = g_strdup_printf (_ ("Periodic bolus %u duration"), i + 1);
      g_autofree char *remove = g_strdup_printf (_ ("Remove periodic bolus %u"), i + 1);

      gtk_label_set_text (GTK_LABEL (row->number), number);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->start), GTK_ACCESSIBLE_PROPERTY_LABEL, start, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->amount), GTK_ACCESSIBLE_PROPERTY_LABEL, dose, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->duration), GTK_ACCESSIBLE_PROPERTY_LABEL, duration, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove, -1);
      gtk_widget_set_tooltip_text (row->remove, remove);
    }
  gtk_widget_set_sensitive (self->flex_add_button, self->flex_rows->len < THECAL_FLEX_STEPS_MAX);
  gtk_widget_set_sensitive (self->periodic_add_button, self->periodic_rows->len < THECAL_PERIODIC_BOLUSES_MAX);
  if (self->periodic_header != NULL)
    gtk_widget_set_visible (self->periodic_header, self->periodic_rows->len > 0);
}

static GtkWidget *
row_entry (GtkWidget *box, const char *placeholder, int width_chars, gboolean expand)
{
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), placeholder);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), width_chars);
  gtk_widget_set_hexpand (entry, expand);
  gtk_box_append (GTK_BOX (box), entry);
  return entry;
}

static void on_remove_row_clicked (GtkButton *button, gpointer user_data);
static void on_field_changed (ThecalProgramDialog *self);
static void on_entry_activate (ThecalProgramDialog *self);

static Row *
row_new (ThecalProgramDialog *self, GtkWidget *rows_box, gboolean periodic)
{
  Row *row = g_new0 (Row, 1);
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);

  row->self = self;
  row->container = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  row->number = gtk_label_new ("");
  gtk_label_set_width_chars (GTK_LABEL (row->number), 3);
  gtk_box_append (GTK_BOX (line), row->number);
  row->start = row_entry (line, _ ("HH:MM"), 6, FALSE);
  row->amount = row_entry (line, periodic ? _ ("e.g. 0.5 mg") : _ ("e.g. 5 mg/day or 0.2 mL/day"), 12, TRUE);
  if (periodic)
    row->duration = row_entry (line, _ ("e.g. 30 min"), 8, TRUE);
  row->remove = gtk_button_new_from_icon_name ("list-remove-symbolic");
  gtk_widget_add_css_class (row->remove, "flat");
  g_signal_connect (row->remove, "clicked", G_CALLBACK (on_remove_row_clicked), row);
  gtk_box_append (GTK_BOX (line), row->remove);
  gtk_box_append (GTK_BOX (row->container), line);
  row->error = add_error_label (row->container);
  gtk_widget_set_margin_start (row->error, 40);
  gtk_box_append (GTK_BOX (rows_box), row->container);
  g_signal_connect_swapped (row->start, "activate", G_CALLBACK (on_entry_activate), self);
  g_signal_connect_swapped (row->amount, "activate", G_CALLBACK (on_entry_activate), self);
  if (row->duration != NULL)
    g_signal_connect_swapped (row->duration, "activate", G_CALLBACK (on_entry_activate), self);
  g_signal_connect_swapped (row->start, "changed", G_CALLBACK (on_field_changed), self);
  g_signal_connect_swapped (row->amount, "changed", G_CALLBACK (on_field_changed), self);
  if (row->duration != NULL)
    g_signal_connect_swapped (row->duration, "changed", G_CALLBACK (on_field_changed), self);
  return row;
}

static Row *
add_flex_row (ThecalProgramDialog *self, const ThecalFlexStep *step)
{
  Row *row = row_new (self, self->flex_rows_box, FALSE);

  g_ptr_array_add (self->flex_rows, row);
  if (step != NULL)
    {
      set_entry (row->start, thecal_format_quantity (THECAL_QUANTITY_TIME_OF_DAY, step->start_min));
      set_entry (row->amount, amount_text (&step->amount));
    }
  renumber (self);
  return row;
}

static Row *
add_periodic_row (ThecalProgramDialog *self, const ThecalPeriodicBolus *bolus)
{
  Row *row = row_new (self, self->periodic_rows_box, TRUE);

  g_ptr_array_add (self->periodic_rows, row);
  if (bolus != NULL)
    {
      set_entry (row->start, thecal_format_quantity (THECAL_QUANTITY_TIME_OF_DAY, bolus->start_min));
      set_entry (row->amount, thecal_format_quantity (THECAL_QUANTITY_AMOUNT, bolus->dose_ng));
      set_entry (row->duration, thecal_format_quantity (THECAL_QUANTITY_DURATION, bolus->duration_ms));
    }
  renumber (self);
  return row;
}

static gboolean
remove_row (ThecalProgramDialog *self, GPtrArray *rows, GtkWidget *rows_box, guint index)
{
  Row *row;

  if (index >= rows->len)
    return FALSE;
  row = rows->pdata[index];
  g_hash_table_remove (self->messages, row->error);
  gtk_box_remove (GTK_BOX (rows_box), row->container);
  g_ptr_array_remove_index (rows, index);
  renumber (self);
  schedule_check (self);
  return TRUE;
}

/* Runs on the main thread: a row's remove button. */
static void
on_remove_row_clicked (GtkButton *button, gpointer user_data)
{
  Row *row = user_data;
  ThecalProgramDialog *self = row->self;
  guint index;

  (void) button;
  if (g_ptr_array_find (self->flex_rows, row, &index))
    thecal_program_dialog_remove_flex_step (self, index);
  else if (g_ptr_array_find (self->periodic_rows, row, &index))
    thecal_program_dialog_remove_periodic_bolus (self, index);
}

/* ---- messages next to the fields -------------------------------------------------------------- */

/* The label a field path of the dose core names ("flex_steps[2].dose" → the third flex row's),
 * by the path alone; paths of the whole prescription ("daily dose", "drug", "prescription"...)
 * go to the general label. */
static GtkWidget *
label_for_path (ThecalProgramDialog *self, const char *path)
{
  int index = -1;
  int consumed = 0;

  if (path == NULL)
    return self->general_error;
  if (g_strcmp0 (path, "drug") == 0 || g_strcmp0 (path, "concentration") == 0)
    return self->drug_error;
  if (g_strcmp0 (path, "mode") == 0)
    return self->mode_error;
  if (g_strcmp0 (path, "continuous") == 0 || g_str_has_prefix (path, "continuous."))
    return self->continuous_error;
  if (sscanf (path, "flex_steps[%d]%n", &index, &consumed) == 1 && consumed > 0 && (path[consumed] == '\0' || path[consumed] == '.'))
    return index >= 0 && (guint) index < self->flex_rows->len ? ((Row *) self->flex_rows->pdata[index])->error : self->flex_error;
  if (g_strcmp0 (path, "flex_steps") == 0)
    return self->flex_error;
  if (sscanf (path, "periodic_boluses[%d]%n", &index, &consumed) == 1 && consumed > 0
      && (path[consumed] == '\0' || path[consumed] == '.'))
    return index >= 0 && (guint) index < self->periodic_rows->len ? ((Row *) self->periodic_rows->pdata[index])->error
                                                                  : self->periodic_error;
  if (g_strcmp0 (path, "periodic_boluses") == 0)
    return self->periodic_error;
  if (g_strcmp0 (path, "ptm.dose") == 0)
    return self->ptm_dose_error;
  if (g_strcmp0 (path, "ptm.duration") == 0)
    return self->ptm_duration_error;
  if (g_strcmp0 (path, "ptm.lockout") == 0)
    return self->ptm_lockout_error;
  if (g_strcmp0 (path, "ptm.max_per_24h") == 0)
    return self->ptm_max_error;
  if (g_strcmp0 (path, "ptm") == 0 || g_str_has_prefix (path, "ptm."))
    return self->ptm_error;
  return self->general_error;
}

static void
message_add (ThecalProgramDialog *self, GtkWidget *label, Level level, const char *text)
{
  Message *message = g_hash_table_lookup (self->messages, label);

  if (message == NULL)
    {
      message = g_new0 (Message, 1);
      message->text = g_string_new (NULL);
      message->level = level;
      g_hash_table_insert (self->messages, label, message);
    }
  if (message->text->len > 0)
    g_string_append_c (message->text, '\n');
  g_string_append (message->text, text);
  message->level = MAX (message->level, level);
}

static void
show_message (GtkWidget *label, const Message *message)
{
  static const char *const classes[] = { "dim-label", "warning", "error" };

  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (label, classes[i]);
  gtk_label_set_text (GTK_LABEL (label), message != NULL ? message->text->str : "");
  gtk_widget_set_visible (label, message != NULL && message->text->len > 0);
  if (message != NULL)
    gtk_widget_add_css_class (label, classes[message->level]);
}

static GtkWidget **
all_error_labels (ThecalProgramDialog *self, guint *n)
{
  GPtrArray *labels = g_ptr_array_new ();
  GtkWidget *fixed[] = { self->drug_error, self->mode_error, self->continuous_error, self->flex_error, self->periodic_error,
                         self->ptm_dose_error, self->ptm_duration_error, self->ptm_lockout_error, self->ptm_max_error,
                         self->ptm_error, self->general_error };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (labels, fixed[i]);
  for (guint i = 0; i < self->flex_rows->len; i++)
    g_ptr_array_add (labels, ((Row *) self->flex_rows->pdata[i])->error);
  for (guint i = 0; i < self->periodic_rows->len; i++)
    g_ptr_array_add (labels, ((Row *) self->periodic_rows->pdata[i])->error);
  *n = labels->len;
  return (GtkWidget **) g_ptr_array_free (labels, FALSE);
}

static void
show_messages (ThecalProgramDialog *self)
{
  guint n = 0;
  g_autofree GtkWidget **labels = all_error_labels (self, &n);

  for (guint i = 0; i < n; i++)
    show_message (labels[i], g_hash_table_lookup (self->messages, labels[i]));
}

/* ---- the prescription, from the fields (parsed by src/dose) ----------------------------------- */

/* A parse error next to @label: the field's name, the dose core's message and the form expected. */
static void
parse_error (ThecalProgramDialog *self, GtkWidget *label, const char *field, const ThecalDoseError *error, const char *expected)
{
  g_autofree char *text = NULL;

  if (error != NULL && error->message[0] != '\0')
    text = g_strdup_printf (_ ("%s: %s (expected: %s)"), field, error->message, expected);
  else
    text = g_strdup_printf (_ ("%s: expected %s"), field, expected);
  message_add (self, label, LEVEL_REFUSED, text);
}

static gboolean
parse_kind (ThecalProgramDialog *self, ThecalQuantityKind kind, GtkWidget *entry, GtkWidget *label, const char *field, const char *expected, gint64 *value)
{
  ThecalDoseError error;
  int64_t v = 0;

  thecal_dose_error_clear (&error);
  if (thecal_form_entry_text (entry)[0] == '\0')
    {
      parse_error (self, label, field, NULL, expected);
      return FALSE;
    }
  if (!thecal_quantity_parse (kind, thecal_form_entry_text (entry), field, &v, &error))
    {
      parse_error (self, label, field, &error, expected);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

static gboolean
parse_amount (ThecalProgramDialog *self, GtkWidget *entry, GtkWidget *label, const char *field, ThecalDailyAmount *amount)
{
  const char *expected = _ ("a dose per day such as “5 mg/day” or a rate such as “0.2 mL/day”");
  ThecalQuantityKind kind = THECAL_QUANTITY_DOSE_RATE;
  ThecalDoseError error;
  int64_t v = 0;

  thecal_dose_error_clear (&error);
  if (thecal_form_entry_text (entry)[0] == '\0')
    {
      parse_error (self, label, field, NULL, expected);
      return FALSE;
    }
  if (!thecal_quantity_parse_rate (thecal_form_entry_text (entry), field, &kind, &v, &error))
    {
      parse_error (self, label, field, &error, expected);
      return FALSE;
    }
  memset (amount, 0, sizeof *amount);
  if (kind == THECAL_QUANTITY_VOLUME_RATE)
    {
      amount->basis = THECAL_BASIS_RATE;
      amount->rate_nl_per_day = v;
    }
  else
    {
      amount->basis = THECAL_BASIS_DOSE;
      amount->dose_ng_per_day = v;
    }
  return TRUE;
}

/* "4": a whole number, exactly (no floating point, no sign, no unit). */
static gboolean
parse_count (ThecalProgramDialog *self, GtkWidget *entry, GtkWidget *label, const char *field, gint32 *value)
{
  g_autoptr (GError) error = NULL;
  guint64 v = 0;
  const char *text = thecal_form_entry_text (entry);
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  if (stripped[0] == '\0' || !g_ascii_string_to_unsigned (stripped, 10, 1, 1000, &v, &error))
    {
      g_autofree char *message = g_strdup_printf (_ ("%s: “%s” is not a whole number from 1 to 1000 (expected e.g. “4”)"), field, text);

      message_add (self, label, LEVEL_REFUSED, message);
      return FALSE;
    }
  *value = (gint32) v;
  return TRUE;
}

static ThecalMode
selected_mode (ThecalProgramDialog *self)
{
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->mode_dropdown));

  return i < G_N_ELEMENTS (modes) ? modes[i] : THECAL_MODE_CONTINUOUS;
}

/* Fills @rx from the fields; every field that does not parse gets its message. The drug and the
 * concentration are the running ones (a change of either is a refill). Flex steps are written as
 * start times: each runs until the next step's start (the last until the first's, the next day),
 * so the steps always cover the day; their order is the dose core's to check. */
static gboolean
build_rx (ThecalProgramDialog *self, ThecalPrescription *rx)
{
  ThecalMode mode = selected_mode (self);
  gboolean ok = TRUE;

  thecal_prescription_init (rx);
  g_strlcpy (rx->drug_id, self->old_rx.drug_id, sizeof rx->drug_id);
  rx->concentration_ng_per_ml = self->old_rx.concentration_ng_per_ml;
  rx->mode = mode;
  if (mode == THECAL_MODE_CONTINUOUS)
    ok &= parse_amount (self, self->continuous_entry, self->continuous_error, _ ("Continuous dose or rate"), &rx->continuous);
  if (mode == THECAL_MODE_FLEX)
    {
      gint32 starts[THECAL_FLEX_STEPS_MAX] = { 0 };
      gboolean starts_ok = TRUE;

      rx->n_flex_steps = (int32_t) MIN (self->flex_rows->len, THECAL_FLEX_STEPS_MAX);
      for (int32_t i = 0; i < rx->n_flex_steps; i++)
        {
          Row *row = self->flex_rows->pdata[i];
          g_autofree char *start_field = g_strdup_printf (_ ("Flex step %d start"), (int) i + 1);
          g_autofree char *amount_field = g_strdup_printf (_ ("Flex step %d dose or rate"), (int) i + 1);
          gint64 start = 0;

          if (parse_kind (self, THECAL_QUANTITY_TIME_OF_DAY, row->start, row->error, start_field, _ ("a time of day “HH:MM”, 00:00 to 23:59"),
                          &start))
            starts[i] = (gint32) start;
          else
            starts_ok = FALSE;
          rx->flex_steps[i].start_min = starts[i];
          ok &= parse_amount (self, row->amount, row->error, amount_field, &rx->flex_steps[i].amount);
        }
      ok &= starts_ok;
      for (int32_t i = 0; starts_ok && i < rx->n_flex_steps; i++)
        {
          gint32 next = i + 1 < rx->n_flex_steps ? starts[i + 1] : starts[0];
          gint32 duration = ((next - starts[i]) % 1440 + 1440) % 1440;

          rx->flex_steps[i].duration_min = rx->n_flex_steps == 1 && duration == 0 ? 1440 : duration;
        }
    }
  if (mode != THECAL_MODE_STOPPED)
    {
      rx->n_periodic_boluses = (int32_t) MIN (self->periodic_rows->len, THECAL_PERIODIC_BOLUSES_MAX);
      for (int32_t i = 0; i < rx->n_periodic_boluses; i++)
        {
          Row *row = self->periodic_rows->pdata[i];
          ThecalPeriodicBolus *b = &rx->periodic_boluses[i];
          g_autofree char *start_field = g_strdup_printf (_ ("Periodic bolus %d start"), (int) i + 1);
          g_autofree char *dose_field = g_strdup_printf (_ ("Periodic bolus %d dose"), (int) i + 1);
          g_autofree char *duration_field = g_strdup_printf (_ ("Periodic bolus %d duration"), (int) i + 1);
          gint64 start = 0, dose = 0, duration = 0;

          ok &= parse_kind (self, THECAL_QUANTITY_TIME_OF_DAY, row->start, row->error, start_field, _ ("a time of day “HH:MM”, 00:00 to 23:59"),
                            &start);
          ok &= parse_kind (self, THECAL_QUANTITY_AMOUNT, row->amount, row->error, dose_field, _ ("an amount such as “0.5 mg” or “50 mcg”"),
                            &dose);
          ok &= parse_kind (self, THECAL_QUANTITY_DURATION, row->duration, row->error, duration_field,
                            _ ("a duration such as “30 min” or “1 h”"), &duration);
          b->start_min = (int32_t) start;
          b->dose_ng = dose;
          b->duration_ms = duration;
        }
    }
  rx->ptm.enabled = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->ptm_check));
  if (rx->ptm.enabled)
    {
      gint64 dose = 0, duration = 0, lockout = 0;
      gint32 max = 0;

      ok &= parse_kind (self, THECAL_QUANTITY_AMOUNT, self->ptm_dose_entry, self->ptm_dose_error, _ ("PTM bolus dose"),
                        _ ("an amount such as “0.1 mg” or “50 mcg”"), &dose);
      ok &= parse_kind (self, THECAL_QUANTITY_DURATION, self->ptm_duration_entry, self->ptm_duration_error, _ ("PTM bolus duration"),
                        _ ("a duration such as “10 min”"), &duration);
      ok &= parse_kind (self, THECAL_QUANTITY_DURATION, self->ptm_lockout_entry, self->ptm_lockout_error, _ ("PTM lockout"),
                        _ ("a duration such as “3 h”"), &lockout);
      ok &= parse_count (self, self->ptm_max_entry, self->ptm_max_error, _ ("PTM maximum per 24 h"), &max);
      rx->ptm.dose_ng = dose;
      rx->ptm.duration_ms = duration;
      rx->ptm.lockout_ms = lockout;
      rx->ptm.max_per_24h = max;
    }
  return ok;
}

/* ---- the live check ------------------------------------------------------------------------- */

static Level
level_of (ThecalFindingSeverity severity)
{
  switch (severity)
    {
    case THECAL_FINDING_REFUSED:
      return LEVEL_REFUSED;
    case THECAL_FINDING_OVERRIDE:
      return LEVEL_OVERRIDE;
    case THECAL_FINDING_NOTE:
    default:
      return LEVEL_NOTE;
    }
}

static char *
finding_text (const ThecalFinding *f)
{
  switch (f->severity)
    {
    case THECAL_FINDING_REFUSED:
      return g_strdup_printf (_ ("Refused: %s"), f->message);
    case THECAL_FINDING_OVERRIDE:
      return g_strdup_printf (_ ("Needs an override reason: %s"), f->message);
    case THECAL_FINDING_NOTE:
    default:
      return g_strdup_printf (_ ("Note: %s"), f->message);
    }
}

static void
show_daily (ThecalProgramDialog *self)
{
  const ThecalDeliveryPlan *plan;
  g_autofree char *basal = NULL;
  g_autofree char *basal_v = NULL;
  g_autofree char *worst = NULL;
  g_autoptr (GString) text = g_string_new (NULL);

  if (self->review == NULL || !self->review->check.plan_valid)
    {
      gtk_label_set_text (GTK_LABEL (self->daily_label), self->review == NULL ? _ ("New daily dose: the prescription does not parse yet")
                                                                              : _ ("New daily dose: not known (the prescription is refused)"));
      return;
    }
  plan = &self->review->check.plan;
  basal = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, plan->basal_ng_per_day);
  basal_v = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, plan->basal_nl_per_day);
  worst = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, plan->total_worst_ng_per_day);
  g_string_append_printf (text, _ ("New daily dose as the pump delivers it: %s (%s)"), basal, basal_v);
  if (plan->periodic_ng_per_day > 0)
    {
      g_autofree char *periodic = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, plan->periodic_ng_per_day);

      g_string_append_printf (text, _ (" + %s periodic boluses"), periodic);
    }
  if (plan->ptm_enabled)
    g_string_append_printf (text, _ ("; at most %s with every PTM bolus"), worst);
  if (self->review->have_projections)
    {
      g_autofree char *low = thecal_format_instant (self->review->new_projection.low_alarm_local_ms);
      g_autofree char *empty = thecal_format_instant (self->review->new_projection.empty_local_ms);

      g_string_append_printf (text, _ ("\nLow-reservoir alarm %s, empty %s"), low, empty);
    }
  if (self->review->changes->len == 0)
    g_string_append (text, _ ("\nNo change yet: this is what the pump runs."));
  gtk_label_set_text (GTK_LABEL (self->daily_label), text->str);
}

/* Parses the editor and reviews it: every message next to its field. Runs on the main thread. */
static void
run_check (ThecalProgramDialog *self)
{
  g_autoptr (GError) error = NULL;
  ThecalPrescription rx;

  g_clear_handle_id (&self->check_id, g_source_remove);
  g_hash_table_remove_all (self->messages);
  g_clear_pointer (&self->review, thecal_program_review_free);
  if (build_rx (self, &rx))
    {
      self->review = thecal_visit_review_prescription (self->visit, &rx, &error);
      if (self->review == NULL)
        message_add (self, self->general_error, LEVEL_REFUSED, error->message);
      else
        {
          const ThecalCheckResult *check = &self->review->check;

          for (int32_t i = 0; i < check->n_findings && i < THECAL_FINDINGS_MAX; i++)
            {
              g_autofree char *text = finding_text (&check->findings[i]);

              message_add (self, label_for_path (self, check->findings[i].field), level_of (check->findings[i].severity), text);
            }
          if (check->n_dropped > 0)
            {
              g_autofree char *text = g_strdup_printf (_ ("%d more findings are not shown."), (int) check->n_dropped);

              message_add (self, self->general_error, level_of (check->worst), text);
            }
        }
    }
  show_messages (self);
  show_daily (self);
  update_buttons (self);
}

/* Runs on the main thread, THECAL_PROGRAM_DIALOG_CHECK_DELAY_MS after the last change. */
static gboolean
on_check_timeout (gpointer user_data)
{
  ThecalProgramDialog *self = user_data;

  self->check_id = 0;
  run_check (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_check (ThecalProgramDialog *self)
{
  if (self->filling)
    return;
  g_clear_handle_id (&self->check_id, g_source_remove);
  /* what was checked no longer holds: Next waits for the new check */
  g_clear_pointer (&self->review, thecal_program_review_free);
  self->check_id = g_timeout_add (THECAL_PROGRAM_DIALOG_CHECK_DELAY_MS, on_check_timeout, self);
  update_buttons (self);
}

/* Shows the sections of the mode chosen. */
static void
update_mode (ThecalProgramDialog *self)
{
  ThecalMode mode = selected_mode (self);

  gtk_widget_set_visible (self->continuous_box, mode == THECAL_MODE_CONTINUOUS);
  gtk_widget_set_visible (self->flex_box, mode == THECAL_MODE_FLEX);
  gtk_widget_set_visible (self->minimum_label, mode == THECAL_MODE_MINIMUM_RATE);
  gtk_widget_set_visible (self->stopped_label, mode == THECAL_MODE_STOPPED);
  gtk_widget_set_visible (self->periodic_box, mode != THECAL_MODE_STOPPED);
  /* a flex schedule starts as one step all day at the continuous amount */
  if (mode == THECAL_MODE_FLEX && self->flex_rows->len == 0)
    {
      Row *row = add_flex_row (self, NULL);

      gtk_editable_set_text (GTK_EDITABLE (row->start), "00:00");
      gtk_editable_set_text (GTK_EDITABLE (row->amount), thecal_form_entry_text (self->continuous_entry));
    }
}

/* Runs on the main thread: the mode drop-down changed. */
static void
on_mode_changed (ThecalProgramDialog *self)
{
  update_mode (self);
  schedule_check (self);
}

/* Runs on the main thread: the PTM check button toggled. */
static void
on_ptm_toggled (ThecalProgramDialog *self)
{
  gtk_widget_set_sensitive (self->ptm_fields_box, gtk_check_button_get_active (GTK_CHECK_BUTTON (self->ptm_check)));
  schedule_check (self);
}

/* ---- the review page ----------------------------------------------------------------------- */

/* "flex_steps[1].start" → "Flex step 2 start": the diff's field paths for people. */
static char *
human_field (const char *field)
{
  int index = -1, consumed = 0;
  const struct
  {
    const char *path;
    const char *name;
  } names[] = {
    { "drug", N_ ("Drug") },
    { "concentration", N_ ("Concentration") },
    { "mode", N_ ("Mode") },
    { "continuous", N_ ("Continuous dose or rate") },
    { "ptm.enabled", N_ ("PTM enabled") },
    { "ptm.dose", N_ ("PTM bolus dose") },
    { "ptm.duration", N_ ("PTM bolus duration") },
    { "ptm.lockout", N_ ("PTM lockout") },
    { "ptm.max_per_24h", N_ ("PTM maximum per 24 h") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (names[i].path, field) == 0)
      return g_strdup (_ (names[i].name));
  if (sscanf (field, "flex_steps[%d]%n", &index, &consumed) == 1 && consumed > 0)
    {
      const char *part = field + consumed;

      if (g_strcmp0 (part, ".start") == 0)
        return g_strdup_printf (_ ("Flex step %d start"), index + 1);
      if (g_strcmp0 (part, ".duration") == 0)
        return g_strdup_printf (_ ("Flex step %d duration"), index + 1);
      if (g_strcmp0 (part, ".amount") == 0)
        return g_strdup_printf (_ ("Flex step %d dose or rate"), index + 1);
      return g_strdup_printf (_ ("Flex step %d"), index + 1);
    }
  if (sscanf (field, "periodic_boluses[%d]%n", &index, &consumed) == 1 && consumed > 0)
    return g_strdup_printf (_ ("Periodic bolus %d"), index + 1);
  return g_strdup (field);
}

/* The diff's values for people: modes by their names, "yes"/"no" translated, none as "—". */
static const char *
human_value (const char *field, const char *value)
{
  ThecalMode mode;

  if (value == NULL)
    return _ ("none");
  if (g_strcmp0 (field, "mode") == 0 && thecal_mode_from_name (value, &mode))
    return thecal_format_mode (mode);
  if (g_strcmp0 (field, "ptm.enabled") == 0)
    return g_strcmp0 (value, "yes") == 0 ? _ ("yes") : _ ("no");
  return value;
}

static gboolean
review_needs_override (ThecalProgramDialog *self)
{
  return self->review != NULL && self->review->check.worst == THECAL_FINDING_OVERRIDE;
}

static gboolean
review_refused (ThecalProgramDialog *self)
{
  return self->review == NULL || self->review->check.worst == THECAL_FINDING_REFUSED;
}

static void
update_override (ThecalProgramDialog *self)
{
  g_autofree char *reason = g_strstrip (g_strdup (thecal_form_entry_text (self->override_entry)));
  glong n = g_utf8_strlen (reason, -1);

  if (n > 0 && n < THECAL_PROGRAM_DIALOG_REASON_MIN_CHARS)
    {
      g_autofree char *text = g_strdup_printf (_ ("Override reason: at least %d characters (%ld so far)."),
                                               THECAL_PROGRAM_DIALOG_REASON_MIN_CHARS, (long) n);

      gtk_label_set_text (GTK_LABEL (self->override_error), text);
      gtk_widget_set_visible (self->override_error, TRUE);
    }
  else
    gtk_widget_set_visible (self->override_error, FALSE);
}

static void
show_review (ThecalProgramDialog *self)
{
  const ThecalProgramReview *r = self->review;
  const ThecalProtoStatus *st = thecal_visit_get_status (self->visit);
  g_autoptr (GString) changes = g_string_new (NULL);
  g_autoptr (GString) dates = g_string_new (NULL);
  g_autoptr (GString) findings = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < r->changes->len; i++)
    {
      const ThecalVisitChange *c = r->changes->pdata[i];
      g_autofree char *name = human_field (c->field);

      g_string_append_printf (changes, "%s%s: %s → %s", i > 0 ? "\n" : "", name, human_value (c->field, c->old_value),
                              human_value (c->field, c->new_value));
    }
  gtk_label_set_text (GTK_LABEL (self->changes_label), changes->str);

  if (r->old_plan_valid && r->check.plan_valid)
    {
      g_autofree char *old_d = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, programmed_ng (&r->old_plan));
      g_autofree char *new_d = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, programmed_ng (&r->check.plan));
      g_autofree char *old_v = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, programmed_nl (&r->old_plan));
      g_autofree char *new_v = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, programmed_nl (&r->check.plan));

      g_string_append_printf (dates, _ ("Daily dose: %s → %s\nDaily volume: %s → %s"), old_d, new_d, old_v, new_v);
    }
  if (r->have_projections)
    {
      const struct
      {
        const char *name;
        gint64 old_ms, new_ms;
      } rows[] = {
        { N_ ("Low-reservoir alarm"), r->old_projection.low_alarm_local_ms, r->new_projection.low_alarm_local_ms },
        { N_ ("Empty"), r->old_projection.empty_local_ms, r->new_projection.empty_local_ms },
        { N_ ("Refill by"), r->old_projection.refill_by_local_ms, r->new_projection.refill_by_local_ms },
      };

      for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
        {
          g_autofree char *a = thecal_format_instant (rows[i].old_ms);
          g_autofree char *b = thecal_format_instant (rows[i].new_ms);

          g_string_append_printf (dates, "\n%s: %s → %s", _ (rows[i].name), a, b);
        }
      if (!thecal_projection_chart_set_data (THECAL_PROJECTION_CHART (self->chart), thecal_visit_get_model (self->visit),
                                             st->reservoir_estimate_nl, st->pump_ms, &r->old_plan, &r->old_projection,
                                             &r->check.plan, &r->new_projection, &error))
        g_string_append_printf (dates, _ ("\nThe projection cannot be drawn: %s"), error->message);
    }
  else
    {
      g_string_append (dates, _ ("\nThe reservoir dates are not known for this prescription."));
      thecal_projection_chart_clear (THECAL_PROJECTION_CHART (self->chart));
    }
  gtk_label_set_text (GTK_LABEL (self->dates_label), dates->str);

  for (int32_t i = 0; i < r->check.n_findings && i < THECAL_FINDINGS_MAX; i++)
    {
      g_autofree char *text = finding_text (&r->check.findings[i]);

      g_string_append_printf (findings, "%s%s", i > 0 ? "\n" : "", text);
    }
  if (findings->len == 0)
    g_string_append (findings, _ ("No finding: within every limit of the drug library and the pump."));
  gtk_label_set_text (GTK_LABEL (self->findings_label), findings->str);
  gtk_widget_remove_css_class (self->findings_label, "error");
  gtk_widget_remove_css_class (self->findings_label, "warning");
  if (r->check.worst == THECAL_FINDING_REFUSED)
    gtk_widget_add_css_class (self->findings_label, "error");
  else if (r->check.worst == THECAL_FINDING_OVERRIDE)
    gtk_widget_add_css_class (self->findings_label, "warning");

  gtk_widget_set_visible (self->refusal_label, review_refused (self));
  gtk_widget_set_visible (self->override_title, review_needs_override (self));
  gtk_widget_set_visible (self->override_entry, review_needs_override (self));
  update_override (self);
}

/* ---- the progress view ------------------------------------------------------------------------ */

static void
show_progress (ThecalProgramDialog *self)
{
  for (int i = 0; i < N_PROGRESS; i++)
    {
      const char *icon = NULL;
      const char *state = _ ("Waiting");

      switch (self->progress[i])
        {
        case STEP_ACTIVE:
          icon = "media-playback-start-symbolic";
          state = _ ("In progress");
          break;
        case STEP_DONE:
          icon = "emblem-ok-symbolic";
          state = _ ("Done");
          break;
        case STEP_FAILED:
          icon = "dialog-error-symbolic";
          state = _ ("Failed");
          break;
        case STEP_WAITING:
        default:
          break;
        }
      gtk_image_set_from_icon_name (GTK_IMAGE (self->progress_icons[i]), icon);
      /* the icon's meaning in words, read before the step's name by assistive technologies */
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_icons[i]), GTK_ACCESSIBLE_PROPERTY_LABEL, state, -1);
      if (self->progress[i] == STEP_WAITING)
        gtk_widget_add_css_class (self->progress_labels[i], "dim-label");
      else
        gtk_widget_remove_css_class (self->progress_labels[i], "dim-label");
    }
}

/* Marks @step active and every step before it done. */
static void
progress_reach (ThecalProgramDialog *self, int step)
{
  for (int i = 0; i < N_PROGRESS; i++)
    if (i < step)
      self->progress[i] = STEP_DONE;
    else if (i == step)
      self->progress[i] = STEP_ACTIVE;
  show_progress (self);
}

/* Runs on the main thread (the link's owning context): the pump link entered a step of the
 * two-phase write. */
static void
on_program_step (ThecalPumpLink *link, guint step, gpointer user_data)
{
  ThecalProgramDialog *self = user_data;

  (void) link;
  if (!self->busy || self->wrote)
    return; /* another workflow's write (a refill) */
  switch ((ThecalProgramStep) step)
    {
    case THECAL_PROGRAM_STEP_HANDSHAKE:
    case THECAL_PROGRAM_STEP_STAGE:
      progress_reach (self, PROGRESS_STAGE);
      break;
    case THECAL_PROGRAM_STEP_READ_STAGED:
      progress_reach (self, PROGRESS_READ_STAGED);
      break;
    case THECAL_PROGRAM_STEP_COMMIT:
      progress_reach (self, PROGRESS_COMMIT);
      break;
    case THECAL_PROGRAM_STEP_READ_BACK:
      progress_reach (self, PROGRESS_VERIFY);
      break;
    case THECAL_PROGRAM_STEP_NONE:
    case THECAL_PROGRAM_STEP_CANCEL:
    case THECAL_PROGRAM_STEP_RESOLVE:
    default:
      break;
    }
}

/* ---- the outcome ------------------------------------------------------------------------------- */

static void
emit_finished (ThecalProgramDialog *self)
{
  if (self->finished_emitted)
    return;
  self->finished_emitted = TRUE;
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/* What the pump runs, in words: the mode and the daily dose of its delivery plan. */
static char *
describe_running (ThecalProgramDialog *self)
{
  const ThecalMsgPrescription *active = thecal_visit_get_active (self->visit);
  g_autoptr (ThecalProgramReview) review = thecal_visit_review_prescription (self->visit, &active->rx, NULL);
  const char *mode = thecal_format_mode (active->rx.mode);

  if (review != NULL && review->old_plan_valid)
    {
      g_autofree char *dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, programmed_ng (&review->old_plan));
      g_autofree char *volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, programmed_nl (&review->old_plan));
      g_autofree char *conc = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, active->rx.concentration_ng_per_ml);

      return g_strdup_printf (_ ("The pump runs: %s %s, %s, %s (%s)."), thecal_format_drug (self->library, active->rx.drug_id), conc,
                              mode, dose, volume);
    }
  return g_strdup_printf (_ ("The pump runs: %s."), mode);
}

static void
set_outcome (ThecalProgramDialog *self, const char *icon, const char *title, const char *description, gboolean error)
{
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->outcome_page), icon);
  adw_status_page_set_title (ADW_STATUS_PAGE (self->outcome_page), title);
  adw_status_page_set_description (ADW_STATUS_PAGE (self->outcome_page), description);
  if (error)
    gtk_widget_add_css_class (self->outcome_page, "error");
  else
    gtk_widget_remove_css_class (self->outcome_page, "error");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->outcome_page), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
}

static void show_page (ThecalProgramDialog *self, const char *page);

static void
show_uncertain (ThecalProgramDialog *self, const char *why)
{
  g_autofree char *text = g_strdup_printf (
      _ ("%s\nThe pump may run either the previous or the new prescription. Every change to this pump is blocked until it is "
         "read again: bring the wand over the pump and press “Read the Pump Again”."),
      why);

  self->outcome = THECAL_OUTCOME_UNCERTAIN;
  set_outcome (self, "dialog-warning-symbolic", _ ("Outcome UNCERTAIN"), text, TRUE);
  gtk_widget_set_visible (self->read_again_button, TRUE);
}

/* Runs on the main thread: the write returned. @user_data: the dialog (a reference). */
static void
on_programmed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalProgramDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_FAILED;
  gint64 session_id = 0;
  gboolean ok = thecal_visit_program_finish (THECAL_VISIT (source), result, &outcome, &session_id, &error);

  if (self->visit == NULL)
    return; /* the dialog was destroyed meanwhile */
  self->busy = FALSE;
  self->wrote = TRUE;
  self->finished = TRUE;
  gtk_spinner_stop (GTK_SPINNER (self->spinner));
  if (ok && outcome == THECAL_OUTCOME_CONFIRMED)
    {
      g_autofree char *running = describe_running (self);
      g_autofree char *session = g_strdup_printf ("%" G_GINT64_FORMAT, session_id);
      g_autofree char *text = g_strdup_printf (_ ("The pump read back the new prescription: it runs now (session %s).\n%s"), session, running);

      progress_reach (self, N_PROGRESS);
      self->outcome = THECAL_OUTCOME_CONFIRMED;
      set_outcome (self, "emblem-ok-symbolic", _ ("Change Confirmed"), text, FALSE);
    }
  else if ((ok && outcome == THECAL_OUTCOME_UNCERTAIN) || (!ok && thecal_visit_is_blocked (self->visit, NULL)))
    {
      for (int i = 0; i < N_PROGRESS; i++)
        if (self->progress[i] == STEP_ACTIVE)
          self->progress[i] = STEP_FAILED;
      if (ok)
        self->progress[PROGRESS_RECORD] = STEP_DONE; /* recorded UNCERTAIN */
      show_progress (self);
      show_uncertain (self, error != NULL ? error->message : _ ("The commit was sent and the pump's answers were lost after it."));
    }
  else
    {
      g_autofree char *running = describe_running (self);
      g_autofree char *text = NULL;

      for (int i = 0; i < N_PROGRESS; i++)
        if (self->progress[i] == STEP_ACTIVE)
          self->progress[i] = STEP_FAILED;
      show_progress (self);
      self->outcome = THECAL_OUTCOME_FAILED;
      if (ok)
        text = g_strdup_printf (_ ("The pump did not take the new prescription: it is unchanged.\n%s"), running);
      else
        text = g_strdup_printf (_ ("%s\nNothing was changed on the pump.\n%s"), error->message, running);
      set_outcome (self, "dialog-error-symbolic", _ ("Not Programmed"), text, TRUE);
    }
  /* the steps stay in view under the outcome: where a write that did not confirm stopped */
  if (self->outcome != THECAL_OUTCOME_CONFIRMED && gtk_widget_get_parent (self->steps_box) == self->progress_box)
    {
      g_object_ref (self->steps_box);
      gtk_box_remove (GTK_BOX (self->progress_box), self->steps_box);
      gtk_widget_set_halign (self->steps_box, GTK_ALIGN_CENTER);
      gtk_box_insert_child_after (GTK_BOX (self->outcome_box), self->steps_box, self->outcome_page);
      g_object_unref (self->steps_box);
    }
  show_page (self, "outcome");
  if (self->outcome != THECAL_OUTCOME_UNCERTAIN)
    emit_finished (self);
}

static void
start_program (ThecalProgramDialog *self)
{
  const char *override = review_needs_override (self) ? thecal_form_entry_text (self->override_entry) : NULL;
  g_autofree char *reason = g_strstrip (g_strdup (thecal_form_entry_text (self->reason_entry)));

  for (int i = 0; i < N_PROGRESS; i++)
    self->progress[i] = STEP_WAITING;
  progress_reach (self, PROGRESS_PENDING);
  self->busy = TRUE;
  show_page (self, "progress");
  gtk_spinner_start (GTK_SPINNER (self->spinner));
  /* the review and the strings are copied by the workflow before it returns */
  thecal_visit_program_async (self->visit, self->review, reason, override, NULL, on_programmed, g_object_ref (self));
}

/* Runs on the main thread: the reconciliation returned. @user_data: the dialog (a reference). */
static void
on_reconciled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalProgramDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = thecal_visit_reconcile_finish (THECAL_VISIT (source), result, &error);

  if (self->visit == NULL)
    return;
  self->busy = FALSE;
  gtk_widget_set_sensitive (self->read_again_button, TRUE);
  if (!ok || thecal_visit_is_blocked (self->visit, NULL))
    {
      g_autofree char *text = g_strdup_printf (_ ("The pump could not be read: %s Still UNCERTAIN: try again with the wand over the pump."),
                                               error != NULL ? error->message : _ ("an earlier write is still unresolved."));

      gtk_label_set_text (GTK_LABEL (self->outcome_error), text);
      gtk_widget_set_visible (self->outcome_error, TRUE);
      update_buttons (self);
      return;
    }
  gtk_widget_set_visible (self->outcome_error, FALSE);
  gtk_widget_set_visible (self->read_again_button, FALSE);
  {
    const ThecalMsgPrescription *active = thecal_visit_get_active (self->visit);
    g_autofree char *running = describe_running (self);
    g_autofree char *text = NULL;

    if (thecal_prescription_equal (&active->rx, &self->review->new_rx))
      {
        self->outcome = THECAL_OUTCOME_CONFIRMED;
        text = g_strdup_printf (_ ("Read again: the pump runs the new prescription. Resolved CONFIRMED; changes are allowed again.\n%s"),
                                running);
        set_outcome (self, "emblem-ok-symbolic", _ ("Change Confirmed"), text, FALSE);
      }
    else
      {
        self->outcome = THECAL_OUTCOME_FAILED;
        text = g_strdup_printf (
            thecal_prescription_equal (&active->rx, &self->old_rx)
                ? _ ("Read again: the pump still runs the previous prescription, unchanged. Resolved FAILED; changes are allowed again.\n%s")
                : _ ("Read again: the pump runs neither the previous nor the new prescription. Resolved FAILED: review what it runs.\n%s"),
            running);
        set_outcome (self, "dialog-error-symbolic", _ ("Not Programmed"), text, TRUE);
      }
  }
  update_buttons (self);
  emit_finished (self);
}

void
thecal_program_dialog_read_again (ThecalProgramDialog *self)
{
  g_return_if_fail (THECAL_IS_PROGRAM_DIALOG (self));
  if (!thecal_program_dialog_can_read_again (self))
    return;
  self->busy = TRUE;
  gtk_widget_set_sensitive (self->read_again_button, FALSE);
  gtk_label_set_text (GTK_LABEL (self->outcome_error), _ ("Reading the pump again…"));
  gtk_widget_set_visible (self->outcome_error, TRUE);
  update_buttons (self);
  thecal_visit_reconcile_async (self->visit, NULL, on_reconciled, g_object_ref (self));
}

gboolean
thecal_program_dialog_can_read_again (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  return !self->busy && self->wrote && self->outcome == THECAL_OUTCOME_UNCERTAIN && gtk_widget_get_visible (self->read_again_button);
}

/* Runs on the main thread: "Read the Pump Again". */
static void
on_read_again_clicked (ThecalProgramDialog *self)
{
  thecal_program_dialog_read_again (self);
}

/* ---- navigation ----------------------------------------------------------------------------- */

static gboolean
page_complete (ThecalProgramDialog *self, const char *page)
{
  if (g_strcmp0 (page, "edit") == 0)
    return self->check_id == 0 && self->review != NULL && self->review->changes->len > 0 && !thecal_visit_is_blocked (self->visit, NULL);
  if (g_strcmp0 (page, "review") == 0)
    {
      g_autofree char *reason = NULL;

      if (review_refused (self) || thecal_visit_is_blocked (self->visit, NULL))
        return FALSE;
      if (!review_needs_override (self))
        return TRUE;
      reason = g_strstrip (g_strdup (thecal_form_entry_text (self->override_entry)));
      return g_utf8_strlen (reason, -1) >= THECAL_PROGRAM_DIALOG_REASON_MIN_CHARS;
    }
  if (g_strcmp0 (page, "outcome") == 0)
    return !self->busy;
  return FALSE; /* progress */
}

static void
update_buttons (ThecalProgramDialog *self)
{
  const char *page = current_page (self);
  gboolean first = g_strcmp0 (page, "edit") == 0;
  gboolean running = g_strcmp0 (page, "progress") == 0;
  gboolean done = g_strcmp0 (page, "outcome") == 0;
  const char *next = g_strcmp0 (page, "review") == 0 ? _ ("Program") : done ? _ ("Close")
                                                                            : _ ("Next");
  const char *back = first ? _ ("Cancel") : _ ("Back");

  thecal_form_set_step_header (self->back_button, back, !running && !done, self->next_button, next, !running, page_complete (self, page),
                               self->window_title, page, page_titles, G_N_ELEMENTS (page_titles));
}

static void
show_page (ThecalProgramDialog *self, const char *page)
{
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), page);
  update_buttons (self);
}

/* Runs on the main thread: any field of the editor changed. */
static void
on_field_changed (ThecalProgramDialog *self)
{
  schedule_check (self);
}

/* Runs on the main thread: Enter in an entry: the pending check at once, then Next (as the header
 * bar's button, only when the page is complete). */
static void
on_entry_activate (ThecalProgramDialog *self)
{
  if (self->check_id != 0)
    run_check (self);
  thecal_program_dialog_next (self);
}

/* Runs on the main thread: a field of the review page changed. */
static void
on_review_field_changed (ThecalProgramDialog *self)
{
  update_override (self);
  update_buttons (self);
}

void
thecal_program_dialog_next (ThecalProgramDialog *self)
{
  const char *page;

  g_return_if_fail (THECAL_IS_PROGRAM_DIALOG (self));
  page = current_page (self);
  if (!page_complete (self, page))
    return;
  if (g_strcmp0 (page, "edit") == 0)
    {
      show_review (self);
      show_page (self, "review");
    }
  else if (g_strcmp0 (page, "review") == 0)
    start_program (self);
  else if (g_strcmp0 (page, "outcome") == 0)
    gtk_window_close (GTK_WINDOW (self));
}

void
thecal_program_dialog_back (ThecalProgramDialog *self)
{
  const char *page;

  g_return_if_fail (THECAL_IS_PROGRAM_DIALOG (self));
  page = current_page (self);
  if (g_strcmp0 (page, "edit") == 0)
    gtk_window_close (GTK_WINDOW (self));
  else if (g_strcmp0 (page, "review") == 0)
    show_page (self, "edit");
}

/* Runs on the main thread: the header bar's buttons. */
static void
on_next_clicked (ThecalProgramDialog *self)
{
  thecal_program_dialog_next (self);
}

static void
on_back_clicked (ThecalProgramDialog *self)
{
  thecal_program_dialog_back (self);
}

/* ---- the public accessors --------------------------------------------------------------------- */

const char *
thecal_program_dialog_get_page (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), NULL);
  return current_page (self);
}

gboolean
thecal_program_dialog_can_go_next (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  return gtk_widget_get_sensitive (self->next_button) && gtk_widget_get_visible (self->next_button);
}

gboolean
thecal_program_dialog_get_check_pending (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  return self->check_id != 0;
}

void
thecal_program_dialog_check_now (ThecalProgramDialog *self)
{
  g_return_if_fail (THECAL_IS_PROGRAM_DIALOG (self));
  run_check (self);
}

void
thecal_program_dialog_set_mode (ThecalProgramDialog *self, ThecalMode mode)
{
  g_return_if_fail (THECAL_IS_PROGRAM_DIALOG (self));
  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    if (modes[i] == mode)
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->mode_dropdown), (guint) i);
}

ThecalMode
thecal_program_dialog_get_mode (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), THECAL_MODE_STOPPED);
  return selected_mode (self);
}

gboolean
thecal_program_dialog_add_flex_step (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  if (self->flex_rows->len >= THECAL_FLEX_STEPS_MAX)
    return FALSE;
  add_flex_row (self, NULL);
  schedule_check (self);
  return TRUE;
}

gboolean
thecal_program_dialog_remove_flex_step (ThecalProgramDialog *self, guint index)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  if (self->flex_rows->len <= 1)
    return FALSE; /* a flex schedule has at least one step */
  return remove_row (self, self->flex_rows, self->flex_rows_box, index);
}

guint
thecal_program_dialog_get_n_flex_steps (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), 0);
  return self->flex_rows->len;
}

gboolean
thecal_program_dialog_add_periodic_bolus (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  if (self->periodic_rows->len >= THECAL_PERIODIC_BOLUSES_MAX)
    return FALSE;
  add_periodic_row (self, NULL);
  schedule_check (self);
  return TRUE;
}

gboolean
thecal_program_dialog_remove_periodic_bolus (ThecalProgramDialog *self, guint index)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  return remove_row (self, self->periodic_rows, self->periodic_rows_box, index);
}

guint
thecal_program_dialog_get_n_periodic_boluses (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), 0);
  return self->periodic_rows->len;
}

void
thecal_program_dialog_set_ptm_enabled (ThecalProgramDialog *self, gboolean enabled)
{
  g_return_if_fail (THECAL_IS_PROGRAM_DIALOG (self));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->ptm_check), enabled);
}

/* Runs on the main thread: the add buttons. */
static void
on_flex_add_clicked (ThecalProgramDialog *self)
{
  thecal_program_dialog_add_flex_step (self);
}

static void
on_periodic_add_clicked (ThecalProgramDialog *self)
{
  thecal_program_dialog_add_periodic_bolus (self);
}

static GtkWidget *
field_entry (ThecalProgramDialog *self, const char *field)
{
  const struct
  {
    const char *name;
    GtkWidget *entry;
  } fields[] = {
    { "continuous", self->continuous_entry },
    { "ptm.dose", self->ptm_dose_entry },
    { "ptm.duration", self->ptm_duration_entry },
    { "ptm.lockout", self->ptm_lockout_entry },
    { "ptm.max_per_24h", self->ptm_max_entry },
    { "reason", self->reason_entry },
    { "override", self->override_entry },
  };
  int index = -1, consumed = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (g_strcmp0 (fields[i].name, field) == 0)
      return fields[i].entry;
  if (sscanf (field, "flex_steps[%d]%n", &index, &consumed) == 1 && consumed > 0 && index >= 0 && (guint) index < self->flex_rows->len)
    {
      Row *row = self->flex_rows->pdata[index];

      if (g_strcmp0 (field + consumed, ".start") == 0)
        return row->start;
      if (g_strcmp0 (field + consumed, ".amount") == 0)
        return row->amount;
      return NULL;
    }
  if (sscanf (field, "periodic_boluses[%d]%n", &index, &consumed) == 1 && consumed > 0 && index >= 0
      && (guint) index < self->periodic_rows->len)
    {
      Row *row = self->periodic_rows->pdata[index];

      if (g_strcmp0 (field + consumed, ".start") == 0)
        return row->start;
      if (g_strcmp0 (field + consumed, ".dose") == 0)
        return row->amount;
      if (g_strcmp0 (field + consumed, ".duration") == 0)
        return row->duration;
    }
  return NULL;
}

gboolean
thecal_program_dialog_set_text (ThecalProgramDialog *self, const char *field, const char *text)
{
  GtkWidget *entry;

  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  entry = field_entry (self, field);
  if (entry == NULL)
    return FALSE;
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  return TRUE;
}

char *
thecal_program_dialog_dup_field (ThecalProgramDialog *self, const char *field)
{
  GtkWidget *entry;

  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), NULL);
  entry = field_entry (self, field);
  return entry != NULL ? g_strdup (thecal_form_entry_text (entry)) : NULL;
}

static const char *
css_class_of (GtkWidget *label)
{
  static const char *const classes[] = { "error", "warning", "dim-label" };

  if (gtk_label_get_text (GTK_LABEL (label))[0] == '\0')
    return "";
  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    if (gtk_widget_has_css_class (label, classes[i]))
      return classes[i];
  return "";
}

char *
thecal_program_dialog_dup_text (ThecalProgramDialog *self, const char *key, const char **css_class)
{
  GtkWidget *label = NULL;
  int index = -1, consumed = 0;
  const struct
  {
    const char *key;
    GtkWidget *label;
  } labels[] = {
    { "drug", self->drug_error },
    { "mode", self->mode_error },
    { "continuous", self->continuous_error },
    { "flex_steps", self->flex_error },
    { "periodic_boluses", self->periodic_error },
    { "ptm", self->ptm_error },
    { "ptm.dose", self->ptm_dose_error },
    { "ptm.duration", self->ptm_duration_error },
    { "ptm.lockout", self->ptm_lockout_error },
    { "ptm.max_per_24h", self->ptm_max_error },
    { "general", self->general_error },
    { "daily", self->daily_label },
    { "blocked", self->blocked_label },
    { "changes", self->changes_label },
    { "dates", self->dates_label },
    { "findings", self->findings_label },
    { "refusal", self->refusal_label },
    { "override", self->override_error },
    { "outcome_error", self->outcome_error },
  };

  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), NULL);
  if (css_class != NULL)
    *css_class = "";
  if (g_strcmp0 (key, "outcome") == 0)
    return g_strdup_printf ("%s\n%s", adw_status_page_get_title (ADW_STATUS_PAGE (self->outcome_page)),
                            adw_status_page_get_description (ADW_STATUS_PAGE (self->outcome_page)));
  if (g_strcmp0 (key, "progress") == 0)
    {
      g_autoptr (GString) text = g_string_new (NULL);

      for (int i = 0; i < N_PROGRESS; i++)
        g_string_append_printf (text, "%s%s\n",
                                self->progress[i] == STEP_DONE     ? "✓ "
                                : self->progress[i] == STEP_ACTIVE ? "→ "
                                : self->progress[i] == STEP_FAILED ? "✗ "
                                                                   : "  ",
                                gtk_label_get_text (GTK_LABEL (self->progress_labels[i])));
      return g_string_free (g_steal_pointer (&text), FALSE);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (labels[i].key, key) == 0)
      label = labels[i].label;
  if (label == NULL && sscanf (key, "flex_steps[%d]%n", &index, &consumed) == 1 && key[consumed] == '\0' && index >= 0
      && (guint) index < self->flex_rows->len)
    label = ((Row *) self->flex_rows->pdata[index])->error;
  if (label == NULL && sscanf (key, "periodic_boluses[%d]%n", &index, &consumed) == 1 && key[consumed] == '\0' && index >= 0
      && (guint) index < self->periodic_rows->len)
    label = ((Row *) self->periodic_rows->pdata[index])->error;
  if (label == NULL)
    return NULL;
  if (css_class != NULL)
    *css_class = css_class_of (label);
  return g_strdup (gtk_widget_get_visible (label) ? gtk_label_get_text (GTK_LABEL (label)) : "");
}

GtkWidget *
thecal_program_dialog_get_chart (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), NULL);
  return self->chart;
}

gboolean
thecal_program_dialog_get_busy (ThecalProgramDialog *self)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  return self->busy;
}

gboolean
thecal_program_dialog_get_finished (ThecalProgramDialog *self, ThecalProgrammingOutcome *outcome)
{
  g_return_val_if_fail (THECAL_IS_PROGRAM_DIALOG (self), FALSE);
  if (outcome != NULL)
    *outcome = self->outcome;
  return self->finished;
}

/* ---- construction ------------------------------------------------------------------------------ */

static void
fill_editor (ThecalProgramDialog *self)
{
  const ThecalPrescription *rx = &self->old_rx;

  self->filling = TRUE;
  thecal_program_dialog_set_mode (self, rx->mode);
  if (rx->mode == THECAL_MODE_CONTINUOUS)
    set_entry (self->continuous_entry, amount_text (&rx->continuous));
  for (int32_t i = 0; rx->mode == THECAL_MODE_FLEX && i < rx->n_flex_steps && i < THECAL_FLEX_STEPS_MAX; i++)
    add_flex_row (self, &rx->flex_steps[i]);
  for (int32_t i = 0; i < rx->n_periodic_boluses && i < THECAL_PERIODIC_BOLUSES_MAX; i++)
    add_periodic_row (self, &rx->periodic_boluses[i]);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->ptm_check), rx->ptm.enabled);
  if (rx->ptm.enabled)
    {
      set_entry (self->ptm_dose_entry, thecal_format_quantity (THECAL_QUANTITY_AMOUNT, rx->ptm.dose_ng));
      set_entry (self->ptm_duration_entry, thecal_format_quantity (THECAL_QUANTITY_DURATION, rx->ptm.duration_ms));
      set_entry (self->ptm_lockout_entry, thecal_format_quantity (THECAL_QUANTITY_DURATION, rx->ptm.lockout_ms));
      set_entry (self->ptm_max_entry, g_strdup_printf ("%d", (int) rx->ptm.max_per_24h));
    }
  gtk_widget_set_sensitive (self->ptm_fields_box, rx->ptm.enabled);
  update_mode (self);
  renumber (self);
  self->filling = FALSE;
}

static void
build_pages (ThecalProgramDialog *self)
{
  const ThecalPumpModel *model = thecal_visit_get_model (self->visit);
  g_autoptr (GtkStringList) mode_names = gtk_string_list_new (NULL);
  g_autofree char *conc = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, self->old_rx.concentration_ng_per_ml);
  g_autofree char *minimum = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, model->minimum_rate_nl_per_day);
  GtkWidget *section, *label, *line, *header;

  /* ---- edit ---- */
  {
    g_autofree char *drug = g_strdup_printf (_ ("%s %s in a %s. Edit the new prescription: the dose core checks it as you type. A "
                                                "change of drug or concentration is a refill (Refill…)."),
                                             thecal_format_drug (self->library, self->old_rx.drug_id), conc, model->id);

    thecal_form_add_text (self->edit_box, drug, NULL);
  }
  self->drug_error = add_error_label (self->edit_box);
  /* what the pump will deliver, and the findings about the whole prescription, at the top */
  section = add_section (self->edit_box, NULL);
  gtk_widget_add_css_class (section, "card");
  gtk_widget_set_margin_top (section, 0);
  self->daily_label = thecal_form_add_text (section, "", NULL);
  gtk_widget_set_margin_start (self->daily_label, 12);
  gtk_widget_set_margin_end (self->daily_label, 12);
  gtk_widget_set_margin_top (self->daily_label, 8);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->daily_label), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("New daily dose"), -1);
  self->general_error = add_error_label (section);
  gtk_widget_set_margin_start (self->general_error, 12);
  gtk_widget_set_margin_end (self->general_error, 12);
  gtk_widget_set_margin_bottom (section, 0);
  gtk_widget_set_margin_bottom (self->general_error, 8);
  self->blocked_label = add_error_label (self->edit_box);
  gtk_widget_add_css_class (self->blocked_label, "error");

  section = add_section (self->edit_box, NULL);
  label = thecal_form_add_text (section, _ ("Mode"), "heading");
  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    gtk_string_list_append (mode_names, thecal_format_mode (modes[i]));
  self->mode_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (mode_names)), NULL);
  /* named by the visible label only (see add_entry) */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->mode_dropdown), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
  gtk_widget_set_halign (self->mode_dropdown, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (section), self->mode_dropdown);
  self->mode_error = add_error_label (section);

  self->continuous_box = add_section (self->edit_box, NULL);
  self->continuous_entry = thecal_form_add_entry_full (self->continuous_box, _ ("Continuous dose or rate per day"), _ ("e.g. 5 mg/day or 0.2 mL/day"), FALSE, NULL, &self->continuous_error);

  self->flex_box = add_section (self->edit_box, _ ("Flex Steps"));
  thecal_form_add_text (self->flex_box, _ ("Each step runs from its start until the next step's start; the last until the first starts again."), "dim-label");
  header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  {
    const char *titles[] = { _ ("Step"), _ ("Start"), _ ("Dose or rate per day") };

    for (gsize i = 0; i < G_N_ELEMENTS (titles); i++)
      {
        GtkWidget *title = gtk_label_new (titles[i]);

        gtk_widget_add_css_class (title, "heading");
        gtk_label_set_xalign (GTK_LABEL (title), 0);
        if (i == 0)
          gtk_label_set_width_chars (GTK_LABEL (title), 3);
        else if (i == 1)
          gtk_label_set_width_chars (GTK_LABEL (title), 8);
        gtk_box_append (GTK_BOX (header), title);
      }
  }
  gtk_box_append (GTK_BOX (self->flex_box), header);
  self->flex_rows_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (self->flex_box), self->flex_rows_box);
  self->flex_add_button = gtk_button_new_with_label (_ ("Add Step"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->flex_add_button), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Add Step"), -1);
  gtk_widget_set_halign (self->flex_add_button, GTK_ALIGN_START);
  g_signal_connect_swapped (self->flex_add_button, "clicked", G_CALLBACK (on_flex_add_clicked), self);
  gtk_box_append (GTK_BOX (self->flex_box), self->flex_add_button);
  self->flex_error = add_error_label (self->flex_box);

  {
    g_autofree char *text = g_strdup_printf (_ ("The pump delivers its minimum rate, %s, to keep the catheter open."), minimum);

    self->minimum_label = thecal_form_add_text (self->edit_box, text, NULL);
  }
  self->stopped_label = thecal_form_add_text (self->edit_box, _ ("The pump stops: nothing is delivered. Withdrawal is a risk: stop only with a plan."),
                                              "warning");

  self->periodic_box = add_section (self->edit_box, _ ("Periodic Boluses"));
  thecal_form_add_text (self->periodic_box, _ ("Given every day at their start time, on top of the mode's delivery."), "dim-label");
  header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  {
    const char *titles[] = { _ ("Bolus"), _ ("Start"), _ ("Dose"), _ ("Duration") };

    for (gsize i = 0; i < G_N_ELEMENTS (titles); i++)
      {
        GtkWidget *title = gtk_label_new (titles[i]);

        gtk_widget_add_css_class (title, "heading");
        gtk_label_set_xalign (GTK_LABEL (title), 0);
        gtk_label_set_width_chars (GTK_LABEL (title), i == 0 ? 3 : 8);
        gtk_widget_set_hexpand (title, i >= 2);
        gtk_box_append (GTK_BOX (header), title);
      }
  }
  gtk_box_append (GTK_BOX (self->periodic_box), header);
  self->periodic_header = header;
  self->periodic_rows_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (self->periodic_box), self->periodic_rows_box);
  self->periodic_add_button = gtk_button_new_with_label (_ ("Add Periodic Bolus"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->periodic_add_button), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Add Periodic Bolus"), -1);
  gtk_widget_set_halign (self->periodic_add_button, GTK_ALIGN_START);
  g_signal_connect_swapped (self->periodic_add_button, "clicked", G_CALLBACK (on_periodic_add_clicked), self);
  gtk_box_append (GTK_BOX (self->periodic_box), self->periodic_add_button);
  self->periodic_error = add_error_label (self->periodic_box);

  section = add_section (self->edit_box, _ ("Patient Therapy Manager (PTM)"));
  self->ptm_check = gtk_check_button_new_with_label (_ ("PTM boluses enabled"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->ptm_check), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("PTM boluses enabled"), -1);
  gtk_box_append (GTK_BOX (section), self->ptm_check);
  self->ptm_fields_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_box_append (GTK_BOX (section), self->ptm_fields_box);
  self->ptm_dose_entry = thecal_form_add_entry_full (self->ptm_fields_box, _ ("PTM bolus dose"), _ ("e.g. 0.1 mg"), FALSE, NULL, &self->ptm_dose_error);
  self->ptm_duration_entry = thecal_form_add_entry_full (self->ptm_fields_box, _ ("PTM bolus duration"), _ ("e.g. 10 min"), FALSE, NULL, &self->ptm_duration_error);
  self->ptm_lockout_entry = thecal_form_add_entry_full (self->ptm_fields_box, _ ("PTM lockout (from one bolus to the next)"), _ ("e.g. 3 h"), FALSE, NULL, &self->ptm_lockout_error);
  self->ptm_max_entry = thecal_form_add_entry_full (self->ptm_fields_box, _ ("PTM maximum boluses per 24 h"), _ ("e.g. 4"), FALSE, NULL, &self->ptm_max_error);
  self->ptm_error = add_error_label (section);

  /* ---- review ---- */
  thecal_form_add_text (self->review_box, _ ("What changes (running → new)"), "title-4");
  self->changes_label = thecal_form_add_text (self->review_box, "", NULL);
  gtk_label_set_selectable (GTK_LABEL (self->changes_label), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->changes_label), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Changes"), -1);
  thecal_form_add_text (self->review_box, _ ("Daily dose and reservoir"), "title-4");
  self->dates_label = thecal_form_add_text (self->review_box, "", NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->dates_label), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Daily dose and reservoir dates"), -1);
  self->chart = thecal_projection_chart_new ();
  gtk_widget_set_size_request (self->chart, -1, 300);
  gtk_box_append (GTK_BOX (self->review_box), self->chart);
  thecal_form_add_text (self->review_box, _ ("Findings of the dose core"), "title-4");
  self->findings_label = thecal_form_add_text (self->review_box, "", NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->findings_label), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Findings"), -1);
  self->refusal_label = thecal_form_add_text (self->review_box,
                                              _ ("The dose core refuses this prescription (a hard limit or an impossible prescription): it cannot be "
                                                 "programmed. Go back and change it."),
                                              "error");
  gtk_widget_set_visible (self->refusal_label, FALSE);
  line = thecal_form_add_text (self->review_box, _ ("Reason for the change (recorded with it)"), "heading");
  self->reason_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->reason_entry), _ ("e.g. pain not controlled at night"));
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->reason_entry), GTK_ACCESSIBLE_RELATION_LABELLED_BY, line, NULL, -1);
  gtk_box_append (GTK_BOX (self->review_box), self->reason_entry);
  self->override_title = thecal_form_add_text (self->review_box, _ ("Reason to override the soft limit (at least 10 characters)"), "heading");
  self->override_entry = gtk_entry_new ();
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->override_entry), GTK_ACCESSIBLE_RELATION_LABELLED_BY, self->override_title, NULL, -1);
  gtk_box_append (GTK_BOX (self->review_box), self->override_entry);
  self->override_error = add_error_label (self->review_box);
  gtk_widget_add_css_class (self->override_error, "error");

  /* ---- progress ---- */
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_size_request (self->spinner, 32, 32);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Programming"), -1);
  gtk_box_append (GTK_BOX (self->progress_box), self->spinner);
  thecal_form_add_text (self->progress_box, _ ("Writing to the pump. It keeps delivering the running prescription until the commit switches it at "
                                               "one instant. Keep the wand over the pump."),
                        NULL);
  {
    const char *steps[N_PROGRESS] = {
      _ ("Record the change as pending"),
      _ ("Stage the new prescription on the pump"),
      _ ("Read the staged copy back and compare"),
      _ ("Commit: the pump switches to it"),
      _ ("Verify: read the running prescription back"),
      _ ("Record the outcome"),
    };

    self->steps_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->steps_box), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Steps of the write"), -1);
    gtk_box_append (GTK_BOX (self->progress_box), self->steps_box);
    for (int i = 0; i < N_PROGRESS; i++)
      {
        GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);

        self->progress_icons[i] = gtk_image_new ();
        gtk_widget_set_size_request (self->progress_icons[i], 16, 16);
        gtk_box_append (GTK_BOX (row), self->progress_icons[i]);
        self->progress_labels[i] = thecal_form_add_text (row, steps[i], "dim-label");
        gtk_box_append (GTK_BOX (self->steps_box), row);
      }
  }

  /* ---- outcome ---- */
  self->outcome_page = adw_status_page_new ();
  gtk_widget_set_vexpand (self->outcome_page, TRUE);
  gtk_box_append (GTK_BOX (self->outcome_box), self->outcome_page);
  self->read_again_button = gtk_button_new_with_label (_ ("Read the Pump Again"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->read_again_button), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Read the Pump Again"), -1);
  gtk_widget_add_css_class (self->read_again_button, "suggested-action");
  gtk_widget_add_css_class (self->read_again_button, "pill");
  gtk_widget_set_halign (self->read_again_button, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->read_again_button, FALSE);
  g_signal_connect_swapped (self->read_again_button, "clicked", G_CALLBACK (on_read_again_clicked), self);
  gtk_box_append (GTK_BOX (self->outcome_box), self->read_again_button);
  self->outcome_error = add_error_label (self->outcome_box);
  gtk_label_set_xalign (GTK_LABEL (self->outcome_error), 0.5);

  fill_editor (self);
  {
    GtkWidget *entries[] = { self->continuous_entry, self->ptm_dose_entry, self->ptm_duration_entry, self->ptm_lockout_entry,
                             self->ptm_max_entry };

    for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
      {
        g_signal_connect_swapped (entries[i], "changed", G_CALLBACK (on_field_changed), self);
        g_signal_connect_swapped (entries[i], "activate", G_CALLBACK (on_entry_activate), self);
      }
  }
  g_signal_connect_swapped (self->reason_entry, "activate", G_CALLBACK (on_entry_activate), self);
  g_signal_connect_swapped (self->override_entry, "activate", G_CALLBACK (on_entry_activate), self);
  g_signal_connect_swapped (self->mode_dropdown, "notify::selected", G_CALLBACK (on_mode_changed), self);
  g_signal_connect_swapped (self->ptm_check, "toggled", G_CALLBACK (on_ptm_toggled), self);
  g_signal_connect_swapped (self->reason_entry, "changed", G_CALLBACK (on_review_field_changed), self);
  g_signal_connect_swapped (self->override_entry, "changed", G_CALLBACK (on_review_field_changed), self);
  g_signal_connect_object (thecal_visit_get_link (self->visit), "program-step", G_CALLBACK (on_program_step), self, 0);

  if (thecal_visit_is_blocked (self->visit, NULL))
    {
      gtk_label_set_text (GTK_LABEL (self->blocked_label),
                          _ ("Blocked: an earlier write to this pump is UNCERTAIN. Read the pump again (connect and interrogate) before "
                             "any change."));
      gtk_widget_set_visible (self->blocked_label, TRUE);
    }
  show_page (self, "edit");
  run_check (self);
}

/* Runs on the main thread: the window is asked to close (Escape, the window manager). Not while
 * the pump is written or read: the outcome must be seen. */
static gboolean
thecal_program_dialog_close_request (GtkWindow *window)
{
  ThecalProgramDialog *self = THECAL_PROGRAM_DIALOG (window);

  if (self->busy)
    return TRUE;
  /* an UNCERTAIN write left as it is: the overview reads the pump again (which settles it) */
  if (self->wrote)
    emit_finished (self);
  return GTK_WINDOW_CLASS (thecal_program_dialog_parent_class)->close_request != NULL
             ? GTK_WINDOW_CLASS (thecal_program_dialog_parent_class)->close_request (window)
             : FALSE;
}

static void
thecal_program_dialog_dispose (GObject *object)
{
  ThecalProgramDialog *self = THECAL_PROGRAM_DIALOG (object);

  /* a write in flight is not cancellable at the pump; the visit finishes it and records it */
  g_clear_handle_id (&self->check_id, g_source_remove);
  g_clear_pointer (&self->review, thecal_program_review_free);
  g_clear_pointer (&self->messages, g_hash_table_unref);
  g_clear_pointer (&self->flex_rows, g_ptr_array_unref);
  g_clear_pointer (&self->periodic_rows, g_ptr_array_unref);
  g_clear_object (&self->visit);
  g_clear_pointer (&self->library, g_free);
  G_OBJECT_CLASS (thecal_program_dialog_parent_class)->dispose (object);
}

static void
thecal_program_dialog_class_init (ThecalProgramDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_program_dialog_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = thecal_program_dialog_close_request;

  /* Emitted on the main thread once the write's outcome is settled (CONFIRMED, FAILED, a refusal,
   * or an UNCERTAIN one resolved by "Read the Pump Again"), or when the dialog closes after a
   * write that is still UNCERTAIN: the overview reads the pump again. At most once. */
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-program-dialog.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, ThecalProgramDialog, name)
  BIND (window_title);
  BIND (back_button);
  BIND (next_button);
  BIND (stack);
  BIND (edit_box);
  BIND (review_box);
  BIND (progress_box);
  BIND (outcome_box);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_next_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
  /* Escape closes (not while the pump is written: close_request refuses) */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
thecal_program_dialog_init (ThecalProgramDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->messages = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, message_free);
  self->flex_rows = g_ptr_array_new_with_free_func (row_free);
  self->periodic_rows = g_ptr_array_new_with_free_func (row_free);
}

ThecalProgramDialog *
thecal_program_dialog_new (ThecalVisit *visit, const ThecalDrugLibrary *library)
{
  ThecalProgramDialog *self;

  g_return_val_if_fail (THECAL_IS_VISIT (visit), NULL);
  g_return_val_if_fail (thecal_visit_is_connected (visit), NULL);
  g_return_val_if_fail (library != NULL, NULL);
  self = g_object_new (THECAL_TYPE_PROGRAM_DIALOG, NULL);
  self->visit = g_object_ref (visit);
  self->library = g_memdup2 (library, sizeof *library);
  self->old_rx = thecal_visit_get_active (visit)->rx;
  build_pages (self);
  return self;
}
