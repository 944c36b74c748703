/*
 * report.h - how the benchmarks print a figure: one machine-readable line
 *
 *     BENCH <name> <value> <unit> floor=<floor> ratio=<value/floor>
 *
 * per figure (floor=- ratio=- when a figure has no floor), collected and printed
 * together after the readable tables, which each benchmark prints as it goes.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdbool.h>

/* Record one figure; floor <= 0 means "no floor". Names are copied. */
void report_figure(const char *name, double value, const char *unit, double floor);

/* Print every recorded BENCH line, in recording order, and forget them. */
void report_flush(void);

/* value / floor, or 0 without a floor. */
double report_ratio(double value, double floor);

#endif
