/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-replay.c: replays a fuzz corpus through a libFuzzer target without libFuzzer, so every
 * test run (any compiler, with or without sanitizers) feeds every stored input to the target.
 *
 * Usage: fuzz-replay-<target> DIR_OR_FILE...
 * Prints TAP: "ok N - <file>" after each input returns, then "1..N". A crash, an abort() from a
 * broken invariant or a sanitizer report kills the process before the plan line, so Meson counts
 * the test as failed and the last "ok" line says which input came before the culprit.
 * Files are replayed in sorted order, so a run is reproducible.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int n_run;

/* Reads @path whole into a buffer of exactly its size (so a sanitizer sees any read past the
 * end) and runs the target on it. */
static int
replay_file (const char *path, const char *name)
{
  FILE *file = fopen (path, "rb");
  uint8_t *data = NULL;
  size_t size = 0;
  size_t capacity = 0;

  if (file == NULL)
    {
      printf ("not ok %d - %s: cannot open: %s\n", ++n_run, name, strerror (errno));
      return 1;
    }
  for (;;)
    {
      uint8_t chunk[65536];
      size_t got = fread (chunk, 1, sizeof chunk, file);
      uint8_t *bigger;

      if (got == 0)
        break;
      if (size + got > capacity)
        {
          capacity = (size + got) * 2;
          bigger = realloc (data, capacity);
          if (bigger == NULL)
            {
              free (data);
              fclose (file);
              printf ("not ok %d - %s: out of memory\n", ++n_run, name);
              return 1;
            }
          data = bigger;
        }
      memcpy (data + size, chunk, got);
      size += got;
    }
  if (ferror (file))
    {
      free (data);
      fclose (file);
      printf ("not ok %d - %s: read error\n", ++n_run, name);
      return 1;
    }
  fclose (file);

  {
    /* an exact-size copy: no slack after the last byte */
    uint8_t *exact = malloc (size > 0 ? size : 1);

    if (exact == NULL)
      {
        free (data);
        printf ("not ok %d - %s: out of memory\n", ++n_run, name);
        return 1;
      }
    if (size > 0)
      memcpy (exact, data, size);
    free (data);
    LLVMFuzzerTestOneInput (exact, size);
    free (exact);
  }
  printf ("ok %d - %s\n", ++n_run, name);
  fflush (stdout);
  return 0;
}

static int
skip_entry (const struct dirent *entry)
{
  /* hidden files and the corpus notes are not inputs */
  return entry->d_name[0] != '.' && strcmp (entry->d_name, "README.md") != 0;
}

static int
replay_path (const char *path)
{
  struct stat st;
  struct dirent **entries = NULL;
  int n, failed = 0;

  if (stat (path, &st) != 0)
    {
      printf ("Bail out! cannot read %s: %s\n", path, strerror (errno));
      exit (EXIT_FAILURE);
    }
  if (!S_ISDIR (st.st_mode))
    return replay_file (path, path);

  n = scandir (path, &entries, skip_entry, alphasort);
  if (n < 0)
    {
      printf ("Bail out! cannot list %s: %s\n", path, strerror (errno));
      exit (EXIT_FAILURE);
    }
  for (int i = 0; i < n; i++)
    {
      char child[4096];

      snprintf (child, sizeof child, "%s/%s", path, entries[i]->d_name);
      if (stat (child, &st) == 0 && S_ISREG (st.st_mode))
        failed |= replay_file (child, entries[i]->d_name);
      free (entries[i]);
    }
  free (entries);
  return failed;
}

int
main (int argc, char **argv)
{
  int failed = 0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    failed |= replay_path (argv[i]);
  if (n_run == 0)
    {
      /* an empty corpus tests nothing: say so rather than pass */
      printf ("Bail out! no input found in the corpus\n");
      return EXIT_FAILURE;
    }
  printf ("1..%d\n", n_run);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
