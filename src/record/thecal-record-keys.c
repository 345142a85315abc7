/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-keys.c: the clinic key file and the pairing keys it protects (docs/security.md).
 *
 * The clinic key is 32 random bytes in "<record>.key" (mode 0600), made when the record is made.
 * A key-encryption key (KEK) is derived from it with crypto_kdf_derive_from_key (subkey 1,
 * context "ThecalPK"). Each pump's pairing key is stored only wrapped by the KEK:
 * XChaCha20-Poly1305 (libsodium's crypto_aead_xchacha20poly1305_ietf) with a random 24-byte
 * nonce and the pump's serial as associated data, so a wrapped key copied onto another pump's
 * row does not unwrap. A copy of the record file alone (a backup, an e-mailed file) therefore
 * does not reveal any pairing key; someone holding both files does: docs/security.md says what
 * this protects and what it does not.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "thecal-record-private.h"

#define KEY_FILE_MAGIC "THECALK1"
#define KEY_FILE_MAGIC_BYTES 8
#define CLINIC_KEY_BYTES crypto_kdf_KEYBYTES
#define KEY_FILE_BYTES (KEY_FILE_MAGIC_BYTES + CLINIC_KEY_BYTES)
#define KDF_CONTEXT "ThecalPK"
#define KDF_SUBKEY_PAIRING 1
#define KEK_CHECK_INPUT "thecal-kek-check-v1"
#define WRAP_AD_PREFIX "thecal-pairing-key-v1:"
#define WRAPPED_BYTES (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + THECAL_PAIRING_KEY_BYTES \
                       + crypto_aead_xchacha20poly1305_ietf_ABYTES)

G_STATIC_ASSERT (CLINIC_KEY_BYTES == 32);
G_STATIC_ASSERT (sizeof (KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES);
G_STATIC_ASSERT (WRAPPED_BYTES == 72); /* the CHECK of pumps.pairing_key_wrapped */

static void
wipe_and_free (gpointer data)
{
  sodium_memzero (data, THECAL_PAIRING_KEY_BYTES);
  g_free (data);
}

/* Writes a new clinic key file: a private temporary file, fsync, then link () to the final name,
 * which fails rather than replace a key file another process made meanwhile (that one is then
 * read instead). */
static gboolean
create_key_file (const char *key_path, GError **error)
{
  g_autofree char *tmp_path = g_strdup_printf ("%s.tmp-%d", key_path, (int) getpid ());
  guint8 contents[KEY_FILE_BYTES];
  int saved_errno = 0;
  gboolean ok = FALSE;
  int fd;

  memcpy (contents, KEY_FILE_MAGIC, KEY_FILE_MAGIC_BYTES);
  crypto_kdf_keygen (contents + KEY_FILE_MAGIC_BYTES);
  g_unlink (tmp_path);
  fd = open (tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0)
    {
      ok = fchmod (fd, 0600) == 0 && write (fd, contents, sizeof contents) == (ssize_t) sizeof contents
           && fsync (fd) == 0;
      saved_errno = errno;
      close (fd);
      if (ok && link (tmp_path, key_path) < 0 && errno != EEXIST)
        {
          saved_errno = errno;
          ok = FALSE;
        }
      g_unlink (tmp_path);
    }
  else
    saved_errno = errno;
  sodium_memzero (contents, sizeof contents);
  if (!ok)
    g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_KEY,
                 _ ("Cannot create the clinic key file %s (%s): the record is not created."), key_path,
                 g_strerror (saved_errno));
  return ok;
}

/* Reads the clinic key into @clinic_key. FALSE with a problem text (never an error: a record
 * without its key still opens; only the pairing keys are out of reach). */
static gboolean
read_key_file (const char *key_path, guint8 clinic_key[CLINIC_KEY_BYTES], char **problem)
{
  guint8 contents[KEY_FILE_BYTES + 1];
  ssize_t got;
  int fd = open (key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        *problem = g_strdup_printf (_ ("The clinic key file %s is missing: pairing keys cannot be read. "
                                       "Restore it from the clinic's key backup (docs/security.md)."),
                                    key_path);
      else
        *problem = g_strdup_printf (_ ("The clinic key file %s cannot be read (%s): pairing keys cannot be read."),
                                    key_path, g_strerror (saved_errno));
      return FALSE;
    }
  got = read (fd, contents, sizeof contents);
  close (fd);
  if (got != KEY_FILE_BYTES || memcmp (contents, KEY_FILE_MAGIC, KEY_FILE_MAGIC_BYTES) != 0)
    {
      sodium_memzero (contents, sizeof contents);
      *problem = g_strdup_printf (_ ("%s is not a Thecal clinic key file: pairing keys cannot be read."), key_path);
      return FALSE;
    }
  memcpy (clinic_key, contents + KEY_FILE_MAGIC_BYTES, CLINIC_KEY_BYTES);
  sodium_memzero (contents, sizeof contents);
  return TRUE;
}

char *
_thecal_record_kek_check (ThecalRecordDb *db)
{
  guint8 check[32];
  char *hex = g_malloc (sizeof check * 2 + 1);

  g_assert (db->have_kek);
  crypto_generichash (check, sizeof check, (const guint8 *) KEK_CHECK_INPUT, strlen (KEK_CHECK_INPUT),
                      db->kek, sizeof db->kek);
  sodium_bin2hex (hex, sizeof check * 2 + 1, check, sizeof check);
  return hex;
}

gboolean
_thecal_record_keys_load (ThecalRecordDb *db, gboolean create, GError **error)
{
  g_autofree char *key_path = thecal_record_key_path (db->path);
  g_autofree char *problem = NULL;
  guint8 clinic_key[CLINIC_KEY_BYTES];
  GStatBuf st;

  _thecal_record_db_assert_owner (db);
  db->have_kek = FALSE;
  g_clear_pointer (&db->key_problem, g_free);
  if (create && g_lstat (key_path, &st) < 0 && !create_key_file (key_path, error))
    return FALSE;
  if (!read_key_file (key_path, clinic_key, &problem))
    {
      if (create)
        {
          g_set_error_literal (error, THECAL_DB_ERROR, THECAL_DB_ERROR_KEY, problem);
          return FALSE;
        }
      db->key_problem = g_steal_pointer (&problem);
      return TRUE;
    }
  if (g_stat (key_path, &st) == 0 && st.st_uid == getuid () && (st.st_mode & 077) != 0)
    g_chmod (key_path, (int) (st.st_mode & 0700));
  crypto_kdf_derive_from_key (db->kek, sizeof db->kek, KDF_SUBKEY_PAIRING, KDF_CONTEXT, clinic_key);
  sodium_memzero (clinic_key, sizeof clinic_key);
  db->have_kek = TRUE;

  if (!create)
    {
      sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_INFO_GET, error);
      g_autofree char *stored = NULL;
      g_autofree char *mine = NULL;
      int rc;

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, "kek_check", -1, SQLITE_STATIC);
      rc = _thecal_record_step (db, stmt, error);
      if (rc < 0)
        return FALSE;
      if (rc == 1)
        stored = _thecal_record_column_text (stmt, 0);
      sqlite3_reset (stmt);
      mine = _thecal_record_kek_check (db);
      if (stored == NULL || !g_str_equal (stored, mine))
        {
          sodium_memzero (db->kek, sizeof db->kek);
          db->have_kek = FALSE;
          db->key_problem = g_strdup_printf (_ ("The clinic key file %s does not belong to this record: "
                                                "pairing keys cannot be read."),
                                             key_path);
        }
    }
  return TRUE;
}

static gboolean
require_kek (ThecalRecordDb *db, GError **error)
{
  if (db->have_kek)
    return TRUE;
  g_set_error_literal (error, THECAL_DB_ERROR, THECAL_DB_ERROR_KEY,
                       db->key_problem != NULL ? db->key_problem : _ ("The clinic key is not available."));
  return FALSE;
}

static GBytes *
associated_data (const char *serial)
{
  g_autofree char *ad = g_strconcat (WRAP_AD_PREFIX, serial, NULL);
  gsize length = strlen (ad);

  return g_bytes_new_take (g_steal_pointer (&ad), length);
}

GBytes *
_thecal_record_wrap_key (ThecalRecordDb *db, const char *serial, const guint8 *key, GError **error)
{
  g_autoptr (GBytes) ad = associated_data (serial);
  guint8 *out;
  unsigned long long ciphertext_length = 0;

  if (!require_kek (db, error))
    return NULL;
  out = g_malloc (WRAPPED_BYTES);
  randombytes_buf (out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  crypto_aead_xchacha20poly1305_ietf_encrypt (out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &ciphertext_length,
                                              key, THECAL_PAIRING_KEY_BYTES,
                                              g_bytes_get_data (ad, NULL), g_bytes_get_size (ad),
                                              NULL, out, db->kek);
  g_assert (ciphertext_length == THECAL_PAIRING_KEY_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  return g_bytes_new_take (out, WRAPPED_BYTES);
}

GBytes *
_thecal_record_unwrap_key (ThecalRecordDb *db, const char *serial, const void *wrapped, gsize length, GError **error)
{
  g_autoptr (GBytes) ad = associated_data (serial);
  const guint8 *bytes = wrapped;
  guint8 *key;
  unsigned long long key_length = 0;

  if (!require_kek (db, error))
    return NULL;
  key = g_malloc (THECAL_PAIRING_KEY_BYTES);
  /* On failure the output is garbage (TESTING.md): check the result before anything else. */
  if (length != WRAPPED_BYTES
      || crypto_aead_xchacha20poly1305_ietf_decrypt (key, &key_length, NULL,
                                                     bytes + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                     length - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                     g_bytes_get_data (ad, NULL), g_bytes_get_size (ad),
                                                     bytes, db->kek)
             != 0
      || key_length != THECAL_PAIRING_KEY_BYTES)
    {
      wipe_and_free (key);
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_KEY,
                   _ ("The pairing key of pump %s does not unwrap with the clinic key: it was altered, "
                      "or belongs to another pump."),
                   serial);
      return NULL;
    }
  return g_bytes_new_with_free_func (key, THECAL_PAIRING_KEY_BYTES, wipe_and_free, key);
}
