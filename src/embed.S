/* embed.S - data files compiled into the binary so the agent runs on embedded
 * defaults: the tool catalogue (rules/catalogue.json), NUL-terminated. */
	.section .rodata
	.global cw_embedded_catalogue
	.global cw_embedded_catalogue_len
	.balign 16
cw_embedded_catalogue:
	.incbin "rules/catalogue.json"
cw_embedded_catalogue_end:
	.byte 0
	.balign 4
cw_embedded_catalogue_len:
	.int cw_embedded_catalogue_end - cw_embedded_catalogue
	.section .note.GNU-stack,"",@progbits
