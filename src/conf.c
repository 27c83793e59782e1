/* conf.c - the mosquitto.conf engine: reads lines (comments, blank lines, CRLF, include_dir),
 * finds each keyword in the option table (conf_opts.c), runs its typed setter or custom parser,
 * and reports "FILE:LINE: Error: ..." on failure. Knows no option by itself except through the
 * table; conf_validate() then checks the combinations (PROXY, TLS, listeners). */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_opts.h"
#include "err.h"
#include "log.h"

/* Lines configured by hand are short; this only bounds what a hostile file can make us hold. */
#define CONF_MAX_INCLUDE_FILES 10000

/* Built-in features that some options need. */
#define CONF_HAVE_WEBSOCKETS 1

static char last_error[1024];
/* > 0 while an include_dir file is read: 2.1.2 quotes the place of an error found there. */
static int include_nesting;

const char *conf_last_error(void)
{
    return last_error;
}

/* Formats one message and logs it; conf_last_error() keeps it as "FILE:LINE: message". */
static void report(const char *file, int line, unsigned type, const char *fmt, va_list ap)
{
    char msg[sizeof(last_error) - 64];
    char out[sizeof(last_error)];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (file != NULL && line > 0)
        snprintf(out, sizeof(out), "%s:%d: %s", file, line, msg);
    else if (file != NULL)
        snprintf(out, sizeof(out), "%s: %s", file, msg);
    else
        snprintf(out, sizeof(out), "%s", msg);
    if (type == LOG_T_ERR)
        memcpy(last_error, out, sizeof(out));
    /* Mosquitto's two-line form, which existing scripts grep for: the message, then where. */
    if (type == LOG_T_ERR && file != NULL) {
        log_printf(type, "%s", msg);
        if (line > 0 && include_nesting > 0)
            log_printf(type, "Error found at '%s:%d'.", file, line);
        else if (line > 0)
            log_printf(type, "Error found at %s:%d.", file, line);
        else
            log_printf(type, "Error found at %s.", file);
        return;
    }
    log_printf(type, "%s", out);
}

__attribute__((format(printf, 4, 5)))
static int fail_at(const char *file, int line, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(file, line, LOG_T_ERR, fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct conf_parse *p, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(p->file, p->line, LOG_T_ERR, fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 3, 4)))
static void warn_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(file, line, LOG_T_WARNING, fmt, ap);
    va_end(ap);
}

static int nomem(struct conf_parse *p)
{
    return fail(p, ERR_NOMEM, "Error: Out of memory.");
}

/* ---- tokens ---------------------------------------------------------------------------- */

/* Words are separated by spaces only: both references read a tab as part of a word, so
 * "retain_available<TAB>true" is an unknown option there, and must be here too. */
static char *skip_ws(char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
}

/* Cuts the next whitespace-separated token out of *s; NULL at the end of the line or at a
 * token starting with '#' (the rest of the line is a comment). */
static char *next_token(char **s)
{
    char *t = skip_ws(*s);
    char *e;

    if (*t == '\0' || *t == '#') {
        *s = t + strlen(t);
        return NULL;
    }
    e = t;
    while (*e != '\0' && *e != ' ')
        e++;
    if (*e != '\0')
        *e++ = '\0';
    *s = e;
    return t;
}

/* The value of an option that takes one word; words after it are ignored, as both
 * references ignore them ("max_keepalive 10 20" is 10). */
static int one_value(struct conf_parse *p, char *args, char **value)
{
    *value = next_token(&args);
    if (*value == NULL)
        return fail(p, ERR_CONF, "Error: Empty '%s' value in configuration.", p->keyword);
    return ERR_OK;
}

/* 2.1.2's wording of a number out of range, where it has its own for the option. */
static int range_error(struct conf_parse *p, const struct conf_opt *o, const char *v)
{
    if (strcmp(p->keyword, "max_qos") == 0 || strcmp(p->keyword, "maximum_qos") == 0)
        return fail(p, ERR_CONF, "Error: '%s' must be between %lld and %lld inclusive.",
                    p->keyword, o->min, o->max);
    if (strcmp(p->keyword, "max_topic_alias") == 0)
        return fail(p, ERR_CONF, "Error: Invalid '%s' value in configuration.", p->keyword);
    if (strcmp(p->keyword, "max_inflight_messages") == 0)
        return fail(p, ERR_CONF, "Error: '%s' must be <= %lld.", p->keyword, o->max);
    return fail(p, ERR_CONF, "Error: Invalid '%s' value (%s).", p->keyword, v);
}

static bool parse_bool_word(const char *s, bool *out)
{
    /* Mosquitto documents true/false and has always also taken 1/0. */
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = false;
    else
        return false;
    return true;
}

static int get_bool(struct conf_parse *p, char *args, bool *out)
{
    char *v;
    int rc = one_value(p, args, &v);

    if (rc != ERR_OK)
        return rc;
    if (!parse_bool_word(v, out))
        return fail(p, ERR_CONF, "Error: Invalid '%s' value (%s).", p->keyword, v);
    return ERR_OK;
}

static bool parse_number(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return end != s && *end == '\0' && errno == 0;
}

/* One integer, with the row's negative-value rule and range. */
static int get_int(struct conf_parse *p, const struct conf_opt *o, char *args, long long *out)
{
    char *v;
    int rc = one_value(p, args, &v);

    if (rc != ERR_OK)
        return rc;
    if (!parse_number(v, out))
        return fail(p, ERR_CONF, "Error: '%s' value not a number.", p->keyword);
    if (*out < 0 && (o->flags & F_NEG_ZERO))
        *out = 0;
    if (*out < 0 && (o->flags & F_NEG_MINUS1))
        *out = -1;
    if (*out < o->min || *out > o->max)
        return range_error(p, o, v);
    return ERR_OK;
}

/* For conf_bridge.c: the same helpers, under their module prefix. */
int conf_fail(struct conf_parse *p, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(p->file, p->line, LOG_T_ERR, fmt, ap);
    va_end(ap);
    return rc;
}

int conf_fail_at(const char *file, int line, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(file, line, LOG_T_ERR, fmt, ap);
    va_end(ap);
    return rc;
}

void conf_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(NULL, 0, LOG_T_WARNING, fmt, ap);
    va_end(ap);
}

char *conf_next_token(char **s) { return next_token(s); }
int conf_one_value(struct conf_parse *p, char *args, char **value)
{
    return one_value(p, args, value);
}
int conf_get_bool(struct conf_parse *p, char *args, bool *out) { return get_bool(p, args, out); }
bool conf_parse_number(const char *s, long long *out) { return parse_number(s, out); }
int conf_nomem(struct conf_parse *p) { return nomem(p); }

/* ---- targets --------------------------------------------------------------------------- */

static struct listener_conf *current_listener(struct conf *c)
{
    return c->parse_listener >= 0 ? &c->listeners[c->parse_listener] : NULL;
}

static void listener_defaults(struct listener_conf *l)
{
    memset(l, 0, sizeof(*l));
    l->socket_domain = AF_UNSPEC;
    l->max_connections = -1;
    l->protocol = PROTO_MQTT;
    l->max_qos = 2;
    l->max_topic_alias = 10;
    l->max_topic_alias_broker = 10;
    l->proxy_timeout = 5;
    l->allow_anonymous = -1;
    l->sec.allow_anonymous = -1;
    l->sec.allow_zero_length_clientid = true;
}

/* Where the row's field lives for this line, or NULL after reporting why there is none. */
static void *target(struct conf_parse *p, const struct conf_opt *o)
{
    struct conf *c = p->c;
    struct listener_conf *l = current_listener(c);

    switch (o->scope) {
    case SCOPE_GLOBAL:
        return (char *)c + o->offset;
    case SCOPE_LISTENER:
        if (l == NULL) {
            l = &c->default_listener;
            c->parse_default_touched = true;
        }
        return (char *)l + o->offset;
    case SCOPE_LISTENER_ONLY:
        if (l == NULL)
            break;
        return (char *)l + o->offset;
    case SCOPE_SECURITY:
        c->parse_sec_touched = true;
        if (!c->per_listener_settings)
            return (char *)&c->sec + o->offset;
        if (l == NULL && c->parse_default_used)
            l = &c->default_listener;
        if (l == NULL)
            break;
        return (char *)&l->sec + o->offset;
    case SCOPE_BRIDGE:
        if (c->parse_bridge < 0) {
            fail(p, ERR_CONF, "Error: The '%s' option requires a bridge to be defined first.",
                 p->keyword);
            return NULL;
        }
        return (char *)&c->bridges[c->parse_bridge] + o->offset;
    case SCOPE_NONE:
        return NULL;
    }
    fail(p, ERR_CONF, "Error: The '%s' option requires a listener to be defined first.",
         p->keyword);
    return NULL;
}

/* ---- typed setters --------------------------------------------------------------------- */

char *conf_abs_path(const struct conf *c, const char *path)
{
    char cwd[PATH_MAX];
    char *out;

    if (!c->abs_paths || path[0] == '/')
        return strdup(path);
    /* Relative to the directory the broker was started in, as both references read them;
     * no realpath(): the file may not exist yet (a log or pid file). */
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return strdup(path);
    if (asprintf(&out, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) == -1)
        return NULL;
    return out;
}

static int set_str(struct conf_parse *p, const struct conf_opt *o, char **field, char *args)
{
    char *copy;

    if (*args == '\0')
        return fail(p, ERR_CONF, "Error: Empty '%s' value in configuration.", p->keyword);
    if (o->max > 0 && (long long)strlen(args) > o->max)
        return fail(p, ERR_CONF, "Error: %s length must be <= %lld.", p->keyword, o->max);
    copy = (o->flags & F_PATH) ? conf_abs_path(p->c, args) : strdup(args);
    if (copy == NULL)
        return nomem(p);
    free(*field);
    *field = copy;
    return ERR_OK;
}

/* N followed by s, h, d, w, m (30 days) or y (365 days), as Mosquitto reads it. */
static int set_duration(struct conf_parse *p, long *field, char *args)
{
    static const struct { char unit; long seconds; } units[] = {
        { 's', 1 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 }, { 'm', 30 * 86400 },
        { 'y', 365 * 86400 }
    };
    char *v;
    long long n;
    size_t len;
    int rc = one_value(p, args, &v);

    if (rc != ERR_OK)
        return rc;
    len = strlen(v);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (len < 2 || v[len - 1] != units[i].unit)
            continue;
        v[len - 1] = '\0';
        if (!parse_number(v, &n) || n <= 0 || n > LONG_MAX / units[i].seconds)
            break;
        *field = (long)n * units[i].seconds;
        return ERR_OK;
    }
    return fail(p, ERR_CONF, "Error: Invalid '%s' duration in configuration.", p->keyword);
}

static int check_ignored(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    long long n;
    bool b = false; /* GCC -O3 cannot see that get_bool() sets it on success */

    if (o->flags & F_CHECK_INT)
        return get_int(p, o, args, &n);
    if (o->flags & F_CHECK_BOOL)
        return get_bool(p, args, &b);
    if ((o->flags & F_CHECK_STR) && *args == '\0')
        return fail(p, ERR_CONF, "Error: Empty '%s' value in configuration.", p->keyword);
    return ERR_OK;
}

static int check_unsupported(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    const char *h = o->harmless;
    size_t n = strlen(args);

    /* Spelling out the default of a missing feature changes nothing: accept it. */
    while (h != NULL && *h != '\0' && n > 0) {
        size_t len = strcspn(h, "|");
        if (len == n && strncmp(h, args, n) == 0)
            return ERR_OK;
        h += len + (h[len] == '|');
    }
    return fail(p, ERR_NOT_SUPPORTED, "Error: Option '%s' is not supported by this build.",
                p->keyword);
}

static int apply(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    void *f;
    long long n;
    bool b = false; /* GCC -O3 cannot see that get_bool() sets it on success */
    int rc;

    switch (o->type) {
    case T_CUSTOM:
        if (o->scope == SCOPE_BRIDGE && target(p, o) == NULL)
            return ERR_CONF;    /* a bridge option before any `connection` line */
        return o->custom(p, o, args);
    case T_IGNORED:
        return check_ignored(p, o, args);
    case T_OBSOLETE:
        /* 2.1.2's words, without the place (it names none). */
        if (strcmp(p->keyword, "dhparamfile") == 0)
            warn_at(NULL, 0, "Warning: %s is no longer required.", p->keyword);
        else
            warn_at(NULL, 0, "Warning: The '%s' option is no longer available.", p->keyword);
        return ERR_OK;
    case T_UNSUPPORTED:
        return check_unsupported(p, o, args);
    default:
        break;
    }
    if ((f = target(p, o)) == NULL)
        return ERR_CONF;
    switch (o->type) {
    case T_BOOL:
    case T_TRISTATE:
        if ((rc = get_bool(p, args, &b)) != ERR_OK)
            return rc;
        if (o->type == T_BOOL)
            *(bool *)f = b;
        else
            *(int *)f = b;
        return ERR_OK;
    case T_INT:
    case T_UINT32:
        if ((rc = get_int(p, o, args, &n)) != ERR_OK)
            return rc;
        if (o->type == T_INT)
            *(int *)f = (int)n;
        else
            *(uint32_t *)f = (uint32_t)n;
        return ERR_OK;
    case T_STR:
        return set_str(p, o, (char **)f, args);
    case T_DURATION:
        return set_duration(p, (long *)f, args);
    default:
        return ERR_CONF;
    }
}

/* ---- lines and files ------------------------------------------------------------------- */

/* A stable copy of a file name, owned by c, so listener_conf.file can point at it. */
static const char *intern(struct conf *c, const char *path)
{
    char **files;
    char *copy;

    for (size_t i = 0; i < c->parse_file_count; i++)
        if (strcmp(c->parse_files[i], path) == 0)
            return c->parse_files[i];
    files = realloc(c->parse_files, (c->parse_file_count + 1) * sizeof(*files));
    if (files == NULL)
        return NULL;
    c->parse_files = files;
    if ((copy = strdup(path)) == NULL)
        return NULL;
    files[c->parse_file_count++] = copy;
    return copy;
}

int conf_parse_line(struct conf *c, const char *text, const char *path, int line)
{
    struct conf_parse p = { .c = c, .file = path, .line = line };
    const struct conf_opt *o;
    char *buf, *s, *keyword;
    int rc;

    last_error[0] = '\0';
    if ((buf = strdup(text)) == NULL)
        return nomem(&p);
    trim_end(buf);
    s = skip_ws(buf);
    keyword = next_token(&s);
    if (keyword == NULL) {          /* blank line or comment */
        free(buf);
        return ERR_OK;
    }
    p.keyword = keyword;
    if ((p.file = intern(c, path)) == NULL) {
        p.file = path;
        rc = nomem(&p);
    } else if ((o = conf_opt_find(keyword)) == NULL) {
        rc = fail(&p, ERR_CONF, "Error: Unknown configuration variable '%s'.", keyword);
    } else {
        rc = apply(&p, o, skip_ws(s));
    }
    free(buf);
    return rc;
}

/* Reads one file; from is the include_dir line that named it (NULL for the main file). */
static int parse_file(struct conf *c, const char *path, struct conf_parse *from)
{
    const char *ffile = from != NULL ? from->file : NULL;
    int fline = from != NULL ? from->line : 0;
    int saved = c->parse_listener;
    struct stat st;
    char *text = NULL;
    size_t cap = 0;
    int line = 0, rc = ERR_OK;
    FILE *f;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return fail_at(ffile, fline, ERR_CONF, "Error: Config file '%s' is a directory.", path);
    if ((f = fopen(path, "r")) == NULL)
        return fail_at(ffile, fline, ERR_CONF, "Error: Unable to open config file '%s'.", path);
    /* Like Mosquitto, each file starts outside any listener: its listener options must follow
     * its own `listener` line (or go to the default listener). */
    c->parse_listener = -1;
    while (rc == ERR_OK && getline(&text, &cap, f) != -1)
        rc = conf_parse_line(c, text, path, ++line);
    if (rc == ERR_OK && ferror(f))
        rc = fail_at(path, line, ERR_CONF, "Error: Unable to read config file '%s'.", path);
    free(text);
    fclose(f);
    c->parse_listener = saved;
    return rc;
}

int conf_parse_file(struct conf *c, const char *path)
{
    last_error[0] = '\0';
    return parse_file(c, path, NULL);
}

/* ---- include_dir ----------------------------------------------------------------------- */

/* Mosquitto's documented order: alphabetical ignoring case, and at the first letter that
 * differs only in case, upper case first (00.conf 01.conf A.conf a.conf B.conf b.conf). */
static int include_order(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a;
    const unsigned char *y = *(const unsigned char *const *)b;
    int case_diff = 0;

    for (; *x != '\0' && *y != '\0'; x++, y++) {
        if (tolower(*x) != tolower(*y))
            return tolower(*x) - tolower(*y);
        if (case_diff == 0)
            case_diff = *x - *y;
    }
    if (*x != *y)
        return *x - *y;
    return case_diff;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The *.conf names in dir, sorted; NULL with *n = 0 if there are none. */
static int list_conf_files(struct conf_parse *p, const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, **grown;
    size_t len;

    *out = NULL;
    *n = 0;
    if (d == NULL)
        return fail(p, ERR_CONF, "Error: Unable to open include_dir '%s'.", dir);
    while ((e = readdir(d)) != NULL) {
        len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0)
            continue;
        if (*n >= CONF_MAX_INCLUDE_FILES
            || (grown = realloc(names, (*n + 1) * sizeof(*names))) == NULL
            || (grown[*n] = strdup(e->d_name)) == NULL) {
            closedir(d);
            free_names(names, *n);
            *n = 0;
            return nomem(p);
        }
        names = grown;
        (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(names, *n, sizeof(*names), include_order);
    *out = names;
    return ERR_OK;
}

int conf_opt_include_dir(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char **names;
    size_t n;
    int rc;

    (void)o;
    if (p->c->parse_depth > 0)
        return fail(p, ERR_CONF,
                    "Error: The include_dir option is only valid in the main configuration file.");
    if (*args == '\0')
        return fail(p, ERR_CONF, "Error: Empty 'include_dir' value in configuration.");
    if ((rc = list_conf_files(p, args, &names, &n)) != ERR_OK)
        return rc;
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        size_t len = strlen(args) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (path == NULL) {
            rc = nomem(p);
            break;
        }
        snprintf(path, len, "%s/%s", args, names[i]);
        log_info("Loading config file %s", path);
        p->c->parse_depth++;
        include_nesting++;
        rc = parse_file(p->c, path, p);
        include_nesting--;
        p->c->parse_depth--;
        if (rc != ERR_OK) /* 2.1.2 names every level: the include_dir line too */
            log_err("Error found at %s:%d.", p->file, p->line);
        free(path);
    }
    free_names(names, n);
    return rc;
}

/* ---- listeners ------------------------------------------------------------------------- */

static bool same_address(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The listener that l would duplicate (same port and address, or same unix path), or NULL. */
static const struct listener_conf *find_duplicate(const struct conf *c,
                                                  const struct listener_conf *l)
{
    for (size_t i = 0; i < c->listener_count; i++) {
        const struct listener_conf *o = &c->listeners[i];
        if (o == l)
            continue;
        if (l->port == 0 && o->port == 0 && same_address(l->unix_path, o->unix_path))
            return o;
        if (l->port != 0 && o->port == l->port && same_address(l->host, o->host))
            return o;
    }
    return NULL;
}

static int duplicate_error(const char *file, int line, const struct listener_conf *l,
                           const struct listener_conf *first)
{
    if (l->port == 0)
        return fail_at(file, line, ERR_CONF,
                       "Error: Duplicate listener on unix socket '%s' (first at %s:%d).",
                       l->unix_path, first->file ? first->file : "?", first->line);
    return fail_at(file, line, ERR_CONF,
                   "Error: Duplicate listener on port %u%s%s (first at %s:%d).", l->port,
                   l->host ? " address " : "", l->host ? l->host : "",
                   first->file ? first->file : "?", first->line);
}

/* what: "listener port" or "port", as 2.1.2 names the value in its messages. */
static int parse_port(struct conf_parse *p, const char *what, const char *s, long long min,
                      long long *port)
{
    if (!parse_number(s, port))
        return fail(p, ERR_CONF, "Error: '%s' value not a number.", what);
    if (*port < min || *port > 65535)
        return fail(p, ERR_CONF, "Error: Invalid 'port' value (%s).", s);
    return ERR_OK;
}

int conf_opt_listener(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct conf *c = p->c;
    struct listener_conf l, *grown;
    const struct listener_conf *dup;
    char *port_s = next_token(&args), *addr = next_token(&args);
    long long port;
    int rc;

    (void)o;
    if (port_s == NULL)
        return fail(p, ERR_CONF, "Error: Empty 'listener port' value in configuration.");
    if ((rc = parse_port(p, "listener port", port_s, 0, &port)) != ERR_OK)
        return rc;
    if (port == 0 && addr == NULL)
        return fail(p, ERR_CONF, "Error: A listener with port 0 must provide a Unix socket path.");
    listener_defaults(&l);
    l.port = (uint16_t)port;
    l.file = p->file;
    l.line = p->line;
    if (addr != NULL) {
        if (port == 0 && (l.unix_path = strdup(addr)) == NULL)
            return nomem(p);
        if (port != 0 && (l.host = strdup(addr)) == NULL)
            return nomem(p);
    }
    if ((dup = find_duplicate(c, &l)) != NULL
        || (grown = realloc(c->listeners, (c->listener_count + 1) * sizeof(l))) == NULL) {
        /* The message names l's address: report first, free after. */
        rc = dup != NULL ? duplicate_error(p->file, p->line, &l, dup) : nomem(p);
        free(l.unix_path);
        free(l.host);
        return rc;
    }
    c->listeners = grown;
    c->listeners[c->listener_count] = l;
    c->parse_listener = (int)c->listener_count++;
    c->local_only = false;
    return ERR_OK;
}

/* port / bind_address configure the default listener and make it start. */
static void use_default_listener(struct conf_parse *p)
{
    struct conf *c = p->c;

    if (!c->parse_default_used) {
        c->default_listener.file = p->file;
        c->default_listener.line = p->line;
    }
    c->parse_default_used = true;
    c->local_only = false;
    c->parse_listener = -1;
}

int conf_opt_port(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char *v;
    long long port;
    int rc;

    (void)o;
    if ((rc = one_value(p, args, &v)) != ERR_OK ||
        (rc = parse_port(p, "port", v, 1, &port)) != ERR_OK)
        return rc;
    use_default_listener(p);
    p->c->default_listener.port = (uint16_t)port;
    p->c->parse_port_set = true;
    return ERR_OK;
}

int conf_opt_bind_address(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char *v, *copy;

    (void)o;
    if ((v = next_token(&args)) == NULL)
        return fail(p, ERR_CONF,
                    "Error: Empty 'default listener bind_address' value in configuration.");
    if ((copy = strdup(v)) == NULL)
        return nomem(p);
    use_default_listener(p);
    free(p->c->default_listener.host);
    p->c->default_listener.host = copy;
    return ERR_OK;
}

int conf_opt_socket_domain(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    int *f = target(p, o);
    char *v;
    int rc;

    if (f == NULL)
        return ERR_CONF;
    if ((rc = one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (strcmp(v, "ipv4") == 0)
        *f = AF_INET;
    else if (strcmp(v, "ipv6") == 0)
        *f = AF_INET6;
    else
        return fail(p, ERR_CONF, "Error: Invalid 'socket_domain' value '%s' in configuration.", v);
    return ERR_OK;
}

int conf_opt_protocol(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    enum listener_protocol *f = target(p, o);
    char *v;
    int rc;

    if (f == NULL)
        return ERR_CONF;
    if ((rc = one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (strcmp(v, "mqtt") == 0)
        *f = PROTO_MQTT;
    else if (strcmp(v, "websockets") == 0)
        *f = PROTO_WEBSOCKETS;
    else if (strcmp(v, "http_api") == 0)
        return fail(p, ERR_NOT_SUPPORTED,
                    "Error: Option 'protocol http_api' is not supported by this build.");
    else
        return fail(p, ERR_CONF, "Error: Invalid 'protocol' value (%s).", v);
    return ERR_OK;
}

int conf_opt_mount_point(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char **f = target(p, o);

    if (f == NULL)
        return ERR_CONF;
    if (strpbrk(args, "+#") != NULL)
        return fail(p, ERR_CONF, "Error: Invalid 'mount_point' value (%s). Does it contain a "
                    "wildcard character?", args);
    return set_str(p, o, f, args);
}

/* "3, 4, 5" or "4 5": MQTT protocol levels (3 = 3.1, 4 = 3.1.1, 5 = 5.0). 2.1.2 takes any
 * text here; a level it does not know is refused, so that a typo cannot lock every client out
 * without a word. */
int conf_opt_accept_protocol_versions(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    unsigned *f = target(p, o), bits = 0;
    char *tok;

    if (f == NULL)
        return ERR_CONF;
    if (*args == '\0')
        return fail(p, ERR_CONF, "Error: Empty 'accept_protocol_versions' value in configuration.");
    for (tok = strtok(args, ", \t"); tok != NULL; tok = strtok(NULL, ", \t")) {
        if (strcmp(tok, "3") != 0 && strcmp(tok, "4") != 0 && strcmp(tok, "5") != 0)
            return fail(p, ERR_CONF, "Error: Invalid 'accept_protocol_versions' value (%s): "
                        "use 3, 4 and/or 5.", tok);
        bits |= 1u << (tok[0] - '0');
    }
    *f = bits;
    return ERR_OK;
}

/* websockets_origin, once per allowed Origin header value (exact match). */
int conf_opt_websockets_origin(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char ***f = target(p, o), **v;
    size_t n = 0;

    if (f == NULL)
        return ERR_CONF;
    if (*args == '\0')
        return fail(p, ERR_CONF, "Error: Empty 'websockets_origin' value in configuration.");
    while (*f != NULL && (*f)[n] != NULL)
        n++;
    if ((v = realloc(*f, (n + 2) * sizeof(*v))) == NULL)
        return nomem(p);
    *f = v;
    if ((v[n] = strdup(args)) == NULL)
        return nomem(p);
    v[n + 1] = NULL;
    return ERR_OK;
}

/* ---- logging --------------------------------------------------------------------------- */

int conf_opt_log_dest(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    static const struct { const char *word; unsigned bit; } dests[] = {
        { "none", LOG_D_NONE }, { "stderr", LOG_D_STDERR }, { "stdout", LOG_D_STDOUT },
        { "syslog", LOG_D_SYSLOG }, { "topic", LOG_D_TOPIC }, { "dlt", LOG_D_DLT }
    };
    struct conf *c = p->c;
    char *word = next_token(&args);

    (void)o;
    if (word == NULL)
        return fail(p, ERR_CONF, "Error: Empty 'log_dest' value in configuration.");
    /* The first log_dest replaces the default (stderr); later ones add to it. */
    if (!c->parse_log_dest_set)
        c->log_dest = LOG_D_NONE;
    c->parse_log_dest_set = true;
    if (strcmp(word, "file") == 0) {
        if (c->log_file != NULL)
            return fail(p, ERR_CONF, "Error: Duplicate \"log_dest file\" value.");
        if (*skip_ws(args) == '\0')
            return fail(p, ERR_CONF, "Error: Empty \"log_dest file\" value in configuration.");
        if ((c->log_file = conf_abs_path(c, skip_ws(args))) == NULL)
            return nomem(p);
        c->log_dest |= LOG_D_FILE;
        return ERR_OK;
    }
    if (strcmp(word, "android") == 0)
        return fail(p, ERR_NOT_SUPPORTED,
                    "Error: Option 'log_dest android' is not supported by this build.");
    /* Words after the destination are ignored, as 2.1.2 does ("log_dest stdout unbuffered"
     * is Mosquitto's; our stdout is line buffered anyway). */
    for (size_t i = 0; i < sizeof(dests) / sizeof(dests[0]); i++) {
        if (strcmp(word, dests[i].word) != 0)
            continue;
        c->log_dest = dests[i].bit == LOG_D_NONE ? LOG_D_NONE : c->log_dest | dests[i].bit;
        return ERR_OK;
    }
    return fail(p, ERR_CONF, "Error: Invalid 'log_dest' value (%s).", word);
}

int conf_opt_log_type(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    static const struct { const char *word; unsigned bits; } types[] = {
        { "none", LOG_T_NONE }, { "information", LOG_T_INFO }, { "notice", LOG_T_NOTICE },
        { "warning", LOG_T_WARNING }, { "error", LOG_T_ERR }, { "debug", LOG_T_DEBUG },
        { "subscribe", LOG_T_SUBSCRIBE }, { "unsubscribe", LOG_T_UNSUBSCRIBE },
        { "websockets", LOG_T_WEBSOCKETS }, { "internal", LOG_T_INTERNAL }, { "all", LOG_T_ALL }
    };
    struct conf *c = p->c;
    char *v;
    int rc;

    (void)o;
    if ((rc = one_value(p, args, &v)) != ERR_OK)
        return rc;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(v, types[i].word) != 0)
            continue;
        /* The first log_type replaces the default set; later ones add to it. */
        if (!c->parse_log_type_set)
            c->log_type = LOG_T_NONE;
        c->parse_log_type_set = true;
        if (types[i].bits == LOG_T_NONE || types[i].bits == LOG_T_ALL)
            c->log_type = types[i].bits;
        else
            c->log_type |= types[i].bits;
        return ERR_OK;
    }
    return fail(p, ERR_CONF, "Error: Invalid 'log_type' value (%s).", v);
}

int conf_opt_log_facility(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char *v;
    long long n;
    int rc;

    (void)o;
    if ((rc = one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (!parse_number(v, &n) || n < 0 || n > 7)
        return fail(p, ERR_CONF, "Error: Invalid 'log_facility' value (%s).", v);
    p->c->log_facility = (int)n;
    return ERR_OK;
}

/* ---- security -------------------------------------------------------------------------- */

static void free_strv(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

static char **strv_one(const char *s)
{
    char **v = calloc(2, sizeof(*v));

    if (v != NULL && (v[0] = strdup(s)) == NULL) {
        free(v);
        return NULL;
    }
    return v;
}

/* Global in Mosquitto, whatever per_listener_settings says: one prefix, the rest of the line. */
int conf_opt_clientid_prefixes(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    char **v;

    (void)o;
    if (*args == '\0')
        return fail(p, ERR_CONF, "Error: Empty 'clientid_prefixes' value in configuration.");
    if ((v = strv_one(args)) == NULL)
        return nomem(p);
    free_strv(p->c->sec.clientid_prefixes);
    p->c->sec.clientid_prefixes = v;
    return ERR_OK;
}

int conf_opt_per_listener_settings(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    bool b = false; /* GCC -O3 cannot see that get_bool() sets it on success */
    int rc;

    (void)o;
    if ((rc = get_bool(p, args, &b)) != ERR_OK)
        return rc;
    if (p->c->per_listener_settings)    /* once on, it stays on (Mosquitto does the same) */
        return ERR_OK;
    if (b && p->c->parse_sec_touched)
        return fail(p, ERR_CONF,
                    "Error: per_listener_settings must be set before any other security settings.");
    p->c->per_listener_settings = b;
    return ERR_OK;
}

int conf_opt_max_packet_size(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    static const struct conf_opt range = { .min = 0, .max = 268435460 };   /* MQTT's maximum */
    long long n;
    int rc;

    (void)o;
    if ((rc = get_int(p, &range, args, &n)) != ERR_OK)
        return rc;
    /* 2.1.2 refuses 0 too: there is always a limit (default 2000000) */
    if (n < 20)
        return fail(p, ERR_CONF, "Error: 'max_packet_size' must be >= 20.");
    p->c->max_packet_size = (uint32_t)n;
    return ERR_OK;
}

/* ---- PROXY protocol -------------------------------------------------------------------- */

int conf_opt_proxy_protocol(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    int *f = target(p, o);
    char *v;
    long long n;
    int rc;

    if (f == NULL)
        return ERR_CONF;
    if ((rc = one_value(p, args, &v)) != ERR_OK)
        return rc;
    if (!parse_number(v, &n))
        return fail(p, ERR_CONF, "Error: 'enable_proxy_protocol' value not a number.");
    if (n != 1 && n != 2)
        return fail(p, ERR_CONF, "Error: enable_proxy_protocol must be 1 or 2.");
    *f = (int)n;
    return ERR_OK;
}

/* The seed document's spelling: true = version 2, false = off. */
int conf_opt_proxy_protocol_v2(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    int *f = target(p, o);
    bool b = false; /* GCC -O3 cannot see that get_bool() sets it on success */
    int rc;

    if (f == NULL)
        return ERR_CONF;
    if ((rc = get_bool(p, args, &b)) != ERR_OK)
        return rc;
    *f = b ? 2 : 0;
    return ERR_OK;
}

/* "ADDRESS[/PREFIX]", IPv4 or IPv6; host bits beyond the prefix are cleared. */
static bool parse_cidr(char *s, struct proxy_allow *out)
{
    char *slash = strchr(s, '/');
    uint8_t *bytes;
    int bits;
    long long n;

    memset(out, 0, sizeof(*out));
    if (slash != NULL)
        *slash = '\0';
    if (inet_pton(AF_INET, s, &((struct sockaddr_in *)&out->addr)->sin_addr) == 1) {
        out->addr.ss_family = AF_INET;
        bytes = (uint8_t *)&((struct sockaddr_in *)&out->addr)->sin_addr;
        bits = 32;
    } else if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&out->addr)->sin6_addr) == 1) {
        out->addr.ss_family = AF_INET6;
        bytes = ((struct sockaddr_in6 *)&out->addr)->sin6_addr.s6_addr;
        bits = 128;
    } else {
        return false;
    }
    if (slash != NULL) {
        *slash = '/';
        if (!parse_number(slash + 1, &n) || n < 0 || n > bits || !isdigit((unsigned char)slash[1]))
            return false;
        out->prefix = (int)n;
    } else {
        out->prefix = bits;
    }
    for (int i = out->prefix; i < bits; i++)
        bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
    return true;
}

int conf_opt_proxy_allow_from(struct conf_parse *p, const struct conf_opt *o, char *args)
{
    struct listener_conf *l;
    struct proxy_allow a, *grown;
    char *v;
    int count = 0;

    if (target(p, o) == NULL)
        return ERR_CONF;
    l = current_listener(p->c);
    while ((v = next_token(&args)) != NULL) {
        if (!parse_cidr(v, &a))
            return fail(p, ERR_CONF, "Error: Invalid 'proxy_protocol_allow_from' value (%s).", v);
        grown = realloc(l->proxy_allow, (l->proxy_allow_count + 1) * sizeof(*grown));
        if (grown == NULL)
            return nomem(p);
        l->proxy_allow = grown;
        l->proxy_allow[l->proxy_allow_count++] = a;
        count++;
    }
    if (count == 0)
        return fail(p, ERR_CONF,
                    "Error: Empty 'proxy_protocol_allow_from' value in configuration.");
    return ERR_OK;
}

/* ---- whole configuration --------------------------------------------------------------- */

void conf_init(struct conf *c)
{
    memset(c, 0, sizeof(*c));
    c->sec.allow_anonymous = -1;
    c->sec.auto_id_prefix = strdup("auto-");       /* NULL on OOM: conf_validate() retries */
    c->sec.allow_zero_length_clientid = true;
    c->allow_duplicate_messages = true;
    c->global_max_clients = -1;
    c->global_max_connections = -1;
    c->set_tcp_nodelay = true;       /* 2.1.2: false; see client_new() for why ours is true */
    c->check_retain_source = true;
    c->connection_messages = true;
    c->log_dest = LOG_D_STDERR;
    c->log_type = LOG_T_ERR | LOG_T_WARNING | LOG_T_NOTICE | LOG_T_INFO;
    c->log_timestamp = true;
    c->log_facility = -1;
    c->max_inflight_messages = 20;
    c->max_packet_size = 2000000;    /* 2.1.2's default, announced in every v5 CONNACK */
    c->backpressure_timeout = 2;
    c->max_keepalive = 65535;
    c->max_queued_messages = 1000;
    c->retain_available = true;
    c->sys_interval = 10;
    c->autosave_interval = 1800;
    c->persistence_file = strdup("mosquitto.db");
    c->user = strdup("mosquitto");
    listener_defaults(&c->default_listener);
    c->default_listener.port = 1883;
    c->local_only = true;
    c->parse_listener = -1;
    c->parse_bridge = -1;
}

static void security_free(struct security_conf *s)
{
    free(s->password_file);
    free(s->acl_file);
    free(s->auto_id_prefix);
    free_strv(s->clientid_prefixes);
}

static void listener_free(struct listener_conf *l)
{
    free(l->host);
    free(l->unix_path);
    free(l->bind_interface);
    free(l->mount_point);
    free(l->cafile);
    free(l->capath);
    free(l->certfile);
    free(l->keyfile);
    free(l->ciphers);
    free(l->tls_version);
    free(l->crlfile);
    free(l->ciphers_tls13);
    free(l->psk_hint);
    free(l->tls_engine);
    free(l->tls_keyform);
    free(l->proxy_allow);
    free(l->auto_id_prefix);
    free_strv(l->ws_origins);
    security_free(&l->sec);
}

void conf_free(struct conf *c)
{
    for (size_t i = 0; i < c->listener_count; i++)
        listener_free(&c->listeners[i]);
    free(c->listeners);
    listener_free(&c->default_listener);
    security_free(&c->sec);
    free(c->log_timestamp_format);
    free(c->log_file);
    free(c->pid_file);
    free(c->persistence_file);
    free(c->persistence_location);
    free(c->user);
    free(c->psk_file);
    conf_bridges_free(c);
    for (size_t i = 0; i < c->parse_file_count; i++)
        free(c->parse_files[i]);
    free(c->parse_files);
    memset(c, 0, sizeof(*c));
}

bool conf_default_listener_used(const struct conf *c)
{
    return c->parse_default_used;
}

bool conf_default_listener_port_set(const struct conf *c)
{
    return c->parse_port_set;
}

const struct security_conf *conf_security(const struct conf *c, const struct listener_conf *l)
{
    return c->per_listener_settings && l != NULL ? &l->sec : &c->sec;
}

/* True if l runs its own TLS handshake (tls.c), with a certificate or a PSK hint. */
static bool own_tls(const struct listener_conf *l)
{
    return l->certfile != NULL || l->keyfile != NULL || l->psk_hint != NULL;
}

/* PROXY listeners without their own TLS: the TLS facts come from the header (semantics
 * reference §1.1 and §9 item 13). With certfile, TLS is ours and these options keep their
 * native meaning (PROXY then TLS): nothing to check here. */
static int check_proxy_listener(const struct listener_conf *l)
{
    const char *f = l->file;
    int v = l->proxy_version;

    if (own_tls(l))
        return ERR_OK;
    if (l->use_subject_as_username)
        return fail_at(f, l->line, ERR_CONF, "Error: use_subject_as_username cannot be used "
                       "with `enable_proxy_protocol %d`.", v);
    if (v == 1 && (l->require_certificate || l->use_identity_as_username || l->proxy_require_tls))
        return fail_at(f, l->line, ERR_CONF, "Error: %s cannot be used with `enable_proxy_protocol "
                       "1` (a version 1 header carries no TLS information).",
                       l->require_certificate ? "require_certificate"
                       : l->use_identity_as_username ? "use_identity_as_username"
                       : "proxy_protocol_v2_require_tls");
    if (v == 2 && l->use_identity_as_username && !l->require_certificate)
        return fail_at(f, l->line, ERR_CONF, "Error: use_identity_as_username requires "
                       "require_certificate with `enable_proxy_protocol 2`.");
    return ERR_OK;
}

/* TLS options, with Mosquitto 2.1.2's wording where it has one (recorded in
 * test_tls_config.py). File contents are tls.c's business, at start-up. */
static int check_tls(const struct listener_conf *l)
{
    const char *f = l->file;

    if ((l->certfile != NULL) != (l->keyfile != NULL))
        return fail_at(f, l->line, ERR_CONF, "Error: Both certfile and keyfile must be provided "
                       "to enable a TLS listener.");
    if (!own_tls(l) && (l->cafile != NULL || l->capath != NULL))
        return fail_at(f, l->line, ERR_CONF, "Error: %s specified without certfile and keyfile.",
                       l->cafile != NULL ? "cafile" : "capath");
    if (l->tls_engine != NULL)
        return fail_at(f, l->line, ERR_NOT_SUPPORTED, "Error: tls_engine is not supported by this "
                       "build (OpenSSL 3 deprecates engines); give keyfile a PEM key.");
    if (l->tls_keyform != NULL && strcmp(l->tls_keyform, "pem") != 0) {
        if (strcmp(l->tls_keyform, "engine") == 0)
            return fail_at(f, l->line, ERR_NOT_SUPPORTED, "Error: tls_keyform engine is not "
                           "supported by this build (no tls_engine); give keyfile a PEM key.");
        return fail_at(f, l->line, ERR_CONF, "Error: Invalid tls_keyform value (%s).",
                       l->tls_keyform);
    }
    /* Only where TLS is spoken: on a plain listener 2.1.2 ignores it (config/tls-version-*) */
    if (l->tls_version != NULL && own_tls(l) &&
        strcmp(l->tls_version, "tlsv1.3") != 0 &&
        strcmp(l->tls_version, "tlsv1.2") != 0 && strcmp(l->tls_version, "tlsv1.1") != 0)
        return fail_at(f, l->line, ERR_CONF, "Error: Unsupported tls_version \"%s\".",
                       l->tls_version);
    return ERR_OK;
}

static int check_listener(const struct listener_conf *l)
{
    int rc;

    if (l->unix_path != NULL && l->proxy_allow_count > 0)
        return fail_at(l->file, l->line, ERR_CONF, "Error: proxy_protocol_allow_from cannot be "
                       "used on a unix socket listener: its peers have no address to check "
                       "(the socket file's permissions decide who connects).");

    if (l->proxy_version != 0) {
        if ((rc = check_proxy_listener(l)) != ERR_OK)
            return rc;
    } else {
        if (l->proxy_require_tls)
            warn_at(l->file, l->line, "Warning: proxy_protocol_v2_require_tls has no effect "
                    "without enable_proxy_protocol 2.");
        if (l->proxy_allow_count > 0)
            warn_at(l->file, l->line, "Warning: proxy_protocol_allow_from has no effect "
                    "without enable_proxy_protocol.");
    }
    if ((rc = check_tls(l)) != ERR_OK)
        return rc;
    if (!CONF_HAVE_WEBSOCKETS && l->protocol == PROTO_WEBSOCKETS)
        return fail_at(l->file, l->line, ERR_NOT_SUPPORTED,
                       "Error: Option 'protocol websockets' is not supported by this build.");
    return ERR_OK;
}

/* Gives a listener's security settings what Mosquitto inherits from the global ones. */
static int resolve_security(struct conf *c, struct security_conf *s)
{
    /* Mosquitto 2: anonymous by default only when nothing is configured (or only -p ports) */
    if (s->allow_anonymous == -1)
        s->allow_anonymous = c->local_only || c->listeners_from_cmdline;
    if (s->auto_id_prefix == NULL
        && (s->auto_id_prefix = strdup(c->sec.auto_id_prefix)) == NULL)
        return ERR_NOMEM;
    if (s->clientid_prefixes == NULL && c->sec.clientid_prefixes != NULL
        && (s->clientid_prefixes = strv_one(c->sec.clientid_prefixes[0])) == NULL)
        return ERR_NOMEM;
    return ERR_OK;
}

/* `port` / `bind_address` were used: the default listener becomes listeners[0]. */
static int adopt_default_listener(struct conf *c)
{
    struct listener_conf *d = &c->default_listener, *grown;
    const struct listener_conf *dup = find_duplicate(c, d);

    if (dup != NULL)
        return duplicate_error(d->file, d->line, d, dup);
    grown = realloc(c->listeners, (c->listener_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return fail_at(NULL, 0, ERR_NOMEM, "Error: Out of memory.");
    c->listeners = grown;
    memmove(&c->listeners[1], &c->listeners[0], c->listener_count * sizeof(*grown));
    c->listeners[0] = *d;
    c->listener_count++;
    listener_defaults(d);       /* its strings now belong to listeners[0] */
    d->port = 1883;
    c->parse_listener = -1;
    c->parse_default_used = false;      /* a second conf_validate() must not adopt it again */
    return ERR_OK;
}

int conf_validate(struct conf *c)
{
    int rc;

    last_error[0] = '\0';
    if ((c->sec.auto_id_prefix == NULL && (c->sec.auto_id_prefix = strdup("auto-")) == NULL)
        || (c->user == NULL && (c->user = strdup("mosquitto")) == NULL))
        return fail_at(NULL, 0, ERR_NOMEM, "Error: Out of memory.");
    if (c->parse_default_used) {
        if ((rc = adopt_default_listener(c)) != ERR_OK)
            return rc;
    } else if (c->parse_default_touched && c->listener_count > 0) {
        warn_at(NULL, 0, "Warning: Listener options given before the first 'listener' line "
                "apply to the default listener, which is not started because neither 'port' "
                "nor 'bind_address' is set.");
    }
    c->local_only = c->listener_count == 0;
    if (c->sec.allow_anonymous == -1)
        c->sec.allow_anonymous = c->local_only || c->listeners_from_cmdline;
    for (size_t i = 0; i <= c->listener_count; i++) {
        /* the last round is the default listener, which serves local-only mode */
        struct listener_conf *l = i < c->listener_count ? &c->listeners[i] : &c->default_listener;
        if (l == &c->default_listener && !c->local_only)
            break;
        if (resolve_security(c, &l->sec) != ERR_OK)
            return fail_at(NULL, 0, ERR_NOMEM, "Error: Out of memory.");
        if ((rc = check_listener(l)) != ERR_OK)
            return rc;
    }
    return conf_bridges_validate(c);
}
