/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-audit.c: the audit trail (21 CFR 11.10(e), CLINICAL.md §5.2; docs/security.md
 * "Audit chain" describes the encoding byte by byte).
 *
 * Each entry's hash is SHA-256 (libsodium crypto_hash_sha256) over a canonical, length-prefixed
 * encoding of the entry that starts with the previous entry's hash, so changing, removing or
 * moving any entry breaks every link after it. The verifier walks the chain in order and names
 * the first entry that was altered, removed or reordered.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "thecal-record-private.h"

#define AUDIT_DOMAIN_TAG "THECAL-AUDIT-1"
/* How far the verifier looks for the position an entry was written at (renumbered entries). */
#define AUDIT_SEARCH_DISTANCE 64

static const guint8 zero_hash[THECAL_AUDIT_HASH_BYTES] = { 0 };

/* An entry as borrowed text: from a ThecalAuditEntry or straight from an SQLite row. */
typedef struct
{
  gint64 seq;
  gint64 at_utc_ms;
  gint64 user_id; /* 0: NULL */
  gint64 object_id;
  gint64 patient_id;
  const char *text[6]; /* user_name, action, object_type, before, after, reason; NULL: NULL */
  gsize length[6];
  const guint8 *prev_hash;
} AuditView;

static void
put_i64 (GByteArray *out, gint64 value)
{
  guint8 bytes[8];
  guint64 bits = (guint64) value;

  for (int i = 7; i >= 0; i--)
    {
      bytes[i] = (guint8) (bits & 0xff);
      bits >>= 8;
    }
  g_byte_array_append (out, bytes, sizeof bytes);
}

/* N(x): 0x00 for NULL, else 0x01 and the 8-byte big-endian value. */
static void
put_nullable_i64 (GByteArray *out, gint64 value)
{
  static const guint8 absent = 0x00;
  static const guint8 present = 0x01;

  if (value == 0)
    g_byte_array_append (out, &absent, 1);
  else
    {
      g_byte_array_append (out, &present, 1);
      put_i64 (out, value);
    }
}

/* S(x): 0x00 for NULL, else 0x01, the 8-byte big-endian length in bytes, and the bytes. */
static void
put_text (GByteArray *out, const char *text, gsize length)
{
  static const guint8 absent = 0x00;
  static const guint8 present = 0x01;

  if (text == NULL)
    {
      g_byte_array_append (out, &absent, 1);
      return;
    }
  g_byte_array_append (out, &present, 1);
  put_i64 (out, (gint64) length);
  g_byte_array_append (out, (const guint8 *) text, (guint) length);
}

static void
encode_view (const AuditView *view, GByteArray *out)
{
  g_byte_array_set_size (out, 0);
  g_byte_array_append (out, (const guint8 *) AUDIT_DOMAIN_TAG, strlen (AUDIT_DOMAIN_TAG));
  g_byte_array_append (out, view->prev_hash, THECAL_AUDIT_HASH_BYTES);
  put_i64 (out, view->seq);
  put_i64 (out, view->at_utc_ms);
  put_nullable_i64 (out, view->user_id);
  put_text (out, view->text[0], view->length[0]); /* user_name */
  put_text (out, view->text[1], view->length[1]); /* action */
  put_text (out, view->text[2], view->length[2]); /* object_type */
  put_nullable_i64 (out, view->object_id);
  put_nullable_i64 (out, view->patient_id);
  put_text (out, view->text[3], view->length[3]); /* before */
  put_text (out, view->text[4], view->length[4]); /* after */
  put_text (out, view->text[5], view->length[5]); /* reason */
}

static void
hash_view (const AuditView *view, GByteArray *scratch, guint8 hash[THECAL_AUDIT_HASH_BYTES])
{
  encode_view (view, scratch);
  crypto_hash_sha256 (hash, scratch->data, scratch->len);
}

static void
view_of_entry (const ThecalAuditEntry *entry, AuditView *view)
{
  const char *texts[6] = { entry->user_name, entry->action, entry->object_type,
                           entry->before, entry->after, entry->reason };

  view->seq = entry->seq;
  view->at_utc_ms = entry->at_utc_ms;
  view->user_id = entry->user_id;
  view->object_id = entry->object_id;
  view->patient_id = entry->patient_id;
  for (int i = 0; i < 6; i++)
    {
      view->text[i] = texts[i];
      view->length[i] = texts[i] != NULL ? strlen (texts[i]) : 0;
    }
  view->prev_hash = entry->prev_hash;
}

/* Columns of AUDIT_COLUMNS (thecal-record-db.c): seq 0, at 1, user_id 2, user_name 3, action 4,
 * object_type 5, object_id 6, patient_id 7, before 8, after 9, reason 10, prev_hash 11, hash 12.
 * FALSE when a hash column is not 32 bytes (the row was tampered with). */
static gboolean
view_of_row (sqlite3_stmt *stmt, AuditView *view)
{
  static const int text_columns[6] = { 3, 4, 5, 8, 9, 10 };

  view->seq = sqlite3_column_int64 (stmt, 0);
  view->at_utc_ms = sqlite3_column_int64 (stmt, 1);
  view->user_id = sqlite3_column_int64 (stmt, 2);
  view->object_id = sqlite3_column_int64 (stmt, 6);
  view->patient_id = sqlite3_column_int64 (stmt, 7);
  for (int i = 0; i < 6; i++)
    {
      int column = text_columns[i];

      if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
        {
          view->text[i] = NULL;
          view->length[i] = 0;
        }
      else
        {
          view->text[i] = (const char *) sqlite3_column_text (stmt, column);
          view->length[i] = (gsize) sqlite3_column_bytes (stmt, column);
        }
    }
  view->prev_hash = sqlite3_column_blob (stmt, 11);
  return sqlite3_column_bytes (stmt, 11) == THECAL_AUDIT_HASH_BYTES
         && sqlite3_column_bytes (stmt, 12) == THECAL_AUDIT_HASH_BYTES
         && view->prev_hash != NULL && sqlite3_column_blob (stmt, 12) != NULL;
}

static ThecalAuditEntry *
entry_of_row (sqlite3_stmt *stmt)
{
  ThecalAuditEntry *entry = g_new0 (ThecalAuditEntry, 1);

  entry->seq = sqlite3_column_int64 (stmt, 0);
  entry->at_utc_ms = sqlite3_column_int64 (stmt, 1);
  entry->user_id = sqlite3_column_int64 (stmt, 2);
  entry->user_name = _thecal_record_column_text (stmt, 3);
  entry->action = _thecal_record_column_text (stmt, 4);
  entry->object_type = _thecal_record_column_text (stmt, 5);
  entry->object_id = sqlite3_column_int64 (stmt, 6);
  entry->patient_id = sqlite3_column_int64 (stmt, 7);
  entry->before = _thecal_record_column_text (stmt, 8);
  entry->after = _thecal_record_column_text (stmt, 9);
  entry->reason = _thecal_record_column_text (stmt, 10);
  if (sqlite3_column_bytes (stmt, 11) == THECAL_AUDIT_HASH_BYTES)
    memcpy (entry->prev_hash, sqlite3_column_blob (stmt, 11), THECAL_AUDIT_HASH_BYTES);
  if (sqlite3_column_bytes (stmt, 12) == THECAL_AUDIT_HASH_BYTES)
    memcpy (entry->hash, sqlite3_column_blob (stmt, 12), THECAL_AUDIT_HASH_BYTES);
  return entry;
}

GBytes *
_thecal_audit_entry_encode (const ThecalAuditEntry *entry)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  AuditView view;

  view_of_entry (entry, &view);
  encode_view (&view, out);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

void
_thecal_audit_entry_compute_hash (const ThecalAuditEntry *entry, guint8 hash[THECAL_AUDIT_HASH_BYTES])
{
  g_autoptr (GByteArray) scratch = g_byte_array_new ();
  AuditView view;

  view_of_entry (entry, &view);
  hash_view (&view, scratch, hash);
}

ThecalAuditEntry *
_thecal_record_audit_append (ThecalRecordDb *db,
                             const ThecalUser *actor,
                             const char *fallback_name,
                             const ThecalAuditInput *input,
                             GError **error)
{
  g_autoptr (ThecalAuditEntry) entry = g_new0 (ThecalAuditEntry, 1);
  sqlite3_stmt *stmt;
  int rc;

  _thecal_record_db_assert_owner (db);
  /* Always inside the write that it records: the two are saved together or not at all. */
  g_assert (!sqlite3_get_autocommit (db->db));
  g_assert (input->action != NULL);

  stmt = _thecal_record_stmt (db, STMT_AUDIT_LAST, error);
  if (stmt == NULL)
    return NULL;
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return NULL;
  if (rc == 1)
    {
      entry->seq = sqlite3_column_int64 (stmt, 0) + 1;
      if (sqlite3_column_bytes (stmt, 1) == THECAL_AUDIT_HASH_BYTES)
        memcpy (entry->prev_hash, sqlite3_column_blob (stmt, 1), THECAL_AUDIT_HASH_BYTES);
      sqlite3_reset (stmt);
    }
  else
    entry->seq = 1; /* the first entry links to 32 zero bytes */

  entry->at_utc_ms = _thecal_record_now_utc_ms ();
  entry->user_id = actor != NULL ? actor->id : 0;
  entry->user_name = g_strdup (actor != NULL ? actor->name : (fallback_name != NULL ? fallback_name : "thecal"));
  entry->action = g_strdup (input->action);
  entry->object_type = g_strdup (input->object_type);
  entry->object_id = input->object_id;
  entry->patient_id = input->patient_id;
  entry->before = g_strdup (input->before);
  entry->after = g_strdup (input->after);
  entry->reason = g_strdup (input->reason);
  _thecal_audit_entry_compute_hash (entry, entry->hash);

  stmt = _thecal_record_stmt (db, STMT_AUDIT_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, entry->seq);
  sqlite3_bind_int64 (stmt, 2, entry->at_utc_ms);
  _thecal_record_bind_id (stmt, 3, entry->user_id);
  _thecal_record_bind_text (stmt, 4, entry->user_name);
  _thecal_record_bind_text (stmt, 5, entry->action);
  _thecal_record_bind_text (stmt, 6, entry->object_type);
  _thecal_record_bind_id (stmt, 7, entry->object_id);
  _thecal_record_bind_id (stmt, 8, entry->patient_id);
  _thecal_record_bind_text (stmt, 9, entry->before);
  _thecal_record_bind_text (stmt, 10, entry->after);
  _thecal_record_bind_text (stmt, 11, entry->reason);
  sqlite3_bind_blob (stmt, 12, entry->prev_hash, THECAL_AUDIT_HASH_BYTES, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 13, entry->hash, THECAL_AUDIT_HASH_BYTES, SQLITE_TRANSIENT);
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  return g_steal_pointer (&entry);
}

gboolean
_thecal_record_audit_change (ThecalRecordDb *db,
                             const ThecalUser *actor,
                             const char *action,
                             const char *object_type,
                             gint64 object_id,
                             gint64 patient_id,
                             const char *before,
                             const char *after,
                             const char *reason,
                             GError **error)
{
  g_autoptr (ThecalAuditEntry) entry = NULL;
  ThecalAuditInput input = {
    .action = action,
    .object_type = object_type,
    .object_id = object_id,
    .patient_id = patient_id,
    .before = before,
    .after = after,
    .reason = reason,
  };

  entry = _thecal_record_audit_append (db, actor, NULL, &input, error);
  return entry != NULL;
}

/* ---- Verification -------------------------------------------------------------------------- */

/* The seq of the entry whose stored hash is @hash (0: none; 0 also for the zero hash, which is
 * what entry 1 links to). */
static gint64
seq_with_hash (ThecalRecordDb *db, const guint8 *hash, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 seq = 0;
  int rc;

  if (memcmp (hash, zero_hash, THECAL_AUDIT_HASH_BYTES) == 0)
    return 0;
  stmt = _thecal_record_stmt (db, STMT_AUDIT_FIND_HASH, error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_blob (stmt, 1, hash, THECAL_AUDIT_HASH_BYTES, SQLITE_TRANSIENT);
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return -1;
  if (rc == 1)
    seq = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return seq;
}

/* The entry at @view is not intact as numbered: was it written under another number? Its
 * prev_hash names the entry it followed; failing that, nearby numbers are tried. 0: no. */
static gint64
position_written_at (ThecalRecordDb *db,
                     const AuditView *view,
                     const guint8 *stored_hash,
                     GByteArray *scratch,
                     gboolean *predecessor_present,
                     GError **error)
{
  AuditView moved = *view;
  guint8 hash[THECAL_AUDIT_HASH_BYTES];
  gint64 follows = seq_with_hash (db, view->prev_hash, error);

  if (follows < 0)
    return -1;
  /* Is the entry it was written after still in the trail (or was it the first entry)? */
  *predecessor_present = memcmp (view->prev_hash, zero_hash, THECAL_AUDIT_HASH_BYTES) == 0 || follows > 0;
  if (*predecessor_present)
    {
      moved.seq = follows + 1;
      hash_view (&moved, scratch, hash);
      if (moved.seq != view->seq && memcmp (hash, stored_hash, THECAL_AUDIT_HASH_BYTES) == 0)
        return moved.seq;
    }
  for (gint64 d = 1; d <= AUDIT_SEARCH_DISTANCE; d++)
    for (int sign = 1; sign >= -1; sign -= 2)
      {
        moved.seq = view->seq + sign * d;
        if (moved.seq < 1)
          continue;
        hash_view (&moved, scratch, hash);
        if (memcmp (hash, stored_hash, THECAL_AUDIT_HASH_BYTES) == 0)
          return moved.seq;
      }
  return 0;
}

typedef struct
{
  gint64 anchor_seq;
  guint8 anchor_hash[THECAL_AUDIT_HASH_BYTES];
} VerifyData;

static void
set_problem (ThecalAuditVerification *result, ThecalAuditProblem problem, gint64 bad_seq, char *message)
{
  result->problem = problem;
  result->bad_seq = bad_seq;
  g_free (result->message);
  result->message = message;
}

static gpointer
op_verify_audit (ThecalRecordDb *db, gpointer data, GError **error)
{
  VerifyData *verify = data;
  g_autoptr (ThecalAuditVerification) result = g_new0 (ThecalAuditVerification, 1);
  g_autoptr (GByteArray) scratch = g_byte_array_new ();
  guint8 prev[THECAL_AUDIT_HASH_BYTES] = { 0 };
  guint8 hash[THECAL_AUDIT_HASH_BYTES];
  gint64 expected = 1;
  gint64 prev_at = G_MININT64;
  gboolean anchor_seen = FALSE;
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_AUDIT_WALK, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, G_MININT64);
  sqlite3_bind_int64 (stmt, 2, -1);
  while ((rc = _thecal_record_step (db, stmt, error)) == 1)
    {
      AuditView view;
      const guint8 *stored_hash = sqlite3_column_blob (stmt, 12);
      gboolean well_formed = view_of_row (stmt, &view);

      result->n_entries++;
      if (view.seq != expected)
        {
          if (expected == 1 || view.seq > expected)
            set_problem (result, THECAL_AUDIT_REMOVED, expected,
                         expected == 1
                             ? g_strdup_printf (_ ("Entry 1 was removed: the trail starts at entry %" G_GINT64_FORMAT "."),
                                                view.seq)
                             : g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " was removed: the trail goes from entry %" G_GINT64_FORMAT " to entry %" G_GINT64_FORMAT "."),
                                                expected, expected - 1, view.seq));
          else
            set_problem (result, THECAL_AUDIT_ALTERED, view.seq,
                         g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " was altered: its number is not valid."), view.seq));
          break;
        }
      if (!well_formed)
        {
          set_problem (result, THECAL_AUDIT_ALTERED, view.seq,
                       g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " was altered: its hash fields are damaged."), view.seq));
          break;
        }
      hash_view (&view, scratch, hash);
      if (memcmp (hash, stored_hash, THECAL_AUDIT_HASH_BYTES) != 0)
        {
          g_autoptr (GError) local_error = NULL;
          gboolean predecessor_present = FALSE;
          gint64 written_at = position_written_at (db, &view, stored_hash, scratch, &predecessor_present, &local_error);

          if (written_at < 0)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          if (written_at > view.seq && !predecessor_present)
            {
              /* Intact, but numbered lower than written, and the entry it followed is gone:
               * entries before it were cut out and the rest renumbered. The first missing one
               * is the one that belonged here. */
              set_problem (result, THECAL_AUDIT_REMOVED, view.seq,
                           g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " was removed and the later entries renumbered: "
                                               "the entry now numbered %" G_GINT64_FORMAT " was written as entry %" G_GINT64_FORMAT "."),
                                            view.seq, view.seq, written_at));
              result->written_as_seq = written_at;
            }
          else if (written_at > 0)
            {
              set_problem (result, THECAL_AUDIT_REORDERED, view.seq,
                           g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " is out of order: it holds the entry written as "
                                               "entry %" G_GINT64_FORMAT "."),
                                            view.seq, written_at));
              result->written_as_seq = written_at;
            }
          else
            set_problem (result, THECAL_AUDIT_ALTERED, view.seq,
                         g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " was altered: its content no longer matches its hash."),
                                          view.seq));
          break;
        }
      if (memcmp (view.prev_hash, prev, THECAL_AUDIT_HASH_BYTES) != 0)
        {
          if (expected == 1)
            set_problem (result, THECAL_AUDIT_UNLINKED, 1,
                         g_strdup (_ ("Entry 1 does not start the trail: the entries before it were removed.")));
          else
            set_problem (result, THECAL_AUDIT_UNLINKED, expected - 1,
                         g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " was altered and its hash recomputed, or entries "
                                             "were cut out after it: entry %" G_GINT64_FORMAT " no longer links to it."),
                                          expected - 1, expected));
          break;
        }
      if (view.at_utc_ms < prev_at)
        result->clock_steps_back++;
      prev_at = view.at_utc_ms;
      if (verify->anchor_seq == view.seq)
        {
          anchor_seen = TRUE;
          if (memcmp (stored_hash, verify->anchor_hash, THECAL_AUDIT_HASH_BYTES) != 0)
            {
              set_problem (result, THECAL_AUDIT_ANCHOR_MISMATCH, view.seq,
                           g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT " does not have the anchor's hash: the trail "
                                               "up to it was rewritten."),
                                            view.seq));
              break;
            }
        }
      memcpy (prev, stored_hash, THECAL_AUDIT_HASH_BYTES);
      result->head_seq = view.seq;
      memcpy (result->head_hash, stored_hash, THECAL_AUDIT_HASH_BYTES);
      expected++;
    }
  if (rc < 0)
    return NULL;
  sqlite3_reset (stmt);

  if (result->problem == THECAL_AUDIT_INTACT && verify->anchor_seq > 0 && !anchor_seen)
    set_problem (result, THECAL_AUDIT_ANCHOR_MISMATCH, verify->anchor_seq,
                 g_strdup_printf (_ ("Entry %" G_GINT64_FORMAT ", the anchor, is no longer in the trail: entries were "
                                     "cut from its end."),
                                  verify->anchor_seq));
  /* An intact chain in a record whose protections were removed: say so. */
  if (result->problem == THECAL_AUDIT_INTACT)
    {
      g_autoptr (GPtrArray) triggers = _thecal_record_expected_triggers (db->schema_version);
      g_autoptr (GHashTable) present = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

      stmt = NULL;
      rc = sqlite3_prepare_v2 (db->db, "SELECT name FROM sqlite_schema WHERE type = 'trigger'", -1, &stmt, NULL);
      while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          g_hash_table_add (present, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
          rc = SQLITE_OK;
        }
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE && rc != SQLITE_OK)
        {
          _thecal_record_sqlite_error (db, rc, error);
          return NULL;
        }
      for (guint i = 0; i < triggers->len && result->problem == THECAL_AUDIT_INTACT; i++)
        if (!g_hash_table_contains (present, triggers->pdata[i]))
          {
            result->missing_trigger = g_strdup (triggers->pdata[i]);
            set_problem (result, THECAL_AUDIT_UNPROTECTED, 0,
                         g_strdup_printf (_ ("The audit trail's %" G_GINT64_FORMAT " entries are intact, but the "
                                             "record's protection “%s” was removed: someone prepared to change "
                                             "the record behind Thecal's back."),
                                          result->n_entries, (const char *) triggers->pdata[i]));
          }
    }
  if (result->problem == THECAL_AUDIT_INTACT)
    {
      g_autofree char *head = thecal_audit_hash_to_hex (result->head_hash);

      result->message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The audit trail is intact: %" G_GINT64_FORMAT " entry, head %s.",
                                                      "The audit trail is intact: %" G_GINT64_FORMAT " entries, head %s.",
                                                      (gulong) result->n_entries),
                                         result->n_entries, head);
    }
  return g_steal_pointer (&result);
}

void
thecal_record_verify_audit_async (ThecalRecord *self,
                                  gint64 anchor_seq,
                                  const guint8 *anchor_hash,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  VerifyData *data = g_new0 (VerifyData, 1);

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (anchor_seq <= 0 || anchor_hash != NULL);

  data->anchor_seq = anchor_seq > 0 ? anchor_seq : 0;
  if (anchor_seq > 0)
    memcpy (data->anchor_hash, anchor_hash, THECAL_AUDIT_HASH_BYTES);
  _thecal_record_submit (self, op_verify_audit, data, g_free,
                         (GDestroyNotify) thecal_audit_verification_free, THECAL_TXN_READ,
                         thecal_record_verify_audit_async, cancellable, callback, user_data);
}

ThecalAuditVerification *
thecal_record_verify_audit_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_verify_audit_async, error);
}

/* ---- Appending and listing for callers ------------------------------------------------------ */

typedef struct
{
  ThecalUser *actor;
  char *action;
  char *object_type;
  gint64 object_id;
  gint64 patient_id;
  char *before;
  char *after;
  char *reason;
} AppendData;

static void
append_data_free (gpointer user_data)
{
  AppendData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->action);
  g_free (data->object_type);
  g_free (data->before);
  g_free (data->after);
  g_free (data->reason);
  g_free (data);
}

static gpointer
op_append_audit (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  AppendData *data = user_data;
  ThecalAuditInput input = {
    .action = data->action,
    .object_type = data->object_type,
    .object_id = data->object_id,
    .patient_id = data->patient_id,
    .before = data->before,
    .after = data->after,
    .reason = data->reason,
  };

  return _thecal_record_audit_append (db, data->actor, NULL, &input, error);
}

void
thecal_record_append_audit_async (ThecalRecord *self,
                                  const ThecalUser *actor,
                                  const ThecalAuditInput *input,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  AppendData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (input != NULL && input->action != NULL);

  data = g_new0 (AppendData, 1);
  data->actor = actor != NULL ? thecal_user_copy (actor) : NULL;
  data->action = g_strdup (input->action);
  data->object_type = g_strdup (input->object_type);
  data->object_id = input->object_id;
  data->patient_id = input->patient_id;
  data->before = g_strdup (input->before);
  data->after = g_strdup (input->after);
  data->reason = g_strdup (input->reason);
  _thecal_record_submit (self, op_append_audit, data, append_data_free,
                         (GDestroyNotify) thecal_audit_entry_free, THECAL_TXN_WRITE,
                         thecal_record_append_audit_async, cancellable, callback, user_data);
}

ThecalAuditEntry *
thecal_record_append_audit_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_append_audit_async, error);
}

typedef struct
{
  gint64 from_seq;
  gint64 limit;
} ListData;

static gpointer
op_list_audit (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  ListData *data = user_data;
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_audit_entry_free);
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_AUDIT_WALK, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, data->from_seq);
  sqlite3_bind_int64 (stmt, 2, data->limit);
  while ((rc = _thecal_record_step (db, stmt, error)) == 1)
    g_ptr_array_add (entries, entry_of_row (stmt));
  if (rc < 0)
    return NULL;
  return g_steal_pointer (&entries);
}

void
thecal_record_list_audit_async (ThecalRecord *self,
                                gint64 from_seq,
                                gint64 limit,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  ListData *data = g_new0 (ListData, 1);

  g_return_if_fail (THECAL_IS_RECORD (self));

  data->from_seq = from_seq;
  data->limit = limit > 0 ? limit : -1;
  _thecal_record_submit (self, op_list_audit, data, g_free, (GDestroyNotify) g_ptr_array_unref,
                         THECAL_TXN_READ, thecal_record_list_audit_async, cancellable, callback, user_data);
}

GPtrArray *
thecal_record_list_audit_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_list_audit_async, error);
}
