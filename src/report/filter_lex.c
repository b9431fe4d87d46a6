/* filter_lex.c - the filter language's tokens: punctuation and operators,
 * quoted strings (backslash escapes), words and numbers, AND/OR/NOT. */
#include "filter.h"
#include "filter_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fl_fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = true;
	n = snprintf(p->err, p->errsz, "filter: column %zu: ", pos + 1);
	if (n < 0 || (size_t)n >= p->errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errsz - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

const char *fl_tok_desc(const struct parser *p, char *buf, size_t bufsz)
{
	switch (p->tok) {
	case T_END:
		return "the end of the filter";
	case T_LPAREN:
		return "\"(\"";
	case T_RPAREN:
		return "\")\"";
	case T_MINUS:
		return "\"-\"";
	case T_OP:
		snprintf(buf, bufsz, "\"%s\"", p->op);
		return buf;
	case T_AND:
	case T_OR:
	case T_NOT:
	case T_WORD:
	case T_NUMBER:
		snprintf(buf, bufsz, "\"%.40s\"", p->text ? p->text : "");
		return buf;
	case T_STRING:
		snprintf(buf, bufsz, "the string \"%.40s\"", p->text ? p->text : "");
		return buf;
	}
	return "?";
}

/* Advance to the next token. */
/* A quoted string at s[i] (its quote character). */
static void lex_string(struct parser *p, size_t i)
{
	const char *s = p->src;
	char q = s[i];
	size_t j = i + 1, k = 0;
	char *out = malloc(strlen(s + j) + 1);

	if (!out) {
		p->oom = true;
		p->failed = true;
		p->tok = T_END;
		return;
	}
	while (s[j] && s[j] != q) {
		if (s[j] == '\\' && s[j + 1])
			j++;
		out[k++] = s[j++];
	}
	if (!s[j]) {
		free(out);
		fl_fail(p, i, "unterminated string: no closing %c", q);
		p->tok = T_END;
		return;
	}
	out[k] = 0;
	p->text = out;
	p->tok = T_STRING;
	p->end = j + 1;
}

/* A word or number at s[i]; AND, OR and NOT are keywords. */
static void lex_word(struct parser *p, size_t i)
{
	const char *s = p->src;
	size_t j = i;
	bool num = true;

	while (is_word_char(s[j])) {
		if (!isdigit((unsigned char)s[j]))
			num = false;
		j++;
	}
	p->text = strndup(s + i, j - i);
	if (!p->text) {
		p->oom = true;
		p->failed = true;
		p->tok = T_END;
		return;
	}
	p->end = j;
	if (num)
		p->tok = T_NUMBER;
	else if (strcasecmp(p->text, "AND") == 0)
		p->tok = T_AND;
	else if (strcasecmp(p->text, "OR") == 0)
		p->tok = T_OR;
	else if (strcasecmp(p->text, "NOT") == 0)
		p->tok = T_NOT;
	else
		p->tok = T_WORD;
}

/* Punctuation and operators at s[i]; false if s[i] is none. */
static bool lex_punct(struct parser *p, size_t i)
{
	const char *s = p->src;

	p->end = i + 1;
	switch (s[i]) {
	case '(':
		p->tok = T_LPAREN;
		return true;
	case ')':
		p->tok = T_RPAREN;
		return true;
	case '-':
		p->tok = T_MINUS;
		return true;
	case '=':
	case ':':
		p->tok = T_OP;
		p->op[0] = s[i];
		p->op[1] = 0;
		return true;
	case '<':
	case '>':
		p->tok = T_OP;
		p->op[0] = s[i];
		p->op[1] = s[i + 1] == '=' ? '=' : 0;
		p->op[2] = 0;
		p->end = i + (p->op[1] ? 2 : 1);
		return true;
	case '!':
		fl_fail(p, i,
		        "\"!\" is not an operator: negate with NOT or a leading \"-\" "
		        "(NOT field = value)");
		p->tok = T_END;
		return true;
	default:
		return false;
	}
}

/* The next token into p->tok (and p->text, p->op). */
void fl_next(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->end;

	free(p->text);
	p->text = NULL;
	if (p->failed) {
		p->tok = T_END;
		return;
	}
	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	p->pos = i;
	if (!s[i]) {
		p->tok = T_END;
		p->end = i;
	} else if (s[i] == '"' || s[i] == '\'') {
		lex_string(p, i);
	} else if (lex_punct(p, i)) {
		return;
	} else if (is_word_char(s[i])) {
		lex_word(p, i);
	} else {
		fl_fail(p, i, "unexpected character \"%c\": quote values that contain it", s[i]);
		p->tok = T_END;
	}
}
