/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record.c: ThecalRecord, its thread and its messages (STYLE.md §5: Epiphany's history
 * service).
 *
 * The object starts one thread that owns the SQLite connection (ThecalRecordDb). Every call
 * becomes a ThecalRecordMessage pushed on a GAsyncQueue; the thread pops it, runs it in one
 * transaction and hands the result back to the caller's main context with an idle source that
 * completes the GTask there. The task (and with it the last reference to the record) is therefore
 * always released on the caller's thread, never on the record's own: finalize, which stops and
 * joins the thread, can never run on the thread it joins.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "thecal-record-private.h"
#include "thecal-sync-call.h"

struct _ThecalRecord
{
  GObject parent_instance;

  GThread *thread;
  GAsyncQueue *queue; /* ThecalRecordMessage */

  /* Known once opened; set by thecal_record_open_finish () on the caller's thread. */
  char *path;
  gboolean demo;
  gboolean read_only;
  gboolean created;
  gint schema_version;
  char *backup_path;
  char *key_problem;
};

G_DEFINE_FINAL_TYPE (ThecalRecord, thecal_record, G_TYPE_OBJECT)

typedef struct
{
  ThecalRecordOp op; /* NULL: the thread stops */
  gpointer data;
  GDestroyNotify data_free;
  GDestroyNotify result_free;
  ThecalTxn txn;
  GTask *task;
  gpointer result;
  GError *error;
} ThecalRecordMessage;

typedef struct
{
  GAsyncQueue *queue;
  ThecalRecordDb *db;
} ThecalRecordThread;

/* Runs on the caller's thread (as the source's destroy notify, or when never queued). */
static void
message_free (gpointer user_data)
{
  ThecalRecordMessage *msg = user_data;

  if (msg->data != NULL && msg->data_free != NULL)
    msg->data_free (msg->data);
  if (msg->result != NULL && msg->result_free != NULL)
    msg->result_free (msg->result);
  g_clear_error (&msg->error);
  g_clear_object (&msg->task);
  g_free (msg);
}

/* Runs on the caller's thread, from its main context. */
static gboolean
deliver_in_caller (gpointer user_data)
{
  ThecalRecordMessage *msg = user_data;

  if (msg->error != NULL)
    g_task_return_error (msg->task, g_steal_pointer (&msg->error));
  else
    g_task_return_pointer (msg->task, g_steal_pointer (&msg->result), msg->result_free);
  return G_SOURCE_REMOVE;
}

/* Runs on the record's thread: SQLite calls it every 1 000 VM steps; non-zero interrupts the
 * statement (SQLITE_INTERRUPT, mapped to G_IO_ERROR_CANCELLED), as tinysparql does. */
static int
progress_handler (void *user_data)
{
  ThecalRecordDb *db = user_data;

  return db->cancellable != NULL && g_cancellable_is_cancelled (db->cancellable);
}

/* Runs on the record's thread. */
static void
run_message (ThecalRecordDb *db, ThecalRecordMessage *msg)
{
  GCancellable *cancellable = g_task_get_cancellable (msg->task);
  g_autoptr (GError) error = NULL;
  gpointer result = NULL;
  gboolean in_txn = FALSE;

  _thecal_record_db_assert_owner (db);
  /* Cancelled before it started: the record is not touched at all. */
  if (g_cancellable_set_error_if_cancelled (cancellable, &msg->error))
    return;

  db->cancellable = cancellable;
  db->writing = msg->txn == THECAL_TXN_WRITE;
  if (msg->txn != THECAL_TXN_NONE && db->db == NULL)
    g_set_error (&error, THECAL_DB_ERROR, THECAL_DB_ERROR_FAILED, _ ("The record is not open."));
  else if (msg->txn == THECAL_TXN_WRITE && db->read_only)
    _thecal_record_sqlite_error (db, SQLITE_READONLY, &error);
  else if (msg->txn == THECAL_TXN_WRITE)
    in_txn = _thecal_record_exec (db, "BEGIN IMMEDIATE", &error);
  else if (msg->txn == THECAL_TXN_READ)
    in_txn = _thecal_record_exec (db, "BEGIN", &error);

  if (error == NULL)
    {
      if (db->db != NULL)
        sqlite3_progress_handler (db->db, 1000, progress_handler, db);
      result = msg->op (db, msg->data, &error);
      g_assert ((result == NULL) == (error != NULL));
    }

  if (in_txn && error != NULL && db->keep_on_error && !sqlite3_get_autocommit (db->db))
    {
      /* The operation failed but its audit entries stay (a failed login): commit them and
       * still report the failure. */
      g_autoptr (GError) commit_error = NULL;

      _thecal_record_exec (db, "COMMIT", &commit_error);
    }
  db->keep_on_error = FALSE;
  if (in_txn && error == NULL)
    _thecal_record_exec (db, "COMMIT", &error);
  if (in_txn && error != NULL && !sqlite3_get_autocommit (db->db))
    {
      /* Whatever SQLite left open is rolled back: nothing of a failed write stays. */
      g_autoptr (GError) rollback_error = NULL;

      _thecal_record_exec (db, "ROLLBACK", &rollback_error);
    }
  if (db->db != NULL)
    {
      _thecal_record_reset_statements (db);
      sqlite3_progress_handler (db->db, 0, NULL, NULL);
    }
  db->cancellable = NULL;
  db->writing = FALSE;

  if (error != NULL)
    {
      if (result != NULL && msg->result_free != NULL)
        msg->result_free (result);
      msg->error = g_steal_pointer (&error);
    }
  else
    msg->result = result;
}

static gpointer
record_thread_main (gpointer user_data)
{
  ThecalRecordThread *thread = user_data;
  ThecalRecordDb *db = thread->db;

  db->owner = g_thread_self ();
  for (;;)
    {
      ThecalRecordMessage *msg = g_async_queue_pop (thread->queue);
      GMainContext *context;
      GSource *source;

      if (msg->op == NULL)
        {
          g_free (msg);
          break;
        }
      run_message (db, msg);

      /* The result goes back to the caller's context; the idle source owns the message from
       * here on and frees it there. */
      source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver_in_caller, msg, message_free);
      g_source_set_static_name (source, "[thecal] record result");
      /* From the attach on, the caller may dispatch the source, free @msg (and with it the last
       * reference to its task) and drop its context at any time. Our reference to the source
       * then outlives the context unless we hold the context until the source is released:
       * releasing a source locks its context, and a context freed under it made the command
       * line hang or abort on a futex once in a few thousand runs (tests under load). */
      context = g_main_context_ref (g_task_get_context (msg->task));
      g_source_attach (source, context);
      g_source_unref (source);
      g_main_context_unref (context);
    }
  _thecal_record_db_free (db);
  g_async_queue_unref (thread->queue);
  g_free (thread);
  return NULL;
}

static void
thecal_record_finalize (GObject *object)
{
  ThecalRecord *self = THECAL_RECORD (object);

  if (self->thread != NULL)
    {
      /* Every queued message holds a task that holds this object, so the queue is empty here:
       * the thread takes the stop message next, closes the connection and ends. */
      g_async_queue_push (self->queue, g_new0 (ThecalRecordMessage, 1));
      g_thread_join (self->thread);
    }
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_free (self->path);
  g_free (self->backup_path);
  g_free (self->key_problem);

  G_OBJECT_CLASS (thecal_record_parent_class)->finalize (object);
}

static void
thecal_record_class_init (ThecalRecordClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = thecal_record_finalize;
}

static void
thecal_record_init (ThecalRecord *self)
{
  self->queue = g_async_queue_new ();
}

void
_thecal_record_submit (ThecalRecord *self,
                       ThecalRecordOp op,
                       gpointer data,
                       GDestroyNotify data_free,
                       GDestroyNotify result_free,
                       ThecalTxn txn,
                       gpointer source_tag,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  ThecalRecordMessage *msg = g_new0 (ThecalRecordMessage, 1);

  msg->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (msg->task, source_tag);
  /* A write that committed is reported as done, even if cancelled since: the record never says
   * "not saved" about something it saved. */
  if (txn == THECAL_TXN_WRITE || txn == THECAL_TXN_NONE)
    g_task_set_check_cancellable (msg->task, FALSE);
  msg->op = op;
  msg->data = data;
  msg->data_free = data_free;
  msg->result_free = result_free;
  msg->txn = txn;
  g_async_queue_push (self->queue, msg);
}

gpointer
_thecal_record_propagate (ThecalRecord *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
_thecal_record_open_info_free (ThecalRecordOpenInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->backup_path);
  g_free (info->key_problem);
  g_free (info);
}

char *
thecal_record_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "thecal", "record.sqlite", NULL);
}

char *
thecal_record_key_path (const char *record_path)
{
  g_return_val_if_fail (record_path != NULL, NULL);

  return g_strconcat (record_path, ".key", NULL);
}

void
thecal_record_open_async (const char *path,
                          ThecalRecordOpenFlags flags,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (ThecalRecord) self = NULL;
  ThecalRecordThread *thread;

  g_return_if_fail (path != NULL && path[0] != '\0');
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  self = g_object_new (THECAL_TYPE_RECORD, NULL);
  self->path = g_strdup (path);

  thread = g_new0 (ThecalRecordThread, 1);
  thread->queue = g_async_queue_ref (self->queue);
  thread->db = g_new0 (ThecalRecordDb, 1);
  thread->db->path = g_strdup (path);
  thread->db->flags = flags;
  self->thread = g_thread_new ("ThecalRecord", record_thread_main, thread);

  /* The task holds the record until the open is answered. */
  _thecal_record_submit (self, _thecal_record_op_open, NULL, NULL,
                         (GDestroyNotify) _thecal_record_open_info_free, THECAL_TXN_NONE,
                         thecal_record_open_async, cancellable, callback, user_data);
}

ThecalRecord *
thecal_record_open_finish (GAsyncResult *result, GError **error)
{
  ThecalRecord *self;
  ThecalRecordOpenInfo *info;

  g_return_val_if_fail (G_IS_TASK (result), NULL);
  self = g_task_get_source_object (G_TASK (result));
  info = _thecal_record_propagate (self, result, thecal_record_open_async, error);
  if (info == NULL)
    return NULL;
  self->schema_version = info->schema_version;
  self->demo = info->demo;
  self->read_only = info->read_only;
  self->created = info->created;
  self->backup_path = g_steal_pointer (&info->backup_path);
  self->key_problem = g_steal_pointer (&info->key_problem);
  _thecal_record_open_info_free (info);
  return g_object_ref (self);
}

ThecalRecord *
thecal_record_open_sync (const char *path,
                         ThecalRecordOpenFlags flags,
                         GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();

  thecal_record_open_async (path, flags, cancellable, thecal_sync_call_callback, call);
  return thecal_record_open_finish (thecal_sync_call_wait (call), error);
}

const char *
thecal_record_get_path (ThecalRecord *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), NULL);
  return self->path;
}

gboolean
thecal_record_is_demo (ThecalRecord *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), FALSE);
  return self->demo;
}

gboolean
thecal_record_is_read_only (ThecalRecord *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), FALSE);
  return self->read_only;
}

gboolean
thecal_record_was_created (ThecalRecord *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), FALSE);
  return self->created;
}

gint
thecal_record_get_schema_version (ThecalRecord *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), 0);
  return self->schema_version;
}

const char *
thecal_record_get_backup_path (ThecalRecord *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), NULL);
  return self->backup_path;
}

const char *
thecal_record_get_key_problem (ThecalRecord *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD (self), NULL);
  return self->key_problem;
}

static gpointer
op_pragma (ThecalRecordDb *db, gpointer data, GError **error)
{
  gint64 value = 0;

  if (!_thecal_record_pragma_int (db, data, &value, error))
    return NULL;
  return g_memdup2 (&value, sizeof value);
}

void
_thecal_record_pragma_async (ThecalRecord *self,
                             const char *name,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  _thecal_record_submit (self, op_pragma, g_strdup (name), g_free, g_free, THECAL_TXN_NONE,
                         _thecal_record_pragma_async, cancellable, callback, user_data);
}

gint64 *
_thecal_record_pragma_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, _thecal_record_pragma_async, error);
}
