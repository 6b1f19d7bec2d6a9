/**
 * The steps, load → data → calibrate → tune → export, each marked done, current or to do; a step
 * brings its panel into view in the side panel.
 */
import { useEffect, useRef } from 'react';
import { useApp } from './useApp';

type StepState = 'done' | 'current' | 'todo';

function go(id: string, behavior: ScrollBehavior = 'smooth'): void {
  document.getElementById(id)?.scrollIntoView({ block: 'start', behavior });
}

/**
 * Bring a step's panel into view only when it is not, asked of an IntersectionObserver: its answer
 * comes after the browser's own layout of the frame, so nothing forces a layout of the page just
 * rendered (a scrollIntoView in a requestAnimationFrame did: 48-87 ms on a loaded model's panels, the
 * page's longest task), and the scroll itself then finds the layout clean. Panels mounted a few frames
 * later (App's staged side panel) are waited for. Returns the cleanup.
 */
function scrollWhenOffScreen(id: string): () => void {
  let observer: IntersectionObserver | null = null;
  let timer = 0;
  const watch = () => {
    const el = document.getElementById(id);
    if (!el) {
      timer = window.setTimeout(watch, 50);
      return;
    }
    observer = new IntersectionObserver((entries) => {
      observer?.disconnect();
      const e = entries[entries.length - 1];
      // in view when its top is in the viewport, as `block: 'start'` would put it
      if (e && (!e.isIntersecting || e.boundingClientRect.top < 0 || e.boundingClientRect.top > innerHeight - 48))
        el.scrollIntoView({ block: 'start', behavior: 'auto' });
    });
    observer.observe(el);
  };
  watch();
  return () => {
    clearTimeout(timer);
    observer?.disconnect();
  };
}

export function Stepper() {
  const model = useApp((s) => s.model);
  const dataKind = useApp((s) => s.dataKind);
  const cal = useApp((s) => s.calibration);
  const exported = useApp((s) => s.exported);
  const form = useApp((s) => s.config.form?.kind ?? 'qdq');
  const tuned = useApp((s) => s.tuning.status === 'done' && s.tuning.forModel === s.model?.fileName);
  const calibrated = cal.status === 'done' && cal.statsFor === model?.fileName;
  const done = [
    model !== null,
    dataKind !== 'none',
    calibrated || form !== 'qdq',
    tuned || exported !== null, // tuned, or chosen by hand: what the export was built from
    exported !== null,
  ];
  const firstTodo = done.indexOf(false);
  // when a step is done, the side panel moves on to the next one
  const last = useRef(firstTodo);
  useEffect(() => {
    const before = last.current;
    last.current = firstTodo;
    const next = ['step-load', 'step-data', 'step-calibrate', 'step-tune', 'step-export'][firstTodo];
    if (before !== -1 && firstTodo > before && next) return scrollWhenOffScreen(next);
  }, [firstTodo]);
  const steps: { label: string; target: string }[] = [
    { label: 'Load', target: model ? 'step-model' : 'step-load' },
    { label: 'Data', target: 'step-data' },
    { label: 'Calibrate', target: 'step-calibrate' },
    { label: 'Tune', target: 'step-tune' },
    { label: 'Export', target: 'step-export' },
  ];
  return (
    <nav className="stepper" aria-label="Steps">
      <ol>
        {steps.map((s, i) => {
          const state: StepState = done[i] ? 'done' : i === firstTodo ? 'current' : 'todo';
          return (
            <li key={s.label} className={state} aria-current={state === 'current' ? 'step' : undefined}>
              <a
                href={`#${s.target}`}
                onClick={(e) => {
                  e.preventDefault();
                  go(s.target);
                  if (s.target === 'step-tune') document.getElementById('tune')?.focus(); // the action itself
                }}
                aria-label={`Step ${i + 1}: ${s.label.toLowerCase()}${state === 'done' ? ' (done)' : ''}`}
              >
                <span className="num">{state === 'done' ? '✓' : i + 1}</span> {s.label.toLowerCase()}
              </a>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
