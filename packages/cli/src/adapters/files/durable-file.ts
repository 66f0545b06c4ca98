import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `file` with `content` atomically and durably: a temporary file beside it, fsync,
 * rename, then fsync of the folder (the rename itself is durable only then). After a crash the
 * file holds the old content or the new, never half of either. For small state files (a
 * position, a checkpoint); the folder must exist.
 */
export async function replaceFileDurably(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const folder = await open(dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
