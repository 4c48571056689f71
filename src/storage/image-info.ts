/** Typed views of `qemu-img info|check --output=json`. */
import { z } from 'zod';

export type ImageFormat = 'qcow2' | 'raw';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['qcow2', 'raw'];

export interface ImageInfo {
  /** Format qemu-img detected (or was told), e.g. "qcow2", "raw", "vmdk". */
  format: string;
  /** Size the guest sees, in bytes. */
  virtualSize: number;
  /** Bytes allocated on the host (absent for some protocols). */
  actualSize: number | undefined;
  /** Backing file as written in the image header. */
  backingFile: string | undefined;
  /** Backing file resolved to an absolute path by qemu-img. */
  fullBackingFile: string | undefined;
  backingFormat: string | undefined;
  /** Left set by a writer that did not close the image cleanly. */
  dirty: boolean;
  /** qcow2 only: the image is marked corrupt. */
  corrupt: boolean;
  encrypted: boolean;
  /** qcow2: how it is encrypted ("luks", or "aes" for the legacy scheme). */
  encryptFormat: string | undefined;
  clusterSize: number | undefined;
  /** vmdk: the files its extents read (a descriptor may name any host file). */
  extentFiles: string[];
}

const infoJson = z.looseObject({
  format: z.string(),
  'virtual-size': z.number().int().nonnegative(),
  'actual-size': z.number().int().nonnegative().optional(),
  'backing-filename': z.string().optional(),
  'full-backing-filename': z.string().optional(),
  'backing-filename-format': z.string().optional(),
  'dirty-flag': z.boolean().optional(),
  encrypted: z.boolean().optional(),
  'cluster-size': z.number().int().positive().optional(),
  'format-specific': z.looseObject({ data: z.looseObject({
    corrupt: z.boolean().optional(),
    encrypt: z.looseObject({ format: z.string().optional() }).optional(),
    extents: z.array(z.looseObject({ filename: z.string().optional() })).optional(),
  }).optional() }).optional(),
});

/** Parses the JSON qemu-img info prints; throws (a bug-level Error) if its shape is unexpected. */
export function parseImageInfo(stdout: string): ImageInfo {
  const j = infoJson.parse(JSON.parse(stdout));
  return {
    format: j.format,
    virtualSize: j['virtual-size'],
    actualSize: j['actual-size'],
    backingFile: j['backing-filename'],
    fullBackingFile: j['full-backing-filename'],
    backingFormat: j['backing-filename-format'],
    dirty: j['dirty-flag'] ?? false,
    corrupt: j['format-specific']?.data?.corrupt ?? false,
    encrypted: j.encrypted ?? false,
    encryptFormat: j['format-specific']?.data?.encrypt?.format,
    clusterSize: j['cluster-size'],
    extentFiles: (j['format-specific']?.data?.extents ?? []).flatMap((e) => (e.filename === undefined ? [] : [e.filename])),
  };
}

export interface ImageCheck {
  /** False when the format has no consistency check (raw): nothing was checked. */
  supported: boolean;
  /** No corruptions, leaks or check errors found (true when unsupported). */
  clean: boolean;
  corruptions: number;
  /** Clusters allocated but unused: wasted space, not data loss. */
  leaks: number;
  checkErrors: number;
  imageEndOffset: number | undefined;
}

const checkJson = z.looseObject({
  corruptions: z.number().int().nonnegative().optional(),
  leaks: z.number().int().nonnegative().optional(),
  'check-errors': z.number().int().nonnegative().optional(),
  'image-end-offset': z.number().int().nonnegative().optional(),
});

export function parseImageCheck(stdout: string): ImageCheck {
  const j = checkJson.parse(JSON.parse(stdout));
  const corruptions = j.corruptions ?? 0;
  const leaks = j.leaks ?? 0;
  const checkErrors = j['check-errors'] ?? 0;
  return {
    supported: true,
    clean: corruptions + leaks + checkErrors === 0,
    corruptions,
    leaks,
    checkErrors,
    imageEndOffset: j['image-end-offset'],
  };
}

export const UNCHECKABLE: ImageCheck = {
  supported: false,
  clean: true,
  corruptions: 0,
  leaks: 0,
  checkErrors: 0,
  imageEndOffset: undefined,
};
