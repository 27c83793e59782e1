/* mosqdb.c - reader of Mosquitto's mosquitto.db (see mosqdb.h). */
#include "mosqdb.h"

#include <stdio.h>

int mosqdb_import(const char *path, struct mosqdb_counts *n, char *err, size_t errlen)
{
    (void)path;
    (void)n;
    snprintf(err, errlen, "not supported yet");
    return -1;
}
