/**
 * Lab state in the URL: every control reads and writes a query parameter, so a teacher can share a
 * link to a lesson exactly as they set it up. `embed=1` hides the lab's navigation and the controls.
 */
import { useCallback, useState } from 'react';

function params(): URLSearchParams {
  return new URLSearchParams(window.location.search);
}

export function isEmbedded(): boolean {
  return params().get('embed') === '1';
}

/** A number parameter; values outside [min, max] or unparsable fall back to the default (or clamp). */
export function useNumberParam(
  key: string,
  fallback: number,
  min = -Infinity,
  max = Infinity,
): [number, (v: number) => void] {
  const read = () => {
    const raw = params().get(key);
    const v = raw === null || raw.trim() === '' ? NaN : Number(raw);
    return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
  };
  return useParam(key, read, (v) => String(v));
}

export function useChoiceParam<T extends string>(key: string, choices: readonly T[], fallback: T): [T, (v: T) => void] {
  const read = () => {
    const raw = params().get(key) as T | null;
    return raw !== null && choices.includes(raw) ? raw : fallback;
  };
  return useParam(key, read, (v) => v);
}

export function useBoolParam(key: string, fallback: boolean): [boolean, (v: boolean) => void] {
  const read = () => {
    const raw = params().get(key);
    return raw === null ? fallback : raw === '1';
  };
  return useParam(key, read, (v) => (v ? '1' : '0'));
}

export function useStringParam(key: string, fallback: string): [string, (v: string) => void] {
  return useParam(
    key,
    () => params().get(key) ?? fallback,
    (v) => v,
  );
}

function useParam<T>(key: string, read: () => T, write: (v: T) => string): [T, (v: T) => void] {
  const [value, setValue] = useState<T>(read);
  const set = useCallback(
    (v: T) => {
      setValue(v);
      const p = params();
      p.set(key, write(v));
      window.history.replaceState(null, '', `${window.location.pathname}?${p.toString()}`);
    },
    [key], // `write` is a pure formatter: the key alone identifies the parameter
  );
  return [value, set];
}
