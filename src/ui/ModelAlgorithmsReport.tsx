import type { ExportResult } from '../state/types';

/**
 * After an export, what equalization, SmoothQuant and bias correction did: the pairs equalized and those
 * skipped with the reason, the inputs smoothed and where 1/s went, the biases corrected or left alone.
 */
export function ModelAlgorithmsReport({ exported }: { exported: ExportResult }) {
  const r = exported.algorithms;
  if (!r) return null;
  return (
    <details data-testid="algorithms-report">
      <summary>
        {[
          r.equalization && `${r.equalization.pairs.length} pairs equalized (${r.equalization.skipped.length} skipped)`,
          r.smoothquant && `${r.smoothquant.length} inputs smoothed`,
          r.biasCorrection && `${r.biasCorrection.length} biases corrected`,
        ]
          .filter(Boolean)
          .join('; ')}
      </summary>
      <ul className="log small">
        {r.equalization?.pairs.map((p) => (
          <li key={`eq-${p.first}`}>
            equalized {p.first} → {p.via || 'directly'} → {p.second} (channel ranges up to {p.maxRatioBefore.toFixed(1)}
            × apart before)
          </li>
        ))}
        {r.equalization?.skipped.map((p) => (
          <li key={`skip-${p.first}`} data-testid="equalize-skipped">
            skipped {p.first} → {p.second}: {p.reason}
          </li>
        ))}
        {r.smoothquant?.map((s) => (
          <li key={`sq-${s.input}`}>
            smoothed {s.input} → {s.nodes.join(', ')} (outliers {s.outlierRatio.toFixed(1)}× the median channel), 1/s
            folded into {s.foldedInto}
          </li>
        ))}
        {r.biasCorrection?.map((b) => (
          <li key={`bc-${b.node}`}>
            bias of {b.node} corrected (largest mean shift {b.maxShift.toExponential(2)})
          </li>
        ))}
        {r.biasSkipped?.map((b) => (
          <li key={`bcs-${b.node}`}>
            bias of {b.node} left alone: {b.reason}
          </li>
        ))}
      </ul>
    </details>
  );
}
