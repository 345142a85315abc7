/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-output.c: collected output, quantity text and exact JSON integers.
 */
#include "config.h"

#include "thecal-cli-output.h"

#include <glib/gi18n.h>
#include <inttypes.h>

ThecalCliOutput *
thecal_cli_output_new (void)
{
  ThecalCliOutput *out = g_new0 (ThecalCliOutput, 1);

  out->text = g_string_new (NULL);
  out->refusal = g_string_new (NULL);
  out->json = cJSON_CreateObject ();
  out->strings = g_string_chunk_new (1024);
  return out;
}

void
thecal_cli_output_free (ThecalCliOutput *out)
{
  if (out == NULL)
    return;
  g_string_free (out->text, TRUE);
  g_string_free (out->refusal, TRUE);
  cJSON_Delete (out->json);
  g_string_chunk_free (out->strings);
  g_free (out);
}

void
thecal_cli_print (ThecalCliOutput *out, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_string_append_vprintf (out->text, format, args);
  va_end (args);
}

void
thecal_cli_refuse (ThecalCliOutput *out, const char *format, ...)
{
  va_list args;

  out->refused = TRUE;
  va_start (args, format);
  g_string_append_vprintf (out->refusal, format, args);
  va_end (args);
  g_string_append_c (out->refusal, '\n');
}

const char *
thecal_cli_strdup (ThecalCliOutput *out, const char *text)
{
  return g_string_chunk_insert (out->strings, text != NULL ? text : "");
}

const char *
thecal_cli_q (ThecalCliOutput *out, ThecalQuantityKind kind, int64_t value)
{
  char buf[THECAL_QUANTITY_TEXT_MAX] = "";

  thecal_quantity_format (kind, value, buf, sizeof buf);
  return thecal_cli_strdup (out, buf);
}

/* Floor division and remainder for ms (instants before 1970 stay correct). */
static void
split_ms (int64_t ms, int64_t unit, int64_t *quotient, int64_t *remainder)
{
  *quotient = ms / unit;
  *remainder = ms % unit;
  if (*remainder < 0)
    {
      *quotient -= 1;
      *remainder += unit;
    }
}

/* Pump-local ms are shown as they are: the pump's wall clock, no time zone. Sub-second parts
 * are not shown (the JSON has them), so the shown time is never later than the real one.
 * Returns NULL when the instant is outside the years GDateTime can show. */
static char *
format_instant (int64_t local_ms)
{
  g_autoptr (GDateTime) date_time = NULL;
  int64_t seconds;
  int64_t ms;

  split_ms (local_ms, 1000, &seconds, &ms);
  date_time = g_date_time_new_from_unix_utc (seconds);
  if (date_time == NULL)
    return NULL;
  if (g_date_time_get_second (date_time) != 0)
    return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d",
                            g_date_time_get_year (date_time),
                            g_date_time_get_month (date_time),
                            g_date_time_get_day_of_month (date_time),
                            g_date_time_get_hour (date_time),
                            g_date_time_get_minute (date_time),
                            g_date_time_get_second (date_time));
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d",
                          g_date_time_get_year (date_time),
                          g_date_time_get_month (date_time),
                          g_date_time_get_day_of_month (date_time),
                          g_date_time_get_hour (date_time),
                          g_date_time_get_minute (date_time));
}

const char *
thecal_cli_instant (ThecalCliOutput *out, int64_t local_ms)
{
  g_autofree char *text = NULL;

  if (local_ms == INT64_MAX)
    return thecal_cli_strdup (out, _ ("never"));
  text = format_instant (local_ms);
  if (text == NULL)
    text = g_strdup_printf ("%" PRId64 " ms", local_ms);
  return thecal_cli_strdup (out, text);
}

const char *
thecal_cli_time_of_day (ThecalCliOutput *out, int64_t ms_of_day)
{
  g_autofree char *text = NULL;
  int64_t minutes;
  int64_t ms;

  split_ms (ms_of_day, THECAL_MS_PER_MINUTE, &minutes, &ms);
  if (ms == 0)
    text = g_strdup_printf ("%02" PRId64 ":%02" PRId64, minutes / 60, minutes % 60);
  else if (ms % 1000 == 0)
    text = g_strdup_printf ("%02" PRId64 ":%02" PRId64 ":%02" PRId64,
                            minutes / 60, minutes % 60, ms / 1000);
  else
    text = g_strdup_printf ("%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
                            minutes / 60, minutes % 60, ms / 1000, ms % 1000);
  return thecal_cli_strdup (out, text);
}

const char *
thecal_cli_duration (ThecalCliOutput *out, int64_t ms)
{
  g_autoptr (GString) text = g_string_new (NULL);
  int64_t days, hours, minutes, seconds, rest;

  if (ms == INT64_MAX)
    return thecal_cli_strdup (out, _ ("unlimited"));
  if (ms < 0)
    {
      g_string_append_c (text, '-');
      ms = ms == INT64_MIN ? INT64_MAX : -ms;
    }
  days = ms / THECAL_MS_PER_DAY;
  rest = ms % THECAL_MS_PER_DAY;
  hours = rest / THECAL_MS_PER_HOUR;
  rest %= THECAL_MS_PER_HOUR;
  minutes = rest / THECAL_MS_PER_MINUTE;
  rest %= THECAL_MS_PER_MINUTE;
  seconds = rest / 1000;
  rest %= 1000;

  /* Units are the ones thecal_quantity_parse reads, so the text can be typed back in. */
  if (days > 0)
    g_string_append_printf (text, "%" PRId64 " %s ", days, days == 1 ? "day" : "days");
  if (hours > 0)
    g_string_append_printf (text, "%" PRId64 " h ", hours);
  if (minutes > 0)
    g_string_append_printf (text, "%" PRId64 " min ", minutes);
  if (rest > 0)
    {
      /* Milliseconds as a decimal fraction of a second, without trailing zeros (ISMP). */
      char frac[8];
      int n;

      g_snprintf (frac, sizeof frac, "%03" PRId64, rest);
      n = 3;
      while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
      g_string_append_printf (text, "%" PRId64 ".%s s ", seconds, frac);
    }
  else if (seconds > 0 || text->len == 0 || (text->len == 1 && text->str[0] == '-'))
    g_string_append_printf (text, "%" PRId64 " s ", seconds);
  if (text->len > 0 && text->str[text->len - 1] == ' ')
    g_string_truncate (text, text->len - 1);
  return thecal_cli_strdup (out, text->str);
}

const char *
thecal_cli_json_unit_suffix (ThecalQuantityKind kind)
{
  switch (kind)
    {
    case THECAL_QUANTITY_AMOUNT:
      return "ng";
    case THECAL_QUANTITY_VOLUME:
      return "nl";
    case THECAL_QUANTITY_CONCENTRATION:
      return "ng_per_ml";
    case THECAL_QUANTITY_DOSE_RATE:
      return "ng_per_day";
    case THECAL_QUANTITY_VOLUME_RATE:
      return "nl_per_day";
    case THECAL_QUANTITY_DURATION:
      return "ms";
    case THECAL_QUANTITY_TIME_OF_DAY:
      return "min";
    case THECAL_QUANTITY_RATIO:
      return "bp";
    case THECAL_QUANTITY_LENGTH:
      return "mm";
    case THECAL_QUANTITY_N_KINDS:
    default:
      return "value";
    }
}

void
thecal_cli_json_int (cJSON *object, const char *key, int64_t value)
{
  char text[32];

  /* cJSON keeps numbers as doubles, exact only up to 2^53: write the digits ourselves. */
  g_snprintf (text, sizeof text, "%" PRId64, value);
  cJSON_AddItemToObject (object, key, cJSON_CreateRaw (text));
}

void
thecal_cli_json_bool (cJSON *object, const char *key, gboolean value)
{
  cJSON_AddItemToObject (object, key, cJSON_CreateBool (value ? 1 : 0));
}

void
thecal_cli_json_string (cJSON *object, const char *key, const char *value)
{
  if (value == NULL)
    cJSON_AddItemToObject (object, key, cJSON_CreateNull ());
  else
    cJSON_AddItemToObject (object, key, cJSON_CreateString (value));
}

void
thecal_cli_json_quantity (cJSON *object, const char *name, ThecalQuantityKind kind, int64_t value)
{
  char text[THECAL_QUANTITY_TEXT_MAX] = "";
  g_autofree char *key = g_strdup_printf ("%s_%s", name, thecal_cli_json_unit_suffix (kind));

  thecal_cli_json_int (object, key, value);
  thecal_quantity_format (kind, value, text, sizeof text);
  thecal_cli_json_string (object, name, text);
}

void
thecal_cli_json_instant (cJSON *object, const char *name, int64_t local_ms)
{
  g_autofree char *key = g_strdup_printf ("%s_local_ms", name);
  g_autofree char *text = NULL;

  if (local_ms == INT64_MAX)
    {
      cJSON_AddItemToObject (object, key, cJSON_CreateNull ());
      cJSON_AddItemToObject (object, name, cJSON_CreateNull ());
      return;
    }
  text = format_instant (local_ms);
  thecal_cli_json_int (object, key, local_ms);
  thecal_cli_json_string (object, name, text);
}

cJSON *
thecal_cli_json_object (cJSON *object, const char *key)
{
  cJSON *child = cJSON_CreateObject ();

  cJSON_AddItemToObject (object, key, child);
  return child;
}

cJSON *
thecal_cli_json_array (cJSON *object, const char *key)
{
  cJSON *child = cJSON_CreateArray ();

  cJSON_AddItemToObject (object, key, child);
  return child;
}

cJSON *
thecal_cli_json_append_object (cJSON *array)
{
  cJSON *child = cJSON_CreateObject ();

  cJSON_AddItemToArray (array, child);
  return child;
}
