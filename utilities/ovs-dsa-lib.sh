# Shell functions shared by ovs-dsa-deps, ovs-dsa-check, ovs-dsa-sandbox,
# ovs-dsa-root, ovs-dsa-package-test and ovs-dsa-bench (lib_call), with the
# bring-up functions of ovs-dsa-env.sh.  Sourced, not run.

# The source tree (parent of utilities/) and the build tree.
DSA_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DSA_BUILDDIR=${DSA_BUILDDIR:-$DSA_SRCDIR/_build}

# How an instance is brought up (ovsdb-server, ovs-vswitchd, guests, ports).
. "$DSA_SRCDIR/utilities/ovs-dsa-env.sh"

# The Debian release this runs on (bookworm = Debian 12, trixie = Debian
# 13) and its DPDK ABI, the suffix of the librte-* package names.
DSA_RELEASE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
case $DSA_RELEASE in
    bookworm) DSA_DPDK_ABI=23 ;;
    trixie) DSA_DPDK_ABI=25 ;;
    *) DSA_DPDK_ABI= ;;
esac

# Debian packages needed to build, test and run.
DSA_DEB_PACKAGES="build-essential autoconf automake libtool pkg-config patch
python3 openvswitch-source libdpdk-dev librte-dma-skeleton$DSA_DPDK_ABI
librte-dma-idxd$DSA_DPDK_ABI librte-vhost$DSA_DPDK_ABI
librte-net-virtio$DSA_DPDK_ABI librte-net-vhost$DSA_DPDK_ABI libcap-ng-dev
libssl-dev libnuma-dev libunbound-dev libunwind-dev iproute2 procps
util-linux clang"

# Debian packages of the real QEMU guests' system tests
# (tests/system-dsa-qemu.at, utilities/ovs-dsa-guest-image), installed
# without their recommendations (QEMU's would bring a desktop's worth).
DSA_DEB_PACKAGES_NORECOMMENDS="qemu-system-x86 busybox-static cpio ethtool
xz-utils"

dsa_log () {
    printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

dsa_die () {
    dsa_log "error: $*"
    exit 1
}

dsa_require_root () {
    test "$(id -u)" = 0 || dsa_die "run as root (DPDK needs hugepages and vfio/vhost access)"
}

# Installs the Debian packages that are missing.
dsa_install_deps () {
    local missing="" missing_norec="" p
    test -n "$DSA_DPDK_ABI" || dsa_die "unsupported system '${DSA_RELEASE:-unknown}': \
the scripts know Debian 12 (bookworm) and 13 (trixie); elsewhere, build by \
hand (README: Building by hand)"
    for p in $DSA_DEB_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
            || missing="$missing $p"
    done
    for p in $DSA_DEB_PACKAGES_NORECOMMENDS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
            || missing_norec="$missing_norec $p"
    done
    if test -n "$missing$missing_norec"; then
        dsa_require_root
        dsa_log "installing:$missing$missing_norec"
        apt-get update -qq || dsa_die "apt-get update failed"
    fi
    if test -n "$missing"; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing \
            >/dev/null || dsa_die "apt-get install failed"
    fi
    if test -n "$missing_norec"; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends $missing_norec >/dev/null \
            || dsa_die "apt-get install failed"
    fi
}

# Configures (once, with $DSA_CONFIGURE_FLAGS) and builds ovs-dsa and the patched Open vSwitch.
dsa_build () {
    if test ! -x "$DSA_SRCDIR/configure"; then
        (cd "$DSA_SRCDIR" && ./boot.sh >/dev/null 2>&1) || dsa_die "boot.sh failed"
    fi
    mkdir -p "$DSA_BUILDDIR"
    if test ! -f "$DSA_BUILDDIR/Makefile"; then
        # shellcheck disable=SC2086
        (cd "$DSA_BUILDDIR" && "$DSA_SRCDIR/configure" --enable-Werror \
             ${DSA_CONFIGURE_FLAGS:-} >configure.log 2>&1) \
            || { tail -20 "$DSA_BUILDDIR/configure.log"; dsa_die "configure failed"; }
    fi
    dsa_log "building (Open vSwitch + extension; first build takes a few minutes)"
    make -C "$DSA_BUILDDIR" -j"$(nproc)" >"$DSA_BUILDDIR/make.log" 2>&1 \
        || { tail -30 "$DSA_BUILDDIR/make.log"; dsa_die "build failed"; }
}

# Makes sure hugetlbfs is mounted on /dev/hugepages and that at least $1
# 2 MiB hugepages are free, reserving more if needed (never fewer).
dsa_hugepages () {
    local want=$1 free total
    dsa_require_root
    if ! grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts; then
        mkdir -p /dev/hugepages
        mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages \
            || dsa_die "cannot mount hugetlbfs on /dev/hugepages"
    fi
    free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
    if test "$free" -lt "$want"; then
        total=$(cat /proc/sys/vm/nr_hugepages)
        echo $((total + want - free)) > /proc/sys/vm/nr_hugepages
        free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
        test "$free" -ge "$want" \
            || dsa_die "only $free free 2 MiB hugepages, $want needed"
        dsa_log "reserved 2 MiB hugepages: now $free free"
    fi
}
