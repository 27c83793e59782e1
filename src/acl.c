/* acl.c - Mosquitto's acl_file: parsing into an immutable rule set and the per-topic decision
 * (deny rules first, then grants; nothing granted = denied). Does not know about clients or
 * sessions: the caller passes the client id, username, topic and kind of access. */
#include "acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "hmap.h"
#include "log.h"
#include "topic.h"

#define ACL_DENY 0 /* a rule whose access mask is 0 denies */

struct acl_rule {
    char *topic;     /* owned; a valid topic filter, may hold %c / %u levels (patterns) */
    int access;      /* ACL_READ | ACL_WRITE, or ACL_DENY */
};

struct acl_list {
    struct acl_rule *rules; /* owned array */
    size_t n, cap;
};

struct acl_user {
    char *name;             /* owned; also the hmap key */
    struct acl_list list;
};

struct acl {
    struct acl_list anon;     /* topic lines before the first user line */
    struct acl_list patterns; /* pattern lines, for every client */
    struct hmap *users;       /* username -> struct acl_user */
};

/* Values substituted for whole "%c" / "%u" levels of pattern rules. */
struct acl_subst {
    const char *clientid;
    const char *username;
};

static void list_free(struct acl_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->rules[i].topic);
    free(l->rules);
}

void acl_free(struct acl *acl)
{
    size_t pos = 0;
    const char *key;
    void *value;

    if (acl == NULL)
        return;
    list_free(&acl->anon);
    list_free(&acl->patterns);
    if (acl->users != NULL) {
        while (hmap_next(acl->users, &pos, &key, &value)) {
            struct acl_user *u = value;

            list_free(&u->list);
            free(u->name);
            free(u);
        }
        hmap_free(acl->users);
    }
    free(acl);
}

static int list_add(struct acl_list *l, const char *topic, int access)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct acl_rule *r = realloc(l->rules, cap * sizeof(*r));

        if (r == NULL)
            return -1;
        l->rules = r;
        l->cap = cap;
    }
    l->rules[l->n].topic = strdup(topic);
    if (l->rules[l->n].topic == NULL)
        return -1;
    l->rules[l->n++].access = access;
    return 0;
}

/* ---- matching ---------------------------------------------------------------------------- */

/* A substituted value must be exactly one literal level: '+', '#' or '/' in a client id or
 * username would otherwise let it reach other clients' topics. Empty never matches. */
static bool subst_safe(const char *v)
{
    return v != NULL && v[0] != '\0' && strpbrk(v, "+#/") == NULL;
}

/* Does rule level r[0..rl) equal the literal level t[0..tl)? With sub, a whole "%c" or "%u"
 * level stands for the client id or username. */
static bool level_eq(const char *r, size_t rl, const char *t, size_t tl,
                     const struct acl_subst *sub)
{
    if (sub != NULL && rl == 2 && r[0] == '%' && (r[1] == 'c' || r[1] == 'u')) {
        const char *v = r[1] == 'c' ? sub->clientid : sub->username;

        return subst_safe(v) && strlen(v) == tl && memcmp(v, t, tl) == 0;
    }
    return rl == tl && memcmp(r, t, tl) == 0;
}

static bool is_level(const char *s, size_t len, char c)
{
    return len == 1 && s[0] == c;
}

/* Does rule filter r match topic name t? */
static bool match_topic(const char *r, const char *t, const struct acl_subst *sub)
{
    /* Wildcards in the first level never reach "$..." topics: $SYS needs its own rules. */
    if (t[0] == '$' && (r[0] == '+' || r[0] == '#'))
        return false;
    for (;;) {
        size_t rl = strcspn(r, "/"), tl = strcspn(t, "/");

        if (is_level(r, rl, '#'))
            return true;
        if (!is_level(r, rl, '+') && !level_eq(r, rl, t, tl, sub))
            return false;
        if (t[tl] == '\0')
            return r[rl] == '\0' || strcmp(r + rl, "/#") == 0; /* "a/#" also matches "a" */
        if (r[rl] == '\0')
            return false;
        r += rl + 1;
        t += tl + 1;
    }
}

/* Is every topic that filter f matches also matched by rule r? A deny rule refuses a SUBSCRIBE
 * only when it covers the whole filter: "sensors/secret/#" refuses "sensors/secret/+" but not
 * "sensors/#", whose other topics may still be readable. */
static bool match_filter(const char *r, const char *f, const struct acl_subst *sub)
{
    if (f[0] == '$' && (r[0] == '+' || r[0] == '#'))
        return false;
    for (;;) {
        size_t rl = strcspn(r, "/"), fl = strcspn(f, "/");

        if (is_level(r, rl, '#'))
            return true;
        if (is_level(f, fl, '#'))
            return false; /* f reaches deeper (and its parent) than a non-'#' rule level */
        if (is_level(r, rl, '+')) {
            /* any single level, including the filter's own '+' */
        } else if (is_level(f, fl, '+') || !level_eq(r, rl, f, fl, sub)) {
            return false;
        }
        if (f[fl] == '\0')
            return r[rl] == '\0' || strcmp(r + rl, "/#") == 0;
        if (r[rl] == '\0')
            return false;
        r += rl + 1;
        f += fl + 1;
    }
}

/* Could rule level r[0..rl) match some level at all? Only a "%c" / "%u" level whose value
 * may not be substituted cannot. */
static bool level_possible(const char *r, size_t rl, const struct acl_subst *sub)
{
    if (sub != NULL && rl == 2 && r[0] == '%' && (r[1] == 'c' || r[1] == 'u'))
        return subst_safe(r[1] == 'c' ? sub->clientid : sub->username);
    return true;
}

/* Could the rest of rule r, from a level start, match some topic? */
static bool rest_possible(const char *r, const struct acl_subst *sub)
{
    for (;;) {
        size_t rl = strcspn(r, "/");

        if (!level_possible(r, rl, sub))
            return false;
        if (r[rl] == '\0')
            return true;
        r += rl + 1;
    }
}

/* Is there a topic that both rule r and filter f match? A subscription is allowed when it could
 * deliver something; what it then delivers is checked topic by topic with ACL_READ. */
static bool match_overlap(const char *r, const char *f, const struct acl_subst *sub)
{
    /* First-level wildcards skip "$..." topics, whichever side has them. */
    if ((f[0] == '$' && (r[0] == '+' || r[0] == '#')) ||
        (r[0] == '$' && (f[0] == '+' || f[0] == '#')))
        return false;
    for (;;) {
        size_t rl = strcspn(r, "/"), fl = strcspn(f, "/");

        if (is_level(r, rl, '#'))
            return true;
        if (is_level(f, fl, '#'))
            return rest_possible(r, sub);
        if (is_level(r, rl, '+')) {
            /* matches whatever level f allows */
        } else if (is_level(f, fl, '+')) {
            if (!level_possible(r, rl, sub))
                return false;
        } else if (!level_eq(r, rl, f, fl, sub)) {
            return false;
        }
        if (f[fl] == '\0')
            return r[rl] == '\0' || strcmp(r + rl, "/#") == 0;
        if (r[rl] == '\0')
            return strcmp(f + fl, "/#") == 0;
        r += rl + 1;
        f += fl + 1;
    }
}

/* Scans one list. Sets *denied if a deny rule matches; *granted if a rule with all bits of
 * want matches. */
static void list_scan(const struct acl_list *l, const char *topic, int want, bool subscribe,
                      const struct acl_subst *sub, bool *denied, bool *granted)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        const struct acl_rule *r = &l->rules[i];
        bool grants = r->access != ACL_DENY && (r->access & want) == want;
        bool hit;

        if (*denied)
            return; /* nothing can undo a deny */
        if (r->access != ACL_DENY && (!grants || *granted))
            continue; /* cannot change the outcome */
        if (!subscribe)
            hit = match_topic(r->topic, topic, sub);
        else if (r->access == ACL_DENY)
            hit = match_filter(r->topic, topic, sub); /* refuse only what is wholly denied */
        else
            hit = match_overlap(r->topic, topic, sub);
        if (!hit)
            continue;
        if (r->access == ACL_DENY)
            *denied = true;
        else
            *granted = true;
    }
}

static bool check_one(const struct acl *acl, const struct acl_subst *sub, const char *topic,
                      int access)
{
    const struct acl_list *own = NULL;
    bool denied = false, granted = false;
    bool subscribe = access == ACL_SUBSCRIBE;
    int want = subscribe ? ACL_READ : access; /* read rules are what allow a subscription */

    if (sub->username == NULL) {
        own = &acl->anon;
    } else {
        const struct acl_user *u = hmap_get(acl->users, sub->username);

        own = u != NULL ? &u->list : NULL;
    }
    list_scan(own, topic, want, subscribe, NULL, &denied, &granted);
    list_scan(&acl->patterns, topic, want, subscribe, sub, &denied, &granted);
    return granted && !denied;
}

bool acl_check(const struct acl *acl, const char *clientid, const char *username,
               const char *topic, int access)
{
    struct acl_subst sub = { clientid, username };
    const char *group, *filter;
    size_t glen, flen;

    if (topic == NULL || access == 0)
        return false;
    /* A shared subscription is judged on the filter it carries, not on "$share/group/". */
    if ((access & ACL_SUBSCRIBE) &&
        topic_share_split(topic, strlen(topic), &group, &glen, &filter, &flen)) {
        if (glen == 0 || filter[flen] != '\0')
            return false;
        topic = filter;
    }
    for (int bit = ACL_READ; bit <= ACL_SUBSCRIBE; bit <<= 1) {
        if ((access & bit) && !check_one(acl, &sub, topic, bit))
            return false;
    }
    return true;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static char *skip_ws(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Cuts s at its first blank; returns what follows, blanks skipped. */
static char *cut_word(char *s)
{
    char *e = s + strcspn(s, " \t");

    if (*e == '\0')
        return e;
    *e = '\0';
    return skip_ws(e + 1);
}

static int access_word(const char *w)
{
    if (strcmp(w, "read") == 0)
        return ACL_READ;
    if (strcmp(w, "write") == 0)
        return ACL_WRITE;
    if (strcmp(w, "readwrite") == 0)
        return ACL_READ | ACL_WRITE;
    if (strcmp(w, "deny") == 0)
        return ACL_DENY;
    return -1;
}

/* One line, already stripped of its line end and trailing blanks. *cur is the section that
 * topic lines go to. Returns 0, or -1 after logging. */
static int parse_line(struct acl *acl, struct acl_list **cur, char *line, const char *path,
                      int lineno)
{
    char *kw = skip_ws(line), *rest;

    if (*kw == '\0' || *kw == '#')
        return 0;
    rest = cut_word(kw);
    if (strcmp(kw, "user") == 0) {
        struct acl_user *u;

        if (*rest == '\0') {
            log_err("Error: Missing username in acl_file \"%s\".", path);
            return -1;
        }
        u = hmap_get(acl->users, rest);
        if (u == NULL) {
            u = calloc(1, sizeof(*u));
            if (u == NULL || (u->name = strdup(rest)) == NULL ||
                hmap_put(acl->users, u->name, u) != 0) {
                if (u != NULL)
                    free(u->name);
                free(u);
                log_err("Error: Out of memory reading acl_file \"%s\".", path);
                return -1;
            }
        }
        *cur = &u->list; /* a repeated user line continues that user's section */
        return 0;
    }
    if (strcmp(kw, "topic") != 0 && strcmp(kw, "pattern") != 0) {
        log_err("Error: Invalid line in acl_file \"%s\": %s.", path, kw);
        return -1;
    }

    char *topic = rest, *after;
    int access = ACL_READ | ACL_WRITE;

    if (*topic == '\0') {
        log_err("Error: Empty topic in acl_file \"%s\".", path);
        return -1;
    }
    after = cut_word(topic);
    if (*after != '\0') {
        /* Two or more words: the first is the access type and the rest (spaces and all) the
         * topic; a lone word is the topic, with readwrite access. */
        access = access_word(topic);
        if (access < 0) {
            log_err("Error: Invalid topic access type \"%s\" in acl_file \"%s\".", topic, path);
            return -1;
        }
        topic = after;
    }
    if (!topic_filter_valid(topic, strlen(topic))) {
        log_err("Error: Invalid ACL topic \"%s\" in acl_file \"%s\".", topic, path);
        return -1;
    }
    if (list_add(kw[0] == 'p' ? &acl->patterns : *cur, topic, access) != 0) {
        log_err("Error: Out of memory reading acl_file \"%s\".", path);
        return -1;
    }
    return 0;
}

/* Why the last auth_read_lines() failed, as 2.1.2's exit code: 13 for a file that cannot be
 * opened, 3 for an invalid line. */
static int load_exit_code = 3;

int auth_load_exit_code(void)
{
    return load_exit_code;
}

int auth_read_lines(const char *path, const char *what, auth_line_fn fn, void *ctx)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;

    /* 2.1.2's lines; the password file's come with the name of its plugin. */
    const char *prefix = strcmp(what, "pwfile") == 0 ? "password-file: " : "";

    if (f == NULL) {
        log_err("%sError: Unable to open %s \"%s\".", prefix, what, path);
        load_exit_code = 13;
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH)) {
        log_warn("Warning: File %s has world readable permissions. Future versions will refuse "
                 "to load this file.", path);
        log_warn("To fix this, use `chmod 0700 %s`.", path);
    }
    load_exit_code = 3;
    while (rc == 0 && (n = getline(&line, &cap, f)) != -1) {
        lineno++;
        while (n > 0 && strchr(" \t\r\n", line[n - 1]) != NULL)
            line[--n] = '\0';
        rc = fn(ctx, line, path, lineno);
    }
    if (rc == 0 && ferror(f)) {
        log_err("Error: Unable to read %s \"%s\".", what, path);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc == 0 ? 0 : -1;
}

struct acl_load_ctx {
    struct acl *acl;
    struct acl_list *cur;
};

static int acl_line(void *ctx, char *line, const char *path, int lineno)
{
    struct acl_load_ctx *lc = ctx;

    return parse_line(lc->acl, &lc->cur, line, path, lineno);
}

struct acl *acl_load(const char *path)
{
    struct acl_load_ctx lc;
    struct acl *acl = calloc(1, sizeof(*acl));

    if (acl == NULL || (acl->users = hmap_new()) == NULL) {
        log_err("Error: Out of memory reading acl_file \"%s\".", path);
        acl_free(acl);
        return NULL;
    }
    lc.acl = acl;
    lc.cur = &acl->anon;
    if (auth_read_lines(path, "acl_file", acl_line, &lc) != 0) {
        log_err("Error opening acl file \"%s\".", path);
        acl_free(acl);
        return NULL;
    }
    return acl;
}
