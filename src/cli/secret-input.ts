/**
 * Reading secret values (secrets, API tokens) from standard input or a file,
 * never from argv, where `ps` and shell history would show them.
 */
import { readFile } from 'node:fs/promises';
import { fail } from '../shared/index.js';

/** Everything on standard input; one trailing newline (as `echo` adds) is dropped. */
export async function readSecretFromStdin(what: string, stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<string> {
  if (stdin.isTTY) process.stderr.write(`Type the ${what}, then press Enter and Ctrl-D:\n`);
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return nonEmpty(dropNewline(Buffer.concat(chunks).toString('utf8')), what, 'standard input');
}

/** The file's content; one trailing newline is dropped for tokens (`trim`), kept as is for secrets. */
export async function readSecretFile(file: string, what: string, o: { trimNewline: boolean }): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    fail('FILE_NOT_FOUND', `cannot read the ${what} from ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  return nonEmpty(o.trimNewline ? dropNewline(text) : text, what, file);
}

const dropNewline = (s: string): string => s.replace(/\r?\n$/, '');

function nonEmpty(s: string, what: string, from: string): string {
  if (s.length === 0) fail('INVALID_ARGUMENT', `the ${what} from ${from} is empty`);
  return s;
}
