/** GET /v1/doctor: the host's health checks, each finding with a severity and its fix command. */
import type { FastifyInstance } from 'fastify';
import type { DoctorReport } from '../../doctor/index.js';
import { doctorSchema } from '../schemas/index.js';

export type DoctorRunner = (signal: AbortSignal) => Promise<DoctorReport>;

export function doctorRoutes(app: FastifyInstance, doctor: DoctorRunner): void {
  app.get('/v1/doctor', {
    config: { permission: 'system:read', doc: { summary: 'Check QEMU, the accelerator, pools, the store, VM processes and files, clocks and known QEMU bugs', tags: ['system'], response: { status: 200, description: 'the findings, worst first', schema: doctorSchema } } },
  }, async () => doctor(AbortSignal.timeout(60_000)));
}
