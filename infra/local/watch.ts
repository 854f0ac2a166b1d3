import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';

/** How long the files must be quiet before a reload, in ms: an editor's save is several writes. */
const SETTLE_MS = 150;

/**
 * Calls `onChange` with the files (relative to `root`) that changed under `folders`, once they are
 * quiet; test files are left out (no handler imports them). A change made while `onChange` runs
 * is reported once it has finished, so loads never overlap.
 */
export function watchCode(
  root: string,
  folders: readonly string[],
  onChange: (changed: readonly string[]) => Promise<void>,
): { close(): void } {
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> | undefined;
  const fire = () => {
    timer = undefined;
    if (busy) {
      void busy.then(schedule);
      return;
    }
    const files = [...changed].sort();
    changed.clear();
    busy = onChange(files).finally(() => {
      busy = undefined;
    });
  };
  const schedule = () => {
    if (changed.size === 0) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, SETTLE_MS);
  };
  const watchers: FSWatcher[] = folders.map((folder) =>
    watch(join(root, folder), { recursive: true }, (_event, file) => {
      if (!file || !/\.(ts|mjs|json)$/.test(file) || /\.test\.ts$/.test(file)) return;
      changed.add(join(folder, file));
      schedule();
    }),
  );
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
