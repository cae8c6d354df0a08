/* The registry of built-in transports, looked up by URI scheme. */
#include "kw_mock.h"
#include "kw_transport.h"
#include "pcsc/kw_pcsc.h"
#ifdef KW_WITH_BLE
#include "ble/kw_ble.h"
#endif
#include "uicc/kw_uicc.h"
#include "atmodem/kw_atmodem.h"

const kw_transport_ops *const kw_builtin_transports[] = {
	&kw_pcsc_ops,
	&kw_mock_ops,
#ifdef KW_WITH_BLE
	&kw_ble_ops,
#endif
	&kw_uicc_ops,
	&kw_atmodem_ops,
	NULL,
};
