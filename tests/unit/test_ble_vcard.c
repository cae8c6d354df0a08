/* Unit tests for the BLE virtual token's own framing and fault list
 * (tools/vcard/ble/vcble_frame.c), cross-checked against the client's
 * fragmenter (drivers/ble/kw_ble_frame.c) for every fragment size: the two
 * are written separately, so agreement is evidence, not tautology. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ble/kw_ble_frame.h"
#include "vcble_int.h"

/* Client frames of msg into the token's assembler; returns the last result. */
static int
client_to_token(vcble_asm *a, uint8_t cmd, const uint8_t *msg, size_t len, size_t frag)
{
	kw_ble_tx tx;
	uint8_t f[KW_BLE_FRAG_MAX];
	size_t n;
	int r = -1;

	assert_int_equal(kw_ble_tx_init(&tx, cmd, msg, len, frag), KW_OK);
	while (!kw_ble_tx_done(&tx)) {
		assert_int_equal(kw_ble_tx_next(&tx, f, sizeof(f), &n), KW_OK);
		if (r == VCBLE_ASM_DONE)
			fail_msg("token finished before the last frame");
		r = vcble_asm_frame(a, f, n, frag);
		if (r < 0)
			return r;
	}
	return r;
}

static void
test_cross_all_sizes(void **state)
{
	uint8_t *msg = malloc(65535);
	vcble_asm a;
	size_t frag, k, i;

	(void)state;
	assert_non_null(msg);
	for (i = 0; i < 65535; i++)
		msg[i] = (uint8_t)(i ^ (i >> 9));
	vcble_asm_init(&a);
	for (frag = 20; frag <= 512; frag++) {
		size_t lens[] = { 0, 4, frag - 3, frag - 2, frag - 3 + 128 * (frag - 1),
			frag - 3 + 128 * (frag - 1) + 1, 3000 };
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			if (lens[k] > 65535)
				continue;
			assert_int_equal(client_to_token(&a, KW_BLE_CMD_MSG, msg, lens[k], frag),
			    VCBLE_ASM_DONE);
			assert_int_equal(a.cmd, VCBLE_CMD_MSG);
			assert_int_equal(a.msg.len, lens[k]);
			if (lens[k] > 0)
				assert_memory_equal(a.msg.data, msg, lens[k]);
			vcble_asm_reset(&a);
		}
	}
	assert_int_equal(client_to_token(&a, KW_BLE_CMD_MSG, msg, 65535, 20), VCBLE_ASM_DONE);
	assert_memory_equal(a.msg.data, msg, 65535);
	vcble_asm_free(&a);
	free(msg);
}

static void
test_token_rejects(void **state)
{
	vcble_asm a;
	uint8_t init[20] = { 0x83, 0, 40 }, cont[20] = { 0 }, big[21] = { 0x83, 0, 1 };
	uint8_t shortinit[5] = { 0x83, 0, 40 }, two[2] = { 0x83, 0 };

	(void)state;
	vcble_asm_init(&a);
	assert_int_equal(vcble_asm_frame(&a, init, 0, 20), -VCBLE_ERR_INVALID_LEN);
	assert_int_equal(vcble_asm_frame(&a, big, sizeof(big), 20), -VCBLE_ERR_INVALID_LEN);
	assert_int_equal(vcble_asm_frame(&a, two, sizeof(two), 20), -VCBLE_ERR_INVALID_LEN);
	assert_int_equal(vcble_asm_frame(&a, shortinit, sizeof(shortinit), 20),
	    -VCBLE_ERR_INVALID_LEN);
	assert_int_equal(vcble_asm_frame(&a, cont, sizeof(cont), 20), -VCBLE_ERR_INVALID_SEQ);
	assert_int_equal(vcble_asm_frame(&a, init, sizeof(init), 20), VCBLE_ASM_MORE);
	assert_int_equal(vcble_asm_frame(&a, init, sizeof(init), 20), -VCBLE_ERR_INVALID_SEQ);
	assert_false(a.active);
	assert_int_equal(vcble_asm_frame(&a, init, sizeof(init), 20), VCBLE_ASM_MORE);
	cont[0] = 1;                                   /* missing seq 0 */
	assert_int_equal(vcble_asm_frame(&a, cont, sizeof(cont), 20), -VCBLE_ERR_INVALID_SEQ);
	assert_int_equal(vcble_asm_frame(&a, init, sizeof(init), 20), VCBLE_ASM_MORE);
	cont[0] = 0;                                   /* 17 + 19 = 36 of 40 */
	assert_int_equal(vcble_asm_frame(&a, cont, sizeof(cont), 20), VCBLE_ASM_MORE);
	cont[0] = 1;                                   /* 19 more than 4 due */
	assert_int_equal(vcble_asm_frame(&a, cont, sizeof(cont), 20), -VCBLE_ERR_INVALID_LEN);
	vcble_asm_free(&a);
}

static void
test_faults(void **state)
{
	vcble_faults f;
	char err[96];

	(void)state;
	vcble_faults_default(&f);
	assert_int_equal(f.mtu, 185);
	assert_int_equal(vcble_faults_parse("mtu=23,drop-notify=2,disconnect-after=5,"
	    "delay=100,keepalive=0,not-bonded,adapter-off,no-service,connect-fail,ignore-cancel",
	    &f, err, sizeof(err)), KW_OK);
	assert_int_equal(f.mtu, 23);
	assert_int_equal(f.drop_notify, 2);
	assert_int_equal(f.disconnect_after, 5);
	assert_int_equal(f.delay_ms, 100);
	assert_int_equal(f.keepalive_ms, 0);
	assert_true(f.not_bonded && f.adapter_off && f.no_service && f.connect_fail &&
	    f.ignore_cancel);
	assert_int_equal(vcble_faults_parse("none", &f, err, sizeof(err)), KW_OK);
	assert_int_equal(f.mtu, 23);                   /* none keeps the MTU */
	assert_false(f.not_bonded || f.ignore_cancel);
	assert_int_equal(f.keepalive_ms, 250);
	assert_int_equal(vcble_faults_parse("delay=5,bogus", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_string_equal(err, "bad fault 'bogus'");
	assert_int_equal(f.delay_ms, 0);               /* unchanged on error */
	assert_int_equal(vcble_faults_parse("mtu=22", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("mtu=518", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("not-bonded=1", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("delay=x", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("disconnect-on-ins=87", &f, err, sizeof(err)), KW_OK);
	assert_int_equal(f.disconnect_ins, 0x187);
	assert_int_equal(vcble_faults_parse("disconnect-on-ins=100", &f, err, sizeof(err)),
	    KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("no-acquire,no-wwr,stray=ping", &f, err,
	    sizeof(err)), KW_OK);
	assert_true(f.no_acquire && f.no_wwr);
	assert_int_equal(f.stray, VCBLE_STRAY_PING);
	assert_int_equal(vcble_faults_parse("stray=cont,stray=acquire", &f, err, sizeof(err)),
	    KW_OK);
	assert_int_equal(f.stray, VCBLE_STRAY_PING | VCBLE_STRAY_CONT | VCBLE_STRAY_ACQUIRE);
	assert_int_equal(vcble_faults_parse("stray=dup", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("stray=bogus", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("stray", &f, err, sizeof(err)), KW_ERR_ARG);
	assert_int_equal(vcble_faults_parse("none", &f, err, sizeof(err)), KW_OK);
	assert_false(f.no_acquire || f.no_wwr || f.stray != 0);
	assert_int_equal(vcble_cpl(23), 20);
	assert_int_equal(vcble_cpl(185), 182);
	assert_int_equal(vcble_cpl(512), 509);
	assert_int_equal(vcble_cpl(517), 512);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cross_all_sizes),
		cmocka_unit_test(test_token_rejects),
		cmocka_unit_test(test_faults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
