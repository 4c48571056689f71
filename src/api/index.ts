export { buildApi, type ApiOptions, type ApiLimits } from './app.js';
export { createApiPlatform, type ApiPlatform, type PlatformOptions } from './platform.js';
export { PERMISSIONS, ROLE_PERMISSIONS, roleAllows, rolesWith, type Permission } from './auth/permissions.js';
export { openApiDocument, type RegisteredRoute } from './openapi.js';
export type { DoctorRunner } from './routes/doctor.js';
export type { SecretsService } from './routes/secrets.js';
export { TokenService } from './auth/tokens.js';
