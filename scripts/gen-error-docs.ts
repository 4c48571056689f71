/** Regenerates docs/errors.md from the error catalogue. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderErrorDocs } from '../src/shared/index.js';

writeFileSync(path.join(import.meta.dirname, '..', 'docs', 'errors.md'), renderErrorDocs());
