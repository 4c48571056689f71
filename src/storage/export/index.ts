export { exportImages, type ExportSource, type ExportedFile, type ExportProgress, type ExportOptions, type ExportResult } from './export.js';
