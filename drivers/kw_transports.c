/* The registry of built-in transports, looked up by URI scheme. */
#include "kw_mock.h"
#include "kw_transport.h"

const kw_transport_ops *const kw_builtin_transports[] = {
	&kw_mock_ops,
	NULL,
};
