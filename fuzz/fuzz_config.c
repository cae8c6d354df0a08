/* Fuzz target: keyward.conf parsing (drivers/kw_config.c), the file every
 * transport reads, and its environment-list splitter.
 *
 * Input: configuration text for kw_config_parse; the same bytes up to the
 * first NUL are also split as a KEYWARD_UICC_READERS-style list.
 *
 * Checks: a failure names a line within the text (or none); every value
 * parsed is a non-empty NUL-free string; splitting yields no empty item. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "kw_config.h"

static void
check_list(const kw_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == NULL || l->v[i][0] == '\0')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kw_config cfg;
	kw_strlist l;
	size_t line_no = 12345, i, lines = 1;
	char *s;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (kw_config_parse(kw_view_make(data, size), &cfg, &line_no) != KW_OK) {
		if (line_no > lines)
			abort();
	} else if (line_no != 0) {
		abort();
	}
	check_list(&cfg.uicc_readers);
	check_list(&cfg.modem_ports);
	kw_config_free(&cfg);

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	memset(&l, 0, sizeof(l));
	(void)kw_config_split(s, &l);
	check_list(&l);
	kw_strlist_free(&l);
	free(s);
	return 0;
}
