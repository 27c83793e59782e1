/* notify.c - sd_notify(3) messages to systemd through libsystemd. Knows nothing of the broker
 * beyond the loop it puts the watchdog timer on; main.c decides when each message is due. */
#include "notify.h"

#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"

static uv_timer_t watchdog_timer;

static void send_state(const char *state)
{
    /* 0: keep NOTIFY_SOCKET in the environment, a reload or the watchdog needs it again. */
    int rc = sd_notify(0, state);

    if (rc < 0)
        log_warn("Warning: Unable to notify systemd (%s): error %d.", state, -rc);
}

void notify_ready(void)
{
    send_state("READY=1\nSTATUS=Serving MQTT");
}

void notify_reloading(void)
{
    struct timespec ts;
    char msg[96];

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=Reloading configuration\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000u);
    send_state(msg);
}

void notify_stopping(void)
{
    send_state("STOPPING=1\nSTATUS=Shutting down");
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    send_state("WATCHDOG=1");
}

int notify_watchdog_start(uv_loop_t *loop)
{
    uint64_t usec = 0;
    uint64_t ms;

    /* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process. */
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    ms = usec / 2000u; /* half the interval, as sd_watchdog_enabled(3) advises */
    if (ms == 0)
        ms = 1;
    if (uv_timer_init(loop, &watchdog_timer) != 0 ||
        uv_timer_start(&watchdog_timer, on_watchdog, ms, ms) != 0)
        return -1;
    log_info("systemd watchdog: notifying every %llu ms.", (unsigned long long)ms);
    return 0;
}
