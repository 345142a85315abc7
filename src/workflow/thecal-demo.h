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

const ThecalSimPumpDemo *thecal_demo_link_get_demo (ThecalDemoLink *self);
ThecalClock *thecal_demo_link_get_clock (ThecalDemoLink *self);
ThecalLoopbackTransport *thecal_demo_link_get_loopback (ThecalDemoLink *self);
ThecalPumpLink *thecal_demo_link_get_link (ThecalDemoLink *self);
ThecalVisit *thecal_demo_link_get_visit (ThecalDemoLink *self);

G_END_DECLS
