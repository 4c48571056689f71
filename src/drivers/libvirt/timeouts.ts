/** How long one virsh call may take unless told otherwise (a list, a dumpxml, a start). */
export const VIRSH_TIMEOUT_MS = 60_000;
/** Long work: migration, managed save, snapshots with RAM, disk copies. */
export const LONG_TIMEOUT_MS = 30 * 60_000;
