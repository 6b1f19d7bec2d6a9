import type { Page } from '@playwright/test';

/**
 * Record the page thread's long tasks (over 50 ms: PerformanceObserver 'longtask') from now on. The
 * returned function reads their durations in ms; entries are delivered after a task ends, so it reads
 * a frame and a task later, when every finished task has been queued.
 */
export async function watchLongTasks(page: Page): Promise<() => Promise<number[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { __long: number[] };
    w.__long = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__long.push(e.duration))).observe({
      type: 'longtask',
      buffered: false,
    });
  });
  return () =>
    page.evaluate(
      () =>
        new Promise<number[]>((resolve) =>
          requestAnimationFrame(() => setTimeout(() => resolve((window as unknown as { __long: number[] }).__long))),
        ),
    );
}
