export { buildApi, type ApiOptions } from './app.js';
