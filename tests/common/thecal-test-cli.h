/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-test-cli.h: running thecal-cli as a person (or a script) would, for the tests of
 * tests/cli: the built binary, its stdout, stderr and exit code, and reading its --json output.
 *
 * The binary comes from $THECAL_CLI, the data files from $THECAL_DATA_DIR and the test
 * prescriptions from $THECAL_SOURCE_DIR/tests/cli/data (tests/cli/meson.build sets all three).
 * Every run is under LC_ALL=C unless a test says otherwise, so messages are not translated.
 *
 * Everything is static inline: each test binary of tests/cli includes this header once and
 * uses what it needs (GLib, cJSON and Check are already dependencies of every CLI test).
 */
#pragma once

#include <check.h>
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cJSON, cJSON_Delete)

typedef struct
{
  int status; /* exit code; -1 when the process did not exit normally */
  char *out;
  char *err;
} CliResult;

static inline void
cli_result_free (CliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, cli_result_free)

/* @text on one line, for assertion messages: a newline would break the TAP output. The copies
 * stay reachable until the test process ends. */
static inline const char *
oneline (const char *text)
{
  static GPtrArray *keep = NULL;
  GString *line = g_string_new (NULL);

  if (keep == NULL)
    keep = g_ptr_array_new_with_free_func (g_free);
  /* Check refuses messages longer than a few kilobytes: keep the start, which names the problem. */
  for (const char *p = text != NULL ? text : "(null)"; *p != '\0' && line->len < 1500; p++)
    {
      if (*p == '\n')
        g_string_append (line, " ⏎ ");
      else if (*p != '\r' && *p != '\t')
        g_string_append_c (line, *p);
      else
        g_string_append_c (line, ' ');
    }
  if (text != NULL && strlen (text) > line->len)
    g_string_append (line, " …");
  g_ptr_array_add (keep, line->str);
  return g_string_free (line, FALSE);
}

/* Runs thecal-cli with @args (NULL-terminated) and @env_overrides ("NAME=value", NULL-terminated,
 * may be NULL) on top of this process's environment and LC_ALL=C. */
static inline CliResult *
cli_run_argv (const char *const *env_overrides, const char *const *args)
{
  const char *binary = g_getenv ("THECAL_CLI");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GError) error = NULL;
  CliResult *result = g_new0 (CliResult, 1);
  int wait_status = 0;

  ck_assert_msg (binary != NULL, "THECAL_CLI is not set: run the tests through meson test");
  g_ptr_array_add (argv, (gpointer) binary);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  envp = g_environ_setenv (envp, "LC_ALL", "C", TRUE);
  envp = g_environ_unsetenv (envp, "LANGUAGE");
  for (gsize i = 0; env_overrides != NULL && env_overrides[i] != NULL; i++)
    {
      g_auto (GStrv) pair = g_strsplit (env_overrides[i], "=", 2);

      envp = g_environ_setenv (envp, pair[0], pair[1] != NULL ? pair[1] : "", TRUE);
    }

  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &result->out, &result->err, &wait_status, &error),
                 "cannot run %s: %s", binary, error != NULL ? error->message : "?");
  result->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return result;
}

#define cli_run(...) cli_run_argv (NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define cli_run_env(env, ...) cli_run_argv ((env), (const char *const[]){ __VA_ARGS__, NULL })

/* A test prescription of tests/cli/data. The path lives as long as the test process. */
static inline const char *
data_file (const char *name)
{
  static GHashTable *paths = NULL;
  const char *source = g_getenv ("THECAL_SOURCE_DIR");
  char *path;

  ck_assert_msg (source != NULL, "THECAL_SOURCE_DIR is not set: run the tests through meson test");
  if (paths == NULL)
    paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  path = g_hash_table_lookup (paths, name);
  if (path == NULL)
    {
      path = g_build_filename (source, "tests", "cli", "data", name, NULL);
      g_hash_table_insert (paths, g_strdup (name), path);
    }
  return path;
}

/* Writes @length bytes of @contents (-1: up to the NUL) into a new file @name of a new
 * temporary folder; returns its path (g_free it after cli_temp_file_remove ()). */
static inline char *
cli_temp_file (const char *name, const char *contents, gssize length)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("thecal-cli-test-XXXXXX", &error);
  char *path;

  ck_assert_msg (dir != NULL, "cannot make a temporary folder: %s", error != NULL ? error->message : "?");
  path = g_build_filename (dir, name, NULL);
  ck_assert_msg (g_file_set_contents (path, contents, length, &error), "cannot write %s: %s", path,
                 error != NULL ? error->message : "?");
  return path;
}

/* Removes a file of cli_temp_file () (or one written beside it) and its folder. */
static inline void
cli_temp_file_remove (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static inline void
assert_status (const CliResult *result, int status)
{
  ck_assert_msg (result->status == status, "exit status %d, expected %d; stdout: %s; stderr: %s",
                 result->status, status, oneline (result->out), oneline (result->err));
}

/* Exit 2 or 3: nothing on stdout, one message on stderr that contains @needle. */
static inline void
assert_failed (const CliResult *result, int status, const char *needle)
{
  assert_status (result, status);
  ck_assert_msg (result->out[0] == '\0', "stdout must be empty on an error, got: %s", oneline (result->out));
  ck_assert_msg (g_str_has_prefix (result->err, "thecal-cli: "), "stderr: %s", oneline (result->err));
  ck_assert_msg (strstr (result->err, needle) != NULL, "stderr does not name “%s”: %s", needle, oneline (result->err));
}

static inline void
assert_contains (const char *haystack, const char *needle)
{
  ck_assert_msg (strstr (haystack, needle) != NULL, "“%s” not found in: %s", needle, oneline (haystack));
}

static inline void
assert_not_contains (const char *haystack, const char *needle)
{
  ck_assert_msg (strstr (haystack, needle) == NULL, "“%s” must not be in: %s", needle, oneline (haystack));
}

/* The first line of @text (owned by the caller). */
static inline char *
first_line (const char *text)
{
  const char *end = strchr (text, '\n');

  return end != NULL ? g_strndup (text, (gsize) (end - text)) : g_strdup (text);
}

/* The line of @text that starts with @prefix (owned by the caller); fails the test when none does. */
static inline char *
line_starting (const char *text, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i]);
  ck_abort_msg ("no line starts with “%s” in: %s", prefix, oneline (text));
  return NULL;
}

/* Finds "a.b[2].c" in @root; fails the test when it is not there. */
static inline const cJSON *
json_at (const cJSON *root, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  const cJSON *item = root;

  for (gsize i = 0; parts[i] != NULL && item != NULL; i++)
    {
      char *bracket = strchr (parts[i], '[');

      if (bracket != NULL)
        {
          int index = atoi (bracket + 1);

          *bracket = '\0';
          item = cJSON_GetObjectItemCaseSensitive (item, parts[i]);
          item = cJSON_IsArray (item) ? cJSON_GetArrayItem (item, index) : NULL;
        }
      else
        item = cJSON_GetObjectItemCaseSensitive (item, parts[i]);
    }
  ck_assert_msg (item != NULL, "no “%s” in the JSON output", path);
  return item;
}

/* An integer of the JSON output. The CLI writes integers as exact digits; cJSON reads them into
 * a double, which is exact for every value below 2^53 (all the values these tests use). */
static inline gint64
json_int (const cJSON *root, const char *path)
{
  const cJSON *item = json_at (root, path);

  ck_assert_msg (cJSON_IsNumber (item), "“%s” is not a number", path);
  ck_assert_msg (item->valuedouble > -9007199254740992.0 && item->valuedouble < 9007199254740992.0,
                 "“%s” is outside the exact range of the test", path);
  return (gint64) item->valuedouble;
}

static inline const char *
json_str (const cJSON *root, const char *path)
{
  const cJSON *item = json_at (root, path);

  ck_assert_msg (cJSON_IsString (item), "“%s” is not a string", path);
  return item->valuestring;
}

static inline gboolean
json_bool (const cJSON *root, const char *path)
{
  const cJSON *item = json_at (root, path);

  ck_assert_msg (cJSON_IsBool (item), "“%s” is not a boolean", path);
  return cJSON_IsTrue (item);
}

/* The one JSON object that --json prints (to cJSON_Delete). */
static inline cJSON *
parse_json (const CliResult *result)
{
  cJSON *root = cJSON_Parse (result->out);

  ck_assert_msg (root != NULL, "stdout is not JSON: %s", oneline (result->out));
  ck_assert_msg (cJSON_IsObject (root), "stdout is not one JSON object");
  return root;
}
