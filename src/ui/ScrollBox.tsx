/**
 * A box that scrolls a table in both directions inside the side panel (a table wider than the panel),
 * its header row and first column kept in view, with a visible sign of what is out of view: a shadow
 * on the side with more columns (data-more-left / data-more-right, kept up to date as it scrolls or
 * resizes) and a line saying the table scrolls sideways. The page itself never scrolls horizontally for it.
 */
import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';

export function ScrollBox({ children, label }: { children: ReactNode; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [more, setMore] = useState({ left: false, right: false });
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const update = () => {
      const left = el.scrollLeft > 1;
      const right = el.scrollLeft + el.clientWidth < el.scrollWidth - 1;
      setMore((m) => (m.left === left && m.right === right ? m : { left, right }));
    };
    update();
    el.addEventListener('scroll', update, { passive: true });
    const ro = new ResizeObserver(update);
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => {
      el.removeEventListener('scroll', update);
      ro.disconnect();
    };
  }, []);
  return (
    <>
      {(more.left || more.right) && (
        <p className="muted small scroll-hint" data-testid="scroll-hint">
          {more.left ? '← ' : ''}more columns: scroll sideways{more.right ? ' →' : ''}
        </p>
      )}
      <div className="scroll-box" data-more-left={more.left} data-more-right={more.right}>
        {/* focusable, so that the keyboard scrolls it too */}
        <div className="scroll-box-inner" ref={box} tabIndex={0} role="region" aria-label={label}>
          {children}
        </div>
      </div>
    </>
  );
}
