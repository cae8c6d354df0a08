/* The share-server role's API (kms_share_server.c). */
#ifndef KMS_SHARE_SERVER_H
#define KMS_SHARE_SERVER_H

#include "kms_http.h"

extern const kms_route kms_share_routes[];

#endif
