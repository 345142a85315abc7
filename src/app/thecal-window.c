/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-window.c: see thecal-window.h.
 */
#include "config.h"

#include "thecal-window.h"

#include <glib/gi18n.h>

#include "thecal-demo-controls.h"
#include "thecal-usb-transport.h"
#include "thecal-wand-status.h"

struct _ThecalWindow
{
  AdwApplicationWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *back_button;
  GtkWidget *sign_out_button;
  GtkWidget *demo_banner;
  GtkWidget *main_stack;
  GtkWidget *leaflet;
  GtkWidget *sign_in_page;
  GtkWidget *patients_page;
  GtkWidget *overview_page;
  GtkWidget *wand_status;
  GtkWidget *demo_controls;

  gboolean demo;
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  ThecalRecordSession *session;
  ThecalDemoWorld *demo_world; /* demo mode: the simulated pumps of this session */
};

G_DEFINE_FINAL_TYPE (ThecalWindow, thecal_window, ADW_TYPE_APPLICATION_WINDOW)

/* Runs on the main thread: the session, or the leaflet's folding or visible child changed. */
static void
update_header (ThecalWindow *self)
{
  const ThecalUser *user = self->session != NULL ? thecal_record_session_get_user (self->session) : NULL;
  gboolean folded = adw_leaflet_get_folded (ADW_LEAFLET (self->leaflet));
  gboolean on_overview = adw_leaflet_get_visible_child (ADW_LEAFLET (self->leaflet)) == self->overview_page;
  g_autofree char *subtitle = NULL;

  if (user != NULL)
    subtitle = g_strdup_printf (_ ("%s (%s), %s"), user->full_name, user->name, thecal_role_name (user->role));
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->window_title), subtitle != NULL ? subtitle : "");
  gtk_widget_set_visible (self->sign_out_button, self->session != NULL);
  gtk_widget_set_visible (self->back_button, self->session != NULL && folded && on_overview);
}

/* Runs on the main thread: the sign-in page signed someone in. */
static void
on_signed_in (ThecalSignInPage *page, ThecalRecordSession *session, ThecalWindow *self)
{
  (void) page;
  g_set_object (&self->session, session);
  thecal_overview_page_set_session (THECAL_OVERVIEW_PAGE (self->overview_page), session, self->models, self->library);
  thecal_patients_page_set_session (THECAL_PATIENTS_PAGE (self->patients_page), session);
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "clinic");
  adw_leaflet_set_visible_child (ADW_LEAFLET (self->leaflet), self->patients_page);
  update_header (self);
}

/* Runs on the main thread: a patient was chosen in the list. */
static void
on_patient_selected (ThecalPatientsPage *page, ThecalPatientItem *item, ThecalWindow *self)
{
  (void) page;
  if (self->demo_world != NULL)
    {
      const ThecalDemoPatient *demo_patient = thecal_demo_patient_find (thecal_patient_item_get_mrn (item));

      /* the fault buttons act on the selected patient's own simulated pump */
      thecal_demo_controls_set_serial (THECAL_DEMO_CONTROLS (self->demo_controls), demo_patient != NULL ? demo_patient->serial : NULL);
    }
  if (g_strcmp0 (thecal_overview_page_get_mrn (THECAL_OVERVIEW_PAGE (self->overview_page)), thecal_patient_item_get_mrn (item)) != 0)
    thecal_overview_page_set_patient (THECAL_OVERVIEW_PAGE (self->overview_page), item);
  adw_leaflet_set_visible_child (ADW_LEAFLET (self->leaflet), self->overview_page);
  update_header (self);
}

/* Runs on the main thread: the back button of a folded window. */
static void
on_back_clicked (ThecalWindow *self)
{
  adw_leaflet_set_visible_child (ADW_LEAFLET (self->leaflet), self->patients_page);
  update_header (self);
}

/* Runs on the main thread: the sign-out button, or the win.sign-out action. */
static void
on_sign_out_clicked (ThecalWindow *self)
{
  thecal_window_sign_out (self);
}

void
thecal_window_sign_out (ThecalWindow *self)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));

  thecal_overview_page_set_session (THECAL_OVERVIEW_PAGE (self->overview_page), NULL, NULL, NULL);
  thecal_patients_page_set_session (THECAL_PATIENTS_PAGE (self->patients_page), NULL);
  thecal_demo_controls_set_serial (THECAL_DEMO_CONTROLS (self->demo_controls), NULL);
  g_clear_object (&self->session);
  thecal_sign_in_page_reset (THECAL_SIGN_IN_PAGE (self->sign_in_page));
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "sign-in");
  update_header (self);
}

void
thecal_window_set_record (ThecalWindow *self, ThecalRecord *record)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  thecal_sign_in_page_set_record (THECAL_SIGN_IN_PAGE (self->sign_in_page), record);
}

void
thecal_window_set_status (ThecalWindow *self, const char *status, gboolean error)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  if (error)
    thecal_sign_in_page_set_error (THECAL_SIGN_IN_PAGE (self->sign_in_page), status);
  else
    thecal_sign_in_page_set_status (THECAL_SIGN_IN_PAGE (self->sign_in_page), status);
}

ThecalSignInPage *
thecal_window_get_sign_in_page (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_SIGN_IN_PAGE (self->sign_in_page);
}

ThecalPatientsPage *
thecal_window_get_patients_page (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_PATIENTS_PAGE (self->patients_page);
}

ThecalOverviewPage *
thecal_window_get_overview_page (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_OVERVIEW_PAGE (self->overview_page);
}

ThecalDemoWorld *
thecal_window_get_demo_world (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return self->demo_world;
}

void
thecal_window_set_demo_world (ThecalWindow *self, ThecalDemoWorld *world)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  g_return_if_fail (self->demo);
  g_return_if_fail (THECAL_IS_DEMO_WORLD (world));
  g_set_object (&self->demo_world, world);
  thecal_demo_controls_set_world (THECAL_DEMO_CONTROLS (self->demo_controls), world);
  thecal_wand_status_set_world (THECAL_WAND_STATUS (self->wand_status), world);
  thecal_overview_page_set_demo_world (THECAL_OVERVIEW_PAGE (self->overview_page), world);
  gtk_widget_set_visible (self->demo_controls, TRUE);
}

ThecalDemoControls *
thecal_window_get_demo_controls (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_DEMO_CONTROLS (self->demo_controls);
}

ThecalWandStatus *
thecal_window_get_wand_status (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_WAND_STATUS (self->wand_status);
}

ThecalRecordSession *
thecal_window_get_session (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return self->session;
}

static void
thecal_window_dispose (GObject *object)
{
  ThecalWindow *self = THECAL_WINDOW (object);

  g_clear_object (&self->session);
  g_clear_object (&self->demo_world);
  G_OBJECT_CLASS (thecal_window_parent_class)->dispose (object);
}

static void
thecal_window_finalize (GObject *object)
{
  ThecalWindow *self = THECAL_WINDOW (object);

  g_free (self->models);
  g_free (self->library);
  G_OBJECT_CLASS (thecal_window_parent_class)->finalize (object);
}

static void
thecal_window_class_init (ThecalWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_window_dispose;
  object_class->finalize = thecal_window_finalize;

  g_type_ensure (THECAL_TYPE_SIGN_IN_PAGE);
  g_type_ensure (THECAL_TYPE_PATIENTS_PAGE);
  g_type_ensure (THECAL_TYPE_OVERVIEW_PAGE);
  g_type_ensure (THECAL_TYPE_WAND_STATUS);
  g_type_ensure (THECAL_TYPE_DEMO_CONTROLS);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, sign_out_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, demo_banner);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, sign_in_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, patients_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, overview_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, wand_status);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, demo_controls);
  gtk_widget_class_bind_template_callback (widget_class, on_signed_in);
  gtk_widget_class_bind_template_callback (widget_class, on_patient_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_sign_out_clicked);
  gtk_widget_class_bind_template_callback (widget_class, update_header);
}

static void
thecal_window_init (ThecalWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

ThecalWindow *
thecal_window_new (AdwApplication *application, gboolean demo, const ThecalPumpModelSet *models, const ThecalDrugLibrary *library)
{
  ThecalWindow *self = g_object_new (THECAL_TYPE_WINDOW, "application", application, NULL);

  self->demo = demo;
  self->models = g_memdup2 (models, sizeof *models);
  self->library = g_memdup2 (library, sizeof *library);
  gtk_widget_set_visible (self->demo_banner, demo);
  if (demo)
    adw_window_title_set_title (ADW_WINDOW_TITLE (self->window_title), _ ("Thecal Demo"));
  if (demo)
    {
      /* one simulated pump per demo patient for the whole session, on one demo clock */
      g_autoptr (ThecalDemoWorld) world = thecal_demo_world_new (models);

      thecal_window_set_demo_world (self, world);
    }
  else
    thecal_wand_status_watch_usb (THECAL_WAND_STATUS (self->wand_status), THECAL_USB_WAND_VID, THECAL_USB_WAND_PID);
  update_header (self);
  return self;
}
