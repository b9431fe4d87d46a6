/* embed.S - the data files compiled into the binary, so the agent runs on
 * embedded defaults: the tool catalogue, the YARA rules and the technique
 * rules. Each is NUL-terminated, with its length (without the NUL) beside it.
 * The one place data is embedded: a new file is one EMBED line here and an
 * extern pair in the header of the module that reads it. */
	.macro EMBED name, file
	.section .rodata
	.global \name
	.global \name\()_len
	.balign 16
\name:
	.incbin "\file"
\name\()_end:
	.byte 0
	.balign 4
\name\()_len:
	.int \name\()_end - \name
	.endm

	EMBED cw_embedded_catalogue, "rules/catalogue.json"
	EMBED cw_embedded_yara, "rules/yara/tools.yar"
	EMBED cw_embedded_techniques, "rules/techniques.json"

	.section .note.GNU-stack,"",@progbits
