/*
 * report.c - the BENCH lines (report.h).
 */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct figure {
    char name[96];
    char unit[24];
    double value;
    double floor;
} figure;

static figure *figures;
static size_t count, cap;

void report_figure(const char *name, double value, const char *unit, double floor)
{
    if (count == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        figure *grown = realloc(figures, ncap * sizeof(*grown));
        if (!grown) {
            fprintf(stderr, "bench: out of memory\n");
            exit(1);
        }
        figures = grown;
        cap = ncap;
    }
    figure *f = &figures[count++];
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->unit, sizeof(f->unit), "%s", unit);
    f->value = value;
    f->floor = floor;
}

double report_ratio(double value, double floor)
{
    return floor > 0 ? value / floor : 0;
}

/* Enough digits that a ratio of 1.0004 and a figure of 0.25 both read right. */
void report_flush(void)
{
    for (size_t i = 0; i < count; i++) {
        const figure *f = &figures[i];
        if (f->floor > 0)
            printf("BENCH %s %.6g %s floor=%.6g ratio=%.4f\n", f->name, f->value, f->unit,
                   f->floor, f->value / f->floor);
        else
            printf("BENCH %s %.6g %s floor=- ratio=-\n", f->name, f->value, f->unit);
    }
    free(figures);
    figures = NULL;
    count = cap = 0;
}
