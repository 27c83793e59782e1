/* password.h - Mosquitto password-file hashes: "$7$" PBKDF2-SHA512 (the default) and "$6$"
 * salted SHA-512, through OpenSSL. Lines are "username:hash". */
#ifndef PASSWORD_H
#define PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PW_DEFAULT_ITERATIONS 101

enum pw_type { PW_SHA512 = 6, PW_SHA512_PBKDF2 = 7 };

/* Hashes password into out ("$7$iter$salt$hash" or "$6$salt$hash", base64 fields as Mosquitto
 * writes them). iterations is used for $7$ only. False on failure or if out is too small. */
bool pw_hash(enum pw_type type, int iterations, const char *password, char *out, size_t outlen);
/* True if password matches the stored hash string (constant-time compare). */
bool pw_verify(const char *hash, const char *password);

#endif
