/* termsafe.h - container-chosen text made safe for a terminal.
 *
 * Every byte a finding carries may come from a container (argv, paths, names,
 * labels). Before it reaches a terminal it is rendered unambiguously and
 * harmlessly: printable UTF-8 as is; a backslash as "\\"; C0 controls and DEL
 * as "\xNN"; bytes that are not valid UTF-8 as "\xNN" (so "\xff" typed by a
 * container reads "\\xff" and cannot be confused with the byte); C1 controls
 * (U+0080..U+009F, e.g. the 8-bit CSI U+009B), bidirectional overrides and
 * isolates (U+200E/F, U+202A..U+202E, U+2066..U+2069) and other invisible
 * format characters (U+2028/9, U+FEFF) as "\u{XXXX}".
 */
#ifndef CW_TERMSAFE_H
#define CW_TERMSAFE_H

#include <stdbool.h>
#include <stddef.h>

/* Escape s into a malloc'd string (NULL on out of memory). With multiline,
 * "\n" stays a line break (for the agent's own texts, e.g. next steps). */
char *cw_term_escape(const char *s, bool multiline);

#endif
