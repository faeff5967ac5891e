export OVS_RUNDIR=/work/main/_sandbox OVS_LOGDIR=/work/main/_sandbox OVS_DBDIR=/work/main/_sandbox OVS_SYSCONFDIR=/work/main/_sandbox
export PATH=/work/main/_build/ovs/utilities:/work/main/_build/ovs/vswitchd:/work/main/_build/ovs/ovsdb:$PATH
