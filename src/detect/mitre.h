/* mitre.h - MITRE ATT&CK names as SCC spells them (mitre.c). */
#ifndef CW_MITRE_H
#define CW_MITRE_H

#include <stdbool.h>

/* The ATT&CK id ("TA0004", "T1611") of a tactic or technique enum name, or
 * NULL when the name is not in the table. */
const char *cw_mitre_attack_id(const char *name);
/* The tactic enum names, NULL-terminated (for validating rule files). */
const char *const *cw_mitre_tactics(void);

#endif
