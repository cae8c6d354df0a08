/* BER-TLV as used by ISO 7816 and PIV: tags of 1-3 bytes, definite lengths
 * of at most 3 length bytes (0x83). Indefinite (0x80) and longer forms are
 * rejected. Values are returned as child views into the input. */
#ifndef KW_TLV_H
#define KW_TLV_H

#include "kw_buf.h"

/* Read one TLV from the front of v. */
kw_rv kw_tlv_get(kw_view *v, uint32_t *tag, kw_view *value);
/* Read one TLV and require its tag to be `tag`. */
kw_rv kw_tlv_expect(kw_view *v, uint32_t tag, kw_view *value);
/* Find the first sibling with this tag in v (v is not consumed);
 * KW_ERR_NOT_FOUND if absent, a parse error if v is malformed. */
kw_rv kw_tlv_find(kw_view v, uint32_t tag, kw_view *value);
/* Parse v completely as TLVs (KW_OK when v is a well-formed sequence). */
kw_rv kw_tlv_validate(kw_view v);

/* Write a tag (1-3 bytes as given by its numeric value) and a length. */
kw_rv kw_tlv_put_header(kw_buf *b, uint32_t tag, size_t len);
kw_rv kw_tlv_put(kw_buf *b, uint32_t tag, const void *value, size_t len);
/* Size of header for tag+len (for precomputing nested lengths). */
size_t kw_tlv_header_size(uint32_t tag, size_t len);

#endif
