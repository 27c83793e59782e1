/* log.c - log destinations (stderr, stdout, file, syslog, $SYS topic), types and timestamps.
 * Formats each line once, then hands the same bytes to every destination. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

void (*log_topic_hook)(unsigned type, const char *line);
unsigned log_mask = LOG_T_ALL; /* before log_open() everything is shown */

static struct {
    bool opened;           /* false: before log_open(), everything goes to stderr */
    unsigned dest;
    unsigned types;
    bool timestamp;
    char ts_format[128];   /* empty: seconds since the epoch, as Mosquitto prints */
    FILE *file;
    bool syslog_open;
    bool in_hook;          /* a topic hook that logs must not recurse */
    uid_t owner_uid;       /* log_set_owner(); (uid_t)-1: leave as created */
    gid_t owner_gid;
} lg = { .types = LOG_T_ALL, .owner_uid = (uid_t)-1, .owner_gid = (gid_t)-1 };

void log_set_owner(uid_t uid, gid_t gid)
{
    lg.owner_uid = uid;
    lg.owner_gid = gid;
}

/* Appends to path; a new file is created 0600 (Debian's mosquitto 2.0.11 and 2.1.2 both create
 * theirs -rw------- owned by the user they run as) and handed to the run-as user. */
static FILE *open_log_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f;

    if (fd != -1) {
        if (geteuid() == 0 && lg.owner_uid != (uid_t)-1 &&
            fchown(fd, lg.owner_uid, lg.owner_gid) == -1) {
            int e = errno;
            close(fd);
            errno = e;
            return NULL;
        }
    } else if (errno == EEXIST) {
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    }
    if (fd == -1)
        return NULL;
    f = fdopen(fd, "a");
    if (f == NULL)
        close(fd);
    return f;
}

static int syslog_priority(unsigned type)
{
    switch (type) {
    case LOG_T_ERR: return LOG_ERR;
    case LOG_T_WARNING: return LOG_WARNING;
    case LOG_T_NOTICE: return LOG_NOTICE;
    case LOG_T_DEBUG: return LOG_DEBUG;
    default: return LOG_INFO;
    }
}

static size_t format_time(char *out, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (lg.ts_format[0] == '\0')
        return (size_t)snprintf(out, len, "%lld: ", (long long)ts.tv_sec);
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, len - 2, lg.ts_format, &tm);
    out[n++] = ':';
    out[n++] = ' ';
    out[n] = '\0';
    return n;
}

void log_printf(unsigned type, const char *fmt, ...)
{
    char line[2048];
    char stamp[160];
    size_t slen = 0;
    va_list ap;
    unsigned dest = lg.opened ? lg.dest : LOG_D_STDERR;

    if (lg.opened && !(lg.types & type))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (!lg.opened || lg.timestamp)
        slen = format_time(stamp, sizeof(stamp));
    else
        stamp[0] = '\0';

    if (dest & LOG_D_STDERR)
        fprintf(stderr, "%s%s\n", stamp, line);
    if (dest & LOG_D_STDOUT) {
        fprintf(stdout, "%s%s\n", stamp, line);
        fflush(stdout);
    }
    if ((dest & LOG_D_FILE) && lg.file != NULL) {
        fprintf(lg.file, "%s%s\n", stamp, line);
        fflush(lg.file);
    }
    if ((dest & LOG_D_SYSLOG) && lg.syslog_open)
        syslog(syslog_priority(type), "%s", line);
    if ((dest & LOG_D_TOPIC) && log_topic_hook != NULL && !lg.in_hook) {
        lg.in_hook = true;
        log_topic_hook(type, slen ? line : line);
        lg.in_hook = false;
    }
}

static int apply(const struct conf *c)
{
    lg.dest = c->log_dest;
    lg.types = c->verbose ? LOG_T_ALL : c->log_type;
    log_mask = lg.types;
    lg.timestamp = c->log_timestamp;
    snprintf(lg.ts_format, sizeof(lg.ts_format), "%s",
             c->log_timestamp_format ? c->log_timestamp_format : "");
    if ((lg.dest & LOG_D_FILE) && c->log_file != NULL) {
        lg.file = open_log_file(c->log_file);
        if (lg.file == NULL) {
            lg.opened = false; /* report on stderr */
            log_err("Error: Unable to open log file %s for writing: %s.", c->log_file,
                    strerror(errno));
            return ERR_SYS;
        }
    }
    if (lg.dest & LOG_D_SYSLOG) {
        int facility = c->log_facility >= 0 && c->log_facility <= 7 ? LOG_LOCAL0 + (c->log_facility << 3)
                                                                    : LOG_DAEMON;
        openlog("mosquitto", LOG_PID | LOG_NDELAY, facility);
        lg.syslog_open = true;
    }
    lg.opened = true;
    return ERR_OK;
}

int log_open(const struct conf *c)
{
    return apply(c);
}

void log_close(void)
{
    if (lg.file != NULL)
        fclose(lg.file);
    lg.file = NULL;
    if (lg.syslog_open)
        closelog();
    lg.syslog_open = false;
    lg.opened = false;
    log_mask = LOG_T_ALL;
}

int log_reopen(const struct conf *c)
{
    log_close();
    return apply(c);
}
