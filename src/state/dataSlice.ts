import type { StateCreator } from 'zustand/vanilla';
import type { AppState, DataSlice } from './types';

export const createDataSlice: StateCreator<AppState, [], [], DataSlice> = (set) => ({
  samples: [],
  samplesLabel: '',
  setSamples(samples, label) {
    set({ samples, samplesLabel: label });
  },
});
