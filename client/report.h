/*
 * report.h: `lwk report`, the programme office's reports, read straight from
 * PostgreSQL as an analyst (see report.c and docs/analysis.md).
 */
#ifndef LWK_REPORT_H
#define LWK_REPORT_H

/*
 * Runs the report command. argv[0] is "report"; the rest are its options and
 * an optional report name. Returns the process exit status: 0 done, 1 a scope
 * that this login may not see or that does not exist, 2 usage, 3 cannot
 * connect, 4 a query failed (permission denied, analysis not installed).
 */
int report_main(int argc, char **argv);

#endif
