// SymmetryRows: symmetric against asymmetric on the range in use, as code bars with wasted codes and SQNR.
import type { codeUsage, histogramRangeError } from '../core/methods';
import { formatDb } from './format';

function CodeBar({ usage, testId }: { usage: ReturnType<typeof codeUsage>; testId: string }) {
  const span = usage.qmax - usage.qmin || 1;
  const left = ((usage.usedLow - usage.qmin) / span) * 100;
  const width = Math.max(0.5, ((usage.usedHigh - usage.usedLow) / span) * 100);
  return (
    <div
      className="codebar"
      data-testid={testId}
      title={`codes ${usage.usedLow}…${usage.usedHigh} of ${usage.qmin}…${usage.qmax}`}
    >
      <div className="used" style={{ left: `${left}%`, width: `${width}%` }} />
      <span className="lo">{usage.qmin}</span>
      <span className="hi">{usage.qmax}</span>
    </div>
  );
}

export function SymmetryRows({
  usage,
}: {
  usage: (symmetric: boolean) => {
    usage: ReturnType<typeof codeUsage>;
    error: ReturnType<typeof histogramRangeError>;
  } | null;
}) {
  return (
    <div className="symmetry" data-testid="symmetry">
      <h4>Symmetric vs asymmetric, on this range</h4>
      {([false, true] as const).map((sym) => {
        const u = usage(sym)!;
        return (
          <div key={String(sym)} className="symmetry-row" data-testid={sym ? 'symmetric-row' : 'asymmetric-row'}>
            <span className="what">{sym ? 'symmetric' : 'asymmetric'}</span>
            <CodeBar usage={u.usage} testId={sym ? 'codes-symmetric' : 'codes-asymmetric'} />
            <span>
              codes {u.usage.usedLow}…{u.usage.usedHigh}:{' '}
              <b data-testid={sym ? 'wasted-symmetric' : 'wasted-asymmetric'}>{u.usage.wasted}</b> of {u.usage.total}{' '}
              wasted · SQNR {formatDb(u.error.sqnrDb)} dB
            </span>
          </div>
        );
      })}
    </div>
  );
}
