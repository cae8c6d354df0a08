/* PKCS#11 HSM access for keyward-kmsd (see kms_hsm.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "kms_hsm.h"
#include "kms_p11util.h"
#include "kw_log.h"
#include "kw_secret.h"

#define CACHE_MAX 4

/* A long-lived key copied once into a session object of the login
 * session: SoftHSM keeps session objects in memory, while every use of a
 * token object re-reads its file; and no look-up per operation. */
struct cached_key {
	char label[32];
	CK_OBJECT_CLASS cls;
	CK_OBJECT_HANDLE h;
	kms_key_type type;
};

struct kms_hsm {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE login_session;
	bool have_slot;
	bool logged_in;
	pthread_mutex_t lock; /* relabel (pool claims) */
	pthread_key_t skey;   /* this thread's operation session */
	struct cached_key cache[CACHE_MAX];
	size_t ncache;        /* filled before threads start, read-only after */
};

struct thread_session {
	kms_hsm *h;
	CK_SESSION_HANDLE s;
};

static void
thread_session_close(void *arg)
{
	struct thread_session *ts = arg;

	ts->h->f->C_CloseSession(ts->s);
	free(ts);
}

static const CK_BBOOL ck_true = CK_TRUE;
static const CK_BBOOL ck_false = CK_FALSE;
#define ATTR(t, p, l) { (t), (void *)(p), (l) }
#define ATTR_BOOL(t, b) ATTR((t), (b) ? &ck_true : &ck_false, sizeof(CK_BBOOL))

const char *
kms_key_type_name(kms_key_type t)
{
	return t == KMS_KEY_P256 ? "p256" : t == KMS_KEY_RSA2048 ? "rsa2048" : "?";
}

kms_key_type
kms_key_type_parse(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "rsa2048") == 0)
		return KMS_KEY_RSA2048;
	if (strcmp(s, "p256") == 0)
		return KMS_KEY_P256;
	return 0;
}

static kw_rv
ck_to_rv(const char *what, CK_RV r)
{
	if (r == CKR_OK)
		return KW_OK;
	kw_err("hsm: %s failed: CKR 0x%lx", what, (unsigned long)r);
	switch (r) {
	case CKR_PIN_INCORRECT:
		return KW_ERR_PIN_INCORRECT;
	case CKR_PIN_LOCKED:
		return KW_ERR_PIN_BLOCKED;
	case CKR_HOST_MEMORY:
		return KW_ERR_NOMEM;
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
		return KW_ERR_NOT_SUPPORTED;
	case CKR_ENCRYPTED_DATA_INVALID:
	case CKR_WRAPPED_KEY_INVALID:
		return KW_ERR_FORMAT;
	default:
		return KW_ERR_CRYPTO;
	}
}

kw_rv
kms_hsm_open(const char *module_path, kms_hsm **out)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_C_INITIALIZE_ARGS args;
	kms_hsm *h;
	kw_rv rv = KW_ERR_NO_SERVICE;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_init(&h->lock, NULL);
	if (pthread_key_create(&h->skey, thread_session_close) != 0) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return KW_ERR_INTERNAL;
	}
	if ((h->dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		kw_err("hsm: cannot load %.200s: %.200s", module_path, dlerror());
		goto fail;
	}
	*(void **)&get_list = dlsym(h->dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&h->f) != CKR_OK || h->f == NULL) {
		kw_err("hsm: %.200s is not a PKCS#11 module", module_path);
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	if ((rv = ck_to_rv("C_Initialize", h->f->C_Initialize(&args))) != KW_OK)
		goto fail;
	*out = h;
	return KW_OK;
fail:
	if (h->dl != NULL)
		dlclose(h->dl);
	pthread_key_delete(h->skey);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return rv;
}

void
kms_hsm_free(kms_hsm **hp)
{
	kms_hsm *h;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	/* Other threads are joined; this thread's session closes with all. */
	free(pthread_getspecific(h->skey));
	pthread_setspecific(h->skey, NULL);
	pthread_key_delete(h->skey);
	if (h->logged_in)
		h->f->C_Logout(h->login_session);
	if (h->have_slot)
		h->f->C_CloseAllSessions(h->slot);
	h->f->C_Finalize(NULL);
	dlclose(h->dl);
	pthread_mutex_destroy(&h->lock);
	free(h);
	*hp = NULL;
}

static void
pad_label(const char *label, CK_UTF8CHAR out[32])
{
	size_t n = strlen(label);

	memset(out, ' ', 32);
	memcpy(out, label, n > 32 ? 32 : n);
}

/* Find a slot whose token is (initialized && labelled label) or, with
 * label == NULL, the first slot with an uninitialized token. */
static kw_rv
find_slot(kms_hsm *h, const char *label, CK_SLOT_ID *slot)
{
	CK_SLOT_ID ids[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	CK_UTF8CHAR want[32];
	kw_rv rv;

	if ((rv = ck_to_rv("C_GetSlotList", h->f->C_GetSlotList(CK_TRUE, ids, &n))) != KW_OK)
		return rv;
	if (label != NULL)
		pad_label(label, want);
	for (i = 0; i < n; i++) {
		if (h->f->C_GetTokenInfo(ids[i], &ti) != CKR_OK)
			continue;
		if (label == NULL && !(ti.flags & CKF_TOKEN_INITIALIZED))
			goto found;
		if (label != NULL && (ti.flags & CKF_TOKEN_INITIALIZED) &&
		    memcmp(ti.label, want, 32) == 0)
			goto found;
	}
	return KW_ERR_NOT_FOUND;
found:
	*slot = ids[i];
	return KW_OK;
}

kw_rv
kms_hsm_init_token(kms_hsm *h, const char *label, const char *so_pin,
    const char *user_pin)
{
	CK_UTF8CHAR lab[32];
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	kw_rv rv;

	if (find_slot(h, label, &slot) == KW_OK) {
		kw_err("hsm: a token labelled %.32s already exists", label);
		return KW_ERR_CONDITIONS;
	}
	if ((rv = find_slot(h, NULL, &slot)) != KW_OK) {
		kw_err("hsm: no free slot to initialize a token in");
		return rv;
	}
	pad_label(label, lab);
	if ((rv = ck_to_rv("C_InitToken", h->f->C_InitToken(slot,
	    (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), lab))) != KW_OK)
		return rv;
	/* SoftHSM moves a freshly initialized token to a new slot id. */
	if ((rv = find_slot(h, label, &slot)) != KW_OK)
		return rv;
	if ((rv = ck_to_rv("C_OpenSession", h->f->C_OpenSession(slot,
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s))) != KW_OK)
		return rv;
	if ((rv = ck_to_rv("C_Login(SO)", h->f->C_Login(s, CKU_SO,
	    (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin)))) != KW_OK)
		goto fail;
	rv = ck_to_rv("C_InitPIN", h->f->C_InitPIN(s, (CK_UTF8CHAR_PTR)user_pin,
	    strlen(user_pin)));
	h->f->C_Logout(s);
fail:
	h->f->C_CloseSession(s);
	return rv;
}

kw_rv
kms_hsm_login(kms_hsm *h, const char *label, const char *user_pin)
{
	CK_RV r;
	kw_rv rv;

	if ((rv = find_slot(h, label, &h->slot)) != KW_OK) {
		kw_err("hsm: no token labelled %.32s (run keyward-kmsd --init)", label);
		return rv;
	}
	h->have_slot = true;
	if ((rv = ck_to_rv("C_OpenSession", h->f->C_OpenSession(h->slot,
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	    &h->login_session))) != KW_OK)
		return rv;
	r = h->f->C_Login(h->login_session, CKU_USER, (CK_UTF8CHAR_PTR)user_pin,
	    strlen(user_pin));
	if (r == CKR_USER_ALREADY_LOGGED_IN)
		r = CKR_OK;
	if ((rv = ck_to_rv("C_Login", r)) != KW_OK)
		return rv;
	h->logged_in = true;
	return KW_OK;
}

/* The calling thread's operation session, opened on first use and kept
 * (closed when the thread ends); the login is the login session's. */
static kw_rv
session_open(kms_hsm *h, CK_SESSION_HANDLE *s)
{
	struct thread_session *ts;
	kw_rv rv;

	if (!h->logged_in)
		return KW_ERR_SECURITY;
	if ((ts = pthread_getspecific(h->skey)) != NULL) {
		*s = ts->s;
		return KW_OK;
	}
	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return KW_ERR_NOMEM;
	ts->h = h;
	if ((rv = ck_to_rv("C_OpenSession", h->f->C_OpenSession(h->slot,
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &ts->s))) != KW_OK ||
	    pthread_setspecific(h->skey, ts) != 0) {
		if (rv == KW_OK)
			h->f->C_CloseSession(ts->s);
		free(ts);
		return rv != KW_OK ? rv : KW_ERR_INTERNAL;
	}
	*s = ts->s;
	return KW_OK;
}

/* Sessions are kept per thread: nothing to close per operation. */
#define session_done(h, s) ((void)(h), (void)(s))

static const struct cached_key *
cache_find(const kms_hsm *h, CK_OBJECT_CLASS cls, const char *label)
{
	size_t i;

	for (i = 0; label != NULL && i < h->ncache; i++)
		if (h->cache[i].cls == cls && strcmp(h->cache[i].label, label) == 0)
			return &h->cache[i];
	return NULL;
}

/* Find up to max objects with this label (and class unless class is
 * (CK_ULONG)-1). */
static kw_rv
find_objects(kms_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const char *label, CK_OBJECT_HANDLE *objs, CK_ULONG max, CK_ULONG *n)
{
	CK_ATTRIBUTE t[2] = {
		ATTR(CKA_LABEL, label, label != NULL ? strlen(label) : 0),
		ATTR(CKA_CLASS, &cls, sizeof(cls)),
	};
	CK_ULONG nt = 0;
	CK_ATTRIBUTE *tp = t;
	kw_rv rv;

	if (label != NULL)
		nt = 1;
	else
		tp = &t[1];
	if (cls != (CK_OBJECT_CLASS)-1)
		nt++;
	if ((rv = ck_to_rv("C_FindObjectsInit",
	    h->f->C_FindObjectsInit(s, tp, nt))) != KW_OK)
		return rv;
	rv = ck_to_rv("C_FindObjects", h->f->C_FindObjects(s, objs, max, n));
	h->f->C_FindObjectsFinal(s);
	return rv;
}

static kw_rv
find_one(kms_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const char *label, CK_OBJECT_HANDLE *obj)
{
	const struct cached_key *c = cache_find(h, cls, label);
	CK_ULONG n = 0;
	kw_rv rv;

	if (c != NULL) {
		*obj = c->h;
		return KW_OK;
	}
	if ((rv = find_objects(h, s, cls, label, obj, 1, &n)) != KW_OK)
		return rv;
	return n == 1 ? KW_OK : KW_ERR_NOT_FOUND;
}

static kw_rv
get_attr(kms_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, kw_buf *out)
{
	CK_ATTRIBUTE a = ATTR(type, NULL, 0);
	kw_rv rv;

	if ((rv = ck_to_rv("C_GetAttributeValue",
	    h->f->C_GetAttributeValue(s, o, &a, 1))) != KW_OK)
		return rv;
	kw_buf_reset(out);
	if ((rv = kw_buf_reserve(out, a.ulValueLen)) != KW_OK)
		return rv;
	a.pValue = out->data;
	if ((rv = ck_to_rv("C_GetAttributeValue",
	    h->f->C_GetAttributeValue(s, o, &a, 1))) != KW_OK)
		return rv;
	out->len = a.ulValueLen;
	return KW_OK;
}

static kw_rv
get_key_type(kms_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    kms_key_type *type)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = ATTR(CKA_KEY_TYPE, &kt, sizeof(kt));
	kw_rv rv;

	if ((rv = ck_to_rv("C_GetAttributeValue",
	    h->f->C_GetAttributeValue(s, o, &a, 1))) != KW_OK)
		return rv;
	*type = kt == CKK_EC ? KMS_KEY_P256 : kt == CKK_RSA ? KMS_KEY_RSA2048 : 0;
	return *type != 0 ? KW_OK : KW_ERR_NOT_SUPPORTED;
}

kw_rv
kms_hsm_gen_keypair(kms_hsm *h, kms_key_type type, const char *label,
    bool extractable, kw_buf *spki)
{
	static const CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x03, 0x01, 0x07 };
	static const CK_BYTE e65537[] = { 1, 0, 1 };
	CK_ULONG bits = 2048;
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub[] = {
		ATTR_BOOL(CKA_TOKEN, true),
		ATTR(CKA_LABEL, label, strlen(label)),
		ATTR_BOOL(CKA_VERIFY, true),
		ATTR(CKA_MODULUS_BITS, &bits, sizeof(bits)),
		ATTR(CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537)),
	};
	CK_ATTRIBUTE priv[] = {
		ATTR_BOOL(CKA_TOKEN, true),
		ATTR(CKA_LABEL, label, strlen(label)),
		ATTR_BOOL(CKA_PRIVATE, true),
		ATTR_BOOL(CKA_SENSITIVE, true),
		ATTR_BOOL(CKA_EXTRACTABLE, extractable),
		ATTR_BOOL(CKA_SIGN, true),
		ATTR_BOOL(type == KMS_KEY_P256 ? CKA_DERIVE : CKA_DECRYPT, true),
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_SESSION_HANDLE s;
	kw_rv rv;

	if (type == KMS_KEY_P256) {
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		pub[3] = (CK_ATTRIBUTE)ATTR(CKA_EC_PARAMS, p256_oid, sizeof(p256_oid));
	} else if (type != KMS_KEY_RSA2048)
		return KW_ERR_ARG;
	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	rv = ck_to_rv("C_GenerateKeyPair", h->f->C_GenerateKeyPair(s, &mech, pub,
	    type == KMS_KEY_P256 ? 4 : 5, priv, 7, &hpub, &hpriv));
	if (rv == KW_OK && spki != NULL)
		rv = kms_p11_spki(h->f, s, hpub, type, spki);
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_get_spki(kms_hsm *h, const char *label, kw_buf *spki)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	kms_key_type type;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((rv = find_one(h, s, CKO_PUBLIC_KEY, label, &o)) == KW_OK &&
	    (rv = get_key_type(h, s, o, &type)) == KW_OK)
		rv = kms_p11_spki(h->f, s, o, type, spki);
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_gen_aes(kms_hsm *h, const char *label, bool wrap)
{
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_ATTRIBUTE t[] = {
		ATTR_BOOL(CKA_TOKEN, true),
		ATTR(CKA_LABEL, label, strlen(label)),
		ATTR_BOOL(CKA_PRIVATE, true),
		ATTR_BOOL(CKA_SENSITIVE, true),
		ATTR_BOOL(CKA_EXTRACTABLE, false),
		ATTR(CKA_VALUE_LEN, &len, sizeof(len)),
		ATTR_BOOL(CKA_WRAP, wrap),
		ATTR_BOOL(CKA_UNWRAP, wrap),
		ATTR_BOOL(CKA_ENCRYPT, !wrap),
		ATTR_BOOL(CKA_DECRYPT, !wrap),
	};
	CK_OBJECT_HANDLE o;
	CK_SESSION_HANDLE s;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	rv = ck_to_rv("C_GenerateKey", h->f->C_GenerateKey(s, &mech, t,
	    sizeof(t) / sizeof(t[0]), &o));
	session_done(h, s);
	return rv;
}

bool
kms_hsm_has(kms_hsm *h, const char *label)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_ULONG n = 0;
	bool found;

	if (session_open(h, &s) != KW_OK)
		return false;
	found = find_objects(h, s, (CK_OBJECT_CLASS)-1, label, &o, 1, &n) == KW_OK &&
	    n > 0;
	session_done(h, s);
	return found;
}

kw_rv
kms_hsm_destroy(kms_hsm *h, const char *label)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o[8];
	CK_ULONG n = 0, i;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((rv = find_objects(h, s, (CK_OBJECT_CLASS)-1, label, o, 8, &n)) == KW_OK)
		for (i = 0; i < n && rv == KW_OK; i++)
			rv = ck_to_rv("C_DestroyObject", h->f->C_DestroyObject(s, o[i]));
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_relabel(kms_hsm *h, const char *from, const char *to)
{
	CK_ATTRIBUTE a = ATTR(CKA_LABEL, to, strlen(to));
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o[8];
	CK_ULONG n = 0, i;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	pthread_mutex_lock(&h->lock);
	rv = find_objects(h, s, (CK_OBJECT_CLASS)-1, from, o, 8, &n);
	if (rv == KW_OK && n == 0)
		rv = KW_ERR_NOT_FOUND;
	for (i = 0; rv == KW_OK && i < n; i++)
		rv = ck_to_rv("C_SetAttributeValue",
		    h->f->C_SetAttributeValue(s, o[i], &a, 1));
	pthread_mutex_unlock(&h->lock);
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_list(kms_hsm *h, const char *prefix, char **labels, size_t max,
    size_t *n)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o[4096];
	CK_ULONG found = 0, i;
	kw_buf lab;
	kw_rv rv;

	*n = 0;
	kw_buf_init(&lab, 256);
	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((rv = find_objects(h, s, CKO_PRIVATE_KEY, NULL, o, 4096, &found)) != KW_OK)
		goto fail;
	for (i = 0; i < found && *n < max; i++) {
		if (get_attr(h, s, o[i], CKA_LABEL, &lab) != KW_OK ||
		    lab.len < strlen(prefix) ||
		    memcmp(lab.data, prefix, strlen(prefix)) != 0)
			continue;
		if ((labels[*n] = strndup((const char *)lab.data, lab.len)) == NULL) {
			rv = KW_ERR_NOMEM;
			goto fail;
		}
		(*n)++;
	}
fail:
	kw_buf_free(&lab);
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_sign(kms_hsm *h, const char *label, kw_view data, kw_buf *sig)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	const struct cached_key *c;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	kms_key_type type;
	uint8_t digest[32], raw[512];
	CK_ULONG rawlen = sizeof(raw);
	const uint8_t *in = data.ptr;
	CK_ULONG inlen = data.len;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((c = cache_find(h, CKO_PRIVATE_KEY, label)) != NULL) {
		o = c->h;
		type = c->type;
	} else if ((rv = find_one(h, s, CKO_PRIVATE_KEY, label, &o)) != KW_OK ||
	    (rv = get_key_type(h, s, o, &type)) != KW_OK)
		goto fail;
	if (type == KMS_KEY_P256) {
		mech.mechanism = CKM_ECDSA;
		kms_p11_sha256(data, digest);
		in = digest;
		inlen = sizeof(digest);
	}
	if ((rv = ck_to_rv("C_SignInit", h->f->C_SignInit(s, &mech, o))) != KW_OK ||
	    (rv = ck_to_rv("C_Sign", h->f->C_Sign(s, (CK_BYTE_PTR)in, inlen, raw,
	    &rawlen))) != KW_OK)
		goto fail;
	kw_buf_reset(sig);
	if (type == KMS_KEY_P256)
		rv = kms_p11_ecdsa_to_der(kw_view_make(raw, rawlen), sig);
	else
		rv = kw_buf_put(sig, raw, rawlen);
fail:
	session_done(h, s);
	return rv;
}

static kw_rv
wrap_key(kms_hsm *h, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
    CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, kw_buf *out)
{
	CK_ULONG len = 0;
	kw_rv rv;

	if ((rv = ck_to_rv("C_WrapKey", h->f->C_WrapKey(s, mech, wrapping, key,
	    NULL, &len))) != KW_OK)
		return rv;
	kw_buf_reset(out);
	if ((rv = kw_buf_reserve(out, len)) != KW_OK)
		return rv;
	if ((rv = ck_to_rv("C_WrapKey", h->f->C_WrapKey(s, mech, wrapping, key,
	    out->data, &len))) != KW_OK)
		return rv;
	out->len = len;
	return KW_OK;
}

kw_rv
kms_hsm_wrap_private(kms_hsm *h, const char *kek, const char *label,
    kw_buf *wrapped)
{
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE hk, hp;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((rv = find_one(h, s, CKO_SECRET_KEY, kek, &hk)) == KW_OK &&
	    (rv = find_one(h, s, CKO_PRIVATE_KEY, label, &hp)) == KW_OK)
		rv = wrap_key(h, s, &mech, hk, hp, wrapped);
	session_done(h, s);
	return rv;
}

/* Session objects for one re-wrap; all die with the session. */
static kw_rv
rewrap_objects(kms_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE kek,
    kms_key_type type, kw_view blob, CK_OBJECT_HANDLE *priv,
    CK_OBJECT_HANDLE *tk)
{
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_CLASS pc = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = type == KMS_KEY_P256 ? CKK_EC : CKK_RSA;
	CK_ULONG len = 32;
	CK_ATTRIBUTE pt[] = {
		ATTR(CKA_CLASS, &pc, sizeof(pc)),
		ATTR(CKA_KEY_TYPE, &kt, sizeof(kt)),
		ATTR_BOOL(CKA_TOKEN, false),
		ATTR_BOOL(CKA_PRIVATE, true),
		ATTR_BOOL(CKA_SENSITIVE, true),
		ATTR_BOOL(CKA_EXTRACTABLE, true),
	};
	CK_ATTRIBUTE at[] = {
		ATTR_BOOL(CKA_TOKEN, false),
		ATTR_BOOL(CKA_SENSITIVE, true),
		ATTR_BOOL(CKA_EXTRACTABLE, true),
		ATTR_BOOL(CKA_WRAP, true),
		ATTR(CKA_VALUE_LEN, &len, sizeof(len)),
	};
	kw_rv rv;

	if ((rv = ck_to_rv("C_UnwrapKey", h->f->C_UnwrapKey(s, &kwp, kek,
	    (CK_BYTE_PTR)blob.ptr, blob.len, pt, 6, priv))) != KW_OK)
		return rv;
	return ck_to_rv("C_GenerateKey", h->f->C_GenerateKey(s, &gen, at, 5, tk));
}

kw_rv
kms_hsm_rewrap_for_client(kms_hsm *h, const char *kek, kms_key_type type,
    kw_view blob, kw_view client_spki, kw_buf *enc_transport_key,
    kw_buf *wrapped_key)
{
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA_1, CKG_MGF1_SHA1,
		CKZ_DATA_SPECIFIED, NULL, 0 };
	CK_MECHANISM om = { CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep) };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE hk, priv = CK_INVALID_HANDLE, tk = CK_INVALID_HANDLE,
	    cpub = CK_INVALID_HANDLE;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((rv = find_one(h, s, CKO_SECRET_KEY, kek, &hk)) != KW_OK ||
	    (rv = kms_p11_import_rsa_pub(h->f, s, client_spki, &cpub)) != KW_OK ||
	    (rv = rewrap_objects(h, s, hk, type, blob, &priv, &tk)) != KW_OK ||
	    (rv = wrap_key(h, s, &kwp, tk, priv, wrapped_key)) != KW_OK ||
	    (rv = wrap_key(h, s, &om, cpub, tk, enc_transport_key)) != KW_OK)
		goto fail;
fail:
	/* The session lives on (one per thread): destroy the three session
	 * objects of this delivery now, whatever happened. */
	if (priv != CK_INVALID_HANDLE)
		h->f->C_DestroyObject(s, priv);
	if (tk != CK_INVALID_HANDLE)
		h->f->C_DestroyObject(s, tk);
	if (cpub != CK_INVALID_HANDLE)
		h->f->C_DestroyObject(s, cpub);
	return rv;
}

static kw_rv
gcm_run(kms_hsm *h, const char *label, bool enc, const uint8_t iv[12],
    kw_view aad, kw_view in, kw_buf *out)
{
	CK_GCM_PARAMS p = { (CK_BYTE_PTR)iv, 12, 96, (CK_BYTE_PTR)aad.ptr,
		aad.len, 128 };
	CK_MECHANISM mech = { CKM_AES_GCM, &p, sizeof(p) };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_ULONG len;
	size_t off = out->len;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((rv = find_one(h, s, CKO_SECRET_KEY, label, &o)) != KW_OK ||
	    (rv = kw_buf_reserve(out, in.len + 16)) != KW_OK)
		goto fail;
	len = in.len + 16;
	if (enc) {
		if ((rv = ck_to_rv("C_EncryptInit", h->f->C_EncryptInit(s, &mech, o))) == KW_OK)
			rv = ck_to_rv("C_Encrypt", h->f->C_Encrypt(s,
			    (CK_BYTE_PTR)in.ptr, in.len, out->data + off, &len));
	} else {
		if ((rv = ck_to_rv("C_DecryptInit", h->f->C_DecryptInit(s, &mech, o))) == KW_OK)
			rv = ck_to_rv("C_Decrypt", h->f->C_Decrypt(s,
			    (CK_BYTE_PTR)in.ptr, in.len, out->data + off, &len));
	}
	if (rv == KW_OK)
		out->len = off + len;
fail:
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_seal(kms_hsm *h, const char *label, kw_view aad, kw_view in, kw_buf *out)
{
	uint8_t iv[12];
	kw_rv rv;

	kw_buf_reset(out);
	if ((rv = kms_hsm_random(h, iv, sizeof(iv))) != KW_OK ||
	    (rv = kw_buf_put(out, iv, sizeof(iv))) != KW_OK)
		return rv;
	return gcm_run(h, label, true, iv, aad, in, out);
}

kw_rv
kms_hsm_open_sealed(kms_hsm *h, const char *label, kw_view aad, kw_view in,
    kw_buf *out)
{
	uint8_t iv[12];
	kw_rv rv;

	kw_buf_reset(out);
	if (in.len < 12 + 16)
		return KW_ERR_TRUNCATED;
	if ((rv = kw_view_get_bytes(&in, iv, sizeof(iv))) != KW_OK)
		return rv;
	return gcm_run(h, label, false, iv, aad, in, out);
}

kw_rv
kms_hsm_data_put(kms_hsm *h, const char *label, kw_view data)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		ATTR(CKA_CLASS, &cls, sizeof(cls)),
		ATTR_BOOL(CKA_TOKEN, true),
		ATTR_BOOL(CKA_PRIVATE, true),
		ATTR_BOOL(CKA_MODIFIABLE, false),
		ATTR(CKA_LABEL, label, strlen(label)),
		ATTR(CKA_VALUE, data.ptr, data.len),
	};
	CK_OBJECT_HANDLE o;
	CK_SESSION_HANDLE s;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	rv = ck_to_rv("C_CreateObject", h->f->C_CreateObject(s, t, 6, &o));
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_data_get(kms_hsm *h, const char *label, kw_buf *data)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	if ((rv = find_one(h, s, CKO_DATA, label, &o)) == KW_OK)
		rv = get_attr(h, s, o, CKA_VALUE, data);
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_random(kms_hsm *h, void *p, size_t n)
{
	CK_SESSION_HANDLE s;
	kw_rv rv;

	if ((rv = session_open(h, &s)) != KW_OK)
		return rv;
	rv = ck_to_rv("C_GenerateRandom", h->f->C_GenerateRandom(s, p, n));
	session_done(h, s);
	return rv;
}

kw_rv
kms_hsm_cache_key(kms_hsm *h, const char *label, bool private_key)
{
	CK_OBJECT_CLASS cls = private_key ? CKO_PRIVATE_KEY : CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = { ATTR_BOOL(CKA_TOKEN, false) };
	struct cached_key *c;
	CK_OBJECT_HANDLE o, copy;
	kms_key_type type = 0;
	kw_rv rv;

	if (h->ncache == CACHE_MAX || strlen(label) >= sizeof(c->label))
		return KW_ERR_RANGE;
	if (cache_find(h, cls, label) != NULL)
		return KW_OK;
	if ((rv = find_one(h, h->login_session, cls, label, &o)) != KW_OK ||
	    (private_key && (rv = get_key_type(h, h->login_session, o, &type)) != KW_OK))
		return rv;
	/* A session object of the login session: it lives as long as the
	 * login, and SoftHSM does not re-read a file at each use. */
	if (h->f->C_CopyObject(h->login_session, o, t, 1, &copy) == CKR_OK)
		o = copy;
	else
		kw_warn("hsm: cannot copy %.32s into memory; using the token object", label);
	c = &h->cache[h->ncache];
	snprintf(c->label, sizeof(c->label), "%s", label);
	c->cls = cls;
	c->h = o;
	c->type = type;
	h->ncache++;
	return KW_OK;
}
