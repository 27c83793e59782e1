/* password_valid.h - syntax check of a stored password hash, without a password to try.
 * Kept apart from password.h (whose declarations are fixed); implemented in lib/password.c. */
#ifndef PASSWORD_VALID_H
#define PASSWORD_VALID_H

#include <stdbool.h>

/* True if hash is a well-formed "$6$salt$hash" or "$7$iterations$salt$hash" string (known type,
 * base64 fields, 64-byte digest, iterations > 0), i.e. pw_verify() could ever succeed on it. */
bool pw_hash_valid(const char *hash);

#endif
