/* acl.h - private to auth.c: Mosquitto's acl_file (topic / user / pattern lines) loaded into an
 * immutable rule set, and the access decision. auth.h is the public face. */
#ifndef ACL_H
#define ACL_H

#include <stdbool.h>

struct acl;

/* Reads path. On error logs "Error: ..." naming path:line and returns NULL. */
struct acl *acl_load(const char *path);

/* Reads path line by line (line ends and trailing white space stripped) and calls fn for each,
 * stopping at the first non-zero return. what names the file in errors ("acl_file", "pwfile").
 * Returns 0, or -1 after logging. Shared by the ACL and password file loaders. */
typedef int (*auth_line_fn)(void *ctx, char *line, const char *path, int lineno);
int auth_read_lines(const char *path, const char *what, auth_line_fn fn, void *ctx);
/* The exit code for a start-up that failed in auth_read_lines(): 13 (file not opened, as
 * 2.1.2's plugin start-up failure) or 3 (invalid content). */
int auth_load_exit_code(void);
void acl_free(struct acl *acl);

/* access is a mask of enum acl_access bits; every bit asked for must be granted. clientid and
 * username may be NULL (NULL username = anonymous section). */
bool acl_check(const struct acl *acl, const char *clientid, const char *username,
               const char *topic, int access);

#endif
