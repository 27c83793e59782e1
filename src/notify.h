/* notify.h - the systemd service-manager protocol (sd_notify(3)): readiness, reload, stop and
 * the watchdog. Every call does nothing when NOTIFY_SOCKET is unset, so the broker behaves the
 * same outside systemd. */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <uv.h>

/* READY=1 with a STATUS line: the listeners are open and the broker serves. Also ends a
 * reload (systemd waits for READY=1 after RELOADING=1). */
void notify_ready(void);
/* RELOADING=1 and MONOTONIC_USEC (CLOCK_MONOTONIC, microseconds), which systemd >= 253 needs
 * to match the reload with its ExecReload; systemd 252 ignores the extra field. */
void notify_reloading(void);
/* STOPPING=1: the broker started its clean shutdown. */
void notify_stopping(void);
/* When the unit has WatchdogSec= (WATCHDOG_USEC set for this pid), sends WATCHDOG=1 from a
 * loop timer at half the interval, so a stuck loop gets the service restarted. Returns 0, or
 * -1 when the timer cannot be started. The timer belongs to loop; uv_close() ends it. */
int notify_watchdog_start(uv_loop_t *loop);

#endif
