export * from './distribution';
export * from './entropy';
export * from './movingAverage';
export * from './percentile';
