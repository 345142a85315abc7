/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-record-audit.c: the audit trail (src/record/thecal-record-audit.c; docs/security.md
 * "Audit chain"): the canonical encoding byte by byte, what is audited, the triggers, and the
 * verifier against an attacker who uses the sqlite3 shell: drops the triggers first, then alters,
 * removes, renumbers, reorders, rehashes or cuts entries. The verifier must name the first entry
 * touched.
 */
#include "config.h"

#include "thecal-record-private.h"
#include "thecal-test-record.h"
#include "thecal-test.h"

/* ---- The encoding ---------------------------------------------------------------------------- */

static void
append_i64 (GByteArray *out, guint64 value)
{
  for (int shift = 56; shift >= 0; shift -= 8)
    {
      guint8 byte = (guint8) (value >> shift);

      g_byte_array_append (out, &byte, 1);
    }
}

static void
append_text (GByteArray *out, const char *text)
{
  guint8 marker = text != NULL ? 1 : 0;

  g_byte_array_append (out, &marker, 1);
  if (text != NULL)
    {
      append_i64 (out, strlen (text));
      g_byte_array_append (out, (const guint8 *) text, (guint) strlen (text));
    }
}

START_TEST (test_encoding_known_answer)
{
  /* docs/security.md's worked example: the first entry of a record. */
  ThecalAuditEntry entry = {
    .seq = 1,
    .at_utc_ms = 1700000000000,
    .user_id = 0,
    .user_name = (char *) "thecal",
    .action = (char *) "record.create",
    .object_type = (char *) "record",
    .object_id = 0,
    .patient_id = 0,
    .before = NULL,
    .after = (char *) "{\"schema_version\":1}",
    .reason = NULL,
  };
  g_autoptr (GByteArray) expected = g_byte_array_new ();
  g_autoptr (GBytes) encoded = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *hex = NULL;
  guint8 zero = 0;
  guint8 hash[THECAL_AUDIT_HASH_BYTES];

  /* Written out independently of the implementation. */
  g_byte_array_append (expected, (const guint8 *) "THECAL-AUDIT-1", 14);
  for (int i = 0; i < 32; i++)
    g_byte_array_append (expected, &zero, 1); /* prev_hash of entry 1 */
  append_i64 (expected, 1);                   /* seq */
  append_i64 (expected, 1700000000000);       /* at_utc_ms */
  g_byte_array_append (expected, &zero, 1);   /* user_id NULL */
  append_text (expected, "thecal");
  append_text (expected, "record.create");
  append_text (expected, "record");
  g_byte_array_append (expected, &zero, 1); /* object_id NULL */
  g_byte_array_append (expected, &zero, 1); /* patient_id NULL */
  append_text (expected, NULL);             /* before */
  append_text (expected, "{\"schema_version\":1}");
  append_text (expected, NULL); /* reason */
  /* 14 + 32 + 8 + 8 + 1 + (1+8+6) + (1+8+13) + (1+8+6) + 1 + 1 + 1 + (1+8+20) + 1 = 148 bytes. */
  ck_assert_uint_eq (expected->len, 148);

  encoded = _thecal_audit_entry_encode (&entry);
  ck_assert_uint_eq (g_bytes_get_size (encoded), expected->len);
  ck_assert_int_eq (memcmp (g_bytes_get_data (encoded, NULL), expected->data, expected->len), 0);

  /* The hash is SHA-256 of those bytes (GLib's own SHA-256 as the independent check). */
  _thecal_audit_entry_compute_hash (&entry, hash);
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, expected->data, expected->len);
  hex = thecal_audit_hash_to_hex (hash);
  ck_assert_str_eq (hex, sha);
  ck_assert_str_eq (hex, "bb54fae7a7aa87db54cc6a79fabe9d9b2596cba72794dce44b7206f29b566c6d");
}
END_TEST

START_TEST (test_encoding_distinguishes)
{
  /* NULL and "" differ; moving a byte from one field to the next changes the hash (lengths are
   * part of the encoding); a negative id is not its absence. */
  ThecalAuditEntry a = { .seq = 7, .at_utc_ms = 1, .user_name = (char *) "ab", .action = (char *) "c" };
  ThecalAuditEntry b = a;
  guint8 hash_a[32];
  guint8 hash_b[32];

  _thecal_audit_entry_compute_hash (&a, hash_a);
  b.user_name = (char *) "a";
  b.action = (char *) "bc";
  _thecal_audit_entry_compute_hash (&b, hash_b);
  ck_assert_int_ne (memcmp (hash_a, hash_b, 32), 0);
  b = a;
  b.reason = (char *) "";
  _thecal_audit_entry_compute_hash (&b, hash_b);
  ck_assert_int_ne (memcmp (hash_a, hash_b, 32), 0);
  b = a;
  b.object_id = -1;
  _thecal_audit_entry_compute_hash (&b, hash_b);
  ck_assert_int_ne (memcmp (hash_a, hash_b, 32), 0);
  b = a;
  b.seq = 8;
  _thecal_audit_entry_compute_hash (&b, hash_b);
  ck_assert_int_ne (memcmp (hash_a, hash_b, 32), 0);
  b = a;
  b.prev_hash[31] = 1;
  _thecal_audit_entry_compute_hash (&b, hash_b);
  ck_assert_int_ne (memcmp (hash_a, hash_b, 32), 0);
}
END_TEST

START_TEST (test_hex_round_trip)
{
  guint8 hash[32];
  guint8 back[32];
  g_autofree char *hex = NULL;

  for (int i = 0; i < 32; i++)
    hash[i] = (guint8) (i * 9);
  hex = thecal_audit_hash_to_hex (hash);
  ck_assert_uint_eq (strlen (hex), 64);
  ck_assert (thecal_audit_hash_from_hex (hex, back));
  ck_assert_int_eq (memcmp (hash, back, 32), 0);
  ck_assert (!thecal_audit_hash_from_hex ("00", back));
  hex[5] = 'g';
  ck_assert (!thecal_audit_hash_from_hex (hex, back));
}
END_TEST

/* ---- A record with a trail -------------------------------------------------------------------- */

static char *path = NULL;
static GPtrArray *written = NULL; /* the entries as written, before any tampering */

/* Entries: 1 record.create, 2 user.create, 3..12 patient.create (MRN-0 .. MRN-9). */
static void
trail_setup (void)
{
  record_test_setup ();
  path = test_path ("record.sqlite");
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);

    for (int i = 0; i < 10; i++)
      {
        g_autofree char *mrn = g_strdup_printf ("MRN-%d", i);
        g_autoptr (ThecalPatient) patient = add_patient (record, admin, mrn, "DOE, Jane");
      }
    written = list_audit (record);
  }
  ck_assert_uint_eq (written->len, 12);
}

static void
trail_teardown (void)
{
  g_clear_pointer (&written, g_ptr_array_unref);
  g_clear_pointer (&path, g_free);
  record_test_teardown ();
}

static ThecalAuditVerification *
verify_file (gint64 anchor_seq, const guint8 *anchor_hash)
{
  g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);

  return verify_audit (record, anchor_seq, anchor_hash);
}

static void
assert_problem (const ThecalAuditVerification *verification, ThecalAuditProblem problem, gint64 bad_seq)
{
  ck_assert_msg (verification->problem == problem && verification->bad_seq == bad_seq,
                 "expected %s at %" G_GINT64_FORMAT ", got %s at %" G_GINT64_FORMAT ": %s",
                 thecal_audit_problem_name (problem), bad_seq, thecal_audit_problem_name (verification->problem),
                 verification->bad_seq, verification->message);
}

/* What an attacker with the sqlite3 shell does first: drop the triggers, ignore the CHECKs. */
#define DROP_TRIGGERS "PRAGMA ignore_check_constraints = ON; DROP TRIGGER audit_append_only_update; " \
                      "DROP TRIGGER audit_append_only_delete; DROP TRIGGER audit_append_only_insert; "

/* ...and what a careful one does last: put the triggers back (the schema's own text). */
#define RESTORE_TRIGGERS                                                                           \
  "CREATE TRIGGER audit_append_only_insert BEFORE INSERT ON audit "                                \
  "WHEN NEW.seq IS NOT (SELECT coalesce (max (seq), 0) + 1 FROM audit) "                           \
  "BEGIN SELECT RAISE (ABORT, 'the audit trail only grows at its end'); END; "                     \
  "CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit "                                \
  "BEGIN SELECT RAISE (ABORT, 'the audit trail is append-only: an entry is never changed'); END; " \
  "CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit "                                \
  "BEGIN SELECT RAISE (ABORT, 'the audit trail is append-only: an entry is never removed'); END; "

START_TEST (test_intact)
{
  g_autoptr (ThecalAuditVerification) verification = verify_file (0, NULL);
  ThecalAuditEntry *last = written->pdata[written->len - 1];
  ThecalAuditEntry *first = written->pdata[0];
  ThecalAuditEntry *second = written->pdata[1];
  g_autofree char *head = thecal_audit_hash_to_hex (last->hash);

  assert_problem (verification, THECAL_AUDIT_INTACT, 0);
  ck_assert_int_eq (verification->n_entries, 12);
  ck_assert_int_eq (verification->head_seq, 12);
  ck_assert_int_eq (memcmp (verification->head_hash, last->hash, 32), 0);
  ck_assert_msg (strstr (verification->message, head) != NULL, "%s", verification->message);
  /* The chain as written: 1 links to zeros, each next to the one before. */
  ck_assert_str_eq (first->action, "record.create");
  ck_assert_str_eq (first->user_name, "thecal");
  ck_assert_int_eq (first->user_id, 0);
  for (int i = 0; i < 32; i++)
    ck_assert_int_eq (first->prev_hash[i], 0);
  ck_assert_int_eq (memcmp (second->prev_hash, first->hash, 32), 0);
  ck_assert_str_eq (second->action, "user.create");
  ck_assert_str_eq (((ThecalAuditEntry *) written->pdata[2])->action, "patient.create");
}
END_TEST

START_TEST (test_triggers_refuse)
{
  g_autofree char *out = NULL;

  ck_assert_int_ne (sqlite_shell (path, "UPDATE audit SET reason = 'x' WHERE seq = 3", &out), 0);
  ck_assert_msg (strstr (out, "append-only") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  ck_assert_int_ne (sqlite_shell (path, "DELETE FROM audit WHERE seq = 12", &out), 0);
  ck_assert_msg (strstr (out, "append-only") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  /* An entry slipped in anywhere but at the end. */
  ck_assert_int_ne (sqlite_shell (path, "INSERT INTO audit SELECT 20, at_utc_ms, user_id, user_name, action, "
                                        "object_type, object_id, patient_id, before, after, reason, prev_hash, hash "
                                        "FROM audit WHERE seq = 12",
                                  &out),
                    0);
  ck_assert_msg (strstr (out, "only grows at its end") != NULL, "%s", out);
  {
    g_autoptr (ThecalAuditVerification) verification = verify_file (0, NULL);

    assert_problem (verification, THECAL_AUDIT_INTACT, 0);
  }
}
END_TEST

START_TEST (test_altered_field)
{
  /* Each field of entry 5, altered alone: the verifier names entry 5. */
  static const char *const alterations[] = {
    "UPDATE audit SET reason = 'nothing to see' WHERE seq = 5",
    "UPDATE audit SET after = replace (after, 'DOE', 'ROE') WHERE seq = 5",
    "UPDATE audit SET after = NULL WHERE seq = 5",
    "UPDATE audit SET at_utc_ms = at_utc_ms + 1 WHERE seq = 5",
    "UPDATE audit SET user_name = 'someone' WHERE seq = 5",
    "UPDATE audit SET user_id = NULL WHERE seq = 5",
    "UPDATE audit SET action = 'patient.read' WHERE seq = 5",
    "UPDATE audit SET patient_id = 1 WHERE seq = 5",
    "UPDATE audit SET hash = zeroblob (32) WHERE seq = 5",
    "UPDATE audit SET hash = X'00' WHERE seq = 5",
  };
  g_autofree char *pristine = g_strconcat (path, ".pristine", NULL);
  g_autofree char *bytes = NULL;
  gsize length = 0;

  ck_assert (g_file_get_contents (path, &bytes, &length, NULL));
  ck_assert (g_file_set_contents (pristine, bytes, (gssize) length, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (alterations); i++)
    {
      g_autofree char *sql = g_strconcat (DROP_TRIGGERS, alterations[i], NULL);
      g_autoptr (ThecalAuditVerification) verification = NULL;

      ck_assert (g_file_set_contents (path, bytes, (gssize) length, NULL));
      sqlite_shell_ok (path, sql);
      verification = verify_file (0, NULL);
      ck_assert_msg (verification->problem == THECAL_AUDIT_ALTERED && verification->bad_seq == 5, "%s: %s at %" G_GINT64_FORMAT ": %s", alterations[i], thecal_audit_problem_name (verification->problem),
                     verification->bad_seq, verification->message);
      ck_assert (strstr (verification->message, "Entry 5 was altered") != NULL);
    }
}
END_TEST

START_TEST (test_removed)
{
  g_autoptr (ThecalAuditVerification) verification = NULL;

  sqlite_shell_ok (path, DROP_TRIGGERS "DELETE FROM audit WHERE seq = 7");
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_REMOVED, 7);
  ck_assert_msg (strstr (verification->message, "Entry 7 was removed") != NULL, "%s", verification->message);
}
END_TEST

START_TEST (test_removed_first)
{
  g_autoptr (ThecalAuditVerification) verification = NULL;

  sqlite_shell_ok (path, DROP_TRIGGERS "DELETE FROM audit WHERE seq = 1");
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_REMOVED, 1);
}
END_TEST

START_TEST (test_removed_and_renumbered)
{
  /* Entries 4 and 5 removed, the later ones renumbered down to close the gap. */
  g_autoptr (ThecalAuditVerification) verification = NULL;

  sqlite_shell_ok (path, DROP_TRIGGERS "DELETE FROM audit WHERE seq IN (4, 5); "
                                       "UPDATE audit SET seq = -seq WHERE seq > 5; "
                                       "UPDATE audit SET seq = -seq - 2 WHERE seq < 0;");
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_REMOVED, 4);
  ck_assert_int_eq (verification->written_as_seq, 6);
}
END_TEST

static void
swap (gint64 i, gint64 j)
{
  g_autofree char *sql = g_strdup_printf (DROP_TRIGGERS "UPDATE audit SET seq = -1 WHERE seq = %" G_GINT64_FORMAT "; "
                                                        "UPDATE audit SET seq = %" G_GINT64_FORMAT " WHERE seq = %" G_GINT64_FORMAT "; "
                                                        "UPDATE audit SET seq = %" G_GINT64_FORMAT " WHERE seq = -1;",
                                          i, i, j, j);

  sqlite_shell_ok (path, sql);
}

START_TEST (test_reordered)
{
  g_autoptr (ThecalAuditVerification) verification = NULL;

  swap (4, 9);
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_REORDERED, 4);
  ck_assert_int_eq (verification->written_as_seq, 9);
  ck_assert_msg (strstr (verification->message, "Entry 4 is out of order") != NULL, "%s", verification->message);
}
END_TEST

START_TEST (test_reordered_adjacent)
{
  g_autoptr (ThecalAuditVerification) verification = NULL;

  swap (10, 11);
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_REORDERED, 10);
  ck_assert_int_eq (verification->written_as_seq, 11);
}
END_TEST

START_TEST (test_rehashed_entry)
{
  /* An attacker who knows the encoding alters entry 6 and recomputes its hash: entry 6 looks
   * intact on its own, but entry 7 no longer links to it. */
  ThecalAuditEntry *entry = written->pdata[5];
  g_autofree char *hex = NULL;
  g_autofree char *sql = NULL;
  g_autoptr (ThecalAuditVerification) verification = NULL;
  guint8 hash[32];

  ck_assert_int_eq (entry->seq, 6);
  g_free (entry->reason);
  entry->reason = g_strdup ("rewritten");
  _thecal_audit_entry_compute_hash (entry, hash);
  hex = thecal_audit_hash_to_hex (hash);
  sql = g_strdup_printf (DROP_TRIGGERS "UPDATE audit SET reason = 'rewritten', hash = X'%s' WHERE seq = 6", hex);
  sqlite_shell_ok (path, sql);
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_UNLINKED, 6);
  ck_assert_msg (strstr (verification->message, "Entry 6 was altered and its hash recomputed") != NULL, "%s",
                 verification->message);
}
END_TEST

START_TEST (test_cut_tail_needs_anchor)
{
  /* Cutting the last entries leaves a chain that is valid as far as it goes: only an anchor (an
   * earlier head kept elsewhere, docs/security.md) shows it. */
  ThecalAuditEntry *anchor = written->pdata[11];
  g_autoptr (ThecalAuditVerification) without = NULL;
  g_autoptr (ThecalAuditVerification) with = NULL;
  g_autoptr (ThecalAuditVerification) before_cut = NULL;
  guint8 wrong[32] = { 1 };

  before_cut = verify_file (12, anchor->hash);
  assert_problem (before_cut, THECAL_AUDIT_INTACT, 0);
  g_clear_pointer (&before_cut, thecal_audit_verification_free);
  before_cut = verify_file (12, wrong);
  assert_problem (before_cut, THECAL_AUDIT_ANCHOR_MISMATCH, 12);

  sqlite_shell_ok (path, DROP_TRIGGERS "DELETE FROM audit WHERE seq > 10; " RESTORE_TRIGGERS);
  without = verify_file (0, NULL);
  assert_problem (without, THECAL_AUDIT_INTACT, 0);
  ck_assert_int_eq (without->n_entries, 10);
  with = verify_file (12, anchor->hash);
  assert_problem (with, THECAL_AUDIT_ANCHOR_MISMATCH, 12);
  ck_assert_msg (strstr (with->message, "no longer in the trail") != NULL, "%s", with->message);
}
END_TEST

START_TEST (test_protection_removed)
{
  /* The chain is intact, but a trigger is gone: the verifier says so and names it. */
  g_autoptr (ThecalAuditVerification) verification = NULL;

  sqlite_shell_ok (path, "DROP TRIGGER refills_no_update");
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_UNPROTECTED, 0);
  ck_assert_str_eq (verification->missing_trigger, "refills_no_update");
  ck_assert_int_eq (verification->n_entries, 12);
}
END_TEST

START_TEST (test_appended_forgery)
{
  /* A forged entry appended at the end with a made-up hash. */
  g_autoptr (ThecalAuditVerification) verification = NULL;

  sqlite_shell_ok (path, "INSERT INTO audit SELECT 13, at_utc_ms, user_id, user_name, 'patient.delete', object_type, "
                         "object_id, patient_id, before, after, reason, hash, randomblob (32) FROM audit WHERE seq = 12");
  verification = verify_file (0, NULL);
  assert_problem (verification, THECAL_AUDIT_ALTERED, 13);
}
END_TEST

START_TEST (test_keeps_growing_after_verify)
{
  /* Appends after a verification continue the chain from the stored head. */
  g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUser) admin = SYNC (thecal_record_login, record, &error, "admin", TEST_PASSWORD);
  ThecalAuditInput input = { "export", "patient", 1, 1, NULL, "{\"format\":\"csv\"}", NULL };
  g_autoptr (ThecalAuditEntry) entry = SYNC (thecal_record_append_audit, record, &error, admin, &input);
  g_autoptr (ThecalAuditVerification) verification = NULL;
  ThecalAuditEntry *last = written->pdata[written->len - 1];

  ck_assert_ptr_nonnull (entry);
  ck_assert_int_eq (entry->seq, 14); /* 13 was the login */
  ck_assert_str_eq (entry->user_name, "admin");
  verification = verify_audit (record, 12, last->hash);
  assert_problem (verification, THECAL_AUDIT_INTACT, 0);
  ck_assert_int_eq (verification->head_seq, 14);
}
END_TEST

static Suite *
record_audit_suite (void)
{
  Suite *suite = suite_create ("record-audit");
  TCase *encoding = tcase_create ("encoding");
  TCase *tamper = tcase_create ("tamper");

  tcase_add_test (encoding, test_encoding_known_answer);
  tcase_add_test (encoding, test_encoding_distinguishes);
  tcase_add_test (encoding, test_hex_round_trip);
  suite_add_tcase (suite, encoding);

  tcase_add_checked_fixture (tamper, trail_setup, trail_teardown);
  tcase_add_test (tamper, test_intact);
  tcase_add_test (tamper, test_triggers_refuse);
  tcase_add_test (tamper, test_altered_field);
  tcase_add_test (tamper, test_removed);
  tcase_add_test (tamper, test_removed_first);
  tcase_add_test (tamper, test_removed_and_renumbered);
  tcase_add_test (tamper, test_reordered);
  tcase_add_test (tamper, test_reordered_adjacent);
  tcase_add_test (tamper, test_rehashed_entry);
  tcase_add_test (tamper, test_cut_tail_needs_anchor);
  tcase_add_test (tamper, test_protection_removed);
  tcase_add_test (tamper, test_appended_forgery);
  tcase_add_test (tamper, test_keeps_growing_after_verify);
  suite_add_tcase (suite, tamper);
  return suite;
}

THECAL_TEST_MAIN (record_audit_suite)
