export { SecretStore, SECRETS_FILE, SECRETS_KEY_FILE, SECRET_MAX_BYTES, type SecretInfo, type SecretStoreOptions } from './secret-store.js';
