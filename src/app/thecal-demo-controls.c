/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-demo-controls.c: see thecal-demo-controls.h.
 */
#include "config.h"

#include "thecal-demo-controls.h"

#include <glib/gi18n.h>

#include "thecal-format.h"

struct _ThecalDemoControls
{
  GtkBox parent_instance;

  GtkWidget *bar;
  GtkWidget *time_label;
  GtkWidget *pause_button;
  GtkWidget *real_button;
  GtkWidget *hour_button;
  GtkWidget *day_button;
  GtkWidget *wand_button;
  GtkWidget *commit_button;
  GtkWidget *stall_button;
  GtkWidget *over_button;
  GtkWidget *pump_label;
  GtkWidget *message_label;

  ThecalDemoWorld *world;
  gulong changed_id;
  char *serial;
  guint tick_id;
  gboolean syncing; /* the toggle buttons follow the world: no feedback */
  gboolean armed;   /* "Unplug Wand After Commit" was armed when the bar last looked */
};

G_DEFINE_FINAL_TYPE (ThecalDemoControls, thecal_demo_controls, GTK_TYPE_BOX)

/* The bar reads the clock 4 times a second: at 1 day per second the minutes shown change on
 * every tick, at 1× once a minute (the label shows minutes, ISMP-free text). */
#define TICK_MS 250

static void
set_message (ThecalDemoControls *self, const char *text, gboolean error)
{
  gtk_label_set_text (GTK_LABEL (self->message_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->message_label, text != NULL);
  if (error)
    gtk_widget_add_css_class (self->message_label, "error");
  else
    gtk_widget_remove_css_class (self->message_label, "error");
}

static void
sync_buttons (ThecalDemoControls *self)
{
  guint scale = self->world != NULL ? thecal_demo_world_get_scale (self->world) : THECAL_DEMO_SCALE_PAUSED;
  gboolean plugged = self->world != NULL && thecal_demo_world_get_wand_plugged (self->world);
  GtkWidget *active = scale == THECAL_DEMO_SCALE_PAUSED            ? self->pause_button
                      : scale == THECAL_DEMO_SCALE_REAL_TIME       ? self->real_button
                      : scale == THECAL_DEMO_SCALE_HOUR_PER_SECOND ? self->hour_button
                      : scale == THECAL_DEMO_SCALE_DAY_PER_SECOND  ? self->day_button
                                                                   : NULL;

  self->syncing = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->pause_button), active == self->pause_button);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->real_button), active == self->real_button);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->hour_button), active == self->hour_button);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->day_button), active == self->day_button);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->commit_button),
                                self->world != NULL && thecal_demo_world_get_unplug_after_commit (self->world));
  self->syncing = FALSE;
  /* armed only while the wand is in: unplugged, there is no link to lose (pressed again: disarmed) */
  gtk_widget_set_sensitive (self->commit_button, plugged || gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->commit_button)));
  gtk_button_set_label (GTK_BUTTON (self->wand_button), plugged ? _ ("Unplug Wand") : _ ("Plug In Wand"));
  gtk_widget_set_sensitive (GTK_WIDGET (self), self->world != NULL);
  gtk_widget_set_sensitive (self->stall_button, self->serial != NULL);
  gtk_widget_set_sensitive (self->over_button, self->serial != NULL);
}

void
thecal_demo_controls_update (ThecalDemoControls *self)
{
  ThecalEngineStatus st;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (THECAL_IS_DEMO_CONTROLS (self));
  if (self->world == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->time_label), "—");
      gtk_label_set_text (GTK_LABEL (self->pump_label), "");
      return;
    }
  {
    g_autofree char *now = thecal_format_instant (thecal_demo_world_now_ms (self->world));

    gtk_label_set_text (GTK_LABEL (self->time_label), now);
  }
  if (self->serial == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->pump_label), _ ("Select a patient: the fault buttons act on their simulated pump."));
      return;
    }
  if (!thecal_demo_world_get_pump_status (self->world, self->serial, &st, &error))
    {
      gtk_label_set_text (GTK_LABEL (self->pump_label), error->message);
      return;
    }
  {
    g_autofree char *actual = thecal_format_quantity (THECAL_QUANTITY_VOLUME, st.reservoir_actual_nl);
    g_autofree char *estimate = thecal_format_quantity (THECAL_QUANTITY_VOLUME, st.reservoir_estimate_nl);
    g_autoptr (GString) faults = g_string_new (NULL);
    g_autofree char *text = NULL;

    if (st.stalled)
      g_string_append (faults, _ (" · motor stalled"));
    if (st.bias_bp != 0)
      {
        /* the bias in bp as a ratio: the dose core's formatting, no arithmetic here */
        g_autofree char *bias = thecal_format_quantity (THECAL_QUANTITY_RATIO, st.bias_bp);

        g_string_append_printf (faults, _ (" · flow error %s%s"), st.bias_bp > 0 ? "+" : "", bias);
      }
    /* the truth of the simulation: what no real pump can report (it knows only its estimate) */
    text = g_strdup_printf (_ ("Simulated pump %s, as the simulation knows it (no real pump can report this): actual reservoir %s, "
                               "the pump’s estimate %s%s"),
                            self->serial, actual, estimate, faults->str);
    gtk_label_set_text (GTK_LABEL (self->pump_label), text);
  }
}

/* Runs on the main thread 4 times a second. */
static gboolean
on_tick (gpointer user_data)
{
  thecal_demo_controls_update (THECAL_DEMO_CONTROLS (user_data));
  return G_SOURCE_CONTINUE;
}

/* Runs on the main thread: the world's speed, wand, armed fault or links changed. */
static void
on_world_changed (ThecalDemoControls *self)
{
  gboolean armed = self->world != NULL && thecal_demo_world_get_unplug_after_commit (self->world);

  /* the armed fault fired: it disarmed itself and pulled the wand out */
  if (self->armed && !armed && self->world != NULL && !thecal_demo_world_get_wand_plugged (self->world))
    set_message (self,
                 _ ("The wand was pulled out right after the pump took the commit: its read-back was lost, so the outcome is "
                    "uncertain. Plug the wand in and read the pump again."),
                 FALSE);
  self->armed = armed;
  sync_buttons (self);
  thecal_demo_controls_update (self);
}

void
thecal_demo_controls_set_world (ThecalDemoControls *self, ThecalDemoWorld *world)
{
  g_return_if_fail (THECAL_IS_DEMO_CONTROLS (self));
  if (self->world != NULL)
    g_clear_signal_handler (&self->changed_id, self->world);
  g_set_object (&self->world, world);
  if (world != NULL)
    self->changed_id = g_signal_connect_swapped (world, "changed", G_CALLBACK (on_world_changed), self);
  if (world != NULL && self->tick_id == 0)
    self->tick_id = g_timeout_add (TICK_MS, on_tick, self);
  if (world == NULL)
    g_clear_handle_id (&self->tick_id, g_source_remove);
  on_world_changed (self);
}

ThecalDemoWorld *
thecal_demo_controls_get_world (ThecalDemoControls *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_CONTROLS (self), NULL);
  return self->world;
}

void
thecal_demo_controls_set_serial (ThecalDemoControls *self, const char *serial)
{
  g_return_if_fail (THECAL_IS_DEMO_CONTROLS (self));
  if (g_strcmp0 (serial, self->serial) == 0)
    return;
  g_free (self->serial);
  self->serial = g_strdup (serial);
  set_message (self, NULL, FALSE);
  on_world_changed (self);
}

void
thecal_demo_controls_set_scale (ThecalDemoControls *self, guint scale)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (THECAL_IS_DEMO_CONTROLS (self));
  if (self->world == NULL)
    return;
  if (!thecal_demo_world_set_scale (self->world, scale, &error))
    set_message (self, error->message, TRUE);
  sync_buttons (self);
  thecal_demo_controls_update (self);
}

/* Runs on the main thread: one of the linked speed buttons. */
static void
on_speed_toggled (ThecalDemoControls *self, GtkToggleButton *button)
{
  if (self->syncing || !gtk_toggle_button_get_active (button))
    return;
  if (GTK_WIDGET (button) == self->pause_button)
    thecal_demo_controls_set_scale (self, THECAL_DEMO_SCALE_PAUSED);
  else if (GTK_WIDGET (button) == self->real_button)
    thecal_demo_controls_set_scale (self, THECAL_DEMO_SCALE_REAL_TIME);
  else if (GTK_WIDGET (button) == self->hour_button)
    thecal_demo_controls_set_scale (self, THECAL_DEMO_SCALE_HOUR_PER_SECOND);
  else if (GTK_WIDGET (button) == self->day_button)
    thecal_demo_controls_set_scale (self, THECAL_DEMO_SCALE_DAY_PER_SECOND);
}

void
thecal_demo_controls_toggle_wand (ThecalDemoControls *self)
{
  gboolean plugged;

  g_return_if_fail (THECAL_IS_DEMO_CONTROLS (self));
  if (self->world == NULL)
    return;
  plugged = !thecal_demo_world_get_wand_plugged (self->world);
  thecal_demo_world_set_wand_plugged (self->world, plugged);
  set_message (self, plugged ? _ ("The wand is plugged in again.") : _ ("The wand was unplugged: telemetry in progress fails with “Wand unplugged”."),
               FALSE);
}

gboolean
thecal_demo_controls_set_unplug_after_commit (ThecalDemoControls *self, gboolean armed)
{
  g_return_val_if_fail (THECAL_IS_DEMO_CONTROLS (self), FALSE);
  if (self->world == NULL || (armed && !thecal_demo_world_get_wand_plugged (self->world)))
    {
      sync_buttons (self);
      return FALSE;
    }
  /* the message first: arming emits "changed", which must not read it as fired */
  set_message (self,
               armed ? _ ("Armed: the wand will be pulled out as soon as the pump has taken the next commit of a prescription "
                          "(Program…), before it is read back.")
                     : _ ("Disarmed: the wand stays in."),
               FALSE);
  thecal_demo_world_set_unplug_after_commit (self->world, armed);
  return TRUE;
}

static gboolean
inject (ThecalDemoControls *self, ThecalFaultKind kind, gint64 value, const char *done)
{
  g_autoptr (GError) error = NULL;

  if (self->world == NULL || self->serial == NULL)
    return FALSE;
  if (!thecal_demo_world_inject_fault (self->world, self->serial, kind, value, &error))
    {
      set_message (self, error->message, TRUE);
      return FALSE;
    }
  set_message (self, done, FALSE);
  thecal_demo_controls_update (self);
  return TRUE;
}

gboolean
thecal_demo_controls_motor_stall (ThecalDemoControls *self)
{
  g_autofree char *done = NULL;

  g_return_val_if_fail (THECAL_IS_DEMO_CONTROLS (self), FALSE);
  done = g_strdup_printf (_ ("The motor of %s stalled: the pump raises its critical alarm, shown when the pump is read."),
                          self->serial != NULL ? self->serial : "");
  return inject (self, THECAL_FAULT_MOTOR_STALL, 0, done);
}

gboolean
thecal_demo_controls_over_infusion (ThecalDemoControls *self)
{
  g_autofree char *done = NULL;

  g_return_val_if_fail (THECAL_IS_DEMO_CONTROLS (self), FALSE);
  done = g_strdup_printf (_ ("%s now delivers 20 %% more than programmed: its actual reservoir falls faster than its estimate, "
                             "which the pump cannot see."),
                          self->serial != NULL ? self->serial : "");
  return inject (self, THECAL_FAULT_FLOW_BIAS, THECAL_DEMO_OVER_INFUSION_BP, done);
}

/* Runs on the main thread: the fault buttons. */
static void
on_wand_clicked (ThecalDemoControls *self)
{
  thecal_demo_controls_toggle_wand (self);
}

static void
on_commit_toggled (ThecalDemoControls *self)
{
  if (self->syncing)
    return;
  thecal_demo_controls_set_unplug_after_commit (self, gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->commit_button)));
}

static void
on_stall_clicked (ThecalDemoControls *self)
{
  thecal_demo_controls_motor_stall (self);
}

static void
on_over_clicked (ThecalDemoControls *self)
{
  thecal_demo_controls_over_infusion (self);
}

char *
thecal_demo_controls_dup_text (ThecalDemoControls *self, const char *key)
{
  g_return_val_if_fail (THECAL_IS_DEMO_CONTROLS (self), NULL);
  if (g_strcmp0 (key, "time") == 0)
    return g_strdup (gtk_label_get_text (GTK_LABEL (self->time_label)));
  if (g_strcmp0 (key, "pump") == 0)
    return g_strdup (gtk_label_get_text (GTK_LABEL (self->pump_label)));
  if (g_strcmp0 (key, "message") == 0)
    return g_strdup (gtk_label_get_text (GTK_LABEL (self->message_label)));
  if (g_strcmp0 (key, "wand") == 0)
    return g_strdup (gtk_button_get_label (GTK_BUTTON (self->wand_button)));
  if (g_strcmp0 (key, "commit") == 0)
    return g_strdup (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->commit_button)) ? "armed" : "");
  if (g_strcmp0 (key, "speed") == 0)
    {
      GtkWidget *buttons[] = { self->pause_button, self->real_button, self->hour_button, self->day_button };

      for (gsize i = 0; i < G_N_ELEMENTS (buttons); i++)
        if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (buttons[i])))
          return g_strdup (gtk_widget_get_tooltip_text (buttons[i]));
      return g_strdup ("");
    }
  return NULL;
}

static void
thecal_demo_controls_dispose (GObject *object)
{
  ThecalDemoControls *self = THECAL_DEMO_CONTROLS (object);

  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->world != NULL)
    g_clear_signal_handler (&self->changed_id, self->world);
  g_clear_object (&self->world);
  g_clear_pointer (&self->serial, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), THECAL_TYPE_DEMO_CONTROLS);
  G_OBJECT_CLASS (thecal_demo_controls_parent_class)->dispose (object);
}

static void
thecal_demo_controls_class_init (ThecalDemoControlsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_demo_controls_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-demo-controls.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, ThecalDemoControls, name)
  BIND (bar);
  BIND (time_label);
  BIND (pause_button);
  BIND (real_button);
  BIND (hour_button);
  BIND (day_button);
  BIND (wand_button);
  BIND (commit_button);
  BIND (stall_button);
  BIND (over_button);
  BIND (pump_label);
  BIND (message_label);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_speed_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_wand_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_commit_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_stall_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_over_clicked);
}

static void
thecal_demo_controls_init (ThecalDemoControls *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* the flow box's children only lay out: the controls inside them take the focus */
  for (GtkWidget *child = gtk_widget_get_first_child (self->bar); child != NULL; child = gtk_widget_get_next_sibling (child))
    gtk_widget_set_focusable (child, FALSE);
  sync_buttons (self);
  thecal_demo_controls_update (self);
}

GtkWidget *
thecal_demo_controls_new (void)
{
  return g_object_new (THECAL_TYPE_DEMO_CONTROLS, NULL);
}
