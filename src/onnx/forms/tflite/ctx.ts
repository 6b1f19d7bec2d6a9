/** The graph walk's context: shared state with the parameter, constant, fusion and reshape helpers built on it. */
import { makeConstants } from './constants';
import { makeQuant, type Base, type QuantCtx } from './context';
import { makeFusion } from './fusion';
import { makeReshape } from './reshape';

export type Ctx = QuantCtx &
  ReturnType<typeof makeConstants> &
  ReturnType<typeof makeFusion> &
  ReturnType<typeof makeReshape>;

export function makeCtx(base: Base): Ctx {
  const q: QuantCtx = { ...base, ...makeQuant(base) };
  return { ...q, ...makeConstants(q), ...makeFusion(base), ...makeReshape(q) };
}
