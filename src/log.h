/* log.h - the broker's log: destinations (stderr, stdout, file, syslog, $SYS topic), types,
 * timestamps. Before log_open() every line goes to stderr, so config errors are seen. */
#ifndef LOG_H
#define LOG_H

#include <sys/types.h>

#include "conf.h"

/* Writes one line of the given type (enum log_level bit), if that type is enabled. The format
 * is printf-like, without the trailing newline. */
void log_printf(unsigned type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_printf(LOG_T_ERR, __VA_ARGS__)
#define log_warn(...) log_printf(LOG_T_WARNING, __VA_ARGS__)
#define log_notice(...) log_printf(LOG_T_NOTICE, __VA_ARGS__)
#define log_info(...) log_printf(LOG_T_INFO, __VA_ARGS__)
#define log_debug(...) log_printf(LOG_T_DEBUG, __VA_ARGS__)

/* Owner given to a log file that log_open()/log_reopen() creates while running as root: the
 * user the broker drops to, so that a reopen after the drop (SIGHUP, logrotate) still works.
 * A file that already exists keeps its owner. Default: none (-1). */
void log_set_owner(uid_t uid, gid_t gid);
/* Applies the log settings of c (opens the file, syslog). Returns 0 or ERR_SYS. */
int log_open(const struct conf *c);
void log_close(void);
int log_reopen(const struct conf *c); /* SIGHUP: reopen the file, take new settings */

/* Types enabled now: test before formatting a per-packet debug line on a hot path. */
extern unsigned log_mask;
#define log_on(type) ((log_mask & (type)) != 0)

/* Hook for log_dest topic: called with each formatted line and its type; set by the broker. */
extern void (*log_topic_hook)(unsigned type, const char *line);

#endif
