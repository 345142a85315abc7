/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-wand-status.c: see thecal-wand-status.h.
 */
#include "config.h"

#include "thecal-wand-status.h"

#include <glib/gi18n.h>

#include "thecal-usb-monitor.h"
#ifdef THECAL_HAVE_USB_TRANSPORT
#include "thecal-usb-transport.h"
#endif

/* How often the wand is asked for its link (WAND_LINK: answered by the wand over USB, no radio,
 * nothing reaches the pump). */
#define WAND_POLL_INTERVAL_MS 2000

struct _ThecalWandStatus
{
  GtkBox parent_instance;

  GtkWidget *icon;
  GtkWidget *label;

  ThecalDemoWorld *world;
  gulong changed_id;

  /* outside demo mode: the USB wand */
  ThecalUsbMonitor *monitor;
  char *usb_failure; /* why the USB wand cannot be watched */
  guint16 vid, pid;
  ThecalPumpLink *followed; /* a visit's link through the wand (thecal_wand_status_follow_link) */
  gboolean released;        /* someone opens the wand: no probe of our own until follow_link */
  ThecalPumpLink *probe;    /* our own link to ask the wand while nobody else uses it */
  char *probe_failure;      /* why the wand could not be opened for that */
  guint poll_id;
  GCancellable *query_cancellable; /* the query in flight */
  gboolean have_answer;
  ThecalWandLink answer; /* the wand's last answer */
  char *query_failure;   /* why the last query failed */
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

/* The signal icon of a link quality (0-100 %). */
static const char *
wand_link_icon (guint quality_percent)
{
  if (quality_percent >= 75)
    return "network-wireless-signal-excellent-symbolic";
  if (quality_percent >= 50)
    return "network-wireless-signal-good-symbolic";
  if (quality_percent >= 25)
    return "network-wireless-signal-ok-symbolic";
  return "network-wireless-signal-weak-symbolic";
}

/* Runs on the main thread: the world or the monitor changed. */
static void
update (ThecalWandStatus *self)
{
  if (self->icon == NULL)
    return; /* disposed */
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
  /* a visit's link that still works proves a wand, whatever the monitor of the preferences' ID
   * says (the ID may have changed during the visit) */
  if (self->monitor != NULL && thecal_usb_monitor_get_count (self->monitor) == 0
      && (self->followed == NULL || !thecal_pump_link_is_connected (self->followed)))
    {
      show (self, "action-unavailable-symbolic", _ ("Wand absent"), _ ("No telemetry wand is plugged in"));
      return;
    }
  if (self->monitor != NULL || self->followed != NULL)
    {
      const ThecalProtoIdentity *identity = self->followed != NULL ? thecal_pump_link_get_identity (self->followed) : NULL;

      if (self->followed != NULL && !thecal_pump_link_is_connected (self->followed))
        show (self, "network-wireless-offline-symbolic", _ ("Wand present"),
              _ ("The connection through the wand was lost: connect to the pump again"));
      else if (!self->have_answer)
        {
          const char *why = self->query_failure != NULL ? self->query_failure : self->probe_failure;
          g_autofree char *tip = why != NULL ? g_strdup_printf (_ ("A telemetry wand is plugged in, but it cannot be asked whether a "
                                                                   "pump is in range: %s"),
                                                                why)
                                             : NULL;

          show (self, "network-wireless-offline-symbolic", _ ("Wand present"),
                tip != NULL ? tip : _ ("A telemetry wand is plugged in; asking it whether a pump is in range…"));
        }
      else if (!self->answer.pump_in_range)
        show (self, "network-wireless-offline-symbolic", _ ("Wand present, no pump in range"),
              _ ("The wand hears no pump: hold it over the implanted pump"));
      else
        {
          g_autofree char *text = NULL;
          g_autofree char *tip = NULL;
          g_autofree char *signal = g_strdup_printf ("%d", self->answer.rssi_dbm);

          /* the serial is known once a pump identified itself through the link */
          if (identity != NULL)
            {
              text = g_strdup_printf (_ ("Pump %s in range, link %d %%"), identity->serial, self->answer.quality_percent);
              tip = g_strdup_printf (_ ("USB wand: pump %s in range, link quality %d %%, signal %s dBm"), identity->serial,
                                     self->answer.quality_percent, signal);
            }
          else
            {
              text = g_strdup_printf (_ ("Pump in range, link %d %%"), self->answer.quality_percent);
              tip = g_strdup_printf (_ ("USB wand: a pump is in range, link quality %d %%, signal %s dBm; connect to identify it"),
                                     self->answer.quality_percent, signal);
            }
          show (self, wand_link_icon (self->answer.quality_percent), text, tip);
        }
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

/* ---- asking the USB wand (WAND_LINK) ------------------------------------------------------- */

static void
forget_answer (ThecalWandStatus *self)
{
  self->have_answer = FALSE;
  g_clear_pointer (&self->query_failure, g_free);
}

static void
cancel_query (ThecalWandStatus *self)
{
  if (self->query_cancellable != NULL)
    g_cancellable_cancel (self->query_cancellable);
  g_clear_object (&self->query_cancellable);
}

/* Closes our own link to the wand, so that a visit can open it (libusb: one claim at a time). */
static void
drop_probe (ThecalWandStatus *self)
{
  if (self->probe == NULL)
    return;
  cancel_query (self);
  thecal_transport_close (thecal_pump_link_get_transport (self->probe));
  g_clear_object (&self->probe);
}

/* Opens our own link to the wand when one is plugged in and nobody else uses it. Quick (libusb
 * opens and claims the interface; no telemetry). */
static void
ensure_probe (ThecalWandStatus *self)
{
#ifdef THECAL_HAVE_USB_TRANSPORT
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUsbTransport) transport = NULL;

  if (self->probe != NULL || self->followed != NULL || self->released || self->monitor == NULL
      || thecal_usb_monitor_get_count (self->monitor) == 0)
    return;
  transport = thecal_usb_transport_new (self->vid, self->pid, &error);
  g_clear_pointer (&self->probe_failure, g_free);
  if (transport == NULL)
    {
      /* e.g. another program holds it, or the udev rule is missing: said in the tooltip */
      self->probe_failure = g_strdup (error->message);
      return;
    }
  self->probe = thecal_pump_link_new (THECAL_TRANSPORT (transport), NULL);
#else
  (void) self;
#endif
}

static void ask_wand (ThecalWandStatus *self);

/* Runs on the main thread: the wand answered WAND_LINK (or did not). */
static void
on_wand_link (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalWandStatus) self = user_data;
  g_autoptr (GError) error = NULL;
  ThecalWandLink answer;

  gboolean current = g_task_get_cancellable (G_TASK (result)) == self->query_cancellable;
  gboolean ok = thecal_pump_link_read_wand_link_finish (THECAL_PUMP_LINK (source), result, &answer, &error);

  /* a query of a link given up since (cancelled) is forgotten */
  if (!current || self->icon == NULL)
    return;
  g_clear_object (&self->query_cancellable);
  if (!ok)
    {
      /* busy: an interrupted operation drains; the next poll asks again */
      if (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL))
        return;
      forget_answer (self);
      self->query_failure = g_strdup (error->message);
      /* our own link lost its wand: open it again at the next poll, if it is still there */
      if (THECAL_PUMP_LINK (source) == self->probe && !thecal_pump_link_is_connected (self->probe))
        g_clear_object (&self->probe);
      update (self);
      return;
    }
  g_clear_pointer (&self->query_failure, g_free);
  self->have_answer = TRUE;
  self->answer = answer;
  update (self);
}

/* Asks the wand through the visit's link, else through our own. */
static void
ask_wand (ThecalWandStatus *self)
{
  ThecalPumpLink *link;

  if (self->query_cancellable != NULL)
    return;
  ensure_probe (self);
  link = self->followed != NULL ? self->followed : self->probe;
  if (link == NULL)
    {
      if (self->have_answer)
        {
          forget_answer (self);
          update (self);
        }
      return;
    }
  self->query_cancellable = g_cancellable_new ();
  thecal_pump_link_read_wand_link_async (link, self->query_cancellable, on_wand_link, g_object_ref (self));
}

/* Runs on the main thread: time to ask the wand again. */
static gboolean
on_poll (gpointer user_data)
{
  ask_wand (user_data);
  return G_SOURCE_CONTINUE;
}

/* Runs on the main thread: a wand was plugged in or pulled out. */
static void
on_wand_plugged (ThecalWandStatus *self)
{
  if (self->monitor != NULL && thecal_usb_monitor_get_count (self->monitor) == 0)
    {
      drop_probe (self);
      g_clear_pointer (&self->probe_failure, g_free);
      forget_answer (self);
    }
  update (self);
  ask_wand (self);
}

void
thecal_wand_status_watch_usb (ThecalWandStatus *self, guint16 vid, guint16 pid)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (THECAL_IS_WAND_STATUS (self));
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_clear_pointer (&self->usb_failure, g_free);
  drop_probe (self);
  g_clear_pointer (&self->probe_failure, g_free);
  forget_answer (self);
  self->vid = vid;
  self->pid = pid;
  self->monitor = thecal_usb_monitor_new (vid, pid, &error);
  if (self->monitor == NULL)
    self->usb_failure = g_strdup (error->message);
  else
    {
      g_signal_connect_swapped (self->monitor, "wand-added", G_CALLBACK (on_wand_plugged), self);
      g_signal_connect_swapped (self->monitor, "wand-removed", G_CALLBACK (on_wand_plugged), self);
    }
  if (self->poll_id == 0)
    self->poll_id = g_timeout_add (WAND_POLL_INTERVAL_MS, on_poll, self);
  update (self);
}

void
thecal_wand_status_release_wand (ThecalWandStatus *self)
{
  g_return_if_fail (THECAL_IS_WAND_STATUS (self));
  self->released = TRUE;
  drop_probe (self);
}

void
thecal_wand_status_follow_link (ThecalWandStatus *self, ThecalPumpLink *link)
{
  g_return_if_fail (THECAL_IS_WAND_STATUS (self));
  g_return_if_fail (link == NULL || THECAL_IS_PUMP_LINK (link));
  if (link == self->followed)
    return;
  cancel_query (self);
  drop_probe (self);
  g_set_object (&self->followed, link);
  self->released = FALSE;
  forget_answer (self);
  if (link != NULL && self->poll_id == 0)
    self->poll_id = g_timeout_add (WAND_POLL_INTERVAL_MS, on_poll, self);
  update (self);
  /* at once: the header follows the new link without waiting for the next poll */
  ask_wand (self);
}

void
thecal_wand_status_ask_now (ThecalWandStatus *self)
{
  g_return_if_fail (THECAL_IS_WAND_STATUS (self));
  ask_wand (self);
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
  g_clear_handle_id (&self->poll_id, g_source_remove);
  cancel_query (self);
  drop_probe (self);
  g_clear_object (&self->followed);
  g_clear_pointer (&self->probe_failure, g_free);
  forget_answer (self);
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
