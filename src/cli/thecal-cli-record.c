/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-record.c: user, patient, pump, history, audit and export (docs/cli.md,
 * docs/record.md, docs/security.md).
 *
 * Every command opens the record (--db, default thecal_record_default_path ()), logs in through
 * src/workflow and calls the session's _sync operations: the same permission checks and audit
 * entries as the GUI. Exit codes are those of every thecal-cli command: 1 for a refusal (a
 * permission, a failed login, a broken audit chain), 2 for bad input, 3 when the record file
 * cannot be used (missing, damaged, too new, full, read-only...).
 */
#include "config.h"

#include "thecal-cli-record.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "thecal-cli-pump.h"
#include "thecal-dose-json.h"
#include "thecal-record-session.h"
#include "thecal-patient-status.h"

/* ---- Shared: options, the record, logging in, errors ------------------------------------------ */

/* Every option's text is read as bytes (G_OPTION_ARG_FILENAME), never converted through the
 * locale's character set: "MÜLLER" is the same under LC_ALL=C. The record checks that what it
 * stores is UTF-8. */
typedef struct
{
  char *db;
  char *user;
} RecordOptions;

static void
record_options_clear (RecordOptions *options)
{
  g_clear_pointer (&options->db, g_free);
  g_clear_pointer (&options->user, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RecordOptions, record_options_clear)

#define OPTION_DB(options)                                                                    \
  {                                                                                           \
    "db", 0, 0, G_OPTION_ARG_FILENAME, &(options).db,                                         \
        N_ ("The patient record (default: ~/.local/share/thecal/record.sqlite)"), N_ ("FILE") \
  }
#define OPTION_USER(options)                                                                      \
  {                                                                                               \
    "user", 'u', 0, G_OPTION_ARG_FILENAME, &(options).user,                                       \
        N_ ("Log in as NAME (the password is asked, or read from $THECAL_PASSWORD)"), N_ ("NAME") \
  }

static const char no_terminal[] = N_ ("there is no terminal to ask the password on: set $THECAL_PASSWORD (and "
                                      "$THECAL_NEW_PASSWORD for a new one) in scripts");

static const char login_description[] = N_ ("The password is asked on the terminal without echo; scripts may set $THECAL_PASSWORD "
                                            "(and $THECAL_NEW_PASSWORD for a new password) instead.");

/* A record error as thecal-cli reports it. TRUE when it was a refusal (exit 1, said on stderr
 * through @out); FALSE with @cli_error set otherwise (bad input: exit 2; the file: exit 3). */
static gboolean
report_error (ThecalCliOutput *out, const GError *error, GError **cli_error)
{
  if (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED)
      || g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_AUTH_FAILED)
      || g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_LOCKED_OUT))
    {
      thecal_cli_refuse (out, "%s", error->message);
      return TRUE;
    }
  if (error->domain == THECAL_DB_ERROR)
    switch ((ThecalDbError) error->code)
      {
      case THECAL_DB_ERROR_NOT_FOUND:
      case THECAL_DB_ERROR_EXISTS:
      case THECAL_DB_ERROR_INVALID:
      case THECAL_DB_ERROR_DEMO:
      case THECAL_DB_ERROR_STATE:
      case THECAL_DB_ERROR_FIRST_RUN:
        g_set_error_literal (cli_error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, error->message);
        return FALSE;
      case THECAL_DB_ERROR_FAILED:
      case THECAL_DB_ERROR_CONSTRAINT:
      case THECAL_DB_ERROR_FULL:
      case THECAL_DB_ERROR_CORRUPT:
      case THECAL_DB_ERROR_IOERR:
      case THECAL_DB_ERROR_READONLY:
      case THECAL_DB_ERROR_BUSY:
      case THECAL_DB_ERROR_CANT_OPEN:
      case THECAL_DB_ERROR_NOT_A_RECORD:
      case THECAL_DB_ERROR_TOO_NEW:
      case THECAL_DB_ERROR_NO_RECORD:
      case THECAL_DB_ERROR_MIGRATION:
      case THECAL_DB_ERROR_AUTH_FAILED:
      case THECAL_DB_ERROR_LOCKED_OUT:
      case THECAL_DB_ERROR_KEY:
      default:
        break;
      }
  g_set_error_literal (cli_error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, error->message);
  return FALSE;
}

/* Password hashing limits: $THECAL_PWHASH_LIMITS=min is for tests only (docs/security.md). */
static ThecalRecordOpenFlags
hash_flags (void)
{
  return g_strcmp0 (g_getenv ("THECAL_PWHASH_LIMITS"), "min") == 0 ? THECAL_RECORD_OPEN_FAST_HASH : 0;
}

static ThecalRecord *
open_record (ThecalCliOutput *out, const RecordOptions *options, ThecalRecordOpenFlags flags, GError **error)
{
  g_autofree char *path = options->db != NULL ? g_strdup (options->db) : thecal_record_default_path ();
  g_autoptr (GError) local_error = NULL;
  ThecalRecord *record = thecal_record_open_sync (path, flags | hash_flags (), NULL, &local_error);

  if (record == NULL)
    {
      if (g_error_matches (local_error, THECAL_DB_ERROR, THECAL_DB_ERROR_NO_RECORD))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO,
                       _ ("%s Create it with “thecal-cli --db %s user add NAME” (the first administrator)."),
                       local_error->message, path);
          return NULL;
        }
      report_error (out, local_error, error);
      return NULL;
    }
  thecal_cli_json_string (out->json, "record", path);
  thecal_cli_json_bool (out->json, "demo", thecal_record_is_demo (record));
  return record;
}

static char *
login_password (const char *name, GError **error)
{
  const char *from_env = g_getenv ("THECAL_PASSWORD");
  g_autofree char *prompt = NULL;

  if (from_env != NULL)
    return g_strdup (from_env);
  prompt = g_strdup_printf (_ ("Password for %s: "), name);
  return thecal_cli_prompt_password (prompt, _ (no_terminal), error);
}

/* A new password: $THECAL_NEW_PASSWORD, or asked twice. */
static char *
new_password (const char *name, GError **error)
{
  const char *from_env = g_getenv ("THECAL_NEW_PASSWORD");
  g_autofree char *prompt = NULL;
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;

  if (from_env != NULL)
    return g_strdup (from_env);
  prompt = g_strdup_printf (_ ("New password for %s: "), name);
  first = thecal_cli_prompt_password (prompt, _ (no_terminal), error);
  if (first == NULL)
    return NULL;
  again = thecal_cli_prompt_password (_ ("The same again: "), _ (no_terminal), error);
  if (again == NULL)
    return NULL;
  if (!g_str_equal (first, again))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("the two passwords differ: nothing was changed"));
      return NULL;
    }
  return g_steal_pointer (&first);
}

/* Opens the record and logs --user in. NULL with *@refused set when the login was refused
 * (exit 1, already said), or with @error set. */
static ThecalRecordSession *
log_in (ThecalCliOutput *out, const RecordOptions *options, gboolean *refused, GError **error)
{
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (GError) local_error = NULL;
  char *password;
  ThecalRecordSession *session;

  *refused = FALSE;
  if (!thecal_cli_require ("user", options->user, "--user nina", error))
    return NULL;
  record = open_record (out, options, THECAL_RECORD_OPEN_DEFAULT, error);
  if (record == NULL)
    return NULL;
  password = login_password (options->user, error);
  if (password == NULL)
    return NULL;
  session = thecal_record_session_login_sync (record, options->user, password, NULL, &local_error);
  thecal_cli_wipe_secret (password);
  if (session == NULL)
    {
      *refused = report_error (out, local_error, error);
      return NULL;
    }
  thecal_cli_json_string (out->json, "user", thecal_record_session_get_user (session)->name);
  return session;
}

/* "2026-11-22T09:06:00Z" */
static const char *
utc_text (ThecalCliOutput *out, gint64 utc_ms)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (utc_ms / 1000);
  g_autofree char *text = time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");

  return thecal_cli_strdup (out, text);
}

/* Exactly one positional argument, named @what in the message. */
static gboolean
one_argument (const char *command, char **positional, const char *what, GError **error)
{
  if (positional[0] == NULL || positional[1] != NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: give one %s (see “thecal-cli %s --help”)"), command, what, command);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_limit (const char *option, const char *text, gint64 fallback, gint64 *value, GError **error)
{
  guint64 parsed = 0;

  if (text == NULL)
    {
      *value = fallback;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT32, &parsed, NULL))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--%s “%s” is not a whole number from 1 on"), option, text);
      return FALSE;
    }
  *value = (gint64) parsed;
  return TRUE;
}

/* Creates the export file @path (0600; an existing file is never overwritten) before anything is
 * exported, so an export that cannot be written is not made (nor audited). -1 with @error. */
static int
create_output (const char *path, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  int saved_errno = errno;

  if (fd < 0)
    g_set_error (error, THECAL_CLI_ERROR, saved_errno == EEXIST ? THECAL_CLI_ERROR_USAGE : THECAL_CLI_ERROR_IO,
                 _ ("cannot write %s: %s%s"), path, g_strerror (saved_errno),
                 saved_errno == EEXIST ? _ (" (an export never overwrites a file)") : "");
  return fd;
}

/* Writes @text into the file of create_output () and closes it; on failure removes it. */
static gboolean
finish_output (int fd, const char *path, const char *text, gsize length, GError **error)
{
  gboolean ok = write (fd, text, length) == (ssize_t) length && fsync (fd) == 0;
  int saved_errno = errno;

  close (fd);
  if (!ok)
    {
      g_unlink (path);
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, _ ("cannot write %s: %s"), path,
                   g_strerror (saved_errno));
    }
  return ok;
}

/* An export that was not made: its empty file goes. */
static void
abandon_output (int fd, const char *path)
{
  if (fd >= 0)
    {
      close (fd);
      g_unlink (path);
    }
}

/* ---- JSON and text of the record's types ------------------------------------------------------ */

static void
json_user (cJSON *object, const ThecalUser *user)
{
  thecal_cli_json_string (object, "name", user->name);
  thecal_cli_json_string (object, "full_name", user->full_name);
  thecal_cli_json_string (object, "role", thecal_role_name (user->role));
  thecal_cli_json_bool (object, "locked", user->locked);
  thecal_cli_json_int (object, "failed_attempts", user->failed_attempts);
}

static void
json_patient (cJSON *object, const ThecalPatient *patient)
{
  thecal_cli_json_string (object, "mrn", patient->mrn);
  thecal_cli_json_string (object, "name", patient->name);
  thecal_cli_json_string (object, "date_of_birth", patient->date_of_birth);
  thecal_cli_json_string (object, "opioid_tolerance", thecal_opioid_tolerance_name (patient->opioid_tolerance));
  thecal_cli_json_string (object, "notes", patient->notes);
  thecal_cli_json_int (object, "version_id", patient->version_id);
  if (patient->supersedes != 0)
    thecal_cli_json_int (object, "supersedes", patient->supersedes);
  thecal_cli_json_string (object, "reason", patient->reason);
  thecal_cli_json_int (object, "recorded_utc_ms", patient->recorded_utc_ms);
  thecal_cli_json_string (object, "recorded_by", patient->recorded_by);
}

static void
json_pump (cJSON *object, const ThecalPump *pump)
{
  thecal_cli_json_string (object, "serial", pump->serial);
  thecal_cli_json_string (object, "model", pump->model_id);
  thecal_cli_json_string (object, "patient_mrn", pump->patient_mrn);
  thecal_cli_json_string (object, "implant_date", pump->implant_date);
  thecal_cli_json_quantity (object, "catheter_length", THECAL_QUANTITY_LENGTH, pump->catheter_length_mm);
  thecal_cli_json_string (object, "status", thecal_pump_status_name (pump->status));
  thecal_cli_json_string (object, "explant_date", pump->explant_date);
  thecal_cli_json_int (object, "version_id", pump->version_id);
  if (pump->supersedes != 0)
    thecal_cli_json_int (object, "supersedes", pump->supersedes);
  thecal_cli_json_string (object, "reason", pump->reason);
  thecal_cli_json_int (object, "recorded_utc_ms", pump->recorded_utc_ms);
  thecal_cli_json_string (object, "recorded_by", pump->recorded_by);
}

static const char *
patient_line (ThecalCliOutput *out, const ThecalPatient *patient)
{
  g_autofree char *line = g_strdup_printf ("%-12s %-30s %s  %s", patient->mrn, patient->name, patient->date_of_birth,
                                           patient->opioid_tolerance == THECAL_OPIOID_TOLERANT ? _ ("opioid-tolerant")
                                                                                               : _ ("opioid-naive"));

  return thecal_cli_strdup (out, line);
}

static void
print_patient (ThecalCliOutput *out, const ThecalPatient *patient)
{
  thecal_cli_print (out, _ ("Patient %s: %s\n"), patient->mrn, patient->name);
  thecal_cli_print (out, _ ("  Born: %s\n"), patient->date_of_birth);
  thecal_cli_print (out, _ ("  Opioid tolerance: %s\n"),
                    patient->opioid_tolerance == THECAL_OPIOID_TOLERANT ? _ ("opioid-tolerant") : _ ("opioid-naive"));
  if (patient->notes[0] != '\0')
    thecal_cli_print (out, _ ("  Notes: %s\n"), patient->notes);
  thecal_cli_print (out, _ ("  Recorded %s by %s%s%s\n"), utc_text (out, patient->recorded_utc_ms), patient->recorded_by,
                    patient->reason != NULL ? _ (", correcting an earlier version: ") : "",
                    patient->reason != NULL ? patient->reason : "");
}

static void
print_pump (ThecalCliOutput *out, const ThecalPump *pump)
{
  thecal_cli_print (out, _ ("Pump %s (%s) of patient %s\n"), pump->serial, pump->model_id, pump->patient_mrn);
  thecal_cli_print (out, _ ("  Implanted: %s, catheter %s implanted\n"), pump->implant_date,
                    thecal_cli_q (out, THECAL_QUANTITY_LENGTH, pump->catheter_length_mm));
  if (pump->status == THECAL_PUMP_EXPLANTED)
    thecal_cli_print (out, _ ("  Explanted: %s\n"), pump->explant_date);
  thecal_cli_print (out, _ ("  Recorded %s by %s%s%s\n"), utc_text (out, pump->recorded_utc_ms), pump->recorded_by,
                    pump->reason != NULL ? ": " : "", pump->reason != NULL ? pump->reason : "");
}

/* ---- user ------------------------------------------------------------------------------------- */

static gboolean
user_add (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *role_text = NULL;
  g_autofree char *full_name = NULL;
  gboolean demo = FALSE;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "role", 'r', 0, G_OPTION_ARG_FILENAME, &role_text,
      N_ ("physician, nurse, administrator or demo (default on a new record: administrator)"), N_ ("ROLE") },
    { "full-name", 0, 0, G_OPTION_ARG_FILENAME, &full_name, N_ ("The name printed beside the user's entries"), N_ ("TEXT") },
    { "demo", 0, 0, G_OPTION_ARG_NONE, &demo, N_ ("Create a demo record (only when the record is created)"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalUser) user = NULL;
  g_autoptr (GError) local_error = NULL;
  ThecalRole role = THECAL_ROLE_ADMINISTRATOR;
  gboolean first_run = FALSE;
  gboolean refused = FALSE;
  char *password;

  if (!thecal_cli_parse_command_line (_ ("NAME"), _ ("Add a user. On a record without users (a new one), this "
                                                     "creates the first administrator, without --user."),
                                      _ (login_description), entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("user name"), error))
    return FALSE;
  if (role_text != NULL && !thecal_role_from_name (role_text, &role))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: unknown role “%s”: use physician, nurse, administrator or demo"), argv[0], role_text);
      return FALSE;
    }
  record = open_record (out, &options,
                        THECAL_RECORD_OPEN_CREATE | (demo ? THECAL_RECORD_OPEN_CREATE_DEMO : 0), error);
  if (record == NULL)
    return FALSE;
  if (demo && !thecal_record_was_created (record))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: --demo makes a new record a demo record; %s exists already"), argv[0],
                   thecal_record_get_path (record));
      return FALSE;
    }
  if (!thecal_record_session_needs_first_run_sync (record, &first_run, NULL, &local_error))
    return report_error (out, local_error, error);

  if (first_run)
    {
      if (role != THECAL_ROLE_ADMINISTRATOR)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("%s: the record has no user yet: the first user is an administrator (--role administrator)"),
                       argv[0]);
          return FALSE;
        }
      password = new_password (positional[0], error);
      if (password == NULL)
        return FALSE;
      session = thecal_record_session_first_run_sync (record, positional[0],
                                                      full_name != NULL ? full_name : positional[0], password, NULL,
                                                      &local_error);
      thecal_cli_wipe_secret (password);
      if (session == NULL)
        return report_error (out, local_error, error);
      user = thecal_user_copy (thecal_record_session_get_user (session));
      thecal_cli_print (out, _ ("Created the first administrator %s (%s) of %s%s.\n"), user->name, user->full_name,
                        thecal_record_get_path (record), thecal_record_is_demo (record) ? _ (", a demo record") : "");
    }
  else
    {
      session = log_in (out, &options, &refused, error);
      if (session == NULL)
        return refused;
      password = new_password (positional[0], error);
      if (password == NULL)
        return FALSE;
      user = thecal_record_session_add_user_sync (session, positional[0], full_name != NULL ? full_name : positional[0],
                                                  role, password, NULL, &local_error);
      thecal_cli_wipe_secret (password);
      if (user == NULL)
        return report_error (out, local_error, error);
      thecal_cli_print (out, _ ("Added the user %s (%s), %s.\n"), user->name, user->full_name,
                        thecal_role_name (user->role));
    }
  thecal_cli_json_bool (out->json, "first_administrator", first_run);
  json_user (thecal_cli_json_object (out->json, "added"), user);
  return TRUE;
}

static gboolean
user_list (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  const GOptionEntry entries[] = { OPTION_DB (options), OPTION_USER (options), G_OPTION_ENTRY_NULL };
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;
  cJSON *array;

  if (!thecal_cli_parse_command_line (NULL, _ ("List the users (administrators only)."), _ (login_description),
                                      entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  users = thecal_record_session_list_users_sync (session, NULL, &local_error);
  if (users == NULL)
    return report_error (out, local_error, error);
  array = thecal_cli_json_array (out->json, "users");
  for (guint i = 0; i < users->len; i++)
    {
      const ThecalUser *user = users->pdata[i];

      thecal_cli_print (out, "%-16s %-14s %-8s %s\n", user->name, thecal_role_name (user->role),
                        user->locked ? _ ("locked") : _ ("active"), user->full_name);
      json_user (thecal_cli_json_append_object (array), user);
    }
  return TRUE;
}

static gboolean
user_passwd (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  const GOptionEntry entries[] = { OPTION_DB (options), OPTION_USER (options), G_OPTION_ENTRY_NULL };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalUser) user = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;
  const char *name;
  char *password;

  if (!thecal_cli_parse_command_line (_ ("[NAME]"), _ ("Change your own password, or (an administrator) set "
                                                       "another user's, which also unlocks the account."),
                                      _ (login_description), entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (positional[0] != NULL && positional[1] != NULL)
    return one_argument (argv[0], positional, _ ("user name"), error);
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  name = positional[0] != NULL ? positional[0] : thecal_record_session_get_user (session)->name;
  password = new_password (name, error);
  if (password == NULL)
    return FALSE;
  user = thecal_record_session_set_password_sync (session, name, password, NULL, &local_error);
  thecal_cli_wipe_secret (password);
  if (user == NULL)
    return report_error (out, local_error, error);
  thecal_cli_print (out, _ ("The password of %s was changed.\n"), user->name);
  json_user (thecal_cli_json_object (out->json, "changed"), user);
  return TRUE;
}

static gboolean
user_unlock (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  const GOptionEntry entries[] = { OPTION_DB (options), OPTION_USER (options), G_OPTION_ENTRY_NULL };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalUser) user = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;

  if (!thecal_cli_parse_command_line (_ ("NAME"), _ ("Unlock an account locked after repeated failed logins "
                                                     "(administrators only)."),
                                      _ (login_description), entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("user name"), error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  user = thecal_record_session_unlock_user_sync (session, positional[0], NULL, &local_error);
  if (user == NULL)
    return report_error (out, local_error, error);
  thecal_cli_print (out, _ ("The account %s is unlocked.\n"), user->name);
  json_user (thecal_cli_json_object (out->json, "unlocked"), user);
  return TRUE;
}

static const ThecalCliSubcommand user_subcommands[] = {
  { "add", N_ ("Add a user (on a new record: the first administrator)"), user_add },
  { "list", N_ ("List the users"), user_list },
  { "passwd", N_ ("Change a password"), user_passwd },
  { "unlock", N_ ("Unlock a locked account"), user_unlock },
};

gboolean
thecal_cli_user (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  return thecal_cli_dispatch ("user", _ ("The users of the patient record and their roles (docs/security.md)."), NULL,
                              user_subcommands, G_N_ELEMENTS (user_subcommands), out, argc, argv, error);
}

/* ---- patient ---------------------------------------------------------------------------------- */

static gboolean
parse_tolerance (const char *command, const char *text, ThecalOpioidTolerance *tolerance, GError **error)
{
  if (text != NULL && !thecal_opioid_tolerance_from_name (text, tolerance))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: --opioid “%s”: use naive or tolerant"), command, text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
patient_add (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *mrn = NULL;
  g_autofree char *name = NULL;
  g_autofree char *born = NULL;
  g_autofree char *opioid = NULL;
  g_autofree char *notes = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "mrn", 0, 0, G_OPTION_ARG_FILENAME, &mrn, N_ ("Medical record number"), N_ ("MRN") },
    { "name", 0, 0, G_OPTION_ARG_FILENAME, &name, N_ ("Name, as the clinic writes it"), N_ ("TEXT") },
    { "born", 0, 0, G_OPTION_ARG_FILENAME, &born, N_ ("Date of birth"), N_ ("YYYY-MM-DD") },
    { "opioid", 0, 0, G_OPTION_ARG_FILENAME, &opioid, N_ ("naive (default: the safe side) or tolerant"), N_ ("TOLERANCE") },
    { "notes", 0, 0, G_OPTION_ARG_FILENAME, &notes, N_ ("Notes"), N_ ("TEXT") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (GError) local_error = NULL;
  ThecalPatientInput input = { 0 };
  gboolean refused = FALSE;

  if (!thecal_cli_parse_command_line (NULL, _ ("Add a patient."), _ (login_description), entries, out, argc, argv,
                                      NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("mrn", mrn, "--mrn MRN-0001", error)
      || !thecal_cli_require ("name", name, "--name \"DOE, Jane\"", error)
      || !thecal_cli_require ("born", born, "--born 1961-04-12", error))
    return FALSE;
  input.opioid_tolerance = THECAL_OPIOID_NAIVE;
  if (!parse_tolerance (argv[0], opioid, &input.opioid_tolerance, error))
    return FALSE;
  input.mrn = mrn;
  input.name = name;
  input.date_of_birth = born;
  input.notes = notes;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  patient = thecal_record_session_add_patient_sync (session, &input, NULL, &local_error);
  if (patient == NULL)
    return report_error (out, local_error, error);
  thecal_cli_print (out, _ ("Added patient %s: %s (born %s, %s).\n"), patient->mrn, patient->name,
                    patient->date_of_birth,
                    patient->opioid_tolerance == THECAL_OPIOID_TOLERANT ? _ ("opioid-tolerant") : _ ("opioid-naive"));
  json_patient (thecal_cli_json_object (out->json, "patient"), patient);
  return TRUE;
}

static void
report_patients (ThecalCliOutput *out, GPtrArray *patients, const char *none)
{
  cJSON *array = thecal_cli_json_array (out->json, "patients");

  if (patients->len == 0)
    thecal_cli_print (out, "%s\n", none);
  for (guint i = 0; i < patients->len; i++)
    {
      thecal_cli_print (out, "%s\n", patient_line (out, patients->pdata[i]));
      json_patient (thecal_cli_json_append_object (array), patients->pdata[i]);
    }
}

static gboolean
patient_list (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *limit_text = NULL;
  g_autofree char *offset_text = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "limit", 0, 0, G_OPTION_ARG_FILENAME, &limit_text, N_ ("At most N patients (default 100)"), N_ ("N") },
    { "offset", 0, 0, G_OPTION_ARG_FILENAME, &offset_text, N_ ("Skip the first N"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (GPtrArray) patients = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;
  gint64 limit = 0;
  gint64 offset = 0;

  if (!thecal_cli_parse_command_line (NULL, _ ("List the patients by medical record number."), _ (login_description),
                                      entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!parse_limit ("limit", limit_text, 100, &limit, error))
    return FALSE;
  if (offset_text != NULL && !parse_limit ("offset", offset_text, 0, &offset, error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  patients = thecal_record_session_list_patients_sync (session, offset, limit, NULL, &local_error);
  if (patients == NULL)
    return report_error (out, local_error, error);
  report_patients (out, patients, _ ("No patients."));
  return TRUE;
}

static gboolean
patient_show (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  const GOptionEntry entries[] = { OPTION_DB (options), OPTION_USER (options), G_OPTION_ENTRY_NULL };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (GPtrArray) pumps = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;
  cJSON *array;

  if (!thecal_cli_parse_command_line (_ ("MRN"), _ ("Show a patient and their pumps."), _ (login_description), entries,
                                      out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("medical record number"), error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  patient = thecal_record_session_get_patient_sync (session, positional[0], NULL, &local_error);
  if (patient == NULL)
    return report_error (out, local_error, error);
  print_patient (out, patient);
  json_patient (thecal_cli_json_object (out->json, "patient"), patient);
  /* The pumps only when the role may see them (every clinical role may). */
  if (thecal_record_session_may (session, THECAL_PERMISSION_PUMP_READ))
    {
      pumps = thecal_record_session_list_pumps_sync (session, positional[0], NULL, &local_error);
      if (pumps == NULL)
        return report_error (out, local_error, error);
      array = thecal_cli_json_array (out->json, "pumps");
      for (guint i = 0; i < pumps->len; i++)
        {
          const ThecalPump *pump = pumps->pdata[i];

          thecal_cli_print (out, _ ("  Pump %s (%s), implanted %s, %s\n"), pump->serial, pump->model_id,
                            pump->implant_date,
                            pump->status == THECAL_PUMP_EXPLANTED ? _ ("explanted") : _ ("in place"));
          json_pump (thecal_cli_json_append_object (array), pump);
        }
    }
  return TRUE;
}

static gboolean
patient_search (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *limit_text = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "limit", 0, 0, G_OPTION_ARG_FILENAME, &limit_text, N_ ("At most N patients (default 20)"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (GPtrArray) patients = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = NULL;
  gboolean refused = FALSE;
  gint64 limit = 0;

  if (!thecal_cli_parse_command_line (_ ("TEXT…"), _ ("Find patients by the start of a medical record number or of "
                                                      "words of the name (case and accents ignored)."),
                                      _ (login_description), entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (positional[0] == NULL)
    return one_argument (argv[0], positional, _ ("text to search for"), error);
  if (!parse_limit ("limit", limit_text, 20, &limit, error))
    return FALSE;
  text = g_strjoinv (" ", positional);
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  patients = thecal_record_session_search_patients_sync (session, text, limit, NULL, &local_error);
  if (patients == NULL)
    return report_error (out, local_error, error);
  thecal_cli_json_string (out->json, "search", text);
  report_patients (out, patients, _ ("No patient found."));
  return TRUE;
}

static gboolean
patient_correct (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *name = NULL;
  g_autofree char *born = NULL;
  g_autofree char *opioid = NULL;
  g_autofree char *notes = NULL;
  g_autofree char *reason = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "name", 0, 0, G_OPTION_ARG_FILENAME, &name, N_ ("The right name"), N_ ("TEXT") },
    { "born", 0, 0, G_OPTION_ARG_FILENAME, &born, N_ ("The right date of birth"), N_ ("YYYY-MM-DD") },
    { "opioid", 0, 0, G_OPTION_ARG_FILENAME, &opioid, N_ ("naive or tolerant"), N_ ("TOLERANCE") },
    { "notes", 0, 0, G_OPTION_ARG_FILENAME, &notes, N_ ("The notes as they should read"), N_ ("TEXT") },
    { "reason", 0, 0, G_OPTION_ARG_FILENAME, &reason, N_ ("Why the correction (required)"), N_ ("TEXT") },
    G_OPTION_ENTRY_NULL
  };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPatient) current = NULL;
  g_autoptr (ThecalPatient) corrected = NULL;
  g_autoptr (GError) local_error = NULL;
  ThecalPatientInput input = { 0 };
  gboolean refused = FALSE;

  if (!thecal_cli_parse_command_line (_ ("MRN"), _ ("Correct a patient's details: a new version supersedes the "
                                                    "current one, which stays in the record."),
                                      _ (login_description), entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("medical record number"), error)
      || !thecal_cli_require ("reason", reason, "--reason \"name misspelt at registration\"", error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  current = thecal_record_session_get_patient_sync (session, positional[0], NULL, &local_error);
  if (current == NULL)
    return report_error (out, local_error, error);
  input.name = name != NULL ? name : current->name;
  input.date_of_birth = born != NULL ? born : current->date_of_birth;
  input.opioid_tolerance = current->opioid_tolerance;
  if (!parse_tolerance (argv[0], opioid, &input.opioid_tolerance, error))
    return FALSE;
  input.notes = notes != NULL ? notes : current->notes;
  corrected = thecal_record_session_correct_patient_sync (session, positional[0], &input, reason, NULL, &local_error);
  if (corrected == NULL)
    return report_error (out, local_error, error);
  thecal_cli_print (out, _ ("Corrected patient %s; the earlier version is kept.\n"), corrected->mrn);
  print_patient (out, corrected);
  json_patient (thecal_cli_json_object (out->json, "patient"), corrected);
  return TRUE;
}

static const ThecalCliSubcommand patient_subcommands[] = {
  { "add", N_ ("Add a patient"), patient_add },
  { "list", N_ ("List the patients"), patient_list },
  { "show", N_ ("Show a patient"), patient_show },
  { "search", N_ ("Find patients by record number or name"), patient_search },
  { "correct", N_ ("Correct a patient's details"), patient_correct },
};

gboolean
thecal_cli_patient (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  return thecal_cli_dispatch ("patient", _ ("The patients of the record."), NULL, patient_subcommands,
                              G_N_ELEMENTS (patient_subcommands), out, argc, argv, error);
}

/* ---- pump ------------------------------------------------------------------------------------- */

/* The key file: the pairing key's text as thecal_pairing_key_parse reads it (src/record). */
static gboolean
read_pairing_key (const char *path, guint8 key[THECAL_PAIRING_KEY_BYTES], GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;
  gsize length = 0;
  gboolean ok;

  if (!thecal_cli_read_file (path, &contents, &length, error))
    return FALSE;
  ok = thecal_pairing_key_parse (contents, key, &local_error);
  memset (contents, 0, length);
  if (!ok)
    g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--pairing-key-file %s: %s"), path, local_error->message);
  return ok;
}

static gboolean
pump_add (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *serial = NULL;
  g_autofree char *mrn = NULL;
  g_autofree char *model = NULL;
  g_autofree char *models_path = NULL;
  g_autofree char *implanted = NULL;
  g_autofree char *catheter = NULL;
  g_autofree char *key_file = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "serial", 0, 0, G_OPTION_ARG_FILENAME, &serial, N_ ("Serial number of the pump"), N_ ("SERIAL") },
    { "patient", 0, 0, G_OPTION_ARG_FILENAME, &mrn, N_ ("Medical record number of the patient"), N_ ("MRN") },
    THECAL_CLI_OPTION_PUMP (&model),
    THECAL_CLI_OPTION_MODELS (&models_path),
    { "implanted", 0, 0, G_OPTION_ARG_FILENAME, &implanted, N_ ("Implant date"), N_ ("YYYY-MM-DD") },
    { "catheter-length", 0, 0, G_OPTION_ARG_FILENAME, &catheter, N_ ("Implanted catheter length (e.g. 45 cm)"),
      N_ ("LENGTH") },
    { "pairing-key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file,
      N_ ("The pump's pairing key, 64 hexadecimal digits (default: a new random key)"), N_ ("FILE") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  const ThecalPumpModel *pump_model;
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  ThecalPumpInput input = { 0 };
  gboolean refused = FALSE;
  int64_t catheter_mm = 0;

  if (!thecal_cli_parse_command_line (NULL, _ ("Register a pump implanted in a patient. Its pairing key is stored "
                                               "wrapped by the clinic key (docs/security.md)."),
                                      _ (login_description), entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("serial", serial, "--serial SN-0001", error)
      || !thecal_cli_require ("patient", mrn, "--patient MRN-0001", error)
      || !thecal_cli_require ("implanted", implanted, "--implanted 2024-03-01", error)
      || !thecal_cli_require ("catheter-length", catheter, "--catheter-length \"45 cm\"", error)
      || !thecal_cli_parse_quantity ("catheter-length", catheter, THECAL_QUANTITY_LENGTH, &catheter_mm, error))
    return FALSE;
  pump_model = thecal_cli_load_model (models_path, model, models, error);
  if (pump_model == NULL)
    return FALSE;
  if (key_file != NULL && !read_pairing_key (key_file, key, error))
    return FALSE;
  input.serial = serial;
  input.model_id = pump_model->id;
  input.patient_mrn = mrn;
  input.implant_date = implanted;
  input.catheter_length_mm = catheter_mm;
  input.pairing_key = key_file != NULL ? key : NULL;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    {
      memset (key, 0, sizeof key);
      return refused;
    }
  pump = thecal_record_session_add_pump_sync (session, &input, NULL, &local_error);
  memset (key, 0, sizeof key);
  if (pump == NULL)
    return report_error (out, local_error, error);
  thecal_cli_print (out, _ ("Registered pump %s (%s) for patient %s, implanted %s, catheter %s.\n"), pump->serial,
                    pump->model_id, pump->patient_mrn, pump->implant_date,
                    thecal_cli_q (out, THECAL_QUANTITY_LENGTH, pump->catheter_length_mm));
  json_pump (thecal_cli_json_object (out->json, "pump"), pump);
  return TRUE;
}

static gboolean
pump_list (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *mrn = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "patient", 0, 0, G_OPTION_ARG_FILENAME, &mrn, N_ ("Only this patient's pumps"), N_ ("MRN") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (GPtrArray) pumps = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;
  cJSON *array;

  if (!thecal_cli_parse_command_line (NULL, _ ("List the pumps."), _ (login_description), entries, out, argc, argv, NULL,
                                      error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  pumps = thecal_record_session_list_pumps_sync (session, mrn, NULL, &local_error);
  if (pumps == NULL)
    return report_error (out, local_error, error);
  array = thecal_cli_json_array (out->json, "pumps");
  if (pumps->len == 0)
    thecal_cli_print (out, "%s\n", _ ("No pumps."));
  for (guint i = 0; i < pumps->len; i++)
    {
      const ThecalPump *pump = pumps->pdata[i];

      thecal_cli_print (out, "%-14s %-8s %-12s %s  %s\n", pump->serial, pump->model_id, pump->patient_mrn,
                        pump->implant_date, thecal_pump_status_name (pump->status));
      json_pump (thecal_cli_json_append_object (array), pump);
    }
  return TRUE;
}

static gboolean
pump_show (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  const GOptionEntry entries[] = { OPTION_DB (options), OPTION_USER (options), G_OPTION_ENTRY_NULL };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;

  if (!thecal_cli_parse_command_line (_ ("SERIAL"), _ ("Show a pump."), _ (login_description), entries, out, argc, argv,
                                      &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("pump serial number"), error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  pump = thecal_record_session_get_pump_sync (session, positional[0], NULL, &local_error);
  if (pump == NULL)
    return report_error (out, local_error, error);
  print_pump (out, pump);
  json_pump (thecal_cli_json_object (out->json, "pump"), pump);
  return TRUE;
}

static gboolean
pump_explant (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *date = NULL;
  g_autofree char *reason = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "date", 0, 0, G_OPTION_ARG_FILENAME, &date, N_ ("Explant date"), N_ ("YYYY-MM-DD") },
    { "reason", 0, 0, G_OPTION_ARG_FILENAME, &reason, N_ ("Why (required)"), N_ ("TEXT") },
    G_OPTION_ENTRY_NULL
  };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPump) current = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (GError) local_error = NULL;
  ThecalPumpDetails details = { 0 };
  gboolean refused = FALSE;

  if (!thecal_cli_parse_command_line (_ ("SERIAL"), _ ("Record that a pump was explanted."), _ (login_description),
                                      entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("pump serial number"), error)
      || !thecal_cli_require ("date", date, "--date 2026-06-30", error)
      || !thecal_cli_require ("reason", reason, "--reason \"end of service\"", error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  current = thecal_record_session_get_pump_sync (session, positional[0], NULL, &local_error);
  if (current == NULL)
    return report_error (out, local_error, error);
  details.implant_date = current->implant_date;
  details.catheter_length_mm = current->catheter_length_mm;
  details.status = THECAL_PUMP_EXPLANTED;
  details.explant_date = date;
  pump = thecal_record_session_change_pump_sync (session, positional[0], &details, reason, NULL, &local_error);
  if (pump == NULL)
    return report_error (out, local_error, error);
  thecal_cli_print (out, _ ("Pump %s recorded as explanted on %s.\n"), pump->serial, pump->explant_date);
  json_pump (thecal_cli_json_object (out->json, "pump"), pump);
  return TRUE;
}

static const ThecalCliSubcommand pump_subcommands[] = {
  { "add", N_ ("Register an implanted pump"), pump_add },
  { "list", N_ ("List the pumps"), pump_list },
  { "show", N_ ("Show a pump"), pump_show },
  { "explant", N_ ("Record an explant"), pump_explant },
};

/* "pump" is shared with the telemetry commands of thecal-cli-pump.c (interrogate, program, log):
 * the record's subcommands are handled here, everything else (and its messages) there; the
 * shared --help lists both. */
gboolean
thecal_cli_pump_any (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  gboolean ok;

  for (gsize i = 0; argc >= 2 && i < G_N_ELEMENTS (pump_subcommands); i++)
    if (g_str_equal (argv[1], pump_subcommands[i].name))
      return thecal_cli_dispatch ("pump", _ ("The implanted pumps of the record."), NULL, pump_subcommands,
                                  G_N_ELEMENTS (pump_subcommands), out, argc, argv, error);
  ok = thecal_cli_pump (out, argc, argv, error);
  if (ok && out->help_shown)
    {
      thecal_cli_print (out, _ ("\nThe pumps of the patient record:\n"));
      for (gsize i = 0; i < G_N_ELEMENTS (pump_subcommands); i++)
        thecal_cli_print (out, "  %-13s %s\n", pump_subcommands[i].name, _ (pump_subcommands[i].summary));
      thecal_cli_print (out, _ ("Run “thecal-cli pump add --help” for their options.\n"));
    }
  return ok;
}

/* ---- history and export ----------------------------------------------------------------------- */

/* "morphine 25 mg/mL, continuous 5 mg/day" */
static const char *
prescription_summary (ThecalCliOutput *out, const char *json)
{
  ThecalPrescription rx;
  ThecalDoseError dose_error = { 0 };
  g_autoptr (GString) text = g_string_new (NULL);

  if (json == NULL || !thecal_prescription_load_json (json, strlen (json), &rx, &dose_error))
    return thecal_cli_strdup (out, _ ("(unreadable prescription)"));
  g_string_append_printf (text, "%s %s, %s", rx.drug_id,
                          thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx.concentration_ng_per_ml),
                          thecal_mode_name (rx.mode));
  if (rx.mode == THECAL_MODE_CONTINUOUS)
    g_string_append_printf (text, " %s",
                            rx.continuous.basis == THECAL_BASIS_DOSE
                                ? thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, rx.continuous.dose_ng_per_day)
                                : thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, rx.continuous.rate_nl_per_day));
  else if (rx.mode == THECAL_MODE_FLEX)
    g_string_append_printf (text, _ (", %d steps"), (int) rx.n_flex_steps);
  if (rx.n_periodic_boluses > 0)
    g_string_append_printf (text, _ (", %d periodic boluses"), (int) rx.n_periodic_boluses);
  if (rx.ptm.enabled)
    g_string_append (text, _ (", PTM"));
  return thecal_cli_strdup (out, text->str);
}

typedef struct
{
  gint64 utc_ms;
  guint order;
  const char *kind;
  gint64 id;
  gint64 supersedes;
  const char *by;
  char *text; /* may span lines */
} TimelineItem;

static void
timeline_item_clear (gpointer data)
{
  g_free (((TimelineItem *) data)->text);
}

static gint
compare_items (gconstpointer a, gconstpointer b)
{
  const TimelineItem *x = a;
  const TimelineItem *y = b;

  if (x->utc_ms != y->utc_ms)
    return x->utc_ms < y->utc_ms ? -1 : 1;
  return x->order < y->order ? -1 : (x->order > y->order ? 1 : 0);
}

static void
add_item (GArray *items, gint64 utc_ms, const char *kind, gint64 id, gint64 supersedes, const char *by, char *text)
{
  TimelineItem item = { utc_ms, items->len, kind, id, supersedes, by, text };

  g_array_append_val (items, item);
}

/* Everything of a patient's record as one list in time order (UTC). */
static GArray *
timeline (ThecalCliOutput *out, const ThecalPatientRecord *record)
{
  GArray *items = g_array_new (FALSE, TRUE, sizeof (TimelineItem));

  g_array_set_clear_func (items, timeline_item_clear);
  for (guint i = 0; i < record->patient_versions->len; i++)
    {
      const ThecalPatient *v = record->patient_versions->pdata[i];

      add_item (items, v->recorded_utc_ms, "patient", v->version_id, v->supersedes, v->recorded_by,
                v->supersedes == 0 ? g_strdup_printf (_ ("patient registered: %s, born %s, %s"), v->name, v->date_of_birth,
                                                      thecal_opioid_tolerance_name (v->opioid_tolerance))
                                   : g_strdup_printf (_ ("patient details corrected (%s): %s, born %s, %s%s%s"), v->reason,
                                                      v->name, v->date_of_birth,
                                                      thecal_opioid_tolerance_name (v->opioid_tolerance),
                                                      v->notes[0] != '\0' ? _ ("; notes: ") : "", v->notes));
    }
  for (guint i = 0; i < record->pumps->len; i++)
    {
      const ThecalPump *p = record->pumps->pdata[i];

      add_item (items, p->recorded_utc_ms, "pump", p->version_id, p->supersedes, p->recorded_by,
                p->supersedes == 0
                    ? g_strdup_printf (_ ("pump %s (%s) registered, implanted %s, catheter %s"), p->serial, p->model_id,
                                       p->implant_date, thecal_cli_q (out, THECAL_QUANTITY_LENGTH, p->catheter_length_mm))
                    : g_strdup_printf (_ ("pump %s %s (%s)%s%s"), p->serial,
                                       p->status == THECAL_PUMP_EXPLANTED ? _ ("explanted") : _ ("corrected"), p->reason,
                                       p->explant_date != NULL ? _ (" on ") : "",
                                       p->explant_date != NULL ? p->explant_date : ""));
    }
  for (guint i = 0; i < record->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *r = record->prescriptions->pdata[i];

      add_item (items, r->recorded_utc_ms, "prescription", r->id, r->supersedes, r->recorded_by,
                g_strdup_printf (_ ("prescription %d of pump %s (%s), effective from %s%s: %s%s%s"), r->version,
                                 r->pump_serial, thecal_prescription_source_name (r->source),
                                 utc_text (out, r->effective_from_utc_ms),
                                 r->superseded ? _ (", later corrected") : "", prescription_summary (out, r->json),
                                 r->reason != NULL ? "; " : "", r->reason != NULL ? r->reason : ""));
    }
  for (guint i = 0; i < record->sessions->len; i++)
    {
      const ThecalProgrammingSession *s = record->sessions->pdata[i];
      GString *text = g_string_new (NULL);

      g_string_append_printf (text, _ ("programming session %" G_GINT64_FORMAT " of pump %s (%s): %s — %s"), s->id,
                              s->pump_serial, s->reason, prescription_summary (out, s->new_prescription_json),
                              thecal_programming_outcome_name (s->outcome));
      if (s->outcome != THECAL_OUTCOME_PENDING)
        g_string_append_printf (text, _ (" (%s by %s)"), utc_text (out, s->outcome_utc_ms), s->outcome_by);
      for (guint c = 0; c < s->changes->len; c++)
        {
          const ThecalProgrammingChange *change = s->changes->pdata[c];

          g_string_append_printf (text, "\n      %s: %s → %s", change->field,
                                  change->old_value != NULL ? change->old_value : "—",
                                  change->new_value != NULL ? change->new_value : "—");
          if (change->override_reason != NULL)
            g_string_append_printf (text, _ (" (soft limit overridden: %s)"), change->override_reason);
        }
      add_item (items, s->started_utc_ms, "programming", s->id, 0, s->started_by, g_string_free (text, FALSE));
    }
  for (guint i = 0; i < record->refills->len; i++)
    {
      const ThecalRefill *r = record->refills->pdata[i];

      add_item (items, r->recorded_utc_ms, "refill", r->id, r->supersedes, r->performed_by,
                g_strdup_printf (_ ("refill of pump %s%s, verified by %s: expected %s, aspirated %s, discrepancy %s%s; "
                                    "added %s of %s %s, lot %s, expires %s%s%s"),
                                 r->pump_serial, r->supersedes != 0 ? _ (" (a correction)") : "", r->verified_by,
                                 thecal_cli_q (out, THECAL_QUANTITY_VOLUME, r->expected_nl),
                                 thecal_cli_q (out, THECAL_QUANTITY_VOLUME, r->aspirated_nl),
                                 thecal_cli_q (out, THECAL_QUANTITY_VOLUME, r->discrepancy_nl),
                                 r->discrepancy_flagged ? _ (" (FLAGGED)") : "",
                                 thecal_cli_q (out, THECAL_QUANTITY_VOLUME, r->added_nl), r->drug_id,
                                 thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, r->concentration_ng_per_ml), r->lot,
                                 r->expiry_date, r->reason != NULL ? "; " : "", r->reason != NULL ? r->reason : ""));
    }
  for (guint i = 0; i < record->events->len; i++)
    {
      const ThecalPumpEvent *e = record->events->pdata[i];

      add_item (items, e->imported_utc_ms, "event", e->id, 0, e->imported_by,
                g_strdup_printf (_ ("pump %s event %" G_GINT64_FORMAT ": %s%s%s"),
                                 (const char *) record->event_serials->pdata[i], e->sequence, e->kind,
                                 e->detail[0] != '\0' ? " " : "", e->detail));
    }
  for (guint i = 0; i < record->alarms->len; i++)
    {
      const ThecalAlarmSeen *a = record->alarms->pdata[i];

      add_item (items, a->seen_utc_ms, "alarm", a->id, 0, a->seen_by,
                g_strdup_printf (_ ("alarm seen on pump %s: %s"), a->pump_serial, a->kind));
    }
  g_array_sort (items, compare_items);
  return items;
}

gboolean
thecal_cli_history (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  const GOptionEntry entries[] = { OPTION_DB (options), OPTION_USER (options), G_OPTION_ENTRY_NULL };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPatientRecord) record = NULL;
  g_autoptr (GArray) items = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean refused = FALSE;
  cJSON *array;

  if (!thecal_cli_parse_command_line (_ ("MRN"), _ ("The patient, their pump's status at a glance (the line of the app's patient list) and "
                                                    "everything recorded for them, in time order (UTC)."),
                                      _ (login_description), entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("medical record number"), error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  record = thecal_record_session_get_patient_record_sync (session, positional[0], NULL, &local_error);
  if (record == NULL)
    return report_error (out, local_error, error);
  print_patient (out, record->patient);
  json_patient (thecal_cli_json_object (out->json, "patient"), record->patient);
  /* the line of the app's patient list (src/workflow/thecal-patient-status.h), on this computer's
   * clock; without the pump models file there is no projection, and no line */
  {
    g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
    g_autofree char *status = thecal_cli_load_models (NULL, models, NULL)
                                  ? thecal_patient_status_from_record (record, models, g_get_real_time () / 1000)
                                  : NULL;

    if (status != NULL)
      {
        thecal_cli_print (out, _ ("Pump status: %s\n"), status);
        thecal_cli_json_string (out->json, "pump_status", status);
      }
  }
  thecal_cli_print (out, _ ("History (UTC):\n"));
  items = timeline (out, record);
  array = thecal_cli_json_array (out->json, "history");
  for (guint i = 0; i < items->len; i++)
    {
      const TimelineItem *item = &g_array_index (items, TimelineItem, i);
      cJSON *object = thecal_cli_json_append_object (array);

      thecal_cli_print (out, "  %s  %-12s %s (%s)\n", utc_text (out, item->utc_ms), item->kind, item->text, item->by);
      thecal_cli_json_int (object, "utc_ms", item->utc_ms);
      thecal_cli_json_string (object, "kind", item->kind);
      thecal_cli_json_int (object, "id", item->id);
      if (item->supersedes != 0)
        thecal_cli_json_int (object, "supersedes", item->supersedes);
      thecal_cli_json_string (object, "by", item->by);
      thecal_cli_json_string (object, "text", item->text);
    }
  if (items->len == 0)
    thecal_cli_print (out, _ ("  (nothing recorded)\n"));
  return TRUE;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void
csv_field (GString *csv, const char *text, gboolean last)
{
  if (text == NULL)
    text = "";
  if (strpbrk (text, ",\"\r\n") != NULL)
    {
      g_string_append_c (csv, '"');
      for (const char *p = text; *p != '\0'; p++)
        {
          if (*p == '"')
            g_string_append_c (csv, '"');
          g_string_append_c (csv, *p);
        }
      g_string_append_c (csv, '"');
    }
  else
    g_string_append (csv, text);
  g_string_append (csv, last ? "\r\n" : ",");
}

static void
csv_int (GString *csv, gint64 value, gboolean present)
{
  if (present)
    g_string_append_printf (csv, "%" G_GINT64_FORMAT, value);
  g_string_append_c (csv, ',');
}

/* The whole record as JSON: what the record holds, field for field. */
static char *
patient_export_json (ThecalCliOutput *out, const ThecalPatientRecord *record)
{
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *array;
  char *printed;
  char *text;

  thecal_cli_json_string (root, "format", "thecal-patient-export");
  thecal_cli_json_int (root, "version", 1);
  json_patient (thecal_cli_json_object (root, "patient"), record->patient);
  array = thecal_cli_json_array (root, "patient_versions");
  for (guint i = 0; i < record->patient_versions->len; i++)
    json_patient (thecal_cli_json_append_object (array), record->patient_versions->pdata[i]);
  array = thecal_cli_json_array (root, "pump_versions");
  for (guint i = 0; i < record->pumps->len; i++)
    json_pump (thecal_cli_json_append_object (array), record->pumps->pdata[i]);
  array = thecal_cli_json_array (root, "prescriptions");
  for (guint i = 0; i < record->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *r = record->prescriptions->pdata[i];
      cJSON *object = thecal_cli_json_append_object (array);

      thecal_cli_json_int (object, "id", r->id);
      thecal_cli_json_string (object, "pump", r->pump_serial);
      thecal_cli_json_int (object, "version", r->version);
      if (r->supersedes != 0)
        thecal_cli_json_int (object, "supersedes", r->supersedes);
      thecal_cli_json_bool (object, "superseded", r->superseded);
      thecal_cli_json_int (object, "effective_from_utc_ms", r->effective_from_utc_ms);
      if (r->effective_to_utc_ms != G_MAXINT64)
        thecal_cli_json_int (object, "effective_to_utc_ms", r->effective_to_utc_ms);
      thecal_cli_json_string (object, "source", thecal_prescription_source_name (r->source));
      if (r->session_id != 0)
        thecal_cli_json_int (object, "session", r->session_id);
      cJSON_AddItemToObject (object, "prescription", cJSON_Parse (r->json));
      thecal_cli_json_string (object, "reason", r->reason);
      thecal_cli_json_int (object, "recorded_utc_ms", r->recorded_utc_ms);
      thecal_cli_json_string (object, "recorded_by", r->recorded_by);
    }
  array = thecal_cli_json_array (root, "programming_sessions");
  for (guint i = 0; i < record->sessions->len; i++)
    {
      const ThecalProgrammingSession *s = record->sessions->pdata[i];
      cJSON *object = thecal_cli_json_append_object (array);
      cJSON *changes = thecal_cli_json_array (object, "changes");

      thecal_cli_json_int (object, "id", s->id);
      thecal_cli_json_string (object, "pump", s->pump_serial);
      thecal_cli_json_int (object, "started_utc_ms", s->started_utc_ms);
      thecal_cli_json_string (object, "started_by", s->started_by);
      thecal_cli_json_string (object, "reason", s->reason);
      if (s->old_prescription_id != 0)
        thecal_cli_json_int (object, "old_prescription", s->old_prescription_id);
      cJSON_AddItemToObject (object, "new_prescription", cJSON_Parse (s->new_prescription_json));
      for (guint c = 0; c < s->changes->len; c++)
        {
          const ThecalProgrammingChange *change = s->changes->pdata[c];
          cJSON *item = thecal_cli_json_append_object (changes);

          thecal_cli_json_string (item, "field", change->field);
          thecal_cli_json_string (item, "old", change->old_value);
          thecal_cli_json_string (item, "new", change->new_value);
          thecal_cli_json_string (item, "override_reason", change->override_reason);
        }
      thecal_cli_json_string (object, "outcome", thecal_programming_outcome_name (s->outcome));
      thecal_cli_json_string (object, "outcome_note", s->outcome_note);
      thecal_cli_json_int (object, "outcome_utc_ms", s->outcome_utc_ms);
      thecal_cli_json_string (object, "outcome_by", s->outcome_by);
      thecal_cli_json_int (object, "outcomes_recorded", s->n_outcomes);
      if (s->prescription_id != 0)
        thecal_cli_json_int (object, "prescription", s->prescription_id);
    }
  array = thecal_cli_json_array (root, "refills");
  for (guint i = 0; i < record->refills->len; i++)
    {
      const ThecalRefill *r = record->refills->pdata[i];
      cJSON *object = thecal_cli_json_append_object (array);

      thecal_cli_json_int (object, "id", r->id);
      thecal_cli_json_string (object, "pump", r->pump_serial);
      if (r->supersedes != 0)
        thecal_cli_json_int (object, "supersedes", r->supersedes);
      thecal_cli_json_bool (object, "superseded", r->superseded);
      thecal_cli_json_int (object, "performed_utc_ms", r->performed_utc_ms);
      thecal_cli_json_quantity (object, "expected", THECAL_QUANTITY_VOLUME, r->expected_nl);
      thecal_cli_json_quantity (object, "aspirated", THECAL_QUANTITY_VOLUME, r->aspirated_nl);
      thecal_cli_json_quantity (object, "discrepancy", THECAL_QUANTITY_VOLUME, r->discrepancy_nl);
      thecal_cli_json_bool (object, "discrepancy_flagged", r->discrepancy_flagged);
      thecal_cli_json_quantity (object, "added", THECAL_QUANTITY_VOLUME, r->added_nl);
      thecal_cli_json_string (object, "drug", r->drug_id);
      thecal_cli_json_quantity (object, "concentration", THECAL_QUANTITY_CONCENTRATION, r->concentration_ng_per_ml);
      thecal_cli_json_string (object, "lot", r->lot);
      thecal_cli_json_string (object, "expiry_date", r->expiry_date);
      thecal_cli_json_string (object, "performed_by", r->performed_by);
      thecal_cli_json_string (object, "verified_by", r->verified_by);
      thecal_cli_json_string (object, "reason", r->reason);
    }
  array = thecal_cli_json_array (root, "pump_events");
  for (guint i = 0; i < record->events->len; i++)
    {
      const ThecalPumpEvent *e = record->events->pdata[i];
      cJSON *object = thecal_cli_json_append_object (array);

      thecal_cli_json_string (object, "pump", record->event_serials->pdata[i]);
      thecal_cli_json_int (object, "sequence", e->sequence);
      thecal_cli_json_int (object, "pump_time_ms", e->pump_time_ms);
      thecal_cli_json_string (object, "kind", e->kind);
      thecal_cli_json_string (object, "detail", e->detail);
      thecal_cli_json_int (object, "imported_utc_ms", e->imported_utc_ms);
      thecal_cli_json_string (object, "imported_by", e->imported_by);
    }
  array = thecal_cli_json_array (root, "alarms_seen");
  for (guint i = 0; i < record->alarms->len; i++)
    {
      const ThecalAlarmSeen *a = record->alarms->pdata[i];
      cJSON *object = thecal_cli_json_append_object (array);

      thecal_cli_json_string (object, "pump", a->pump_serial);
      thecal_cli_json_string (object, "alarm", a->kind);
      if (a->pump_time_ms != G_MININT64)
        thecal_cli_json_int (object, "pump_time_ms", a->pump_time_ms);
      thecal_cli_json_int (object, "seen_utc_ms", a->seen_utc_ms);
      thecal_cli_json_string (object, "seen_by", a->seen_by);
    }
  (void) out;
  printed = cJSON_Print (root);
  text = g_strconcat (printed, "\n", NULL);
  cJSON_free (printed);
  return text;
}

/* The timeline as CSV: one row per recorded fact. */
static char *
patient_export_csv (ThecalCliOutput *out, const ThecalPatientRecord *record)
{
  g_autoptr (GArray) items = timeline (out, record);
  GString *csv = g_string_new ("time_utc,utc_ms,mrn,kind,id,supersedes,by,what\r\n");

  for (guint i = 0; i < items->len; i++)
    {
      const TimelineItem *item = &g_array_index (items, TimelineItem, i);

      csv_field (csv, utc_text (out, item->utc_ms), FALSE);
      csv_int (csv, item->utc_ms, TRUE);
      csv_field (csv, record->patient->mrn, FALSE);
      csv_field (csv, item->kind, FALSE);
      csv_int (csv, item->id, TRUE);
      csv_int (csv, item->supersedes, item->supersedes != 0);
      csv_field (csv, item->by, FALSE);
      csv_field (csv, item->text, TRUE);
    }
  return g_string_free (csv, FALSE);
}

static gboolean
check_format (const char *command, const char *format, GError **error)
{
  if (!g_str_equal (format, "json") && !g_str_equal (format, "csv"))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("%s: --format “%s”: use json or csv"), command,
                   format);
      return FALSE;
    }
  return TRUE;
}

/* The export itself on stdout, or in the new file @fd with a confirmation on stdout. */
static gboolean
deliver_export (ThecalCliOutput *out, const char *text, int fd, const char *output, GError **error)
{
  if (output == NULL)
    {
      thecal_cli_print (out, "%s", text);
      return TRUE;
    }
  if (!finish_output (fd, output, text, strlen (text), error))
    return FALSE;
  thecal_cli_print (out, _ ("Exported to %s.\n"), output);
  thecal_cli_json_string (out->json, "output", output);
  return TRUE;
}

static gboolean
refuse_json_without_output (const char *command, GError **error)
{
  g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
               _ ("%s: the export itself goes to stdout: use --format json (or --output FILE with --json)"), command);
  return FALSE;
}

gboolean
thecal_cli_export (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "format", 'f', 0, G_OPTION_ARG_FILENAME, &format, N_ ("json (everything, field for field) or csv (the history)"),
      N_ ("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_ ("Write to this new file (0600) instead of stdout"),
      N_ ("FILE") },
    G_OPTION_ENTRY_NULL
  };
  g_auto (GStrv) positional = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPatientRecord) record = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = NULL;
  gboolean refused = FALSE;
  int fd = -1;

  if (!thecal_cli_parse_command_line (_ ("MRN"), _ ("Export a patient's whole record. The export is audited."),
                                      _ (login_description), entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!one_argument (argv[0], positional, _ ("medical record number"), error)
      || !thecal_cli_require ("format", format, "--format json", error) || !check_format (argv[0], format, error))
    return FALSE;
  if (output == NULL && out->json_mode)
    return refuse_json_without_output (argv[0], error);
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  if (output != NULL && (fd = create_output (output, error)) < 0)
    return FALSE;
  record = thecal_record_session_export_patient_sync (session, positional[0], format, NULL, &local_error);
  if (record == NULL)
    {
      abandon_output (fd, output);
      return report_error (out, local_error, error);
    }
  text = g_str_equal (format, "json") ? patient_export_json (out, record) : patient_export_csv (out, record);
  thecal_cli_json_string (out->json, "mrn", record->patient->mrn);
  thecal_cli_json_string (out->json, "format", format);
  return deliver_export (out, text, fd, output, error);
}

/* ---- audit ------------------------------------------------------------------------------------ */

static gboolean
parse_anchor (const char *command, const char *text, gint64 *seq, guint8 hash[THECAL_AUDIT_HASH_BYTES], GError **error)
{
  g_auto (GStrv) parts = text != NULL ? g_strsplit (text, ":", 2) : NULL;
  guint64 number = 0;

  if (text == NULL)
    {
      *seq = 0;
      return TRUE;
    }
  if (parts[0] == NULL || parts[1] == NULL || !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXINT64, &number, NULL)
      || !thecal_audit_hash_from_hex (parts[1], hash))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: --anchor “%s”: write ENTRY:HASH, e.g. 1200:%s… (the head printed by an earlier verify)"),
                   command, text, "4f3c");
      return FALSE;
    }
  *seq = (gint64) number;
  return TRUE;
}

static gboolean
audit_verify (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *anchor_text = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "anchor", 0, 0, G_OPTION_ARG_FILENAME, &anchor_text,
      N_ ("Also check that entry SEQ still has HASH (a head kept from an earlier verify)"), N_ ("SEQ:HASH") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalAuditVerification) verification = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *head = NULL;
  guint8 anchor_hash[THECAL_AUDIT_HASH_BYTES] = { 0 };
  gint64 anchor_seq = 0;
  gboolean refused = FALSE;

  if (!thecal_cli_parse_command_line (NULL, _ ("Walk the audit trail's hash chain and name the first entry altered, "
                                               "removed or reordered (exit 1 if any)."),
                                      _ (login_description), entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!parse_anchor (argv[0], anchor_text, &anchor_seq, anchor_hash, error))
    return FALSE;
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  verification = thecal_record_session_verify_audit_sync (session, anchor_seq, anchor_seq > 0 ? anchor_hash : NULL,
                                                          NULL, &local_error);
  if (verification == NULL)
    return report_error (out, local_error, error);
  head = thecal_audit_hash_to_hex (verification->head_hash);
  thecal_cli_print (out, "%s\n", verification->message);
  if (verification->problem == THECAL_AUDIT_INTACT)
    thecal_cli_print (out, _ ("Keep this anchor to check later that nothing was cut from the end: --anchor %" G_GINT64_FORMAT ":%s\n"),
                      verification->head_seq, head);
  if (verification->clock_steps_back > 0)
    thecal_cli_print (out, g_dngettext (GETTEXT_PACKAGE, "Warning: %" G_GINT64_FORMAT " entry is dated before the one it follows (the "
                                                         "computer's clock was set back).\n",
                                        "Warning: %" G_GINT64_FORMAT " entries are dated before the ones they follow "
                                        "(the computer's clock was set back).\n",
                                        (gulong) verification->clock_steps_back),
                      verification->clock_steps_back);
  thecal_cli_json_string (out->json, "result", thecal_audit_problem_name (verification->problem));
  thecal_cli_json_bool (out->json, "intact", verification->problem == THECAL_AUDIT_INTACT);
  thecal_cli_json_int (out->json, "entries", verification->n_entries);
  thecal_cli_json_int (out->json, "head_seq", verification->head_seq);
  thecal_cli_json_string (out->json, "head_hash", head);
  if (verification->bad_seq != 0)
    thecal_cli_json_int (out->json, "bad_seq", verification->bad_seq);
  if (verification->written_as_seq != 0)
    thecal_cli_json_int (out->json, "written_as_seq", verification->written_as_seq);
  thecal_cli_json_string (out->json, "message", verification->message);
  if (verification->problem != THECAL_AUDIT_INTACT)
    thecal_cli_refuse (out, "%s", verification->message);
  return TRUE;
}

static gboolean
audit_export (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (RecordOptions) options = { 0 };
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  g_autofree char *from_text = NULL;
  const GOptionEntry entries[] = {
    OPTION_DB (options),
    OPTION_USER (options),
    { "format", 'f', 0, G_OPTION_ARG_FILENAME, &format, N_ ("json (default) or csv"), N_ ("FORMAT") },
    { "from", 0, 0, G_OPTION_ARG_FILENAME, &from_text, N_ ("From entry N on (default 1)"), N_ ("N") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_ ("Write to this new file (0600) instead of stdout"),
      N_ ("FILE") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (GPtrArray) entries_found = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = NULL;
  gboolean refused = FALSE;
  gint64 from = 1;
  int fd = -1;

  if (!thecal_cli_parse_command_line (NULL, _ ("Export the audit trail with its hashes, so that it can be checked "
                                               "elsewhere (administrators only; the export is audited)."),
                                      _ (login_description), entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (format == NULL)
    format = g_strdup ("json");
  if (!check_format (argv[0], format, error) || !parse_limit ("from", from_text, 1, &from, error))
    return FALSE;
  if (output == NULL && out->json_mode)
    return refuse_json_without_output (argv[0], error);
  session = log_in (out, &options, &refused, error);
  if (session == NULL)
    return refused;
  if (output != NULL && (fd = create_output (output, error)) < 0)
    return FALSE;
  entries_found = thecal_record_session_export_audit_sync (session, from, 0, format, NULL, &local_error);
  if (entries_found == NULL)
    {
      abandon_output (fd, output);
      return report_error (out, local_error, error);
    }
  if (g_str_equal (format, "json"))
    {
      g_autoptr (cJSON) root = cJSON_CreateObject ();
      cJSON *array = thecal_cli_json_array (root, "entries");
      char *printed;

      thecal_cli_json_string (root, "format", "thecal-audit-export");
      thecal_cli_json_int (root, "version", 1);
      for (guint i = 0; i < entries_found->len; i++)
        {
          const ThecalAuditEntry *entry = entries_found->pdata[i];
          cJSON *object = thecal_cli_json_append_object (array);
          g_autofree char *prev = thecal_audit_hash_to_hex (entry->prev_hash);
          g_autofree char *hash = thecal_audit_hash_to_hex (entry->hash);

          thecal_cli_json_int (object, "seq", entry->seq);
          thecal_cli_json_int (object, "at_utc_ms", entry->at_utc_ms);
          if (entry->user_id != 0)
            thecal_cli_json_int (object, "user_id", entry->user_id);
          thecal_cli_json_string (object, "user_name", entry->user_name);
          thecal_cli_json_string (object, "action", entry->action);
          thecal_cli_json_string (object, "object_type", entry->object_type);
          if (entry->object_id != 0)
            thecal_cli_json_int (object, "object_id", entry->object_id);
          if (entry->patient_id != 0)
            thecal_cli_json_int (object, "patient_id", entry->patient_id);
          thecal_cli_json_string (object, "before", entry->before);
          thecal_cli_json_string (object, "after", entry->after);
          thecal_cli_json_string (object, "reason", entry->reason);
          thecal_cli_json_string (object, "prev_hash", prev);
          thecal_cli_json_string (object, "hash", hash);
        }
      printed = cJSON_Print (root);
      text = g_strconcat (printed, "\n", NULL);
      cJSON_free (printed);
    }
  else
    {
      GString *csv = g_string_new ("seq,time_utc,at_utc_ms,user_id,user_name,action,object_type,object_id,patient_id,"
                                   "before,after,reason,prev_hash,hash\r\n");

      for (guint i = 0; i < entries_found->len; i++)
        {
          const ThecalAuditEntry *entry = entries_found->pdata[i];
          g_autofree char *prev = thecal_audit_hash_to_hex (entry->prev_hash);
          g_autofree char *hash = thecal_audit_hash_to_hex (entry->hash);

          csv_int (csv, entry->seq, TRUE);
          csv_field (csv, utc_text (out, entry->at_utc_ms), FALSE);
          csv_int (csv, entry->at_utc_ms, TRUE);
          csv_int (csv, entry->user_id, entry->user_id != 0);
          csv_field (csv, entry->user_name, FALSE);
          csv_field (csv, entry->action, FALSE);
          csv_field (csv, entry->object_type, FALSE);
          csv_int (csv, entry->object_id, entry->object_id != 0);
          csv_int (csv, entry->patient_id, entry->patient_id != 0);
          csv_field (csv, entry->before, FALSE);
          csv_field (csv, entry->after, FALSE);
          csv_field (csv, entry->reason, FALSE);
          csv_field (csv, prev, FALSE);
          csv_field (csv, hash, TRUE);
        }
      text = g_string_free (csv, FALSE);
    }
  thecal_cli_json_int (out->json, "entries", entries_found->len);
  return deliver_export (out, text, fd, output, error);
}

static const ThecalCliSubcommand audit_subcommands[] = {
  { "verify", N_ ("Verify the hash chain"), audit_verify },
  { "export", N_ ("Export the trail with its hashes"), audit_export },
};

gboolean
thecal_cli_audit (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  return thecal_cli_dispatch ("audit", _ ("The audit trail: every create, change, login, failed login, override and export "
                                          "(docs/security.md)."),
                              NULL,
                              audit_subcommands, G_N_ELEMENTS (audit_subcommands), out, argc, argv, error);
}
