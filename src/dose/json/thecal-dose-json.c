/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-dose-json.c: the loaders of the drug library, pump model and prescription files and the
 * prescription writer (docs/formats.md is the specification; its examples are loaded by
 * tests/dose/test-dose-json.c, so the two cannot drift apart).
 *
 * Rules every loader follows:
 *  - every quantity is text read by thecal_quantity_parse (exact, unit required);
 *  - "format" and "version" are checked first, so a wrong or newer file gets a clear message;
 *  - unknown and duplicate keys are refused: a typo must never silently drop a limit;
 *  - array lengths are checked against the struct maxima before anything is read;
 *  - the file is read into a private copy, validated as a whole, and only then copied out:
 *    on any error the caller's struct is left untouched;
 *  - the error names the JSON path of the offending value ("drugs[2].limits[0].value"), or "$"
 *    for the document as a whole (size, syntax).
 *
 * This file is outside the pure core (cJSON allocates), but keeps its rules otherwise: no floating
 * point (JSON numbers are checked to be whole through cJSON's own printer, see read_integer),
 * no I/O.
 */
#include "config.h"

#include "thecal-dose-json.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_VERSION 1
#define FORMAT_DRUG_LIBRARY "thecal-drug-library"
#define FORMAT_PUMP_MODELS "thecal-pump-models"
#define FORMAT_PRESCRIPTION "thecal-prescription"

/* Long enough for any path the formats can produce; longer paths (only from unknown keys that
 * are refused anyway) are truncated. */
#define JSON_PATH_MAX 192

typedef struct
{
  char path[JSON_PATH_MAX];
  size_t length;
  ThecalDoseError *error; /* never NULL */
} JsonContext;

/* ------------------------------------------------------------------------------------------ */
/* Paths and errors                                                                             */

static const char *
path_text (const JsonContext *ctx)
{
  return ctx->length > 0 ? ctx->path : "$";
}

static void
path_set_length (JsonContext *ctx)
{
  ctx->length = strnlen (ctx->path, sizeof ctx->path);
}

static size_t
path_push_key (JsonContext *ctx, const char *key)
{
  size_t mark = ctx->length;

  if (ctx->length < sizeof ctx->path)
    snprintf (ctx->path + ctx->length, sizeof ctx->path - ctx->length, "%s%s", ctx->length > 0 ? "." : "", key);
  path_set_length (ctx);
  return mark;
}

static size_t
path_push_index (JsonContext *ctx, int index)
{
  size_t mark = ctx->length;

  if (ctx->length < sizeof ctx->path)
    snprintf (ctx->path + ctx->length, sizeof ctx->path - ctx->length, "[%d]", index);
  path_set_length (ctx);
  return mark;
}

static void
path_pop (JsonContext *ctx, size_t mark)
{
  ctx->length = mark;
  ctx->path[mark] = '\0';
}

static bool json_fail (JsonContext *ctx, ThecalDoseStatus code, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static bool
json_fail (JsonContext *ctx, ThecalDoseStatus code, const char *format, ...)
{
  char message[THECAL_ERROR_MESSAGE_MAX];
  va_list args;

  va_start (args, format);
  vsnprintf (message, sizeof message, format, args);
  va_end (args);
  return thecal_dose_error_set (ctx->error, code, path_text (ctx), "%s", message);
}

/* The validators name a few fields by their struct member; the files name them differently. */
static const char *
file_field_name (const char *field)
{
  static const struct
  {
    const char *member;
    const char *file;
  } names[] = {
    { "drug_id", "drug" },
    { "ptm.enabled", "ptm" },
    { "ptm_source", "ptm.source" },
    { "stability_days", "stability.days" },
    { "stability_source", "stability.source" },
  };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (field, names[i].member) == 0)
      return names[i].file;
  return field;
}

/* Re-reports an error of a validator whose field is relative to the current path. */
static bool
json_fail_nested (JsonContext *ctx, const ThecalDoseError *inner)
{
  char field[JSON_PATH_MAX + THECAL_ERROR_FIELD_MAX + 1]; /* truncated by thecal_dose_error_set */

  if (inner->field[0] != '\0' && ctx->length > 0)
    snprintf (field, sizeof field, "%s.%s", path_text (ctx), file_field_name (inner->field));
  else if (inner->field[0] != '\0')
    snprintf (field, sizeof field, "%s", file_field_name (inner->field));
  else
    snprintf (field, sizeof field, "%s", path_text (ctx));
  return thecal_dose_error_set (ctx->error,
                                inner->code != THECAL_DOSE_OK ? inner->code : THECAL_DOSE_ERROR_INVALID,
                                field,
                                "%s",
                                inner->message[0] != '\0' ? inner->message : "the entry is inconsistent");
}

static const char *
json_type_name (const cJSON *item)
{
  if (cJSON_IsString (item))
    return "text";
  if (cJSON_IsNumber (item))
    return "a number";
  if (cJSON_IsBool (item))
    return "true/false";
  if (cJSON_IsNull (item))
    return "null";
  if (cJSON_IsArray (item))
    return "a list [...]";
  if (cJSON_IsObject (item))
    return "an object {...}";
  return "an unknown value";
}

static bool
fail_missing (JsonContext *ctx)
{
  return json_fail (ctx, THECAL_DOSE_ERROR_INVALID, "%s is missing: it is required.", path_text (ctx));
}

static bool
fail_type (JsonContext *ctx, const cJSON *item, const char *expected)
{
  return json_fail (ctx,
                    THECAL_DOSE_ERROR_INVALID,
                    "%s must be %s, not %s.",
                    path_text (ctx),
                    expected,
                    json_type_name (item));
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                       */

/* Refuses every key of @object that is not in @allowed, and every key given twice (cJSON keeps
 * both; a second "value" must not hide behind the first). */
static bool
check_keys (JsonContext *ctx, const cJSON *object, const char *const *allowed, size_t n_allowed)
{
  uint64_t seen = 0;

  for (const cJSON *child = object->child; child != NULL; child = child->next)
    {
      const char *key = child->string != NULL ? child->string : "";
      size_t i;

      for (i = 0; i < n_allowed; i++)
        if (strcmp (key, allowed[i]) == 0)
          break;
      if (i == n_allowed)
        {
          char parent[JSON_PATH_MAX];

          snprintf (parent, sizeof parent, "%s", ctx->length > 0 ? ctx->path : "the file");
          path_push_key (ctx, key);
          return json_fail (ctx,
                            THECAL_DOSE_ERROR_INVALID,
                            "Unknown key \"%s\" in %s: unknown keys are refused so that a typo cannot drop a value.",
                            key,
                            parent);
        }
      if (i < 64 && (seen & (UINT64_C (1) << i)) != 0)
        {
          path_push_key (ctx, key);
          return json_fail (ctx, THECAL_DOSE_ERROR_INVALID, "%s is given twice: give each key once.", path_text (ctx));
        }
      if (i < 64)
        seen |= UINT64_C (1) << i;
    }
  return true;
}

#define CHECK_KEYS(ctx, object, keys) check_keys ((ctx), (object), (keys), sizeof (keys) / sizeof (keys)[0])

static bool
string_value (JsonContext *ctx, const cJSON *item, bool allow_empty, char *out, size_t out_size)
{
  size_t length;

  if (item == NULL)
    return fail_missing (ctx);
  if (!cJSON_IsString (item) || item->valuestring == NULL)
    return fail_type (ctx, item, "text in quotes");
  length = strlen (item->valuestring);
  if (length == 0 && !allow_empty)
    return json_fail (ctx, THECAL_DOSE_ERROR_INVALID, "%s must not be empty.", path_text (ctx));
  if (length >= out_size)
    return json_fail (ctx,
                      THECAL_DOSE_ERROR_CAPACITY,
                      "%s is %zu bytes long; at most %zu bytes fit.",
                      path_text (ctx),
                      length,
                      out_size - 1);
  memcpy (out, item->valuestring, length + 1);
  return true;
}

static bool
read_string (JsonContext *ctx, const cJSON *object, const char *key, bool allow_empty, char *out, size_t out_size)
{
  size_t mark = path_push_key (ctx, key);
  bool ok = string_value (ctx, cJSON_GetObjectItemCaseSensitive (object, key), allow_empty, out, out_size);

  if (ok)
    path_pop (ctx, mark);
  return ok;
}

static bool
quantity_value (JsonContext *ctx, const cJSON *item, ThecalQuantityKind kind, int64_t *out)
{
  int64_t value = 0;

  if (item == NULL)
    return fail_missing (ctx);
  if (!cJSON_IsString (item) || item->valuestring == NULL)
    return json_fail (ctx,
                      THECAL_DOSE_ERROR_INVALID,
                      "%s must be a %s written as text with its unit (e.g. \"25 mg/mL\"), not %s.",
                      path_text (ctx),
                      thecal_quantity_kind_name (kind),
                      json_type_name (item));
  if (!thecal_quantity_parse (kind, item->valuestring, path_text (ctx), &value, ctx->error))
    {
      /* The parser named the field and the text; this only covers a parser that did not. */
      return json_fail (ctx,
                        THECAL_DOSE_ERROR_PARSE,
                        "%s: \"%s\" is not a %s.",
                        path_text (ctx),
                        item->valuestring,
                        thecal_quantity_kind_name (kind));
    }
  *out = value;
  return true;
}

static bool
read_quantity (JsonContext *ctx, const cJSON *object, const char *key, ThecalQuantityKind kind, int64_t *out)
{
  size_t mark = path_push_key (ctx, key);
  bool ok = quantity_value (ctx, cJSON_GetObjectItemCaseSensitive (object, key), kind, out);

  if (ok)
    path_pop (ctx, mark);
  return ok;
}

/* A whole number in [min, max]. cJSON keeps numbers in binary floating point; rather than compare those here,
 * the number is printed back by cJSON and must read exactly as its integer part: "4" and "4.0"
 * pass, "4.5", "1e400" and anything beyond int do not. */
static bool
integer_value (JsonContext *ctx, cJSON *item, int64_t min, int64_t max, int64_t *out)
{
  char printed[64];
  char expected[32];

  if (item == NULL)
    return fail_missing (ctx);
  if (!cJSON_IsNumber (item))
    return fail_type (ctx, item, "a whole number");
  if (!cJSON_PrintPreallocated (item, printed, (int) sizeof printed, false))
    return json_fail (ctx, THECAL_DOSE_ERROR_PARSE, "%s could not be read as a whole number.", path_text (ctx));
  snprintf (expected, sizeof expected, "%d", item->valueint);
  if (strcmp (printed, expected) != 0 || item->valueint < min || item->valueint > max)
    return json_fail (ctx,
                      THECAL_DOSE_ERROR_RANGE,
                      "%s is %s; it must be a whole number from %lld to %lld.",
                      path_text (ctx),
                      printed,
                      (long long) min,
                      (long long) max);
  *out = item->valueint;
  return true;
}

static bool
read_integer (JsonContext *ctx, const cJSON *object, const char *key, int64_t min, int64_t max, int64_t *out)
{
  size_t mark = path_push_key (ctx, key);
  bool ok = integer_value (ctx, cJSON_GetObjectItemCaseSensitive (object, key), min, max, out);

  if (ok)
    path_pop (ctx, mark);
  return ok;
}

static bool
read_bool (JsonContext *ctx, const cJSON *object, const char *key, bool *out)
{
  size_t mark = path_push_key (ctx, key);
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, key);

  if (item == NULL)
    return fail_missing (ctx);
  if (!cJSON_IsBool (item))
    return fail_type (ctx, item, "true or false");
  *out = cJSON_IsTrue (item);
  path_pop (ctx, mark);
  return true;
}

/* The current path must name @item. Checks that it is an object and that its keys are known. */
static bool
object_value (JsonContext *ctx, const cJSON *item, const char *const *allowed, size_t n_allowed)
{
  if (item == NULL)
    return fail_missing (ctx);
  if (!cJSON_IsObject (item))
    return fail_type (ctx, item, "an object {...}");
  return check_keys (ctx, item, allowed, n_allowed);
}

#define OBJECT_VALUE(ctx, item, keys) object_value ((ctx), (item), (keys), sizeof (keys) / sizeof (keys)[0])

/* The current path must name @item. Checks that it is a list of at most @max entries. */
static bool
array_value (JsonContext *ctx, const cJSON *item, int max, int *count)
{
  int n;

  if (item == NULL)
    return fail_missing (ctx);
  if (!cJSON_IsArray (item))
    return fail_type (ctx, item, "a list [...]");
  n = cJSON_GetArraySize (item);
  if (n > max)
    return json_fail (ctx,
                      THECAL_DOSE_ERROR_CAPACITY,
                      "%s has %d entries; at most %d fit.",
                      path_text (ctx),
                      n,
                      max);
  *count = n;
  return true;
}

/* ------------------------------------------------------------------------------------------ */
/* The document                                                                                 */

/* A JSON "\u0000" escape would end the C string cJSON returns and silently drop the rest of the
 * text ("25 mg/mL\u0000 per day"); it is refused, as are raw NUL bytes. */
static bool
check_raw_text (JsonContext *ctx, const char *text, size_t length)
{
  bool in_string = false;

  for (size_t i = 0; i < length; i++)
    {
      char c = text[i];

      if (c == '\0')
        return json_fail (ctx, THECAL_DOSE_ERROR_PARSE, "The text contains a NUL byte at byte %zu.", i);
      if (!in_string)
        {
          if (c == '"')
            in_string = true;
          continue;
        }
      if (c == '"')
        in_string = false;
      else if (c == '\\' && i + 1 < length)
        {
          if (text[i + 1] == 'u' && i + 5 < length && memcmp (text + i + 2, "0000", 4) == 0)
            return json_fail (ctx,
                              THECAL_DOSE_ERROR_PARSE,
                              "The text contains the escape \\u0000 at byte %zu; it is refused.",
                              i);
          i++; /* skip the escaped character (it may be a quote) */
        }
    }
  return true;
}

static void
line_and_column (const char *text, size_t offset, int *line, int *column)
{
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset && text[i] != '\0'; i++)
    {
      if (text[i] == '\n')
        {
          (*line)++;
          *column = 1;
        }
      else if (*column < INT_MAX)
        (*column)++;
    }
}

/* Parses @text and checks the header ("format", "version"). Returns the document (to free with
 * cJSON_Delete) or NULL with the error set. */
static cJSON *
parse_document (JsonContext *ctx, const char *text, size_t length, const char *format_name)
{
  char format[64];
  const char *end = NULL;
  char *copy;
  cJSON *root;
  size_t mark;
  int64_t version = 0;

  if (text == NULL)
    {
      json_fail (ctx, THECAL_DOSE_ERROR_INVALID, "No text was given.");
      return NULL;
    }
  if (length > THECAL_JSON_MAX_BYTES)
    {
      json_fail (ctx,
                 THECAL_DOSE_ERROR_CAPACITY,
                 "The file is %zu bytes long; at most %d bytes are read.",
                 length,
                 THECAL_JSON_MAX_BYTES);
      return NULL;
    }
  if (!check_raw_text (ctx, text, length))
    return NULL;

  /* cJSON reads a NUL-terminated copy: no read past @length whatever the input. */
  copy = malloc (length + 1);
  if (copy == NULL)
    {
      json_fail (ctx, THECAL_DOSE_ERROR_CAPACITY, "Not enough memory to read the file.");
      return NULL;
    }
  memcpy (copy, text, length);
  copy[length] = '\0';
  root = cJSON_ParseWithOpts (copy, &end, true);
  if (root == NULL)
    {
      int line, column;
      size_t offset = (end != NULL && end >= copy && end <= copy + length) ? (size_t) (end - copy) : length;

      line_and_column (copy, offset, &line, &column);
      free (copy);
      if (length == 0)
        json_fail (ctx, THECAL_DOSE_ERROR_PARSE, "The file is empty: a %s file is a JSON object.", format_name);
      else
        json_fail (ctx,
                   THECAL_DOSE_ERROR_PARSE,
                   "The text is not valid JSON (line %d, column %d): truncated or mistyped?",
                   line,
                   column);
      return NULL;
    }
  free (copy);

  if (!cJSON_IsObject (root))
    {
      json_fail (ctx,
                 THECAL_DOSE_ERROR_INVALID,
                 "A %s file must be a JSON object {...}, not %s.",
                 format_name,
                 json_type_name (root));
      cJSON_Delete (root);
      return NULL;
    }

  mark = path_push_key (ctx, "format");
  if (!string_value (ctx, cJSON_GetObjectItemCaseSensitive (root, "format"), false, format, sizeof format))
    {
      cJSON_Delete (root);
      return NULL;
    }
  if (strcmp (format, format_name) != 0)
    {
      json_fail (ctx,
                 THECAL_DOSE_ERROR_INVALID,
                 "format is \"%s\", but a \"%s\" file was expected.",
                 format,
                 format_name);
      cJSON_Delete (root);
      return NULL;
    }
  path_pop (ctx, mark);

  mark = path_push_key (ctx, "version");
  if (!integer_value (ctx, cJSON_GetObjectItemCaseSensitive (root, "version"), 1, INT_MAX, &version))
    {
      cJSON_Delete (root);
      return NULL;
    }
  if (version > FORMAT_VERSION)
    {
      json_fail (ctx,
                 THECAL_DOSE_ERROR_RANGE,
                 "version %lld of the %s format is newer than this Thecal reads (version %d): update Thecal.",
                 (long long) version,
                 format_name,
                 FORMAT_VERSION);
      cJSON_Delete (root);
      return NULL;
    }
  path_pop (ctx, mark);
  return root;
}

/* Every loader reports into a caller's error, or into a local one when the caller passed NULL
 * (the result is then only the return value). */
static void
context_init (JsonContext *ctx, ThecalDoseError *caller_error, ThecalDoseError *local_error)
{
  memset (ctx, 0, sizeof *ctx);
  ctx->error = caller_error != NULL ? caller_error : local_error;
  thecal_dose_error_clear (ctx->error);
}

/* ------------------------------------------------------------------------------------------ */
/* Pump models                                                                                  */

typedef struct
{
  const char *key;
  ThecalQuantityKind kind; /* THECAL_QUANTITY_N_KINDS: a whole number of days */
  size_t offset;
} PumpModelField;

static const PumpModelField pump_model_fields[] = {
  { "reservoir_capacity", THECAL_QUANTITY_VOLUME, offsetof (ThecalPumpModel, reservoir_capacity_nl) },
  { "rate_min", THECAL_QUANTITY_VOLUME_RATE, offsetof (ThecalPumpModel, rate_min_nl_per_day) },
  { "rate_max", THECAL_QUANTITY_VOLUME_RATE, offsetof (ThecalPumpModel, rate_max_nl_per_day) },
  { "minimum_rate", THECAL_QUANTITY_VOLUME_RATE, offsetof (ThecalPumpModel, minimum_rate_nl_per_day) },
  { "rate_resolution", THECAL_QUANTITY_VOLUME_RATE, offsetof (ThecalPumpModel, rate_resolution_nl_per_day) },
  { "bolus_rate_max", THECAL_QUANTITY_VOLUME_RATE, offsetof (ThecalPumpModel, bolus_rate_max_nl_per_day) },
  { "stroke_volume", THECAL_QUANTITY_VOLUME, offsetof (ThecalPumpModel, stroke_volume_nl) },
  { "internal_volume", THECAL_QUANTITY_VOLUME, offsetof (ThecalPumpModel, internal_volume_nl) },
  { "accuracy", THECAL_QUANTITY_RATIO, offsetof (ThecalPumpModel, accuracy_bp) },
  { "low_reservoir_alarm", THECAL_QUANTITY_VOLUME, offsetof (ThecalPumpModel, low_reservoir_alarm_nl) },
  { "refill_threshold", THECAL_QUANTITY_VOLUME, offsetof (ThecalPumpModel, refill_threshold_nl) },
  { "empty", THECAL_QUANTITY_VOLUME, offsetof (ThecalPumpModel, empty_nl) },
  { "discrepancy_threshold", THECAL_QUANTITY_VOLUME, offsetof (ThecalPumpModel, discrepancy_threshold_nl) },
  { "service_life_days", THECAL_QUANTITY_N_KINDS, offsetof (ThecalPumpModel, service_life_days) },
  { "eri_days_before_eos", THECAL_QUANTITY_N_KINDS, offsetof (ThecalPumpModel, eri_days_before_eos) },
};

#define N_PUMP_MODEL_FIELDS (sizeof pump_model_fields / sizeof pump_model_fields[0])
/* 100 years: beyond any battery, small enough that days × 86 400 000 ms fits int64_t easily. */
#define DAYS_MAX 36500

static bool
load_pump_model_sources (JsonContext *ctx, const cJSON *sources)
{
  size_t mark = path_push_key (ctx, "sources");
  const char *keys[N_PUMP_MODEL_FIELDS];

  for (size_t i = 0; i < N_PUMP_MODEL_FIELDS; i++)
    keys[i] = pump_model_fields[i].key;
  if (!object_value (ctx, sources, keys, N_PUMP_MODEL_FIELDS))
    return false;
  for (const cJSON *child = sources->child; child != NULL; child = child->next)
    {
      size_t child_mark = path_push_key (ctx, child->string);

      if (!cJSON_IsString (child) || child->valuestring == NULL)
        return fail_type (ctx, child, "text naming the source");
      if (child->valuestring[0] == '\0')
        return json_fail (ctx, THECAL_DOSE_ERROR_INVALID, "%s must not be empty.", path_text (ctx));
      path_pop (ctx, child_mark);
    }
  path_pop (ctx, mark);
  return true;
}

static bool
load_pump_model (JsonContext *ctx, const cJSON *item, ThecalPumpModel *model)
{
  const char *keys[N_PUMP_MODEL_FIELDS + 3];
  const cJSON *sources;
  ThecalDoseError inner;

  keys[0] = "id";
  keys[1] = "name";
  keys[2] = "sources";
  for (size_t i = 0; i < N_PUMP_MODEL_FIELDS; i++)
    keys[i + 3] = pump_model_fields[i].key;
  if (!object_value (ctx, item, keys, N_PUMP_MODEL_FIELDS + 3))
    return false;

  if (!read_string (ctx, item, "id", false, model->id, sizeof model->id)
      || !read_string (ctx, item, "name", false, model->name, sizeof model->name))
    return false;
  for (size_t i = 0; i < N_PUMP_MODEL_FIELDS; i++)
    {
      const PumpModelField *field = &pump_model_fields[i];
      int64_t *target = (int64_t *) (void *) ((char *) model + field->offset);
      bool ok;

      if (field->kind == THECAL_QUANTITY_N_KINDS)
        ok = read_integer (ctx, item, field->key, 1, DAYS_MAX, target);
      else
        ok = read_quantity (ctx, item, field->key, field->kind, target);
      if (!ok)
        return false;
    }
  sources = cJSON_GetObjectItemCaseSensitive (item, "sources");
  if (sources != NULL && !load_pump_model_sources (ctx, sources))
    return false;

  thecal_dose_error_clear (&inner);
  if (!thecal_pump_model_validate (model, &inner))
    return json_fail_nested (ctx, &inner);
  return true;
}

static bool
load_pump_models (JsonContext *ctx, const cJSON *root, ThecalPumpModelSet *set)
{
  static const char *const keys[] = { "format", "version", "models" };
  const cJSON *list;
  size_t mark;
  int n = 0;

  if (!CHECK_KEYS (ctx, root, keys))
    return false;
  list = cJSON_GetObjectItemCaseSensitive (root, "models");
  mark = path_push_key (ctx, "models");
  if (!array_value (ctx, list, THECAL_PUMP_MODELS_MAX, &n))
    return false;
  if (n == 0)
    return json_fail (ctx, THECAL_DOSE_ERROR_INVALID, "models is empty: list at least one pump model.");
  for (int i = 0; i < n; i++)
    {
      size_t item_mark = path_push_index (ctx, i);

      if (!load_pump_model (ctx, cJSON_GetArrayItem (list, i), &set->models[i]))
        return false;
      for (int j = 0; j < i; j++)
        if (strcmp (set->models[j].id, set->models[i].id) == 0)
          {
            path_push_key (ctx, "id");
            return json_fail (ctx,
                              THECAL_DOSE_ERROR_INVALID,
                              "Pump model id \"%s\" is used twice (models[%d] and models[%d]).",
                              set->models[i].id,
                              j,
                              i);
          }
      path_pop (ctx, item_mark);
    }
  path_pop (ctx, mark);
  set->n_models = n;
  return true;
}

bool
thecal_pump_models_load_json (const char *text, size_t length, ThecalPumpModelSet *models, ThecalDoseError *error)
{
  ThecalDoseError local_error;
  JsonContext ctx;
  ThecalPumpModelSet *set;
  cJSON *root;
  bool ok;

  context_init (&ctx, error, &local_error);
  if (models == NULL)
    return json_fail (&ctx, THECAL_DOSE_ERROR_INVALID, "No place to store the pump models was given.");
  root = parse_document (&ctx, text, length, FORMAT_PUMP_MODELS);
  if (root == NULL)
    return false;
  set = calloc (1, sizeof *set);
  if (set == NULL)
    ok = json_fail (&ctx, THECAL_DOSE_ERROR_CAPACITY, "Not enough memory to read the pump models.");
  else
    ok = load_pump_models (&ctx, root, set);
  if (ok)
    *models = *set;
  free (set);
  cJSON_Delete (root);
  return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Drug library                                                                                 */

static const char *const applies_names[] = {
  [THECAL_APPLIES_ALL] = "all",
  [THECAL_APPLIES_OPIOID_NAIVE] = "opioid_naive",
  [THECAL_APPLIES_OPIOID_TOLERANT] = "opioid_tolerant",
};

static bool
load_limit (JsonContext *ctx, const cJSON *item, ThecalDrugLimit *limit)
{
  static const char *const keys[] = { "kind", "severity", "applies_to", "value", "confirmed", "source" };
  char name[48];
  char names[256];
  size_t used = 0;
  int kind, severity, applies;

  if (!OBJECT_VALUE (ctx, item, keys))
    return false;

  if (!read_string (ctx, item, "kind", false, name, sizeof name))
    return false;
  names[0] = '\0';
  for (kind = 0; kind < THECAL_LIMIT_N_KINDS; kind++)
    {
      const char *candidate = thecal_limit_kind_name ((ThecalLimitKind) kind);

      if (candidate != NULL && candidate[0] != '\0' && strcmp (candidate, name) == 0)
        break;
      if (candidate != NULL && used < sizeof names)
        used += (size_t) snprintf (names + used, sizeof names - used, "%s%s", kind > 0 ? ", " : "", candidate);
    }
  if (kind == THECAL_LIMIT_N_KINDS)
    {
      path_push_key (ctx, "kind");
      return json_fail (ctx,
                        THECAL_DOSE_ERROR_INVALID,
                        "%s \"%s\" is not a limit kind: use one of %s.",
                        path_text (ctx),
                        name,
                        names);
    }
  limit->kind = (ThecalLimitKind) kind;

  if (!read_string (ctx, item, "severity", false, name, sizeof name))
    return false;
  for (severity = THECAL_LIMIT_SOFT; severity <= THECAL_LIMIT_HARD; severity++)
    {
      const char *candidate = thecal_limit_severity_name ((ThecalLimitSeverity) severity);

      if (candidate != NULL && candidate[0] != '\0' && strcmp (candidate, name) == 0)
        break;
    }
  if (severity > THECAL_LIMIT_HARD)
    {
      path_push_key (ctx, "severity");
      return json_fail (ctx,
                        THECAL_DOSE_ERROR_INVALID,
                        "%s \"%s\" is not a severity: use \"hard\" (refuses) or \"soft\" (needs an override reason).",
                        path_text (ctx),
                        name);
    }
  limit->severity = (ThecalLimitSeverity) severity;

  if (!read_string (ctx, item, "applies_to", false, name, sizeof name))
    return false;
  for (applies = 0; applies < (int) (sizeof applies_names / sizeof applies_names[0]); applies++)
    if (strcmp (applies_names[applies], name) == 0)
      break;
  if (applies == (int) (sizeof applies_names / sizeof applies_names[0]))
    {
      path_push_key (ctx, "applies_to");
      return json_fail (ctx,
                        THECAL_DOSE_ERROR_INVALID,
                        "%s \"%s\" is not a patient group: use \"all\", \"opioid_naive\" or \"opioid_tolerant\".",
                        path_text (ctx),
                        name);
    }
  limit->applies_to = (ThecalLimitApplies) applies;

  /* limit->kind is one of the names matched above, so its value kind is never N_KINDS */
  if (!read_quantity (ctx, item, "value", thecal_limit_value_kind (limit->kind), &limit->value)
      || !read_bool (ctx, item, "confirmed", &limit->confirmed)
      || !read_string (ctx, item, "source", false, limit->source, sizeof limit->source))
    return false;
  return true;
}

static bool
load_drug_ptm (JsonContext *ctx, const cJSON *item, ThecalDrug *drug)
{
  static const char *const keys[] = { "permitted", "confirmed", "source" };
  size_t mark = path_push_key (ctx, "ptm");

  if (!OBJECT_VALUE (ctx, item, keys)
      || !read_bool (ctx, item, "permitted", &drug->ptm_permitted)
      || !read_bool (ctx, item, "confirmed", &drug->ptm_permitted_confirmed)
      || !read_string (ctx, item, "source", false, drug->ptm_source, sizeof drug->ptm_source))
    return false;
  path_pop (ctx, mark);
  return true;
}

static bool
load_drug_stability (JsonContext *ctx, const cJSON *item, ThecalDrug *drug)
{
  static const char *const keys[] = { "days", "source" };
  size_t mark = path_push_key (ctx, "stability");
  int64_t days = 0;

  if (!OBJECT_VALUE (ctx, item, keys)
      || !read_integer (ctx, item, "days", 1, DAYS_MAX, &days)
      || !read_string (ctx, item, "source", false, drug->stability_source, sizeof drug->stability_source))
    return false;
  drug->stability_days = (int32_t) days;
  path_pop (ctx, mark);
  return true;
}

static bool
load_drug (JsonContext *ctx, const cJSON *item, ThecalDrug *drug)
{
  static const char *const keys[] = {
    "id",
    "display_name",
    "opioid",
    "ptm",
    "stability",
    "labeled_concentrations",
    "limits",
  };
  const cJSON *list, *stability;
  ThecalDoseError inner;
  size_t mark;
  int n = 0;

  if (!OBJECT_VALUE (ctx, item, keys))
    return false;
  if (!read_string (ctx, item, "id", false, drug->id, sizeof drug->id)
      || !read_string (ctx, item, "display_name", false, drug->display_name, sizeof drug->display_name)
      || !read_bool (ctx, item, "opioid", &drug->opioid)
      || !load_drug_ptm (ctx, cJSON_GetObjectItemCaseSensitive (item, "ptm"), drug))
    return false;

  stability = cJSON_GetObjectItemCaseSensitive (item, "stability");
  if (stability != NULL && !load_drug_stability (ctx, stability, drug))
    return false;

  mark = path_push_key (ctx, "labeled_concentrations");
  list = cJSON_GetObjectItemCaseSensitive (item, "labeled_concentrations");
  if (!array_value (ctx, list, THECAL_DRUG_CONCENTRATIONS_MAX, &n))
    return false;
  for (int i = 0; i < n; i++)
    {
      size_t item_mark = path_push_index (ctx, i);

      if (!quantity_value (ctx,
                           cJSON_GetArrayItem (list, i),
                           THECAL_QUANTITY_CONCENTRATION,
                           &drug->labeled_concentrations_ng_per_ml[i]))
        return false;
      path_pop (ctx, item_mark);
    }
  drug->n_labeled_concentrations = n;
  path_pop (ctx, mark);

  mark = path_push_key (ctx, "limits");
  list = cJSON_GetObjectItemCaseSensitive (item, "limits");
  if (!array_value (ctx, list, THECAL_DRUG_LIMITS_MAX, &n))
    return false;
  for (int i = 0; i < n; i++)
    {
      size_t item_mark = path_push_index (ctx, i);

      if (!load_limit (ctx, cJSON_GetArrayItem (list, i), &drug->limits[i]))
        return false;
      path_pop (ctx, item_mark);
    }
  drug->n_limits = n;
  path_pop (ctx, mark);

  thecal_dose_error_clear (&inner);
  if (!thecal_drug_validate (drug, &inner))
    return json_fail_nested (ctx, &inner);
  return true;
}

static bool
load_drug_library (JsonContext *ctx, const cJSON *root, ThecalDrugLibrary *library)
{
  static const char *const keys[] = { "format", "version", "library_version", "drugs" };
  const cJSON *list;
  size_t mark;
  int n = 0;

  if (!CHECK_KEYS (ctx, root, keys)
      || !read_string (ctx, root, "library_version", false, library->version, sizeof library->version))
    return false;
  list = cJSON_GetObjectItemCaseSensitive (root, "drugs");
  mark = path_push_key (ctx, "drugs");
  if (!array_value (ctx, list, THECAL_DRUGS_MAX, &n))
    return false;
  if (n == 0)
    return json_fail (ctx, THECAL_DOSE_ERROR_INVALID, "drugs is empty: list at least one drug.");
  for (int i = 0; i < n; i++)
    {
      size_t item_mark = path_push_index (ctx, i);

      if (!load_drug (ctx, cJSON_GetArrayItem (list, i), &library->drugs[i]))
        return false;
      for (int j = 0; j < i; j++)
        if (strcmp (library->drugs[j].id, library->drugs[i].id) == 0)
          {
            path_push_key (ctx, "id");
            return json_fail (ctx,
                              THECAL_DOSE_ERROR_INVALID,
                              "Drug id \"%s\" is used twice (drugs[%d] and drugs[%d]).",
                              library->drugs[i].id,
                              j,
                              i);
          }
      path_pop (ctx, item_mark);
    }
  path_pop (ctx, mark);
  library->n_drugs = n;
  return true;
}

bool
thecal_drug_library_load_json (const char *text, size_t length, ThecalDrugLibrary *library, ThecalDoseError *error)
{
  ThecalDoseError local_error;
  JsonContext ctx;
  ThecalDrugLibrary *copy;
  cJSON *root;
  bool ok;

  context_init (&ctx, error, &local_error);
  if (library == NULL)
    return json_fail (&ctx, THECAL_DOSE_ERROR_INVALID, "No place to store the drug library was given.");
  root = parse_document (&ctx, text, length, FORMAT_DRUG_LIBRARY);
  if (root == NULL)
    return false;
  /* About 250 kB: on the heap, not on a (possibly small) thread stack. */
  copy = calloc (1, sizeof *copy);
  if (copy == NULL)
    ok = json_fail (&ctx, THECAL_DOSE_ERROR_CAPACITY, "Not enough memory to read the drug library.");
  else
    ok = load_drug_library (&ctx, root, copy);
  if (ok)
    *library = *copy;
  free (copy);
  cJSON_Delete (root);
  return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Prescriptions                                                                                */

/* {"dose": "5 mg/day"} or {"rate": "0.2 mL/day"}: exactly one of the two. The object's other
 * keys (flex steps have "start" and "duration") are checked by the caller. */
static bool
load_daily_amount (JsonContext *ctx, const cJSON *item, ThecalDailyAmount *amount)
{
  const cJSON *dose = cJSON_GetObjectItemCaseSensitive (item, "dose");
  const cJSON *rate = cJSON_GetObjectItemCaseSensitive (item, "rate");

  if (dose != NULL && rate != NULL)
    return json_fail (ctx,
                      THECAL_DOSE_ERROR_INVALID,
                      "%s has both \"dose\" and \"rate\": give one of them.",
                      path_text (ctx));
  if (dose == NULL && rate == NULL)
    return json_fail (ctx,
                      THECAL_DOSE_ERROR_INVALID,
                      "%s needs a \"dose\" (e.g. \"5 mg/day\") or a \"rate\" (e.g. \"0.2 mL/day\").",
                      path_text (ctx));
  amount->dose_ng_per_day = 0;
  amount->rate_nl_per_day = 0;
  if (dose != NULL)
    {
      amount->basis = THECAL_BASIS_DOSE;
      return read_quantity (ctx, item, "dose", THECAL_QUANTITY_DOSE_RATE, &amount->dose_ng_per_day);
    }
  amount->basis = THECAL_BASIS_RATE;
  return read_quantity (ctx, item, "rate", THECAL_QUANTITY_VOLUME_RATE, &amount->rate_nl_per_day);
}

static bool
read_time_of_day (JsonContext *ctx, const cJSON *item, const char *key, int32_t *minutes)
{
  int64_t value = 0;

  if (!read_quantity (ctx, item, key, THECAL_QUANTITY_TIME_OF_DAY, &value))
    return false;
  if (value < 0 || value >= THECAL_MINUTES_PER_DAY)
    {
      path_push_key (ctx, key);
      return json_fail (ctx, THECAL_DOSE_ERROR_RANGE, "%s must be a time of day from 00:00 to 23:59.", path_text (ctx));
    }
  *minutes = (int32_t) value;
  return true;
}

static bool
load_flex_step (JsonContext *ctx, const cJSON *item, ThecalFlexStep *step)
{
  static const char *const keys[] = { "start", "duration", "dose", "rate" };
  int64_t duration_ms = 0;

  if (!OBJECT_VALUE (ctx, item, keys)
      || !read_time_of_day (ctx, item, "start", &step->start_min)
      || !read_quantity (ctx, item, "duration", THECAL_QUANTITY_DURATION, &duration_ms))
    return false;
  /* Flex steps are whole minutes of the day: "90 s" is refused rather than rounded. */
  if (duration_ms % THECAL_MS_PER_MINUTE != 0 || duration_ms / THECAL_MS_PER_MINUTE > INT32_MAX)
    {
      path_push_key (ctx, "duration");
      return json_fail (ctx,
                        THECAL_DOSE_ERROR_RANGE,
                        "%s must be a whole number of minutes, at most 24 h.",
                        path_text (ctx));
    }
  step->duration_min = (int32_t) (duration_ms / THECAL_MS_PER_MINUTE);
  return load_daily_amount (ctx, item, &step->amount);
}

static bool
load_periodic_bolus (JsonContext *ctx, const cJSON *item, ThecalPeriodicBolus *bolus)
{
  static const char *const keys[] = { "start", "dose", "duration" };

  return OBJECT_VALUE (ctx, item, keys)
         && read_time_of_day (ctx, item, "start", &bolus->start_min)
         && read_quantity (ctx, item, "dose", THECAL_QUANTITY_AMOUNT, &bolus->dose_ng)
         && read_quantity (ctx, item, "duration", THECAL_QUANTITY_DURATION, &bolus->duration_ms);
}

static bool
load_ptm (JsonContext *ctx, const cJSON *item, ThecalPtmSettings *ptm)
{
  static const char *const keys[] = { "dose", "duration", "lockout", "max_per_24h" };
  int64_t max_per_24h = 0;

  if (!OBJECT_VALUE (ctx, item, keys)
      || !read_quantity (ctx, item, "dose", THECAL_QUANTITY_AMOUNT, &ptm->dose_ng)
      || !read_quantity (ctx, item, "duration", THECAL_QUANTITY_DURATION, &ptm->duration_ms)
      || !read_quantity (ctx, item, "lockout", THECAL_QUANTITY_DURATION, &ptm->lockout_ms))
    return false;
  /* "ptm" absent is the one way to say "no PTM": zero activations would be a second one. */
  if (!read_integer (ctx, item, "max_per_24h", 1, INT32_MAX, &max_per_24h))
    return false;
  ptm->max_per_24h = (int32_t) max_per_24h;
  ptm->enabled = true;
  return true;
}

/* A block that belongs to another mode is refused: a file that says "flex" and carries a
 * "continuous" block is ambiguous, and guessing would be worse than asking. */
static bool
refuse_block_for_other_mode (JsonContext *ctx, const cJSON *root, const char *key, const char *mode_name)
{
  if (cJSON_GetObjectItemCaseSensitive (root, key) == NULL)
    return true;
  path_push_key (ctx, key);
  return json_fail (ctx,
                    THECAL_DOSE_ERROR_INVALID,
                    "%s is given but mode is \"%s\": remove it or change the mode.",
                    key,
                    mode_name);
}

static bool
load_prescription (JsonContext *ctx, const cJSON *root, ThecalPrescription *rx)
{
  static const char *const keys[] = {
    "format",
    "version",
    "drug",
    "concentration",
    "mode",
    "continuous",
    "flex_steps",
    "periodic_boluses",
    "ptm",
  };
  ThecalDoseError inner;
  char mode_name[32];
  const cJSON *item;
  size_t mark;
  int n = 0;

  /* "drug" may be empty only for a stopped pump; the validator decides that. */
  if (!CHECK_KEYS (ctx, root, keys)
      || !read_string (ctx, root, "drug", true, rx->drug_id, sizeof rx->drug_id)
      || !read_quantity (ctx, root, "concentration", THECAL_QUANTITY_CONCENTRATION, &rx->concentration_ng_per_ml)
      || !read_string (ctx, root, "mode", false, mode_name, sizeof mode_name))
    return false;
  if (!thecal_mode_from_name (mode_name, &rx->mode) || rx->mode < THECAL_MODE_STOPPED || rx->mode >= THECAL_MODE_N_MODES)
    {
      path_push_key (ctx, "mode");
      return json_fail (ctx,
                        THECAL_DOSE_ERROR_INVALID,
                        "mode \"%s\" is not a mode: use \"stopped\", \"continuous\", \"flex\" or \"minimum_rate\".",
                        mode_name);
    }

  /* continuous: only, and always, in continuous mode */
  item = cJSON_GetObjectItemCaseSensitive (root, "continuous");
  if (rx->mode == THECAL_MODE_CONTINUOUS)
    {
      static const char *const amount_keys[] = { "dose", "rate" };

      mark = path_push_key (ctx, "continuous");
      if (!OBJECT_VALUE (ctx, item, amount_keys) || !load_daily_amount (ctx, item, &rx->continuous))
        return false;
      path_pop (ctx, mark);
    }
  else if (!refuse_block_for_other_mode (ctx, root, "continuous", mode_name))
    return false;

  /* flex_steps: only, and always, in flex mode */
  item = cJSON_GetObjectItemCaseSensitive (root, "flex_steps");
  if (rx->mode == THECAL_MODE_FLEX)
    {
      mark = path_push_key (ctx, "flex_steps");
      if (!array_value (ctx, item, THECAL_FLEX_STEPS_MAX, &n))
        return false;
      for (int i = 0; i < n; i++)
        {
          size_t item_mark = path_push_index (ctx, i);

          if (!load_flex_step (ctx, cJSON_GetArrayItem (item, i), &rx->flex_steps[i]))
            return false;
          path_pop (ctx, item_mark);
        }
      rx->n_flex_steps = n;
      path_pop (ctx, mark);
    }
  else if (!refuse_block_for_other_mode (ctx, root, "flex_steps", mode_name))
    return false;

  /* periodic_boluses: optional in any mode (the validator refuses them when stopped) */
  item = cJSON_GetObjectItemCaseSensitive (root, "periodic_boluses");
  if (item != NULL)
    {
      mark = path_push_key (ctx, "periodic_boluses");
      if (!array_value (ctx, item, THECAL_PERIODIC_BOLUSES_MAX, &n))
        return false;
      for (int i = 0; i < n; i++)
        {
          size_t item_mark = path_push_index (ctx, i);

          if (!load_periodic_bolus (ctx, cJSON_GetArrayItem (item, i), &rx->periodic_boluses[i]))
            return false;
          path_pop (ctx, item_mark);
        }
      rx->n_periodic_boluses = n;
      path_pop (ctx, mark);
    }

  /* ptm: absent = disabled */
  item = cJSON_GetObjectItemCaseSensitive (root, "ptm");
  if (item != NULL)
    {
      mark = path_push_key (ctx, "ptm");
      if (!load_ptm (ctx, item, &rx->ptm))
        return false;
      path_pop (ctx, mark);
    }

  /* The validator names its fields the way this format does ("flex_steps[2].start"), but for
   * a few struct members (drug_id → drug). */
  thecal_dose_error_clear (&inner);
  if (!thecal_prescription_validate (rx, &inner))
    return json_fail_nested (ctx, &inner);
  return true;
}

bool
thecal_prescription_load_json (const char *text, size_t length, ThecalPrescription *rx, ThecalDoseError *error)
{
  ThecalDoseError local_error;
  ThecalPrescription copy;
  JsonContext ctx;
  cJSON *root;
  bool ok;

  context_init (&ctx, error, &local_error);
  if (rx == NULL)
    return json_fail (&ctx, THECAL_DOSE_ERROR_INVALID, "No place to store the prescription was given.");
  root = parse_document (&ctx, text, length, FORMAT_PRESCRIPTION);
  if (root == NULL)
    return false;

  memset (&copy, 0, sizeof copy);
  thecal_prescription_init (&copy);
  ok = load_prescription (&ctx, root, &copy);
  cJSON_Delete (root);
  if (ok)
    *rx = copy;
  return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing a prescription                                                                       */

static bool
add_quantity (cJSON *object, const char *key, ThecalQuantityKind kind, int64_t value)
{
  char text[THECAL_QUANTITY_TEXT_MAX];

  thecal_quantity_format (kind, value, text, sizeof text);
  return cJSON_AddStringToObject (object, key, text) != NULL;
}

/* Numbers go out as raw text: cJSON's number API takes binary floating point, which this file never uses. */
static bool
add_integer (cJSON *object, const char *key, int64_t value)
{
  char text[32];

  snprintf (text, sizeof text, "%lld", (long long) value);
  return cJSON_AddRawToObject (object, key, text) != NULL;
}

static bool
add_daily_amount (cJSON *object, const ThecalDailyAmount *amount)
{
  if (amount->basis == THECAL_BASIS_RATE)
    return add_quantity (object, "rate", THECAL_QUANTITY_VOLUME_RATE, amount->rate_nl_per_day);
  return add_quantity (object, "dose", THECAL_QUANTITY_DOSE_RATE, amount->dose_ng_per_day);
}

static int
clamp_count (int32_t n, int max)
{
  return n < 0 ? 0 : n > max ? max
                             : (int) n;
}

static bool
build_prescription (cJSON *root, const ThecalPrescription *rx)
{
  char drug[THECAL_ID_MAX];
  const char *mode_name = thecal_mode_name (rx->mode);
  int n;

  snprintf (drug, sizeof drug, "%.*s", (int) strnlen (rx->drug_id, sizeof rx->drug_id), rx->drug_id);
  if (cJSON_AddStringToObject (root, "format", FORMAT_PRESCRIPTION) == NULL
      || !add_integer (root, "version", FORMAT_VERSION)
      || cJSON_AddStringToObject (root, "drug", drug) == NULL
      || !add_quantity (root, "concentration", THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml)
      || cJSON_AddStringToObject (root, "mode", mode_name != NULL ? mode_name : "") == NULL)
    return false;

  if (rx->mode == THECAL_MODE_CONTINUOUS)
    {
      cJSON *continuous = cJSON_AddObjectToObject (root, "continuous");

      if (continuous == NULL || !add_daily_amount (continuous, &rx->continuous))
        return false;
    }

  if (rx->mode == THECAL_MODE_FLEX)
    {
      cJSON *steps = cJSON_AddArrayToObject (root, "flex_steps");

      if (steps == NULL)
        return false;
      n = clamp_count (rx->n_flex_steps, THECAL_FLEX_STEPS_MAX);
      for (int i = 0; i < n; i++)
        {
          const ThecalFlexStep *step = &rx->flex_steps[i];
          cJSON *object = cJSON_CreateObject ();

          if (object == NULL)
            return false;
          cJSON_AddItemToArray (steps, object);
          if (!add_quantity (object, "start", THECAL_QUANTITY_TIME_OF_DAY, step->start_min)
              || !add_quantity (object, "duration", THECAL_QUANTITY_DURATION, (int64_t) step->duration_min * THECAL_MS_PER_MINUTE)
              || !add_daily_amount (object, &step->amount))
            return false;
        }
    }

  n = clamp_count (rx->n_periodic_boluses, THECAL_PERIODIC_BOLUSES_MAX);
  if (n > 0)
    {
      cJSON *boluses = cJSON_AddArrayToObject (root, "periodic_boluses");

      if (boluses == NULL)
        return false;
      for (int i = 0; i < n; i++)
        {
          const ThecalPeriodicBolus *bolus = &rx->periodic_boluses[i];
          cJSON *object = cJSON_CreateObject ();

          if (object == NULL)
            return false;
          cJSON_AddItemToArray (boluses, object);
          if (!add_quantity (object, "start", THECAL_QUANTITY_TIME_OF_DAY, bolus->start_min)
              || !add_quantity (object, "dose", THECAL_QUANTITY_AMOUNT, bolus->dose_ng)
              || !add_quantity (object, "duration", THECAL_QUANTITY_DURATION, bolus->duration_ms))
            return false;
        }
    }

  if (rx->ptm.enabled)
    {
      cJSON *ptm = cJSON_AddObjectToObject (root, "ptm");

      if (ptm == NULL
          || !add_quantity (ptm, "dose", THECAL_QUANTITY_AMOUNT, rx->ptm.dose_ng)
          || !add_quantity (ptm, "duration", THECAL_QUANTITY_DURATION, rx->ptm.duration_ms)
          || !add_quantity (ptm, "lockout", THECAL_QUANTITY_DURATION, rx->ptm.lockout_ms)
          || !add_integer (ptm, "max_per_24h", rx->ptm.max_per_24h))
        return false;
    }
  return true;
}

char *
thecal_prescription_to_json (const ThecalPrescription *rx)
{
  cJSON *root;
  char *text = NULL;

  if (rx == NULL)
    return NULL;
  root = cJSON_CreateObject ();
  if (root != NULL && build_prescription (root, rx))
    text = cJSON_Print (root);
  cJSON_Delete (root);
  return text;
}
