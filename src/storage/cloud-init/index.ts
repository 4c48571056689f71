export { seedFiles, buildSeedIso, type SeedFiles, type BuildSeedOptions } from './seed.js';
