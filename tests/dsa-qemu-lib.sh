# Shell functions of the real QEMU guests' system tests
# (tests/system-dsa-qemu.at), sourced by the testsuite.  Guests are QEMU
# (TCG) with the kernel and initramfs of utilities/ovs-dsa-guest-image, as
# vhost-user servers of dpdkvhostuserclient ports.  Files live in
# $OVS_RUNDIR: NAME.log (serial console), NAME.qemu.log (QEMU's own
# output), NAME.pid, NAME.qmp (QMP socket).

# Where the guest image is cached.
DSA_QEMU_IMAGE=${DSA_QEMU_IMAGE:-$DSA_BUILDDIR/qemu-guest}

# dsa_qemu_image
#
# Builds the guest image into $DSA_QEMU_IMAGE, or reuses it.
dsa_qemu_image () {
    bash "$abs_top_srcdir/utilities/ovs-dsa-guest-image" "$DSA_QEMU_IMAGE"
}

# dsa_qemu_start PREFIX NAME SOCKET MAC APPEND NETDEV-OPTS DEVICE-OPTS [ARG...]
#
# Starts guest NAME in the background: 256 MiB of guest memory in the
# hugepage file /dev/hugepages/PREFIX-qemu-NAME (shared, for vhost-user),
# a virtio-net-pci device (INTx: vectors=0, as QEMU 7.2's TCG crashes with
# MSI-X and vhost-user; mergeable rx buffers; no option ROM; MAC; the
# extra DEVICE-OPTS such as ",packed=on") on a vhost-user netdev (extra
# NETDEV-OPTS such as ",queues=2"), the server of $OVS_RUNDIR/SOCKET;
# the guest's kernel command line gets APPEND (dsa.* job settings) and
# QEMU the extra ARGs (e.g. -incoming).
dsa_qemu_start () {
    local prefix=$1 name=$2 sock=$3 mac=$4 append=$5 netdev=$6 device=$7
    shift 7
    rm -f "$OVS_RUNDIR/$sock" "$OVS_RUNDIR/$name.qmp"
    qemu-system-x86_64 -name "$name" -accel tcg -cpu max -m 256 \
        -object memory-backend-file,id=mem,size=256M,mem-path=/dev/hugepages/"$prefix-qemu-$name",share=on,prealloc=on \
        -numa node,memdev=mem \
        -chardev socket,id=c0,path="$OVS_RUNDIR/$sock",server=on,wait=off \
        -netdev vhost-user,id=n0,chardev=c0"$netdev" \
        -device virtio-net-pci,netdev=n0,vectors=0,mrg_rxbuf=on,romfile=,mac="$mac$device" \
        -nographic -serial file:"$OVS_RUNDIR/$name.log" -monitor none \
        -qmp unix:"$OVS_RUNDIR/$name.qmp",server=on,wait=off \
        -kernel "$DSA_QEMU_IMAGE/vmlinuz" -initrd "$DSA_QEMU_IMAGE/initramfs.gz" \
        -append "console=ttyS0 quiet ipv6.disable=1 $append" "$@" \
        > "$OVS_RUNDIR/$name.qemu.log" 2>&1 &
    echo $! > "$OVS_RUNDIR/$name.pid"
}

# dsa_qemu_kill PREFIX NAME [SIGNAL]
#
# Kills guest NAME (by its PID only) with SIGNAL (default KILL), waits for
# it to be gone and removes its hugepage file.
dsa_qemu_kill () {
    local pid n=0
    pid=$(cat "$OVS_RUNDIR/$2.pid" 2>/dev/null) || return 0
    kill -"${3:-KILL}" "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && test $n -lt 50; do
        sleep 0.1
        n=$((n + 1))
    done
    rm -f /dev/hugepages/"$1-qemu-$2"
}

# dsa_qemu_desc_pages NAME
#
# Prints the guest-physical page numbers (4 KiB) of the descriptor rings
# of guest NAME's virtio-net queues, as QEMU knows them (QMP
# x-query-virtio-queue-status, QEMU 7.0 and later), through dsa_qmp.
dsa_qemu_desc_pages () {
    local path q st
    for path in $(dsa_qmp "$1" x-query-virtio | python3 -c '
import json, sys
for dev in json.load(sys.stdin):
    if dev["name"] == "virtio-net":
        print(dev["path"])'); do
        q=0
        while st=$(dsa_qmp "$1" x-query-virtio-queue-status \
                       "{\"path\": \"$path\", \"queue\": $q}" 2>/dev/null); do
            echo "$st" | python3 -c '
import json, sys
st = json.load(sys.stdin)
if st["vring-desc"]:
    first = st["vring-desc"] >> 12
    last = (st["vring-desc"] + 16 * st["vring-num"] - 1) >> 12
    print("\n".join(str(p) for p in range(first, last + 1)))'
            q=$((q + 1))
        done
    done
}

# dsa_qmp NAME COMMAND [ARGUMENTS-JSON]
#
# Runs QMP COMMAND on guest NAME and prints its "return" value (JSON), or
# its error and fails.
dsa_qmp () {
    python3 - "$OVS_RUNDIR/$1.qmp" "$2" "${3:-}" <<'PYEOF'
import json, socket, sys
_, path, cmd, args = sys.argv
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(path)
f = s.makefile("rw")


def reply():
    while True:
        m = json.loads(f.readline())
        if "event" not in m:
            return m


reply()
for c, a in (("qmp_capabilities", {}), (cmd, json.loads(args or "{}"))):
    f.write(json.dumps({"execute": c, "arguments": a}) + "\n")
    f.flush()
    r = reply()
print(json.dumps(r.get("return", r)))
sys.exit("error" in r)
PYEOF
}

# dsa_qemu_lines NAME
#
# Prints the "DSA-GUEST: " lines of guest NAME's console, without the
# prefix and the console's carriage returns.
dsa_qemu_lines () {
    tr -d '\r' < "$OVS_RUNDIR/$1.log" | sed -n 's/^.*DSA-GUEST: //p'
}

# dsa_port_stat PORT rx|tx
#
# Prints how many packets port PORT of br0 received or sent, now (the
# Interface statistics in the database are refreshed only every 5 s).
dsa_port_stat () {
    local n
    n=$(ovs-ofctl dump-ports br0 "$1" 2>/dev/null \
        | sed -n "s/.*$2 pkts=\([0-9]*\),.*/\1/p")
    echo "${n:-0}"
}
