/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-demo.c: the demo world shared by `thecal-cli demo` and `thecal --demo`
 * (src/workflow/thecal-demo.c): the six demo patients, the demo record (users, patients, pumps
 * paired with the demo keys; a new file only), and the demo link (a demo pump on the loopback
 * transport, a visit over it, the visit's clock on the pump's time).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "thecal-demo.h"
#include "thecal-dose-json.h"
#include "thecal-test.h"

static char *tmp_dir;
static char *db_path;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmp_dir = g_dir_make_tmp ("thecal-test-demo-XXXXXX", &error);
  ck_assert_msg (tmp_dir != NULL, "%s", error != NULL ? error->message : "");
  db_path = g_build_filename (tmp_dir, "demo.sqlite", NULL);
}

static void
teardown (void)
{
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (tmp_dir);
  g_clear_pointer (&db_path, g_free);
  g_clear_pointer (&tmp_dir, g_free);
}

static void
load_data (ThecalPumpModelSet *models, ThecalDrugLibrary *library)
{
  const char *dir = g_getenv ("THECAL_DATA_DIR");
  g_autofree char *models_path = g_build_filename (dir, "pump-models.json", NULL);
  g_autofree char *library_path = g_build_filename (dir, "drug-library.json", NULL);
  g_autofree char *models_text = NULL;
  g_autofree char *library_text = NULL;
  gsize models_len = 0, library_len = 0;
  ThecalDoseError error = { 0 };

  ck_assert (dir != NULL);
  ck_assert (g_file_get_contents (models_path, &models_text, &models_len, NULL));
  ck_assert (g_file_get_contents (library_path, &library_text, &library_len, NULL));
  ck_assert_msg (thecal_pump_models_load_json (models_text, models_len, models, &error), "%s", error.message);
  ck_assert_msg (thecal_drug_library_load_json (library_text, library_len, library, &error), "%s", error.message);
}

START_TEST (test_patients)
{
  ck_assert_uint_eq (thecal_demo_patient_count (), 6);
  for (guint i = 0; i < thecal_demo_patient_count (); i++)
    {
      const ThecalDemoPatient *p = thecal_demo_patient_get (i);

      ck_assert_ptr_eq (thecal_demo_patient_find (p->mrn), p);
      ck_assert_msg (thecal_sim_pump_demo_find (p->serial) != NULL, "%s is a demo pump", p->serial);
    }
  ck_assert_str_eq (thecal_demo_patient_get (THECAL_DEMO_PATIENT_LOW_RESERVOIR)->serial, "TR20-000124");
  ck_assert_str_eq (thecal_demo_patient_get (THECAL_DEMO_PATIENT_STABLE)->serial, THECAL_SIM_PUMP_DEMO_DEFAULT_SERIAL);
  ck_assert_ptr_null (thecal_demo_patient_find ("DEMO-0007"));
  ck_assert_ptr_null (thecal_demo_patient_find (NULL));
}
END_TEST

START_TEST (test_record)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalRecord) record = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, &admin, NULL, &error);
  g_autoptr (ThecalRecordSession) demo = NULL;
  g_autoptr (ThecalRecordSession) paula = NULL;
  g_autoptr (GPtrArray) patients = NULL;
  g_autoptr (GPtrArray) pumps = NULL;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (thecal_record_is_demo (record));
  ck_assert_int_eq (thecal_record_session_get_user (admin)->role, THECAL_ROLE_ADMINISTRATOR);
  demo = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (demo != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_int_eq (thecal_record_session_get_user (demo)->role, THECAL_ROLE_DEMO);
  paula = thecal_record_session_login_sync (record, THECAL_DEMO_PHYSICIAN_NAME, THECAL_DEMO_PHYSICIAN_PASSWORD, NULL, &error);
  ck_assert_msg (paula != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_int_eq (thecal_record_session_get_user (paula)->role, THECAL_ROLE_PHYSICIAN);
  patients = thecal_record_session_list_patients_sync (demo, 0, 100, NULL, &error);
  ck_assert_msg (patients != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_uint_eq (patients->len, 6);
  pumps = thecal_record_session_list_pumps_sync (demo, NULL, NULL, &error);
  ck_assert_msg (pumps != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_uint_eq (pumps->len, 6);
  for (guint i = 0; i < patients->len; i++)
    {
      const ThecalPatient *patient = patients->pdata[i];
      const ThecalDemoPatient *p = thecal_demo_patient_get (i);

      ck_assert_str_eq (patient->mrn, p->mrn);
      ck_assert_str_eq (patient->name, p->name);
    }
}
END_TEST

/* A demo record is made in a new file only: an existing one is refused and left as it was. */
START_TEST (test_record_exists)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) first = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  g_autoptr (ThecalRecord) second = NULL;

  ck_assert_msg (first != NULL, "%s", error != NULL ? error->message : "");
  g_clear_object (&first);
  second = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  ck_assert_ptr_null (second);
  ck_assert_msg (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS), "%s", error != NULL ? error->message : "");
}
END_TEST

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  (void) source;
  *slot = g_object_ref (result);
}

/* The demo record on a worker thread: the answer comes back on the caller's context. */
START_TEST (test_record_async)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (ThecalRecord) record = NULL;

  thecal_demo_record_create_async (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  record = thecal_demo_record_create_finish (result, &error);
  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (thecal_record_is_demo (record));
}
END_TEST

/* The low-reservoir patient's pump on simulated time: connect, and what the visit reads. */
START_TEST (test_link)
{
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalClock) clock = thecal_clock_new_virtual (0);
  g_autoptr (ThecalDemoLink) link = NULL;
  g_autoptr (ThecalDemoLink) unknown = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  const ThecalDemoPatient *p = thecal_demo_patient_get (THECAL_DEMO_PATIENT_LOW_RESERVOIR);
  ThecalVisit *visit;
  GPtrArray *findings;
  gboolean low_alarm = FALSE;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  load_data (models, library);
  session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");

  unknown = thecal_demo_link_new (session, models, library, "TR20-999999", clock, &error);
  ck_assert_ptr_null (unknown);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
  g_clear_error (&error);

  link = thecal_demo_link_new (session, models, library, p->serial, clock, &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_str_eq (thecal_demo_link_get_demo (link)->serial, p->serial);
  ck_assert_ptr_eq (thecal_demo_link_get_clock (link), clock);
  visit = thecal_demo_link_get_visit (link);
  ck_assert_ptr_eq (thecal_visit_get_link (visit), thecal_demo_link_get_link (link));
  /* the visit's clock is the pump's: the demo instant */
  ck_assert_int_eq (thecal_visit_now_utc_ms (visit), THECAL_SIM_PUMP_DEMO_INSTANT_MS);
  thecal_visit_connect_async (visit, p->mrn, NULL, on_done, &result);
  while (result == NULL)
    if (!thecal_clock_iterate (clock, NULL))
      g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (thecal_visit_connect_finish (visit, result, &error), "%s", error != NULL ? error->message : "");
  ck_assert_int_eq (thecal_visit_get_status (visit)->reservoir_estimate_nl, 1800000); /* 1.8 mL */
  ck_assert_str_eq (thecal_visit_get_active (visit)->rx.drug_id, "morphine");
  findings = thecal_visit_get_findings (visit);
  for (guint i = 0; i < findings->len; i++)
    low_alarm |= strcmp (((ThecalVisitFinding *) findings->pdata[i])->code, "alarm.low_reservoir") == 0;
  ck_assert (low_alarm);
}
END_TEST

static Suite *
demo_suite (void)
{
  Suite *suite = suite_create ("demo");

  THECAL_TEST_TCASE (suite, "patients", NULL, NULL, 0, test_patients);
  THECAL_TEST_TCASE (suite, "record", setup, teardown, 120, test_record, test_record_exists, test_record_async, test_link);
  return suite;
}

THECAL_TEST_MAIN (demo_suite)
