/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-demo.c: the demo record and the demo link (thecal-demo.h).
 */
#include "config.h"

#include "thecal-demo.h"

#include <glib/gi18n.h>
#include <string.h>

static const ThecalDemoPatient demo_patients[] = {
  { "DEMO-0001", "DOE, Jane", "1961-04-12", THECAL_OPIOID_TOLERANT, "TR20-000123" },
  { "DEMO-0002", "ROE, Richard", "1958-09-30", THECAL_OPIOID_TOLERANT, "TR20-000124" },
  { "DEMO-0003", "MOE, Maria", "1970-02-14", THECAL_OPIOID_TOLERANT, "TR40-000125" },
  { "DEMO-0004", "POE, Peter", "1949-11-02", THECAL_OPIOID_TOLERANT, "TR20-000126" },
  { "DEMO-0005", "LOE, Linda", "1966-07-21", THECAL_OPIOID_TOLERANT, "TR20-000127" },
  { "DEMO-0006", "KOE, Kim", "1988-03-08", THECAL_OPIOID_NAIVE, "TR40-000128" },
};

/* Every demo pump was implanted on this date. */
#define DEMO_IMPLANT_DATE "2025-06-01"

guint
thecal_demo_patient_count (void)
{
  return G_N_ELEMENTS (demo_patients);
}

const ThecalDemoPatient *
thecal_demo_patient_get (guint index)
{
  g_return_val_if_fail (index < G_N_ELEMENTS (demo_patients), NULL);
  return &demo_patients[index];
}

const ThecalDemoPatient *
thecal_demo_patient_find (const char *mrn)
{
  for (gsize i = 0; mrn != NULL && i < G_N_ELEMENTS (demo_patients); i++)
    if (strcmp (demo_patients[i].mrn, mrn) == 0)
      return &demo_patients[i];
  return NULL;
}

gboolean
thecal_demo_fast_hash_requested (void)
{
  return g_strcmp0 (g_getenv ("THECAL_PWHASH_LIMITS"), "min") == 0;
}

/* ---- the demo record --------------------------------------------------------------------- */

ThecalRecord *
thecal_demo_record_create_sync (const char *path,
                                ThecalRecordOpenFlags extra_flags,
                                ThecalRecordSession **admin,
                                GCancellable *cancellable,
                                GError **error)
{
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalUser) demo_user = NULL;
  g_autoptr (ThecalUser) paula = NULL;
  g_autoptr (ThecalRecordSession) clinician = NULL;
  ThecalRecordOpenFlags flags = THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_CREATE_DEMO | extra_flags;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (thecal_demo_fast_hash_requested ())
    flags |= THECAL_RECORD_OPEN_FAST_HASH;
  record = thecal_record_open_sync (path, flags, cancellable, error);
  if (record == NULL)
    return NULL;
  if (!thecal_record_was_created (record))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _ ("The demo record %s exists already: give a new file"), path);
      return NULL;
    }
  session = thecal_record_session_first_run_sync (record, THECAL_DEMO_ADMIN_NAME, "Ada Admin", THECAL_DEMO_ADMIN_PASSWORD,
                                                  cancellable, error);
  if (session == NULL)
    return NULL;
  demo_user = thecal_record_session_add_user_sync (session, THECAL_DEMO_USER_NAME, "Demo Clinician", THECAL_ROLE_DEMO,
                                                   THECAL_DEMO_USER_PASSWORD, cancellable, error);
  if (demo_user == NULL)
    return NULL;
  paula = thecal_record_session_add_user_sync (session, THECAL_DEMO_PHYSICIAN_NAME, "Dr Paula Physician", THECAL_ROLE_PHYSICIAN,
                                               THECAL_DEMO_PHYSICIAN_PASSWORD, cancellable, error);
  if (paula == NULL)
    return NULL;
  clinician = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, cancellable, error);
  if (clinician == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (demo_patients); i++)
    {
      const ThecalDemoPatient *p = &demo_patients[i];
      const ThecalSimPumpDemo *demo = thecal_sim_pump_demo_find (p->serial);
      ThecalPatientInput patient = { .mrn = p->mrn, .name = p->name, .date_of_birth = p->born, .opioid_tolerance = p->tolerance };
      guint8 key[THECAL_KEY_SIZE];
      ThecalPumpInput pump = { .serial = p->serial,
                               .model_id = demo->model_id,
                               .patient_mrn = p->mrn,
                               .implant_date = DEMO_IMPLANT_DATE,
                               .catheter_length_mm = demo->catheter_length_mm,
                               .pairing_key = key };
      g_autoptr (ThecalPatient) added = NULL;
      g_autoptr (ThecalPump) implanted = NULL;

      G_STATIC_ASSERT (THECAL_KEY_SIZE == THECAL_PAIRING_KEY_BYTES);
      thecal_sim_pump_demo_key (p->serial, key);
      added = thecal_record_session_add_patient_sync (clinician, &patient, cancellable, error);
      if (added != NULL)
        implanted = thecal_record_session_add_pump_sync (clinician, &pump, cancellable, error);
      memset (key, 0, sizeof key);
      if (implanted == NULL)
        return NULL;
    }
  if (admin != NULL)
    *admin = g_steal_pointer (&session);
  return g_steal_pointer (&record);
}

typedef struct
{
  char *path;
  ThecalRecordOpenFlags extra_flags;
} CreateData;

static void
create_data_free (CreateData *data)
{
  g_free (data->path);
  g_free (data);
}

/* Runs on a worker thread of the GTask pool. */
static void
create_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CreateData *data = task_data;
  GError *error = NULL;
  ThecalRecord *record;

  (void) source;
  record = thecal_demo_record_create_sync (data->path, data->extra_flags, NULL, cancellable, &error);
  if (record == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, record, g_object_unref);
}

void
thecal_demo_record_create_async (const char *path,
                                 ThecalRecordOpenFlags extra_flags,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  CreateData *data;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_demo_record_create_async);
  data = g_new0 (CreateData, 1);
  data->path = g_strdup (path);
  data->extra_flags = extra_flags;
  g_task_set_task_data (task, data, (GDestroyNotify) create_data_free);
  g_task_run_in_thread (task, create_thread);
}

ThecalRecord *
thecal_demo_record_create_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- the demo link ----------------------------------------------------------------------- */

static void world_forget_link (ThecalDemoWorld *world, ThecalDemoLink *link);

struct _ThecalDemoLink
{
  GObject parent_instance;

  ThecalDemoWorld *world; /* NULL: a link of its own pump (thecal_demo_link_new) */
  char *serial;
  const ThecalSimPumpDemo *demo; /* NULL: the world's spare pump */
  ThecalClock *clock;
  ThecalLoopbackTransport *loopback;
  ThecalPumpLink *link;
  ThecalVisit *visit;
};

G_DEFINE_FINAL_TYPE (ThecalDemoLink, thecal_demo_link, G_TYPE_OBJECT)

static void
thecal_demo_link_dispose (GObject *object)
{
  ThecalDemoLink *self = THECAL_DEMO_LINK (object);

  if (self->world != NULL)
    world_forget_link (self->world, self);
  g_clear_object (&self->visit);
  g_clear_object (&self->link);
  g_clear_object (&self->loopback);
  g_clear_object (&self->clock);
  g_clear_object (&self->world);
  G_OBJECT_CLASS (thecal_demo_link_parent_class)->dispose (object);
}

static void
thecal_demo_link_finalize (GObject *object)
{
  g_free (THECAL_DEMO_LINK (object)->serial);
  G_OBJECT_CLASS (thecal_demo_link_parent_class)->finalize (object);
}

static void
thecal_demo_link_class_init (ThecalDemoLinkClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = thecal_demo_link_dispose;
  G_OBJECT_CLASS (klass)->finalize = thecal_demo_link_finalize;
}

static void
thecal_demo_link_init (ThecalDemoLink *self)
{
  (void) self;
}

/* The visit's clock: the simulated pump's time. Runs on the visit's context. */
static gint64
demo_link_time (gpointer user_data)
{
  ThecalDemoLink *self = user_data;

  return thecal_loopback_transport_pump_time_ms (self->loopback);
}

ThecalDemoLink *
thecal_demo_link_new (ThecalRecordSession *session,
                      const ThecalPumpModelSet *models,
                      const ThecalDrugLibrary *library,
                      const char *serial,
                      ThecalClock *clock,
                      GError **error)
{
  g_autoptr (ThecalDemoLink) self = NULL;
  const ThecalSimPumpDemo *demo;
  const ThecalPumpModel *model;
  ThecalSimPump *pump;
  ThecalDoseError dose_error;

  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (session), NULL);
  g_return_val_if_fail (models != NULL && library != NULL && serial != NULL, NULL);
  g_return_val_if_fail (THECAL_IS_CLOCK (clock), NULL);

  demo = thecal_sim_pump_demo_find (serial);
  if (demo == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("No demo pump “%s”"), serial);
      return NULL;
    }
  model = thecal_pump_model_set_find (models, demo->model_id);
  pump = g_new0 (ThecalSimPump, 1);
  thecal_dose_error_clear (&dose_error);
  if (!thecal_sim_pump_demo_init (pump, demo, model, &dose_error))
    {
      g_free (pump);
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, "%s: %s", dose_error.field, dose_error.message);
      return NULL;
    }
  self = g_object_new (THECAL_TYPE_DEMO_LINK, NULL);
  self->demo = demo;
  self->serial = g_strdup (demo->serial);
  self->clock = g_object_ref (clock);
  self->loopback = thecal_loopback_transport_new (pump, g_free, clock);
  self->link = thecal_pump_link_new (THECAL_TRANSPORT (self->loopback), clock);
  self->visit = thecal_visit_new (session, self->link, models, library);
  thecal_visit_set_time_func (self->visit, demo_link_time, self);
  return g_steal_pointer (&self);
}

const ThecalSimPumpDemo *
thecal_demo_link_get_demo (ThecalDemoLink *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_LINK (self), NULL);
  return self->demo;
}

ThecalClock *
thecal_demo_link_get_clock (ThecalDemoLink *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_LINK (self), NULL);
  return self->clock;
}

ThecalLoopbackTransport *
thecal_demo_link_get_loopback (ThecalDemoLink *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_LINK (self), NULL);
  return self->loopback;
}

ThecalPumpLink *
thecal_demo_link_get_link (ThecalDemoLink *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_LINK (self), NULL);
  return self->link;
}

ThecalVisit *
thecal_demo_link_get_visit (ThecalDemoLink *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_LINK (self), NULL);
  return self->visit;
}

const char *
thecal_demo_link_get_serial (ThecalDemoLink *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_LINK (self), NULL);
  return self->serial;
}

/* ---- the demo world ---------------------------------------------------------------------- */

#define DEMO_DAY_MS INT64_C (86400000)

typedef struct
{
  char serial[THECAL_PROTO_TEXT_MAX];
  const ThecalSimPumpDemo *demo; /* NULL: the spare */
  ThecalSimPump *pump;           /* NULL until first asked for */
} WorldPump;

struct _ThecalDemoWorld
{
  GObject parent_instance;

  ThecalPumpModelSet *models;
  ThecalDemoRealTimeFunc real_func; /* NULL: monotonic time */
  gpointer real_data;
  gint64 anchor_demo_ms; /* demo time ... */
  gint64 anchor_real_ms; /* ... at this real time */
  gint64 last_ms;        /* the latest demo time read: time never goes backwards */
  guint scale;
  WorldPump *pumps;
  guint n_pumps;
  gboolean wand_plugged;
  gboolean unplug_after_commit; /* the armed fault (thecal_demo_world_set_unplug_after_commit) */
  ThecalPumpLink *committing;   /* the pump link whose write entered COMMIT last (not referenced: compared only) */
  guint unplug_id;              /* the pending unplug's idle (it holds a reference on the world) */
  GPtrArray *links;             /* ThecalDemoLink * (not referenced: each removes itself in its dispose) */
};

G_DEFINE_FINAL_TYPE (ThecalDemoWorld, thecal_demo_world, G_TYPE_OBJECT)

enum
{
  WORLD_CHANGED,
  N_WORLD_SIGNALS
};

static guint world_signals[N_WORLD_SIGNALS];

static gint64
world_real_ms (ThecalDemoWorld *self)
{
  return self->real_func != NULL ? self->real_func (self->real_data) : g_get_monotonic_time () / 1000;
}

static void
world_changed (ThecalDemoWorld *self)
{
  g_signal_emit (self, world_signals[WORLD_CHANGED], 0);
}

static void
thecal_demo_world_dispose (GObject *object)
{
  ThecalDemoWorld *self = THECAL_DEMO_WORLD (object);

  /* links hold a reference on the world: none is left when it is disposed */
  g_warn_if_fail (self->links->len == 0);
  G_OBJECT_CLASS (thecal_demo_world_parent_class)->dispose (object);
}

static void
thecal_demo_world_finalize (GObject *object)
{
  ThecalDemoWorld *self = THECAL_DEMO_WORLD (object);

  for (guint i = 0; i < self->n_pumps; i++)
    g_free (self->pumps[i].pump);
  g_free (self->pumps);
  g_free (self->models);
  g_ptr_array_unref (self->links);
  G_OBJECT_CLASS (thecal_demo_world_parent_class)->finalize (object);
}

static void
thecal_demo_world_class_init (ThecalDemoWorldClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_demo_world_dispose;
  object_class->finalize = thecal_demo_world_finalize;
  world_signals[WORLD_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
thecal_demo_world_init (ThecalDemoWorld *self)
{
  self->links = g_ptr_array_new ();
  self->scale = THECAL_DEMO_SCALE_REAL_TIME;
  self->wand_plugged = TRUE;
}

ThecalDemoWorld *
thecal_demo_world_new (const ThecalPumpModelSet *models)
{
  return thecal_demo_world_new_with_time (models, NULL, NULL);
}

ThecalDemoWorld *
thecal_demo_world_new_with_time (const ThecalPumpModelSet *models, ThecalDemoRealTimeFunc func, gpointer user_data)
{
  ThecalDemoWorld *self;
  guint n_demo;
  guint64 seed = 2026;

  g_return_val_if_fail (models != NULL, NULL);
  self = g_object_new (THECAL_TYPE_DEMO_WORLD, NULL);
  self->models = g_memdup2 (models, sizeof *models);
  self->real_func = func;
  self->real_data = user_data;
  self->anchor_demo_ms = THECAL_SIM_PUMP_DEMO_INSTANT_MS;
  self->anchor_real_ms = world_real_ms (self);
  self->last_ms = self->anchor_demo_ms;
  n_demo = (guint) thecal_sim_pump_demo_count ();
  self->n_pumps = n_demo + 1;
  self->pumps = g_new0 (WorldPump, self->n_pumps);
  for (guint i = 0; i < n_demo; i++)
    {
      self->pumps[i].demo = thecal_sim_pump_demo_get ((int32_t) i);
      g_strlcpy (self->pumps[i].serial, self->pumps[i].demo->serial, sizeof self->pumps[i].serial);
    }
  /* the spare: a derived serial that is no demo pump's */
  do
    {
      gboolean ok = thecal_sim_pump_demo_serial (THECAL_DEMO_SPARE_MODEL, seed++, self->pumps[n_demo].serial);

      g_assert (ok);
    }
  while (thecal_sim_pump_demo_find (self->pumps[n_demo].serial) != NULL);
  return self;
}

void
thecal_demo_world_set_real_time_func (ThecalDemoWorld *self, ThecalDemoRealTimeFunc func, gpointer user_data)
{
  gint64 now;

  g_return_if_fail (THECAL_IS_DEMO_WORLD (self));
  now = thecal_demo_world_now_ms (self);
  self->real_func = func;
  self->real_data = user_data;
  self->anchor_demo_ms = now;
  self->anchor_real_ms = world_real_ms (self);
}

gint64
thecal_demo_world_now_ms (ThecalDemoWorld *self)
{
  gint64 elapsed, scaled, now;

  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), 0);
  elapsed = world_real_ms (self) - self->anchor_real_ms;
  if (elapsed < 0)
    elapsed = 0;
  /* exact integer ms; beyond the pumps' last accepted instant the demo stops there */
  if (__builtin_mul_overflow (elapsed, (gint64) self->scale, &scaled) || __builtin_add_overflow (self->anchor_demo_ms, scaled, &now)
      || now >= THECAL_SIM_PUMP_CLOCK_MAX_MS)
    now = THECAL_SIM_PUMP_CLOCK_MAX_MS - 1;
  if (now < self->last_ms)
    now = self->last_ms;
  self->last_ms = now;
  return now;
}

gboolean
thecal_demo_world_set_scale (ThecalDemoWorld *self, guint scale, GError **error)
{
  gint64 now;

  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), FALSE);
  if (scale > THECAL_DEMO_SCALE_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Demo speed: %u × real time is above the fastest, %u × (1 day per second)"), scale, THECAL_DEMO_SCALE_MAX);
      return FALSE;
    }
  if (scale == self->scale)
    return TRUE;
  now = thecal_demo_world_now_ms (self);
  self->anchor_demo_ms = now;
  self->anchor_real_ms = world_real_ms (self);
  self->scale = scale;
  world_changed (self);
  return TRUE;
}

guint
thecal_demo_world_get_scale (ThecalDemoWorld *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), 0);
  return self->scale;
}

const char *
thecal_demo_world_get_spare_serial (ThecalDemoWorld *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), NULL);
  return self->pumps[self->n_pumps - 1].serial;
}

static WorldPump *
world_find (ThecalDemoWorld *self, const char *serial)
{
  for (guint i = 0; serial != NULL && i < self->n_pumps; i++)
    if (strcmp (self->pumps[i].serial, serial) == 0)
      return &self->pumps[i];
  return NULL;
}

gboolean
thecal_demo_world_has_pump (ThecalDemoWorld *self, const char *serial)
{
  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), FALSE);
  return world_find (self, serial) != NULL;
}

/* Starts a demo pump as thecal_sim_pump_demo_init () does, with the world's session timeout. */
static gboolean
start_demo_pump (ThecalSimPump *pump, const ThecalSimPumpDemo *demo, const ThecalPumpModel *model, ThecalDoseError *error)
{
  ThecalSimPumpConfig config;

  if (!thecal_sim_pump_demo_config (demo, model, &config, error))
    return FALSE;
  config.session_timeout_ms = THECAL_DEMO_WORLD_SESSION_TIMEOUT_MS;
  if (!thecal_sim_pump_init (pump, &config, error))
    return FALSE;
  if (demo->has_fault)
    {
      ThecalEngineFault fault;
      gint64 at = THECAL_SIM_PUMP_DEMO_INSTANT_MS - demo->fault_days_before * DEMO_DAY_MS;

      memset (&fault, 0, sizeof fault);
      fault.kind = demo->fault_kind;
      fault.value = demo->fault_value;
      fault.at_pump_ms = at;
      fault.duration_ms = 0; /* permanent */
      if (at > config.start_local_ms && !thecal_sim_pump_advance_to (pump, at, error))
        return FALSE;
      if (!thecal_sim_pump_inject_fault (pump, &fault, error))
        return FALSE;
    }
  return thecal_sim_pump_advance_to (pump, THECAL_SIM_PUMP_DEMO_INSTANT_MS, error);
}

/* The spare: new, filled with the first demo pump's drug before implant, stopped. */
static gboolean
start_spare_pump (ThecalSimPump *pump, const char *serial, const ThecalPumpModel *model, ThecalDoseError *error)
{
  const ThecalSimPumpDemo *fill = thecal_sim_pump_demo_get (0);
  ThecalSimPumpConfig config;

  thecal_sim_pump_config_init (&config);
  config.model = model;
  g_strlcpy (config.serial, serial, sizeof config.serial);
  thecal_sim_pump_demo_key (serial, config.key);
  config.catheter.catheter_length_mm = THECAL_DEMO_SPARE_CATHETER_MM;
  config.catheter.catheter_volume_nl_per_cm = 2600; /* 0.0026 mL/cm, CLINICAL.md §2.1 */
  for (const char *p = serial; *p != '\0'; p++)
    config.seed = config.seed * 31 + (guint8) *p;
  config.start_local_ms = THECAL_SIM_PUMP_DEMO_INSTANT_MS;
  config.reservoir_nl = model->reservoir_capacity_nl;
  g_strlcpy (config.drug_id, fill->drug_id, sizeof config.drug_id);
  config.concentration_ng_per_ml = fill->concentration_ng_per_ml;
  config.path_primed = FALSE;
  config.has_prescription = FALSE;
  config.session_timeout_ms = THECAL_DEMO_WORLD_SESSION_TIMEOUT_MS;
  return thecal_sim_pump_init (pump, &config, error);
}

ThecalSimPump *
thecal_demo_world_get_pump (ThecalDemoWorld *self, const char *serial, GError **error)
{
  WorldPump *wp;
  ThecalDoseError dose_error;

  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), NULL);
  wp = world_find (self, serial);
  if (wp == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("No demo pump “%s”"), serial != NULL ? serial : "");
      return NULL;
    }
  thecal_dose_error_clear (&dose_error);
  if (wp->pump == NULL)
    {
      const ThecalPumpModel *model = thecal_pump_model_set_find (self->models, wp->demo != NULL ? wp->demo->model_id : THECAL_DEMO_SPARE_MODEL);
      ThecalSimPump *pump = g_new0 (ThecalSimPump, 1);
      gboolean ok = model != NULL && (wp->demo != NULL ? start_demo_pump (pump, wp->demo, model, &dose_error) : start_spare_pump (pump, wp->serial, model, &dose_error));

      if (!ok)
        {
          g_free (pump);
          g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("Demo pump %s cannot start: %s"), wp->serial,
                       model == NULL ? _ ("its pump model is not in the pump models") : dose_error.message);
          return NULL;
        }
      wp->pump = pump;
    }
  if (!thecal_sim_pump_advance_to (wp->pump, thecal_demo_world_now_ms (self), &dose_error))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, "%s: %s", dose_error.field, dose_error.message);
      return NULL;
    }
  return wp->pump;
}

gboolean
thecal_demo_world_get_pump_status (ThecalDemoWorld *self, const char *serial, ThecalEngineStatus *status, GError **error)
{
  ThecalSimPump *pump;

  g_return_val_if_fail (status != NULL, FALSE);
  pump = thecal_demo_world_get_pump (self, serial, error);
  if (pump == NULL)
    return FALSE;
  thecal_engine_get_status (thecal_sim_pump_engine (pump), status);
  return TRUE;
}

gboolean
thecal_demo_world_inject_fault (ThecalDemoWorld *self, const char *serial, ThecalFaultKind kind, gint64 value, GError **error)
{
  ThecalSimPump *pump = thecal_demo_world_get_pump (self, serial, error);
  ThecalEngineFault fault;
  ThecalDoseError dose_error;

  if (pump == NULL)
    return FALSE;
  memset (&fault, 0, sizeof fault);
  fault.kind = kind;
  fault.value = value;
  fault.at_pump_ms = thecal_sim_pump_pump_ms (pump); /* now, on the pump's own clock */
  fault.duration_ms = 0;                             /* for good */
  thecal_dose_error_clear (&dose_error);
  if (!thecal_sim_pump_inject_fault (pump, &fault, &dose_error))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, "%s: %s", dose_error.field, dose_error.message);
      return FALSE;
    }
  world_changed (self);
  return TRUE;
}

/* The pumps' true time: the world's. Runs on the owning context. */
static gint64
world_time (gpointer user_data)
{
  return thecal_demo_world_now_ms (THECAL_DEMO_WORLD (user_data));
}

static ThecalLoopbackTransport *
world_loopback_new (ThecalDemoWorld *self, ThecalSimPump *pump, ThecalClock *clock)
{
  ThecalLoopbackTransport *loopback = thecal_loopback_transport_new (pump, NULL, clock);

  /* the loopback borrows the pump: its reference keeps the world (which owns the pump) alive */
  thecal_loopback_transport_set_time_func (loopback, world_time, g_object_ref (self), g_object_unref);
  /* the wand's status follows the pump leaving its range (the world outlives the loopback) */
  g_signal_connect_swapped (loopback, "notify::pump-in-range", G_CALLBACK (world_changed), self);
  return loopback;
}

static void
world_forget_link (ThecalDemoWorld *world, ThecalDemoLink *link)
{
  if (g_ptr_array_remove (world->links, link))
    world_changed (world);
}

void
thecal_demo_world_set_wand_plugged (ThecalDemoWorld *self, gboolean plugged)
{
  g_return_if_fail (THECAL_IS_DEMO_WORLD (self));
  plugged = !!plugged;
  if (plugged == self->wand_plugged)
    return;
  self->wand_plugged = plugged;
  for (guint i = 0; i < self->links->len; i++)
    {
      ThecalDemoLink *link = self->links->pdata[i];
      g_autoptr (ThecalLoopbackTransport) fresh = NULL;
      g_autoptr (GError) error = NULL;
      ThecalSimPump *pump;

      if (!plugged)
        {
          thecal_loopback_transport_unplug (link->loopback);
          continue;
        }
      if (!thecal_loopback_transport_get_unplugged (link->loopback))
        continue;
      pump = thecal_loopback_transport_get_pump (link->loopback);
      fresh = world_loopback_new (self, pump, link->clock);
      thecal_loopback_transport_set_latency_ms (fresh, thecal_loopback_transport_get_latency_ms (link->loopback));
      /* refused while the unplugged operation still drains: the link then stays down (connect again) */
      if (thecal_visit_set_transport (link->visit, THECAL_TRANSPORT (fresh), &error))
        g_set_object (&link->loopback, fresh);
      else
        g_debug ("The demo link to %s stays down: %s", link->serial, error->message);
    }
  world_changed (self);
}

void
thecal_demo_world_set_unplug_after_commit (ThecalDemoWorld *self, gboolean armed)
{
  g_return_if_fail (THECAL_IS_DEMO_WORLD (self));
  armed = !!armed;
  if (armed == self->unplug_after_commit)
    return;
  self->unplug_after_commit = armed;
  self->committing = NULL;
  world_changed (self);
}

gboolean
thecal_demo_world_get_unplug_after_commit (ThecalDemoWorld *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), FALSE);
  return self->unplug_after_commit;
}

/* Runs on the owning context (a G_PRIORITY_HIGH idle): the armed fault fires. */
static gboolean
unplug_after_commit (gpointer user_data)
{
  ThecalDemoWorld *self = user_data;

  self->unplug_id = 0;
  if (!self->unplug_after_commit)
    return G_SOURCE_REMOVE; /* disarmed meanwhile */
  self->unplug_after_commit = FALSE;
  self->committing = NULL;
  g_debug ("Demo fault: the wand is pulled out after the pump took COMMIT");
  if (self->wand_plugged)
    thecal_demo_world_set_wand_plugged (self, FALSE); /* emits "changed" */
  else
    world_changed (self);
  return G_SOURCE_REMOVE;
}

/* Runs on the owning context: a link's two-phase write entered @step. The armed fault fires once
 * the pump has taken COMMIT (the read-back begins after COMMIT's answer). */
static void
on_link_program_step (ThecalPumpLink *link, guint step, gpointer user_data)
{
  ThecalDemoWorld *self = user_data;

  if (!self->unplug_after_commit || self->unplug_id != 0)
    return;
  if (step == THECAL_PROGRAM_STEP_COMMIT)
    {
      self->committing = link;
      return;
    }
  if (step != THECAL_PROGRAM_STEP_READ_BACK || link != self->committing || !self->wand_plugged)
    {
      if (link == self->committing)
        self->committing = NULL; /* another step of that write, or of its next one */
      return;
    }
  /* not from inside the link's signal: the unplug fails what the link has pending */
  self->unplug_id = g_idle_add_full (G_PRIORITY_HIGH, unplug_after_commit, g_object_ref (self), g_object_unref);
}

gboolean
thecal_demo_world_get_wand_plugged (ThecalDemoWorld *self)
{
  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), FALSE);
  return self->wand_plugged;
}

void
thecal_demo_world_get_wand (ThecalDemoWorld *self, ThecalDemoWand *wand)
{
  g_return_if_fail (THECAL_IS_DEMO_WORLD (self));
  g_return_if_fail (wand != NULL);
  memset (wand, 0, sizeof *wand);
  wand->plugged = self->wand_plugged;
  wand->rssi_dbm = -127; /* the loopback's WAND_LINK without a pump */
  if (!self->wand_plugged)
    return;
  for (guint i = self->links->len; i > 0; i--)
    {
      ThecalDemoLink *link = self->links->pdata[i - 1];
      const ThecalWandLink *wand_link = thecal_loopback_transport_get_wand_link (link->loopback);

      if (thecal_loopback_transport_get_unplugged (link->loopback) || !wand_link->pump_in_range)
        continue;
      /* what the link's simulated wand answers WAND_LINK with */
      g_strlcpy (wand->pump_serial, link->serial, sizeof wand->pump_serial);
      wand->quality_percent = wand_link->quality_percent;
      wand->rssi_dbm = wand_link->rssi_dbm;
      return;
    }
}

ThecalDemoLink *
thecal_demo_world_open_link (ThecalDemoWorld *self,
                             ThecalRecordSession *session,
                             const ThecalPumpModelSet *models,
                             const ThecalDrugLibrary *library,
                             const char *serial,
                             GError **error)
{
  g_autoptr (ThecalDemoLink) link = NULL;
  ThecalSimPump *pump;

  g_return_val_if_fail (THECAL_IS_DEMO_WORLD (self), NULL);
  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (session), NULL);
  g_return_val_if_fail (models != NULL && library != NULL && serial != NULL, NULL);

  if (!self->wand_plugged)
    {
      g_set_error_literal (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NOT_FOUND,
                           _ ("No wand connected: plug the telemetry wand in (demo: “Plug In Wand”)"));
      return NULL;
    }
  pump = thecal_demo_world_get_pump (self, serial, error);
  if (pump == NULL)
    return NULL;
  link = g_object_new (THECAL_TYPE_DEMO_LINK, NULL);
  link->world = g_object_ref (self);
  link->serial = g_strdup (serial);
  link->demo = world_find (self, serial)->demo;
  link->clock = thecal_clock_new_real ();
  link->loopback = world_loopback_new (self, pump, link->clock);
  link->link = thecal_pump_link_new (THECAL_TRANSPORT (link->loopback), link->clock);
  link->visit = thecal_visit_new (session, link->link, models, library);
  /* the visit's clinic clock: the demo time (the visit holds the link's transport, whose
   * reference keeps the world alive) */
  thecal_visit_set_time_func (link->visit, world_time, self);
  /* the armed "Unplug Wand After Commit" watches every link's writes */
  g_signal_connect_object (link->link, "program-step", G_CALLBACK (on_link_program_step), self, 0);
  g_ptr_array_add (self->links, link);
  world_changed (self);
  return g_steal_pointer (&link);
}
