/* Output for people: sizes, times, colours, tables. Pure functions of their
 * inputs but for cli_colour_on (the terminal and NO_COLOR). */
#ifndef SL_CLI_FORMAT_H
#define SL_CLI_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_SIZE_LEN 16 /* "1023.9K" and more */
#define CLI_TIME_LEN 32 /* "2024-05-01 12:00:00.123" */

/* ANSI SGR sequences; "" when colour is off. */
#define CLI_GREEN  "\033[32m"
#define CLI_YELLOW "\033[33m"
#define CLI_RED    "\033[31m"
#define CLI_BOLD   "\033[1m"
#define CLI_RESET  "\033[0m"

/* 1536 -> "1.5K", 67108864 -> "64M", 512 -> "512B": binary units, as the
 * topology writes sizes; one decimal below 10. */
void cli_human_size(uint64_t bytes, char out[CLI_SIZE_LEN]);

/* Microseconds since the epoch as local time, to the millisecond. */
void cli_human_time(long long usec, char out[CLI_TIME_LEN]);

/* Colour for FILE: only on a terminal, and never when NO_COLOR is set to
 * anything (https://no-color.org) or TERM is "dumb". */
int cli_colour_on(FILE *f);

/* The colour of a slice state: green ready, yellow on the way (waiting,
 * starting, back-off), red failed or down, none otherwise. */
const char *cli_state_colour(const char *state);

/* Write TEXT with control bytes (but tab) shown as \xNN, so a slice's log
 * line cannot drive the terminal. */
void cli_put_text(FILE *f, const char *text, size_t len);

/* fflush(stdout); -1 with errno when stdout is gone (EPIPE) or failed. */
int cli_flush_stdout(void);

/* A table with a header row and columns padded to their widest cell. */
struct cli_table {
        size_t ncols, nrows, cap;
        char **cells;         /* nrows * ncols, owned; row 0 is the header */
        const char **colours; /* per cell, or NULL */
};

int cli_table_init(struct cli_table *t, size_t ncols, const char *const *header);
/* Add a row of ncols cells (copied); colours[i] may be NULL. -1: no memory. */
int cli_table_add(struct cli_table *t, const char *const *cells, const char *const *colours);
/* Print; colours only if `colour`. The last column is not padded. */
void cli_table_print(const struct cli_table *t, FILE *f, int colour);
void cli_table_free(struct cli_table *t);

#endif
