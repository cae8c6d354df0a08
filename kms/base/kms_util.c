/* Small helpers for keyward-kmsd: randomness, hashing, base64, files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "kms_base.h"
#include "kw_log.h"
#include "kw_secret.h"

time_t
kms_now(void)
{
	const char *off = getenv("KEYWARD_KMS_TIME_OFFSET");

	return time(NULL) + (off != NULL ? (time_t)strtoll(off, NULL, 10) : 0);
}

kw_rv
kms_random(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? KW_OK : KW_ERR_CRYPTO;
}

kw_rv
kms_random_hex(char *out, size_t n)
{
	uint8_t b[64];
	kw_rv rv;

	if (n > sizeof(b))
		return KW_ERR_RANGE;
	if ((rv = kms_random(b, n)) == KW_OK)
		rv = kw_hex_encode(b, n, out, 2 * n + 1);
	kw_memzero(b, sizeof(b));
	return rv;
}

void
kms_sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

char *
kms_b64_encode(const uint8_t *p, size_t n)
{
	char *out;

	if (n > (1u << 24) || (out = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

kw_rv
kms_b64_decode(const char *s, kw_buf *out)
{
	size_t n = strlen(s), pad = 0;
	int len;
	kw_rv rv;

	kw_buf_reset(out);
	if (n == 0 || n % 4 != 0 || n > (1u << 24))
		return KW_ERR_FORMAT;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	if ((rv = kw_buf_reserve(out, n / 4 * 3)) != KW_OK)
		return rv;
	len = EVP_DecodeBlock(out->data, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad)
		return KW_ERR_FORMAT;
	out->len = (size_t)len - pad;
	return KW_OK;
}

char *
kms_email_normalize(const char *s)
{
	const char *at;
	char *out;
	size_t i, n;

	if (s == NULL || (n = strlen(s)) < 3 || n > 254)
		return NULL;
	if ((at = strchr(s, '@')) == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || (size_t)(at - s) > 64 ||
	    strchr(at + 1, '.') == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || strchr("<>()[]\\,;:\"", s[i]) != NULL)
			return NULL;
	if ((out = strdup(s)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

kw_rv
kms_file_read(const char *path, kw_buf *out, size_t max)
{
	uint8_t tmp[4096];
	size_t n;
	FILE *f;
	kw_rv rv = KW_OK;

	kw_buf_reset(out);
	if ((f = fopen(path, "rb")) == NULL) {
		kw_err("cannot open %.200s: %s", path, strerror(errno));
		return KW_ERR_IO;
	}
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0 && rv == KW_OK) {
		if (out->len + n > max)
			rv = KW_ERR_RANGE;
		else
			rv = kw_buf_put(out, tmp, n);
	}
	if (ferror(f))
		rv = KW_ERR_IO;
	fclose(f);
	kw_memzero(tmp, sizeof(tmp));
	return rv;
}

kw_rv
kms_file_write(const char *path, const void *p, size_t n, int mode)
{
	char tmp[4200];
	int fd;
	kw_rv rv = KW_ERR_IO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return KW_ERR_RANGE;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
		kw_err("cannot create %.200s: %s", tmp, strerror(errno));
		return KW_ERR_IO;
	}
	if (write(fd, p, n) == (ssize_t)n && fsync(fd) == 0)
		rv = KW_OK;
	if (close(fd) != 0)
		rv = KW_ERR_IO;
	if (rv == KW_OK && rename(tmp, path) != 0)
		rv = KW_ERR_IO;
	if (rv != KW_OK) {
		kw_err("cannot write %.200s: %s", path, strerror(errno));
		unlink(tmp);
	}
	return rv;
}

char *
kms_path(const char *dir, const char *file)
{
	size_t n = strlen(dir) + strlen(file) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, file);
	return p;
}

char *
kms_der_to_pem(const char *type, kw_view der)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio(b, type, "", der.ptr, (long)der.len) > 0 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}
