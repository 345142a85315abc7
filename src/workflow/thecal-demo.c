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

struct _ThecalDemoLink
{
  GObject parent_instance;

  const ThecalSimPumpDemo *demo;
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

  g_clear_object (&self->visit);
  g_clear_object (&self->link);
  g_clear_object (&self->loopback);
  g_clear_object (&self->clock);
  G_OBJECT_CLASS (thecal_demo_link_parent_class)->dispose (object);
}

static void
thecal_demo_link_class_init (ThecalDemoLinkClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = thecal_demo_link_dispose;
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
