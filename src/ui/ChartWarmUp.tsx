// ChartWarmUp: mounts one tiny recharts chart off screen while the page is idle, to pay recharts' one-time set-up cost early.
import { useLayoutEffect, useState } from 'react';
import { Area, AreaChart, CartesianGrid, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';

/**
 * Mounting the first recharts chart costs ~80 ms of one-time work (module set-up, first JIT of its
 * code paths). The app does that once while the page is idle, off screen, so the first real
 * histogram (which appears the moment calibration ends) does not block the page.
 */
export function ChartWarmUp() {
  const [done, setDone] = useState(false);
  useLayoutEffect(() => {
    const id = setTimeout(() => setDone(true), 1500);
    return () => clearTimeout(id);
  }, []);
  if (done) return null;
  return (
    <div
      aria-hidden="true"
      style={{ position: 'absolute', left: -10000, top: 0, width: 400, height: 200, overflow: 'hidden' }}
    >
      <AreaChart
        width={400}
        height={200}
        data={[
          { x: 0, count: 1 },
          { x: 1, count: 2 },
        ]}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="x" type="number" domain={[0, 1]} />
        <YAxis />
        <Tooltip />
        <Area type="stepAfter" dataKey="count" isAnimationActive={false} />
        <ReferenceLine x={0.5} label={{ value: 'x', position: 'insideTopLeft' }} />
      </AreaChart>
    </div>
  );
}
