#!/usr/bin/env bash
# compat_build_old.sh REV - prints the path of a lienthong binary built from
# commit REV of the repository at LT_SRC, building it once into a cache
# directory (LT_COMPAT_CACHE, default ~/.cache/lienthong-compat/REV) with
# ccache when installed. The web UI's node_modules are those of LT_SRC.
set -eu
REV=${1:?usage: compat_build_old.sh REV}
SRC=${LT_SRC:?LT_SRC must point at the source tree}
CACHE=${LT_COMPAT_CACHE:-${HOME:-/tmp}/.cache/lienthong-compat}/$REV
BIN=$CACHE/build/lienthong
if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
fi
if ! git -C "$SRC" cat-file -e "$REV^{commit}" 2>/dev/null; then
    echo "compat_build_old: commit $REV is not in $SRC; fetch the full history (git fetch --unshallow)" >&2
    exit 1
fi
rm -rf "$CACHE/src" "$CACHE/build"
mkdir -p "$CACHE/src"
git -C "$SRC" archive "$REV" | tar -x -C "$CACHE/src"
ln -s "$(readlink -f "$SRC/web/node_modules")" "$CACHE/src/web/node_modules"
launcher=
command -v ccache >/dev/null && launcher=-DCMAKE_C_COMPILER_LAUNCHER=ccache
# Relative paths in the compiler's view let ccache reuse the objects of a
# build of the same sources elsewhere.
export CCACHE_BASEDIR=$CACHE/src CCACHE_NOHASHDIR=1
cmake -S "$CACHE/src" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo $launcher >"$CACHE/build.log" 2>&1 &&
    cmake --build "$CACHE/build" --target lienthong -j "$(nproc)" >>"$CACHE/build.log" 2>&1 || {
    echo "compat_build_old: building $REV failed; see $CACHE/build.log" >&2
    exit 1
}
echo "$BIN"
