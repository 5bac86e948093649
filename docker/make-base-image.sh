#!/bin/sh
# make-base-image.sh: create a Debian bookworm base image in the local Docker
# engine without any registry, from Debian's package mirror.
#
#   docker/make-base-image.sh [options] [NAME]
#
# If the image NAME (default: debian:bookworm-slim, or divvy-build-base:bookworm
# with --build-deps) is already in the engine, do nothing. Otherwise run
#   debootstrap --variant=minbase bookworm <rootfs> <mirror>
# slim the tree the way the official -slim images are (no docs, man pages or
# locales; apt keeps no package cache), and `docker import` it.
#
# The mirror is the one this machine's apt uses for bookworm (deb822 *.sources
# files with URIs:/Suites:, or one-line "deb URI suite ..." entries); override it
# with --mirror URI or DIVVY_DEBIAN_MIRROR. The image's /etc/apt/sources.list is
# the one debootstrap writes ("deb <mirror> bookworm main"), so apt-get works in
# it wherever that mirror is reachable.
#
# Options:
#   --build-deps     also install the packages the Dockerfile's build stage
#                    needs (gcc, libc6-dev, meson, ninja-build, pkg-config,
#                    libczmq-dev, libzmq3-dev, libczmq4); for hosts whose
#                    containers cannot reach a mirror. With these the
#                    Dockerfile skips apt entirely:
#                      docker/make-base-image.sh --build-deps
#                      docker/make-base-image.sh --include libczmq4 divvy-run-base:bookworm
#                      docker build --build-arg BUILD_BASE=divvy-build-base:bookworm \
#                        --build-arg BASE=divvy-run-base:bookworm -t divvy:latest .
#   --include PKGS   extra packages, comma-separated (added to the above)
#   --mirror URI     Debian mirror to bootstrap from
#   --force          re-import even if NAME exists (the cache is still used)
#   --refresh        ignore the cached root filesystem and bootstrap again
#   -h, --help       this text
#
# Cache: ${DIVVY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/divvy} holds the
# downloaded .debs (debootstrap --cache-dir) and one rootfs tarball per
# (mirror, package set), so a rerun after `docker rmi` only re-imports.
# Needs root (debootstrap), docker, debootstrap, tar. Logs go to stderr.
set -eu

SUITE=bookworm
VARIANT=minbase
# Keep in sync with the package lists in the Dockerfile.
BUILD_DEPS=gcc,libc6-dev,meson,ninja-build,pkg-config,libczmq-dev,libzmq3-dev,libczmq4,libmicrohttpd-dev,libmicrohttpd12

prog=${0##*/}
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0"; }

name= include= mirror=${DIVVY_DEBIAN_MIRROR:-} force=0 refresh=0 build_deps=0
while [ $# -gt 0 ]; do
    case $1 in
        --build-deps) build_deps=1 ;;
        --include) [ $# -ge 2 ] || die "--include needs a value"; include=${include:+$include,}$2; shift ;;
        --include=*) include=${include:+$include,}${1#*=} ;;
        --mirror) [ $# -ge 2 ] || die "--mirror needs a value"; mirror=$2; shift ;;
        --mirror=*) mirror=${1#*=} ;;
        --force) force=1 ;;
        --refresh) refresh=1 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option '$1' (try --help)" ;;
        *) [ -z "$name" ] || die "only one image name, got '$name' and '$1'"; name=$1 ;;
    esac
    shift
done
if [ $# -gt 0 ]; then
    [ -z "$name" ] && [ $# -eq 1 ] || die "only one image name"
    name=$1
fi
if [ "$build_deps" = 1 ]; then
    include=$BUILD_DEPS${include:+,$include}
    : "${name:=divvy-build-base:$SUITE}"
fi
: "${name:=debian:$SUITE-slim}"

command -v docker >/dev/null 2>&1 || die "docker not found in PATH"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
    || die "cannot talk to the Docker engine (is it running, may this user use it?)"

if [ "$force" = 0 ] && docker image inspect "$name" >/dev/null 2>&1; then
    log "image $name already present, nothing to do"
    exit 0
fi

# --- which mirror ----------------------------------------------------------
# Print "URI" for each apt source entry of type deb whose suite is $SUITE.
apt_mirrors() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        # deb [ options ] URI suite component...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
            awk -v s="$SUITE" '$1 == "deb" && $3 == s { print $2 }'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # deb822 stanzas separated by blank lines; fields may be continued on
        # indented lines; Enabled: no disables a stanza.
        awk -v s="$SUITE" '
            function flush(   n, i, u, t, ok) {
                if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " s " ")) {
                    n = split(uris, u, /[ \t]+/)
                    for (i = 1; i <= n; i++) if (u[i] != "") print u[i]
                }
                types = uris = suites = ""; enabled = ""; last = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { if (last == "uris") uris = uris " " $0
                       else if (last == "suites") suites = suites " " $0
                       else if (last == "types") types = types " " $0
                       next }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                last = key
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { flush() }' "$f"
    done
}
if [ -z "$mirror" ]; then
    mirror=$(apt_mirrors | head -n 1)
    [ -n "$mirror" ] || die "no 'deb' source for suite $SUITE in /etc/apt/sources.list{,.d/*.list,.d/*.sources}; pass --mirror URI"
    log "mirror from this machine's apt sources: $mirror"
else
    log "mirror: $mirror"
fi
case $mirror in
    http://*|https://*|file:///*) ;;
    *) die "unsupported mirror URI '$mirror' (need http://, https:// or file:///)" ;;
esac

# --- cache -------------------------------------------------------------------
cache=${DIVVY_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?}/.cache}/divvy}
mkdir -p "$cache/debs" || die "cannot create cache directory $cache"
cache=$(cd "$cache" && pwd)   # debootstrap --cache-dir wants an absolute path
key=$(printf '%s\n' "$SUITE" "$VARIANT" "$mirror" "$include" "slim-1" | sha256sum | cut -c1-12)
tarball=$cache/$SUITE-$VARIANT${include:+-plus}-$key.tar

if [ "$refresh" = 1 ] || [ ! -s "$tarball" ]; then
    [ "$(id -u)" = 0 ] || die "debootstrap needs root; run as root (or with sudo)"
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (apt-get install debootstrap)"

    work=$(mktemp -d "${TMPDIR:-/var/tmp}/divvy-rootfs.XXXXXX") || die "mktemp failed"
    cleanup() {
        # debootstrap mounts proc/sys inside the target; a failed run may leave
        # them mounted, so unmount before deleting anything.
        awk -v d="$work/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf --one-file-system "$work"
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    rootfs=$work/rootfs

    log "debootstrap --variant=$VARIANT${include:+ --include=$include} $SUITE (log: $work/debootstrap.out)"
    start=$(date +%s)
    if ! debootstrap --variant="$VARIANT" ${include:+--include="$include"} \
            --cache-dir="$cache/debs" "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.out" 2>&1; then
        tail -n 20 "$work/debootstrap.out" >&2
        [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 20 "$rootfs/debootstrap/debootstrap.log" >&2
        die "debootstrap failed (see above)"
    fi
    log "debootstrap done in $(( $(date +%s) - start )) s"

    grep -q '^deb ' "$rootfs/etc/apt/sources.list" 2>/dev/null \
        || die "debootstrap wrote no apt sources list in the image"

    log "slimming the root filesystem (docs, man pages, locales, apt caches)"
    # What the official debian:*-slim images do: keep dpkg from installing
    # docs and translations later, and drop those already there.
    mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d" "$rootfs/etc/apt/apt.conf.d"
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
# Made by divvy's docker/make-base-image.sh (like debian:*-slim images)
force-unsafe-io
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
// Made by divvy's docker/make-base-image.sh (like the official Debian images)
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
APT::AutoRemove::SuggestsImportant "false";
APT::Install-Recommends "false";
CFG
    find "$rootfs/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete 2>/dev/null || true
    find "$rootfs/usr/share/doc" -mindepth 1 -depth -type d -empty -delete 2>/dev/null || true
    for d in man info groff lintian linda; do
        rm -rf "$rootfs/usr/share/$d" && mkdir -p "$rootfs/usr/share/$d"
    done
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/archives/partial/* \
        "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs/debootstrap" 2>/dev/null || true
    # An image gets its hostname and resolver from the engine.
    : >"$rootfs/etc/hostname"
    rm -f "$rootfs/etc/resolv.conf"

    log "writing $tarball"
    tar --numeric-owner --xattrs --acls -C "$rootfs" -cf "$tarball.$$.tmp" . \
        || { rm -f "$tarball.$$.tmp"; die "tar of the root filesystem failed"; }
    mv -f "$tarball.$$.tmp" "$tarball"
    cleanup
    trap - EXIT INT TERM
else
    log "using cached root filesystem $tarball"
fi

log "docker import -> $name ($(du -h "$tarball" | cut -f1) tarball)"
start=$(date +%s)
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=$VARIANT${include:+ --include=$include} $SUITE (divvy docker/make-base-image.sh)" \
    "$tarball" "$name" >/dev/null || die "docker import of $tarball as $name failed"
log "imported $name in $(( $(date +%s) - start )) s: $(docker image inspect --format '{{.Id}} {{.Size}} bytes' "$name")"
