export { EndpointService, type EndpointServiceOptions } from './endpoint-service.js';
export { EndpointStore, checkEndpointInput, type EndpointInput, type EndpointRecord, type EndpointSecrets } from './endpoint-store.js';
export { FOREIGN_ACTIONS, ACTION_CAPABILITY, isForeignAction, actionsFor, splitRef, checkForeignName, type ForeignAction } from './foreign-actions.js';
export { importForeignVm, diskName, type ImportRequest, type ImportResult, type SessionSource } from './import-vm.js';
export { localSession, localVm } from './local-session.js';
export { moveToEndpoint, type MoveOutRequest, type MoveOutResult } from './move-out.js';
