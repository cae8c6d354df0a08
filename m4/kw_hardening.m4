# KW_HARDENING: hardening flags the compiler and linker accept, added to
# KW_CPPFLAGS, KW_CFLAGS and KW_LDFLAGS (configure --disable-hardening to
# skip). _FORTIFY_SOURCE=2 only when the compiler does not define it already
# (a distribution's default or dpkg-buildflags) and the build is optimized
# (it needs -O); the sanitizer build does without it (ASan checks more).

# KW_TRY_FLAG(VAR, FLAG, compile|link): append FLAG to VAR when it works
# with -Werror (so an ignored flag is not silently kept).
AC_DEFUN([KW_TRY_FLAG], [
  AC_MSG_CHECKING([whether $CC accepts $2])
  kw_save_cflags=$CFLAGS
  kw_save_ldflags=$LDFLAGS
  AS_IF([test "x$3" = xlink],
    [LDFLAGS="$LDFLAGS $2"; CFLAGS="$CFLAGS -Werror"],
    [CFLAGS="$CFLAGS $2 -Werror"])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <string.h>]],
      [[char b[8]; memcpy(b, "keyward", 8); return b[0] == 'k' ? 0 : 1;]])],
    [AC_MSG_RESULT([yes]); $1="$$1 $2"],
    [AC_MSG_RESULT([no])])
  CFLAGS=$kw_save_cflags
  LDFLAGS=$kw_save_ldflags
])

AC_DEFUN([KW_HARDENING], [
  KW_TRY_FLAG([KW_CFLAGS], [-fstack-protector-strong], [compile])
  KW_TRY_FLAG([KW_CFLAGS], [-fstack-clash-protection], [compile])
  KW_TRY_FLAG([KW_LDFLAGS], [-Wl,-z,relro], [link])
  KW_TRY_FLAG([KW_LDFLAGS], [-Wl,-z,now], [link])
  KW_TRY_FLAG([KW_LDFLAGS], [-Wl,-z,noexecstack], [link])
  AC_MSG_CHECKING([whether to define _FORTIFY_SOURCE=2])
  AS_IF([test "x$enable_sanitizers" = xyes], [kw_fortify="no (sanitizers)"],
    [AC_PREPROC_IFELSE([AC_LANG_SOURCE([[
#ifdef _FORTIFY_SOURCE
#error already defined
#endif
]])],
      [AS_CASE([" $CFLAGS "],
         [*" -O0 "*], [kw_fortify="no (-O0)"],
         [*" -O"*], [kw_fortify=yes],
         [kw_fortify="no (CFLAGS without -O)"])],
      [kw_fortify="no (already defined)"])])
  AS_IF([test "x$kw_fortify" = xyes], [KW_CPPFLAGS="$KW_CPPFLAGS -D_FORTIFY_SOURCE=2"])
  AC_MSG_RESULT([$kw_fortify])
])
