/* keyward's configuration file: /etc/keyward/keyward.conf, or the file
 * named by KEYWARD_CONF. Lines are `key = value`; '#' starts a comment
 * line; unknown keys are ignored (other components read the same file).
 *
 *   uicc_reader = NAME      a PC/SC reader holding a UICC (SIM); repeatable
 *   modem_port = /dev/PATH  a modem's AT command port; repeatable
 *   ble_device = AA:BB:CC:DD:EE:FF  a bonded BLE device that is a keyward
 *                           token even if it does not advertise keyward's
 *                           service; repeatable
 *
 * Environment overrides (replace the file's list for that key):
 * KEYWARD_UICC_READERS, KEYWARD_MODEM_PORTS, separated by ';' or, when the
 * value has no ';', by ':'; KEYWARD_BLE_DEVICES, separated by ',', ';' or
 * blanks. A missing file is an empty configuration. */
#ifndef KW_CONFIG_H
#define KW_CONFIG_H

#include "kw_buf.h"
#include "kw_transport.h"

#define KW_CONFIG_DEFAULT_PATH "/etc/keyward/keyward.conf"
#define KW_CONFIG_MAX_FILE (64u * 1024u)
#define KW_CONFIG_MAX_LINE 1024u

typedef struct kw_config {
	kw_strlist uicc_readers;
	kw_strlist modem_ports;
	kw_strlist ble_devices;
} kw_config;

/* Read the file (KEYWARD_CONF or the default path) and apply the
 * environment overrides. On error *cfg is empty. */
kw_rv kw_config_load(kw_config *cfg);
/* Parse configuration text into cfg (appends). KW_ERR_FORMAT names no
 * line: the caller logs. `line_no` (may be NULL) gets the bad line. */
kw_rv kw_config_parse(kw_view text, kw_config *cfg, size_t *line_no);
/* Split a ';'- (or, without ';', ':'-) separated list, skipping empties. */
kw_rv kw_config_split(const char *s, kw_strlist *out);
void kw_config_free(kw_config *cfg);

#endif
