/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-permissions.c: THE permission table (DESIGN.md "Roles"). docs/security.md prints it;
 * tests/workflow/test-permissions.c reads that table back and compares it with this one.
 *
 * physician     everything clinical
 * nurse         interrogate, refill (and verify another's refill), reservoir update, the pump's
 *               clock and alarm acknowledgement, patients' details, histories; no dose change, no
 *               bolus, no override, no pump registration
 * administrator users and the drug library, the audit trail; no clinical data
 * demo          a physician's clinical rights; exists only inside a demo record (src/record
 *               refuses a demo user anywhere else)
 */
#include "config.h"

#include "thecal-permissions.h"

#include <glib/gi18n.h>

G_DEFINE_QUARK (thecal - workflow - error - quark, thecal_workflow_error)

#define PHYSICIAN (1u << THECAL_ROLE_PHYSICIAN)
#define NURSE (1u << THECAL_ROLE_NURSE)
#define ADMINISTRATOR (1u << THECAL_ROLE_ADMINISTRATOR)
#define DEMO (1u << THECAL_ROLE_DEMO)
#define CLINICAL (PHYSICIAN | NURSE | DEMO)
#define PRESCRIBER (PHYSICIAN | DEMO)

typedef struct
{
  ThecalPermission permission;
  const char *name;
  const char *description; /* N_() */
  guint roles;
} PermissionRow;

static const PermissionRow table[THECAL_N_PERMISSIONS] = {
  { THECAL_PERMISSION_PATIENT_READ, "patient.read", N_ ("see patients' details"), CLINICAL },
  { THECAL_PERMISSION_PATIENT_CREATE, "patient.create", N_ ("add a patient"), CLINICAL },
  { THECAL_PERMISSION_PATIENT_CORRECT, "patient.correct", N_ ("correct a patient's details"), CLINICAL },
  { THECAL_PERMISSION_PUMP_READ, "pump.read", N_ ("see pumps"), CLINICAL },
  { THECAL_PERMISSION_PUMP_CREATE, "pump.create", N_ ("register an implanted pump"), PRESCRIBER },
  { THECAL_PERMISSION_PUMP_CHANGE, "pump.change", N_ ("correct a pump or record its explant"), PRESCRIBER },
  { THECAL_PERMISSION_HISTORY_READ, "history.read", N_ ("see a patient's history"), CLINICAL },
  { THECAL_PERMISSION_PATIENT_EXPORT, "patient.export", N_ ("export a patient's record"), CLINICAL },
  { THECAL_PERMISSION_PUMP_INTERROGATE, "pump.interrogate", N_ ("interrogate a pump"), CLINICAL },
  { THECAL_PERMISSION_PRESCRIPTION_CHANGE, "prescription.change", N_ ("change a prescription"), PRESCRIBER },
  { THECAL_PERMISSION_LIMIT_OVERRIDE, "limit.override", N_ ("override a soft dose limit"), PRESCRIBER },
  { THECAL_PERMISSION_BOLUS, "bolus", N_ ("give a clinician bolus"), PRESCRIBER },
  { THECAL_PERMISSION_REFILL, "refill", N_ ("record a refill"), CLINICAL },
  { THECAL_PERMISSION_REFILL_VERIFY, "refill.verify", N_ ("verify another person's refill"), CLINICAL },
  { THECAL_PERMISSION_RESERVOIR_UPDATE, "reservoir.update", N_ ("update the reservoir volume"), CLINICAL },
  { THECAL_PERMISSION_EVENTS_IMPORT, "events.import", N_ ("import a pump's event log"), CLINICAL },
  { THECAL_PERMISSION_USER_MANAGE, "user.manage", N_ ("manage users"), ADMINISTRATOR },
  { THECAL_PERMISSION_DRUG_LIBRARY_EDIT, "drug_library.edit", N_ ("edit the drug library"), ADMINISTRATOR },
  { THECAL_PERMISSION_AUDIT_VERIFY, "audit.verify", N_ ("verify the audit trail"), CLINICAL | ADMINISTRATOR },
  { THECAL_PERMISSION_AUDIT_EXPORT, "audit.export", N_ ("export the audit trail"), ADMINISTRATOR },
  { THECAL_PERMISSION_OWN_PASSWORD, "password.own", N_ ("change one's own password"), CLINICAL | ADMINISTRATOR },
  /* pump upkeep at the visit, no dose change (docs/security.md "Decisions") */
  { THECAL_PERMISSION_PUMP_CLOCK, "pump.clock", N_ ("set a pump's clock to the clinic's time"), CLINICAL },
  { THECAL_PERMISSION_ALARM_ACKNOWLEDGE, "alarm.acknowledge", N_ ("acknowledge a pump's alarm"), CLINICAL },
};

static const PermissionRow *
row_of (ThecalPermission permission)
{
  if ((guint) permission >= THECAL_N_PERMISSIONS)
    return NULL;
  /* The table is indexed by the enum; a row out of place is a programming error. */
  g_assert (table[permission].permission == permission);
  return &table[permission];
}

const char *
thecal_permission_name (ThecalPermission permission)
{
  const PermissionRow *row = row_of (permission);

  return row != NULL ? row->name : "?";
}

gboolean
thecal_permission_from_name (const char *name, ThecalPermission *permission)
{
  for (guint i = 0; name != NULL && i < THECAL_N_PERMISSIONS; i++)
    if (g_str_equal (table[i].name, name))
      {
        *permission = table[i].permission;
        return TRUE;
      }
  return FALSE;
}

const char *
thecal_permission_describe (ThecalPermission permission)
{
  const PermissionRow *row = row_of (permission);

  return row != NULL ? _ (row->description) : "?";
}

gboolean
thecal_role_may (ThecalRole role, ThecalPermission permission)
{
  const PermissionRow *row = row_of (permission);

  if (row == NULL || (guint) role >= THECAL_N_ROLES)
    return FALSE;
  return (row->roles & (1u << role)) != 0;
}

/* "a physician or a demo user" */
static char *
who_may (ThecalPermission permission)
{
  static const char *const role_words[THECAL_N_ROLES] = {
    [THECAL_ROLE_PHYSICIAN] = N_ ("a physician"),
    [THECAL_ROLE_NURSE] = N_ ("a nurse"),
    [THECAL_ROLE_ADMINISTRATOR] = N_ ("an administrator"),
    [THECAL_ROLE_DEMO] = N_ ("a demo user"),
  };
  g_autoptr (GPtrArray) words = g_ptr_array_new ();
  GString *text = g_string_new (NULL);

  for (guint role = 0; role < THECAL_N_ROLES; role++)
    if (thecal_role_may ((ThecalRole) role, permission))
      g_ptr_array_add (words, (gpointer) _ (role_words[role]));
  for (guint i = 0; i < words->len; i++)
    {
      if (i > 0)
        g_string_append (text, i + 1 == words->len ? _ (" or ") : ", ");
      g_string_append (text, words->pdata[i]);
    }
  return g_string_free (text, FALSE);
}

gboolean
thecal_permission_check (const ThecalUser *user, ThecalPermission permission, GError **error)
{
  g_autofree char *who = NULL;

  g_return_val_if_fail (user != NULL, FALSE);
  g_return_val_if_fail ((guint) permission < THECAL_N_PERMISSIONS, FALSE);

  if (thecal_role_may (user->role, permission))
    return TRUE;
  who = who_may (permission);
  g_set_error (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED,
               _ ("%s (%s) may not %s: only %s may (permission %s)."),
               user->full_name != NULL ? user->full_name : user->name, thecal_role_name (user->role),
               thecal_permission_describe (permission), who, thecal_permission_name (permission));
  return FALSE;
}
