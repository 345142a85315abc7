/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-permissions.h: who may do what (DESIGN.md "Roles"; docs/security.md "Roles and
 * permissions" prints the same table, and tests/workflow/test-permissions.c checks that the two
 * agree).
 *
 * The table lives in thecal-permissions.c and nowhere else. The GUI and the CLI reach the record
 * only through src/workflow, which checks every operation against it, so both obey the same
 * rules; a refusal is audited ("permission.denied") before it is reported.
 */
#pragma once

#include <glib.h>

#include "thecal-record-types.h"

G_BEGIN_DECLS

#define THECAL_WORKFLOW_ERROR (thecal_workflow_error_quark ())
GQuark thecal_workflow_error_quark (void);

typedef enum
{
  THECAL_WORKFLOW_ERROR_FAILED = 0,
  THECAL_WORKFLOW_ERROR_PERMISSION_DENIED, /* the role may not do this (audited) */
} ThecalWorkflowError;

typedef enum
{
  THECAL_PERMISSION_PATIENT_READ = 0,
  THECAL_PERMISSION_PATIENT_CREATE,
  THECAL_PERMISSION_PATIENT_CORRECT,
  THECAL_PERMISSION_PUMP_READ,
  THECAL_PERMISSION_PUMP_CREATE,
  THECAL_PERMISSION_PUMP_CHANGE,
  THECAL_PERMISSION_HISTORY_READ,
  THECAL_PERMISSION_PATIENT_EXPORT,
  THECAL_PERMISSION_PUMP_INTERROGATE,
  THECAL_PERMISSION_PRESCRIPTION_CHANGE,
  THECAL_PERMISSION_LIMIT_OVERRIDE,
  THECAL_PERMISSION_BOLUS,
  THECAL_PERMISSION_REFILL,
  THECAL_PERMISSION_REFILL_VERIFY,
  THECAL_PERMISSION_RESERVOIR_UPDATE,
  THECAL_PERMISSION_EVENTS_IMPORT,
  THECAL_PERMISSION_USER_MANAGE,
  THECAL_PERMISSION_DRUG_LIBRARY_EDIT,
  THECAL_PERMISSION_AUDIT_VERIFY,
  THECAL_PERMISSION_AUDIT_EXPORT,
  THECAL_PERMISSION_OWN_PASSWORD,
  THECAL_PERMISSION_PUMP_CLOCK,        /* set a pump's clock to the clinic's time */
  THECAL_PERMISSION_ALARM_ACKNOWLEDGE, /* acknowledge a pump's alarm */
  THECAL_N_PERMISSIONS,
} ThecalPermission;

/* "patient.create": the name in the audit trail and in docs/security.md. */
const char *thecal_permission_name (ThecalPermission permission);
gboolean thecal_permission_from_name (const char *name, ThecalPermission *permission);
/* "add a patient" (translated): what the permission allows, for messages. */
const char *thecal_permission_describe (ThecalPermission permission);

/* The table itself. */
gboolean thecal_role_may (ThecalRole role, ThecalPermission permission);

/* FALSE with THECAL_WORKFLOW_ERROR_PERMISSION_DENIED when @user's role may not: "Jane Roe
 * (nurse) may not change a prescription: only a physician or a demo user may (permission
 * prescription.change)." The caller audits the refusal (ThecalRecordSession does). */
gboolean thecal_permission_check (const ThecalUser *user, ThecalPermission permission, GError **error);

G_END_DECLS
