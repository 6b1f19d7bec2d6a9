export * from './distribution';
export * from './entropy';
export * from './movingAverage';
export * from './mse';
export * from './percentile';
export * from './rangeError';
export * from './rangeMethod';
