/* mitre.c - the one table of MITRE ATT&CK names cagewatch knows: SCC's
 * MitreAttack tactic and technique enum names with their ATT&CK ids. The
 * catalogue and technique rules are checked against it; `findings show`
 * prints the ids from it. A new technique is a row here. */
#include "mitre.h"

#include <stddef.h>
#include <string.h>

static const struct {
	const char *name, *id;
	bool tactic;
} table[] = {
    {"RECONNAISSANCE", "TA0043", true},
    {"RESOURCE_DEVELOPMENT", "TA0042", true},
    {"INITIAL_ACCESS", "TA0001", true},
    {"EXECUTION", "TA0002", true},
    {"PERSISTENCE", "TA0003", true},
    {"PRIVILEGE_ESCALATION", "TA0004", true},
    {"DEFENSE_EVASION", "TA0005", true},
    {"CREDENTIAL_ACCESS", "TA0006", true},
    {"DISCOVERY", "TA0007", true},
    {"LATERAL_MOVEMENT", "TA0008", true},
    {"COLLECTION", "TA0009", true},
    {"COMMAND_AND_CONTROL", "TA0011", true},
    {"EXFILTRATION", "TA0010", true},
    {"IMPACT", "TA0040", true},
    {"ESCAPE_TO_HOST", "T1611", false},
    {"IMPAIR_DEFENSES", "T1562", false},
    {"DISABLE_OR_MODIFY_TOOLS", "T1562.001", false},
    {"EXPLOITATION_FOR_PRIVILEGE_ESCALATION", "T1068", false},
    {"CONTAINER_ADMINISTRATION_COMMAND", "T1609", false},
    {"CONTAINER_AND_RESOURCE_DISCOVERY", "T1613", false},
    {"PROCESS_DISCOVERY", "T1057", false},
    {"NETWORK_SERVICE_DISCOVERY", "T1046", false},
    {"COMMAND_AND_SCRIPTING_INTERPRETER", "T1059", false},
    {"UNIX_SHELL", "T1059.004", false},
    {"PYTHON", "T1059.006", false},
    {"INGRESS_TOOL_TRANSFER", "T1105", false},
    {"NATIVE_API", "T1106", false},
    {"ABUSE_ELEVATION_CONTROL_MECHANISM", "T1548", false},
    {"UNSECURED_CREDENTIALS", "T1552", false},
    {"MASQUERADING", "T1036", false},
    {"MATCH_LEGITIMATE_NAME_OR_LOCATION", "T1036.005", false},
    {"DEPLOY_CONTAINER", "T1610", false},
    {"SYSTEM_OWNER_USER_DISCOVERY", "T1033", false},
    {"FILE_AND_DIRECTORY_DISCOVERY", "T1083", false},
    {"COMPILE_AFTER_DELIVERY", "T1027.004", false},
    {"OBFUSCATED_FILES_OR_INFO", "T1027", false},
    {"DEOBFUSCATE_DECODE_FILES_OR_INFO", "T1140", false},
    {"EXFILTRATION_OVER_ALTERNATIVE_PROTOCOL", "T1048", false},
    {"DATA_OBFUSCATION_STEGANOGRAPHY", "T1001.002", false},
    {"PRIVATE_KEYS", "T1552.004", false},
    {"CREDENTIALS_IN_FILES", "T1552.001", false},
    {"SUDO_AND_SUDO_CACHING", "T1548.003", false},
    {"DATA_DESTRUCTION", "T1485", false},
    {"REFLECTIVE_CODE_LOADING", "T1620", false},
    {"PROXY", "T1090", false},
    {"RESOURCE_HIJACKING", "T1496", false},
    {"SHARED_MODULES", "T1129", false},
    {"EXPLOIT_PUBLIC_FACING_APPLICATION", "T1190", false},
};
#define N_ROWS (sizeof(table) / sizeof(table[0]))

const char *cw_mitre_attack_id(const char *name)
{
	for (size_t i = 0; name && i < N_ROWS; i++)
		if (!strcmp(table[i].name, name))
			return table[i].id;
	return NULL;
}

const char *const *cw_mitre_tactics(void)
{
	static const char *names[N_ROWS + 1];

	if (!names[0]) {
		size_t n = 0;

		for (size_t i = 0; i < N_ROWS; i++)
			if (table[i].tactic)
				names[n++] = table[i].name;
		names[n] = NULL;
	}
	return names;
}
