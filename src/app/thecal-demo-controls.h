/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-demo-controls.h: the demo bar under the "Demo — simulated pumps" banner (docs/gui.md
 * "Demo mode"): the demo date and time, ticking; the time control (Pause, 1×, 1 h per second,
 * 1 day per second: linked toggle buttons); the fault buttons (Unplug Wand / Plug In Wand,
 * Unplug Wand After Commit, Motor Stall, Over-infusion +20 %) for the selected patient's simulated pump; and that pump's true
 * state as the simulation knows it (actual reservoir beside the pump's own estimate), marked as
 * what no real pump can report.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-demo.h"

G_BEGIN_DECLS

#define THECAL_TYPE_DEMO_CONTROLS (thecal_demo_controls_get_type ())
G_DECLARE_FINAL_TYPE (ThecalDemoControls, thecal_demo_controls, THECAL, DEMO_CONTROLS, GtkBox)

/* The over-infusion button's fault: +20 % (flow bias in bp). */
#define THECAL_DEMO_OVER_INFUSION_BP 2000

GtkWidget *thecal_demo_controls_new (void);

/* The world the controls drive (NULL: none; the bar is then empty and insensitive). */
void thecal_demo_controls_set_world (ThecalDemoControls *self, ThecalDemoWorld *world);
ThecalDemoWorld *thecal_demo_controls_get_world (ThecalDemoControls *self);
/* The pump the fault buttons act on and whose true state is shown (NULL: none). */
void thecal_demo_controls_set_serial (ThecalDemoControls *self, const char *serial);

/* What the buttons do (the tests call them as a click would). */
void thecal_demo_controls_set_scale (ThecalDemoControls *self, guint scale);
void thecal_demo_controls_toggle_wand (ThecalDemoControls *self);
/* "Unplug Wand After Commit" (thecal_demo_world_set_unplug_after_commit): arms or disarms it.
 * FALSE (nothing armed) without a world or, to arm, while the wand is unplugged. */
gboolean thecal_demo_controls_set_unplug_after_commit (ThecalDemoControls *self, gboolean armed);
gboolean thecal_demo_controls_motor_stall (ThecalDemoControls *self);
gboolean thecal_demo_controls_over_infusion (ThecalDemoControls *self);
/* Reads the clock and the pump again now (the bar also does it 4 times a second). */
void thecal_demo_controls_update (ThecalDemoControls *self);

/* What a label shows, by key: "time" (the demo date and time), "speed", "pump" (the true
 * state), "message" (the last fault's outcome), "wand" (the wand button's label), "commit"
 * ("armed" while "Unplug Wand After Commit" is armed, else ""). A new string,
 * NULL for an unknown key. */
char *thecal_demo_controls_dup_text (ThecalDemoControls *self, const char *key);

G_END_DECLS
