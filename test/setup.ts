/**
 * Property tests run from a fixed seed so CI is repeatable; set FC_SEED to explore other cases
 * (a failure prints its seed and path, which reproduce it).
 */
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261126), numRuns: 100 });
