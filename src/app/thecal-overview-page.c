/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-overview-page.c: see thecal-overview-page.h.
 */
#include "config.h"

#include "thecal-overview-page.h"

#include <glib/gi18n.h>

#include "thecal-bolus-dialog.h"
#include "thecal-callback-timing.h"
#include "thecal-demo.h"
#include "thecal-format.h"
#include "thecal-program-dialog.h"
#include "thecal-implant-dialog.h"
#include "thecal-history-page.h"
#include "thecal-refill-wizard.h"
#include "thecal-settings.h"
#include "thecal-workflow-clock.h"
#ifdef THECAL_HAVE_USB_TRANSPORT
#include "thecal-usb-transport.h"
#endif

struct _ThecalOverviewPage
{
  AdwBin parent_instance;

  GtkWidget *stack;
  GtkWidget *patient_label;
  GtkWidget *patient_detail_label;
  GtkWidget *connect_button;
  GtkWidget *cancel_button;
  GtkWidget *refill_button;
  GtkWidget *program_button;
  GtkWidget *bolus_button;
  GtkWidget *clock_button;
  GtkWidget *register_button;
  GtkWidget *spinner;
  GtkWidget *connect_status_label;
  GtkWidget *progress_bar;
  GtkWidget *content_box;
  GtkWidget *drug_label;
  GtkWidget *concentration_label;
  GtkWidget *mode_label;
  GtkWidget *dose_label;
  GtkWidget *rate_label;
  GtkWidget *reservoir_gauge;
  GtkWidget *reservoir_label;
  GtkWidget *low_date_label;
  GtkWidget *empty_date_label;
  GtkWidget *refill_by_label;
  GtkWidget *battery_label;
  GtkWidget *eri_label;
  GtkWidget *alarms_list;
  GtkWidget *findings_list;
  GtkWidget *demo_pump_row;
  GtkWidget *demo_pump_dropdown;

  ThecalRecordSession *session;
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  ThecalPatient *patient;
  ThecalDemoLink *demo_link; /* demo mode: the patient's simulated pump */
  /* a clinic record: the pump through the USB wand (docs/gui.md "Pump overview"); the visit holds
   * its link, which holds the wand's transport and the clock */
  ThecalVisit *wand_visit;
  ThecalWandStatus *wand_status; /* the header's (a weak pointer): told who uses the USB wand */
  GCancellable *cancellable;     /* the connection, or a clock sync or an acknowledgement, in flight */
  guint pulse_id;
  GtkWidget *wizard;         /* the refill wizard open on the connected visit (not owned) */
  GtkWidget *program_dialog; /* the prescription editor open on the connected visit (not owned) */
  GtkWidget *action_dialog;  /* the bolus or implant dialog or a confirmation open (not owned) */
  char *action_note;         /* what the last action did, shown once the pump was read again */
  gboolean unknown_pump;     /* the connection answered UNKNOWN_PUMP: the link stays for the registration */

  /* demo mode (thecal-demo.h) */
  ThecalDemoWorld *demo_world; /* demo mode: the session's simulated pumps (NULL: one per connect) */
  gulong world_changed_id;
  GPtrArray *demo_serials;           /* char *: the dropdown's pumps, in its order */
  GCancellable *refresh_cancellable; /* the quiet re-read in flight */
  guint refresh_tick_id;
  gint64 last_read_us;        /* real monotonic time of the last read (0: re-read soon) */
  gboolean reinterrogate_due; /* a refill returned while a re-read ran */
  char *rows_key;             /* what the alarm and finding rows show (rows_key ()), or NULL */
};

G_DEFINE_FINAL_TYPE (ThecalOverviewPage, thecal_overview_page, ADW_TYPE_BIN)

/* The visit of the link to the pump, whichever it is (the demo's simulated pump or the pump
 * through the USB wand), or NULL without one. */
static ThecalVisit *
link_visit (ThecalOverviewPage *self)
{
  if (self->demo_link != NULL)
    return thecal_demo_link_get_visit (self->demo_link);
  return self->wand_visit;
}

/* Drops the link to the pump (the visit, its link, the wand's transport). */
static void
drop_link (ThecalOverviewPage *self)
{
  g_clear_object (&self->demo_link);
  if (self->wand_visit != NULL && self->wand_status != NULL)
    thecal_wand_status_follow_link (self->wand_status, NULL); /* the header asks the wand itself again */
  g_clear_object (&self->wand_visit);
}

/* The simulated wand's latency each way in demo mode. */
#define DEMO_LINK_LATENCY_MS 5
/* Demo mode: how often the connected pump is read again (real time): every 2 s while the demo
 * runs faster than real time (a trainer watches the reservoir fall and the alarms arrive), every
 * minute at 1×; checked twice a second. */
#define DEMO_REFRESH_FAST_US (2 * G_USEC_PER_SEC)
#define DEMO_REFRESH_REAL_TIME_US (60 * G_USEC_PER_SEC)
#define DEMO_REFRESH_TICK_MS 500

static void
set_status (ThecalOverviewPage *self, const char *text, gboolean error)
{
  gtk_label_set_text (GTK_LABEL (self->connect_status_label), text != NULL ? text : "");
  if (error)
    gtk_widget_add_css_class (self->connect_status_label, "error");
  else
    gtk_widget_remove_css_class (self->connect_status_label, "error");
}

/* Runs on the main thread every 100 ms while connecting: the progress bar moves. */
static gboolean
on_pulse (gpointer user_data)
{
  ThecalOverviewPage *self = user_data;

  gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->progress_bar));
  return G_SOURCE_CONTINUE;
}

static void
set_busy (ThecalOverviewPage *self, gboolean busy)
{
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_widget_set_visible (self->spinner, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_widget_set_visible (self->progress_bar, busy);
  gtk_widget_set_sensitive (self->connect_button, !busy && self->patient != NULL && self->session != NULL);
  gtk_widget_set_visible (self->refill_button, !busy && thecal_overview_page_get_visit (self) != NULL);
  gtk_widget_set_visible (self->program_button, !busy && thecal_overview_page_get_visit (self) != NULL);
  gtk_widget_set_visible (self->bolus_button, !busy && thecal_overview_page_get_visit (self) != NULL);
  gtk_widget_set_visible (self->clock_button, !busy && thecal_overview_page_get_visit (self) != NULL);
  gtk_widget_set_visible (self->register_button, !busy && self->unknown_pump && link_visit (self) != NULL);
  if (busy && self->pulse_id == 0)
    self->pulse_id = g_timeout_add (100, on_pulse, self);
  if (!busy)
    g_clear_handle_id (&self->pulse_id, g_source_remove);
}

static void
list_clear (GtkWidget *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (list), child);
}

static GtkWidget *
list_add (GtkWidget *list, const char *title, const char *subtitle, const char *css_class)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  if (css_class != NULL)
    gtk_widget_add_css_class (row, css_class);
  /* no label property: the row is labelled by its title (and described by its subtitle) already,
   * and GTK 4.8 would join the two into a name read twice */
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  return row;
}

static void
set_label (GtkWidget *label, char *text /* owned */)
{
  gtk_label_set_text (GTK_LABEL (label), text != NULL ? text : "—");
  g_free (text);
}

static void on_ack_clicked (GtkButton *button, gpointer user_data);
static void on_clock_clicked (ThecalOverviewPage *self);

/* A button at the end of @row: @label, named for assistive technologies by @accessible. */
static GtkWidget *
row_add_button (GtkWidget *row, const char *label, const char *accessible)
{
  GtkWidget *button = gtk_button_new_with_label (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  return button;
}

/* What the alarm and finding rows of @st and @findings show, as one string: the rows are made
 * again only when it changes (a re-read every 2 s in demo mode would otherwise make GTK build and
 * measure them anew each time, main-thread work: docs/benchmarks.md). */
static char *
rows_key (const ThecalProtoStatus *st, GPtrArray *findings)
{
  GString *key = g_string_new (NULL);

  for (int i = 0; i < st->n_alarms && i < THECAL_PROTO_ALARMS_MAX; i++)
    g_string_append_printf (key, "a%d,%d,%d,%d,%d;", (int) st->alarms[i].kind, st->alarms[i].condition, st->alarms[i].raised,
                            st->alarms[i].acknowledged, st->alarms[i].critical);
  for (guint i = 0; i < findings->len; i++)
    {
      const ThecalVisitFinding *f = findings->pdata[i];

      g_string_append_printf (key, "f%d,%s,%s;", (int) f->severity, f->code, f->message);
    }
  return g_string_free (key, FALSE);
}

/* Fills the page from the connected visit: only what the visit and the dose core say, formatted. */
static void
show_interrogation (ThecalOverviewPage *self)
{
  ThecalVisit *visit = link_visit (self);
  const ThecalProtoStatus *st = thecal_visit_get_status (visit);
  const ThecalMsgPrescription *active = thecal_visit_get_active (visit);
  const ThecalPumpModel *model = thecal_visit_get_model (visit);
  GPtrArray *findings = thecal_visit_get_findings (visit);
  g_autoptr (ThecalProgramReview) review = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *volume = NULL;
  g_autofree char *capacity = NULL;
  gboolean any = FALSE;

  /* the visit's review of what the pump runs against itself: the delivery plan as the pump
   * really delivers it (rounded to its resolution) and the projection from its reservoir */
  review = thecal_visit_review_prescription (visit, &active->rx, &error);

  if (active->rx.drug_id[0] == '\0')
    {
      /* a pump that was never programmed (stopped, no drug): nothing to show, not "0 mcg/mL" */
      gtk_label_set_text (GTK_LABEL (self->drug_label), _ ("None programmed"));
      gtk_label_set_text (GTK_LABEL (self->concentration_label), "—");
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (self->drug_label), thecal_format_drug (self->library, active->rx.drug_id));
      set_label (self->concentration_label,
                 thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, active->rx.concentration_ng_per_ml));
    }
  if (active->rx.mode == THECAL_MODE_FLEX)
    set_label (self->mode_label, g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Flex schedule, %d step", "Flex schedule, %d steps",
                                                               (gulong) active->rx.n_flex_steps),
                                                  (int) active->rx.n_flex_steps));
  else
    gtk_label_set_text (GTK_LABEL (self->mode_label), thecal_format_mode (active->rx.mode));
  if (review != NULL && review->old_plan_valid)
    {
      const ThecalDeliveryPlan *plan = &review->old_plan;

      if (plan->periodic_ng_per_day == 0)
        {
          set_label (self->dose_label, thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, plan->basal_ng_per_day));
          set_label (self->rate_label, thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, plan->basal_nl_per_day));
        }
      else
        {
          g_autofree char *basal = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, plan->basal_ng_per_day);
          g_autofree char *periodic = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, plan->periodic_ng_per_day);
          g_autofree char *basal_v = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, plan->basal_nl_per_day);
          g_autofree char *periodic_v = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, plan->periodic_nl_per_day);

          set_label (self->dose_label, g_strdup_printf (_ ("%s basal + %s periodic boluses"), basal, periodic));
          set_label (self->rate_label, g_strdup_printf (_ ("%s basal + %s periodic boluses"), basal_v, periodic_v));
        }
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (self->dose_label), _ ("Not known: the prescription cannot be resolved for this pump"));
      gtk_label_set_text (GTK_LABEL (self->rate_label), "—");
    }

  volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl);
  capacity = thecal_format_quantity (THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl);
  set_label (self->reservoir_label, g_strdup_printf (_ ("%s of %s"), volume, capacity));
  /* drawing only: the gauge's fraction is a GTK double; no dose arithmetic depends on it */
  gtk_level_bar_set_min_value (GTK_LEVEL_BAR (self->reservoir_gauge), 0);
  gtk_level_bar_set_max_value (GTK_LEVEL_BAR (self->reservoir_gauge), (double) model->reservoir_capacity_nl);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (self->reservoir_gauge), GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (self->reservoir_gauge), GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (self->reservoir_gauge), GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_widget_remove_css_class (self->reservoir_gauge, "reservoir-low");
  gtk_widget_remove_css_class (self->reservoir_gauge, "reservoir-empty");
  for (int i = 0; i < st->n_alarms && i < THECAL_PROTO_ALARMS_MAX; i++)
    {
      /* the colour follows the pump's own alarms (CLINICAL.md §1.7) */
      if (st->alarms[i].kind == THECAL_PROTO_ALARM_RESERVOIR_EMPTY && (st->alarms[i].condition || st->alarms[i].raised))
        gtk_widget_add_css_class (self->reservoir_gauge, "reservoir-empty");
      else if (st->alarms[i].kind == THECAL_PROTO_ALARM_LOW_RESERVOIR && (st->alarms[i].condition || st->alarms[i].raised))
        gtk_widget_add_css_class (self->reservoir_gauge, "reservoir-low");
    }
  gtk_level_bar_set_value (GTK_LEVEL_BAR (self->reservoir_gauge),
                           (double) CLAMP (st->reservoir_estimate_nl, 0, model->reservoir_capacity_nl));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->reservoir_gauge), GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT,
                                  gtk_label_get_text (GTK_LABEL (self->reservoir_label)), -1);
  if (review != NULL && review->have_projections)
    {
      set_label (self->low_date_label, thecal_format_instant (review->old_projection.low_alarm_local_ms));
      set_label (self->empty_date_label, thecal_format_instant (review->old_projection.empty_local_ms));
      set_label (self->refill_by_label, thecal_format_instant (review->old_projection.refill_by_local_ms));
    }
  else
    {
      const char *unknown = _ ("Not known");

      gtk_label_set_text (GTK_LABEL (self->low_date_label), unknown);
      gtk_label_set_text (GTK_LABEL (self->empty_date_label), unknown);
      gtk_label_set_text (GTK_LABEL (self->refill_by_label), unknown);
    }

  set_label (self->battery_label, thecal_format_quantity (THECAL_QUANTITY_RATIO, st->battery_bp));
  if (st->eos)
    gtk_label_set_text (GTK_LABEL (self->eri_label), _ ("End of service reached: replace the pump now"));
  else if (st->eri)
    {
      g_autofree char *eos = thecal_format_instant (st->eos_pump_ms);

      set_label (self->eri_label, g_strdup_printf (_ ("ERI reached: replace before end of service, %s"), eos));
    }
  else if (st->eri_pump_ms != G_MAXINT64)
    set_label (self->eri_label, thecal_format_instant (st->eri_pump_ms));
  else
    gtk_label_set_text (GTK_LABEL (self->eri_label), _ ("Not known"));

  {
    g_autofree char *key = rows_key (st, findings);

    if (g_strcmp0 (key, self->rows_key) == 0)
      {
        gtk_widget_set_visible (self->content_box, TRUE);
        return;
      }
    g_free (self->rows_key);
    self->rows_key = g_steal_pointer (&key);
  }
  list_clear (self->alarms_list);
  for (int i = 0; i < st->n_alarms && i < THECAL_PROTO_ALARMS_MAX; i++)
    {
      const ThecalProtoAlarmState *a = &st->alarms[i];
      g_autofree char *title = NULL;
      GtkWidget *row;

      if (!a->condition && !a->raised)
        continue;
      title = g_strdup_printf ("%s%s", thecal_format_alarm_name (a->kind),
                               a->raised && !a->acknowledged ? _ (" (not acknowledged)") : "");
      row = list_add (self->alarms_list, title, thecal_format_alarm_action (a->kind), a->critical ? "error" : "warning");
      if (a->raised && !a->acknowledged)
        {
          /* the pump acknowledges a raised alarm once (the workflow checks who may) */
          g_autofree char *name = g_strdup_printf (_ ("Acknowledge the %s alarm"), thecal_format_alarm_name (a->kind));
          GtkWidget *button = row_add_button (row, _ ("Acknowledge"), name);

          g_object_set_data (G_OBJECT (button), "thecal-alarm", GINT_TO_POINTER ((int) a->kind));
          g_signal_connect (button, "clicked", G_CALLBACK (on_ack_clicked), self);
        }
      any = TRUE;
    }
  if (!any)
    list_add (self->alarms_list, _ ("No active alarm"), NULL, NULL);

  list_clear (self->findings_list);
  any = FALSE;
  for (guint i = 0; i < findings->len; i++)
    {
      const ThecalVisitFinding *f = findings->pdata[i];

      if (g_str_has_prefix (f->code, "alarm."))
        continue; /* shown above, with what to do */
      GtkWidget *row = list_add (self->findings_list, f->message, NULL,
                                 f->severity == THECAL_VISIT_FINDING_ALARM     ? "error"
                                 : f->severity == THECAL_VISIT_FINDING_WARNING ? "warning"
                                                                               : NULL);

      if (g_strcmp0 (f->code, "clock_drift") == 0)
        g_signal_connect_swapped (row_add_button (row, _ ("Sync Clock…"), _ ("Sync the pump's clock")), "clicked",
                                  G_CALLBACK (on_clock_clicked), self);
      any = TRUE;
    }
  if (!any)
    list_add (self->findings_list, _ ("No finding"), NULL, NULL);
  gtk_widget_set_visible (self->content_box, TRUE);
}

/* Runs on the main thread: the visit connected (or did not). @user_data: the page (a reference). */
static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("overview: connected");
  g_autoptr (ThecalOverviewPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = thecal_visit_connect_finish (THECAL_VISIT (source), result, &error);

  if (link_visit (self) == NULL || THECAL_VISIT (source) != link_visit (self))
    return; /* another patient was selected meanwhile */
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (!ok)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_status (self, _ ("Cancelled: nothing was read. Connect again when ready."), FALSE);
      else
        set_status (self, error->message, TRUE);
      if (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_UNKNOWN_PUMP))
        {
          /* the link stays: "Register This Pump…" registers it through this visit */
          self->unknown_pump = TRUE;
          set_busy (self, FALSE);
          return;
        }
      drop_link (self);
      return;
    }
  if (self->action_note != NULL)
    {
      g_autofree char *text = g_strdup_printf (_ ("Connected: the pump was interrogated. %s"), self->action_note);

      set_status (self, text, FALSE);
      g_clear_pointer (&self->action_note, g_free);
    }
  else
    set_status (self, _ ("Connected: the pump was interrogated."), FALSE);
  show_interrogation (self);
  set_busy (self, FALSE);
  self->last_read_us = g_get_monotonic_time ();
}

/* Interrogates the connected pump again through the same visit (after a refill: the gauge shows
 * the new volume; an UNCERTAIN write is settled by the connect). */
static void
reinterrogate_saying (ThecalOverviewPage *self, const char *what)
{
  if (link_visit (self) == NULL || self->patient == NULL || self->cancellable != NULL)
    return;
  if (self->refresh_cancellable != NULL)
    {
      /* the visit is reading the pump already: read again when it is done */
      self->reinterrogate_due = TRUE;
      return;
    }
  gtk_widget_set_visible (self->content_box, FALSE);
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  set_status (self, what, FALSE);
  thecal_visit_connect_async (link_visit (self), self->patient->mrn, self->cancellable, on_connected,
                              g_object_ref (self));
}

static void
reinterrogate (ThecalOverviewPage *self)
{
  reinterrogate_saying (self, _ ("Reading the pump again after the refill…"));
}

/* ---- the windows the page opens over the main window ---------------------------------------- */

/* Shows @dialog transient for the page's window and keeps it in *@slot (a weak pointer: NULL
 * again once the dialog is destroyed, however that happens). @on_finished (may be NULL): the
 * dialog's "finished" signal, swapped to the page. */
static void
track_dialog (ThecalOverviewPage *self, GtkWidget **slot, GtkWidget *dialog, GCallback on_finished)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  *slot = dialog;
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (root));
  if (on_finished != NULL)
    g_signal_connect_swapped (dialog, "finished", on_finished, self);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) slot);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Destroys the dialog in *@slot, if any, without it calling the page back. */
static void
close_dialog (ThecalOverviewPage *self, GtkWidget **slot)
{
  GtkWidget *dialog = *slot;

  if (dialog == NULL)
    return;
  g_signal_handlers_disconnect_by_data (dialog, self);
  g_object_remove_weak_pointer (G_OBJECT (dialog), (gpointer *) slot);
  *slot = NULL;
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* TRUE (and shown again) while the dialog in *@slot is open. */
static gboolean
dialog_shown_again (GtkWidget **slot)
{
  if (*slot == NULL)
    return FALSE;
  gtk_window_present (GTK_WINDOW (*slot));
  return TRUE;
}

/* Runs on the main thread: the wizard's refill returned (any outcome). */
static void
on_refill_finished (ThecalOverviewPage *self)
{
  reinterrogate (self);
}

GtkWidget *
thecal_overview_page_open_refill (ThecalOverviewPage *self)
{
  ThecalVisit *visit;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  visit = thecal_overview_page_get_visit (self);
  if (visit == NULL || self->library == NULL)
    return NULL;
  if (!dialog_shown_again (&self->wizard))
    track_dialog (self, &self->wizard, GTK_WIDGET (thecal_refill_wizard_new (visit, self->library)), G_CALLBACK (on_refill_finished));
  return self->wizard;
}

/* Runs on the main thread: the program dialog's write settled (any outcome). */
static void
on_program_finished (ThecalOverviewPage *self)
{
  reinterrogate (self);
  if (self->cancellable != NULL)
    set_status (self, _ ("Reading the pump again after the change of prescription…"), FALSE);
}

GtkWidget *
thecal_overview_page_open_program (ThecalOverviewPage *self)
{
  ThecalVisit *visit;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  visit = thecal_overview_page_get_visit (self);
  if (visit == NULL || self->library == NULL)
    return NULL;
  if (!dialog_shown_again (&self->program_dialog))
    track_dialog (self, &self->program_dialog, GTK_WIDGET (thecal_program_dialog_new (visit, self->library)),
                  G_CALLBACK (on_program_finished));
  return self->program_dialog;
}

/* Runs on the main thread: the "Program…" button. */
static void
on_program_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_open_program (self);
}

GtkWidget *
thecal_overview_page_open_history (ThecalOverviewPage *self)
{
  GtkWidget *history;
  GtkRoot *root;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  if (self->session == NULL || self->patient == NULL)
    return NULL;
  history = GTK_WIDGET (thecal_history_page_new (self->session, self->patient->mrn, thecal_overview_page_get_visit (self), self->models,
                                                 self->library));
  root = gtk_widget_get_root (GTK_WIDGET (self));
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (history), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (history));
  return history;
}

/* Runs on the main thread: the "History…" button. */
static void
on_history_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_open_history (self);
}

/* Runs on the main thread: the "Refill…" button. */
static void
on_refill_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_open_refill (self);
}

/* ---- boluses, clock, alarms (docs/gui.md "Boluses, clock, alarms, implant") --------------- */

/* TRUE (and shown again) while a bolus or implant dialog or a confirmation is open: one at a time
 * (a bolus left UNCERTAIN keeps its dialog until the pump is read). */
static gboolean
action_dialog_open (ThecalOverviewPage *self)
{
  return dialog_shown_again (&self->action_dialog);
}

/* Shows @dialog (modal) transient for the page's window and keeps track of it. */
static void
present_action_dialog (ThecalOverviewPage *self, GtkWidget *dialog)
{
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  track_dialog (self, &self->action_dialog, dialog, NULL);
}

/* Runs on the main thread: the bolus dialog is destroyed. Once a bolus was written (any outcome;
 * an UNCERTAIN one the dialog could not settle is settled by this read) the page reads the pump
 * again through the same visit. */
static void
on_bolus_dialog_destroy (ThecalOverviewPage *self, GtkWidget *dialog)
{
  if (thecal_bolus_dialog_get_finished (THECAL_BOLUS_DIALOG (dialog), NULL))
    reinterrogate_saying (self, _ ("Reading the pump again after the bolus…"));
}

GtkWidget *
thecal_overview_page_open_bolus (ThecalOverviewPage *self, ThecalVisitBolusKind kind)
{
  ThecalVisit *visit;
  GtkWidget *dialog;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  visit = thecal_overview_page_get_visit (self);
  if (visit == NULL || self->library == NULL || action_dialog_open (self))
    return NULL;
  dialog = GTK_WIDGET (thecal_bolus_dialog_new (visit, self->library, kind));
  g_signal_connect_swapped (dialog, "destroy", G_CALLBACK (on_bolus_dialog_destroy), self);
  present_action_dialog (self, dialog);
  return dialog;
}

/* Runs on the main thread: the "Bolus…" button. */
static void
on_bolus_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_open_bolus (self, THECAL_VISIT_BOLUS_CLINICIAN);
}

/* Runs on the main thread: the clock synchronisation returned. @user_data: the page (a
 * reference). */
static void
on_clock_synced (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalOverviewPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gint64 drift_ms = 0, shown_ms = 0;
  gboolean synced = FALSE;
  gboolean ok = thecal_visit_sync_clock_finish (THECAL_VISIT (source), result, &drift_ms, &synced, &error);
  g_autofree char *drift = NULL;

  if (link_visit (self) == NULL || THECAL_VISIT (source) != link_visit (self))
    return;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (!ok)
    {
      set_status (self, error->message, TRUE);
      return;
    }
  /* shown to the second: the drift is measured across a few milliseconds of the wand's round trip */
  if (!thecal_round_to_step_i64 (drift_ms < 0 ? -drift_ms : drift_ms, 1000, THECAL_ROUND_NEAREST_HALF_DOWN, &shown_ms))
    shown_ms = drift_ms < 0 ? -drift_ms : drift_ms;
  drift = thecal_format_duration (shown_ms);
  g_free (self->action_note);
  if (synced)
    self->action_note = g_strdup_printf (drift_ms < 0 ? _ ("The pump's clock was %s behind the clinic's: it now reads the clinic's time.")
                                                      : _ ("The pump's clock was %s ahead of the clinic's: it now reads the clinic's time."),
                                         drift);
  else
    self->action_note = g_strdup_printf (_ ("The pump's clock is within 5 min of the clinic's (%s %s): it was not changed."), drift,
                                         drift_ms < 0 ? _ ("behind") : _ ("ahead"));
  reinterrogate_saying (self, _ ("Reading the pump again after the clock synchronisation…"));
}

static void
start_clock_sync (ThecalOverviewPage *self)
{
  ThecalVisit *visit = thecal_overview_page_get_visit (self);

  if (visit == NULL)
    return;
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  set_status (self, _ ("Synchronising the pump's clock: reading it, then setting it to the clinic's time…"), FALSE);
  thecal_visit_sync_clock_async (visit, self->cancellable, on_clock_synced, g_object_ref (self));
}

/* Runs on the main thread: the clock confirmation answered. */
static void
on_clock_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  ThecalOverviewPage *self = user_data;

  (void) dialog;
  if (g_strcmp0 (response, "sync") == 0)
    start_clock_sync (self);
}

GtkWidget *
thecal_overview_page_open_clock_sync (ThecalOverviewPage *self)
{
  ThecalVisit *visit;
  GPtrArray *findings;
  const char *drift_finding = NULL;
  g_autofree char *pump_clock = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  visit = thecal_overview_page_get_visit (self);
  if (visit == NULL || action_dialog_open (self))
    return NULL;
  findings = thecal_visit_get_findings (visit);
  for (guint i = 0; i < findings->len; i++)
    if (g_strcmp0 (((const ThecalVisitFinding *) findings->pdata[i])->code, "clock_drift") == 0)
      drift_finding = ((const ThecalVisitFinding *) findings->pdata[i])->message;
  pump_clock = thecal_format_instant (thecal_visit_get_status (visit)->pump_ms);
  body = g_strdup_printf (_ ("At the interrogation the pump's clock read %s.\n%s\nSynchronising reads the pump's clock again and, "
                             "when it is more than 5 min off, sets it to the clinic's time: flex steps and periodic boluses then "
                             "run at the intended times."),
                          pump_clock,
                          drift_finding != NULL ? drift_finding : _ ("It was within 5 min of the clinic's clock."));
  dialog = adw_message_dialog_new (NULL, _ ("Synchronise the Pump's Clock?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("Cancel"), "sync", _ ("Sync Clock"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "sync", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "sync");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_clock_response), self);
  present_action_dialog (self, dialog);
  return dialog;
}

/* Runs on the main thread: the "Sync Clock…" buttons. */
static void
on_clock_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_open_clock_sync (self);
}

/* Runs on the main thread: an alarm acknowledgement returned. @user_data: the page (a
 * reference). */
static void
on_alarm_acknowledged (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalOverviewPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = thecal_visit_ack_alarm_finish (THECAL_VISIT (source), result, &error);

  if (link_visit (self) == NULL || THECAL_VISIT (source) != link_visit (self))
    return;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (!ok)
    {
      set_status (self, error->message, TRUE);
      return;
    }
  g_free (self->action_note);
  self->action_note = g_strdup (_ ("The alarm was acknowledged: the pump no longer sounds it, and the record holds who saw it. "
                                   "Its cause remains until it is dealt with."));
  reinterrogate_saying (self, _ ("Reading the pump again after the acknowledgement…"));
}

static void
start_ack (ThecalOverviewPage *self, ThecalProtoAlarm kind)
{
  ThecalVisit *visit = thecal_overview_page_get_visit (self);

  if (visit == NULL)
    return;
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  set_status (self, _ ("Acknowledging the alarm…"), FALSE);
  thecal_visit_ack_alarm_async (visit, kind, self->cancellable, on_alarm_acknowledged, g_object_ref (self));
}

/* Runs on the main thread: the confirmation of a critical alarm's acknowledgement answered. */
static void
on_ack_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  ThecalOverviewPage *self = user_data;

  if (g_strcmp0 (response, "acknowledge") == 0)
    start_ack (self, (ThecalProtoAlarm) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "thecal-alarm")));
}

GtkWidget *
thecal_overview_page_acknowledge_alarm (ThecalOverviewPage *self, ThecalProtoAlarm kind)
{
  ThecalVisit *visit;
  const ThecalProtoStatus *st;
  const ThecalProtoAlarmState *alarm = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  visit = thecal_overview_page_get_visit (self);
  if (visit == NULL || action_dialog_open (self))
    return NULL;
  st = thecal_visit_get_status (visit);
  for (int i = 0; i < st->n_alarms && i < THECAL_PROTO_ALARMS_MAX; i++)
    if (st->alarms[i].kind == kind)
      alarm = &st->alarms[i];
  if (alarm == NULL || !alarm->critical)
    {
      /* not critical (or not raised: the pump then refuses and the page says so): at once */
      start_ack (self, kind);
      return NULL;
    }
  /* a critical alarm: silencing it must not read as dealing with it */
  heading = g_strdup (_ ("Acknowledge This Critical Alarm?"));
  body = g_strdup_printf (_ ("%s: %s\nAcknowledging silences the pump's alarm and records that you saw it. It does not clear the "
                             "cause: the pump keeps reporting it until it is dealt with."),
                          thecal_format_alarm_name (kind), thecal_format_alarm_action (kind));
  dialog = adw_message_dialog_new (NULL, heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("Cancel"), "acknowledge", _ ("Acknowledge"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "acknowledge", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "thecal-alarm", GINT_TO_POINTER ((int) kind));
  g_signal_connect (dialog, "response", G_CALLBACK (on_ack_response), self);
  present_action_dialog (self, dialog);
  return dialog;
}

/* Runs on the main thread: an alarm row's "Acknowledge" button. */
static void
on_ack_clicked (GtkButton *button, gpointer user_data)
{
  thecal_overview_page_acknowledge_alarm (user_data, (ThecalProtoAlarm) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "thecal-alarm")));
}

/* Runs on the main thread: the implant dialog is destroyed. Once the registration ran, the page
 * reads the pump through the same visit: now in the record, it shows its overview. */
static void
on_implant_dialog_destroy (ThecalOverviewPage *self, GtkWidget *dialog)
{
  if (!thecal_implant_dialog_get_finished (THECAL_IMPLANT_DIALOG (dialog), NULL, NULL))
    return;
  self->unknown_pump = FALSE;
  g_free (self->action_note);
  self->action_note = g_strdup (_ ("The new implant is in the record."));
  reinterrogate_saying (self, _ ("Reading the newly registered pump…"));
}

GtkWidget *
thecal_overview_page_open_implant (ThecalOverviewPage *self)
{
  const ThecalProtoIdentity *identity;
  const ThecalPumpModel *model;
  guint8 key[THECAL_PAIRING_KEY_BYTES] = { 0 };
  GtkWidget *dialog;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  if (!self->unknown_pump || link_visit (self) == NULL || self->cancellable != NULL || self->patient == NULL || self->library == NULL
      || self->models == NULL || action_dialog_open (self))
    return NULL;
  identity = thecal_visit_get_identity (link_visit (self));
  model = identity != NULL ? thecal_pump_model_set_find (self->models, identity->model_id) : NULL;
  if (model == NULL)
    {
      set_status (self, _ ("The pump's model is not in the pump models file: it cannot be registered here."), TRUE);
      return NULL;
    }
  /* the demo pumps are paired with the key the demo derives from the serial (thecal-demo.h); a
   * pump through the wand with the key delivered with it: the dialog asks for it (NULL) */
  G_STATIC_ASSERT (THECAL_KEY_SIZE == THECAL_PAIRING_KEY_BYTES);
  if (self->demo_link != NULL)
    thecal_sim_pump_demo_key (identity->serial, key);
  dialog = GTK_WIDGET (thecal_implant_dialog_new (link_visit (self), self->library, model, identity->serial, self->patient->mrn,
                                                  self->patient->name, self->demo_link != NULL ? key : NULL));
  memset (key, 0, sizeof key);
  g_signal_connect_swapped (dialog, "destroy", G_CALLBACK (on_implant_dialog_destroy), self);
  present_action_dialog (self, dialog);
  return dialog;
}

/* Runs on the main thread: the "Register This Pump…" button. */
static void
on_register_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_open_implant (self);
}

void
thecal_overview_page_read_again (ThecalOverviewPage *self)
{
  g_return_if_fail (THECAL_IS_OVERVIEW_PAGE (self));
  reinterrogate_saying (self, _ ("Reading the pump again…"));
}

/* ---- demo mode: the pump near the wand, the quiet re-read ------------------------------------ */

/* Fills the dropdown: the patient's own pump first, then the other demo patients' pumps, then the
 * spare nobody has registered. */
static void
fill_demo_pumps (ThecalOverviewPage *self, const ThecalDemoPatient *own)
{
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);

  g_ptr_array_set_size (self->demo_serials, 0);
  gtk_widget_set_visible (self->demo_pump_row, self->demo_world != NULL && own != NULL);
  if (self->demo_world == NULL || own == NULL)
    {
      gtk_drop_down_set_model (GTK_DROP_DOWN (self->demo_pump_dropdown), G_LIST_MODEL (names));
      return;
    }
  {
    g_autofree char *name = g_strdup_printf (_ ("%s (the patient’s own)"), own->serial);

    gtk_string_list_append (names, name);
    g_ptr_array_add (self->demo_serials, g_strdup (own->serial));
  }
  for (guint i = 0; i < thecal_demo_patient_count (); i++)
    {
      const ThecalDemoPatient *p = thecal_demo_patient_get (i);
      g_autofree char *name = NULL;

      if (p == own)
        continue;
      name = g_strdup_printf (_ ("%s (%s’s pump)"), p->serial, p->name);
      gtk_string_list_append (names, name);
      g_ptr_array_add (self->demo_serials, g_strdup (p->serial));
    }
  {
    const char *spare = thecal_demo_world_get_spare_serial (self->demo_world);
    g_autofree char *name = g_strdup_printf (_ ("%s (spare pump, not registered)"), spare);

    gtk_string_list_append (names, name);
    g_ptr_array_add (self->demo_serials, g_strdup (spare));
  }
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->demo_pump_dropdown), G_LIST_MODEL (names));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->demo_pump_dropdown), 0);
}

const char *
thecal_overview_page_get_demo_pump (ThecalOverviewPage *self)
{
  guint selected;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->demo_pump_dropdown));
  if (self->demo_serials == NULL || selected == GTK_INVALID_LIST_POSITION || selected >= self->demo_serials->len)
    return NULL;
  return self->demo_serials->pdata[selected];
}

gboolean
thecal_overview_page_set_demo_pump (ThecalOverviewPage *self, const char *serial)
{
  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), FALSE);
  for (guint i = 0; self->demo_serials != NULL && i < self->demo_serials->len; i++)
    if (g_strcmp0 (self->demo_serials->pdata[i], serial) == 0)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->demo_pump_dropdown), i);
        return TRUE;
      }
  return FALSE;
}

/* TRUE while a window is open over this one (the refill wizard, any dialog the page opened):
 * the visit is theirs then, and a re-read would make their steps BUSY. */
static gboolean
dialog_open (ThecalOverviewPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GListModel *toplevels = gtk_window_get_toplevels (); /* transfer none */
  gboolean open = FALSE;

  if (self->wizard != NULL)
    return TRUE;
  for (guint i = 0; !open && i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) window = g_list_model_get_item (toplevels, i);

      open = gtk_widget_get_visible (GTK_WIDGET (window)) && GTK_IS_WINDOW (root)
             && gtk_window_get_transient_for (window) == GTK_WINDOW (root);
    }
  return open;
}

/* Runs on the main thread: the quiet re-read came back. @user_data: the page (a reference). */
static void
on_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("overview: read again");
  g_autoptr (ThecalOverviewPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = thecal_visit_connect_finish (THECAL_VISIT (source), result, &error);

  if (link_visit (self) == NULL || THECAL_VISIT (source) != link_visit (self))
    return; /* dropped meanwhile */
  g_clear_object (&self->refresh_cancellable);
  self->last_read_us = g_get_monotonic_time ();
  if (ok)
    {
      const ThecalProtoStatus *st = thecal_visit_get_status (THECAL_VISIT (source));
      g_autofree char *when = thecal_format_instant (st->pump_ms);
      g_autofree char *text = g_strdup_printf (_ ("Connected: the pump was read again at %s (pump time)."), when);

      show_interrogation (self);
      set_status (self, text, FALSE);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("The pump could not be read again: %s The values below are from the last reading."),
                                               error->message);

      set_status (self, text, TRUE);
    }
  set_busy (self, FALSE);
  if (self->reinterrogate_due)
    {
      self->reinterrogate_due = FALSE;
      reinterrogate (self);
    }
}

gboolean
thecal_overview_page_refresh (ThecalOverviewPage *self)
{
  ThecalVisit *visit;

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), FALSE);
  /* a visit that read the pump (its values are shown), even when the last re-read failed (the
   * wand was unplugged: once plugged in again, the next re-read restores the page) */
  visit = self->demo_link != NULL && self->cancellable == NULL && gtk_widget_get_visible (self->content_box)
              ? link_visit (self)
              : NULL;
  /* not while nobody sees the page (a folded window showing the list, a locked session) */
  if (visit == NULL || self->patient == NULL || self->refresh_cancellable != NULL || !gtk_widget_get_mapped (GTK_WIDGET (self))
      || dialog_open (self)
      || thecal_pump_link_is_busy (thecal_visit_get_link (visit)))
    return FALSE;
  self->refresh_cancellable = g_cancellable_new ();
  /* the same interrogation as Connect (status, prescription, the new log events imported), on the
   * same visit, without hiding what is shown meanwhile */
  thecal_visit_connect_async (visit, self->patient->mrn, self->refresh_cancellable, on_refreshed, g_object_ref (self));
  return TRUE;
}

gboolean
thecal_overview_page_get_refreshing (ThecalOverviewPage *self)
{
  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), FALSE);
  return self->refresh_cancellable != NULL;
}

/* Runs on the main thread twice a second in demo mode: re-reads the connected pump every
 * 2 s of real time while the demo runs faster than real time (every 60 s at 1×, never paused). */
static gboolean
on_refresh_tick (gpointer user_data)
{
  ThecalOverviewPage *self = user_data;
  guint scale;
  gint64 interval_us;

  if (self->demo_world == NULL || self->demo_link == NULL)
    return G_SOURCE_CONTINUE;
  scale = thecal_demo_world_get_scale (self->demo_world);
  if (scale == THECAL_DEMO_SCALE_PAUSED && self->last_read_us != 0)
    return G_SOURCE_CONTINUE;
  interval_us = scale > THECAL_DEMO_SCALE_REAL_TIME ? DEMO_REFRESH_FAST_US : DEMO_REFRESH_REAL_TIME_US;
  if (self->last_read_us == 0 || g_get_monotonic_time () - self->last_read_us >= interval_us)
    thecal_overview_page_refresh (self);
  return G_SOURCE_CONTINUE;
}

/* Runs on the main thread: a fault was injected, the wand plugged or the speed changed: read the
 * pump at the next tick. */
static void
on_world_changed (ThecalOverviewPage *self)
{
  if (self->demo_link != NULL && self->cancellable == NULL && gtk_widget_get_visible (self->content_box))
    self->last_read_us = 0;
}

void
thecal_overview_page_set_wand_status (ThecalOverviewPage *self, ThecalWandStatus *wand_status)
{
  g_return_if_fail (THECAL_IS_OVERVIEW_PAGE (self));
  if (self->wand_status != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->wand_status), (gpointer *) &self->wand_status);
  self->wand_status = wand_status;
  /* the window disposes its children in no promised order */
  if (wand_status != NULL)
    g_object_add_weak_pointer (G_OBJECT (wand_status), (gpointer *) &self->wand_status);
}

void
thecal_overview_page_set_demo_world (ThecalOverviewPage *self, ThecalDemoWorld *world)
{
  g_return_if_fail (THECAL_IS_OVERVIEW_PAGE (self));
  if (self->demo_world != NULL)
    g_clear_signal_handler (&self->world_changed_id, self->demo_world);
  g_set_object (&self->demo_world, world);
  if (world != NULL)
    self->world_changed_id = g_signal_connect_swapped (world, "changed", G_CALLBACK (on_world_changed), self);
  if (world != NULL && self->refresh_tick_id == 0)
    self->refresh_tick_id = g_timeout_add (DEMO_REFRESH_TICK_MS, on_refresh_tick, self);
  if (world == NULL)
    g_clear_handle_id (&self->refresh_tick_id, g_source_remove);
}

ThecalDemoWorld *
thecal_overview_page_get_demo_world (ThecalOverviewPage *self)
{
  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  return self->demo_world;
}

/* The patient's pump through the USB wand of the preferences (its VID:PID, "wand-usb-id"), on the
 * clinic's real clock, as `thecal-cli visit MRN --wand` does: the visit pairs with the key the
 * record holds for the pump it identifies. Opening the wand is quick (libusb, no telemetry); the
 * transport's event thread only queues to this main context. FALSE with the wand's message ("No
 * wand connected: plug the telemetry wand into a USB port") and nothing kept. */
static gboolean
open_wand_link (ThecalOverviewPage *self, GError **error)
{
#ifdef THECAL_HAVE_USB_TRANSPORT
  g_autoptr (GSettings) settings = thecal_settings_new ();
  g_autofree char *wand_id = settings != NULL ? g_settings_get_string (settings, "wand-usb-id") : g_strdup (THECAL_WAND_USB_ID_DEFAULT);
  guint16 vid = 0, pid = 0;
  g_autoptr (ThecalUsbTransport) transport = NULL;
  g_autoptr (ThecalPumpLink) link = NULL;

  if (!thecal_settings_parse_wand_id (wand_id, &vid, &pid, error))
    return FALSE;
  /* the header's own link to the wand lets go first (libusb: one claim at a time) */
  if (self->wand_status != NULL)
    thecal_wand_status_release_wand (self->wand_status);
  transport = thecal_usb_transport_new (vid, pid, error);
  if (transport == NULL)
    {
      if (self->wand_status != NULL)
        thecal_wand_status_follow_link (self->wand_status, NULL);
      return FALSE;
    }
  link = thecal_pump_link_new (THECAL_TRANSPORT (transport), NULL); /* NULL: the real clock */
  self->wand_visit = thecal_visit_new (self->session, link, self->models, self->library);
  /* the header shows the wand's link quality through the visit's link */
  if (self->wand_status != NULL)
    thecal_wand_status_follow_link (self->wand_status, link);
  return TRUE;
#else
  (void) self;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _ ("No wand connected: this build of Thecal has no USB wand support."));
  return FALSE;
#endif
}

void
thecal_overview_page_connect (ThecalOverviewPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalClock) clock = NULL;
  const ThecalDemoPatient *demo_patient;

  g_return_if_fail (THECAL_IS_OVERVIEW_PAGE (self));

  if (self->patient == NULL || self->session == NULL || self->cancellable != NULL)
    return;
  gtk_widget_set_visible (self->content_box, FALSE);
  /* a re-read of the previous link still in flight is forgotten with it */
  if (self->refresh_cancellable != NULL)
    g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  self->reinterrogate_due = FALSE;
  drop_link (self);
  self->unknown_pump = FALSE;
  demo_patient = thecal_record_is_demo (thecal_record_session_get_record (self->session)) ? thecal_demo_patient_find (self->patient->mrn)
                                                                                          : NULL;
  if (demo_patient == NULL)
    {
      /* a clinic record (or a patient added to the demo): the pump through the USB wand */
      if (!open_wand_link (self, &error))
        {
          set_status (self, error->message, TRUE);
          return;
        }
      self->cancellable = g_cancellable_new ();
      set_busy (self, TRUE);
      set_status (self, _ ("Connecting through the USB wand: identifying the pump, reading its status, prescription and log…"), FALSE);
      thecal_visit_connect_async (link_visit (self), self->patient->mrn, self->cancellable, on_connected, g_object_ref (self));
      return;
    }
  if (self->demo_world != NULL)
    {
      const char *serial = thecal_overview_page_get_demo_pump (self);

      /* the session's pump: its reservoir, log, alarms and faults carry on from the last visit */
      self->demo_link = thecal_demo_world_open_link (self->demo_world, self->session, self->models, self->library,
                                                     serial != NULL ? serial : demo_patient->serial, &error);
    }
  else
    {
      /* the simulated pump's time runs on from the demo instant in real time, on this main loop */
      clock = thecal_clock_new_real ();
      self->demo_link = thecal_demo_link_new (self->session, self->models, self->library, demo_patient->serial, clock, &error);
    }
  if (self->demo_link == NULL)
    {
      set_status (self, error->message, TRUE);
      return;
    }
  /* a wand's few milliseconds each way: the frames then travel on timeouts of default priority,
   * which GTK's redraws (the progress bar, the spinner) cannot starve as they could idles */
  thecal_loopback_transport_set_latency_ms (thecal_demo_link_get_loopback (self->demo_link), DEMO_LINK_LATENCY_MS);
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  set_status (self, _ ("Connecting: identifying the pump, reading its status, prescription and log…"), FALSE);
  thecal_visit_connect_async (link_visit (self), self->patient->mrn, self->cancellable, on_connected,
                              g_object_ref (self));
}

void
thecal_overview_page_cancel (ThecalOverviewPage *self)
{
  g_return_if_fail (THECAL_IS_OVERVIEW_PAGE (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* Runs on the main thread: the buttons. */
static void
on_connect_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_connect (self);
}

static void
on_cancel_clicked (ThecalOverviewPage *self)
{
  thecal_overview_page_cancel (self);
}

static void
drop_connection (ThecalOverviewPage *self)
{
  close_dialog (self, &self->wizard);
  close_dialog (self, &self->program_dialog);
  close_dialog (self, &self->action_dialog);
  g_clear_pointer (&self->action_note, g_free);
  g_clear_pointer (&self->rows_key, g_free);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->refresh_cancellable != NULL)
    g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  self->reinterrogate_due = FALSE;
  drop_link (self);
  self->unknown_pump = FALSE;
  set_busy (self, FALSE);
  set_status (self, NULL, FALSE);
  gtk_widget_set_visible (self->content_box, FALSE);
}

void
thecal_overview_page_set_patient (ThecalOverviewPage *self, ThecalPatientItem *item)
{
  const ThecalPatient *patient;
  const ThecalDemoPatient *demo_patient;

  g_return_if_fail (THECAL_IS_OVERVIEW_PAGE (self));

  drop_connection (self);
  g_clear_pointer (&self->patient, thecal_patient_free);
  if (item == NULL)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      return;
    }
  patient = thecal_patient_item_get_patient (item);
  self->patient = thecal_patient_copy (patient);
  gtk_label_set_text (GTK_LABEL (self->patient_label), patient->name);
  demo_patient = thecal_demo_patient_find (patient->mrn);
  if (demo_patient != NULL && thecal_patient_item_get_status (item) != NULL)
    set_label (self->patient_detail_label, g_strdup_printf (_ ("MRN %s · born %s · simulated pump %s"), patient->mrn,
                                                            patient->date_of_birth, demo_patient->serial));
  else
    set_label (self->patient_detail_label, g_strdup_printf (_ ("MRN %s · born %s"), patient->mrn, patient->date_of_birth));
  fill_demo_pumps (self, demo_patient);
  set_busy (self, FALSE);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "patient");
}

const char *
thecal_overview_page_get_mrn (ThecalOverviewPage *self)
{
  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  return self->patient != NULL ? self->patient->mrn : NULL;
}

void
thecal_overview_page_set_session (ThecalOverviewPage *self,
                                  ThecalRecordSession *session,
                                  const ThecalPumpModelSet *models,
                                  const ThecalDrugLibrary *library)
{
  g_return_if_fail (THECAL_IS_OVERVIEW_PAGE (self));

  thecal_overview_page_set_patient (self, NULL);
  g_set_object (&self->session, session);
  g_clear_pointer (&self->models, g_free);
  g_clear_pointer (&self->library, g_free);
  if (models != NULL)
    self->models = g_memdup2 (models, sizeof *models);
  if (library != NULL)
    self->library = g_memdup2 (library, sizeof *library);
}

gboolean
thecal_overview_page_get_busy (ThecalOverviewPage *self)
{
  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), FALSE);
  return self->cancellable != NULL;
}

ThecalDemoLink *
thecal_overview_page_get_demo_link (ThecalOverviewPage *self)
{
  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  return self->demo_link;
}

ThecalVisit *
thecal_overview_page_get_visit (ThecalOverviewPage *self)
{
  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);
  if (link_visit (self) == NULL || self->cancellable != NULL)
    return NULL;
  return thecal_visit_is_connected (link_visit (self)) ? link_visit (self) : NULL;
}

static char *
dup_list_text (GtkWidget *list)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (GtkWidget *row = gtk_widget_get_first_child (list); row != NULL; row = gtk_widget_get_next_sibling (row))
    {
      const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));

      g_string_append (text, adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
      if (subtitle != NULL && subtitle[0] != '\0')
        g_string_append_printf (text, ": %s", subtitle);
      g_string_append_c (text, '\n');
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

char *
thecal_overview_page_dup_text (ThecalOverviewPage *self, const char *key)
{
  const struct
  {
    const char *key;
    GtkWidget *label;
  } labels[] = {
    { "drug", self->drug_label },
    { "concentration", self->concentration_label },
    { "mode", self->mode_label },
    { "dose", self->dose_label },
    { "rate", self->rate_label },
    { "reservoir", self->reservoir_label },
    { "low_date", self->low_date_label },
    { "empty_date", self->empty_date_label },
    { "refill_by", self->refill_by_label },
    { "battery", self->battery_label },
    { "eri", self->eri_label },
    { "status", self->connect_status_label },
  };

  g_return_val_if_fail (THECAL_IS_OVERVIEW_PAGE (self), NULL);

  if (g_strcmp0 (key, "alarms") == 0)
    return dup_list_text (self->alarms_list);
  if (g_strcmp0 (key, "findings") == 0)
    return dup_list_text (self->findings_list);
  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (labels[i].key, key) == 0)
      return g_strdup (gtk_label_get_text (GTK_LABEL (labels[i].label)));
  return NULL;
}

static void
thecal_overview_page_dispose (GObject *object)
{
  ThecalOverviewPage *self = THECAL_OVERVIEW_PAGE (object);

  thecal_overview_page_set_wand_status (self, NULL);
  close_dialog (self, &self->wizard);
  close_dialog (self, &self->program_dialog);
  close_dialog (self, &self->action_dialog);
  g_clear_pointer (&self->action_note, g_free);
  g_clear_pointer (&self->rows_key, g_free);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  if (self->refresh_cancellable != NULL)
    g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  g_clear_handle_id (&self->refresh_tick_id, g_source_remove);
  drop_link (self);
  if (self->demo_world != NULL)
    g_clear_signal_handler (&self->world_changed_id, self->demo_world);
  g_clear_object (&self->demo_world);
  g_clear_pointer (&self->demo_serials, g_ptr_array_unref);
  g_clear_object (&self->session);
  g_clear_pointer (&self->patient, thecal_patient_free);
  g_clear_pointer (&self->models, g_free);
  g_clear_pointer (&self->library, g_free);
  G_OBJECT_CLASS (thecal_overview_page_parent_class)->dispose (object);
}

static void
thecal_overview_page_class_init (ThecalOverviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_overview_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-overview-page.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, ThecalOverviewPage, name)
  BIND (stack);
  BIND (patient_label);
  BIND (patient_detail_label);
  BIND (connect_button);
  BIND (cancel_button);
  BIND (refill_button);
  BIND (program_button);
  BIND (bolus_button);
  BIND (clock_button);
  BIND (register_button);
  BIND (spinner);
  BIND (connect_status_label);
  BIND (progress_bar);
  BIND (content_box);
  BIND (drug_label);
  BIND (concentration_label);
  BIND (mode_label);
  BIND (dose_label);
  BIND (rate_label);
  BIND (reservoir_gauge);
  BIND (reservoir_label);
  BIND (low_date_label);
  BIND (empty_date_label);
  BIND (refill_by_label);
  BIND (battery_label);
  BIND (eri_label);
  BIND (alarms_list);
  BIND (findings_list);
  BIND (demo_pump_row);
  BIND (demo_pump_dropdown);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_connect_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_refill_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_program_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_bolus_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_clock_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_register_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_history_clicked);
}

static void
thecal_overview_page_init (ThecalOverviewPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->demo_serials = g_ptr_array_new_with_free_func (g_free);
  set_busy (self, FALSE);
}

GtkWidget *
thecal_overview_page_new (void)
{
  return g_object_new (THECAL_TYPE_OVERVIEW_PAGE, NULL);
}
