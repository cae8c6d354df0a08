/* Token-side framing of keyward's BLE profile (docs/ble-profile.md):
 * reassembling the client's INIT/CONT frames, and the fault list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcble_int.h"

void
vcble_asm_init(vcble_asm *a)
{
	memset(a, 0, sizeof(*a));
	kw_buf_init(&a->msg, VCBLE_MSG_MAX);
}

void
vcble_asm_reset(vcble_asm *a)
{
	kw_buf_reset(&a->msg);
	a->active = false;
	a->cmd = 0;
	a->want = 0;
	a->seq = 0;
}

void
vcble_asm_free(vcble_asm *a)
{
	vcble_asm_reset(a);
	kw_buf_free(&a->msg);
}

static int
asm_fail(vcble_asm *a, int code)
{
	vcble_asm_reset(a);
	return -code;
}

int
vcble_asm_frame(vcble_asm *a, const uint8_t *p, size_t n, size_t cpl)
{
	kw_view v = kw_view_make(p, n), data;
	uint8_t b0, hi, lo;
	size_t room;

	if (n == 0 || n > cpl || kw_view_get_u8(&v, &b0) != KW_OK)
		return asm_fail(a, VCBLE_ERR_INVALID_LEN);
	if (b0 & 0x80) {
		if (a->active)
			return asm_fail(a, VCBLE_ERR_INVALID_SEQ);
		if (kw_view_get_u8(&v, &hi) != KW_OK || kw_view_get_u8(&v, &lo) != KW_OK)
			return asm_fail(a, VCBLE_ERR_INVALID_LEN);
		a->cmd = b0;
		a->want = (size_t)hi << 8 | lo;
		a->seq = 0;
		a->active = true;
	} else {
		if (!a->active || b0 != a->seq)
			return asm_fail(a, VCBLE_ERR_INVALID_SEQ);
		a->seq = (a->seq + 1) % 0x80;
	}
	kw_view_get_rest(&v, &data);
	room = a->want - a->msg.len;
	if (data.len > room || (data.len < room && n < cpl))
		return asm_fail(a, VCBLE_ERR_INVALID_LEN);
	if (kw_buf_put_view(&a->msg, data) != KW_OK)
		return asm_fail(a, VCBLE_ERR_OTHER);
	if (a->msg.len < a->want)
		return VCBLE_ASM_MORE;
	a->active = false;
	return VCBLE_ASM_DONE;
}

unsigned
vcble_cpl(unsigned mtu)
{
	unsigned c = mtu > 3 ? mtu - 3 : 0;

	return c < 20 ? 20 : c > 512 ? 512 : c;
}

void
vcble_faults_default(vcble_faults *f)
{
	memset(f, 0, sizeof(*f));
	f->mtu = 185;
	f->keepalive_ms = 250;
}

static int
num(const char *val, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (val == NULL)
		return -1;
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
fault_item(char *item, vcble_faults *f)
{
	char *val = strchr(item, '=');
	unsigned mtu;

	if (val != NULL)
		*val++ = '\0';
	if (strcmp(item, "none") == 0 && val == NULL) {
		mtu = f->mtu;
		vcble_faults_default(f);
		f->mtu = mtu;
		return 0;
	}
	if (strcmp(item, "mtu") == 0)
		return num(val, 517, &f->mtu) == 0 && f->mtu >= 23 ? 0 : -1;
	if (strcmp(item, "drop-notify") == 0)
		return num(val, 1000000, &f->drop_notify);
	if (strcmp(item, "disconnect-after") == 0)
		return num(val, 1000000, &f->disconnect_after);
	if (strcmp(item, "disconnect-on-ins") == 0) {
		char *end;
		unsigned long v;

		if (val == NULL)
			return -1;
		v = strtoul(val, &end, 16);
		if (end == val || *end != '\0' || v > 0xFF)
			return -1;
		f->disconnect_ins = 0x100u | (unsigned)v;
		return 0;
	}
	if (strcmp(item, "delay") == 0)
		return num(val, 600000, &f->delay_ms);
	if (strcmp(item, "stray") == 0) {
		static const struct { const char *name; unsigned bit; } k[] = {
			{ "ping", VCBLE_STRAY_PING }, { "cont", VCBLE_STRAY_CONT },
			{ "acquire", VCBLE_STRAY_ACQUIRE },
		};
		size_t i;

		for (i = 0; val != NULL && i < sizeof(k) / sizeof(k[0]); i++)
			if (strcmp(val, k[i].name) == 0) {
				f->stray |= k[i].bit;
				return 0;
			}
		return -1;
	}
	if (strcmp(item, "keepalive") == 0)
		return num(val, 600000, &f->keepalive_ms);
	if (val != NULL)
		return -1;
	if (strcmp(item, "not-bonded") == 0)
		f->not_bonded = true;
	else if (strcmp(item, "adapter-off") == 0)
		f->adapter_off = true;
	else if (strcmp(item, "no-service") == 0)
		f->no_service = true;
	else if (strcmp(item, "connect-fail") == 0)
		f->connect_fail = true;
	else if (strcmp(item, "ignore-cancel") == 0)
		f->ignore_cancel = true;
	else if (strcmp(item, "no-acquire") == 0)
		f->no_acquire = true;
	else if (strcmp(item, "no-wwr") == 0)
		f->no_wwr = true;
	else
		return -1;
	return 0;
}

kw_rv
vcble_faults_parse(const char *list, vcble_faults *f, char *err, size_t errsz)
{
	vcble_faults nf = *f;
	char *copy, *item, *save = NULL;
	kw_rv rv = KW_OK;

	if ((copy = strdup(list)) == NULL)
		return KW_ERR_NOMEM;
	for (item = strtok_r(copy, ", ", &save); item != NULL; item = strtok_r(NULL, ", ", &save)) {
		if (fault_item(item, &nf) != 0) {
			snprintf(err, errsz, "bad fault '%.40s'", item);
			rv = KW_ERR_ARG;
			break;
		}
	}
	free(copy);
	if (rv == KW_OK)
		*f = nf;
	return rv;
}
