export { seedFiles, defaultNetworkConfig, buildSeedIso, type SeedFiles, type BuildSeedOptions } from './seed.js';
