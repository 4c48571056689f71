export { QmpClient } from './client.js';
export { GuestAgentClient, type AgentCallOptions } from './agent.js';
export { JsonLineDecoder, encodeMessage, MAX_LINE_BYTES, type Decoded } from './framing.js';
export type { QmpEvent, QmpTimestamp, QemuVersion, CallOptions, ConnectOptions, CloseInfo } from './types.js';
export { connectUnix } from './socket.js';
