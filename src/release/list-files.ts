import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** Every entry under `dir` that is not a directory, as "/"-separated relative paths, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) await walk(p);
      else found.push(p);
    }
  };
  await walk('');
  return found.sort();
}
