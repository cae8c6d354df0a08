/* On-disk cache of public material: certificates keyed by token serial and
 * PIV slot, under $XDG_CACHE_HOME/keyward (or ~/.cache/keyward), directory
 * 0700, files 0600 owned by the user. Never trusted blindly: a cached
 * certificate is used only if (1) the card's answer to a one-APDU probe of
 * the certificate object (first response chunk + status word, which covers
 * the object's length, the certificate's serial number and more) is the
 * one recorded with it, (2) it parses completely and (3) its public key
 * equals the key the card itself reports (GET METADATA) for that slot;
 * anything else is deleted and the card is read. KEYWARD_NO_CACHE=1
 * disables it. File: "KWC1", probe length (2 bytes), probe, DER. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "kw_log.h"
#include "p11_int.h"

#define CACHE_MAX_FILE 65536

static kw_rv
cache_dir(char *out, size_t len)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME"), *off;
	int n;

	off = getenv("KEYWARD_NO_CACHE");
	if (off != NULL && *off != '\0' && strcmp(off, "0") != 0)
		return KW_ERR_NOT_SUPPORTED;
	if (x != NULL && x[0] == '/')
		n = snprintf(out, len, "%s/keyward", x);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, len, "%s/.cache/keyward", home);
	else
		return KW_ERR_NOT_SUPPORTED;
	return n > 0 && (size_t)n < len ? KW_OK : KW_ERR_RANGE;
}

static kw_rv
cache_path(const char *serial, uint8_t slot, char *out, size_t len)
{
	char dir[PATH_MAX - 64];
	int n;
	kw_rv rv;

	if ((rv = cache_dir(dir, sizeof(dir))) != KW_OK)
		return rv;
	if (serial[0] == '\0' || strspn(serial, "0123456789ABCDEF") != strlen(serial))
		return KW_ERR_ARG;   /* ids are decimal or upper-case hex: safe in a name */
	n = snprintf(out, len, "%s/piv-%s-%02x.der", dir, serial, slot);
	return n > 0 && (size_t)n < len ? KW_OK : KW_ERR_RANGE;
}

static kw_rv
read_file(const char *path, kw_buf *out)
{
	uint8_t tmp[4096];
	struct stat st;
	ssize_t r;
	int fd;
	kw_rv rv = KW_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return KW_ERR_NOT_FOUND;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0 || st.st_size > CACHE_MAX_FILE)
		goto out;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0) {
		if (kw_buf_put(out, tmp, (size_t)r) != KW_OK)
			goto out;
	}
	rv = r == 0 ? KW_OK : KW_ERR_IO;
out:
	close(fd);
	return rv;
}

bool
kwp11_cache_enabled(void)
{
	char dir[PATH_MAX];

	return cache_dir(dir, sizeof(dir)) == KW_OK;
}

bool
kwp11_cache_has(const char *serial, uint8_t slot)
{
	char path[PATH_MAX];
	struct stat st;

	return cache_path(serial, slot, path, sizeof(path)) == KW_OK && lstat(path, &st) == 0 &&
	    S_ISREG(st.st_mode);
}

/* Split a cache file into its recorded probe and certificate. */
static kw_rv
parse_entry(kw_view v, kw_view *probe, kw_view *cert)
{
	uint8_t magic[4];
	uint16_t plen;
	kw_rv rv;

	if ((rv = kw_view_get_bytes(&v, magic, 4)) != KW_OK)
		return rv;
	if (memcmp(magic, "KWC1", 4) != 0)
		return KW_ERR_FORMAT;
	if ((rv = kw_view_get_u16be(&v, &plen)) != KW_OK ||
	    (rv = kw_view_get_view(&v, plen, probe)) != KW_OK)
		return rv;
	kw_view_get_rest(&v, cert);
	return cert->len > 0 ? KW_OK : KW_ERR_TRUNCATED;
}

kw_rv
kwp11_cache_check(kw_view file, kw_view probe, const EVP_PKEY *pub, kw_buf *der)
{
	const unsigned char *p;
	kw_view rprobe, cert;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	kw_rv rv;

	kw_buf_reset(der);
	if ((rv = parse_entry(file, &rprobe, &cert)) != KW_OK)
		goto out;
	rv = KW_ERR_FORMAT;
	if (!kw_view_equal(rprobe, probe))
		goto out;   /* the card's object changed */
	p = cert.ptr;
	if ((x = d2i_X509(NULL, &p, (long)cert.len)) == NULL || p != cert.ptr + cert.len ||
	    (k = X509_get_pubkey(x)) == NULL || EVP_PKEY_eq(k, pub) != 1)
		goto out;
	rv = kw_buf_put_view(der, cert);
out:
	if (rv != KW_OK)
		kw_buf_reset(der);
	EVP_PKEY_free(k);
	X509_free(x);
	return rv;
}

kw_rv
kwp11_cache_get(const char *serial, uint8_t slot, const EVP_PKEY *pub, kw_view probe, kw_buf *der)
{
	char path[PATH_MAX];
	kw_buf file;
	kw_rv rv;

	if ((rv = cache_path(serial, slot, path, sizeof(path))) != KW_OK)
		return rv;
	kw_buf_init(&file, CACHE_MAX_FILE + 1024);
	kw_buf_reset(der);
	if ((rv = read_file(path, &file)) != KW_OK ||
	    (rv = kwp11_cache_check(kw_buf_view(&file), probe, pub, der)) != KW_OK) {
		if (rv != KW_ERR_NOT_FOUND) {
			kw_debug("ignoring cache entry for slot %02x", slot);
			(void)unlink(path);
		}
		kw_buf_reset(der);
	}
	kw_buf_free(&file);
	return rv;
}

static kw_rv
mkdirs(void)
{
	char dir[PATH_MAX], *s;
	kw_rv rv;

	if ((rv = cache_dir(dir, sizeof(dir))) != KW_OK)
		return rv;
	for (s = dir + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return KW_ERR_IO;
		*s = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return KW_ERR_IO;
	return KW_OK;
}

kw_rv
kwp11_cache_put(const char *serial, uint8_t slot, kw_view probe, const uint8_t *der, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	kw_buf file;
	size_t off = 0;
	ssize_t w;
	int fd, n;
	kw_rv rv;

	if (len == 0 || len > CACHE_MAX_FILE || probe.len > 0xffff)
		return KW_ERR_RANGE;
	kw_buf_init(&file, CACHE_MAX_FILE + 1024);
	if ((rv = kw_buf_put(&file, "KWC1", 4)) != KW_OK ||
	    (rv = kw_buf_put_u16be(&file, (uint16_t)probe.len)) != KW_OK ||
	    (rv = kw_buf_put_view(&file, probe)) != KW_OK ||
	    (rv = kw_buf_put(&file, der, len)) != KW_OK) {
		kw_buf_free(&file);
		return rv;
	}
	der = file.data;
	len = file.len;
	if ((rv = cache_path(serial, slot, path, sizeof(path))) != KW_OK || (rv = mkdirs()) != KW_OK)
		goto out;
	rv = KW_ERR_RANGE;
	n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		goto out;
	(void)unlink(tmp);
	rv = KW_ERR_IO;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		goto out;
	while (off < len && (w = write(fd, der + off, len - off)) > 0)
		off += (size_t)w;
	if (close(fd) != 0 || off != len || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		goto out;
	}
	rv = KW_OK;
out:
	kw_buf_free(&file);
	return rv;
}

kw_rv
kwp11_cache_drop(const char *serial, uint8_t slot)
{
	char path[PATH_MAX];
	kw_rv rv;

	if ((rv = cache_path(serial, slot, path, sizeof(path))) != KW_OK)
		return rv;
	return unlink(path) == 0 || errno == ENOENT ? KW_OK : KW_ERR_IO;
}
