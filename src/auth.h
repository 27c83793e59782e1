/* auth.h - who may connect (allow_anonymous, password_file) and what they may do (acl_file).
 * Files are loaded into an immutable struct auth; SIGHUP loads a new one and swaps it in. */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>

#include "conf.h"

struct auth;

enum acl_access { ACL_READ = 1, ACL_WRITE = 2, ACL_SUBSCRIBE = 4 };

/* Loads the password and ACL files named in sec (either may be NULL). On error logs
 * "Error: ..." with the file and line and returns NULL. */
struct auth *auth_load(const struct security_conf *sec);
void auth_free(struct auth *a);

/* CONNECT credentials. username NULL = none given. Returns 0 (allowed) or RC_NOT_AUTHORIZED
 * (also for a wrong password: Mosquitto answers "not authorised" there, not 0x86). allow_anonymous is the effective value.
 * identity = true: the username came from a verified certificate (TLS or PROXY CN) and needs no
 * password. */
/* The password hash the password file holds for username (borrowed from a), or NULL when a has
 * no password file or no such user: what a connection was let in with, to tell on reload
 * whether that still holds. */
const char *auth_user_hash(const struct auth *a, const char *username);
bool auth_has_users(const struct auth *a); /* a password file is in force */
/* Whether username/password (the CONNECT's, kept by the client) still pass a's password file;
 * *hash (owned) is the hash they passed last time: unchanged, no costly check is made; a new
 * hash that the password matches (a file rewritten with new salts) replaces it. */
bool auth_recheck(const struct auth *a, const char *username, const char *password, char **hash);
int auth_check_connect(const struct auth *a, bool allow_anonymous, const char *username,
                       const char *password, bool identity);

/* ACL: may this client (clientid, username may be NULL) access topic (for ACL_SUBSCRIBE: the
 * filter) in this way? true when no acl_file is configured. */
bool auth_check_acl(const struct auth *a, const char *clientid, const char *username,
                    const char *topic, int access);

#endif
