/* harden.h - least privilege for the running agent.
 *
 * Called once, after the sensors are loaded and attached and every long-lived
 * file is open, before any other thread starts: capabilities drop to the five
 * the agent needs at run time (CAP_SYS_ADMIN for fanotify marks, CAP_SYS_PTRACE
 * for other processes' /proc entries, CAP_DAC_READ_SEARCH to read their files,
 * CAP_FOWNER for O_NOATIME, CAP_SYS_NICE for the worker's priority switches;
 * with may_signal also CAP_KILL, for --block's holds), the bounding set with them; no_new_privs is
 * set; a seccomp allowlist is installed on every thread (other syscalls fail with EPERM).
 */
#ifndef CW_HARDEN_H
#define CW_HARDEN_H

#include <stdbool.h>

/* Returns 0, or a negative errno after saying what failed. */
int cw_harden(bool may_signal);

/* The kept capabilities, in cap_to_text() form, for messages and docs. */
const char *cw_harden_caps_text(void);

#endif
