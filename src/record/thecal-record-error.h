/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-error.h: the error domain of the patient record.
 *
 * Every SQLite error is mapped in one function (thecal-record-error.c) to one of these codes,
 * with a message a clinician can act on ("The disk is full: nothing was saved."). Cancellation
 * is G_IO_ERROR_CANCELLED.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define THECAL_DB_ERROR (thecal_db_error_quark ())
GQuark thecal_db_error_quark (void);

typedef enum
{
  THECAL_DB_ERROR_FAILED = 0,   /* anything else (the message says what) */
  THECAL_DB_ERROR_CONSTRAINT,   /* the record's rules refuse the write (append-only, unique...) */
  THECAL_DB_ERROR_FULL,         /* no space left: nothing was saved */
  THECAL_DB_ERROR_CORRUPT,      /* the file is damaged */
  THECAL_DB_ERROR_IOERR,        /* the operating system could not read or write the file */
  THECAL_DB_ERROR_READONLY,     /* the file (or its folder) cannot be written */
  THECAL_DB_ERROR_BUSY,         /* another program holds the record */
  THECAL_DB_ERROR_CANT_OPEN,    /* the file cannot be opened or created */
  THECAL_DB_ERROR_NOT_A_RECORD, /* an SQLite file, or something else, that is not a Thecal record */
  THECAL_DB_ERROR_TOO_NEW,      /* written by a newer Thecal: refused, left untouched */
  THECAL_DB_ERROR_NO_RECORD,    /* there is no record at this path (and none was to be created) */
  THECAL_DB_ERROR_MIGRATION,    /* a schema migration failed: rolled back, file as it was */
  THECAL_DB_ERROR_NOT_FOUND,    /* no such patient, pump, user, session... */
  THECAL_DB_ERROR_EXISTS,       /* a patient with this MRN, a pump with this serial... exists */
  THECAL_DB_ERROR_INVALID,      /* bad input (the message names the field and the value) */
  THECAL_DB_ERROR_AUTH_FAILED,  /* unknown user or wrong password */
  THECAL_DB_ERROR_LOCKED_OUT,   /* too many failed logins: an administrator must unlock */
  THECAL_DB_ERROR_FIRST_RUN,    /* the record has no user yet: create the first administrator */
  THECAL_DB_ERROR_KEY,          /* the clinic key file is missing or does not fit this record */
  THECAL_DB_ERROR_DEMO,         /* a demo user outside a demo record, or the reverse */
  THECAL_DB_ERROR_STATE,        /* not allowed now (e.g. resolving an outcome that is final) */
} ThecalDbError;

G_END_DECLS
