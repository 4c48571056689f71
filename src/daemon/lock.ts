import { open, readFile, unlink } from 'node:fs/promises';
import { fail, pidAlive, pidArgv } from '../shared/index.js';

/** Takes the state directory's pid lock; refuses if another live daemon holds it. */
export async function takeLock(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o644);
      await fh.writeFile(String(process.pid));
      await fh.sync();
      await fh.close();
      return async () => {
        const owner = await readFile(file, 'utf8').catch(() => '');
        if (owner.trim() === String(process.pid)) await unlink(file).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      const argv = pidAlive(pid) ? await pidArgv(pid) : undefined;
      if (argv && argv.join(' ').includes('polyvisord')) {
        fail('CONFIG_INVALID', `another polyvisord (pid ${pid}) uses this state directory`, {
          hint: 'Stop it, or give this daemon its own --state-dir.',
        });
      }
      await unlink(file).catch(() => undefined); // stale lock
    }
  }
  fail('CONFIG_INVALID', `cannot take the lock ${file}`);
}
