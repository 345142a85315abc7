/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-permissions.c: the permission table (src/workflow/thecal-permissions.c) against DESIGN.md
 * "Roles" and against its printed copy in docs/security.md, which must say exactly the same.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "thecal-permissions.h"
#include "thecal-test.h"

START_TEST (test_design_roles)
{
  /* DESIGN.md "Roles": physician everything clinical; nurse interrogate, refill, reservoir
   * update, no dose change; administrator users and drug library. */
  const ThecalPermission clinical[] = {
    THECAL_PERMISSION_PATIENT_READ,
    THECAL_PERMISSION_PATIENT_CREATE,
    THECAL_PERMISSION_PUMP_CREATE,
    THECAL_PERMISSION_PRESCRIPTION_CHANGE,
    THECAL_PERMISSION_LIMIT_OVERRIDE,
    THECAL_PERMISSION_BOLUS,
    THECAL_PERMISSION_REFILL,
    THECAL_PERMISSION_PUMP_INTERROGATE,
    THECAL_PERMISSION_HISTORY_READ,
  };

  for (guint i = 0; i < G_N_ELEMENTS (clinical); i++)
    {
      ck_assert_msg (thecal_role_may (THECAL_ROLE_PHYSICIAN, clinical[i]), "physician: %s",
                     thecal_permission_name (clinical[i]));
      ck_assert_msg (thecal_role_may (THECAL_ROLE_DEMO, clinical[i]), "demo: %s", thecal_permission_name (clinical[i]));
      ck_assert_msg (!thecal_role_may (THECAL_ROLE_ADMINISTRATOR, clinical[i]), "administrator: %s",
                     thecal_permission_name (clinical[i]));
    }
  ck_assert (thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_PUMP_INTERROGATE));
  ck_assert (thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_REFILL));
  ck_assert (thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_REFILL_VERIFY));
  ck_assert (thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_RESERVOIR_UPDATE));
  ck_assert (!thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_PRESCRIPTION_CHANGE));
  ck_assert (!thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_BOLUS));
  ck_assert (!thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_LIMIT_OVERRIDE));
  ck_assert (!thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_PUMP_CREATE));
  /* pump upkeep at the visit, no dose change (docs/security.md "Decisions") */
  ck_assert (thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_PUMP_CLOCK));
  ck_assert (thecal_role_may (THECAL_ROLE_NURSE, THECAL_PERMISSION_ALARM_ACKNOWLEDGE));
  ck_assert (!thecal_role_may (THECAL_ROLE_ADMINISTRATOR, THECAL_PERMISSION_PUMP_CLOCK));
  ck_assert (!thecal_role_may (THECAL_ROLE_ADMINISTRATOR, THECAL_PERMISSION_ALARM_ACKNOWLEDGE));
  ck_assert (thecal_role_may (THECAL_ROLE_ADMINISTRATOR, THECAL_PERMISSION_USER_MANAGE));
  ck_assert (thecal_role_may (THECAL_ROLE_ADMINISTRATOR, THECAL_PERMISSION_DRUG_LIBRARY_EDIT));
  ck_assert (thecal_role_may (THECAL_ROLE_ADMINISTRATOR, THECAL_PERMISSION_AUDIT_EXPORT));
  for (guint role = 0; role < THECAL_N_ROLES; role++)
    {
      if (role != THECAL_ROLE_ADMINISTRATOR)
        {
          ck_assert (!thecal_role_may ((ThecalRole) role, THECAL_PERMISSION_USER_MANAGE));
          ck_assert (!thecal_role_may ((ThecalRole) role, THECAL_PERMISSION_DRUG_LIBRARY_EDIT));
        }
      ck_assert (thecal_role_may ((ThecalRole) role, THECAL_PERMISSION_OWN_PASSWORD));
      ck_assert (thecal_role_may ((ThecalRole) role, THECAL_PERMISSION_AUDIT_VERIFY));
    }
  /* Out of range: never allowed. */
  ck_assert (!thecal_role_may (THECAL_N_ROLES, THECAL_PERMISSION_PATIENT_READ));
  ck_assert (!thecal_role_may (THECAL_ROLE_PHYSICIAN, THECAL_N_PERMISSIONS));
}
END_TEST

START_TEST (test_names)
{
  for (guint p = 0; p < THECAL_N_PERMISSIONS; p++)
    {
      ThecalPermission back = THECAL_N_PERMISSIONS;

      ck_assert (thecal_permission_from_name (thecal_permission_name ((ThecalPermission) p), &back));
      ck_assert_int_eq (back, p);
      ck_assert_str_ne (thecal_permission_describe ((ThecalPermission) p), "?");
    }
  ck_assert_str_eq (thecal_permission_name (THECAL_PERMISSION_PRESCRIPTION_CHANGE), "prescription.change");
  ck_assert (!thecal_permission_from_name ("root", NULL));
}
END_TEST

START_TEST (test_refusal_message)
{
  ThecalUser nurse = { .id = 3, .name = (char *) "nina", .full_name = (char *) "Nina Nurse", .role = THECAL_ROLE_NURSE };
  ThecalUser physician = { .id = 2, .name = (char *) "paula", .full_name = (char *) "Dr Paula", .role = THECAL_ROLE_PHYSICIAN };
  g_autoptr (GError) error = NULL;

  ck_assert (thecal_permission_check (&physician, THECAL_PERMISSION_PRESCRIPTION_CHANGE, &error));
  ck_assert (!thecal_permission_check (&nurse, THECAL_PERMISSION_PRESCRIPTION_CHANGE, &error));
  ck_assert (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED));
  ck_assert_str_eq (error->message, "Nina Nurse (nurse) may not change a prescription: only a physician or a demo "
                                    "user may (permission prescription.change).");
}
END_TEST

/* docs/security.md holds the table between two markers, one row per permission:
 *   | `patient.create` | add a patient | yes | yes | – | yes |
 * with the columns physician, nurse, administrator, demo. */
START_TEST (test_docs_table_matches)
{
  const char *source = g_getenv ("THECAL_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean inside = FALSE;
  gboolean seen[THECAL_N_PERMISSIONS] = { FALSE };
  guint rows = 0;

  ck_assert_msg (source != NULL, "THECAL_SOURCE_DIR is not set: run the tests through meson test");
  path = g_build_filename (source, "docs", "security.md", NULL);
  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL), "cannot read %s", path);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) cells = NULL;
      g_autofree char *name = NULL;
      ThecalPermission permission;

      if (strstr (lines[i], "<!-- permissions:begin -->") != NULL)
        {
          inside = TRUE;
          continue;
        }
      if (strstr (lines[i], "<!-- permissions:end -->") != NULL)
        break;
      if (!inside || !g_str_has_prefix (lines[i], "| `"))
        continue;
      cells = g_strsplit (lines[i], "|", -1);
      /* "", " `name` ", " what ", physician, nurse, administrator, demo, "" */
      ck_assert_msg (g_strv_length (cells) == 8, "docs/security.md: a row with %u cells: %s", g_strv_length (cells),
                     lines[i]);
      name = g_strstrip (g_strdup (cells[1]));
      ck_assert (g_str_has_prefix (name, "`") && g_str_has_suffix (name, "`"));
      name[strlen (name) - 1] = '\0';
      ck_assert_msg (thecal_permission_from_name (name + 1, &permission), "docs/security.md names “%s”, which the code "
                                                                          "does not know",
                     name + 1);
      ck_assert_msg (!seen[permission], "“%s” is twice in docs/security.md", name + 1);
      seen[permission] = TRUE;
      for (guint role = 0; role < THECAL_N_ROLES; role++)
        {
          g_autofree char *cell = g_strstrip (g_strdup (cells[3 + role]));
          gboolean documented = g_str_equal (cell, "yes");

          ck_assert_msg (documented || g_str_equal (cell, "–"), "docs/security.md, %s: “%s” is neither yes nor –",
                         name + 1, cell);
          ck_assert_msg (documented == thecal_role_may ((ThecalRole) role, permission),
                         "docs/security.md says %s for %s/%s, the code says %s", cell, name + 1,
                         thecal_role_name ((ThecalRole) role),
                         thecal_role_may ((ThecalRole) role, permission) ? "yes" : "no");
        }
      rows++;
    }
  ck_assert_msg (inside, "docs/security.md has no <!-- permissions:begin --> marker");
  for (guint p = 0; p < THECAL_N_PERMISSIONS; p++)
    ck_assert_msg (seen[p], "docs/security.md does not list “%s”", thecal_permission_name ((ThecalPermission) p));
  ck_assert_uint_eq (rows, THECAL_N_PERMISSIONS);
}
END_TEST

static Suite *
permissions_suite (void)
{
  Suite *suite = suite_create ("permissions");
  TCase *table = tcase_create ("table");

  tcase_add_test (table, test_design_roles);
  tcase_add_test (table, test_names);
  tcase_add_test (table, test_refusal_message);
  tcase_add_test (table, test_docs_table_matches);
  suite_add_tcase (suite, table);
  return suite;
}

THECAL_TEST_MAIN (permissions_suite)
