/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-wand-status.c: see thecal-wand-status.h.
 */
#include "config.h"

#include "thecal-wand-status.h"

#include <glib/gi18n.h>

#include "thecal-usb-monitor.h"

struct _ThecalWandStatus
{
  GtkBox parent_instance;

  GtkWidget *icon;
  GtkWidget *label;

  ThecalDemoWorld *world;
  gulong changed_id;
  ThecalUsbMonitor *monitor;
  char *usb_failure; /* why the USB wand cannot be watched */
};

G_DEFINE_FINAL_TYPE (ThecalWandStatus, thecal_wand_status, GTK_TYPE_BOX)

static void
show (ThecalWandStatus *self, const char *icon_name, const char *text, const char *tooltip)
{
  gtk_image_set_from_icon_name (GTK_IMAGE (self->icon), icon_name);
  gtk_label_set_text (GTK_LABEL (self->label), text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tooltip != NULL ? tooltip : text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

/* Runs on the main thread: the world or the monitor changed. */
static void
update (ThecalWandStatus *self)
{
  if (self->world != NULL)
    {
      ThecalDemoWand wand;

      thecal_demo_world_get_wand (self->world, &wand);
      if (!wand.plugged)
        show (self, "action-unavailable-symbolic", _ ("Wand absent"), _ ("Simulated wand: unplugged (demo fault button)"));
      else if (wand.pump_serial[0] == '\0')
        show (self, "network-wireless-offline-symbolic", _ ("Wand present, no pump in range"), _ ("Simulated wand: plugged in"));
      else
        {
          g_autofree char *text = g_strdup_printf (_ ("Pump %s in range, link %d %%"), wand.pump_serial, wand.quality_percent);
          g_autofree char *tip = g_strdup_printf (_ ("Simulated wand: pump %s in range, link quality %d %%, signal %d dBm"),
                                                  wand.pump_serial, wand.quality_percent, wand.rssi_dbm);

          show (self, "network-wireless-signal-excellent-symbolic", text, tip);
        }
      return;
    }
  if (self->monitor != NULL)
    {
      guint count = thecal_usb_monitor_get_count (self->monitor);

      if (count == 0)
        show (self, "action-unavailable-symbolic", _ ("Wand absent"), _ ("No telemetry wand is plugged in"));
      else
        show (self, "network-wireless-offline-symbolic", _ ("Wand present"),
              _ ("A telemetry wand is plugged in; whether a pump is in range is known once you connect"));
      return;
    }
  if (self->usb_failure != NULL)
    {
      g_autofree char *tip = g_strdup_printf (_ ("The wand cannot be watched: %s"), self->usb_failure);

      show (self, "action-unavailable-symbolic", _ ("Wand absent"), tip);
      return;
    }
  show (self, "action-unavailable-symbolic", _ ("Wand absent"), NULL);
}

void
thecal_wand_status_set_world (ThecalWandStatus *self, ThecalDemoWorld *world)
{
  g_return_if_fail (THECAL_IS_WAND_STATUS (self));
  if (self->world != NULL)
    g_clear_signal_handler (&self->changed_id, self->world);
  g_set_object (&self->world, world);
  if (world != NULL)
    self->changed_id = g_signal_connect_swapped (world, "changed", G_CALLBACK (update), self);
  update (self);
}

void
thecal_wand_status_watch_usb (ThecalWandStatus *self, guint16 vid, guint16 pid)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (THECAL_IS_WAND_STATUS (self));
  g_clear_object (&self->monitor);
  g_clear_pointer (&self->usb_failure, g_free);
  self->monitor = thecal_usb_monitor_new (vid, pid, &error);
  if (self->monitor == NULL)
    self->usb_failure = g_strdup (error->message);
  else
    {
      g_signal_connect_swapped (self->monitor, "wand-added", G_CALLBACK (update), self);
      g_signal_connect_swapped (self->monitor, "wand-removed", G_CALLBACK (update), self);
    }
  update (self);
}

char *
thecal_wand_status_dup_text (ThecalWandStatus *self)
{
  g_return_val_if_fail (THECAL_IS_WAND_STATUS (self), NULL);
  return g_strdup (gtk_label_get_text (GTK_LABEL (self->label)));
}

static void
thecal_wand_status_dispose (GObject *object)
{
  ThecalWandStatus *self = THECAL_WAND_STATUS (object);

  if (self->world != NULL)
    g_clear_signal_handler (&self->changed_id, self->world);
  g_clear_object (&self->world);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_clear_pointer (&self->usb_failure, g_free);
  if (self->icon != NULL)
    {
      gtk_box_remove (GTK_BOX (self), self->icon);
      gtk_box_remove (GTK_BOX (self), self->label);
      self->icon = self->label = NULL;
    }
  G_OBJECT_CLASS (thecal_wand_status_parent_class)->dispose (object);
}

static void
thecal_wand_status_class_init (ThecalWandStatusClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = thecal_wand_status_dispose;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_STATUS);
}

static void
thecal_wand_status_init (ThecalWandStatus *self)
{
  gtk_box_set_spacing (GTK_BOX (self), 6);
  self->icon = gtk_image_new ();
  self->label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->label, "caption");
  /* the header must not keep a narrow window wide: the text shrinks (the tooltip says it all) */
  gtk_label_set_ellipsize (GTK_LABEL (self->label), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (self->label), 6);
  gtk_box_append (GTK_BOX (self), self->icon);
  gtk_box_append (GTK_BOX (self), self->label);
  update (self);
}

GtkWidget *
thecal_wand_status_new (void)
{
  return g_object_new (THECAL_TYPE_WAND_STATUS, NULL);
}
