/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-demo.h: the demo world shared by `thecal-cli demo` and `thecal --demo`
 * (docs/workflows.md, docs/gui.md).
 *
 *  - The demo record: a new record made with THECAL_RECORD_OPEN_CREATE_DEMO holding the users
 *    admin (the first administrator), demo (THECAL_ROLE_DEMO: a physician's clinical rights, in a
 *    demo record only) and paula (a physician: the second person of a refill), and six patients,
 *    each with one of the simulated demo pumps of thecal-sim-pump-demo.h implanted and paired with
 *    that pump's demo key.
 *  - The demo world (ThecalDemoWorld, the app's demo mode): ONE simulated pump per demo serial for
 *    the whole session, all on one demo clock (demo time = anchor + real monotonic time elapsed ×
 *    scale, integer ms; pause = scale 0), a spare pump nobody has registered, and the simulated
 *    wand (plugged in or not). Its links (thecal_demo_world_open_link) reach those pumps, so a
 *    pump's reservoir, log, alarms and faults persist from one connection to the next.
 *  - A demo link (ThecalDemoLink): one demo pump started at the demo instant, on the loopback
 *    transport, a ThecalPumpLink over it and a ThecalVisit of a session over that link, with the
 *    visit's clock reading the simulated pump's time. The clock decides how time passes: a virtual
 *    clock (the CLI: instant and deterministic, the caller iterates it) or a real one (the GUI:
 *    the pump's time runs on from the demo instant in real time, on the main loop).
 *
 * The passwords below are the demo's own, printed in docs: a demo record holds no patient data.
 *
 * Threads: thecal_demo_record_create_sync () may run on any thread (it makes its own blocking
 * calls); a ThecalDemoLink lives on the thread-default main context of the thread that made it,
 * like the ThecalVisit inside it.
 */
#pragma once

#include <gio/gio.h>

#include "thecal-clock.h"
#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-visit.h"

G_BEGIN_DECLS

#define THECAL_DEMO_ADMIN_NAME "admin"
#define THECAL_DEMO_ADMIN_PASSWORD "admin password"
#define THECAL_DEMO_USER_NAME "demo"
#define THECAL_DEMO_USER_PASSWORD "demo password"
#define THECAL_DEMO_PHYSICIAN_NAME "paula"
#define THECAL_DEMO_PHYSICIAN_PASSWORD "physician password"

/* One patient of the demo record on one demo pump. */
typedef struct
{
  const char *mrn;
  const char *name;
  const char *born; /* YYYY-MM-DD */
  ThecalOpioidTolerance tolerance;
  const char *serial; /* a serial of thecal-sim-pump-demo.h */
} ThecalDemoPatient;

/* The patient whose pump is low on drug (the scripted visit of the CLI demo), and the stable one. */
#define THECAL_DEMO_PATIENT_LOW_RESERVOIR 1
#define THECAL_DEMO_PATIENT_STABLE 0

guint thecal_demo_patient_count (void);
const ThecalDemoPatient *thecal_demo_patient_get (guint index);
/* NULL when @mrn is not a demo patient. */
const ThecalDemoPatient *thecal_demo_patient_find (const char *mrn);

/* Creates the demo record at @path, which must not exist yet (G_IO_ERROR_EXISTS otherwise, the
 * file untouched). @extra_flags: THECAL_RECORD_OPEN_FAST_HASH in tests (or when the environment
 * has THECAL_PWHASH_LIMITS=min). @admin (may be NULL): the administrator's session. Blocking:
 * the command line, tests, or a worker thread (thecal_demo_record_create_async). */
ThecalRecord *thecal_demo_record_create_sync (const char *path,
                                              ThecalRecordOpenFlags extra_flags,
                                              ThecalRecordSession **admin,
                                              GCancellable *cancellable,
                                              GError **error);

/* The same on a worker thread; the callback runs on the caller's thread-default context. */
void thecal_demo_record_create_async (const char *path,
                                      ThecalRecordOpenFlags extra_flags,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
ThecalRecord *thecal_demo_record_create_finish (GAsyncResult *result, GError **error);

/* TRUE when THECAL_PWHASH_LIMITS=min asks for the MIN Argon2id limits (tests). */
gboolean thecal_demo_fast_hash_requested (void);

#define THECAL_TYPE_DEMO_LINK (thecal_demo_link_get_type ())
G_DECLARE_FINAL_TYPE (ThecalDemoLink, thecal_demo_link, THECAL, DEMO_LINK, GObject)

/* Starts the demo pump @serial (at the demo instant, after its history) on a loopback transport
 * on @clock and makes a visit of @session over it. @models must hold the pump's model; @models
 * and @library are copied by the visit. Errors: G_IO_ERROR_NOT_FOUND for a serial that is not a
 * demo pump, THECAL_VISIT_ERROR_FAILED when the pump cannot start (the dose core's message). */
ThecalDemoLink *thecal_demo_link_new (ThecalRecordSession *session,
                                      const ThecalPumpModelSet *models,
                                      const ThecalDrugLibrary *library,
                                      const char *serial,
                                      ThecalClock *clock,
                                      GError **error);

/* The demo pump's description, or NULL for the demo world's spare pump. */
const ThecalSimPumpDemo *thecal_demo_link_get_demo (ThecalDemoLink *self);
ThecalClock *thecal_demo_link_get_clock (ThecalDemoLink *self);
ThecalLoopbackTransport *thecal_demo_link_get_loopback (ThecalDemoLink *self);
ThecalPumpLink *thecal_demo_link_get_link (ThecalDemoLink *self);
ThecalVisit *thecal_demo_link_get_visit (ThecalDemoLink *self);
/* The pump's serial. */
const char *thecal_demo_link_get_serial (ThecalDemoLink *self);

/* ---- the demo world ------------------------------------------------------------------------ */

/* The time control's speeds (demo ms per real ms); any scale 0 .. THECAL_DEMO_SCALE_MAX works. */
#define THECAL_DEMO_SCALE_PAUSED 0u
#define THECAL_DEMO_SCALE_REAL_TIME 1u
#define THECAL_DEMO_SCALE_HOUR_PER_SECOND 3600u
#define THECAL_DEMO_SCALE_DAY_PER_SECOND 86400u
#define THECAL_DEMO_SCALE_MAX THECAL_DEMO_SCALE_DAY_PER_SECOND

/* The spare pump: a new TR-20, filled with 20 mL of morphine 25 mg/mL before implant, no
 * prescription (stopped), catheter not primed, not in the demo record (register it). */
#define THECAL_DEMO_SPARE_MODEL "TR-20"
#define THECAL_DEMO_SPARE_CATHETER_MM 455

/* The session timeout of the world's pumps, pump time: the protocol's 60 s at 1 day per second
 * would be 60 days, above what AUTH can carry (u32 ms), so the most it can carry: ≈ 49.7 days.
 * At 1 day/s a session left idle for ≈ 50 s of real time ends (the next request opens another). */
#define THECAL_DEMO_WORLD_SESSION_TIMEOUT_MS ((gint64) G_MAXUINT32)

/* Real monotonic time in ms (tests inject their own). */
typedef gint64 (*ThecalDemoRealTimeFunc) (gpointer user_data);

/* What the simulated wand reports (thecal_demo_world_get_wand). */
typedef struct
{
  gboolean plugged;                        /* FALSE: absent (unplugged) */
  char pump_serial[THECAL_PROTO_TEXT_MAX]; /* the pump of the newest live link ("" none): in range */
  gint quality_percent;                    /* WAND_LINK's link quality, 0 without a pump */
  gint rssi_dbm;                           /* WAND_LINK's signal strength */
} ThecalDemoWand;

#define THECAL_TYPE_DEMO_WORLD (thecal_demo_world_get_type ())
G_DECLARE_FINAL_TYPE (ThecalDemoWorld, thecal_demo_world, THECAL, DEMO_WORLD, GObject)

/* A world on @models (copied; must hold TR-20 and TR-40) at the demo instant, 1× real time,
 * the wand plugged in. Pumps start when first asked for (at the demo instant, then run to the
 * world's time by their event-driven engine: the cost does not grow with the time skipped).
 * Signal "changed" (no arguments): the scale, the wand or the set of links changed. */
ThecalDemoWorld *thecal_demo_world_new (const ThecalPumpModelSet *models);
/* The same on the real time source @func (@user_data; NULL: monotonic time) from the start: the
 * demo instant is at @func's first reading (tests: exact instants). */
ThecalDemoWorld *thecal_demo_world_new_with_time (const ThecalPumpModelSet *models, ThecalDemoRealTimeFunc func, gpointer user_data);

/* Replaces the real time source (tests: deterministic); the demo time carries on from its value
 * now. NULL: monotonic time (g_get_monotonic_time () / 1000). */
void thecal_demo_world_set_real_time_func (ThecalDemoWorld *self, ThecalDemoRealTimeFunc func, gpointer user_data);

/* Demo time, pump-local ms: anchor + (real now − real anchor) × scale, exact (saturating at the
 * pumps' clock limit 2100-01-01). Never goes backwards. */
gint64 thecal_demo_world_now_ms (ThecalDemoWorld *self);
/* 0 (paused) .. THECAL_DEMO_SCALE_MAX; anything else: G_IO_ERROR_INVALID_ARGUMENT, unchanged. */
gboolean thecal_demo_world_set_scale (ThecalDemoWorld *self, guint scale, GError **error);
guint thecal_demo_world_get_scale (ThecalDemoWorld *self);

/* The spare pump's serial ("TR20-" and six digits). */
const char *thecal_demo_world_get_spare_serial (ThecalDemoWorld *self);
/* TRUE for a demo serial (thecal-sim-pump-demo.h) or the spare's. */
gboolean thecal_demo_world_has_pump (ThecalDemoWorld *self, const char *serial);
/* The simulated pump @serial, started if it was not and advanced to the world's time. NULL with
 * G_IO_ERROR_NOT_FOUND (not a pump of this world) or THECAL_VISIT_ERROR_FAILED (the engine). */
ThecalSimPump *thecal_demo_world_get_pump (ThecalDemoWorld *self, const char *serial, GError **error);
/* The engine's view of @serial at the world's time (the truth a real pump cannot report: the
 * actual reservoir beside the estimate). FALSE as thecal_demo_world_get_pump. */
gboolean thecal_demo_world_get_pump_status (ThecalDemoWorld *self, const char *serial, ThecalEngineStatus *status, GError **error);

/* What happens to the implant (the fault buttons): @kind (THECAL_FAULT_MOTOR_STALL,
 * THECAL_FAULT_FLOW_BIAS with @value in bp: 2000 = +20 %, ...) from the pump's clock now, for
 * good. Errors as thecal_demo_world_get_pump, or the engine's refusal (THECAL_VISIT_ERROR_FAILED). */
gboolean thecal_demo_world_inject_fault (ThecalDemoWorld *self, const char *serial, ThecalFaultKind kind, gint64 value, GError **error);

/* The simulated wand. Unplugging unplugs every live link's transport (pending operations fail
 * with "Wand unplugged"); plugging in gives each live link a new transport when its visit allows
 * (thecal_visit_set_transport: no operation running), and new links work again. */
void thecal_demo_world_set_wand_plugged (ThecalDemoWorld *self, gboolean plugged);
gboolean thecal_demo_world_get_wand_plugged (ThecalDemoWorld *self);
void thecal_demo_world_get_wand (ThecalDemoWorld *self, ThecalDemoWand *wand);

/* The fault "Unplug Wand After Commit": armed, the simulated wand is pulled out (as
 * thecal_demo_world_set_wand_plugged (FALSE)) as soon as the pump of one of the world's links has
 * taken the next COMMIT of a prescription write (a change programmed, or a refill with a change of
 * drug or concentration), before the programmer has read it back: the pump runs the new
 * prescription, the programmer cannot know, and the write ends UNCERTAIN. The moment is the link's
 * "program-step" THECAL_PROGRAM_STEP_READ_BACK after its THECAL_PROGRAM_STEP_COMMIT; the unplug
 * runs from a G_PRIORITY_HIGH idle on the owning context (never inside the link's own signal),
 * which is dispatched before the read-back's frame can arrive (it travels in a source of default
 * priority). Fires once, then disarms; "changed" is emitted when armed, disarmed or fired. A person
 * cannot press "Unplug Wand" at that instant: this is the demo's way to show the uncertain
 * state. */
void thecal_demo_world_set_unplug_after_commit (ThecalDemoWorld *self, gboolean armed);
gboolean thecal_demo_world_get_unplug_after_commit (ThecalDemoWorld *self);

/* A link (and a visit of @session) to the world's pump @serial, its time the world's, on a real
 * clock for the link's own timers. The wand unplugged: THECAL_WAND_ERROR_NOT_FOUND "No wand
 * connected", nothing made. Otherwise as thecal_demo_link_new. */
ThecalDemoLink *thecal_demo_world_open_link (ThecalDemoWorld *self,
                                             ThecalRecordSession *session,
                                             const ThecalPumpModelSet *models,
                                             const ThecalDrugLibrary *library,
                                             const char *serial,
                                             GError **error);

G_END_DECLS
