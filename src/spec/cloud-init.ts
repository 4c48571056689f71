/** The spec's optional `cloudInit` section: a NoCloud seed attached as a CD-ROM at start. Pure. */
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from '../shared/index.js';

/** The seed CD's disk name (and the ISO volume label NoCloud looks for). */
export const CLOUD_INIT_DISK = 'cidata';
/** The seed ISO's file name in the VM's runtime directory (lifecycle builds it, the driver attaches it). */
export const CLOUD_INIT_SEED_FILE = 'cidata.iso';

const text = (what: string) => z.string().max(65536, `${what} is at most 64 KiB`);

export const cloudInitSchema = z
  .object({
    hostname: z.string().regex(NAME_PATTERN, NAME_RULE).optional().describe('local-hostname in meta-data (default: the VM name)'),
    instanceId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, . _ - (max 128)').optional()
      .describe('instance-id in meta-data (default: the VM id; change it to make cloud-init run again)'),
    userData: text('userData').optional().describe('user-data as given (#cloud-config, a shell script…); default: a #cloud-config with the hostname and sshAuthorizedKeys'),
    sshAuthorizedKeys: z.array(z.string().max(8192).regex(/^[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\n\r]*)?$/, 'an OpenSSH public key line')).max(32).default([]),
    networkConfig: text('networkConfig').optional().describe('network-config (v2 YAML); default: DHCP on each NIC, matched by its MAC (version 1)'),
  })
  .strict();

export type CloudInitSpec = z.output<typeof cloudInitSchema>;
