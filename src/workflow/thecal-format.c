/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-format.c: see thecal-format.h.
 */
#include "config.h"

#include "thecal-format.h"

#include <glib/gi18n.h>

char *
thecal_format_quantity (ThecalQuantityKind kind, gint64 value)
{
  char buf[THECAL_QUANTITY_TEXT_MAX] = "";

  thecal_quantity_format (kind, value, buf, sizeof buf);
  return g_strdup (buf);
}

char *
thecal_format_instant (gint64 local_ms)
{
  g_autoptr (GDateTime) date_time = NULL;
  gint64 seconds;

  if (local_ms == G_MAXINT64)
    return g_strdup (_ ("never"));
  /* floor division: instants before 1970 stay correct; the seconds are not shown, so the time
   * shown is never later than the real one */
  seconds = local_ms / 1000 - (local_ms % 1000 < 0 ? 1 : 0);
  date_time = g_date_time_new_from_unix_utc (seconds);
  if (date_time == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT " ms", local_ms);
  return g_date_time_format (date_time, "%Y-%m-%d %H:%M");
}

const char *
thecal_format_drug (const ThecalDrugLibrary *library, const char *drug_id)
{
  const ThecalDrug *drug = library != NULL && drug_id != NULL ? thecal_drug_library_find (library, drug_id) : NULL;

  if (drug != NULL && drug->display_name[0] != '\0')
    return drug->display_name;
  return drug_id != NULL ? drug_id : "";
}

const char *
thecal_format_mode (ThecalMode mode)
{
  switch (mode)
    {
    case THECAL_MODE_CONTINUOUS:
      return _ ("Continuous");
    case THECAL_MODE_FLEX:
      return _ ("Flex schedule");
    case THECAL_MODE_MINIMUM_RATE:
      return _ ("Minimum rate");
    case THECAL_MODE_STOPPED:
      return _ ("Stopped");
    case THECAL_MODE_N_MODES:
    default:
      return thecal_mode_name (mode);
    }
}

const char *
thecal_format_alarm_name (ThecalProtoAlarm kind)
{
  switch (kind)
    {
    case THECAL_PROTO_ALARM_LOW_RESERVOIR:
      return _ ("Low reservoir");
    case THECAL_PROTO_ALARM_RESERVOIR_EMPTY:
      return _ ("Reservoir empty");
    case THECAL_PROTO_ALARM_ERI:
      return _ ("Elective replacement indicator (ERI)");
    case THECAL_PROTO_ALARM_EOS:
      return _ ("End of service (EOS)");
    case THECAL_PROTO_ALARM_MOTOR_STALL:
      return _ ("Motor stall");
    case THECAL_PROTO_ALARM_MEMORY_ERROR:
      return _ ("Critical memory error");
    case THECAL_PROTO_ALARM_N_KINDS:
    default:
      return _ ("Unknown alarm");
    }
}

const char *
thecal_format_alarm_action (ThecalProtoAlarm kind)
{
  switch (kind)
    {
    case THECAL_PROTO_ALARM_LOW_RESERVOIR:
      return _ ("Refill the pump before the empty date.");
    case THECAL_PROTO_ALARM_RESERVOIR_EMPTY:
      return _ ("Medication is no longer flowing: refill now and watch for withdrawal.");
    case THECAL_PROTO_ALARM_ERI:
      return _ ("Schedule the replacement of the pump before end of service.");
    case THECAL_PROTO_ALARM_EOS:
      return _ ("Medication is no longer flowing: replace the pump and watch for withdrawal.");
    case THECAL_PROTO_ALARM_MOTOR_STALL:
      return _ ("Medication may no longer flow: examine the patient for withdrawal and arrange a replacement.");
    case THECAL_PROTO_ALARM_MEMORY_ERROR:
      return _ ("The pump's settings cannot be trusted: do not program it; contact the manufacturer.");
    case THECAL_PROTO_ALARM_N_KINDS:
    default:
      return _ ("Interrogate the pump again and follow the manufacturer's guidance.");
    }
}

const char *
thecal_format_role (ThecalRole role)
{
  switch (role)
    {
    case THECAL_ROLE_PHYSICIAN:
      return C_ ("role", "physician");
    case THECAL_ROLE_NURSE:
      return C_ ("role", "nurse");
    case THECAL_ROLE_ADMINISTRATOR:
      return C_ ("role", "administrator");
    case THECAL_ROLE_DEMO:
      return C_ ("role", "demo");
    case THECAL_N_ROLES:
    default:
      return thecal_role_name (role);
    }
}

char *
thecal_format_duration (gint64 ms)
{
  static const gint64 unit_ms[] = { INT64_C (86400000), INT64_C (3600000), INT64_C (60000), INT64_C (1000), INT64_C (1) };
  GString *text = g_string_new (NULL);
  gint64 rest = MAX (ms, 0);

  /* whole units, largest first: each part in the dose core's duration format */
  for (gsize i = 0; i < G_N_ELEMENTS (unit_ms); i++)
    {
      gint64 part = rest / unit_ms[i] * unit_ms[i];
      g_autofree char *t = NULL;

      if (part == 0 && !(i + 1 == G_N_ELEMENTS (unit_ms) && text->len == 0))
        continue;
      rest -= part;
      t = thecal_format_quantity (THECAL_QUANTITY_DURATION, part);
      g_string_append_printf (text, "%s%s", text->len > 0 ? " " : "", t);
    }
  return g_string_free (text, FALSE);
}
