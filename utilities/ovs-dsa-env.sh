# ovs-dsa-env.sh: the one bring-up of an ovs-dsa instance on DPDK's
# software DMA engine (dma_skeleton), shared by
#   utilities/ovs-dsa-sandbox  (sources it through ovs-dsa-lib.sh),
#   tests/dsa-macros.at        (the testsuite sources it: DSA_START, ...),
#   utilities/ovs-dsa-bench    (calls these functions through lib_call).
# It owns the EAL arguments of the engines, the standard other_config
# settings, how ovsdb-server, ovs-vswitchd and the virtio-user guest
# (ovs-dsa-guest) are started, and the options of a vhost-user-client port.
# What differs between the three callers (socket limit, PMD mask, cores,
# extra settings, waiting and cleanup) comes in as arguments.
#
# Sourced, not run.  POSIX sh (no arrays): the testsuite's shell need not
# be bash.  The functions work on the instance in $OVS_RUNDIR (with
# $OVS_DBDIR and $OVS_LOGDIR, as Open vSwitch's programs use them), run
# Open vSwitch's programs from $PATH, and need $DSA_BUILDDIR (the build
# tree: ovs-dsa-lib.sh and the testsuite's atlocal set it).
#
# PREFIX, in all of them, is the instance's name: the DPDK --file-prefix of
# its ovs-vswitchd and the name of its network namespace; a guest NAME gets
# --file-prefix=PREFIX-NAME.

# The virtio-user guest program.
DSA_GUEST=${DSA_GUEST:-$DSA_BUILDDIR/utilities/ovs-dsa-guest}

# dsa_dpdk_extra PREFIX ENGINES
#
# Prints the EAL arguments of ovs-vswitchd (other_config:dpdk-extra): its
# own --file-prefix, DPDK's PMD logs at error level only, and the DMA
# engines: ENGINES is a number N of software engines (--no-pci and
# --vdev=dma_skeleton0 .. N-1; 0 for none), or a list of PCI addresses of
# real DSA functions (-a each, and PCI probing left on).
dsa_dpdk_extra () {
    local prefix=$1 engines=${2:-0} devs= vdevs= d i=0
    case $engines in
        *[!0-9]*)
            for d in $engines; do
                devs="$devs -a $d"
            done
            devs=${devs# }
            ;;
        *)
            devs=--no-pci
            while test "$i" -lt "$engines"; do
                vdevs="$vdevs --vdev=dma_skeleton$i"
                i=$((i + 1))
            done
            ;;
    esac
    printf '%s\n' "$devs --file-prefix=$prefix$vdevs --log-level=pmd.*:error"
}

# dsa_set_other_config PREFIX ENGINES SOCKET-LIMIT PMD-MASK [SETTING...]
#
# Writes the standard settings into the (already initialized) database,
# before ovs-vswitchd starts: DPDK on, with dsa_dpdk_extra PREFIX ENGINES,
# at most SOCKET-LIMIT MiB of hugepages per NUMA node, a mempool per port,
# PMD threads on PMD-MASK; then the extra ovs-vsctl SETTINGs (such as
# other_config:dsa-enable=true), which may override the standard ones.
dsa_set_other_config () {
    local prefix=$1 engines=$2 limit=$3 mask=$4
    shift 4
    ovs-vsctl --no-wait set Open_vSwitch . \
        other_config:dpdk-init=true \
        other_config:dpdk-extra="$(dsa_dpdk_extra "$prefix" "$engines")" \
        other_config:dpdk-socket-limit="$limit" \
        other_config:per-port-memory=true \
        other_config:pmd-cpu-mask="$mask" \
        "$@"
}

# dsa_start_ovsdb
#
# Creates $OVS_DBDIR/conf.db with the patched Open vSwitch's schema, starts
# ovsdb-server on it (detached; pidfile, log file and the unix socket
# $OVS_RUNDIR/db.sock, where ovs-vsctl and ovs-vswitchd look) and
# initializes the database.
dsa_start_ovsdb () {
    ovsdb-tool create "$OVS_DBDIR/conf.db" \
        "$DSA_BUILDDIR/ovs/vswitchd/vswitch.ovsschema" \
    && ovsdb-server --detach --no-chdir --pidfile --log-file \
        --remote=punix:"$OVS_RUNDIR/db.sock" "$OVS_DBDIR/conf.db" \
    && ovs-vsctl --no-wait init
}

# dsa_start_vswitchd PREFIX [OPTION...]
#
# Creates network namespace PREFIX (so that the netdev datapath's tap
# devices, ovs-netdev and br0, clash neither with other instances nor with
# the host's Open vSwitch) and starts ovs-vswitchd in it, detached, with
# pidfile and log file in $OVS_RUNDIR and the extra OPTIONs.  The program
# is $DSA_VSWITCHD if set (ovs-dsa-bench's stock build), else ovs-vswitchd
# from $PATH.  The caller waits for DPDK and deletes the namespace.
dsa_start_vswitchd () {
    local netns=$1
    shift
    ip netns add "$netns" \
    && ip netns exec "$netns" "${DSA_VSWITCHD:-ovs-vswitchd}" --detach \
        --no-chdir --pidfile --log-file "$@"
}

# dsa_guest_argv PREFIX NAME CORE SOCKET SERVER VDEV-ARGS [GUEST-ARG...]
#
# Prints the command line, one argument a line, of guest NAME: ovs-dsa-guest
# on lcore CORE, with --no-pci, --file-prefix=PREFIX-NAME, 64 MiB of
# hugepages in one file, and a virtio-user port on $OVS_RUNDIR/SOCKET, the
# vhost-user server of that socket if SERVER is 1 (for a
# dpdkvhostuserclient port), its client if 0, with the extra virtio-user
# VDEV-ARGS (e.g. queues=2; may be empty); then the GUEST-ARGs (--mode=rx,
# ...: see ovs-dsa-guest.c).  Its rings have 1024 descriptors unless
# VDEV-ARGS say otherwise (queue_size=N).
dsa_guest_argv () {
    local prefix=$1 name=$2 core=$3 sock=$4 server=$5 vdev=$6
    local qsize=queue_size=1024
    shift 6
    case ",$vdev," in
        *,queue_size=*) qsize= ;;
    esac
    printf '%s\n' "$DSA_GUEST" -l "$core" --no-pci \
        --file-prefix="$prefix-$name" -m 64 --single-file-segments \
        --log-level='pmd.*:error' \
        --vdev="net_virtio_user0,path=$OVS_RUNDIR/$sock,server=$server${qsize:+,$qsize}${vdev:+,$vdev}" \
        -- "$@"
}

# dsa_start_guest PREFIX NAME CORE SOCKET SERVER VDEV-ARGS [GUEST-ARG...]
#
# Starts guest NAME (dsa_guest_argv) in the background, its output in
# $OVS_RUNDIR/NAME.log and its PID in $OVS_RUNDIR/NAME.pid.  As a server it
# first removes SOCKET, which a guest that lost its peer may have left.
# The caller waits for the socket (server) and stops the guest.
dsa_start_guest () {
    local name=$2 sock=$4 server=$5
    test "$server" != 1 || rm -f "$OVS_RUNDIR/$sock"
    (
        IFS='
'
        set -f
        exec $(dsa_guest_argv "$@")
    ) > "$OVS_RUNDIR/$name.log" 2>&1 &
    echo $! > "$OVS_RUNDIR/$name.pid"
}

# dsa_add_vhost_port PORT SOCKET [MTU [SETTING...]]
#
# Adds dpdkvhostuserclient port PORT to bridge br0, the client of the
# guest's socket $OVS_RUNDIR/SOCKET, with mtu_request=MTU if MTU is not
# empty (set in the same command: Open vSwitch 3.1 ignores a later change
# while no guest is attached) and the extra Interface SETTINGs.  Waits for
# ovs-vswitchd to take the port, not for the guest.
dsa_add_vhost_port () {
    local port=$1 sock=$2 mtu=${3:-}
    shift 2
    test $# = 0 || shift
    ovs-vsctl add-port br0 "$port" -- set Interface "$port" \
        type=dpdkvhostuserclient ${mtu:+mtu_request=$mtu} \
        options:vhost-server-path="$OVS_RUNDIR/$sock" "$@"
}

# dsa_remove_dpdk_files PREFIX...
#
# Removes what DPDK processes with these --file-prefix values leave behind
# once they are gone: their hugepage files and runtime directory.
dsa_remove_dpdk_files () {
    local p
    for p in "$@"; do
        rm -f /dev/hugepages/"$p"map_*
        rm -rf /var/run/dpdk/"$p"
    done
}
