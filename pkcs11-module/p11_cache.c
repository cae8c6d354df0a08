/* On-disk cache of public material: certificates keyed by token serial and
 * PIV slot, under $XDG_CACHE_HOME/keyward (or ~/.cache/keyward), directory
 * 0700, files 0600 owned by the user. Never trusted blindly: a cached
 * certificate is used only if it parses completely and its public key
 * equals the key the card itself reports (GET METADATA) for that slot;
 * anything else is deleted and the card is read. KEYWARD_NO_CACHE=1
 * disables it. */
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
cache_path(uint32_t serial, uint8_t slot, char *out, size_t len)
{
	char dir[PATH_MAX - 64];
	int n;
	kw_rv rv;

	if ((rv = cache_dir(dir, sizeof(dir))) != KW_OK)
		return rv;
	n = snprintf(out, len, "%s/piv-%u-%02x.der", dir, serial, slot);
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

kw_rv
kwp11_cache_get(uint32_t serial, uint8_t slot, const EVP_PKEY *pub, kw_buf *der)
{
	char path[PATH_MAX];
	const unsigned char *p;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	kw_rv rv;

	if ((rv = cache_path(serial, slot, path, sizeof(path))) != KW_OK)
		return rv;
	kw_buf_reset(der);
	if ((rv = read_file(path, der)) != KW_OK)
		goto bad;
	p = der->data;
	rv = KW_ERR_FORMAT;
	if (der->len == 0 || (x = d2i_X509(NULL, &p, (long)der->len)) == NULL ||
	    p != der->data + der->len || (k = X509_get_pubkey(x)) == NULL ||
	    EVP_PKEY_eq(k, pub) != 1)
		goto bad;
	rv = KW_OK;
	goto out;
bad:
	if (rv != KW_ERR_NOT_FOUND) {
		kw_debug("ignoring cache entry for slot %02x", slot);
		(void)unlink(path);
	}
	kw_buf_reset(der);
out:
	EVP_PKEY_free(k);
	X509_free(x);
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
kwp11_cache_put(uint32_t serial, uint8_t slot, const uint8_t *der, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	size_t off = 0;
	ssize_t w;
	int fd, n;
	kw_rv rv;

	if (len == 0 || len > CACHE_MAX_FILE)
		return KW_ERR_RANGE;
	if ((rv = cache_path(serial, slot, path, sizeof(path))) != KW_OK || (rv = mkdirs()) != KW_OK)
		return rv;
	n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return KW_ERR_RANGE;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return KW_ERR_IO;
	while (off < len && (w = write(fd, der + off, len - off)) > 0)
		off += (size_t)w;
	if (close(fd) != 0 || off != len || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return KW_ERR_IO;
	}
	return KW_OK;
}

kw_rv
kwp11_cache_drop(uint32_t serial, uint8_t slot)
{
	char path[PATH_MAX];
	kw_rv rv;

	if ((rv = cache_path(serial, slot, path, sizeof(path))) != KW_OK)
		return rv;
	return unlink(path) == 0 || errno == ENOENT ? KW_OK : KW_ERR_IO;
}
