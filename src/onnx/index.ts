export * from './calibrationModel';
export * from './codec';
export * from './inspect';
export * from './plan';
export * from './prepare';
export * from './proto';
export * from './qdq';
export * from './tensor';
