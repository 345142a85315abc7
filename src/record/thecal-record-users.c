/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-users.c: users, passwords, logins and the lock-out (docs/security.md "Users").
 *
 * Passwords are hashed with Argon2id (libsodium crypto_pwhash_str, which picks Argon2id and a
 * random salt and writes both into the hash string) and are never stored, logged or audited in
 * clear, nor is any hash written to the audit trail. After THECAL_LOGIN_MAX_FAILURES failed logins
 * in a row the account is locked until an administrator unlocks it (or sets a new password).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "thecal-record-private.h"

#define USER_NAME_MAX 64
#define FULL_NAME_MAX_BYTES 200

/* Columns of USER_COLUMNS (thecal-record-db.c): id 0, name 1, full_name 2, role 3,
 * failed_attempts 4, created 5, password_changed 6, password_hash 7 (never copied out). */
ThecalUser *
_thecal_record_user_from_row (sqlite3_stmt *stmt)
{
  ThecalUser *user = g_new0 (ThecalUser, 1);
  g_autofree char *role = _thecal_record_column_text (stmt, 3);

  user->id = sqlite3_column_int64 (stmt, 0);
  user->name = _thecal_record_column_text (stmt, 1);
  user->full_name = _thecal_record_column_text (stmt, 2);
  if (!thecal_role_from_name (role, &user->role))
    user->role = THECAL_ROLE_NURSE; /* unreachable: the CHECK constraint lists the roles */
  user->failed_attempts = sqlite3_column_int (stmt, 4);
  user->locked = user->failed_attempts >= THECAL_LOGIN_MAX_FAILURES;
  user->created_utc_ms = sqlite3_column_int64 (stmt, 5);
  user->password_changed_utc_ms = sqlite3_column_int64 (stmt, 6);
  return user;
}

/* The user and, when @hash is not NULL, the stored hash. NULL without error when unknown. */
static ThecalUser *
find_user (ThecalRecordDb *db, const char *name, char **hash, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_USER_BY_NAME, error);
  ThecalUser *user = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  rc = _thecal_record_step (db, stmt, error);
  if (rc == 1)
    {
      user = _thecal_record_user_from_row (stmt);
      if (hash != NULL)
        *hash = _thecal_record_column_text (stmt, 7);
      sqlite3_reset (stmt);
    }
  return user;
}

ThecalUser *
_thecal_record_user_by_name (ThecalRecordDb *db, const char *name, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  ThecalUser *user = find_user (db, name, NULL, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (user == NULL)
    g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND, _ ("There is no user named %s."), name);
  return user;
}

gboolean
_thecal_record_check_user_name (const char *name, GError **error)
{
  gsize length = name != NULL ? strlen (name) : 0;
  gboolean ok = length >= 1 && length <= USER_NAME_MAX && g_ascii_isalnum (name[0]);

  for (gsize i = 0; ok && i < length; i++)
    ok = g_ascii_isalnum (name[i]) || name[i] == '.' || name[i] == '_' || name[i] == '-';
  if (!ok)
    {
      g_autofree char *shown = g_utf8_make_valid (name != NULL ? name : "", -1);

      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The user name “%s” is not valid: use 1 to %d letters, digits, “.”, “_” or “-”, "
                      "starting with a letter or a digit."),
                   shown, USER_NAME_MAX);
    }
  return ok;
}

/* The password is never shown in a message. */
static gboolean
check_password (const char *password, GError **error)
{
  if (password == NULL || !g_utf8_validate (password, -1, NULL))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The password is not valid UTF-8 text."));
      return FALSE;
    }
  if (strlen (password) > THECAL_PASSWORD_MAX_BYTES)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The password is too long: at most %d bytes."), THECAL_PASSWORD_MAX_BYTES);
      return FALSE;
    }
  if (g_utf8_strlen (password, -1) < THECAL_PASSWORD_MIN_CHARS)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The password is too short: use at least %d characters."), THECAL_PASSWORD_MIN_CHARS);
      return FALSE;
    }
  return TRUE;
}

static char *
hash_password (ThecalRecordDb *db, const char *password, GError **error)
{
  char hash[crypto_pwhash_STRBYTES];

  if (crypto_pwhash_str (hash, password, strlen (password), db->pwhash_opslimit, db->pwhash_memlimit) != 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FAILED,
                   _ ("There is not enough memory to protect the password: nothing was saved."));
      return NULL;
    }
  return g_strdup (hash);
}

static char *
user_json (const ThecalUser *user)
{
  cJSON *object = cJSON_CreateObject ();

  _thecal_record_json_text (object, "name", user->name);
  _thecal_record_json_text (object, "full_name", user->full_name);
  _thecal_record_json_text (object, "role", thecal_role_name (user->role));
  return _thecal_record_json_print (object);
}

static char *
attempts_json (gint failed_attempts)
{
  cJSON *object = cJSON_CreateObject ();

  _thecal_record_json_int (object, "failed_attempts", failed_attempts);
  return _thecal_record_json_print (object);
}

static gboolean
audit (ThecalRecordDb *db,
       const ThecalUser *actor,
       const char *fallback_name,
       const char *action,
       const ThecalUser *object,
       const char *before,
       const char *after,
       const char *reason,
       GError **error)
{
  g_autoptr (ThecalAuditEntry) entry = NULL;
  ThecalAuditInput input = {
    .action = action,
    .object_type = "user",
    .object_id = object != NULL ? object->id : 0,
    .before = before,
    .after = after,
    .reason = reason,
  };

  entry = _thecal_record_audit_append (db, actor, fallback_name, &input, error);
  return entry != NULL;
}

static gboolean
set_failed_attempts (ThecalRecordDb *db, gint64 user_id, gint failed_attempts, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_USER_SET_FAILED, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);
  sqlite3_bind_int (stmt, 2, failed_attempts);
  return _thecal_record_step_done (db, stmt, error);
}

static ThecalUser *
insert_user (ThecalRecordDb *db,
             const char *name,
             const char *full_name,
             ThecalRole role,
             const char *password,
             GError **error)
{
  g_autofree char *hash = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (ThecalUser) existing = NULL;
  sqlite3_stmt *stmt;

  if (!_thecal_record_check_user_name (name, error)
      || !_thecal_record_check_text (_ ("full name"), full_name, FULL_NAME_MAX_BYTES, TRUE, error)
      || !check_password (password, error))
    return NULL;
  if ((guint) role >= THECAL_N_ROLES)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The role is not valid."));
      return NULL;
    }
  if (role == THECAL_ROLE_DEMO && !db->demo)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_DEMO,
                   _ ("A demo user can only be added to a demo record, and this record is not one."));
      return NULL;
    }
  existing = find_user (db, name, NULL, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (existing != NULL)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS,
                   _ ("There is already a user named %s: nothing was saved."), existing->name);
      return NULL;
    }
  hash = hash_password (db, password, error);
  if (hash == NULL)
    return NULL;
  stmt = _thecal_record_stmt (db, STMT_USER_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, full_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, thecal_role_name (role), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, _thecal_record_now_utc_ms ());
  sodium_memzero (hash, strlen (hash));
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  return _thecal_record_user_by_name (db, name, error);
}

/* ---- Operations ---------------------------------------------------------------------------- */

typedef struct
{
  ThecalUser *actor;
  char *name;
  char *full_name;
  ThecalRole role;
  char *password; /* wiped when freed */
} UserData;

static void
user_data_free (gpointer user_data)
{
  UserData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->name);
  g_free (data->full_name);
  if (data->password != NULL)
    {
      sodium_memzero (data->password, strlen (data->password));
      g_free (data->password);
    }
  g_free (data);
}

static UserData *
user_data_new (const ThecalUser *actor, const char *name, const char *full_name, ThecalRole role, const char *password)
{
  UserData *data = g_new0 (UserData, 1);

  data->actor = actor != NULL ? thecal_user_copy (actor) : NULL;
  data->name = g_strdup (name);
  data->full_name = g_strdup (full_name);
  data->role = role;
  data->password = g_strdup (password);
  return data;
}

static gboolean answers[2] = { FALSE, TRUE };

static gpointer
op_needs_first_administrator (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_USER_COUNT, error);
  gint64 count;

  (void) user_data;
  if (stmt == NULL || _thecal_record_step (db, stmt, error) != 1)
    return NULL;
  count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return &answers[count == 0];
}

void
thecal_record_needs_first_administrator_async (ThecalRecord *self,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));

  _thecal_record_submit (self, op_needs_first_administrator, NULL, NULL, NULL, THECAL_TXN_READ,
                         thecal_record_needs_first_administrator_async, cancellable, callback, user_data);
}

gboolean
thecal_record_needs_first_administrator_finish (ThecalRecord *self,
                                                GAsyncResult *result,
                                                gboolean *needed,
                                                GError **error)
{
  gboolean *answer = _thecal_record_propagate (self, result, thecal_record_needs_first_administrator_async, error);

  if (answer == NULL)
    return FALSE;
  *needed = *answer;
  return TRUE;
}

static gpointer
op_create_first_administrator (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  UserData *data = user_data;
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_USER_COUNT, error);
  g_autoptr (ThecalUser) user = NULL;
  g_autofree char *after = NULL;
  gint64 count;

  if (stmt == NULL || _thecal_record_step (db, stmt, error) != 1)
    return NULL;
  count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (count > 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS,
                   _ ("The record already has users: log in as an administrator to add one."));
      return NULL;
    }
  user = insert_user (db, data->name, data->full_name, THECAL_ROLE_ADMINISTRATOR, data->password, error);
  if (user == NULL)
    return NULL;
  after = user_json (user);
  if (!audit (db, user, NULL, "user.create", user, NULL, after, "first administrator (first run)", error))
    return NULL;
  return g_steal_pointer (&user);
}

void
thecal_record_create_first_administrator_async (ThecalRecord *self,
                                                const char *name,
                                                const char *full_name,
                                                const char *password,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));

  _thecal_record_submit (self, op_create_first_administrator,
                         user_data_new (NULL, name, full_name, THECAL_ROLE_ADMINISTRATOR, password),
                         user_data_free, (GDestroyNotify) thecal_user_free, THECAL_TXN_WRITE,
                         thecal_record_create_first_administrator_async, cancellable, callback, user_data);
}

ThecalUser *
thecal_record_create_first_administrator_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_create_first_administrator_async, error);
}

/* What a failed login of an unknown or badly formed name is written under in the audit trail:
 * the name as typed when it could be a user name (someone may have typed a password into the
 * name field: that is not kept). */
static const char *
attempted_name (const char *name)
{
  g_autoptr (GError) error = NULL;

  return _thecal_record_check_user_name (name, &error) ? name : "(not a user name)";
}

static gpointer
op_login (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  UserData *data = user_data;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *hash = NULL;
  g_autoptr (ThecalUser) user = NULL;
  const char *password = data->password != NULL ? data->password : "";
  gsize password_length = strlen (password);

  user = find_user (db, data->name != NULL ? data->name : "", &hash, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (user == NULL)
    {
      /* The same work as a real check, so the time taken does not tell whether a name exists. */
      if (db->dummy_hash == NULL)
        db->dummy_hash = hash_password (db, "thecal: no such user, a check to spend the time", NULL);
      if (db->dummy_hash != NULL && crypto_pwhash_str_verify (db->dummy_hash, password, password_length) == 0)
        g_debug ("a password matched the dummy hash"); /* harmless: the login still fails */
      if (!audit (db, NULL, attempted_name (data->name), "login.failed", NULL, NULL, NULL, "unknown user", error))
        return NULL;
      db->keep_on_error = TRUE;
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_AUTH_FAILED, _ ("Unknown user or wrong password."));
      return NULL;
    }
  if (user->locked)
    {
      if (!audit (db, user, NULL, "login.failed", user, NULL, NULL, "account locked", error))
        return NULL;
      db->keep_on_error = TRUE;
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_LOCKED_OUT,
                   _ ("The account %s is locked after %d failed logins: an administrator must unlock it "
                      "(thecal-cli user unlock %s)."),
                   user->name, THECAL_LOGIN_MAX_FAILURES, user->name);
      return NULL;
    }
  if (crypto_pwhash_str_verify (hash, password, password_length) != 0)
    {
      g_autofree char *before = attempts_json (user->failed_attempts);
      g_autofree char *after = attempts_json (user->failed_attempts + 1);

      if (!set_failed_attempts (db, user->id, user->failed_attempts + 1, error)
          || !audit (db, user, NULL, "login.failed", user, before, after, "wrong password", error))
        return NULL;
      db->keep_on_error = TRUE;
      if (user->failed_attempts + 1 >= THECAL_LOGIN_MAX_FAILURES)
        {
          if (!audit (db, user, NULL, "user.locked", user, before, after, "too many failed logins", error))
            return NULL;
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_LOCKED_OUT,
                       _ ("Unknown user or wrong password. The account %s is now locked after %d failed logins: "
                          "an administrator must unlock it (thecal-cli user unlock %s)."),
                       user->name, THECAL_LOGIN_MAX_FAILURES, user->name);
        }
      else
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_AUTH_FAILED, _ ("Unknown user or wrong password."));
      return NULL;
    }

  if (user->failed_attempts > 0 && !set_failed_attempts (db, user->id, 0, error))
    return NULL;
  /* A hash made with weaker limits than this record now uses (an older default, or a test
   * run) is upgraded while the password is at hand. */
  if (crypto_pwhash_str_needs_rehash (hash, db->pwhash_opslimit, db->pwhash_memlimit) != 0)
    {
      g_autofree char *new_hash = hash_password (db, password, error);
      sqlite3_stmt *stmt;

      if (new_hash == NULL)
        return NULL;
      stmt = _thecal_record_stmt (db, STMT_USER_REHASH, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, user->id);
      sqlite3_bind_text (stmt, 2, new_hash, -1, SQLITE_TRANSIENT);
      if (!_thecal_record_step_done (db, stmt, error))
        return NULL;
    }
  {
    g_autofree char *after = user_json (user);

    if (!audit (db, user, NULL, "login", user, NULL, after, NULL, error))
      return NULL;
  }
  user->failed_attempts = 0;
  user->locked = FALSE;
  if (hash != NULL)
    sodium_memzero (hash, strlen (hash));
  return g_steal_pointer (&user);
}

void
thecal_record_login_async (ThecalRecord *self,
                           const char *name,
                           const char *password,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));

  _thecal_record_submit (self, op_login, user_data_new (NULL, name, NULL, THECAL_ROLE_NURSE, password),
                         user_data_free, (GDestroyNotify) thecal_user_free, THECAL_TXN_WRITE,
                         thecal_record_login_async, cancellable, callback, user_data);
}

ThecalUser *
thecal_record_login_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_login_async, error);
}

static gpointer
op_add_user (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  UserData *data = user_data;
  g_autoptr (ThecalUser) user = insert_user (db, data->name, data->full_name, data->role, data->password, error);
  g_autofree char *after = NULL;

  if (user == NULL)
    return NULL;
  after = user_json (user);
  if (!audit (db, data->actor, NULL, "user.create", user, NULL, after, NULL, error))
    return NULL;
  return g_steal_pointer (&user);
}

void
thecal_record_add_user_async (ThecalRecord *self,
                              const ThecalUser *actor,
                              const char *name,
                              const char *full_name,
                              ThecalRole role,
                              const char *password,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);

  _thecal_record_submit (self, op_add_user, user_data_new (actor, name, full_name, role, password),
                         user_data_free, (GDestroyNotify) thecal_user_free, THECAL_TXN_WRITE,
                         thecal_record_add_user_async, cancellable, callback, user_data);
}

ThecalUser *
thecal_record_add_user_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_add_user_async, error);
}

static gpointer
op_list_users (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  g_autoptr (GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_user_free);
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_USER_LIST, error);
  int rc;

  (void) user_data;
  if (stmt == NULL)
    return NULL;
  while ((rc = _thecal_record_step (db, stmt, error)) == 1)
    g_ptr_array_add (users, _thecal_record_user_from_row (stmt));
  if (rc < 0)
    return NULL;
  return g_steal_pointer (&users);
}

void
thecal_record_list_users_async (ThecalRecord *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));

  _thecal_record_submit (self, op_list_users, NULL, NULL, (GDestroyNotify) g_ptr_array_unref, THECAL_TXN_READ,
                         thecal_record_list_users_async, cancellable, callback, user_data);
}

GPtrArray *
thecal_record_list_users_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_list_users_async, error);
}

static gpointer
op_set_password (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  UserData *data = user_data;
  g_autoptr (ThecalUser) user = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  sqlite3_stmt *stmt;

  if (!check_password (data->password, error))
    return NULL;
  user = _thecal_record_user_by_name (db, data->name, error);
  if (user == NULL)
    return NULL;
  hash = hash_password (db, data->password, error);
  if (hash == NULL)
    return NULL;
  stmt = _thecal_record_stmt (db, STMT_USER_SET_PASSWORD, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, user->id);
  sqlite3_bind_text (stmt, 2, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, _thecal_record_now_utc_ms ());
  sodium_memzero (hash, strlen (hash));
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  before = attempts_json (user->failed_attempts);
  after = attempts_json (0);
  if (!audit (db, data->actor, NULL, "user.password", user, before, after,
              data->actor->id == user->id ? "changed by the user" : "set by an administrator", error))
    return NULL;
  g_clear_pointer (&user, thecal_user_free);
  return _thecal_record_user_by_name (db, data->name, error);
}

void
thecal_record_set_password_async (ThecalRecord *self,
                                  const ThecalUser *actor,
                                  const char *name,
                                  const char *password,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);

  _thecal_record_submit (self, op_set_password, user_data_new (actor, name, NULL, THECAL_ROLE_NURSE, password),
                         user_data_free, (GDestroyNotify) thecal_user_free, THECAL_TXN_WRITE,
                         thecal_record_set_password_async, cancellable, callback, user_data);
}

ThecalUser *
thecal_record_set_password_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_set_password_async, error);
}

static gpointer
op_unlock_user (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  UserData *data = user_data;
  g_autoptr (ThecalUser) user = _thecal_record_user_by_name (db, data->name, error);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  if (user == NULL)
    return NULL;
  if (!set_failed_attempts (db, user->id, 0, error))
    return NULL;
  before = attempts_json (user->failed_attempts);
  after = attempts_json (0);
  if (!audit (db, data->actor, NULL, "user.unlock", user, before, after, NULL, error))
    return NULL;
  user->failed_attempts = 0;
  user->locked = FALSE;
  return g_steal_pointer (&user);
}

void
thecal_record_unlock_user_async (ThecalRecord *self,
                                 const ThecalUser *actor,
                                 const char *name,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);

  _thecal_record_submit (self, op_unlock_user, user_data_new (actor, name, NULL, THECAL_ROLE_NURSE, NULL),
                         user_data_free, (GDestroyNotify) thecal_user_free, THECAL_TXN_WRITE,
                         thecal_record_unlock_user_async, cancellable, callback, user_data);
}

ThecalUser *
thecal_record_unlock_user_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_unlock_user_async, error);
}
