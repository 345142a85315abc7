/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-error.c: THECAL_DB_ERROR and the one function that maps SQLite's result codes
 * to it (STYLE.md §5, §9.2; tinysparql's tracker-db-interface-sqlite.c does the same).
 *
 * The messages are for the clinician in front of the screen: what happened, and whether anything
 * was saved. For a write the answer is always "nothing was saved": SQLite rolls the transaction
 * back, and the record's thread rolls back whatever is left.
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

#include "thecal-record-private.h"

G_DEFINE_QUARK (thecal - db - error - quark, thecal_db_error)

/* The disk-full errnos: ENOSPC (no space), EDQUOT (quota), EFBIG (file size limit). */
static gboolean
errno_means_full (int system_errno)
{
  return system_errno == ENOSPC || system_errno == EDQUOT || system_errno == EFBIG;
}

/* A write failed and SQLite lost the errno (it reports the thread's errno of a later moment):
 * is the disk, or the file size allowed to this process, exhausted? Then it is a full disk for
 * the person in front of the screen, not a broken one. */
#define NEARLY_FULL_BYTES (256 * 1024)

static gboolean
file_near_limit (const char *path, rlim_t limit)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 && (rlim_t) st.st_size + NEARLY_FULL_BYTES >= limit;
}

static const char *
diagnose_write_failure (const char *path)
{
  g_autofree char *dir = NULL;
  g_autofree char *wal = NULL;
  struct statvfs fs;
  struct rlimit limit;

  if (path == NULL)
    return NULL;
  dir = g_path_get_dirname (path);
  if (statvfs (dir, &fs) == 0 && (guint64) fs.f_bavail * fs.f_frsize < NEARLY_FULL_BYTES)
    return _ ("The disk is full");
  wal = g_strconcat (path, "-wal", NULL);
  if (getrlimit (RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
      && (file_near_limit (path, limit.rlim_cur) || file_near_limit (wal, limit.rlim_cur)))
    return _ ("The record file has reached the largest size this system allows it");
  return NULL;
}

gboolean
_thecal_record_sqlite_error_full (sqlite3 *db, const char *path, int rc, ThecalSqliteAction action, GError **error)
{
  gboolean writing = action == THECAL_SQLITE_WRITING;
  int system_errno = db != NULL ? sqlite3_system_errno (db) : 0;
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);
  const char *saved = writing ? _ ("nothing was saved") : _ ("nothing was changed");
  const char *full = NULL;

  /* SQLite's result codes are #defines, not an enum: the switch lists the primary codes that
   * need their own message, and everything else is FAILED with SQLite's own text. */
  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FULL,
                   _ ("The disk is full: %s. Free some space and try again."), saved);
      break;
    case SQLITE_IOERR:
      if (system_errno == 0 && writing && (full = diagnose_write_failure (path)) != NULL)
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FULL,
                     _ ("%s: %s. Free some space and try again."), full, saved);
      else if (errno_means_full (system_errno))
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FULL,
                     _ ("The disk is full (%s): %s. Free some space and try again."),
                     g_strerror (system_errno), saved);
      else if (system_errno == EROFS || system_errno == EACCES || system_errno == EPERM)
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY,
                     _ ("The record file cannot be written (%s): %s."), g_strerror (system_errno), saved);
      else
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_IOERR,
                     _ ("The record file could not be read or written (%s): %s. Check the disk and try again."),
                     system_errno != 0 ? g_strerror (system_errno) : detail, saved);
      break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      /* While a file is inspected before it is accepted, nothing has been written to it. */
      if (action == THECAL_SQLITE_INSPECTING && (rc & 0xff) == SQLITE_NOTADB)
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_A_RECORD,
                     _ ("%s is not a Thecal patient record: Thecal did not change it."), path);
      else if (action == THECAL_SQLITE_INSPECTING)
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CORRUPT,
                     _ ("The record file %s is damaged: Thecal did not change it. Restore it from a backup and "
                        "tell the clinic's administrator."),
                     path);
      else
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CORRUPT,
                     _ ("The record file is damaged (%s): %s. Restore it from a backup and tell the "
                        "clinic's administrator."),
                     detail, saved);
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY,
                   _ ("The record file is read-only: %s."), saved);
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_BUSY,
                   _ ("The record is in use by another program: %s. Try again in a moment."), saved);
      break;
    case SQLITE_CANTOPEN:
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CANT_OPEN,
                   _ ("The record file cannot be opened (%s)."),
                   system_errno != 0 ? g_strerror (system_errno) : detail);
      break;
    case SQLITE_CONSTRAINT:
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CONSTRAINT,
                   _ ("The record refused this change (%s): %s."), detail, saved);
      break;
    case SQLITE_INTERRUPT:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("Cancelled: %s."), saved);
      break;
    case SQLITE_NOMEM:
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FAILED,
                   _ ("Out of memory: %s."), saved);
      break;
    default:
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FAILED,
                   _ ("The record reported an error (%s): %s."), detail, saved);
      break;
    }
  return FALSE;
}

gboolean
_thecal_record_sqlite_error (ThecalRecordDb *db, int rc, GError **error)
{
  return _thecal_record_sqlite_error_full (db->db, db->path, rc,
                                           db->inspecting ? THECAL_SQLITE_INSPECTING
                                           : db->writing  ? THECAL_SQLITE_WRITING
                                                          : THECAL_SQLITE_READING,
                                           error);
}
