/* Internals of keyward-pkcs11: the module state, tokens (one per slot),
 * sessions, objects and the operations on them. Entry points live in
 * p11_entry.c only; everything here is internal (hidden by the export
 * list). Locking: the module lock protects the slot and session tables;
 * each token's lock protects that token, its objects, its sessions'
 * operation state and card I/O. The module lock is held only briefly and
 * never while waiting for a token lock; where both are needed the order is
 * token lock, then module lock (p11_module.c). */
#ifndef KWP11_INT_H
#define KWP11_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "p11_v3.h"
#include "kw_buf.h"
#include "kw_piv.h"
#include "kw_secret.h"
#include "kw_transport.h"

/* ---- locking (p11_lock.c) ---- */
typedef struct kwp11_lockops {
	CK_CREATEMUTEX create;
	CK_DESTROYMUTEX destroy;
	CK_LOCKMUTEX lock;
	CK_UNLOCKMUTEX unlock;
} kwp11_lockops;

/* Decide how to lock from C_Initialize's argument (the four cases of the
 * specification, section 5.4). */
CK_RV kwp11_lock_configure(const CK_C_INITIALIZE_ARGS *args, kwp11_lockops *out);
CK_RV kwp11_mutex_new(const kwp11_lockops *ops, void **m);
void kwp11_mutex_free(const kwp11_lockops *ops, void **m);
void kwp11_mutex_lock(const kwp11_lockops *ops, void *m);
void kwp11_mutex_unlock(const kwp11_lockops *ops, void *m);

/* ---- return values (p11_rv.c) ---- */
CK_RV kwp11_rv(kw_rv rv);
/* Copy src into a blank-padded PKCS#11 text field of n bytes. */
void kwp11_pad_copy(CK_UTF8CHAR *dst, size_t n, const char *src);

/* ---- objects ---- */
typedef struct kwp11_obj {
	bool live;
	CK_OBJECT_CLASS cls;
	uint8_t slot;              /* PIV key slot (token objects) */
	uint8_t alg;               /* PIV algorithm of the key */
	uint8_t pin_policy, touch_policy, origin;
	EVP_PKEY *pub;             /* public key, own reference, may be NULL */
	kw_buf cert;               /* DER certificate (CKO_CERTIFICATE) */
	/* session objects: secret keys (ECDH-derived, unwrapped), p11_secret_key.c */
	CK_SESSION_HANDLE owner;   /* 0 for token objects */
	kw_secret value;           /* key value: locked memory, wiped on clear */
	CK_KEY_TYPE key_type;      /* CKK_GENERIC_SECRET or CKK_AES */
	CK_FLAGS uses;             /* KWP11_USE_* */
	bool sensitive, extractable;
	bool always_sensitive, never_extractable;
} kwp11_obj;

void kwp11_obj_clear(kwp11_obj *o);
/* Is the object private (CKA_PRIVATE): a key whose use needs the PIN
 * (PIN policy NEVER, and 9E by default, do not)? Hidden before login. */
bool kwp11_obj_needs_pin(const kwp11_obj *o);
/* CKA_ALWAYS_AUTHENTICATE: PIN policy "always" (9C by default). */
bool kwp11_obj_always_auth(const kwp11_obj *o);
/* CKA_ID byte for a PIV key slot (9A=01 ... 95=18), 0 if none; inverse. */
uint8_t kwp11_slot_to_id(uint8_t slot);
uint8_t kwp11_id_to_slot(uint8_t id);
/* Label shared by a slot's key, public key and certificate. */
const char *kwp11_slot_label(uint8_t slot, char *buf, size_t len);
/* The PIV key slots in enumeration order, 0-terminated. */
extern const uint8_t kwp11_key_slots[];

/* ---- tokens (p11_token.c) ---- */
enum { KWP11_LOGIN_NONE = 0, KWP11_LOGIN_USER, KWP11_LOGIN_SO };

typedef struct kwp11_token {
	CK_SLOT_ID id;
	char *uri;
	void *lock;
	atomic_uint busy;          /* calls holding the lock (a busy token is present) */
	atomic_bool reader_present; /* set under the module lock, read under either */
	atomic_bool event;         /* slot event not yet reported */
	kw_transport *t;
	kw_piv *piv;
	atomic_bool present;       /* token present and identified as PIV */
	bool not_piv;              /* a card without the PIV applet (t kept open) */
	bool have_serial, have_version;
	char serial[40];           /* YubiKey serial (decimal) or CHUID GUID (hex) */
	uint8_t version[3];
	int has_metadata;          /* -1 unknown, 0 no, 1 yes */
	int login;
	kw_secret so_puk;          /* PUK given to C_Login(CKU_SO), until logout */
	kw_secret so_mgmt;         /* or a management key given as SO PIN */
	uint8_t so_mgmt_alg;
	int pin_tries;             /* last known, -1 unknown */
	uint8_t slot_state[24];    /* per kwp11_key_slots entry: what is loaded */
	int retired_floor;         /* retired slots to probe at least, -1 unknown */
	uint16_t gen;              /* object generation, bumps on token loss */
	kwp11_obj *objs;
	size_t nobjs;
	size_t nsessions, nrw;
} kwp11_token;

/* Test hook: opens the transport for a URI instead of the registry. */
typedef kw_rv (*kwp11_open_hook)(const char *uri, kw_transport **t, void *arg);
void kwp11_test_set_open_hook(kwp11_open_hook fn, void *arg);

kw_rv kwp11_token_new(const char *uri, CK_SLOT_ID id, const kwp11_lockops *lo,
    kwp11_token **out);
void kwp11_token_free(const kwp11_lockops *lo, kwp11_token **tok);
/* Forget everything about the card (removal): objects, login, transport. */
void kwp11_token_lost(kwp11_token *tok);
/* Is a PIV token in the reader? Opens/identifies it when newly present
 * (SELECT, version, serial: once per insertion); no APDU otherwise. */
bool kwp11_token_probe(kwp11_token *tok);
CK_RV kwp11_token_info(kwp11_token *tok, CK_TOKEN_INFO *info);
/* One PC/SC transaction per operation. */
kw_rv kwp11_token_begin(kwp11_token *tok);
void kwp11_token_end(kwp11_token *tok);
/* After a failed card call: handle removal/logouts, give the CK_RV. */
CK_RV kwp11_token_fail(kwp11_token *tok, kw_rv rv);
/* Objects: loaded lazily (p11_load.c): one PIV slot (0 = all), keys and
 * (certs) certificates, or what KWP11_LOAD_* says; everything. */
enum { KWP11_LOAD_KEYS = 1u << 0, KWP11_LOAD_CERTS = 1u << 1 };
CK_RV kwp11_token_load(kwp11_token *tok, uint8_t slot, bool certs);
CK_RV kwp11_token_load_what(kwp11_token *tok, uint8_t slot, unsigned what);
CK_RV kwp11_token_enumerate(kwp11_token *tok);
/* A slot's key was just generated or imported: its certificate is to be
 * looked at again. */
void kwp11_token_key_changed(kwp11_token *tok, uint8_t slot);
CK_OBJECT_HANDLE kwp11_obj_handle(const kwp11_token *tok, size_t idx);
CK_RV kwp11_obj_lookup(kwp11_token *tok, CK_OBJECT_HANDLE h, kwp11_obj **o);
CK_RV kwp11_obj_add(kwp11_token *tok, kwp11_obj *o, size_t *idx);
/* Add (replace) the objects of one PIV slot from a key/cert. */
CK_RV kwp11_obj_set_slot(kwp11_token *tok, uint8_t slot, const kw_piv_metadata *md,
    const uint8_t *cert, size_t cert_len, bool keep_key);
/* Add (replace) only the key objects of a slot, from metadata or, without
 * it, from the public key of the slot's certificate; certificates stay. */
CK_RV kwp11_obj_set_key(kwp11_token *tok, uint8_t slot, const kw_piv_metadata *md,
    const EVP_PKEY *cert_pub);
kwp11_obj *kwp11_obj_find_slot(kwp11_token *tok, uint8_t slot, CK_OBJECT_CLASS cls);
/* Card I/O wrappers (one transaction each, re-select when the applet was
 * deselected by another process). */
kw_rv kwp11_token_private_op(kwp11_token *tok, uint8_t slot, uint8_t alg,
    const uint8_t *in, size_t in_len, kw_buf *out);
/* The same preceded, in the same transaction, by SELECT + VERIFY with the
 * PIN of a context-specific login (PIN-always keys). *tries gets the
 * counter on a wrong PIN. */
kw_rv kwp11_token_private_op_pin(kwp11_token *tok, const kw_secret *pin, uint8_t slot,
    uint8_t alg, const uint8_t *in, size_t in_len, kw_buf *out, int *tries);
kw_rv kwp11_token_ecdh(kwp11_token *tok, uint8_t slot, uint8_t alg,
    const uint8_t *pt, size_t pt_len, kw_buf *out);

/* ---- cache of public material (p11_cache.c) ---- */
bool kwp11_cache_enabled(void);
bool kwp11_cache_has(const char *serial, uint8_t slot);   /* an entry exists */
/* Look up a certificate for (serial, slot): used only if the card's answer
 * to a one-APDU probe of the certificate object (the first response chunk
 * and status word) equals the one recorded with it, and the certificate's
 * public key equals pub (the key the card reports). */
kw_rv kwp11_cache_get(const char *serial, uint8_t slot, const EVP_PKEY *pub, kw_view probe,
    kw_buf *der);
kw_rv kwp11_cache_put(const char *serial, uint8_t slot, kw_view probe, const uint8_t *der,
    size_t len);
kw_rv kwp11_cache_drop(const char *serial, uint8_t slot);

/* ---- sessions (p11_session.c) ---- */
enum { KWP11_OP_NONE = 0, KWP11_OP_SIGN, KWP11_OP_DECRYPT };

typedef struct kwp11_op {
	int kind;
	CK_MECHANISM_TYPE mech;
	size_t obj;                /* object index */
	const EVP_MD *md;          /* hash of hashed mechanisms / PSS / OAEP */
	const EVP_MD *mgf_md;
	size_t salt_len;
	kw_buf label;              /* OAEP label */
	EVP_MD_CTX *mdctx;         /* multi-part hashed signing */
	kw_buf data;               /* multi-part raw input */
	bool multipart;            /* an Update was called */
	bool need_ctx_login;       /* CKA_ALWAYS_AUTHENTICATE key */
	bool ctx_login_done;
	kw_secret ctx_pin;         /* given to C_Login(CKU_CONTEXT_SPECIFIC), sent once
	                            * with the operation, wiped with it */
	bool have_result;          /* result kept for a retry with a bigger buffer */
	kw_buf result;
} kwp11_op;

typedef struct kwp11_session {
	CK_SESSION_HANDLE handle;
	atomic_uint refs;          /* the table's + calls in progress */
	bool closed;               /* under the token lock: out of the table */
	kwp11_token *tok;
	uint16_t tok_gen;          /* the token's generation at open */
	CK_FLAGS flags;
	bool find_active;
	CK_OBJECT_HANDLE *found;
	size_t nfound, findpos;
	kwp11_op op;
} kwp11_session;

void kwp11_op_reset(kwp11_op *op);

/* ---- the module (p11_module.c) ---- */
typedef struct kwp11_module {
	pid_t pid;
	kwp11_lockops lo;
	void *lock;
	kwp11_token **slots;
	size_t nslots;
	CK_SLOT_ID next_slot_id;
	unsigned cycle;             /* which C_Initialize (never 0) */
	kwp11_session **sessions;   /* index = handle's low 16 bits - 1 */
	size_t nsessions;
	uint16_t session_gen;
} kwp11_module;

/* A call in progress: registered by enter (no lock); the session/slot
 * variants hold the token lock (and, with excl, the module lock after it)
 * until kwp11_leave. */
typedef struct kwp11_call {
	kwp11_module *m;
	kwp11_token *tok;
	kwp11_session *s;
	bool mod_locked;
} kwp11_call;

CK_RV kwp11_module_init(CK_VOID_PTR args);
CK_RV kwp11_module_fini(CK_VOID_PTR reserved);
CK_RV kwp11_enter(kwp11_call *c);
void kwp11_module_lock(kwp11_call *c);
void kwp11_module_unlock(kwp11_call *c);
void kwp11_token_lock(const kwp11_module *m, kwp11_token *tok);
void kwp11_token_unlock(const kwp11_module *m, kwp11_token *tok);
/* excl: the module lock too, taken after the token's (session table changes). */
CK_RV kwp11_enter_slot(CK_SLOT_ID id, kwp11_call *c, bool excl);
CK_RV kwp11_enter_session(CK_SESSION_HANDLE h, kwp11_call *c, bool excl);
void kwp11_leave(kwp11_call *c);
CK_RV kwp11_get_info(CK_INFO *info);

/* slots (p11_slot.c); called without locks (they take what they need) */
void kwp11_slots_refresh(kwp11_module *m);
CK_RV kwp11_slot_list(kwp11_module *m, CK_BBOOL present, CK_SLOT_ID *list, CK_ULONG *count);
/* module lock held */
CK_RV kwp11_slot_info(kwp11_token *tok, CK_SLOT_INFO *info);
kwp11_token *kwp11_slot_find(kwp11_module *m, CK_SLOT_ID id);
CK_RV kwp11_wait_for_slot_event(CK_FLAGS flags, CK_SLOT_ID *slot);
void kwp11_wait_cancel(void);

/* sessions: open with the token lock held; close/close_all with token +
 * module locks held */
CK_RV kwp11_session_open(kwp11_module *m, kwp11_token *tok, CK_FLAGS flags,
    CK_SESSION_HANDLE *h);
CK_RV kwp11_session_close(kwp11_module *m, kwp11_session *s);
CK_RV kwp11_session_close_all(kwp11_module *m, kwp11_token *tok);
CK_RV kwp11_session_info(kwp11_session *s, CK_SESSION_INFO *info);
/* Drop every session of a token (removal); token lock held, not the
 * module lock (taken inside). */
void kwp11_session_drop_token(kwp11_module *m, kwp11_token *tok);
/* Module lock held: the session of a handle (no reference taken). */
kwp11_session *kwp11_session_find(kwp11_module *m, CK_SESSION_HANDLE h);
void kwp11_session_ref(kwp11_session *s);
void kwp11_session_unref(kwp11_session *s);   /* frees a closed session's memory at 0 */
/* Token lock held: is c->s still open? (closes it if its token was lost) */
bool kwp11_session_check(kwp11_call *c);

/* find / attributes (p11_find.c, p11_attr.c); token lock held */
CK_RV kwp11_find_init(kwp11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n);
CK_RV kwp11_find(kwp11_session *s, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count);
CK_RV kwp11_find_final(kwp11_session *s);
CK_RV kwp11_attr_get(kwp11_token *tok, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n);
/* One attribute's value into out: CKR_OK, CKR_ATTRIBUTE_TYPE_INVALID or
 * CKR_ATTRIBUTE_SENSITIVE. */
CK_RV kwp11_attr_value(kwp11_token *tok, const kwp11_obj *o, CK_ATTRIBUTE_TYPE type, kw_buf *out);
CK_RV kwp11_obj_size(kwp11_token *tok, kwp11_obj *o, CK_ULONG *size);
/* Template helpers */
const CK_ATTRIBUTE *kwp11_tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type);
CK_RV kwp11_tmpl_ulong(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_ULONG *v);
CK_RV kwp11_tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_BBOOL *v);

/* mechanisms (p11_mech.c) */
CK_RV kwp11_mech_list(kwp11_token *tok, CK_MECHANISM_TYPE *list, CK_ULONG *count);
CK_RV kwp11_mech_info(kwp11_token *tok, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
/* Does mechanism `type` with `flag` (CKF_SIGN, CKF_DECRYPT, CKF_DERIVE) fit the key? */
CK_RV kwp11_mech_check(CK_MECHANISM_TYPE type, CK_FLAGS flag, const kwp11_obj *key);
const EVP_MD *kwp11_mech_md(CK_MECHANISM_TYPE hash);   /* CKM_SHAx -> md */
const EVP_MD *kwp11_mgf_md(CK_RSA_PKCS_MGF_TYPE mgf);

/* operations; token lock held */
CK_RV kwp11_sign_init(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV kwp11_sign(kwp11_session *s, const uint8_t *data, CK_ULONG len, uint8_t *sig, CK_ULONG *siglen);
CK_RV kwp11_sign_update(kwp11_session *s, const uint8_t *data, CK_ULONG len);
CK_RV kwp11_sign_final(kwp11_session *s, uint8_t *sig, CK_ULONG *siglen);
CK_RV kwp11_decrypt_init(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV kwp11_decrypt(kwp11_session *s, const uint8_t *in, CK_ULONG len, uint8_t *out, CK_ULONG *outlen);
CK_RV kwp11_decrypt_update(kwp11_session *s, const uint8_t *in, CK_ULONG len, uint8_t *out,
    CK_ULONG *outlen);
CK_RV kwp11_decrypt_final(kwp11_session *s, uint8_t *out, CK_ULONG *outlen);
CK_RV kwp11_derive(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE base,
    CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out);
CK_RV kwp11_generate_key_pair(kwp11_session *s, CK_MECHANISM *mech,
    CK_ATTRIBUTE *pub_tmpl, CK_ULONG npub, CK_ATTRIBUTE *priv_tmpl, CK_ULONG npriv,
    CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv);
CK_RV kwp11_create_object(kwp11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out);
CK_RV kwp11_destroy_object(kwp11_session *s, CK_OBJECT_HANDLE h);
/* Sign or decrypt with the op's key: one transaction, the context PIN
 * first for PIN-always keys (p11_sign.c). */
CK_RV kwp11_op_card(kwp11_session *s, const kwp11_obj *o, const uint8_t *in, size_t len,
    kw_buf *out);
/* Key lookup + mechanism + login checks shared by the *Init calls. */
CK_RV kwp11_op_key(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
    CK_FLAGS use, kwp11_obj **out);
/* Authenticate with the management key for writes (p11_keygen.c). */
kw_rv kwp11_mgmt_auth(kwp11_token *tok);

/* padding and encodings (p11_pad.c) */
kw_rv kwp11_pad_pkcs1_type1(const uint8_t *in, size_t len, size_t k, kw_buf *out);
kw_rv kwp11_pad_pss(const uint8_t *mhash, size_t hlen, const EVP_MD *md, const EVP_MD *mgf,
    size_t salt_len, size_t mod_bits, kw_buf *out);
kw_rv kwp11_digest_info(const EVP_MD *md, const uint8_t *hash, size_t hlen, kw_buf *out);
/* DER ECDSA-Sig-Value -> r||s, each field_len bytes. */
kw_rv kwp11_ecdsa_der_to_raw(kw_view der, size_t field_len, uint8_t *out);
size_t kwp11_pkey_size(const EVP_PKEY *pub);     /* RSA modulus bytes or EC field bytes */
/* C_GenerateRandom: PIV has no GET CHALLENGE; the host's CSPRNG. */
CK_RV kwp11_random(uint8_t *out, CK_ULONG len);

/* PIN handling (p11_pin.c); token lock held */
CK_RV kwp11_login(kwp11_module *m, kwp11_session *s, CK_USER_TYPE user, const uint8_t *pin,
    CK_ULONG len);
CK_RV kwp11_logout(kwp11_session *s);
CK_RV kwp11_init_pin(kwp11_session *s, const uint8_t *pin, CK_ULONG len);
CK_RV kwp11_set_pin(kwp11_session *s, const uint8_t *old, CK_ULONG old_len,
    const uint8_t *new_, CK_ULONG new_len);
/* Forget logins (removal, logout, last session closed). */
void kwp11_login_clear(kwp11_token *tok);
/* Reset the card's PIN status (C_Logout). */
void kwp11_card_logout(kwp11_token *tok);

/* ---- session secret keys (p11_secret_key.c); token lock held ---- */
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP 0x210BUL   /* RFC 5649 (PKCS#11 3.0) */
#endif
enum {
	KWP11_USE_ENCRYPT = 1u << 0, KWP11_USE_DECRYPT = 1u << 1,
	KWP11_USE_WRAP = 1u << 2, KWP11_USE_UNWRAP = 1u << 3,
	KWP11_USE_SIGN = 1u << 4, KWP11_USE_VERIFY = 1u << 5, KWP11_USE_DERIVE = 1u << 6,
};
#define KWP11_SECRET_MAX 256u         /* longest secret key value, bytes */
/* Read the template of a new session secret key (C_DeriveKey,
 * C_UnwrapKey) into o: class, key type (*have_type: given), CKA_TOKEN
 * false, uses, sensitive/extractable; *vlen = CKA_VALUE_LEN or 0. */
CK_RV kwp11_secret_template(const CK_ATTRIBUTE *t, CK_ULONG n, kwp11_obj *o, CK_ULONG *vlen,
    bool *have_type);
/* The length a key of o's type may have (0 = no length is valid). */
bool kwp11_secret_len_ok(const kwp11_obj *o, size_t len);
/* Give o the value (copied into locked memory) and add it as a session
 * object of s; o is consumed (cleared) whatever the outcome. */
CK_RV kwp11_secret_add(kwp11_session *s, kwp11_obj *o, const uint8_t *val, size_t len,
    CK_OBJECT_HANDLE *out);
/* Attribute of a secret key; KW_ERR_NOT_SUPPORTED when not its own. */
kw_rv kwp11_secret_attr(const kwp11_obj *o, CK_ATTRIBUTE_TYPE type, kw_buf *out);
/* A session secret key of s usable for use (KWP11_USE_*). */
CK_RV kwp11_secret_key(kwp11_session *s, CK_OBJECT_HANDLE h, CK_FLAGS use, kwp11_obj **o);

/* ---- ANSI X9.63 KDF (p11_kdf.c) ---- */
#define KWP11_SHARED_DATA_MAX 1024u    /* bound on CK_ECDH1_DERIVE_PARAMS shared data */
/* The hash of CKD_SHAx_KDF; *md = NULL for CKD_NULL; an error otherwise. */
CK_RV kwp11_kdf_md(CK_ULONG kdf, const EVP_MD **md);
kw_rv kwp11_x963_kdf(const EVP_MD *md, const uint8_t *z, size_t zlen, const uint8_t *info,
    size_t ilen, uint8_t *out, size_t outlen);

/* ---- ECDH (p11_derive.c) ---- */
/* The peer's public point for a curve of field_len bytes: raw uncompressed
 * (04 X Y, 2 * field_len + 1 bytes) or that inside a DER OCTET STRING,
 * told apart by length only. */
CK_RV kwp11_ecdh_peer_point(const uint8_t *p, size_t len, size_t field_len, kw_view *pt);

/* ---- AES key wrap (p11_keywrap.c): host-side, keys from the card's ECDH ---- */
bool kwp11_keywrap_mech(CK_MECHANISM_TYPE m);
/* Unwrap in (RFC 3394 for CKM_AES_KEY_WRAP, then PKCS#7 padding for _PAD,
 * RFC 5649 for _KWP) with kek into out (a wiped buffer). */
CK_RV kwp11_aes_unwrap(const CK_MECHANISM *m, const kw_secret *kek, const uint8_t *in,
    size_t len, kw_buf *out);
CK_RV kwp11_keywrap_decrypt_init(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
/* The op's unwrap into s->op.result (have_result set on success). */
CK_RV kwp11_keywrap_run(kwp11_session *s, const uint8_t *in, size_t len);
CK_RV kwp11_unwrap_key(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
    const uint8_t *in, CK_ULONG len, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out);

/* ---- parsers of untrusted input on their own (fuzz/fuzz_p11_input.c) ---- */
/* Remove the padding of op's mechanism from the k-byte block the card
 * returned: op->result gets the plaintext (CKR_ENCRYPTED_DATA_INVALID). */
CK_RV kwp11_rsa_unpad(kwp11_op *op, const uint8_t *blk, size_t k);
/* The private key of a C_CreateObject template (CKK_RSA components, or
 * CKK_EC with P-256/P-384 parameters and CKA_VALUE). */
CK_RV kwp11_create_build_key(const CK_ATTRIBUTE *t, CK_ULONG n, EVP_PKEY **key);
/* A cache file's bytes: its recorded probe must equal probe and its
 * certificate parse completely with pub as its key; then der = the DER. */
kw_rv kwp11_cache_check(kw_view file, kw_view probe, const EVP_PKEY *pub, kw_buf *der);

#endif
