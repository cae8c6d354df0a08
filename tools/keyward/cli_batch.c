/* keyward enroll --batch FILE: provision many tokens, one line each
 * ("email,token[,pin-file[,puk-file]]"; token = serial, reader name or
 * URI), in turn, with progress prefixed by the line's address and a
 * per-token report at the end. A failed token does not stop the others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwenroll.h"

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Split one line; 0 = skip (blank/comment), 1 = ok, -1 = malformed. */
int
kwcli_batch_parse_line(char *s, kwcli_batch_line *bl)
{
	char *p;
	int n = 0;

	s = trim(s);
	if (*s == '\0' || *s == '#')
		return 0;
	memset(bl->f, 0, sizeof(bl->f));
	while (s != NULL && n < KWCLI_BATCH_FIELDS) {
		p = strchr(s, ',');
		if (p != NULL)
			*p++ = '\0';
		s = trim(s);
		bl->f[n++] = *s != '\0' ? s : NULL;
		s = p;
	}
	if (s != NULL || bl->f[0] == NULL || strchr(bl->f[0], '@') == NULL || bl->f[1] == NULL)
		return -1;
	/* A bare reader name becomes a pcsc: URI; serials and URIs stay. */
	if (strchr(bl->f[1], ':') == NULL && strspn(bl->f[1], "0123456789") != strlen(bl->f[1]))
		snprintf(bl->token, sizeof(bl->token), "pcsc:%s", bl->f[1]);
	else
		snprintf(bl->token, sizeof(bl->token), "%s", bl->f[1]);
	return 1;
}

static void
report_text(json_t *results, size_t ok, size_t failed)
{
	json_t *r;
	size_t i;

	printf("%-6s %-32s %-10s %s\n", "RESULT", "EMAIL", "SERIAL", "DETAIL");
	json_array_foreach(results, i, r) {
		bool good = json_is_true(json_object_get(r, "ok"));
		json_t *s = json_object_get(r, "serial");
		const char *err = json_string_value(json_object_get(r, "error"));
		const char *tok = json_string_value(json_object_get(r, "token"));
		char serial[16] = "-";

		if (json_is_integer(s))
			snprintf(serial, sizeof(serial), "%lld", (long long)json_integer_value(s));
		printf("%-6s %-32.64s %-10s ", good ? "ok" : "FAILED",
		    json_string_value(json_object_get(r, "email")), serial);
		kwcli_print_safe(stdout, good ? (tok != NULL ? tok : "") : (err != NULL ? err : "?"));
		putchar('\n');
	}
	printf("%zu enrolled, %zu failed\n", ok, failed);
}

static json_t *
line_error(const kwcli_batch_line *bl, const char *msg)
{
	return json_pack("{s:s,s:s,s:b,s:s,s:i}", "email", bl->f[0] != NULL ? bl->f[0] : "",
	    "token", bl->token, "ok", 0, "error", msg, "line", bl->lineno);
}

int
kwcli_enroll_batch(const kwcli_enroll_opts *base, const char *file, bool json)
{
	FILE *f = fopen(file, "r");
	char line[1024], label[120];
	json_t *results = json_array(), *res;
	size_t ok = 0, failed = 0;
	kwcli_batch_line bl;
	kwcli_enroll_opts o;
	int r;

	if (f == NULL || results == NULL) {
		fprintf(stderr, "keyward: cannot read %s\n", file);
		if (f != NULL)
			fclose(f);
		json_decref(results);
		return KWCLI_ERROR;
	}
	memset(&bl, 0, sizeof(bl));
	while (fgets(line, sizeof(line), f) != NULL) {
		bl.lineno++;
		if ((r = kwcli_batch_parse_line(line, &bl)) == 0)
			continue;
		if (r < 0) {
			fprintf(stderr, "keyward: %s:%d: expected \"email,token[,pin-file"
			    "[,puk-file]]\"\n", file, bl.lineno);
			json_array_append_new(results, line_error(&bl, "malformed line"));
			failed++;
			continue;
		}
		o = *base;
		o.email = bl.f[0];
		o.token = bl.token;
		o.pin_file = bl.f[2];
		o.puk_file = bl.f[3];
		snprintf(label, sizeof(label), "%.60s", bl.f[0]);
		o.label = label;
		if (kwcli_enroll_run(&o, &res) == KWCLI_OK)
			ok++;
		else
			failed++;
		if (res == NULL)
			res = line_error(&bl, "out of memory");
		json_object_set_new(res, "line", json_integer(bl.lineno));
		json_array_append_new(results, res);
	}
	fclose(f);
	if (json)
		kwcli_json_print(json_pack("{s:o,s:I,s:I}", "results", results,
		    "enrolled", (json_int_t)ok, "failed", (json_int_t)failed));
	else {
		report_text(results, ok, failed);
		json_decref(results);
	}
	return failed == 0 && ok > 0 ? KWCLI_OK : KWCLI_ERROR;
}
