/* Internals shared by the files of drivers/pcsc (not for other components). */
#ifndef KW_PCSC_INT_H
#define KW_PCSC_INT_H

#include <PCSC/winscard.h>

#include "kw_pcsc.h"

/* The reader multi-string of a context ("a\0b\0\0"); *msz is NULL (and
 * KW_OK) when there is no reader. Free with free(). */
kw_rv kw_pcsc_reader_names(SCARDCONTEXT ctx, char **msz);

/* ops->list: "pcsc:<reader>" for every reader that holds a card. */
kw_rv kw_pcsc_list_cards(kw_strlist *out);

#endif
