/* embed.S - data files compiled into the binary so the agent runs on embedded
 * defaults: the tool catalogue (rules/catalogue.json). */
	.section .rodata
	.global cw_embedded_catalogue
	.global cw_embedded_catalogue_len
	.balign 16
cw_embedded_catalogue:
	.incbin "rules/catalogue.json"
	.byte 0
	.balign 4
cw_embedded_catalogue_len:
	.int cw_embedded_catalogue_len - cw_embedded_catalogue - 1
	.section .note.GNU-stack,"",@progbits
