/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-text.c: what the record accepts as text (codes, names, dates) and the words of
 * a name for the search index.
 *
 * Every refusal is THECAL_DB_ERROR_INVALID with one sentence naming the field, the value and
 * the rule, like the dose core's errors.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "thecal-record-private.h"

#define CODE_MAX_CHARS 32

gboolean
_thecal_record_check_code (const char *what, const char *value, GError **error)
{
  gsize length = value != NULL ? strlen (value) : 0;

  if (length == 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The %s is missing."), what);
      return FALSE;
    }
  for (gsize i = 0; i < length; i++)
    if (length > CODE_MAX_CHARS
        || !(g_ascii_isalnum (value[i]) || value[i] == '-' || value[i] == '/' || value[i] == '.' || value[i] == '_'))
      {
        g_autofree char *shown = g_utf8_make_valid (value, -1);

        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                     _ ("The %s “%s” is not valid: use 1 to %d letters, digits, “-”, “/”, “.” or “_”."),
                     what, shown, CODE_MAX_CHARS);
        return FALSE;
      }
  return TRUE;
}

gboolean
_thecal_record_check_text (const char *what, const char *value, gsize max_bytes, gboolean required, GError **error)
{
  g_autofree char *trimmed = NULL;

  if (value == NULL || value[0] == '\0')
    {
      if (!required)
        return TRUE;
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The %s is missing."), what);
      return FALSE;
    }
  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The %s is not valid UTF-8 text."), what);
      return FALSE;
    }
  if (strlen (value) > max_bytes)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The %s is too long: %zu bytes, at most %zu."), what, strlen (value), max_bytes);
      return FALSE;
    }
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) && c != '\n' && c != '\t')
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("The %s contains a control character (U+%04X)."), what, (guint) c);
          return FALSE;
        }
    }
  trimmed = g_strstrip (g_strdup (value));
  if (required && trimmed[0] == '\0')
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The %s is missing."), what);
      return FALSE;
    }
  return TRUE;
}

gboolean
_thecal_record_check_date (const char *what, const char *value, gboolean not_future, GError **error)
{
  int year = 0;
  int month = 0;
  int day = 0;
  gboolean shape = value != NULL && strlen (value) == 10 && value[4] == '-' && value[7] == '-';

  for (int i = 0; shape && i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (value[i]))
      shape = FALSE;
  if (shape)
    {
      year = atoi (value);
      month = atoi (value + 5);
      day = atoi (value + 8);
    }
  if (!shape || year < 1900 || year > 9999 || !g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year))
    {
      g_autofree char *shown = g_utf8_make_valid (value != NULL ? value : "", -1);

      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The %s “%s” is not a date: write it as YYYY-MM-DD (e.g. 1961-04-12), from 1900 on."),
                   what, shown);
      return FALSE;
    }
  if (not_future)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

      if (strcmp (value, today) > 0)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("The %s %s is in the future (today is %s)."), what, value, today);
          return FALSE;
        }
    }
  return TRUE;
}

/* NFKD, drop the combining marks (accents), case-fold: "Müller" → "muller", "STRAẞE" → "strasse". */
static char *
fold (const char *word)
{
  g_autofree char *decomposed = g_utf8_normalize (word, -1, G_NORMALIZE_NFKD);
  g_autoptr (GString) bare = g_string_new (NULL);

  if (decomposed == NULL)
    return g_strdup ("");
  for (const char *p = decomposed; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_type (c) != G_UNICODE_NON_SPACING_MARK && g_unichar_type (c) != G_UNICODE_SPACING_MARK
          && g_unichar_type (c) != G_UNICODE_ENCLOSING_MARK)
        g_string_append_unichar (bare, c);
    }
  return g_utf8_casefold (bare->str, (gssize) bare->len);
}

GPtrArray *
_thecal_record_search_tokens (const char *text)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *folded = NULL;
  g_autoptr (GString) word = g_string_new (NULL);

  if (text == NULL || !g_utf8_validate (text, -1, NULL))
    return tokens;
  folded = fold (text);
  /* Words are runs of letters and digits; anything else ("," "-" "'" " ") separates them. */
  for (const char *p = folded;; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c != 0 && g_unichar_isalnum (c))
        g_string_append_unichar (word, c);
      else
        {
          if (word->len > 0)
            {
              gboolean seen = FALSE;

              for (guint i = 0; i < tokens->len && !seen; i++)
                seen = g_str_equal (tokens->pdata[i], word->str);
              if (!seen)
                g_ptr_array_add (tokens, g_strdup (word->str));
              g_string_truncate (word, 0);
            }
          if (c == 0)
            break;
        }
    }
  return tokens;
}

void
_thecal_record_json_int (cJSON *object, const char *key, gint64 value)
{
  char digits[24];

  g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, value);
  cJSON_AddItemToObject (object, key, cJSON_CreateRaw (digits));
}

void
_thecal_record_json_text (cJSON *object, const char *key, const char *text)
{
  if (text == NULL)
    cJSON_AddItemToObject (object, key, cJSON_CreateNull ());
  else
    cJSON_AddItemToObject (object, key, cJSON_CreateString (text));
}

void
_thecal_record_json_bool (cJSON *object, const char *key, gboolean value)
{
  cJSON_AddItemToObject (object, key, cJSON_CreateBool (value));
}

char *
_thecal_record_json_print (cJSON *object)
{
  char *printed = cJSON_PrintUnformatted (object);
  char *text = g_strdup (printed);

  cJSON_free (printed);
  cJSON_Delete (object);
  return text;
}

/* ---- the pairing key as delivered with a pump --------------------------------------------------- */

static gboolean
is_key_separator (gunichar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-';
}

gboolean
thecal_pairing_key_parse (const char *text, guint8 key[THECAL_PAIRING_KEY_BYTES], GError **error)
{
  /* the characters that are not separators, as code points: at most one more than a key holds
   * is kept (enough to tell "too many"), the rest only counted */
  gunichar digits[2 * THECAL_PAIRING_KEY_BYTES + 1];
  gsize n = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (key != NULL, FALSE);
  memset (key, 0, THECAL_PAIRING_KEY_BYTES);
  if (text == NULL || !g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("Pairing key: not text; it is 64 hexadecimal digits (0–9, a–f)."));
      return FALSE;
    }
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_key_separator (c))
        continue;
      if (n < G_N_ELEMENTS (digits))
        digits[n] = c;
      n++;
    }
  /* a character that is no hexadecimal digit is named first (with its neighbour: the byte) */
  for (gsize i = 0; ok && i < MIN (n, G_N_ELEMENTS (digits)); i++)
    if (digits[i] >= 0x80 || !g_ascii_isxdigit ((char) digits[i]))
      {
        gsize first = i - i % 2;
        char pair[16] = { 0 };
        gint length = g_unichar_to_utf8 (digits[first], pair);

        if (first + 1 < MIN (n, G_N_ELEMENTS (digits)))
          g_unichar_to_utf8 (digits[first + 1], pair + length);
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("Pairing key: “%s” is not a hexadecimal byte"), pair);
        memset (pair, 0, sizeof pair);
        ok = FALSE;
      }
  if (ok && n == 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("Pairing key: enter the 64 hexadecimal digits delivered with the pump."));
      ok = FALSE;
    }
  else if (ok && n != 2 * THECAL_PAIRING_KEY_BYTES)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("Pairing key: 64 hexadecimal digits, not %lu"),
                   (unsigned long) n);
      ok = FALSE;
    }
  for (gsize i = 0; ok && i < THECAL_PAIRING_KEY_BYTES; i++)
    key[i] = (guint8) (g_ascii_xdigit_value ((char) digits[2 * i]) << 4 | g_ascii_xdigit_value ((char) digits[2 * i + 1]));
  memset (digits, 0, sizeof digits);
  return ok;
}
