/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-report.h: the session report, a printable summary of a visit (docs/gui.md "Session
 * report"): the patient, the pump, who and when, the therapy before and after (the prescription
 * changes recorded today), the refills with their volumes, the findings and alarms of the
 * interrogation, and the audit chain's status. The data is gathered first into a plain struct
 * (ThecalReport: sections of text lines, testable on its own); one drawing function lays it out on
 * pages of any size for both GtkPrintOperation ("Print Report…") and a cairo PDF surface ("Export
 * PDF…").
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "thecal-drug.h"
#include "thecal-pump-model.h"
#include "thecal-record-types.h"
#include "thecal-visit.h"

G_BEGIN_DECLS

typedef struct
{
  char *heading;
  GPtrArray *lines; /* char *, one paragraph each */
} ThecalReportSection;

typedef struct
{
  /* the dose history chart (thecal-dose-history-chart.h), drawn after the section @chart_after
   * when it has steps */
  GArray *steps;   /* ThecalDoseStep */
  GArray *refills; /* ThecalDoseRefillMark */
  gint64 chart_last_ms;
  guint chart_after;
  ThecalDrugLibrary *library; /* a copy, for the drugs' names in the chart; may be NULL */
  char *title;                /* "Session report: ROE, Richard" */
  char *generated;            /* "Printed 2026-11-22 13:30 (UTC) by Demo Clinician (demo)" */
  GPtrArray *sections;        /* ThecalReportSection */
} ThecalReport;

void thecal_report_section_free (ThecalReportSection *section);
void thecal_report_free (ThecalReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalReport, thecal_report_free)

/* What the report needs. @visit: the connected visit of this patient, or NULL (the report then
 * says that no pump was read). @since_utc_ms: the report covers what the record wrote from this
 * instant (the start of today) to @now_utc_ms. @audit_status: the audit chain's line, or NULL. */
typedef struct
{
  const ThecalPatientRecord *record;
  const GPtrArray *writes; /* ThecalPumpWrite of the patient's pumps, or NULL */
  ThecalVisit *visit;
  const ThecalUser *user;
  const ThecalDrugLibrary *library;
  const ThecalPumpModelSet *models; /* may be NULL: no pump log in "before" */
  gint64 now_utc_ms;
  gint64 since_utc_ms;
  const char *audit_status;
} ThecalReportInput;

ThecalReport *thecal_report_gather (const ThecalReportInput *input);

/* Every line of the report, in order (title, generated, then each heading and its lines); a new
 * string. */
char *thecal_report_dup_text (const ThecalReport *report);

/* Lays the report out on pages of @width × @height (cairo units; the origin is the printable
 * area's corner) and draws page @page (0-based) on @cr; returns the number of pages. @page < 0
 * only counts. The same function draws the print preview, the printed pages and the PDF. */
int thecal_report_draw (const ThecalReport *report, cairo_t *cr, double width, double height, int page);

/* How many A4 pages (2 cm margins) the report takes. */
int thecal_report_count_pages (const ThecalReport *report);
/* Writes the report as a PDF (A4, 2 cm margins) to @path. */
gboolean thecal_report_export_pdf (const ThecalReport *report, const char *path, GError **error);
/* Draws page @page on a white A4 image (@scale pixels per point) and saves it as a PNG: what the
 * tests look at. */
gboolean thecal_report_export_png (const ThecalReport *report, const char *path, int page, double scale, GError **error);
/* Prints through GtkPrintOperation: the print dialog, transient for @parent (@report is taken:
 * the operation frees it when done). */
void thecal_report_print (ThecalReport *report, GtkWindow *parent);
/* The same GtkPrintOperation, exporting to @path without a dialog
 * (GTK_PRINT_OPERATION_ACTION_EXPORT, synchronous): how the tests print. */
gboolean thecal_report_print_to_file (const ThecalReport *report, const char *path, GError **error);

G_END_DECLS
