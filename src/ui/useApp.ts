/**
 * The page's store as React sees it. Components read the store given by the nearest `AppStoreProvider`
 * (the page's own, wired to the worker, when there is none), so a test renders any component against a
 * store it made itself.
 */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { appStore } from '../state/appStore';
import type { AppStore, AppState } from '../state/store';

const AppStoreContext = createContext<AppStore>(appStore);

/** Renders `children` against `store` instead of the page's. */
export function AppStoreProvider({ store, children }: { store: AppStore; children?: ReactNode }) {
  return createElement(AppStoreContext.Provider, { value: store }, children);
}

/** The store this component renders against: call its actions through `getState()` in handlers. */
export function useAppStore(): AppStore {
  return useContext(AppStoreContext);
}

/** Select a slice of the store. */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useAppStore(), selector);
}
