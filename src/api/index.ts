export { buildApi, type ApiOptions, type ApiLimits } from './app.js';
export { createApiPlatform, type ApiPlatform, type PlatformOptions } from './platform.js';
export { PERMISSIONS, ROLE_PERMISSIONS, roleAllows, rolesWith, type Permission } from './auth/permissions.js';
export { openApiDocument, type RegisteredRoute } from './openapi.js';
export type { DoctorRunner } from './routes/doctor.js';
export type { SecretsService } from './routes/secrets.js';
export { TokenService } from './auth/tokens.js';
export {
  FORWARDED_BY_HEADER, ON_BEHALF_OF_HEADER, HANDLED_BY_HEADER,
  type OwnerForwarder, type OwnerAddress, type ForwardedRequest, type ForwardedAnswer,
} from './owner-forward.js';
export type { ForwardedIdentityOptions } from './auth/forwarded-identity.js';
export type { ClusterMoveTargets } from './migration-target.js';
