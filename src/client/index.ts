export { PolyvisorClient, type ClientOptions, type VmActionName } from './client.js';
export { request, decode, type Endpoint, type RawResponse } from './transport.js';
