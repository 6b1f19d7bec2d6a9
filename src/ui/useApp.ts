import { useStore } from 'zustand';
import { appStore } from '../state/appStore';
import type { AppState } from '../state/store';

/** Select a slice of the page's store. */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(appStore, selector);
}

export { appStore };
