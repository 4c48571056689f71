/**
 * POST /v1/specs/validate: a dry run of `POST /v1/vms`. Answers 200 with the
 * problems a create would list (the same codes and messages, field by
 * field), so a form can show them as the user types; nothing is created or
 * written. Checked, in the create's order: the spec itself (SPEC_INVALID,
 * SPEC_VERSION_UNSUPPORTED), the name is free (VM_EXISTS), host paths inside
 * the folders the role may use (PATH_NOT_ALLOWED; admins pass), and only when
 * those pass, that the files it names exist (FILE_NOT_FOUND), so no one
 * learns about files outside their folders. Same permission as a create.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkBootFiles, type VmService } from '../../lifecycle/index.js';
import { isPolyvisorError, PolyvisorError } from '../../shared/index.js';
import { SPEC_CHECK_CODES, validateSpec, type SpecCheckCode, type SpecCheckView, type SpecProblem, type VmSpec } from '../../spec/index.js';
import { checkDiskSources, type SpecPathPolicy } from '../../storage/index.js';
import { bodyOf } from '../validate.js';
import { specCheckSchema } from '../schemas/index.js';

const checkBody = z.object({ spec: z.unknown().describe('a VM spec as POST /v1/vms takes it (any document: what is wrong with it is the answer)') }).strict();

interface Detail { field?: unknown; message?: unknown; disk?: unknown; path?: unknown; problem?: unknown }

/** A catalogue error a create would answer, as problems; other errors are not the spec's and go on up. */
export function problemsOfError(err: unknown, spec?: VmSpec): SpecProblem[] {
  if (!isPolyvisorError(err) || !(SPEC_CHECK_CODES as readonly string[]).includes(err.code)) throw err;
  const code = err.code as SpecCheckCode;
  const details = Array.isArray(err.details) ? (err.details as Detail[]) : [];
  if (details.length === 0) return [{ field: fieldOfMessage(err.message), message: err.message, code }];
  return details.map((d) => {
    if (typeof d.disk === 'string') { // checkDiskSources: { disk, path, problem }
      const i = spec?.disks.findIndex((x) => x.name === d.disk) ?? -1;
      return { field: i >= 0 ? `disks.${i}.path` : 'disks', message: `disk ${d.disk}: ${String(d.path)} ${String(d.problem)}`, code };
    }
    // The path rules name fields as disks[0].path, the spec's own problems as disks.0.path: one spelling here.
    return { field: String(d.field ?? '(root)').replace(/\[(\d+)\]/g, '.$1'), message: String(d.message ?? err.message), code };
  });
}

/** `boot.kernel /x does not exist…` names its field first; other messages are about the whole spec. */
const fieldOfMessage = (m: string): string => /^(boot\.(?:kernel|initrd)|name|version) /.exec(m)?.[1] ?? '(root)';

/** Runs one check; its refusal becomes problems. */
async function collect(problems: SpecProblem[], check: () => Promise<unknown> | unknown, spec?: VmSpec): Promise<void> {
  try {
    await check();
  } catch (err) {
    problems.push(...problemsOfError(err, spec));
  }
}

export interface SpecCheckDeps {
  service: Pick<VmService, 'find'>;
  /** The path rules of the create route (absent: no path rules, as the create). */
  pathPolicy?: Pick<SpecPathPolicy, 'check'> | undefined;
}

export async function checkSpec(doc: unknown, who: { admin: boolean }, deps: SpecCheckDeps): Promise<SpecCheckView> {
  const problems: SpecProblem[] = [];
  let spec: VmSpec | null = null;
  await collect(problems, () => (spec = validateSpec(doc)));
  if (spec === null) return { valid: false, problems, spec };
  const s: VmSpec = spec;
  await collect(problems, async () => {
    if (await deps.service.find(s.name)) {
      throw new PolyvisorError('VM_EXISTS', `a VM named ${s.name} already exists`, { details: [{ field: 'name', message: `a VM named ${s.name} already exists` }] });
    }
  });
  const before = problems.length;
  if (deps.pathPolicy) await collect(problems, () => deps.pathPolicy!.check(doc, { admin: who.admin, vmName: s.name }));
  if (problems.length === before) {
    await collect(problems, () => checkDiskSources(s), s);
    await collect(problems, () => checkBootFiles(s), s);
  }
  return { valid: problems.length === 0, problems, spec };
}

export function specCheckRoutes(app: FastifyInstance, deps: SpecCheckDeps): void {
  app.post('/v1/specs/validate', {
    config: {
      permission: 'vm:write',
      doc: {
        summary: 'Check a VM spec as a create would, without creating anything (a dry run of POST /v1/vms)',
        tags: ['vms'],
        body: checkBody,
        response: { status: 200, description: 'valid, or the problems a create would list; the spec with defaults once it parses', schema: specCheckSchema },
      },
    },
  }, async (req: FastifyRequest) => {
    const body = bodyOf<z.infer<typeof checkBody>>(req);
    return checkSpec(body.spec, { admin: req.principal?.role === 'admin' }, deps);
  });
}
