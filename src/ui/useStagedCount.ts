import { startTransition, useEffect, useState } from 'react';

/**
 * How many of `stages` to show: 1 at mount, then one more after each commit, each in a task of its
 * own (a timeout after the commit, rendered as a transition so React yields within it), so a view
 * too large for one task (the side panel's cards as a model arrives) reaches the page in slices.
 * Tests wait for what they need to appear (Playwright's locators), so the slices need no ordering.
 */
export function useStagedCount(stages: number): number {
  const [shown, setShown] = useState(1);
  useEffect(() => {
    if (shown >= stages) return;
    const id = setTimeout(() => startTransition(() => setShown((n) => n + 1)), 0);
    return () => clearTimeout(id);
  }, [shown, stages]);
  return shown;
}

/**
 * Whether a task has passed since `key` last changed: false in the commit that brings a new key, true
 * from the next task on (a transition, so React yields within it). A heavy part of a view (the
 * explorer's chart when fresh statistics arrive) mounts a task after the rest, so neither task is long.
 */
export function useAfterATask(key: unknown): boolean {
  const [ready, setReady] = useState<{ key: unknown } | null>(null);
  useEffect(() => {
    const id = setTimeout(() => startTransition(() => setReady({ key })), 0);
    return () => clearTimeout(id);
  }, [key]);
  return ready?.key === key;
}
