/* fuzz_conf.c - libFuzzer target for the config engine: the input is a mosquitto.conf, parsed
 * line by line as conf_parse_file() does, then validated and freed. No crash, no leak (ASan),
 * and every refusal leaves the "file:line: reason" message that start-up prints. include_dir
 * lines are skipped: they would make the fuzzer read this machine's directories. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static struct conf quiet;

    (void)argc;
    (void)argv;
    conf_init(&quiet);
    quiet.log_dest = LOG_D_NONE; /* thousands of runs a second: keep error lines off stderr */
    log_open(&quiet);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf c;
    char *text = malloc(size + 1);
    char *line, *next;
    int rc = ERR_OK, n = 0;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    conf_init(&c);
    for (line = text; line != NULL && rc == ERR_OK; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        n++;
        if (strstr(line, "include_dir") != NULL)
            continue;
        rc = conf_parse_line(&c, line, "fuzz.conf", n);
        if (rc != ERR_OK && conf_last_error()[0] == '\0')
            abort(); /* a refusal without a message */
    }
    if (rc == ERR_OK)
        (void)conf_validate(&c);
    conf_free(&c);
    free(text);
    return 0;
}
