/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patient-list.c: see thecal-patient-list.h.
 */
#include "config.h"

#include "thecal-patient-list.h"

#include <glib/gi18n.h>

#include "thecal-callback-timing.h"
#include "thecal-demo.h"

/* ---- ThecalPatientItem ------------------------------------------------------------------- */

struct _ThecalPatientItem
{
  GObject parent_instance;

  ThecalPatient *patient;
  const char *status; /* static (a translation), or NULL */
};

G_DEFINE_FINAL_TYPE (ThecalPatientItem, thecal_patient_item, G_TYPE_OBJECT)

static void
thecal_patient_item_finalize (GObject *object)
{
  ThecalPatientItem *self = THECAL_PATIENT_ITEM (object);

  g_clear_pointer (&self->patient, thecal_patient_free);
  G_OBJECT_CLASS (thecal_patient_item_parent_class)->finalize (object);
}

static void
thecal_patient_item_class_init (ThecalPatientItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = thecal_patient_item_finalize;
}

static void
thecal_patient_item_init (ThecalPatientItem *self)
{
  (void) self;
}

/* Takes @patient. */
static ThecalPatientItem *
patient_item_new (ThecalPatient *patient, gboolean demo)
{
  ThecalPatientItem *self = g_object_new (THECAL_TYPE_PATIENT_ITEM, NULL);
  const ThecalDemoPatient *demo_patient = demo ? thecal_demo_patient_find (patient->mrn) : NULL;
  const ThecalSimPumpDemo *pump = demo_patient != NULL ? thecal_sim_pump_demo_find (demo_patient->serial) : NULL;

  self->patient = patient;
  /* the demo pump's summary, marked for translation in src/pump */
  self->status = pump != NULL ? _ (pump->summary) : NULL;
  return self;
}

const ThecalPatient *
thecal_patient_item_get_patient (ThecalPatientItem *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_ITEM (self), NULL);
  return self->patient;
}

const char *
thecal_patient_item_get_mrn (ThecalPatientItem *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_ITEM (self), NULL);
  return self->patient->mrn;
}

const char *
thecal_patient_item_get_status (ThecalPatientItem *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_ITEM (self), NULL);
  return self->status;
}

/* ---- ThecalPatientList ------------------------------------------------------------------- */

struct _ThecalPatientList
{
  GObject parent_instance;

  ThecalRecordSession *session;
  gboolean demo;
  char *search;
  GPtrArray *items;          /* ThecalPatientItem */
  GCancellable *cancellable; /* the read in flight, if any */
  gboolean complete;         /* no further page */
  gboolean truncated;
  char *error;
  guint more_id;       /* the idle that fetches the next page */
  guint published;     /* the items the model shows: the first of items (the rest follow) */
  guint publish_chunk; /* how many the next call of on_publish shows */
  guint publish_id;    /* the idle that shows the rest, chunk by chunk */
};

/* The main loop must not stall (DESIGN.md: never > 16 ms): a list view makes the rows of the items
 * it is told about at once (about 100 µs each) and GTK measures them next, so a page read is shown
 * in chunks, one per idle, each sized so that telling the view takes about this long
 * (docs/benchmarks.md). */
#define PUBLISH_BUDGET_US 2000
#define PUBLISH_FIRST_CHUNK 16

enum
{
  PROP_0,
  PROP_LOADING,
  PROP_TRUNCATED,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Runs on the main thread: an idle after the view read a row near the end. */
static gboolean
on_load_more (gpointer user_data)
{
  ThecalPatientList *self = user_data;

  self->more_id = 0;
  thecal_patient_list_load_more (self);
  return G_SOURCE_REMOVE;
}

static GType
patient_list_get_item_type (GListModel *model)
{
  (void) model;
  return THECAL_TYPE_PATIENT_ITEM;
}

static guint
patient_list_get_n_items (GListModel *model)
{
  return THECAL_PATIENT_LIST (model)->published;
}

static gpointer
patient_list_get_item (GListModel *model, guint position)
{
  ThecalPatientList *self = THECAL_PATIENT_LIST (model);

  if (position >= self->published)
    return NULL;
  /* the view reads what it shows: near the end of what we hold, fetch the next page (from an
   * idle: the view may be measuring or allocating now, when nothing should change under it) */
  if (position + THECAL_PATIENT_LIST_PAGE / 2 >= self->items->len && !self->complete && self->cancellable == NULL
      && self->more_id == 0 && self->publish_id == 0)
    self->more_id = g_idle_add (on_load_more, self);
  return g_object_ref (self->items->pdata[position]);
}

static void
patient_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = patient_list_get_item_type;
  iface->get_n_items = patient_list_get_n_items;
  iface->get_item = patient_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (ThecalPatientList, thecal_patient_list, G_TYPE_OBJECT, G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, patient_list_model_init))

static void
thecal_patient_list_dispose (GObject *object)
{
  ThecalPatientList *self = THECAL_PATIENT_LIST (object);

  g_clear_handle_id (&self->more_id, g_source_remove);
  g_clear_handle_id (&self->publish_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (thecal_patient_list_parent_class)->dispose (object);
}

static void
thecal_patient_list_finalize (GObject *object)
{
  ThecalPatientList *self = THECAL_PATIENT_LIST (object);

  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->search, g_free);
  g_clear_pointer (&self->error, g_free);
  G_OBJECT_CLASS (thecal_patient_list_parent_class)->finalize (object);
}

static void
thecal_patient_list_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ThecalPatientList *self = THECAL_PATIENT_LIST (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, thecal_patient_list_get_loading (self));
      break;
    case PROP_TRUNCATED:
      g_value_set_boolean (value, self->truncated);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
thecal_patient_list_class_init (ThecalPatientListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_patient_list_dispose;
  object_class->finalize = thecal_patient_list_finalize;
  object_class->get_property = thecal_patient_list_get_property;

  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TRUNCATED] = g_param_spec_boolean ("truncated", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
thecal_patient_list_init (ThecalPatientList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

ThecalPatientList *
thecal_patient_list_new (ThecalRecordSession *session)
{
  ThecalPatientList *self;

  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (session), NULL);

  self = g_object_new (THECAL_TYPE_PATIENT_LIST, NULL);
  self->session = g_object_ref (session);
  self->demo = thecal_record_is_demo (thecal_record_session_get_record (session));
  thecal_patient_list_set_search (self, NULL);
  return self;
}

static void
set_error (ThecalPatientList *self, const char *message)
{
  if (g_strcmp0 (self->error, message) == 0)
    return;
  g_free (self->error);
  self->error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

/* One read in flight: the list and the read's own cancellable. */
typedef struct
{
  ThecalPatientList *self;
  GCancellable *cancellable;
  gboolean searching;
} PageRead;

static void
page_read_free (PageRead *read)
{
  g_object_unref (read->self);
  g_object_unref (read->cancellable);
  g_free (read);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PageRead, page_read_free)

/* Runs on the main thread, in an idle: the next chunk of what was read is shown (one change per
 * chunk). Removed by a new search and by dispose. */
static gboolean
on_publish (gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("patient list: a chunk shown");
  ThecalPatientList *self = user_data;
  guint position = self->published;
  guint count = MIN (self->publish_chunk, self->items->len - position);
  gint64 started = g_get_monotonic_time (), took;
  gboolean last;

  self->published += count;
  /* done before the view hears of the last chunk: reading its last rows may fetch the next page */
  last = self->published == self->items->len;
  if (last)
    self->publish_id = 0;
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, count);
  took = g_get_monotonic_time () - started;
  /* the next chunk in proportion to what this one cost (at most doubling) */
  self->publish_chunk = (guint) CLAMP ((gint64) count * PUBLISH_BUDGET_US / MAX (took, 1), 1, (gint64) count * 2);
  if (!last)
    return G_SOURCE_CONTINUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  return G_SOURCE_REMOVE;
}

/* Runs on the main thread: a page (or the search's matches) arrived. */
static void
on_page_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("patient list: a page read");
  g_autoptr (PageRead) read = user_data;
  ThecalPatientList *self = read->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) patients = NULL;
  gboolean searching = read->searching;

  if (searching)
    patients = thecal_record_session_search_patients_finish (THECAL_RECORD_SESSION (source), result, &error);
  else
    patients = thecal_record_session_list_patients_finish (THECAL_RECORD_SESSION (source), result, &error);
  if (g_cancellable_is_cancelled (read->cancellable) || read->cancellable != self->cancellable)
    return; /* a newer search replaced this read (or the list went away); its answer is not wanted */
  g_clear_object (&self->cancellable);
  if (patients == NULL)
    {
      self->complete = TRUE;
      set_error (self, error->message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
      return;
    }
  set_error (self, NULL);
  for (guint i = 0; i < patients->len; i++)
    g_ptr_array_add (self->items, patient_item_new (thecal_patient_copy (patients->pdata[i]), self->demo));
  if (searching)
    {
      self->complete = TRUE;
      self->truncated = patients->len >= THECAL_PATIENT_LIST_SEARCH_MAX;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRUNCATED]);
    }
  else
    self->complete = patients->len < THECAL_PATIENT_LIST_PAGE;
  /* shown chunk by chunk (on_publish); loading until the last is shown */
  if (self->published < self->items->len && self->publish_id == 0)
    {
      self->publish_chunk = PUBLISH_FIRST_CHUNK;
      self->publish_id = g_idle_add (on_publish, self);
      g_source_set_static_name (g_main_context_find_source_by_id (NULL, self->publish_id), "ThecalPatientList publish");
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

void
thecal_patient_list_load_more (ThecalPatientList *self)
{
  g_return_if_fail (THECAL_IS_PATIENT_LIST (self));

  if (self->complete || self->cancellable != NULL)
    return;
  PageRead *read;

  self->cancellable = g_cancellable_new ();
  read = g_new0 (PageRead, 1);
  read->self = g_object_ref (self);
  read->cancellable = g_object_ref (self->cancellable);
  read->searching = self->search != NULL;
  if (self->search != NULL)
    thecal_record_session_search_patients_async (self->session, self->search, THECAL_PATIENT_LIST_SEARCH_MAX, self->cancellable,
                                                 on_page_read, read);
  else
    thecal_record_session_list_patients_async (self->session, self->items->len, THECAL_PATIENT_LIST_PAGE, self->cancellable,
                                               on_page_read, read);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

void
thecal_patient_list_set_search (ThecalPatientList *self, const char *text)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));
  guint removed;

  g_return_if_fail (THECAL_IS_PATIENT_LIST (self));

  g_clear_handle_id (&self->more_id, g_source_remove);
  g_clear_handle_id (&self->publish_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->search, g_free);
  if (stripped[0] != '\0')
    self->search = g_steal_pointer (&stripped);
  removed = self->published;
  self->published = 0;
  g_ptr_array_set_size (self->items, 0);
  self->complete = FALSE;
  if (self->truncated)
    {
      self->truncated = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRUNCATED]);
    }
  if (removed > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, 0);
  thecal_patient_list_load_more (self);
}

const char *
thecal_patient_list_get_search (ThecalPatientList *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_LIST (self), NULL);
  return self->search;
}

gboolean
thecal_patient_list_get_loading (ThecalPatientList *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_LIST (self), FALSE);
  return self->cancellable != NULL || self->publish_id != 0;
}

gboolean
thecal_patient_list_get_truncated (ThecalPatientList *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_LIST (self), FALSE);
  return self->truncated;
}

const char *
thecal_patient_list_get_error (ThecalPatientList *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENT_LIST (self), NULL);
  return self->error;
}
